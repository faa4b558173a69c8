"""The dashboard's only door to data: the Redis result store.

Pages call :func:`store` inside callbacks (never at import time).  The store is built once per
process from the validated settings; ``REDIS_URL`` in the environment wins.

While Redis is down the pages keep working on what this process last read: :func:`store`
returns a :class:`ResilientStore`, which remembers the last answer of every read it passed
through (bounded) and, when Redis fails, answers from that memory with every result marked
stale (``status = "stale"``, ``failure.error = "Redis unreachable since <time>: ..."``), so the
provenance line of each figure says so.  During an outage Redis is retried at most every
:data:`RETRY_SECONDS`; the header shows a banner (:func:`redis_outage`).  A read never made
before the outage still raises the Redis error (the page shows its usual error).  The API and
``/healthz`` use :func:`live_store` and stay honest: 503 while Redis is down.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from jobs.config import Settings
from jobs.store import Result, ResultMeta, ResultStore
from jobs.validate import load_settings

log = logging.getLogger("flowdesk.web.data")

RETRY_SECONDS = 2.0
"""During an outage, Redis is tried again at most this often (seconds); reads in between are
answered from memory at once instead of waiting for a connection error each time."""
REMEMBERED_READS = 256
"""Answers kept per process for outages (least recently used dropped first)."""


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@functools.lru_cache(maxsize=4)
def _store_for(url: str) -> ResultStore:
    s = settings().store
    return ResultStore.from_url(url, **ResultStore.options(s))


DEFAULT_TZ = "America/New_York"
"""Display time zone when the configuration cannot be read."""


def display_settings(task: str) -> tuple[str, float | None]:
    """``(desk time zone, stale_after_minutes)`` for a page showing results of ``task``.

    The staleness limit is the shortest ``stale_after_minutes`` of the enabled jobs running
    ``task`` (None: no such job).  Never raises: with an unreadable configuration the page still
    renders (New York time, no staleness limit); the Status page shows the config trouble.
    """
    try:
        s = settings()
        minutes = [j.stale_after_minutes for j in s.jobs.values() if j.task == task and j.enabled]
        return s.service.timezone, (min(minutes) if minutes else None)
    except Exception:
        return DEFAULT_TZ, None


def _url() -> str:
    url = os.environ.get("REDIS_URL") or settings().service.redis_url
    if not url:
        raise RuntimeError("the dashboard needs REDIS_URL (flowdesk run sets it for you)")
    return url


def live_store() -> ResultStore:
    """The result store for ``REDIS_URL`` (or ``service.redis_url``): every call goes to Redis."""
    return _store_for(_url())


def store() -> ResilientStore:
    """The pages' store: :func:`live_store` that answers from memory while Redis is down."""
    return _resilient_for(_url())


# -- outage memory -------------------------------------------------------------------------------
class Outage:
    """When Redis stopped answering this process (thread-safe); ``None`` while it answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: datetime | None = None
        self.error: str | None = None
        self._next_try = 0.0

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.since is None:
                self.since = datetime.now(UTC)
                log.error(
                    "redis unreachable: serving the last results read by this process, marked stale error=%s",
                    type(exc).__name__,
                )
            self.error = f"{type(exc).__name__}: {exc}"
            self._next_try = time.monotonic() + RETRY_SECONDS

    def recovered(self) -> None:
        if self.since is None:
            return
        with self._lock:
            if self.since is not None:
                log.warning(
                    "redis reachable again after %.0f s",
                    (datetime.now(UTC) - self.since).total_seconds(),
                )
            self.since = None
            self.error = None
            self._next_try = 0.0

    def should_try(self) -> bool:
        """False while an outage is recent: answer from memory without waiting on Redis."""
        return self.since is None or time.monotonic() >= self._next_try


_outage = Outage()


def redis_outage() -> Outage:
    """This process's view of Redis (shared by every store of the process)."""
    return _outage


