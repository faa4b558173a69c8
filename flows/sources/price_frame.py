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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from flows import calendars
from flows.errors import InputError
from flows.limits import LIMITS, check_range
from flows.quality import Quality
from flows.schema import PRICE_COLUMNS
from flows.sources import columnar
from flows.sources.textio import decode_text

MISSING_TOKENS = frozenset({"", ".", "null", "nan", "na", "n/a", "-", "none"})
"""Cells meaning "no value" (compared lower-case, stripped)."""
RECENT_SESSIONS = 252
"""A missing session within this many sessions of the file's end is a warning."""
ISO_FORMAT = "%Y-%m-%d"
US_FORMAT = "%m/%d/%Y"


def read_rows(
    text: str,
    source: str,
    *,
    header_contains: str | None = None,
    max_preamble: int = 5,
    allow_empty: bool = False,
) -> tuple[list[str], list[list[str]], np.ndarray, int]:
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
                if header_contains and not any(
                    header_contains.lower() in f.lower() for f in record
                ):
                    preamble += 1
                    if preamble > max_preamble:
                        raise InputError(
                            source,
                            f"line {start}",
                            f"no header row containing '{header_contains}' in the first {max_preamble + 1} lines",
                        )
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
                raise InputError(
                    source,
                    f"line {start}, column {col}",
                    f"row has {len(record)} fields, the header has {len(header)} (file cut or shifted?)",
                )
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


@dataclass
class Cells:
    """The data cells of a delimited text, column by column (what :func:`read_cells` returns).

    ``header`` (stripped names), ``lines`` (the 1-based line each row starts on), ``preamble``
    (lines before the header).  Cells are read by :mod:`flows.sources.columnar` (``arrow``:
    one string array per column) when the text is regular, else by :func:`read_rows` (``rows``:
    a 2-D array of strings); :meth:`text` gives a column as a numpy string array either way.
    """

    header: list[str]
    lines: np.ndarray
    preamble: int
    arrow: list[pa.Array] | None = None
    rows: np.ndarray | None = None
    body: str = ""
    _raw: list[pa.Array] | None = None
    _skip: int = 0

    def __len__(self) -> int:
        return int(self.lines.size)

    def text(self, j: int) -> np.ndarray:
        """Column ``j`` as written, a numpy string array (for the exact conversions and
        messages; a column the fast path read typed is split again as text, once)."""
        if self.arrow is not None:
            col = self.arrow[j]
            if not pa.types.is_string(col.type):
                if self._raw is None:
                    self._raw = columnar.split_lines_columns(
                        self.body, len(self.arrow) + self._skip, plain=True
                    )
                assert self._raw is not None
                col = self._raw[j + self._skip]
            return np.asarray(col.to_numpy(zero_copy_only=False), dtype=str)
        assert self.rows is not None
        return self.rows[:, j] if len(self.rows) else np.array([], dtype=str)

    def column(self, j: int) -> pa.Array | None:
        """Column ``j`` as an Arrow string array when the fast path read the text, else None."""
        return self.arrow[j] if self.arrow is not None else None

    def drop_first(self) -> Cells:
        """Without the first column (CFE's leading unnamed index column)."""
        if self.arrow is not None:
            return Cells(
                self.header[1:],
                self.lines,
                self.preamble,
                arrow=self.arrow[1:],
                body=self.body,
                _raw=self._raw,
                _skip=self._skip + 1,
            )
        return Cells(
            self.header[1:],
            self.lines,
            self.preamble,
            rows=self.rows[:, 1:] if self.rows is not None and len(self.rows) else self.rows,
        )


def _fast_header(
    text: str, header_contains: str | None, max_preamble: int
) -> tuple[list[str], str, int, int] | None:
    """Header, data text, header line number and preamble count by :func:`read_rows`' rules,
    for a text without quotes; None where the exact path must decide (no header found)."""
    pos, line_no, preamble = 0, 0, 0
    while pos <= len(text):
        end = text.find("\n", pos)
        line = text[pos : end if end >= 0 else len(text)].removesuffix("\r")
        line_no += 1
        fields = line.split(",")
        blank = all(not f.strip() for f in fields)
        if (
            not blank
            and header_contains
            and not any(header_contains.lower() in f.lower() for f in fields)
        ):
            preamble += 1
            if preamble > max_preamble:
                return None
        elif not blank:
            return (
                [h.strip() for h in fields],
                (text[end + 1 :] if end >= 0 else ""),
                line_no,
                preamble,
            )
        if end < 0:
            return None
        pos = end + 1
    return None


