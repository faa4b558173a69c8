"""``flowdesk run``'s main loop: keeps the embedded Redis, the first refresh and the scheduler alive.

The web app is served from a thread (werkzeug, threaded) as soon as Redis answers; the main
thread supervises the child processes, because ``PR_SET_PDEATHSIG`` follows the thread that
created a child (every child is started here, so each dies with ``flowdesk run``, even on a
SIGKILL) and because only the parent can reap its children (``Popen.poll`` does: no zombies).

Every :data:`POLL_S` seconds:

* **embedded Redis** exited: it is restarted on the same port and data folder, reloading the
  persisted data (an ephemeral server restarts empty, and the first refresh runs again so the
  pages fill).  Restarts back off (0.5 s doubling to 8 s); more than :data:`MAX_RESTARTS` within
  :data:`RESTART_WINDOW_S` is hopeless (a full disk, a corrupt append-only file): the loop stops
  with a clear error naming the server's log, and ``flowdesk run`` exits with code 3.
* **first refresh** (a ``flowdesk refresh --record-progress`` child, so its CPU work does not
  slow the web threads) ended: its exit code is logged, a progress record it left ``running``
  is marked failed, and the scheduler child starts (after the refresh, so the two do not run
  the same jobs at once).
* **scheduler** exited: restarted with the same back-off and limit (it exits when Redis stays
  away too long).
* **web server** thread ended: the loop stops (the cause was logged by the thread).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flows.errors import GaveUp
from jobs.redis_server import EmbeddedRedis, _die_with_parent

log = logging.getLogger("flowdesk.run")

POLL_S = 0.25
MAX_RESTARTS = 5
"""Restarts of one child allowed within :data:`RESTART_WINDOW_S` before giving up."""
RESTART_WINDOW_S = 300.0
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)


def start_child(args: list[str]) -> subprocess.Popen[bytes]:
    """``python -m jobs.cli ARGS`` as a child that dies with this process (call from the main thread)."""
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", *args], env=dict(os.environ), preexec_fn=_die_with_parent
    )  # noqa: PLW1509


def stop_child(proc: subprocess.Popen[bytes] | None, name: str, timeout_s: float = 15.0) -> None:
    """SIGTERM, wait, SIGKILL if needed; always reaps."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop within %g s; killing pid=%d", name, timeout_s, proc.pid)
        proc.kill()
        proc.wait(timeout=5)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass
class _Restarts:
    """Restart times of one child within the window."""

    window_s: float = RESTART_WINDOW_S
    backoff_s: tuple[float, ...] = BACKOFF_S
    times: deque[float] = field(default_factory=deque)

    def record(self, now: float) -> int:
        """Record a restart; return how many fell within the window (this one included)."""
        self.times.append(now)
        while self.times and now - self.times[0] > self.window_s:
            self.times.popleft()
        return len(self.times)

    def backoff(self) -> float:
        return self.backoff_s[min(len(self.times), len(self.backoff_s)) - 1] if self.times else 0.0


