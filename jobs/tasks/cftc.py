"""Weekly CFTC task: ingest the newest COT week, compute the net USD aggregate, publish ``cftc.net_usd``.

Flow
----
1. Ingest (:mod:`jobs.tasks.cftc_ingest`): in sample mode, generate the sample history once
   (``backfill`` when ``cftc.positions`` does not exist yet) and then extend it
   (``update_latest``); in live mode ``update_latest`` merges the newest report from the CFTC.
2. Live mode only: if the report expected by now (the latest as-of Tuesday whose scheduled
   release, Friday 15:30 ET, is past) is not stored yet, raise :class:`NotReleasedYet`.  The
   runner retries the job (``retries`` × ``retry_delay_seconds``, e.g. 8 × 15 min) and, when the
   retries run out, records the run as failed and marks ``cftc.net_usd`` stale; the last good
   result stays readable.
3. Compute every table with :func:`flows.cftc.analyse` and publish ``cftc.net_usd``.

Release days
------------
The release is on the 3rd US federal business day after the as-of date (Friday; Monday when a
federal holiday falls on Wednesday-Friday, as in Thanksgiving or Christmas week).  The job runs
on Friday 15:45 ET and again on Monday 15:45 ET (``cron = "45 15 * * mon,fri"``,
``trading_days_only = false``): on a holiday Friday the expected report is still last week's
(already stored), so the Friday run succeeds quietly and the Monday run picks up the delayed
report.  A government shutdown delays releases indefinitely: each slot then fails after its
retries (visible on the Status page) and the previous result stays, labelled stale.

``as_of`` of the result is the latest *complete* report date (every basket currency reported
and priced), as a tz-aware timestamp at midnight in the desk's time zone; the week's scheduled
release time is in the headline and in ``weekly.release_time``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from flows import cftc as analytics
from flows.errors import FlowdeskError
from jobs.store import ResultNotFound, ResultStore
from jobs.tasks import TaskContext, TaskOutcome, cftc_ingest, task

RESULT = "cftc.net_usd"


class NotReleasedYet(FlowdeskError):
    """The COT report expected by now is not published yet (the runner retries)."""


# -- helpers ------------------------------------------------------------------------------------
def expected_report_date(now: datetime, *, tz: str = "America/New_York") -> pd.Timestamp:
    """As-of Tuesday of the newest report whose scheduled release is at or before ``now``.

    Uses :func:`flows.cftc.expected_release` (3rd federal business day, 15:30 ET) on the last
    four Tuesdays.  Tz-naive date.
    """
    local = pd.Timestamp(now).tz_convert(tz)
    today = local.normalize().tz_localize(None)
    this_tuesday = today - pd.Timedelta(days=(today.day_of_week - 1) % 7)
    tuesdays = pd.DatetimeIndex([this_tuesday - pd.Timedelta(weeks=k) for k in range(4)])
    released = analytics.expected_release(tuesdays, tz=tz)
    ok = released <= local
    return tuesdays[np.flatnonzero(ok)[0]]


def _fx_frame(table: pd.DataFrame) -> pd.DataFrame:
    """``cftc.fx`` table (``date`` column + currencies) -> DatetimeIndex × currencies."""
    fx = table.copy()
    fx.index = pd.DatetimeIndex(pd.to_datetime(fx.pop("date")).to_numpy(), name="date")
    if fx.index.tz is not None:
        fx.index = fx.index.tz_localize(None)
    return fx.sort_index().astype(float)


def _naive_dates(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    as_of = pd.to_datetime(out["as_of"])
    if getattr(as_of.dt, "tz", None) is not None:
        as_of = as_of.dt.tz_localize(None)
    out["as_of"] = as_of.astype("datetime64[ns]")
    return out


UNITS: dict[str, dict[str, str]] = {
    "weekly": {
        "as_of": "report date (CFTC as-of, usually a Tuesday)",
        "release_time": "scheduled release, tz-aware (Friday 15:30 ET; Monday after a holiday)",
        "net_usd_*": "USD (+ = speculators net long USD; minus the sum of the currency positions)",
        "*_change_usd": "USD, week-on-week change = position + FX",
        "*_change_position_usd": "USD, -Σ Δnet × size × old USD per unit",
        "*_change_fx_usd": "USD, -Σ new net × size × Δ USD per unit",
        "*_z_1y/_3y/_5y": "standard deviations over 52/156/260 weekly reports",
        "*_pct_1y/_3y/_5y": "percentile 0-100 over 52/156/260 weekly reports",
        "*_cot_index_3y": "0-100, min-max over 156 weekly reports",
        "partial": "True when a basket currency has no position or no FX that week (not complete)",
    },
    "currencies": {
        "net_contracts": "contracts, legacy non-commercial long - short",
        "levfunds_net_contracts": "contracts, TFF leveraged funds long - short",
        "assetmgr_net_contracts": "contracts, TFF asset managers long - short",
        "usd_per_unit": "USD per 1 unit of ccy (DXY: index points)",
        "contract_size": "ccy units per contract (DXY: USD per index point)",
        "usd": "USD, value of the non-commercial position (+ = long the currency; DXY: long USD)",
        "levfunds_usd": "USD", "assetmgr_usd": "USD",
        "contribution_usd": "USD, contribution to net USD (-usd; DXY +usd)",
        "levfunds_contribution_usd": "USD", "assetmgr_contribution_usd": "USD",
    },
    "stats": {"value_usd": "USD", "zscore": "standard deviations", "percentile": "0-100", "cot_index": "0-100", "mean_usd": "USD", "median_usd": "USD", "std_usd": "USD", "min_usd": "USD", "max_usd": "USD", "window_weeks": "weekly reports"},
    "peaks": {"value_usd": "USD (net USD at the peak)", "distance_usd": "USD, current - peak", "weeks_ago": "weekly reports"},
    "crowding": {"rank": "1 = most crowded", "net_contracts": "contracts", "usd": "USD", "zscore": "standard deviations (3y, net contracts)", "cot_index": "0-100 (3y, net contracts)", "extremity": "0-100, |cot_index - 50| × 2"},
    "unwind": {"usd": "USD", "contribution_usd": "USD", "share": "fraction of the unwound side", "cover_usd": "USD of net-USD position covered", "currency_flow_usd": "USD of the currency bought (+) / sold (-)", "target_net_usd": "USD", "current_net_usd": "USD"},
}


def compute(
    legacy: pd.DataFrame | None,
    tff: pd.DataFrame | None,
    fx: pd.DataFrame,
    settings: Any,
) -> analytics.CftcAnalytics:
    """Run :func:`flows.cftc.analyse` with the ``[cftc]`` settings."""
    c = settings.cftc
    return analytics.analyse(
        legacy,
        tff,
        fx,
        c.baskets,
        headline_basket=c.headline_basket,
        unwind_weeks=52 * c.unwind_years,
        unwind_to=c.unwind_to,
        peak_half_window=c.peak_half_window_weeks,
        tz=settings.service.timezone,
    )


def headline(res: analytics.CftcAnalytics, basket: str, baskets: Any) -> dict[str, Any]:
    """Flat headline of the latest complete week (keys of the alerts catalogue + dates)."""
    weekly = res.weekly.set_index("as_of")
    row = weekly.loc[res.latest_complete]
    head = res.headline_series
    out: dict[str, Any] = {
        "as_of": res.latest_complete.date().isoformat(),
        "release_time": pd.Timestamp(row["release_time"]).isoformat(),
        "basket": basket,
        "change_usd": row.get(f"{head}_change_usd"),
        "change_position_usd": row.get(f"{head}_change_position_usd"),
        "change_fx_usd": row.get(f"{head}_change_fx_usd"),
        "cot_index_3y": row.get(f"{head}_cot_index_3y"),
    }
    uw = res.unwind
    if not uw.empty:
        scen = uw[(uw["series"] == head) & (uw["scenario"] == res.info["unwind_to"])]
        if len(scen):
            out["unwind_beneficiaries"] = ", ".join(scen[scen["benefits"]].sort_values("rank")["ccy"].astype(str))
            out["unwind_target_net_usd"] = float(scen["target_net_usd"].iloc[0])
    for label in analytics.WINDOWS_WEEKS:
        out[f"zscore_{label}"] = row.get(f"{head}_z_{label}")
        out[f"percentile_{label}"] = row.get(f"{head}_pct_{label}")
    for prefix in analytics.SERIES_PREFIX.values():
        for name in baskets:
            col = f"{prefix}_{name}"
            if col in weekly.columns:
                out[col] = row[col]
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()}


def publish(store: ResultStore, res: analytics.CftcAnalytics, settings: Any, *, source: str, sample: bool) -> None:
    """Publish ``cftc.net_usd`` (tables weekly, currencies, stats, peaks, crowding, unwind).

    Refuses (``InputError``-like :class:`FlowdeskError`) when no week is complete.
    """
    if res.latest_complete is None:
        raise FlowdeskError(f"{RESULT}: no complete week (every week misses a basket currency or its FX rate); nothing published")
    tz = settings.service.timezone
    as_of = pd.Timestamp(res.latest_complete).tz_localize(tz)
    store.publish(
        RESULT,
        {
            "weekly": res.weekly,
            "currencies": res.currencies,
            "stats": res.stats,
            "peaks": res.peaks,
            "crowding": res.crowding,
            "unwind": res.unwind,
        },
        as_of=as_of,
        source=source,
        sample=sample,
        units=UNITS,
        headline=headline(res, settings.cftc.headline_basket, settings.cftc.baskets),
        extra={
            "baskets": {k: list(v) for k, v in settings.cftc.baskets.items()},
            "headline_series": res.headline_series,
            "conventions": "net USD = -Σ (net contracts × contract size × USD per unit) over the basket; + = long USD",
            "dxy": "USD index level reconstructed from ECB rates with the ICE weights when used",
            **res.info,
        },
    )


def _endpoints(args: dict[str, Any]) -> cftc_ingest.Endpoints | None:
    """``[jobs.<name>].args.endpoints = {cftc_history=, socrata=, ecb=}``: base URLs of the live
    sources (a mirror or proxy; the tests point them at a local HTTP server)."""
    given = args.get("endpoints")
    if not given:
        return None
    unknown = set(given) - {"cftc_history", "socrata", "ecb"}
    if unknown:
        raise FlowdeskError(f"jobs args.endpoints: unknown key(s) {', '.join(sorted(unknown))} (known: cftc_history, socrata, ecb)")
    return cftc_ingest.Endpoints(**given)


def read_inputs(store: ResultStore) -> tuple[Any, Any, pd.DataFrame | None, pd.DataFrame | None]:
    """``cftc.positions`` and ``cftc.fx`` results plus the legacy/TFF frames (tz-naive dates)."""
    positions = store.read(cftc_ingest.POSITIONS)
    fx_result = store.read(cftc_ingest.FX)
    tables = positions.meta.tables
    legacy = _naive_dates(positions.table("legacy")) if "legacy" in tables else None
    tff = _naive_dates(positions.table("tff")) if "tff" in tables else None
    return positions, fx_result, legacy, tff


def recompute(store: ResultStore, settings: Any) -> analytics.CftcAnalytics:
    """Compute and publish ``cftc.net_usd`` from the stored inputs (used after a backfill)."""
    positions, fx_result, legacy, tff = read_inputs(store)
    res = compute(legacy, tff, _fx_frame(fx_result.table("data")), settings)
    publish(store, res, settings, source=f"{positions.meta.source} + {fx_result.meta.source}", sample=bool(positions.meta.sample))
    return res


def _results(settings: Any, args: dict[str, Any]) -> list[str]:
    return [RESULT]


@task("cftc", results=_results, description="Weekly CFTC positioning: ingest the newest COT week, publish cftc.net_usd.")
def cftc_weekly(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Ingest (sample: backfill once then extend; live: newest week), check it is out, publish."""
    settings, store = ctx.settings, ctx.store
    published: list[str] = []
    endpoints = _endpoints(args)
    if settings.sample_mode:
        try:
            store.meta(cftc_ingest.POSITIONS)
            have = True
        except ResultNotFound:
            have = False
        if not have:
            ctx.progress(f"generating sample COT history from {settings.cftc.history_from_year}")
            cftc_ingest.backfill(settings, store, settings.cftc.history_from_year, progress=ctx.progress, now=ctx.now)
            published += [cftc_ingest.POSITIONS, cftc_ingest.FX]
        elif cftc_ingest.update_latest(settings, store, now=ctx.now):
            published += [cftc_ingest.POSITIONS, cftc_ingest.FX]
    elif cftc_ingest.update_latest(settings, store, now=ctx.now, endpoints=endpoints):
        published += [cftc_ingest.POSITIONS, cftc_ingest.FX]

    positions, fx_result, legacy, tff = read_inputs(store)
    if not settings.sample_mode:
        expected = expected_report_date(ctx.now, tz=settings.service.timezone)
        # The week is in only when every stored report (legacy and TFF) has it.
        latest = min(f["as_of"].max() for f in (legacy, tff) if f is not None and len(f))
        if latest < expected - pd.Timedelta(days=settings.cftc.release_grace_days):
            raise NotReleasedYet(
                f"CFTC report for {expected.date()} not released yet (scheduled "
                f"{analytics.expected_release([expected], tz=settings.service.timezone)[0].isoformat()}; "
                f"latest stored {latest.date()}); retrying"
            )
    res = compute(legacy, tff, _fx_frame(fx_result.table("data")), settings)
    publish(store, res, settings, source=f"{positions.meta.source} + {fx_result.meta.source}", sample=bool(positions.meta.sample))
    published.append(RESULT)
    weeks = len(res.weekly)
    return TaskOutcome(
        published=published,
        rows=weeks,
        detail=f"{weeks} weeks, latest complete {res.latest_complete.date()}, {res.info['partial_weeks']} partial",
    )