TypeHint = Callable[[list[str], list[str]], dict[int, pa.DataType]]
"""``(header, first data row's fields) -> {column position: Arrow type}``: the columns a large
regular text may read typed at once (:func:`flows.sources.columnar.split_lines_columns`)."""


def read_cells(
    text: str,
    source: str,
    *,
    header_contains: str | None = None,
    max_preamble: int = 5,
    allow_empty: bool = False,
    types: TypeHint | None = None,
    missing: frozenset[str] = MISSING_TOKENS,
) -> Cells:
    """:func:`read_rows` column by column: the same header, rows, line numbers and errors.

    A regular text (:mod:`flows.sources.columnar`: no quotes, every data line with the header's
    number of fields, no blank data line) is split column-wise without a per-row Python step
    (``types`` names the columns a large text may read typed); any other text goes through
    :func:`read_rows`, whose errors name the line.
    """
    if columnar.is_plain(text):
        found = _fast_header(text, header_contains, max_preamble)
        if found is not None:
            header, body, header_line, preamble = found
            hint = (
                types(header, body[: body.find("\n")].removesuffix("\r").split(","))
                if types is not None
                else None
            )
            columns = columnar.split_lines_columns(
                body, len(header), types=hint, missing=missing, plain=True
            )
            if columns is not None and (len(columns[0]) or allow_empty):
                lines = np.arange(
                    header_line + 1, header_line + 1 + len(columns[0]), dtype=np.int64
                )
                return Cells(header, lines, preamble, arrow=columns, body=body)
    header, rows, lines, preamble = read_rows(
        text,
        source,
        header_contains=header_contains,
        max_preamble=max_preamble,
        allow_empty=allow_empty,
    )
    return Cells(
        header,
        lines,
        preamble,
        rows=np.array(rows, dtype=str) if rows else np.empty((0, len(header)), dtype=str),
    )


def cell_dates(cells: Cells, j: int, source: str, field: str) -> np.ndarray:
    """:func:`parse_dates` of column ``j`` as ``datetime64[ns]``; the fast ISO / US readers of
    :mod:`flows.sources.columnar` first (the same values, or None and the exact reader)."""
    arr = cells.column(j)
    if arr is not None and len(arr):
        first = str(arr[0].as_py()).strip() if pa.types.is_string(arr.type) else ""
        fast = (
            columnar.iso_days(arr)
            if not first or (len(first) >= 8 and first[4:5] == "-")
            else columnar.us_days(arr)
        )
        if fast is not None and (fast.min() >= FIRST_DATE and fast.max() <= LAST_DATE):
            return fast.astype("datetime64[ns]")
    return np.asarray(
        parse_dates(cells.text(j), cells.lines, source, field).to_numpy(dtype="datetime64[ns]")
    )


