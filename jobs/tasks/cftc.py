"""Weekly CFTC task: ingest the newest COT weeks, compute the net USD aggregate, publish ``cftc.net_usd``.

Flow
----
1. Ingest (:mod:`jobs.tasks.cftc_ingest`): in sample mode, generate the sample history once
   (``backfill`` when ``cftc.positions`` does not exist yet) and then extend it
   (``update_latest``); in live mode ``update_latest`` merges every report published since the
   last stored one (several at once after a shutdown), each stamped with the time it was first
   seen.
2. Compute every table with :func:`flows.cftc.analyse` (release times: the ingest's, per report
   date) and publish ``cftc.net_usd`` with the input quality (refused above ``[quality]``
   ``cftc``: the job fails and the last good result stays, marked stale).
3. Schedule check: the report the calendar expects by now is the latest as-of Tuesday whose
   scheduled release (3rd federal business day, 15:30 ET) has passed
   (:func:`expected_report_date`).  When the newest stored report is older (a late release, a
   government shutdown and the backlog after it), the result is still published, flagged
   **behind schedule** with the number of weekly reports missing (``behind_schedule_weeks`` in
   the headline, ``extra.schedule``, a line in ``flowdesk status`` and on the page).  Being
   behind is a warning, never a job failure: data that did arrive is never held back.

Release days
------------
The release is on the 3rd US federal business day after the as-of date (Friday; Monday when a
federal holiday falls on Wednesday-Friday, as in Thanksgiving or Christmas week).  The job runs
on every weekday at 15:45 and 18:45 ET (``cron = "45 15,18 * * mon-fri"``,
``trading_days_only = false``): the Friday report is picked up within minutes (or that evening
when it is late), the holiday Monday release the same day, and a backlog published on other
days than Friday (as from 2025-11-19 to the report of 2026-01-23, after the Oct-Nov 2025
shutdown) within hours.  A run that finds nothing new republishes the same figures with a fresh
schedule check.

``as_of`` of the result is the latest *complete* report date (every basket currency reported
and priced), as a tz-aware timestamp at midnight in the desk's time zone; the week's release
time is in the headline and in ``weekly.release_time``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from flows import cftc as analytics
from flows.errors import FlowdeskError, InputError
from flows.quality import Quality, enforce
from jobs.store import ResultNotFound, ResultStore
from jobs.tasks import TaskContext, TaskOutcome, cftc_ingest, task

RESULT = "cftc.net_usd"


# -- helpers ------------------------------------------------------------------------------------
def expected_report_date(now: datetime, *, tz: str = "America/New_York") -> pd.Timestamp:
    """As-of date of the newest report whose scheduled release is at or before ``now``.

    The as-of date is the Tuesday, or the session before it when the exchanges are closed that
    Tuesday (the real files date the reports of 2017-07-04, 2018-12-25 and 2019-01-01 on the
    Mondays before; federal holidays with open markets, such as Veterans Day, keep the Tuesday).
    Uses :func:`flows.calendars.cftc_release_times` (3rd federal business day, 15:30 ET) on the
    last four weeks at once.  Tz-naive date.
    """
    from flows.calendars import is_session, session_on_or_before

    local = pd.Timestamp(now).tz_convert(tz)
    today = local.normalize().tz_localize(None)
    this_tuesday = today - pd.Timedelta(days=(today.day_of_week - 1) % 7)
    tuesdays = pd.DatetimeIndex([this_tuesday - pd.Timedelta(weeks=k) for k in range(4)])
    tuesdays = pd.DatetimeIndex(
        np.where(is_session(tuesdays), tuesdays, session_on_or_before(tuesdays))
    )
    released = analytics.expected_release(tuesdays, tz=tz)
    ok = released <= local
    return tuesdays[np.flatnonzero(ok)[0]]


def schedule_status(
    latest: pd.Timestamp, now: datetime, *, tz: str = "America/New_York", grace_days: int = 3
) -> dict[str, Any]:
    """Is the newest stored report the one the calendar expects by ``now``?

    ``latest`` is the newest report date every stored report (legacy and TFF) has.  The
    expected report is :func:`expected_report_date`; a stored report dated up to ``grace_days``
    before it counts as that week's (a holiday moves the as-of date).  Returns::

        {"expected_report": "2025-11-11", "latest_report": "2025-09-23",
         "behind_weeks": 7, "behind": True, "message": "behind schedule: ..."}

    ``behind_weeks`` = weekly reports between the two dates, ``round(days / 7)`` (0 on
    schedule).  Pure: ``now`` is passed in.
    """
    expected = expected_report_date(now, tz=tz)
    latest = pd.Timestamp(latest)
    behind = bool(latest < expected - pd.Timedelta(days=grace_days))
    weeks = int(round((expected - latest).days / 7)) if behind else 0
    message = (
        f"behind schedule: latest report {latest.date()} is {weeks} week{'s' if weeks != 1 else ''} older than the {expected.date()} report the CFTC calendar expects by now (a late release, or a backlog after a shutdown); new reports are published as they appear"
        if behind
        else f"on schedule: latest report {latest.date()} (expected {expected.date()})"
    )
    return {
        "expected_report": expected.date().isoformat(),
        "latest_report": latest.date().isoformat(),
        "behind_weeks": weeks,
        "behind": behind,
        "message": message,
    }


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


def compute(
    legacy: pd.DataFrame | None,
    tff: pd.DataFrame | None,
    fx: pd.DataFrame,
    settings: Any,
    release_times: pd.Series | None = None,
) -> analytics.CftcAnalytics:
    """Run :func:`flows.cftc.analyse` with the ``[cftc]`` settings (``release_times``: per report
    date, tz-aware; default the scheduled releases)."""
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
        release_times=release_times,
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
            out["unwind_beneficiaries"] = ", ".join(
                scen[scen["benefits"]].sort_values("rank")["ccy"].astype(str)
            )
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


def publish(
    store: ResultStore,
    res: analytics.CftcAnalytics,
    settings: Any,
    *,
    source: str,
    sample: bool,
    quality: Quality | None = None,
    schedule: dict[str, Any] | None = None,
    replace: bool = False,
) -> None:
    """Publish ``cftc.net_usd`` (tables weekly, currencies, stats, peaks, crowding, unwind).

    ``quality`` (the inputs') travels with the result; ``schedule`` (:func:`schedule_status`)
    adds ``behind_schedule_weeks`` to the headline and, when behind, a warning to
    ``extra.warnings`` (shown by ``flowdesk status`` and the page).  ``replace`` allows an older
    latest week than the published one (a deliberate ``cftc-backfill --replace``).

    Raises
    ------
    FlowdeskError
        No complete week; or the latest complete week is older than the one already published
        (never a regression: the published result stays).
    """
    if res.latest_complete is None:
        raise FlowdeskError(
            f"{RESULT}: no complete week (every week misses a basket currency or its FX rate); nothing published"
        )
    tz = settings.service.timezone
    as_of = pd.Timestamp(res.latest_complete).tz_localize(tz)
    try:
        previous = store.meta(RESULT)
    except ResultNotFound:
        previous = None
    if (
        not replace
        and previous is not None
        and previous.sample == sample
        and previous.as_of_ts > as_of
    ):
        raise InputError(
            RESULT,
            "as_of",
            f"latest complete week {as_of.date()} is older than the published {previous.as_of_ts.date()}: refusing to publish a regression",
        )
    head = headline(res, settings.cftc.headline_basket, settings.cftc.baskets)
    extra: dict[str, Any] = {
        "baskets": {k: list(v) for k, v in settings.cftc.baskets.items()},
        "headline_series": res.headline_series,
        "conventions": "net USD = -Σ (net contracts × contract size × USD per unit) over the basket; + = long USD",
        "dxy": "USD index level reconstructed from ECB rates with the ICE weights when used",
        **res.info,
        # which way each unwind trades and who benefits, in words (the page and the board say it)
        "unwind_readings": analytics.unwind_readings(
            res.unwind, int(res.info.get("unwind_weeks", 156))
        ),
    }
    if schedule is not None:
        head["behind_schedule_weeks"] = int(schedule["behind_weeks"])
        extra["schedule"] = dict(schedule)
        extra["warnings"] = [schedule["message"]] if schedule["behind"] else []
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
        headline=head,
        extra=extra,
        quality=quality.to_dict() if quality is not None else None,
    )


def _endpoints(args: dict[str, Any]) -> cftc_ingest.Endpoints | None:
    """``[jobs.<name>].args.endpoints = {cftc_history=, socrata=, ecb=}``: base URLs of the live
    sources (a mirror or proxy; the tests point them at a local HTTP server)."""
    given = args.get("endpoints")
    if not given:
        return None
    unknown = set(given) - {"cftc_history", "socrata", "ecb"}
    if unknown:
        raise FlowdeskError(
            f"jobs args.endpoints: unknown key(s) {', '.join(sorted(unknown))} (known: cftc_history, socrata, ecb)"
        )
    return cftc_ingest.Endpoints(**given)


def read_inputs(store: ResultStore) -> tuple[Any, Any, pd.DataFrame | None, pd.DataFrame | None]:
    """``cftc.positions`` and ``cftc.fx`` results plus the legacy/TFF frames (tz-naive dates)."""
    positions = store.read(cftc_ingest.POSITIONS)
    fx_result = store.read(cftc_ingest.FX)
    tables = positions.meta.tables
    legacy = _naive_dates(positions.table("legacy")) if "legacy" in tables else None
    tff = _naive_dates(positions.table("tff")) if "tff" in tables else None
    return positions, fx_result, legacy, tff


def release_series(positions: Any) -> pd.Series | None:
    """Release time per report date (tz-aware, indexed by tz-naive as-of) from the ``releases``
    table of ``cftc.positions``; None when the result has none (the schedule is used)."""
    if "releases" not in positions.meta.tables:
        return None
    rel = positions.table("releases")
    index = pd.DatetimeIndex(pd.to_datetime(rel["as_of"]))
    if index.tz is not None:
        index = index.tz_localize(None)
    return pd.Series(
        pd.DatetimeIndex(pd.to_datetime(rel["release_time"])),
        index=index.astype("datetime64[ns]"),
        name="release_time",
    )


def input_quality(positions: Any, settings: Any) -> Quality:
    """The input quality of ``cftc.net_usd``: the stored positions' (FX findings included as
    warnings by the ingest), enforced against ``[quality]`` ``cftc``."""
    q = (
        Quality.from_dict(positions.meta.quality)
        if positions.meta.quality
        else Quality(source=cftc_ingest.POSITIONS, basis="positions")
    )
    return enforce(q, settings.quality.threshold("cftc"))


def _latest_stored(legacy: pd.DataFrame | None, tff: pd.DataFrame | None) -> pd.Timestamp:
    """The newest report date every stored report has (the week is in only when both have it)."""
    return min(f["as_of"].max() for f in (legacy, tff) if f is not None and len(f))


def recompute(
    store: ResultStore, settings: Any, now: datetime | None = None, *, replace: bool = False
) -> analytics.CftcAnalytics:
    """Compute and publish ``cftc.net_usd`` from the stored inputs (used after a backfill; with
    ``now`` the schedule is checked as by the weekly task)."""
    positions, fx_result, legacy, tff = read_inputs(store)
    res = compute(
        legacy, tff, _fx_frame(fx_result.table("data")), settings, release_series(positions)
    )
    schedule = (
        schedule_status(
            _latest_stored(legacy, tff),
            now,
            tz=settings.service.timezone,
            grace_days=settings.cftc.release_grace_days,
        )
        if now is not None
        else None
    )
    publish(
        store,
        res,
        settings,
        source=f"{positions.meta.source} + {fx_result.meta.source}",
        sample=bool(positions.meta.sample),
        quality=input_quality(positions, settings),
        schedule=schedule,
        replace=replace,
    )
    return res


def _results(settings: Any, args: dict[str, Any]) -> list[str]:
    return [RESULT]


@task(
    "cftc",
    results=_results,
    description="Weekly CFTC positioning: ingest the newest COT weeks, publish cftc.net_usd.",
)
def cftc_weekly(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Ingest (sample: backfill once then extend; live: every new week), publish, check the schedule."""
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
            cftc_ingest.backfill(
                settings, store, settings.cftc.history_from_year, progress=ctx.progress, now=ctx.now
            )
            published += [cftc_ingest.POSITIONS, cftc_ingest.FX]
        elif cftc_ingest.update_latest(settings, store, now=ctx.now):
            published += [cftc_ingest.POSITIONS, cftc_ingest.FX]
    elif cftc_ingest.update_latest(settings, store, now=ctx.now, endpoints=endpoints):
        published += [cftc_ingest.POSITIONS, cftc_ingest.FX]

    positions, fx_result, legacy, tff = read_inputs(store)
    schedule = schedule_status(
        _latest_stored(legacy, tff),
        ctx.now,
        tz=settings.service.timezone,
        grace_days=settings.cftc.release_grace_days,
    )
    quality = input_quality(positions, settings)
    res = compute(
        legacy, tff, _fx_frame(fx_result.table("data")), settings, release_series(positions)
    )
    publish(
        store,
        res,
        settings,
        source=f"{positions.meta.source} + {fx_result.meta.source}",
        sample=bool(positions.meta.sample),
        quality=quality,
        schedule=schedule,
    )
    published.append(RESULT)
    weeks = len(res.weekly)
    detail = f"{weeks} weeks, latest complete {res.latest_complete.date()}, {res.info['partial_weeks']} partial"
    if schedule["behind"]:
        detail += f"; {schedule['message']}"
        ctx.log.warning("cftc %s", schedule["message"])
    return TaskOutcome(published=published, rows=weeks, detail=detail)
