"""CBOE delayed-quote "quote table" CSV (``quotedata.csv``): a hand-downloaded chain snapshot.

Desks download this file from cboe.com's delayed-quote page (Options Range: All, Expiration: All,
Download CSV) and drop it in a folder, so the "fetch" step is reading a file:

* :func:`build_query` -> the file to read (newest for an underlying in a drop folder),
* :func:`fetch` / :func:`read_file` -> bytes from disk (the only I/O),
* :func:`parse` -> a :class:`flows.chain.Chain` (pure; tested on the saved real files).

Layout (see ``shared/data/options/README.md``)::

    line 1: (empty)
    line 2: <name>,Last: <spot>,Change: <chg>
    line 3: "Date: September 14, 2023 at 4:31 PM EDT",Bid: ...,Ask: ...,Size: ...,Volume: ...
    line 4: 22-column header: Expiration Date, call block (Calls ... Open Interest), Strike,
            put block (Puts ... Open Interest; the names repeat, so columns are read by position)
    line 5+: one row per (expiration, strike, root): a call and a put

Every row becomes two contracts keyed by OSI symbol. ``IV`` 0 (CBOE's "not computed") becomes
NaN; ``Delta``/``Gamma`` keep the file's value, 0 included (the engine models a live contract's
gamma where the file has 0; CBOE's 0DTE rows after the close keep a gamma with IV 0).

Input quality (:class:`flows.quality.Quality`, basis open interest, on ``Chain.quality``)
-----------------------------------------------------------------------------------------
* **Decoding**: the one rule of :func:`flows.sources.textio.decode_text` (gzip, byte-order marks,
  UTF-8, cp1252, Latin-1; NUL refused).
* **Per column**, an empty cell or pandas' NA markers (``N/A``, ``NaN``) is *missing*, any other
  cell that is not a number (``"-"``) is *unreadable*; neither ever becomes 0:
  ``Expiration Date`` or ``Strike`` unreadable: the row (both sides) is skipped, weighted by its
  open interest; a call/put symbol that is not an OSI symbol: that side is skipped;
  ``Open Interest`` missing or unreadable: that side is skipped with its weight unknown (the
  skipped share then counts rows, see :mod:`flows.quality`); ``IV``/``Gamma``/``Bid``/``Ask``
  unreadable: set missing and marked (:data:`flows.chain.UNREADABLE_COLUMN`) so the engine
  models the gamma or counts the contract as skipped (an *empty* cell there is treated the same:
  CBOE writes 0, never an empty cell); ``Delta``/``Volume`` unreadable or empty: missing (no
  figure uses them), counted as a repair.
* **Plausibility** (:mod:`flows.limits`): spot, open interest, volume, IV, delta, gamma x spot,
  bid/ask outside their limits, a ``Strike`` that differs from the strike encoded in the row's
  OSI symbols, or an ``Expiration Date`` that differs from the symbols' date, is an
  :class:`InputError` naming the file, the line and the column.
* **Lines of another width**: a data line with fewer or more fields than the header's 22 (cut
  short, run into the next line, a comma lost or added) is refused with its line: its values
  cannot be placed in their columns.
* **Truncated files**: a last line without its newline and with fewer than 22 fields is a file
  cut mid-body and refused; a complete last line without a newline is accepted with a warning
  (a cut inside its last field cannot be told from the data).  A cut exactly at a line boundary
  leaves well-formed lines: it is detected when the file is in CBOE's order (expiries ascending,
  strikes ascending within each) and the last expiry's strikes stop below spot (every expiry of
  the real files spans spot); it is NOT detected when the cut falls above spot in the last
  expiry's strikes or exactly between two expiries (the missing expiries leave no trace).
  Two warnings narrow that gap: the last expiry's top call still has a delta of 0.35 or more
  (:data:`CUT_TOP_CALL_DELTA`; complete expiries end far out of the money), or the last expiry is
  less than 90 days after the snapshot (:data:`CUT_MIN_LAST_EXPIRY_DAYS`; a full table runs to
  quarterlies or LEAPS).  Undetected: a cut above the money of a last expiry at least 90 days
  out, where the remaining top call's delta is already below 0.35.
* **Duplicates**: a repeated option symbol with identical values is dropped (a repair); with
  different values it is an error naming the symbol.
* A body that pandas cannot parse becomes an :class:`InputError` naming the file and the line.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from flows.chain import (
    EXCHANGE_TZ,
    UNREADABLE_COLUMN,
    Chain,
    empty_skipped,
    osi_fields,
    settlement_times,
    underlying_from_root,
    validate_chain,
)
from flows.errors import InputError
from flows.limits import check_range
from flows.products import settlement_instants_ns
from flows.quality import EXAMPLES, Quality
from flows.sources import contract
from flows.sources.cboe import (
    block_placement,
    contracts_frame,
    dedupe,
    fixed_width_strings,
    split_osi,
    string_buffers,
    within_limits,
)
from flows.sources.textio import GZIP_MAGIC, decode_text

HEADER: tuple[str, ...] = (
    "Expiration Date",
    "Calls",
    "Last Sale",
    "Net",
    "Bid",
    "Ask",
    "Volume",
    "IV",
    "Delta",
    "Gamma",
    "Open Interest",
    "Strike",
    "Puts",
    "Last Sale",
    "Net",
    "Bid",
    "Ask",
    "Volume",
    "IV",
    "Delta",
    "Gamma",
    "Open Interest",
)
"""The 22 header names, by position (call block 1-10, Strike 11, put block 12-21)."""

_CALL_POS = {
    "symbol": 1,
    "bid": 4,
    "ask": 5,
    "volume": 6,
    "iv": 7,
    "delta": 8,
    "gamma": 9,
    "open_interest": 10,
}
_PUT_POS = {
    "symbol": 12,
    "bid": 15,
    "ask": 16,
    "volume": 17,
    "iv": 18,
    "delta": 19,
    "gamma": 20,
    "open_interest": 21,
}
_STRIKE_POS = 11
_EXPIRY_POS = 0
_BODY_START_LINE = 5
"""1-based file line of the first data row (used to report skipped rows by line)."""

_SPOT_RE = re.compile(r"Last:\s*([-+]?[0-9][0-9,]*\.?[0-9]*)")

_EN_MONTHS = {
    m.lower(): i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        1,
    )
}
_EN_MONTHS.update({k[:3]: v for k, v in list(_EN_MONTHS.items())})
_EN_MONTHS["sept"] = 9
_ES_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        1,
    )
}
_ES_MONTHS["setiembre"] = 9

_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2})?\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?\s*(?P<tz>[A-Z]{2,4})?\s*$"
_DATE_LAYOUTS: tuple[tuple[str, re.Pattern[str], dict[str, int]], ...] = (
    # "Date: September 14, 2023 at 4:31 PM EDT" and the older "Date: June 11, 2022, 8:47 PM EDT"
    (
        "english",
        re.compile(
            r"^Date:\s*(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2}),\s*(?P<year>\d{4})(?:\s+at|\s*,)?\s+"
            + _TIME
        ),
        _EN_MONTHS,
    ),
    # "Date: 23 de marzo de 2022, 8:47 PM EDT" / "... de 2022 a las 20:47"
    (
        "spanish",
        re.compile(
            r"^Date:\s*(?P<day>\d{1,2})\s+de\s+(?P<month>[A-Za-z\u00e1\u00e9\u00ed\u00f3\u00fa]+)\s+de\s+(?P<year>\d{4})(?:\s+a\s+las|\s*,)?\s+"
            + _TIME
        ),
        _ES_MONTHS,
    ),
)
_TZ_OFFSETS = {"EDT": -4, "EST": -5}
"""Abbreviations CBOE prints; ``ET`` or none means New York local time."""
_EXCHANGE_ZONE = ZoneInfo(EXCHANGE_TZ)


def _sides(side_line: np.ndarray, side_name: np.ndarray, mask: np.ndarray) -> list[str]:
    """``call at line 57`` for the first skipped sides (:data:`flows.quality.EXAMPLES`): the
    quality record names them, and so does a refusal."""
    return [f"{side_name[i]} at line {int(side_line[i])}" for i in np.flatnonzero(mask)[:EXAMPLES]]


def parse_date_line(text: str, source: str) -> pd.Timestamp:
    """Parse the quote table's ``Date:`` cell into a tz-aware New York timestamp.

    Layouts: ``Date: September 14, 2023 at 4:31 PM EDT``, ``Date: June 11, 2022, 8:47 PM EDT``
    (abbreviated months accepted), ``Date: 23 de marzo de 2022, 8:47 PM`` (Spanish locale; 24-hour
    time when there is no AM/PM). ``EDT``/``EST`` fix the UTC offset; otherwise New York time.

    Raises
    ------
    InputError
        ``field="Date"`` for any other layout, an unknown month or an impossible time.
    """
    cell = text.strip().strip('"').strip()
    for _name, pattern, months in _DATE_LAYOUTS:
        m = pattern.match(cell)
        if not m:
            continue
        month = months.get(m["month"].lower().rstrip("."))
        if month is None:
            raise InputError(source, "Date", f"unknown month {m['month']!r} in {cell!r}")
        hour, minute = int(m["hour"]), int(m["minute"])
        ampm = (m["ampm"] or "").lower().replace(".", "").replace(" ", "")
        if ampm:
            if not 1 <= hour <= 12:
                raise InputError(source, "Date", f"hour {hour} with {m['ampm']} in {cell!r}")
            hour = hour % 12 + (12 if ampm == "pm" else 0)
        tz = m["tz"]
        year = int(m["year"])
        if tz in _TZ_OFFSETS and 1900 <= year <= 2200:
            # a fixed offset (CBOE's EDT/EST) in the standard library: what the pandas lines
            # below give, without their per-call cost (an impossible date goes to them)
            try:  # the wall clock read as UTC, then moved by the offset: the UTC instant
                wall = datetime(year, month, int(m["day"]), hour, minute, tzinfo=UTC)
            except ValueError:
                pass
            else:
                return pd.Timestamp(
                    (wall - timedelta(hours=_TZ_OFFSETS[tz])).astimezone(_EXCHANGE_ZONE)
                )
        try:
            naive = pd.Timestamp(
                year=year, month=month, day=int(m["day"]), hour=hour, minute=minute
            )
        except ValueError as exc:
            raise InputError(source, "Date", f"impossible date/time in {cell!r}: {exc}") from None
        if tz in _TZ_OFFSETS:
            return (
                (naive - pd.Timedelta(hours=_TZ_OFFSETS[tz]))
                .tz_localize("UTC")
                .tz_convert(EXCHANGE_TZ)
            )
        if tz not in (None, "ET"):
            raise InputError(source, "Date", f"unknown time zone {tz!r} in {cell!r}")
        return naive.tz_localize(EXCHANGE_TZ, ambiguous=True, nonexistent="shift_forward")
    raise InputError(
        source,
        "Date",
        f"unknown date layout {cell!r} (expected e.g. 'Date: September 14, 2023 at 4:31 PM EDT')",
    )


def parse_spot_line(text: str, source: str) -> float:
    """``Standard & Poors 500 Index,Last: 4505.1001,Change: 37.66`` -> 4505.1001."""
    m = _SPOT_RE.search(text)
    if not m:
        raise InputError(source, "Last", f"no spot ('Last: <price>') in line 2: {text[:120]!r}")
    spot = float(m.group(1).replace(",", ""))
    if not math.isfinite(spot) or spot <= 0:
        raise InputError(source, "Last", f"spot must be positive, got {spot}")
    return spot


def _check_header(line: str, source: str) -> None:
    if not line.strip():
        raise InputError(
            source,
            "header",
            "line 4, the quote table's header, is blank: the file ends or breaks after the "
            "spot and date lines (a cut download, or an export without its table)",
        )
    names = [c.strip() for c in next(csv.reader([line]))]
    for i, expected in enumerate(HEADER):
        if i >= len(names):
            raise InputError(
                source,
                expected,
                f"header has {len(names)} columns, column {i + 1} ({expected!r}) is missing",
            )
        if names[i] != expected:
            raise InputError(
                source,
                expected,
                f"header column {i + 1} is {names[i]!r}, expected {expected!r} (renamed or missing column)",
            )


def _numeric(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Column -> (float values, bad mask) where bad = present but not a number."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype=np.float64, na_value=np.nan), np.zeros(len(col), dtype=bool)
    raw = col.astype("str")
    vals = pd.to_numeric(
        raw.str.replace(",", "", regex=False).str.strip(), errors="coerce"
    ).to_numpy(dtype=np.float64, na_value=np.nan)
    present = col.notna().to_numpy() & (raw.str.strip() != "").to_numpy()
    return vals, present & np.isnan(vals)


def _empty(col: pd.Series) -> np.ndarray:
    """Cells that are empty or an NA marker (real quote tables have none: CBOE writes 0)."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        return np.asarray(np.isnan(col.to_numpy(dtype=np.float64, na_value=np.nan)))
    return np.asarray((col.isna() | (col.astype("str").str.strip() == "")).to_numpy())


