"""Progress of the first refresh of ``flowdesk run``, kept in Redis for the web tier's header.

``flowdesk run`` serves the dashboard at once and runs the first refresh of every job beside it;
the header shows "first refresh running: 3 of 10 jobs" with a progress bar until it ends.  The
record (key :func:`jobs.store.keys.refresh_progress`, one JSON string) is::

    {"state": "running" | "done" | "failed", "jobs": [...], "total": 10, "done": 3,
     "current": "gamma_intraday", "message": "SPX: parse", "failed": ["cftc_weekly"],
     "started_at": ISO, "updated_at": ISO, "finished_at": ISO | null, "pid": 1234}

``state`` is ``failed`` when the refresh process ended before finishing (killed); jobs that
failed inside a finished refresh are listed in ``failed`` with ``state = "done"``.  A
``running`` record not updated for :data:`ABANDONED_AFTER_S` is treated as abandoned (its
process died with its parent): :func:`read` reports it as not running.

Writes never raise: progress is a courtesy, a Redis hiccup must not fail the refresh.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

import redis

from jobs.store import keys

log = logging.getLogger("flowdesk.refresh")

ABANDONED_AFTER_S = 1800.0
"""A ``running`` record silent for this long (seconds) is shown as not running."""
KEPT_S = 7 * 86400
"""The record expires this long after its last update (seconds)."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class RefreshProgress:
    """Writer of the progress record for one refresh of ``jobs`` (in order)."""

    def __init__(self, client: redis.Redis, jobs: list[str]) -> None:
        self.client = client
        self.record: dict[str, Any] = {
            "state": "running",
            "jobs": list(jobs),
            "total": len(jobs),
            "done": 0,
            "current": None,
            "message": None,
            "failed": [],
            "started_at": _now(),
            "updated_at": _now(),
            "finished_at": None,
            "pid": os.getpid(),
        }
        self._write()

    def _write(self) -> None:
        self.record["updated_at"] = _now()
        try:
            self.client.set(keys.refresh_progress(), json.dumps(self.record), ex=int(KEPT_S))
        except redis.RedisError as exc:
            log.warning("refresh progress not recorded error=%s", type(exc).__name__)

    def job_started(self, job: str) -> None:
        self.record.update(current=job, message=None)
        self._write()

    def message(self, job: str, msg: str) -> None:
        self.record.update(current=job, message=str(msg)[:200])
        self._write()

    def job_finished(self, job: str, ok: bool) -> None:
        self.record["done"] += 1
        if not ok:
            self.record["failed"].append(job)
        self.record.update(current=None, message=None)
        self._write()

    def finish(self, state: str = "done") -> None:
        self.record.update(state=state, current=None, message=None, finished_at=_now())
        self._write()


def read(client: redis.Redis, now: datetime | None = None) -> dict[str, Any] | None:
    """The last progress record (``running`` turned into ``abandoned`` when silent too long).

    Raises ``redis.RedisError`` when Redis does not answer.
    """
    raw = client.get(keys.refresh_progress())
    if raw is None:
        return None
    record = json.loads(raw)
    if record.get("state") == "running":
        now = now or datetime.now(UTC)
        try:
            silent = (now - datetime.fromisoformat(record["updated_at"])).total_seconds()
        except (KeyError, TypeError, ValueError):
            silent = ABANDONED_AFTER_S + 1
        if silent > ABANDONED_AFTER_S:
            record["state"] = "abandoned"
    return record


def mark_failed_if_running(client: redis.Redis, reason: str) -> None:
    """Called by the parent when the refresh process ended without finishing its record."""
    try:
        record = read(client)
        if record and record.get("state") == "running":
            record.update(
                state="failed",
                current=None,
                message=reason[:200],
                finished_at=_now(),
                updated_at=_now(),
            )
            client.set(keys.refresh_progress(), json.dumps(record), ex=int(KEPT_S))
    except redis.RedisError:
        pass
