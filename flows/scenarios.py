"""De-risking scenarios: dealer hedging plus leveraged-ETF rebalancing for an index move.

Pure: frames and arrays in, frames out.  A *scenario* is a move of each equity underlying (one
index move mapped to the others by betas, or explicit per-underlying moves) plus an optional IV
shock and the time left to the close.  For each underlying the mechanical flow splits into four
components that add up to the total exactly:

Dealer hedging (from a dealer book: the gamma engine's per-contract table, see
:func:`dealer_book`), with the dealers' option delta ``D(s, sigma, T)`` in units of underlying
, spot ``S`` and ``S' = S (1 + move)``::

    dealer_gamma_usd = -(D(S', sigma, T)          - D(S, sigma, T))         * S'   (price move)
    dealer_vanna_usd = -(D(S', sigma + dv, T)     - D(S', sigma, T))        * S'   (IV shock dv)
    dealer_charm_usd = -(D(S', sigma + dv, T - h) - D(S', sigma + dv, T))   * S'   (h = time to close)

so that ``dealer_gamma + dealer_vanna + dealer_charm = -(D(S', sigma+dv, T-h) - D(S, sigma, T)) S'``
(full re-pricing of the dealers' delta with the Black-Scholes-Merton delta of
:func:`flows.greeks.dealer_delta`, ``D = 100 * sum_i w_i delta_i``; + = dealers buy).

Leveraged ETFs (:func:`flows.letf.scenario_flows`): ``letf_usd = per_1pct_usd * move_pct``
(``A (L^2 - L) r`` summed per underlying; + = funds buy).

``total_usd = dealer_gamma_usd + dealer_vanna_usd + dealer_charm_usd + letf_usd``, and
``total_pct_adv = total_usd / adv_usd * 100`` (percent of the underlying's average daily dollar
volume; NaN where the ADV is unknown).  Moves are in percent (-3 = -3 %), IV shocks in
volatility points (5 = +5 vol points), times in years (ACT/365).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flows.chain import DEALER_POSITION_COLUMN
from flows.errors import InputError
from flows.formatting import format_value
from flows.gamma import T_FLOOR_YEARS
from flows.greeks import dealer_delta
from flows.letf import scenario_flows
from flows.limits import LIMITS
from flows.money import format_usd
from flows.schema import OPTION_MULTIPLIER
from flows.units import Unit

COMPONENTS = ("dealer_gamma_usd", "dealer_vanna_usd", "dealer_charm_usd", "letf_usd")
"""The flow components, in USD (+ = buy); they sum to ``total_usd``."""

SECONDS_PER_YEAR = 365.0 * 86400.0


@dataclass(frozen=True)
class DealerBook:
    """The dealers' option book on one underlying, as the gamma engine left it.

    Arrays are per contract: ``strike`` (underlying units), ``is_call``, ``weight`` (dealer
    position in contracts, signed: + = dealers long), ``t_years`` (time to settlement at
    ``as_of``, ACT/365), ``iv`` (fraction per year).  ``spot`` in underlying units.
    """

    underlying: str
    spot: float
    r: float
    q: float
    strike: np.ndarray
    is_call: np.ndarray
    weight: np.ndarray
    t_years: np.ndarray
    iv: np.ndarray

    def delta(self, spots: np.ndarray, sigma: np.ndarray, t_years: np.ndarray) -> np.ndarray:
        """Dealer delta ``100 * sum_i w_i delta_i(s)`` (units of underlying) at each of ``spots``,
        for per-contract ``sigma`` and ``t_years`` (:func:`flows.greeks.dealer_delta`)."""
        n = self.strike.size
        anchor = np.full(n, self.spot)
        return np.asarray(
            dealer_delta(
                spots,
                self.spot,
                anchor,
                self.strike,
                t_years,
                sigma,
                self.r,
                np.full(n, self.q),
                self.is_call,
                (self.weight * OPTION_MULTIPLIER)[None, :],
            )[0],
            dtype=np.float64,
        )


def dealer_book(
    contracts: pd.DataFrame,
    *,
    underlying: str,
    spot: float,
    r: float,
    q: float,
    convention: str = "calls_long_puts_short",
    source: str = "gamma result",
) -> DealerBook:
    """Build a :class:`DealerBook` from the ``contracts`` table of a published gamma result.

    ``contracts`` needs ``type`` ('C'/'P'), ``strike``, ``open_interest`` (contracts),
    ``t_years`` and ``iv_used``; contracts without a usable IV or time left are left out (the gamma
    engine reported them).  With ``strike_per_unit``, ``units_per_contract`` and
    ``underlying_price`` (published by :func:`flows.gamma.analyze`) contracts on a scaled index,
    an adjusted deliverable or a futures price are carried in spot terms (see the code comment).  ``convention`` as in :mod:`flows.gamma`: ``calls_long_puts_short``
    (calls +OI, puts -OI), ``short_all`` (-OI), or ``source_position`` (column :data:`flows.chain.DEALER_POSITION_COLUMN`).
    """
    needed = ["type", "strike", "open_interest", "t_years", "iv_used"]
    missing = [c for c in needed if c not in contracts.columns]
    if missing:
        raise InputError(
            source, missing[0], f"gamma contracts table lacks column(s) {', '.join(missing)}"
        )
    if not np.isfinite(spot) or spot <= 0:
        raise InputError(source, "spot", f"spot must be a positive number (got {spot!r})")
    is_call = (contracts["type"].astype(str) == "C").to_numpy()
    oi = contracts["open_interest"].to_numpy(dtype=np.float64, na_value=0.0)
    if convention == "calls_long_puts_short":
        weight = np.where(is_call, oi, -oi)
    elif convention == "short_all":
        weight = -oi
    elif convention == "source_position":
        if DEALER_POSITION_COLUMN not in contracts.columns:
            raise InputError(
                source,
                DEALER_POSITION_COLUMN,
                "convention 'source_position' needs a per-contract dealer position column",
            )
        weight = contracts[DEALER_POSITION_COLUMN].to_numpy(dtype=np.float64, na_value=0.0)
    else:
        raise InputError(source, "convention", f"unknown dealer convention {convention!r}")
    t = contracts["t_years"].to_numpy(dtype=np.float64, na_value=np.nan)
    iv = contracts["iv_used"].to_numpy(dtype=np.float64, na_value=np.nan)
    strike = contracts["strike"].to_numpy(dtype=np.float64)
    if {"strike_per_unit", "units_per_contract", "underlying_price"} <= set(contracts.columns):
        # contracts valued on their own underlying (flows.gamma: a scaled index, an adjusted
        # series' deliverable, a VIX future): in spot terms, strike K S/U and U/S * m/100 of a
        # standard contract (exact for a shared dividend yield; futures-priced contracts are
        # carried with the book's q instead of Black-76's q = r, a delta error of e^{-rT} - 1)
        ratio = contracts["underlying_price"].to_numpy(dtype=np.float64, na_value=np.nan) / float(
            spot
        )
        strike = contracts["strike_per_unit"].to_numpy(dtype=np.float64, na_value=np.nan) / ratio
        weight = (
            weight
            * ratio
            * contracts["units_per_contract"].to_numpy(dtype=np.float64, na_value=np.nan)
            / OPTION_MULTIPLIER
        )
    keep = (
        (weight != 0)
        & np.isfinite(weight)
        & np.isfinite(strike)
        & np.isfinite(t)
        & (t > 0)
        & np.isfinite(iv)
        & (iv > 0)
    )
    return DealerBook(
        underlying=underlying,
        spot=float(spot),
        r=float(r),
        q=float(q),
        strike=strike[keep],
        is_call=is_call[keep],
        weight=weight[keep],
        t_years=t[keep],
        iv=iv[keep],
    )


def dealer_flows(
    book: DealerBook,
    moves_pct: Sequence[float] | np.ndarray,
    *,
    iv_shocks_pts: Sequence[float] = (0.0,),
    hours_to_close: float = 0.0,
) -> pd.DataFrame:
    """Dealer hedging flow components for each (IV shock, move) of the book's underlying.

    Returns a long frame with ``iv_shock_pts``, ``move_pct``, ``spot``, ``dealer_gamma_usd``,
    ``dealer_vanna_usd``, ``dealer_charm_usd`` (USD, + = dealers buy; formulas in the module
    docstring), shocks in the order given.  The price re-pricing is shared by every shock.
    Contracts that settle before the horizon are carried to just before settlement.
    """
    moves = np.asarray(moves_pct, dtype=np.float64)
    if hours_to_close < 0:
        raise InputError("scenario", "hours_to_close", f"must be >= 0 (got {hours_to_close})")
    s0 = book.spot
    new_spots = s0 * (1.0 + moves / 100.0)
    if np.any(new_spots <= 0):
        raise InputError("scenario", "move_pct", f"moves must be above -100 % (got {moves.min()})")
    t_later = np.maximum(book.t_years - hours_to_close * 3600.0 / SECONDS_PER_YEAR, T_FLOOR_YEARS)
    d0 = book.delta(np.array([s0]), book.iv, book.t_years)[0]
    d_price = book.delta(new_spots, book.iv, book.t_years)
    blocks = []
    for shock in iv_shocks_pts:
        sigma = np.maximum(book.iv + float(shock) / 100.0, 1e-4)
        d_vol = book.delta(new_spots, sigma, book.t_years) if shock else d_price
        d_time = book.delta(new_spots, sigma, t_later) if hours_to_close else d_vol
        blocks.append(
            pd.DataFrame(
                {
                    "iv_shock_pts": float(shock),
                    "move_pct": moves,
                    "spot": new_spots,
                    "dealer_gamma_usd": -(d_price - d0) * new_spots,
                    "dealer_vanna_usd": -(d_vol - d_price) * new_spots,
                    "dealer_charm_usd": -(d_time - d_vol) * new_spots,
                }
            )
        )
    return pd.concat(blocks, ignore_index=True)


def underlying_moves(
    index_moves_pct: Sequence[float] | np.ndarray,
    betas: Mapping[str, float],
    underlyings: Sequence[str],
    default_beta: float = 1.0,
) -> pd.DataFrame:
    """Map index moves (percent) to each underlying by its beta: ``move_u = beta_u * index_move``.

    Returns a frame indexed by the index move with one column per underlying (percent).
    Underlyings without a configured beta use ``default_beta``.  Raises
    :class:`flows.errors.InputError` naming the underlying, its beta and the index move when a
    mapped move leaves ``scenario.move_pct`` (-100..+100 %, :data:`flows.limits.LIMITS`): a price
    cannot fall more than 100 %, and +225 % for one name is a broken scenario, not a stress.
    """
    idx = pd.Index(np.asarray(index_moves_pct, dtype=np.float64), name="index_move_pct")
    data = {u: idx.to_numpy() * float(betas.get(u, default_beta)) for u in underlyings}
    lim = LIMITS["scenario.move_pct"]
    for u, moved in data.items():
        bad = (moved < (lim.low if lim.low is not None else -np.inf)) | (
            moved > (lim.high if lim.high is not None else np.inf)
        )
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                "scenario",
                "move_pct",
                f"{u}: beta {float(betas.get(u, default_beta)):g} x index move {idx[i]:+g}% = {moved[i]:+g}%, outside [{lim.low:g}, {lim.high:g}] {lim.unit}",
            )
    return pd.DataFrame(data, index=idx)


def scenario_grid(
    books: Mapping[str, DealerBook],
    letf_funds: pd.DataFrame | None,
    index_moves_pct: Sequence[float],
    betas: Mapping[str, float],
    *,
    iv_shocks_pts: Sequence[float] = (0.0,),
    hours_to_close: float = 0.0,
    adv_usd: Mapping[str, float] | None = None,
    default_beta: float = 1.0,
    underlyings: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mechanical flow per underlying for every (index move, IV shock), long format.

    Parameters
    ----------
    books:
        Dealer books by underlying (see :func:`dealer_book`); may be empty.
    letf_funds:
        The ``funds`` table of the leveraged-ETF result (``underlying``, ``per_1pct_usd``), or None.
    index_moves_pct, betas, default_beta:
        The index move grid (percent) and the beta of each underlying to it.
    iv_shocks_pts, hours_to_close:
        IV shocks (vol points) and time to the close (hours) applied in every scenario.
    adv_usd:
        Average daily dollar volume per underlying (USD) for the ``total_pct_adv`` column.
    underlyings:
        Rows to produce (default: every underlying with a dealer book or leveraged-ETF funds).

    Returns
    -------
    DataFrame
        ``index_move_pct``, ``iv_shock_pts``, ``underlying``, ``beta``, ``move_pct``, the four
        :data:`COMPONENTS`, ``total_usd``, ``adv_usd``, ``total_pct_adv``.
    """
    letf_under = (
        []
        if letf_funds is None or letf_funds.empty
        else list(pd.unique(letf_funds["underlying"].astype(str)))
    )
    names = list(underlyings) if underlyings is not None else sorted(set(books) | set(letf_under))
    moves = underlying_moves(index_moves_pct, betas, names, default_beta)
    letf_part = (
        scenario_flows(letf_funds, moves)
        if letf_under
        else pd.DataFrame(0.0, index=moves.index, columns=names)
    )
    dealer = {
        u: dealer_flows(
            books[u],
            moves[u].to_numpy(),
            iv_shocks_pts=iv_shocks_pts,
            hours_to_close=hours_to_close,
        )
        for u in names
        if u in books
    }
    frames = []
    for k, shock in enumerate(iv_shocks_pts):
        for u in names:
            m = moves[u].to_numpy()
            block = pd.DataFrame(
                {
                    "index_move_pct": moves.index.to_numpy(),
                    "iv_shock_pts": float(shock),
                    "underlying": u,
                    "beta": float(betas.get(u, default_beta)),
                    "move_pct": m,
                }
            )
            for col in COMPONENTS[:3]:
                block[col] = (
                    dealer[u][col].to_numpy()[k * m.size : (k + 1) * m.size] if u in dealer else 0.0
                )
            block["letf_usd"] = letf_part[u].to_numpy() if u in letf_part.columns else 0.0
            frames.append(block)
    if not frames:
        return pd.DataFrame(
            columns=[
                "index_move_pct",
                "iv_shock_pts",
                "underlying",
                "beta",
                "move_pct",
                *COMPONENTS,
                "total_usd",
                "adv_usd",
                "total_pct_adv",
            ]
        )
    grid = pd.concat(frames, ignore_index=True)
    grid["total_usd"] = grid[list(COMPONENTS)].sum(axis=1)
    adv = pd.Series(dict(adv_usd or {}), dtype=float)
    grid["adv_usd"] = grid["underlying"].map(adv).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        grid["total_pct_adv"] = np.where(
            grid["adv_usd"] > 0, grid["total_usd"] / grid["adv_usd"] * 100.0, np.nan
        )
    grid["underlying"] = grid["underlying"].astype(str)
    return grid


