"""Leveraged/inverse ETF universe files: the public dataset layout and the shipped curated table.

Two layouts are read:

* **dataset** (``../shared/data/letf/``, scraped from leveragedposition.com): ``ticker, name,
  underlying_asset, underlying_ticker, leverage, direction, fund_type, price, avg_volume, aum,
  fund_family, asset_class, updated_at, ...``.  ``leverage`` is text (``3x``, ``1.25x``,
  ``variable``), ``direction`` is ``long``/``short`` (signed L = +lev / -lev), ``aum`` is USD
  (not thousands).  Quirks handled: UTF-8 BOM before the header; ``weekly_returns`` only from the
  April 2026 files on (extra columns are ignored); ``underlying_ticker`` blank for many index and
  sector funds (mapped to a proxy later, :func:`flows.letf.map_underlyings`); ``direction`` or
  ``leverage`` blank for defined-outcome, active and other non-daily funds; ``aum``, ``price`` and
  ``avg_volume`` all blank for funds the site has no market data for (new or closed funds).
* **curated** (``flows/data/letf_universe.csv``, shipped): ``ticker, name, underlying, leverage``
  (already signed), ``issuer, fund_type, asset_class, sample_aum_usd`` (typical assets, SAMPLE
  values only, never used as live data); an ``aum_usd`` column, when present, is live assets.

Three steps as every source: :func:`build_query` (the path), :func:`fetch` (read bytes; the only
I/O besides the shipped tables), :func:`parse` (pure given the reset table).  :func:`parse`
returns a :class:`Universe`: ``funds`` in the :data:`flows.schema.LETF_COLUMNS` layout plus
``leverage_kind`` (``fixed``/``variable``), ``sample_aum_usd``, ``line`` (source line), ``as_of``
(``updated_at``), ``reset_source``, ``reset_evidence`` (:mod:`flows.letf_reset`) and ``defect``;
``skipped`` (``ticker, line, reason, aum_usd, counted``); and ``quality``
(:class:`flows.quality.Quality`, basis AUM).

Decoding, duplicates, limits
----------------------------
* Text is decoded by :func:`flows.sources.textio.decode_text` (gzip, byte-order marks, UTF-8, then
  cp1252, then Latin-1; a non-UTF-8 file is recorded as a repair).
* A ticker listed twice with **identical** rows: the copy is dropped (repair).  Listed twice with
  **different** values: :class:`InputError` naming the ticker and both lines (no row may silently
  win).
* Plausibility (:data:`flows.limits.LIMITS`): ``|L| <= 5`` (``letf.leverage``), assets in
  ``letf.aum_usd`` (negative assets are refused, not skipped), price in ``letf.price_usd``
  (> 0), average volume in ``letf.avg_volume`` (>= 0).  A violation is an :class:`InputError`
  naming the file, the line and the column.
* A header without fund rows is an :class:`InputError` ("empty universe"), never a $0 total.

Rows that cannot be used, and what they cost (the skipped share)
----------------------------------------------------------------
A row has a **defect** when a cell the figures need is blank or unreadable (``-``, ``NaN``,
text where a number belongs): ticker, leverage, direction, assets (blank while the row has a
price or a volume), underlying (ticker and name both blank), asset class, or the name when the
reset period then cannot be determined.  What happens to it depends on its reset period
(:mod:`flows.letf_reset`):

* a **daily-reset** fund (or one whose reset is unknown because its name or family cell is
  unreadable) is **skipped**: it belongs in the daily figures and cannot enter them, so its
  assets count toward ``quality.skipped_share`` (assets themselves unreadable: the conservative
  row share of :mod:`flows.quality`);
* a fund excluded from the daily figures anyway (weekly / monthly / quarterly / options-based /
  unknown reset) is **kept** with the bad cell as NaN and the defect named in ``defect``; it is
  listed as excluded for its reset period with its assets, and costs the daily figures nothing.

A row whose ``aum``, ``price`` and ``avg_volume`` are all blank (or unreadable) is the source
saying it has no market data for the fund: kept, excluded downstream as "unknown assets", not a defect.  A file
that does not end with a line break gets a warning (its last row may have been cut off).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from flows import letf_reset
from flows.errors import InputError
from flows.limits import check_range
from flows.quality import Quality
from flows.schema import LETF_COLUMNS
from flows.sources import columnar
from flows.sources.contract import read_file
from flows.sources.textio import decode_text

DATASET_REQUIRED = [
    "ticker",
    "underlying_asset",
    "underlying_ticker",
    "leverage",
    "direction",
    "aum",
]
CURATED_REQUIRED = ["ticker", "underlying", "leverage"]
SKIPPED_COLUMNS = ["ticker", "line", "reason", "aum_usd", "counted"]
SHIPPED = "letf_universe.csv"
RESET_TABLE = "letf_reset.csv"
EXTRA_COLUMNS = [
    "leverage_kind",
    "sample_aum_usd",
    "line",
    "as_of",
    "reset_source",
    "reset_evidence",
    "defect",
]


class Universe(NamedTuple):
    """A parsed universe: usable ``funds``, ``skipped`` rows and the input ``quality``."""

    funds: pd.DataFrame
    skipped: pd.DataFrame
    quality: Quality


def shipped_path() -> Path:
    """Path of the curated universe shipped as package data (``flows/data/letf_universe.csv``)."""
    return Path(str(resources.files("flows").joinpath("data", SHIPPED)))


def reset_table_path() -> Path:
    """Path of the curated reset table shipped as package data (``flows/data/letf_reset.csv``)."""
    return Path(str(resources.files("flows").joinpath("data", RESET_TABLE)))


@functools.lru_cache(maxsize=4)
def _reset_table_cached(path: str) -> pd.DataFrame:
    text = decode_text(fetch(Path(path)), path).text
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(path, None, f"malformed CSV: {exc}") from None
    return letf_reset.validate_reset_table(table, path)


def reset_table(path: str | Path | None = None) -> pd.DataFrame:
    """The curated reset table (``ticker, reset, evidence``; :mod:`flows.letf_reset`), checked.

    ``path`` defaults to the shipped ``flows/data/letf_reset.csv``; read once per process.
    """
    return _reset_table_cached(str(path or reset_table_path())).copy()


_shipped_reset_table = reset_table  # ``parse`` has a parameter of the same name


def build_query(path: str | Path | None = None) -> Path:
    """The file to read: ``path`` or the shipped curated universe."""
    return Path(path) if path else shipped_path()


def fetch(query: Path) -> bytes:
    """The file's bytes (the only I/O): :func:`flows.sources.contract.read_file`."""
    return read_file(query)


