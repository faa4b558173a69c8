"""The Redis result store, in three parts:

* :mod:`jobs.store.results`: :class:`ResultStore` (publish, read, history, run records, heartbeat);
* :mod:`jobs.store.keys`: every Redis key flowdesk writes, built in one place;
* :mod:`jobs.store.codec`: Arrow IPC for tables, JSON (NaN as null) for metadata.

``from jobs.store import ResultStore`` (and the other names below) is the public path.
"""

from __future__ import annotations

from flows.errors import ResultNotFound
from jobs.store import codec, keys
from jobs.store.results import (
    MAIN_TABLE,
    Result,
    ResultMeta,
    ResultStore,
    RunRecord,
    connect,
    dumps,
    utcnow,
)

__all__ = [
    "MAIN_TABLE",
    "Result",
    "ResultMeta",
    "ResultNotFound",
    "ResultStore",
    "RunRecord",
    "codec",
    "connect",
    "dumps",
    "keys",
    "utcnow",
]
