"""The futures markets read from the CFTC TFF report beyond FX (``flows/data/tff_markets.csv``).

Curated, shipped with the package: one row per CFTC contract market code (the key; names
change, codes do not)::

    code,symbol,group,kind,headline,name,multiplier,multiplier_unit,contract_units,underlying,
    dv01_usd_per_bp,dv01_source,first_report,cftc_names,notes

* ``code``: the 6-character CFTC contract market code as printed (leading zeros kept; the
  consolidated index rows end in ``+``: ``13874+``).
* ``symbol``: the desk's short name (``ES``, ``NQ``, ``RTY``, ``YM``, ``VX``, ``ZT``, ``ZF``,
  ``ZN``, ``TN``, ``ZB``, ``UB``, ``SR3``; ``ES_CONS`` ... for the consolidated rows).
* ``group``: ``equity_index``, ``vix`` or ``rates``.  ``kind``: ``contract`` (one listed
  contract) or ``consolidated`` (CFTC's combination of the sizes of one index).
* ``headline``: whether the market feeds the headline and the crowding flags (the single
  contracts; the consolidated rows are kept for reference, see their notes).
* ``multiplier``: USD per point of the contract's quote (equity: per index point; VX: per VIX
  futures point; Treasuries: face value / 100 per price point; SOFR: per IMM index point).
* ``contract_units``: the report's ``Contract_Units`` text for the unit the table uses.  Rows
  printed in another unit are rescaled by the ratio of the dollar amounts of the two texts
  (:func:`flows.futures_positioning.unit_scale`).
* ``underlying``: the column of the closes frame that prices the notional (``SPX``, ``NDX``,
  ``RUT``, ``DJI``; ``VX`` = a VIX *futures* level); blank for rates.
* ``dv01_usd_per_bp``: USD per basis point per contract (rates only), with ``dv01_source``
  (where the figure comes from and its date: Treasury DV01s follow the cheapest-to-deliver
  and drift with yields; override them, e.g. ``flowdesk futures-positioning --dv01 ZN=64``).
* ``first_report``: the first TFF report of a market listed after 2017-01-03 (the start of the
  shared history); blank = reported since then or earlier.  A history that starts later than
  both this date and the other markets' first week lacks weeks (a cut file): warned.
* ``cftc_names``: every market name the report printed for the code, with the files it was
  seen in (verified against the TFF files 2017-2026 in ``../shared/data/cftc/``).

Three steps as every source: :func:`build_query` (the path), :func:`fetch` (read bytes; the only
I/O), :func:`parse` (pure).  A malformed table raises :class:`flows.errors.InputError` naming
the file, the line and the column.  A well-formed table is checked in one pass on its cells
(:func:`_parse_fast`); pandas' reader and the checks in order name the first problem of any
other (:func:`_parse_exact`).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.core.arrays.string_arrow import ArrowStringArray

from flows.errors import InputError
from flows.limits import check_range
from flows.sources import columnar
from flows.sources.textio import decode_text

SHIPPED = "tff_markets.csv"
GROUPS = ("equity_index", "vix", "rates")
KINDS = ("contract", "consolidated")
COLUMNS = (
    "code",
    "symbol",
    "group",
    "kind",
    "headline",
    "name",
    "multiplier",
    "multiplier_unit",
    "contract_units",
    "underlying",
    "dv01_usd_per_bp",
    "dv01_source",
    "first_report",
    "cftc_names",
    "notes",
)
REQUIRED = ("code", "symbol", "group", "kind", "headline", "multiplier", "contract_units")
CODE_RE = re.compile(r"[0-9A-Z+]{6}")
SYMBOL_RE = re.compile(r"[A-Z][A-Z0-9_]{0,15}")


def shipped_path() -> Path:
    """Path of the curated table shipped as package data."""
    return Path(str(resources.files("flows").joinpath("data", SHIPPED)))


def build_query(path: str | Path | None = None) -> Path:
    """The table to read: ``path``, or the shipped one."""
    return Path(path) if path else shipped_path()


def fetch(query: Path) -> bytes:
    """The file's bytes; a missing or unreadable file is an :class:`InputError`."""
    try:
        return query.read_bytes()
    except OSError as exc:
        raise InputError(str(query), None, f"cannot read the file: {exc.strerror or exc}") from None


