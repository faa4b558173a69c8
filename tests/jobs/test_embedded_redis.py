"""The embedded development Redis: started, used, and gone after its parent is SIGKILLed.

Real processes only: a Python child starts the server (as ``flowdesk run`` does) and prints its
pid and port; the test uses the server, kills the child with SIGKILL and checks that the server
process is gone and its port refuses connections (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from jobs.redis_server import ensure_redis_url, free_port

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys, time
from jobs.redis_server import start_embedded_redis
server = start_embedded_redis(quiet=True)
print(json.dumps({"redis_pid": server.process.pid, "port": server.port}), flush=True)
time.sleep(600)
"""


def _wait_for(predicate: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for: {what}")
        time.sleep(0.05)


def _process_gone(pid: int) -> bool:
    """True when ``pid`` no longer exists or is a zombie (dead, waiting for a reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _port_refuses(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def test_embedded_redis_dies_with_sigkilled_parent() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        info = json.loads(child.stdout.readline())
        pid, port = info["redis_pid"], info["port"]
        assert not _process_gone(pid)
        client = redis.Redis(host="127.0.0.1", port=port)
        client.set("flowdesk:test", b"used")
        assert client.get("flowdesk:test") == b"used"
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.config_get("save")["save"] == ""  # not persistent: a development default
        client.close()

        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        _wait_for(
            lambda: _process_gone(pid),
            f"redis-server pid {pid} to exit after its parent was SIGKILLed",
        )
        _wait_for(lambda: _port_refuses(port), f"port {port} to refuse connections")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_ensure_redis_url_uses_configured_server_without_starting_one(redis_url: str) -> None:
    env = {"REDIS_URL": redis_url}
    url, server = ensure_redis_url(env, None)
    assert (url, server) == (redis_url, None)
    url, server = ensure_redis_url({}, "redis://:pw@example.invalid:6379/0")
    assert (url, server) == ("redis://:pw@example.invalid:6379/0", None)


def test_ensure_redis_url_starts_and_exports_embedded_server() -> None:
    env: dict[str, str] = {}
    url, server = ensure_redis_url(env, None)
    try:
        assert server is not None
        assert env["REDIS_URL"] == url == server.url
        assert redis.Redis.from_url(url).ping()
    finally:
        server.stop()
    assert _process_gone(server.process.pid)


@pytest.mark.slow
def test_flowdesk_run_children_die_with_it(tmp_path: Path) -> None:
    """``flowdesk run`` with no REDIS_URL: embedded Redis, refresh, scheduler child, web app;
    after a SIGKILL of ``flowdesk run`` neither Redis nor the scheduler is left behind."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[jobs.demo]\ntask = "demo"\ncron = "*/15 * * * *"\ntrading_days_only = false\nretries = 0\n'
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(FLOWDESK_CONFIG=str(config), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.cli", "run", "--ephemeral", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                return False

        _wait_for(healthy, "the web app of `flowdesk run` to answer /healthz", timeout_s=60)
        # the scheduler starts once the first refresh (a child of its own) has ended
        _wait_for(
            lambda: "scheduler child started" in log_path.read_text(),
            "the scheduler child to start",
            timeout_s=60,
        )
        children = [
            int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        ]
        names = {
            pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            for pid in children
        }
        redis_pids = [pid for pid, cmd in names.items() if "redis-server" in cmd]
        scheduler_pids = [pid for pid, cmd in names.items() if "scheduler" in cmd]
        assert len(redis_pids) == 1 and len(scheduler_pids) == 1, names
        text = log_path.read_text()
        assert "DEVELOPMENT DEFAULT" in text
        assert "job end job=demo status=ok" in text
        assert f"http://127.0.0.1:{port}/" in text

        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        for pid in redis_pids + scheduler_pids:
            _wait_for(
                lambda pid=pid: _process_gone(pid),
                f"child {names[pid]!r} to exit after `flowdesk run` was SIGKILLed",
            )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
