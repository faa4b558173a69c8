"""CBOE delayed-quotes options JSON (the live option-chain source).

Endpoint: ``GET https://cdn.cboe.com/api/global/delayed_quotes/options/{SYMBOL}.json``, where
cash indices take a leading underscore (``_SPX``, ``_NDX``, ``_RUT``, ``_VIX``) and equities and
ETFs do not (``SPY``, ``MSTR``).  The body is one JSON object::

    {"timestamp": "2026-07-10 21:12:30",            # publish time, UTC, no zone
     "data": {"options": [{"option": "MSTR260717C00095000", "bid": 3.85, "ask": 3.95,
                           "iv": 0.773, "open_interest": 2952.0, "volume": 1868.0,
                           "delta": 0.5096, "gamma": 0.0392, ...}, ...],
              "symbol": "MSTR", "current_price": 94.6604, ...},
     "symbol": "MSTR"}

Three steps, as every source: :func:`build_query` (pure), :func:`fetch` (network only, through the
shared :class:`flows.sources.http.HttpClient`) and :func:`parse` (pure, tested on a recorded real
response).  Units: ``iv`` is a fraction per year (0.773 = 77.3 %; 0 means "not computed" and
becomes NaN), ``gamma`` is per 1 point of the underlying per option, open interest and volume are
contracts (multiplier 100).

Input quality (:class:`flows.quality.Quality`, basis open interest, on ``Chain.quality``)
-----------------------------------------------------------------------------------------
* **Decoding**: the one rule of :func:`flows.sources.textio.decode_text` (gzip, byte-order
  marks, UTF-8, cp1252, Latin-1; NUL refused); anything beyond plain UTF-8 is recorded as a
  repair.  JSON nested
  deeper than the decoder's recursion limit (~1,000 levels; the real body has 4) is refused.
* **Per field**, a value that is absent is *missing* (a source that leaves greeks out), one that is
  present but ``null`` or not a number (``"-"``, ``"n/a"``) is *unreadable*; neither ever
  becomes 0:
  ``open_interest`` missing or unreadable: the row is skipped (its weight unknown);
  ``iv``/``gamma``/``bid``/``ask`` unreadable: set missing and marked
  (:data:`flows.chain.UNREADABLE_COLUMN`), so the engine models the gamma or counts the contract
  as skipped; ``delta``/``volume`` unreadable: set missing (not used in any figure), counted as a
  repair.  A row without a valid OSI symbol, or whose expiry lies outside the exchange calendar,
  is skipped.
* **Plausibility** (:mod:`flows.limits`): spot, open interest, volume, IV, delta, gamma x spot and
  bid/ask outside their limits (infinities included) are an :class:`InputError` naming the
  symbol, the row (``data.options[i]``) and the field.
* **Duplicates**: rows repeating an option symbol with identical values are dropped (a repair);
  with different values they are an error naming the symbol.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.internals import create_dataframe_from_blocks

from flows import products
from flows.chain import UNREADABLE_COLUMN, Chain, parse_osi, settlement_times
from flows.errors import InputError, SourceError
from flows.limits import LIMITS, check_range
from flows.quality import Quality
from flows.schema import CHAIN_COLUMNS
from flows.sources.contract import Client
from flows.sources.textio import decode_text

BASE_URL = "https://cdn.cboe.com/api/global/delayed_quotes/options"
"""CBOE's public CDN for delayed option quotes (15-minute delayed)."""

SOURCE = "cboe-json"
"""Source label carried by chains and results from this connector."""

INDEX_SYMBOLS: frozenset[str] = products.cdn_index_symbols()
"""Cash indices and index-option roots: CBOE prefixes their symbol with an underscore on the CDN
(``_SPX``); derived from the product table (:func:`flows.products.cdn_index_symbols`)."""

_ROW_FIELDS = ("option", "bid", "ask", "iv", "open_interest", "volume", "delta", "gamma")
"""Option-row keys read by :func:`parse` (the row carries 23 keys; the rest are ignored)."""


@dataclass(frozen=True)
class CboeQuery:
    """What to fetch: the underlying as the desk names it and the CDN symbol and URL."""

    underlying: str
    symbol: str
    url: str


def cdn_symbol(underlying: str, index_symbols: frozenset[str] | set[str] = INDEX_SYMBOLS) -> str:
    """CDN symbol of ``underlying``: ``_SPX`` for indices, ``SPY`` for equities and ETFs.

    A symbol already written with the underscore is kept as is.
    """
    sym = underlying.strip().upper()
    if not sym:
        raise InputError("cboe", "symbol", "empty symbol")
    if sym.startswith("_"):
        return sym
    return f"_{sym}" if sym in index_symbols else sym