def parse(raw: bytes, source: str) -> pd.DataFrame:
    """Parse and validate the table (pure).

    Returns :data:`COLUMNS` in file order: text columns as ``str`` (``""`` when blank),
    ``headline`` bool, ``multiplier`` and ``dv01_usd_per_bp`` float (NaN when blank),
    ``first_report`` datetime64[ns] (NaT when blank), plus ``line`` (the file line of each row).

    Raises
    ------
    InputError
        Naming ``source``, the line and the column: a missing column, a blank required cell, a
        code that is not 6 capitals/digits/``+``, a duplicated code or symbol, an unknown group
        or kind, ``headline`` not true/false, a multiplier that is not a positive number, a
        rates market without a DV01 or a DV01 outside ``futures.contract_dv01``, a
        ``first_report`` that is not a date.
    """
    text = decode_text(raw, source).text
    fast = _parse_fast(text, source)
    return fast if fast is not None else _parse_exact(text, source)


def _parse_exact(text: str, source: str) -> pd.DataFrame:
    """Every check of :func:`parse` in order, with pandas' reader: the path that names the
    first problem (and reads any table the fast path declines)."""
    try:
        table = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(source, None, f"not a readable CSV table: {exc}") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            source, missing[0], f"column missing from the header (has {', '.join(table.columns)})"
        )
    table = table[list(COLUMNS)].apply(lambda s: s.astype(str).str.strip())
    if table.empty:
        raise InputError(source, None, "no markets in the table")
    lines = np.arange(len(table)) + 2
    for col in REQUIRED:
        blank = table[col] == ""
        if blank.any():
            raise InputError(source, col, f"blank on line {lines[np.flatnonzero(blank)[0]]}")
    _match(
        table,
        "code",
        CODE_RE,
        lines,
        source,
        "a 6-character CFTC contract market code (digits, capitals, '+')",
    )
    _match(table, "symbol", SYMBOL_RE, lines, source, "a short name of capitals, digits and '_'")
    for col in ("code", "symbol"):
        dup = table[col].duplicated()
        if dup.any():
            raise InputError(
                source,
                col,
                f"{table[col][dup].iloc[0]!r} twice (line {lines[np.flatnonzero(dup)[0]]})",
            )
    for col, allowed in (("group", GROUPS), ("kind", KINDS)):
        bad = ~table[col].isin(allowed)
        if bad.any():
            raise InputError(
                source,
                col,
                f"{table[col][bad].iloc[0]!r} on line {lines[np.flatnonzero(bad)[0]]}: expected one of {', '.join(allowed)}",
            )
    flag = table["headline"].str.lower()
    bad = ~flag.isin(["true", "false"])
    if bad.any():
        raise InputError(
            source,
            "headline",
            f"{table['headline'][bad].iloc[0]!r} on line {lines[np.flatnonzero(bad)[0]]}: expected true or false",
        )
    out = table.copy()
    out["headline"] = flag == "true"
    for col in ("multiplier", "dv01_usd_per_bp"):
        values = pd.to_numeric(table[col].replace("", np.nan), errors="coerce")
        bad = values.isna() & (table[col] != "")
        if bad.any():
            raise InputError(
                source,
                col,
                f"not a number on line {lines[np.flatnonzero(bad)[0]]}: {table[col][bad].iloc[0]!r}",
            )
        out[col] = values.to_numpy(dtype=float)
    bad = ~(out["multiplier"] > 0)
    if bad.any():
        raise InputError(
            source,
            "multiplier",
            f"must be a positive number of USD per point (line {lines[np.flatnonzero(bad)[0]]})",
        )
    rates = (out["group"] == "rates").to_numpy()
    no_dv01 = rates & out["dv01_usd_per_bp"].isna().to_numpy()
    if no_dv01.any():
        raise InputError(
            source,
            "dv01_usd_per_bp",
            f"blank for the rates market {out['symbol'].iloc[np.flatnonzero(no_dv01)[0]]} (line {lines[np.flatnonzero(no_dv01)[0]]}): the DV01 figures need it",
        )
    check_range(
        out["dv01_usd_per_bp"].to_numpy(dtype=float),
        "futures.contract_dv01",
        source,
        rows=lambda i: f"line {lines[i]} ({out['symbol'].iloc[i]})",
        field="dv01_usd_per_bp",
    )
    first = pd.to_datetime(
        table["first_report"].replace("", None), format="%Y-%m-%d", errors="coerce"
    )
    bad = (table["first_report"] != "").to_numpy() & first.isna().to_numpy()
    if bad.any():
        raise InputError(
            source,
            "first_report",
            f"not a date YYYY-MM-DD on line {lines[np.flatnonzero(bad)[0]]}: {table['first_report'][bad].iloc[0]!r}",
        )
    out["first_report"] = first.to_numpy(dtype="datetime64[ns]")
    out["line"] = lines
    return out.reset_index(drop=True)


