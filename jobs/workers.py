"""Work queue on the service's Redis: RQ (``rq``) for fanned-out jobs (the universe's shards, the
names a user opens).

* **Queue**: :data:`QUEUE` on the same Redis as the results.  Jobs are referenced by dotted path
  (``jobs.tasks.universe.run_shard``) and carry only JSON arguments: every queue and worker here
  uses RQ's JSON serializer, so nothing read back from Redis can execute code (RQ's default
  serializer would).
* **Workers**: ``flowdesk worker`` runs :class:`Worker` (RQ's forking worker: each job in a
  work horse) on any machine pointing at the same Redis; any number of them.  Its heartbeat into
  the started-job registry lasts ``heartbeat_seconds + abandoned_after_seconds`` (RQ's default
  adds 60 s), so a worker killed mid-job (``kill -9``, a lost machine) has its job declared
  abandoned within seconds; :func:`reap_abandoned` then retries it (RQ's own registry clean-up:
  a job with retries left is queued again, otherwise it fails and its dependents run).
* **No worker running**: :func:`drain_in_process` runs RQ's in-process worker in burst mode
  (no fork, no signal handlers, timeouts by timer: it may run in a scheduler thread), so
  ``flowdesk refresh`` and ``flowdesk run`` work without any worker process.

This module knows no task: the dashboard may use it to request a job (by path) and to show the
workers' state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

log = logging.getLogger("flowdesk.workers")

QUEUE = "flowdesk"
"""Name of the RQ queue every flowdesk job goes to."""

SERIALIZER = "rq.serializers.JSONSerializer"
"""Job arguments and results are JSON (never a Python object format that runs code when read)."""


@dataclass(frozen=True)
class WorkerTiming:
    """Heartbeat timing of :class:`Worker` (seconds)."""

    heartbeat_seconds: int = 5
    """How often a busy worker renews its job's heartbeat."""
    abandoned_after_seconds: int = 15
    """Grace after a missed heartbeat before the job counts as abandoned and is retried."""


def queue(connection: redis.Redis) -> Any:
    """The flowdesk RQ queue on ``connection`` (JSON serializer)."""
    from rq import Queue

    return Queue(QUEUE, connection=connection, serializer=SERIALIZER)


def _worker_classes() -> tuple[type, type]:
    """RQ worker classes with flowdesk's heartbeat and in-process behaviour (built lazily: the
    dashboard imports this module without loading RQ's worker)."""
    from rq import SimpleWorker
    from rq import Worker as RqWorker
    from rq.timeouts import TimerDeathPenalty

    class Worker(RqWorker):
        """RQ's forking worker whose job heartbeat expires ``abandoned_after`` seconds after a
        missed beat (RQ adds 60 s), so a killed worker's job is retried promptly."""

        abandoned_after = WorkerTiming.abandoned_after_seconds

        def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
            if job.timeout and job.timeout > 0:
                remaining = job.timeout - working_time
                return (
                    int(max(1, min(remaining, self.job_monitoring_interval))) + self.abandoned_after
                )
            return int(self.job_monitoring_interval) + self.abandoned_after

    class InProcessWorker(SimpleWorker):
        """RQ's worker without fork, for a burst in the calling thread: no signal handlers (the
        caller may be a scheduler thread), timeouts by a timer thread instead of SIGALRM."""

        death_penalty_class = TimerDeathPenalty

        def _install_signal_handlers(self) -> None:
            pass

    return Worker, InProcessWorker


def make_worker(
    connection: redis.Redis, *, name: str | None = None, timing: WorkerTiming | None = None
) -> Any:
    """A :class:`Worker` on :data:`QUEUE` (``flowdesk worker``)."""
    worker_cls, _ = _worker_classes()
    timing = timing or WorkerTiming()
    worker_cls.abandoned_after = int(timing.abandoned_after_seconds)
    return worker_cls(
        [queue(connection)],
        connection=connection,
        name=name,
        serializer=SERIALIZER,
        job_monitoring_interval=int(timing.heartbeat_seconds),
        worker_ttl=max(30, 3 * int(timing.heartbeat_seconds)),
    )


def live_workers(connection: redis.Redis) -> int:
    """Workers registered on :data:`QUEUE` (a worker's registration expires when it stops
    beating; the in-process worker of :func:`drain_in_process` counts while it runs)."""
    from rq import Worker as RqWorker

    return RqWorker.count(connection=connection, queue=queue(connection))


