"""Data freshness of the published results: feeds the header badge, the Status page and the API.

Each current result is graded:

* ``red``: its last refresh failed (``meta.status == "stale"``; the previous good version is
  still served), or a refresh failed before anything was ever published;
* ``amber``: it is older (by computed-at time) than its job's ``stale_after_minutes``;
* ``ok``: neither.

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
from datetime import datetime

import redis

from jobs import keys
from jobs.config import JobSettings, Settings
from jobs.store import ResultNotFound, ResultStore, utcnow

LEVELS = ("ok", "amber", "red")
"""Grades from best to worst."""

DEFAULT_STALE_AFTER_MINUTES = JobSettings.model_fields["stale_after_minutes"].default
"""Used when no job is configured at all (minutes)."""


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
        return Freshness("amber", f"aging: {len(amber)} result{'s' if len(amber) > 1 else ''}", items)
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
    item = ResultFreshness(name, job, "ok", "ok", computed_at=meta.computed_at, age_s=age, stale_after_minutes=stale_after, failure=meta.failure)
    if meta.status == "stale":
        item.level = "red"
        item.reason = f"stale, last refresh failed: {(meta.failure or {}).get('error') or 'unknown error'}"
    elif age > stale_after * 60:
        item.level = "amber"
        item.reason = f"older than {stale_after:g} min"
    return item


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
