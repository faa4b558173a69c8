"""Task registry: one function per kind of job (fetch, compute, publish), wiring only.

A task is registered with :func:`task` and named by ``[jobs.<job>] task = "..."`` in
``config.toml``.  It receives a :class:`TaskContext` and the job's ``args`` and returns a
:class:`TaskOutcome` naming what it published.  Tasks compose sources (I/O at the edge) and pure
analytics from :mod:`flows`, and publish through the store; they never draw.

One module per analytic family lives next to this one; importing it registers its tasks.  The
modules are listed in :data:`TASK_MODULES` (a new family adds its module there) and imported on
the first :func:`load_tasks`, so that a command that needs one task (``flowdesk gamma FILE``) does
not pay for all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.config import Settings
    from jobs.store import ResultStore


@dataclass
class TaskContext:
    """What a task may use.  ``now`` is tz-aware in the desk's time zone."""

    settings: Settings
    store: ResultStore
    now: datetime
    job: str
    slot: str
    log: logging.Logger
    progress: Callable[[str], None] = lambda _msg: None
    """Called with a short message as a long task advances (the CLI shows it on a terminal)."""


@dataclass
class TaskOutcome:
    """What a task did.  ``failed`` maps a result name to its error for partial failures."""

    published: list[str] = field(default_factory=list)
    rows: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    detail: str | None = None


TaskFn = Callable[[TaskContext, dict[str, Any]], TaskOutcome]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    fn: TaskFn
    results: Callable[[Settings, dict[str, Any]], list[str]]
    """Result names the task publishes (marked stale when the task fails as a whole)."""
    description: str


TASKS: dict[str, TaskSpec] = {}


def task(
    name: str,
    *,
    results: Callable[[Settings, dict[str, Any]], list[str]] | list[str],
    description: str = "",
) -> Callable[[TaskFn], TaskFn]:
    """Register ``fn`` as task ``name``; ``results`` lists (or computes) the result names."""

    def deco(fn: TaskFn) -> TaskFn:
        res = results if callable(results) else (lambda _s, _a, _r=list(results): list(_r))
        TASKS[name] = TaskSpec(
            name, fn, res, description or (fn.__doc__ or "").strip().splitlines()[0]
        )
        return fn

    return deco


TASK_MODULES = (
    "demo",
    "gamma",
    "letf",
    "cftc",
    "cftc_ingest",
    "prices",
    "systematic",
    "futures_positioning",
    "board_systematic",
    "board",
    "universe",
)
"""Modules of this package that register tasks or serve them (explicit: an import error fails
loudly; ``board_systematic`` holds the board's systematic components and registers none)."""


def load_tasks() -> dict[str, TaskSpec]:
    """Import every module of :data:`TASK_MODULES` (once) and return the registry :data:`TASKS`."""
    import importlib

    for name in TASK_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return TASKS
