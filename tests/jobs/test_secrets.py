"""Webhook URLs are credentials: after failing deliveries, no form of them is anywhere.

Real receivers (a local server answering 500 and echoing the path it was called on, a port that
refuses connections), the real Redis outbox, the real delivery worker in-process and as a
``flowdesk alerts deliver`` subprocess.  Then every place a secret could land is searched for
distinctive fragments of the URLs: the log (flowdesk's handler, pytest's ``caplog`` with
urllib3 at DEBUG, a subprocess's stderr), every key of the Redis server, and the CLI's output.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.alerts import AlertEvent, DeliveryWorker, dead_letters, enqueue, new_event_id, send_test
from jobs.commands.alerts import alerts as alerts_cli
from jobs.config import parse_settings
from jobs.logs import configure_logging
from tests.httpserver import Reply, Request

REPO = Path(__file__).resolve().parents[2]

SLACK_PATH = "/services/T0FDSECRET/B0FDSECRET/xoxFdSecretToken42"
TEAMS_PATH = "/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke"
TEAMS_QUERY = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=FdTeamsSigSecret77"
HOOK_PATH = "/in/fd-generic-hook-9f8e7d6c5b"
FRAGMENTS = [
    "xoxFdSecretToken42",
    "B0FDSECRET",
    "T0FDSECRET",
    "FdTeamsSigSecret77",
    "0123456789abcdef0123456789abcdef",
    "fd-generic-hook-9f8e7d6c5b",
]
"""Distinctive pieces of the secret URLs; none may appear anywhere."""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(max_attempts: int = 2):
    # Variable names without TOKEN/SECRET/WEBHOOK in them: masked because they are targets' url_env.
    return parse_settings(
        {
            "alerts": {
                "max_attempts": max_attempts,
                "backoff_base_seconds": 0.01,
                "backoff_max_seconds": 0.02,
                "timeout_seconds": 2.0,
                "delivery_threads": 1,
                "poll_seconds": 0.02,
                "targets": {
                    "slack": {"kind": "slack", "url_env": "FD_SEC_SLACK_URL"},
                    "teams": {"kind": "teams", "url_env": "FD_SEC_TEAMS_URL"},
                    "desk": {"kind": "webhook", "url_env": "FD_SEC_DESK_URL"},
                },
            }
        },
        env={},
    )


def _env(base_url: str, closed: int) -> dict[str, str]:
    return {
        "FD_SEC_SLACK_URL": base_url + SLACK_PATH,  # answers 500, echoing the path
        "FD_SEC_TEAMS_URL": f"http://127.0.0.1:{closed}{TEAMS_PATH}?{TEAMS_QUERY}",  # refuses connections
        "FD_SEC_DESK_URL": base_url + HOOK_PATH,  # answers 400, echoing the path
    }


def _event() -> AlertEvent:
    return AlertEvent(
        id=new_event_id(),
        kind="fired",
        at="2024-01-05T14:45:00+00:00",
        rule="r",
        severity="warning",
        title="t",
        text="x",
        targets=["slack", "teams", "desk"],
    )


def _echo_path(status: int):
    def reply(req: Request) -> Reply:
        query = "&".join(f"{k}={v[0]}" for k, v in req.query.items())
        return Reply(status, f"no such hook: {req.path}?{query}\nsee {req.path}")

    return reply


def _routes(http_server) -> None:
    http_server.route(SLACK_PATH, _echo_path(500))
    http_server.route(HOOK_PATH, _echo_path(400))


def redis_dump(client) -> str:
    """Every key and value on the server as text (strings, hashes, lists, sets, sorted sets)."""
    out = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            value = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = client.smembers(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1)
        else:
            value = b""
        out.append(f"{key!r} {value!r}")
    return "\n".join(out)


def _assert_clean(where: str, text: str) -> None:
    hits = [f for f in FRAGMENTS if f in text]
    assert not hits, (
        f"{where} leaks {hits}: ...{text[max(0, text.find(hits[0]) - 200) : text.find(hits[0]) + 100]}..."
    )


@pytest.fixture()
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    urllib3_level = logging.getLogger("urllib3").level
    yield
    root.handlers = handlers
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(urllib3_level)


def test_failed_deliveries_leave_no_secret_in_logs_redis_or_cli(
    http_server, redis_url, redis_client, monkeypatch, caplog, restore_logging
):
    _routes(http_server)
    env = _env(http_server.url, _closed_port())
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings = _settings()
    settings.service.redis_url = redis_url
    stream = io.StringIO()
    configure_logging(settings, stream=stream, level="DEBUG")
    logging.getLogger("urllib3").setLevel(
        logging.DEBUG
    )  # urllib3 logs "POST <path> HTTP/1.1" 500 at DEBUG
    caplog.set_level(logging.DEBUG)

    enqueue(redis_client, settings, _event(), ["slack", "teams", "desk"])
    DeliveryWorker(settings, redis_client).run_until_idle(timeout_s=30)
    test_slack = send_test(settings, "slack")
    test_teams = send_test(settings, "teams")
    listed = CliRunner().invoke(alerts_cli, ["list"], obj={"settings": settings})
    listed_json = CliRunner().invoke(alerts_cli, ["list", "--json"], obj={"settings": settings})
    assert listed.exit_code == 0 and listed_json.exit_code == 0, listed.output + listed_json.output
    cli_text, cli_json = listed.output, listed_json.output
    cli_test = CliRunner().invoke(alerts_cli, ["test", "teams"], obj={"settings": settings}).output

    # Not vacuous: the failures happened, their texts were kept, and they would have quoted the URLs.
    dead = {d["target"]: d["last_error"] for d in dead_letters(redis_client)}
    assert dead["slack"].startswith("gave up after 2 attempts; last: HTTP 500: no such hook: ")
    assert dead["teams"].startswith("gave up after 2 attempts; last: connection error: ")
    assert dead["desk"].startswith("HTTP 400 (not retried): no such hook: ")
    assert "Max retries exceeded with url: " in dead["teams"] and "***" in dead["teams"]
    assert test_slack.status == 500 and "***" in test_slack.error
    assert test_teams.status is None and "connection error" in test_teams.error
    assert any("POST " in r.getMessage() for r in caplog.records if r.name.startswith("urllib3")), (
        "urllib3 logged no request line"
    )
    assert "teams: no answer: connection error" in cli_test
    assert json.loads(cli_json)["counts"]["dead"] == 3

    _assert_clean("flowdesk's log output", stream.getvalue())
    _assert_clean(
        "caplog (every record, every logger)",
        caplog.text + "\n".join(r.getMessage() for r in caplog.records),
    )
    _assert_clean("Redis", redis_dump(redis_client))
    _assert_clean("alerts list", cli_text)
    _assert_clean("alerts list --json", cli_json)
    _assert_clean("alerts test", cli_test)
    _assert_clean("send_test errors", f"{test_slack.error} {test_teams.error}")


def test_records_written_where_the_url_is_unknown_are_masked_on_the_way_in(
    http_server, redis_client
):
    """The web tier reading Redis may not have the URLs in its environment: what is stored must
    already be masked (here the worker gets the URLs only through ``env=``, not os.environ)."""
    _routes(http_server)
    settings = _settings(max_attempts=1)
    enqueue(redis_client, settings, _event(), ["slack", "teams", "desk"])
    DeliveryWorker(
        settings, redis_client, env=_env(http_server.url, _closed_port())
    ).run_until_idle(timeout_s=30)
    assert len(dead_letters(redis_client)) == 3
    _assert_clean("Redis", redis_dump(redis_client))


@pytest.mark.slow
def test_delivery_subprocess_stderr_and_cli_carry_no_secret(
    http_server, redis_url, redis_client, tmp_path
):
    _routes(http_server)
    config = tmp_path / "config.toml"
    config.write_text(
        """
