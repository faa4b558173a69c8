"""CTA trend followers: a modelled position in an index from trend signals, trigger levels, flows.

Bank CTA models are proprietary; this engine follows the published approaches they are built
on, with every default stated:

* **Signals**.  Time-series momentum on several lookbacks: the sign of the excess return over
  the last ``L`` sessions, ``s_L(t) = sign(P_t / P_(t-L) - 1 - c * L / 252)`` (``c``: cash rate,
  fraction a year; default 0 because index futures returns are already excess returns and a
  price index excludes dividends, which roughly offset the cash rate).  Default lookbacks 21,
  63 and 252 sessions (1, 3 and 12 months), equal weight: Hurst, Ooi and Pedersen, "A Century
  of Evidence on Trend-Following Investing" (2017), who combine 1-, 3- and 12-month
  time-series momentum; the 12-month sign is Moskowitz, Ooi and Pedersen, "Time Series
  Momentum" (2012).  The alternative family is a moving-average crossover ``s(t) =
  sign(MA_f(t) - MA_s(t))`` of simple moving averages of closes (e.g. 20/120 sessions), as in
  the trend-index replications that use price-vs-moving-average rules.  Signals are given as
  specs: ``"return:21"``, ``"ma:20/120"`` (any mix, equal weight).
* **Volatility scaling**.  ``position_t = clip(mean_k s_k(t) * target_vol / sigma_(t-1), -cap,
  cap)`` (fraction of AUM; 1.0 = notional equal to AUM), with ``sigma`` the EWMA volatility
  of daily log returns with a centre of mass of 60 sessions (MOP 2012, HOP 2017), zero mean,
  annualised with 252, lagged one session.  Default target 10 % a year and cap 2.0: the target
  only sets the scale of the position per USD of AUM (AUM is calibrated, :func:`calibrate`),
  the cap is a gross-leverage limit for calm markets.
* **Flow** ``= AUM * (position_t - position_(t-1))``, USD of index futures (+ = buy), traded at
  the close of ``t``.  Horizon on the board: "this week" (signals turn over days to weeks).

Trigger levels (for the next session, ``T+1``)
----------------------------------------------
* Return rule, lookback ``L``: the signal at ``T+1`` compares ``P_(T+1)`` with
  ``P_(T+1-L)``, so it flips at ``P* = P_(T+1-L) * (1 + c * L / 252)`` (above: long).
* Crossover ``f/s``: with ``A`` the sum of the last ``f-1`` closes and ``B`` of the last ``s-1``,
  ``MA_f(T+1) = (P + A)/f`` and ``MA_s(T+1) = (P + B)/s`` cross at
  ``P* = (f*B - s*A) / (s - f)``; ``MA_f - MA_s`` rises with ``P`` (``f < s``), so above ``P*``
  the signal is long.  No level when ``P* <= 0``.
* ``distance_pct = 100 * (P*/P_T - 1)``; ``days_to_flip``: the first ``k >= 1`` at which the
  signal differs from today's if every close from ``T+1`` on equals ``P_T`` (the window drops
  old closes one a day); at ``k = L`` (return) or ``k = s`` (crossover) a flat tape gives a zero
  signal, so a signal that is not already zero flips within its lookback.

Scenarios: tapes ``flat``, ``up``, ``down`` of ``+/- n_sigma * sigma_T * sqrt(h/252)`` spread
evenly (constant daily log return) over ``h`` sessions (1 week = 5, 1 month = 21); the flow is
``AUM * (position_(T+h) - position_T)``, split exactly into a **signal** part (signals moved,
volatility as today) and a **volatility** part (the rest).  On a flat tape the signal part is
zero unless a lookback flips within the horizon (``days_to_flip <= h``).  The one-day shock
grid (-10..+10 %) gives the position and flow at the next close after a move of ``x`` %.

Pure: frames in, frames out; vectorised over sessions, lookbacks and scenario paths.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flows import calibration as calib
from flows.errors import InputError
from flows.schema import validate_columns
from flows.volatility import (
    ANNUALISATION,
    decay_from_com,
    ewma_variance,
    ewma_variance_paths,
    log_returns,
)

HORIZON = "this week"
DEFAULT_SIGNALS = ("return:21", "return:63", "return:252")
MA_SIGNALS = ("ma:20/120",)
DEFAULT_TAPE_SIGMAS = 2.0
DEFAULT_TAPE_HORIZONS = {"1w": 5, "1m": 21}
DEFAULT_SHOCK_GRID_PCT = tuple(float(x) for x in np.linspace(-10.0, 10.0, 41))
_SPEC = re.compile(r"^\s*(return|ma)\s*:\s*(\d+)\s*(?:/\s*(\d+))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Signal:
    """One trend rule: ``kind`` ``return`` (lookback ``slow``) or ``ma`` (``fast``/``slow``)."""

    kind: str
    slow: int
    fast: int = 0

    @property
    def label(self) -> str:
        return f"{self.slow}d return" if self.kind == "return" else f"{self.fast}/{self.slow}d MA"

    @property
    def window(self) -> int:
        """Closes needed before the current one."""
        return self.slow


def parse_signal(spec: str) -> Signal:
    """``"return:21"`` -> 21-session return sign; ``"ma:20/120"`` -> 20/120 crossover."""
    m = _SPEC.match(str(spec))
    if not m:
        raise InputError(
            "cta parameters",
            "signals",
            f"not a signal spec: {spec!r} (expected 'return:21' or 'ma:20/120')",
        )
    kind, a, b = m.group(1).lower(), int(m.group(2)), m.group(3)
    if kind == "return":
        if b is not None or a < 1:
            raise InputError(
                "cta parameters",
                "signals",
                f"return lookback must be one whole number of sessions >= 1: {spec!r}",
            )
        return Signal("return", a)
    if b is None or not 1 <= a < int(b):
        raise InputError(
            "cta parameters",
            "signals",
            f"moving-average crossover needs fast < slow sessions, e.g. 'ma:20/120': {spec!r}",
        )
    return Signal("ma", int(b), a)


@dataclass(frozen=True)
class CtaParams:
    """Defaults and sources in the module docstring.  ``target_vol`` fraction a year, ``cap``
    fraction of AUM, ``vol_com_days`` and ``vol_lag`` sessions, ``cash_rate`` fraction a year."""

    signals: tuple[str, ...] = DEFAULT_SIGNALS
    target_vol: float = 0.10
    cap: float = 2.0
    vol_com_days: float = 60.0
    vol_lag: int = 1
    cash_rate: float = 0.0
    annualisation: int = ANNUALISATION
    seed_days: int = 20

    def rules(self) -> list[Signal]:
        if not self.signals:
            raise InputError("cta parameters", "signals", "at least one signal is needed")
        return [parse_signal(s) for s in self.signals]

    def validate(self) -> CtaParams:
        self.rules()
        for name in ("target_vol", "cap", "vol_com_days"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise InputError("cta parameters", name, f"must be a positive number, got {v!r}")
        if self.vol_lag < 0:
            raise InputError(
                "cta parameters", "vol_lag", f"must be >= 0 sessions, got {self.vol_lag!r}"
            )
        return self

    @property
    def decay(self) -> float:
        return decay_from_com(self.vol_com_days)

    @property
    def warmup(self) -> int:
        return max(max(r.window for r in self.rules()), self.seed_days + self.vol_lag) + 1


DEFAULT = CtaParams()


# -- signals ---------------------------------------------------------------------------------
def _hurdle(rule: Signal, params: CtaParams) -> float:
    return 1.0 + params.cash_rate * rule.slow / params.annualisation


def signal_values(close: np.ndarray, rule: Signal, params: CtaParams) -> np.ndarray:
    """Signal of ``rule`` at every position of the last axis of ``close`` (-1, 0, +1; NaN
    without enough history).  Works on 1-D histories and 2-D ``(paths, sessions)`` arrays."""
    p = np.asarray(close, dtype=float)
    out = np.full(p.shape, np.nan)
    n = rule.slow
    if p.shape[-1] <= n:
        return out
    if rule.kind == "return":
        out[..., n:] = np.sign(p[..., n:] - p[..., :-n] * _hurdle(rule, params))
        return out
    pad = [(0, 0)] * (p.ndim - 1) + [(1, 0)]
    c = np.pad(np.cumsum(p, axis=-1), pad)
    ma_s = (c[..., n:] - c[..., :-n]) / n  # window ending at position n-1 .. end
    f = rule.fast
    ma_f = (c[..., f:] - c[..., :-f]) / f
    out[..., n - 1 :] = _sign(ma_f[..., n - f :] - ma_s, ma_s)
    return out


TIE = 1e-10
"""Relative size under which two moving averages count as equal (sign 0): the averages come
from running sums, whose rounding must not turn an exact tie into a signal."""


def _sign(diff: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.where(np.abs(diff) <= TIE * np.abs(scale), 0.0, np.sign(diff))


def sigma(close: np.ndarray, params: CtaParams) -> np.ndarray:
    """EWMA volatility (annualised fraction, centre of mass ``vol_com_days``) at every session."""
    return np.asarray(
        np.sqrt(
            ewma_variance(
                log_returns(close),
                params.decay,
                seed=params.seed_days,
                annualisation=params.annualisation,
            )
        ),
        dtype=np.float64,
    )


def _lagged(x: np.ndarray, lag: int) -> np.ndarray:
    if lag == 0:
        return x
    out = np.full(x.shape, np.nan)
    out[lag:] = x[:-lag]
    return out


def _position(signal: np.ndarray, vol: np.ndarray, params: CtaParams) -> np.ndarray:
    """``clip(signal * target / vol, -cap, cap)``; no signal is no position even at zero
    volatility (a flat tape); NaN while the signal or the volatility is unknown."""
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.clip(signal * params.target_vol / vol, -params.cap, params.cap)
    return np.where(signal == 0, np.where(np.isnan(vol), np.nan, 0.0), raw)


def history(
    prices: pd.DataFrame, params: CtaParams = DEFAULT, aum_usd: float = 1.0
) -> pd.DataFrame:
    """Signals, volatility, position and flow at every session of ``prices``.

    Columns: ``date``, ``close`` (index points), ``signal_<spec>`` per rule (-1/0/+1),
    ``signal_mean`` (-1..+1), ``sigma`` (annualised fraction, unlagged), ``position`` (fraction
    of AUM), ``position_usd`` (USD of index futures, + = long), ``flow_usd`` (USD, + = buy).
    """
    validate_columns(prices, ["date", "close"], prices.attrs.get("source", "prices"))
    params.validate()
    close = prices["close"].to_numpy(dtype=float)
    rules = params.rules()
    sigs = {
        f"signal_{spec}": signal_values(close, rule, params)
        for spec, rule in zip(params.signals, rules, strict=True)
    }
    mean = np.mean(np.vstack(list(sigs.values())), axis=0)
    vol = sigma(close, params)
    pos = _position(mean, _lagged(vol, params.vol_lag), params)
    flow = np.full(pos.shape, np.nan)
    flow[1:] = aum_usd * np.diff(pos)
    return pd.DataFrame(
        {
            "date": prices["date"].to_numpy(),
            "close": close,
            **sigs,
            "signal_mean": mean,
            "sigma": vol,
            "position": pos,
            "position_usd": aum_usd * pos,
            "flow_usd": flow,
        }
    )


# -- trigger levels --------------------------------------------------------------------------
def trigger_levels(close: np.ndarray, params: CtaParams = DEFAULT) -> pd.DataFrame:
    """Per rule, the close at which its signal flips at the next session, and days to flip.

    ``close`` is the history up to and including today ``T`` (1-D).  Columns: ``lookback``
    (label), ``spec``, ``signal`` (today, -1/0/+1), ``level`` (index points; NaN when no
    positive level exists), ``distance_pct`` (percent from today's close), ``days_to_flip``
    (sessions with every close equal to today's; NaN when the signal never changes).
    """
    p = np.asarray(close, dtype=float)
    spot = p[-1]
    rows = []
    for spec in params.signals:
        rule = parse_signal(spec)
        need = rule.slow + 1
        if len(p) < need:
            raise InputError("cta", "history", f"{rule.label} needs {need} closes, have {len(p)}")
        now = float(signal_values(p[-need:], rule, params)[-1])
        if rule.kind == "return":
            level = p[-rule.slow] * _hurdle(rule, params)  # P_(T+1-L)
            # flat tape: at T+k the signal compares P_T with P_(T+k-L), k = 1..L
            past = p[len(p) - rule.slow :]  # P_(T+1-L) .. P_T
            path = np.sign(spot - past * _hurdle(rule, params))
        else:
            f, s = rule.fast, rule.slow
            a_sum = p[len(p) - (f - 1) :].sum() if f > 1 else 0.0
            b_sum = p[len(p) - (s - 1) :].sum()
            level = (f * b_sum - s * a_sum) / (s - f)
            if level <= 0:
                level = math.nan
            k = np.arange(1, s + 1)
            rev = np.concatenate([[0.0], np.cumsum(p[::-1])])  # rev[j] = sum of the last j closes
            ma_f = (np.minimum(k, f) * spot + rev[np.maximum(f - k, 0)]) / f
            ma_s = (k * spot + rev[s - k]) / s
            path = _sign(ma_f - ma_s, ma_s)
        changed = np.flatnonzero(path != now)
        days = float(changed[0] + 1) if len(changed) else math.nan
        rows.append(
            {
                "lookback": rule.label,
                "spec": spec,
                "signal": now,
                "level": float(level),
                "distance_pct": 100.0 * (level / spot - 1.0) if math.isfinite(level) else math.nan,
                "days_to_flip": days,
            }
        )
    return pd.DataFrame(
        rows, columns=["lookback", "spec", "signal", "level", "distance_pct", "days_to_flip"]
    )


# -- forward paths -----------------------------------------------------------------------------
def path_positions(
    close: np.ndarray, paths: np.ndarray, params: CtaParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Along each path of daily log returns after the history ``close`` (1-D, ending at ``T``):
    ``(position, signal_mean, sigma_used)``, each ``(n, h)`` for sessions ``T+1..T+h``."""
    p = np.asarray(close, dtype=float)
    paths = np.atleast_2d(np.asarray(paths, dtype=float))
    n, h = paths.shape
    rules = params.rules()
    m = max(r.slow for r in rules) + 1
    tail = np.broadcast_to(p[-m:], (n, m))
    ext = np.concatenate([tail, p[-1] * np.exp(np.cumsum(paths, axis=1))], axis=1)
    sig = np.mean(np.stack([signal_values(ext, r, params)[:, m:] for r in rules]), axis=0)
    vol_hist = sigma(p, params)
    v_path = ewma_variance_paths(
        vol_hist[-1] ** 2, paths, params.decay, annualisation=params.annualisation
    )
    lag = params.vol_lag
    known = vol_hist[len(vol_hist) - lag :] if lag else np.empty(0)
    vol_used = np.concatenate([np.broadcast_to(known, (n, len(known))), np.sqrt(v_path)], axis=1)[
        :, :h
    ]
    return _position(sig, vol_used, params), sig, vol_used


def tape_paths(
    sigma_now: float,
    tapes: Sequence[str],
    horizons: Mapping[str, int],
    n_sigma: float = DEFAULT_TAPE_SIGMAS,
    annualisation: int = ANNUALISATION,
) -> list[tuple[str, str, int, float]]:
    """``(tape, horizon, sessions, daily log return)`` per scenario: total move
    ``+/- n_sigma * sigma_now * sqrt(h / 252)`` (log), spread evenly; ``flat`` = 0."""
    out = []
    for tape in tapes:
        sign = {"flat": 0.0, "up": 1.0, "down": -1.0}[tape]
        for name, h in horizons.items():
            total = sign * n_sigma * sigma_now * math.sqrt(h / annualisation)
            out.append((tape, name, int(h), total / h))
    return out


# -- calibration -----------------------------------------------------------------------------
def calibrate(
    prices: pd.DataFrame,
    published_position_usd: float,
    on: str | pd.Timestamp,
    params: CtaParams = DEFAULT,
    source: str = "",
) -> calib.Calibration:
    """AUM from a published modelled position ("CTAs are USD 80 bn long") on session ``on``:
    ``AUM = published / position_on`` (+ = long)."""
    hist = history(prices, params)
    dates = pd.DatetimeIndex(hist["date"])
    i = int(dates.searchsorted(pd.Timestamp(on), side="right")) - 1
    if i < 0:
        raise InputError(
            prices.attrs.get("source", "prices"),
            "as_of",
            f"{pd.Timestamp(on).date()} is before the first close",
        )
    return calib.solve(
        published_position_usd,
        float(hist["position"].iloc[i]),
        method="position on date",
        start=dates[i],
        end=dates[i],
        source=source,
    )


# -- the report ------------------------------------------------------------------------------
UNITS: dict[str, dict[str, str]] = {
    "history": {
        "date": "session date",
        "close": "index points",
        "signal_mean": "-1..+1 (mean of the rules' signs)",
        "sigma": "fraction per year (EWMA, unlagged)",
        "position": "fraction of AUM (+ = long)",
        "position_usd": "USD of index futures (+ = long)",
        "flow_usd": "USD at the close (+ = buy)",
    },
    "triggers": {
        "lookback": "rule",
        "signal": "-1/0/+1 today",
        "level": "index points (close at which the rule flips at the next session)",
        "distance_pct": "percent from today's close",
        "days_to_flip": "sessions if every close equals today's",
    },
    "scenarios": {
        "tape": "flat / up / down",
        "horizon": "1w / 1m",
        "sessions": "sessions",
        "move_pct": "percent over the horizon",
        "flow_usd": "USD over the horizon (+ = buy)",
        "flow_signal_usd": "USD from signal changes",
        "flow_vol_usd": "USD from volatility changes",
        "position_end": "fraction of AUM",
    },
    "shock_grid": {
        "shock_pct": "percent (next session)",
        "position": "fraction of AUM after the close",
        "flow_usd": "USD at the next close (+ = buy)",
    },
}
HEADLINE_UNITS = {
    "close": "index points",
    "sigma": "fraction per year",
    "position": "fraction of AUM (+ = long)",
    "position_usd": "USD (+ = long)",
    "signal_mean": "-1..+1",
    "flow_usd_1d": "USD, last session (+ = buy)",
    "nearest_trigger_level": "index points",
    "nearest_trigger_distance_pct": "percent from the close (signed)",
    "nearest_trigger_abs_distance_pct": "percent from the close",
    "nearest_trigger_days_to_flip": "sessions (flat tape), of the nearest trigger's rule",
    "min_days_to_flip": "sessions (flat tape)",
    "flow_usd_down_1w": "USD over 5 sessions on a -2 sigma tape",
    "flow_usd_up_1w": "USD over 5 sessions on a +2 sigma tape",
    "flow_usd_flat_1w": "USD over 5 sessions on a flat tape",
    "aum_usd": "USD",
}


@dataclass
class CtaReport:
    """Output of :func:`analyze` (units in :data:`UNITS` / :data:`HEADLINE_UNITS`)."""

    headline: dict[str, Any]
    history: pd.DataFrame
    triggers: pd.DataFrame
    scenarios: pd.DataFrame
    shock_grid: pd.DataFrame
    calibration: calib.Calibration
    params: CtaParams
    units: dict[str, dict[str, str]] = field(default_factory=lambda: dict(UNITS))
    horizon: str = HORIZON

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "history": self.history,
            "triggers": self.triggers,
            "scenarios": self.scenarios,
            "shock_grid": self.shock_grid,
        }


def analyze(
    prices: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp | None = None,
    aum: calib.Calibration | float = 1.0,
    params: CtaParams = DEFAULT,
    tape_sigmas: float = DEFAULT_TAPE_SIGMAS,
    tape_horizons: Mapping[str, int] = DEFAULT_TAPE_HORIZONS,
    shock_grid_pct: Sequence[float] = DEFAULT_SHOCK_GRID_PCT,
) -> CtaReport:
    """Position, triggers and scenario flows as of the close of ``as_of`` (last close on or
    before it; later rows ignored).  ``aum``: a :class:`flows.calibration.Calibration` or USD."""
    params.validate()
    cal = aum if isinstance(aum, calib.Calibration) else calib.configured(float(aum))
    src = prices.attrs.get("source", "prices")
    validate_columns(prices, ["date", "close"], src)
    dates = pd.DatetimeIndex(prices["date"])
    i = (
        len(prices) - 1
        if as_of is None
        else int(dates.searchsorted(pd.Timestamp(as_of), side="right")) - 1
    )
    if i < 0:
        raise InputError(
            src,
            "as_of",
            f"{pd.Timestamp(as_of).date()} is before the first close ({dates[0].date()})",
        )
    if i + 1 < params.warmup + 1:
        raise InputError(
            src,
            "as_of",
            f"{i + 1} sessions up to {dates[i].date()}: the signals need at least {params.warmup + 1}",
        )
    px = prices.iloc[: i + 1]
    px.attrs.update(prices.attrs)
    hist = history(px, params, cal.aum_usd)
    close = hist["close"].to_numpy()
    pos_now, sig_now = float(hist["position"].iloc[-1]), float(hist["signal_mean"].iloc[-1])
    vol = hist["sigma"].to_numpy()
    vol_used_now = float(vol[-1 - params.vol_lag])
    trig = trigger_levels(close, params)

    specs = tape_paths(
        float(vol[-1]), ("flat", "up", "down"), tape_horizons, tape_sigmas, params.annualisation
    )
    h_max = max(s[2] for s in specs)
    paths = np.zeros((len(specs), h_max))
    for j, (_, _, h, mu) in enumerate(specs):
        paths[j, :h] = mu
    pos, sig, vol_used = path_positions(close, paths, params)
    at = np.asarray([s[2] - 1 for s in specs])
    rows = np.arange(len(specs))
    pos_end, sig_end = pos[rows, at], sig[rows, at]
    pos_sig_only = _position(sig_end, np.full(len(sig_end), vol_used_now), params)
    scen = pd.DataFrame(
        {
            "tape": [s[0] for s in specs],
            "horizon": [s[1] for s in specs],
            "sessions": np.asarray([s[2] for s in specs], dtype=np.int64),
            "move_pct": 100.0 * np.expm1(np.asarray([s[3] * s[2] for s in specs])),
            "flow_usd": cal.aum_usd * (pos_end - pos_now),
            "flow_signal_usd": cal.aum_usd * (pos_sig_only - pos_now),
            "flow_vol_usd": cal.aum_usd * (pos_end - pos_sig_only),
            "position_end": pos_end,
        }
    )
    shocks = np.log1p(np.asarray(shock_grid_pct, dtype=float) / 100.0)[:, None]
    pos1, _, _ = path_positions(close, shocks, params)
    grid = pd.DataFrame(
        {
            "shock_pct": np.asarray(shock_grid_pct, dtype=float),
            "position": pos1[:, 0],
            "flow_usd": cal.aum_usd * (pos1[:, 0] - pos_now),
        }
    )

    finite = trig[np.isfinite(trig["distance_pct"])]
    nearest = (
        finite.iloc[int(np.argmin(np.abs(finite["distance_pct"].to_numpy())))]
        if len(finite)
        else None
    )
    by = {
        (t, h): f for t, h, f in zip(scen["tape"], scen["horizon"], scen["flow_usd"], strict=True)
    }
    headline = {
        "as_of": hist["date"].iloc[-1].date().isoformat(),
        "close": float(close[-1]),
        "sigma": float(vol[-1]),
        "position": pos_now,
        "position_usd": cal.aum_usd * pos_now,
        "signal_mean": sig_now,
        "flow_usd_1d": float(hist["flow_usd"].iloc[-1]),
        "nearest_trigger": None if nearest is None else str(nearest["lookback"]),
        "nearest_trigger_level": math.nan if nearest is None else float(nearest["level"]),
        "nearest_trigger_distance_pct": math.nan
        if nearest is None
        else float(nearest["distance_pct"]),
        "nearest_trigger_abs_distance_pct": math.nan
        if nearest is None
        else abs(float(nearest["distance_pct"])),
        "nearest_trigger_days_to_flip": math.nan
        if nearest is None or pd.isna(nearest["days_to_flip"])
        else float(nearest["days_to_flip"]),
        "min_days_to_flip": float(np.nanmin(trig["days_to_flip"]))
        if trig["days_to_flip"].notna().any()
        else math.nan,
        **{f"flow_usd_{t}_{h}": float(by[(t, h)]) for t, h in by if h == "1w"},
        "aum_usd": float(cal.aum_usd),
        "calibration": cal.label(),
        "horizon": HORIZON,
    }
    return CtaReport(
        headline=headline,
        history=hist,
        triggers=trig,
        scenarios=scen,
        shock_grid=grid,
        calibration=cal,
        params=params,
    )
