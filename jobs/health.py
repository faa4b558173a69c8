"""Health of a flowdesk installation: the one definition behind ``flowdesk status``, the Status
page, ``/healthz``, the API's listings and the header badge.

Four parts, each graded here and nowhere else:

* **Redis**: answers ``PING`` or not (:func:`redis_health`);
* **scheduler**: its heartbeat (:func:`heartbeat_state`): late when older than
  ``max(scheduler.leader_lease_seconds, LATE_BEATS * scheduler.heartbeat_seconds)``;
* **jobs** (:func:`job_health`): ``failed`` when the last run failed, ``never succeeded``,
  ``aging`` when the last success ended more than ``stale_after_minutes`` ago, else ``fresh``;
* **results** (:func:`assess`): the freshness grade below.

:func:`collect` gathers the four into one :class:`Health`.

Each current result is graded:

* ``red``: its last refresh failed (``meta.status == "stale"``; the previous good version is
  still served), or a refresh failed before anything was ever published;
* ``amber``: it is older (by computed-at time) than its job's ``stale_after_minutes``, or its
  *data* is old: the as-of time lags the as-of the source should have by now by more than the
  job's ``stale_after_minutes`` plus the source's natural lag (see below);
* ``ok``: none of these.

The as-of rule (a 2023 drop file recomputed a minute ago is not fresh).  Each result has an
*as-of cadence*: its producer's ``meta.extra["as_of_cadence"]`` (and optionally
``meta.extra["as_of_lag_minutes"]``) when it sets one, else the ``cadence`` of the result's
declaration (:mod:`jobs.declarations`, mapped by :data:`DECLARED_CADENCE`):

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

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import redis

from flows import formatting
from jobs import declarations
from jobs.config import JobSettings, Settings
from jobs.logs import mask_secrets
from jobs.store import ResultMeta, ResultNotFound, ResultStore, RunRecord, keys, utcnow

LEVELS = ("ok", "amber", "red")
"""Grades from best to worst."""

DEFAULT_STALE_AFTER_MINUTES = JobSettings.model_fields["stale_after_minutes"].default
"""Used when no job is configured at all (minutes)."""


CADENCES = ("session", "daily", "cftc_weekly", "none")
"""Known as-of cadences (see the module docstring)."""
NATURAL_LAG_MINUTES = {"session": 15.0, "daily": 24 * 60.0, "cftc_weekly": 0.0, "none": 0.0}
"""Default natural lag of each cadence, minutes."""
DECLARED_CADENCE = {
    "session": "session",
    "daily": "daily",
    "weekly-cftc": "cftc_weekly",
    "derived": "none",
    "on-demand": "none",
}
"""The health cadence of each declared cadence (:data:`jobs.declarations.CADENCES`): derived
results are graded through their inputs, on-demand ones have no as-of rule."""


def declared_cadence(name: str) -> str:
    """The health cadence of result ``name`` from its declaration (``none`` when undeclared)."""
    decl = declarations.find(name)
    return DECLARED_CADENCE.get(decl.cadence, "none") if decl is not None else "none"


def format_time(ts: Any, tz: str) -> str:
    """``2026-11-30 09:14:03 EST``: an instant in the desk's time zone (``-`` when missing);
    :func:`flows.formatting.format_time` with seconds."""
    return formatting.format_time(ts, tz, seconds=True, missing="-")


def as_of_cadence(meta: ResultMeta) -> tuple[str, float]:
    """``(cadence, natural lag in minutes)`` of a result: its producer's, else its declaration's."""
    extra = meta.extra or {}
    cadence = extra.get("as_of_cadence") or declared_cadence(meta.name)
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
        open_, close = (
            calendars.session_opens([session], calendar)[0],
            calendars.session_closes([session], calendar)[0],
        )
        if ts >= close:
            return close
        if cadence == "session" and ts >= open_:
            return ts
        previous = calendars.session_on_or_before([session - pd.Timedelta(days=1)], calendar)[0]
        return calendars.session_closes([previous], calendar)[0]
    if cadence == "cftc_weekly":
        local = ts.tz_convert(calendars.EXCHANGE_TZ).tz_localize(None).normalize()
        tuesdays = pd.DatetimeIndex(
            [local - pd.Timedelta(days=(local.day_of_week - 1) % 7 + 7 * k) for k in range(4)]
        )
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

    def describe(self, tz: str | None = None) -> str:
        """``name: reason (age)``; with ``tz``, the computation time in that zone instead of an
        age, so the text changes only when something is published (the header badge's tooltip
        is then re-sent only on a change)."""
        if self.age_s is None or self.computed_at is None:
            return f"{self.name}: {self.reason} (never published)"
        if tz is not None:
            return f"{self.name}: {self.reason} (computed {format_time(self.computed_at, tz)})"
        return f"{self.name}: {self.reason} ({format_age(self.age_s)} old)"


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
        return {"ok": "fd-badge-ok", "amber": "fd-badge-amber", "red": "fd-badge-red"}.get(
            self.level, "fd-badge-unknown"
        )

    def tooltip(self, tz: str | None = None) -> str:
        """One line per result, worst first (the badge's ``title``; ``tz``: see
        :meth:`ResultFreshness.describe`)."""
        if not self.redis_ok:
            return f"Redis unreachable: {self.error}"
        if not self.items:
            return "No result has been published yet: run `flowdesk refresh` or wait for the scheduler."
        order = {lvl: i for i, lvl in enumerate(reversed(LEVELS))}
        return "\n".join(
            item.describe(tz) for item in sorted(self.items, key=lambda i: (order[i.level], i.name))
        )


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
    from jobs.tasks import load_tasks

    tasks = load_tasks()
    mapping: dict[str, str] = {}
    recorded = _recorded_results(store, list(settings.jobs))
    for job, spec in settings.jobs.items():
        names: list[str] = []
        task = tasks.get(spec.task)
        if task is not None:
            try:
                names.extend(task.results(settings, dict(spec.args)))
            except Exception:  # a task's name function failing must not hide the others
                pass
        names.extend(recorded.get(job, []))
        for name in names:
            mapping.setdefault(name, job)
    return mapping


def _recorded_results(store: ResultStore, jobs: list[str]) -> dict[str, list[str]]:
    """Result names in each job's last success and last run (one pipelined round trip)."""
    if not jobs:
        return {}
    with store.redis.pipeline(transaction=False) as pipe:
        for job in jobs:
            pipe.get(keys.job_last_success(job))
            pipe.get(keys.job_last_run(job))
        raws = pipe.execute()
    out: dict[str, list[str]] = {}
    for i, job in enumerate(jobs):
        for raw in raws[2 * i : 2 * i + 2]:
            if raw is not None:
                out.setdefault(job, []).extend(RunRecord.from_json(raw).results)
    return out


