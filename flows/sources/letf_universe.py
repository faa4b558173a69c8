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

Speed: a well-formed dataset snapshot (one record per line, every row with its own ticker,
numbers within their limits) is read in one ``pyarrow.csv`` pass and checked column-wise
(:func:`_parse_fast`); any other file goes through the exact path, which reads row by row
where needed and names what is wrong.  Both end in :func:`_finish_rows` and give the same
frames and quality.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pandas.api.internals import create_dataframe_from_blocks
from pandas.core.arrays.string_arrow import ArrowStringArray

from flows import letf_reset
from flows.errors import InputError
from flows.limits import check_range
from flows.quality import EXAMPLES, Quality
from flows.schema import LETF_COLUMNS
from flows.sources import columnar
from flows.sources.contract import read_file
from flows.sources.textio import GZIP_MAGIC, Decoded, decode_text

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


def _require(header: list[str], required: list[str], source: str, read: tuple[str, ...]) -> None:
    """Every required column present, and none of the columns read named twice."""
    for name in required:
        if name not in header:
            raise InputError(
                source,
                f"line 1, column '{name}'",
                f"required column missing (header: {', '.join(header[:25])})",
            )
    for name in read:
        if header.count(name) > 1:
            raise InputError(
                source,
                f"line 1, column '{name}'",
                "column named twice in the header: which one holds the values cannot be told",
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
    table = reset_table if reset_table is not None else _shipped_reset_table()
    fast = _parse_fast(raw, decoded, source, table, reset_overrides)
    if fast is not None:
        return fast
    text = decoded.text
    header, rows, lines = _rows(text, source)
    if not rows:
        raise InputError(source, "line 2", "empty universe: the file has a header but no fund rows")
    if "direction" in header:
        _require(header, DATASET_REQUIRED, source, _READ)
        layout = "dataset"
    elif "underlying" in header:
        _require(header, CURATED_REQUIRED, source, _CURATED_READ)
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
    universe = _finish(fields, numbers, table, reset_overrides, quality)
    if not text.endswith(("\n", "\r")):
        _warn_cut(quality, str(raw_frame["ticker"].iloc[-1]), int(raw_frame["__line"].iloc[-1]))
    if universe.funds.empty:
        raise InputError(
            source,
            None,
            f"empty universe: none of the {len(rows)} rows can be used ({quality.summary()})",
        )
    return universe


def _warn_cut(quality: Quality, ticker: str, line: int) -> None:
    """The warning of a file that does not end with a line break (its last row may be cut)."""
    quality.warn(
        f"no line break at the end of the file: its last row (line {line}, ticker {ticker.strip() or '?'}) may be cut off"
    )


# -- the fast path: a well-formed dataset snapshot in one pyarrow pass ---------------------------
_READ = (
    "ticker",
    "name",
    "underlying_asset",
    "underlying_ticker",
    "leverage",
    "direction",
    "fund_type",
    "price",
    "avg_volume",
    "aum",
    "fund_family",
    "asset_class",
    "updated_at",
)
"""The dataset columns the figures read (the others are not converted)."""
_CURATED_READ = (
    "ticker",
    "name",
    "underlying",
    "underlying_asset",
    "leverage",
    "issuer",
    "fund_type",
    "asset_class",
    "aum_usd",
    "sample_aum_usd",
    "price",
    "avg_volume",
)
"""The curated columns :func:`_curated_fields` reads."""


def _lines_are_plain(body: bytes, start: int = 0) -> bool:
    """One record per line, read alike by Python's strict reader and pyarrow: every quote
    character opens or closes a field (``"a, b"`` after a comma or a line start, before a comma
    or a line end) with no quote and no line break inside, and no line is longer than Python's
    CSV field limit (bytes: at least the characters).

    Checked on the bytes with numpy: the quotes pair up (an even number; each odd one closes
    the one before), no line break lies between an opening quote and its closing one, an
    opening quote starts the text or follows a comma or a line break, and a closing quote ends
    the text or comes before a comma or a line end (so never right before another quote).
    ``start``: where the lines begin in ``body`` (read in place)."""
    chars = np.frombuffer(body, dtype=np.uint8, offset=start)
    limit = csv.field_size_limit()
    quoted = body.find(b'"', start) >= 0
    long_text = chars.size > limit
    if not (quoted or long_text):
        return True
    # line breaks and quotes found in one pass, in the order they come
    marks = np.flatnonzero((chars == 10) | (chars == 34)) if quoted else np.flatnonzero(chars == 10)
    is_quote = chars[marks] == 34
    if long_text:
        breaks = marks[~is_quote]
        if np.diff(np.r_[-1, breaks, chars.size]).max() - 1 > limit:
            return False
    if not quoted:
        return True
    at = np.flatnonzero(is_quote)  # the quotes' places among the marks
    if at.size % 2:
        return False  # an odd number of quotes
    if (at[1::2] != at[0::2] + 1).any():
        return False  # a line break between a quote and the next one: inside quotes
    opening, closing = marks[at[0::2]], marks[at[1::2]]
    before = chars[opening - 1]  # (the last byte for a quote at the start: not read)
    after = chars[np.minimum(closing + 1, chars.size - 1)]
    return bool(
        ((opening == 0) | (before == 44) | (before == 10)).all()
        and ((closing == chars.size - 1) | (after == 44) | (after == 13) | (after == 10)).all()
    )


def _parse_fast(
    raw: bytes,
    decoded: Decoded,
    source: str,
    table: pd.DataFrame,
    overrides: Mapping[str, str] | None,
) -> Universe | None:
    """The universe of a well-formed dataset snapshot read in one pyarrow pass, or None: the
    exact path (:func:`_rows` and the steps below it) then reads the file row by row, names
    what is wrong and records what it repairs.

    Taken when the header has the dataset columns once each, every line holds one record
    (:func:`_lines_are_plain`; no bare carriage return) with the header's number of fields
    (no blank line), every row has a ticker, no ticker is listed twice and every number lies
    within its limit.  It then reads what the exact path reads: the row-wise text through the
    same Arrow kernels pandas' string columns use (strip, upper; one call for all the
    columns), the columns of a few distinct values (leverage, direction, family, asset class,
    scrape time) encoded together and converted once per value in Python (``str.strip``, and
    ``str.lower`` on ASCII: what the kernels give, tests check it), plain decimals in one cast
    (:func:`_decimals`) and other spellings by ``pandas.to_numeric``, and the same
    :func:`_finish_rows`: equal frames and quality (tests/sources/test_fast_paths.py).

    Speed (issue 17): each Arrow or pandas call costs 10-25 µs before its first row, so the
    path makes as few as it can (columns concatenated, one take for several); the figure is
    still about 3x a plain ``pandas.read_csv`` of the file (bench/bench_parsers.py; the names' reset
    rules and the Arrow read are about half of it).
    """
    text = decoded.text
    end = text.find("\n")
    if end < 0:
        return None
    first = text[:end].removesuffix("\r")
    header = [h.strip().lstrip("\ufeff").strip() for h in first.split(",")]
    if '"' in first or len(set(header)) != len(header) or "direction" not in header:
        return None
    if any(c not in header for c in DATASET_REQUIRED):
        return None
    # the data lines: the file's own bytes after the header when they are the text's UTF-8
    # (read in place, no copy), else the text encoded again
    if decoded.encoding == "utf-8" and not raw.startswith(GZIP_MAGIC):
        data, start = raw, raw.index(b"\n") + 1
    else:
        data, start = text[end + 1 :].encode("utf-8"), 0
    size = len(data) - start
    if not size or (
        data.find(b"\r", start) >= 0 and data.count(b"\r", start) != data.count(b"\r\n", start)
    ):
        return None  # a bare carriage return ends a line for Python's reader only
    if not _lines_are_plain(data, start):
        return None
    wanted = {f"c{header.index(c)}": c for c in _READ if c in header}
    try:
        # the streaming reader, one block (about a tenth quicker than read_csv on these files)
        read = pacsv.open_csv(
            pa.BufferReader(pa.py_buffer(data).slice(start)),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(len(header))],
                use_threads=False,
                block_size=max(1 << 20, size + 1),
            ),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(wanted),
                column_types=dict.fromkeys(wanted, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # the decoder read these bytes as UTF-8 already
            ),
        ).read_all()
    except pa.ArrowInvalid:  # a line with another number of fields, a blank line
        return None
    n = read.num_rows
    if not n:
        return None
    cells = {wanted[c]: _one_chunk(read.column(c)) for c in wanted}
    blank_text = pa.array([""] * n, type=pa.large_string()) if len(cells) < len(_READ) else None

    def column(c: str) -> pa.Array:
        return cells[c] if c in cells else blank_text

    # the text read row by row, stripped in one call (ticker and underlying upper-cased in
    # one): each column a slice of the result
    trimmed = pc.utf8_trim_whitespace(pa.concat_arrays([column(c) for c in _PER_ROW]))
    upper = pc.utf8_upper(trimmed.slice(0, 2 * n))
    ticker, underlying = upper.slice(0, n), upper.slice(n, n)
    name, underlying_asset = trimmed.slice(2 * n, n), trimmed.slice(3 * n, n)
    flags = letf_reset.unreadable_stripped(pa.concat_arrays([upper, trimmed.slice(2 * n, 2 * n)]))
    blank_ticker = flags[:n]
    if blank_ticker.any() or pc.count_distinct(ticker).as_py() != n:
        return None  # blank or repeated tickers: the exact path's rules
    numbers, aum_blank, no_market_data = _fast_numbers(
        [cells.get(c) for c in ("aum", "price", "avg_volume")], n
    )
    # the columns of a few distinct values: each value converted once, in Python
    coded = _Coded.of([column(c) for c in _CODED], n)
    lev_at, dir_at, family_at, class_at, time_at = coded.at
    lev = coded.lowered()
    magnitude = _magnitudes(coded.only(lev, lev_at))[lev_at]
    variable = np.array([v == "variable" for v in lev])[lev_at]
    long_ = np.array([v == "long" for v in lev])[dir_at]
    short = np.array([v == "short" for v in lev])[dir_at]
    sign = np.where(long_, 1.0, np.where(short, -1.0, np.nan))
    with np.errstate(invalid="ignore"):
        lev_ok = (magnitude > 0) & (long_ | short)
    leverage = magnitude * sign
    try:  # a value outside its limit: the exact path names the line
        check_range(np.where(lev_ok, leverage, magnitude), "letf.leverage", source)
        check_range(numbers["aum"], "letf.aum_usd", source)
        check_range(numbers["price"], "letf.price_usd", source)
        check_range(numbers["volume"], "letf.avg_volume", source)
    except InputError:
        return None
    blank = np.array([v in _BLANK_SPELLINGS for v in coded.stripped])
    spread = coded.spread(
        [(lev, lev_at), (lev, dir_at), (coded.stripped, family_at), (lev, class_at)]
    )
    fields = _Fields(
        ticker=ticker,
        name=name,
        underlying=underlying,
        underlying_asset=underlying_asset,
        lev_text=spread[0],
        direction=spread[1],
        issuer=spread[2],
        fund_type=trimmed.slice(4 * n, n),
        asset_class=spread[3],
        aum_text=trimmed.slice(5 * n, n),
        variable=variable,
        lev_ok=lev_ok,
        leverage=leverage,
        magnitude=magnitude,
        direction_ok=long_ | short,
        asset_class_ok=~np.array([v in _BLANK_SPELLINGS for v in lev])[class_at],
        sample_aum_usd=np.full(n, np.nan),
        line=np.arange(2, n + 2, dtype=np.int64),
        as_of=_utc_times_at(coded.only(coded.stripped, time_at), time_at),
        blank_ticker=blank_ticker,
        blank_name=flags[2 * n : 3 * n],
        blank_underlying=flags[n : 2 * n],
        blank_underlying_asset=flags[3 * n :],
        blank_issuer=blank[family_at],
        no_market_data=no_market_data,
        aum_blank=aum_blank,
        issuer_codes=(family_at, coded.stripped),
    )
    quality = Quality(source=source, basis="AUM", total_rows=n)
    decoded.note(quality, n)
    universe = _finish_rows(fields, numbers, table, overrides, quality)
    if universe.funds.empty:
        return None
    if not text.endswith(("\n", "\r")):
        _warn_cut(quality, str(cells["ticker"][-1].as_py()), n + 1)
    return universe


