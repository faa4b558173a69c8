"""Leveraged and inverse ETF rebalance flows: USD per 1% move, today's trade, scenario grid.

A daily-reset fund with net assets ``A`` (USD) and signed daily leverage ``L`` (+3, +2, -1, -3,
+1.25, ...) holds exposure ``L*A`` to its underlying.  After an underlying return ``r`` (fraction,
0.01 = +1%) since the prior close:

* its exposure has drifted to ``L*A*(1 + r)``;
* its assets are now ``A_new = A*(1 + L*r)``, so its target exposure is ``L*A_new``;
* the trade into the close is target minus drifted::

      trade = L*A*(1 + L*r) - L*A*(1 + r) = A * (L**2 - L) * r          (USD, + = buy the underlying)

``L**2 - L`` is positive for every L < 0 and every L > 1, so long and inverse funds both trade
*with* the move (buy after a rise, sell after a fall): they never offset each other.  A 1x long
fund (L = +1) never rebalances.  Worked check: a -3x fund with A = 100 and r = -10% trades
``100 * (9 + 3) * (-0.10) = -120``, i.e. it must sell 120.

If only the current (post-move) assets ``A_now = A*(1 + L*r)`` are known, the same trade is
``A_now * (L**2 - L) * r / (1 + L*r)``.  When shares outstanding changed, net creations ``C``
(USD, + = inflow) add ``L * C`` of underlying to buy.

Which funds
-----------
The trade above is the **daily** rebalance: only funds whose leverage resets every session make
it (:mod:`flows.letf_reset` gives every fund its reset period from a curated table and
documented name / family rules).  A weekly-, monthly- or quarterly-reset fund lets its exposure
drift until its reset day and then trades ``A0 * (L**2 - L) * R`` with ``A0`` its assets at the
last reset and ``R`` the underlying's return since then; options-based funds (buffer,
accelerated, capped, option income) have no leverage reset at all.  They are excluded from the
daily figures with their reset period as the reason, and their assets are reported by
:func:`excluded_aum` so that what is left out stays visible.  The reset-day trade of calendar
funds is not modelled: no source here gives the return since each fund's last reset.

Conventions used throughout this module
---------------------------------------
* Moves passed as ``ret`` / ``r`` are **fractions** (-0.10 = -10%); columns and arguments named
  ``*_pct`` are **percent** (-10 = -10%).
* ``per_1pct_usd`` = ``A * (L**2 - L) * 0.01``: USD the fund buys per +1% move of its underlying
  (it sells the same amount per -1% move).  It is linear in the move, so the trade for a move of
  ``m`` percent is ``per_1pct_usd * m``.
* Flows are USD of underlying; + = buy, - = sell.

Everything here is pure: frames and arrays in, frames out; no I/O, no clock, no config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from flows import letf_reset
from flows.errors import InputError
from flows.quality import Quality

EQUITY = "equity"
GROUPS = ("crypto", "commodity")
"""Non-equity asset classes that get their own group total instead of being dropped."""

# Exclusion reasons (the ``reason`` column of :func:`classify`).
REASON_VARIABLE = "variable or option-income leverage (no fixed daily reset)"
REASON_NO_AUM = "unknown assets"
REASON_ZERO_AUM = "zero assets"
REASON_NEG_AUM = "negative assets"
REASON_NO_LEVERAGE = "unknown leverage"
REASON_UNKNOWN_UNDERLYING = "unknown underlying (blank ticker and index not in index_proxies)"
REASON_RESET = {
    letf_reset.WEEKLY: "weekly reset: rebalances once a week, not daily (not in the daily figures)",
    letf_reset.MONTHLY: "monthly reset: rebalances on its monthly reset day only, not daily (not in the daily figures; its reset-day trade needs the return since the last reset, not modelled)",
    letf_reset.QUARTERLY: "quarterly reset: rebalances on its quarterly reset day only, not daily (not in the daily figures; its reset-day trade needs the return since the last reset, not modelled)",
    letf_reset.OPTIONS: "options-based payoff (buffer / accelerated / capped / option-income or variable leverage overlay): no daily leverage reset (not in the daily figures)",
    letf_reset.UNKNOWN: "reset period unknown (not in the curated table, no name or family rule): not in the daily figures",
}
"""Why a non-daily fund is left out, by reset class (:mod:`flows.letf_reset`)."""

# Exclusion categories (the ``exclusion`` column of :func:`classify`; rows of :func:`excluded_aum`).
EXCLUSION_SKIPPED = "input row skipped (bad data)"
CATEGORIES = {
    REASON_VARIABLE: "variable leverage",
    REASON_NO_AUM: "unknown assets",
    REASON_ZERO_AUM: "zero assets",
    REASON_NEG_AUM: "negative assets",
    REASON_NO_LEVERAGE: "unknown leverage",
    REASON_UNKNOWN_UNDERLYING: "unknown underlying",
    **{text: f"reset: {reset}" for reset, text in REASON_RESET.items()},
}
"""Short category of each exclusion reason (non-equity reasons map to ``non-equity underlying``)."""


def gamma_factor(leverage: np.ndarray | pd.Series | float) -> np.ndarray:
    """``L**2 - L`` (dimensionless): exposure to buy per unit of assets per unit of return."""
    lev = np.asarray(leverage, dtype=np.float64)
    return lev * lev - lev


def rebalance_usd(
    aum_usd: np.ndarray | pd.Series | float,
    leverage: np.ndarray | pd.Series | float,
    ret: np.ndarray | pd.Series | float,
) -> np.ndarray:
    """Required exposure change from prior-close assets: ``A * (L**2 - L) * r``.

    The formula holds while the fund survives the move (``1 + L*r > 0``).  A move at or past
    ``-1/L`` wipes the fund's net assets out: it can only unwind what it holds, so the trade is
    the liquidation of its exposure after the move, ``-L * A * (1 + r)`` (equal to the formula at
    ``r = -1/L``, continuous there; e.g. a 3x fund on a -40 % day sells ``1.8 A``, not ``2.4 A``).
    :func:`wiped_out` flags those funds.

    Parameters
    ----------
    aum_usd:
        Prior-close net assets ``A``, USD.
    leverage:
        Signed daily leverage ``L`` (negative for inverse funds).
    ret:
        Underlying return since the prior close, **fraction** (-0.10 = -10%).

    Returns
    -------
    numpy.ndarray
        USD of underlying to trade into the close; + = buy, - = sell.  Broadcasts numpy-style.
    """
    aum = np.asarray(aum_usd, dtype=float)
    lev = np.asarray(leverage, dtype=float)
    r = np.asarray(ret, dtype=float)
    usd: np.ndarray = aum * gamma_factor(lev) * r  # a float64 scalar for scalar inputs
    survives = ~(1.0 + lev * r <= 0.0)  # NaN moves keep the formula's NaN
    if np.all(survives):
        return usd
    out: np.ndarray = np.where(survives, usd, -lev * aum * (1.0 + r))
    return out


def wiped_out(
    leverage: np.ndarray | pd.Series | float, ret: np.ndarray | pd.Series | float
) -> np.ndarray:
    """True where the move ``ret`` (fraction) wipes a fund of leverage ``L`` out: ``1 + L*r <= 0``
    (a 3x fund at -33.3 %, a -1x fund at +100 %); its trade is then the liquidation of its
    exposure (:func:`rebalance_usd`)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(
            1.0 + np.asarray(leverage, dtype=float) * np.asarray(ret, dtype=float) <= 0.0
        )