def check_redis() -> datetime | None:
    """Ping Redis (at most every :data:`RETRY_SECONDS` during an outage); the outage start or None."""
    if _outage.should_try():
        try:
            live_store().redis.ping()
        except redis.RedisError as exc:
            _outage.failed(exc)
        except Exception:  # no Redis configured: not an outage of a running server
            return _outage.since
        else:
            _outage.recovered()
    return _outage.since


class RedisUnavailable(redis.ConnectionError):
    """Redis is down and this process never read what was asked for."""


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return frozenset(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _stale_meta(meta: ResultMeta, since: datetime) -> ResultMeta:
    error = f"Redis unreachable since {since.isoformat(timespec='seconds')}: showing the last result this server read"
    return dataclasses.replace(
        meta,
        status="stale",
        failure={
            "error": error,
            "failed_at": since.isoformat(),
            "job": (meta.failure or {}).get("job"),
        },
    )


def _mark_stale(value: Any, since: datetime) -> Any:
    if isinstance(value, Result):
        return Result(_stale_meta(value.meta, since), value.tables)
    if isinstance(value, ResultMeta):
        return _stale_meta(value, since)
    if isinstance(value, list) and value and all(isinstance(v, ResultMeta) for v in value):
        return [_stale_meta(v, since) for v in value]
    return value


class ResilientStore:
    """A :class:`~jobs.store.ResultStore` whose reads survive a Redis outage (see the module docstring).

    Reads (:data:`READS`) pass through and their answers are remembered; on a Redis error the
    remembered answer comes back marked stale.  Everything else (``redis``, writes) is the
    wrapped store's own.
    """

    READS = frozenset(
        {
            "read",
            "meta",
            "names",
            "versions",
            "history",
            "summaries",
            "headline_series",
            "eod_series",
            "last_run",
            "last_success",
            "runs",
            "job_names",
            "heartbeat",
        }
    )

    def __init__(
        self, inner: ResultStore, outage: Outage | None = None, max_entries: int = REMEMBERED_READS
    ) -> None:
        self.inner = inner
        self.outage = outage or _outage
        self.max_entries = max_entries
        self._memory: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in self.READS or not callable(attr):
            return attr
        return functools.partial(self._call, name, attr)

    def _call(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        key = (name, _freeze(args), _freeze(kwargs))
        if self.outage.should_try():
            try:
                value = fn(*args, **kwargs)
            except redis.RedisError as exc:
                self.outage.failed(exc)
            else:
                self.outage.recovered()
                with self._lock:
                    self._memory[key] = value
                    self._memory.move_to_end(key)
                    while len(self._memory) > self.max_entries:
                        self._memory.popitem(last=False)
                return value
        with self._lock:
            found = key in self._memory
            value = self._memory.get(key)
        since = self.outage.since or datetime.now(UTC)
        if not found:
            raise RedisUnavailable(
                f"Redis unreachable since {since.isoformat(timespec='seconds')} ({self.outage.error}); nothing read before the outage for {name}{args!r}"
            )
        return _mark_stale(value, since)


@functools.lru_cache(maxsize=4)
def _resilient_for(url: str) -> ResilientStore:
    return ResilientStore(_store_for(url))


@functools.lru_cache(maxsize=32)
def _read_version(url: str, name: str, version: str, tables: tuple[str, ...] | None) -> Result:
    return _store_for(url).read(name, version=version, tables=list(tables) if tables else None)


def read_current(name: str, tables: list[str] | None = None) -> Result:
    """The current version of ``name``, decoded once per process.

    Versions are immutable, so a decoded version is cached by ``(name, version, tables)``: a
    page callback then costs one small metadata read instead of decoding the tables again.  The
    metadata (status, stale mark) is always read fresh; while Redis is down it is the last one
    read, marked stale (:class:`ResilientStore`).  Raises ``ResultNotFound``.
    """
    url = _url()
    meta = store().meta(name)
    cached = _read_version(url, name, meta.version, tuple(tables) if tables else None)
    return Result(meta, cached.tables)
