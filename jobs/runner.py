"""Run one job once: retries, run records, stale marks and logs.

Shared by the scheduler (one call per claimed slot) and ``flowdesk refresh`` / ``flowdesk run``.
A job that raises never propagates out of :func:`run_job`: the failure is logged with its cause,
recorded as a run (status ``failed``) and the job's results are marked stale, so the last good
results stay readable.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from datetime import datetime

from jobs.config import Settings
from jobs.logs import mask_secrets, secret_literals
from jobs.store import ResultStore, RunRecord, utcnow
from jobs.tasks import TaskContext, TaskOutcome, load_tasks

log = logging.getLogger("flowdesk.jobs")


def _error_text(exc: BaseException) -> str:
    """``Type: message`` plus the innermost frame, so the Status page shows the cause.

    Secrets are masked (:func:`jobs.logs.mask_secrets`): the text is stored in Redis (run
    records, failure marks) and shown on pages, and HTTP errors quote the URLs they failed on.
    """
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
    return mask_secrets(f"{type(exc).__name__}: {exc}{where}", secret_literals())


def run_job(
    settings: Settings,
    store: ResultStore,
    job: str,
    *,
    now: datetime | None = None,
    slot: str | None = None,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    after_publish: Callable[[list[str]], None] | None = None,
) -> RunRecord:
    """Run ``job`` (a key of ``settings.jobs``) with its configured retries.

    Returns the run record (also written to the store).  ``after_publish`` is called with the
    names of the results published (alert evaluation hooks in there).
    """
    spec_cfg = settings.jobs[job]
    spec = load_tasks()[spec_cfg.task]
    now = now or utcnow().astimezone(settings.tz)
    slot = slot or f"manual-{now.strftime('%Y%m%dT%H%M%S')}"
    started = time.monotonic()
    record = RunRecord(job=job, slot=slot, started_at=utcnow().isoformat())
    ctx = TaskContext(
        settings=settings,
        store=store,
        now=now,
        job=job,
        slot=slot,
        log=logging.getLogger(f"flowdesk.task.{spec_cfg.task}"),
        progress=progress or (lambda _m: None),
    )
    log.info("job start job=%s task=%s slot=%s", job, spec_cfg.task, slot)
    outcome: TaskOutcome | None = None
    error: str | None = None
    attempts = 0
    for attempt in range(1, spec_cfg.retries + 2):
        attempts = attempt
        try:
            outcome = spec.fn(ctx, dict(spec_cfg.args))
            error = None
            break
        except Exception as exc:  # a job must never kill its caller
            error = _error_text(exc)
            log.error(
                "job attempt failed job=%s attempt=%d/%d error=%s",
                job,
                attempt,
                spec_cfg.retries + 1,
                error,
            )
            if attempt <= spec_cfg.retries:
                sleep(spec_cfg.retry_delay_seconds)
    record.attempts = attempts
    record.ended_at = utcnow().isoformat()
    record.duration_s = round(time.monotonic() - started, 3)
    if outcome is None:
        record.status = "failed"
        record.error = error
        for name in spec.results(settings, dict(spec_cfg.args)):
            store.mark_failed(name, error or "failed", job=job)
    else:
        record.rows = outcome.rows
        record.results = list(outcome.published)
        record.detail = outcome.detail
        if outcome.failed:
            record.status = "partial" if outcome.published else "failed"
            record.error = "; ".join(f"{k}: {v}" for k, v in outcome.failed.items())
            for name, err in outcome.failed.items():
                store.mark_failed(name, err, job=job)
        else:
            record.status = "ok"
    store.record_run(record)
    level = logging.INFO if record.status == "ok" else logging.ERROR
    log.log(
        level,
        "job end job=%s status=%s duration_s=%.3f rows=%d attempts=%d%s",
        job,
        record.status,
        record.duration_s,
        record.rows,
        record.attempts,
        f" error={record.error}" if record.error else "",
    )
    if outcome is not None and outcome.published and after_publish is not None:
        try:
            after_publish(list(outcome.published))
        except Exception as exc:  # alerting problems never fail the job
            log.error("after-publish hook failed job=%s error=%s", job, _error_text(exc))
    return record