_LINE_RE = re.compile(r"line (\d+)")
_RANGE_KEYS = {
    "open_interest": "option.open_interest",
    "volume": "option.volume",
    "iv": "option.iv",
    "delta": "option.delta",
    "bid": "option.price",
    "ask": "option.price",
}
_GREEK_FIELDS = ("iv", "gamma", "bid", "ask")


def _read_body(body: str, source: str) -> pd.DataFrame:
    """The data lines as a 22-column frame; pandas errors become :class:`InputError` with the line."""
    if not body.strip():
        return pd.DataFrame({i: pd.Series(dtype="float64") for i in range(len(HEADER))})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(body),
                header=None,
                names=list(range(len(HEADER))),
                skip_blank_lines=False,
                index_col=False,
                thousands=",",
                low_memory=False,
            )
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        ValueError,
        OverflowError,
        csv.Error,
    ) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        m = _LINE_RE.search(msg)
        where = f"line {int(m.group(1)) + _BODY_START_LINE - 1}" if m else "body"
        raise InputError(source, where, f"unreadable CSV: {msg}") from None


def _check_widths(body: str, source: str) -> None:
    """Refuse a data line with another number of fields than the header's 22 (a line cut short
    or run into the next one, an edit that lost or added a comma): its cells cannot be told
    apart, and pandas would pad a short line with NaN, shifting every value after the break
    into the wrong column.  Blank lines are left to the reader (skipped as blank); a last line
    cut without its line end is :func:`_check_cut`'s.  One count of commas per line; the
    ``csv`` module only for lines with a quote."""
    width = len(HEADER)
    lines = body.split("\n")
    if lines and not lines[-1].strip():
        lines.pop()  # the text after the last line end
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if '"' in line:
            try:
                fields = len(next(csv.reader([line])))
            except csv.Error:
                fields = -1
        else:
            fields = line.count(",") + 1
        if fields != width:
            got = (
                "an unreadable quote"
                if fields < 0
                else f"{fields} fields where the header has {width}"
            )
            why = "cut short or broken" if 0 <= fields < width else "with fields added"
            raise InputError(
                source,
                f"line {_BODY_START_LINE + i}",
                f"the line has {got} (a line {why}: a damaged download or an edit); its values cannot be placed in their columns, so the whole file is refused",
            )


