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
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from flows.errors import InputError, SourceError
from flows.schema import CHAIN_COLUMNS

BASE_URL = "https://cdn.cboe.com/api/global/delayed_quotes/options"
"""CBOE's public CDN for delayed option quotes (15-minute delayed)."""

SOURCE = "cboe-json"
"""Source label carried by chains and results from this connector."""

INDEX_SYMBOLS: frozenset[str] = frozenset(
    {"SPX", "XSP", "NDX", "XND", "RUT", "MRUT", "VIX", "DJX", "OEX", "XEO", "SPESG", "NANOS"}
)
"""Cash indices: CBOE prefixes their symbol with an underscore on the CDN (``_SPX``)."""

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


def build_query(symbol: str, *, base_url: str = BASE_URL, index_symbols: frozenset[str] | set[str] = INDEX_SYMBOLS) -> CboeQuery:
    """The CDN request for ``symbol`` (pure).

    >>> build_query("spx").url
    'https://cdn.cboe.com/api/global/delayed_quotes/options/_SPX.json'
    """
    cdn = cdn_symbol(symbol, index_symbols)
    return CboeQuery(underlying=cdn.lstrip("_"), symbol=cdn, url=f"{base_url.rstrip('/')}/{cdn}.json")


def fetch(query: CboeQuery | str, client: Any) -> bytes:
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
            raise SourceError(name, f"unknown symbol {query.symbol!r}: CBOE has no option chain for it", 404) from None
        raise


def _decode(payload: bytes | str | Mapping[str, Any], source: str) -> Mapping[str, Any]:
    if isinstance(payload, Mapping):
        return payload
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(source, None, f"response is not UTF-8 text: {exc}") from None
    try:
        obj = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise InputError(source, None, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(obj, Mapping):
        raise InputError(source, None, f"expected a JSON object, got {type(obj).__name__}")
    return obj


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


def parse_timestamp(value: Any, source: str) -> pd.Timestamp:
    """The payload's ``timestamp`` (``"2026-07-10 21:12:30"``, UTC without zone) as tz-aware UTC."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(source, "timestamp", f"missing or not a string: {value!r}")
    try:
        ts = pd.Timestamp(pd.to_datetime(value.strip(), format="ISO8601"))
    except (ValueError, TypeError):
        raise InputError(source, "timestamp", f"unknown date layout {value!r} (expected 'YYYY-MM-DD HH:MM:SS', UTC)") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def rows_frame(options: list[Any], source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Option rows -> (numeric frame of the fields read, skipped rows).

    ``skipped`` has :data:`flows.chain.SKIPPED_COLUMNS` (``row`` = 0-based position in
    ``data.options``, ``field``, ``reason``).  Rows that are not objects or lack an ``option``
    symbol are skipped; numeric fields that are null or non-numeric become NaN (null greeks are
    "not computed"); a negative open interest or volume skips the row, never silently clipped.
    """
    is_row = np.array([isinstance(o, Mapping) and isinstance(o.get("option"), str) and bool(o.get("option").strip()) for o in options], dtype=bool)
    skipped = [{"row": i, "field": "option", "reason": "row without an option symbol"} for i in np.flatnonzero(~is_row)]
    good = [o for o, ok in zip(options, is_row, strict=True) if ok]
    # Column-wise lists are several times faster than a DataFrame of row dicts.
    frame = pd.DataFrame({k: [o.get(k) for o in good] for k in _ROW_FIELDS}, index=np.flatnonzero(is_row), columns=list(_ROW_FIELDS))
    frame = frame.rename(columns={"option": "symbol"})
    frame["symbol"] = frame["symbol"].astype(str).str.strip().str.replace(" ", "", regex=False)
    for col in ("bid", "ask", "iv", "open_interest", "volume", "delta", "gamma"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("open_interest", "volume"):
        neg = frame[col] < 0
        skipped += [{"row": int(i), "field": col, "reason": f"negative {col}"} for i in frame.index[neg]]
        frame = frame.loc[~neg]
    # CBOE writes 0.0 where it did not compute IV or greeks: that is "missing", not zero.
    frame.loc[frame["iv"] <= 0, "iv"] = np.nan
    # Greeks of 0 alongside a missing IV are "not computed" too; a non-zero gamma with IV 0 (CBOE
    # does that for same-day expiries after the close) is kept, as the CSV parser keeps it.
    for col in ("delta", "gamma"):
        frame.loc[frame["iv"].isna() & (frame[col] == 0), col] = np.nan
    frame["open_interest"] = frame["open_interest"].fillna(0.0)
    frame["volume"] = frame["volume"].fillna(0.0)
    return frame, pd.DataFrame(skipped, columns=["row", "field", "reason"])


def parse(payload: bytes | str | Mapping[str, Any], source: str = SOURCE, as_of: datetime | None = None, *, symbol: str | None = None) -> Any:
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
    from flows.chain import Chain, parse_osi, settlement_times

    where = f"cboe:{symbol}" if symbol else source
    obj = _decode(payload, where)
    sym = obj.get("symbol") if isinstance(obj.get("symbol"), str) else symbol
    data = obj.get("data")
    sym = (data.get("symbol") if isinstance(data, Mapping) and isinstance(data.get("symbol"), str) else sym) or symbol or "?"
    where = f"cboe:{sym}"
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
    ts = pd.Timestamp(as_of).tz_convert("UTC") if as_of is not None else parse_timestamp(obj.get("timestamp"), where)
    frame, skipped = rows_frame(options, where)
    if frame.empty:
        raise InputError(where, "data.options", "empty chain (no option rows)")
    osi = parse_osi(frame["symbol"])
    bad = osi["expiry"].isna() | osi["strike"].isna() | osi["type"].isna()
    if bad.any():
        skipped = pd.concat([skipped, pd.DataFrame({"row": frame.index[bad], "field": "option", "reason": "not an OSI option symbol: " + frame.loc[bad, "symbol"]})], ignore_index=True)
        frame, osi = frame.loc[~bad], osi.loc[~bad]
    if frame.empty:
        raise InputError(where, "data.options", "no row with a valid OSI option symbol")
    contracts = pd.DataFrame({"symbol": frame["symbol"].to_numpy()})
    for col in ("root", "type", "strike", "expiry"):
        contracts[col] = osi[col].to_numpy()
    contracts["settle_time"] = settlement_times(contracts["root"], contracts["expiry"])
    for col in ("bid", "ask", "iv", "delta", "gamma", "open_interest", "volume"):
        contracts[col] = frame[col].to_numpy()
    contracts = contracts[list(CHAIN_COLUMNS)]
    dup = contracts["symbol"].duplicated(keep="first").to_numpy()
    if dup.any():
        skipped = pd.concat([skipped, pd.DataFrame({"row": frame.index[dup], "field": "option", "reason": "duplicate option symbol " + contracts.loc[dup, "symbol"]})], ignore_index=True)
        contracts = contracts.loc[~dup].reset_index(drop=True)
    underlying = str(sym).lstrip("_").upper()
    skipped["row"] = skipped["row"].astype("int64")
    return Chain(underlying=underlying, spot=spot, as_of=ts, source=source, contracts=contracts, skipped=skipped.reset_index(drop=True))
