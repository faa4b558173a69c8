"""Sample-mode CFTC and ECB data: generated, deterministic, in the real files' layouts.

The generator writes text in exactly the layouts of the real files, so sample data goes through
the real parsers (:mod:`flows.sources.cftc_files`, :mod:`flows.sources.ecb`):

* legacy futures-only ``annual.txt``: the real 129-column quoted header (including its leading
  space in ``" Total Reportable Positions-Long (All)"``), numbers right-aligned in 8 characters,
  ``.`` for the first week's changes, LF line ends;
* TFF futures-only ``FinFutYY.txt``: the real 87-column header, CRLF line ends;
* ECB ``eurofxref-hist.csv``: newest first, trailing comma, units of currency per EUR.

Model (weekly, Tuesdays)
------------------------
A common USD factor ``f_t`` (a ~3-year cycle plus an AR(1) drift, unitless, about -1..1) drives
every currency: non-commercial net contracts ``net_i = -beta_i * amp_i * f_t + idio_i`` where
``amp_i`` is a realistic amplitude in contracts (EUR 120k, JPY 80k, ...; the USD index has
``beta < 0`` because long the index = long USD), so the six-currency net USD position swings over
tens of USD bn.  Longs and shorts are ``base + max(+-net, 0) + noise``; commercials (legacy) and
dealers (TFF) balance each side to the open interest, so every row satisfies the report's
identities (long side = short side = open interest).  TFF leveraged funds carry ~0.7 of the
non-commercial net, asset managers ~0.5.

Determinism: every random stream is keyed by (seed, currency, component) and starts on a fixed
epoch (2000-01-04), so a longer generation reproduces every earlier week exactly (sample-mode
updates add weeks without rewriting history).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.holiday import EasterMonday, GoodFriday

EPOCH = pd.Timestamp("2000-01-04")
"""First generated report Tuesday; every stream starts here whatever window is asked for."""


@dataclass(frozen=True)
class SampleContract:
    code: str
    ccy: str
    market: str
    units: str
    amp: float
    """Amplitude of the non-commercial net position, contracts."""
    beta: float
    """Loading on the USD factor (positive: short the currency when long USD)."""
    exchange: str = "CME "
    per_eur: float = 1.0
    """Sample starting rate, units of the currency per EUR (ECB convention); 0 = not in ECB."""
    am_bias: float = 0.0
    """Mean asset-manager net position, in units of ``amp`` (0 for the currencies)."""
    lev_bias: float = 0.0
    """Mean leveraged-funds net position, in units of ``amp``."""
    same_as: str = ""
    """Code of a contract whose random paths this one shares (a consolidated market moves with
    its main contract: its positions are that contract's scaled by the ratio of ``amp``)."""


CONTRACTS: tuple[SampleContract, ...] = (
    SampleContract(
        "099741",
        "EUR",
        "EURO FX - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF EUR 125,000)",
        120_000,
        1.0,
        per_eur=1.0,
    ),
    SampleContract(
        "097741",
        "JPY",
        "JAPANESE YEN - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF JPY 12,500,000)",
        80_000,
        1.1,
        per_eur=150.0,
    ),
    SampleContract(
        "096742",
        "GBP",
        "BRITISH POUND - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF GBP 62,500)",
        60_000,
        0.8,
        per_eur=0.86,
    ),
    SampleContract(
        "092741",
        "CHF",
        "SWISS FRANC - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF CHF 125,000)",
        25_000,
        0.9,
        per_eur=0.96,
    ),
    SampleContract(
        "090741",
        "CAD",
        "CANADIAN DOLLAR - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF CAD 100,000)",
        60_000,
        0.7,
        per_eur=1.47,
    ),
    SampleContract(
        "232741",
        "AUD",
        "AUSTRALIAN DOLLAR - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF AUD 100,000)",
        60_000,
        0.8,
        per_eur=1.62,
    ),
    SampleContract(
        "112741",
        "NZD",
        "NZ DOLLAR - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF NZD 100,000)",
        25_000,
        0.7,
        per_eur=1.78,
    ),
    SampleContract(
        "095741",
        "MXN",
        "MEXICAN PESO - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF MXN 500,000)",
        90_000,
        0.5,
        per_eur=20.5,
    ),
    SampleContract(
        "102741",
        "BRL",
        "BRAZILIAN REAL - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF BRL 100,000)",
        35_000,
        0.5,
        per_eur=5.8,
    ),
    SampleContract(
        "122741",
        "ZAR",
        "SO AFRICAN RAND - CHICAGO MERCANTILE EXCHANGE",
        "(CONTRACTS OF ZAR 500,000)",
        15_000,
        0.4,
        per_eur=20.0,
    ),
    SampleContract(
        "098662",
        "USD_INDEX",
        "USD INDEX - ICE FUTURES U.S.",
        "(U.S. DOLLAR INDEX X $1000)",
        18_000,
        -1.0,
        exchange="ICUS",
        per_eur=0.0,
    ),
)
CODES: tuple[str, ...] = tuple(c.code for c in CONTRACTS)

MARKET_CONTRACTS: tuple[SampleContract, ...] = (
    # equity index, VIX and rates futures of flows/data/tff_markets.csv (TFF only; beta 0: no USD
    # factor); asset managers structurally long equities and duration, leveraged funds short
    # (the basis trade), leveraged funds short VIX futures
    SampleContract(
        "13874A",
        "ES",
        "E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE",
        "($50 X S&P 500 INDEX)",
        400_000,
        0.0,
        per_eur=0.0,
        am_bias=2.0,
        lev_bias=-0.8,
    ),
    SampleContract(
        "209742",
        "NQ",
        "NASDAQ MINI - CHICAGO MERCANTILE EXCHANGE",
        "(NASDAQ 100 STOCK INDEX X $20)",
        80_000,
        0.0,
        per_eur=0.0,
        am_bias=1.5,
        lev_bias=-0.5,
    ),
    SampleContract(
        "239742",
        "RTY",
        "RUSSELL E-MINI - CHICAGO MERCANTILE EXCHANGE",
        "(RUSSEL 2000 INDEX X $50)",
        120_000,
        0.0,
        per_eur=0.0,
        am_bias=1.0,
        lev_bias=-0.8,
    ),
    SampleContract(
        "124603",
        "YM",
        "DJIA x $5 - CHICAGO BOARD OF TRADE",
        "($5 X DJIA INDEX)",
        30_000,
        0.0,
        exchange="CBT ",
        per_eur=0.0,
        am_bias=0.8,
        lev_bias=-0.3,
    ),
    SampleContract(
        "1170E1",
        "VX",
        "VIX FUTURES - CBOE FUTURES EXCHANGE",
        "($1000 X INDEX)",
        80_000,
        0.0,
        exchange="CFE ",
        per_eur=0.0,
        am_bias=0.3,
        lev_bias=-1.0,
    ),
    SampleContract(
        "042601",
        "ZT",
        "UST 2Y NOTE - CHICAGO BOARD OF TRADE",
        "(CONTRACTS OF $200,000 FACE VALUE)",
        600_000,
        0.0,
        exchange="CBT ",
        per_eur=0.0,
        am_bias=1.5,
        lev_bias=-1.5,
    ),
    SampleContract(
        "044601",
        "ZF",
        "UST 5Y NOTE - CHICAGO BOARD OF TRADE",
        "(CONTRACTS OF $100,000 FACE VALUE)",
        800_000,
        0.0,
        exchange="CBT ",
        per_eur=0.0,
        am_bias=1.5,
        lev_bias=-1.5,
    ),
    SampleContract(
        "043602",
        "ZN",
        "UST 10Y NOTE - CHICAGO BOARD OF TRADE",
        "(CONTRACTS OF $100,000 FACE VALUE)",
        700_000,
        0.0,
        exchange="CBT ",
        per_eur=0.0,
        am_bias=1.2,
        lev_bias=-1.0,
    ),
    SampleContract(
        "043607",
        "TN",
        "ULTRA UST 10Y - CHICAGO BOARD OF TRADE",
        "(CONTRACTS OF $100,000 FACE VALUE)",
        300_000,
        0.0,
        exchange="CBT ",
        per_eur=0.0,
        am_bias=1.2,
        lev_bias=-1.0,
    ),
    SampleContract(
        "020601",
        "ZB",
        "UST BOND - CHICAGO BOARD OF TRADE",
        "(CONTRACTS OF $100,000 FACE VALUE)",
        250_000,
        0.0,
        exchange="CBT ",
        per_eur=0.0,
        am_bias=1.0,
        lev_bias=-0.6,
    ),
    SampleContract(
        "020604",
        "UB",
        "ULTRA UST BOND - CHICAGO BOARD OF TRADE",
        "(CONTRACTS OF $100,000 FACE VALUE)",
        250_000,
        0.0,
        exchange="CBT ",
        per_eur=0.0,
        am_bias=1.0,
        lev_bias=-0.8,
    ),
    SampleContract(
        "134741",
        "SR3",
        "SOFR-3M - CHICAGO MERCANTILE EXCHANGE",
        "($2,500 x Contract IMM Index)",
        1_000_000,
        0.0,
        per_eur=0.0,
        am_bias=0.3,
        lev_bias=-0.3,
    ),
    # CFTC's consolidated rows (in E-mini / mini equivalents): the main contract is ~99.5 % of
    # their open interest, so they share its paths at 1/0.995 of its size.  Listed last, so the
    # streams of the contracts above do not move.
    SampleContract(
        "13874+",
        "ES_CONS",
        "S&P 500 Consolidated - CHICAGO MERCANTILE EXCHANGE",
        "(S&P 500 INDEX X $50.00)",
        400_000 / 0.995,
        0.0,
        per_eur=0.0,
        am_bias=2.0,
        lev_bias=-0.8,
        same_as="13874A",
    ),
    SampleContract(
        "20974+",
        "NQ_CONS",
        "NASDAQ-100 Consolidated - CHICAGO MERCANTILE EXCHANGE",
        "(NASDAQ 100 INDEX X $20)",
        80_000 / 0.995,
        0.0,
        per_eur=0.0,
        am_bias=1.5,
        lev_bias=-0.5,
        same_as="209742",
    ),
    SampleContract(
        "12460+",
        "YM_CONS",
        "DJIA Consolidated - CHICAGO BOARD OF TRADE",
        "($5 X DJIA INDEX)",
        30_000 / 0.995,
        0.0,
        exchange="CBT ",
        per_eur=0.0,
        am_bias=0.8,
        lev_bias=-0.3,
        same_as="124603",
    ),
)
"""Sample futures of the markets table (:mod:`flows.sources.tff_markets`), TFF report only."""
MARKET_CODES: tuple[str, ...] = tuple(c.code for c in MARKET_CONTRACTS)
_MARKET_STREAM = 100
"""Random streams of :data:`MARKET_CONTRACTS` start at this index (the currencies' never move)."""

LEGACY_HEADER: tuple[str, ...] = (
    "Market and Exchange Names",
    "As of Date in Form YYMMDD",
    "As of Date in Form YYYY-MM-DD",
    "CFTC Contract Market Code",
    "CFTC Market Code in Initials",
    "CFTC Region Code",
    "CFTC Commodity Code",
    "Open Interest (All)",
    "Noncommercial Positions-Long (All)",
    "Noncommercial Positions-Short (All)",
    "Noncommercial Positions-Spreading (All)",
    "Commercial Positions-Long (All)",
    "Commercial Positions-Short (All)",
    " Total Reportable Positions-Long (All)",
    "Total Reportable Positions-Short (All)",
    "Nonreportable Positions-Long (All)",
    "Nonreportable Positions-Short (All)",
    "Open Interest (Old)",
    "Noncommercial Positions-Long (Old)",
    "Noncommercial Positions-Short (Old)",
    "Noncommercial Positions-Spreading (Old)",
    "Commercial Positions-Long (Old)",
    "Commercial Positions-Short (Old)",
    "Total Reportable Positions-Long (Old)",
    "Total Reportable Positions-Short (Old)",
    "Nonreportable Positions-Long (Old)",
    "Nonreportable Positions-Short (Old)",
    "Open Interest (Other)",
    "Noncommercial Positions-Long (Other)",
    "Noncommercial Positions-Short (Other)",
    "Noncommercial Positions-Spreading (Other)",
    "Commercial Positions-Long (Other)",
    "Commercial Positions-Short (Other)",
    "Total Reportable Positions-Long (Other)",
    "Total Reportable Positions-Short (Other)",
    "Nonreportable Positions-Long (Other)",
    "Nonreportable Positions-Short (Other)",
    "Change in Open Interest (All)",
    "Change in Noncommercial-Long (All)",
    "Change in Noncommercial-Short (All)",
    "Change in Noncommercial-Spreading (All)",
    "Change in Commercial-Long (All)",
    "Change in Commercial-Short (All)",
    "Change in Total Reportable-Long (All)",
    "Change in Total Reportable-Short (All)",
    "Change in Nonreportable-Long (All)",
    "Change in Nonreportable-Short (All)",
    "% of Open Interest (OI) (All)",
    "% of OI-Noncommercial-Long (All)",
    "% of OI-Noncommercial-Short (All)",
    "% of OI-Noncommercial-Spreading (All)",
    "% of OI-Commercial-Long (All)",
    "% of OI-Commercial-Short (All)",
    "% of OI-Total Reportable-Long (All)",
    "% of OI-Total Reportable-Short (All)",
    "% of OI-Nonreportable-Long (All)",
    "% of OI-Nonreportable-Short (All)",
    "% of Open Interest (OI)(Old)",
    "% of OI-Noncommercial-Long (Old)",
    "% of OI-Noncommercial-Short (Old)",
    "% of OI-Noncommercial-Spreading (Old)",
    "% of OI-Commercial-Long (Old)",
    "% of OI-Commercial-Short (Old)",
    "% of OI-Total Reportable-Long (Old)",
    "% of OI-Total Reportable-Short (Old)",
    "% of OI-Nonreportable-Long (Old)",
    "% of OI-Nonreportable-Short (Old)",
    "% of Open Interest (OI) (Other)",
    "% of OI-Noncommercial-Long (Other)",
    "% of OI-Noncommercial-Short (Other)",
    "% of OI-Noncommercial-Spreading (Other)",
    "% of OI-Commercial-Long (Other)",
    "% of OI-Commercial-Short (Other)",
    "% of OI-Total Reportable-Long (Other)",
    "% of OI-Total Reportable-Short (Other)",
    "% of OI-Nonreportable-Long (Other)",
    "% of OI-Nonreportable-Short (Other)",
    "Traders-Total (All)",
    "Traders-Noncommercial-Long (All)",
    "Traders-Noncommercial-Short (All)",
    "Traders-Noncommercial-Spreading (All)",
    "Traders-Commercial-Long (All)",
    "Traders-Commercial-Short (All)",
    "Traders-Total Reportable-Long (All)",
    "Traders-Total Reportable-Short (All)",
    "Traders-Total (Old)",
    "Traders-Noncommercial-Long (Old)",
    "Traders-Noncommercial-Short (Old)",
    "Traders-Noncommercial-Spreading (Old)",
    "Traders-Commercial-Long (Old)",
    "Traders-Commercial-Short (Old)",
    "Traders-Total Reportable-Long (Old)",
    "Traders-Total Reportable-Short (Old)",
    "Traders-Total (Other)",
    "Traders-Noncommercial-Long (Other)",
    "Traders-Noncommercial-Short (Other)",
    "Traders-Noncommercial-Spreading (Other)",
    "Traders-Commercial-Long (Other)",
    "Traders-Commercial-Short (Other)",
    "Traders-Total Reportable-Long (Other)",
    "Traders-Total Reportable-Short (Other)",
    "Concentration-Gross LT = 4 TDR-Long (All)",
    "Concentration-Gross LT =4 TDR-Short (All)",
    "Concentration-Gross LT =8 TDR-Long (All)",
    "Concentration-Gross LT =8 TDR-Short (All)",
    "Concentration-Net LT =4 TDR-Long (All)",
    "Concentration-Net LT =4 TDR-Short (All)",
    "Concentration-Net LT =8 TDR-Long (All)",
    "Concentration-Net LT =8 TDR-Short (All)",
    "Concentration-Gross LT =4 TDR-Long (Old)",
    "Concentration-Gross LT =4 TDR-Short (Old)",
    "Concentration-Gross LT =8 TDR-Long (Old)",
    "Concentration-Gross LT =8 TDR-Short (Old)",
    "Concentration-Net LT =4 TDR-Long (Old)",
    "Concentration-Net LT =4 TDR-Short (Old)",
    "Concentration-Net LT =8 TDR-Long (Old)",
    "Concentration-Net LT =8 TDR-Short (Old)",
    "Concentration-Gross LT =4 TDR-Long (Other)",
    "Concentration-Gross LT =4 TDR-Short(Other)",
    "Concentration-Gross LT =8 TDR-Long (Other)",
    "Concentration-Gross LT =8 TDR-Short(Other)",
    "Concentration-Net LT =4 TDR-Long (Other)",
    "Concentration-Net LT =4 TDR-Short (Other)",
    "Concentration-Net LT =8 TDR-Long (Other)",
    "Concentration-Net LT =8 TDR-Short (Other)",
    "Contract Units",
    "CFTC Contract Market Code (Quotes)",
    "CFTC Market Code in Initials (Quotes)",
    "CFTC Commodity Code (Quotes)",
)
TFF_HEADER: tuple[str, ...] = (
    "Market_and_Exchange_Names",
    "As_of_Date_In_Form_YYMMDD",
    "Report_Date_as_YYYY-MM-DD",
    "CFTC_Contract_Market_Code",
    "CFTC_Market_Code",
    "CFTC_Region_Code",
    "CFTC_Commodity_Code",
    "Open_Interest_All",
    "Dealer_Positions_Long_All",
    "Dealer_Positions_Short_All",
    "Dealer_Positions_Spread_All",
    "Asset_Mgr_Positions_Long_All",
    "Asset_Mgr_Positions_Short_All",
    "Asset_Mgr_Positions_Spread_All",
    "Lev_Money_Positions_Long_All",
    "Lev_Money_Positions_Short_All",
    "Lev_Money_Positions_Spread_All",
    "Other_Rept_Positions_Long_All",
    "Other_Rept_Positions_Short_All",
    "Other_Rept_Positions_Spread_All",
    "Tot_Rept_Positions_Long_All",
    "Tot_Rept_Positions_Short_All",
    "NonRept_Positions_Long_All",
    "NonRept_Positions_Short_All",
    "Change_in_Open_Interest_All",
    "Change_in_Dealer_Long_All",
    "Change_in_Dealer_Short_All",
    "Change_in_Dealer_Spread_All",
    "Change_in_Asset_Mgr_Long_All",
    "Change_in_Asset_Mgr_Short_All",
    "Change_in_Asset_Mgr_Spread_All",
    "Change_in_Lev_Money_Long_All",
    "Change_in_Lev_Money_Short_All",
    "Change_in_Lev_Money_Spread_All",
    "Change_in_Other_Rept_Long_All",
    "Change_in_Other_Rept_Short_All",
    "Change_in_Other_Rept_Spread_All",
    "Change_in_Tot_Rept_Long_All",
    "Change_in_Tot_Rept_Short_All",
    "Change_in_NonRept_Long_All",
    "Change_in_NonRept_Short_All",
    "Pct_of_Open_Interest_All",
    "Pct_of_OI_Dealer_Long_All",
    "Pct_of_OI_Dealer_Short_All",
    "Pct_of_OI_Dealer_Spread_All",
    "Pct_of_OI_Asset_Mgr_Long_All",
    "Pct_of_OI_Asset_Mgr_Short_All",
    "Pct_of_OI_Asset_Mgr_Spread_All",
    "Pct_of_OI_Lev_Money_Long_All",
    "Pct_of_OI_Lev_Money_Short_All",
    "Pct_of_OI_Lev_Money_Spread_All",
    "Pct_of_OI_Other_Rept_Long_All",
    "Pct_of_OI_Other_Rept_Short_All",
    "Pct_of_OI_Other_Rept_Spread_All",
    "Pct_of_OI_Tot_Rept_Long_All",
    "Pct_of_OI_Tot_Rept_Short_All",
    "Pct_of_OI_NonRept_Long_All",
    "Pct_of_OI_NonRept_Short_All",
    "Traders_Tot_All",
    "Traders_Dealer_Long_All",
    "Traders_Dealer_Short_All",
    "Traders_Dealer_Spread_All",
    "Traders_Asset_Mgr_Long_All",
    "Traders_Asset_Mgr_Short_All",
    "Traders_Asset_Mgr_Spread_All",
    "Traders_Lev_Money_Long_All",
    "Traders_Lev_Money_Short_All",
    "Traders_Lev_Money_Spread_All",
    "Traders_Other_Rept_Long_All",
    "Traders_Other_Rept_Short_All",
    "Traders_Other_Rept_Spread_All",
    "Traders_Tot_Rept_Long_All",
    "Traders_Tot_Rept_Short_All",
    "Conc_Gross_LE_4_TDR_Long_All",
    "Conc_Gross_LE_4_TDR_Short_All",
    "Conc_Gross_LE_8_TDR_Long_All",
    "Conc_Gross_LE_8_TDR_Short_All",
    "Conc_Net_LE_4_TDR_Long_All",
    "Conc_Net_LE_4_TDR_Short_All",
    "Conc_Net_LE_8_TDR_Long_All",
    "Conc_Net_LE_8_TDR_Short_All",
    "Contract_Units",
    "CFTC_Contract_Market_Code_Quotes",
    "CFTC_Market_Code_Quotes",
    "CFTC_Commodity_Code_Quotes",
    "CFTC_SubGroup_Code",
    "FutOnly_or_Combined",
)


_COMPONENTS = (
    "idio",
    "nc_base",
    "nc_noise",
    "spread",
    "nonrept",
    "lev",
    "am",
    "other",
    "tff_spread",
    "traders",
    "fx",
    "oi",
    "tff_oi",
)


def _rng(seed: int, i: int, component: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), i, _COMPONENTS.index(component)])


