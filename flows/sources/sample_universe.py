"""Sample mode for the listed-options universe: ~5,000 underlyings and their chains, generated.

Deterministic: the same ``(seed, n, date)`` gives the same universe and, with the snapshot
minute, the same chains.  Shaped like the US listed universe (OCC lists options on about 5,000
names, 1.5 million contracts): chain sizes are lognormal with a median of ~120 contracts and a
long tail up to tens of thousands (a few mega-caps and index ETFs), so tens of contracts for a
thinly listed small cap and tens of thousands for the largest names.

* :func:`universe` : one row per underlying: ``symbol``, ``name``, ``sector`` (GICS sector),
  ``spot`` (USD), ``adv_usd`` (average daily dollar volume, USD), ``atm_vol`` (fraction per
  year), ``contracts`` (chain size target).  The Magnificent 7, the large semiconductor names
  and the index ETFs are listed under their real tickers (so baskets in ``config.toml`` resolve);
  the rest get generated tickers.
* :func:`chain_table` : the chain of one underlying as contract columns
  (:data:`flows.schema.CHAIN_COLUMNS`), priced with :mod:`flows.greeks` (BSM), with the open
  interest shape of :mod:`flows.sources.sample_options` (calls just above the money, puts below
  with a far out-of-the-money tail, round strikes and monthlies heavier) and the real files'
  quirks (IV and greeks 0 on far-out-of-the-money contracts worth under 0.01; settled
  contracts listed until the day after).

Settlement instants come from the product table and the exchange calendar
(:func:`flows.products.settlement_instants`) once per universe, for every candidate expiry.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd

from flows import calendars
from flows.greeks import bsm_delta, bsm_gamma, bsm_price
from flows.products import settlement_instants
from flows.schema import CHAIN_COLUMNS

SOURCE = "sample"
OI_TO_ADV_SHARES = {"Fund": 0.35, "stock": 0.08}
"""Total open interest of a chain, contracts, per share of average daily volume: index ETFs
(SPY: ~21 million contracts against ~60 million shares a day in the real 2023 file) and single
stocks (a mega-cap: ~4-5 million contracts against ~50 million shares)."""
RATE = 0.045
"""Risk-free rate of the generated prices, continuously compounded, fraction per year."""

SECTORS = (
    "Information Technology",
    "Health Care",
    "Financials",
    "Consumer Discretionary",
    "Communication Services",
    "Industrials",
    "Consumer Staples",
    "Energy",
    "Utilities",
    "Real Estate",
    "Materials",
)
"""GICS sectors (``Fund`` for ETFs)."""

NAMED: tuple[tuple[str, str, str, float, float, float, int], ...] = (
    # symbol, name, sector, spot USD, ADV USD bn, ATM vol, chain size (contracts)
    ("SPY", "SPDR S&P 500 ETF Trust", "Fund", 600.0, 35.0, 0.15, 24000),
    ("QQQ", "Invesco QQQ Trust", "Fund", 520.0, 20.0, 0.19, 18000),
    ("IWM", "iShares Russell 2000 ETF", "Fund", 230.0, 6.0, 0.21, 9000),
    ("AAPL", "Apple Inc", "Information Technology", 230.0, 12.0, 0.26, 6000),
    ("MSFT", "Microsoft Corp", "Information Technology", 450.0, 9.0, 0.24, 5600),
    ("NVDA", "NVIDIA Corp", "Information Technology", 180.0, 40.0, 0.45, 9000),
    ("AMZN", "Amazon.com Inc", "Consumer Discretionary", 210.0, 9.0, 0.30, 5400),
    ("GOOGL", "Alphabet Inc Class A", "Communication Services", 190.0, 6.0, 0.29, 4800),
    ("META", "Meta Platforms Inc", "Communication Services", 650.0, 9.0, 0.33, 6400),
    ("TSLA", "Tesla Inc", "Consumer Discretionary", 400.0, 30.0, 0.55, 10000),
    ("AMD", "Advanced Micro Devices Inc", "Information Technology", 160.0, 7.0, 0.48, 5200),
    ("AVGO", "Broadcom Inc", "Information Technology", 240.0, 6.0, 0.42, 5000),
    ("QCOM", "Qualcomm Inc", "Information Technology", 160.0, 1.5, 0.33, 2600),
    ("INTC", "Intel Corp", "Information Technology", 24.0, 2.0, 0.48, 2400),
    ("MU", "Micron Technology Inc", "Information Technology", 110.0, 2.5, 0.50, 3200),
    ("TXN", "Texas Instruments Inc", "Information Technology", 190.0, 1.0, 0.28, 1800),
    ("AMAT", "Applied Materials Inc", "Information Technology", 180.0, 1.2, 0.40, 2000),
    ("LRCX", "Lam Research Corp", "Information Technology", 80.0, 1.0, 0.42, 1600),
    ("KLAC", "KLA Corp", "Information Technology", 700.0, 0.8, 0.38, 1500),
    ("MRVL", "Marvell Technology Inc", "Information Technology", 80.0, 1.4, 0.55, 1800),
    ("ARM", "Arm Holdings plc", "Information Technology", 140.0, 1.0, 0.60, 1800),
    ("SMCI", "Super Micro Computer Inc", "Information Technology", 40.0, 1.5, 0.80, 2400),
    ("TSM", "Taiwan Semiconductor Manufacturing", "Information Technology", 190.0, 3.0, 0.35, 3000),
)
"""Underlyings listed under their real tickers (levels are plausible late-2026 values)."""


@dataclass(frozen=True)
class Universe:
    """:func:`universe`'s table and the seed it came from."""

    table: pd.DataFrame
    seed: int