def cell_numbers(cells: Cells, columns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`to_numbers` of ``columns`` (n x k): columns of plain numbers and missing tokens
    read at once (:func:`flows.sources.columnar.floats`), any other cell by cell."""
    n = len(cells)
    nums = np.empty((n, len(columns)), dtype=np.float64)
    given = np.empty((n, len(columns)), dtype=bool)
    for k, j in enumerate(columns):
        arr = cells.column(j)
        fast = columnar.floats(arr, MISSING_TOKENS) if arr is not None else None
        if fast is None:
            fast = to_numbers(cells.text(j))
        nums[:, k], given[:, k] = fast
    return nums, given


def parse_dates(
    values: np.ndarray | pd.Series, lines: np.ndarray, source: str, field: str
) -> pd.Series:
    """Dates in ISO or US layout (decided by the first row); InputError naming the first bad line."""
    stripped = np.strings.strip(np.asarray(values, dtype=str))
    first = str(stripped[0])
    fmt = ISO_FORMAT if len(first) >= 8 and first[4:5] == "-" else US_FORMAT
    if fmt == ISO_FORMAT and (np.strings.str_len(stripped) == 10).all():
        try:  # fast path: numpy reads YYYY-MM-DD itself (and refuses 2024-13-01)
            days = stripped.astype("datetime64[D]")
        except ValueError:
            pass  # fall through: pandas names the bad row
        else:
            _check_span(days, stripped, lines, source, field)
            return pd.Series(days.astype("datetime64[ns]"))
    text = pd.Series(stripped)
    dates = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        layout = "YYYY-MM-DD" if fmt == ISO_FORMAT else "M/D/YYYY"
        raise InputError(
            source,
            f"line {lines[i]}, column '{field}'",
            f"not a date in the file's layout {layout}: {text.iloc[i]!r}",
        )
    _check_span(dates.to_numpy().astype("datetime64[D]"), stripped, lines, source, field)
    return dates.astype("datetime64[ns]")  # one resolution whichever path parsed the file


FIRST_DATE, LAST_DATE = np.datetime64("1677-09-22"), np.datetime64("2262-04-11")
"""The dates a ``datetime64[ns]`` column holds (pandas' timestamp range, whole days)."""


def _check_span(
    days: np.ndarray, text: np.ndarray, lines: np.ndarray, source: str, field: str
) -> None:
    """InputError naming the first date outside :data:`FIRST_DATE` .. :data:`LAST_DATE`
    (``0999`` typed for ``1999``): it would wrap around in nanoseconds."""
    outside = (days < FIRST_DATE) | (days > LAST_DATE)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InputError(
            source,
            f"line {lines[i]}, column '{field}'",
            f"date {str(text[i])!r} outside the range a timestamp holds ({FIRST_DATE} .. {LAST_DATE})",
        )


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
    nums = (
        pd.to_numeric(flat.where(flat.ne("")), errors="coerce")
        .to_numpy(dtype=float)
        .reshape(arr.shape)
    )
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

    def types(header: list[str], first: list[str]) -> dict[int, pa.DataType]:
        out = {
            j: pa.float64()
            for names in (close_names, *(optional or {}).values())
            if (j := _find(header, names)) is not None
        }
        di = _find(header, date_names)
        if di is not None and di < len(first) and len(first[di]) == 10 and first[di][4:5] == "-":
            out[di] = pa.date32()
        return out

    cells = read_cells(text, source, types=types)
    header, lines = cells.header, cells.lines
    q = Quality(source=source, basis="rows", total_rows=len(cells))
    for r in repairs:
        q.repair(r, len(cells))
    di = _find(header, date_names)
    if di is None:
        raise InputError(
            source,
            f"line 1, column '{date_names[0]}'",
            f"date column missing (header: {', '.join(header)})",
        )
    ci = _find(header, close_names)
    if ci is None:
        others = [i for i in range(len(header)) if i != di and header[i]]
        if len(others) != 1:
            if close_names:
                raise InputError(
                    source,
                    f"line 1, column '{close_names[0]}'",
                    f"close column missing (header: {', '.join(header)})",
                )
            raise InputError(
                source,
                "line 1",
                f"expected one value column besides '{header[di]}' (header: {', '.join(header)})",
            )
        ci = others[0]
    dates = cell_dates(cells, di, source, header[di])
    names = [
        "close",
        *(
            n
            for n in ("open", "high", "low", "volume")
            if _find(header, (optional or {}).get(n, ())) is not None
        ),
    ]
    idx = [ci, *(_find(header, (optional or {}).get(n, ())) for n in names[1:])]
    nums, written = cell_numbers(cells, [i for i in idx if i is not None])
    close, given = nums[:, 0], written[:, 0]
    n_rows = len(cells)
    cols: dict[str, np.ndarray] = {
        n: np.full(n_rows, np.nan) for n in ("close", "open", "high", "low", "volume")
    }
    cols.update({n: nums[:, k] for k, n in enumerate(names)})

    date_arr = dates
    in_range = (date_arr >= np.datetime64(calendars.FIRST_DAY)) & (
        date_arr <= np.datetime64(calendars.LAST_DAY)
    )
    session = np.ones(n_rows, dtype=bool)
    if in_range.any():
        session[in_range] = calendars.is_session(date_arr[in_range], calendar)
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
        for mask, reason in (
            (missing, "close missing on a session"),
            (not_number, "close not a number"),
            (not_positive, "close not positive"),
        ):
            if mask.any():
                q.skip(reason, int(mask.sum()))
        i = int(np.flatnonzero(bad)[0])
        q.warn(
            f"{int(bad.sum())} session row(s) without a usable close skipped, first on line {lines[i]} ({pd.Timestamp(date_arr[i]).date()}, {header[ci]}={str(cells.text(ci)[i])!r})"
        )
    if sessions_only:
        off = keep & ~session
        if off.any():
            q.repair(
                "rows on non-session dates dropped (published on an exchange holiday)",
                int(off.sum()),
            )
            keep &= session

    day = date_arr[keep]
    values = {k: v[keep] for k, v in cols.items()}
    kept_lines = lines[keep]
    if day.size == 0:
        raise InputError(source, header[ci], "no row with a usable close")
    day, values, kept_lines = _order(day, values, kept_lines, q, source, header[ci])
    close = values["close"]
    check_range(
        close, "price.close", source, rows=lambda i: f"line {kept_lines[i]}", field=header[ci]
    )
    lim = LIMITS["price.daily_log_change"]
    step = np.diff(np.log(close))
    jump = (step < lim.low) | (step > lim.high)
    if jump.any():
        i = int(np.flatnonzero(jump)[0]) + 1
        raise InputError(
            source,
            f"line {kept_lines[i]}, column '{header[ci]}'",
            f"close {float(close[i])!r} on {pd.Timestamp(day[i]).date()} is {np.exp(step[i - 1]):.3g} x the previous row's {float(close[i - 1])!r} (log change outside [{lim.low:g}, {lim.high:g}]): {lim.why}",
        )
    missing_sessions = _missing_sessions(day, q, calendar)
    if not text.endswith(("\n", "\r")):
        q.warn(
            f"the file does not end with a newline: its last row ({pd.Timestamp(day[-1]).date()}) may be cut"
        )
    frame = pd.DataFrame(
        {"date": day, **{c: values[c] for c in PRICE_COLUMNS if c != "date"}}, copy=False
    )  # fresh arrays
    if missing_sessions:
        frame.attrs["missing_sessions"] = missing_sessions
    frame.attrs.update({"symbol": symbol, "source": source})
    return frame, q


def _order(
    day: np.ndarray,
    values: dict[str, np.ndarray],
    lines: np.ndarray,
    q: Quality,
    source: str,
    field: str,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Sort by date; drop exact repeats; refuse a date repeated with another close."""
    if len(day) > 1 and not (np.diff(day) > np.timedelta64(0)).all():
        order = np.argsort(day, kind="stable")
        if (np.diff(day) < np.timedelta64(0)).any():
            q.repair("rows sorted by date", len(day))
        day, lines = day[order], lines[order]
        values = {k: v[order] for k, v in values.items()}
        same = np.flatnonzero(np.diff(day) == np.timedelta64(0))
        if len(same):
            close = values["close"]
            conflict = same[close[same] != close[same + 1]]
            if len(conflict):
                i = int(conflict[0])
                raise InputError(
                    source,
                    f"line {lines[i + 1]}, column '{field}'",
                    f"date {pd.Timestamp(day[i]).date()} repeated with a different close ({float(close[i])!r} on line {lines[i]}, {float(close[i + 1])!r})",
                )
            drop = np.zeros(len(day), dtype=bool)
            drop[same + 1] = True
            q.repair("repeated rows dropped", int(drop.sum()))
            day, lines = day[~drop], lines[~drop]
            values = {k: v[~drop] for k, v in values.items()}
    return day, values, lines


def _missing_sessions(day: np.ndarray, q: Quality, calendar: str) -> list[str]:
    """Sessions between the first and last date (sorted ``day``) absent from the file: a repair,
    and a warning when one lies in the last :data:`RECENT_SESSIONS` sessions; their ISO dates."""
    lo = max(day[0], np.datetime64(calendars.FIRST_DAY, "ns"))
    hi = min(day[-1], np.datetime64(calendars.LAST_DAY, "ns"))
    if lo > hi:
        return []
    expected = calendars.sessions_in(pd.Timestamp(lo), pd.Timestamp(hi), calendar).to_numpy(
        dtype="datetime64[ns]"
    )
    pos = np.clip(np.searchsorted(day, expected), 0, len(day) - 1)
    absent = expected[day[pos] != expected]
    if len(absent) == 0:
        return []
    q.repair("sessions absent from the file (returns span the gap)", len(absent))
    recent = absent[absent >= expected[max(0, len(expected) - RECENT_SESSIONS)]]
    if len(recent):
        q.warn(
            f"{len(recent)} session(s) missing in the last {RECENT_SESSIONS} sessions of the file (first {pd.Timestamp(recent[0]).date()}): returns span the gap"
        )
    return [str(d) for d in np.datetime_as_string(absent, unit="D")]