_STR = pd.StringDtype("pyarrow", na_value=np.nan)
"""pandas' default text dtype (``str``): what the exact path's text columns hold."""
_TYPED = ("headline", "multiplier", "dv01_usd_per_bp", "first_report")


def _parse_fast(text: str, source: str) -> pd.DataFrame | None:
    """The table of a well-formed file in one pass, or None: the exact path then decides.

    Taken when the text is printable ASCII (:func:`flows.sources.columnar.plain_ascii`) with
    well-formed quoting (Python's strict reader, which pandas' tokenizer reads alike), every
    record holds the header's number of fields, no cell holds a line break, the header's names
    are distinct and every check of :func:`parse` passes on values written plainly (decimals
    and ``YYYY-MM-DD`` dates: :func:`~flows.sources.columnar.small_decimals`,
    :func:`~flows.sources.columnar.small_iso_days`).  The result is then what
    :func:`_parse_exact` returns, dtypes included.
    """
    if not columnar.plain_ascii(text):
        return None
    try:
        records = list(
            csv.reader(io.StringIO(text, newline=""), skipinitialspace=True, strict=True)
        )
    except csv.Error:
        return None
    width = len(records[0]) if records else 0
    if len(records) < 2 or any(len(r) != width or "\n" in "".join(r) for r in records):
        return None  # blank lines, short or long rows, line breaks in a cell, no rows
    header = records[0]
    names = [h.strip() for h in header]
    if len(set(names)) != len(names) or len(set(header)) != len(header) or "" in names:
        return None
    if any(c not in names for c in COLUMNS):
        return None
    n = len(records) - 1
    # a few dozen rows: the cells as Python strings (one pyarrow call per check would cost
    # more than the check)
    cols = {
        name: [v.strip() for v in values]
        for name, values in zip(names, zip(*records[1:], strict=True), strict=True)
        if name in COLUMNS
    }
    flag = [v.lower() for v in cols["headline"]]
    if not (
        all("" not in cols[col] for col in REQUIRED)
        and all(CODE_RE.fullmatch(v) for v in cols["code"])
        and all(SYMBOL_RE.fullmatch(v) for v in cols["symbol"])
        and len(set(cols["code"])) == n
        and len(set(cols["symbol"])) == n
        and set(cols["group"]) <= set(GROUPS)
        and set(cols["kind"]) <= set(KINDS)
        and set(flag) <= {"true", "false"}
    ):
        return None
    multiplier = columnar.small_decimals(cols["multiplier"])
    dv01 = columnar.small_decimals(cols["dv01_usd_per_bp"])
    first = columnar.small_iso_days(cols["first_report"])
    if multiplier is None or dv01 is None or first is None or not (multiplier > 0).all():
        return None
    if np.isnan(dv01[np.array(cols["group"], dtype=object) == "rates"]).any():
        return None
    try:
        check_range(dv01, "futures.contract_dv01", source)
    except InputError:
        return None
    flat = pa.array(
        [v for c in COLUMNS if c not in _TYPED for v in cols[c]], type=pa.large_string()
    )
    out: dict[str, object] = {}
    at = 0
    for c in COLUMNS:
        if c not in _TYPED:
            out[c] = ArrowStringArray(flat.slice(at, n), dtype=_STR)
            at += n
    out["headline"] = np.array(flag, dtype=object) == "true"
    out["multiplier"] = multiplier
    out["dv01_usd_per_bp"] = dv01
    out["first_report"] = first.astype("datetime64[ns]")
    out["line"] = np.arange(n) + 2
    return pd.DataFrame({c: out[c] for c in (*COLUMNS, "line")}, index=pd.RangeIndex(n), copy=False)


def _match(
    table: pd.DataFrame,
    col: str,
    pattern: re.Pattern[str],
    lines: np.ndarray,
    source: str,
    what: str,
) -> None:
    ok = table[col].str.fullmatch(pattern.pattern).to_numpy(dtype=bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(source, col, f"{table[col].iloc[i]!r} on line {lines[i]} is not {what}")


def load(path: str | Path | None = None) -> pd.DataFrame:
    """Read and parse the table at ``path`` (default: the shipped one).

    Read once per process and file version: the parsed table is cached by (path, modification
    time, size), so an edited file is read again; each call returns its own copy.
    """
    query = build_query(path)
    try:
        stat = query.stat()
    except OSError:
        return parse(fetch(query), str(query))  # fetch names the file in its InputError
    return _load_cached(str(query), stat.st_mtime_ns, stat.st_size).copy()


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """The parsed table of one file version (``mtime_ns`` and ``size`` are the cache key)."""
    return parse(fetch(Path(path)), path)
