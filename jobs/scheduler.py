"""The scheduler process: fires the configured jobs on their cron slots, exactly once per slot.

One dedicated process (``flowdesk scheduler``) runs an APScheduler 3 ``BlockingScheduler`` whose
jobs come from ``[jobs.*]`` in ``config.toml`` (the enabled ones), with cron triggers in the
desk's time zone, ``coalesce`` and ``misfire_grace_time`` from ``[scheduler]``.

Running two scheduler processes (a standby, or an accidental second start) never runs a slot
twice; two mechanisms, both on Redis:

* **Leader lease.**  A redis-py ``Lock`` on :func:`jobs.store.keys.scheduler_leader` with a timeout of
  ``leader_lease_seconds``.  The heartbeat job renews it (``reacquire()``) every
  ``min(heartbeat_seconds, leader_lease_seconds / 3)`` seconds; only the holder fires jobs.  A
  follower keeps trying to acquire it (on every heartbeat and at every slot), so when the leader
  dies the follower takes over within one lease period.  A follower also watches each slot for
  up to one lease (within the misfire grace): if the leader claims it, fine; if the leader died
  just before the slot, the follower takes over and runs it late rather than losing it.  A
  clean stop releases the lease at once.
* **Slot claim.**  Before running, the leader claims the slot with
  ``SET <job_slot(job, slot)> <owner> NX EX slot_lock_seconds`` where ``slot`` is the scheduled
  fire time (ISO 8601 in the desk's time zone).  Only the winner runs it, so even two processes
  that both believe they lead (a paused leader whose lease lapsed) run a slot once.

Trading-calendar gate: a job with ``trading_days_only = true`` does not run on a slot whose
desk-local date is not a session of ``scheduler.calendar`` (exchange-calendars, default XNYS):
no morning refresh on Thanksgiving or Christmas.  The claimed slot is recorded as a run with
status ``skipped`` and the reason, so the Status page shows why nothing ran.

Jobs run through :func:`jobs.runner.run_job` (retries, run records, stale marks); nothing a job
raises reaches the scheduler.  Every event is one log line.

Cron: the five crontab fields (``minute hour day month day-of-week``) with crontab's day-of-week
numbers (0 or 7 = Sunday, 1-5 = Monday to Friday; APScheduler 3 numbers Monday as 0, so numbers
are translated, see :func:`crontab_day_of_week`), plus an optional ``second`` key per job
(default ``0``) for sub-minute demo and test schedules.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from traceback import format_tb
from typing import Any

import redis
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from redis.exceptions import LockError, LockNotOwnedError

from flows import calendars
from jobs.config import ConfigError, JobSettings, Settings, cron_trigger, crontab_day_of_week  # noqa: F401 (re-exported)
from jobs.runner import run_job
from jobs.store import ResultStore, RunRecord, keys, utcnow

log = logging.getLogger("flowdesk.scheduler")

AfterPublish = Callable[[list[str]], None]


# -- cron and calendar --------------------------------------------------------------------
def check_calendar(name: str) -> None:
    """Raise ``ValueError`` naming the valid choices when ``name`` is not an exchange calendar."""
    calendars.exchange_calendar(name)


def is_session(calendar_name: str, day: date) -> bool:
    """True when ``day`` (a desk-local date) is a trading session of ``calendar_name``
    (weekends and exchange holidays are not; :func:`flows.calendars.is_session`)."""
    return bool(calendars.is_session([day], calendar_name)[0])


# -- leader lease -------------------------------------------------------------------------
class LeaderLease:
    """The scheduler leader lease: a redis-py ``Lock`` renewed by the heartbeat.

    Thread-safe: the heartbeat and the job threads share one instance (``thread_local=False``
    so that a token taken in one thread can be renewed from another).
    """

    def __init__(self, client: redis.Redis, lease_seconds: float, owner: str) -> None:
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._lock = client.lock(
            keys.scheduler_leader(), timeout=lease_seconds, blocking=False, thread_local=False
        )
        self._mutex = threading.Lock()
        self.held = False

    def refresh(self) -> bool:
        """Renew the lease if held, else try to take it.  Returns whether this process leads."""
        with self._mutex:
            try:
                if self.held:
                    try:
                        self._lock.reacquire()
                        return True
                    except LockNotOwnedError:
                        self.held = False
                        log.warning(
                            "leader lease lost owner=%s (lease expired or taken over)", self.owner
                        )
                if self._lock.acquire(blocking=False):
                    self.held = True
                    log.info("leader acquired owner=%s lease_s=%g", self.owner, self.lease_seconds)
            except (redis.RedisError, LockError) as exc:
                # Without Redis nothing can run anyway; stop leading until the lease is renewed.
                if self.held:
                    log.error("leader lease renewal failed owner=%s error=%s", self.owner, exc)
                else:
                    log.error("leader lease acquire failed owner=%s error=%s", self.owner, exc)
                self.held = False
            return self.held

    def release(self) -> None:
        """Give the lease up (clean shutdown): a follower takes over at its next attempt."""
        with self._mutex:
            if not self.held:
                return
            try:
                self._lock.release()
                log.info("leader released owner=%s", self.owner)
            except (redis.RedisError, LockError) as exc:
                log.warning("leader release failed owner=%s error=%s", self.owner, exc)
            self.held = False


# -- firing slots -------------------------------------------------------------------------
class SlotRunner:
    """Decides whether this process runs a scheduled slot, and runs it.

    ``fire(job, scheduled_time)`` is what the scheduler calls at every trigger: leader check,
    slot claim, calendar gate, then :func:`jobs.runner.run_job`.

    A follower does not drop a slot at once: it watches it for up to ``follower_wait_s``
    (default: one lease plus two renewals, capped by the misfire grace time).  If the leader
    claims the slot the follower stops watching; if the leader is dead, its lease expires within
    that window, the follower takes the lease and runs the slot late instead of losing it (the
    08:00 refresh still happens when the leader died at 07:59:50).
    """

    def __init__(
        self,
        settings: Settings,
        store: ResultStore,
        leader: LeaderLease,
        *,
        after_publish: AfterPublish | None = None,
        sleep: Callable[[float], None] | None = None,
        follower_wait_s: float | None = None,
        poll_s: float = 0.5,
    ) -> None:
        self.settings = settings
        self.store = store
        self.leader = leader
        self.after_publish = after_publish
        self.sleep = sleep
        s = settings.scheduler
        default_wait = min(
            float(s.misfire_grace_seconds), leader.lease_seconds + 2 * renew_interval(settings)
        )
        self.follower_wait_s = default_wait if follower_wait_s is None else follower_wait_s
        self.poll_s = poll_s

    def slot_id(self, scheduled_time: datetime) -> str:
        """The slot: the scheduled fire time, ISO 8601 in the desk's time zone."""
        return scheduled_time.astimezone(self.settings.tz).isoformat()

    def claim(self, job: str, slot: str) -> bool:
        """``SET NX EX`` the slot key; True when this process won it."""
        ttl = self.settings.scheduler.slot_lock_seconds
        return bool(
            self.store.redis.set(keys.job_slot(job, slot), self.leader.owner, nx=True, ex=ttl)
        )

    def fire(self, job: str, scheduled_time: datetime | None = None) -> RunRecord | None:
        """Run ``job`` for the slot at ``scheduled_time`` if this process leads and wins the claim.

        ``scheduled_time`` is passed by :class:`SlotExecutor` (None: now, to the second).
        Returns the run record (``skipped`` on a non-session day), or None when another
        process has (or may have) the slot.  Never raises.
        """
        if scheduled_time is None:
            scheduled_time = datetime.now(self.settings.tz).replace(microsecond=0)
        try:
            return self._fire(job, scheduled_time)
        except Exception as exc:  # the scheduler must outlive any failure here (e.g. Redis down)
            log.error(
                "slot error job=%s slot=%s error=%s: %s",
                job,
                self.slot_id(scheduled_time),
                type(exc).__name__,
                exc,
            )
            return None

    def _lead_or_watch(self, job: str, slot: str) -> bool:
        """True when this process leads (now, or after the leader's lease lapsed while watching)."""
        deadline = time.monotonic() + self.follower_wait_s
        while not self.leader.refresh():
            if self.store.redis.exists(keys.job_slot(job, slot)):
                log.debug("slot taken by the leader job=%s slot=%s", job, slot)
                return False
            if time.monotonic() >= deadline:
                log.debug("slot left to the leader job=%s slot=%s", job, slot)
                return False
            time.sleep(self.poll_s)
        return True

    def _fire(self, job: str, scheduled_time: datetime) -> RunRecord | None:
        local = scheduled_time.astimezone(self.settings.tz)
        slot = self.slot_id(scheduled_time)
        if not self._lead_or_watch(job, slot):
            return None
        if not self.claim(job, slot):
            log.info("slot already claimed job=%s slot=%s", job, slot)
            return None
        spec = self.settings.jobs[job]
        calendar = self.settings.scheduler.calendar
        if spec.trading_days_only and not is_session(calendar, local.date()):
            now = utcnow().isoformat()
            reason = f"{local.date().isoformat()} is not a {calendar} session (weekend or exchange holiday)"
            record = RunRecord(
                job=job,
                slot=slot,
                started_at=now,
                ended_at=now,
                duration_s=0.0,
                status="skipped",
                attempts=0,
                detail=reason,
            )
            self.store.record_run(record)
            log.info("job skipped job=%s slot=%s reason=%s", job, slot, reason.replace(" ", "_"))
            return record
        kwargs: dict[str, Any] = {"now": local, "slot": slot, "after_publish": self.after_publish}
        if self.sleep is not None:
            kwargs["sleep"] = self.sleep
        return run_job(self.settings, self.store, job, **kwargs)