def _rows(text: str, source: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and the line number each row starts on; refuses malformed text
    (:func:`flows.sources.columnar.strict_rows`, byte-order marks stripped from the header)."""
    if not text.strip():
        raise InputError(source, "line 1", "empty file (expected a header row)")
    header, rows, lines, _ = columnar.strict_rows(text, source, strip_bom=True)
    return header, rows, lines


def _require(header: list[str], required: list[str], source: str) -> None:
    for name in required:
        if name not in header:
            raise InputError(
                source,
                f"line 1, column '{name}'",
                f"required column missing (header: {', '.join(header[:25])})",
            )


def parse(
    raw: bytes,
    source: str,
    *,
    reset_table: pd.DataFrame | None = None,
    reset_overrides: Mapping[str, str] | None = None,
) -> Universe:
    """Parse a universe file of either layout (see the module docstring).

    ``reset_table`` is the curated reset table (default: the shipped one, :func:`reset_table`;
    an empty frame = name and family rules only); ``reset_overrides`` maps tickers to a reset
    class and wins over both.  ``funds.aum_usd`` is USD (NaN when not given); ``leverage`` is
    signed (NaN for ``variable`` and for kept rows whose leverage is unreadable).

    Raises :class:`InputError` (file, line, column) for malformed CSV, a missing column, an
    empty universe, a ticker listed twice with different values, or a value outside its
    plausibility limit.
    """
    decoded = decode_text(raw, source)
    text = decoded.text
    header, rows, lines = _rows(text, source)
    if not rows:
        raise InputError(source, "line 2", "empty universe: the file has a header but no fund rows")
    if "direction" in header:
        _require(header, DATASET_REQUIRED, source)
        layout = "dataset"
    elif "underlying" in header:
        _require(header, CURATED_REQUIRED, source)
        layout = "curated"
    else:
        raise InputError(
            source,
            "line 1",
            "unknown layout: expected the dataset columns (ticker, underlying_ticker, leverage, direction, aum, ...) or the curated ones (ticker, underlying, leverage, ...)",
        )
    quality = Quality(source=source, basis="AUM", total_rows=len(rows))
    decoded.note(quality, len(rows))
    raw_frame = pd.DataFrame(rows, columns=header, dtype=str)
    raw_frame["__line"] = np.asarray(lines, dtype="int64")
    raw_frame = _drop_exact_duplicates(raw_frame, header, source, quality)
    fields = _dataset_fields(raw_frame) if layout == "dataset" else _curated_fields(raw_frame)
    numbers = _check_limits(fields, source, layout)
    table = reset_table if reset_table is not None else _shipped_reset_table()
    universe = _finish(fields, numbers, table, reset_overrides, quality)
    if not text.endswith(("\n", "\r")):
        ticker = str(raw_frame["ticker"].iloc[-1]).strip()
        quality.warn(
            f"no line break at the end of the file: its last row (line {int(raw_frame['__line'].iloc[-1])}, ticker {ticker or '?'}) may be cut off"
        )
    if universe.funds.empty:
        raise InputError(
            source,
            None,
            f"empty universe: none of the {len(rows)} rows can be used ({quality.summary()})",
        )
    return universe


def read(
    path: str | Path | None = None, **kwargs: pd.DataFrame | Mapping[str, str] | None
) -> Universe:
    """``parse(fetch(build_query(path)), str(path))``: convenience for jobs and the CLI."""
    query = build_query(path)
    return parse(fetch(query), str(query), **kwargs)


# -- steps ------------------------------------------------------------------------------------
def _drop_exact_duplicates(
    frame: pd.DataFrame, header: list[str], source: str, quality: Quality
) -> pd.DataFrame:
    """Drop identical copies of a ticker's row (repair); refuse a ticker listed with different values."""
    ticker = frame["ticker"].fillna("").str.strip().str.upper()
    named = ticker.ne("") & ~letf_reset.unreadable_text(ticker)
    dup = named & ticker.duplicated(keep=False)
    if not dup.any():
        return frame
    values = frame[header].apply(lambda col: col.fillna("").str.strip())
    key = values.agg("\x1f".join, axis=1)
    for t in pd.unique(ticker[dup]):
        rows = frame.index[ticker.eq(t)]
        if key.loc[rows].nunique() > 1:
            first, other = rows[0], next(r for r in rows[1:] if key.loc[r] != key.loc[rows[0]])
            differ = [c for c in header if values.at[first, c] != values.at[other, c]]
            raise InputError(
                source,
                f"ticker {t}",
                f"listed twice with different values (lines {int(frame.at[first, '__line'])} and {int(frame.at[other, '__line'])} differ in {', '.join(differ[:6])}): which one is right cannot be told",
            )
    exact = named & ticker.duplicated(keep="first")
    quality.repair("exact duplicate row dropped", int(exact.sum()))
    return frame.loc[~exact].reset_index(drop=True)


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].fillna("").astype(str).str.strip()
    return pd.Series("", index=frame.index, dtype=str)


