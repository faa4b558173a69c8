"""FRED series as ``fredgraph.csv``: daily closes such as ``SP500`` and ``NASDAQ100``.

Endpoint: ``GET https://fred.stlouisfed.org/graph/fredgraph.csv?id={SERIES}`` (no key needed).
Layout: header ``observation_date,SP500`` (``DATE,SP500`` in files saved before 2024), ISO dates,
one value column.  Quirks: **every weekday is a row and US holidays are rows with an empty value**
(``.`` in older files): these gaps are dropped and counted as a repair, while an empty value on
an exchange session is a lost observation (skipped, warned); FRED keeps only the last 10 years
of the S&P 500 and Nasdaq-100 series (S&P DJI licence).

Three steps as every source: :func:`build_query` (pure), :func:`fetch` (network only),
:func:`parse` (pure; the :data:`flows.schema.PRICE_COLUMNS` frame and a
:class:`flows.quality.Quality`; ``open``/``high``/``low``/``volume`` are NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from flows.errors import InputError
from flows.quality import Quality
from flows.sources.http import HttpClient
from flows.sources.price_frame import parse_delimited
from flows.sources.textio import decode_text

URL_TEMPLATE = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series}"
SOURCE = "fred"


@dataclass(frozen=True)
class SeriesQuery:
    series: str
    url: str


def build_query(series: str, *, url_template: str = URL_TEMPLATE) -> SeriesQuery:
    """The request for one FRED series id (pure), e.g. ``SP500``."""
    sid = series.strip().upper()
    if not sid or not sid.replace("_", "").isalnum():
        raise InputError(SOURCE, "series", f"not a FRED series id: {series!r}")
    return SeriesQuery(series=sid, url=url_template.format(series=sid))


def fetch(query: SeriesQuery, client: HttpClient) -> bytes:
    """GET the CSV bytes (network only)."""
    return client.get_bytes(query.url, source=f"{SOURCE}:{query.series} ({query.url})")


def parse(raw: bytes, source: str, symbol: str | None = None) -> tuple[pd.DataFrame, Quality]:
    """Parse a ``fredgraph.csv`` (pure).  ``symbol`` defaults to the value column's name."""
    decoded = decode_text(raw, source)  # once: the parser and the series name read the same text
    frame, q = parse_delimited(
        raw,
        source,
        symbol=symbol or "",
        date_names=("observation_date", "DATE"),
        close_names=(),
        decoded=decoded,
    )
    if not symbol:
        frame.attrs["symbol"] = _series_name(decoded.text)
    return frame, q


def _series_name(text: str) -> str:
    """The second cell of the first line that is not blank (the value column's name)."""
    head = text.lstrip()
    end = head.find("\n")
    cols = [c.strip() for c in (head if end < 0 else head[:end]).split(",")]
    return cols[1] if len(cols) > 1 else ""
