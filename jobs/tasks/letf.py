"""Task ``letf``: leveraged/inverse ETF rebalance estimate (pre-open, intraday, final).

Wiring only: universe (shipped CSV or ``[letf].universe_file``, each fund with its reset period:
:mod:`flows.letf_reset`, ``[letf].reset_overrides``), assets (sample generator, or live: the
universe file's own ``aum``, ProShares NAV history for daily ProShares funds, and a dropped
``letf_aum.csv`` overriding both), moves (sample generator, or live CBOE delayed quotes of the
underlyings), dollar volumes (sample generator, or a dropped ``letf_adv.csv``), then the pure
analytics of :mod:`flows.letf`, published as ``letf.flows``.  Only daily-reset funds enter the
figures; the assets left out (non-daily reset, unknown data) are published as the
``excluded_aum`` table and headline figures.

Input quality: the universe's :class:`flows.quality.Quality` (basis AUM) carries the skipped
rows; warnings are added for daily funds with an unmapped underlying, for ProShares NAV files
that lost rows or could not be used (the fund then keeps the universe file's assets) and for
drop files with skipped rows.  It is enforced with ``[quality]`` (family ``letf``) before
publishing, as is a dropped assets file on its own: a refused input fails the job and the last
good result stays published (stale).

Args: ``phase`` = ``preopen`` (pre-market prices vs the prior close), ``intraday`` or ``final``
(the 15:30 ET estimate of the trade into the close).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flows import letf, letf_reset
from flows.errors import FlowdeskError, InputError, SourceError
from flows.quality import Quality, enforce
from flows.sources import aum_drop, cboe_quotes, letf_universe, proshares, sample_letf
from flows.sources.http import HttpClient
from jobs.tasks import TaskContext, TaskOutcome, task

RESULT = "letf.flows"
PHASES = ("preopen", "intraday", "final")

FUND_COLUMNS = [
    "ticker",
    "name",
    "underlying",
    "leverage",
    "issuer",
    "fund_type",
    "group",
    "aum_usd",
    "gamma_factor",
    "per_1pct_usd",
    "move_pct",
    "rebalance_usd",
    "creations_usd",
    "total_flow_usd",
]


def _carry(other: Quality, quality: Quality) -> None:
    """A secondary input's skipped rows and warnings, as warnings of the universe's quality."""
    if other.skipped_rows:
        quality.warn(f"{other.source}: {other.summary()}")
    for w in other.warnings:
        quality.warn(f"{other.source}: {w}")


def _assets_live(
    ctx: TaskContext,
    universe: pd.DataFrame,
    client: HttpClient,
    failures: dict[str, str],
    quality: Quality,
) -> tuple[pd.DataFrame, pd.Series, list[str], str]:
    """Live assets: file AUM, then ProShares NAV history, then the drop file (wins).

    Returns the universe with its assets, the net creations (USD) per ProShares fund, the
    dates the assets are as of, and where they came from (for the result's ``source``)."""
    cfg = ctx.settings.letf
    threshold = ctx.settings.quality.threshold("letf")
    dates: list[str] = []
    creations = pd.Series(dtype=float)
    if universe["as_of"].notna().any():
        dates.append(universe["as_of"].max().date().isoformat())
    pro = universe[
        universe["issuer"].str.contains("proshares", case=False, na=False)
        & universe["reset"].eq(letf_reset.DAILY)
    ]
    nav_assets: dict[str, float] = {}
    for ticker in pro["ticker"]:
        query = proshares.build_query(ticker, url_template=cfg.proshares_url)
        try:
            nav = proshares.parse(proshares.fetch(query, client), f"proshares:{ticker}")
            enforce(nav.quality, threshold)
        except FlowdeskError as exc:
            failures[f"proshares:{ticker}"] = str(exc)
            quality.warn(
                f"proshares:{ticker} unusable, assets from the universe file instead: {exc}"
            )
            continue
        _carry(nav.quality, quality)
        last = proshares.latest(nav)
        nav_assets[ticker] = float(last["aum_usd"])
        creations[ticker] = (
            float(last["net_creations_usd"]) if pd.notna(last["net_creations_usd"]) else 0.0
        )
        dates.append(pd.Timestamp(last["date"]).date().isoformat())
    drop_path = aum_drop.build_query(ctx.settings.service.drop_dir, cfg.aum_drop_file)
    raw = aum_drop.fetch(drop_path)
    drop_assets: dict[str, float] = {}
    if raw is not None:
        drop = aum_drop.parse_aum(raw, str(drop_path))
        enforce(drop.quality, threshold)  # a dropped file the desk relies on: refuse, do not guess
        _carry(drop.quality, quality)
        for row in drop.skipped.itertuples():
            failures[f"drop:{row.ticker}"] = f"{drop_path} line {row.line}: {row.reason}"
        drop_assets = dict(
            zip(drop.frame["ticker"], drop.frame["aum_usd"].astype(float), strict=True)
        )
        dates.extend(d for d in drop.frame["as_of"] if d)
    universe = letf.override_assets(universe, {**nav_assets, **drop_assets})
    came_from = ["the universe file"]
    if nav_assets:
        came_from.append(f"ProShares NAV history ({len(nav_assets)} funds)")
    if drop_assets:
        came_from.append(f"drop file {drop_path.name} ({len(drop_assets)} funds)")
    return universe, creations, dates, ", ".join(came_from)


def _moves_live(
    ctx: TaskContext, underlyings: list[str], client: HttpClient, failures: dict[str, str]
) -> tuple[pd.Series, pd.Timestamp | None]:
    frame, bad = cboe_quotes.quotes(underlyings, client, url_template=ctx.settings.letf.quote_url)
    failures.update({f"quote:{k}": v for k, v in bad.items()})
    if frame.empty:
        raise SourceError(
            "cboe-quotes",
            f"no quote for any of {len(underlyings)} underlyings (first error: {next(iter(bad.values()), 'none')})",
        )
    moves = pd.Series(
        frame["return_since_prev_close"].to_numpy() * 100.0, index=frame["symbol"].to_numpy()
    )
    when = frame["price_time"].max()
    return moves, (None if pd.isna(when) else pd.Timestamp(when))


def _adv_live(ctx: TaskContext, failures: dict[str, str], quality: Quality) -> pd.DataFrame | None:
    path = aum_drop.build_query(ctx.settings.service.drop_dir, ctx.settings.letf.adv_drop_file)
    raw = aum_drop.fetch(path)
    if raw is None:
        return None
    adv = aum_drop.parse_adv(raw, str(path))
    _carry(adv.quality, quality)
    for row in adv.skipped.itertuples():
        failures[f"adv:{row.ticker}"] = f"{path} line {row.line}: {row.reason}"
    return adv.frame


@task(
    "letf",
    results=[RESULT],
    description="Leveraged/inverse ETF rebalance estimate: USD per 1%, today's trade, scenarios.",
)
def letf_flows(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Build universe, assets and moves, compute and publish ``letf.flows`` (see module docstring)."""
    phase = str(args.get("phase", "intraday"))
    if phase not in PHASES:
        raise InputError(
            f"jobs.{ctx.job}.args", "phase", f"must be one of {', '.join(PHASES)} (got {phase!r})"
        )
    s = ctx.settings
    cfg = s.letf
    seed = s.service.sample_seed
    day = ctx.now.date().isoformat()
    ctx.progress("reading universe")
    universe_path = letf_universe.build_query(cfg.universe_file)
    parsed = letf_universe.parse(
        letf_universe.fetch(universe_path), str(universe_path), reset_overrides=cfg.reset_overrides
    )
    universe, skipped, quality = parsed.funds, parsed.skipped, parsed.quality
    failures: dict[str, str] = {}
    creations: pd.Series | None = None
    price_time: pd.Timestamp | None = None
    if s.sample_mode:
        universe["aum_usd"] = (
            universe["ticker"].map(sample_letf.sample_assets(universe, seed, day=day)).astype(float)
        )
        assets_dates = [f"{day} (SAMPLE)"]
    else:
        client = HttpClient.from_settings(s)
        ctx.progress("fetching assets")
        universe, creations, assets_dates, assets_from = _assets_live(
            ctx, universe, client, failures, quality
        )
    funds = letf.classify(universe, cfg.index_proxies)
    letf.warn_unmapped(funds, quality)
    # Before anything is published: a refused input fails the job, and the runner keeps the
    # last good result (marked stale).
    enforce(quality, s.quality.threshold("letf"))
    counted = funds[funds["group"].isin([letf.EQUITY, *letf.GROUPS])]
    per_1pct = counted["aum_usd"] * letf.gamma_factor(counted["leverage"]) * 0.01
    ranked = (
        per_1pct.groupby(counted["underlying"])
        .sum()
        .abs()
        .sort_values(ascending=False)
        .index.tolist()
    )
    if s.sample_mode:
        moves = sample_letf.sample_moves(ranked, seed, phase=phase, day=day)
        adv = sample_letf.sample_adv(ranked, seed)
        source = (
            f"universe file {universe_path.name}; SAMPLE assets, moves and volumes "
            f"(seed {seed}, generated)"
        )
    else:
        ctx.progress(f"quoting {min(len(ranked), cfg.max_quote_symbols)} underlyings")
        moves, price_time = _moves_live(ctx, ranked[: cfg.max_quote_symbols], client, failures)
        adv = _adv_live(ctx, failures, quality)
        source = (
            f"universe file {universe_path.name}; assets: {assets_from}; moves: Cboe delayed "
            f"quotes ({len(moves)} underlyings); volumes: "
            + (
                f"drop file {cfg.adv_drop_file}"
                if adv is not None
                else "none (no ADV drop file: no % of volume)"
            )
        )
    flows = letf.fund_flows(funds, moves, net_creations_usd=creations)
    adv_map = adv.set_index("underlying")["adv_usd"] if adv is not None else None
    auction_map = adv.set_index("underlying")["auction_usd"] if adv is not None else None
    table = letf.by_underlying(flows, adv_usd=adv_map, auction_usd=auction_map)
    scenarios = letf.scenario_grid(flows, cfg.scenario_moves_pct)
    excl = letf.excluded(flows)
    if not skipped.empty:
        imported = pd.DataFrame(
            {
                "ticker": skipped["ticker"],
                "underlying": "",
                "reset": "",
                "aum_usd": skipped["aum_usd"].astype(float),
                "group": "skipped",
                "exclusion": letf.EXCLUSION_SKIPPED,
                "reason": "import, line " + skipped["line"].astype(str) + ": " + skipped["reason"],
            }
        )
        excl = pd.concat([excl, imported], ignore_index=True)
    left_out = letf.excluded_aum(flows, skipped)
    included_aum = letf.included_aum(flows)
    reset_left_out = float(
        left_out.loc[left_out["category"].str.startswith("reset: "), "aum_usd"].sum()
    )
    groups = letf.group_totals(flows)
    fund_table = (
        flows[flows["group"] == letf.EQUITY][FUND_COLUMNS]
        .sort_values("per_1pct_usd", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    as_of = price_time if price_time is not None else pd.Timestamp(ctx.now)
    top = table.iloc[0] if not table.empty else None
    headline = {
        "per_1pct_usd": float(table["per_1pct_usd"].sum()),
        "long_per_1pct_usd": float(table["long_per_1pct_usd"].sum()),
        "inverse_per_1pct_usd": float(table["inverse_per_1pct_usd"].sum()),
        "rebalance_usd": float(table["rebalance_usd"].sum(min_count=1))
        if table["rebalance_usd"].notna().any()
        else None,
        "biggest_underlying": None if top is None else str(top["underlying"]),
        "biggest_per_1pct_usd": None if top is None else float(top["per_1pct_usd"]),
        "biggest_rebalance_usd": None
        if top is None or pd.isna(top["rebalance_usd"])
        else float(top["rebalance_usd"]),
        "funds": int(len(fund_table)),
        "excluded": int(len(excl)),
        "universe_aum_usd": included_aum + float(left_out["aum_usd"].sum()),
        "included_aum_usd": included_aum,
        "excluded_aum_usd": float(left_out["aum_usd"].sum()),
        "excluded_not_daily_aum_usd": reset_left_out,
        "phase": phase,
    }
    ctx.store.publish(
        RESULT,
        {
            "by_underlying": table,
            "funds": fund_table,
            "scenarios": scenarios,
            "excluded": excl,
            "groups": groups,
            "excluded_aum": left_out,
        },
        as_of=as_of,
        source=source,
        sample=s.sample_mode,
        headline=headline,
        quality=quality.to_dict(),
        extra={
            "phase": phase,
            "price_time": None if price_time is None else price_time.isoformat(),
            "assets_as_of": max(assets_dates) if assets_dates else None,
            "universe": str(universe_path),
            "skipped_rows": int(len(skipped)),
            "failures": failures,
            "convention": "trade = A*(L^2-L)*r (A prior-close assets USD, L signed leverage, r move as fraction); + = buy the underlying; long and inverse funds trade the same way; daily-reset funds only",
        },
    )
    detail = f"{len(fund_table)} equity funds, {len(table)} underlyings, {len(excl)} excluded ({headline['excluded_aum_usd'] / 1e9:,.2f} bn USD left out)"
    if failures:
        detail += f", {len(failures)} source problems"
    return TaskOutcome(published=[RESULT], rows=len(table), detail=detail)