def build_query(
    symbol: str,
    *,
    base_url: str = BASE_URL,
    index_symbols: frozenset[str] | set[str] = INDEX_SYMBOLS,
) -> CboeQuery:
    """The CDN request for ``symbol`` (pure).

    >>> build_query("spx").url
    'https://cdn.cboe.com/api/global/delayed_quotes/options/_SPX.json'
    """
    cdn = cdn_symbol(symbol, index_symbols)
    return CboeQuery(
        underlying=cdn.lstrip("_"), symbol=cdn, url=f"{base_url.rstrip('/')}/{cdn}.json"
    )


def fetch(query: CboeQuery | str, client: Client) -> bytes:
    """GET the chain (network only).  Returns the raw body; :func:`parse` decodes it.

    ``client`` is a :class:`flows.sources.http.HttpClient` (timeouts, retries with backoff on 429
    and 5xx, per-host rate limit, User-Agent).  A 404 becomes :class:`SourceError` "unknown
    symbol"; other failures are the client's ``SourceError`` naming the URL and status.
    """
    if isinstance(query, str):
        query = build_query(query)
    name = f"cboe:{query.symbol} ({query.url})"
    try:
        return client.get_bytes(query.url, source=name, headers={"Accept": "application/json"})
    except SourceError as exc:
        if exc.status == 404:
            raise SourceError(
                name, f"unknown symbol {query.symbol!r}: CBOE has no option chain for it", 404
            ) from None
        raise