def fallback_stale_after(settings: Settings) -> float:
    """Shortest ``stale_after_minutes`` of the configured jobs (minutes)."""
    values = [job.stale_after_minutes for job in settings.jobs.values()]
    return min(values) if values else DEFAULT_STALE_AFTER_MINUTES


def assess(
    settings: Settings,
    store: ResultStore,
    now: datetime | None = None,
    *,
    metas: Mapping[str, ResultMeta] | None = None,
) -> Freshness:
    """Grade every published result (see the module docstring).  Never raises on Redis errors.

    ``metas``: current metadata already read (``store.summaries()`` by name), not read again."""
    now = now or utcnow()
    try:
        names = store.names()
        mapping = result_jobs(settings, store)
        items = [
            _grade(settings, store, name, mapping, now, (metas or {}).get(name)) for name in names
        ]
    except redis.RedisError as exc:
        return Freshness(
            "red", "Redis unreachable", [], redis_ok=False, error=f"{type(exc).__name__}: {exc}"
        )
    items = [i for i in items if i is not None]
    if not items:
        return Freshness("unknown", "no data yet", [])
    red = [i for i in items if i.level == "red"]
    amber = [i for i in items if i.level == "amber"]
    if red:
        return Freshness("red", f"stale: {len(red)} result{'s' if len(red) > 1 else ''}", items)
    if amber:
        word = "old data" if any(i.old_data for i in amber) else "aging"
        return Freshness(
            "amber", f"{word}: {len(amber)} result{'s' if len(amber) > 1 else ''}", items
        )
    return Freshness("ok", "fresh", items)