class SlotExecutor(BaseExecutor):
    """A thread-pool executor that tells each job its scheduled fire time.

    APScheduler 3 calls a job's function without the time it was scheduled for; the slot must be
    that time (not the clock when the thread starts) for two processes to agree on it.  This
    executor calls ``func(*args, scheduled_time=<fire time>, **kwargs)``, honouring the misfire
    grace time like APScheduler's own executors.
    """

    def __init__(self, max_workers: int = 8) -> None:
        super().__init__()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers, thread_name_prefix="flowdesk-job"
        )

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def done(future: concurrent.futures.Future[list[JobExecutionEvent]]) -> None:
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(self._run, job, list(run_times)).add_done_callback(done)

    def _run(self, job: Any, run_times: list[datetime]) -> list[JobExecutionEvent]:
        events = []
        for run_time in run_times:
            late = datetime.now(UTC) - run_time
            if job.misfire_grace_time is not None and late > timedelta(
                seconds=job.misfire_grace_time
            ):
                log.warning(
                    "slot missed job=%s slot=%s late_s=%.1f (beyond misfire grace)",
                    job.id,
                    run_time.isoformat(),
                    late.total_seconds(),
                )
                events.append(
                    JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, run_time)
                )
                continue
            try:
                retval = job.func(*job.args, scheduled_time=run_time, **job.kwargs)
            except BaseException as exc:
                events.append(
                    JobExecutionEvent(
                        EVENT_JOB_ERROR,
                        job.id,
                        job._jobstore_alias,
                        run_time,
                        exception=exc,
                        traceback="".join(format_tb(exc.__traceback__)),
                    )
                )
                log.error(
                    "slot function raised job=%s error=%s: %s", job.id, type(exc).__name__, exc
                )
            else:
                events.append(
                    JobExecutionEvent(
                        EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time, retval=retval
                    )
                )
        return events

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait)


