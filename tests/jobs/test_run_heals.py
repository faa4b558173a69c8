"""``flowdesk run`` heals: a SIGKILLed embedded Redis comes back on its port with its data, no
zombie is left, the web app answers during the first refresh, and the data survive a restart.

Real processes throughout: ``python -m jobs.cli run`` as a subprocess (persistent Redis in a
temporary data folder), its real ``redis-server`` child killed with SIGKILL, ``/proc`` read for
children and their states.  The in-process tests drive :class:`jobs.supervisor.Supervisor` on
a real server whose append-only file is damaged, and the data-folder lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from jobs.redis_server import DataDirBusy, free_port, lock_data_dir, start_embedded_redis
from jobs.store import keys
from jobs.supervisor import GaveUp, Supervisor

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[service]
redis_dir = "{redis_dir}"

[jobs.demo]
task = "demo"
cron = "*/15 * * * *"
trading_days_only = false
retries = 0

[jobs.demo_slow]
task = "demo"
cron = "*/15 * * * *"
trading_days_only = false
retries = 0
args = {{ delay_seconds = {delay}, release_file = "{release}" }}
"""


def _wait_for(predicate: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for: {what}")
        time.sleep(0.05)


def _children(pid: int) -> dict[int, tuple[str, str]]:
    """Child pid -> (state letter, command line) from /proc."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            try:
                state = Path(f"/proc/{kid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                cmd = Path(f"/proc/{kid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            out[kid] = (state, cmd)
    return out


def _redis_children(pid: int) -> list[int]:
    return [
        k
        for k, (state, cmd) in _children(pid).items()
        if "redis-server" in cmd and state not in ("Z", "X")
    ]


def _http(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class Run:
    """A ``flowdesk run`` subprocess with its log."""

    def __init__(
        self,
        tmp_path: Path,
        *args: str,
        delay: float = 0.0,
        redis_dir: Path | None = None,
        sigint_ignored: bool = False,
    ) -> None:
        self.redis_dir = redis_dir or tmp_path / "redis-data"
        config = tmp_path / "config.toml"
        # demo_slow waits up to ``delay`` seconds, until the test creates ``self.release``
        self.release = tmp_path / "release-demo-slow"
        config.write_text(
            CONFIG.format(redis_dir=self.redis_dir, delay=delay, release=self.release)
        )
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(FLOWDESK_CONFIG=str(config), PYTHONUNBUFFERED="1")
        self.log = tmp_path / f"run-{self.port}.log"
        with open(self.log, "wb") as sink:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jobs.cli", "run", "--port", str(self.port), *args],
                cwd=tmp_path,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                # as `scripts/run &` from a non-interactive shell: SIGINT ignored when it starts
                preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
                if sigint_ignored
                else None,
            )
        self.base = f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.log.read_text()

    def redis_url(self) -> str:
        _wait_for(lambda: "started an embedded" in self.text(), "the embedded Redis to start")
        line = next(line for line in self.text().splitlines() if "started an embedded" in line)
        return line.split(" at ", 1)[1].split()[0]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.mark.slow
def test_killed_redis_comes_back_on_its_port_with_its_data_and_no_zombie(tmp_path):
    run = Run(tmp_path)
    try:
        url = run.redis_url()
        _wait_for(lambda: _http(run.base + "/healthz") == 200, "/healthz to answer 200")
        _wait_for(
            lambda: "scheduler child started" in run.text(),
            "the first refresh to end and the scheduler to start",
        )
        client = redis.Redis.from_url(url)
        client.set("flowdesk:test:marker", b"survives")
        demo_version = client.get(keys.result_current("demo"))
        assert demo_version is not None  # published by the first refresh
        [old] = _redis_children(run.proc.pid)

        os.kill(old, signal.SIGKILL)
        _wait_for(
            lambda: bool(_redis_children(run.proc.pid)) and _redis_children(run.proc.pid) != [old],
            "a new redis-server child",
        )
        [new] = _redis_children(run.proc.pid)
        _wait_for(lambda: _ping(url), "the restarted server to answer on the same port")
        assert client.get("flowdesk:test:marker") == b"survives"
        assert client.get(keys.result_current("demo")) == demo_version
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert _http(run.base + "/healthz") == 200
        assert "embedded redis died (killed by SIGKILL)" in run.text()
        # logged once the supervisor's own probe answered, which may be after this test's probe
        _wait_for(
            lambda: "embedded redis back" in run.text(),
            "the supervisor to log the restart",
            timeout_s=30,
        )
        states = _children(run.proc.pid)
        assert old not in states, f"the killed server is still a child (zombie?): {states}"
        assert not [k for k, (state, _) in states.items() if state == "Z"], (
            f"zombie children: {states}"
        )
        assert new in states
    finally:
        code = run.stop()
    assert code == 0, run.text()[-3000:]
    assert not _redis_children(run.proc.pid) if run.proc.poll() is None else True


def _ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.mark.slow
def test_web_answers_during_the_first_refresh_and_data_survive_a_restart(tmp_path):
    run = Run(tmp_path, delay=120)  # held running until the checks below are done
    try:
        url = run.redis_url()
        _wait_for(
            lambda: _http(run.base + "/healthz") == 200,
            "/healthz to answer while the first refresh runs",
            timeout_s=30,
        )
        client = redis.Redis.from_url(url)

        def progress() -> dict:
            raw = client.get(keys.refresh_progress())
            return json.loads(raw) if raw else {}

        _wait_for(
            lambda: progress().get("current") == "demo_slow" and progress().get("message"),
            "progress of the slow job",
        )
        record = progress()
        assert record["state"] == "running" and record["total"] == 2 and record["done"] == 1
        assert record["message"].startswith("waiting ")
        assert _http(run.base + "/") == 200 and _http(run.base + "/api/v1/results") == 200
        assert "scheduler child started" not in run.text()  # it starts after the first refresh
        run.release.touch()  # let the slow job finish
        _wait_for(
            lambda: progress().get("state") == "done", "the first refresh to finish", timeout_s=60
        )
        assert progress()["done"] == 2 and progress()["failed"] == []
        client.set("flowdesk:test:marker", b"kept")
        version = client.get(keys.result_current("demo"))
    finally:
        assert run.stop() == 0, run.text()[-3000:]

    # Same data folder, no refresh: everything is still there.
    again = Run(tmp_path, "--no-refresh", redis_dir=run.redis_dir)
    try:
        client = redis.Redis.from_url(again.redis_url())
        assert client.get("flowdesk:test:marker") == b"kept"
        assert client.get(keys.result_current("demo")) == version
        assert "persisting to" in again.text()
    finally:
        assert again.stop() == 0, again.text()[-3000:]


def test_ephemeral_run_keeps_nothing(tmp_path):
    run = Run(tmp_path, "--ephemeral", "--no-refresh")
    try:
        client = redis.Redis.from_url(run.redis_url())
        assert (
            client.config_get("appendonly")["appendonly"] == "no"
            and client.config_get("save")["save"] == ""
        )
        assert "non-persistent" in run.text()
    finally:
        assert run.stop() == 0
    assert not run.redis_dir.exists()


def test_second_run_on_the_same_data_folder_is_refused(tmp_path):
    data = tmp_path / "data"
    held = lock_data_dir(data)
    try:
        with pytest.raises(
            DataDirBusy, match=rf"in use by another flowdesk process \(pid {os.getpid()}\)"
        ):
            start_embedded_redis(data_dir=data)
        run = Run(tmp_path, "--no-refresh", redis_dir=data)
        assert run.proc.wait(timeout=60) == 2
        assert "is in use by another flowdesk process" in run.text() and "--ephemeral" in run.text()
    finally:
        held.close()


def test_supervisor_gives_up_on_a_redis_that_cannot_start(tmp_path):
    """A damaged append-only file: every restart fails; after the limit the supervisor raises a
    clear error (``flowdesk run`` then exits with code 3) and leaves no process behind."""
    server = start_embedded_redis(data_dir=tmp_path / "data", quiet=True)
    try:
        redis.Redis.from_url(server.url).set("k", "v")
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        aof = tmp_path / "data" / "appendonly.aof"
        aof.write_bytes(
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n" + b"not a command\r\n" + aof.read_bytes()
        )  # damaged in the middle
        (tmp_path / "data" / "dump.rdb").unlink(missing_ok=True)
        sup = Supervisor(server, refresh=False, max_restarts=2, backoff_s=(0.01,))
        with pytest.raises(
            GaveUp,
            match=r"keeps dying \(2 restarts within .*see its log .*redis\.log.*redis-check-aof --fix",
        ):
            sup.check_once()
        assert server.process.poll() is not None  # reaped: no zombie, nothing running
        assert (
            "Bad file format reading the append only file"
            in (tmp_path / "data" / "redis.log").read_text()
        )
    finally:
        server.stop()


@pytest.mark.slow
def test_sigint_stops_a_run_started_with_sigint_ignored(tmp_path):
    """Started in the background of a script, the process inherits 'ignore SIGINT'; Ctrl-C
    (kill -INT) must still stop all of it, Redis and scheduler included (it restarted them)."""
    run = Run(tmp_path, "--ephemeral", "--no-refresh", sigint_ignored=True)
    try:
        run.redis_url()
        _wait_for(lambda: _http(run.base + "/healthz") == 200, "/healthz to answer 200")
        children = set(_children(run.proc.pid))
        assert children  # the embedded Redis (and the scheduler once started)
        run.proc.send_signal(signal.SIGINT)
        assert run.proc.wait(timeout=30) == 0
        _wait_for(
            lambda: not any(Path(f"/proc/{kid}").exists() for kid in children),
            "every child to be gone",
        )
    finally:
        run.stop()