def _decode(
    payload: bytes | str | Mapping[str, Any], source: str
) -> tuple[Mapping[str, Any], list[str]]:
    """The payload as a JSON object and the decoder's repairs."""
    if isinstance(payload, Mapping):
        return payload, []
    text: str | bytes
    if isinstance(payload, bytes) and payload.isascii() and b"\x00" not in payload:
        # what decode_text gives for such bytes (UTF-8, no mark, no repair), not copied:
        # json.loads reads the bytes as UTF-8 itself
        text, repairs = payload, []
    else:
        decoded = decode_text(payload, source)
        text, repairs = decoded.text, decoded.repairs
    try:
        obj = _loads(text)
    except json.JSONDecodeError as exc:
        if not text.strip():  # no bytes, only blanks or a byte-order mark: say so, not "line 1"
            raise InputError(
                source, None, "empty body (expected CBOE's delayed-quotes JSON object)"
            ) from None
        raise InputError(
            source, None, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise InputError(
            source,
            None,
            "JSON nested too deeply (deeper than the decoder's recursion limit; a CBOE chain is 4 levels deep)",
        ) from None
    except ValueError as exc:  # e.g. a number too long to convert
        raise InputError(source, None, f"malformed JSON: {exc}") from None
    if not isinstance(obj, Mapping):
        raise InputError(source, None, f"expected a JSON object, got {type(obj).__name__}")
    return obj, repairs


def _loads(text: bytes | str) -> Any:
    """``json.loads(text)``, read by orjson (a dependency already: ~5x faster on a chain).

    orjson refuses what ``json`` reads as extensions (``NaN``, ``Infinity``, a number
    overflowing to infinity, a lone surrogate) and nesting deeper than 1,024 levels; those
    texts go to ``json.loads``, which reads them or raises the errors the parser reports.
    Where orjson reads a text, it gives ``json``'s object (RFC 8259; repeated keys: the last
    wins; floats correctly rounded) except an integer outside 64 bits, a float there, which
    the parser turns into the same float64 as every number; and nesting of 1,000 or so levels,
    which ``json`` refuses by Python's recursion limit and the parser then refuses as not a
    chain (a chain is 4 levels deep).  tests/sources/test_cboe_json.py compares the two."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _number(value: Any, source: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(source, field, f"not a number: {value!r}")
    try:
        out = float(value)
    except ValueError:
        raise InputError(source, field, f"not a number: {value!r}") from None
    if not math.isfinite(out) or out <= 0:
        raise InputError(source, field, f"must be a positive finite price, got {value!r}")
    return out


_PLAIN_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def parse_timestamp(value: Any, source: str) -> pd.Timestamp:
    """The payload's ``timestamp`` (``"2026-07-10 21:12:30"``, UTC without zone) as tz-aware UTC."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(source, "timestamp", f"missing or not a string: {value!r}")
    m = _PLAIN_TIMESTAMP.fullmatch(value.strip())
    if m:  # the CDN's layout: what pandas' ISO 8601 reading gives, without its per-call cost
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            return pd.Timestamp(datetime(year, month, day, hour, minute, second, tzinfo=UTC))
        except ValueError:
            pass  # not a calendar date: pandas' reading names the layout below
    try:
        ts = pd.Timestamp(pd.to_datetime(value.strip(), format="ISO8601"))
    except (ValueError, TypeError):
        raise InputError(
            source,
            "timestamp",
            f"unknown date layout {value!r} (expected 'YYYY-MM-DD HH:MM:SS', UTC)",
        ) from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


_GREEK_FIELDS = ("iv", "gamma", "bid", "ask")
"""Unreadable cells here are marked for the engine (they feed the gamma or the IV solve)."""
_RANGES = {
    "open_interest": "option.open_interest",
    "volume": "option.volume",
    "iv": "option.iv",
    "delta": "option.delta",
    "bid": "option.price",
    "ask": "option.price",
}


def _numbers(rows: list[Mapping[str, Any]], col: str) -> tuple[np.ndarray, np.ndarray]:
    """One field of every row -> (float array, unreadable mask).

    Absent -> NaN (missing: a source that leaves the field out); present but ``null``, ``NaN``,
    a boolean or not a number -> NaN and marked unreadable; numeric strings are read.
    """
    values = [o.get(col) for o in rows]
    numbers: np.ndarray | None = None
    if not any(type(v) is bool for v in values):  # numpy would read true/false as 1 and 0
        try:
            numbers = np.array(values, dtype=np.float64)  # fast path: numbers (and None) only
        except (TypeError, ValueError):
            numbers = None
    if numbers is not None:
        arr, unread = numbers, np.zeros(numbers.size, dtype=bool)
    else:
        s = pd.Series(values, dtype=object)
        bools = s.map(lambda v: isinstance(v, bool)).to_numpy(dtype=bool)
        arr = pd.to_numeric(s.where(~bools), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        unread = (s.notna().to_numpy() & np.isnan(arr)) | bools
    nan = np.flatnonzero(np.isnan(arr) & ~unread)
    if nan.size:  # null or NaN where the key is present: unreadable, not "left out"
        unread[nan] = [col in rows[i] for i in nan]
    return arr, unread


def rows_frame(
    options: list[Any], source: str, quality: Quality | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Option rows -> (numeric frame of the fields read, skipped rows).

    ``skipped`` has :data:`flows.chain.SKIPPED_COLUMNS` (``row`` = 0-based position in
    ``data.options``, ``field``, ``reason``).  Rules per field: see the module docstring.  The
    frame has an ``unreadable`` column (an IV, gamma, bid or ask value was present but not a
    number).  ``quality`` (when given) receives the skipped rows with their open interest, the
    repairs, ``total_rows`` and ``total_weight``.
    """
    q = quality if quality is not None else Quality(source=source, basis="open interest")
    n = len(options)
    # a decoded JSON row is a dict: test that first (an ABC Mapping check is ~5x slower)
    rows = [o if isinstance(o, dict) or isinstance(o, Mapping) else {} for o in options]
    opt = [o.get("option") for o in rows]
    is_row = np.array([type(v) is str and bool(v.strip()) for v in opt], dtype=bool)
    # Column-wise lists are several times faster than a DataFrame of row dicts.
    symbols = (
        pd.Series(opt, dtype=object)
        .where(is_row, "")
        .astype("str")
        .str.strip()
        .str.replace(" ", "", regex=False)
    )
    # the columns as arrays, one frame built at the end (a frame grown column by column costs
    # more than the reading on a small chain)
    cols: dict[str, np.ndarray] = {"symbol": symbols.to_numpy()}
    unreadable = np.zeros(n, dtype=bool)
    oi_bad = np.zeros(n, dtype=bool)
    for col in ("bid", "ask", "iv", "open_interest", "volume", "delta", "gamma"):
        vals, bad = _numbers(rows, col)
        cols[col] = vals
        bad &= is_row
        if col == "open_interest":
            oi_bad = bad
        elif bad.any():
            example = next(o.get(col) for o, b in zip(rows, bad, strict=True) if b)
            q.repair(f"{col}: not a number (e.g. {example!r}), taken as missing", int(bad.sum()))
            if col in _GREEK_FIELDS:
                unreadable |= bad
    oi = cols["open_interest"]
    q.total_rows += n
    q.total_weight += float(np.nansum(np.where(np.isinf(oi), 0.0, oi)))
    skipped = []
    no_sym = ~is_row
    for i in np.flatnonzero(no_sym):
        skipped.append({"row": int(i), "field": "option", "reason": "row without an option symbol"})
    if no_sym.any():
        q.skip(
            "row without an option symbol",
            int(no_sym.sum()),
            weight=float(np.nansum(oi[no_sym])) if np.isfinite(oi[no_sym]).all() else None,
        )
    oi_missing = np.isnan(oi) & is_row & ~oi_bad
    for mask, why in (
        (oi_bad, "open_interest: not a number"),
        (oi_missing, "open_interest: missing"),
    ):
        for i in np.flatnonzero(mask):
            skipped.append({"row": int(i), "field": "open_interest", "reason": why})
        q.skip(why, int(mask.sum()), weight=None)
    keep = is_row & ~oi_bad & ~oi_missing
    # plausibility (limits table): a value outside is a broken input, not a row to skip
    positions = np.flatnonzero(keep)  # row = 0-based position in data.options
    for col, key in _RANGES.items():
        check_range(cols[col][keep], key, source, rows=positions, field=f"data.options[].{col}")
    cols["unreadable"] = unreadable
    # CBOE writes 0.0 where it did not compute IV: that is "missing", not zero.  Greeks of 0 stay
    # 0 (the source said 0: the engine models a live contract's gamma; NaN means the source gave
    # none, which the engine reports louder).
    with np.errstate(invalid="ignore"):
        cols["iv"] = np.where(cols["iv"] <= 0, np.nan, cols["iv"])
    frame = pd.DataFrame({k: v[keep] for k, v in cols.items()}, index=positions)
    return frame, pd.DataFrame(skipped, columns=["row", "field", "reason"])


# -- OSI symbols in normal form, split column-wise (the one-pass paths of both CBOE parsers) ----
_OSI_TAIL = 15
"""Bytes of an OSI symbol after its 1-6 byte root: YYMMDD, C/P, strike x 1000 in 8 digits."""
_OSI_ROOT = re.compile(r"[A-Z0-9.]{1,6}")
"""An OSI root in normal form (upper case, no padding)."""
_ZERO = np.uint8(ord("0"))
_POWERS_OF_TEN = (10 ** np.arange(7, -1, -1)).astype(np.float64)
_POWERS_OF_TEN.setflags(write=False)
_FIRST = np.ones(1, dtype=bool)
_FIRST.setflags(write=False)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_NAT_NS = np.iinfo(np.int64).min
"""NaT as int64 nanoseconds (:func:`flows.products.settlement_instants_ns`)."""


def string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (``len + 1``; int32, int64 for the ``large_`` types) and data bytes of an Arrow
    string or binary array without nulls, not copied."""
    bufs = arr.buffers()
    wide = arr.type in (pa.large_string(), pa.large_binary())
    offsets = np.frombuffer(
        bufs[1],
        dtype=np.int64 if wide else np.int32,
        count=len(arr) + 1,
        offset=arr.offset * (8 if wide else 4),
    )
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def fixed_width_strings(data: np.ndarray, width: int) -> pa.Array:
    """Strings of ``width`` bytes each, one after the other in ``data`` (uint8, any shape), as
    an Arrow ``large_string`` array (what pandas' ``str`` columns hold), built without a copy."""
    count = data.size // width if width else 0
    return pa.LargeStringArray.from_buffers(
        count,
        pa.py_buffer(np.arange(0, (count + 1) * width, width, dtype=np.int64)),
        pa.py_buffer(np.ascontiguousarray(data).reshape(-1)),
    )


def eight_digits(block: np.ndarray) -> np.ndarray | None:
    """Rows of 8 ASCII digit bytes (an (n, 8) uint8 matrix) -> their integers (int64), or None
    when a byte is not a digit."""
    d = block - _ZERO  # a non-digit wraps to >= 10
    if not (d < 10).all():
        return None
    # one matrix-vector product (BLAS): every partial sum is an integer below 10**8, exact in
    # float64, so the integers come back exactly
    return np.asarray((d @ _POWERS_OF_TEN).astype(np.int64))


def yymmdd_day(text: str) -> int | None:
    """``230915`` -> days since 1970-01-01 (``strptime``'s ``%y``: 69-99 are 19xx, 00-68 20xx,
    the rule of :func:`flows.chain.osi_fields`); None when not six digits or not a date."""
    if len(text) != 6 or not (text.isascii() and text.isdigit()):
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    try:
        return date(1900 + yy if yy >= 69 else 2000 + yy, mm, dd).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None


def within_limits(low: float, high: float, key: str) -> bool:
    """Values whose minimum is ``low`` and maximum ``high`` (no NaN) all pass
    :func:`flows.limits.check_range` on ``key`` (infinities refused): the one-pass paths'
    test; a False sends the input to the exact path, which raises the error naming the row."""
    lim = LIMITS[key]
    return bool(
        (low >= lim.low if lim.low is not None else low > -np.inf)
        and (high <= lim.high if lim.high is not None else high < np.inf)
    )


def _as_binary(arr: pa.Array) -> pa.Array:
    """A string array viewed as binary (zero copy): slices then count bytes."""
    return arr.cast(pa.large_binary() if arr.type == pa.large_string() else pa.binary())


@dataclass(frozen=True)
class OsiColumns:
    """OSI symbols split by :func:`split_osi`: per symbol ``prefix`` (index into ``roots`` and
    ``days``: one entry per ``root + YYMMDD`` prefix, or per run of one, so a prefix may appear
    twice: compare contracts by root and day, not by this index), ``is_call`` and
    ``strike_units`` (strike x 1000, int64); per prefix the ``roots`` and expiry ``days``
    (``datetime64[D]``)."""

    prefix: np.ndarray
    roots: list[str]
    days: np.ndarray
    is_call: np.ndarray
    strike_units: np.ndarray


def split_osi(symbols: pa.Array) -> OsiColumns | None:
    """OSI symbols already in normal form (upper case, compact, none missing) split column-wise,
    or None when any symbol is not one: the caller then takes its exact path
    (:func:`flows.chain.osi_fields` normalises and marks each symbol).  The same fields as
    ``osi_fields`` on such symbols: the fixed-width tail (C/P and the 8 strike digits) read as
    a byte matrix, root and expiry once per ``root + YYMMDD`` prefix (a chain has ~100 distinct
    ones; symbols of one width are compared row to row, as CBOE lists them expiry by expiry, so
    a prefix recurring after another gets a second entry)."""
    n = len(symbols)
    if n == 0 or symbols.null_count:
        return None
    offsets, data = string_buffers(symbols)
    first = int(offsets[0])
    width = int(offsets[1]) - first
    prefixes: list[bytes] | None = None
    # (ndarray methods and ufuncs, not numpy's Python-level helpers: their per-call cost is
    # most of the work on a small chain, when the bytecode is cold)
    if int(offsets[-1]) - first == n * width and (offsets[1:] - offsets[:-1] == width).all():
        # one width: the symbols as a byte matrix, prefixes by runs
        if not _OSI_TAIL + 1 <= width <= _OSI_TAIL + 6:
            return None
        matrix = data[first : first + n * width].reshape(n, width)
        side = matrix[:, width - 9]  # the C/P byte of each symbol
        strike_units = eight_digits(matrix[:, width - 8 :])
        head = np.ascontiguousarray(matrix[:, : width - 9]).view(f"V{width - 9}").reshape(n)
        # (fixed-width byte strings: compared whole)
        new_run = np.concatenate((_FIRST, head[1:] != head[:-1]))
        starts = new_run.nonzero()[0]
        if starts.size <= max(64, n // 16):
            prefix = new_run.cumsum() - 1
            prefixes = head[starts].tolist()
    else:
        length = offsets[1:] - offsets[:-1]
        if length.min() < _OSI_TAIL + 1 or length.max() > _OSI_TAIL + 6:
            return None
        side = data[offsets[1:] - 9]  # the C/P byte of each symbol
        t_off, t_data = string_buffers(pc.binary_slice(_as_binary(symbols), -8))
        strike_units = eight_digits(t_data[t_off[0] : t_off[0] + 8 * n].reshape(n, 8))
    is_call = side == ord("C")
    if strike_units is None or not (is_call | (side == ord("P"))).all():
        return None
    if prefixes is None:  # many runs or several widths: each distinct prefix by hashing
        encoded = pc.binary_slice(_as_binary(symbols), 0, -9).dictionary_encode()
        prefix = encoded.indices.to_numpy()
        prefixes = encoded.dictionary.to_pylist()
    roots, days = [], []
    for p in prefixes:
        text = p.decode("latin-1")
        day = yymmdd_day(text[-6:])
        if day is None or not _OSI_ROOT.fullmatch(text[:-6]):
            return None
        roots.append(text[:-6])
        days.append(day)
    return OsiColumns(
        prefix=prefix,
        roots=roots,
        days=np.array(days, dtype="datetime64[D]"),
        is_call=is_call,
        strike_units=strike_units,
    )


_FIELDS = ("bid", "ask", "iv", "open_interest", "volume", "delta", "gamma")
"""The numeric fields of an option row, as :func:`rows_frame` reads them."""
_OPTION = operator.itemgetter("option")
_NUMBERS = tuple(operator.itemgetter(f) for f in _FIELDS)
_NO_SKIPPED = pd.DataFrame(
    {
        "row": pd.Series(dtype="int64"),
        "field": pd.Series(dtype=object),
        "reason": pd.Series(dtype=object),
    }
)
"""The exact path's ``skipped`` frame when no row is skipped (shared: copy on write)."""
_CONTRACT_COLUMNS = pd.Index([*CHAIN_COLUMNS, "unreadable"])
"""The contracts' columns (``unreadable`` is :data:`flows.chain.UNREADABLE_COLUMN`)."""


def contracts_frame(
    symbol: pa.Array,
    root: pa.Array,
    kind: pa.Array,
    strike: np.ndarray,
    expiry: np.ndarray,
    settle_ns: np.ndarray,
    numbers: np.ndarray,
    numbers_at: np.ndarray,
) -> pd.DataFrame:
    """The contracts frame of a chain read in one pass, every contract readable: the columns
    of :data:`flows.schema.CHAIN_COLUMNS` plus ``unreadable`` (all False).

    ``symbol``, ``root`` and ``kind`` are Arrow string arrays (pandas ``str``), ``strike``
    float, ``expiry`` ``datetime64[ns]``, ``settle_ns`` UTC int64 nanoseconds, ``numbers`` a
    (k, n) float matrix whose rows are numeric columns, ``numbers_at`` their places
    (:func:`block_placement` of their names).  The frame is
    assembled from these arrays as its blocks (:func:`pandas.api.internals.
    create_dataframe_from_blocks`: no type inference, no copy), the same frame as
    ``pd.DataFrame`` of the columns at a fraction of the per-call cost that dominates a small
    chain.
    """
    n = strike.size
    return create_dataframe_from_blocks(
        [
            (_strings(symbol), _AT["symbol"]),
            (_strings(root), _AT["root"]),
            (_strings(kind), _AT["type"]),
            (strike.reshape(1, n), _AT["strike"]),
            (expiry.reshape(1, n), _AT["expiry"]),
            (pd.array(settle_ns.view("datetime64[ns]"), dtype=_UTC), _AT["settle_time"]),
            (numbers, numbers_at),
            (np.zeros((1, n), dtype=bool), _AT["unreadable"]),
        ],
        index=pd.RangeIndex(n),
        columns=_CONTRACT_COLUMNS,
    )


def _strings(arr: pa.Array) -> Any:
    """An Arrow string array as pandas' ``str`` array (``large_string`` storage)."""
    return pd.arrays.ArrowStringArray(
        arr if arr.type == pa.large_string() else arr.cast(pa.large_string()), dtype=_STR
    )


_STR = pd.Series([], dtype="str").dtype
"""pandas' ``str`` dtype (the instance: resolving the name costs more than the conversion)."""
_UTC = pd.DatetimeTZDtype("ns", "UTC")


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


_AT = {name: _read_only(np.full(1, i)) for i, name in enumerate(_CONTRACT_COLUMNS)}
"""Block placement of each contract column."""


def block_placement(names: tuple[str, ...]) -> np.ndarray:
    """The places of the contract columns ``names`` (for :func:`contracts_frame`: computed
    once per order of the numeric columns, as a module constant)."""
    return _read_only(np.concatenate([_AT[name] for name in names]))


_FIELDS_AT = block_placement(_FIELDS)


def _regular_chain(
    options: list[Any],
    spot: float,
    as_of: pd.Timestamp,
    where: str,
    source: str,
    symbol: str,
    quality: Quality,
) -> Any:
    """The chain of a regular option list in one pass over whole columns, or None.

    Regular: every row an object with an ``option`` symbol in OSI's normal form and every
    numeric field present as a number (or a numeric string, which the exact path reads as the
    same number; no ``null``, NaN or boolean), within :mod:`flows.limits`; no repeated symbol;
    a settlement instant for every expiry.  That is a real CDN response; anything else returns
    None *before* ``quality`` is touched, and the exact path (:func:`rows_frame` and the checks
    after it) reads the rows and raises or records what it finds, so both paths give the same
    chain, quality and errors (tests/sources/test_cboe_json_paths.py).
    """
    n = len(options)
    try:
        symbols = pa.array(list(map(_OPTION, options)), type=pa.large_string())
        columns = [list(map(field, options)) for field in _NUMBERS]  # (C-level loops)
        # the exact path's own conversion (rows_frame), every field at once: (fields, rows)
        values = np.array(columns, dtype=np.float64)
    except (KeyError, TypeError, IndexError, ValueError, OverflowError, pa.ArrowException):
        return None  # a row not an object or lacking a field, a symbol or value not readable
    if bool in set(map(type, itertools.chain.from_iterable(columns))):
        return None  # JSON true/false (numpy reads 1.0/0.0): unreadable on the exact path
    # each field's extremes (NaN where a value is NaN, and NaN fails every limit)
    for f, low, high in zip(
        _FIELDS, values.min(axis=1).tolist(), values.max(axis=1).tolist(), strict=True
    ):
        if low != low or high != high:  # NaN: missing or unreadable on the exact path
            return None
        if f in _RANGES and not within_limits(low, high, _RANGES[f]):
            return None
        # gamma x spot (spot > 0 keeps the order: its extremes are the extremes of gamma)
        if f == "gamma" and not within_limits(low * spot, high * spot, "option.gamma_x_spot"):
            return None
    osi = split_osi(symbols)
    if osi is None:
        return None
    # one row per (root, expiry, type, strike) (a prefix can repeat: by its root and day)
    names = sorted(set(osi.roots))
    prefix_key = osi.days.view(np.int64) * len(names) + [names.index(r) for r in osi.roots]
    key = (prefix_key[osi.prefix] * 2 + osi.is_call) * 100_000_000 + osi.strike_units
    if (len(set(key.tolist())) < n) if n < 1000 else pd.Index(key).has_duplicates:
        return None  # a repeated symbol: dropped or refused on the exact path
    settle = products.settlement_instants_ns(osi.roots, osi.days)
    if (settle == _NAT_NS).any():
        return None  # an expiry outside the exchange calendar: a skip

    # the chain is regular: the exact path's records
    oi = values[_FIELDS.index("open_interest")]
    quality.total_rows += n
    quality.total_weight += float(oi.sum())  # (no NaN: the exact path's nansum)
    iv = values[_FIELDS.index("iv")]
    iv[iv <= 0] = np.nan  # CBOE's 0 = not computed
    roots = (
        pa.repeat(pa.scalar(osi.roots[0], pa.large_string()), n)
        if len(names) == 1
        else pa.array(osi.roots, type=pa.string()).take(osi.prefix)
    )
    kind = np.where(osi.is_call, np.uint8(ord("C")), np.uint8(ord("P")))
    contracts = contracts_frame(
        symbols,
        roots,
        fixed_width_strings(kind, 1),
        osi.strike_units / 1000.0,
        osi.days.astype("datetime64[ns]")[osi.prefix],
        settle[osi.prefix],
        values,
        _FIELDS_AT,
    )
    return Chain(
        underlying=str(symbol).lstrip("_").upper(),
        spot=spot,
        as_of=as_of,
        source=source,
        contracts=contracts,
        skipped=_NO_SKIPPED.copy(deep=False),
        quality=quality,
    )


def dedupe(
    contracts: pd.DataFrame, rows: np.ndarray, source: str, quality: Quality
) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop exact duplicate contracts (same symbol, same values: a repair); a symbol repeated
    with different values is an :class:`InputError` naming the symbol and both rows."""
    dup_any = contracts["symbol"].duplicated(keep=False).to_numpy()
    if not dup_any.any():
        return contracts, rows
    exact = contracts.duplicated(keep="first").to_numpy()
    distinct = contracts.loc[dup_any & ~exact]
    clash = distinct["symbol"].duplicated(keep=False).to_numpy()
    if clash.any():
        sym = distinct["symbol"].to_numpy()[clash][0]
        where = rows[np.flatnonzero(dup_any & ~exact)[clash]]
        first = contracts.loc[contracts["symbol"] == sym]
        # the source's fields only: ``unreadable`` (a flag the parser derives from them) differs
        # whenever a cell does, and names nothing in the response
        diff = [
            c for c in first.columns if c != "unreadable" and first[c].nunique(dropna=False) > 1
        ]
        vals = {c: first[c].tolist() for c in diff[:3]}
        raise InputError(
            source,
            "option",
            # the rows as the response numbers them (0-based: data.options[0] is the first)
            f"conflicting duplicate option symbol {sym} "
            f"({' and '.join(f'data.options[{r}]' for r in where[:2])}): "
            + ", ".join(f"{c} {v[0]!r} vs {v[1]!r}" for c, v in vals.items()),
        )
    quality.repair("exact duplicate option row dropped", int(exact.sum()))
    quality.total_rows -= int(exact.sum())
    quality.total_weight -= float(
        np.nansum(contracts.loc[exact, "open_interest"].to_numpy(dtype=np.float64))
    )
    return contracts.loc[~exact].reset_index(drop=True), rows[~exact]


def parse(
    payload: bytes | str | Mapping[str, Any],
    source: str = SOURCE,
    as_of: datetime | None = None,
    *,
    symbol: str | None = None,
) -> Any:
    """Decode a CDN response into a :class:`flows.chain.Chain` (pure).

    Parameters
    ----------
    payload:
        Raw body (bytes/str) or the already decoded object.
    source:
        Source label carried by the chain (``cboe-json``, ``sample``, a file name).
    as_of:
        Snapshot time; default the payload's ``timestamp`` (UTC).
    symbol:
        Name used in error messages when the payload's own ``symbol`` is missing.

    Returns
    -------
    Chain
        ``spot`` = ``data.current_price`` (underlying price units), ``as_of`` tz-aware UTC, one
        contract row per OSI symbol with :data:`flows.schema.CHAIN_COLUMNS`; ``skipped`` lists
        rows refused (with the reason).

    Raises
    ------
    InputError
        Malformed JSON, missing ``data``/``data.options``/``data.current_price``, an unknown
        timestamp layout, an unparseable OSI symbol or an empty chain; the message names the
        symbol and the field.
    """
    return _parse(payload, source, as_of, symbol=symbol, regular=True)


def _parse(
    payload: bytes | str | Mapping[str, Any],
    source: str = SOURCE,
    as_of: datetime | None = None,
    *,
    symbol: str | None = None,
    regular: bool = True,
) -> Any:
    """:func:`parse`; ``regular=False`` skips the one-pass path for regular chains
    (:func:`_regular_chain`), so the tests can compare both paths on the same payload."""
    where = f"cboe:{symbol}" if symbol else source
    obj, repairs = _decode(payload, where)
    sym = obj.get("symbol") if isinstance(obj.get("symbol"), str) else symbol
    data = obj.get("data")
    sym = (
        (
            data.get("symbol")
            if isinstance(data, Mapping) and isinstance(data.get("symbol"), str)
            else sym
        )
        or symbol
        or "?"
    )
    where = f"cboe:{sym}" if source in (SOURCE, "sample") else f"{source} (cboe:{sym})"
    if not isinstance(data, Mapping):
        raise InputError(where, "data", "missing (the response has no 'data' object)")
    if "options" not in data:
        raise InputError(where, "data.options", "missing (no option chain in the response)")
    options = data["options"]
    if not isinstance(options, list):
        raise InputError(where, "data.options", f"expected a list, got {type(options).__name__}")
    if "current_price" not in data or data["current_price"] is None:
        raise InputError(where, "data.current_price", "missing (no spot price)")
    spot = _number(data["current_price"], where, "data.current_price")
    if not within_limits(spot, spot, "option.spot"):  # (a scalar: the table's test first)
        check_range([spot], "option.spot", where, field="data.current_price")
    ts = (
        pd.Timestamp(as_of).tz_convert("UTC")
        if as_of is not None
        else parse_timestamp(obj.get("timestamp"), where)
    )
    quality = Quality(source=source, basis="open interest")
    for repair in repairs:
        quality.repair(repair, 1)
    if not options:
        raise InputError(where, "data.options", "empty chain (no option rows)")
    if regular:
        chain = _regular_chain(options, spot, ts, where, source, sym, quality)
        if chain is not None:
            return chain
    frame, skipped = rows_frame(options, where, quality)
    if frame.empty:
        raise InputError(where, "data.options", f"no readable option row ({quality.summary()})")
    gx = frame["gamma"].to_numpy() * spot
    check_range(
        gx, "option.gamma_x_spot", where, rows=frame.index.to_numpy(), field="data.options[].gamma"
    )
    osi = parse_osi(frame["symbol"])
    settle = settlement_times(osi["root"].fillna(""), osi["expiry"])
    bad = osi["expiry"].isna() | osi["strike"].isna() | osi["type"].isna()
    no_settle = ~bad & pd.Series(settle.isna(), index=frame.index)
    oi = frame["open_interest"].to_numpy()
    for mask, reason in (
        (bad, "not an OSI option symbol: "),
        (no_settle, "expiry outside the exchange calendar: "),
    ):
        if mask.any():
            skipped = pd.concat(
                [
                    skipped,
                    pd.DataFrame(
                        {
                            "row": frame.index[mask],
                            "field": "option",
                            "reason": reason + frame.loc[mask, "symbol"],
                        }
                    ),
                ],
                ignore_index=True,
            )
            quality.skip(
                reason.rstrip(": "), int(mask.sum()), weight=float(oi[mask.to_numpy()].sum())
            )
    ok = ~(bad | no_settle).to_numpy()
    frame, osi, settle = frame.loc[ok], osi.loc[ok], settle[ok]
    if frame.empty:
        raise InputError(where, "data.options", "no row with a valid OSI option symbol")
    values: dict[str, Any] = {"symbol": frame["symbol"].to_numpy()}
    for col in ("root", "type", "strike", "expiry"):
        values[col] = osi[col].to_numpy()
    values["settle_time"] = settle
    for col in ("bid", "ask", "iv", "delta", "gamma", "open_interest", "volume"):
        values[col] = frame[col].to_numpy()
    contracts = pd.DataFrame({col: values[col] for col in CHAIN_COLUMNS})
    contracts[UNREADABLE_COLUMN] = frame["unreadable"].to_numpy()
    contracts, _rows = dedupe(contracts, frame.index.to_numpy(), where, quality)
    underlying = str(sym).lstrip("_").upper()
    skipped["row"] = skipped["row"].astype("int64")
    return Chain(
        underlying=underlying,
        spot=spot,
        as_of=ts,
        source=source,
        contracts=contracts,
        skipped=skipped.reset_index(drop=True),
        quality=quality,
    )
