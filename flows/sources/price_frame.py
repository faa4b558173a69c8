"""The one daily price frame every price connector returns, and the parsing they share.

The Cboe daily price files (:mod:`flows.sources.cboe_prices`), FRED's ``fredgraph.csv``
(:mod:`flows.sources.fred`) and Yahoo-style drop files (:mod:`flows.sources.yahoo_csv`) are all
"a date column and value columns"; they differ in column names, date layout and how a missing
value is written.  Each connector names its columns and calls :func:`parse_delimited`, which
returns the :data:`flows.schema.PRICE_COLUMNS` frame (``date, close, open, high, low, volume``;
tz-naive session dates, strictly increasing) and a :class:`flows.quality.Quality` (basis: rows).

Rules, in order
---------------
* Text: :func:`flows.sources.textio.decode_text` (the one rule: gzip, byte-order marks, UTF-8, cp1252, Latin-1).
* Rows: the header is the first line; blank lines are ignored; a row with a different number of
  fields (other than trailing empty ones) is an :class:`InputError` naming the line.
* Dates: ISO ``2024-08-05`` or US ``8/5/2024`` / ``08/05/2024``, decided by the first row; every
  row must parse in that layout (else :class:`InputError` naming the line and the value).
* Missing values (``""``, ``.``, ``null``, ``NaN``, ``NA``, ``N/A``, ``-``): a row without a close
  on an exchange holiday is a **gap** and is dropped (FRED lists holidays as empty rows), recorded
  as a repair; on a session it is **skipped** (a lost observation: counted in the skipped share,
  and a warning names the first line).  A close that is not a number or not positive is skipped
  the same way.
* Rows on non-session dates that do carry a value (Cboe publishes the VIX on some holidays since
  2022, computed in its global trading hours; the 2004-06-11 closure) are dropped when
  ``sessions_only`` (the default: the engines count exchange sessions), recorded as a repair.
* Order: rows are sorted by date (a repair when they were not); a repeated date with the same
  close is dropped (repair), with a different close it is an :class:`InputError` naming both lines.
* Plausibility (:data:`flows.limits.LIMITS`): closes in ``price.close``; the log change between
  consecutive rows within ``price.daily_log_change`` (a misplaced decimal), else InputError
  naming the line.
* Missing sessions between the first and last date are counted as a repair (returns span the
  gap); when one lies in the last 252 sessions of the file it is also a warning.
* A file that does not end with a newline may have been cut inside its last row: a warning.

Pure: bytes in, frame and quality out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from flows import calendars
from flows.errors import InputError
from flows.limits import LIMITS, check_range
from flows.quality import Quality
from flows.schema import PRICE_COLUMNS
from flows.sources.textio import decode_text

MISSING_TOKENS = frozenset({"", ".", "null", "nan", "na", "n/a", "-", "none"})
"""Cells meaning "no value" (compared lower-case, stripped)."""
RECENT_SESSIONS = 252
"""A missing session within this many sessions of the file's end is a warning."""
ISO_FORMAT = "%Y-%m-%d"
US_FORMAT = "%m/%d/%Y"


def read_rows(text: str, source: str, *, header_contains: str | None = None, max_preamble: int = 5, allow_empty: bool = False) -> tuple[list[str], list[list[str]], np.ndarray, int]:
    """``(header, rows, line_numbers, preamble_lines)`` of a delimited text.

    With ``header_contains`` the header is the first line containing it (case-insensitive)
    within ``max_preamble + 1`` lines; earlier lines are a preamble (CFE's disclaimer line).
    Trailing empty fields beyond the header are dropped; any other field-count mismatch raises
    :class:`InputError` naming the line.  A file with a header and no rows is an error unless
    ``allow_empty``.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    preamble = 0
    start = 1
    try:
        for record in reader:
            if not header:
                if not record or all(not f.strip() for f in record):
                    start = reader.line_num + 1
                    continue
                if header_contains and not any(header_contains.lower() in f.lower() for f in record):
                    preamble += 1
                    if preamble > max_preamble:
                        raise InputError(source, f"line {start}", f"no header row containing '{header_contains}' in the first {max_preamble + 1} lines")
                    start = reader.line_num + 1
                    continue
                header = [h.strip() for h in record]
                start = reader.line_num + 1
                continue
            if not record or all(not f.strip() for f in record):
                start = reader.line_num + 1
                continue
            if len(record) > len(header) and not any(f.strip() for f in record[len(header) :]):
                record = record[: len(header)]
            if len(record) != len(header):
                col = min(len(record), len(header)) + 1
                raise InputError(source, f"line {start}, column {col}", f"row has {len(record)} fields, the header has {len(header)} (file cut or shifted?)")
            rows.append(record)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, f"line {reader.line_num}", f"malformed CSV: {exc}") from None
    if not header:
        raise InputError(source, "line 1", "no header row")
    if not rows and not allow_empty:
        raise InputError(source, "line 2", "no data rows")
    return header, rows, np.asarray(lines, dtype=np.int64), preamble


def parse_dates(values: np.ndarray | pd.Series, lines: np.ndarray, source: str, field: str) -> pd.Series:
    """Dates in ISO or US layout (decided by the first row); InputError naming the first bad line."""
    stripped = np.strings.strip(np.asarray(values, dtype=str))
    first = str(stripped[0])
    fmt = ISO_FORMAT if len(first) >= 8 and first[4:5] == "-" else US_FORMAT
    if fmt == ISO_FORMAT and (np.strings.str_len(stripped) == 10).all():
        try:  # fast path: numpy reads YYYY-MM-DD itself (and refuses 2024-13-01)
            return pd.Series(stripped.astype("datetime64[D]").astype("datetime64[ns]"))
        except ValueError:
            pass  # fall through: pandas names the bad row
    text = pd.Series(stripped)
    dates = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        layout = "YYYY-MM-DD" if fmt == ISO_FORMAT else "M/D/YYYY"
        raise InputError(source, f"line {lines[i]}, column '{field}'", f"not a date in the file's layout {layout}: {text.iloc[i]!r}")
    return dates.astype("datetime64[ns]")  # one resolution whichever path parsed the file


def to_numbers(values: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(numbers, given)``: floats (NaN where missing or not a number) and "a value was
    written", same shape as ``values`` (1-D or a 2-D block of columns: one conversion for all)."""
    arr = np.asarray(values, dtype=str)
    text = np.strings.replace(np.strings.strip(arr), ",", "")
    given = ~np.isin(np.strings.lower(text), list(MISSING_TOKENS))
    filled = np.where(given, text, "nan")
    try:  # fast path: every written cell is a plain number
        nums = filled.astype(float)
        if not np.isnan(nums[given]).any():  # a literal "nan" written in a cell stays "not given"
            return nums, given
    except ValueError:
        pass
    flat = pd.Series(np.where(given, text, "").ravel())
    nums = pd.to_numeric(flat.where(flat.ne("")), errors="coerce").to_numpy(dtype=float).reshape(arr.shape)
    return nums, given