def _rng(seed: int, *parts: Any) -> np.random.Generator:
    # Stable across processes (str hash() is salted): CRC32 of the parts.
    return np.random.default_rng(
        [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(p).encode()) for p in parts]
    )


def _ticker(i: int) -> str:
    """Generated tickers: three or four letters, never one of :data:`NAMED`."""
    letters = []
    k = i + 26 * 26  # skip the two-letter range
    while k:
        k, r = divmod(k, 26)
        letters.append(chr(65 + r))
    return "X" + "".join(reversed(letters))


def universe(n: int, seed: int) -> pd.DataFrame:
    """The sample universe of ``n`` underlyings (columns in the module docstring), largest first.

    Chain sizes: the named mega-caps' sizes, then a lognormal (median 124 contracts, log
    standard deviation 1.33, so the mean is ~300 and 5,000 names hold ~1.5 million contracts)
    clipped to 12..20,000.  ADV rises with chain size (options are listed where stock trades).
    """
    rng = _rng(seed, "universe", n)
    named = [r for r in NAMED][: max(0, n)]
    m = n - len(named)
    size = np.clip(np.round(rng.lognormal(math.log(124.0), 1.33, m)), 12, 20_000).astype(np.int64)
    spot = np.round(np.exp(rng.normal(math.log(45.0), 1.0, m)), 2).clip(1.0, 3000.0)
    adv = np.round(1e6 * size**1.1 * np.exp(rng.normal(0, 0.6, m)) / 20.0, -3)
    vol = np.round(np.clip(rng.lognormal(math.log(0.45), 0.35, m), 0.15, 2.5), 3)
    sector = np.asarray(SECTORS)[rng.integers(0, len(SECTORS), m)]
    gen = pd.DataFrame(
        {
            "symbol": [_ticker(i) for i in range(m)],
            "name": [f"Sample company {i + 1}" for i in range(m)],
            "sector": sector,
            "spot": spot,
            "adv_usd": adv,
            "atm_vol": vol,
            "contracts": size,
        }
    )
    top = pd.DataFrame(
        named, columns=["symbol", "name", "sector", "spot", "adv_usd", "atm_vol", "contracts"]
    )
    top["adv_usd"] = top["adv_usd"] * 1e9
    out = pd.concat([top, gen], ignore_index=True) if len(top) else gen
    out = out.astype(
        {
            "symbol": "str",
            "name": "str",
            "sector": "str",
            "spot": "float64",
            "adv_usd": "float64",
            "atm_vol": "float64",
            "contracts": "int64",
        }
    )
    return out.sort_values("contracts", ascending=False, kind="stable").reset_index(drop=True)