def _number(text: pd.Series) -> pd.Series:
    """Numbers from text (thousands commas removed); NaN where blank or unreadable."""
    return pd.to_numeric(text.str.replace(",", "", regex=False).where(text.ne("")), errors="coerce")


def _dataset_fields(raw: pd.DataFrame) -> pd.DataFrame:
    """Per row the typed fields of the dataset layout, and the text they came from."""
    lev_text = _text(raw, "leverage").str.lower()
    magnitude = pd.to_numeric(
        lev_text.str.removesuffix("x").where(lev_text.ne("")), errors="coerce"
    )
    direction = _text(raw, "direction").str.lower()
    sign = direction.map({"long": 1.0, "short": -1.0})
    asset_class = _text(raw, "asset_class").str.lower()
    return pd.DataFrame(
        {
            "ticker": _text(raw, "ticker").str.upper(),
            "name": _text(raw, "name"),
            "underlying": _text(raw, "underlying_ticker").str.upper(),
            "underlying_asset": _text(raw, "underlying_asset"),
            "lev_text": lev_text,
            "variable": lev_text.eq("variable"),
            "lev_ok": magnitude.gt(0) & sign.notna(),
            "leverage": magnitude * sign,
            "magnitude": magnitude,
            "direction": direction,
            "direction_ok": sign.notna(),
            "issuer": _text(raw, "fund_family"),
            "fund_type": _text(raw, "fund_type"),
            "asset_class": asset_class,
            "asset_class_ok": ~letf_reset.unreadable_text(asset_class),
            "aum_text": _text(raw, "aum"),
            "price_text": _text(raw, "price"),
            "volume_text": _text(raw, "avg_volume"),
            "aum_col": "aum",
            "sample_aum_usd": np.nan,
            "line": raw["__line"].to_numpy(dtype="int64"),
            "as_of": pd.to_datetime(
                _text(raw, "updated_at").where(lambda s: s.ne("")),
                utc=True,
                errors="coerce",
                format="ISO8601",
            ),
        }
    )