def _check_cut(body: str, source: str, quality: Quality) -> None:
    """Refuse a last line cut mid-line (see the module docstring)."""
    if not body or body.isspace() or body.endswith("\n"):
        return
    last = body[body.rfind("\n") + 1 :]
    if not last.strip():
        return
    line_no = _BODY_START_LINE + body.count("\n")
    try:
        nfields = len(next(csv.reader([last])))
    except csv.Error:
        nfields = 0
    if nfields < len(HEADER):
        raise InputError(
            source,
            f"line {line_no}",
            f"file cut mid-body: its last line has {nfields} of {len(HEADER)} fields and no line end (a broken download); the whole file is refused",
        )
    quality.warn(
        f"the file does not end with a newline: its last line (line {line_no}) may be cut inside its last field"
    )


CUT_TOP_CALL_DELTA = 0.35
"""A complete expiry's highest strike is far out of the money: its call delta in the real files is
at most 0.23 (the 6-year SPX LEAPS; below 0.01 for most expiries).  A last expiry whose top call
still has this delta or more ends near the money: the file may be cut there (a warning)."""
CUT_MIN_LAST_EXPIRY_DAYS = 90
"""A complete quote table ("Expiration: All") runs to quarterly or LEAPS expiries, months out;
a last expiry closer than this to the snapshot suggests the later expiries were cut (a warning)."""


def _check_boundary_cut(
    expiry: np.ndarray,
    strike: np.ndarray,
    call_delta: np.ndarray,
    ok: np.ndarray | None,
    spot: float,
    as_of: pd.Timestamp,
    source: str,
    quality: Quality,
) -> None:
    """A file cut at a line boundary (see the module docstring): refuse a last expiry whose
    strikes stop below spot; warn when its top call is still near the money or when the last
    expiry is close to the snapshot.  Only for a file in CBOE's order.  ``ok``: the rows with a
    date and a strike (None: every row)."""
    if ok is None:  # every row dated and readable (a regular file)
        last_expiry, rows = expiry[-1], slice(None)
    else:
        dated = ~np.isnat(expiry)
        if not dated.any() or not ok.any():
            return
        last_expiry = expiry[np.flatnonzero(dated)[-1]]  # the expiry of the file's last dated line
        rows = slice(None) if ok.all() else ok  # (every row: views, not copies)
    e = expiry[rows].astype("datetime64[ns]", copy=False).view(np.int64)
    k = strike[rows]
    # CBOE's order: expiries ascending, strikes ascending within each (no NaN here: readable)
    if not ((e[1:] >= e[:-1]).all() and ((k[1:] >= k[:-1]) | (e[1:] != e[:-1])).all()):
        return  # not CBOE's order: a boundary cut cannot be recognised
    # in that order the last expiry's rows are one run: its bounds by bisection
    last_ns = np.datetime64(last_expiry, "ns").astype(np.int64)
    start, end = int(e.searchsorted(last_ns)), int(e.searchsorted(last_ns, "right"))
    if start == end:
        return  # no readable strike of the last expiry
    last_day = np.datetime64(last_expiry, "D")
    day = str(last_day)  # YYYY-MM-DD
    top = float(k[start:end].max())
    if top < spot <= float(k.max()):  # (a spot beyond every strike is the engine's spot check)
        raise InputError(
            source,
            "Strike",
            f"file appears cut at a line boundary: the last expiry ({day}) lists strikes only up to {top:g}, below spot {spot:g}, while every complete expiry spans spot; the whole file is refused",
        )
    top_delta = float(call_delta[rows][end - 1])
    if np.isfinite(top_delta) and top_delta >= CUT_TOP_CALL_DELTA:
        quality.warn(
            f"the last expiry ({day}) ends at strike {top:g} where the call delta is still {top_delta:.2f}: the file may be cut at a line boundary"
        )
    local = as_of if as_of.tzinfo is _EXCHANGE_ZONE else as_of.tz_convert(EXCHANGE_TZ)
    snapshot_day = np.datetime64(local.date(), "D")
    days = int((last_day - snapshot_day) // np.timedelta64(1, "D"))
    if days < CUT_MIN_LAST_EXPIRY_DAYS:
        quality.warn(
            f"the last listed expiry ({day}) is only {days} days after the snapshot: a complete quote table runs months further; later expiries may be cut off"
        )


PANDAS_NA_MARKERS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
"""pandas' default NA markers: what the exact reader (:func:`_read_body`) reads as missing; the
fast reader (:func:`_read_table_arrow`) treats the same cells as missing."""
_NUMERIC_NAMES = ("bid", "ask", "volume", "iv", "delta", "gamma", "open_interest")
_NUMBERS_AT = block_placement(_NUMERIC_NAMES)


@dataclass
class _Body:
    """The body's columns as arrays, whichever reader read them.

    ``blank`` rows (every cell empty), ``expiry`` (datetime64[ns], NaT where not a date),
    ``strike``, per name of :data:`_NUMERIC_NAMES` the values of calls then puts (``2n``),
    the cells present but not a number (``bad``) and the empty ones (``empty``), the option
    symbols (calls then puts, an Arrow string array) and ``cell(position, row)``: the value a
    message quotes.
    """

    n: int
    blank: np.ndarray
    expiry: np.ndarray
    strike: np.ndarray
    values: dict[str, np.ndarray]
    bad: dict[str, np.ndarray]
    empty: dict[str, np.ndarray]
    symbols: pa.Array
    cell: Callable[[int, int], object]


_WEEKDAYS3 = frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
_MONTHS3 = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def _expiry_text_day(text: object) -> int | None:
    """``Fri Sep 15 2023`` -> days since 1970-01-01, for the plain spelling only (single spaces,
    English abbreviations in any case, a 1-2 digit day, a 4-digit year); None for anything else,
    which pandas' ``%a %b %d %Y`` then reads (the rule of record)."""
    parts = text.split(" ") if isinstance(text, str) else []
    if len(parts) != 4:
        return None
    weekday, month, day, year = parts
    month_no = _MONTHS3.get(month.lower())
    if (
        month_no is None
        or weekday.lower() not in _WEEKDAYS3
        or not (day.isascii() and day.isdigit() and len(day) <= 2)
        or not (year.isascii() and year.isdigit() and len(year) == 4)
    ):
        return None
    try:
        return date(int(year), month_no, int(day)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _parse_expiries(codes: np.ndarray, uniques: Sequence[object]) -> np.ndarray:
    """Distinct ``Expiration Date`` texts parsed once (``%a %b %d %Y``), spread to the rows."""
    fast = [_expiry_text_day(u) for u in uniques]
    if None not in fast:
        parsed = np.array(fast, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    else:
        parsed = pd.to_datetime(
            pd.Series(np.asarray(uniques, dtype=object), dtype="str"),
            format="%a %b %d %Y",
            errors="coerce",
        ).to_numpy(dtype="datetime64[ns]")
    nat = np.datetime64("NaT", "ns")
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)] if parsed.size else nat, nat)