def _grade(
    settings: Settings,
    store: ResultStore,
    name: str,
    mapping: dict[str, str],
    now: datetime,
    meta: ResultMeta | None = None,
) -> ResultFreshness | None:
    try:
        meta = meta if meta is not None else store.meta(name)
    except ResultNotFound:
        # Indexed but never published: only a failure mark puts a name there without a version.
        raw = store.redis.get(keys.result_status(name))
        if raw is None:
            return None
        failure = json.loads(raw)
        return ResultFreshness(
            name,
            failure.get("job") or mapping.get(name),
            "red",
            f"failed, never published: {failure.get('error')}",
            failure=failure,
        )
    job = mapping.get(name) or (meta.failure or {}).get("job")
    stale_after = (
        settings.jobs[job].stale_after_minutes
        if job in settings.jobs
        else fallback_stale_after(settings)
    )
    age = meta.age_seconds(now)
    item = ResultFreshness(
        name,
        job,
        "ok",
        "ok",
        computed_at=meta.computed_at,
        age_s=age,
        stale_after_minutes=stale_after,
        failure=meta.failure,
        as_of=meta.as_of,
    )
    old = _old_data(settings, meta, stale_after, now)
    if meta.status == "stale":
        item.level = "red"
        item.reason = (
            f"stale, last refresh failed: {(meta.failure or {}).get('error') or 'unknown error'}"
        )
    elif old is not None:
        item.level, item.old_data = "amber", True
        item.expected_as_of, item.reason = old
    elif age > stale_after * 60:
        item.level = "amber"
        item.reason = f"older than {stale_after:g} min"
    return item


@functools.lru_cache(maxsize=64)
def _expected_as_of_cached(cadence: str, now: datetime, calendar: str) -> pd.Timestamp | None:
    """:func:`expected_as_of` remembered per ``(cadence, now, calendar)``: one :func:`assess`
    grades every result at the same ``now``, so each cadence's calendar lookups run once."""
    return expected_as_of(cadence, now, calendar)


def _old_data(
    settings: Settings, meta: ResultMeta, stale_after_min: float, now: datetime
) -> tuple[str, str] | None:
    """``(expected as-of ISO, reason)`` when the data's as-of lags too far (module docstring)."""
    cadence, lag_min = as_of_cadence(meta)
    try:
        expected = _expected_as_of_cached(cadence, now, settings.scheduler.calendar)
        as_of = pd.Timestamp(meta.as_of)
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
    ):  # outside the calendar, bad time: no verdict
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
"""A scheduler heartbeat older than this many ``scheduler.heartbeat_seconds`` (and than the leader
lease) is late: the scheduler is not beating."""


def heartbeat_late_after(heartbeat_seconds: float, lease_seconds: float = 0.0) -> float:
    """Seconds after which a scheduler heartbeat is late: a leader beats every
    ``scheduler.heartbeat_seconds`` and renews its lease at least :data:`LATE_BEATS` times per
    ``scheduler.leader_lease_seconds``."""
    return float(max(lease_seconds, LATE_BEATS * heartbeat_seconds))


def heartbeat_state(
    beat: dict | None, heartbeat_seconds: float, lease_seconds: float = 0.0
) -> tuple[str, str, str]:
    """``(level, text, detail)`` of the scheduler heartbeat.

    ``beat`` is :meth:`jobs.store.ResultStore.heartbeat` (``None`` once it expired): ``amber``
    when missing or late (:func:`heartbeat_late_after`), else ``ok``.
    """
    if beat is None:
        return (
            "amber",
            "no heartbeat",
            "no scheduler process has reported recently (flowdesk scheduler)",
        )
    role = "leader" if beat.get("leader") else "standby"
    late = beat["age_s"] > heartbeat_late_after(heartbeat_seconds, lease_seconds)
    text = f"beat {format_age(beat['age_s'])} ago" + (" (late)" if late else "")
    return ("amber" if late else "ok"), text, f"{role} pid {beat.get('pid')} on {beat.get('host')}"


