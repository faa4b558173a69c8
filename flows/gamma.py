"""Dealer gamma exposure (GEX): spot GEX, gamma profile, flips, walls, hedge flows.

Pure and vectorised: a :class:`flows.chain.Chain` and :class:`GammaParams` in, a
:class:`GammaReport` of frames out. No clock (``as_of`` comes with the chain), no I/O.

Conventions and formulas
------------------------
Dealer position per contract ``w`` (contracts, signed, + = dealers long), by convention:

* ``calls_long_puts_short`` (default, the public GEX convention): ``w = +OI`` for calls,
  ``-OI`` for puts (customers sell calls to and buy puts from dealers).
* ``short_all``: ``w = -OI`` for every contract (dealers sold every option).
* ``source_position``: ``w`` = the chain's :data:`flows.chain.DEALER_POSITION_COLUMN` column,
  when a source provides one (public CBOE files do not).

Spot GEX uses the SOURCE's gamma (``gamma``, per 1 point per option), multiplier ``m = 100``::

    GEX_usd_per_1pct   = sum_i w_i * gamma_i * m * S**2 * 0.01   (USD of underlying dealers must
                                                                  trade per 1 % move of spot)
    GEX_usd_per_point  = sum_i w_i * gamma_i * m * S             (USD per 1 index point)
    GEX_shares_per_1pct= sum_i w_i * gamma_i * m * S * 0.01      (units of underlying per 1 %)

Positive = dealers long gamma (they sell rallies and buy dips: stabilising); negative = short
gamma. The headline ``regime`` is the sign of the spot net GEX from the source's gamma. ``call_``/``put_`` columns keep the two sides apart; ``net`` = call + put; ``gross`` =
sum of ``|GEX_i|``. Source gamma that is missing counts as 0.

Model greeks are Black-Scholes-Merton (:mod:`flows.greeks`) with ``r``, ``q`` from the params and
per-contract IV: the source's IV, or where it is zero/missing, the IV solved from the bid/ask mid
(contracts whose mid cannot be solved are reported ``unsolved`` and left out of the model).

Time to settlement ``T`` (years):

* ``calendar``: ``(settle_time - as_of) / 365 days`` (ACT/365 to the exact settlement instant).
* ``busdays262``: ``numpy.busday_count(snapshot date, expiry date) / 262`` (Mon-Fri, no holiday
  list), and ``1/262`` for a contract that expires on the snapshot date and is still alive: the
  convention of the widely copied public GEX script, so figures can be compared with it.

Contracts whose settlement time is at or before ``as_of`` are dropped and listed in ``dropped``.

Profile: ``GEX(s) = sum_i w_i * gamma_i(s) * m * s**2 * 0.01`` over ``s`` in
``S * [1 - window, 1 + window]`` with IV and ``T`` held per contract. Flips: every sign change
between neighbouring profile points is bracketed and refined by bisection on the model to a
bracket narrower than 0.01 % of spot (the flip is its midpoint); ``flip`` is the crossing nearest
spot, ``None`` without one. Nothing assumes the profile is monotonic.

Hedge flow for a move to ``S' = S (1 + move_pct/100)``, with the dealers' option delta in units
of underlying ``D(s) = m * sum_i w_i * delta_i(s)``::

    dealer_trade_usd = -(D(S') - D(S)) * S'          (full re-pricing; + = dealers buy)
    gamma_approx_usd = -m * sum_i w_i gamma_i(S) * (S' - S) * S'   (model gamma at spot)
    vanna_flow_usd   = -(D(S'; sigma + shock) - D(S'; sigma)) * S'  (IV shock of
                       ``iv_shock_points`` vol points on every contract, at S')
    charm_flow_usd   = -(D(S'; T_next) - D(S'; T)) * S'   (time passing to ``next_close``)

Contracts settling before ``next_close`` are carried to just before settlement (``T`` floored at
:data:`T_FLOOR_YEARS`), so their delta goes to its intrinsic value in the charm flow.

Walls (from spot GEX by strike, all expiries): call wall = strike with the largest ``|call GEX|``;
put wall = strike with the largest ``|put GEX|``; absolute-gamma strike = largest
``|call GEX| + |put GEX|``. Absolute values keep the walls meaningful under every convention.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr

from flows.chain import DEALER_POSITION_COLUMN, EXCHANGE_TZ, Chain, validate_chain
from flows.errors import InputError
from flows.greeks import implied_vol
from flows.schema import OPTION_MULTIPLIER

CONVENTIONS = ("calls_long_puts_short", "short_all", "source_position")
"""Dealer sign conventions (see module docstring)."""
TIME_BASES = ("calendar", "busdays262")
SECONDS_PER_YEAR = 365.0 * 86400.0
"""ACT/365 year, seconds."""
BUSDAYS_PER_YEAR = 262.0
T_FLOOR_YEARS = 1e-8
"""Smallest time to settlement used when carrying a contract to just before it settles (~0.3 s)."""
FLIP_TOL_FRACTION = 1e-4
"""Flip brackets are refined until narrower than this fraction of spot (0.01 %)."""
D1_CUTOFF = 9.0
"""Contracts with ``|d1| > D1_CUTOFF`` over the whole profile window are left out of the profile:
their gamma there is below ``phi(9) ~ 1e-18`` of their peak gamma."""
_CHUNK_ELEMENTS = 1 << 15
"""Contracts x spot-points block evaluated at once (32 Ki float64 = 256 KB: stays in L2 cache;
measured 2x faster than 8 MB blocks)."""
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_PCT = 0.01


def _default_moves() -> tuple[float, ...]:
    return tuple(float(m) for m in range(-10, 11))


@dataclass
class GammaParams:
    """Inputs of :func:`analyze` besides the chain.

    Attributes
    ----------
    r, q:
        Continuously compounded rate and dividend yield, fraction per year.
    convention:
        Dealer sign convention, one of :data:`CONVENTIONS`.
    time_basis:
        ``calendar`` or ``busdays262`` (see module docstring).
    window:
        Profile half-width, fraction of spot (0.20 = +-20 %).
    n_points:
        Number of profile points (odd keeps spot itself on the grid).
    moves_pct:
        Spot moves for the hedge-flow table, percent.
    iv_shock_points:
        Vanna flow IV shock, volatility points (5 = +5 vol points on every contract).
    next_close:
        Horizon of the charm flow (tz-aware); ``None`` = the next 16:00 New York time after
        ``as_of`` on a weekday (no holiday calendar: jobs pass the exchange's next close).
    """

    r: float = 0.045
    q: float = 0.0
    convention: str = "calls_long_puts_short"
    time_basis: str = "calendar"
    window: float = 0.20
    n_points: int = 801
    moves_pct: tuple[float, ...] = field(default_factory=_default_moves)
    iv_shock_points: float = 5.0
    next_close: pd.Timestamp | None = None


@dataclass
class GammaReport:
    """Output of :func:`analyze`; every table's columns carry their unit (see ``units``)."""

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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables in publishing order (``by_strike`` first: the main table)."""
        return {
            "by_strike": self.by_strike,
            "profile": self.profile,
            "by_expiry": self.by_expiry,
            "grid": self.grid,
            "hedge_flow": self.hedge_flow,
            "sensitivity": self.sensitivity,
            "contracts": self.contracts,
            "dropped": self.dropped,
        }


UNITS: dict[str, dict[str, str]] = {
    "by_strike": {
        "strike": "index points / USD per share",
        "call_gex_usd_per_1pct": "USD per 1% move",
        "put_gex_usd_per_1pct": "USD per 1% move",
        "net_gex_usd_per_1pct": "USD per 1% move",
        "call_oi_contracts": "contracts",
        "put_oi_contracts": "contracts",
    },
    "by_expiry": {
        "expiry": "date",
        "days_to_expiry": "calendar days from the snapshot date",
        "net_gex_usd_per_1pct": "USD per 1% move",
        "call_gex_usd_per_1pct": "USD per 1% move",
        "put_gex_usd_per_1pct": "USD per 1% move",
        "gross_gex_usd_per_1pct": "USD per 1% move",
        "zero_dte": "bool",
    },
    "grid": {"expiry": "date", "strike": "index points / USD per share", "net_gex_usd_per_1pct": "USD per 1% move"},
    "profile": {
        "spot": "index points / USD per share",
        "spot_pct_from_current": "percent",
        "net_gex_usd_per_1pct": "USD per 1% move",
        "call_gex_usd_per_1pct": "USD per 1% move",
        "put_gex_usd_per_1pct": "USD per 1% move",
    },
    "hedge_flow": {
        "move_pct": "percent",
        "spot": "index points / USD per share",
        "dealer_trade_usd": "USD (+ = dealers buy)",
        "gamma_approx_usd": "USD (+ = dealers buy)",
        "vanna_flow_usd": "USD (+ = dealers buy)",
        "charm_flow_usd": "USD (+ = dealers buy)",
    },
    "sensitivity": {
        "convention": "dealer sign convention",
        "net_gex_usd_per_1pct": "USD per 1% move",
        "flip": "index points / USD per share",
        "hedge_flow_down3_usd": "USD (+ = dealers buy)",
        "hedge_flow_up3_usd": "USD (+ = dealers buy)",
    },
    "contracts": {
        "strike": "index points / USD per share",
        "open_interest": "contracts",
        "dealer_position_contracts": "contracts (+ = dealers long)",
        "iv_used": "fraction per year",
        "t_years": "years",
        "gamma_file": "per 1 point per option",
        "gamma_model": "per 1 point per option",
        "gex_usd_per_1pct": "USD per 1% move",
    },
    "dropped": {"open_interest": "contracts"},
}


# --------------------------------------------------------------------------------------------
# time


def default_next_close(as_of: pd.Timestamp) -> pd.Timestamp:
    """The next 16:00 New York time strictly after ``as_of`` on a weekday (UTC)."""
    local = as_of.tz_convert(EXCHANGE_TZ)
    day = local.normalize()
    for k in range(8):
        cand = (day + pd.Timedelta(days=k)).tz_localize(None) + pd.Timedelta(hours=16)
        cand = cand.tz_localize(EXCHANGE_TZ)
        if cand > local and cand.weekday() < 5:
            return cand.tz_convert("UTC")
    raise AssertionError("unreachable: a weekday exists within 8 days")


def year_fractions(settle_ns: np.ndarray, expiry_days: np.ndarray, at: pd.Timestamp, basis: str) -> np.ndarray:
    """Time from ``at`` to settlement, years, per contract (<= 0 when settled by ``at``).

    Parameters
    ----------
    settle_ns:
        Settlement instants, int64 ns since the epoch (UTC).
    expiry_days:
        Expiry calendar dates as ``datetime64[D]``.
    at:
        Valuation instant (tz-aware).
    basis:
        ``calendar`` (ACT/365 to the settlement instant) or ``busdays262`` (weekday count from
        ``at``'s New York date to the expiry date / 262; alive same-day contracts = 1/262).
    """
    at_ns = at.tz_convert("UTC").value
    alive = settle_ns > at_ns
    if basis == "calendar":
        return (settle_ns - at_ns) / 1e9 / SECONDS_PER_YEAR
    if basis == "busdays262":
        day = np.datetime64(at.tz_convert(EXCHANGE_TZ).date(), "D")
        n = np.busday_count(day, expiry_days).astype(np.float64)
        t = np.where(n > 0, n, 1.0) / BUSDAYS_PER_YEAR
        return np.where(alive, t, 0.0)
    raise InputError("gamma params", "time_basis", f"unknown time basis {basis!r}; use one of {TIME_BASES}")


# --------------------------------------------------------------------------------------------
# model kernels (contracts x spots), chunked


@dataclass
class _Model:
    """Per-contract constants of the BSM gamma kernel, for contracts in the model set.

    With ``x = ln(s / S)``: ``d1(s) = d0 + b x`` where ``d0`` is d1 at spot and
    ``b = 1 / (sigma sqrt(T))``, and ``GEX_i(s) = w_i * c_i * exp(-d1(s)**2 / 2) * s`` in USD per
    1 % (``c_i = e^{-qT} m 0.01 b / sqrt(2 pi)``; see :func:`_gex_curve`).
    """

    S: float
    d0: np.ndarray
    b: np.ndarray
    c: np.ndarray
    W: np.ndarray  # weights (k rows x n contracts), contracts


def _make_model(S: float, K: np.ndarray, T: np.ndarray, sigma: np.ndarray, r: float, q: float, W: np.ndarray) -> _Model:
    b = 1.0 / (sigma * np.sqrt(T))
    d0 = (np.log(S / K) + (r - q + 0.5 * sigma * sigma) * T) * b
    # gamma * m * s^2 * 0.01 = e^{-qT} phi(d1) / (s sigma sqrt(T)) * m * s^2 * 0.01
    #                        = [e^{-qT} m 0.01 b / sqrt(2 pi)] * exp(-d1^2 / 2) * s
    c = np.exp(-q * T) * (OPTION_MULTIPLIER * _PCT * _INV_SQRT_2PI) * b
    return _Model(S=S, d0=d0, b=b, c=c, W=W)


def _gex_curve(model: _Model, spots: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Model GEX (USD per 1 %) at each spot for each weight row: array (k, len(spots)).

    The exponent ``-d1**2/2 = -d0**2/2 - d0 b x - b**2 x**2 / 2`` is a rank-3 product
    ``[-d0**2/2, -d0 b, -b**2/2] @ [1, x, x**2]``, so one small matrix product writes a block of
    the contracts x spots matrix, one in-place ``exp`` turns it into gamma shapes, and one
    matrix-vector product per weight row sums it: three passes over a cache-sized block. With
    ``x = ln(s/S)`` small the cancellation error in the exponent is ~1e-16 x its largest term
    (relative error ~1e-12 in gamma). Contracts with ``|d1| > D1_CUTOFF`` over the whole spot
    range are left out (d1 is increasing in ``x``, so checking the two ends suffices).
    """
    W = model.W if rows is None else model.W[rows]
    spots = np.asarray(spots, dtype=np.float64)
    out = np.zeros((W.shape[0], spots.size))
    if model.d0.size == 0 or spots.size == 0:
        return out
    x = np.log(spots / model.S)
    keep = (model.d0 + model.b * x.min() <= D1_CUTOFF) & (model.d0 + model.b * x.max() >= -D1_CUTOFF)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return out
    d0, b = model.d0[idx], model.b[idx]
    coef = np.column_stack([-0.5 * d0 * d0, -d0 * b, -0.5 * b * b])
    powers = np.vstack([np.ones_like(x), x, x * x])
    WC = W[:, idx] * model.c[idx]
    step = max(1, _CHUNK_ELEMENTS // spots.size)
    buf = np.empty((min(step, idx.size), spots.size))
    for start in range(0, idx.size, step):
        sl = slice(start, start + step)
        block = buf[: coef[sl].shape[0]]
        np.matmul(coef[sl], powers, out=block)
        np.exp(block, out=block)
        out += WC[:, sl] @ block
    out *= spots
    return out


def gex_profile(S: float, strike: np.ndarray, t_years: np.ndarray, iv: np.ndarray, weights: np.ndarray, spots: np.ndarray, r: float, q: float) -> np.ndarray:
    """Model GEX (USD per 1 % move) at each of ``spots`` for signed dealer positions.

    ``sum_i weights_i * gamma_BSM(s; K_i, T_i, iv_i) * 100 * s**2 * 0.01`` with IV and ``T`` held
    per contract. ``weights``: contracts (+ = dealers long), shape (n,) or (k, n) for several
    position sets at once; returns shape (len(spots),) or (k, len(spots)). Contracts must have
    ``T > 0`` and ``iv > 0`` (filter them first, as :func:`analyze` does).
    """
    W = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    model = _make_model(float(S), np.asarray(strike, dtype=np.float64), np.asarray(t_years, dtype=np.float64), np.asarray(iv, dtype=np.float64), r, q, W)
    out = _gex_curve(model, np.asarray(spots, dtype=np.float64))
    return out[0] if np.ndim(weights) == 1 else out


def _dealer_delta(S: float, K: np.ndarray, T: np.ndarray, sigma: np.ndarray, is_call: np.ndarray, W: np.ndarray, spots: np.ndarray, r: float, q: float) -> np.ndarray:
    """Dealer option delta, units of underlying, per weight row and spot: (k, len(spots)).

    ``D(s) = m * sum_i w_i * delta_i(s)`` with BSM delta (call ``e^{-qT} N(d1)``, put
    ``e^{-qT} (N(d1) - 1)``), ``d1 = d0 + b ln(s/S)``.
    """
    spots = np.asarray(spots, dtype=np.float64)
    out = np.zeros((W.shape[0], spots.size))
    if T.size == 0:
        return out
    b = 1.0 / (sigma * np.sqrt(T))
    d0 = (np.log(S / K) + (r - q + 0.5 * sigma * sigma) * T) * b
    disc_q = np.exp(-q * T)
    put_shift = np.where(is_call, 0.0, -1.0)
    x = np.log(spots / S)
    step = max(1, _CHUNK_ELEMENTS // spots.size)
    for start in range(0, T.size, step):
        sl = slice(start, start + step)
        d1 = np.multiply.outer(b[sl], x)
        d1 += d0[sl, None]
        nd = ndtr(d1)
        nd += put_shift[sl, None]
        nd *= disc_q[sl, None]
        out += W[:, sl] @ nd
    return out * OPTION_MULTIPLIER


# --------------------------------------------------------------------------------------------
# flips


def find_flips(spots: np.ndarray, values: np.ndarray, evaluate: Callable[[np.ndarray], np.ndarray], tol: float) -> list[float]:
    """Every sign change of a sampled curve, refined by bisection on the exact function.

    Parameters
    ----------
    spots, values:
        The sampled curve (spots ascending).
    evaluate:
        Function returning the exact curve at an array of spots (vectorised over brackets).
    tol:
        Absolute bracket width at which refinement stops (spot units); the returned crossing is
        the bracket midpoint, so it is within ``tol / 2`` of the root.

    Returns
    -------
    Crossings in ascending order. A sampled value exactly 0 between values of opposite sign is a
    crossing at that point (the middle of a run of zeros). Touching zero without a sign change
    is not a crossing. No monotonicity is assumed: each bracket is refined on its own.
    """
    sign = np.sign(values)
    nz = np.flatnonzero(sign != 0)
    if nz.size < 2:
        return []
    change = sign[nz[:-1]] != sign[nz[1:]]
    left, right = nz[:-1][change], nz[1:][change]
    adjacent = right == left + 1
    flips: list[float] = []
    # zero runs between opposite signs: the crossing is the middle of the run
    for lft, rgt in zip(left[~adjacent], right[~adjacent], strict=True):
        flips.append(float(0.5 * (spots[lft + 1] + spots[rgt - 1])))
    if adjacent.any():
        a = spots[left[adjacent]].astype(np.float64)
        b = spots[right[adjacent]].astype(np.float64)
        fa_sign = sign[left[adjacent]]
        for _ in range(200):
            if np.all(b - a <= tol):
                break
            mid = 0.5 * (a + b)
            fm = evaluate(mid)
            sm = np.sign(fm)
            exact = sm == 0
            go_right = (sm == fa_sign) & ~exact
            a = np.where(go_right | exact, mid, a)
            b = np.where(go_right, b, mid)
        flips.extend((0.5 * (a + b)).tolist())
    return sorted(flips)


# --------------------------------------------------------------------------------------------
# the engine


def _convention_weights(conv: str, is_call: np.ndarray, oi: np.ndarray, position: np.ndarray | None, source: str) -> np.ndarray:
    if conv == "calls_long_puts_short":
        return np.where(is_call, oi, -oi)
    if conv == "short_all":
        return -oi
    if conv == "source_position":
        if position is None:
            raise InputError(source, DEALER_POSITION_COLUMN, "convention 'source_position' needs a per-contract dealer position column")
        return position
    raise InputError("gamma params", "convention", f"unknown convention {conv!r}; use one of {CONVENTIONS}")


def _group_sum(keys_inverse: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    return np.bincount(keys_inverse, weights=values, minlength=n_groups)


def _f(x) -> float | None:
    """JSON-able float (None for NaN/inf/None)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _check_params(p: GammaParams) -> None:
    where = "gamma params"
    if p.time_basis not in TIME_BASES:
        raise InputError(where, "time_basis", f"unknown time basis {p.time_basis!r}; use one of {TIME_BASES}")
    if p.convention not in CONVENTIONS:
        raise InputError(where, "convention", f"unknown convention {p.convention!r}; use one of {CONVENTIONS}")
    if not 0 < p.window < 1:
        raise InputError(where, "window", f"window must be in (0, 1), got {p.window}")
    if p.n_points < 3:
        raise InputError(where, "n_points", f"need at least 3 profile points, got {p.n_points}")
    for name in ("r", "q", "iv_shock_points"):
        if not math.isfinite(float(getattr(p, name))):
            raise InputError(where, name, f"must be finite, got {getattr(p, name)}")
    if any(not math.isfinite(float(m)) or m <= -100 for m in p.moves_pct):
        raise InputError(where, "moves_pct", "moves must be finite and above -100 %")


def _hedge_flows(
    S: float, moves_pct: np.ndarray, K: np.ndarray, T: np.ndarray, T_next: np.ndarray, sigma: np.ndarray, is_call: np.ndarray, W: np.ndarray, gamma_spot: np.ndarray, shock: float, r: float, q: float
) -> tuple[np.ndarray, ...]:
    """Dealer hedge trades per weight row (rows of ``W``) and move (module docstring formulas).

    Returns ``(new_spots, trade, gamma_approx, vanna, charm)``, each USD array of shape
    (rows, moves) except ``new_spots`` (moves,); + = dealers buy.
    """
    new_spots = S * (1.0 + moves_pct / 100.0)
    D = _dealer_delta(S, K, T, sigma, is_call, W, np.concatenate([[S], new_spots]), r, q)
    D_spot, D_new = D[:, :1], D[:, 1:]
    trade = -(D_new - D_spot) * new_spots
    vanna = -(_dealer_delta(S, K, T, sigma + shock, is_call, W, new_spots, r, q) - D_new) * new_spots
    charm = -(_dealer_delta(S, K, T_next, sigma, is_call, W, new_spots, r, q) - D_new) * new_spots
    gamma_units = OPTION_MULTIPLIER * (W @ gamma_spot)  # dealer gamma, units of underlying per point
    gamma_approx = -gamma_units[:, None] * (new_spots - S) * new_spots
    return new_spots, trade, gamma_approx, vanna, charm


def _group_tables(K: np.ndarray, expiry_days: np.ndarray, is_call: np.ndarray, oi: np.ndarray, gex: np.ndarray, snap_day: np.datetime64) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``by_strike``, ``by_expiry`` and the long ``grid`` from per-contract spot GEX.

    Group sums with ``numpy.unique`` + ``bincount``; strikes are grouped by exact value, so a
    half-dollar strike (450.5) stays apart from 450 and 451, and SPX/SPXW rows at one strike add up.
    """
    call_part = np.where(is_call, gex, 0.0)
    put_part = np.where(is_call, 0.0, gex)
    strikes_u, k_inv = np.unique(K, return_inverse=True)
    ns = strikes_u.size
    by_strike = pd.DataFrame(
        {
            "strike": strikes_u,
            "call_gex_usd_per_1pct": _group_sum(k_inv, ns, call_part),
            "put_gex_usd_per_1pct": _group_sum(k_inv, ns, put_part),
            "net_gex_usd_per_1pct": _group_sum(k_inv, ns, gex),
            "call_oi_contracts": _group_sum(k_inv, ns, np.where(is_call, oi, 0.0)),
            "put_oi_contracts": _group_sum(k_inv, ns, np.where(is_call, 0.0, oi)),
        }
    )
    exp_u, e_inv = np.unique(expiry_days, return_inverse=True)
    ne = exp_u.size
    exp_ts = exp_u.astype("datetime64[ns]")
    by_expiry = pd.DataFrame(
        {
            "expiry": exp_ts,
            "days_to_expiry": (exp_u - snap_day).astype(np.int64),
            "net_gex_usd_per_1pct": _group_sum(e_inv, ne, gex),
            "call_gex_usd_per_1pct": _group_sum(e_inv, ne, call_part),
            "put_gex_usd_per_1pct": _group_sum(e_inv, ne, put_part),
            "gross_gex_usd_per_1pct": _group_sum(e_inv, ne, np.abs(gex)),
            "zero_dte": exp_u == snap_day,
        }
    )
    pair = e_inv.astype(np.int64) * ns + k_inv
    pair_u, p_inv = np.unique(pair, return_inverse=True)
    grid = pd.DataFrame(
        {
            "expiry": exp_ts[pair_u // ns],
            "strike": strikes_u[pair_u % ns],
            "net_gex_usd_per_1pct": np.bincount(p_inv, weights=gex, minlength=pair_u.size),
        }
    )
    return by_strike, by_expiry, grid


def _dropped_table(dead: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``dropped``: contracts settled at or before the snapshot, with the reason."""
    dropped = pd.DataFrame(
        {
            "symbol": dead["symbol"].reset_index(drop=True),
            "expiry": dead["expiry"].reset_index(drop=True),
            "open_interest": dead["open_interest"].to_numpy(dtype=np.float64),
            "reason": pd.Series("", index=range(len(dead)), dtype="str"),
        }
    )
    if len(dead):
        # one reason string per distinct settle time (few), mapped onto the rows
        st = dead["settle_time"].dt.tz_convert("UTC")
        reasons = {t: f"settled at {t.isoformat()}, at or before the snapshot {as_of.isoformat()}" for t in st.unique()}
        dropped["reason"] = pd.Series(st.map(reasons).to_numpy(), dtype="str")
    return dropped


def _resolve_iv(a: pd.DataFrame, S: float, K: np.ndarray, T: np.ndarray, r: float, q: float, is_call: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IV per contract: the source's where positive, else solved from the bid/ask mid.

    The mid is ``(bid + ask) / 2`` when ``ask > 0`` and ``0 <= bid <= ask``; otherwise, or when
    :func:`flows.greeks.implied_vol` cannot solve it, the IV is NaN and the source ``unsolved``.
    Returns ``(iv_used, iv_source)`` with ``iv_source`` in ``file``/``solved``/``unsolved``.
    """
    iv_file = a["iv"].to_numpy(dtype=np.float64, na_value=np.nan)
    have = np.isfinite(iv_file) & (iv_file > 0)
    iv_used = np.where(have, iv_file, np.nan)
    iv_source = np.where(have, "file", "unsolved").astype(object)
    need = np.flatnonzero(~have)
    if need.size:
        bid = a["bid"].to_numpy(dtype=np.float64, na_value=np.nan)[need]
        ask = a["ask"].to_numpy(dtype=np.float64, na_value=np.nan)[need]
        mid = np.where((ask > 0) & (bid >= 0) & (ask >= bid), 0.5 * (bid + ask), np.nan)
        iv_s, ok = implied_vol(mid, S, K[need], T[need], r, q, is_call[need])
        iv_used[need[ok]] = iv_s[ok]
        iv_source[need[ok]] = "solved"
    return iv_used, iv_source


def analyze(chain: Chain, params: GammaParams) -> GammaReport:
    """Dealer gamma analysis of one chain snapshot (see the module docstring for every formula).

    Returns
    -------
    GammaReport
        ``headline`` (flat JSON-able dict) and the tables ``by_strike``, ``by_expiry``, ``grid``,
        ``profile``, ``hedge_flow``, ``sensitivity``, ``contracts``, ``dropped``.

    Raises
    ------
    InputError
        Bad chain (see :func:`flows.chain.validate_chain`) or bad parameters.
    """
    _check_params(params)
    validate_chain(chain)
    src = chain.source
    S = float(chain.spot)
    r, q = float(params.r), float(params.q)
    as_of = chain.as_of.tz_convert("UTC")
    snap_date = chain.as_of.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize()
    c = chain.contracts

    settle_ns = pd.DatetimeIndex(c["settle_time"]).as_unit("ns").asi8  # UTC ns since the epoch
    alive = settle_ns > as_of.value
    dropped = _dropped_table(c.loc[~alive], as_of)
    a = c.loc[alive].reset_index(drop=True)
    n = len(a)
    if n == 0:
        raise InputError(src, "expiry", f"every contract settled at or before the snapshot {as_of.isoformat()}")
    settle_a = settle_ns[alive]
    K = a["strike"].to_numpy(dtype=np.float64)
    is_call = (a["type"] == "C").to_numpy()
    oi = a["open_interest"].to_numpy(dtype=np.float64)
    expiry_days = a["expiry"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    gamma_file = a["gamma"].to_numpy(dtype=np.float64, na_value=np.nan)
    position = a[DEALER_POSITION_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan) if DEALER_POSITION_COLUMN in a.columns else None
    if position is not None:
        position = np.nan_to_num(position)

    T = year_fractions(settle_a, expiry_days, as_of, params.time_basis)

    # conventions: the public one, short-all, and the source's own positions when present
    conventions = ["calls_long_puts_short", "short_all"] + (["source_position"] if position is not None else [])
    if params.convention not in conventions:
        _convention_weights(params.convention, is_call, oi, position, src)  # raises the clear error
    weights = {cv: _convention_weights(cv, is_call, oi, position, src) for cv in conventions}
    w = weights[params.convention]
    has_pos = np.zeros(n, dtype=bool)
    for wv in weights.values():
        has_pos |= wv != 0

    # implied vol: the file's, else solved from the mid
    iv_used, iv_source = _resolve_iv(a, S, K, T, r, q, is_call)
    unsolved = (iv_source == "unsolved") & has_pos

    # spot GEX from the source's gamma
    g = np.nan_to_num(gamma_file)
    scale_1pct = OPTION_MULTIPLIER * S * S * _PCT
    gex = w * g * scale_1pct
    call_gex = float(gex[is_call].sum())
    put_gex = float(gex[~is_call].sum())
    net_gex = call_gex + put_gex
    gross = float(np.abs(gex).sum())
    zero_dte = expiry_days == np.datetime64(snap_date.date(), "D")
    zero_dte_share = float(np.abs(gex[zero_dte]).sum() / gross) if gross > 0 else 0.0

    # model set: a position, a usable IV and time left
    mset = has_pos & np.isfinite(iv_used) & (iv_used > 0) & (T > 0)
    mi = np.flatnonzero(mset)
    Wrows = [w * is_call, w * ~is_call] + [weights[cv] for cv in conventions]
    W = np.vstack(Wrows)[:, mi]
    sig_m, T_m, K_m, call_m = iv_used[mi], T[mi], K[mi], is_call[mi]
    model = _make_model(S, K_m, T_m, sig_m, r, q, W)
    gamma_model = np.full(n, np.nan)
    # gamma per point per option = c * exp(-d0^2/2) / (m * 0.01 * S)
    gamma_model[mi] = model.c * np.exp(-0.5 * model.d0 * model.d0) / (OPTION_MULTIPLIER * _PCT * S)

    # profile (rows: main calls, main puts, then each convention's net)
    spots = S * np.linspace(1.0 - params.window, 1.0 + params.window, params.n_points)
    curves = _gex_curve(model, spots)
    row_of = {cv: 2 + i for i, cv in enumerate(conventions)}
    main_row = row_of[params.convention]
    profile = pd.DataFrame(
        {
            "spot": spots,
            "spot_pct_from_current": (spots / S - 1.0) * 100.0,
            "net_gex_usd_per_1pct": curves[main_row],
            "call_gex_usd_per_1pct": curves[0],
            "put_gex_usd_per_1pct": curves[1],
        }
    )
    model_gex_at_spot = float(_gex_curve(model, np.array([S]), rows=np.array([main_row]))[0, 0])

    tol = FLIP_TOL_FRACTION * S
    flips_by_conv: dict[str, list[float]] = {}
    for cv in conventions:
        row = np.array([row_of[cv]])
        flips_by_conv[cv] = find_flips(spots, curves[row_of[cv]], lambda x, row=row: _gex_curve(model, x, rows=row)[0], tol)

    def nearest(fl: list[float]) -> float | None:
        return min(fl, key=lambda x: abs(x - S)) if fl else None

    # hedge flows: full re-pricing of the dealers' delta
    moves = np.asarray(params.moves_pct, dtype=np.float64)
    # the table's moves plus -3 % / +3 % for the headline and the sensitivity table, each once
    all_moves = np.unique(np.concatenate([moves, [-3.0, 3.0]]))
    next_close = params.next_close if params.next_close is not None else default_next_close(chain.as_of)
    if next_close.tzinfo is None or next_close <= chain.as_of:
        raise InputError("gamma params", "next_close", f"next_close must be tz-aware and after the snapshot {chain.as_of.isoformat()}, got {next_close!r}")
    T_next = np.maximum(year_fractions(settle_a[mi], expiry_days[mi], next_close, params.time_basis), T_FLOOR_YEARS)
    new_spots, trade, gamma_approx, vanna, charm = _hedge_flows(S, all_moves, K_m, T_m, T_next, sig_m, call_m, W, gamma_model[mi], params.iv_shock_points / 100.0, r, q)
    col = np.searchsorted(all_moves, moves)  # table rows in the caller's order
    i_down3, i_up3 = np.searchsorted(all_moves, [-3.0, 3.0])
    hedge_flow = pd.DataFrame(
        {
            "move_pct": moves,
            "spot": new_spots[col],
            "dealer_trade_usd": trade[main_row, col],
            "gamma_approx_usd": gamma_approx[main_row, col],
            "vanna_flow_usd": vanna[main_row, col],
            "charm_flow_usd": charm[main_row, col],
        }
    )

    sens_rows = []
    for cv in conventions:
        fl = nearest(flips_by_conv[cv])
        sens_rows.append(
            {
                "convention": cv,
                "net_gex_usd_per_1pct": float((weights[cv] * g).sum() * scale_1pct),
                "flip": fl if fl is not None else np.nan,
                "hedge_flow_down3_usd": float(trade[row_of[cv], i_down3]),
                "hedge_flow_up3_usd": float(trade[row_of[cv], i_up3]),
            }
        )
    sensitivity = pd.DataFrame(sens_rows)
    sensitivity["convention"] = sensitivity["convention"].astype("str")

    snap_day = np.datetime64(snap_date.date(), "D")
    by_strike, by_expiry, grid = _group_tables(K, expiry_days, is_call, oi, gex, snap_day)
    strikes_u = by_strike["strike"].to_numpy()
    abs_call = np.abs(by_strike["call_gex_usd_per_1pct"].to_numpy())
    abs_put = np.abs(by_strike["put_gex_usd_per_1pct"].to_numpy())

    def wall(values: np.ndarray) -> float | None:
        return float(strikes_u[int(np.argmax(values))]) if values.size and values.max() > 0 else None

    contracts = pd.DataFrame(
        {
            "symbol": a["symbol"],
            "root": a["root"],
            "type": a["type"],
            "strike": K,
            "expiry": a["expiry"],
            "settle_time": a["settle_time"],
            "t_years": T,
            "open_interest": oi,
            "iv_used": iv_used,
            "iv_source": pd.Series(iv_source, dtype="str"),
            "gamma_file": gamma_file,
            "gamma_model": gamma_model,
            "gex_usd_per_1pct": gex,
        }
    )
    if position is not None:
        contracts.insert(8, DEALER_POSITION_COLUMN, position)

    flip = nearest(flips_by_conv[params.convention])
    down3 = float(trade[main_row, i_down3])
    up3 = float(trade[main_row, i_up3])
    headline = {
        "underlying": chain.underlying,
        "spot": S,
        "as_of": chain.as_of.isoformat(),
        "source": src,
        "convention": params.convention,
        "time_basis": params.time_basis,
        "contracts": int(n),
        "expired_dropped": int(len(dropped)),
        "expired_dropped_oi": float(dropped["open_interest"].sum()),
        "unsolved_iv": int(unsolved.sum()),
        "net_gex_usd_per_1pct": net_gex,
        "call_gex_usd_per_1pct": call_gex,
        "put_gex_usd_per_1pct": put_gex,
        "gross_gex_usd_per_1pct": gross,
        "net_gex_usd_per_point": float((w * g).sum() * OPTION_MULTIPLIER * S),
        "net_gex_shares_per_1pct": float((w * g).sum() * OPTION_MULTIPLIER * S * _PCT),
        "zero_dte_share": zero_dte_share,
        "model_gex_at_spot_usd_per_1pct": model_gex_at_spot,
        "regime": "long gamma" if net_gex >= 0 else "short gamma",
        "flip": _f(flip),
        "flip_distance_pct": _f((flip / S - 1.0) * 100.0) if flip is not None else None,
        "flips": [float(x) for x in flips_by_conv[params.convention]],
        "call_wall": wall(abs_call),
        "put_wall": wall(abs_put),
        "abs_gamma_strike": wall(abs_call + abs_put),
        "hedge_flow_down3_usd": down3,
        "hedge_flow_up3_usd": up3,
        "r": r,
        "q": q,
        "next_close": next_close.isoformat(),
    }
    return GammaReport(
        headline=headline,
        by_strike=by_strike,
        by_expiry=by_expiry,
        grid=grid,
        profile=profile,
        hedge_flow=hedge_flow,
        sensitivity=sensitivity,
        contracts=contracts,
        dropped=dropped,
        units={k: dict(v) for k, v in UNITS.items()},
    )