def rebalance_usd_post_move(
    aum_now_usd: np.ndarray | pd.Series | float,
    leverage: np.ndarray | pd.Series | float,
    ret: np.ndarray | pd.Series | float,
) -> np.ndarray:
    """The same trade from current (post-move) assets: ``A_now * (L**2 - L) * r / (1 + L*r)``.

    ``A_now = A * (1 + L*r)``, so this equals :func:`rebalance_usd` on ``A``.  Units and sign as
    there (``ret`` a fraction, result USD, + = buy).  ``1 + L*r <= 0`` (fund wiped out) gives NaN.
    """
    lev = np.asarray(leverage, dtype=float)
    r = np.asarray(ret, dtype=float)
    denom = 1.0 + lev * r
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(aum_now_usd, dtype=float) * gamma_factor(lev) * r / denom
    return np.where(denom > 0, out, np.nan)


def creations_flow_usd(
    leverage: np.ndarray | pd.Series | float, net_creations_usd: np.ndarray | pd.Series | float
) -> np.ndarray:
    """Underlying to trade for new money: ``L * C`` (USD, + = buy).

    ``C`` is net creations in USD (+ = inflow, e.g. ``ΔSO * NAV``).  An inverse fund receiving
    inflows sells (shorts more) the underlying.
    """
    return np.asarray(leverage, dtype=np.float64) * np.asarray(net_creations_usd, dtype=np.float64)


def _norm_name(value: object) -> str:
    """Case-, space- and ``Index``-suffix-insensitive key for index names."""
    text = re.sub(r"\s+", " ", str(value)).strip().casefold()
    return re.sub(r"\s+index$", "", text)


