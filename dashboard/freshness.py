"""Data freshness of the published results: feeds the header badge, the Status page and the API.

Each current result is graded:

* ``red``: its last refresh failed (``meta.status == "stale"``; the previous good version is
  still served), or a refresh failed before anything was ever published;
* ``amber``: it is older (by computed-at time) than its job's ``stale_after_minutes``, or its
  *data* is old: the as-of time lags the as-of the source should have by now by more than the
  job's ``stale_after_minutes`` plus the source's natural lag (see below);
* ``ok``: none of these.

The as-of rule (a 2023 drop file recomputed a minute ago is not fresh).  Each result has an
*as-of cadence*, declared by its producer in ``meta.extra["as_of_cadence"]`` (and optionally
``meta.extra["as_of_lag_minutes"]``), else taken from :data:`FAMILY_CADENCE` by the result's
family (the part of its name before the first dot):

* ``session`` (option chains, leveraged-ETF flows): the expected as-of is *now* while an
  exchange session is open, else the close of the last session (so Friday's close is fresh all
  weekend, and Monday 10:00 expects Monday's quotes); natural lag 15 minutes (Cboe's delayed
  quotes);
* ``daily`` (end-of-day files): the close of the last session; natural lag one day
  (publication the next morning);
* ``cftc_weekly`` (COT reports): the latest Tuesday report date whose scheduled release
  (:func:`flows.calendars.cftc_release_times`) has passed; natural lag 0 (the release rule
  already carries the publication delay);
* ``none`` (derived results such as the board, whose inputs are graded themselves; the demo):
  no as-of check.

The data is old when ``expected as-of - as-of > stale_after_minutes + natural lag``.  Sessions
and closes come from :mod:`flows.calendars` (``scheduler.calendar``); a time outside the
calendar's range skips the check rather than failing the badge.

The job of a result is found from the configured tasks (each task declares its result names),
the job's last run and last success records, and the failure mark.  A result no configured job
claims is held to the shortest ``stale_after_minutes`` of the configured jobs (a conservative
default).  The overall level is the worst grade; ``red`` too when Redis does not answer, and
``unknown`` when nothing has been published yet.

Only reads the store; nothing here is an analytic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import redis

from jobs import keys
from jobs.config import JobSettings, Settings
from jobs.store import ResultMeta, ResultNotFound, ResultStore, utcnow

LEVELS = ("ok", "amber", "red")
"""Grades from best to worst."""

DEFAULT_STALE_AFTER_MINUTES = JobSettings.model_fields["stale_after_minutes"].default
"""Used when no job is configured at all (minutes)."""


CADENCES = ("session", "daily", "cftc_weekly", "none")
"""Known as-of cadences (see the module docstring)."""
NATURAL_LAG_MINUTES = {"session": 15.0, "daily": 24 * 60.0, "cftc_weekly": 0.0, "none": 0.0}
"""Default natural lag of each cadence, minutes."""
FAMILY_CADENCE = {"gamma": "session", "letf": "session", "cftc": "cftc_weekly", "board": "none", "demo": "none"}
"""Cadence of each result family when the result does not declare one; unknown families: none."""


def format_time(ts: Any, tz: str) -> str:
    """``2026-11-30 09:14:03 EST``: an instant in the desk's time zone (``-`` when missing)."""
    if ts is None:
        return "-"
    try:
        stamp = pd.Timestamp(ts)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        return stamp.tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    except (ValueError, TypeError):
        return str(ts)


def as_of_cadence(meta: ResultMeta) -> tuple[str, float]:
    """``(cadence, natural lag in minutes)`` of a result: its declaration, else its family's."""
    extra = meta.extra or {}
    cadence = extra.get("as_of_cadence") or FAMILY_CADENCE.get(meta.name.split(".", 1)[0], "none")
    if cadence not in CADENCES:
        cadence = "none"
    lag = extra.get("as_of_lag_minutes")
    try:
        lag_min = float(lag) if lag is not None else NATURAL_LAG_MINUTES[cadence]
    except (TypeError, ValueError):
        lag_min = NATURAL_LAG_MINUTES[cadence]
    return cadence, lag_min


