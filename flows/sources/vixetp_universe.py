"""The VIX futures ETP universe with its leverage history (``flows/data/vix_etp_universe.csv``).

Curated, shipped with the package: one row per fund **and leverage period**::

    ticker,name,issuer,index,leverage,valid_from,valid_to,sample_aum_usd,note
    UVXY,ProShares Ultra VIX Short-Term Futures ETF,ProShares,short_term,2,2011-10-04,2018-02-27,,...
    UVXY,ProShares Ultra VIX Short-Term Futures ETF,ProShares,short_term,1.5,2018-02-28,,900000000,...

* ``index``: ``short_term`` (S&P 500 VIX Short-Term Futures Index: first and second month) or
  ``mid_term`` (Mid-Term Futures Index: fourth to seventh month); see :mod:`flows.vixetp`.
* ``leverage``: signed daily leverage applied to the returns of sessions ``valid_from`` ..
  ``valid_to`` (both inclusive; blank ``valid_to`` = still current).  The change of UVXY (2x to
  1.5x) and SVXY (-1x to -0.5x) took effect with the return of 2018-02-28: the funds re-levered
  at the close of 2018-02-27.
* ``sample_aum_usd``: typical assets used in **sample mode only** (labelled SAMPLE), blank for
  funds that no longer trade.  ``note``: where the dates come from.

Three steps as every source: :func:`build_query` (the path), :func:`fetch` (read bytes),
:func:`parse` (pure).  A malformed file raises :class:`flows.errors.InputError` naming the file,
line and column; overlapping periods of one ticker are refused.  A well-formed file is read
at once (:func:`_parse_fast`); the checks run one by one, naming the first problem, for any
other.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.core.arrays.string_arrow import ArrowStringArray

from flows.errors import InputError
from flows.limits import check_range
from flows.sources import columnar
from flows.sources.contract import read_file
from flows.sources.price_frame import read_rows
from flows.sources.textio import decode_text

SHIPPED = "vix_etp_universe.csv"
INDICES = ("short_term", "mid_term")
REQUIRED = ("ticker", "index", "leverage", "valid_from")
COLUMNS = [
    "ticker",
    "name",
    "issuer",
    "index",
    "leverage",
    "valid_from",
    "valid_to",
    "sample_aum_usd",
    "note",
    "line",
]


def shipped_path() -> Path:
    """Path of the curated universe shipped as package data."""
    return Path(str(resources.files("flows").joinpath("data", SHIPPED)))


def build_query(path: str | Path | None = None) -> Path:
    return Path(path) if path else shipped_path()


def fetch(query: Path) -> bytes:
    """The file's bytes (the only I/O): :func:`flows.sources.contract.read_file`."""
    return read_file(query)