class FlowdeskScheduler(BlockingScheduler):
    """A ``BlockingScheduler`` that carries its :class:`SlotRunner` and :class:`LeaderLease`."""

    runner: SlotRunner
    leader: LeaderLease


def owner_id() -> str:
    """``host:pid``: who holds the lease or a slot claim (shown in Redis for debugging)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def renew_interval(settings: Settings) -> float:
    """Seconds between heartbeats: at most a third of the lease, so two renewals may fail in a row."""
    s = settings.scheduler
    return float(min(s.heartbeat_seconds, s.leader_lease_seconds / 3.0))


def build_scheduler(
    settings: Settings,
    store: ResultStore,
    *,
    after_publish: AfterPublish | None = None,
    owner: str | None = None,
) -> FlowdeskScheduler:
    """Build (not start) the scheduler for the enabled jobs of ``settings``.

    Raises :class:`jobs.config.ConfigError` when ``scheduler.calendar`` is unknown and a job
    needs it.
    """
    s = settings.scheduler
    tz = settings.tz
    enabled = {name: job for name, job in settings.jobs.items() if job.enabled}
    if any(job.trading_days_only for job in enabled.values()):
        try:
            check_calendar(s.calendar)
        except ValueError as exc:
            raise ConfigError(settings.source_path, [("scheduler.calendar", str(exc))]) from None
    leader = LeaderLease(store.redis, s.leader_lease_seconds, owner or owner_id())
    runner = SlotRunner(settings, store, leader, after_publish=after_publish)
    scheduler = FlowdeskScheduler(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(2), "slots": SlotExecutor(max(4, len(enabled)))},
        job_defaults={
            "coalesce": s.coalesce,
            "misfire_grace_time": s.misfire_grace_seconds,
            "max_instances": 1,
        },
    )
    scheduler.runner = runner
    scheduler.leader = leader
    beat_ttl = max(120, int(3 * s.heartbeat_seconds))

    def heartbeat() -> None:
        try:
            leading = leader.refresh()
            if leading:  # only the leader beats: /healthz shows whether jobs are being fired
                store.beat(leader=True, ttl_s=beat_ttl)
        except Exception as exc:  # never let a Redis blip kill the heartbeat job
            log.error("heartbeat failed error=%s: %s", type(exc).__name__, exc)

    scheduler.add_job(
        heartbeat,
        IntervalTrigger(seconds=renew_interval(settings), timezone=tz),
        id="flowdesk:heartbeat",
        next_run_time=datetime.now(tz),
        coalesce=True,
        misfire_grace_time=None,
    )

    def unattended_jobs() -> None:
        """RQ jobs the web app asked for (a name opened on the Single names page) while no
        ``flowdesk worker`` runs: executed here (jobs.workers), by the leader only (a standby
        scheduler stays idle; RQ's dequeue is atomic anyway, so no job would run twice)."""
        from jobs import workers

        if not leader.held:
            return
        try:
            workers.drain_if_unattended(store.redis)
        except (
            Exception
        ) as exc:  # a failing job is recorded by RQ; nothing here may stop the scheduler
            log.error("in-process RQ jobs failed error=%s: %s", type(exc).__name__, exc)

    scheduler.add_job(
        unattended_jobs,
        IntervalTrigger(seconds=2, timezone=tz),
        id="flowdesk:rq-unattended",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    now = datetime.now(tz)
    for name, job in enabled.items():
        try:
            trigger = cron_trigger(job, tz)
        except ValueError as exc:
            raise ConfigError(settings.source_path, [(f"jobs.{name}.cron", str(exc))]) from None
        scheduler.add_job(
            runner.fire, trigger, args=[name], id=f"job:{name}", name=name, executor="slots"
        )
        nxt = trigger.get_next_fire_time(None, now)
        log.info(
            "job scheduled job=%s task=%s cron=%r second=%s trading_days_only=%s next=%s",
            name,
            job.task,
            job.cron,
            job.second,
            job.trading_days_only,
            nxt.isoformat() if nxt else None,
        )
    for name in sorted(set(settings.jobs) - set(enabled)):
        log.info("job disabled job=%s", name)
    return scheduler


def alerts_hook(settings: Settings, store: ResultStore) -> AfterPublish | None:
    """``after_publish`` that evaluates alert rules on freshly published results."""
    from jobs import alerts

    return lambda names: alerts.evaluate_published(settings, store, names)


def start_delivery_worker(settings: Settings, store: ResultStore) -> Any | None:
    """Start the alert webhook delivery worker (an object with ``stop()``)."""
    from jobs import alerts

    worker = alerts.start_delivery_worker(settings, store)
    log.info("alert delivery worker started")
    return worker


def wait_for_redis(store: ResultStore, timeout_s: float) -> bool:
    """Poll ``PING`` until Redis answers or ``timeout_s`` passes (Redis may start alongside us)."""
    deadline = time.monotonic() + timeout_s
    while not store.ping():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def run_scheduler(settings: Settings, *, redis_wait_s: float = 30.0) -> int:
    """Run the scheduler process until SIGTERM/SIGINT.  Returns the process exit code.

    Needs a Redis URL (``REDIS_URL`` or ``service.redis_url``); never starts the embedded server
    (a private Redis per scheduler would defeat the leader lease and slot claims).  Waits up to
    ``redis_wait_s`` seconds for Redis to answer (it may be starting in the same Procfile).
    """
    store = ResultStore.from_settings(settings)
    if not wait_for_redis(store, timeout_s=redis_wait_s):
        log.error(
            "scheduler cannot reach Redis url=%s waited_s=%g",
            settings.service.redis_url,
            redis_wait_s,
        )
        return 1
    scheduler = build_scheduler(settings, store, after_publish=alerts_hook(settings, store))
    worker = start_delivery_worker(settings, store)

    stopping = threading.Event()

    def shutdown() -> None:
        try:
            scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:  # a signal before start() or after the loop ended
            pass

    def stop(signum: int, _frame: Any) -> None:
        if stopping.is_set():  # Ctrl-C reaches the whole process group, then the parent's SIGTERM
            log.info("scheduler already stopping signal=%s", signal.Signals(signum).name)
            return
        stopping.set()
        log.info("scheduler stopping signal=%s", signal.Signals(signum).name)
        # Shut down from a thread: the handler interrupts the main loop, which may hold the
        # scheduler's locks; shutdown wakes the loop, which then returns from start().
        threading.Thread(target=shutdown, name="flowdesk-stop", daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    jobs = [n for n, j in settings.jobs.items() if j.enabled]
    log.info(
        "scheduler start owner=%s jobs=%d calendar=%s tz=%s lease_s=%d heartbeat_s=%g",
        scheduler.leader.owner,
        len(jobs),
        settings.scheduler.calendar,
        settings.service.timezone,
        settings.scheduler.leader_lease_seconds,
        renew_interval(settings),
    )
    try:
        if not stopping.is_set():
            scheduler.start()
    finally:
        scheduler.leader.release()
        if worker is not None:
            try:
                worker.stop()
            except Exception as exc:
                log.warning("alert delivery worker stop failed error=%s", exc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("scheduler stopped owner=%s", scheduler.leader.owner)
        sys.stderr.flush()
    return 0