def _find(header: Sequence[str], names: Sequence[str]) -> int | None:
    low = [h.strip().lower() for h in header]
    for name in names:
        if name.lower() in low:
            return low.index(name.lower())
    return None


def parse_delimited(
    raw: bytes,
    source: str,
    *,
    symbol: str,
    date_names: Sequence[str],
    close_names: Sequence[str],
    optional: Mapping[str, Sequence[str]] | None = None,
    sessions_only: bool = True,
    calendar: str = calendars.DEFAULT_CALENDAR,
) -> tuple[pd.DataFrame, Quality]:
    """Parse a date + values file into the price frame (see the module docstring for the rules).

    Parameters
    ----------
    raw:
        File bytes (gzip or text).
    source:
        File path or URL, named in every error and in the quality record.
    symbol:
        What the series is (``SPX``, ``VIX``, ``SP500``); stored in ``frame.attrs["symbol"]``.
    date_names, close_names:
        Accepted header names of the date and close columns (case-insensitive, first match).
        When no close name matches (or none is given) and the file has exactly one other
        column, that column is the close (FRED's ``SP500``, the ``arch`` VIX file's ``vix``).
    optional:
        ``{"open": ("Open",), ...}``: further frame columns and their header names.

    Returns
    -------
    (frame, quality)
        :data:`flows.schema.PRICE_COLUMNS`, oldest first; ``quality.basis == "rows"``.
    """
    decoded = decode_text(raw, source)
    text, repairs = decoded.text, decoded.repairs
    header, rows, lines, _ = read_rows(text, source)
    q = Quality(source=source, basis="rows", total_rows=len(rows))
    for r in repairs:
        q.repair(r, len(rows))
    di = _find(header, date_names)
    if di is None:
        raise InputError(source, f"line 1, column '{date_names[0]}'", f"date column missing (header: {', '.join(header)})")
    ci = _find(header, close_names)
    if ci is None:
        others = [i for i in range(len(header)) if i != di and header[i]]
        if len(others) != 1:
            if close_names:
                raise InputError(source, f"line 1, column '{close_names[0]}'", f"close column missing (header: {', '.join(header)})")
            raise InputError(source, "line 1", f"expected one value column besides '{header[di]}' (header: {', '.join(header)})")
        ci = others[0]
    cells = np.array(rows, dtype=str)
    dates = parse_dates(cells[:, di], lines, source, header[di])
    names = ["close", *(n for n in ("open", "high", "low", "volume") if _find(header, (optional or {}).get(n, ())) is not None)]
    idx = [ci, *(_find(header, (optional or {}).get(n, ())) for n in names[1:])]
    nums, written = to_numbers(cells[:, np.asarray(idx, dtype=np.intp)])
    close, given = nums[:, 0], written[:, 0]
    cols: dict[str, np.ndarray] = {n: np.full(len(rows), np.nan) for n in ("close", "open", "high", "low", "volume")}
    cols.update({n: nums[:, k] for k, n in enumerate(names)})
    raw_close = cells[:, ci]

    date_arr = dates.to_numpy()
    in_range = (date_arr >= np.datetime64(calendars.FIRST_DAY)) & (date_arr <= np.datetime64(calendars.LAST_DAY))
    session = np.ones(len(rows), dtype=bool)
    if in_range.any():
        session[in_range] = calendars.is_session(dates[in_range], calendar)
    has_close = np.isfinite(close) & (close > 0)
    keep = has_close.copy()
    gap = ~given & ~session
    if gap.any():
        q.repair("rows without a value on exchange holidays dropped (gaps)", int(gap.sum()))
    bad = ~has_close & ~gap
    if bad.any():
        not_number = bad & given & ~np.isfinite(close)
        not_positive = bad & np.isfinite(close)
        missing = bad & ~given
        for mask, reason in ((missing, "close missing on a session"), (not_number, "close not a number"), (not_positive, "close not positive")):
            if mask.any():
                q.skip(reason, int(mask.sum()))
        i = int(np.flatnonzero(bad)[0])
        q.warn(f"{int(bad.sum())} session row(s) without a usable close skipped, first on line {lines[i]} ({dates.iloc[i].date()}, {header[ci]}={str(raw_close[i])!r})")
    if sessions_only:
        off = keep & ~session
        if off.any():
            q.repair("rows on non-session dates dropped (published on an exchange holiday)", int(off.sum()))
            keep &= session

    frame = pd.DataFrame({"date": dates.to_numpy()[keep], **{k: v[keep] for k, v in cols.items()}})
    kept_lines = lines[keep]
    if len(frame) == 0:
        raise InputError(source, header[ci], "no row with a usable close")
    frame, kept_lines = _order(frame, kept_lines, q, source, header[ci])
    check_range(frame["close"].to_numpy(), "price.close", source, rows=[f"line {n}" for n in kept_lines], field=header[ci])
    lim = LIMITS["price.daily_log_change"]
    step = np.diff(np.log(frame["close"].to_numpy()))
    jump = (step < lim.low) | (step > lim.high)
    if jump.any():
        i = int(np.flatnonzero(jump)[0]) + 1
        raise InputError(
            source,
            f"line {kept_lines[i]}, column '{header[ci]}'",
            f"close {float(frame['close'].iloc[i])!r} on {frame['date'].iloc[i].date()} is {np.exp(step[i - 1]):.3g} x the previous row's {float(frame['close'].iloc[i - 1])!r} (log change outside [{lim.low:g}, {lim.high:g}]): {lim.why}",
        )
    _missing_sessions(frame, q, calendar)
    if not text.endswith(("\n", "\r")):
        q.warn(f"the file does not end with a newline: its last row ({frame['date'].iloc[-1].date()}) may be cut")
    frame = frame[list(PRICE_COLUMNS)].reset_index(drop=True)
    frame.attrs.update({"symbol": symbol, "source": source})
    return frame, q


