"""Volatility-control funds: exposure to the index from realised volatility, and the flow it implies.

A volatility-control (risk-control, "vol-target") fund keeps its equity exposure at a target
volatility: when realised volatility rises it sells index futures, when it falls it buys.

Model
-----
With ``sigma_t`` the realised volatility (annualised fraction) measured with the close of
session ``t``::

    e_t    = min(cap, target / sigma_(t - lag))        exposure, fraction of AUM (1.0 = 100 %)
    flow_t = AUM * (e_t - e_(t-1))                      USD of index futures at the close of t
                                                        (+ = buy, - = sell)

The lag is in sessions: with ``lag = 1`` the exposure traded at tomorrow's close is already
fixed by today's close, which is why this flow is "next sessions (lagged)" on the board, and why
``flow_usd_1d`` (the next session's flow) needs no scenario.  The drift of the futures notional
with the index between rebalances is ignored (second order: ``e * r`` of AUM a day).

Estimators (``VolControlParams``; every default with its source)
----------------------------------------------------------------
* ``ewma`` (default): ``sigma = max(sigma_0.94, sigma_0.97)``, two exponentially weighted
  volatilities of daily log returns (zero mean, annualised with 252; :mod:`flows.volatility`),
  target 10 %, cap 150 %, lag 1 session.  The max of a "short-term" (lambda 0.94, the
  RiskMetrics daily decay) and a "long-term" (0.97) EWMA volatility, the 10 % target and a
  150 % maximum exposure follow the S&P 500 Daily Risk Control 10 % index family (S&P Dow Jones
  Indices, *S&P Risk Control Indices Methodology*); the one-session lag is the desk convention
  of the issue (the index methodology has its own lag between the volatility reading and the
  rebalance: set ``lag`` to match a given index).
* ``sma``: ``sigma = max(sigma_20d, sigma_40d)``, equal-weight sample volatilities over 20 and
  40 sessions, cap 100 %, lag 2: the simple-volatility "average daily risk control" variant
  of the issue (no leverage, two-session implementation lag).

AUM is not published: it is configured, or calibrated to a published flow with
:func:`calibrate` (:mod:`flows.calibration`); the calibration in force travels with the result.

Scenarios
---------
* **Alternating tapes** (``scenarios``): ``N`` sessions of daily moves of size ``x`` with
  alternating sign, down first: log returns ``-ln(1+x), +ln(1+x), ...``, so the level returns
  to where it started every two sessions and only volatility changes.  ``flow_usd`` is the sum
  of the flows of sessions ``T+1 .. T+N`` (``= AUM * (e_(T+N) - e_T)``).
* **One-day shock grid** (``shock_grid``): a move of ``x`` % on the next session, then an
  unchanged tape; cumulative flow over 1 session, 1 week (5) and 2 weeks (10).  With lag 1 the
  shock first moves the exposure one session later: the 1-session column is the same for
  every shock.  The 0 % row is the unchanged tape (volatility decaying as old returns fade).

Pure: frames in, frames out; vectorised (one IIR filter per estimator, no per-day loop).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from flows import calibration as calib
from flows.errors import InputError
from flows.schema import validate_columns
from flows.volatility import (
    ANNUALISATION,
    ewma_variance,
    ewma_variance_paths,
    log_returns,
    rolling_std,
)

HORIZON = "next sessions (lagged)"
"""When this flow happens, as the board states it."""
DEFAULT_SCENARIO_MOVES_PCT = (0.5, 1.0, 1.5, 2.0)
DEFAULT_SCENARIO_SESSIONS = 10
DEFAULT_SHOCK_GRID_PCT = tuple(float(x) for x in np.linspace(-10.0, 10.0, 41))
"""One-day shocks, percent: -10 .. +10 in 0.5 steps (41 points)."""
DEFAULT_HORIZONS = {"1d": 1, "1w": 5, "2w": 10}
"""Cumulative-flow horizons in sessions."""


@dataclass(frozen=True)
class VolControlParams:
    """Parameters of the exposure rule (see the module docstring for each default's source).

    ``target_vol`` and ``cap`` are fractions (0.10 = 10 % a year; 1.5 = 150 % of AUM); ``lag``
    is in sessions; ``decays`` are EWMA lambdas (``ewma``), ``windows`` sessions (``sma``);
    ``seed_days`` is the EWMA warm-up (returns averaged to seed the recursion).
    """

    estimator: str = "ewma"
    target_vol: float = 0.10
    cap: float = 1.5
    lag: int = 1
    decays: tuple[float, ...] = (0.94, 0.97)
    windows: tuple[int, ...] = (20, 40)
    annualisation: int = ANNUALISATION
    seed_days: int = 20

    def validate(self) -> VolControlParams:
        """Self, or :class:`InputError` naming the bad parameter."""
        src = "volcontrol parameters"
        if self.estimator not in PRESETS:
            raise InputError(
                src, "estimator", f"unknown estimator {self.estimator!r} (ewma or sma)"
            )
        if not (self.target_vol > 0 and math.isfinite(self.target_vol)):
            raise InputError(
                src, "target_vol", f"must be a positive fraction, got {self.target_vol!r}"
            )
        if not (self.cap > 0 and math.isfinite(self.cap)):
            raise InputError(src, "cap", f"must be a positive fraction, got {self.cap!r}")
        if self.lag < 0:
            raise InputError(src, "lag", f"must be >= 0 sessions, got {self.lag!r}")
        if self.estimator == "ewma" and (
            not self.decays or not all(0 < d < 1 for d in self.decays)
        ):
            raise InputError(src, "decays", f"EWMA decays must be in (0, 1), got {self.decays!r}")
        if self.estimator == "sma" and (not self.windows or min(self.windows) < 2):
            raise InputError(src, "windows", f"windows must be >= 2 sessions, got {self.windows!r}")
        return self

    @property
    def warmup(self) -> int:
        """Sessions of history before the first exposure (returns + lag)."""
        need = self.seed_days if self.estimator == "ewma" else max(self.windows)
        return need + self.lag + 1

    def component_names(self) -> list[str]:
        """``sigma_ewma94``, ``sigma_ewma97`` or ``sigma_sma20``, ``sigma_sma40``."""
        if self.estimator == "ewma":
            return [f"sigma_ewma{round(d * 100):d}" for d in self.decays]
        return [f"sigma_sma{w:d}" for w in self.windows]


EWMA = VolControlParams()
"""Default: max of EWMA 0.94 / 0.97, target 10 %, cap 150 %, lag 1."""
SMA = VolControlParams(estimator="sma", cap=1.0, lag=2)
"""Variant: max of 20- / 40-session simple volatility, target 10 %, cap 100 %, lag 2."""
PRESETS: dict[str, VolControlParams] = {"ewma": EWMA, "sma": SMA}


def preset(estimator: str, **overrides: object) -> VolControlParams:
    """The preset of ``estimator`` (``ewma`` / ``sma``) with ``overrides`` applied, validated."""
    if estimator not in PRESETS:
        raise InputError(
            "volcontrol parameters", "estimator", f"unknown estimator {estimator!r} (ewma or sma)"
        )
    return replace(PRESETS[estimator], **overrides).validate()  # type: ignore[arg-type]


# -- history ---------------------------------------------------------------------------------
def sigma_components(returns: np.ndarray, params: VolControlParams) -> dict[str, np.ndarray]:
    """Each estimator's annualised volatility (fraction) at every session (NaN in the warm-up)."""
    names = params.component_names()
    if params.estimator == "ewma":
        return {
            n: np.sqrt(
                ewma_variance(returns, d, seed=params.seed_days, annualisation=params.annualisation)
            )
            for n, d in zip(names, params.decays, strict=True)
        }
    return {
        n: rolling_std(returns, w, annualisation=params.annualisation)
        for n, w in zip(names, params.windows, strict=True)
    }


def exposure_from_sigma(sigma: np.ndarray, params: VolControlParams) -> np.ndarray:
    """``e_t = min(cap, target / sigma_(t - lag))`` (fraction; NaN while sigma is unknown)."""
    sig = np.asarray(sigma, dtype=float)
    lagged = np.full(sig.shape, np.nan)
    if params.lag == 0:
        lagged[:] = sig
    else:
        lagged[params.lag :] = sig[: -params.lag]
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.minimum(params.cap, params.target_vol / lagged)
    return np.where(np.isnan(lagged), np.nan, e)


def history(
    prices: pd.DataFrame, params: VolControlParams = EWMA, aum_usd: float = 1.0
) -> pd.DataFrame:
    """Exposure and flow at every session of ``prices`` (:data:`flows.schema.PRICE_COLUMNS`).

    Columns: ``date``, ``close`` (index points), ``log_return`` (fraction), one ``sigma_*`` per
    estimator and ``sigma`` (their max; annualised fractions), ``exposure`` (fraction of AUM),
    ``notional_usd`` (``AUM * exposure``), ``flow_usd`` (``AUM * (e_t - e_(t-1))``; + = buy).
    """
    validate_columns(prices, ["date", "close"], prices.attrs.get("source", "prices"))
    params.validate()
    close = prices["close"].to_numpy(dtype=float)
    r = log_returns(close)
    comps = sigma_components(r, params)
    sig = np.max(np.vstack(list(comps.values())), axis=0)  # NaN while any estimator is warming up
    e = exposure_from_sigma(sig, params)
    flow = np.full(e.shape, np.nan)
    flow[1:] = aum_usd * np.diff(e)
    out = pd.DataFrame(
        {
            "date": prices["date"].to_numpy(),
            "close": close,
            "log_return": r,
            **comps,
            "sigma": sig,
            "exposure": e,
            "notional_usd": aum_usd * e,
            "flow_usd": flow,
        }
    )
    return out


# -- forward paths -----------------------------------------------------------------------------
def alternating_paths(moves_pct: Sequence[float], sessions: int) -> np.ndarray:
    """``(len(moves), sessions)`` log returns ``-ln(1+x), +ln(1+x), ...`` (down first)."""
    x = np.asarray(moves_pct, dtype=float) / 100.0
    sign = np.where(np.arange(sessions) % 2 == 0, -1.0, 1.0)
    return np.log1p(x)[:, None] * sign[None, :]


def shock_paths(shocks_pct: Sequence[float], sessions: int) -> np.ndarray:
    """``(len(shocks), sessions)`` log returns: ``ln(1+x)`` on the first session, then 0."""
    out = np.zeros((len(shocks_pct), sessions))
    out[:, 0] = np.log1p(np.asarray(shocks_pct, dtype=float) / 100.0)
    return out


def forward_exposure(hist: pd.DataFrame, paths: np.ndarray, params: VolControlParams) -> np.ndarray:
    """Exposure ``e_(T+1..T+h)`` along each path of daily log returns after the last row of
    :func:`history` output ``hist`` (``paths``: ``(n, h)``).  Vectorised over paths and steps."""
    paths = np.atleast_2d(np.asarray(paths, dtype=float))
    n, h = paths.shape
    r_hist = hist["log_return"].to_numpy(dtype=float)
    names = params.component_names()
    comps = []
    if params.estimator == "ewma":
        for name, d in zip(names, params.decays, strict=True):
            v_last = float(hist[name].iloc[-1]) ** 2
            comps.append(
                np.sqrt(ewma_variance_paths(v_last, paths, d, annualisation=params.annualisation))
            )
    else:
        for w in params.windows:
            tail = np.broadcast_to(r_hist[-(w - 1) :], (n, w - 1))
            comps.append(
                rolling_std(
                    np.concatenate([tail, paths], axis=1), w, annualisation=params.annualisation
                )[:, w - 1 :]
            )
    sig_path = np.max(np.stack(comps), axis=0)
    known = (
        hist["sigma"].to_numpy(dtype=float)[len(hist) - params.lag :] if params.lag else np.empty(0)
    )
    sig = np.concatenate([np.broadcast_to(known, (n, len(known))), sig_path], axis=1)[:, :h]
    with np.errstate(divide="ignore"):  # zero volatility (a flat tape): the cap
        return np.minimum(params.cap, params.target_vol / sig)


def forward_flows(
    hist: pd.DataFrame, paths: np.ndarray, params: VolControlParams, aum_usd: float
) -> np.ndarray:
    """``(n, h)`` flows, USD (+ = buy), of sessions ``T+1..T+h`` along each path."""
    e = forward_exposure(hist, paths, params)
    e_now = float(hist["exposure"].iloc[-1])
    return aum_usd * np.diff(np.concatenate([np.full((e.shape[0], 1), e_now), e], axis=1), axis=1)


# -- calibration -----------------------------------------------------------------------------
def calibrate(
    prices: pd.DataFrame,
    published_flow_usd: float,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    params: VolControlParams = EWMA,
    source: str = "",
) -> calib.Calibration:
    """AUM from a published flow over sessions ``start..end`` (both inclusive), USD (+ = bought).

    ``model = e_end - e_(session before start)`` (the sum of the per-USD flows over the window);
    ``AUM = published / model`` (:func:`flows.calibration.solve`).  Dates are matched to the last
    session on or before them.
    """
    hist = history(prices, params)
    dates = pd.DatetimeIndex(hist["date"])
    i_end = _pos_on_or_before(dates, end, prices)
    i_start = _pos_on_or_before(dates, start, prices)
    if dates[i_start] < pd.Timestamp(start):
        i_start += 1
    if i_start < 1 or i_start > i_end:
        raise InputError(
            prices.attrs.get("source", "prices"),
            "window",
            f"calibration window {start}..{end} is not inside the history ({dates[0].date()}..{dates[-1].date()})",
        )
    e = hist["exposure"].to_numpy()
    model = float(e[i_end] - e[i_start - 1])
    return calib.solve(
        published_flow_usd,
        model,
        method="flow over window",
        start=dates[i_start],
        end=dates[i_end],
        source=source,
    )


def _pos_on_or_before(
    dates: pd.DatetimeIndex, when: str | pd.Timestamp, prices: pd.DataFrame
) -> int:
    ts = pd.Timestamp(when)
    i = int(dates.searchsorted(ts, side="right")) - 1
    if i < 0:
        raise InputError(
            prices.attrs.get("source", "prices"),
            "as_of",
            f"{ts.date()} is before the first close ({dates[0].date()})",
        )
    return i


# -- the report ------------------------------------------------------------------------------
UNITS: dict[str, dict[str, str]] = {
    "history": {
        "date": "session date",
        "close": "index points",
        "log_return": "fraction (daily log return)",
        "sigma": "fraction per year (annualised volatility, the max of the estimators)",
        "exposure": "fraction of AUM (1.0 = 100 %)",
        "notional_usd": "USD of index futures held",
        "flow_usd": "USD at the close of the session (+ = buy)",
    },
    "scenarios": {
        "daily_move_pct": "percent per session (alternating sign)",
        "sessions": "sessions",
        "flow_usd": "USD over the sessions (+ = buy)",
        "exposure_end": "fraction of AUM after the last session",
    },
    "shock_grid": {
        "shock_pct": "percent (next session, then unchanged)",
        "flow_1d_usd": "USD (+ = buy)",
        "flow_1w_usd": "USD over 5 sessions",
        "flow_2w_usd": "USD over 10 sessions",
    },
    "forward": {
        "session": "sessions after the as-of close",
        "exposure": "fraction of AUM with unchanged prices",
        "flow_usd": "USD (+ = buy)",
        "cumulative_flow_usd": "USD",
    },
}
HEADLINE_UNITS = {
    "close": "index points",
    "sigma": "fraction per year",
    "exposure": "fraction of AUM",
    "exposure_change_10d": "fraction of AUM over the last 10 sessions",
    "notional_usd": "USD",
    "flow_usd_1d": "USD at the next session's close (known: lagged rule)",
    "flow_usd_1w_flat": "USD over the next 5 sessions, unchanged prices",
    "flow_usd_2w_flat": "USD over the next 10 sessions, unchanged prices",
    "flow_usd_past_10d": "USD over the last 10 sessions",
    "aum_usd": "USD",
    "target_vol": "fraction per year",
    "cap": "fraction of AUM",
    "lag": "sessions",
}


@dataclass
class VolControlReport:
    """Output of :func:`analyze`.  ``headline`` is flat (numbers and a few labels); units in
    :data:`HEADLINE_UNITS` / :data:`UNITS`; ``horizon`` is :data:`HORIZON`."""

    headline: dict[str, Any]
    history: pd.DataFrame
    scenarios: pd.DataFrame
    shock_grid: pd.DataFrame
    forward: pd.DataFrame
    calibration: calib.Calibration
    params: VolControlParams
    units: dict[str, dict[str, str]] = field(default_factory=lambda: dict(UNITS))
    horizon: str = HORIZON

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables in publishing order (``history`` first)."""
        return {
            "history": self.history,
            "scenarios": self.scenarios,
            "shock_grid": self.shock_grid,
            "forward": self.forward,
        }


def analyze(
    prices: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp | None = None,
    aum: calib.Calibration | float = 1.0,
    params: VolControlParams = EWMA,
    scenario_moves_pct: Sequence[float] = DEFAULT_SCENARIO_MOVES_PCT,
    scenario_sessions: int = DEFAULT_SCENARIO_SESSIONS,
    shock_grid_pct: Sequence[float] = DEFAULT_SHOCK_GRID_PCT,
    horizons: Mapping[str, int] = DEFAULT_HORIZONS,
) -> VolControlReport:
    """Exposure history, the next sessions' flows and the scenarios, as of the close of ``as_of``.

    ``prices`` after ``as_of`` are ignored; ``as_of`` defaults to the last row and is matched to
    the last close on or before it (``headline["as_of"]`` is the close used).  ``aum`` is a
    :class:`flows.calibration.Calibration` or a number of USD.  Raises :class:`InputError` when
    the history is shorter than the estimator's warm-up.
    """
    params.validate()
    cal = aum if isinstance(aum, calib.Calibration) else calib.configured(float(aum))
    src = prices.attrs.get("source", "prices")
    validate_columns(prices, ["date", "close"], src)
    dates = pd.DatetimeIndex(prices["date"])
    i = len(prices) - 1 if as_of is None else _pos_on_or_before(dates, as_of, prices)
    px = prices.iloc[: i + 1]
    px.attrs.update(prices.attrs)
    if len(px) < params.warmup + 10:
        raise InputError(
            src,
            "as_of",
            f"{len(px)} sessions up to {dates[i].date()}: the {params.estimator} estimator needs at least {params.warmup + 10}",
        )
    hist = history(px, params, cal.aum_usd)
    e = hist["exposure"].to_numpy()
    h_max = max(max(horizons.values()), scenario_sessions, 10)
    flat = forward_flows(hist, np.zeros((1, h_max)), params, cal.aum_usd)[0]
    e_flat = float(e[-1]) + np.cumsum(flat) / cal.aum_usd
    alt = forward_flows(
        hist, alternating_paths(scenario_moves_pct, scenario_sessions), params, cal.aum_usd
    )
    scen = pd.DataFrame(
        {
            "daily_move_pct": np.asarray(scenario_moves_pct, dtype=float),
            "sessions": np.full(len(scenario_moves_pct), scenario_sessions, dtype=np.int64),
            "flow_usd": alt.sum(axis=1),
            "exposure_end": float(e[-1]) + alt.sum(axis=1) / cal.aum_usd,
        }
    )
    shock = forward_flows(hist, shock_paths(shock_grid_pct, h_max), params, cal.aum_usd)
    cum = np.cumsum(shock, axis=1)
    grid = pd.DataFrame(
        {
            "shock_pct": np.asarray(shock_grid_pct, dtype=float),
            **{f"flow_{k}_usd": cum[:, n - 1] for k, n in horizons.items()},
        }
    )
    forward = pd.DataFrame(
        {
            "session": np.arange(1, h_max + 1, dtype=np.int64),
            "exposure": e_flat,
            "flow_usd": flat,
            "cumulative_flow_usd": np.cumsum(flat),
        }
    )
    headline = {
        "as_of": hist["date"].iloc[-1].date().isoformat(),
        "close": float(hist["close"].iloc[-1]),
        "sigma": float(hist["sigma"].iloc[-1]),
        "exposure": float(e[-1]),
        "exposure_change_10d": float(e[-1] - e[-11]),
        "notional_usd": float(cal.aum_usd * e[-1]),
        "flow_usd_1d": float(flat[0]),
        "flow_usd_1w_flat": float(np.sum(flat[:5])),
        "flow_usd_2w_flat": float(np.sum(flat[:10])),
        "flow_usd_past_10d": float(cal.aum_usd * (e[-1] - e[-11])),
        "aum_usd": float(cal.aum_usd),
        "calibration": cal.label(),
        "estimator": params.estimator,
        "target_vol": float(params.target_vol),
        "cap": float(params.cap),
        "lag": int(params.lag),
        "horizon": HORIZON,
    }
    return VolControlReport(
        headline=headline,
        history=hist,
        scenarios=scen,
        shock_grid=grid,
        forward=forward,
        calibration=cal,
        params=params,
    )
