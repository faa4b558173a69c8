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
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from flows.chain import (
    EXCHANGE_TZ,
    UNREADABLE_COLUMN,
    Chain,
    parse_osi,
    settlement_times,
    underlying_from_root,
    validate_chain,
)
from flows.errors import InputError
from flows.limits import check_range
from flows.quality import Quality
from flows.schema import CHAIN_COLUMNS
from flows.sources import contract
from flows.sources.cboe import dedupe
from flows.sources.textio import decode_text

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

_CALL_POS = {"symbol": 1, "bid": 4, "ask": 5, "volume": 6, "iv": 7, "delta": 8, "gamma": 9, "open_interest": 10}
_PUT_POS = {"symbol": 12, "bid": 15, "ask": 16, "volume": 17, "iv": 18, "delta": 19, "gamma": 20, "open_interest": 21}
_STRIKE_POS = 11
_EXPIRY_POS = 0
_BODY_START_LINE = 5
"""1-based file line of the first data row (used to report skipped rows by line)."""

_SPOT_RE = re.compile(r"Last:\s*([-+]?[0-9][0-9,]*\.?[0-9]*)")

_EN_MONTHS = {m.lower(): i for i, m in enumerate(["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"], 1)}
_EN_MONTHS.update({k[:3]: v for k, v in list(_EN_MONTHS.items())})
_EN_MONTHS["sept"] = 9
_ES_MONTHS = {m: i for i, m in enumerate(["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"], 1)}
_ES_MONTHS["setiembre"] = 9

_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2})?\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?\s*(?P<tz>[A-Z]{2,4})?\s*$"
_DATE_LAYOUTS: tuple[tuple[str, re.Pattern[str], dict[str, int]], ...] = (
    # "Date: September 14, 2023 at 4:31 PM EDT" and the older "Date: June 11, 2022, 8:47 PM EDT"
    ("english", re.compile(r"^Date:\s*(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2}),\s*(?P<year>\d{4})(?:\s+at|\s*,)?\s+" + _TIME), _EN_MONTHS),
    # "Date: 23 de marzo de 2022, 8:47 PM EDT" / "... de 2022 a las 20:47"
    ("spanish", re.compile(r"^Date:\s*(?P<day>\d{1,2})\s+de\s+(?P<month>[A-Za-z\u00e1\u00e9\u00ed\u00f3\u00fa]+)\s+de\s+(?P<year>\d{4})(?:\s+a\s+las|\s*,)?\s+" + _TIME), _ES_MONTHS),
)
_TZ_OFFSETS = {"EDT": -4, "EST": -5}
"""Abbreviations CBOE prints; ``ET`` or none means New York local time."""


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
        try:
            naive = pd.Timestamp(year=int(m["year"]), month=month, day=int(m["day"]), hour=hour, minute=minute)
        except ValueError as exc:
            raise InputError(source, "Date", f"impossible date/time in {cell!r}: {exc}") from None
        tz = m["tz"]
        if tz in _TZ_OFFSETS:
            return (naive - pd.Timedelta(hours=_TZ_OFFSETS[tz])).tz_localize("UTC").tz_convert(EXCHANGE_TZ)
        if tz not in (None, "ET"):
            raise InputError(source, "Date", f"unknown time zone {tz!r} in {cell!r}")
        return naive.tz_localize(EXCHANGE_TZ, ambiguous=True, nonexistent="shift_forward")
    raise InputError(source, "Date", f"unknown date layout {cell!r} (expected e.g. 'Date: September 14, 2023 at 4:31 PM EDT')")


def parse_spot_line(text: str, source: str) -> float:
    """``Standard & Poors 500 Index,Last: 4505.1001,Change: 37.66`` -> 4505.1001."""
    m = _SPOT_RE.search(text)
    if not m:
        raise InputError(source, "Last", f"no spot ('Last: <price>') in line 2: {text[:120]!r}")
    spot = float(m.group(1).replace(",", ""))
    if not np.isfinite(spot) or spot <= 0:
        raise InputError(source, "Last", f"spot must be positive, got {spot}")
    return spot