def reap_abandoned(connection: redis.Redis) -> None:
    """Retry (or fail) the jobs of workers that stopped beating: RQ's started-job registry clean-up."""
    from rq.registry import StartedJobRegistry

    StartedJobRegistry(queue=queue(connection)).cleanup()


def drain_in_process(connection: redis.Redis) -> None:
    """Run every queued job in this thread, then return (RQ's in-process worker, burst mode)."""
    _, in_process = _worker_classes()
    worker = in_process([queue(connection)], connection=connection, serializer=SERIALIZER)
    worker.work(burst=True, logging_level="WARNING")


def drain_if_unattended(connection: redis.Redis) -> int:
    """Run the queued jobs in this thread when no worker is registered (the scheduler calls it
    every few seconds, so a name opened on the page is computed under ``flowdesk run`` too).
    Returns the number of jobs that were queued."""
    q = queue(connection)
    n = q.count
    if n and live_workers(connection) == 0:
        drain_in_process(connection)
    return n


def ensure_job(
    q: Any,
    path: str,
    args: Sequence[Any],
    *,
    job_id: str,
    retries: int = 0,
    timeout_s: int = 600,
    depends_on: Any = None,
    result_ttl_s: int = 86400,
    reuse_finished: bool = True,
) -> Any:
    """Enqueue ``path(*args)`` as ``job_id`` unless that job already exists and is not failed
    (a re-run of the same round reuses its jobs: nothing is enqueued twice); a finished job is
    reused too unless ``reuse_finished`` is false (a fresh computation is wanted)."""
    from rq import Retry
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(job_id, connection=q.connection, serializer=SERIALIZER)
        status = job.get_status()
        done = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, None) + (
            () if reuse_finished else (JobStatus.FINISHED,)
        )
        if status not in done:
            return job
        job.delete()
    except NoSuchJobError:
        pass
    return q.enqueue(
        path,
        *args,
        job_id=job_id,
        retry=Retry(max=retries) if retries > 0 else None,
        job_timeout=timeout_s,
        depends_on=depends_on,
        result_ttl=result_ttl_s,
        failure_ttl=result_ttl_s,
    )


def wait_for(
    connection: redis.Redis,
    job: Any,
    *,
    timeout_s: float,
    poll_s: float = 0.5,
    progress: Callable[[str], None] | None = None,
    describe: Callable[[], str] | None = None,
) -> str:
    """Wait until ``job`` is finished or failed; returns its final status.

    Meanwhile, every ``poll_s``: jobs of dead workers are retried (:func:`reap_abandoned`), and
    when no worker is registered the queue is drained in this thread (:func:`drain_in_process`).
    Raises ``TimeoutError`` after ``timeout_s``.
    """
    from rq.job import JobStatus

    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        status = job.get_status(refresh=True)
        if status in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            return str(status.value if hasattr(status, "value") else status)
        reap_abandoned(connection)
        if live_workers(connection) == 0:
            log.info("no flowdesk worker running: executing queued jobs in this process")
            drain_in_process(connection)
            continue
        if progress is not None and describe is not None:
            text = describe()
            if text != last:
                progress(text)
                last = text
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job.id} not done after {timeout_s:g} s (status {status})")
        time.sleep(poll_s)


# -- jobs a page may ask for ----------------------------------------------------------------------
REQUESTABLE = {"universe-name": "jobs.tasks.universe.compute_name"}
"""Jobs the web app may enqueue, by kind: the path of the task function (the dashboard never
imports tasks)."""


def request(
    connection: redis.Redis, kind: str, arg: str, *, timeout_s: int = 300
) -> tuple[str, str]:
    """Enqueue ``kind`` (:data:`REQUESTABLE`) for ``arg`` once (job id ``<kind>-<arg>``): a job
    already queued or running is not queued again.  Returns ``(job id, status)``."""
    job_id = f"{kind}-{arg}"
    job = ensure_job(
        queue(connection),
        REQUESTABLE[kind],
        [arg],
        job_id=job_id,
        timeout_s=timeout_s,
        result_ttl_s=600,
        reuse_finished=False,
    )
    status = job.get_status()
    return job_id, str(getattr(status, "value", status))


def job_state(connection: redis.Redis, job_id: str) -> tuple[str | None, str | None]:
    """``(status, last error line)`` of a job (``(None, None)`` when unknown or expired)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=connection, serializer=SERIALIZER)
    except NoSuchJobError:
        return None, None
    status = job.get_status()
    err = None
    if status == "failed":
        res = job.latest_result()
        err = (
            (res.exc_string or "").strip().splitlines()[-1]
            if res is not None and res.exc_string
            else "failed"
        )
    return str(getattr(status, "value", status)), err
