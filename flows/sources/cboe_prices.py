"""Cboe daily index prices: ``VIX_History.csv`` and the other ``{SYMBOL}_History.csv`` files.

Endpoint: ``GET https://cdn.cboe.com/api/global/us_indices/daily_prices/{SYMBOL}_History.csv``
(``VIX``, ``VIX9D``, ``VIX3M``, ``VVIX``, ``SKEW``, ...), the whole history in one file.
Layout: header ``DATE,OPEN,HIGH,LOW,CLOSE``; dates ``MM/DD/YYYY`` on the CDN, ISO in the
mirrored copy in ``../shared/data/prices/`` (both read).  Single-value files (``DATE,VVIX``)
take their one value column as the close.  Quirks: OPEN/HIGH/LOW equal CLOSE before 2004-06-11
(Cboe did not keep intraday values); since 2022 the VIX has rows on some exchange holidays
(global trading hours), dropped by default (see :mod:`flows.sources.price_frame`).

Three steps as every source: :func:`build_query` (pure), :func:`fetch` (network only),
:func:`parse` (pure; returns the :data:`flows.schema.PRICE_COLUMNS` frame and a
:class:`flows.quality.Quality`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from flows.errors import InputError
from flows.quality import Quality
from flows.sources.http import HttpClient
from flows.sources.price_frame import parse_delimited

URL_TEMPLATE = "https://cdn.cboe.com/api/global/us_indices/daily_prices/{symbol}_History.csv"
SOURCE = "cboe-daily-prices"
OPTIONAL = {"open": ("OPEN",), "high": ("HIGH",), "low": ("LOW",), "volume": ("VOLUME",)}


@dataclass(frozen=True)
class PriceQuery:
    symbol: str
    url: str


def build_query(symbol: str, *, url_template: str = URL_TEMPLATE) -> PriceQuery:
    """The request for one index (pure); ``symbol`` without a leading ``^`` or ``_``."""
    sym = symbol.strip().upper().lstrip("^_")
    if not sym:
        raise InputError(SOURCE, "symbol", "empty symbol")
    return PriceQuery(symbol=sym, url=url_template.format(symbol=sym))


def fetch(query: PriceQuery, client: HttpClient) -> bytes:
    """GET the CSV bytes (network only)."""
    return client.get_bytes(query.url, source=f"{SOURCE}:{query.symbol} ({query.url})")


def parse(raw: bytes, source: str, symbol: str = "VIX") -> tuple[pd.DataFrame, Quality]:
    """Parse a Cboe daily price CSV (pure); see :func:`flows.sources.price_frame.parse_delimited`."""
    return parse_delimited(
        raw, source, symbol=symbol, date_names=("DATE",), close_names=("CLOSE",), optional=OPTIONAL
    )