def _body_from_frame(frame: pd.DataFrame) -> _Body:
    """The exact reader's frame (pandas, cell by cell) as a :class:`_Body`."""
    n = len(frame)
    codes, uniques = pd.factorize(frame[_EXPIRY_POS])
    values, bad, empty = {}, {}, {}
    for name in _NUMERIC_NAMES:
        (vc, bc), (vp, bp) = _numeric(frame[_CALL_POS[name]]), _numeric(frame[_PUT_POS[name]])
        values[name], bad[name] = np.concatenate([vc, vp]), np.concatenate([bc, bp])
        empty[name] = np.concatenate(
            [_empty(frame[_CALL_POS[name]]), _empty(frame[_PUT_POS[name]])]
        )
    sym = pd.concat([frame[_CALL_POS["symbol"]], frame[_PUT_POS["symbol"]]], ignore_index=True)
    return _Body(
        n=n,
        blank=frame.isna().all(axis=1).to_numpy(),
        expiry=_parse_expiries(codes, uniques),
        strike=_numeric(frame[_STRIKE_POS])[0],
        values=values,
        bad=bad,
        empty=empty,
        symbols=pa.array(
            sym.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True
        )
        if n
        else pa.array([], type=pa.string()),
        cell=lambda pos, row: frame[pos].iloc[row],
    )


def _line_starts(text: str | bytes, count: int) -> list[int]:
    """Offsets of the first ``count`` lines (0, then after each of the first line ends)."""
    nl = "\n" if isinstance(text, str) else b"\n"
    starts = [0]
    while len(starts) < count:
        end = text.find(nl, starts[-1])  # type: ignore[arg-type]
        if end < 0:
            break
        starts.append(end + 1)
    return starts


_NAMES = [str(i) for i in range(len(HEADER))]
"""Column names given to pyarrow (the header's names repeat: columns are read by position)."""
_TEXT_POS = (_EXPIRY_POS, _CALL_POS["symbol"], _PUT_POS["symbol"])
_READ_POS = [i for i in range(len(HEADER)) if HEADER[i] not in ("Last Sale", "Net")]
"""Columns read (``Last Sale`` and ``Net`` are not used)."""
_PARSE_OPTIONS = pacsv.ParseOptions(ignore_empty_lines=False)
_CONVERT_OPTIONS = pacsv.ConvertOptions(
    column_types={_NAMES[i]: (pa.string() if i in _TEXT_POS else pa.float64()) for i in _READ_POS},
    include_columns=[_NAMES[i] for i in _READ_POS],
    null_values=list(PANDAS_NA_MARKERS),
    strings_can_be_null=True,
    quoted_strings_can_be_null=True,
    true_values=[],
    false_values=[],
    check_utf8=False,  # the bytes are UTF-8 already: decode_text's verdict, or encoded here
)


