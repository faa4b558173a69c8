"""Leveraged/inverse ETF universe files: the public dataset layout and the shipped curated table.

Two layouts are read:

* **dataset** (``../shared/data/letf/``, scraped from leveragedposition.com): ``ticker, name,
  underlying_asset, underlying_ticker, leverage, direction, fund_type, price, avg_volume, aum,
  fund_family, asset_class, updated_at, ...``.  ``leverage`` is text (``3x``, ``1.25x``,
  ``variable``), ``direction`` is ``long``/``short`` (signed L = +lev / -lev), ``aum`` is USD
  (not thousands).  Quirks handled: UTF-8 BOM before the header; ``weekly_returns`` only from the
  April 2026 files on (extra columns are ignored); ``underlying_ticker`` blank for many index and
  sector funds (mapped to a proxy later, :func:`flows.letf.map_underlyings`); ``direction`` blank
  for some undisclosed funds; a ticker listed twice (the later rows are skipped).
* **curated** (``flows/data/letf_universe.csv``, shipped): ``ticker, name, underlying, leverage``
  (already signed), ``issuer, fund_type, asset_class, sample_aum_usd`` (typical assets, SAMPLE
  values only, never used as live data).

Three steps as every source: :func:`build_query` (the path), :func:`fetch` (read bytes; the only
I/O), :func:`parse` (pure).  :func:`parse` returns ``(universe, skipped)``: the universe in the
:data:`flows.schema.LETF_COLUMNS` layout plus ``leverage_kind`` (``fixed``/``variable``),
``sample_aum_usd`` (curated layout only: typical assets, SAMPLE), ``line`` (source line) and
``as_of`` (``updated_at``), and ``skipped`` with ``ticker, line,
reason`` for rows that cannot be used:

* leverage text that is not a number (``variable`` is *kept*, with NaN leverage, and excluded by
  the analytics with its own reason);
* direction not ``long``/``short``;
* negative assets (a number that is not a number is also a skip);
* unknown underlying: both ``underlying_ticker`` and ``underlying_asset`` blank (nothing to map);
* blank or duplicate ticker.

A malformed file (not UTF-8, no header, a required column missing, a row with the wrong number
of fields) raises :class:`flows.errors.InputError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from flows.errors import InputError
from flows.schema import LETF_COLUMNS

DATASET_REQUIRED = ["ticker", "underlying_asset", "underlying_ticker", "leverage", "direction", "aum"]
CURATED_REQUIRED = ["ticker", "underlying", "leverage"]
SKIPPED_COLUMNS = ["ticker", "line", "reason"]
SHIPPED = "letf_universe.csv"


def shipped_path() -> Path:
    """Path of the curated universe shipped as package data (``flows/data/letf_universe.csv``)."""
    return Path(str(resources.files("flows").joinpath("data", SHIPPED)))


def build_query(path: str | Path | None = None) -> Path:
    """The file to read: ``path`` or the shipped curated universe."""
    return Path(path) if path else shipped_path()


def fetch(query: Path) -> bytes:
    """Read the file's bytes (the only I/O).  A missing file is an :class:`InputError`."""
    try:
        return query.read_bytes()
    except OSError as exc:
        raise InputError(str(query), None, f"cannot read the file: {exc.strerror or exc}") from None