def _order(frame: pd.DataFrame, lines: np.ndarray, q: Quality, source: str, field: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Sort by date; drop exact repeats; refuse a date repeated with another close."""
    dates = frame["date"].to_numpy()
    if len(dates) > 1 and not (np.diff(dates) > np.timedelta64(0)).all():
        order = np.argsort(dates, kind="stable")
        if (np.diff(dates) < np.timedelta64(0)).any():
            q.repair("rows sorted by date", len(frame))
        frame = frame.iloc[order].reset_index(drop=True)
        lines = lines[order]
        dates = frame["date"].to_numpy()
        same = np.flatnonzero(np.diff(dates) == np.timedelta64(0))
        if len(same):
            close = frame["close"].to_numpy()
            conflict = same[close[same] != close[same + 1]]
            if len(conflict):
                i = int(conflict[0])
                raise InputError(source, f"line {lines[i + 1]}, column '{field}'", f"date {frame['date'].iloc[i].date()} repeated with a different close ({float(close[i])!r} on line {lines[i]}, {float(close[i + 1])!r})")
            drop = np.zeros(len(frame), dtype=bool)
            drop[same + 1] = True
            q.repair("repeated rows dropped", int(drop.sum()))
            frame = frame.loc[~drop].reset_index(drop=True)
            lines = lines[~drop]
    return frame, lines


def _missing_sessions(frame: pd.DataFrame, q: Quality, calendar: str) -> None:
    first, last = frame["date"].iloc[0], frame["date"].iloc[-1]
    lo = max(first, pd.Timestamp(calendars.FIRST_DAY))
    hi = min(last, pd.Timestamp(calendars.LAST_DAY))
    if lo > hi:
        return
    expected = calendars.sessions_in(lo, hi, calendar)
    absent = expected[~expected.isin(pd.DatetimeIndex(frame["date"]))]
    if len(absent) == 0:
        return
    frame.attrs["missing_sessions"] = [d.date().isoformat() for d in absent]
    q.repair("sessions absent from the file (returns span the gap)", len(absent))
    recent = absent[absent >= expected[max(0, len(expected) - RECENT_SESSIONS)]]
    if len(recent):
        q.warn(f"{len(recent)} session(s) missing in the last {RECENT_SESSIONS} sessions of the file (first {recent[0].date()}): returns span the gap")