def report_dates(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """Tuesdays from ``start`` to ``end`` (inclusive), the sample's report dates."""
    return pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="W-TUE")


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) path ``x_t = phi * x_{t-1} + sigma * e_t`` from ``x_{-1} = 0``."""
    shocks = rng.standard_normal(n) * sigma
    out = np.empty(n)
    level = 0.0
    for t in range(n):  # a few thousand steps; avoids importing scipy.signal (~2 s)
        level = phi * level + shocks[t]
        out[t] = level
    return out


def _window(
    end: str | pd.Timestamp, start: str | pd.Timestamp | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    end_ts = pd.Timestamp(end).tz_localize(None) if pd.Timestamp(end).tzinfo else pd.Timestamp(end)
    end_ts = end_ts.normalize()
    start_ts = pd.Timestamp(start) if start is not None else end_ts - pd.DateOffset(years=6)
    return max(start_ts, EPOCH), end_ts


def positions(
    seed: int,
    end: str | pd.Timestamp,
    start: str | pd.Timestamp | None = None,
    contracts: tuple[SampleContract, ...] = CONTRACTS,
) -> dict[str, pd.DataFrame]:
    """Generated positions, contracts: ``{"legacy": frame, "tff": frame}`` in the schema layouts.

    One row per contract and Tuesday in ``[start, end]`` (default: the 6 years before ``end``);
    ``contracts`` :data:`CONTRACTS` (the currencies) or :data:`MARKET_CONTRACTS`.
    """
    offset = _MARKET_STREAM if contracts is MARKET_CONTRACTS else 0
    start_ts, end_ts = _window(end, start)
    all_dates = report_dates(EPOCH, end_ts)
    n = len(all_dates)
    t = np.arange(n, dtype=float)
    base_rng = np.random.default_rng([int(seed), 999])
    drift = _ar1(base_rng, n, 0.985, 0.06)
    factor = (
        0.55 * np.sin(2 * np.pi * t / 160.0 + 0.7)
        + 0.25 * np.sin(2 * np.pi * t / 61.0)
        + 0.6 * drift
    )
    keep = all_dates >= start_ts
    legacy_rows, tff_rows = [], []
    stream = {c.code: k for k, c in enumerate(contracts)}
    for k, c in enumerate(contracts):
        i = stream.get(c.same_as, k) + offset
        amp = c.amp
        net = -c.beta * amp * factor + _ar1(_rng(seed, i, "idio"), n, 0.9, 0.12 * amp)
        base = 0.35 * amp + 0.05 * amp * np.abs(_ar1(_rng(seed, i, "nc_base"), n, 0.95, 1.0))
        noise = np.abs(_rng(seed, i, "nc_noise").normal(0, 0.04 * amp, (n, 2))).T
        nc_long = base + np.maximum(net, 0) + noise[0]
        nc_short = base + np.maximum(-net, 0) + noise[1]
        spread = 0.08 * amp + np.abs(_ar1(_rng(seed, i, "spread"), n, 0.8, 0.02 * amp))
        nr = 0.15 * amp + np.abs(_rng(seed, i, "nonrept").normal(0, 0.03 * amp, (n, 2))).T
        side_l = nc_long + spread + nr[0]
        side_s = nc_short + spread + nr[1]
        oi = (
            np.maximum(side_l, side_s)
            + 0.9 * amp
            + np.abs(_ar1(_rng(seed, i, "oi"), n, 0.9, 0.05 * amp))
        )
        legacy = pd.DataFrame(
            {
                "as_of": all_dates,
                "code": c.code,
                "market": c.market,
                "open_interest": oi,
                "noncomm_long": nc_long,
                "noncomm_short": nc_short,
                "noncomm_spread": spread,
                "comm_long": oi - side_l,
                "comm_short": oi - side_s,
                "nonrept_long": nr[0],
                "nonrept_short": nr[1],
            }
        )
        # TFF: leveraged funds and asset managers carry parts of the speculative net.
        lev_net = c.lev_bias * amp + 0.7 * net + _ar1(_rng(seed, i, "lev"), n, 0.8, 0.1 * amp)
        am_net = c.am_bias * amp + 0.5 * net + _ar1(_rng(seed, i, "am"), n, 0.9, 0.1 * amp)
        or_net = _ar1(_rng(seed, i, "other"), n, 0.7, 0.03 * amp)
        sp = 0.02 * amp + np.abs(_rng(seed, i, "tff_spread").normal(0, 0.01 * amp, (n, 4))).T
        b = 0.2 * amp
        lev_l, lev_s = b + np.maximum(lev_net, 0), b + np.maximum(-lev_net, 0)
        am_l, am_s = 1.5 * b + np.maximum(am_net, 0), 1.5 * b + np.maximum(-am_net, 0)
        or_l, or_s = 0.2 * b + np.maximum(or_net, 0), 0.2 * b + np.maximum(-or_net, 0)
        rest_l = am_l + lev_l + or_l + sp.sum(axis=0) + nr[0]
        rest_s = am_s + lev_s + or_s + sp.sum(axis=0) + nr[1]
        toi = (
            np.maximum(rest_l, rest_s)
            + 0.5 * amp
            + np.abs(_ar1(_rng(seed, i, "tff_oi"), n, 0.9, 0.05 * amp))
        )
        tff = pd.DataFrame(
            {
                "as_of": all_dates,
                "code": c.code,
                "market": c.market,
                "open_interest": toi,
                "dealer_long": toi - rest_l,
                "dealer_short": toi - rest_s,
                "asset_mgr_long": am_l,
                "asset_mgr_short": am_s,
                "lev_money_long": lev_l,
                "lev_money_short": lev_s,
                "other_rept_long": or_l,
                "other_rept_short": or_s,
                "nonrept_long": nr[0],
                "nonrept_short": nr[1],
                "_spread": list(sp.T),
            }
        )
        legacy_rows.append(legacy[keep])
        tff_rows.append(tff[keep])
    out = {}
    for name, rows in (("legacy", legacy_rows), ("tff", tff_rows)):
        frame = pd.concat(rows, ignore_index=True)
        num = [col for col in frame.columns if col not in ("as_of", "code", "market", "_spread")]
        frame[num] = np.rint(frame[num].astype(float)).astype(np.int64)
        if name == "legacy":
            # rounding may break the identity by a contract: re-balance with the commercials
            frame["comm_long"] = (
                frame["open_interest"]
                - frame["noncomm_long"]
                - frame["noncomm_spread"]
                - frame["nonrept_long"]
            )
            frame["comm_short"] = (
                frame["open_interest"]
                - frame["noncomm_short"]
                - frame["noncomm_spread"]
                - frame["nonrept_short"]
            )
        else:
            sp_int = np.rint(np.vstack(frame["_spread"].to_numpy())).astype(np.int64)
            frame[["dealer_spread", "am_spread", "lev_spread", "or_spread"]] = sp_int
            frame = frame.drop(columns="_spread")
            sprs = sp_int.sum(axis=1)
            frame["dealer_long"] = (
                frame["open_interest"]
                - frame["asset_mgr_long"]
                - frame["lev_money_long"]
                - frame["other_rept_long"]
                - sprs
                - frame["nonrept_long"]
            )
            frame["dealer_short"] = (
                frame["open_interest"]
                - frame["asset_mgr_short"]
                - frame["lev_money_short"]
                - frame["other_rept_short"]
                - sprs
                - frame["nonrept_short"]
            )
        frame = frame.sort_values(["as_of", "code"], kind="stable").reset_index(drop=True)
        out[name] = frame
    return out


def _norm(name: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _key(name: str) -> str:
    """Header name -> quantity key shared by position, change and percent columns."""
    n = _norm(name)
    for prefix in ("change_in_", "pct_of_oi_", "of_oi_"):
        if n.startswith(prefix):
            n = n[len(prefix) :]
            break
    if n in ("pct_of_open_interest_all", "of_open_interest_oi_all", "open_interest_all"):
        return "open_interest_all"
    if n in ("of_open_interest_oi_old", "open_interest_old"):
        return "open_interest_old"
    return n.replace("positions_", "")


def _quantities(frame: pd.DataFrame, report: str) -> dict[str, np.ndarray]:
    """Position quantities of the (All) columns keyed by :func:`_key`, contracts."""
    f = frame
    if report == "legacy":
        return {
            "open_interest_all": f["open_interest"].to_numpy(),
            "noncommercial_long_all": f["noncomm_long"].to_numpy(),
            "noncommercial_short_all": f["noncomm_short"].to_numpy(),
            "noncommercial_spreading_all": f["noncomm_spread"].to_numpy(),
            "commercial_long_all": f["comm_long"].to_numpy(),
            "commercial_short_all": f["comm_short"].to_numpy(),
            "total_reportable_long_all": (f["open_interest"] - f["nonrept_long"]).to_numpy(),
            "total_reportable_short_all": (f["open_interest"] - f["nonrept_short"]).to_numpy(),
            "nonreportable_long_all": f["nonrept_long"].to_numpy(),
            "nonreportable_short_all": f["nonrept_short"].to_numpy(),
        }
    return {
        "open_interest_all": f["open_interest"].to_numpy(),
        "dealer_long_all": f["dealer_long"].to_numpy(),
        "dealer_short_all": f["dealer_short"].to_numpy(),
        "dealer_spread_all": f["dealer_spread"].to_numpy(),
        "asset_mgr_long_all": f["asset_mgr_long"].to_numpy(),
        "asset_mgr_short_all": f["asset_mgr_short"].to_numpy(),
        "asset_mgr_spread_all": f["am_spread"].to_numpy(),
        "lev_money_long_all": f["lev_money_long"].to_numpy(),
        "lev_money_short_all": f["lev_money_short"].to_numpy(),
        "lev_money_spread_all": f["lev_spread"].to_numpy(),
        "other_rept_long_all": f["other_rept_long"].to_numpy(),
        "other_rept_short_all": f["other_rept_short"].to_numpy(),
        "other_rept_spread_all": f["or_spread"].to_numpy(),
        "tot_rept_long_all": (f["open_interest"] - f["nonrept_long"]).to_numpy(),
        "tot_rept_short_all": (f["open_interest"] - f["nonrept_short"]).to_numpy(),
        "nonrept_long_all": f["nonrept_long"].to_numpy(),
        "nonrept_short_all": f["nonrept_short"].to_numpy(),
    }


def _render(
    frame: pd.DataFrame,
    report: str,
    header: tuple[str, ...],
    seed: int,
    newline: str,
    contracts: tuple[SampleContract, ...] = CONTRACTS,
) -> str:
    """Format ``frame`` (newest report first, as CFTC does) in the real column layout."""
    frame = frame.sort_values(["code", "as_of"], kind="stable").reset_index(drop=True)
    qty = _quantities(frame, report)
    first = (frame["code"] != frame["code"].shift()).to_numpy()
    oi = qty["open_interest_all"].astype(float)
    units = {c.code: c for c in contracts}
    trng = np.random.default_rng([int(seed), 4242])
    codes = frame["code"].tolist()  # plain lists: iterating Arrow-backed strings is slow
    markets = frame["market"].tolist()
    columns: list[list[str]] = []
    memo: dict[tuple[str, str], list[str]] = {}
    for name in header:
        n = _norm(name)
        key = _key(name)
        if n == "market_and_exchange_names":
            col = ['"' + m + '"' for m in markets]
        elif n == "as_of_date_in_form_yymmdd":
            col = list(frame["as_of"].dt.strftime("%y%m%d"))
        elif n.endswith("yyyy_mm_dd"):
            col = list(frame["as_of"].dt.strftime("%Y-%m-%d"))
        elif n == "cftc_contract_market_code":
            col = list(codes)
        elif n in ("cftc_market_code_in_initials", "cftc_market_code"):
            col = [units[c].exchange for c in codes]
        elif n == "cftc_region_code":
            col = ["00"] * len(frame)
        elif n == "cftc_commodity_code":
            col = [c[:3] + " " for c in codes]
        elif n == "contract_units":
            col = ['"' + units[c].units + '"' for c in codes]
        elif n.startswith("cftc_contract_market_code_quotes"):
            col = ['"' + c + '"' for c in codes]
        elif n.startswith("cftc_market_code"):
            col = ['"' + units[c].exchange + '"' for c in codes]
        elif n.startswith("cftc_commodity_code"):
            col = ['"' + c[:3] + ' "' for c in codes]
        elif n == "cftc_subgroup_code":
            col = ['"F10"'] * len(frame)
        elif n == "futonly_or_combined":
            col = ['"FutOnly"'] * len(frame)
        elif n.endswith("_other"):
            col = [f"{0.0:7.1f}" if n.startswith(("of_", "concentration")) else f"{0:8d}"] * len(
                frame
            )
        else:
            all_key = key[: -len("_old")] + "_all" if key.endswith("_old") else key
            if n.startswith("traders"):
                col = [f"{v:7d}" for v in trng.integers(5, 150, len(frame)).tolist()]
            elif n.startswith(("concentration", "conc_")):
                col = [f"{v:8.1f}" for v in trng.uniform(10, 60, len(frame)).tolist()]
            elif all_key not in qty:
                raise KeyError(f"sample layout: no rule for column {name!r}")
            elif (n[:6], all_key) in memo:  # (Old) columns repeat the (All) ones
                col = memo[(n[:6], all_key)]
            elif n.startswith("change_in"):
                v = qty[all_key]
                d = np.diff(v, prepend=v[:1])
                col = [
                    "       ." if f else f"{x:8d}"
                    for f, x in zip(first.tolist(), d.tolist(), strict=True)
                ]
            elif n.startswith(("pct_of", "of_")):
                col = [f"{x:7.1f}" for x in (100.0 * qty[all_key] / oi).tolist()]
            else:
                col = [
                    f"{x:8d}" for x in qty[all_key].tolist()
                ]  # Python ints: twice as fast to format
            memo[(n[:6], all_key)] = col
        columns.append(col)
    head = ",".join('"' + h + '"' for h in header)
    # newest week first, markets in code order within a week (as in the real files)
    order = np.lexsort((frame["code"].to_numpy(), -frame["as_of"].to_numpy().astype("int64")))
    # rows by transposing the columns once (zip), then in the file's order
    lines = [",".join(r) for r in zip(*columns, strict=True)]
    rows = [lines[i] for i in order]
    return newline.join([head, *rows]) + newline


def legacy_text(seed: int, end: str | pd.Timestamp, start: str | pd.Timestamp | None = None) -> str:
    """Legacy futures-only text (real 129-column header, padded numbers, LF) for the 11
    flowdesk contracts, weekly Tuesdays in ``[start, end]`` (default: 6 years to ``end``)."""
    return _render(positions(seed, end, start)["legacy"], "legacy", LEGACY_HEADER, seed, "\n")


def tff_text(seed: int, end: str | pd.Timestamp, start: str | pd.Timestamp | None = None) -> str:
    """TFF futures-only text (real 87-column header, padded numbers, CRLF), same contracts and weeks."""
    return _render(positions(seed, end, start)["tff"], "tff", TFF_HEADER, seed, "\r\n")


def tff_markets_text(
    seed: int, end: str | pd.Timestamp, start: str | pd.Timestamp | None = None
) -> str:
    """TFF futures-only text (same layout) for the equity-index, VIX and rates futures of
    :data:`MARKET_CONTRACTS` (the futures-positioning task's sample source)."""
    return _render(
        positions(seed, end, start, MARKET_CONTRACTS)["tff"],
        "tff",
        TFF_HEADER,
        seed,
        "\r\n",
        MARKET_CONTRACTS,
    )


def target_business_days(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """Weekdays without the TARGET closing days (1 Jan, Good Friday, Easter Monday, 1 May, 25-26 Dec)."""
    days = pd.bdate_range(pd.Timestamp(start), pd.Timestamp(end))
    fixed = (
        (days.month == 1) & (days.day == 1)
        | (days.month == 5) & (days.day == 1)
        | (days.month == 12) & days.day.isin([25, 26])
    )
    easter = (
        GoodFriday.dates(days.min(), days.max()).append(EasterMonday.dates(days.min(), days.max()))
        if len(days)
        else pd.DatetimeIndex([])
    )
    return days[~fixed & ~days.isin(easter)]


def fx_per_eur(
    seed: int, end: str | pd.Timestamp, start: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Sample ECB rates, units of currency per 1 EUR, indexed by TARGET business days.

    Each log rate mean-reverts slowly (daily AR(1), phi 0.999, ~0.5 % daily moves, ~11 % long-run
    dispersion) around its ``per_eur`` level, so decades of sample history stay realistic.
    """
    start_ts, end_ts = _window(end, start)
    days = target_business_days(EPOCH, end_ts)
    n = len(days)
    cols: dict[str, np.ndarray] = {
        "USD": 1.10 * np.exp(_ar1(np.random.default_rng([int(seed), 7777]), n, 0.999, 0.005))
    }
    for i, c in enumerate(CONTRACTS):
        if c.per_eur <= 0 or c.ccy == "EUR":
            continue
        cols[c.ccy] = c.per_eur * np.exp(_ar1(_rng(seed, i, "fx"), n, 0.999, 0.005))
    frame = pd.DataFrame(cols, index=days)
    return frame[frame.index >= start_ts]


def ecb_hist_csv(
    seed: int, end: str | pd.Timestamp, start: str | pd.Timestamp | None = None
) -> str:
    """ECB ``eurofxref-hist.csv``-layout text (newest first, trailing commas, ``N/A`` none),
    units per EUR, 4-5 significant decimals as the ECB prints them."""
    frame = fx_per_eur(seed, end, start).iloc[::-1]
    lines = ["Date," + ",".join(frame.columns) + ","]
    fmt = {c: ("%.2f" if frame[c].iloc[0] > 50 else "%.4f") for c in frame.columns}
    for day, row in zip(
        frame.index.strftime("%Y-%m-%d"), frame.itertuples(index=False), strict=True
    ):
        lines.append(
            day + "," + ",".join(fmt[c] % v for c, v in zip(frame.columns, row, strict=True)) + ","
        )
    return "\n".join(lines) + "\n"
