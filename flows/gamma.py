"""Dealer gamma engine (interface; implementation follows)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from flows.chain import Chain

CONVENTIONS = ("calls_long_puts_short", "short_all", "source_position")
TIME_BASES = ("calendar", "busdays262")


@dataclass
class GammaParams:
    r: float = 0.045
    q: float = 0.0
    convention: str = "calls_long_puts_short"
    time_basis: str = "calendar"
    window: float = 0.20
    n_points: int = 801
    moves_pct: tuple[float, ...] = tuple(float(m) for m in range(-10, 11))
    iv_shock_points: float = 5.0
    next_close: pd.Timestamp | None = None


@dataclass
class GammaReport:
    headline: dict
    by_strike: pd.DataFrame
    by_expiry: pd.DataFrame
    grid: pd.DataFrame
    profile: pd.DataFrame
    hedge_flow: pd.DataFrame
    sensitivity: pd.DataFrame
    contracts: pd.DataFrame
    dropped: pd.DataFrame
    units: dict = field(default_factory=dict)


def analyze(chain: Chain, params: GammaParams) -> GammaReport:
    raise NotImplementedError("flows.gamma.analyze: in progress")
