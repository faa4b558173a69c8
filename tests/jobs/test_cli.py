"""The ``flowdesk`` command against the session's real Redis.

Most tests run the command in-process through click's ``CliRunner`` (the same code path as the
console script, minus the interpreter start-up); a few run ``python -m jobs.cli`` as a real
subprocess (marked ``slow``): the exit code of a real process, secrets masked on the real
streams, and the commands that would block a test process if they failed to refuse.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.formatting import format_time
from jobs.cli import main
from jobs.redis_server import free_port
from jobs.store import ResultStore

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[jobs.good]
task = "demo"
cron = "0 8 * * 1-5"
trading_days_only = true
retries = 0
stale_after_minutes = 60

[jobs.broken]
task = "demo"
cron = "30 8 * * 1-5"
retries = 1
retry_delay_seconds = 0
args = { fail = true }

[jobs.off]
task = "demo"
cron = "0 18 * * 5"
enabled = false
"""

JOB_KEYS = {
    "job",
    "task",
    "cron",
    "second",
    "enabled",
    "trading_days_only",
    "last_run",
    "last_success",
    "age_minutes",
    "stale_after_minutes",
    "stale",
    "error",
}


@dataclass
class Ran:
    """What a run of ``flowdesk`` left: exit code and the two streams."""

    returncode: int
    stdout: str
    stderr: str


def _environment(
    monkeypatch: pytest.MonkeyPatch, config: Path, redis_url: str, env: dict[str, str | None] | None
) -> None:
    """The command's environment, set with monkeypatch so nothing leaks into the next test
    (``flowdesk --config`` itself writes ``FLOWDESK_CONFIG`` into ``os.environ``)."""
    monkeypatch.setenv("FLOWDESK_CONFIG", str(config))
    monkeypatch.setenv("REDIS_URL", redis_url)
    for key, value in (env or {}).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


