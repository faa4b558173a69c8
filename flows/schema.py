"""Columns, dtypes and units of the frames passed between sources, analytics, jobs and pages.

Sources produce these frames (``parse`` steps); analytics consume them.  ``validate_columns``
turns a missing column into an :class:`flows.errors.InputError` naming the source and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from flows.errors import InputError

# -- option chains (one row per contract; keyed by OSI symbol) -----------------------------
CHAIN_COLUMNS: Mapping[str, str] = {
    "symbol": "OSI option symbol without spaces, e.g. SPXW230915C04500000 (the key)",
    "root": "option root (SPX, SPXW, SPY, ...)",
    "type": "'C' or 'P'",
    "strike": "strike, index points / USD per share",
    "expiry": "expiration date (datetime64[ns], tz-naive calendar date)",
    "settle_time": "settlement instant, tz-aware UTC: the open (AM-settled) or the close (PM-settled) of the settlement session, from the exchange calendar",
    "bid": "bid, premium per unit of underlying",
    "ask": "ask, premium per unit of underlying",
    "iv": "implied volatility, fraction per year (NaN where the source has 0 or none)",
    "delta": "source delta per option, per unit of underlying (NaN where missing)",
    "gamma": "source gamma per option, per 1 point of the underlying (NaN where missing)",
    "open_interest": "open interest, contracts",
    "volume": "volume today, contracts",
}
OPTION_MULTIPLIER = 100
"""Units of underlying per listed equity/index option contract."""

# -- leveraged / inverse ETF universe (one row per fund) -------------------------------------
LETF_COLUMNS: Mapping[str, str] = {
    "ticker": "fund ticker",
    "name": "fund name",
    "underlying": "hedge ticker the fund trades (index funds mapped to a proxy, e.g. QQQ)",
    "underlying_asset": "what the fund tracks, as the source names it",
    "leverage": "signed daily leverage L (+3, -1, +1.25, ...), dimensionless",
    "issuer": "fund family",
    "fund_type": "Index / Sector / Single Stock / ...",
    "asset_class": "equity / crypto / commodity / debt / misc",
    "aum_usd": "prior-close net assets, USD",
    "price": "fund price, USD per share",
    "avg_volume": "average daily volume of the fund, shares",
    "reset": "leverage reset period: daily / weekly / monthly / quarterly / options-based / unknown (flows.letf_reset)",
}

# -- CFTC Commitments of Traders (one row per market code and report date) ------------------
COT_LEGACY_COLUMNS: Mapping[str, str] = {
    "as_of": "report date (datetime64[ns], tz-naive; usually a Tuesday)",
    "code": "6-character CFTC contract market code, string with leading zeros (the key)",
    "market": "market and exchange name as printed (changes over time; never a key)",
    "open_interest": "open interest, contracts",
    "noncomm_long": "non-commercial long, contracts",
    "noncomm_short": "non-commercial short, contracts",
    "noncomm_spread": "non-commercial spreading, contracts",
    "comm_long": "commercial long, contracts",
    "comm_short": "commercial short, contracts",
    "nonrept_long": "non-reportable long, contracts",
    "nonrept_short": "non-reportable short, contracts",
}
COT_TFF_COLUMNS: Mapping[str, str] = {
    "as_of": "report date (datetime64[ns], tz-naive)",
    "code": "6-character CFTC contract market code (the key)",
    "market": "market and exchange name as printed",
    "open_interest": "open interest, contracts",
    "dealer_long": "dealer/intermediary long, contracts",
    "dealer_short": "dealer/intermediary short, contracts",
    "asset_mgr_long": "asset manager/institutional long, contracts",
    "asset_mgr_short": "asset manager/institutional short, contracts",
    "lev_money_long": "leveraged funds long, contracts",
    "lev_money_short": "leveraged funds short, contracts",
    "other_rept_long": "other reportables long, contracts",
    "other_rept_short": "other reportables short, contracts",
    "nonrept_long": "non-reportable long, contracts",
    "nonrept_short": "non-reportable short, contracts",
}
# -- daily price histories (one row per session, oldest first) ---------------------------------
PRICE_COLUMNS: Mapping[str, str] = {
    "date": "session date (datetime64[ns], tz-naive), strictly increasing",
    "close": "closing level, index points / USD per share (> 0)",
    "open": "opening level, same unit (NaN where the source has none)",
    "high": "session high, same unit (NaN where none)",
    "low": "session low, same unit (NaN where none)",
    "volume": "volume as the source counts it (shares or contracts; NaN where none)",
}
"""Every price connector (Cboe daily prices, FRED, Yahoo-style drop files) returns this frame,
with ``frame.attrs["symbol"]`` and ``frame.attrs["source"]`` (file or URL)."""

# -- VIX futures (VX) daily settlements (one row per contract and trade date) ------------------
VX_COLUMNS: Mapping[str, str] = {
    "date": "trade date (datetime64[ns], tz-naive)",
    "contract": "contract code: VX + month code + two-digit year, e.g. VXG18 (February 2018)",
    "expiry": "final settlement date of the contract (flows.calendars.vx_final_settlement)",
    "settle": "daily settlement price, VIX index points (USD 1,000 per point per contract)",
    "open": "open, VIX points (NaN when the contract did not trade)",
    "high": "high, VIX points (NaN when none)",
    "low": "low, VIX points (NaN when none)",
    "close": "close, VIX points (NaN when the contract did not trade)",
    "volume": "total volume, contracts",
    "open_interest": "open interest, contracts",
}
VX_MULTIPLIER_USD = 1000.0
"""USD per VIX point per VX contract (since 2007-03-26; before, prices were quoted on 10 x VIX
with USD 100 per point, which the connector rescales)."""

FX_USD_PER_UNIT = (
    "FX frame: DatetimeIndex of ECB dates (tz-naive), one column per ISO currency, USD per 1 unit"
)


def validate_columns(frame: pd.DataFrame, required: Iterable[str], source: str) -> None:
    """Raise :class:`InputError` naming ``source`` and the first missing column."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:30]))
        raise InputError(
            source, missing[0], f"missing column(s) {', '.join(missing)} (columns present: {have})"
        )
