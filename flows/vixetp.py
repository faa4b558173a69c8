"""VIX futures ETPs: the index they track, and the VX futures they trade at the close.

The twin of :mod:`flows.letf` for exchange-traded products on VIX futures (VXX, VIXY, UVXY,
SVXY, UVIX, SVIX, the mid-term VIXM and VXZ; curated with their leverage history in
``flows/data/vix_etp_universe.csv``, :mod:`flows.sources.vixetp_universe`).

The indices (S&P Dow Jones Indices, *S&P VIX Futures Indices Methodology*)
--------------------------------------------------------------------------
The **short-term** index (SPVXSP) holds the first and second monthly VX contracts and rolls
from the first into the second every business day.  At the close of session ``t`` the
contract weights (quantities, summing to 1) are::

    w_front = dr / dt            w_second = 1 - dr / dt

``dt``: business days of the roll period, from the current VX settlement date (inclusive) to
the next one (exclusive); ``dr``: business days from the day after ``t`` (inclusive) to the next
settlement date (exclusive).  "Front" at the close of ``t`` is the first contract settling after
the next session, so on the Tuesday before a settlement Wednesday the index already holds only
the next contract (``dr = dt``: all in the new front) and the expiring contract's final
settlement never enters the index.  The **mid-term** index (SPVXMP) rolls the fourth month into
the seventh the same way while holding the fifth and sixth: weights ``(dr/dt, 1, 1, 1-dr/dt)/3``.
Settlement dates: :func:`flows.calendars.vx_final_settlement`; business days: exchange sessions
(:func:`flows.calendars.sessions_between`).  Trade dates that are not sessions are ignored (CFE
settled VX on 2018-12-05, a national day of mourning on which S&P computed no index).

The index (excess) return of session ``t`` prices the weights set at the previous close::

    R_t = sum_i w_i(t-1) * F_i(t) / sum_i w_i(t-1) * F_i(t-1) - 1

with ``F_i`` the daily settlements of the contracts held over the day (fraction, 0.961 = +96.1 %).

The funds' trades at the close of ``t`` (USD of VX futures; + = buy)
--------------------------------------------------------------------
A fund with prior-close assets ``A`` and daily leverage ``L`` (negative for inverse funds):

* **rebalance** (the leverage reset, as for leveraged ETFs): ``A * (L**2 - L) * R_t``; zero for
  1x funds; long and inverse funds both buy after a rise and sell after a fall;
* **re-leverage** on the day the leverage changes (UVXY 2x -> 1.5x, SVXY -1x -> -0.5x at the
  close of 2018-02-27): ``(L_next - L) * A * (1 + L * R_t)``;
* **roll**: the exposure after the close ``E = L_next * A * (1 + L * R_t)`` moves from the old to
  the new index weights: per contract ``E * (s_new - s_old)`` with ``s`` the dollar shares
  ``w_i * F_i(t) / sum_j w_j * F_j(t)``; ``roll_usd = E * sum max(s_new - s_old, 0)``, the USD
  moved out of the front into the second month (+ for long funds, - for inverse ones, who buy
  back the front and sell the second).

Rebalance and re-leverage are split over the contracts at the old (pre-roll) shares; the three
add up exactly to ``E * s_new - L * A * (1 + R_t) * s_old`` per contract.  Contracts: USD /
(settle * USD 1,000 per VIX point) (``flows.schema.VX_MULTIPLIER_USD``); the **vega** of a trade
is its contracts * USD 1,000: a VX future gains USD 1,000 per contract for each point (one vol
point) its price rises.

Scenarios ("VIX futures +/- x % into the close"): every contract moves by ``x`` from the
previous settlement, so the index moves by ``x`` and each fund rebalances ``A * (L**2 - L) * x``;
in contracts at the moved prices.  Horizon on the board: "today".

Pure: frames in, frames out.  The index history is vectorised over sessions; the per-fund
detail of one day loops over the ten-odd funds only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flows import calendars
from flows.errors import InputError
from flows.schema import VX_MULTIPLIER_USD, validate_columns

HORIZON = "today"
DEFAULT_SCENARIO_MOVES_PCT = tuple(float(x) for x in np.linspace(-40.0, 40.0, 41))
"""VX moves into the close, percent: -40 .. +40 in 2 % steps (41 points)."""


@dataclass(frozen=True)
class IndexSpec:
    """A constant-maturity VX futures index: roll out of month ``roll_from`` (1 = first month)
    into month ``roll_from + holds + 1``, holding the ``holds`` months between at full weight."""

    name: str
    roll_from: int
    holds: int
    legs: tuple[str, ...]

    @property
    def months_needed(self) -> int:
        return self.roll_from + self.holds + 1


SHORT_TERM = IndexSpec("short_term", 1, 0, ("front", "second"))
MID_TERM = IndexSpec("mid_term", 4, 2, ("m4", "m5", "m6", "m7"))
INDICES: dict[str, IndexSpec] = {SHORT_TERM.name: SHORT_TERM, MID_TERM.name: MID_TERM}


# -- contract calendar and roll weights --------------------------------------------------------
def contract_table(
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    months_ahead: int = 10,
    calendar: str = calendars.DEFAULT_CALENDAR,
) -> pd.DataFrame:
    """Every monthly VX contract from the month before ``first`` to ``months_ahead`` after
    ``last``: ``contract`` (code), ``year``, ``month``, ``expiry`` (final settlement date)."""
    months = pd.period_range(
        pd.Period(first, "M") - 1, pd.Period(last, "M") + months_ahead, freq="M"
    )
    y, m = months.year.to_numpy(), months.month.to_numpy()
    return pd.DataFrame(
        {
            "contract": calendars.vx_contract_code(y, m),
            "year": y,
            "month": m,
            "expiry": calendars.vx_final_settlement(y, m, calendar),
        }
    )


def _schedule(
    dates: pd.DatetimeIndex, expiries: pd.DatetimeIndex, months: int, calendar: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(front, dr, dt)``: position in ``expiries`` of the first-month contract at the close of
    each session (the first settling after the next session) and the roll-period day counts."""
    nb = calendars.next_session(dates, calendar)
    k0 = expiries.searchsorted(nb, side="right")
    if (k0 < 1).any() or (k0 + months > len(expiries)).any():
        raise InputError(
            "vixetp",
            "expiries",
            f"the contract table {expiries[0].date()}..{expiries[-1].date()} does not cover the roll schedule of {dates[0].date()}..{dates[-1].date()}",
        )
    dt = calendars.sessions_between(expiries[k0 - 1], expiries[k0], calendar)
    dr = calendars.sessions_between(nb, expiries[k0], calendar)
    return np.asarray(k0, dtype=np.int64), dr, dt