def parse(raw: bytes, source: str) -> pd.DataFrame:
    """Parse the universe (pure): :data:`COLUMNS`, ``valid_to`` NaT when open-ended."""
    text = decode_text(raw, source).text
    header, rows, lines, _ = read_rows(text, source)
    header = [h.lower() for h in header]
    for col in REQUIRED:
        if col not in header:
            raise InputError(
                source,
                f"line 1, column '{col}'",
                f"required column missing (header: {', '.join(header)})",
            )
    for col in COLUMNS[:-1]:
        if header.count(col) > 1:
            raise InputError(
                source,
                f"line 1, column '{col}'",
                "column named twice in the header: which one holds the values cannot be told",
            )
    fast = _parse_fast(text, header, rows, lines, source)
    if fast is not None:
        return fast
    t = pd.DataFrame(rows, columns=header, dtype=str).apply(lambda s: s.str.strip())
    for col in ("name", "issuer", "valid_to", "sample_aum_usd", "note"):
        if col not in t:
            t[col] = ""

    def fail(mask: np.ndarray, col: str, what: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise InputError(
                source, f"line {lines[i]}, column '{col}'", f"{what}: {t[col].iloc[i]!r}"
            )

    fail(t["ticker"].eq("").to_numpy(), "ticker", "blank ticker")
    fail(
        ~t["index"].isin(INDICES).to_numpy(), "index", f"index must be one of {', '.join(INDICES)}"
    )
    lev = pd.to_numeric(t["leverage"].str.removesuffix("x"), errors="coerce")
    fail((lev.isna() | lev.eq(0)).to_numpy(), "leverage", "leverage must be a non-zero number")
    check_range(
        lev.to_numpy(),
        "vixetp.leverage",
        source,
        rows=lambda i: f"line {lines[i]}",
        field="leverage",
    )
    start = pd.to_datetime(t["valid_from"], format="%Y-%m-%d", errors="coerce")
    fail(start.isna().to_numpy(), "valid_from", "not a date YYYY-MM-DD")
    end = pd.to_datetime(
        t["valid_to"].where(t["valid_to"].ne("")), format="%Y-%m-%d", errors="coerce"
    )
    fail((t["valid_to"].ne("") & end.isna()).to_numpy(), "valid_to", "not a date YYYY-MM-DD")
    fail((end < start).to_numpy(), "valid_to", "before valid_from")
    aum = pd.to_numeric(t["sample_aum_usd"].where(t["sample_aum_usd"].ne("")), errors="coerce")
    fail((t["sample_aum_usd"].ne("") & aum.isna()).to_numpy(), "sample_aum_usd", "not a number")
    check_range(
        aum.to_numpy(),
        "vixetp.aum_usd",
        source,
        rows=lambda i: f"line {lines[i]}",
        field="sample_aum_usd",
    )
    out = pd.DataFrame(
        {
            "ticker": t["ticker"].str.upper(),
            "name": t["name"],
            "issuer": t["issuer"],
            "index": t["index"],
            "leverage": lev.astype(float),
            "valid_from": start,
            "valid_to": end,
            "sample_aum_usd": aum.astype(float),
            "note": t["note"],
            "line": lines,
        }
    ).sort_values(["ticker", "valid_from"], kind="stable")
    same = out["ticker"].eq(out["ticker"].shift())
    prev_end = out["valid_to"].shift()
    overlap = same & (prev_end.isna() | (out["valid_from"] <= prev_end))
    if overlap.any():
        row = out[overlap].iloc[0]
        raise InputError(
            source,
            f"line {row['line']}, column 'valid_from'",
            f"{row['ticker']}: period starting {row['valid_from'].date()} overlaps the previous one",
        )
    return out.reset_index(drop=True)[COLUMNS]


_STR = pd.StringDtype("pyarrow", na_value=np.nan)
"""pandas' default text dtype (``str``): what the checked path's text columns hold."""
_TEXT = ("ticker", "name", "issuer", "index", "note")


def _parse_fast(
    text: str, header: list[str], rows: list[list[str]], lines: np.ndarray, source: str
) -> pd.DataFrame | None:
    """The universe of a well-formed file read at once, or None: the checks of :func:`parse`
    then run one by one and name the first problem.

    Taken when the text is printable ASCII (:func:`flows.sources.columnar.plain_ascii`), the
    header's names are distinct, every value is written plainly (decimals, ``YYYY-MM-DD``
    dates: :func:`~flows.sources.columnar.small_decimals`,
    :func:`~flows.sources.columnar.small_iso_days`), some period has an end (the dtype of an
    all-blank ``valid_to`` is pandas' to pick) and every check passes; the result is then the
    checked path's, dtypes included.
    """
    if not columnar.plain_ascii(text) or len(set(header)) != len(header):
        return None
    n = len(rows)
    # a dozen rows: the cells as Python strings (a pyarrow call per check costs more)
    cols = {
        name: [v.strip() for v in values]
        for name, values in zip(header, zip(*rows, strict=True), strict=True)
    }
    for col in ("name", "issuer", "valid_to", "sample_aum_usd", "note"):
        cols.setdefault(col, [""] * n)
    if "" in cols["ticker"] or not set(cols["index"]) <= set(INDICES):
        return None
    lev = columnar.small_decimals([v.removesuffix("x") for v in cols["leverage"]])
    start = columnar.small_iso_days(cols["valid_from"])
    end = columnar.small_iso_days(cols["valid_to"])
    aum = columnar.small_decimals(cols["sample_aum_usd"])
    if lev is None or start is None or end is None or aum is None:
        return None
    if np.isnan(lev).any() or (lev == 0).any() or np.isnat(start).any() or np.isnat(end).all():
        return None  # an all-blank valid_to: pandas picks the dtype of an all-missing column
    if (end < start).any():
        return None
    try:
        check_range(lev, "vixetp.leverage", source)
        check_range(aum, "vixetp.aum_usd", source)
    except InputError:
        return None
    ticker = np.array([v.upper() for v in cols["ticker"]])
    order = np.lexsort((start, ticker))  # by ticker, then start; stable
    ticker, start, end = ticker[order], start[order], end[order]
    same = np.r_[False, ticker[1:] == ticker[:-1]]
    prev_end = np.r_[np.datetime64("NaT"), end[:-1]]
    if (same & (np.isnat(prev_end) | (start <= prev_end))).any():
        return None  # overlapping periods: named by the checked path
    at = order.tolist()
    text_cols = {"ticker": ticker.tolist()} | {c: [cols[c][i] for i in at] for c in _TEXT[1:]}
    flat = pa.array([v for values in text_cols.values() for v in values], type=pa.large_string())
    strings = {
        c: ArrowStringArray(flat.slice(k * n, n), dtype=_STR) for k, c in enumerate(text_cols)
    }
    out = pd.DataFrame(
        {
            "ticker": strings["ticker"],
            "name": strings["name"],
            "issuer": strings["issuer"],
            "index": strings["index"],
            "leverage": lev[order],
            "valid_from": start.astype("datetime64[us]"),
            "valid_to": end.astype("datetime64[us]"),
            "sample_aum_usd": aum[order],
            "note": strings["note"],
            "line": np.asarray(lines, dtype=np.int64)[order],
        },
        index=pd.RangeIndex(n),
        copy=False,
    )
    return out


def read(path: str | Path | None = None) -> pd.DataFrame:
    """Read and parse the universe at ``path`` (default: the shipped one).

    Read once per process and file version: the parsed table is cached by (path, modification
    time, size), so an edited file is read again; each call returns its own copy.
    """
    query = build_query(path)
    try:
        stat = query.stat()
    except OSError:
        return parse(fetch(query), str(query))  # fetch names the file in its InputError
    return _read_cached(str(query), stat.st_mtime_ns, stat.st_size).copy()


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """The parsed universe of one file version (``mtime_ns`` and ``size`` are the cache key)."""
    return parse(fetch(Path(path)), path)