def _one_chunk(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


_BLANK_SPELLINGS = frozenset(letf_reset.blank_spellings())
"""Every spelling of a blank word in any case: a stripped cell is unreadable when it is one
(:func:`flows.letf_reset.unreadable_stripped`, as a Python set)."""


_PER_ROW = ("ticker", "underlying_ticker", "name", "underlying_asset", "fund_type", "aum")
"""The text columns kept row by row (stripped together: :func:`_parse_fast`)."""
_CODED = ("leverage", "direction", "fund_family", "asset_class", "updated_at")
"""The columns of a few distinct values (converted once per value: :class:`_Coded`)."""


class _Coded(NamedTuple):
    """Columns of a few distinct values read together: ``at`` (per column, each row's position
    among the distinct cells of all of them) and those cells stripped as ``str.strip`` strips
    (Python's and Arrow's kernels remove the same characters; a test checks it)."""

    at: list[np.ndarray]
    stripped: list[str]

    @staticmethod
    def of(columns: list[pa.Array], n: int) -> _Coded:
        encoded = pc.dictionary_encode(pa.concat_arrays(columns))
        at = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        return _Coded(
            [at[k * n : (k + 1) * n] for k in range(len(columns))],
            [v.strip() for v in encoded.dictionary.to_pylist()],
        )

    def lowered(self) -> list[str]:
        """The distinct cells in lower case as Arrow's ``utf8_lower`` (pandas' ``str.lower``)
        has them: Python's ``str.lower`` on ASCII text, Arrow's kernel on other text."""
        if all(v.isascii() for v in self.stripped):
            return [v.lower() for v in self.stripped]
        return list(pc.utf8_lower(pa.array(self.stripped, type=pa.large_string())).to_pylist())

    def only(self, values: list[str], at: np.ndarray) -> list[str]:
        """``values`` (one per distinct cell) where a row of the column ``at`` holds the cell,
        blank elsewhere: what the column alone has."""
        used = np.zeros(len(values), dtype=bool)
        used[at] = True
        return [v if u else "" for v, u in zip(values, used.tolist(), strict=True)]

    def spread(self, columns: list[tuple[list[str], np.ndarray]]) -> list[pa.Array]:
        """Each row's value of ``values`` (one per distinct cell) for each ``(values, at)``, as
        Arrow arrays (one array of the values and one take for all of them)."""
        size, n = len(self.stripped), len(columns[0][1])
        values = pa.array([v for vals, _ in columns for v in vals], type=pa.large_string())
        at = np.concatenate([at + k * size for k, (_, at) in enumerate(columns)])
        rows = values.take(pa.array(at))
        return [rows.slice(k * n, n) for k in range(len(columns))]


_SHORT_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _magnitudes(lev_text: list[str]) -> np.ndarray:
    """:func:`_magnitude` of each distinct (lower-case, stripped) leverage text, as float64.

    A plain decimal of at most 15 characters after the ``x`` (``2``, ``1.25``) is read by
    ``float`` (what ``pandas.to_numeric`` reads: see :func:`flows.sources.columnar.
    short_decimals`); ``variable`` and a blank cell are NaN (no number); any other text is
    converted by ``pandas.to_numeric`` as the exact path does (the ones it would read as
    integers are the same numbers)."""
    out = np.full(len(lev_text), np.nan)
    other: list[int] = []
    for i, v in enumerate(lev_text):
        digits = v.removesuffix("x")
        if len(digits) <= 15 and _SHORT_DECIMAL.fullmatch(digits):
            out[i] = float(digits)
        elif v and v != "variable":
            other.append(i)
    if other:
        cells = [lev_text[i].removesuffix("x") for i in other]
        converted = pd.to_numeric(np.array([*cells, np.nan], dtype=object), errors="coerce")
        out[other] = np.asarray(converted)[:-1].astype(float)
    return out


def _fast_numbers(
    columns: list[pa.Array | None], n: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """:func:`_number` of the ``aum``, ``price`` and ``avg_volume`` cells (absent column: all
    blank), with the assets' blank cells and the rows without any market data.

    Plain decimals are read at once (:func:`flows.sources.columnar.decimal_cells`); the other
    cells (blank, ``1,234``, ``-``, padded) are stripped and converted by
    ``pandas.to_numeric`` cell by cell, as the exact rule does.  A column without any blank
    cell is left to :func:`_number` whole (its dtype is then pandas' to pick).
    """
    absent = pa.array([""] * n, type=pa.large_string()) if any(c is None for c in columns) else None
    raw = [absent if c is None else c for c in columns]  # an absent column: all blank
    together = pa.concat_arrays(raw)
    values, ok = _decimals(together)
    other = np.flatnonzero(~ok)
    blank = np.zeros(3 * n, dtype=bool)
    unreadable = np.zeros(3 * n, dtype=bool)
    if other.size and not _lengths(together)[other].any():
        blank[other] = unreadable[other] = True  # empty cells only: blank, NaN (decimal_cells)
    elif other.size:
        cells = pc.utf8_trim_whitespace(together.take(pa.array(other)))
        blank[other] = np.asarray(pc.equal(cells, "").to_numpy(zero_copy_only=False))
        unreadable[other] = letf_reset.unreadable_stripped(cells)
        spelled = [c.replace(",", "") for c in cells.to_pylist()]  # _number: commas removed
        converted = pd.to_numeric(np.array([*spelled, np.nan], dtype=object), errors="coerce")
        values[other] = np.where(blank[other], np.nan, np.asarray(converted)[:-1])
    numbers = {}
    for k, key in enumerate(("aum", "price", "volume")):
        part = slice(k * n, (k + 1) * n)
        if blank[part].any():
            numbers[key] = values[part]
        else:  # no blank cell: pandas may read the column as integers
            numbers[key] = np.asarray(
                _number(pd.Series(_str_column(pc.utf8_trim_whitespace(raw[k])))).to_numpy()
            )
    no_market_data = unreadable[:n] & unreadable[n : 2 * n] & unreadable[2 * n :]
    return numbers, blank[:n], no_market_data


_ISO_UTC = re.compile(
    r"(19[0-9]{2}|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?\+00:00"
)
"""The scrape time as the site writes it (``2026-06-01T00:00:02.381+00:00``): UTC, at most
microseconds.  ``pandas.to_datetime(..., format="ISO8601", utc=True)`` reads such texts to
``datetime64[us, UTC]`` and numpy reads the same instants (its own check of the day of the
month: a day that does not exist leaves the texts to pandas)."""
_UTC_US = pd.DatetimeTZDtype("us", "UTC")


_NOT_DECIMAL_BYTE = np.ones(256, dtype=bool)
_NOT_DECIMAL_BYTE[list(b"0123456789.-")] = False
_NOT_DECIMAL_BYTE.setflags(write=False)


def _decimals(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """:func:`flows.sources.columnar.decimal_cells` of a ``large_string`` array without nulls
    in one cast: the cells of 1-15 bytes from ``0-9 . -`` are cast at once, the others made
    null for it (NaN); when one of them is not a number after all (``-``, ``1-2``), the
    column-wise function decides every cell."""
    _, offsets_buf, data = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    if arr.offset or arr.null_count or data is None or offsets[-1] == offsets[0]:
        return columnar.decimal_cells(arr)
    chars = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
    odd = np.concatenate(([0], np.cumsum(_NOT_DECIMAL_BYTE[chars])))
    start = offsets - offsets[0]
    lengths = np.diff(start)
    ok = (odd[start[1:]] == odd[start[:-1]]) & (lengths > 0) & (lengths <= 15)
    valid = pa.py_buffer(np.packbits(ok, bitorder="little"))
    masked = pa.Array.from_buffers(
        pa.large_string(), len(arr), [valid, offsets_buf, data], offset=arr.offset
    )
    try:
        values = pc.cast(masked, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        return columnar.decimal_cells(arr)
    return np.array(values, dtype=float), ok  # (a copy the caller may write into)


def _lengths(values: pa.Array) -> np.ndarray:
    """The byte length of each cell of a ``large_string`` array (its offsets; no compute call)."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)
    return np.diff(offsets[values.offset : values.offset + len(values) + 1])


def _utc_times_at(texts: list[str], at: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """:func:`_as_of` of the rows holding ``texts[at]`` (a few distinct stripped texts): a
    blank one is missing, as there.

    Texts all written as :data:`_ISO_UTC` (or blank, at least one not) are read by numpy, one
    per distinct value; any other spelling leaves them all to pandas (whose resolution then
    follows every text)."""
    if any(texts) and all(not t or _ISO_UTC.fullmatch(t) for t in texts):
        try:
            wall = np.array([t[:-6] if t else "NaT" for t in texts], dtype="datetime64[us]")
        except ValueError:  # no such day (2026-02-30): pandas decides
            pass
        else:
            return pd.array(wall[at], dtype=_UTC_US)
    given = pa.array([t or None for t in texts], type=pa.large_string())  # .where(ne(""))
    return _utc_times(pd.Series(_str_column(given))).array.take(at)


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


def _magnitude(lev_text: pd.Series) -> pd.Series:
    """Leverage magnitude from its lower-case text (``3x`` -> 3); NaN where blank or unreadable."""
    return pd.to_numeric(lev_text.str.removesuffix("x").where(lev_text.ne("")), errors="coerce")


def _as_of(updated_at: pd.Series) -> pd.Series:
    """The scrape time (``updated_at``, ISO 8601) in UTC; NaT where blank or unreadable."""
    return _utc_times(updated_at.where(updated_at.ne("")))


def _utc_times(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")


def _dataset_fields(raw: pd.DataFrame) -> pd.DataFrame:
    """Per row the typed fields of the dataset layout, and the text they came from."""
    lev_text = _text(raw, "leverage").str.lower()
    magnitude = _magnitude(lev_text)
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
            "as_of": _as_of(_text(raw, "updated_at")),
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


class _Fields(NamedTuple):
    """Per row the typed fields both paths hand to :func:`_finish_rows`: text as Arrow
    ``large_string`` arrays (stripped as pandas strips), numbers and flags as numpy arrays;
    ``blank_*`` and ``no_market_data`` as :func:`flows.letf_reset.unreadable_text` has them."""

    ticker: pa.Array
    name: pa.Array
    underlying: pa.Array
    underlying_asset: pa.Array
    lev_text: pa.Array
    direction: pa.Array
    issuer: pa.Array
    fund_type: pa.Array
    asset_class: pa.Array
    aum_text: pa.Array
    variable: np.ndarray
    lev_ok: np.ndarray
    leverage: np.ndarray
    magnitude: np.ndarray
    direction_ok: np.ndarray
    asset_class_ok: np.ndarray
    sample_aum_usd: np.ndarray
    line: np.ndarray
    as_of: pd.api.extensions.ExtensionArray | np.ndarray
    blank_ticker: np.ndarray
    blank_name: np.ndarray
    blank_underlying: np.ndarray
    blank_underlying_asset: np.ndarray
    blank_issuer: np.ndarray
    no_market_data: np.ndarray
    aum_blank: np.ndarray
    issuer_codes: tuple[np.ndarray, list[str]] | None = None
    """``issuer`` as ``(at, distinct)`` when the path has its distinct values (the fast one)."""


_TEXT_FIELDS = (
    "ticker",
    "name",
    "underlying",
    "underlying_asset",
    "lev_text",
    "direction",
    "issuer",
    "fund_type",
    "asset_class",
    "aum_text",
)
_STR = pd.StringDtype("pyarrow", na_value=np.nan)
"""pandas' default text dtype (``str``): the text columns of both frames."""
_DEFECTS = (
    "blank ticker",
    "leverage not readable",
    "direction not long/short",
    "assets not readable",
    "assets blank",
    "unknown underlying",
    "asset class not readable",
    "name not readable",
)
"""Defect of a row, first match wins (:func:`_finish_rows`), as counted in the quality record."""


def _text_array(values: pd.Series | np.ndarray) -> pa.Array:
    """A text column as one Arrow ``large_string`` array (what ``ArrowStringArray`` holds)."""
    if isinstance(values, pd.Series):
        return letf_reset._arrow_text(values)
    return pa.array(np.asarray(values, dtype=object), type=pa.large_string())


def _finish(
    fields: pd.DataFrame,
    numbers: dict[str, pd.Series],
    table: pd.DataFrame,
    overrides: Mapping[str, str] | None,
    quality: Quality,
) -> Universe:
    """:func:`_finish_rows` of the exact path's frame of fields."""
    n = len(fields)
    direction_ok = fields["direction_ok"].to_numpy(dtype=bool)
    blank = letf_reset.unreadable
    text = {c: _text_array(fields[c]) for c in (*_TEXT_FIELDS, "price_text", "volume_text")}
    f = _Fields._make(
        [
            *(text[c] for c in _TEXT_FIELDS),
            fields["variable"].to_numpy(dtype=bool),
            fields["lev_ok"].to_numpy(dtype=bool),
            fields["leverage"].to_numpy(),
            fields["magnitude"].to_numpy(),
            direction_ok if direction_ok.shape == (n,) else np.full(n, True),
            fields["asset_class_ok"].to_numpy(dtype=bool),
            fields["sample_aum_usd"].to_numpy(),
            fields["line"].to_numpy(dtype="int64"),
            fields["as_of"].array,
            blank(text["ticker"]),
            blank(text["name"]),
            blank(text["underlying"]),
            blank(text["underlying_asset"]),
            blank(text["issuer"]),
            blank(text["aum_text"]) & blank(text["price_text"]) & blank(text["volume_text"]),
            fields["aum_text"].eq("").to_numpy(dtype=bool),
            None,  # no distinct issuers at hand: the reset classes encode them
        ]
    )
    return _finish_rows(f, {k: v.to_numpy() for k, v in numbers.items()}, table, overrides, quality)


_OUT_TEXT = (
    "ticker",
    "name",
    "underlying",
    "underlying_asset",
    "issuer",
    "fund_type",
    "asset_class",
    "reset",
    "leverage_kind",
    "reset_source",
    "reset_evidence",
    "defect",
)
"""The text columns of ``funds``, in the order :func:`_finish_rows` lists them."""


_EMPTY = pa.scalar("", type=pa.large_string())
_FUNDS_COLUMNS = [*LETF_COLUMNS, *EXTRA_COLUMNS]
_COLUMN_INDEXES = {
    tuple(_FUNDS_COLUMNS): pd.Index(_FUNDS_COLUMNS),
    tuple(SKIPPED_COLUMNS): pd.Index(SKIPPED_COLUMNS),
}
"""The two frames' column labels (pandas' ``str`` index), built once: each frame gets a view."""


def _str_column(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    return ArrowStringArray(values, dtype=_STR)


def _frame(names: list[str], columns: dict[str, object], n: int) -> pd.DataFrame:
    """``pd.DataFrame(columns)`` (columns in the order of ``names``, a RangeIndex) assembled
    from its blocks (:func:`pandas.api.internals.create_dataframe_from_blocks`): numpy columns
    of one dtype stacked into one block, as pandas consolidates them; each extension array
    (text, UTC times) its own block.  No type inference, no copy of the text."""
    blocks: list[tuple[object, np.ndarray]] = []
    by_dtype: dict[np.dtype, list[int]] = {}
    for i, name in enumerate(names):
        values = columns[name]
        if isinstance(values, np.ndarray):
            by_dtype.setdefault(values.dtype, []).append(i)
        else:
            blocks.append((values, np.array([i])))
    for dtype, at in by_dtype.items():
        stacked = np.empty((len(at), n), dtype=dtype)
        for row, i in enumerate(at):
            stacked[row] = columns[names[i]]
        blocks.append((stacked, np.array(at)))
    labels = _COLUMN_INDEXES.get(tuple(names))
    return create_dataframe_from_blocks(
        blocks,
        index=pd.RangeIndex(n),
        columns=pd.Index(names) if labels is None else labels.view(),
    )


def _named(f: _Fields, rows: np.ndarray, cell: pa.Array | None = None) -> list[str]:
    """``TQQQ line 2`` for the first skipped rows (:data:`flows.quality.EXAMPLES`): the quality
    record names them, and so does a refusal.  With ``cell`` (the column whose text could not
    be read), the text is quoted: ``TQQQ line 2 reads 'NaN'``."""
    first = rows[:EXAMPLES]
    at = pa.array(first)
    tickers = f.ticker.take(at).to_pylist()
    named = [
        f"{t or '(blank ticker)'} line {int(line)}"
        for t, line in zip(tickers, f.line[first], strict=True)
    ]
    if cell is None:
        return named
    return [f"{n} reads {c!r}" for n, c in zip(named, cell.take(at).to_pylist(), strict=True)]


def _finish_rows(
    f: _Fields,
    numbers: dict[str, np.ndarray],
    table: pd.DataFrame,
    overrides: Mapping[str, str] | None,
    quality: Quality,
) -> Universe:
    """Reset class, defects, skipped rows and the skipped share (module docstring): the one
    definition both paths use."""
    n = len(f.line)
    reset, reset_source, reset_evidence, daily, unknown = letf_reset.classify_reset_flags(
        f.ticker,
        f.name,
        f.issuer,
        table,
        overrides,
        family_codes=f.issuer_codes,
        tickers_normalized=True,  # both paths strip and upper-case them with Arrow's kernels
    )
    aum = numbers["aum"]
    quality.total_weight = float(aum[aum >= 0].sum())
    blank_ticker, blank_name = f.blank_ticker, f.blank_name
    blank_underlying, blank_underlying_asset = f.blank_underlying, f.blank_underlying_asset
    no_market_data = f.no_market_data
    name_or_family_lost = blank_name | f.blank_issuer
    # A fund the source has no market data for carries no assets into any figure: not counted.
    eligible = (daily | (unknown & name_or_family_lost)) & ~no_market_data
    aum_blank = f.aum_blank
    aum_missing = np.isnan(aum) if aum.dtype.kind == "f" else np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        positive = f.magnitude > 0
    conditions = (
        blank_ticker,
        ~f.variable & ~f.lev_ok & ~(positive & ~f.direction_ok),
        ~f.direction_ok,
        ~aum_blank & aum_missing,
        aum_blank & ~no_market_data,
        blank_underlying & blank_underlying_asset,
        ~f.asset_class_ok,
        unknown & blank_name,
    )
    # each row's first defect (len(_DEFECTS): none), the last condition written first
    first = np.full(n, len(_DEFECTS), dtype=np.int64)
    for k in range(len(conditions) - 1, -1, -1):
        first[conditions[k]] = k
    has_defect = first < len(_DEFECTS)
    bad_rows = np.flatnonzero(has_defect)
    # the messages quote the bad cell: built for the defective rows only
    quoted = {
        1: ("leverage '", f.lev_text, "' is not a positive number"),
        2: ("direction '", f.direction, "' is not long/short"),
        3: ("assets '", f.aum_text, "' is not a number"),
        6: ("asset class '", f.asset_class, "' is not readable"),
    }
    fixed = {
        0: "blank ticker",
        4: "assets blank while the row has a price or volume",
        5: "unknown underlying (underlying_ticker and underlying_asset blank)",
        7: "name not readable: reset period cannot be determined",
    }
    skip = has_defect & (eligible | blank_ticker)
    counted = has_defect & eligible
    messages: list[str] = []
    defect_at = np.zeros(n, dtype=np.int64)
    if bad_rows.size:
        kinds = first[bad_rows]
        bad_at = pa.array(bad_rows)
        present = set(kinds.tolist())
        cells = {k: v[1].take(bad_at).to_pylist() for k, v in quoted.items() if k in present}
        messages = [
            fixed[k] if k in fixed else quoted[k][0] + cells[k][i] + quoted[k][2]
            for i, k in enumerate(kinds.tolist())
        ]
        defect_at[bad_rows] = np.arange(1, bad_rows.size + 1)
        kinds, aum_counted = first[counted], aum[counted]
        counted_at = np.flatnonzero(counted)
        seen, at_first = np.unique(kinds, return_index=True)
        for k in seen[np.argsort(at_first)].tolist():  # in order of first appearance
            weights = aum_counted[kinds == k]
            at = counted_at[kinds == k]
            known = ~np.isnan(weights) if weights.dtype.kind == "f" else np.ones(len(weights), bool)
            cell = quoted[k][1] if k in quoted else None
            if known.any():
                quality.skip(
                    _DEFECTS[k],
                    int(known.sum()),
                    float(weights[known].sum()),
                    _named(f, at[known], cell),
                )
            if (~known).any():
                quality.skip(_DEFECTS[k], int((~known).sum()), None, _named(f, at[~known], cell))
    # leverage kind and defect, each row's text picked from one short list in one take
    small = pa.array(["fixed", "variable", "", *messages], type=pa.large_string())
    picked = small.take(pa.array(np.concatenate([f.variable.astype(np.int64), 2 + defect_at])))
    kind, defect = picked.slice(0, n), picked.slice(n, n)
    skip_rows = np.flatnonzero(skip)
    keep = np.flatnonzero(~skip) if skip_rows.size else None
    # blank underlying and asset class cells written "" (one call for the three columns)
    cleared = pa.concat_arrays([f.underlying, f.underlying_asset, f.asset_class])
    clear = np.concatenate([blank_underlying, blank_underlying_asset, ~f.asset_class_ok])
    if clear.any():
        cleared = pc.if_else(pa.array(clear), _EMPTY, cleared)
    # the text columns in the order of _OUT_TEXT (their rows then kept or skipped in one take
    # of them all, as one record batch)
    texts = [
        f.ticker,
        f.name,
        cleared.slice(0, n),
        cleared.slice(n, n),
        f.issuer,
        f.fund_type,
        cleared.slice(2 * n, n),
        reset,
        kind,
        reset_source,
        reset_evidence,
        defect,
    ]
    if keep is not None:
        batch = pa.RecordBatch.from_arrays(texts, names=list(_OUT_TEXT))
        texts = batch.take(pa.array(keep)).columns
        gone = batch.take(pa.array(skip_rows))
        skipped_text = [gone.column(0), gone.column(len(_OUT_TEXT) - 1)]  # ticker, defect
    else:
        skipped_text = [f.ticker.slice(0, 0), defect.slice(0, 0)]
    skipped = _frame(
        SKIPPED_COLUMNS,
        {
            "ticker": _str_column(skipped_text[0]),
            "line": f.line[skip_rows].astype("int64"),
            "reason": _str_column(skipped_text[1]),
            "aum_usd": aum[skip_rows].astype(float),
            "counted": counted[skip_rows],
        },
        skip_rows.size,
    )

    def rows(values: np.ndarray) -> np.ndarray:
        return values if keep is None else values[keep]

    columns_out: dict[str, object] = {
        c: _str_column(t) for c, t in zip(_OUT_TEXT, texts, strict=True)
    }
    columns_out.update(
        {
            "leverage": rows(np.where(f.lev_ok & ~f.variable, f.leverage, np.nan)),
            "aum_usd": rows(aum),
            "price": rows(numbers["price"]),
            "avg_volume": rows(numbers["volume"]),
            "sample_aum_usd": rows(f.sample_aum_usd),
            "line": rows(f.line),
            "as_of": f.as_of if keep is None else f.as_of.take(keep),
        }
    )
    funds = _frame(_FUNDS_COLUMNS, columns_out, n if keep is None else keep.size)
    return Universe(funds, skipped, quality)