def scheduler_health(settings: Settings, store: ResultStore) -> dict[str, Any] | None:
    """The scheduler's heartbeat record plus ``alive`` (not late), or None when it expired."""
    beat = store.heartbeat()
    if beat is not None:
        s = settings.scheduler
        beat["alive"] = beat["age_s"] <= heartbeat_late_after(
            s.heartbeat_seconds, s.leader_lease_seconds
        )
    return beat


# -- jobs ---------------------------------------------------------------------------------------
JOB_STATES = ("fresh", "aging", "never succeeded", "stale (last run failed)")
"""A job's state, best first (see the module docstring)."""


@dataclass
class JobHealth:
    """One job: its configuration, last run, last success and state."""

    job: str
    spec: JobSettings | None
    """None for a job found in the store but no longer configured."""
    last_run: RunRecord | None
    last_success: RunRecord | None
    age_minutes: float | None
    """Minutes since the last success ended (None: never succeeded)."""
    state: str
    """One of :data:`JOB_STATES`."""

    @property
    def stale(self) -> bool:
        return self.state != "fresh"

    @property
    def error(self) -> str | None:
        """The last run's error when it did not succeed (nor was skipped)."""
        last = self.last_run
        return last.error if last and last.status not in ("ok", "skipped") else None

    def to_dict(self) -> dict[str, Any]:
        """The ``flowdesk status --json`` record (stable keys)."""
        spec = self.spec
        return {
            "job": self.job,
            "task": spec.task if spec else None,
            "cron": spec.cron if spec else None,
            "second": spec.second if spec else None,
            "enabled": spec.enabled if spec else None,
            "trading_days_only": spec.trading_days_only if spec else None,
            "last_run": self.last_run.to_dict() if self.last_run else None,
            "last_success": self.last_success.to_dict() if self.last_success else None,
            "age_minutes": self.age_minutes,
            "stale_after_minutes": spec.stale_after_minutes if spec else None,
            "stale": self.stale,
            "error": self.error,
        }