def _curated_fields(raw: pd.DataFrame) -> pd.DataFrame:
    """Per row the typed fields of the curated layout (signed leverage, no direction column)."""
    lev_text = _text(raw, "leverage").str.lower()
    lev = pd.to_numeric(lev_text.str.removesuffix("x").where(lev_text.ne("")), errors="coerce")
    aum_col = "aum_usd" if "aum_usd" in raw else "sample_aum_usd"  # live assets only from aum_usd
    asset_class = _text(raw, "asset_class").str.lower().replace("", "equity")
    return pd.DataFrame(
        {
            "ticker": _text(raw, "ticker").str.upper(),
            "name": _text(raw, "name"),
            "underlying": _text(raw, "underlying").str.upper(),
            "underlying_asset": _text(raw, "underlying_asset"),
            "lev_text": lev_text,
            "variable": lev_text.eq("variable"),
            "lev_ok": lev.notna() & lev.ne(0),
            "leverage": lev,
            "magnitude": lev.abs(),
            "direction": np.where(lev < 0, "short", "long"),
            "direction_ok": True,
            "issuer": _text(raw, "issuer"),
            "fund_type": _text(raw, "fund_type"),
            "asset_class": asset_class,
            "asset_class_ok": ~letf_reset.unreadable_text(asset_class),
            "aum_text": _text(raw, "aum_usd")
            if aum_col == "aum_usd"
            else pd.Series("", index=raw.index, dtype=str),
            "price_text": _text(raw, "price"),
            "volume_text": _text(raw, "avg_volume"),
            "aum_col": "aum_usd",
            "sample_aum_usd": _number(_text(raw, "sample_aum_usd")),
            "line": raw["__line"].to_numpy(dtype="int64"),
            "as_of": pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]"),
        }
    )


def _check_limits(fields: pd.DataFrame, source: str, layout: str) -> dict[str, pd.Series]:
    """Plausibility of every readable number (:data:`flows.limits.LIMITS`); InputError names the
    line.  Returns the numbers read (``aum``, ``price``, ``volume``; NaN where blank or unreadable)."""
    line = fields["line"].to_numpy()

    def lines(i: int) -> str:  # the label of a refused row only
        return f"line {int(line[i])}"

    check_range(
        fields["leverage"].where(fields["lev_ok"], fields["magnitude"]),
        "letf.leverage",
        source,
        rows=lines,
        field="leverage",
    )
    numbers = {
        "aum": _number(fields["aum_text"]),
        "price": _number(fields["price_text"]),
        "volume": _number(fields["volume_text"]),
    }
    check_range(
        numbers["aum"], "letf.aum_usd", source, rows=lines, field=str(fields["aum_col"].iloc[0])
    )
    if layout == "curated":
        check_range(
            fields["sample_aum_usd"], "letf.aum_usd", source, rows=lines, field="sample_aum_usd"
        )
    check_range(numbers["price"], "letf.price_usd", source, rows=lines, field="price")
    check_range(numbers["volume"], "letf.avg_volume", source, rows=lines, field="avg_volume")
    return numbers


