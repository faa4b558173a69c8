"""The Redis result store, in three parts:

* :mod:`jobs.store.results`: :class:`ResultStore` (publish, read, history, run records, heartbeat);
* :mod:`jobs.store.keys`: every Redis key flowdesk writes, built in one place;
* :mod:`jobs.store.codec`: Arrow IPC for tables, JSON (NaN as null) for metadata.

``from jobs.store import ResultStore`` (and the other names below) is the public path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flows.errors import ResultNotFound
from jobs.store import codec, keys

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """The names of :mod:`jobs.store.results`, imported on first use (PEP 562): it pulls in the
    Redis client, which the file commands (``flowdesk gamma FILE``) never need; their start-up
    is the CLI benchmark's figure."""
    if name in _FROM_RESULTS:
        from jobs.store import results

        return getattr(results, name)
    raise AttributeError(f"module 'jobs.store' has no attribute {name!r}")


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
_FROM_RESULTS = frozenset(__all__) - {"ResultNotFound", "codec", "keys"}
"""The names of :mod:`jobs.store.results`, imported on first use (:func:`__getattr__`)."""