class Supervisor:
    """State and loop of ``flowdesk run`` (see the module docstring)."""

    def __init__(
        self,
        embedded: EmbeddedRedis | None,
        *,
        refresh: bool,
        web_thread: threading.Thread | None = None,
        on_redis_restarted: Callable[[], None] | None = None,
        max_restarts: int = MAX_RESTARTS,
        restart_window_s: float = RESTART_WINDOW_S,
        backoff_s: tuple[float, ...] = BACKOFF_S,
    ) -> None:
        self.embedded = embedded
        self.max_restarts = max_restarts
        self.restart_window_s = restart_window_s
        self.web_thread = web_thread
        self.refresh_child: subprocess.Popen[bytes] | None = None
        self.scheduler_child: subprocess.Popen[bytes] | None = None
        self._want_refresh = refresh
        self._redis_restarts = _Restarts(restart_window_s, backoff_s)
        self._scheduler_restarts = _Restarts(restart_window_s, backoff_s)
        self._stop = threading.Event()
        self.on_redis_restarted = on_redis_restarted

    # -- children
    def start_refresh(self) -> None:
        self.refresh_child = start_child(["refresh", "--record-progress"])
        log.info(
            "first refresh started in a child process pid=%d (the web app answers meanwhile)",
            self.refresh_child.pid,
        )

    def start_scheduler(self) -> None:
        self.scheduler_child = start_child(["scheduler"])
        log.info("scheduler child started pid=%d", self.scheduler_child.pid)

    def begin(self) -> None:
        """Start the first refresh (then the scheduler) or the scheduler at once."""
        if self._want_refresh:
            self.start_refresh()
        else:
            self.start_scheduler()

    def stop(self) -> None:
        self._stop.set()

    def shutdown(self) -> None:
        """Stop the children: refresh and scheduler first, Redis last (nothing outlives its Redis)."""
        stop_child(self.refresh_child, "first refresh")
        stop_child(self.scheduler_child, "scheduler")
        if self.embedded is not None:
            self.embedded.stop()

    # -- the loop
    def run(self) -> None:
        """Supervise until :meth:`stop`, a signal (KeyboardInterrupt) or :class:`GaveUp`."""
        while not self._stop.wait(POLL_S):
            self.check_once()

    def check_once(self) -> None:
        """One pass over the children (exposed for the loop and for tests)."""
        if self.embedded is not None and not self.embedded.alive():
            self._heal_redis()
        if self.refresh_child is not None and self.refresh_child.poll() is not None:
            self._refresh_ended()
        if self.scheduler_child is not None and self.scheduler_child.poll() is not None:
            self._heal_scheduler()
        if self.web_thread is not None and not self.web_thread.is_alive():
            log.error("web server thread ended; stopping")
            self.stop()

    def _heal_redis(self) -> None:
        emb = self.embedded
        assert emb is not None
        code = emb.process.returncode
        while True:
            count = self._redis_restarts.record(time.monotonic())
            if count > self.max_restarts:
                raise GaveUp(
                    f"the embedded Redis keeps dying ({self.max_restarts} restarts within {self.restart_window_s:g} s, last {describe_exit(code)}); "
                    f"see its log {emb.log_path}. Fix the cause (disk space, a damaged appendonly.aof: redis-check-aof --fix), "
                    "or run with --ephemeral / point REDIS_URL at a managed Redis"
                )
            wait = self._redis_restarts.backoff()
            log.error(
                "embedded redis died (%s) pid=%d; restarting on port %d%s in %.1f s (restart %d)",
                describe_exit(code),
                emb.process.pid,
                emb.port,
                f" with the data in {emb.data_dir}"
                if emb.persistent
                else " EMPTY (ephemeral: --ephemeral keeps no data)",
                wait,
                count,
            )
            if self._stop.wait(wait):
                return
            try:
                emb.restart()
            except RuntimeError as exc:
                log.error("embedded redis restart failed: %s", exc)
                code = emb.process.returncode
                continue
            log.warning(
                "embedded redis back pid=%d port=%d%s",
                emb.process.pid,
                emb.port,
                " (data reloaded)" if emb.persistent else "",
            )
            break
        if not emb.persistent and self.refresh_child is None and self.scheduler_child is not None:
            log.warning("ephemeral Redis restarted empty: running the first refresh again")
            self.start_refresh()
        if self.on_redis_restarted is not None:
            self.on_redis_restarted()

    def _refresh_ended(self) -> None:
        proc = self.refresh_child
        assert proc is not None
        code = proc.returncode
        self.refresh_child = None
        level = logging.INFO if code == 0 else logging.WARNING
        log.log(
            level,
            "first refresh ended (%s)%s",
            describe_exit(code),
            "" if code == 0 else ": some jobs failed, see above; their last good results stay",
        )
        if code is not None and code < 0:
            from jobs import refresh_progress
            from jobs.store import connect

            url = os.environ.get("REDIS_URL")
            if url:
                client = connect(url, socket_connect_timeout=1, socket_timeout=2)
                refresh_progress.mark_failed_if_running(
                    client, f"refresh process {describe_exit(code)}"
                )
                client.close()
        if self.scheduler_child is None:
            self.start_scheduler()

    def _heal_scheduler(self) -> None:
        proc = self.scheduler_child
        assert proc is not None
        code = proc.returncode
        count = self._scheduler_restarts.record(time.monotonic())
        if count > self.max_restarts:
            raise GaveUp(
                f"the scheduler keeps exiting ({self.max_restarts} restarts within {self.restart_window_s:g} s, last {describe_exit(code)}); see the log above"
            )
        wait = self._scheduler_restarts.backoff()
        log.error(
            "scheduler child exited (%s) pid=%d; restarting in %.1f s (restart %d)",
            describe_exit(code),
            proc.pid,
            wait,
            count,
        )
        if self._stop.wait(wait):
            return
        self.start_scheduler()


def check_port_free(host: str, port: int) -> None:
    """Raise ``OSError`` (``EADDRINUSE``, ...) when ``host:port`` cannot be bound, before a
    server tries: werkzeug's development server prints its own advice and exits with code 1,
    which the CLI reserves for a failed job (``flowdesk run`` and ``web`` exit 2 and name
    ``--port``).  The probe binds as the server does (``SO_REUSEADDR``), then lets go."""
    from werkzeug.serving import get_sockaddr, select_address_family

    family = select_address_family(host, port)  # the family and address werkzeug binds
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(get_sockaddr(host, port, family))


def serve_in_thread(app: Any, host: str, port: int) -> tuple[Any, threading.Thread]:
    """Bind ``app``'s Flask server on ``host:port`` now (raises ``OSError`` if the port is taken)
    and serve it from a daemon thread (werkzeug, one thread per request)."""
    from werkzeug.serving import make_server

    check_port_free(host, port)
    try:
        server = make_server(host, port, app.server, threaded=True)
    except SystemExit:  # werkzeug prints its own message and exits 1 when it cannot bind
        raise OSError(errno.EADDRINUSE, f"cannot bind {host}:{port}") from None
    thread = threading.Thread(target=server.serve_forever, name="flowdesk-web", daemon=True)
    thread.start()
    return server, thread
