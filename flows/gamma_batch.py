"""Dealer gamma of many option chains in one vectorised pass (the listed-options universe).

:func:`flows.gamma.analyze` costs a fixed ~85 ms per chain (tables, two conventions, the whole
hedge grid, charm, the sensitivity table), which dominates a universe of 5,000 chains whose
median has ~120 contracts.  :func:`analyze_batch` takes the chains concatenated (one contracts
frame with a ``chain`` group index, :class:`ChainBatch`) and returns one row per chain with the
headline figures the universe table needs, computed by the same formulas, on the same
per-contract quantities, with the same kernels as :func:`flows.gamma.analyze`:

* spot GEX ``sum w * gamma * m * U**2 * 0.01`` (USD per 1 % move; the source's gamma where
  positive, else BSM at the file's or the solved IV), its call and put parts, gross ``sum |GEX|``,
  the 0DTE share of gross and the modelled-gamma share of gross;
* walls from spot GEX by strike (largest ``|call GEX|``, ``|put GEX|``, their sum);
* the flip: every sign change of the model profile over ``S * [1 - window, 1 + window]``
  (``n_points`` points), refined by bisection to ``FLIP_TOL_FRACTION * S``, the nearest to spot;
* the dealers' hedge trade for a -3 % and a +3 % move, full re-pricing
  ``-(D(S') - D(S)) * S'`` (USD, + = dealers buy).

Every figure equals :func:`flows.gamma.analyze`'s headline to 1e-9 relative (tests compare them
on the real chains and on random small chains).  What is batched: every per-contract quantity is
one numpy pass over all contracts; group sums are ``bincount`` over the chain index; the profile
is evaluated in cache-sized blocks of contracts x spots whose rows are summed per (chain, option
type) segment with ``add.reduceat``; the flips of all chains are found and bisected together.

Chains the batched path does not model (an alive futures-priced root such as VIX options, an
adjusted series with a deliverable, or a dealer-position column) are returned in
:attr:`BatchReport.fallback`: the caller analyses them one by one with
:func:`flows.gamma.analyze` (:func:`analyze_chains` does so).  Chains the per-chain engine would
refuse (a spot outside the listed strikes, every contract settled or excluded, no IV anywhere,
a spot more than 25 % away from put-call parity, ...) are in :attr:`BatchReport.failed` with the
source, field and reason.

Pure: no I/O, no clock, no configuration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from flows import products
from flows.chain import DEALER_POSITION_COLUMN, EXCHANGE_TZ, UNREADABLE_COLUMN, Chain
from flows.errors import InputError
from flows.gamma import (
    _CHUNK_ELEMENTS,
    _PCT,
    D1_CUTOFF,
    FLIP_NOISE_FRACTION,
    FLIP_TOL_FRACTION,
    GammaParams,
    _Book,
    _check_params,
    _local_days,
    _make_model,
    _mids,
    _Model,
    _resolve_iv,
    _spot_parity_warning,
    analyze,
    gamma_regime,
    year_fractions,
)
from flows.greeks import dealer_delta
from flows.schema import CHAIN_COLUMNS

ROW_COLUMNS = (
    "underlying",
    "spot",
    "as_of",
    "source",
    "contracts",
    "net_gex_usd_per_1pct",
    "call_gex_usd_per_1pct",
    "put_gex_usd_per_1pct",
    "gross_gex_usd_per_1pct",
    "zero_dte_share",
    "modelled_gamma_share",
    "regime",
    "flip",
    "flip_distance_pct",
    "call_wall",
    "put_wall",
    "abs_gamma_strike",
    "hedge_flow_down3_usd",
    "hedge_flow_up3_usd",
)
"""Columns of :attr:`BatchReport.table`, named as the keys of :func:`flows.gamma.analyze`'s
headline (units: price columns in the underlying's units, ``*_usd_per_1pct`` USD per 1 % move,
``*_usd`` USD with + = dealers buy, ``*_share`` fraction of gross GEX, ``flip_distance_pct``
percent of spot, ``as_of`` UTC time)."""

HEDGE_MOVES_PCT = (-3.0, 3.0)
"""Moves of the two hedge-flow columns, percent."""


@dataclass
class ChainBatch:
    """Many chain snapshots concatenated.

    Attributes
    ----------
    underlying, spot, as_of, source:
        Per chain (length ``G``): ticker, spot (underlying price units), snapshot time (tz-aware
        UTC ``DatetimeIndex``), source label.
    contracts:
        Every chain's contracts (:data:`flows.schema.CHAIN_COLUMNS`, optionally
        :data:`flows.chain.UNREADABLE_COLUMN`) plus ``chain`` (int, 0..G-1), grouped: the rows of
        a chain are contiguous and chains appear in ascending order.
    q:
        Dividend yield per chain, fraction per year (default: the params' ``q`` for every chain).
    """

    underlying: np.ndarray
    spot: np.ndarray
    as_of: pd.DatetimeIndex
    source: np.ndarray
    contracts: pd.DataFrame
    q: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.underlying)

    @classmethod
    def from_chains(cls, chains: Sequence[Chain], q: Sequence[float] | None = None) -> ChainBatch:
        """Concatenate ``chains`` (order kept)."""
        frames = []
        for i, ch in enumerate(chains):
            c = ch.contracts.copy()
            c["chain"] = np.int32(i)
            frames.append(c)
        contracts = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame({c: [] for c in (*CHAIN_COLUMNS, "chain")})
        )
        return cls(
            underlying=np.array([c.underlying for c in chains], dtype=object),
            spot=np.array([float(c.spot) for c in chains], dtype=np.float64),
            as_of=pd.DatetimeIndex([pd.Timestamp(c.as_of).tz_convert("UTC") for c in chains]),
            source=np.array([c.source for c in chains], dtype=object),
            contracts=contracts,
            q=None if q is None else np.asarray(q, dtype=np.float64),
        )

    def bounds(self) -> np.ndarray:
        """Row offsets of each chain in ``contracts``: chain ``g`` is rows ``[b[g], b[g+1])``."""
        return np.searchsorted(self.contracts["chain"].to_numpy(), np.arange(len(self) + 1))

    def chain(self, g: int) -> Chain:
        """Chain ``g`` as a :class:`flows.chain.Chain` (for the per-chain engine)."""
        b = self.bounds()
        c = self.contracts.iloc[b[g] : b[g + 1]].drop(columns="chain").reset_index(drop=True)
        return Chain(
            underlying=str(self.underlying[g]),
            spot=float(self.spot[g]),
            as_of=self.as_of[g],
            source=str(self.source[g]),
            contracts=c,
        )


@dataclass
class BatchReport:
    """Output of :func:`analyze_batch`.

    ``table``: one row per analysed chain, :data:`ROW_COLUMNS` (NaN where the per-chain headline
    has ``None``: no flip, no wall); ``chain`` gives the chain's index in the batch.
    ``failed``: ``chain``, ``underlying``, ``source``, ``field``, ``reason`` of the chains refused.
    ``fallback``: indices of the chains to analyse with :func:`flows.gamma.analyze`.
    """

    table: pd.DataFrame
    failed: pd.DataFrame
    fallback: list[int] = field(default_factory=list)


def _failed_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["chain", "underlying", "source", "field", "reason"]).astype(
        {"chain": "int64", "underlying": "str", "source": "str", "field": "str", "reason": "str"}
    )


def _classify(
    batch: ChainBatch,
    root_codes: np.ndarray,
    roots: Sequence[str],
    group: np.ndarray,
    params: GammaParams,
) -> dict[str, np.ndarray]:
    """Per-contract product classification (:func:`flows.products.classify_roots`) for every
    distinct (chain underlying, root) pair; a root equal to its plain underlying (the common
    single-name case) is standard with ratio 1 without a table lookup."""
    deliverables = {str(k).upper(): v for k, v in params.deliverables.items()}
    u_codes, u_names = pd.factorize(pd.Series(batch.underlying, dtype=object))
    pair = u_codes[group].astype(np.int64) * len(roots) + root_codes
    pairs, inv = np.unique(pair, return_inverse=True)
    n = pairs.size
    out = {
        "status": np.empty(n, dtype=object),
        "units": np.full(n, products.STANDARD_MULTIPLIER),
        "level_ratio": np.ones(n),
        "forward_priced": np.zeros(n, dtype=bool),
        "reason": np.full(n, "", dtype=object),
    }
    for k, p in enumerate(pairs):
        u = str(u_names[p // len(roots)])
        r = str(roots[p % len(roots)]).upper()
        if (
            r == u.upper()
            and r not in products.PRODUCTS
            and r not in deliverables
            and not products.is_adjusted_root(r)
        ):
            out["status"][k] = products.STATUS_STANDARD
            continue
        rec = products.classify_roots([r], u, deliverables).iloc[0]
        for col in out:
            out[col][k] = rec[col]
    return {col: vals[inv] for col, vals in out.items()}


def analyze_batch(batch: ChainBatch, params: GammaParams) -> BatchReport:
    """Headline dealer-gamma figures of every chain of ``batch`` (see the module docstring).

    ``params`` as for :func:`flows.gamma.analyze` (``r``, ``q`` unless ``batch.q`` is given,
    ``convention`` = ``calls_long_puts_short`` or ``short_all``, ``time_basis``, ``window``,
    ``n_points``, ``calendar``, ``deliverables``); ``moves_pct``, ``iv_shock_points``,
    ``next_close`` and ``consistency_factor`` play no part in these figures.

    Raises
    ------
    InputError
        Bad parameters, or ``convention = source_position`` (a per-chain convention).
    """
    _check_params(params)
    if params.convention == "source_position":
        raise InputError(
            "gamma params",
            "convention",
            "the batched engine models calls_long_puts_short or short_all; use flows.gamma.analyze for source_position",
        )
    G = len(batch)
    c = batch.contracts
    failed: list[dict[str, object]] = []
    fallback: list[int] = []
    if G == 0:
        return BatchReport(pd.DataFrame(columns=[*ROW_COLUMNS, "chain"]), _failed_frame([]), [])
    group = c["chain"].to_numpy(dtype=np.int64)
    S_g = batch.spot.astype(np.float64)
    q_g = np.full(G, float(params.q)) if batch.q is None else np.asarray(batch.q, dtype=np.float64)
    r = float(params.r)
    asof_ns = batch.as_of.as_unit("ns").asi8
    bad = np.zeros(G, dtype=bool)

    def refuse(mask_g: np.ndarray, fld: str, why: str | Callable[[int], str]) -> None:
        for g in np.flatnonzero(mask_g & ~bad).tolist():
            failed.append(
                {
                    "chain": int(g),
                    "underlying": str(batch.underlying[g]),
                    "source": str(batch.source[g]),
                    "field": fld,
                    "reason": why(g) if callable(why) else why,
                }
            )
        bad[mask_g] = True

    # -- validate_chain, per chain, vectorised
    n_g = np.bincount(group, minlength=G)
    refuse(
        ~(np.isfinite(S_g) & (S_g > 0)),
        "spot",
        lambda g: f"spot must be a finite positive price, got {S_g[g]!r}",
    )
    refuse(n_g == 0, "contracts", "empty chain: no option rows")
    dup = pd.DataFrame({"g": group, "s": c["symbol"].to_numpy()}).duplicated().to_numpy()
    refuse(np.bincount(group[dup], minlength=G) > 0, "symbol", "duplicate option symbols")
    oi_all = c["open_interest"].to_numpy(dtype=np.float64, na_value=np.nan)
    refuse(
        np.bincount(group[np.isnan(oi_all)], minlength=G) > 0,
        "open_interest",
        "contracts with missing open interest",
    )
    refuse(
        np.bincount(group[oi_all < 0], minlength=G) > 0,
        "open_interest",
        "contracts with negative open interest",
    )
    settle_ns_all = pd.DatetimeIndex(c["settle_time"]).as_unit("ns").asi8
    nat = settle_ns_all == np.iinfo(np.int64).min
    refuse(
        np.bincount(group[nat], minlength=G) > 0,
        "settle_time",
        "contracts without a settlement instant",
    )
    strike_all = c["strike"].to_numpy(dtype=np.float64, na_value=np.nan)
    refuse(
        np.bincount(group[~(np.isfinite(strike_all) & (strike_all > 0))], minlength=G) > 0,
        "strike",
        "strikes must be finite and positive",
    )
    iv_all = c["iv"].to_numpy(dtype=np.float64, na_value=np.nan)
    bid_all = c["bid"].to_numpy(dtype=np.float64, na_value=np.nan)
    ask_all = c["ask"].to_numpy(dtype=np.float64, na_value=np.nan)
    usable = (np.nan_to_num(iv_all) > 0) | np.isfinite(_mids(bid_all, ask_all))
    refuse(
        np.bincount(group[usable], minlength=G) == 0,
        "iv",
        "implied volatility is zero or missing on every contract, and no contract has a "
        "quote (ask > 0, 0 <= bid <= ask) to solve it from",
    )

    # -- products
    root_codes, roots = pd.factorize(c["root"])
    cls = _classify(batch, root_codes, list(roots), group, params)
    status = cls["status"]
    units_all = cls["units"].astype(np.float64)
    ratio_all = cls["level_ratio"].astype(np.float64)
    fwd_all = cls["forward_priced"].astype(bool)
    excluded = np.isin(status, [products.STATUS_NONSTANDARD, products.STATUS_OTHER_UNDERLYING])
    deliv = status == products.STATUS_DELIVERABLE
    settled = settle_ns_all <= asof_ns[group]
    alive = ~settled & ~excluded & ~bad[group]

    # chains the batched path leaves to the per-chain engine
    special = np.bincount(group[alive & (fwd_all | deliv)], minlength=G) > 0
    if DEALER_POSITION_COLUMN in c.columns:
        special |= np.bincount(group[c[DEALER_POSITION_COLUMN].notna().to_numpy()], minlength=G) > 0
    fallback = [int(g) for g in np.flatnonzero(special & ~bad)]
    bad_or_special = bad | special

    # spot against the listed strikes of the contracts on the spot itself
    on_spot = ~excluded & ~fwd_all & ~bad_or_special[group]
    x_on = np.where(on_spot, strike_all / ratio_all, np.nan)
    lo = np.full(G, np.inf)
    hi = np.full(G, -np.inf)
    np.minimum.at(lo, group[on_spot], x_on[on_spot])
    np.maximum.at(hi, group[on_spot], x_on[on_spot])
    has_on = np.bincount(group[on_spot], minlength=G) > 0
    refuse(
        has_on & ~((lo <= S_g) & (S_g <= hi)) & ~bad_or_special,
        "spot",
        lambda g: (
            f"spot {S_g[g]:g} lies outside the listed strikes {lo[g]:g}..{hi[g]:g} of the chain's contracts: a wrong spot or the wrong underlying (limit option.spot)"
        ),
    )
    alive &= ~bad[group] & ~special[group]
    n_alive = np.bincount(group[alive], minlength=G)
    live_excl = excluded & ~settled
    refuse(
        (n_alive == 0) & (np.bincount(group[live_excl], minlength=G) > 0) & ~special,
        "root",
        "no contract can be modelled: every live contract is excluded",
    )
    refuse(
        (n_alive == 0) & ~special,
        "expiry",
        lambda g: f"every contract settled at or before the snapshot {batch.as_of[g].isoformat()}",
    )
    alive &= ~bad[group]

    # -- per contract (alive), every chain at once
    ia = np.flatnonzero(alive)
    g = group[ia]
    S = S_g[g]
    q = q_g[g]
    settle_a = settle_ns_all[ia]
    settle_days = _local_days(settle_a)
    K = strike_all[ia]
    units = units_all[ia]
    ratio = ratio_all[ia]
    is_call = c["type"].to_numpy()[ia] == "C"
    oi = oi_all[ia]
    gamma_file = c["gamma"].to_numpy(dtype=np.float64, na_value=np.nan)[ia]
    bid = c["bid"].to_numpy(dtype=np.float64, na_value=np.nan)[ia]
    ask = c["ask"].to_numpy(dtype=np.float64, na_value=np.nan)[ia]
    unreadable = (
        c[UNREADABLE_COLUMN].to_numpy(dtype=bool, na_value=False)[ia]
        if UNREADABLE_COLUMN in c.columns
        else np.zeros(ia.size, dtype=bool)
    )
    T = _year_fractions(settle_a, settle_days, asof_ns, g, params.time_basis)
    U = ratio * S
    w = np.where(is_call, oi, -oi) if params.convention == "calls_long_puts_short" else -oi
    has_pos = oi != 0  # both public conventions weigh every contract by its open interest
    mid_unit = _mids(bid, ask) * products.STANDARD_MULTIPLIER / units
    iv_used, _code = _resolve_iv(iv_all[ia], mid_unit, U, K, T, r, q, is_call)
    mset = has_pos & np.isfinite(iv_used) & (iv_used > 0) & (T > 0)
    mi = np.flatnonzero(mset)
    book = _Book(
        U=U[mi],
        K=K[mi],
        T=T[mi],
        sigma=iv_used[mi],
        q=q[mi],
        scale=units[mi] * U[mi] / S[mi],
        is_call=is_call[mi],
    )
    model = _make_model(
        1.0, book, r, np.zeros((0, mi.size))
    )  # d0, b, c per contract (S only scales)
    gamma_model = np.full(ia.size, np.nan)
    gamma_model[mi] = (
        np.exp(-book.q * book.T)
        * (1.0 / math.sqrt(2.0 * math.pi))
        * np.exp(-0.5 * model.d0 * model.d0)
        * model.b
        / book.U
    )
    use_file = np.isfinite(gamma_file) & (gamma_file > 0)
    use_model = ~use_file & mset
    gamma_used = np.where(use_file, gamma_file, np.where(use_model, gamma_model, 0.0))
    lost = has_pos & ~use_file & ~use_model
    keep = ~lost
    scale_1pct = units * U * U * _PCT
    gex = w * gamma_used * scale_1pct

    # spot vs put-call parity (a refusal beyond 25 %): per chain, on its own contracts
    bounds = np.searchsorted(g, np.arange(G + 1))
    std = ~unreadable  # no deliverable or futures-priced contract is left here
    for k in np.flatnonzero(n_alive > 0):
        sl = slice(bounds[k], bounds[k + 1])
        try:
            _spot_parity_warning(
                float(S_g[k]),
                std[sl],
                settle_a[sl],
                K[sl],
                is_call[sl],
                bid[sl],
                ask[sl],
                T[sl],
                ratio[sl],
                r,
                float(q_g[k]),
                str(batch.source[k]),
            )
        except InputError as exc:
            refuse(np.arange(G) == k, exc.field or "spot", exc.reason)

    # -- sums per chain
    def gsum(values: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=values, minlength=G)

    call_gex = gsum(np.where(is_call, gex, 0.0))
    put_gex = gsum(np.where(is_call, 0.0, gex))
    abs_gex = np.abs(gex)
    gross = gsum(abs_gex)
    snap_day = _snap_days(batch.as_of)
    zero_dte = settle_days == snap_day[g]
    with np.errstate(invalid="ignore", divide="ignore"):
        zero_dte_share = np.where(gross > 0, gsum(np.where(zero_dte, abs_gex, 0.0)) / gross, 0.0)
        modelled_share = np.where(gross > 0, gsum(np.where(use_model, abs_gex, 0.0)) / gross, 0.0)
    n_keep = np.bincount(g[keep], minlength=G)

    # -- walls: spot GEX by (chain, strike in the chain's underlying's units) of kept contracts
    call_wall, put_wall, abs_wall = _walls(
        g[keep],
        (K / ratio)[keep],
        np.where(is_call, gex, 0.0)[keep],
        np.where(is_call, 0.0, gex)[keep],
        G,
    )

    # -- profile and flips (model set), and the hedge trades for -3 % / +3 %
    flip = _flips(g[mi], book, model, w[mi], is_call[mi], S_g, G, params, n_alive > 0)
    trades = _hedge_trades(g[mi], book, w[mi], S_g, G, r)

    ok = ~bad & ~special
    idx = np.flatnonzero(ok)
    net = call_gex + put_gex
    with np.errstate(invalid="ignore"):
        dist = (flip / S_g - 1.0) * 100.0
    table = pd.DataFrame(
        {
            "underlying": pd.Series(batch.underlying[idx], dtype="str"),
            "spot": S_g[idx],
            "as_of": batch.as_of[idx],
            "source": pd.Series(batch.source[idx], dtype="str"),
            "contracts": n_keep[idx].astype(np.int64),
            "net_gex_usd_per_1pct": net[idx],
            "call_gex_usd_per_1pct": call_gex[idx],
            "put_gex_usd_per_1pct": put_gex[idx],
            "gross_gex_usd_per_1pct": gross[idx],
            "zero_dte_share": zero_dte_share[idx],
            "modelled_gamma_share": modelled_share[idx],
            "regime": pd.Series(gamma_regime(net[idx], gross[idx]), dtype="str"),
            "flip": flip[idx],
            "flip_distance_pct": dist[idx],
            "call_wall": call_wall[idx],
            "put_wall": put_wall[idx],
            "abs_gamma_strike": abs_wall[idx],
            "hedge_flow_down3_usd": trades[0][idx],
            "hedge_flow_up3_usd": trades[1][idx],
            "chain": idx.astype(np.int64),
        }
    )
    return BatchReport(table=table, failed=_failed_frame(failed), fallback=fallback)


def _year_fractions(
    settle_ns: np.ndarray, settle_days: np.ndarray, asof_ns: np.ndarray, g: np.ndarray, basis: str
) -> np.ndarray:
    """:func:`flows.gamma.year_fractions` with each chain's own snapshot time."""
    if basis == "calendar":
        out: np.ndarray = (settle_ns - asof_ns[g]) / 1e9 / (365.0 * 86400.0)
        return out
    out = np.empty(settle_ns.size)
    for ts in np.unique(asof_ns[g]):  # few distinct snapshot times: one call each
        m = asof_ns[g] == ts
        out[m] = year_fractions(
            settle_ns[m], settle_days[m], pd.Timestamp(int(ts), tz="UTC"), basis
        )
    return out


def _snap_days(as_of: pd.DatetimeIndex) -> np.ndarray:
    """The exchange-local date of each snapshot (``datetime64[D]``)."""
    days: np.ndarray = (
        as_of.tz_convert(EXCHANGE_TZ)
        .tz_localize(None)
        .normalize()
        .to_numpy()
        .astype("datetime64[D]")
    )
    return days


def _walls(
    g: np.ndarray, strike: np.ndarray, call_part: np.ndarray, put_part: np.ndarray, G: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Call wall, put wall and absolute-gamma strike per chain (NaN where none is positive).

    Sums per (chain, strike) with ``bincount`` in the contracts' own order (the per-chain engine's
    sums, bit for bit); the wall is the first strike (ascending) of the chain's largest value.
    """
    out = [np.full(G, np.nan) for _ in range(3)]
    if g.size == 0:
        return out[0], out[1], out[2]
    order = np.lexsort((strike, g))
    gs, ks = g[order], strike[order]
    new = np.ones(gs.size, dtype=bool)
    new[1:] = (gs[1:] != gs[:-1]) | (ks[1:] != ks[:-1])
    pair_id = np.empty(gs.size, dtype=np.int64)
    pair_id[order] = np.cumsum(new) - 1
    n_pairs = int(new.sum())
    pair_g, pair_k = gs[new], ks[new]
    call = np.abs(np.bincount(pair_id, weights=call_part, minlength=n_pairs))
    put = np.abs(np.bincount(pair_id, weights=put_part, minlength=n_pairs))
    starts = np.flatnonzero(np.r_[True, pair_g[1:] != pair_g[:-1]])
    chains = pair_g[starts]
    for dest, values in zip(out, (call, put, call + put), strict=True):
        best = np.maximum.reduceat(values, starts)
        at_best = values == np.repeat(best, np.diff(np.r_[starts, values.size]))
        first = np.flatnonzero(at_best)
        first = first[np.r_[True, pair_g[first][1:] != pair_g[first][:-1]]]
        pos = best > 0
        dest[chains[pos]] = pair_k[first][pos]
    return out[0], out[1], out[2]


def _hedge_trades(
    g: np.ndarray, book: _Book, w: np.ndarray, S_g: np.ndarray, G: int, r: float
) -> tuple[np.ndarray, np.ndarray]:
    """Dealer trade ``-(D(S') - D(S)) * S'`` for each move of :data:`HEDGE_MOVES_PCT`, per chain.

    ``D(s)`` is :func:`flows.greeks.dealer_delta` of each chain's book (weights ``w * m * U/S``),
    all books at once (its ``groups`` mode, spots relative to each chain's spot).
    """
    rel = np.concatenate([[1.0], 1.0 + np.asarray(HEDGE_MOVES_PCT) / 100.0])
    D = dealer_delta(
        rel,
        1.0,
        book.U,
        book.K,
        book.T,
        book.sigma,
        r,
        book.q,
        book.is_call,
        w * book.scale,
        groups=g,
        n_groups=G,
    )
    new_spots = S_g[:, None] * rel[None, 1:]
    trade = -(D[:, 1:] - D[:, :1]) * new_spots
    return trade[:, 0], trade[:, 1]


def _flips(
    g: np.ndarray,
    book: _Book,
    model: _Model,
    w: np.ndarray,
    is_call: np.ndarray,
    S_g: np.ndarray,
    G: int,
    params: GammaParams,
    live: np.ndarray,
) -> np.ndarray:
    """The flip nearest spot per chain (NaN without one): :func:`flows.gamma.find_flips` on each
    chain's model profile, every chain at once."""
    flip = np.full(G, np.nan)
    lin = np.linspace(1.0 - params.window, 1.0 + params.window, params.n_points)
    spots = S_g[:, None] * lin[None, :]  # (G, n): the per-chain grids, bit for bit
    x = np.log(lin)
    if g.size == 0:
        return flip
    # profile rows per chain: calls and puts summed separately (the noise floor), net = their sum
    order = np.lexsort((~is_call, g))  # within a chain: calls first, then puts
    go, co = g[order], is_call[order]
    d0, b = model.d0[order], model.b[order]
    wc = (w * model.c)[order]
    seg_key = go * 2 + (~co).astype(np.int64)
    keep = (d0 + b * x.min() <= D1_CUTOFF) & (d0 + b * x.max() >= -D1_CUTOFF)
    curves = np.zeros((2 * G, lin.size))
    coef = np.column_stack([-0.5 * d0 * d0, -d0 * b, -0.5 * b * b])
    powers = np.vstack([np.ones_like(x), x, x * x])
    idx = np.flatnonzero(keep)
    step = max(1, (_CHUNK_ELEMENTS * 4) // lin.size)
    for start in range(0, idx.size, step):
        sl = idx[start : start + step]
        block = coef[sl] @ powers
        np.exp(block, out=block)
        block *= wc[sl, None]
        keys = seg_key[sl]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        curves[keys[starts]] += np.add.reduceat(block, starts, axis=0)
    curves = curves.reshape(G, 2, lin.size) * spots[:, None, :]
    net = curves[:, 0] + curves[:, 1]
    noise = FLIP_NOISE_FRACTION * np.abs(curves).max(axis=(1, 2))
    sampled = np.where(np.abs(net) <= noise[:, None], 0.0, net)
    sampled[~live] = 0.0

    # sign changes between consecutive non-zero samples (find_flips), every chain at once
    sign = np.sign(sampled)
    n = lin.size
    pos = np.where(sign != 0, np.arange(n)[None, :], -1)
    prev = np.maximum.accumulate(pos, axis=1)
    prev_nz = np.concatenate([np.full((G, 1), -1), prev[:, :-1]], axis=1)  # previous non-zero index
    rows, right = np.nonzero((sign != 0) & (prev_nz >= 0))
    left = prev_nz[rows, right]
    change = sign[rows, left] != sign[rows, right]
    rows, left, right = rows[change], left[change], right[change]
    adjacent = right == left + 1
    cand_g = [rows[~adjacent]]
    cand_x = [
        0.5
        * (
            spots[rows[~adjacent], left[~adjacent] + 1]
            + spots[rows[~adjacent], right[~adjacent] - 1]
        )
    ]
    if adjacent.any():
        bg = rows[adjacent]
        a = spots[bg, left[adjacent]]
        bb = spots[bg, right[adjacent]]
        fa = sign[bg, left[adjacent]]
        tol = FLIP_TOL_FRACTION * S_g
        # contracts of each chain in model order, for evaluating the exact model at brackets
        mo = np.argsort(g, kind="stable")
        cs = np.searchsorted(g[mo], np.arange(G + 1))
        for _ in range(200):
            wide = np.bincount(bg, weights=(bb - a > tol[bg]).astype(np.float64), minlength=G) > 0
            act = wide[bg]
            if not act.any():
                break
            mid = 0.5 * (a[act] + bb[act])
            fm = _model_at(bg[act], mid, S_g, mo, cs, model, w)
            sm = np.sign(fm)
            exact = sm == 0
            go_right = (sm == fa[act]) & ~exact
            a[act] = np.where(go_right | exact, mid, a[act])
            bb[act] = np.where(go_right, bb[act], mid)
        cand_g.append(bg)
        cand_x.append(0.5 * (a + bb))
    cg = np.concatenate(cand_g)
    cx = np.concatenate(cand_x)
    if cg.size:
        dist = np.abs(cx - S_g[cg])
        best = np.lexsort((cx, dist, cg))  # per chain: nearest, then the lower one (sorted order)
        cg, cx = cg[best], cx[best]
        first = np.r_[True, cg[1:] != cg[:-1]]
        flip[cg[first]] = cx[first]
    return flip


def _model_at(
    bracket_g: np.ndarray,
    mid: np.ndarray,
    S_g: np.ndarray,
    mo: np.ndarray,
    cs: np.ndarray,
    model: _Model,
    w: np.ndarray,
) -> np.ndarray:
    """Model net GEX at ``mid`` (one spot per bracket) on the bracket's own chain, with the
    per-chain engine's cut-off (contracts beyond ``|d1| > 9`` over the chain's evaluated spots)."""
    x = np.log(mid / S_g[bracket_g])
    G = S_g.size
    xmin = np.full(G, np.inf)
    xmax = np.full(G, -np.inf)
    np.minimum.at(xmin, bracket_g, x)
    np.maximum.at(xmax, bracket_g, x)
    sizes = cs[bracket_g + 1] - cs[bracket_g]
    pair_bracket = np.repeat(np.arange(bracket_g.size), sizes)
    offsets = np.arange(pair_bracket.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    ci = mo[cs[bracket_g][pair_bracket] + offsets]
    gi = bracket_g[pair_bracket]
    d0, b = model.d0[ci], model.b[ci]
    keep = (d0 + b * xmin[gi] <= D1_CUTOFF) & (d0 + b * xmax[gi] >= -D1_CUTOFF)
    xi = x[pair_bracket]
    expo = -0.5 * d0 * d0 + (-d0 * b) * xi + (-0.5 * b * b) * (xi * xi)
    vals = np.where(keep, w[ci] * model.c[ci] * np.exp(expo), 0.0)
    out: np.ndarray = np.bincount(pair_bracket, weights=vals, minlength=bracket_g.size) * mid
    return out


def analyze_chains(
    chains: Sequence[Chain], params: GammaParams, q: Sequence[float] | None = None
) -> BatchReport:
    """:func:`analyze_batch` on ``chains``, with the fallback chains analysed one by one by
    :func:`flows.gamma.analyze` and merged into the table (rows in the chains' order)."""
    batch = ChainBatch.from_chains(chains, q)
    return complete(batch, analyze_batch(batch, params), params)


def complete(batch: ChainBatch, report: BatchReport, params: GammaParams) -> BatchReport:
    """Analyse ``report.fallback`` with :func:`flows.gamma.analyze` and merge the rows."""
    rows, failed = [], [report.failed]
    for g in report.fallback:
        chain = batch.chain(g)
        p = params if batch.q is None else _with_q(params, float(batch.q[g]))
        try:
            h = analyze(chain, p).headline
        except InputError as exc:
            failed.append(
                _failed_frame(
                    [
                        {
                            "chain": g,
                            "underlying": chain.underlying,
                            "source": chain.source,
                            "field": exc.field or "",
                            "reason": exc.reason,
                        }
                    ]
                )
            )
            continue
        row = {k: h.get(k) for k in ROW_COLUMNS}
        row["as_of"] = batch.as_of[g]
        row["chain"] = g
        rows.append(row)
    if not rows:
        return BatchReport(report.table, pd.concat(failed, ignore_index=True), [])
    extra = pd.DataFrame(rows).astype(
        {k: report.table[k].dtype for k in report.table.columns if k != "as_of"}
    )
    table = (
        pd.concat([report.table, extra], ignore_index=True)
        .sort_values("chain", kind="stable")
        .reset_index(drop=True)
    )
    return BatchReport(table, pd.concat(failed, ignore_index=True), [])


def _with_q(params: GammaParams, q: float) -> GammaParams:
    from dataclasses import replace

    return replace(params, q=q)
