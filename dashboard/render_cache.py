"""Drawn page outputs kept per process, keyed by the result version and the control values.

A page's drawing is a pure function of the published result (immutable per version) and its
controls, so what one user's callback drew serves every other user of the same worker process
(issue 17 section 3: p95 <= 300 ms per control at 8 concurrent users).  Figures are kept as
plain dicts (:func:`plain`): serialising a cached ``plotly.graph_objects.Figure`` would walk
Plotly's validators again on every answer.

One lock per key: when eight users ask for the same cold key at once, one draws and seven wait
for its answer instead of drawing the same figures eight times on a shared GIL.  The key must
hold everything the drawing reads: the result's version and status (a failed refresh marks it
stale without a new version), and every control value.  Bounded (least recently used first out).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger("flowdesk.web.render_cache")

MAX_ENTRIES = 256
"""Drawn outputs kept per process (one per page x version x control values)."""


def plain(value: Any) -> Any:
    """A Plotly figure as its plain dict (no validation when serialised); tuples and lists of
    outputs converted element by element; anything else unchanged."""
    if hasattr(value, "to_plotly_json") and type(value).__module__.startswith("plotly"):
        return value.to_plotly_json()
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


class RenderCache:
    """``get(key, draw)``: the cached output of ``draw()`` for ``key`` (see the module docstring)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, draw: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:  # drawn by another thread while this one waited
                    self.hits += 1
                    return self._items[key]
            value = plain(draw())
            with self._lock:
                self.misses += 1
                self._items[key] = value
                while len(self._items) > self.max_entries:
                    old, _ = self._items.popitem(last=False)
                    self._locks.pop(old, None)
                self._locks.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._locks.clear()


CACHE = RenderCache()
"""The process's cache, shared by every page (keys start with the page's name)."""


def freeze(value: Any) -> Hashable:
    """A hashable form of a control value (lists of selected underlyings become tuples)."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value


def cached_view(
    page: str, result: Callable[..., str | None], *, task: str, skip: tuple[int, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a page callback (under ``@callback``) so that its outputs are drawn once per
    (result version, status, staleness by age, control values) and process.

    ``result(*args)``: the name of the result the callback draws (None: draw without caching);
    ``task``: the task whose jobs' ``stale_after_minutes`` grade its age (the provenance line's
    STALE label); ``skip``: positions of arguments left out of the key (the ``data-version``
    store: the version read here is the key).  A result that cannot be read is drawn uncached
    (the callback shows its own error or "missing").
    """
    from dashboard import data  # late: data reads the settings

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any) -> Any:
            name = result(*args)
            if not name:
                return fn(*args)
            try:
                meta = data.store().meta(name)
            except Exception:  # missing or unreadable: the callback says so itself
                return fn(*args)
            _tz, stale_after = data.display_settings(task)
            aged = stale_after is not None and meta.age_seconds() > stale_after * 60
            controls = tuple(freeze(a) for i, a in enumerate(args) if i not in skip)
            return CACHE.get(
                (page, name, meta.version, meta.status, aged, controls), lambda: fn(*args)
            )

        VIEWS[page] = wrapper
        return wrapper

    return deco


VIEWS: dict[str, Callable[..., Any]] = {}
"""The cached views by page name (what :func:`cached_view` decorated), for the warmers."""
WARMERS: list[Callable[[dict[str, str]], None]] = []
"""Functions drawing a page's usual views for the given result versions (see :func:`warm_if_new`)."""
_seen: dict[str, str] | None = None
_seen_lock = threading.Lock()


def warmer(fn: Callable[[dict[str, str]], None]) -> Callable[[dict[str, str]], None]:
    """Register ``fn(versions)``: draws (into :data:`CACHE`) the views a page shows by default."""
    WARMERS.append(fn)
    return fn


def warm_if_new(versions: dict[str, str]) -> bool:
    """When this process sees result versions it has not seen yet, draw every page's usual views
    in a background thread (True when started).

    Every open page asks for the versions every ``web.refresh_seconds``, so each worker process
    sees a publish within one refresh and draws the default views once, before users click: a
    control then finds its view drawn instead of drawing it under load (the cold draw of a page
    is 0.1-0.5 s; the answer from the cache a few ms).
    """
    global _seen
    with _seen_lock:
        if versions == _seen:
            return False
        _seen = dict(versions)
    threading.Thread(
        target=_warm, args=(dict(versions),), name="flowdesk-warm", daemon=True
    ).start()
    return True


def _warm(versions: dict[str, str]) -> None:
    for fn in list(WARMERS):
        try:
            fn(versions)
        except (
            Exception
        ) as exc:  # a view that cannot be drawn now is drawn (and shows its error) on request
            log.warning(
                "warming %s failed: %s: %s", getattr(fn, "__name__", fn), type(exc).__name__, exc
            )
