"""Realised-volatility estimators shared by the systematic engines (vol-control, CTA).

All volatilities are **annualised fractions** (0.16 = 16 % a year) of daily **log** returns
``r_t = ln(P_t / P_{t-1})``, annualised with ``annualisation`` sessions a year (252 unless a
caller states otherwise).  Zero-mean estimators (the mean daily return, ~0.03 %, is ignored: at
daily horizons it changes the variance by well under 1 %), as in RiskMetrics and the S&P Risk
Control indices.

* **EWMA** (RiskMetrics, J.P. Morgan/Reuters *RiskMetrics Technical Document*, 1996, section
  5.2): ``v_t = lambda * v_{t-1} + (1 - lambda) * A * r_t**2``, ``sigma_t = sqrt(v_t)``.  Seeded
  with ``v = A * mean(r**2)`` over the first ``seed`` returns (values before the seed are NaN).
  ``lambda`` is the decay (0.94: RiskMetrics daily; 0.97: the S&P Risk Control "long-term"
  estimator); a centre of mass ``c`` days (Moskowitz, Ooi and Pedersen 2012: 60 days) is
  ``lambda = c / (1 + c)``.  Computed with :func:`scipy.signal.lfilter` (one IIR filter, no
  Python loop), also along the scenario axis of a 2-D array of return paths.
* **Simple** (equal-weight) volatility over a window of ``n`` returns: the sample standard
  deviation (``ddof = 1``) times ``sqrt(A)``, via cumulative sums along the last axis.

Pure: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np

from flows.errors import InputError

ANNUALISATION = 252
"""Sessions per year used to annualise daily variances."""


def log_returns(close: np.ndarray) -> np.ndarray:
    """``ln(P_t / P_{t-1})`` along the last axis, NaN in the first position (same shape)."""
    p = np.asarray(close, dtype=float)
    out = np.full(p.shape, np.nan)
    out[..., 1:] = np.diff(np.log(p), axis=-1)
    return out


def decay_from_com(com_days: float) -> float:
    """EWMA decay ``lambda = c / (1 + c)`` for a centre of mass of ``c`` days."""
    if not com_days > 0:
        raise InputError(
            "volatility", "com_days", f"centre of mass must be > 0 days, got {com_days!r}"
        )
    return com_days / (1.0 + com_days)


def ewma_variance(
    returns: np.ndarray, decay: float, *, seed: int = 20, annualisation: int = ANNUALISATION
) -> np.ndarray:
    """Annualised EWMA variance of a 1-D series of daily log returns (first element may be NaN).

    ``v`` at index ``seed`` (the ``seed``-th return, counting from index 1) is the mean of
    ``A * r**2`` over returns ``1..seed``; then the recursion runs.  Earlier values are NaN.
    """
    if not 0.0 < decay < 1.0:
        raise InputError("volatility", "decay", f"EWMA decay must be in (0, 1), got {decay!r}")
    r = np.asarray(returns, dtype=float)
    out = np.full(r.shape, np.nan)
    if r.size <= seed:
        return out
    sq = annualisation * r[1:] ** 2
    v0 = float(np.mean(sq[:seed]))
    out[seed] = v0
    if r.size > seed + 1:
        from scipy.signal import lfilter  # here, not at import: scipy.signal costs ~0.5 s to load

        y, _ = lfilter([1.0 - decay], [1.0, -decay], sq[seed:], zi=[decay * v0])
        out[seed + 1 :] = y
    return out


def ewma_variance_paths(
    last_variance: float | np.ndarray,
    returns: np.ndarray,
    decay: float,
    *,
    annualisation: int = ANNUALISATION,
) -> np.ndarray:
    """Continue the EWMA recursion along scenario paths.

    ``returns`` is ``(n_paths, h)`` daily log returns after the last observation, whose
    annualised variance is ``last_variance`` (scalar or ``(n_paths,)``).  Returns the
    ``(n_paths, h)`` variances after each path step.
    """
    r = np.atleast_2d(np.asarray(returns, dtype=float))
    v0 = np.broadcast_to(np.asarray(last_variance, dtype=float), (r.shape[0],))
    from scipy.signal import lfilter  # here, not at import: scipy.signal costs ~0.5 s to load

    y, _ = lfilter(
        [1.0 - decay], [1.0, -decay], annualisation * r**2, axis=1, zi=(decay * v0)[:, None]
    )
    return np.asarray(y, dtype=np.float64)


def rolling_std(
    returns: np.ndarray, window: int, *, annualisation: int = ANNUALISATION
) -> np.ndarray:
    """Annualised sample standard deviation of the last ``window`` returns, along the last axis.

    Position ``i`` uses returns ``i-window+1 .. i``; positions without a full window of finite
    returns are NaN.  Cumulative sums: O(n), no Python loop.
    """
    if window < 2:
        raise InputError(
            "volatility", "window", f"a volatility window needs at least 2 returns, got {window}"
        )
    r = np.asarray(returns, dtype=float)
    finite = np.isfinite(r)
    x = np.where(finite, r, 0.0)
    pad = [(0, 0)] * (r.ndim - 1) + [(1, 0)]
    c1 = np.pad(np.cumsum(x, axis=-1), pad)
    c2 = np.pad(np.cumsum(x * x, axis=-1), pad)
    cn = np.pad(np.cumsum(finite, axis=-1), pad)
    s1 = c1[..., window:] - c1[..., :-window]
    s2 = c2[..., window:] - c2[..., :-window]
    n = cn[..., window:] - cn[..., :-window]
    var = (s2 - s1 * s1 / window) / (window - 1)
    out = np.full(r.shape, np.nan)
    out[..., window - 1 :] = np.where(
        n == window, np.sqrt(np.maximum(var, 0.0) * annualisation), np.nan
    )
    return out