def _rows(raw: bytes, source: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and the line number each row starts on; refuses malformed text."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(source, f"line {line}", f"not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InputError(source, "line 1", "empty file (expected a header row)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    header: list[str] = []
    start = 1
    try:
        for record in reader:
            if not header:
                header = [h.strip() for h in record]
                start = reader.line_num + 1
                continue
            if not record or all(not f.strip() for f in record):
                start = reader.line_num + 1
                continue
            if len(record) != len(header):
                col = min(len(record), len(header)) + 1
                raise InputError(source, f"line {start}, column {col}", f"row has {len(record)} fields, the header has {len(header)}")
            rows.append(record)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, f"line {reader.line_num}", f"malformed CSV: {exc}") from None
    return header, rows, lines


def _require(header: list[str], required: list[str], source: str) -> None:
    for name in required:
        if name not in header:
            raise InputError(source, f"line 1, column '{name}'", f"required column missing (header: {', '.join(header[:25])})")


def parse(raw: bytes, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse a universe file of either layout (see the module docstring).  Pure.

    Returns ``(universe, skipped)``.  ``universe.aum_usd`` is USD (NaN when blank);
    ``leverage`` is signed (NaN for ``variable``).
    """
    header, rows, lines = _rows(raw, source)
    if "direction" in header:
        _require(header, DATASET_REQUIRED, source)
        return _parse_dataset(header, rows, lines, source)
    if "underlying" in header:
        _require(header, CURATED_REQUIRED, source)
        return _parse_curated(header, rows, lines, source)
    raise InputError(source, "line 1", "unknown layout: expected the dataset columns (ticker, underlying_ticker, leverage, direction, aum, ...) or the curated ones (ticker, underlying, leverage, ...)")


def read(path: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``parse(fetch(build_query(path)), str(path))``: convenience for jobs and the CLI."""
    query = build_query(path)
    return parse(fetch(query), str(query))


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].fillna("").astype(str).str.strip()
    return pd.Series("", index=frame.index, dtype=str)


def _number(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.str.replace(",", "", regex=False).where(text.ne("")), errors="coerce")


def _first_reason(conditions: list[pd.Series], choices: list[str | pd.Series], index: pd.Index) -> pd.Series:
    """Per row the reason of the first true condition, ``""`` where none holds (row kept).

    A choice is a fixed text or a per-row text Series (e.g. quoting the bad cell).
    """
    texts = [c.to_numpy(dtype=object) if isinstance(c, pd.Series) else c for c in choices]
    return pd.Series(np.select(conditions, texts, default=""), index=index).astype(str)


def _finish(frame: pd.DataFrame, reasons: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows with a reason into ``skipped``; drop later duplicates of a ticker."""
    first_line = frame.groupby("ticker")["line"].transform("min")
    dup = frame["ticker"].ne("") & frame["ticker"].duplicated(keep="first")
    reasons = reasons.where(~(reasons.eq("") & dup), "duplicate ticker (first listed on line " + first_line.astype(str) + ")")
    bad = reasons.ne("")
    skipped = pd.DataFrame({"ticker": frame.loc[bad, "ticker"].astype(str), "line": frame.loc[bad, "line"].astype("int64"), "reason": reasons[bad].astype(str)}).reset_index(drop=True)
    good = frame.loc[~bad].reset_index(drop=True)
    cols = [*LETF_COLUMNS, "leverage_kind", "sample_aum_usd", "line", "as_of"]
    return good[cols], skipped


def _parse_dataset(header: list[str], rows: list[list[str]], lines: list[int], source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.DataFrame(rows, columns=header, dtype=str)
    ticker = _col(raw, "ticker").str.upper()
    lev_text = _col(raw, "leverage").str.lower()
    direction = _col(raw, "direction").str.lower()
    aum_text = _col(raw, "aum")
    magnitude = pd.to_numeric(lev_text.str.removesuffix("x").where(lev_text.ne("")), errors="coerce")
    variable = lev_text.eq("variable")
    sign = direction.map({"long": 1.0, "short": -1.0})
    aum = _number(aum_text)
    under_t = _col(raw, "underlying_ticker").str.upper()
    under_a = _col(raw, "underlying_asset")
    conditions = [
        ticker.eq(""),
        ~variable & (magnitude.isna() | magnitude.le(0)),
        sign.isna(),
        aum_text.ne("") & aum.isna(),
        aum.lt(0),
        under_t.eq("") & under_a.eq(""),
    ]
    choices = [
        "blank ticker",
        "leverage '" + lev_text + "' is not a number",
        "direction '" + direction + "' is not long/short",
        "assets '" + aum_text + "' is not a number",
        "negative assets (" + aum_text + ")",
        "unknown underlying (underlying_ticker and underlying_asset blank)",
    ]
    reasons = _first_reason(conditions, choices, raw.index)
    frame = pd.DataFrame(
        {
            "ticker": ticker,
            "name": _col(raw, "name"),
            "underlying": under_t,
            "underlying_asset": under_a,
            "leverage": (magnitude * sign).where(~variable),
            "issuer": _col(raw, "fund_family"),
            "fund_type": _col(raw, "fund_type"),
            "asset_class": _col(raw, "asset_class").str.lower(),
            "aum_usd": aum,
            "price": _number(_col(raw, "price")),
            "avg_volume": _number(_col(raw, "avg_volume")),
            "leverage_kind": np.where(variable, "variable", "fixed"),
            "sample_aum_usd": np.nan,
            "line": np.asarray(lines, dtype="int64"),
            "as_of": pd.to_datetime(_col(raw, "updated_at").where(lambda s: s.ne("")), utc=True, errors="coerce", format="ISO8601"),
        }
    )
    frame["leverage_kind"] = frame["leverage_kind"].astype(str)
    return _finish(frame, reasons)


def _parse_curated(header: list[str], rows: list[list[str]], lines: list[int], source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.DataFrame(rows, columns=header, dtype=str)
    ticker = _col(raw, "ticker").str.upper()
    lev_text = _col(raw, "leverage").str.lower().str.removesuffix("x")
    variable = lev_text.eq("variable")
    lev = pd.to_numeric(lev_text.where(lev_text.ne("")), errors="coerce")
    # Live assets only from an ``aum_usd`` column; ``sample_aum_usd`` is kept apart (SAMPLE).
    aum_col = "aum_usd" if "aum_usd" in raw else "sample_aum_usd"
    aum_text = _col(raw, aum_col)
    aum = _number(aum_text)
    under = _col(raw, "underlying").str.upper()
    conditions = [ticker.eq(""), ~variable & (lev.isna() | lev.eq(0)), aum_text.ne("") & aum.isna(), aum.lt(0), under.eq("") & _col(raw, "underlying_asset").eq("")]
    choices = [
        "blank ticker",
        "leverage '" + lev_text + "' is not a number",
        aum_col + " '" + aum_text + "' is not a number",
        "negative assets (" + aum_text + ")",
        "unknown underlying (blank)",
    ]
    reasons = _first_reason(conditions, choices, raw.index)
    frame = pd.DataFrame(
        {
            "ticker": ticker,
            "name": _col(raw, "name"),
            "underlying": under,
            "underlying_asset": _col(raw, "underlying_asset"),
            "leverage": lev.where(~variable),
            "issuer": _col(raw, "issuer"),
            "fund_type": _col(raw, "fund_type"),
            "asset_class": _col(raw, "asset_class").str.lower().replace("", "equity"),
            "aum_usd": aum if aum_col == "aum_usd" else np.nan,
            "price": _number(_col(raw, "price")),
            "avg_volume": _number(_col(raw, "avg_volume")),
            "leverage_kind": np.where(variable, "variable", "fixed"),
            "sample_aum_usd": _number(_col(raw, "sample_aum_usd")),
            "line": np.asarray(lines, dtype="int64"),
            "as_of": pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]"),
        }
    )
    frame["leverage_kind"] = frame["leverage_kind"].astype(str)
    return _finish(frame, reasons)