def _age_minutes(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    return round((now - datetime.fromisoformat(iso)).total_seconds() / 60.0, 2)


def job_state(
    last: RunRecord | None,
    success: RunRecord | None,
    age_minutes: float | None,
    stale_after_minutes: float,
) -> str:
    """The state of a job (one of :data:`JOB_STATES`; rule in the module docstring)."""
    if last is not None and last.status == "failed":
        return "stale (last run failed)"
    if success is None or age_minutes is None:
        return "never succeeded"
    if age_minutes > stale_after_minutes:
        return "aging"
    return "fresh"


def job_health(
    settings: Settings,
    store: ResultStore | None,
    now: datetime | None = None,
    *,
    include_unconfigured: bool = False,
) -> list[JobHealth]:
    """Every configured job (config order), then, with ``include_unconfigured``, the jobs the store
    has records of that are no longer configured (sorted).  ``store`` None: no records."""
    now = now or datetime.now(UTC)
    names = list(settings.jobs)
    if include_unconfigured and store is not None:
        names += sorted(set(store.job_names()) - set(settings.jobs))
    out = []
    for name in names:
        spec = settings.jobs.get(name)
        last = store.last_run(name) if store else None
        success = store.last_success(name) if store else None
        age = _age_minutes((success.ended_at or success.started_at) if success else None, now)
        stale_after = spec.stale_after_minutes if spec else fallback_stale_after(settings)
        out.append(
            JobHealth(name, spec, last, success, age, job_state(last, success, age, stale_after))
        )
    return out


# -- redis and the whole --------------------------------------------------------------------------
NO_REDIS_MESSAGE = (
    "no Redis configured: set REDIS_URL (e.g. export REDIS_URL=redis://127.0.0.1:6379/0) "
    "or service.redis_url in config.toml, or use `flowdesk run`, which starts an embedded "
    "development Redis"
)


def redis_health(settings: Settings) -> tuple[dict[str, Any], ResultStore | None]:
    """``({"ok", "url" (masked), "error"?}, a connected store or None)``; never raises."""
    url = settings.service.redis_url
    info: dict[str, Any] = {"ok": False, "url": mask_secrets(url) if url else None}
    if not url:
        info["error"] = NO_REDIS_MESSAGE
        return info, None
    store = ResultStore.from_settings(settings)
    try:
        store.redis.ping()
    except Exception as exc:  # any failure to answer is "unreachable", with its reason
        info["error"] = f"{type(exc).__name__}: {mask_secrets(str(exc))}"
        return info, None
    info["ok"] = True
    return info, store


@dataclass
class Health:
    """Redis, the scheduler, every job and every result, graded at ``generated_at``."""

    config: str
    generated_at: datetime
    redis: dict[str, Any]
    scheduler: dict[str, Any] | None
    jobs: list[JobHealth]
    freshness: Freshness
    metas: dict[str, ResultMeta] = field(default_factory=dict)

    @property
    def redis_ok(self) -> bool:
        return bool(self.redis.get("ok"))

    def result_rows(self) -> list[dict[str, Any]]:
        """One record per published result (``flowdesk status --json``'s ``results``)."""
        grades = {item.name: item for item in self.freshness.items}
        rows = []
        for meta in self.metas.values():
            grade = grades.get(meta.name)
            rows.append(
                {
                    "name": meta.name,
                    "as_of": meta.as_of,
                    "computed_at": meta.computed_at,
                    "age_minutes": _age_minutes(meta.computed_at, self.generated_at),
                    "source": meta.source,
                    "status": meta.status,
                    "sample": meta.sample,
                    "rows": meta.rows,
                    "error": (meta.failure or {}).get("error"),
                    "freshness": grade.level if grade else None,
                    "freshness_reason": grade.reason if grade and grade.level != "ok" else None,
                    # a result's own warnings (cftc.net_usd: "behind schedule: ..."); not failures
                    "warnings": [str(w) for w in (meta.extra or {}).get("warnings", [])],
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The ``flowdesk status --json`` document."""
        return {
            "config": self.config,
            "generated_at": self.generated_at.isoformat(),
            "redis": self.redis,
            "scheduler": self.scheduler,
            "jobs": [j.to_dict() for j in self.jobs],
            "results": self.result_rows(),
        }


def collect(
    settings: Settings,
    store: ResultStore | None = None,
    now: datetime | None = None,
    *,
    include_unconfigured: bool = False,
) -> Health:
    """Grade everything (see the module docstring); never raises on Redis errors.

    ``store``: a store to read (the web app passes its own); None connects to
    ``service.redis_url`` and pings it first.
    """
    now = now or datetime.now(UTC)
    if store is None:
        info, store = redis_health(settings)
    else:
        info = {
            "ok": True,
            "url": mask_secrets(settings.service.redis_url) if settings.service.redis_url else None,
        }
        try:
            store.redis.ping()
        except Exception as exc:
            info = {**info, "ok": False, "error": f"{type(exc).__name__}: {mask_secrets(str(exc))}"}
            store = None
    if store is None:
        fresh = Freshness("red", "Redis unreachable", [], redis_ok=False, error=info.get("error"))
        return Health(settings.source_path, now, info, None, job_health(settings, None, now), fresh)
    try:
        jobs = job_health(settings, store, now, include_unconfigured=include_unconfigured)
        fresh = assess(settings, store, now)
        metas = {m.name: m for m in store.summaries()}
        beat = scheduler_health(settings, store)
    except redis.RedisError as exc:  # Redis dropped mid-way
        info = {**info, "ok": False, "error": f"{type(exc).__name__}: {mask_secrets(str(exc))}"}
        fresh = Freshness("red", "Redis unreachable", [], redis_ok=False, error=info["error"])
        return Health(settings.source_path, now, info, None, job_health(settings, None, now), fresh)
    return Health(settings.source_path, now, info, beat, jobs, fresh, metas)
