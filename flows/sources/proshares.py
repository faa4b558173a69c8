"""ProShares NAV history: daily NAV, shares outstanding, net assets and net creations per fund.

Endpoint: ``GET https://accounts.profunds.com/etfdata/ByFund/{TICKER}-historical_nav.csv``.
Layout (CSV, header)::

    Date,ProShares Name,Ticker,NAV,Prior NAV,NAV Change (%),NAV Change ($),Shares Outstanding (000),Assets Under Management
    05/12/2025,ProShares UltraPro S&P500,UPRO,77.8027,70.8759,9.77314,6.9268,48500,3773430950

Quirks handled: newest row first; dates ``MM/DD/YYYY``; ``Shares Outstanding (000)`` in
**thousands** and sometimes fractional; ``Assets Under Management`` in USD with float noise in
old rows; some files end without a newline (UPRO).  NAV and shares are split-adjusted.

:func:`parse` returns one row per date, **oldest first**: ``date`` (tz-naive calendar date),
``ticker``, ``nav`` (USD per share), ``shares_outstanding`` (shares, = file value x 1000),
``aum_usd`` (USD, as published), ``net_creations_usd`` (USD, ``(SO_t - SO_{t-1}) * NAV_t``;
+ = inflow; NaN on the first row).  Three steps as every source: :func:`build_query`,
:func:`fetch` (network only), :func:`parse` (pure).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flows.errors import InputError
from flows.sources.http import HttpClient

URL_TEMPLATE = "https://accounts.profunds.com/etfdata/ByFund/{ticker}-historical_nav.csv"
SOURCE = "proshares"
COLUMNS = {
    "Date": "date",
    "Ticker": "ticker",
    "NAV": "nav",
    "Shares Outstanding (000)": "shares_thousands",
    "Assets Under Management": "aum_usd",
}
NAV_COLUMNS = ["date", "ticker", "nav", "shares_outstanding", "aum_usd", "net_creations_usd"]


@dataclass(frozen=True)
class NavQuery:
    ticker: str
    url: str


def build_query(ticker: str, *, url_template: str = URL_TEMPLATE) -> NavQuery:
    """The request for one fund (pure)."""
    sym = ticker.strip().upper()
    if not sym:
        raise InputError(SOURCE, "ticker", "empty ticker")
    return NavQuery(ticker=sym, url=url_template.format(ticker=sym))


def fetch(query: NavQuery, client: HttpClient) -> bytes:
    """GET the CSV bytes (network only)."""
    return client.get_bytes(query.url, source=f"{SOURCE}:{query.ticker} ({query.url})")


def parse(raw: bytes, source: str) -> pd.DataFrame:
    """Parse a NAV history CSV into :data:`NAV_COLUMNS`, oldest first (pure).

    Raises :class:`InputError` naming ``source`` and the column or line for a missing column, an
    empty file, or a date / number that does not parse.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(source, None, "not UTF-8 text") from None
    if not text.strip():
        raise InputError(source, "line 1", "empty file")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(source, None, f"malformed CSV: {exc}") from None
    frame.columns = [c.strip() for c in frame.columns]
    for col in COLUMNS:
        if col not in frame.columns:
            raise InputError(source, f"line 1, column '{col}'", f"required column missing (have: {', '.join(frame.columns)})")
    if frame.empty:
        raise InputError(source, "line 2", "no data rows")
    frame = frame[list(COLUMNS)].rename(columns=COLUMNS)
    dates = pd.to_datetime(frame["date"].str.strip(), format="%m/%d/%Y", errors="coerce")
    nums = {c: pd.to_numeric(frame[c].str.replace(",", "", regex=False).str.strip(), errors="coerce") for c in ("nav", "shares_thousands", "aum_usd")}
    for col, values in (("Date", dates), *((k, v) for k, v in nums.items())):
        bad = values.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            shown = {v: k for k, v in COLUMNS.items()}.get(col, col)
            raise InputError(source, f"line {i + 2}, column '{shown}'", f"not a {'date (MM/DD/YYYY)' if col == 'Date' else 'number'}: {frame.iloc[i][col if col != 'Date' else 'date']!r}")
    out = pd.DataFrame(
        {
            "date": dates,
            "ticker": frame["ticker"].str.strip().str.upper(),
            "nav": nums["nav"],
            "shares_outstanding": nums["shares_thousands"] * 1000.0,
            "aum_usd": nums["aum_usd"],
        }
    )
    out = out.sort_values("date", kind="stable").drop_duplicates("date", keep="last").reset_index(drop=True)
    out["net_creations_usd"] = out["shares_outstanding"].diff() * out["nav"]
    return out[NAV_COLUMNS]


def latest(history: pd.DataFrame) -> pd.Series:
    """The newest row of a parsed history (assets date = ``date``)."""
    return history.iloc[-1]
