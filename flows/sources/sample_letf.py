"""SAMPLE data for the leveraged-ETF job in sample mode: assets, moves and dollar volumes.

Everything here is generated, deterministic for a seed, and must be published with
``sample=True`` so the dashboard labels it SAMPLE.  Nothing here is market data.

* :func:`sample_assets`: per-fund assets, USD: the universe's ``sample_aum_usd`` (typical sizes
  from the shipped table), else the file's own ``aum_usd``, else 100m USD, times a log-normal
  factor (sd 15%).
* :func:`sample_moves`: per-underlying move since the prior close, **percent**: a common market
  factor (sd 1.2%) times a beta (1.0 for index proxies, 1.8 for single stocks) plus idiosyncratic
  noise (sd 1% / 2.5%); ``phase="preopen"`` scales moves by 0.5 (pre-market moves are smaller).
* :func:`sample_adv`: average daily dollar volume and closing-auction notional per underlying,
  USD per day: 15bn for broad index proxies, 3bn for other tickers, log-normal factor, auction
  = 10% of ADV.

A pure module (no I/O): the "source" is a seeded generator.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

SOURCE = "sample"
BROAD = frozenset(
    {"QQQ", "SPY", "IWM", "DIA", "MDY", "SOXX", "XLK", "XLF", "XLE", "XBI", "KRE", "GDX", "FXI"}
)


def _rng(seed: int, salt: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(salt.encode())])


def sample_assets(universe: pd.DataFrame, seed: int, *, day: str = "") -> pd.Series:
    """SAMPLE assets per fund ticker, USD (see the module docstring)."""
    nan = pd.Series(np.nan, index=universe.index)
    typical = pd.to_numeric(universe.get("sample_aum_usd", nan), errors="coerce")
    from_file = pd.to_numeric(universe.get("aum_usd", nan), errors="coerce")
    base = typical.fillna(from_file).fillna(1e8).to_numpy(dtype=float)
    factor = np.exp(_rng(seed, "aum" + day).normal(0.0, 0.15, len(base)))
    return pd.Series(base * factor, index=universe["ticker"].to_numpy(), name="aum_usd")


def sample_moves(
    underlyings: list[str] | pd.Index, seed: int, *, phase: str = "intraday", day: str = ""
) -> pd.Series:
    """SAMPLE move since the prior close per underlying, **percent**."""
    names = [str(u) for u in underlyings]
    rng = _rng(seed, "moves" + day)
    market = rng.normal(0.0, 1.2)
    single = np.array([u not in BROAD for u in names])
    beta = np.where(single, 1.8, 1.0)
    noise = rng.normal(0.0, 1.0, len(names)) * np.where(single, 2.5, 1.0)
    moves = beta * market + noise
    if phase == "preopen":
        moves = moves * 0.5
    return pd.Series(np.round(moves, 3), index=names, name="move_pct")


def sample_adv(underlyings: list[str] | pd.Index, seed: int) -> pd.DataFrame:
    """SAMPLE ``underlying, adv_usd, auction_usd`` (USD per day)."""
    names = [str(u) for u in underlyings]
    base = np.where([u in BROAD for u in names], 15e9, 3e9)
    adv = base * np.exp(_rng(seed, "adv").normal(0.0, 0.4, len(names)))
    return pd.DataFrame({"underlying": names, "adv_usd": adv, "auction_usd": adv * 0.10})