@pytest.fixture()
def flowdesk(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """Run ``flowdesk ARGS`` in-process with a temp config (``FLOWDESK_CONFIG``) and the fixture's Redis."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: dict[str, str | None] | None = None) -> Ran:
        with monkeypatch.context() as mp:
            _environment(mp, config, redis_url, env)
            root = logging.getLogger()
            handlers, level = list(root.handlers), root.level
            try:
                res = CliRunner().invoke(main, list(args), catch_exceptions=False)
            finally:
                # the command installs its log handler on the root logger: take it off again
                root.handlers[:] = handlers
                root.setLevel(level)
                logging.captureWarnings(False)
        return Ran(res.exit_code, res.stdout, res.stderr)

    run.config = config  # type: ignore[attr-defined]
    return run


@pytest.fixture()
def flowdesk_process(tmp_path: Path, redis_url: str) -> Callable[..., Ran]:
    """Run ``python -m jobs.cli ARGS`` as a real subprocess (same config and Redis as ``flowdesk``)."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)

    def run(*args: str, env: dict[str, str | None] | None = None) -> Ran:
        full = {**os.environ, "FLOWDESK_CONFIG": str(config), "REDIS_URL": redis_url}
        for key, value in (env or {}).items():
            if value is None:
                full.pop(key, None)
            else:
                full[key] = value
        res = subprocess.run(
            [sys.executable, "-m", "jobs.cli", *args],
            cwd=tmp_path,
            env=full,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Ran(res.returncode, res.stdout, res.stderr)

    return run


def test_refresh_ok_job_exits_0(flowdesk, store: ResultStore) -> None:
    res = flowdesk("refresh", "good")
    assert res.returncode == 0, res.stderr
    assert "good" in res.stdout and " ok " in res.stdout
    assert store.last_run("good").status == "ok"
    assert store.meta("demo").rows == 5
    # One log line per event, job end with duration and rows.
    assert "INFO flowdesk.jobs job end job=good status=ok duration_s=" in res.stderr
    assert "rows=5" in res.stderr


def test_refresh_failing_job_exits_nonzero(flowdesk, store: ResultStore) -> None:
    res = flowdesk("refresh", "good", "broken")
    assert res.returncode == 1
    assert "RuntimeError: demo task asked to fail" in res.stdout
    run = store.last_run("broken")
    assert (run.status, run.attempts) == ("failed", 2)
    assert store.last_run("good").status == "ok"  # the other job still ran


def test_refresh_all_enabled_jobs_by_default(flowdesk, store: ResultStore) -> None:
    res = flowdesk("refresh")
    assert res.returncode == 1  # "broken" fails
    assert set(store.job_names()) == {"good", "broken"}  # "off" is disabled


def test_refresh_unknown_job_exits_2_listing_known_jobs(flowdesk, store: ResultStore) -> None:
    res = flowdesk("refresh", "good", "nosuch")
    assert res.returncode == 2
    assert "unknown job(s): nosuch" in res.stderr
    assert "broken, good, off" in res.stderr
    assert store.job_names() == []  # nothing ran


def test_refresh_without_redis_explains(flowdesk) -> None:
    res = flowdesk("refresh", env={"REDIS_URL": None})
    assert res.returncode == 2
    assert "set REDIS_URL" in res.stderr and "flowdesk run" in res.stderr


def test_status_json_lists_every_job_with_last_run(flowdesk, store: ResultStore) -> None:
    assert flowdesk("refresh", "good", "broken").returncode == 1
    res = flowdesk("status", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    jobs = {j["job"]: j for j in report["jobs"]}
    assert list(jobs) == ["good", "broken", "off"]  # config order, every job
    for j in jobs.values():
        assert set(j) == JOB_KEYS
    good, broken, off = jobs["good"], jobs["broken"], jobs["off"]
    assert good["last_run"]["status"] == "ok" and good["last_run"]["rows"] == 5
    assert good["last_success"]["slot"] == good["last_run"]["slot"]
    assert good["stale"] is False and 0 <= good["age_minutes"] < 60
    assert good["error"] is None
    assert broken["last_run"]["status"] == "failed"
    assert "demo task asked to fail" in broken["error"]
    assert broken["last_success"] is None and broken["stale"] is True
    assert off["enabled"] is False and off["last_run"] is None
    assert report["redis"]["ok"] is True
    results = {r["name"]: r for r in report["results"]}
    # "broken" (same task) failed after "good" published: the demo result is kept, marked stale.
    assert results["demo"]["status"] == "stale" and results["demo"]["rows"] == 5
    assert results["demo"]["source"].startswith("SAMPLE demo rows (seed ")
    assert results["demo"]["sample"] is True
    assert report["scheduler"] is None  # no scheduler running


def test_status_text_is_a_table(flowdesk, store: ResultStore) -> None:
    flowdesk("refresh", "good")
    res = flowdesk("status")
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    header = next(line for line in lines if line.startswith("JOB "))
    assert "LAST SUCCESS" in header and "STATE" in header
    good = next(line for line in lines if line.startswith("good "))
    assert " ok " in good and "fresh" in good
    off = next(line for line in lines if line.startswith("off "))
    assert "(disabled)" in off and "never" in off
    # times in the desk zone ([service] timezone: New York here), never UTC "Z" stamps
    run = store.runs("good", limit=1)[0]
    assert format_time(run.started_at, "America/New_York", seconds=True) in good
    assert not re.search(r"\d{2}:\d{2}:\d{2}Z", res.stdout)


def test_status_unreachable_redis_exits_3_and_masks_password(flowdesk) -> None:
    url = f"redis://:hunter2secret@127.0.0.1:{free_port()}/0"
    res = flowdesk("status", "--json", env={"REDIS_URL": url})
    assert res.returncode == 3
    report = json.loads(res.stdout)
    assert report["redis"]["ok"] is False
    assert "hunter2secret" not in res.stdout + res.stderr
    assert report["redis"]["url"].startswith("redis://:***@127.0.0.1:")
    assert [j["job"] for j in report["jobs"]] == ["good", "broken", "off"]


@pytest.mark.slow
def test_process_status_unreachable_redis_exits_3_and_masks_password(flowdesk_process) -> None:
    """The real process: exit code 3 and the password on neither of its streams."""
    url = f"redis://:hunter2secret@127.0.0.1:{free_port()}/0"
    res = flowdesk_process("status", "--json", env={"REDIS_URL": url})
    assert res.returncode == 3, res.stderr
    assert json.loads(res.stdout)["redis"]["url"].startswith("redis://:***@127.0.0.1:")
    assert "hunter2secret" not in res.stdout + res.stderr


@pytest.mark.slow
def test_process_refresh_exit_code_and_log_lines(flowdesk_process, store: ResultStore) -> None:
    """``python -m jobs.cli refresh``: exit 1 when a job failed, one log line per event on stderr."""
    res = flowdesk_process("refresh", "good", "broken")
    assert res.returncode == 1
    assert "good" in res.stdout and "RuntimeError: demo task asked to fail" in res.stdout
    assert "INFO flowdesk.jobs job end job=good status=ok duration_s=" in res.stderr
    assert "Traceback" not in res.stderr
    assert store.last_run("good").status == "ok" and store.last_run("broken").status == "failed"


def test_config_error_message_and_exit_2(flowdesk) -> None:
    flowdesk.config.write_text('[jobs.good]\ntask = "demo"\ncron = "0 8 * * 1-5"\nretrys = 3\n')
    res = flowdesk("status")
    assert res.returncode == 2
    assert f"{flowdesk.config}: jobs.good.retrys: unknown key" in res.stderr
    assert "Traceback" not in res.stderr


def test_config_option_overrides_environment(flowdesk, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[jobs.x]\ntask = "demo"\ncron = "99 8 * * *"\n')
    res = flowdesk("--config", str(other), "refresh")
    assert res.returncode == 2
    assert f"{other}: jobs.x.cron: invalid cron expression '99 8 * * *'" in res.stderr
    # the same option after the command's name
    res = flowdesk("refresh", "--config", str(other))
    assert res.returncode == 2
    assert f"{other}: jobs.x.cron: invalid cron expression '99 8 * * *'" in res.stderr


@pytest.mark.slow
def test_scheduler_refuses_without_redis(flowdesk_process) -> None:
    # a real process: in-process, a scheduler that failed to refuse would block the test
    res = flowdesk_process("scheduler", env={"REDIS_URL": None})
    assert res.returncode == 2
    assert "never starts an embedded Redis" in res.stderr


def test_status_reports_scheduler_heartbeat(flowdesk, store: ResultStore) -> None:
    store.beat(leader=True)
    report = json.loads(flowdesk("status", "--json").stdout)
    beat = report["scheduler"]
    assert beat["leader"] is True and beat["alive"] is True
    assert beat["pid"] == os.getpid() and 0 <= beat["age_s"] < 60


@pytest.mark.slow
def test_web_exposed_without_credentials_refuses(flowdesk_process) -> None:
    # a real process: in-process, a web server that failed to refuse would block the test
    res = flowdesk_process(
        "web",
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        env={"FLOWDESK_USERS": None, "FLOWDESK_API_TOKENS": None},
    )
    assert res.returncode == 2
    assert "cannot serve the web app on 0.0.0.0" in res.stderr and "FLOWDESK_USERS" in res.stderr


def test_web_on_a_taken_port_exits_2_naming_the_port_option(flowdesk) -> None:
    """werkzeug's development server printed its own advice and exited 1, the code the README
    keeps for a failed job; a taken address is a usage problem (exit 2) and says ``--port``."""
    import socket

    from jobs.supervisor import check_port_free

    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            check_port_free("127.0.0.1", port)
        res = flowdesk("web", "--port", str(port))
    assert res.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in res.stderr and "use --port" in res.stderr
    check_port_free("127.0.0.1", port)  # free again once let go