[service]
log_level = "DEBUG"

[alerts]
max_attempts = 2
backoff_base_seconds = 0.01
backoff_max_seconds = 0.02
timeout_seconds = 2
delivery_threads = 1
poll_seconds = 0.02

[alerts.targets.slack]
kind = "slack"
url_env = "FD_SEC_SLACK_URL"

[alerts.targets.teams]
kind = "teams"
url_env = "FD_SEC_TEAMS_URL"

[alerts.targets.desk]
kind = "webhook"
url_env = "FD_SEC_DESK_URL"
"""
    )
    enqueue(redis_client, _settings(), _event(), ["slack", "teams", "desk"])
    env = dict(
        os.environ,
        FLOWDESK_CONFIG=str(config),
        REDIS_URL=redis_url,
        **_env(http_server.url, _closed_port()),
    )
    deliver = subprocess.run(
        [sys.executable, "-m", "jobs.cli", "alerts", "deliver", "--until-idle"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert deliver.returncode == 0, deliver.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "jobs.cli", "alerts", "list"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert (
        "outcome=dead" in deliver.stderr and "Dead letters" in listed.stdout
    )  # the failures were logged and listed
    _assert_clean("flowdesk alerts deliver (stderr)", deliver.stderr + deliver.stdout)
    _assert_clean("flowdesk alerts list", listed.stdout + listed.stderr)
    _assert_clean("Redis", redis_dump(redis_client))