def _legs_weights(
    front: np.ndarray, dr: np.ndarray, dt: np.ndarray, spec: IndexSpec
) -> tuple[np.ndarray, np.ndarray]:
    legs = (front + spec.roll_from - 1)[:, None] + np.arange(spec.holds + 2)[None, :]
    frac = dr / dt
    weights = np.column_stack([frac, *([np.ones(len(front))] * spec.holds), 1.0 - frac]) / (
        spec.holds + 1
    )
    return legs, weights


def roll_weights(
    dates: pd.DatetimeIndex,
    expiries: pd.DatetimeIndex,
    spec: IndexSpec = SHORT_TERM,
    calendar: str = calendars.DEFAULT_CALENDAR,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weights at the close of each session in ``dates``.

    Returns ``(legs, weights, dr, dt)``: ``legs`` ``(n, k)`` positions into ``expiries`` (sorted
    settlement dates) of the contracts held, ``weights`` ``(n, k)`` quantity weights summing to
    1, ``dr`` and ``dt`` the business-day counts of the module docstring.
    """
    front, dr, dt = _schedule(dates, expiries, spec.months_needed, calendar)
    legs, weights = _legs_weights(front, dr, dt, spec)
    return legs, weights, dr, dt


WINDOW = 12
"""Contracts kept per session in :class:`SettlementGrid`: from the one before the first month
to the tenth month after it (the mid-term index needs up to the seventh)."""


@dataclass(frozen=True)
class SettlementGrid:
    """Settlements and volumes of the contracts around each session's first month.

    ``settles[i, j]`` / ``volumes[i, j]`` belong to contract ``base[i] + j`` of ``contracts``
    (``base`` = first month - 1, ``j < WINDOW``): a sessions x 12 block instead of a sessions x
    every-contract matrix.  ``front``, ``dr``, ``dt``: the roll schedule at each close.
    """

    dates: pd.DatetimeIndex
    contracts: pd.DataFrame
    front: np.ndarray
    dr: np.ndarray
    dt: np.ndarray
    settles: np.ndarray
    volumes: np.ndarray

    def at(
        self, matrix: np.ndarray, rows: np.ndarray | int, contracts: np.ndarray | int
    ) -> np.ndarray:
        """Values of ``matrix`` (``settles`` or ``volumes``) for sessions ``rows`` and contract
        positions ``contracts`` (broadcast); NaN outside the window."""
        r = np.asarray(rows)
        j = np.asarray(contracts) - (self.front[r] - 1)
        ok = (j >= 0) & (j < WINDOW)
        return np.where(ok, matrix[r, np.clip(j, 0, WINDOW - 1)], np.nan)

    def settle(self, rows: np.ndarray | int, contracts: np.ndarray | int) -> np.ndarray:
        return self.at(self.settles, rows, contracts)

    def volume(self, rows: np.ndarray | int, contracts: np.ndarray | int) -> np.ndarray:
        return self.at(self.volumes, rows, contracts)


def settlement_grid(
    settlements: pd.DataFrame, calendar: str = calendars.DEFAULT_CALENDAR
) -> SettlementGrid:
    """The sessions of ``settlements`` (non-session trade dates dropped), the contract table, the
    roll schedule and the settlements / volumes around each session's first month."""
    validate_columns(settlements, ["date", "contract", "settle"], "vix futures settlements")
    all_dates = pd.DatetimeIndex(pd.unique(settlements["date"])).sort_values()
    if len(all_dates) == 0:
        raise InputError("vix futures settlements", "date", "no settlements")
    dates = all_dates[calendars.is_session(all_dates, calendar)]
    contracts = contract_table(dates[0], dates[-1], calendar=calendar)
    expiries = pd.DatetimeIndex(contracts["expiry"])
    front, dr, dt = _schedule(dates, expiries, MID_TERM.months_needed, calendar)
    pos_d = dates.get_indexer(pd.DatetimeIndex(settlements["date"]))
    codes, uniques = pd.factorize(settlements["contract"])
    where = {c: k for k, c in enumerate(contracts["contract"])}
    pos_c = (
        np.asarray([where.get(str(u), -1) for u in uniques], dtype=np.int64)[codes]
        if len(uniques)
        else np.empty(0, dtype=np.int64)
    )
    j = pos_c - (front[np.maximum(pos_d, 0)] - 1)
    ok = (pos_d >= 0) & (pos_c >= 0) & (j >= 0) & (j < WINDOW)
    blocks = []
    for column in ("settle", "volume"):
        m = np.full((len(dates), WINDOW), np.nan)
        if column in settlements:
            m[pos_d[ok], j[ok]] = settlements[column].to_numpy(dtype=float)[ok]
        blocks.append(m)
    return SettlementGrid(dates, contracts, front, dr, dt, blocks[0], blocks[1])


@dataclass
class IndexHistory:
    """The index over the sessions of the data, with what fund flows are computed from:
    ``legs`` / ``weights`` (contracts held and quantity weights at each close) and ``grid``."""

    spec: IndexSpec
    table: pd.DataFrame
    contracts: pd.DataFrame
    grid: SettlementGrid
    legs: np.ndarray
    weights: np.ndarray
    dates: pd.DatetimeIndex


def index_history(
    settlements: pd.DataFrame,
    spec: IndexSpec = SHORT_TERM,
    calendar: str = calendars.DEFAULT_CALENDAR,
    *,
    grid: SettlementGrid | None = None,
) -> IndexHistory:
    """The index of ``spec`` at every session of ``settlements`` (:data:`flows.schema.VX_COLUMNS`).

    ``table`` columns: ``date``; per leg (``front``, ``second`` / ``m4`` .. ``m7``) the contract
    held over the session (set at the previous close; categorical), its ``_weight`` (quantity
    weight), its ``_settle`` and ``_settle_prev`` (VIX points); ``held_value_pts`` (``sum w_i *
    F_i(t)`` over the contracts held over the session, VIX points per unit of weight: a USD trade
    at those weights is ``usd / (held_value_pts * 1000)`` contracts); ``index_return``
    (fraction; NaN on the first session and where a held contract has no settlement);
    ``index_level`` (100 at the first session, compounding the returns, flat over gaps); per leg
    ``_close`` and ``_weight_close`` (held after today's close); ``dr``, ``dt`` (business days).
    Pass ``grid`` (:func:`settlement_grid`) to share it between indices.
    """
    g = grid if grid is not None else settlement_grid(settlements, calendar)
    dates, contracts = g.dates, g.contracts
    codes = pd.Index(contracts["contract"].astype(str))
    legs, w = _legs_weights(g.front, g.dr, g.dt, spec)
    n = len(dates)
    rows = np.arange(n)
    prev = np.maximum(rows - 1, 0)
    held = legs[prev]
    w_held = w[prev]
    f_now = g.settle(rows[:, None], held)
    f_prev = g.settle(prev[:, None], held)
    live = w_held > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        tdwo = np.sum(np.where(live, w_held * f_now, 0.0), axis=1)
        tdwi = np.sum(np.where(live, w_held * f_prev, 0.0), axis=1)
        ret = tdwo / tdwi - 1.0
    missing = np.any(live & (np.isnan(f_now) | np.isnan(f_prev)), axis=1)
    ret = np.where(missing, np.nan, ret)
    ret[0] = np.nan
    level = 100.0 * np.cumprod(1.0 + np.nan_to_num(ret, nan=0.0))
    first = rows == 0
    cols: dict[str, object] = {"date": dates}
    for j, leg in enumerate(spec.legs):
        cols[leg] = pd.Categorical.from_codes(np.where(first, -1, held[:, j]), categories=codes)
        cols[f"{leg}_weight"] = np.where(first, np.nan, w_held[:, j])
        cols[f"{leg}_settle"] = f_now[:, j]
        cols[f"{leg}_settle_prev"] = np.where(first, np.nan, f_prev[:, j])
    cols["held_value_pts"] = np.where(missing | first, np.nan, tdwo)
    cols["index_return"] = ret
    cols["index_level"] = level
    for j, leg in enumerate(spec.legs):
        cols[f"{leg}_close"] = pd.Categorical.from_codes(legs[:, j], categories=codes)
        cols[f"{leg}_weight_close"] = w[:, j]
    cols["dr"] = g.dr
    cols["dt"] = g.dt
    return IndexHistory(spec, pd.DataFrame(cols), contracts, g, legs, w, dates)


# -- the funds ---------------------------------------------------------------------------------
def active_funds(universe: pd.DataFrame, day: pd.Timestamp, next_day: pd.Timestamp) -> pd.DataFrame:
    """Funds whose leverage applies to the return of ``day``: ``ticker``, ``name``, ``index``,
    ``leverage`` (for ``day``), ``leverage_next`` (for ``next_day``; 0 when the fund stops),
    ``sample_aum_usd``."""
    start = universe["valid_from"].to_numpy()
    end = universe["valid_to"].to_numpy()
    tickers = universe["ticker"].to_numpy(dtype=object)

    def on(d: pd.Timestamp) -> np.ndarray:
        t = np.datetime64(pd.Timestamp(d).to_datetime64())
        return np.asarray((start <= t) & (np.isnat(end) | (end >= t)), dtype=bool)

    today = universe.loc[on(day)].drop_duplicates("ticker")
    later = on(next_day)
    nxt = dict(zip(tickers[later], universe["leverage"].to_numpy()[later], strict=True))
    out = today[["ticker", "name", "index", "leverage", "sample_aum_usd"]].reset_index(drop=True)
    out["leverage_next"] = np.asarray([nxt.get(t, 0.0) for t in out["ticker"]], dtype=float)
    return out


def _assets(funds: pd.DataFrame, assets: pd.DataFrame | Mapping[str, float] | None) -> np.ndarray:
    if assets is None:
        return np.full(len(funds), np.nan)
    if isinstance(assets, pd.DataFrame):
        validate_columns(assets, ["ticker", "aum_usd"], "vix etp assets")
        assets = dict(
            zip(
                assets["ticker"].astype(str).str.upper(),
                assets["aum_usd"].astype(float),
                strict=True,
            )
        )
    return np.asarray(
        funds["ticker"]
        .map({str(k).upper(): float(v) for k, v in assets.items()})
        .to_numpy(dtype=float),
        dtype=np.float64,
    )


@dataclass
class DayFlows:
    """One session's trades: ``funds`` per fund, ``by_contract`` per VX contract (see
    :func:`day_flows` for the columns)."""

    funds: pd.DataFrame
    by_contract: pd.DataFrame


def _leg_shares(ih: IndexHistory, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contracts held before and after the close of row ``i`` (union, positions in the
    contract table), their settles on ``i`` and the dollar shares before / after the roll."""
    old, new = ih.legs[i - 1], ih.legs[i]
    union = np.union1d(old, new)
    price = ih.grid.settle(i, union)
    q_old = np.zeros(len(union))
    q_new = np.zeros(len(union))
    np.add.at(q_old, np.searchsorted(union, old), ih.weights[i - 1])
    np.add.at(q_new, np.searchsorted(union, new), ih.weights[i])
    with np.errstate(invalid="ignore", divide="ignore"):
        s_old = q_old * price / np.nansum(np.where(q_old > 0, q_old * price, 0.0))
        s_new = q_new * price / np.nansum(np.where(q_new > 0, q_new * price, 0.0))
    return union, price, np.where(q_old > 0, s_old, 0.0), np.where(q_new > 0, s_new, 0.0)


def day_flows(
    indices: Mapping[str, IndexHistory],
    universe: pd.DataFrame,
    assets: pd.DataFrame | Mapping[str, float] | None,
    day: pd.Timestamp,
    *,
    creations_usd: Mapping[str, float] | None = None,
    calendar: str = calendars.DEFAULT_CALENDAR,
    funds: pd.DataFrame | None = None,
) -> DayFlows:
    """The funds' trades at the close of session ``day`` (present in every index history used).

    ``assets``: prior-close net assets per ticker, USD (funds without assets get NaN trades).
    ``creations_usd``: optional net creations of the day per ticker (USD, + = inflow), new
    exposure ``L_next * C``.  ``funds``: the :func:`active_funds` rows to use (default: every
    fund of ``universe`` alive on ``day``).

    Per fund, with ``E0 = L * A * (1 + R)`` the exposure after the move and
    ``E1 = L_next * (A * (1 + L * R) + C)`` after the close, the trade in contract ``c`` is
    ``E1 * s_new[c] - E0 * s_old[c]`` = ``(E1 - E0) * s_old[c]`` (rebalance + re-leverage +
    creations, at the pre-roll shares) + ``E1 * (s_new[c] - s_old[c])`` (the roll).

    ``funds`` columns: ``ticker``, ``name``, ``index``, ``leverage``, ``leverage_next``,
    ``aum_prev_usd``, ``index_return`` (fraction), ``rebalance_usd``, ``releverage_usd``,
    ``creations_usd``, ``net_usd`` (their sum), ``roll_usd`` (USD rolled out of the expiring side
    into the incoming one, signed as the exposure), ``rebalance_contracts``,
    ``roll_out_contracts`` / ``roll_in_contracts`` (signed: + = buy), ``net_contracts`` (all
    trades), ``vega_usd_per_vol_pt`` (of the rebalance), ``position_usd`` (``E1``, USD of index)
    and ``position_contracts``.  ``by_contract``: ``contract``, ``expiry``, ``settle``,
    ``rebalance_contracts`` (rebalance + re-leverage + creations), ``roll_contracts``,
    ``total_contracts`` (+ = buy), ``volume`` (that day, contracts), ``pct_of_volume``
    (``100 * |total| / volume``).
    """
    day = pd.Timestamp(day)
    if funds is None:
        funds = active_funds(universe, day, calendars.next_session([day], calendar)[0])
    aum = _assets(funds, assets)
    rows = []
    acc: dict[tuple[str, int], np.ndarray] = {}
    per_index: dict[str, tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]] = {}
    for name in pd.unique(funds["index"]):
        ih = indices[name]
        i = ih.dates.get_loc(day) if day in ih.dates else -1
        if i < 1:
            raise InputError(
                "vix futures settlements",
                "date",
                f"no {name} index return on {day.date()} (the session and the one before must be in the data)",
            )
        per_index[name] = (i, *_leg_shares(ih, i), float(ih.table["index_return"].to_numpy()[i]))
    for j, fund in enumerate(funds.itertuples(index=False)):
        i, union, price, s_old, s_new, r = per_index[fund.index]
        lev, lev_next, a = float(fund.leverage), float(fund.leverage_next), float(aum[j])
        c_usd = float((creations_usd or {}).get(fund.ticker, 0.0))
        a_now = a * (1.0 + lev * r)
        e0 = lev * a * (1.0 + r)
        e1 = lev_next * (a_now + c_usd)
        reb = a * (lev * lev - lev) * r
        relev = (lev_next - lev) * a_now
        cre = lev_next * c_usd
        mult = price * VX_MULTIPLIER_USD

        def contracts(usd: np.ndarray, mult: np.ndarray = mult) -> np.ndarray:
            return np.asarray(
                np.divide(usd, mult, out=np.zeros_like(usd), where=usd != 0), dtype=np.float64
            )  # no trade: 0, even unpriced

        net_part = (e1 - e0) * s_old
        roll_part = e1 * (s_new - s_old)
        roll_ct = contracts(roll_part)
        sign = np.sign(e1) if e1 != 0 else np.sign(e0)
        reb_ct = float(np.sum(contracts(reb * s_old)))
        rows.append(
            {
                "ticker": fund.ticker,
                "name": fund.name,
                "index": fund.index,
                "leverage": lev,
                "leverage_next": lev_next,
                "aum_prev_usd": a,
                "index_return": r,
                "rebalance_usd": reb,
                "releverage_usd": relev,
                "creations_usd": cre,
                "net_usd": reb + relev + cre,
                "roll_usd": float(sign * np.sum(np.abs(roll_part)) / 2.0),
                "rebalance_contracts": reb_ct,
                "roll_out_contracts": float(np.sum(np.where(roll_part * sign < 0, roll_ct, 0.0))),
                "roll_in_contracts": float(np.sum(np.where(roll_part * sign > 0, roll_ct, 0.0))),
                "net_contracts": float(np.sum(contracts(net_part + roll_part))),
                "vega_usd_per_vol_pt": reb_ct * VX_MULTIPLIER_USD,
                "position_usd": e1,
                "position_contracts": float(np.sum(contracts(e1 * s_new))),
            }
        )
        for k, c in enumerate(union):
            key = (fund.index, int(c))
            acc.setdefault(key, np.zeros(2))
            acc[key] += [contracts(net_part)[k], roll_ct[k]]
    fund_table = pd.DataFrame(rows, columns=FUND_COLUMNS)
    return DayFlows(fund_table, _by_contract(indices, acc, day))


FUND_COLUMNS = [
    "ticker",
    "name",
    "index",
    "leverage",
    "leverage_next",
    "aum_prev_usd",
    "index_return",
    "rebalance_usd",
    "releverage_usd",
    "creations_usd",
    "net_usd",
    "roll_usd",
    "rebalance_contracts",
    "roll_out_contracts",
    "roll_in_contracts",
    "net_contracts",
    "vega_usd_per_vol_pt",
    "position_usd",
    "position_contracts",
]


def _by_contract(
    indices: Mapping[str, IndexHistory],
    acc: Mapping[tuple[str, int], np.ndarray],
    day: pd.Timestamp,
) -> pd.DataFrame:
    """Sum the funds' contracts per VX contract (indices share one contract table per day)."""
    cols = [
        "contract",
        "expiry",
        "settle",
        "rebalance_contracts",
        "roll_contracts",
        "total_contracts",
        "volume",
        "pct_of_volume",
    ]
    merged: dict[str, dict[str, Any]] = {}
    for (name, c), (reb, roll) in acc.items():
        ih = indices[name]
        i = ih.dates.get_loc(day)
        code = str(ih.contracts["contract"].iloc[c])
        row = merged.setdefault(
            code,
            {
                "contract": code,
                "expiry": ih.contracts["expiry"].iloc[c],
                "settle": float(ih.grid.settle(i, c)),
                "rebalance_contracts": 0.0,
                "roll_contracts": 0.0,
                "volume": float(ih.grid.volume(i, c)),
            },
        )
        row["rebalance_contracts"] = float(row["rebalance_contracts"]) + float(reb)
        row["roll_contracts"] = float(row["roll_contracts"]) + float(roll)
    out = pd.DataFrame(
        list(merged.values()),
        columns=[c for c in cols if c not in ("total_contracts", "pct_of_volume")],
    )
    out["total_contracts"] = out["rebalance_contracts"] + out["roll_contracts"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct_of_volume"] = np.where(
            out["volume"] > 0, 100.0 * out["total_contracts"].abs() / out["volume"], np.nan
        )
    return out[cols].sort_values("expiry", kind="stable").reset_index(drop=True)


# -- assets ------------------------------------------------------------------------------------
def assets_before(nav: pd.DataFrame, day: pd.Timestamp | str) -> pd.DataFrame:
    """Prior-close assets for session ``day`` from daily NAV histories (e.g. ProShares':
    ``date``, ``ticker``, ``aum_usd``): per ticker the last row dated before ``day``.
    Columns ``ticker``, ``aum_usd`` (USD), ``as_of`` (date of the row used)."""
    validate_columns(nav, ["date", "ticker", "aum_usd"], "vix etp assets")
    before = nav[pd.DatetimeIndex(nav["date"]) < pd.Timestamp(day)]
    last = before.sort_values("date", kind="stable").groupby("ticker", sort=True).tail(1)
    return pd.DataFrame(
        {
            "ticker": last["ticker"].astype(str).str.upper(),
            "aum_usd": last["aum_usd"].astype(float),
            "as_of": last["date"],
        }
    ).reset_index(drop=True)


def leverage_matrix(
    universe: pd.DataFrame, dates: pd.DatetimeIndex, tickers: Sequence[str]
) -> np.ndarray:
    """``(len(dates), len(tickers))`` leverage applying to each session's return (NaN when the
    fund did not exist); one vectorised mask per universe row."""
    out = np.full((len(dates), len(tickers)), np.nan)
    col = {t: k for k, t in enumerate(tickers)}
    d = dates.to_numpy()
    for row in universe.itertuples(index=False):
        if row.ticker not in col:
            continue
        live = d >= np.datetime64(row.valid_from)
        if not pd.isna(row.valid_to):
            live &= d <= np.datetime64(row.valid_to)
        out[live, col[row.ticker]] = row.leverage
    return out


def rebalance_history(
    indices: Mapping[str, IndexHistory], universe: pd.DataFrame, nav: pd.DataFrame
) -> pd.DataFrame:
    """Daily rebalance of every fund with an assets history (vectorised over sessions x funds).

    ``nav``: ``date``, ``ticker``, ``aum_usd`` (daily net assets, USD).  Long frame, one row per
    session and fund with prior-close assets: ``date``, ``ticker``, ``index``, ``leverage``,
    ``aum_prev_usd``, ``index_return`` (fraction), ``rebalance_usd`` (``A*(L**2-L)*R``, + = buy),
    ``rebalance_contracts``.  The re-leverage and roll of a given day are in :func:`day_flows`.
    """
    validate_columns(nav, ["date", "ticker", "aum_usd"], "vix etp assets")
    tickers = sorted(set(universe["ticker"]) & set(nav["ticker"].astype(str).str.upper()))
    first = universe.drop_duplicates("ticker").set_index("ticker")["index"]
    parts = []
    for name, ih in indices.items():
        names = [t for t in tickers if first[t] == name]
        if not names:
            continue
        dates = ih.dates
        wide = nav.assign(ticker=nav["ticker"].astype(str).str.upper()).pivot_table(
            index="date", columns="ticker", values="aum_usd", aggfunc="last"
        )
        wide = wide.reindex(columns=names)
        # prior-close assets: the last NAV row strictly before each session
        pos = wide.index.searchsorted(dates, side="left") - 1
        a_prev = np.where(pos[:, None] >= 0, wide.to_numpy()[np.maximum(pos, 0)], np.nan)
        lev = leverage_matrix(universe, dates, names)
        r = ih.table["index_return"].to_numpy()[:, None]
        reb = a_prev * (lev * lev - lev) * r
        held = ih.table["held_value_pts"].to_numpy()[:, None]
        frame = pd.DataFrame(
            {
                "date": np.repeat(dates.to_numpy(), len(names)),
                "ticker": np.tile(names, len(dates)),
                "index": name,
                "leverage": lev.ravel(),
                "aum_prev_usd": a_prev.ravel(),
                "index_return": np.repeat(r[:, 0], len(names)),
                "rebalance_usd": reb.ravel(),
                "rebalance_contracts": (reb / (held * VX_MULTIPLIER_USD)).ravel(),
            }
        )
        parts.append(frame[frame["aum_prev_usd"].notna() & frame["leverage"].notna()])
    cols = [
        "date",
        "ticker",
        "index",
        "leverage",
        "aum_prev_usd",
        "index_return",
        "rebalance_usd",
        "rebalance_contracts",
    ]
    if not parts:
        return pd.DataFrame(columns=cols)
    return (
        pd.concat(parts, ignore_index=True)
        .sort_values(["date", "ticker"], kind="stable")
        .reset_index(drop=True)[cols]
    )


# -- scenarios ---------------------------------------------------------------------------------
def scenario_grid(
    indices: Mapping[str, IndexHistory],
    funds: pd.DataFrame,
    aum: np.ndarray,
    prev: pd.Timestamp,
    moves_pct: Sequence[float] = DEFAULT_SCENARIO_MOVES_PCT,
) -> pd.DataFrame:
    """Rebalance for VX futures moving by each of ``moves_pct`` (percent, every contract) from
    the settlements of session ``prev`` into the next close (vectorised: moves x funds).

    ``funds``: rows with ``index`` and ``leverage`` (the leverage for the next session);
    ``aum``: their assets after the close of ``prev`` (USD; NaN funds are left out).  The index
    holds the weights set at the close of ``prev``.  Columns: ``move_pct``, ``rebalance_usd``
    (USD, + = buy), ``long_funds_usd`` (L > 1), ``inverse_funds_usd`` (L < 0),
    ``rebalance_contracts``, ``vega_usd_per_vol_pt``, ``pct_of_volume`` (100 * |contracts| /
    the volume on ``prev`` of the contracts the indices hold).
    """
    m = np.asarray(moves_pct, dtype=float) / 100.0
    lev = funds["leverage"].to_numpy(dtype=float)
    a = np.nan_to_num(np.asarray(aum, dtype=float), nan=0.0)
    per = a * (lev * lev - lev)  # USD per unit of index return
    value = np.ones(len(funds))
    held: dict[int, float] = {}
    for name, ih in indices.items():
        i = ih.dates.get_loc(pd.Timestamp(prev))
        value[(funds["index"] == name).to_numpy()] = float(
            np.sum(ih.weights[i] * ih.grid.settle(i, ih.legs[i]))
        )
        if (funds["index"] == name).any():
            held.update({int(c): float(np.nan_to_num(ih.grid.volume(i, c))) for c in ih.legs[i]})
    volume = sum(held.values())
    usd = m[:, None] * per[None, :]
    contracts = usd / (value[None, :] * (1.0 + m[:, None]) * VX_MULTIPLIER_USD)
    total_ct = contracts.sum(axis=1)
    return pd.DataFrame(
        {
            "move_pct": m * 100.0,
            "rebalance_usd": usd.sum(axis=1),
            "long_funds_usd": usd[:, lev > 1].sum(axis=1),
            "inverse_funds_usd": usd[:, lev < 0].sum(axis=1),
            "rebalance_contracts": total_ct,
            "vega_usd_per_vol_pt": total_ct * VX_MULTIPLIER_USD,
            "pct_of_volume": 100.0 * np.abs(total_ct) / volume if volume > 0 else np.nan,
        }
    )


# -- the report --------------------------------------------------------------------------------
UNITS: dict[str, dict[str, str]] = {
    "index": {
        "date": "session date",
        "front_weight": "quantity weight of the front month held over the session (0-1)",
        "front_settle": "VIX points",
        "second_settle": "VIX points",
        "index_return": "fraction (excess return of the session)",
        "index_level": "index points (100 at the first session)",
    },
    "funds": {
        "leverage": "signed, dimensionless",
        "aum_prev_usd": "USD",
        "index_return": "fraction",
        "rebalance_usd": "USD of VX futures (+ = buy)",
        "releverage_usd": "USD",
        "roll_usd": "USD moved front -> second (signed as the exposure)",
        "rebalance_contracts": "VX contracts (USD 1,000 per point)",
        "net_contracts": "VX contracts",
        "vega_usd_per_vol_pt": "USD per vol point",
        "position_usd": "USD of index after the close",
    },
    "by_contract": {
        "settle": "VIX points",
        "rebalance_contracts": "contracts (+ = buy)",
        "roll_contracts": "contracts",
        "total_contracts": "contracts",
        "volume": "contracts traded that session",
        "pct_of_volume": "percent",
    },
    "scenarios": {
        "move_pct": "percent, every VX contract, into the close",
        "rebalance_usd": "USD (+ = buy)",
        "rebalance_contracts": "VX contracts",
        "vega_usd_per_vol_pt": "USD per vol point",
        "pct_of_volume": "percent of the previous session's volume in the held contracts",
    },
}
HEADLINE_UNITS = {
    "index_return": "fraction (short-term index, the session)",
    "front_weight": "0-1",
    "rebalance_usd": "USD (+ = buy)",
    "releverage_usd": "USD",
    "roll_usd": "USD",
    "net_usd": "USD (+ = buy)",
    "rebalance_contracts": "VX contracts",
    "net_contracts": "VX contracts",
    "vega_usd_per_vol_pt": "USD per vol point",
    "pct_of_volume": "percent of the session's volume in the traded contracts",
    "per_1pct_usd": "USD per +1 % VX move into the next close",
    "per_1pct_contracts": "VX contracts per +1 % VX move",
}


@dataclass
class VixEtpReport:
    """Output of :func:`analyze`: ``index`` (short-term), ``mid_index``, the session's ``funds``
    and ``by_contract`` trades, the ``scenarios`` for the next close, ``excluded`` funds."""

    headline: dict[str, Any]
    index: pd.DataFrame
    mid_index: pd.DataFrame
    funds: pd.DataFrame
    by_contract: pd.DataFrame
    scenarios: pd.DataFrame
    excluded: pd.DataFrame
    units: dict[str, dict[str, str]] = field(default_factory=lambda: dict(UNITS))
    horizon: str = HORIZON

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "funds": self.funds,
            "by_contract": self.by_contract,
            "scenarios": self.scenarios,
            "index": self.index,
            "mid_index": self.mid_index,
            "excluded": self.excluded,
        }


def analyze(
    settlements: pd.DataFrame,
    universe: pd.DataFrame,
    assets: pd.DataFrame | Mapping[str, float] | None,
    *,
    date: pd.Timestamp | str | None = None,
    moves_pct: Sequence[float] = DEFAULT_SCENARIO_MOVES_PCT,
    creations_usd: Mapping[str, float] | None = None,
    calendar: str = calendars.DEFAULT_CALENDAR,
) -> VixEtpReport:
    """Session ``date``'s index return and trades, and the scenarios for the next close.

    ``date`` must have settlements (default: the last session of the data); ``assets`` are the
    prior-close net assets per ticker (USD).  The scenarios start from the close of ``date``:
    the index weights set then, the settlements of ``date`` and each fund's assets after the
    close (``A * (1 + L * R)`` plus creations), with the leverage of the next session.

    Funds left out (``excluded``, with the reason): no assets, or no index return that day (a
    held contract without a settlement, e.g. months 4-7 of the mid-term index missing).
    """
    grid = settlement_grid(settlements, calendar)
    short = index_history(settlements, SHORT_TERM, calendar, grid=grid)
    mid = index_history(settlements, MID_TERM, calendar, grid=grid)
    indices = {SHORT_TERM.name: short, MID_TERM.name: mid}
    day = short.dates[-1] if date is None else pd.Timestamp(date)
    if day not in short.dates:
        raise InputError(
            "vix futures settlements",
            "date",
            f"no VX settlements on {day.date()} (sessions {short.dates[0].date()}..{short.dates[-1].date()})",
        )
    i = short.dates.get_loc(day)
    if i < 1:
        raise InputError(
            "vix futures settlements",
            "date",
            f"{day.date()} is the first session of the data: no previous settlement",
        )
    nxt = calendars.next_session([day], calendar)[0]
    active = active_funds(universe, day, nxt)
    aum = _assets(active, assets)
    ret_of = {name: float(ih.table["index_return"].iloc[i]) for name, ih in indices.items()}
    no_return = active["index"].map(ret_of).isna().to_numpy()
    no_assets = np.isnan(aum)
    reason = np.where(
        no_return,
        "no "
        + active["index"]
        + " index return on "
        + day.date().isoformat()
        + " (a held contract has no settlement)",
        np.where(no_assets, "no assets (prior-close net assets not given)", ""),
    )
    keep = reason == ""
    excluded = pd.DataFrame(
        {"ticker": active["ticker"][~keep], "reason": reason[~keep]}
    ).reset_index(drop=True)
    used = active[keep]
    flows = day_flows(
        indices,
        universe,
        dict(zip(active["ticker"], aum, strict=True)),
        day,
        creations_usd=creations_usd,
        calendar=calendar,
        funds=used.reset_index(drop=True),
    )
    f, bc = flows.funds, flows.by_contract
    # scenarios for the next close: funds alive then, assets after today's close
    after = f.set_index("ticker")
    nxt_funds = active_funds(universe, nxt, calendars.next_session([nxt], calendar)[0])
    a_next = (
        nxt_funds["ticker"]
        .map(
            (
                after["aum_prev_usd"] * (1.0 + after["leverage"] * after["index_return"])
                + after["creations_usd"] / after["leverage_next"].where(after["leverage_next"] != 0)
            ).to_dict()
        )
        .to_numpy(dtype=float)
    )
    priced = {
        name: bool(np.isfinite(np.sum(ih.weights[i] * ih.grid.settle(i, ih.legs[i]))))
        for name, ih in indices.items()
    }
    ok = np.isfinite(a_next) & nxt_funds["index"].map(priced).to_numpy(dtype=bool)
    scen_funds = nxt_funds[ok].reset_index(drop=True)
    both = scenario_grid(indices, scen_funds, a_next[ok], day, [*moves_pct, 1.0])
    scen, one = both.iloc[:-1].reset_index(drop=True), both.iloc[-1:].reset_index(drop=True)
    row = short.table.iloc[i]
    traded = bc["total_contracts"].ne(0) & bc["volume"].gt(0)
    headline = {
        "date": day.date().isoformat(),
        "index_return": float(row["index_return"]),
        "front": str(row["front"]),
        "second": str(row["second"]),
        "front_weight": float(row["front_weight"]),
        "mid_index_return": ret_of[MID_TERM.name],
        "rebalance_usd": float(f["rebalance_usd"].sum()),
        "releverage_usd": float(f["releverage_usd"].sum()),
        "roll_usd": float(f["roll_usd"].sum()),
        "net_usd": float(f["net_usd"].sum()),
        "rebalance_contracts": float(f["rebalance_contracts"].sum()),
        "net_contracts": float(f["net_contracts"].sum()),
        "vega_usd_per_vol_pt": float(f["vega_usd_per_vol_pt"].sum()),
        "pct_of_volume": float(
            100.0 * bc.loc[traded, "total_contracts"].abs().sum() / bc.loc[traded, "volume"].sum()
        )
        if traded.any()
        else math.nan,
        "per_1pct_usd": float(one["rebalance_usd"].iloc[0]),
        "per_1pct_contracts": float(one["rebalance_contracts"].iloc[0]),
        "funds": int(len(f)),
        "excluded": int(len(excluded)),
        "horizon": HORIZON,
    }
    return VixEtpReport(headline, short.table, mid.table, f, bc, scen, excluded)
