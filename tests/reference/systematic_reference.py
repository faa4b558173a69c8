"""Slow, obvious reference implementations of the systematic engines (plain Python loops).

Each vectorised function in flows/volatility.py, flows/volcontrol.py, flows/cta.py and
flows/vixetp.py is checked against these on real data.  Written from the formulas in the module
docstrings, not from the vectorised code.
"""

from __future__ import annotations

import math
from datetime import date, timedelta


def log_returns(closes: list[float]) -> list[float | None]:
    out: list[float | None] = [None]
    for a, b in zip(closes[:-1], closes[1:], strict=True):
        out.append(math.log(b / a))
    return out


def ewma_vol(
    closes: list[float], decay: float, seed: int, annualisation: int = 252
) -> list[float | None]:
    """sigma_t: seeded with the mean of A*r^2 over returns 1..seed, then the recursion."""
    r = log_returns(closes)
    out: list[float | None] = [None] * len(closes)
    if len(closes) <= seed:
        return out
    v = sum(annualisation * x * x for x in r[1 : seed + 1]) / seed
    out[seed] = math.sqrt(v)
    for t in range(seed + 1, len(closes)):
        v = decay * v + (1 - decay) * annualisation * r[t] ** 2
        out[t] = math.sqrt(v)
    return out


def simple_vol(closes: list[float], window: int, annualisation: int = 252) -> list[float | None]:
    r = log_returns(closes)
    out: list[float | None] = [None] * len(closes)
    for t in range(window, len(closes)):
        xs = r[t - window + 1 : t + 1]
        m = sum(xs) / window
        out[t] = math.sqrt(sum((x - m) ** 2 for x in xs) / (window - 1) * annualisation)
    return out


def volcontrol_exposure(
    closes: list[float], *, decays=(0.94, 0.97), windows=None, target=0.10, cap=1.5, lag=1, seed=20
) -> list[float | None]:
    comps = (
        [simple_vol(closes, w) for w in windows]
        if windows
        else [ewma_vol(closes, d, seed) for d in decays]
    )
    out: list[float | None] = [None] * len(closes)
    for t in range(len(closes)):
        s = t - lag
        if s < 0 or any(c[s] is None for c in comps):
            continue
        sig = max(c[s] for c in comps)
        out[t] = cap if sig == 0 else min(cap, target / sig)
    return out


def sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def return_signal(
    closes: list[float], t: int, lookback: int, cash_rate: float = 0.0
) -> float | None:
    if t - lookback < 0:
        return None
    return sign(closes[t] - closes[t - lookback] * (1 + cash_rate * lookback / 252))


def ma_signal(closes: list[float], t: int, fast: int, slow: int) -> float | None:
    if t - slow + 1 < 0:
        return None
    ma_f = sum(closes[t - fast + 1 : t + 1]) / fast
    ma_s = sum(closes[t - slow + 1 : t + 1]) / slow
    return sign(ma_f - ma_s)


def business_days(start: date, end: date, holidays: set[date]) -> int:
    """Weekdays in [start, end) that are not holidays."""
    n, d = 0, start
    while d < end:
        if d.weekday() < 5 and d not in holidays:
            n += 1
        d += timedelta(days=1)
    return n