def totals(grid: pd.DataFrame) -> pd.DataFrame:
    """Sum of every component and the total over underlyings, per (index move, IV shock)."""
    cols = [*COMPONENTS, "total_usd"]
    return grid.groupby(["index_move_pct", "iv_shock_pts"], as_index=False, sort=True)[cols].sum()


DEALER_COMPONENTS = ("dealer_gamma_usd", "dealer_vanna_usd", "dealer_charm_usd")
"""The dealers' components of a scenario (hedging of the price move, the IV shock, the decay)."""


def dealer_sign_changes(
    totals_frame: pd.DataFrame, *, iv_shock_pts: float = 0.0
) -> tuple[float | None, float | None]:
    """Index moves (%) where the dealers' flow changes sign away from today's level.

    The dealers' flow (the sum of :data:`DEALER_COMPONENTS`, USD, + = buy) is 0 at a 0 % move and
    changes sign there by construction; a further change on one side means the index crossed a
    gamma flip: past it the dealers hedge the other way.  Returns ``(down, up)``: on the side of
    falls and of rises, the sign change nearest to 0 %, linearly interpolated between grid moves
    (``m0 + (m1 - m0) * v0 / (v0 - v1)``), None when the flow keeps one sign on that side.
    ``totals_frame``: the :func:`totals` table (columns ``index_move_pct``, ``iv_shock_pts`` and
    the components).
    """
    t = totals_frame[np.isclose(totals_frame["iv_shock_pts"], iv_shock_pts)].sort_values(
        "index_move_pct"
    )
    moves = t["index_move_pct"].to_numpy(dtype=float)
    flow = t[list(DEALER_COMPONENTS)].to_numpy(dtype=float).sum(axis=1)
    out: list[float | None] = []
    for side, away in ((moves < 0, slice(None, None, -1)), (moves > 0, slice(None))):
        m, v = moves[side][away], flow[side][away]  # walk away from 0 %, nearest move first
        sign = np.sign(v)
        cross = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
        if cross.size == 0:
            out.append(None)
            continue
        i = int(cross[0])
        out.append(float(m[i] + (m[i + 1] - m[i]) * v[i] / (v[i] - v[i + 1])))
    return out[0], out[1]