def _finish(
    fields: pd.DataFrame,
    numbers: dict[str, pd.Series],
    table: pd.DataFrame,
    overrides: Mapping[str, str] | None,
    quality: Quality,
) -> Universe:
    """Reset class, defects, skipped rows and the skipped share (module docstring)."""
    reset = letf_reset.classify_reset(fields[["ticker", "name", "issuer"]], table, overrides)
    blank = letf_reset.unreadable_text
    aum = numbers["aum"]
    quality.total_weight = float(aum[aum >= 0].sum())
    blank_ticker, blank_name = blank(fields["ticker"]), blank(fields["name"])
    blank_underlying, blank_underlying_asset = (
        blank(fields["underlying"]),
        blank(fields["underlying_asset"]),
    )
    no_market_data = (
        blank(fields["aum_text"]) & blank(fields["price_text"]) & blank(fields["volume_text"])
    )
    name_or_family_lost = blank_name | blank(fields["issuer"])
    daily = reset["reset"].eq(letf_reset.DAILY)
    unknown = reset["reset"].eq(letf_reset.UNKNOWN)
    # A fund the source has no market data for carries no assets into any figure: not counted.
    eligible = (daily | (unknown & name_or_family_lost)) & ~no_market_data
    conditions = [
        blank_ticker,
        ~fields["variable"]
        & ~fields["lev_ok"]
        & ~(fields["magnitude"].gt(0) & ~fields["direction_ok"]),
        ~fields["direction_ok"],
        fields["aum_text"].ne("") & aum.isna(),
        fields["aum_text"].eq("") & ~no_market_data,
        blank_underlying & blank_underlying_asset,
        ~fields["asset_class_ok"],
        unknown & blank_name,
    ]
    keys = [
        "blank ticker",
        "leverage not readable",
        "direction not long/short",
        "assets not readable",
        "assets blank",
        "unknown underlying",
        "asset class not readable",
        "name not readable",
    ]
    conds = [np.asarray(c, dtype=bool) for c in conditions]
    first = np.select(conds, list(range(len(keys))), default=len(keys))
    defect_key = pd.Series(np.array([*keys, ""], dtype=object)[first], index=fields.index).astype(
        str
    )
    defect = pd.Series("", index=fields.index, dtype=object)
    bad_rows = np.flatnonzero(first < len(keys))
    if bad_rows.size:  # the messages quote the bad cell: built for the defective rows only
        sub = fields.iloc[bad_rows]
        choices = [
            "blank ticker",
            "leverage '" + sub["lev_text"] + "' is not a positive number",
            "direction '" + sub["direction"].astype(str) + "' is not long/short",
            "assets '" + sub["aum_text"] + "' is not a number",
            "assets blank while the row has a price or volume",
            "unknown underlying (underlying_ticker and underlying_asset blank)",
            "asset class '" + sub["asset_class"] + "' is not readable",
            "name not readable: reset period cannot be determined",
        ]
        at = first[bad_rows]
        defect.iloc[bad_rows] = np.select(
            [at == k for k in range(len(keys))],
            [c.to_numpy(dtype=object) if isinstance(c, pd.Series) else c for c in choices],
            default="",
        )
    defect = defect.astype(str)
    has_defect = defect.ne("")
    skip = has_defect & (eligible | blank_ticker)
    counted = has_defect & eligible
    for reason, grp in pd.DataFrame({"reason": defect_key[counted], "aum": aum[counted]}).groupby(
        "reason", sort=False
    ):
        known = grp["aum"].notna()
        if known.any():
            quality.skip(reason, int(known.sum()), float(grp.loc[known, "aum"].sum()))
        if (~known).any():
            quality.skip(reason, int((~known).sum()), None)
    skip_rows = np.flatnonzero(skip.to_numpy(dtype=bool))
    skipped = pd.DataFrame(
        {
            "ticker": fields["ticker"].iloc[skip_rows].astype(str),
            "line": fields["line"].iloc[skip_rows].astype("int64"),
            "reason": defect.iloc[skip_rows].astype(str),
            "aum_usd": aum.iloc[skip_rows].astype(float),
            "counted": counted.iloc[skip_rows].astype(bool),
        }
    ).reset_index(drop=True)
    keep = np.flatnonzero(~skip.to_numpy(dtype=bool))
    lev = fields["leverage"].where(fields["lev_ok"] & ~fields["variable"])
    funds = pd.DataFrame(
        {
            "ticker": fields["ticker"],
            "name": fields["name"],
            "underlying": fields["underlying"].where(~blank_underlying, ""),
            "underlying_asset": fields["underlying_asset"].where(~blank_underlying_asset, ""),
            "leverage": lev,
            "issuer": fields["issuer"],
            "fund_type": fields["fund_type"],
            "asset_class": fields["asset_class"].where(fields["asset_class_ok"], ""),
            "aum_usd": aum,
            "price": numbers["price"],
            "avg_volume": numbers["volume"],
            "reset": reset["reset"],
            "leverage_kind": np.where(fields["variable"], "variable", "fixed"),
            "sample_aum_usd": fields["sample_aum_usd"],
            "line": fields["line"],
            "as_of": fields["as_of"],
            "reset_source": reset["reset_source"],
            "reset_evidence": reset["reset_evidence"],
            "defect": defect,
        }
    )
    funds["leverage_kind"] = funds["leverage_kind"].astype(str)
    funds = funds[[*LETF_COLUMNS, *EXTRA_COLUMNS]]
    if keep.size < len(funds):
        funds = funds.iloc[keep]
    funds = funds.reset_index(drop=True)
    return Universe(funds, skipped[SKIPPED_COLUMNS], quality)