def _read_table_arrow(data: memoryview) -> pa.Table | None:
    """The body (its UTF-8 bytes) read column-wise by pyarrow's CSV reader, or None when it is
    not a regular table of 22 fields whose numeric cells are all numbers or pandas' NA markers
    (or is blank): the exact reader (:func:`_read_body`) then decides cell by cell and names the
    line."""
    if not bytes(data[:4096]).strip() and not bytes(data).strip():
        return None
    buf = pa.py_buffer(data)
    try:
        return pacsv.read_csv(
            pa.BufferReader(buf),
            # one block: every column one chunk, taken by numpy without a copy
            read_options=pacsv.ReadOptions(column_names=_NAMES, block_size=buf.size + 1),
            parse_options=_PARSE_OPTIONS,
            convert_options=_CONVERT_OPTIONS,
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None


def _text(line: str | bytes) -> str:
    """A slice of the file's text: bytes (plain ASCII, see :func:`parse`) decoded."""
    return line.decode("ascii") if isinstance(line, bytes) else line


def _floats(table: pa.Table, pos: int) -> np.ndarray:
    """Column ``pos`` of the table read by :func:`_read_table_arrow` as float64 (NaN = missing;
    the reader's one chunk taken without a copy)."""
    return np.asarray(_one_chunk(table, pos).to_numpy(zero_copy_only=False))


def _body_from_table(table: pa.Table) -> _Body | None:
    """The table read by :func:`_read_table_arrow` as a :class:`_Body`; None when a row has no
    expiry (perhaps a blank line): the exact reader then decides."""
    n = table.num_rows
    expiry_col = table.column(_NAMES[_EXPIRY_POS]).combine_chunks()
    if expiry_col.null_count:
        return None  # a row without its expiry (perhaps blank): the exact reader decides
    enc = expiry_col.dictionary_encode()
    expiry = _parse_expiries(
        enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()
    )
    values, bad, empty = {}, {}, {}
    for name in _NUMERIC_NAMES:
        values[name] = np.concatenate(
            [_floats(table, _CALL_POS[name]), _floats(table, _PUT_POS[name])]
        )
        bad[name] = np.zeros(2 * n, dtype=bool)
        empty[name] = np.isnan(values[name])
    symbols = pa.chunked_array(
        [
            *table.column(_NAMES[_CALL_POS["symbol"]]).chunks,
            *table.column(_NAMES[_PUT_POS["symbol"]]).chunks,
        ],
        type=pa.string(),
    ).combine_chunks()
    return _Body(
        n=n,
        blank=np.zeros(n, dtype=bool),
        expiry=expiry,
        strike=_floats(table, _STRIKE_POS),
        values=values,
        bad=bad,
        empty=empty,
        symbols=symbols,
        cell=lambda pos, row: table.column(_NAMES[pos])[row].as_py(),
    )


_NAT_NS = np.iinfo(np.int64).min


def _one_chunk(table: pa.Table, pos: int) -> pa.Array:
    """Column ``pos`` as one array (the reader gives one chunk: taken as is, not copied)."""
    column = table.column(_NAMES[pos])
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _interleave(calls: np.ndarray, puts: np.ndarray) -> np.ndarray:
    """Row by row, call then put (the contracts' file order): ``c0, p0, c1, p1, ...``."""
    out = np.empty(2 * calls.size, dtype=np.result_type(calls, puts))
    out[0::2] = calls
    out[1::2] = puts
    return out


_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _spelled_as_cboe(cells: pa.Array, days: np.ndarray, code: np.ndarray) -> bool:
    """Whether every ``Expiration Date`` cell is CBOE's spelling (``Fri Sep 15 2023``) of the
    day ``days[code]`` of its row: the cells as one (n, 15) byte matrix against the spelling of
    each distinct day (False for any other spelling, which the caller then reads text by text:
    each spelling accepted here reads as that day by :func:`_expiry_text_day`)."""
    n = len(cells)
    offsets, data = string_buffers(cells)
    first = int(offsets[0])
    if int(offsets[-1]) - first != 15 * n or not (offsets[1:] - offsets[:-1] == 15).all():
        return False
    spelled = "".join(
        f"{_WEEKDAY_NAMES[d.weekday()]} {_MONTH_NAMES[d.month - 1]} {d.day:02d} {d.year:04d}"
        for d in days.tolist()
    )
    if len(spelled) != 15 * len(days):  # (a year beyond 9999)
        return False
    table = np.frombuffer(spelled.encode("ascii"), dtype=np.uint8).reshape(-1, 15)
    return bool((data[first : first + 15 * n].reshape(n, 15) == table[code]).all())


def _regular_chain(
    table: pa.Table,
    spot: float,
    as_of: pd.Timestamp,
    source: str,
    quality: Quality,
    underlying: str | None,
) -> Chain | None:
    """The chain of a regular quote table in one pass over whole columns, or None.

    Regular: every row has an expiry date and a positive strike, every numeric cell a number
    within :mod:`flows.limits`, a call symbol in OSI's normal form and the put symbol equal to
    it but for ``C`` -> ``P``, symbols that encode the row's strike and expiry, no repeated
    contract and a settlement instant for every expiry.  That is every real file; anything else
    returns None *before* ``quality`` is touched, and the exact path (:func:`parse`'s checks
    cell by cell) then reads the file and raises or records what it finds, so both paths give
    the same chain, quality and errors (tests/sources/test_cboe_csv_paths.py).

    The symbols are split once per row (the put's fields are the call's); the root and expiry
    once per distinct ``root + YYMMDD`` prefix (a chain has ~100), which also keys the
    settlement instants.
    """
    n = table.num_rows
    if n == 0:
        return None
    expiry_col, call_sym, put_sym = (
        _one_chunk(table, pos) for pos in (_EXPIRY_POS, _CALL_POS["symbol"], _PUT_POS["symbol"])
    )
    if expiry_col.null_count or call_sym.null_count or put_sym.null_count:
        return None
    strike = _floats(table, _STRIKE_POS)
    if not (strike.min() > 0 and strike.max() < np.inf):  # NaN compares False
        return None
    # the numeric columns as the rows of one matrix, already in the contracts' order (row by
    # row, call then put): one copy, one pass per check
    values = np.empty((len(_NUMERIC_NAMES), 2 * n))
    for i, name in enumerate(_NUMERIC_NAMES):
        values[i, 0::2] = _floats(table, _CALL_POS[name])
        values[i, 1::2] = _floats(table, _PUT_POS[name])
    low, high = values.min(axis=1), values.max(axis=1)  # NaN where a cell is missing
    for i, name in enumerate(_NUMERIC_NAMES):
        # a missing cell is a skip or a repair, a value beyond the limits an error: the exact
        # path says which
        if np.isnan(low[i]) or np.isnan(high[i]):
            return None
        if name in _RANGE_KEYS and not within_limits(low[i], high[i], _RANGE_KEYS[name]):
            return None
    g = _NUMERIC_NAMES.index("gamma")  # x spot > 0 keeps the order: the extremes of gamma x spot
    if not within_limits(low[g] * spot, high[g] * spot, "option.gamma_x_spot"):
        return None

    # OSI symbols: the call's split once per row, the put's must be the call's with P for C
    osi = split_osi(call_sym)
    if osi is None or not osi.is_call.all():
        return None
    c_off, c_data = string_buffers(call_sym)
    p_off, p_data = string_buffers(put_sym)
    length = c_off[1:] - c_off[:-1]
    if not (p_off[1:] - p_off[:-1] == length).all():
        return None
    c_region = c_data[c_off[0] : c_off[-1]]
    p_region = p_data[p_off[0] : p_off[-1]]
    if not (
        (p_region[c_off[1:] - (c_off[0] + 9)] == ord("P")).all()  # the put's C/P byte
        and np.count_nonzero(c_region != p_region) == n  # and no other byte differs
    ):
        return None
    strike_units = osi.strike_units
    if not (np.abs(strike_units / 1000.0 - strike) <= 5e-4).all():
        return None
    prefix_code, prefix_root, exp_days = osi.prefix, osi.roots, osi.days
    # the Expiration Date cells equal to the symbols' date: CBOE's own spelling of it, byte
    # for byte; else each run of one text read once (CBOE lists expiry by expiry)
    if not _spelled_as_cboe(expiry_col, exp_days, prefix_code):
        runs = pc.run_end_encode(expiry_col)
        text_days = [_expiry_text_day(t) for t in runs.values.to_pylist()]
        if None in text_days:
            return None  # another spelling: pandas' %a %b %d %Y decides on the exact path
        run_ends = runs.run_ends.to_numpy()
        if not np.array_equal(
            np.repeat(np.array(text_days, dtype=np.int64), np.diff(run_ends, prepend=0)),
            exp_days.view(np.int64)[prefix_code],
        ):
            return None
    # one contract per (root, expiry, type, strike): rows unique by (root, expiry, strike);
    # in CBOE's order (expiry, strike, root ascending) that is a key ascending row to row
    roots = sorted(set(prefix_root))
    root_of_prefix = np.array([roots.index(r) for r in prefix_root], dtype=np.int64)
    row_root = root_of_prefix[prefix_code]
    row_key = (exp_days.view(np.int64)[prefix_code] * 100_000_000 + strike_units) * len(
        roots
    ) + row_root
    if not (row_key[1:] > row_key[:-1]).all() and pd.Index(row_key).has_duplicates:
        return None  # a repeated contract: dropped or refused on the exact path
    settle_prefix = settlement_instants_ns(prefix_root, exp_days)
    if (settle_prefix == _NAT_NS).any():
        return None  # an expiry outside the exchange calendar: a skip

    # the file is regular: the exact path's records, in its order
    oi = values[_NUMERIC_NAMES.index("open_interest")]
    quality.total_rows = 2 * n
    # calls then puts, as the exact path sums them (no NaN here: its nansum is this sum)
    quality.total_weight = float(np.concatenate([oi[0::2], oi[1::2]]).sum())
    expiry = exp_days.astype("datetime64[ns]")[prefix_code]
    _check_boundary_cut(
        expiry,
        strike,
        values[_NUMERIC_NAMES.index("delta"), 0::2],  # the calls'
        None,  # every row dated and readable
        spot,
        as_of,
        source,
        quality,
    )
    iv = values[_NUMERIC_NAMES.index("iv")]
    iv[~(iv > 0)] = np.nan  # CBOE's 0 = not computed
    width = int(length[0])
    if (length == width).all():  # symbols of one width (one root): the bytes interleaved
        symbol = fixed_width_strings(
            np.concatenate((c_region.reshape(n, width), p_region.reshape(n, width)), axis=1),
            width,
        )
    else:
        order = np.arange(2 * n).reshape(n, 2)
        order[:, 0] //= 2
        order[:, 1] = order[:, 0] + n
        symbol = pa.concat_arrays([call_sym, put_sym]).take(order.reshape(-1))
    root = (
        fixed_width_strings(
            np.frombuffer(roots[0].encode() * (2 * n), dtype=np.uint8), len(roots[0])
        )
        if len(roots) == 1
        else pa.array(roots, type=pa.string()).take(row_root.repeat(2))
    )
    strikes, settle = strike.repeat(2), settle_prefix[prefix_code].repeat(2)
    contracts = contracts_frame(
        symbol,
        root,
        fixed_width_strings(np.frombuffer(b"CP" * n, dtype=np.uint8), 1),
        strikes,
        expiry.repeat(2),
        settle,
        values,
        _NUMBERS_AT,
    )
    if underlying is None:  # contracts per root, summed per underlying (ties: the first name)
        per_root = np.bincount(row_root, minlength=len(roots))
        totals: dict[str, int] = {}
        for name, count in zip(roots, per_root.tolist(), strict=True):
            if count:
                u = underlying_from_root(name)
                totals[u] = totals.get(u, 0) + 2 * count
        underlying = max(sorted(totals), key=lambda u: totals[u])
    chain = Chain(
        underlying=underlying,
        spot=spot,
        as_of=as_of,
        source=source,
        contracts=contracts,
        skipped=_NO_SKIPPED.copy(deep=False),  # (copy on write: the constant stays empty)
        quality=quality,
    )
    # the frame's own arrays (its blocks), checked without reading its columns back
    validate_chain(
        chain,
        symbols_unique=True,
        columns={
            "open_interest": oi,
            "strike": strikes,
            "iv": iv,
            "settle_time": settle.view("datetime64[ns]"),
        },
    )
    return chain


def parse(raw: str | bytes, source: str, underlying: str | None = None) -> Chain:
    """Parse a CBOE quote-table CSV into a :class:`Chain` (pure).

    Parameters
    ----------
    raw:
        File content (bytes are decoded by :func:`flows.sources.textio.decode_text`).
    source:
        Name used in errors and provenance (the file path).
    underlying:
        Underlying ticker; by default inferred from the option roots (``SPXW`` -> ``SPX``).

    Returns
    -------
    Chain
        With ``quality`` (rows = contracts, two per line; basis open interest) and ``skipped``;
        validated (:func:`flows.chain.validate_chain`), so the engine does not check it again.

    Raises
    ------
    InputError
        Naming ``source`` and the field or line: ``Last`` (no spot), ``Date`` (unknown layout),
        a header column (missing/renamed), a cut or unparseable body (``line N``), a value
        outside :mod:`flows.limits`, a strike or expiry that disagrees with the OSI symbol, a
        conflicting duplicate (``option``), ``contracts`` (empty chain), ``iv`` (zero IV
        everywhere).

    A regular body is read column-wise by pyarrow (:func:`_read_table_arrow`); any other body
    (a cell that is not a number, a short or long line, a blank line) by pandas cell by cell
    (:func:`_read_body`): both give the same arrays, the checks below run once on them.  A
    regular file (every real one) is turned into the chain in one pass over whole columns
    (:func:`_regular_chain`); anything else goes through the checks cell by cell, which name
    the line and the field.
    """
    return _parse(raw, source, underlying, regular=True)


def _parse(
    raw: str | bytes, source: str, underlying: str | None = None, *, regular: bool = True
) -> Chain:
    """:func:`parse`; ``regular=False`` skips the one-pass path for regular files
    (:func:`_regular_chain`), so the tests can compare both paths on the same bytes."""
    quality = Quality(source=source, basis="open interest")
    body_bytes: memoryview | None = None  # the body as the reader's bytes, not copied
    if isinstance(raw, bytes) and raw.isascii() and b"\x00" not in raw:
        # what decode_text gives for such bytes (UTF-8, no byte-order mark, no repair), without
        # decoding the body: it is read from the bytes, decoded only for the exact path
        text: str | bytes = raw
        starts = _line_starts(raw, 5)
    else:
        decoded = decode_text(raw, source)
        decoded.note(quality)
        text = decoded.text
        starts = _line_starts(text, 5)  # the first four lines, then the body (not copied yet)
        if (
            isinstance(raw, bytes)
            and decoded.encoding == "utf-8"
            and not decoded.bom
            and raw[:2] != GZIP_MAGIC
            and len(starts) > 4
        ):
            body_bytes = memoryview(raw)[_line_starts(raw, 5)[4] :]
    if not text.strip():  # no bytes, only blanks, or only a byte-order mark (decoded away)
        raise InputError(
            source,
            None,
            "empty file (expected a CBOE quote table: the spot, date and header lines, then the options)",
        )
    if len(starts) < 4:
        raise InputError(
            source,
            "header",
            f"file has {len(starts)} line(s); expected spot, date and header lines",
        )
    line2, line3, line4 = (
        _text(text[starts[k] : (starts[k + 1] - 1 if k + 1 < len(starts) else len(text))]).rstrip(
            "\r"
        )
        for k in (1, 2, 3)
    )
    spot = parse_spot_line(line2, source)
    if not within_limits(spot, spot, "option.spot"):  # (a scalar: the table's test first)
        check_range([spot], "option.spot", source, field="Last")
    try:
        date_cell = next(csv.reader([line3]))[0] if line3.strip() else ""
    except csv.Error as exc:
        raise InputError(source, "Date", f"line 3 is not CSV: {exc}") from None
    as_of = parse_date_line(date_cell, source)
    _check_header(line4, source)
    if isinstance(text, bytes):
        body_bytes = memoryview(text)[starts[4] :] if len(starts) > 4 else None
        body_text = "" if len(starts) <= 4 else None  # decoded when needed
        if not text.endswith(b"\n"):
            body_text = _text(text[starts[4] :]) if len(starts) > 4 else ""
            _check_cut(body_text, source, quality)
    else:
        body_text = text[starts[4] :] if len(starts) > 4 else ""
        _check_cut(body_text, source, quality)
    table = _read_table_arrow(body_bytes) if body_bytes is not None else None
    if table is None and body_bytes is None and body_text:
        table = _read_table_arrow(memoryview(body_text.encode("utf-8")))
    chain = (
        _regular_chain(table, spot, as_of, source, quality, underlying)
        if table is not None and regular
        else None
    )
    if chain is not None:
        return chain
    if body_text is None:
        body_text = _text(text[starts[4] :])
    if table is None:  # pyarrow refused the text: a line of another width is named here
        _check_widths(body_text, source)
    body = (_body_from_table(table) if table is not None else None) or _body_from_frame(
        _read_body(body_text, source)
    )

    skipped: list[tuple[int, str, str]] = []
    n = body.n
    lines = np.arange(n) + _BODY_START_LINE
    blank = body.blank
    expiry, strike, values, bad_cells = body.expiry, body.strike, body.values, body.bad
    oi = values["open_interest"]
    oi_weight = np.where(np.isfinite(oi) & ~bad_cells["open_interest"], oi, np.nan)
    quality.total_rows = int(2 * (~blank).sum())
    quality.total_weight = float(
        np.nansum(np.where(np.tile(~blank, 2), np.where(np.isinf(oi_weight), 0.0, oi_weight), 0.0))
    )

    # both sides stacked: element i < n is the call of row i, n + i the put of row i
    side_line = np.concatenate([lines, lines])
    side_name = np.repeat(np.array(["call", "put"]), n)
    exp_bad = ~blank & np.isnat(expiry)
    strike_bad = ~blank & ~exp_bad & ~(np.isfinite(strike) & (strike > 0))
    for mask, field, reason in (
        (exp_bad, "Expiration Date", "not a date (%a %b %d %Y)"),
        (strike_bad, "Strike", "strike missing, not a number or not positive"),
    ):
        if mask.any():
            for ln in lines[mask]:
                skipped.append((int(ln), field, reason))
            w = oi_weight.reshape(2, n)[:, mask]
            quality.skip(
                f"{field}: {reason}",
                int(2 * mask.sum()),
                weight=float(np.nansum(w)) if np.isfinite(w).all() else None,
                where=[f"line {int(ln)}" for ln in lines[mask][:EXAMPLES]],
            )
    keep = np.tile(~blank & ~exp_bad & ~strike_bad, 2)
    osi = osi_fields(body.symbols)  # once: root, expiry, type and strike of every symbol
    osi_ok = osi.ok
    bad_sym = keep & ~osi_ok
    for i in np.flatnonzero(bad_sym):
        skipped.append(
            (
                int(side_line[i]),
                HEADER[_CALL_POS["symbol"] if i < n else _PUT_POS["symbol"]],
                "missing or not an OSI option symbol",
            )
        )
    if bad_sym.any():
        w = oi_weight[bad_sym]
        quality.skip(
            "Calls/Puts: missing or not an OSI option symbol",
            int(bad_sym.sum()),
            weight=float(np.nansum(w)) if np.isfinite(w).all() else None,
            where=_sides(side_line, side_name, bad_sym),
        )
    keep &= osi_ok
    oi_bad = keep & bad_cells["open_interest"]
    oi_missing = keep & ~oi_bad & np.isnan(oi)
    for mask, reason in ((oi_bad, "not a number"), (oi_missing, "missing")):
        for i in np.flatnonzero(mask):
            cell = (
                body.cell(
                    _CALL_POS["open_interest"] if i < n else _PUT_POS["open_interest"], int(i % n)
                )
                if reason != "missing"
                else None
            )
            skipped.append(
                (
                    int(side_line[i]),
                    f"Open Interest ({side_name[i]})",
                    f"not a number: {cell!r}" if reason != "missing" else "missing open interest",
                )
            )
        if mask.any():
            quality.skip(
                f"Open Interest: {reason}",
                int(mask.sum()),
                weight=None,
                where=_sides(side_line, side_name, mask),
            )
    keep &= ~oi_bad & ~oi_missing

    # plausibility (limits table): the file is broken, not a row
    halves = (np.arange(2 * n) < n, np.arange(2 * n) >= n)
    for name, key in _RANGE_KEYS.items():
        for side, half in zip(("call", "put"), halves, strict=True):
            m = keep & half
            check_range(
                values[name][m],
                key,
                source,
                rows=lambda i, m=m: side_line[m][i],
                field=f"{HEADER[_CALL_POS[name]]} ({side})",
            )
    for side, half in zip(("call", "put"), halves, strict=True):
        m = keep & half
        check_range(
            values["gamma"][m] * spot,
            "option.gamma_x_spot",
            source,
            rows=lambda i, m=m: side_line[m][i],
            field=f"Gamma ({side})",
        )
    row_of_side = np.concatenate([np.arange(n), np.arange(n)])
    osi_strike = osi.strike
    off = keep & ~(np.abs(osi_strike - strike[row_of_side]) <= 5e-4)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(
            source,
            "Strike",
            f"line {side_line[i]}: Strike {strike[row_of_side][i]:g} but the {side_name[i]} symbol {osi.symbol[i].as_py()} encodes {osi_strike[i]:g} ({int(off.sum())} such contracts; limit option.strike)",
        )
    osi_exp = osi.expiry
    off = keep & (osi_exp != expiry[row_of_side])
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(
            source,
            "Expiration Date",
            f"line {side_line[i]}: {body.cell(_EXPIRY_POS, i % n)!r} but the {side_name[i]} symbol {osi.symbol[i].as_py()} encodes {pd.Timestamp(osi_exp[i]).date()} ({int(off.sum())} such contracts)",
        )

    # unreadable or empty IV / greek / quote cells: missing, marked for the engine; others: repairs
    unreadable = np.zeros(2 * n, dtype=bool)
    for name in ("bid", "ask", "volume", "iv", "delta", "gamma"):
        bad = keep & bad_cells[name]
        empty = keep & body.empty[name]
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            quality.repair(
                f"{HEADER[_CALL_POS[name]]}: not a number (e.g. {body.cell(_CALL_POS[name] if i < n else _PUT_POS[name], i % n)!r}), taken as missing",
                int(bad.sum()),
            )
        if empty.any():
            quality.repair(
                f"{HEADER[_CALL_POS[name]]}: empty cell, taken as missing", int(empty.sum())
            )
        if name in _GREEK_FIELDS:
            unreadable |= bad | empty

    # file order: row by row, call then put
    order = np.empty(2 * n, dtype=np.int64)
    order[0::2] = np.arange(n)
    order[1::2] = np.arange(n) + n
    idx = order[keep[order]]
    row_of = idx % n if n else idx
    root_code = osi.root_code[idx]
    exp_kept = expiry[row_of]
    # settlement instants per distinct (root, expiry) pair (a chain has ~100), then per contract
    pair = pd.factorize(root_code * 1_000_000 + exp_kept.astype("datetime64[D]").astype(np.int64))[
        0
    ]
    firsts = np.zeros(int(pair.max()) + 1 if pair.size else 0, dtype=np.int64)
    firsts[pair[::-1]] = np.arange(pair.size)[::-1]  # first contract of each pair
    pair_settle = settlement_times(
        [osi.roots[c] for c in root_code[firsts]], exp_kept[firsts]
    ).as_unit("ns")
    settle = (
        pd.DatetimeIndex(pair_settle.tz_convert(None).to_numpy()[pair], tz="UTC")
        if pair.size
        else pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")
    )
    no_settle = np.asarray(settle.isna())
    if no_settle.any():
        gone = idx[no_settle]
        skipped.extend(
            (int(side_line[i]), "Expiration Date", "outside the exchange calendar") for i in gone
        )
        quality.skip(
            "Expiration Date: outside the exchange calendar",
            int(gone.size),
            weight=float(np.nansum(oi_weight[gone])),
            where=[f"{side_name[i]} at line {int(side_line[i])}" for i in gone[:EXAMPLES]],
        )
        idx, row_of, exp_kept, settle, root_code = (
            idx[~no_settle],
            row_of[~no_settle],
            exp_kept[~no_settle],
            settle[~no_settle],
            root_code[~no_settle],
        )
    _check_boundary_cut(
        expiry,
        strike,
        values["delta"][:n],
        ~blank & ~exp_bad & ~strike_bad,
        spot,
        as_of,
        source,
        quality,
    )
    iv = values["iv"][idx]
    no_iv = ~(iv > 0)
    roots = (
        pa.array(osi.roots, type=pa.string()).take(pa.array(root_code))
        if osi.roots
        else pa.array([], type=pa.string())
    )
    contracts = pd.DataFrame(
        {
            "symbol": pd.Series(osi.symbol.take(pa.array(idx)), dtype="str"),
            "root": pd.Series(roots, dtype="str"),
            "type": pd.Series(_CALL_PUT.take(pa.array((idx >= n).astype(np.int8))), dtype="str"),
            "strike": strike[row_of],
            "expiry": exp_kept,
            "settle_time": settle,
            "bid": values["bid"][idx],
            "ask": values["ask"][idx],
            "iv": np.where(no_iv, np.nan, iv),
            "delta": values["delta"][idx],
            "gamma": values["gamma"][idx],
            "open_interest": oi[idx],
            "volume": values["volume"][idx],
            UNREADABLE_COLUMN: unreadable[idx],
        },
        copy=False,  # fresh arrays, in CHAIN_COLUMNS order
    )
    # duplicates: one integer key per contract (root, expiry, type, strike: the symbol's fields)
    key = (
        (root_code * 100_000 + (exp_kept.astype("datetime64[D]").astype(np.int64) - _DAY0)) * 2
        + osi.is_call[idx]
    ) * 100_000_000 + np.round(osi_strike[idx] * 1000).astype(np.int64)
    unique_symbols = not (len(key) and pd.Index(key).has_duplicates)
    if not unique_symbols:
        contracts, _ = dedupe(contracts, side_line[idx], source, quality)

    if underlying is None:
        if not len(contracts):
            underlying = "?"
        elif unique_symbols:  # contracts per root, summed per underlying (ties: the first name)
            per_root = np.bincount(root_code, minlength=len(osi.roots))
            totals: dict[str, int] = {}
            for name, count in zip(osi.roots, per_root.tolist(), strict=True):
                if count:
                    u = underlying_from_root(name)
                    totals[u] = totals.get(u, 0) + count
            underlying = max(sorted(totals), key=lambda u: totals[u])
        else:
            counts = contracts["root"].value_counts()
            by_underlying = counts.groupby(counts.index.map(underlying_from_root)).sum()
            underlying = str(by_underlying.idxmax())
    skipped_frame = (
        pd.DataFrame(skipped, columns=["row", "field", "reason"]).astype(
            {"row": "int64", "field": "str", "reason": "str"}
        )
        if skipped
        else _NO_SKIPPED.copy()
    )
    chain = Chain(
        underlying=underlying,
        spot=spot,
        as_of=as_of,
        source=source,
        contracts=contracts,
        skipped=skipped_frame,
        quality=quality,
    )
    if len(contracts) == 0 and quality.skipped_rows:
        raise InputError(source, "contracts", f"no readable option row: {quality.summary()}")
    validate_chain(chain, symbols_unique=True)  # duplicates were dropped or refused above
    return chain


_CALL_PUT = pa.array(["C", "P"], type=pa.string())
_NO_SKIPPED = empty_skipped()
_DAY0 = np.datetime64("1970-01-01", "D").astype(np.int64) - 50_000
"""Offset making expiry day numbers positive in the duplicate key (any date after 1833)."""


def fetch(path: str | Path) -> bytes:
    """The file's bytes (the only I/O): :func:`flows.sources.contract.read_file`."""
    return contract.read_file(path)


def read_file(path: str | Path, underlying: str | None = None) -> Chain:
    """Read and parse one quote-table CSV file."""
    return parse(fetch(path), source=str(path), underlying=underlying)


def build_query(folder: str | Path, underlying: str) -> Path:
    """The file to read for ``underlying`` in a drop folder (see :func:`list_drop_folder`)."""
    return list_drop_folder(folder, underlying)


def list_drop_folder(folder: str | Path, underlying: str) -> Path:
    """Newest (by modification time) quote-table CSV for ``underlying`` in a drop folder.

    Matches ``<underlying>.csv`` and ``<underlying>`` + one of ``_ - . space`` + anything + ``.csv``,
    case-insensitively (``spx_quotedata.csv``, ``SPX_quotedata (1).csv``, ``spx.csv``);
    ``spxw_...`` does not match ``SPX``.

    Raises
    ------
    InputError
        The folder does not exist or holds no file for ``underlying``.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(str(root), None, "drop folder does not exist")
    pattern = re.compile(rf"^{re.escape(underlying.lower())}(?:[_\-. ].*)?\.csv$")
    files = [p for p in root.iterdir() if p.is_file() and pattern.match(p.name.lower())]
    if not files:
        raise InputError(
            str(root),
            "underlying",
            f"no quote-table CSV for {underlying} (expected e.g. {underlying.lower()}_quotedata.csv)",
        )
    return max(files, key=lambda p: (p.stat().st_mtime, p.name))
