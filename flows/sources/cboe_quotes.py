"""CBOE delayed quotes: prior close and current / pre-market price of underlyings and funds.

Endpoint: ``GET https://cdn.cboe.com/api/global/delayed_quotes/quotes/{SYMBOL}.json`` (cash
indices with a leading underscore, ``_SPX``; equities and ETFs without, ``NVDA``).  The body has
the shape of the options endpoint without ``options``::

    {"timestamp": "2026-07-10 21:12:30",          # publish time, UTC, no zone
     "data": {"symbol": "MSTR", "current_price": 94.6604, "close": 94.64,
              "prev_day_close": 93.89, "volume": 16101473,
              "last_trade_time": "2026-07-10T15:59:59", ...},   # New York local, no zone
     "symbol": "MSTR"}

Three steps: :func:`build_query` (pure), :func:`fetch` (network only, shared
:class:`~flows.sources.http.HttpClient`), :func:`parse` (pure).  ``parse`` returns one row:
``symbol``, ``price`` (USD or index points: ``current_price``, else ``close``), ``prev_close``
(``prev_day_close``, float32 noise rounded to 6 decimals), ``return_since_prev_close``
(fraction, ``price / prev_close - 1``), ``volume_shares`` (today's volume, shares) and
``price_time`` (tz-aware UTC; from ``last_trade_time`` read as New York time, else the top-level
``timestamp`` read as UTC).  Before the open the current price is the latest (pre-market or
prior) trade, so the return is the move so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from flows.errors import FlowdeskError, InputError
from flows.sources.cboe import INDEX_SYMBOLS, cdn_symbol  # noqa: F401 (INDEX_SYMBOLS re-exported)
from flows.sources.http import HttpClient

URL_TEMPLATE = "https://cdn.cboe.com/api/global/delayed_quotes/quotes/{symbol}.json"
SOURCE = "cboe-quotes"
NEW_YORK = "America/New_York"

QUOTE_COLUMNS = [
    "symbol",
    "price",
    "prev_close",
    "return_since_prev_close",
    "volume_shares",
    "price_time",
]


@dataclass(frozen=True)
class QuoteQuery:
    symbol: str
    """The symbol as the desk names it (``SPX``, ``NVDA``)."""
    url: str


def build_query(symbol: str, *, url_template: str = URL_TEMPLATE) -> QuoteQuery:
    """The request for ``symbol`` (pure): ``SPX`` -> ``.../quotes/_SPX.json``."""
    sym = symbol.strip().upper()
    if not sym:
        raise InputError(SOURCE, "symbol", "empty symbol")
    # cash indices take a leading underscore (``_SPX``): the options connector's rule and set
    return QuoteQuery(symbol=sym.lstrip("_"), url=url_template.format(symbol=cdn_symbol(sym)))


def fetch(query: QuoteQuery, client: HttpClient) -> Any:
    """GET the quote JSON (network only).  HTTP errors raise :class:`~flows.errors.SourceError`."""
    return client.get_json(query.url, source=f"{SOURCE}:{query.symbol} ({query.url})")


def _number(data: dict[str, Any], key: str, source: str, *, required: bool = True) -> float:
    value = data.get(key)
    if value is None:
        if required:
            raise InputError(source, key, "missing in the quote")
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InputError(source, key, f"not a number: {value!r}") from None
    return out


def parse(payload: Any, source: str) -> pd.DataFrame:
    """One-row frame of :data:`QUOTE_COLUMNS` from a quote body (pure; see the module docstring).

    Raises :class:`InputError` naming ``source`` and the field for a body without ``data``, a
    missing or non-numeric price / prior close, or a prior close <= 0.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise InputError(source, "data", "quote body has no 'data' object")
    data = payload["data"]
    symbol = str(data.get("symbol") or payload.get("symbol") or "").strip().upper()
    if not symbol:
        raise InputError(source, "symbol", "missing in the quote")
    price = _number(data, "current_price", source, required=False)
    if not math.isfinite(price) or price <= 0:
        price = _number(data, "close", source)
    prev = round(_number(data, "prev_day_close", source), 6)
    if not math.isfinite(price) or price <= 0:
        raise InputError(source, "current_price", f"no usable price ({price!r})")
    if not math.isfinite(prev) or prev <= 0:
        raise InputError(source, "prev_day_close", f"prior close must be > 0 (got {prev!r})")
    volume = _number(data, "volume", source, required=False)
    when = pd.NaT
    if data.get("last_trade_time"):
        try:
            when = (
                pd.Timestamp(str(data["last_trade_time"])).tz_localize(NEW_YORK).tz_convert("UTC")
            )
        except (ValueError, TypeError):
            raise InputError(
                source, "last_trade_time", f"not a time: {data['last_trade_time']!r}"
            ) from None
    elif payload.get("timestamp"):
        try:
            when = pd.Timestamp(str(payload["timestamp"])).tz_localize("UTC")
        except (ValueError, TypeError):
            raise InputError(source, "timestamp", f"not a time: {payload['timestamp']!r}") from None
    return pd.DataFrame(
        {
            "symbol": [symbol],
            "price": [price],
            "prev_close": [prev],
            "return_since_prev_close": [price / prev - 1.0],
            "volume_shares": [volume],
            "price_time": pd.Series([when], dtype="datetime64[ns, UTC]"),
        }
    )


def quotes(
    symbols: list[str], client: HttpClient, *, url_template: str = URL_TEMPLATE
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Fetch and parse several symbols; returns ``(frame, failures)``.

    A symbol that fails (HTTP error, malformed body) is left out of the frame and reported in
    ``failures`` (symbol -> error text), so one bad symbol does not sink the rest.
    """
    frames: list[pd.DataFrame] = []
    failures: dict[str, str] = {}
    for sym in symbols:
        query = build_query(sym, url_template=url_template)
        try:
            frames.append(parse(fetch(query, client), f"{SOURCE}:{query.symbol}"))
        except FlowdeskError as exc:
            failures[query.symbol] = str(exc)
    frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            {
                c: pd.Series(
                    dtype="datetime64[ns, UTC]"
                    if c == "price_time"
                    else (str if c == "symbol" else float)
                )
                for c in QUOTE_COLUMNS
            }
        )
    )
    return frame, failures