def ranking(grid: pd.DataFrame, *, iv_shock_pts: float = 0.0) -> pd.DataFrame:
    """Underlyings ranked by mechanical flow per 1 % index move as % of ADV (largest first).

    Flow per 1 % = half the difference between the +1 % and -1 % index scenarios (a centred
    slope; falls back to the nearest grid moves when +-1 % are not on the grid).
    """
    g = grid[np.isclose(grid["iv_shock_pts"], iv_shock_pts)]
    moves = np.sort(g["index_move_pct"].unique())
    if moves.size == 0:
        return pd.DataFrame(
            columns=["underlying", "beta", "flow_per_1pct_usd", "adv_usd", "flow_per_1pct_pct_adv"]
        )
    up = moves[moves > 0].min() if (moves > 0).any() else moves.max()
    down = moves[moves < 0].max() if (moves < 0).any() else moves.min()
    width = up - down if up != down else 1.0
    up_rows = g[g["index_move_pct"] == up].set_index("underlying")
    down_rows = g[g["index_move_pct"] == down].set_index("underlying")
    per1 = (up_rows["total_usd"] - down_rows["total_usd"]) / width
    out = pd.DataFrame(
        {
            "underlying": per1.index.astype(str),
            "beta": up_rows["beta"].to_numpy(),
            "flow_per_1pct_usd": per1.to_numpy(),
            "adv_usd": up_rows["adv_usd"].to_numpy(),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["flow_per_1pct_pct_adv"] = np.where(
            out["adv_usd"] > 0, out["flow_per_1pct_usd"] / out["adv_usd"] * 100.0, np.nan
        )
    order = np.argsort(
        -np.nan_to_num(np.abs(out["flow_per_1pct_pct_adv"].to_numpy()), nan=-1.0), kind="stable"
    )
    return out.iloc[order].reset_index(drop=True)


def regime_flags(
    grid: pd.DataFrame,
    gamma_headlines: Mapping[str, Mapping[str, object]],
    *,
    index_move_pct: float = -3.0,
    flip_proximity_pct: float = 1.0,
    letf_adv_threshold_pct: float = 5.0,
    move_label: str | None = None,
) -> pd.DataFrame:
    """Where flows feed on themselves, for the scenario ``index_move_pct`` (no IV shock).

    ``move_label`` names the move in the messages (``"SPX -3%"`` for explicit moves); default
    ``"an index move of -3%"``.  Levels are written by :func:`flows.formatting.format_value`.

    Flags (``kind``):
    * ``amplifying``: dealers short gamma (net GEX < 0) and leveraged ETFs trade in the same
      direction as the dealers' hedge (both sell into a fall / buy into a rise).
    * ``near_flip``: spot within ``flip_proximity_pct`` percent of its gamma flip.
    * ``letf_heavy``: leveraged-ETF trade above ``letf_adv_threshold_pct`` percent of ADV.
    Returns ``kind``, ``underlying``, ``severity`` and ``message``.
    """
    rows: list[dict[str, object]] = []
    where = move_label or f"an index move of {index_move_pct:+g}%"
    sel = grid[
        np.isclose(grid["iv_shock_pts"], 0.0) & np.isclose(grid["index_move_pct"], index_move_pct)
    ].set_index("underlying")
    for u, head in gamma_headlines.items():
        net = head.get("net_gex_usd_per_1pct")
        dist = head.get("flip_distance_pct")
        if u in sel.index and isinstance(net, int | float) and net < 0:
            d, lf = float(sel.at[u, "dealer_gamma_usd"]), float(sel.at[u, "letf_usd"])
            if d * lf > 0:
                rows.append(
                    {
                        "kind": "amplifying",
                        "underlying": u,
                        "severity": "critical",
                        "message": f"{u}: dealers short gamma and leveraged ETFs trade the same way at {where} (dealers {format_usd(d, scale='bn', style='code')}, LETFs {format_usd(lf, scale='bn', style='code')})",
                    }
                )
        if isinstance(dist, int | float) and abs(dist) <= flip_proximity_pct:
            rows.append(
                {
                    "kind": "near_flip",
                    "underlying": u,
                    "severity": "warning",
                    "message": f"{u}: spot is {dist:+.2f}% from its gamma flip ({format_value(head.get('flip'), Unit.PRICE)})",
                }
            )
    if "letf_usd" in sel.columns:
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = sel["letf_usd"] / sel["adv_usd"] * 100.0
        for u, p in pct.items():
            if np.isfinite(p) and abs(p) > letf_adv_threshold_pct:
                rows.append(
                    {
                        "kind": "letf_heavy",
                        "underlying": str(u),
                        "severity": "warning",
                        "message": f"{u}: leveraged-ETF rebalance is {p:+.1f}% of ADV at {where}",
                    }
                )
    return pd.DataFrame(rows, columns=["kind", "underlying", "severity", "message"]).astype(str)