def expiry_calendar(today: date, calendar: str = calendars.DEFAULT_CALENDAR) -> pd.DataFrame:
    """Candidate expiries listed on ``today`` for an equity option, nearest first: the next 8
    Friday weeklies, the next 12 third-Friday monthlies and January LEAPS two and three years
    out, each on the session before when the Friday is not a session; with the settlement
    instant (PM, the close, early closes included) and a weight for open interest
    (monthlies and LEAPS heavier)."""
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    weekly = {friday + timedelta(weeks=k) for k in range(8)}
    monthly = set()
    for k in range(13):
        y, mth = today.year + (today.month - 1 + k) // 12, (today.month - 1 + k) % 12 + 1
        first = date(y, mth, 1)
        third = first + timedelta(days=(4 - first.weekday()) % 7 + 14)
        if third >= today:
            monthly.add(third)
    leaps = set()
    for y in (today.year + 2, today.year + 3):
        first = date(y, 1, 1)
        leaps.add(first + timedelta(days=(4 - first.weekday()) % 7 + 14))
    listed = sorted(weekly | monthly | leaps)
    moved = [t.date() for t in calendars.session_on_or_before(listed, calendar)]
    kind = ["leaps" if d in leaps else "monthly" if d in monthly else "weekly" for d in listed]
    settle, _ = settlement_instants(
        ["XSAMPLE"] * len(moved), [pd.Timestamp(d) for d in moved], calendar
    )
    frame = pd.DataFrame({"expiry": pd.to_datetime(moved), "kind": kind, "settle_time": settle})
    frame["oi_weight"] = (
        frame["kind"].map({"weekly": 0.8, "monthly": 2.5, "leaps": 2.0}).astype(float)
    )
    return frame.drop_duplicates("expiry").sort_values("expiry").reset_index(drop=True)


class UniverseRow(Protocol):
    """One row of :func:`universe` as ``DataFrame.itertuples`` gives it (the fields a chain reads)."""

    @property
    def symbol(self) -> str: ...
    @property
    def sector(self) -> str: ...
    @property
    def spot(self) -> float: ...
    @property
    def adv_usd(self) -> float: ...
    @property
    def atm_vol(self) -> float: ...
    @property
    def contracts(self) -> int: ...