def map_underlyings(universe: pd.DataFrame, proxies: Mapping[str, str]) -> pd.DataFrame:
    """Fill ``underlying`` with the hedge proxy where the source gives an index, not a ticker.

    ``proxies`` maps either an index *ticker* (``SPX``, ``INDU``) or an index *name* as found in
    ``underlying_asset`` (``Nasdaq-100``, ``NYSE Semiconductor Index``) to the ticker a desk hedges
    with (``SPY``, ``DIA``, ``QQQ``, ``SOXX``).  Tickers are matched exactly (upper case); names
    case-insensitively, ignoring repeated spaces and a trailing ``Index``.  A mapped ticker wins;
    then a mapped name, also beside a ticker ``proxies`` does not map (the sources give index
    codes there: ProShares' ``MXBR2550`` for the MSCI Brazil 25/50 Capped index, ``SIXM`` for the
    Financial Select Sector index; without the name their funds stood apart from the funds on the
    same index, with no quote and no volume); else the ticker itself.  Adds
    ``underlying_source``: ``ticker``, ``proxy`` or ``""`` (unmapped).
    """
    out = universe.copy()
    by_ticker = {str(k).strip().upper(): v for k, v in proxies.items()}
    by_name = {_norm_name(k): v for k, v in proxies.items()}
    ticker = out["underlying"].fillna("").astype(str).str.strip().str.upper()
    asset = (
        out["underlying_asset"].fillna("").astype(str)
        if "underlying_asset" in out
        else pd.Series("", index=out.index)
    )
    from_ticker = ticker.map(by_ticker)
    from_name = asset.map(_norm_name).map(by_name)
    blank = ticker.eq("")
    proxy = from_ticker.where(from_ticker.notna(), from_name)
    mapped = proxy.where(proxy.notna(), ticker.where(~blank))
    out["underlying"] = mapped.fillna("").astype(str)
    # a name's proxy equal to the ticker given (TQQQ: QQQ, "Nasdaq-100 Index") is the ticker's
    src = np.where(
        proxy.notna() & mapped.ne(ticker), "proxy", np.where(mapped.fillna("").eq(""), "", "ticker")
    )
    out["underlying_source"] = pd.Series(src, index=out.index).astype(str)
    return out