def expected_as_of(cadence: str, now: datetime, calendar: str = "XNYS") -> pd.Timestamp | None:
    """The as-of a source of ``cadence`` should have reached by ``now`` (UTC), or None (no rule).

    See the module docstring.  Raises :class:`flows.calendars.OutOfCalendarRange` (a
    ``ValueError``) outside the calendar's range.
    """
    from flows import calendars

    ts = pd.Timestamp(now).tz_convert("UTC")
    if cadence in ("session", "daily"):
        day = ts.tz_convert(calendars.EXCHANGE_TZ).tz_localize(None).normalize()
        session = calendars.session_on_or_before([day], calendar)[0]
        open_, close = calendars.session_opens([session], calendar)[0], calendars.session_closes([session], calendar)[0]
        if ts >= close:
            return close
        if cadence == "session" and ts >= open_:
            return ts
        previous = calendars.session_on_or_before([session - pd.Timedelta(days=1)], calendar)[0]
        return calendars.session_closes([previous], calendar)[0]
    if cadence == "cftc_weekly":
        local = ts.tz_convert(calendars.EXCHANGE_TZ).tz_localize(None).normalize()
        tuesdays = pd.DatetimeIndex([local - pd.Timedelta(days=(local.dayofweek - 1) % 7 + 7 * k) for k in range(4)])
        released = calendars.cftc_release_times(tuesdays)
        ok = tuesdays[released <= ts.tz_convert(calendars.EXCHANGE_TZ)]
        return ok.max().tz_localize(calendars.EXCHANGE_TZ).tz_convert("UTC") if len(ok) else None
    return None


@dataclass
class ResultFreshness:
    """Freshness of one result."""

    name: str
    job: str | None
    level: str
    """``ok``, ``amber`` or ``red``."""
    reason: str
    computed_at: str | None = None
    age_s: float | None = None
    """Seconds since the current version was computed."""
    stale_after_minutes: float | None = None
    failure: dict | None = None
    as_of: str | None = None
    expected_as_of: str | None = None
    """The as-of the source should have reached by now (ISO UTC; None: no as-of rule)."""
    old_data: bool = False
    """True when graded amber because the data's as-of lags (not the computation)."""

    def describe(self) -> str:
        age = f"{format_age(self.age_s)} old" if self.age_s is not None else "never published"
        return f"{self.name}: {self.reason} ({age})"


@dataclass
class Freshness:
    """Overall freshness: the worst grade of all results."""

    level: str
    """``ok``, ``amber``, ``red`` or ``unknown`` (nothing published yet)."""
    label: str
    items: list[ResultFreshness] = field(default_factory=list)
    redis_ok: bool = True
    error: str | None = None

    @property
    def css_class(self) -> str:
        return {"ok": "fd-badge-ok", "amber": "fd-badge-amber", "red": "fd-badge-red"}.get(self.level, "fd-badge-unknown")

    def tooltip(self) -> str:
        """One line per result, worst first (the badge's ``title``)."""
        if not self.redis_ok:
            return f"Redis unreachable: {self.error}"
        if not self.items:
            return "No result has been published yet: run `flowdesk refresh` or wait for the scheduler."
        order = {lvl: i for i, lvl in enumerate(reversed(LEVELS))}
        return "\n".join(item.describe() for item in sorted(self.items, key=lambda i: (order[i.level], i.name)))


def format_age(seconds: float | None) -> str:
    """``42 s``, ``7 min``, ``3.5 h``, ``2.1 d`` (``-`` when unknown)."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def result_jobs(settings: Settings, store: ResultStore) -> dict[str, str]:
    """Map result name -> job name, from the task declarations and the jobs' run records."""
    from jobs.tasks import TASKS

    mapping: dict[str, str] = {}
    for job, spec in settings.jobs.items():
        names: list[str] = []
        task = TASKS.get(spec.task)
        if task is not None:
            try:
                names.extend(task.results(settings, dict(spec.args)))
            except Exception:  # a task's name function failing must not hide the others
                pass
        for record in (store.last_success(job), store.last_run(job)):
            if record is not None:
                names.extend(record.results)
        for name in names:
            mapping.setdefault(name, job)
    return mapping


def fallback_stale_after(settings: Settings) -> float:
    """Shortest ``stale_after_minutes`` of the configured jobs (minutes)."""
    values = [job.stale_after_minutes for job in settings.jobs.values()]
    return min(values) if values else DEFAULT_STALE_AFTER_MINUTES