def chain_table(
    row: UniverseRow, as_of: pd.Timestamp, seed: int, expiries: pd.DataFrame
) -> tuple[float, pd.DataFrame]:
    """``(spot, contracts)`` of one underlying of :func:`universe` at ``as_of`` (tz-aware).

    ``contracts`` has :data:`flows.schema.CHAIN_COLUMNS` (OSI symbols, PM settlement from
    ``expiries``, prices and greeks per unit of the underlying, open interest and volume in
    contracts).  Open interest and strikes depend on the snapshot's date, spot also on its
    minute.  The chain has about ``row.contracts`` contracts (calls and puts on each strike).
    """
    sym = str(row.symbol)
    ny = as_of.tz_convert(calendars.EXCHANGE_TZ)
    day = ny.date()
    day_rng = _rng(seed, sym, day.isoformat())
    min_rng = _rng(seed, sym, ny.strftime("%Y-%m-%dT%H:%M"))
    ref = float(row.spot) * math.exp(0.02 * day_rng.standard_normal())
    spot = round(ref * math.exp(0.003 * min_rng.standard_normal()), 2)
    vol = float(row.atm_vol)
    target = max(int(row.contracts), 4)
    # expiries: as many as the chain's size supports (small chains: monthlies only)
    exp = expiries[expiries["settle_time"] > as_of - pd.Timedelta(days=1)]
    if target < 200:
        exp = exp[exp["kind"] != "weekly"]
    n_exp = int(np.clip(round(math.sqrt(target / 8)), 1, len(exp)))
    exp = exp.iloc[:n_exp]
    per_exp = max(2, target // (2 * n_exp))
    settle_ns = pd.DatetimeIndex(exp["settle_time"]).as_unit("ns").asi8
    t = (settle_ns - as_of.value) / 1e9 / (365.0 * 86400.0)
    # strikes: a uniform grid of per_exp strikes over +-(3.5 sd), on a round step
    half = np.clip(3.5 * vol * np.sqrt(np.maximum(t, 7 / 365)), 0.08, 0.9)
    raw_step = 2 * ref * half / per_exp
    mag = 10.0 ** np.floor(np.log10(raw_step))
    step = (
        np.select(
            [raw_step / mag < 1.5, raw_step / mag < 3.5, raw_step / mag < 7.5],
            [1.0, 2.5, 5.0],
            10.0,
        )
        * mag
    )
    step = np.maximum(step, 0.5 if ref < 25 else 1.0)
    first = np.ceil((ref - per_exp / 2 * step) / step) * step
    j = np.arange(per_exp)
    strikes = np.round(first[:, None] + step[:, None] * j[None, :], 2)
    e_idx = np.repeat(np.arange(n_exp), per_exp)
    K = strikes.ravel()
    ok = K > 0
    K, e_idx = K[ok], e_idx[ok]
    n = K.size
    T = t[e_idx]
    alive = T > 0
    te = np.where(alive, T, 1.0)
    m_fwd = np.log(K / (spot * np.exp(RATE * te)))
    sqt = np.sqrt(np.maximum(te, 2 / 365))
    iv = (
        vol * (0.9 + 0.2 * (1 - np.exp(-2 * te))) - 0.08 / sqt * m_fwd + 0.15 / sqt * m_fwd**2
    ) * np.exp(0.01 * day_rng.standard_normal(n))
    iv = np.clip(iv, 0.35 * vol, 4 * vol)
    # open interest: the shape of the index/ETF sample (flows.sources.sample_options), scaled by ADV
    t_day = np.maximum(T, 1 / 365)
    width = 0.7 * vol * np.sqrt(t_day) + 0.02
    m = np.log(K / ref)
    bell_c = np.exp(-0.5 * ((m - 0.35 * width) / width) ** 2)
    fund = str(row.sector) == "Fund"
    # index ETFs carry more (and far out-of-the-money) put hedges; single names lean to calls
    tail = 0.45 if fund else 0.2
    bell_p = np.exp(-0.5 * ((m + 1.6 * width) / (1.3 * width)) ** 2) + tail * np.exp(
        -0.5 * ((m + 0.5 * np.sqrt(t_day)) / (0.25 * np.sqrt(t_day))) ** 2
    )
    kind_w = exp["oi_weight"].to_numpy()[e_idx] / (1 + 0.8 * t_day)
    noise = day_rng.lognormal(0.0, 0.6, (2, n))
    raw = {
        "C": bell_c * kind_w * np.where(K >= ref, 1.2, 0.35) * noise[0],
        "P": bell_p * kind_w * np.where(K <= ref, 1.4 if fund else 0.9, 0.35) * noise[1],
    }
    # total open interest ~ OI_TO_ADV_SHARES x the day's volume in shares (in contracts of 100)
    level = (
        OI_TO_ADV_SHARES["Fund" if fund else "stock"]
        * float(row.adv_usd)
        / spot
        / (raw["C"].sum() + raw["P"].sum())
    )
    cols: dict[str, list[np.ndarray]] = {c: [] for c in CHAIN_COLUMNS}
    exp_dates = exp["expiry"].to_numpy().astype("datetime64[ns]")[e_idx]
    prefix = np.asarray([f"{sym}{d:%y%m%d}" for d in exp["expiry"]])[
        e_idx
    ]  # root + YYMMDD, per expiry
    code = np.char.zfill(np.round(K * 1000).astype(np.int64).astype(str), 8)
    for cp in ("C", "P"):
        is_call = cp == "C"
        price = bsm_price(spot, K, te, RATE, 0.0, iv, is_call)
        delta = bsm_delta(spot, K, te, RATE, 0.0, iv, is_call)
        gamma = bsm_gamma(spot, K, te, RATE, 0.0, iv)
        intrinsic = np.maximum(0.0, (spot - K) if is_call else (K - spot))
        price = np.where(alive, price, intrinsic)
        tiny = alive & (price < 0.01)
        dead = ~alive | tiny
        oi = np.floor(level * raw[cp])
        half_spread = np.maximum(0.01, 0.02 * price)
        cols["symbol"].append(np.char.add(np.char.add(prefix, cp), code))
        cols["root"].append(np.full(n, sym, dtype=object))
        cols["type"].append(np.full(n, cp, dtype=object))
        cols["strike"].append(K)
        cols["expiry"].append(exp_dates)
        cols["settle_time"].append(settle_ns[e_idx])
        cols["bid"].append(np.round(np.where(tiny, 0.0, np.maximum(0.0, price - half_spread)), 2))
        cols["ask"].append(np.round(np.where(tiny, 0.05, price + half_spread), 2))
        cols["iv"].append(np.where(dead, np.nan, np.round(iv, 4)))
        cols["delta"].append(np.where(dead, 0.0, np.round(delta, 4)))
        cols["gamma"].append(np.where(dead, 0.0, np.round(gamma, 6)))
        cols["open_interest"].append(oi)
        cols["volume"].append(np.floor(oi * day_rng.uniform(0.0, 0.2, n)))
    frame = pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})
    frame["settle_time"] = pd.DatetimeIndex(
        frame["settle_time"].to_numpy().astype("datetime64[ns]")
    ).tz_localize("UTC")
    frame["symbol"] = frame["symbol"].astype("str")
    frame["root"] = frame["root"].astype("str")
    frame["type"] = frame["type"].astype("str")
    return float(spot), frame