def classify(universe: pd.DataFrame, proxies: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Map underlyings and assign each fund a ``group`` and, when left out, a ``reason``.

    ``group`` is ``equity`` (counted in the equity totals), ``crypto`` or ``commodity`` (own group
    totals, not in the equity totals) or ``excluded``.  ``reason`` is ``""`` for equity funds and
    says why for the rest; ``exclusion`` is its short category (:data:`CATEGORIES`, ``""`` for
    funds in a daily figure).  Checks, first match wins: **reset period** (only ``daily`` funds
    rebalance daily: weekly / monthly / quarterly / options-based / unknown reset are excluded,
    :data:`REASON_RESET`), variable leverage, unknown leverage, unknown / zero / negative assets,
    asset class (crypto and commodity -> own group, other non-equity -> excluded), unknown
    underlying.

    Input columns: those of :data:`flows.schema.LETF_COLUMNS` (``leverage`` NaN for
    ``variable``).  Without a ``reset`` column the reset period is derived from the name and
    family rules of :func:`flows.letf_reset.classify_reset` (no curated table: pass a universe
    parsed by :mod:`flows.sources.letf_universe` for that).
    """
    require_columns(universe, ["ticker", "underlying", "leverage", "aum_usd"], "letf universe")
    out = map_underlyings(universe, proxies or {})
    if "reset" not in out:
        out = out.join(letf_reset.classify_reset(out))
    reset = out["reset"].fillna(letf_reset.UNKNOWN).astype(str)
    lev = pd.to_numeric(out["leverage"], errors="coerce")
    aum = pd.to_numeric(out["aum_usd"], errors="coerce")
    kind = (
        out["leverage_kind"].fillna("").astype(str)
        if "leverage_kind" in out
        else pd.Series("", index=out.index)
    )
    aclass = (
        out["asset_class"].fillna("").astype(str).str.strip().str.lower()
        if "asset_class" in out
        else pd.Series(EQUITY, index=out.index)
    )
    no_underlying = out["underlying"].eq("")
    not_daily = reset.ne(letf_reset.DAILY)
    conditions = [
        not_daily,
        kind.eq("variable"),
        lev.isna(),
        aum.isna(),
        aum.eq(0),
        aum.lt(0),
        aclass.isin(GROUPS),
        ~aclass.eq(EQUITY),
        no_underlying,
    ]
    reset_reason = reset.map(REASON_RESET).fillna(REASON_RESET[letf_reset.UNKNOWN])
    reasons = [
        reset_reason,
        REASON_VARIABLE,
        REASON_NO_LEVERAGE,
        REASON_NO_AUM,
        REASON_ZERO_AUM,
        REASON_NEG_AUM,
        "group:" + aclass,
        "non-equity underlying (asset class '" + aclass.where(aclass.ne(""), "unknown") + "')",
        REASON_UNKNOWN_UNDERLYING,
    ]
    texts = [r.to_numpy(dtype=object) if isinstance(r, pd.Series) else r for r in reasons]
    reason = pd.Series(
        np.select([c.to_numpy(dtype=bool) for c in conditions], texts, default=""), index=out.index
    ).astype(str)
    group = np.where(
        reason.eq(""),
        EQUITY,
        np.where(reason.str.startswith("group:"), reason.str.removeprefix("group:"), "excluded"),
    )
    out["group"] = pd.Series(group, index=out.index).astype(str)
    is_group = out["group"].isin(GROUPS)
    out["reason"] = reason.where(
        ~is_group, out["group"] + " underlying: own group, not in the equity totals"
    )
    category = reason.map(CATEGORIES).fillna("non-equity underlying")
    out["exclusion"] = category.where(out["group"].eq("excluded"), "").astype(str)
    # A crypto/commodity fund without a ticker is still grouped; label it by what it tracks.
    label = (
        out["underlying_asset"].fillna("").astype(str)
        if "underlying_asset" in out
        else pd.Series("", index=out.index)
    )
    out.loc[is_group & no_underlying, "underlying"] = label[is_group & no_underlying].where(
        label[is_group & no_underlying].ne(""), out.loc[is_group & no_underlying, "ticker"]
    )
    out["reset"] = reset
    out["leverage"] = lev
    out["aum_usd"] = aum
    return out


def warn_unmapped(funds: pd.DataFrame, quality: Quality, *, listed: int = 8) -> Quality:
    """Warn in ``quality`` about daily-reset funds :func:`classify` left out for want of an
    underlying (``unknown underlying``: a blank ticker and an index or basket name that
    ``index_proxies`` does not map).  Returns ``quality``.

    They belong in the daily figures and cannot enter them.  They are a mapping gap of the
    configuration rather than damaged input, present in every real snapshot (VIX-futures funds,
    bespoke baskets such as BULZ), so they are a warning naming the largest ones and their share
    of the universe's assets, not skipped rows that could refuse a clean file; add the index name
    to ``[letf] index_proxies`` to bring a fund in.
    """
    sel = funds[funds["exclusion"].eq(CATEGORIES[REASON_UNKNOWN_UNDERLYING])]
    if sel.empty:
        return quality
    aum = pd.to_numeric(sel["aum_usd"], errors="coerce").fillna(0.0)
    total = float(np.nansum(pd.to_numeric(funds["aum_usd"], errors="coerce").to_numpy(dtype=float)))
    top = sel.assign(a=aum).sort_values(["a", "ticker"], ascending=[False, True]).head(listed)
    names = ", ".join(
        f"{t} ({u or '?'})"
        for t, u in zip(
            top["ticker"],
            top["underlying_asset"] if "underlying_asset" in top else top["ticker"],
            strict=True,
        )
    )
    share = (
        f"{100.0 * float(aum.sum()) / total:.2f} % of the universe's assets"
        if total > 0
        else "assets unknown"
    )
    more = f" and {len(sel) - listed} more" if len(sel) > listed else ""
    quality.warn(
        f"{len(sel)} daily-reset fund(s) left out for an unknown underlying ({share}; add the index to [letf] index_proxies): {names}{more}"
    )
    return quality


def fund_flows(
    funds: pd.DataFrame,
    moves_pct: pd.Series | Mapping[str, float] | None = None,
    *,
    net_creations_usd: pd.Series | Mapping[str, float] | None = None,
    aum_is_post_move: bool = False,
) -> pd.DataFrame:
    """Per-fund USD per 1% move and the trade for the move so far.

    Parameters
    ----------
    funds:
        Output of :func:`classify` (needs ``ticker``, ``underlying``, ``leverage``, ``aum_usd``).
    moves_pct:
        Underlying move since the prior close, **percent**, keyed by underlying ticker.
        Underlyings without a move get NaN ``move_pct`` and ``rebalance_usd``.
    net_creations_usd:
        Net creations per fund ticker, USD (+ = inflow); adds ``creations_usd = L * C``.
    aum_is_post_move:
        ``aum_usd`` is already today's (post-move) assets: use ``A_now*(L²-L)*r/(1+L*r)`` for
        ``rebalance_usd`` (``per_1pct_usd`` then uses ``A_now`` as the base).

    Returns
    -------
    DataFrame
        The input plus ``gamma_factor`` (L²-L), ``per_1pct_usd`` (USD per +1% move, + = buy),
        ``move_pct`` (percent), ``rebalance_usd`` (USD, + = buy), ``wiped_out`` (the move wipes
        the fund out: its trade is the liquidation of its exposure), ``creations_usd`` (USD) and
        ``total_flow_usd`` (rebalance + creations; NaN where the underlying has no move).
    """
    out = funds.copy()
    lev = out["leverage"].to_numpy(dtype=float)
    aum = out["aum_usd"].to_numpy(dtype=float)
    out["gamma_factor"] = gamma_factor(lev)
    out["per_1pct_usd"] = aum * out["gamma_factor"].to_numpy() * 0.01
    moves = (
        pd.Series(dict(moves_pct) if isinstance(moves_pct, Mapping) else moves_pct, dtype=float)
        if moves_pct is not None
        else pd.Series(dtype=float)
    )
    move = out["underlying"].map(moves).astype(float)
    out["move_pct"] = move
    r = move.to_numpy() / 100.0
    out["rebalance_usd"] = (
        rebalance_usd_post_move(aum, lev, r) if aum_is_post_move else rebalance_usd(aum, lev, r)
    )
    out["wiped_out"] = wiped_out(lev, r)
    creations = (
        pd.Series(
            dict(net_creations_usd)
            if isinstance(net_creations_usd, Mapping)
            else net_creations_usd,
            dtype=float,
        )
        if net_creations_usd is not None
        else pd.Series(dtype=float)
    )
    out["creations_usd"] = creations_flow_usd(
        lev, out["ticker"].map(creations).astype(float).fillna(0.0).to_numpy()
    )
    out["total_flow_usd"] = out["rebalance_usd"] + out["creations_usd"]
    return out


def by_underlying(
    flows: pd.DataFrame,
    *,
    adv_usd: pd.Series | Mapping[str, float] | None = None,
    auction_usd: pd.Series | Mapping[str, float] | None = None,
    group: str = EQUITY,
) -> pd.DataFrame:
    """Aggregate :func:`fund_flows` output per underlying (only funds of ``group``).

    Columns: ``underlying``, ``funds`` (count), ``aum_usd``, ``long_per_1pct_usd`` (funds with
    L > 0), ``inverse_per_1pct_usd`` (L < 0), ``per_1pct_usd`` (their sum; both parts have the
    same sign, they never offset), ``move_pct``, ``rebalance_usd`` and ``creations_usd`` (USD,
    + = buy), ``adv_usd`` (average daily dollar volume of the underlying, USD),
    ``rebalance_pct_adv`` (``100 * |rebalance_usd| / adv_usd``, percent), ``per_1pct_pct_adv``
    (percent of ADV per 1% move), ``auction_usd`` and ``rebalance_pct_auction`` (percent of the
    closing-auction notional) where given.  Sorted by ``per_1pct_usd`` descending.
    """
    # Indicator-matrix sums (underlyings x funds) as weighted bincounts: no per-group Python.
    mask = np.asarray(flows["group"].array == group, dtype=bool)
    codes_all, _ = pd.factorize(flows["underlying"], sort=False)
    codes_sel = codes_all[mask]
    codes, first = np.unique(codes_sel, return_index=True)
    order = np.argsort(first, kind="stable")  # order of first appearance
    codes, first = codes[order], first[order]
    remap = np.full(codes_all.max() + 1 if len(codes_all) else 0, -1, dtype=np.int64)
    remap[codes] = np.arange(len(codes))
    idx = remap[codes_sel]
    n = len(codes)

    def col(name: str) -> np.ndarray:
        return (
            flows[name].to_numpy(dtype=float)[mask] if name in flows else np.zeros(int(mask.sum()))
        )

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=np.nan_to_num(values, nan=0.0), minlength=n)

    lev, per = col("leverage"), col("per_1pct_usd")
    reb = col("rebalance_usd")
    has_reb = np.bincount(idx, weights=~np.isnan(reb), minlength=n) > 0
    agg = pd.DataFrame(
        {
            "underlying": flows["underlying"].to_numpy(dtype=object)[mask][first].astype(str),
            "funds": np.bincount(idx, minlength=n).astype("int64"),
            "aum_usd": total(col("aum_usd")),
            "long_per_1pct_usd": total(np.where(lev > 0, per, 0.0)),
            "inverse_per_1pct_usd": total(np.where(lev < 0, per, 0.0)),
            "per_1pct_usd": total(per),
            "move_pct": col("move_pct")[first],
            "rebalance_usd": np.where(has_reb, total(reb), np.nan),
            "creations_usd": total(col("creations_usd")),
        }
    )
    adv = _lookup(agg["underlying"], adv_usd)
    auction = _lookup(agg["underlying"], auction_usd)
    agg["adv_usd"] = adv
    with np.errstate(divide="ignore", invalid="ignore"):
        agg["rebalance_pct_adv"] = np.where(
            adv > 0, 100.0 * agg["rebalance_usd"].abs() / adv, np.nan
        )
        agg["per_1pct_pct_adv"] = np.where(adv > 0, 100.0 * agg["per_1pct_usd"].abs() / adv, np.nan)
        agg["auction_usd"] = auction
        agg["rebalance_pct_auction"] = np.where(
            auction > 0, 100.0 * agg["rebalance_usd"].abs() / auction, np.nan
        )
    return agg.sort_values("per_1pct_usd", ascending=False, kind="stable").reset_index(drop=True)


def _lookup(keys: pd.Series, values: pd.Series | Mapping[str, float] | None) -> np.ndarray:
    if values is None:
        return np.full(len(keys), np.nan)
    series = pd.Series(dict(values) if isinstance(values, Mapping) else values, dtype=float)
    return np.asarray(keys.map(series).astype(float).to_numpy(), dtype=np.float64)


def scenario_matrix(per_1pct_usd: np.ndarray, moves_pct: np.ndarray) -> np.ndarray:
    """Funds x moves trade matrix as an outer product: ``per_1pct_usd[i] * moves_pct[j]``.

    ``per_1pct_usd``: USD per +1% move per fund (or per underlying); ``moves_pct``: scenario moves
    in percent.  Returns USD (+ = buy), shape ``(len(per_1pct_usd), len(moves_pct))``.  Exact for
    prior-close assets because the trade is linear in the move.
    """
    return np.multiply.outer(
        np.asarray(per_1pct_usd, dtype=np.float64), np.asarray(moves_pct, dtype=np.float64)
    )


def per_underlying_1pct(
    flows: pd.DataFrame, *, group: str | None = EQUITY
) -> tuple[np.ndarray, np.ndarray]:
    """``(underlyings, usd_per_1pct)``: USD per +1% move summed per underlying (funds of ``group``;
    ``None`` = every row).  Indicator-matrix product ``M @ c`` done as a weighted ``bincount``.

    ``flows`` needs ``underlying`` and ``per_1pct_usd``, or ``leverage`` and ``aum_usd``.
    Underlyings keep their order of first appearance.
    """
    if "per_1pct_usd" in flows:
        per = flows["per_1pct_usd"].to_numpy(dtype=float)
    else:
        per = flows["aum_usd"].to_numpy(dtype=float) * gamma_factor(flows["leverage"]) * 0.01
    mask = (
        np.ones(len(flows), dtype=bool)
        if group is None or "group" not in flows
        else np.asarray(flows["group"].array == group, dtype=bool)
    )
    codes, uniques = pd.factorize(flows["underlying"], sort=False)
    n = len(uniques)
    members = (
        np.bincount(codes, weights=mask, minlength=n) > 0 if len(codes) else np.zeros(0, dtype=bool)
    )
    sums = (
        np.bincount(codes, weights=np.where(mask, per, 0.0), minlength=n)
        if len(codes)
        else np.zeros(0)
    )
    return np.asarray(uniques, dtype=object)[members], sums[members]


def scenario_table(
    flows: pd.DataFrame, moves_pct: list[float] | np.ndarray, *, group: str = EQUITY
) -> pd.DataFrame:
    """Per-underlying trade over a grid of uniform moves, wide: underlyings x moves (USD, + = buy).

    Row ``u``, column ``m``: the trade if underlying ``u`` moves ``m`` percent, i.e.
    ``(M @ c)[u] * m`` with ``M`` the underlyings x funds indicator matrix and ``c`` the funds'
    ``per_1pct_usd`` (the outer product of :func:`scenario_matrix`).  A last row ``TOTAL`` is
    every underlying moving together.  Index ``underlying``, columns ``move_pct`` (percent).
    """
    names, per = per_underlying_1pct(flows, group=group)
    grid = np.asarray(moves_pct, dtype=float)
    mat = scenario_matrix(np.append(per, per.sum()), grid)
    index = pd.Index(np.append(names, "TOTAL"), name="underlying", dtype=object)
    return pd.DataFrame(mat, index=index, columns=pd.Index(grid, name="move_pct"))


def scenario_grid(
    flows: pd.DataFrame, moves_pct: list[float] | np.ndarray, *, group: str = EQUITY
) -> pd.DataFrame:
    """:func:`scenario_table` in long format: ``underlying``, ``move_pct`` (percent),
    ``rebalance_usd`` (USD, + = buy); includes the ``TOTAL`` rows."""
    table = scenario_table(flows, moves_pct, group=group)
    grid = table.columns.to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "underlying": np.repeat(table.index.to_numpy(dtype=object), len(grid)).astype(str),
            "move_pct": np.tile(grid, len(table)),
            "rebalance_usd": table.to_numpy().ravel(),
        }
    )


def scenario_flows(
    funds: pd.DataFrame,
    moves: pd.Series | pd.DataFrame | Mapping[str, float],
    *,
    group: str = EQUITY,
) -> pd.DataFrame:
    """Rebalance USD per underlying for given moves (the de-risking board calls this).

    Parameters
    ----------
    funds:
        A frame with ``underlying``, ``per_1pct_usd`` (USD per +1% move, as published in the
        ``funds`` table of ``letf.flows``) and optionally ``group`` (only ``group`` rows are used).
        Alternatively ``leverage`` and ``aum_usd`` (``per_1pct_usd`` is then computed).
    moves:
        Move of each underlying in **percent** (-5 = -5%): a Series / mapping indexed by
        underlying (one scenario), or a DataFrame with one column per underlying and one row per
        scenario (e.g. index = NDX move of the board's grid).

    Returns
    -------
    DataFrame
        Series input: columns ``underlying``, ``move_pct``, ``per_1pct_usd``, ``rebalance_usd``
        (USD, + = buy), one row per underlying with funds (moves missing -> 0 trade).
        DataFrame input: the same index as ``moves``, one column per underlying of ``funds`` plus
        ``TOTAL``, values ``rebalance_usd`` (USD).  Computed as ``moves @ diag(per_1pct_usd)``;
        long and inverse funds add up (never offset).
    """
    names, per = per_underlying_1pct(funds, group=group)
    if isinstance(moves, pd.DataFrame):
        # Column lookup by position (no reindex copy): underlyings without a move column -> 0.
        pos = moves.columns.get_indexer(pd.Index(names, dtype=object))
        given = (
            moves.to_numpy(dtype=float)[:, np.maximum(pos, 0)]
            if len(moves.columns)
            else np.zeros((len(moves), len(names)))
        )
        m = np.where(pos[None, :] >= 0, given, 0.0)
        flows = np.where(np.isnan(m), 0.0, m) * per[None, :]
        out = pd.DataFrame(flows, index=moves.index, columns=pd.Index(names, dtype=object))
        out["TOTAL"] = flows.sum(axis=1)
        return out
    move = (
        pd.Series(dict(moves) if isinstance(moves, Mapping) else moves, dtype=float)
        .reindex(pd.Index(names, dtype=object))
        .fillna(0.0)
        .to_numpy()
    )
    return pd.DataFrame(
        {
            "underlying": names.astype(str),
            "move_pct": move,
            "per_1pct_usd": per,
            "rebalance_usd": per * move,
        }
    )


def group_totals(flows: pd.DataFrame) -> pd.DataFrame:
    """Totals of the crypto and commodity groups: ``group``, ``underlying``, ``funds``,
    ``aum_usd``, ``per_1pct_usd`` (USD per +1% move of that underlying), ``rebalance_usd``."""
    sel = flows[flows["group"].isin(GROUPS)]
    if sel.empty:
        return pd.DataFrame(
            {
                "group": pd.Series(dtype=str),
                "underlying": pd.Series(dtype=str),
                "funds": pd.Series(dtype="int64"),
                "aum_usd": pd.Series(dtype=float),
                "per_1pct_usd": pd.Series(dtype=float),
                "rebalance_usd": pd.Series(dtype=float),
            }
        )
    agg = (
        sel.groupby(["group", "underlying"], sort=False)
        .agg(
            funds=("ticker", "size"),
            aum_usd=("aum_usd", "sum"),
            per_1pct_usd=("per_1pct_usd", "sum"),
            rebalance_usd=("rebalance_usd", lambda s: s.sum(min_count=1)),
        )
        .reset_index()
    )
    agg["funds"] = agg["funds"].astype("int64")
    return agg.sort_values(
        ["group", "per_1pct_usd"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)


def excluded(flows: pd.DataFrame) -> pd.DataFrame:
    """Funds left out of the equity totals: ``ticker``, ``underlying``, ``reset``, ``aum_usd``,
    ``group``, ``exclusion`` (category), ``reason``."""
    sel = flows[flows["group"] != EQUITY]
    cols = [
        c
        for c in ("ticker", "underlying", "reset", "aum_usd", "group", "exclusion", "reason")
        if c in sel
    ]
    return sel[cols].reset_index(drop=True)


def excluded_aum(flows: pd.DataFrame, skipped: pd.DataFrame | None = None) -> pd.DataFrame:
    """Assets left out of every daily figure, by category: what the desk does not see.

    Parameters
    ----------
    flows:
        Output of :func:`classify` / :func:`fund_flows` (needs ``group``, ``exclusion``,
        ``aum_usd``).  Funds of group ``equity``, ``crypto`` or ``commodity`` are in a daily
        figure; every ``excluded`` fund is counted here under its ``exclusion`` category
        (``reset: monthly``, ``variable leverage``, ``unknown assets``, ...).
    skipped:
        Rows the import skipped (``ticker``, ``aum_usd``; :mod:`flows.sources.letf_universe`):
        one more category, :data:`EXCLUSION_SKIPPED`.

    Returns
    -------
    DataFrame
        ``category``, ``funds`` (count), ``aum_usd`` (USD; funds with unknown assets add 0),
        ``share_pct`` (percent of the universe's known assets: included + excluded + skipped),
        sorted by ``aum_usd`` descending.  By construction ``aum_usd.sum()`` = universe assets
        - assets in the daily figures.
    """
    sel = flows.loc[flows["group"].eq("excluded"), ["exclusion", "aum_usd"]].rename(
        columns={"exclusion": "category"}
    )
    parts = [sel]
    if skipped is not None and not skipped.empty:
        parts.append(
            pd.DataFrame(
                {
                    "category": EXCLUSION_SKIPPED,
                    "aum_usd": pd.to_numeric(skipped["aum_usd"], errors="coerce")
                    if "aum_usd" in skipped
                    else np.nan,
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else sel
    universe_aum = float(np.nansum(flows["aum_usd"].to_numpy(dtype=float)))
    if skipped is not None and "aum_usd" in skipped:
        universe_aum += float(
            np.nansum(pd.to_numeric(skipped["aum_usd"], errors="coerce").to_numpy(dtype=float))
        )
    if rows.empty:
        return pd.DataFrame(
            {
                "category": pd.Series(dtype=str),
                "funds": pd.Series(dtype="int64"),
                "aum_usd": pd.Series(dtype=float),
                "share_pct": pd.Series(dtype=float),
            }
        )
    codes, names = pd.factorize(rows["category"].astype(str), sort=True)
    aum = np.nan_to_num(rows["aum_usd"].to_numpy(dtype=float), nan=0.0)
    out = pd.DataFrame(
        {
            "category": np.asarray(names, dtype=object).astype(str),
            "funds": np.bincount(codes, minlength=len(names)).astype("int64"),
            "aum_usd": np.bincount(codes, weights=aum, minlength=len(names)),
        }
    )
    out["share_pct"] = 100.0 * out["aum_usd"] / universe_aum if universe_aum > 0 else np.nan
    return out.sort_values(
        ["aum_usd", "category"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def included_aum(flows: pd.DataFrame) -> float:
    """Assets of the funds in a daily figure (equity totals and crypto / commodity groups), USD."""
    sel = flows["group"].isin([EQUITY, *GROUPS])
    return float(np.nansum(flows.loc[sel, "aum_usd"].to_numpy(dtype=float)))


def by_reset(flows: pd.DataFrame) -> pd.DataFrame:
    """Funds and assets per reset period: ``reset``, ``funds``, ``aum_usd`` (USD; unknown assets
    add 0), in the order of :data:`flows.letf_reset.RESETS`."""
    reset = (
        flows["reset"].astype(str)
        if "reset" in flows
        else pd.Series(letf_reset.UNKNOWN, index=flows.index)
    )
    aum = pd.Series(
        np.nan_to_num(flows["aum_usd"].to_numpy(dtype=float), nan=0.0), index=flows.index
    )
    agg = (
        pd.DataFrame({"funds": reset.value_counts(), "aum_usd": aum.groupby(reset).sum()})
        .reindex(list(letf_reset.RESETS))
        .fillna(0.0)
    )
    return pd.DataFrame(
        {
            "reset": agg.index.astype(str),
            "funds": agg["funds"].astype("int64").to_numpy(),
            "aum_usd": agg["aum_usd"].to_numpy(dtype=float),
        }
    )


def override_assets(
    universe: pd.DataFrame, assets_usd: pd.Series | Mapping[str, float]
) -> pd.DataFrame:
    """A copy of ``universe`` whose ``aum_usd`` is replaced by ``assets_usd`` (USD, keyed by fund
    ticker) where given: NAV histories and drop files override the universe file's assets."""
    out = universe.copy()
    given = pd.Series(
        dict(assets_usd) if isinstance(assets_usd, Mapping) else assets_usd, dtype=float
    )
    mapped = out["ticker"].map(given)
    out["aum_usd"] = mapped.where(
        mapped.notna(), pd.to_numeric(out["aum_usd"], errors="coerce")
    ).astype(float)
    return out


def require_columns(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    """:class:`InputError` naming ``source`` and the first missing column."""
    for col in columns:
        if col not in frame.columns:
            raise InputError(
                source, col, f"missing column (have: {', '.join(map(str, frame.columns))})"
            )