def assess(settings: Settings, store: ResultStore, now: datetime | None = None) -> Freshness:
    """Grade every published result (see the module docstring).  Never raises on Redis errors."""
    now = now or utcnow()
    try:
        names = store.names()
        mapping = result_jobs(settings, store)
        items = [_grade(settings, store, name, mapping, now) for name in names]
    except redis.RedisError as exc:
        return Freshness("red", "Redis unreachable", [], redis_ok=False, error=f"{type(exc).__name__}: {exc}")
    items = [i for i in items if i is not None]
    if not items:
        return Freshness("unknown", "no data yet", [])
    red = [i for i in items if i.level == "red"]
    amber = [i for i in items if i.level == "amber"]
    if red:
        return Freshness("red", f"stale: {len(red)} result{'s' if len(red) > 1 else ''}", items)
    if amber:
        word = "old data" if any(i.old_data for i in amber) else "aging"
        return Freshness("amber", f"{word}: {len(amber)} result{'s' if len(amber) > 1 else ''}", items)
    return Freshness("ok", "fresh", items)


def _grade(settings: Settings, store: ResultStore, name: str, mapping: dict[str, str], now: datetime) -> ResultFreshness | None:
    try:
        meta = store.meta(name)
    except ResultNotFound:
        # Indexed but never published: only a failure mark puts a name there without a version.
        raw = store.redis.get(keys.result_status(name))
        if raw is None:
            return None
        failure = json.loads(raw)
        return ResultFreshness(name, failure.get("job") or mapping.get(name), "red", f"failed, never published: {failure.get('error')}", failure=failure)
    job = mapping.get(name) or (meta.failure or {}).get("job")
    stale_after = settings.jobs[job].stale_after_minutes if job in settings.jobs else fallback_stale_after(settings)
    age = meta.age_seconds(now)
    item = ResultFreshness(name, job, "ok", "ok", computed_at=meta.computed_at, age_s=age, stale_after_minutes=stale_after, failure=meta.failure, as_of=meta.as_of)
    old = _old_data(settings, meta, stale_after, now)
    if meta.status == "stale":
        item.level = "red"
        item.reason = f"stale, last refresh failed: {(meta.failure or {}).get('error') or 'unknown error'}"
    elif old is not None:
        item.level, item.old_data = "amber", True
        item.expected_as_of, item.reason = old
    elif age > stale_after * 60:
        item.level = "amber"
        item.reason = f"older than {stale_after:g} min"
    return item


def _old_data(settings: Settings, meta: ResultMeta, stale_after_min: float, now: datetime) -> tuple[str, str] | None:
    """``(expected as-of ISO, reason)`` when the data's as-of lags too far (module docstring)."""
    cadence, lag_min = as_of_cadence(meta)
    try:
        expected = expected_as_of(cadence, now, settings.scheduler.calendar)
        as_of = pd.Timestamp(meta.as_of)
    except (ValueError, TypeError, KeyError, IndexError):  # outside the calendar, bad time: no verdict
        return None
    if expected is None or as_of.tzinfo is None:
        return None
    behind = expected - as_of.tz_convert("UTC")
    if behind <= timedelta(minutes=stale_after_min + lag_min):
        return None
    tz = settings.service.timezone
    reason = (
        f"old data: as of {format_time(as_of, tz)}, expected as of {format_time(expected, tz)} or later "
        f"({cadence} source; allowed {stale_after_min + lag_min:g} min behind)"
    )
    return expected.isoformat(), reason


LATE_BEATS = 3
"""A scheduler heartbeat older than this many ``scheduler.heartbeat_seconds`` is late (amber)."""


def heartbeat_state(beat: dict | None, heartbeat_seconds: float) -> tuple[str, str, str]:
    """``(level, text, detail)`` of the scheduler heartbeat for the Status page.

    ``beat`` is :meth:`jobs.store.ResultStore.heartbeat` (``None`` once it expired): ``amber``
    when missing or late, else ``ok``.
    """
    if beat is None:
        return "amber", "no heartbeat", "no scheduler process has reported recently (flowdesk scheduler)"
    role = "leader" if beat.get("leader") else "standby"
    late = beat["age_s"] > LATE_BEATS * heartbeat_seconds
    text = f"beat {format_age(beat['age_s'])} ago" + (" (late)" if late else "")
    return ("amber" if late else "ok"), text, f"{role} pid {beat.get('pid')} on {beat.get('host')}"
