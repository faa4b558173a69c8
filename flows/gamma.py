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

Every contract is valued on *its own* underlying (:mod:`flows.products`): a price ``U_i``, a
strike per unit ``K_i`` and ``m_i`` units of ``U_i`` per contract.

* Standard contracts on the chain's underlying: ``U = S``, ``K`` = the strike, ``m = 100``.
* Reduced-value index products in a chain of their base index (``XSP`` in an ``SPX`` chain):
  ``U = level_ratio * S`` (0.1 S), same ``K`` and ``m``.
* Futures-priced products (VIX options): ``U = F``, the VIX future of the contract's expiry, from
  the source (:data:`flows.chain.FORWARD_COLUMN`) or derived by put-call parity from the chain's
  own mids (:func:`parity_forward`), never spot VIX; valued with Black-76 (BSM with ``q = r``).
* Adjusted series with a deliverable given by the desk (``SDS1`` = 20 shares): ``U = S``,
  ``m = shares``, ``K = (strike * 100 - cash) / shares`` (the per-share strike). Adjusted series
  without a deliverable, and roots on another underlying, are excluded from every figure and
  listed in ``dropped``.

A move of spot ``S -> s`` moves every ``U_i`` in proportion (``U_i(s) = U_i * s / S``; for VIX
options: every expiry's future by the same percentage).

Spot GEX per contract, USD of underlying dealers must trade per 1 % move::

    GEX_i = w_i * gamma_i * m_i * U_i**2 * 0.01

``gamma_i`` (per 1 point of ``U_i`` per unit) is the SOURCE's gamma where it is a positive number
(``gamma_source = file``); where the source gives none or 0 for a live contract with a position
and a usable IV (the file's, or solved from the mid), the BSM gamma at that IV
(``gamma_source = model``; always for adjusted series, whose source greeks follow the source's
own unit convention). A contract with a position and neither is listed in ``dropped``
(``unsolved``). Headline: ``net``, ``call_``/``put_`` (by option type), ``gross`` = sum of
``|GEX_i|``, ``modelled_gamma_contracts`` and ``modelled_gamma_share`` (share of gross). Also
``GEX_usd_per_point = sum w gamma m U**2 / S`` and ``GEX_shares_per_1pct = GEX / S``
(spot-equivalent units). ``regime`` is the sign of the net spot GEX (:func:`gamma_regime`).

Consistency check: when the net spot GEX and the model GEX at spot (the profile at ``S``)
differ in sign, or in size by more than ``consistency_factor``, while either exceeds 1 % of the
gross GEX, the result carries a quality warning.

Model greeks are Black-Scholes-Merton (:mod:`flows.greeks`) with ``r``, ``q`` from the params
(``q = r`` for futures-priced products) and per-contract IV: the source's IV, or where it is
zero/missing, the IV solved from the bid/ask mid (per unit: ``mid * 100 / m``).

Time to settlement ``T`` (years), to the settlement instant of the product table and the
exchange calendar (:func:`flows.products.settlement_instants`):

* ``calendar``: ``(settle_time - as_of) / 365 days`` (ACT/365 to the exact settlement instant).
* ``busdays262``: ``numpy.busday_count(snapshot date, settlement date) / 262`` (Mon-Fri, no
  holiday list), and ``1/262`` for a contract that settles on the snapshot date and is still
  alive: the convention of the widely copied public GEX script, so figures can be compared.

Contracts whose settlement instant is at or before ``as_of`` are dropped and listed in
``dropped`` with the instant. 0DTE = settling in the snapshot's session date.

Profile: ``GEX(s) = sum_i w_i * gamma_i(U_i(s)) * m_i * U_i(s)**2 * 0.01`` over ``s`` in
``S * [1 - window, 1 + window]`` with IV and ``T`` held per contract. Flips: every sign change
between neighbouring profile points is bracketed and refined by bisection on the model to a
bracket narrower than 0.01 % of spot (the flip is its midpoint); ``flip`` is the crossing nearest
spot, ``None`` without one. Nothing assumes the profile is monotonic.

Hedge flow for a move to ``S' = S (1 + move_pct/100)``, with the dealers' option delta in
spot-equivalent units ``D(s) = sum_i w_i m_i (U_i/S) delta_i(U_i(s))``::

    dealer_trade_usd = -(D(S') - D(S)) * S'          (full re-pricing; + = dealers buy)
    gamma_approx_usd = -sum_i w_i m_i (U_i/S)**2 gamma_i(U_i) * (S' - S) * S'   (model gamma)
    vanna_flow_usd   = -(D(S'; sigma + shock) - D(S'; sigma)) * S'  (IV shock of
                       ``iv_shock_points`` vol points on every contract, at S')
    charm_flow_usd   = -(D(S'; T_next) - D(S'; T)) * S'   (time passing to ``next_close``)

``next_close`` defaults to the exchange calendar's next session close
(:func:`flows.calendars.next_close`, 13:00 ET on early-close days). Contracts settling before it
are carried to just before settlement (``T`` floored at :data:`T_FLOOR_YEARS`), so their delta
goes to its intrinsic value in the charm flow.

Walls (from spot GEX by strike, all expiries; strikes in the chain's underlying's units,
``K / level_ratio``, per-share for adjusted series): call wall = strike with the largest
``|call GEX|``; put wall = strike with the largest ``|put GEX|``; absolute-gamma strike =
largest ``|call GEX| + |put GEX|``. Absolute values keep the walls meaningful under every
convention.

Quality: the report carries a :class:`flows.quality.Quality` (the parser's, when the chain has
one, plus what the engine found): contracts whose IV/gamma cell was unreadable and that could not
be modelled are *skipped* (weighted by their open interest); modelled gamma, excluded
non-standard series, a spot more than 5 % away from the spot implied by the nearest expiry's
put-call parity and a failed consistency check are *warnings*; a spot more than 25 % away
(``option.spot_vs_parity`` in :mod:`flows.limits`) or outside the listed strikes is refused.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from flows import calendars, products
from flows.chain import (
    DEALER_POSITION_COLUMN,
    EXCHANGE_TZ,
    FORWARD_COLUMN,
    UNREADABLE_COLUMN,
    Chain,
    validate_chain,
)
from flows.errors import InputError
from flows.greeks import dealer_delta, implied_vol, price_bounds
from flows.limits import check_range
from flows.products import Deliverable
from flows.quality import Quality

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
FLIP_NOISE_FRACTION = 1e-9
"""Profile values within this fraction of the largest call or put curve value count as zero when
looking for flips (a book whose calls and puts cancel exactly is flat, not crossing)."""
D1_CUTOFF = 9.0
"""Contracts with ``|d1| > D1_CUTOFF`` over the whole profile window are left out of the profile:
their gamma there is below ``phi(9) ~ 1e-18`` of their peak gamma."""
REGIMES = ("long gamma", "short gamma", "neutral gamma")
"""The dealer gamma regime, from the sign of the net spot GEX (:func:`gamma_regime`)."""
IV_SOURCES = ("file", "solved", "unsolved")
GAMMA_SOURCES = ("file", "model", "none")
"""``contracts.gamma_source``: the source's gamma, BSM gamma at the contract's IV, or none (no
position, or neither: such contracts with a position are in ``dropped``)."""
MODELLED_WARN_SHARE = 0.01
"""A quality warning says so when modelled gamma carries at least this share of the gross GEX."""

INTRINSIC_WARN_SHARE = 0.05
"""A quality warning lists the contracts set aside at intrinsic value (no gamma, no IV, no time
value) when they hold more than this share of open interest: no figure changes (their gamma is
~0), but a block that large usually means the source left greeks out (the real SPY file of
2023-09-14, the day before an ex-dividend date, has 1.4 %: deep in-the-money calls)."""
NEGLIGIBLE_SHARE = 0.01
"""The consistency check ignores a disagreement while both figures are below this share of the
gross GEX (two numbers near zero)."""
PARITY_MIN_STRIKES = 3
PARITY_USE_STRIKES = 5
PARITY_MAX_DISPERSION = 0.01
"""Put-call parity forward (:func:`parity_forward`): at least 3 strikes with two-sided call and
put quotes, the 5 nearest the money (smallest ``|C - P|``), median; refused when an estimate used
is more than 1 % away from the median."""
SPOT_PARITY_WARN = 0.05
"""Warn when spot is more than 5 % away from the spot implied by the nearest expiry's put-call
parity forward (a wrong spot in the file)."""
SPOT_PARITY_MAX_T = 0.25
"""Only expiries within 0.25 years are used for that check (dividends and rates blur the rest)."""
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
        Horizon of the charm flow (tz-aware); ``None`` = the exchange calendar's next session
        close after ``as_of`` (:func:`flows.calendars.next_close`).
    calendar:
        Exchange calendar (exchange-calendars MIC) for settlement instants and the next close.
    deliverables:
        Deliverables of adjusted series by option root (``{"SDS1": Deliverable(shares=20)}``).
    consistency_factor:
        Warn when the net spot GEX and the model GEX at spot differ by more than this factor.
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
    calendar: str = calendars.DEFAULT_CALENDAR
    deliverables: Mapping[str, Deliverable] = field(default_factory=dict)
    consistency_factor: float = 3.0


@dataclass
class GammaReport:
    """Output of :func:`analyze`.  Columns are named with their unit (``_usd_per_1pct``,
    ``_contracts``, ...); the declared kind, unit and meaning of every column and headline key,
    as published in ``gamma.<UNDERLYING>``, are in :mod:`jobs.declarations.gamma`."""

    headline: dict[str, Any]
    by_strike: pd.DataFrame
    by_expiry: pd.DataFrame
    grid: pd.DataFrame
    profile: pd.DataFrame
    hedge_flow: pd.DataFrame
    sensitivity: pd.DataFrame
    contracts: pd.DataFrame
    dropped: pd.DataFrame
    quality: Quality | None = None

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


# --------------------------------------------------------------------------------------------
# time


def year_fractions(
    settle_ns: np.ndarray, settle_days: np.ndarray, at: pd.Timestamp, basis: str
) -> np.ndarray:
    """Time from ``at`` to settlement, years, per contract (<= 0 when settled by ``at``).

    Parameters
    ----------
    settle_ns:
        Settlement instants, int64 ns since the epoch (UTC).
    settle_days:
        Settlement session dates as ``datetime64[D]`` (the listed expiry, or the session before
        it when the listed date is not a session).
    at:
        Valuation instant (tz-aware).
    basis:
        ``calendar`` (ACT/365 to the settlement instant) or ``busdays262`` (weekday count from
        ``at``'s New York date to the settlement date / 262; alive same-day contracts = 1/262).
    """
    at_ns = at.tz_convert("UTC").value
    alive = settle_ns > at_ns
    if basis == "calendar":
        return np.asarray((settle_ns - at_ns) / 1e9 / SECONDS_PER_YEAR, dtype=np.float64)
    if basis == "busdays262":
        day = np.datetime64(at.tz_convert(EXCHANGE_TZ).date(), "D")
        n = np.busday_count(day, settle_days).astype(np.float64)
        t = np.where(n > 0, n, 1.0) / BUSDAYS_PER_YEAR
        return np.where(alive, t, 0.0)
    raise InputError(
        "gamma params", "time_basis", f"unknown time basis {basis!r}; use one of {TIME_BASES}"
    )


def _local_days(settle_ns: np.ndarray) -> np.ndarray:
    """Exchange-local calendar date (``datetime64[D]``) of each settlement instant."""
    return np.asarray(
        pd.DatetimeIndex(settle_ns.astype("datetime64[ns]"))
        .tz_localize("UTC")
        .tz_convert(EXCHANGE_TZ)
        .tz_localize(None)
        .to_numpy()
        .astype("datetime64[D]")
    )


# --------------------------------------------------------------------------------------------
# model kernels (contracts x spots), chunked


@dataclass
class _Book:
    """Per-contract constants of the contracts in the model (see the module docstring).

    ``U``: underlying price at spot; ``K``: strike per unit; ``T``: years; ``sigma``: IV;
    ``q``: dividend yield (``r`` for futures-priced products); ``scale = m * U / S``: units of
    the underlying per contract times the underlying's price relative to spot; ``is_call``.
    """

    U: np.ndarray
    K: np.ndarray
    T: np.ndarray
    sigma: np.ndarray
    q: np.ndarray
    scale: np.ndarray
    is_call: np.ndarray


@dataclass
class _Model:
    """Per-contract constants of the BSM gamma kernel, for contracts in the model set.

    With ``x = ln(s / S)``: ``d1(s) = d0 + b x`` where ``d0`` is d1 at spot and
    ``b = 1 / (sigma sqrt(T))``, and ``GEX_i(s) = w_i * c_i * exp(-d1(s)**2 / 2) * s`` in USD per
    1 % (``c_i = e^{-qT} m (U/S) 0.01 b / sqrt(2 pi)``; see :func:`_gex_curve`).
    """

    S: float
    d0: np.ndarray
    b: np.ndarray
    c: np.ndarray
    W: np.ndarray  # weights (k rows x n contracts), contracts


def _make_model(S: float, book: _Book, r: float, W: np.ndarray) -> _Model:
    b = 1.0 / (book.sigma * np.sqrt(book.T))
    d0 = (np.log(book.U / book.K) + (r - book.q + 0.5 * book.sigma * book.sigma) * book.T) * b
    # gamma * m * U^2 * 0.01 = e^{-qT} phi(d1) / (U sigma sqrt(T)) * m * U^2 * 0.01
    #                        = [e^{-qT} m (U/S) 0.01 b / sqrt(2 pi)] * exp(-d1^2 / 2) * s   (U = s U/S)
    c = np.exp(-book.q * book.T) * (book.scale * _PCT * _INV_SQRT_2PI) * b
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
    keep = (model.d0 + model.b * x.min() <= D1_CUTOFF) & (
        model.d0 + model.b * x.max() >= -D1_CUTOFF
    )
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


def _standard_book(
    S: float, strike: np.ndarray, t_years: np.ndarray, iv: np.ndarray, q: float
) -> _Book:
    K = np.asarray(strike, dtype=np.float64)
    n = K.size
    return _Book(
        U=np.full(n, float(S)),
        K=K,
        T=np.asarray(t_years, dtype=np.float64),
        sigma=np.asarray(iv, dtype=np.float64),
        q=np.full(n, float(q)),
        scale=np.full(n, products.STANDARD_MULTIPLIER),
        is_call=np.ones(n, dtype=bool),
    )


def gex_profile(
    S: float,
    strike: np.ndarray,
    t_years: np.ndarray,
    iv: np.ndarray,
    weights: np.ndarray,
    spots: np.ndarray,
    r: float,
    q: float,
) -> np.ndarray:
    """Model GEX (USD per 1 % move) at each of ``spots`` for signed dealer positions in standard
    100-unit contracts on the spot itself.

    ``sum_i weights_i * gamma_BSM(s; K_i, T_i, iv_i) * 100 * s**2 * 0.01`` with IV and ``T`` held
    per contract. ``weights``: contracts (+ = dealers long), shape (n,) or (k, n) for several
    position sets at once; returns shape (len(spots),) or (k, len(spots)). Contracts must have
    ``T > 0`` and ``iv > 0`` (filter them first, as :func:`analyze` does).
    """
    W = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    model = _make_model(float(S), _standard_book(S, strike, t_years, iv, q), r, W)
    out = _gex_curve(model, np.asarray(spots, dtype=np.float64))
    return out[0] if np.ndim(weights) == 1 else out


def _dealer_delta(
    S: float,
    book: _Book,
    W: np.ndarray,
    spots: np.ndarray,
    r: float,
    sigma: np.ndarray | None = None,
    T: np.ndarray | None = None,
) -> np.ndarray:
    """Dealer option delta, spot-equivalent units, per weight row and spot: (k, len(spots)).

    ``D(s) = sum_i w_i * scale_i * delta_i(U_i s / S)``: :func:`flows.greeks.dealer_delta` on the
    book; ``sigma``/``T`` override the book's.
    """
    return dealer_delta(
        spots,
        S,
        book.U,
        book.K,
        book.T if T is None else T,
        book.sigma if sigma is None else sigma,
        r,
        book.q,
        book.is_call,
        W * book.scale,
    )


# --------------------------------------------------------------------------------------------
# flips


def find_flips(
    spots: np.ndarray, values: np.ndarray, evaluate: Callable[[np.ndarray], np.ndarray], tol: float
) -> list[float]:
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


def _convention_weights(
    conv: str, is_call: np.ndarray, oi: np.ndarray, position: np.ndarray | None, source: str
) -> np.ndarray:
    if conv == "calls_long_puts_short":
        return np.where(is_call, oi, -oi)
    if conv == "short_all":
        return -oi
    if conv == "source_position":
        if position is None:
            raise InputError(
                source,
                DEALER_POSITION_COLUMN,
                "convention 'source_position' needs a per-contract dealer position column",
            )
        return position
    raise InputError(
        "gamma params", "convention", f"unknown convention {conv!r}; use one of {CONVENTIONS}"
    )


def _group_sum(keys_inverse: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    return np.bincount(keys_inverse, weights=values, minlength=n_groups)


def gamma_regime(
    net_gex: np.ndarray | float, gross_gex: np.ndarray | float | None = None
) -> np.ndarray:
    """The dealers' gamma regime from the net spot GEX (any shape, USD per 1 % move).

    ``long gamma`` (> 0: dealer hedging sells rises and buys falls, damping moves), ``short
    gamma`` (< 0: it buys rises and sells falls, amplifying them), ``neutral gamma`` (0: calls
    and puts cancel, or no position carries gamma; no hedging either way), ``""`` (NaN: not
    known).  With ``gross_gex`` (same shape), a net within :data:`FLIP_NOISE_FRACTION` of it is
    0: the rounding left by a book whose calls and puts cancel exactly is not a regime.
    Returns a str array of the same shape."""
    net = np.asarray(net_gex, dtype=float)
    noise = 0.0 if gross_gex is None else FLIP_NOISE_FRACTION * np.abs(gross_gex)
    flat = np.abs(net) <= noise
    return np.select(
        [flat, net > 0, net < 0], [REGIMES[2], REGIMES[0], REGIMES[1]], default=""
    ).astype(str)


def _f(x: Any) -> float | None:
    """JSON-able float (None for NaN/inf/None)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _check_params(p: GammaParams) -> None:
    where = "gamma params"
    if p.time_basis not in TIME_BASES:
        raise InputError(
            where, "time_basis", f"unknown time basis {p.time_basis!r}; use one of {TIME_BASES}"
        )
    if p.convention not in CONVENTIONS:
        raise InputError(
            where, "convention", f"unknown convention {p.convention!r}; use one of {CONVENTIONS}"
        )
    if not 0 < p.window < 1:
        raise InputError(where, "window", f"window must be in (0, 1), got {p.window}")
    if p.n_points < 3:
        raise InputError(where, "n_points", f"need at least 3 profile points, got {p.n_points}")
    for name in ("r", "q", "iv_shock_points"):
        if not math.isfinite(float(getattr(p, name))):
            raise InputError(where, name, f"must be finite, got {getattr(p, name)}")
    if not (math.isfinite(float(p.consistency_factor)) and p.consistency_factor > 1):
        raise InputError(
            where, "consistency_factor", f"must be a number above 1, got {p.consistency_factor}"
        )
    if any(not math.isfinite(float(m)) or m <= -100 for m in p.moves_pct):
        raise InputError(where, "moves_pct", "moves must be finite and above -100 %")


def _hedge_flows(
    S: float,
    moves_pct: np.ndarray,
    book: _Book,
    T_next: np.ndarray,
    W: np.ndarray,
    gamma_spot: np.ndarray,
    shock: float,
    r: float,
) -> tuple[np.ndarray, ...]:
    """Dealer hedge trades per weight row (rows of ``W``) and move (module docstring formulas).

    ``gamma_spot``: ``(U/S) * gamma`` per contract, so that ``scale * gamma_spot`` is the contract's
    ``d delta / d S`` in units of the underlying per contract (``m (U/S)**2 gamma``).
    Returns ``(new_spots, trade, gamma_approx, vanna, charm)``, each USD array of shape
    (rows, moves) except ``new_spots`` (moves,); + = dealers buy.
    """
    new_spots = S * (1.0 + moves_pct / 100.0)
    D = _dealer_delta(S, book, W, np.concatenate([[S], new_spots]), r)
    D_spot, D_new = D[:, :1], D[:, 1:]
    trade = -(D_new - D_spot) * new_spots
    vanna = -(_dealer_delta(S, book, W, new_spots, r, sigma=book.sigma + shock) - D_new) * new_spots
    charm = -(_dealer_delta(S, book, W, new_spots, r, T=T_next) - D_new) * new_spots
    gamma_units = W @ (
        book.scale * gamma_spot
    )  # dD/ds: dealer gamma, spot-equivalent units per point
    gamma_approx = -gamma_units[:, None] * (new_spots - S) * new_spots
    return new_spots, trade, gamma_approx, vanna, charm


def _group_tables(
    K: np.ndarray,
    expiry_days: np.ndarray,
    is_call: np.ndarray,
    oi: np.ndarray,
    gex: np.ndarray,
    modelled: np.ndarray,
    zero_dte: np.ndarray,
    snap_day: np.datetime64,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``by_strike``, ``by_expiry`` and the long ``grid`` from per-contract spot GEX.

    Group sums with ``numpy.unique`` + ``bincount``; strikes are grouped by exact value, so a
    half-dollar strike (450.5) stays apart from 450 and 451, and SPX/SPXW rows at one strike add
    up. ``zero_dte``: per contract, settles in the snapshot's session date.
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
            "modelled_gex_usd_per_1pct": _group_sum(
                e_inv, ne, np.where(modelled, np.abs(gex), 0.0)
            ),
            "zero_dte": _group_sum(e_inv, ne, zero_dte.astype(np.float64)) > 0,
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


DROPPED_KINDS = ("settled", "non-standard", "other underlying", "unsolved", "unreadable")
"""``dropped.kind`` values: settled before the snapshot; adjusted series or unknown root without
a deliverable; a root on another underlying; a position with neither a source gamma nor an IV
(the source's "not computed"); the same because a cell was unreadable (counted as skipped)."""


def _dropped_frame(c: pd.DataFrame, kind: str, reasons: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": c["symbol"].to_numpy(dtype=object),
            "root": c["root"].to_numpy(dtype=object),
            "type": c["type"].to_numpy(dtype=object),
            "strike": c["strike"].to_numpy(dtype=np.float64),
            "expiry": c["expiry"].to_numpy(dtype="datetime64[ns]"),
            "settle_time": pd.DatetimeIndex(c["settle_time"]).tz_convert("UTC"),
            "open_interest": c["open_interest"].to_numpy(dtype=np.float64),
            "kind": np.full(len(c), kind, dtype=object),
            "reason": np.asarray(reasons, dtype=object),
        }
    )


def _settled_reasons(settle: pd.Series, am: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
    """One reason string per distinct settle instant (few), mapped onto the rows."""
    local = pd.DatetimeIndex(settle).tz_convert(EXCHANGE_TZ)
    snap = as_of.tz_convert(EXCHANGE_TZ).isoformat()
    keys = pd.Series(local.asi8 * 2 + am.astype(np.int64))
    text = {
        k: f"settled at {pd.Timestamp(k // 2, tz='UTC').tz_convert(EXCHANGE_TZ).isoformat()} ({'AM, opening quotation' if k % 2 else 'PM, close'}), at or before the snapshot {snap}"
        for k in keys.unique()
    }
    return np.asarray(keys.map(text).to_numpy(dtype=object))


def _labels(codes: np.ndarray, names: tuple[str, ...]) -> pd.Series:
    """A ``str`` column from integer codes into ``names`` (built in Arrow: ~10x faster than
    converting an object array of 20,000 strings)."""
    arr = pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(names), type=pa.string())
    ).cast(pa.string())
    return pd.Series(pd.array(arr, dtype="str"))


def _resolve_iv(
    iv_file: np.ndarray,
    mid_unit: np.ndarray,
    U: np.ndarray,
    K: np.ndarray,
    T: np.ndarray,
    r: float,
    q: np.ndarray,
    is_call: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """IV per contract: the source's where positive, else solved from the mid per unit.

    ``mid_unit`` is the bid/ask mid per unit of the contract's underlying (NaN without a usable
    two-sided quote); :func:`flows.greeks.implied_vol` solves it at the contract's own underlying
    price ``U``. Returns ``(iv_used, iv_code)``, the code indexing :data:`IV_SOURCES`
    (``file``/``solved``/``unsolved``).
    """
    have = np.isfinite(iv_file) & (iv_file > 0)
    iv_used = np.where(have, iv_file, np.nan)
    code = np.where(have, 0, 2)  # IV_SOURCES
    need = np.flatnonzero(~have)
    if need.size:
        iv_s, ok = implied_vol(mid_unit[need], U[need], K[need], T[need], r, q[need], is_call[need])
        iv_used[need[ok]] = iv_s[ok]
        code[need[ok]] = 1
    return iv_used, code


def _mids(bid: np.ndarray, ask: np.ndarray, *, two_sided: bool = False) -> np.ndarray:
    """``(bid + ask) / 2`` where ``ask > 0`` and ``0 <= bid <= ask`` (``bid > 0`` when
    ``two_sided``), else NaN."""
    with np.errstate(invalid="ignore"):
        ok = (ask > 0) & (bid >= 0) & (ask >= bid)
        if two_sided:
            ok &= bid > 0
    return np.where(ok, 0.5 * (bid + ask), np.nan)


def parity_forward(
    strike: np.ndarray, is_call: np.ndarray, bid: np.ndarray, ask: np.ndarray, T: float, r: float
) -> tuple[float, str]:
    """Forward of one expiry by put-call parity on the chain's own mids: ``F = K + e^{rT}(C - P)``.

    Robust version: strikes where the call and the put both have a two-sided quote (``bid > 0``,
    ``ask >= bid``); the :data:`PARITY_USE_STRIKES` with the smallest ``|C - P|`` (nearest the
    money); ``F`` = the median of their estimates.  Refused (``ValueError`` with the reason) with
    fewer than :data:`PARITY_MIN_STRIKES` such strikes, when an estimate used lies more than
    :data:`PARITY_MAX_DISPERSION` (1 %) from the median, or when ``F <= 0``.  European exercise
    is assumed (VIX options are European).

    Returns ``(F, detail)`` with ``detail`` naming the strikes used.
    """
    K = np.asarray(strike, dtype=np.float64)
    mid = _mids(
        np.asarray(bid, dtype=np.float64), np.asarray(ask, dtype=np.float64), two_sided=True
    )
    ok = np.isfinite(mid)
    kc, ic = np.unique(K[is_call & ok], return_index=True)  # first quote per strike
    kp, ip = np.unique(K[~is_call & ok], return_index=True)
    common, jc, jp = np.intersect1d(kc, kp, assume_unique=True, return_indices=True)
    if common.size < PARITY_MIN_STRIKES:
        raise ValueError(
            f"only {common.size} strike(s) with two-sided call and put quotes (need {PARITY_MIN_STRIKES})"
        )
    d_all = mid[is_call & ok][ic[jc]] - mid[~is_call & ok][ip[jp]]
    order = np.argsort(np.abs(d_all), kind="stable")[:PARITY_USE_STRIKES]
    near, d = common[order], d_all[order]
    est = near + math.exp(r * T) * d
    F = float(np.median(est))
    if not (math.isfinite(F) and F > 0):
        raise ValueError(f"parity gives a non-positive forward {F:g}")
    spread = float(np.max(np.abs(est - F)) / F)
    if spread > PARITY_MAX_DISPERSION:
        raise ValueError(
            f"estimates at strikes {', '.join(f'{k:g}' for k in near)} disagree ({', '.join(f'{e:.4f}' for e in est)}: {spread * 100:.1f} % from their median)"
        )
    return F, f"put-call parity, median of strikes {', '.join(f'{k:g}' for k in sorted(near))}"


def _forwards(
    a: pd.DataFrame,
    fwd: np.ndarray,
    settle_ns: np.ndarray,
    K: np.ndarray,
    is_call: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    T: np.ndarray,
    ticks: np.ndarray,
    r: float,
    source: str,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Futures price per futures-priced contract (NaN elsewhere) and one note per expiry.

    The source's own :data:`flows.chain.FORWARD_COLUMN` where it has one for the expiry, else
    :func:`parity_forward` rounded to the futures tick. Raises :class:`InputError` naming the
    expiry when neither works: such a product is never priced off spot.
    """
    out = np.full(len(a), np.nan)
    notes: list[dict[str, Any]] = []
    given = (
        a[FORWARD_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan)
        if FORWARD_COLUMN in a.columns
        else np.full(len(a), np.nan)
    )
    for key in np.unique(settle_ns[fwd]):
        sel = fwd & (settle_ns == key)
        expiry = pd.Timestamp(a["expiry"].to_numpy()[sel][0]).date().isoformat()
        g = given[sel]
        g = g[np.isfinite(g) & (g > 0)]
        if g.size:
            F, how = float(np.median(g)), "source"
        else:
            try:
                F, how = parity_forward(
                    K[sel], is_call[sel], bid[sel], ask[sel], float(T[sel][0]), r
                )
            except ValueError as exc:
                roots = "/".join(sorted(set(a["root"].to_numpy()[sel])))
                raise InputError(
                    source,
                    "forward",
                    f"{roots} options expiring {expiry}: the source gives no futures price and put-call parity failed ({exc}); refusing rather than pricing them off spot",
                ) from None
            tick = ticks[sel][0]
            if math.isfinite(tick) and tick > 0:
                raw = F
                F = round(F / tick) * tick
                how += f" ({raw:.4f}, rounded to the futures tick {tick:g})"
        out[sel] = F
        notes.append({"expiry": expiry, "forward": F, "method": how})
    return out, notes


def _spot_parity_warning(
    S: float,
    std: np.ndarray,
    settle_ns: np.ndarray,
    K: np.ndarray,
    is_call: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    T: np.ndarray,
    U_ratio: np.ndarray,
    r: float,
    q: float,
    source: str = "",
) -> str | None:
    """Spot against the nearest usable expiry's put-call parity: an :class:`InputError` beyond the
    ``option.spot_vs_parity`` limit (25 %), a warning beyond :data:`SPOT_PARITY_WARN` (5 %);
    ``None`` when consistent or when no expiry qualifies."""
    cand = std & (T > 0) & (T <= SPOT_PARITY_MAX_T)
    for key in np.unique(settle_ns[cand]):
        sel = cand & (settle_ns == key)
        try:
            F, _ = parity_forward(K[sel], is_call[sel], bid[sel], ask[sel], float(T[sel][0]), r)
        except ValueError:
            continue
        t = float(T[sel][0])
        implied = F * math.exp(-(r - q) * t) / float(np.median(U_ratio[sel]))
        day = pd.Timestamp(int(key), tz="UTC").tz_convert(EXCHANGE_TZ).date().isoformat()
        check_range(
            [S / implied - 1.0],
            "option.spot_vs_parity",
            source,
            rows=[f"the {day} options imply spot {implied:.6g}"],
            field="spot",
        )
        if abs(S / implied - 1.0) > SPOT_PARITY_WARN:
            return f"spot {S:g} disagrees with the put-call parity of the {day} options (implied spot {implied:.4g}, {abs(S / implied - 1) * 100:.1f} % away): wrong spot in the source?"
        return None
    return None


def _start_quality(chain: Chain, oi: np.ndarray) -> Quality:
    if chain.quality is not None:
        return copy.deepcopy(chain.quality)
    return Quality(
        source=chain.source,
        basis="open interest",
        total_rows=len(oi),
        total_weight=float(np.nansum(oi)),
    )


def analyze(chain: Chain, params: GammaParams) -> GammaReport:
    """Dealer gamma analysis of one chain snapshot (see the module docstring for every formula).

    Returns
    -------
    GammaReport
        ``headline`` (flat JSON-able dict), the tables ``by_strike``, ``by_expiry``, ``grid``,
        ``profile``, ``hedge_flow``, ``sensitivity``, ``contracts``, ``dropped``, and ``quality``.

    Raises
    ------
    InputError
        Bad chain (see :func:`flows.chain.validate_chain`), spot outside the listed strikes, no
        contract on the chain's underlying, a futures-priced expiry without a forward, or bad
        parameters.
    """
    _check_params(params)
    if not chain.is_validated():  # a parser's chain was validated once, when it was parsed
        validate_chain(chain)
    src = chain.source
    S = float(chain.spot)
    r, q = float(params.r), float(params.q)
    as_of = chain.as_of.tz_convert("UTC")
    snap_date = chain.as_of.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize()
    snap_day = np.datetime64(snap_date.date(), "D")
    c = chain.contracts
    oi_all = c["open_interest"].to_numpy(dtype=np.float64)
    quality = _start_quality(chain, oi_all)
    total_oi = float(oi_all.sum())

    # products: how each root is modelled (standard, deliverable, excluded)
    root_codes, root_names = pd.factorize(c["root"])
    cls = products.classify_roots(
        [str(x).upper() for x in root_names], chain.underlying, params.deliverables
    )

    def per_contract(col: str, dtype: object) -> np.ndarray:
        return np.asarray(cls[col].to_numpy(dtype=dtype)[root_codes])

    status = per_contract("status", object)
    units_all = per_contract("units", np.float64)
    cash_all = per_contract("cash", np.float64)
    strike_all = c["strike"].to_numpy(dtype=np.float64)
    deliv = status == products.STATUS_DELIVERABLE
    K_unit_all = np.where(
        deliv, (strike_all * products.STANDARD_MULTIPLIER - cash_all) / units_all, strike_all
    )
    excluded = np.isin(status, [products.STATUS_NONSTANDARD, products.STATUS_OTHER_UNDERLYING])
    bad_deliv = deliv & ~(K_unit_all > 0)
    excl_reason = per_contract("reason", object).copy()
    excl_reason[bad_deliv] = (
        "non-standard deliverable: the per-share strike (strike * 100 - cash) / shares is not positive"
    )
    excluded |= bad_deliv
    fwd_all = per_contract("forward_priced", bool)
    ratio_all = per_contract("level_ratio", np.float64)

    # spot against the listed strikes of the contracts on the spot itself (futures-priced: on F)
    on_spot = ~excluded & ~fwd_all
    if on_spot.any():
        x = K_unit_all[on_spot] / ratio_all[on_spot]
        lo, hi = float(x.min()), float(x.max())
        if not lo <= S <= hi:
            raise InputError(
                src,
                "spot",
                f"spot {S:g} lies outside the listed strikes {lo:g}..{hi:g} of the chain's {int(on_spot.sum())} contracts: a wrong spot or the wrong underlying (limit option.spot)",
            )

    settle_ns_all = pd.DatetimeIndex(c["settle_time"]).as_unit("ns").asi8
    settled = settle_ns_all <= as_of.value
    dropped_parts = []
    if settled.any():
        dead = c.loc[settled]
        dropped_parts.append(
            _dropped_frame(
                dead,
                "settled",
                _settled_reasons(
                    dead["settle_time"],
                    products.settlement_style(dead["root"].astype(str).str.upper()),
                    as_of,
                ),
            )
        )
    live_excl = excluded & ~settled
    if live_excl.any():
        kinds = np.where(
            status[live_excl] == products.STATUS_OTHER_UNDERLYING,
            "other underlying",
            "non-standard",
        )
        frame = _dropped_frame(c.loc[live_excl], "non-standard", excl_reason[live_excl])
        frame["kind"] = kinds
        dropped_parts.append(frame)
        roots_excl = c.loc[live_excl, "root"].astype(str).to_numpy()
        given_bad = bad_deliv[live_excl]  # a deliverable configured, but unusable
        for kind in ("non-standard", "other underlying"):
            m = kinds == kind
            if m.any():
                ex_oi = float(oi_all[live_excl][m].sum())
                series = sorted(set(roots_excl[m]))
                what = (
                    "non-standard series"
                    if kind == "non-standard"
                    else "series on another underlying"
                )
                advice = []
                if kind == "non-standard":
                    if missing := sorted(set(roots_excl[m & ~given_bad])):
                        advice.append(
                            f"give the deliverable of {', '.join(missing)} in [gamma.deliverables] to model them"
                        )
                    if bad := sorted(set(roots_excl[m & given_bad])):
                        advice.append(
                            f"the deliverable given for {', '.join(bad)} in [gamma.deliverables] makes the per-share strike (strike * 100 - cash) / shares not positive: check its shares and cash"
                        )
                quality.warn(
                    f"{int(m.sum())} contracts of {what} ({', '.join(series)}; {ex_oi:,.0f} contracts of open interest, {ex_oi / total_oi * 100 if total_oi else 0:.1f} % of the chain) excluded from every figure"
                    + (": " + "; ".join(advice) if advice else "")
                )

    alive = ~settled & ~excluded
    n = int(alive.sum())
    if n == 0:
        if live_excl.any():
            raise InputError(
                src,
                "root",
                f"no contract can be modelled: every live contract is excluded ({excl_reason[live_excl][0]})",
            )
        raise InputError(
            src, "expiry", f"every contract settled at or before the snapshot {as_of.isoformat()}"
        )
    a = c.loc[alive].reset_index(drop=True)
    settle_a = settle_ns_all[alive]
    settle_days = _local_days(settle_a)
    K = K_unit_all[alive]
    units = units_all[alive]
    ratio = ratio_all[alive]
    fwd = fwd_all[alive]
    std = ~deliv[alive] & ~fwd
    is_call = (a["type"] == "C").to_numpy()
    oi = a["open_interest"].to_numpy(dtype=np.float64)
    expiry_days = a["expiry"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    gamma_file = a["gamma"].to_numpy(dtype=np.float64, na_value=np.nan)
    bid = a["bid"].to_numpy(dtype=np.float64, na_value=np.nan)
    ask = a["ask"].to_numpy(dtype=np.float64, na_value=np.nan)
    unreadable = (
        a[UNREADABLE_COLUMN].to_numpy(dtype=bool, na_value=False)
        if UNREADABLE_COLUMN in a.columns
        else np.zeros(n, dtype=bool)
    )
    position = (
        a[DEALER_POSITION_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan)
        if DEALER_POSITION_COLUMN in a.columns
        else None
    )
    if position is not None:
        position = np.nan_to_num(position)

    T = year_fractions(settle_a, settle_days, as_of, params.time_basis)

    # the underlying each contract is valued on: spot (scaled), or the future of its expiry
    forwards: list[dict[str, Any]] = []
    U = ratio * S
    q_i = np.full(n, q)
    if fwd.any():
        F, forwards = _forwards(
            a,
            fwd,
            settle_a,
            K,
            is_call,
            bid,
            ask,
            T,
            per_contract("futures_tick", np.float64)[alive],
            r,
            src,
        )
        U = np.where(fwd, F, U)
        q_i = np.where(fwd, r, q_i)  # Black-76: the future has no drift

    # conventions: the public one, short-all, and the source's own positions when present
    conventions = ["calls_long_puts_short", "short_all"] + (
        ["source_position"] if position is not None else []
    )
    if params.convention not in conventions:
        _convention_weights(params.convention, is_call, oi, position, src)  # raises the clear error
    weights = {cv: _convention_weights(cv, is_call, oi, position, src) for cv in conventions}
    w = weights[params.convention]
    has_pos = np.zeros(n, dtype=bool)
    for wv in weights.values():
        has_pos |= wv != 0

    # implied vol: the file's, else solved from the mid per unit of the contract's underlying
    mid_unit = _mids(bid, ask) * products.STANDARD_MULTIPLIER / units
    iv_used, iv_code = _resolve_iv(
        a["iv"].to_numpy(dtype=np.float64, na_value=np.nan), mid_unit, U, K, T, r, q_i, is_call
    )

    # model set: a position, a usable IV and time left
    mset = has_pos & np.isfinite(iv_used) & (iv_used > 0) & (T > 0)
    mi = np.flatnonzero(mset)
    book = _Book(
        U=U[mi],
        K=K[mi],
        T=T[mi],
        sigma=iv_used[mi],
        q=q_i[mi],
        scale=units[mi] * U[mi] / S,
        is_call=is_call[mi],
    )
    Wrows = [w * is_call, w * ~is_call] + [weights[cv] for cv in conventions]
    W = np.vstack(Wrows)[:, mi]
    model = _make_model(S, book, r, W)
    gamma_model = np.full(n, np.nan)
    # gamma per 1 point of U per unit = e^{-qT} phi(d0) b / U
    gamma_model[mi] = (
        np.exp(-book.q * book.T)
        * _INV_SQRT_2PI
        * np.exp(-0.5 * model.d0 * model.d0)
        * model.b
        / book.U
    )

    # spot GEX: the source's gamma where positive (standard contracts), else the model's
    use_file = np.isfinite(gamma_file) & (gamma_file > 0) & ~deliv[alive]
    use_model = ~use_file & mset
    gamma_used = np.where(use_file, gamma_file, np.where(use_model, gamma_model, 0.0))
    gamma_code = np.where(use_file, 0, np.where(use_model, 1, 2))  # GAMMA_SOURCES
    lost = has_pos & ~use_file & ~use_model  # a position but neither gamma: left out everywhere
    scale_1pct = units * U * U * _PCT
    gex = w * gamma_used * scale_1pct
    keep = ~lost
    if lost.any():
        li = np.flatnonzero(lost)
        lower, _ = price_bounds(U[li], K[li], np.maximum(T[li], 0.0), r, q_i[li], is_call[li])
        at_intrinsic = np.zeros(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            at_intrinsic[li] = np.isfinite(mid_unit[li]) & (
                mid_unit[li] <= lower * (1.0 + 1e-6) + 1e-12
            )
        # a quote at or below intrinsic value has no gamma to lose, whatever its IV cell held
        # (absent, 0, null or text): only the others' unreadable cells lose input
        lost_unread = lost & unreadable & ~at_intrinsic
        lost_plain = lost & ~lost_unread
        why = np.array(
            [
                "unsolved IV: no IV or gamma in the source and the mid cannot be solved for an IV",
                "unsolved IV: no IV or gamma in the source and the mid is at or below intrinsic value (no time value: gamma ~ 0)",
                "unsolved IV: no IV, no gamma and no two-sided quote in the source",
                "unreadable IV/gamma cell in the source, and no IV could be solved from the mid",
            ],
            dtype=object,
        )
        code = np.where(
            lost_unread, 3, np.where(~np.isfinite(mid_unit), 2, np.where(at_intrinsic, 1, 0))
        )
        for mask, kind in ((lost_unread, "unreadable"), (lost_plain, "unsolved")):
            if mask.any():
                dropped_parts.append(
                    _dropped_frame(
                        a.loc[mask], kind, why[code[mask]] + ": left out of every figure"
                    )
                )
        if lost_unread.any():
            quality.skip(
                "IV/gamma unreadable and not modelled",
                rows=int(lost_unread.sum()),
                weight=float(oi[lost_unread].sum()),
                where=a.loc[lost_unread, "symbol"].head(3).astype(str),
            )
        unexplained = lost_plain & ~at_intrinsic
        plain_oi = float(oi[unexplained].sum())
        if total_oi > 0 and plain_oi / total_oi > MODELLED_WARN_SHARE:
            quality.warn(
                f"{int(unexplained.sum())} contracts with a position ({plain_oi / total_oi * 100:.1f} % of open interest) have no gamma, no IV and no solvable mid: left out"
            )
        intrinsic = lost_plain & at_intrinsic
        intrinsic_oi = float(oi[intrinsic].sum())
        if total_oi > 0 and intrinsic_oi / total_oi > INTRINSIC_WARN_SHARE:
            # not a loss of input (their gamma is ~0 and their delta ~1 in every scenario), but a
            # desk should see that a large block of the chain was set aside
            quality.warn(
                f"{int(intrinsic.sum())} contracts ({intrinsic_oi / total_oi * 100:.1f} % of open interest) have no gamma or IV in the source and a mid at intrinsic value (no time value): left out with gamma ~0 (listed in dropped)"
            )

    call_gex = float(gex[is_call].sum())
    put_gex = float(gex[~is_call].sum())
    net_gex = call_gex + put_gex
    gross = float(np.abs(gex).sum())
    zero_dte = settle_days == snap_day
    zero_dte_share = float(np.abs(gex[zero_dte]).sum() / gross) if gross > 0 else 0.0
    modelled_abs = float(np.abs(gex[use_model]).sum())
    modelled_share = modelled_abs / gross if gross > 0 else 0.0
    n_modelled = int((use_model & has_pos).sum())

    def share(mask: np.ndarray) -> float:
        return float(np.abs(gex[mask]).sum()) / gross * 100 if gross > 0 else 0.0

    def at_iv(mask: np.ndarray) -> str:
        """Which IV the modelled gamma of ``mask`` used: the source's, or one solved from the mid."""
        solved = int((mask & (iv_code == 1)).sum())
        if not solved:
            return "BSM at the contract's IV"
        if solved == int(mask.sum()):
            return "BSM at an IV solved from each contract's mid: the source gave none"
        return f"BSM at the contract's IV, solved from the mid for {solved} of them"

    unread_used = unreadable & has_pos & keep
    if unread_used.any():
        quality.warn(
            f"{int(unread_used.sum())} contracts had an unreadable or empty IV, gamma or quote cell: set missing, gamma modelled for {int((unread_used & use_model).sum())} ({at_iv(unread_used & use_model)}; {share(unread_used & use_model):.1f} % of |GEX|)"
        )

    standard_model = use_model & has_pos & ~deliv[alive] & ~unreadable
    missing = standard_model & np.isnan(gamma_file)  # the source gave no gamma at all
    zero = standard_model & ~np.isnan(gamma_file)  # the source gave 0 (rounding, or a 0DTE habit)
    if missing.any():
        quality.warn(
            f"gamma missing in the source for {int(missing.sum())} of {int(has_pos.sum())} contracts with a position: modelled ({at_iv(missing)}), {share(missing):.1f} % of |GEX|"
        )
    if zero.any() and share(zero) >= MODELLED_WARN_SHARE * 100:
        quality.warn(
            f"gamma 0 in the source for {int(zero.sum())} live contracts with a position: modelled ({at_iv(zero)}), {share(zero):.1f} % of |GEX|"
        )

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

    # consistency of the spot figure with the model at spot
    big, small = (
        max(abs(net_gex), abs(model_gex_at_spot)),
        min(abs(net_gex), abs(model_gex_at_spot)),
    )
    if (
        gross > 0
        and big > NEGLIGIBLE_SHARE * gross
        and (
            np.sign(net_gex) != np.sign(model_gex_at_spot)
            or big > params.consistency_factor * small
        )
    ):
        how = (
            "in sign"
            if np.sign(net_gex) != np.sign(model_gex_at_spot)
            else f"by more than a factor {params.consistency_factor:g}"
        )
        quality.warn(
            f"spot net GEX {net_gex:,.0f} and model GEX at spot {model_gex_at_spot:,.0f} USD per 1 % disagree {how}: check the source's gamma"
        )
    spot_warning = _spot_parity_warning(
        S, std & ~unreadable, settle_a, K, is_call, bid, ask, T, ratio, r, q, src
    )
    if spot_warning:
        quality.warn(spot_warning)

    tol = FLIP_TOL_FRACTION * S
    # rounding noise of a curve whose calls and puts cancel exactly is not a crossing
    noise = FLIP_NOISE_FRACTION * float(np.max(np.abs(curves[:2]), initial=0.0))
    flips_by_conv: dict[str, list[float]] = {}
    for cv in conventions:
        row = np.array([row_of[cv]])
        sampled = np.where(np.abs(curves[row_of[cv]]) <= noise, 0.0, curves[row_of[cv]])

        def evaluate(x: np.ndarray, row: np.ndarray = row) -> np.ndarray:
            return np.asarray(_gex_curve(model, x, rows=row)[0])

        flips_by_conv[cv] = find_flips(spots, sampled, evaluate, tol)

    def nearest(fl: list[float]) -> float | None:
        return min(fl, key=lambda x: abs(x - S)) if fl else None

    # hedge flows: full re-pricing of the dealers' delta
    moves = np.asarray(params.moves_pct, dtype=np.float64)
    # the table's moves plus -3 % / +3 % for the headline and the sensitivity table, each once
    all_moves = np.unique(np.concatenate([moves, [-3.0, 3.0]]))
    next_close = (
        params.next_close
        if params.next_close is not None
        else calendars.next_close(chain.as_of, params.calendar)
    )
    if next_close.tzinfo is None or next_close <= chain.as_of:
        raise InputError(
            "gamma params",
            "next_close",
            f"next_close must be tz-aware and after the snapshot {chain.as_of.isoformat()}, got {next_close!r}",
        )
    T_next = np.maximum(
        year_fractions(settle_a[mi], settle_days[mi], next_close, params.time_basis), T_FLOOR_YEARS
    )
    gamma_spot_equiv = (book.U / S) * gamma_model[
        mi
    ]  # times scale (= m U/S) gives d2(value)/dS2 per contract
    new_spots, trade, gamma_approx, vanna, charm = _hedge_flows(
        S, all_moves, book, T_next, W, gamma_spot_equiv, params.iv_shock_points / 100.0, r
    )
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
                "net_gex_usd_per_1pct": float((weights[cv] * gamma_used * scale_1pct).sum()),
                "flip": fl if fl is not None else np.nan,
                "hedge_flow_down3_usd": float(trade[row_of[cv], i_down3]),
                "hedge_flow_up3_usd": float(trade[row_of[cv], i_up3]),
            }
        )
    sensitivity = pd.DataFrame(sens_rows)
    sensitivity["convention"] = sensitivity["convention"].astype("str")

    K_equiv = np.where(fwd, K, K / ratio)  # strikes in the chain's underlying's units
    by_strike, by_expiry, grid = _group_tables(
        K_equiv[keep],
        expiry_days[keep],
        is_call[keep],
        oi[keep],
        gex[keep],
        use_model[keep],
        zero_dte[keep],
        snap_day,
    )
    strikes_u = by_strike["strike"].to_numpy()
    abs_call = np.abs(by_strike["call_gex_usd_per_1pct"].to_numpy())
    abs_put = np.abs(by_strike["put_gex_usd_per_1pct"].to_numpy())

    def wall(values: np.ndarray) -> float | None:
        return (
            float(strikes_u[int(np.argmax(values))]) if values.size and values.max() > 0 else None
        )

    a_kept = a[["symbol", "root", "type", "strike", "expiry", "settle_time"]]
    if not keep.all():
        a_kept = a_kept.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    contracts = pd.DataFrame(
        {
            "symbol": a_kept["symbol"],
            "root": a_kept["root"],
            "type": a_kept["type"],
            "strike": a_kept["strike"].to_numpy(dtype=np.float64),
            "strike_per_unit": K[keep],
            "expiry": a_kept["expiry"],
            "settle_time": a_kept["settle_time"],
            "t_years": T[keep],
            "open_interest": oi[keep],
            "units_per_contract": units[keep],
            "underlying_price": U[keep],
            "iv_used": iv_used[keep],
            "iv_source": _labels(iv_code[keep], IV_SOURCES),
            "gamma_file": gamma_file[keep],
            "gamma_model": gamma_model[keep],
            "gamma_source": _labels(gamma_code[keep], GAMMA_SOURCES),
            "gex_usd_per_1pct": gex[keep],
        }
    )
    if position is not None:
        contracts.insert(9, DEALER_POSITION_COLUMN, position[keep])
    dropped = (
        pd.concat(dropped_parts, ignore_index=True)
        if dropped_parts
        else _dropped_frame(c.iloc[:0], "settled", np.array([], dtype=object))
    )
    for col_name in ("symbol", "root", "type", "kind", "reason"):
        dropped[col_name] = dropped[col_name].astype("str")

    d_kind = dropped["kind"].to_numpy(dtype=object)
    d_oi = dropped["open_interest"].to_numpy(dtype=np.float64)

    def kind_count(kinds: tuple[str, ...]) -> tuple[int, float]:
        m = np.isin(d_kind, kinds)
        return int(m.sum()), float(d_oi[m].sum())

    n_settled, oi_settled = kind_count(("settled",))
    n_excl, oi_excl = kind_count(("non-standard", "other underlying"))
    n_lost, oi_lost = kind_count(("unsolved", "unreadable"))
    moved = settle_days != expiry_days  # the settlement session is before the listed date
    moved_pairs = sorted(
        {
            (pd.Timestamp(e).date().isoformat(), str(pd.Timestamp(d).date()))
            for e, d in zip(a["expiry"].to_numpy()[moved], settle_days[moved], strict=True)
        }
    )

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
        "contracts": int(keep.sum()),
        "expired_dropped": n_settled,
        "expired_dropped_oi": oi_settled,
        "excluded_contracts": n_excl,
        "excluded_oi": oi_excl,
        "unsolved_dropped": n_lost,
        "unsolved_dropped_oi": oi_lost,
        "unsolved_iv": int(((iv_code == 2) & (oi > 0) & keep).sum()),
        "deliverable_contracts": int(deliv[alive].sum()),
        "modelled_gamma_contracts": n_modelled,
        "modelled_gamma_share": modelled_share,
        "net_gex_usd_per_1pct": net_gex,
        "call_gex_usd_per_1pct": call_gex,
        "put_gex_usd_per_1pct": put_gex,
        "gross_gex_usd_per_1pct": gross,
        "net_gex_usd_per_point": net_gex / (S * _PCT),
        "net_gex_shares_per_1pct": net_gex / S,
        "zero_dte_share": zero_dte_share,
        "model_gex_at_spot_usd_per_1pct": model_gex_at_spot,
        "regime": str(gamma_regime(net_gex, gross)),
        "flip": _f(flip),
        "flip_distance_pct": _f((flip / S - 1.0) * 100.0) if flip is not None else None,
        "flips": [float(x) for x in flips_by_conv[params.convention]],
        "call_wall": wall(abs_call),
        "put_wall": wall(abs_put),
        "abs_gamma_strike": wall(abs_call + abs_put),
        "hedge_flow_down3_usd": down3,
        "hedge_flow_up3_usd": up3,
        "forwards": [
            {"expiry": f["expiry"], "forward": float(f["forward"]), "method": str(f["method"])}
            for f in forwards
        ],
        "moved_expiries": [{"expiry": e, "settles": d} for e, d in moved_pairs],
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
        quality=quality,
    )