def _check_header(line: str, source: str) -> None:
    names = [c.strip() for c in next(csv.reader([line]))] if line.strip() else []
    for i, expected in enumerate(HEADER):
        if i >= len(names):
            raise InputError(source, expected, f"header has {len(names)} columns, column {i + 1} ({expected!r}) is missing")
        if names[i] != expected:
            raise InputError(source, expected, f"header column {i + 1} is {names[i]!r}, expected {expected!r} (renamed or missing column)")


def _numeric(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Column -> (float values, bad mask) where bad = present but not a number."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype=np.float64, na_value=np.nan), np.zeros(len(col), dtype=bool)
    raw = col.astype("str")
    vals = pd.to_numeric(raw.str.replace(",", "", regex=False).str.strip(), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    present = col.notna().to_numpy() & (raw.str.strip() != "").to_numpy()
    return vals, present & np.isnan(vals)


def _empty(col: pd.Series) -> np.ndarray:
    """Cells that are empty or an NA marker (real quote tables have none: CBOE writes 0)."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        return np.asarray(np.isnan(col.to_numpy(dtype=np.float64, na_value=np.nan)))
    return np.asarray((col.isna() | (col.astype("str").str.strip() == "")).to_numpy())


_LINE_RE = re.compile(r"line (\d+)")
_RANGE_KEYS = {"open_interest": "option.open_interest", "volume": "option.volume", "iv": "option.iv", "delta": "option.delta", "bid": "option.price", "ask": "option.price"}
_GREEK_FIELDS = ("iv", "gamma", "bid", "ask")


def _read_body(body: str, source: str) -> pd.DataFrame:
    """The data lines as a 22-column frame; pandas errors become :class:`InputError` with the line."""
    if not body.strip():
        return pd.DataFrame({i: pd.Series(dtype="float64") for i in range(len(HEADER))})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(io.StringIO(body), header=None, names=list(range(len(HEADER))), skip_blank_lines=False, index_col=False, thousands=",", low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError, csv.Error) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        m = _LINE_RE.search(msg)
        where = f"line {int(m.group(1)) + _BODY_START_LINE - 1}" if m else "body"
        raise InputError(source, where, f"unreadable CSV: {msg}") from None


def _check_cut(body: str, source: str, quality: Quality) -> None:
    """Refuse a last line cut mid-line (see the module docstring)."""
    if not body.strip() or body.endswith("\n"):
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
        raise InputError(source, f"line {line_no}", f"file cut mid-body: its last line has {nfields} of {len(HEADER)} fields and no line end (a broken download); the whole file is refused")
    quality.warn(f"the file does not end with a newline: its last line (line {line_no}) may be cut inside its last field")


CUT_TOP_CALL_DELTA = 0.35
"""A complete expiry's highest strike is far out of the money: its call delta in the real files is
at most 0.23 (the 6-year SPX LEAPS; below 0.01 for most expiries).  A last expiry whose top call
still has this delta or more ends near the money: the file may be cut there (a warning)."""
CUT_MIN_LAST_EXPIRY_DAYS = 90
"""A complete quote table ("Expiration: All") runs to quarterly or LEAPS expiries, months out;
a last expiry closer than this to the snapshot suggests the later expiries were cut (a warning)."""


def _check_boundary_cut(expiry: np.ndarray, strike: np.ndarray, call_delta: np.ndarray, ok: np.ndarray, spot: float, as_of: pd.Timestamp, source: str, quality: Quality) -> None:
    """A file cut at a line boundary (see the module docstring): refuse a last expiry whose
    strikes stop below spot; warn when its top call is still near the money or when the last
    expiry is close to the snapshot.  Only for a file in CBOE's order."""
    dated = ~np.isnat(expiry)
    if not dated.any() or not ok.any():
        return
    last_expiry = expiry[np.flatnonzero(dated)[-1]]  # the expiry of the file's last dated line
    e, k = expiry[ok].astype("datetime64[ns]").astype(np.int64), strike[ok]
    same = e[1:] == e[:-1]
    in_order = bool(np.all(e[1:] >= e[:-1]) and np.all(k[1:][same] >= k[:-1][same]))
    last = e == np.datetime64(last_expiry, "ns").astype(np.int64)
    if not in_order or not last.any():
        return  # not CBOE's order (or no readable strike): a boundary cut cannot be recognised
    day = pd.Timestamp(last_expiry).date().isoformat()
    top = float(k[last].max())
    if top < spot <= float(k.max()):  # (a spot beyond every strike is the engine's spot check)
        raise InputError(source, "Strike", f"file appears cut at a line boundary: the last expiry ({day}) lists strikes only up to {top:g}, below spot {spot:g}, while every complete expiry spans spot; the whole file is refused")
    top_delta = float(call_delta[ok][last][-1])
    if np.isfinite(top_delta) and top_delta >= CUT_TOP_CALL_DELTA:
        quality.warn(f"the last expiry ({day}) ends at strike {top:g} where the call delta is still {top_delta:.2f}: the file may be cut at a line boundary")
    days = (pd.Timestamp(last_expiry) - pd.Timestamp(as_of.tz_convert(EXCHANGE_TZ).date())).days
    if days < CUT_MIN_LAST_EXPIRY_DAYS:
        quality.warn(f"the last listed expiry ({day}) is only {days} days after the snapshot: a complete quote table runs months further; later expiries may be cut off")


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
        With ``quality`` (rows = contracts, two per line; basis open interest) and ``skipped``.

    Raises
    ------
    InputError
        Naming ``source`` and the field or line: ``Last`` (no spot), ``Date`` (unknown layout),
        a header column (missing/renamed), a cut or unparseable body (``line N``), a value
        outside :mod:`flows.limits`, a strike or expiry that disagrees with the OSI symbol, a
        conflicting duplicate (``option``), ``contracts`` (empty chain), ``iv`` (zero IV
        everywhere).
    """
    decoded = decode_text(raw, source)
    text = decoded.text
    quality = Quality(source=source, basis="open interest")
    decoded.note(quality)
    head = text.split("\n", 4)
    if len(head) < 4:
        raise InputError(source, "header", f"file has {len(head)} line(s); expected spot, date and header lines")
    line2, line3, line4 = (h.rstrip("\r") for h in head[1:4])
    spot = parse_spot_line(line2, source)
    check_range([spot], "option.spot", source, field="Last")
    try:
        date_cell = next(csv.reader([line3]))[0] if line3.strip() else ""
    except csv.Error as exc:
        raise InputError(source, "Date", f"line 3 is not CSV: {exc}") from None
    as_of = parse_date_line(date_cell, source)
    _check_header(line4, source)
    body = head[4] if len(head) > 4 else ""
    _check_cut(body, source, quality)
    frame = _read_body(body, source)

    skipped: list[tuple[int, str, str]] = []
    n = len(frame)
    lines = np.arange(n) + _BODY_START_LINE
    blank = frame.isna().all(axis=1).to_numpy()

    # few distinct expiries: parse each once
    codes, uniques = pd.factorize(frame[_EXPIRY_POS])
    parsed = pd.to_datetime(pd.Series(np.asarray(uniques, dtype=object), dtype="str"), format="%a %b %d %Y", errors="coerce").to_numpy(dtype="datetime64[ns]")
    expiry = np.where(codes >= 0, parsed[np.maximum(codes, 0)] if parsed.size else np.datetime64("NaT", "ns"), np.datetime64("NaT", "ns"))
    strike, _ = _numeric(frame[_STRIKE_POS])
    values: dict[str, np.ndarray] = {}
    bad_cells: dict[str, np.ndarray] = {}
    for name in ("bid", "ask", "volume", "iv", "delta", "gamma", "open_interest"):
        (vc, bc), (vp, bp) = _numeric(frame[_CALL_POS[name]]), _numeric(frame[_PUT_POS[name]])
        values[name], bad_cells[name] = np.concatenate([vc, vp]), np.concatenate([bc, bp])
    oi = values["open_interest"]
    oi_weight = np.where(np.isfinite(oi) & ~bad_cells["open_interest"], oi, np.nan)
    quality.total_rows = int(2 * (~blank).sum())
    quality.total_weight = float(np.nansum(np.where(np.tile(~blank, 2), np.where(np.isinf(oi_weight), 0.0, oi_weight), 0.0)))

    # both sides stacked: element i < n is the call of row i, n + i the put of row i
    side_line = np.concatenate([lines, lines])
    side_name = np.repeat(np.array(["call", "put"]), n)
    exp_bad = ~blank & np.isnat(expiry)
    strike_bad = ~blank & ~exp_bad & ~(np.isfinite(strike) & (strike > 0))
    for mask, field, reason in ((exp_bad, "Expiration Date", "not a date (%a %b %d %Y)"), (strike_bad, "Strike", "strike missing, not a number or not positive")):
        if mask.any():
            for ln in lines[mask]:
                skipped.append((int(ln), field, reason))
            w = oi_weight.reshape(2, n)[:, mask]
            quality.skip(f"{field}: {reason}", int(2 * mask.sum()), weight=float(np.nansum(w)) if np.isfinite(w).all() else None)
    keep = np.tile(~blank & ~exp_bad & ~strike_bad, 2)
    sym = pd.concat([frame[_CALL_POS["symbol"]], frame[_PUT_POS["symbol"]]], ignore_index=True)
    osi = parse_osi(sym)
    osi_ok = osi["root"].notna().to_numpy()
    bad_sym = keep & ~osi_ok
    for i in np.flatnonzero(bad_sym):
        skipped.append((int(side_line[i]), HEADER[_CALL_POS["symbol"] if i < n else _PUT_POS["symbol"]], "missing or not an OSI option symbol"))
    if bad_sym.any():
        w = oi_weight[bad_sym]
        quality.skip("Calls/Puts: missing or not an OSI option symbol", int(bad_sym.sum()), weight=float(np.nansum(w)) if np.isfinite(w).all() else None)
    keep &= osi_ok
    oi_bad = keep & bad_cells["open_interest"]
    oi_missing = keep & ~oi_bad & np.isnan(oi)
    for mask, reason in ((oi_bad, "not a number"), (oi_missing, "missing")):
        for i in np.flatnonzero(mask):
            cell = pd.concat([frame[_CALL_POS["open_interest"]], frame[_PUT_POS["open_interest"]]], ignore_index=True).iloc[i] if reason != "missing" else None
            skipped.append((int(side_line[i]), f"Open Interest ({side_name[i]})", f"not a number: {cell!r}" if reason != "missing" else "missing open interest"))
        if mask.any():
            quality.skip(f"Open Interest: {reason}", int(mask.sum()), weight=None)
    keep &= ~oi_bad & ~oi_missing

    # plausibility (limits table): the file is broken, not a row
    halves = (np.arange(2 * n) < n, np.arange(2 * n) >= n)
    for name, key in _RANGE_KEYS.items():
        for side, half in zip(("call", "put"), halves, strict=True):
            m = keep & half
            check_range(values[name][m], key, source, rows=side_line[m], field=f"{HEADER[_CALL_POS[name]]} ({side})")
    for side, half in zip(("call", "put"), halves, strict=True):
        m = keep & half
        check_range(values["gamma"][m] * spot, "option.gamma_x_spot", source, rows=side_line[m], field=f"Gamma ({side})")
    row_of_side = np.concatenate([np.arange(n), np.arange(n)])
    osi_strike = osi["strike"].to_numpy(dtype=np.float64)
    off = keep & ~(np.abs(osi_strike - strike[row_of_side]) <= 5e-4)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(source, "Strike", f"line {side_line[i]}: Strike {strike[row_of_side][i]:g} but the {side_name[i]} symbol {osi['symbol'].iloc[i]} encodes {osi_strike[i]:g} ({int(off.sum())} such contracts; limit option.strike)")
    osi_exp = osi["expiry"].to_numpy(dtype="datetime64[ns]")
    off = keep & (osi_exp != expiry[row_of_side])
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(source, "Expiration Date", f"line {side_line[i]}: {frame[_EXPIRY_POS].iloc[i % n]!r} but the {side_name[i]} symbol {osi['symbol'].iloc[i]} encodes {pd.Timestamp(osi_exp[i]).date()} ({int(off.sum())} such contracts)")

    # unreadable or empty IV / greek / quote cells: missing, marked for the engine; others: repairs
    unreadable = np.zeros(2 * n, dtype=bool)
    for name in ("bid", "ask", "volume", "iv", "delta", "gamma"):
        bad = keep & bad_cells[name]
        empty = keep & np.concatenate([_empty(frame[_CALL_POS[name]]), _empty(frame[_PUT_POS[name]])])
        if bad.any():
            raw_cells = pd.concat([frame[_CALL_POS[name]], frame[_PUT_POS[name]]], ignore_index=True)
            quality.repair(f"{HEADER[_CALL_POS[name]]}: not a number (e.g. {raw_cells.iloc[int(np.flatnonzero(bad)[0])]!r}), taken as missing", int(bad.sum()))
        if empty.any():
            quality.repair(f"{HEADER[_CALL_POS[name]]}: empty cell, taken as missing", int(empty.sum()))
        if name in _GREEK_FIELDS:
            unreadable |= bad | empty

    # file order: row by row, call then put
    order = np.empty(2 * n, dtype=np.int64)
    order[0::2] = np.arange(n)
    order[1::2] = np.arange(n) + n
    idx = order[keep[order]]
    row_of = idx % n if n else idx
    roots = osi["root"].take(idx).reset_index(drop=True)
    exp_kept = expiry[row_of]
    settle = settlement_times(roots, exp_kept)
    no_settle = np.asarray(settle.isna())
    if no_settle.any():
        gone = idx[no_settle]
        skipped.extend((int(side_line[i]), "Expiration Date", "outside the exchange calendar") for i in gone)
        quality.skip("Expiration Date: outside the exchange calendar", int(gone.size), weight=float(np.nansum(oi_weight[gone])))
        idx, row_of, exp_kept, settle = idx[~no_settle], row_of[~no_settle], exp_kept[~no_settle], settle[~no_settle]
        roots = roots[~no_settle].reset_index(drop=True)
    _check_boundary_cut(expiry, strike, values["delta"][:n], ~blank & ~exp_bad & ~strike_bad, spot, as_of, source, quality)
    iv = values["iv"][idx]
    no_iv = ~(iv > 0)
    gamma = values["gamma"][idx]
    delta = values["delta"][idx]
    contracts = pd.DataFrame(
        {
            "symbol": osi["symbol"].take(idx).reset_index(drop=True),
            "root": roots,
            "type": pd.Series(np.where(idx < n, "C", "P"), dtype="str"),
            "strike": strike[row_of],
            "expiry": exp_kept,
            "settle_time": settle,
            "bid": values["bid"][idx],
            "ask": values["ask"][idx],
            "iv": np.where(no_iv, np.nan, iv),
            "delta": delta,
            "gamma": gamma,
            "open_interest": oi[idx],
            "volume": values["volume"][idx],
        }
    )[list(CHAIN_COLUMNS)]
    contracts[UNREADABLE_COLUMN] = unreadable[idx]
    contracts, _ = dedupe(contracts, side_line[idx], source, quality)

    if underlying is None:
        if len(contracts):
            counts = contracts["root"].value_counts()
            by_underlying = counts.groupby(counts.index.map(underlying_from_root)).sum()
            underlying = str(by_underlying.idxmax())
        else:
            underlying = "?"
    skipped_frame = pd.DataFrame(skipped, columns=["row", "field", "reason"]).astype({"row": "int64", "field": "str", "reason": "str"})
    chain = Chain(underlying=underlying, spot=spot, as_of=as_of, source=source, contracts=contracts, skipped=skipped_frame, quality=quality)
    if len(contracts) == 0 and quality.skipped_rows:
        raise InputError(source, "contracts", f"no readable option row: {quality.summary()}")
    validate_chain(chain)
    return chain


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
        raise InputError(str(root), "underlying", f"no quote-table CSV for {underlying} (expected e.g. {underlying.lower()}_quotedata.csv)")
    return max(files, key=lambda p: (p.stat().st_mtime, p.name))
