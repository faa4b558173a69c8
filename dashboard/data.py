"""The dashboard's only door to data: the Redis result store.

Pages call :func:`store` inside callbacks (never at import time).  The store is built once per
process from the validated settings; ``REDIS_URL`` in the environment wins.
"""

from __future__ import annotations

import functools
import os

from jobs.config import Settings, load_settings
from jobs.store import Result, ResultStore


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@functools.lru_cache(maxsize=4)
def _store_for(url: str) -> ResultStore:
    s = settings().store
    return ResultStore.from_url(url, history_max_count=s.history_max_count, history_max_age_days=s.history_max_age_days, run_history=s.run_history)


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


def store() -> ResultStore:
    """The result store for ``REDIS_URL`` (or ``service.redis_url``)."""
    url = os.environ.get("REDIS_URL") or settings().service.redis_url
    if not url:
        raise RuntimeError("the dashboard needs REDIS_URL (flowdesk run sets it for you)")
    return _store_for(url)


@functools.lru_cache(maxsize=32)
def _read_version(url: str, name: str, version: str, tables: tuple[str, ...] | None) -> Result:
    return _store_for(url).read(name, version=version, tables=list(tables) if tables else None)


def read_current(name: str, tables: list[str] | None = None) -> Result:
    """The current version of ``name``, decoded once per process.

    Versions are immutable, so a decoded version is cached by ``(name, version, tables)``: a
    page callback then costs one small metadata read instead of decoding the tables again.  The
    metadata (status, stale mark) is always read fresh.  Raises ``ResultNotFound``.
    """
    url = os.environ.get("REDIS_URL") or settings().service.redis_url or ""
    meta = store().meta(name)
    cached = _read_version(url, name, meta.version, tuple(tables) if tables else None)
    return Result(meta, cached.tables)

