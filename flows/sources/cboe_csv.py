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

Every row becomes two contracts keyed by OSI symbol. ``IV`` 0 (CBOE's "missing") becomes NaN;
``Delta``/``Gamma`` 0 become NaN where the IV is missing too (CBOE's 0DTE rows after the close
keep a gamma with IV 0, and that gamma is kept). A contract whose cell in a numeric field is not
a number, or whose open interest is negative or missing, is skipped and listed in
``Chain.skipped`` with the file line, the field and the reason; a bad ``Strike`` or
``Expiration Date`` skips both sides. Empty cells and pandas' usual NA markers (``N/A``, ``#N/A``,
``NaN``) are missing values, not bad ones: a missing bid, IV or greek is NaN.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from flows.chain import (
    EXCHANGE_TZ,
    Chain,
    parse_osi,
    settlement_times,
    underlying_from_root,
    validate_chain,
)
from flows.errors import InputError
from flows.schema import CHAIN_COLUMNS

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


def parse(raw: str | bytes, source: str, underlying: str | None = None) -> Chain:
    """Parse a CBOE quote-table CSV into a :class:`Chain` (pure).

    Parameters
    ----------
    raw:
        File content (bytes are decoded as UTF-8, falling back to Latin-1).
    source:
        Name used in errors and provenance (the file path).
    underlying:
        Underlying ticker; by default inferred from the option roots (``SPXW`` -> ``SPX``).

    Raises
    ------
    InputError
        Naming ``source`` and the field: ``Last`` (no spot), ``Date`` (unknown layout), a header
        column (missing/renamed), ``contracts`` (empty chain), ``iv`` (zero IV everywhere).
    """
    text = raw.decode("utf-8", errors="strict") if isinstance(raw, bytes | bytearray) else raw
    if text.startswith("\ufeff"):
        text = text[1:]
    head = text.split("\n", 4)
    if len(head) < 4:
        raise InputError(source, "header", f"file has {len(head)} line(s); expected spot, date and header lines")
    line2, line3, line4 = (h.rstrip("\r") for h in head[1:4])
    spot = parse_spot_line(line2, source)
    date_cell = next(csv.reader([line3]))[0] if line3.strip() else ""
    as_of = parse_date_line(date_cell, source)
    _check_header(line4, source)
    body = head[4] if len(head) > 4 else ""

    skipped: list[tuple[int, str, str]] = []
    if body.strip():
        frame = pd.read_csv(io.StringIO(body), header=None, names=list(range(len(HEADER))), usecols=range(len(HEADER)), skip_blank_lines=False, index_col=False, thousands=",")
    else:
        frame = pd.DataFrame({i: pd.Series(dtype="float64") for i in range(len(HEADER))})
    n = len(frame)
    lines = np.arange(n) + _BODY_START_LINE
    blank = frame.isna().all(axis=1).to_numpy()

    # few distinct expiries: parse each once
    codes, uniques = pd.factorize(frame[_EXPIRY_POS])
    parsed = pd.to_datetime(pd.Series(np.asarray(uniques, dtype=object), dtype="str"), format="%a %b %d %Y", errors="coerce").to_numpy(dtype="datetime64[ns]")
    expiry = np.where(codes >= 0, parsed[np.maximum(codes, 0)] if parsed.size else np.datetime64("NaT", "ns"), np.datetime64("NaT", "ns"))
    strike, _ = _numeric(frame[_STRIKE_POS])
    exp_bad = ~blank & np.isnat(expiry)
    row_bad = exp_bad | (~blank & ~(np.isfinite(strike) & (strike > 0)))
    for ln, is_exp_bad in zip(lines[row_bad], exp_bad[row_bad], strict=True):
        skipped.append((int(ln), "Expiration Date" if is_exp_bad else "Strike", "not a date (%a %b %d %Y)" if is_exp_bad else "strike missing, not a number or not positive"))

    # both sides stacked: element i < n is the call of row i, n + i the put of row i
    side_line = np.concatenate([lines, lines])
    side_name = np.repeat(np.array(["call", "put"]), n)
    keep = np.tile(~blank & ~row_bad, 2)
    sym = pd.concat([frame[_CALL_POS["symbol"]], frame[_PUT_POS["symbol"]]], ignore_index=True)
    osi = parse_osi(sym)
    osi_ok = osi["root"].notna().to_numpy()
    bad_sym = keep & ~osi_ok
    skipped += [(int(side_line[i]), HEADER[_CALL_POS["symbol"] if i < n else _PUT_POS["symbol"]], "missing or not an OSI option symbol") for i in np.flatnonzero(bad_sym)]
    keep &= osi_ok
    values = {}
    for name in ("bid", "ask", "volume", "iv", "delta", "gamma", "open_interest"):
        (vc, bc), (vp, bp) = _numeric(frame[_CALL_POS[name]]), _numeric(frame[_PUT_POS[name]])
        vals, bad = np.concatenate([vc, vp]), np.concatenate([bc, bp]) & keep
        if bad.any():
            raw_cells = pd.concat([frame[_CALL_POS[name]], frame[_PUT_POS[name]]], ignore_index=True)
            skipped += [(int(side_line[i]), f"{HEADER[_CALL_POS[name]]} ({side_name[i]})", f"not a number: {raw_cells.iloc[i]!r}") for i in np.flatnonzero(bad)]
        keep &= ~bad
        values[name] = vals
    oi = values["open_interest"]
    neg = keep & (oi < 0)
    skipped += [(int(side_line[i]), f"Open Interest ({side_name[i]})", f"negative open interest {oi[i]:g}") for i in np.flatnonzero(neg)]
    keep &= ~neg
    miss_oi = keep & np.isnan(oi)
    skipped += [(int(side_line[i]), f"Open Interest ({side_name[i]})", "missing open interest") for i in np.flatnonzero(miss_oi)]
    keep &= ~miss_oi

    # file order: row by row, call then put
    order = np.empty(2 * n, dtype=np.int64)
    order[0::2] = np.arange(n)
    order[1::2] = np.arange(n) + n
    idx = order[keep[order]]
    iv = values["iv"][idx]
    no_iv = ~(iv > 0)
    gamma = values["gamma"][idx]
    delta = values["delta"][idx]
    row_of = idx % n if n else idx
    roots = osi["root"].take(idx).reset_index(drop=True)
    exp_kept = expiry[row_of]
    contracts = pd.DataFrame(
        {
            "symbol": osi["symbol"].take(idx).reset_index(drop=True),
            "root": roots,
            "type": pd.Series(np.where(idx < n, "C", "P"), dtype="str"),
            "strike": strike[row_of],
            "expiry": exp_kept,
            "settle_time": settlement_times(roots, exp_kept),
            "bid": values["bid"][idx],
            "ask": values["ask"][idx],
            "iv": np.where(no_iv, np.nan, iv),
            "delta": np.where(no_iv & (delta == 0), np.nan, delta),
            "gamma": np.where(no_iv & (gamma == 0), np.nan, gamma),
            "open_interest": oi[idx],
            "volume": np.nan_to_num(values["volume"][idx]),
        }
    )[list(CHAIN_COLUMNS)]

    if underlying is None:
        if len(contracts):
            counts = contracts["root"].value_counts()
            by_underlying = counts.groupby(counts.index.map(underlying_from_root)).sum()
            underlying = str(by_underlying.idxmax())
        else:
            underlying = "?"
    skipped_frame = pd.DataFrame(skipped, columns=["row", "field", "reason"]).astype({"row": "int64", "field": "str", "reason": "str"})
    chain = Chain(underlying=underlying, spot=spot, as_of=as_of, source=source, contracts=contracts, skipped=skipped_frame)
    validate_chain(chain)
    return chain


def fetch(path: str | Path) -> bytes:
    """Read the raw bytes of a quote-table file (the only I/O of this source)."""
    p = Path(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(str(p), None, f"cannot read file: {exc}") from None


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
