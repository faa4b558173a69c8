"""Webhook delivery against real local HTTP receivers and a real Redis outbox.

Receivers are the ``http_server`` fixture (a real ``ThreadingHTTPServer`` on 127.0.0.1); the
delivery worker runs in-process or, for the crash test, as a separate ``flowdesk alerts deliver``
process that is SIGKILLed mid-request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.alerts import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    AlertEvent,
    DeliveryWorker,
    TargetConfigError,
    backoff_delay,
    counts,
    dead_letters,
    delivered_ids,
    enqueue,
    get_delivery,
    new_event_id,
    resend,
    send_test,
    sign,
    signature_header,
    verify,
)
from jobs.commands.alerts import alerts as alerts_cli
from jobs.config import parse_settings
from jobs.store import keys
from tests.httpserver import Reply, Request

SECRET = "whsec_test_5f1c"
REPO = Path(__file__).resolve().parents[2]


def make_settings(base_url: str, **alerts_kw):
    cfg = {
        "max_attempts": 6,
        "backoff_base_seconds": 0.01,
        "backoff_max_seconds": 0.05,
        "timeout_seconds": 2.0,
        "lease_seconds": 5.0,
        "delivery_threads": 1,
        "poll_seconds": 0.02,
        "targets": {
            "desk": {
                "kind": "webhook",
                "url_env": "FD_TEST_DESK_URL",
                "secret_env": "FD_TEST_DESK_SECRET",
                "digest": True,
            },
            "slack": {"kind": "slack", "url_env": "FD_TEST_SLACK_URL"},
            "teams": {"kind": "teams", "url_env": "FD_TEST_TEAMS_URL"},
            "nourl": {"kind": "webhook", "url_env": "FD_TEST_UNSET_URL"},
        },
    }
    cfg.update(alerts_kw)
    return parse_settings({"alerts": cfg}, env={})


def env_for(base_url: str) -> dict[str, str]:
    return {
        "FD_TEST_DESK_URL": base_url + "/hook",
        "FD_TEST_DESK_SECRET": SECRET,
        "FD_TEST_SLACK_URL": base_url + "/slack",
        "FD_TEST_TEAMS_URL": base_url + "/teams",
    }


def fired_event(rule: str = "spx_near_flip", value: float = 0.8) -> AlertEvent:
    now = time.time()
    return AlertEvent(
        id=new_event_id(now),
        kind="fired",
        at="2024-01-05T14:45:00+00:00",
        rule=rule,
        metric="gamma.SPX.flip_distance_pct",
        result="gamma.SPX",
        value=value,
        op="<",
        threshold=1.0,
        hysteresis=0.25,
        severity="critical",
        title=f"[CRITICAL] {rule} FIRED",
        text=f"gamma.SPX.flip_distance_pct = {value} (breach of < 1)",
        as_of="2024-01-05T09:45:00-05:00",
        targets=["desk"],
    )


def body_id(req: Request) -> str:
    return json.loads(req.body)["id"]


# -- signatures -------------------------------------------------------------------------------
def test_signature_verifies_and_rejects_tampering_and_replays():
    body = b'{"id":"evt_1","type":"alert.fired"}'
    t = 1_700_000_000
    header = signature_header(SECRET, t, body)
    assert header == f"t={t},v1={sign(SECRET, t, body)}"
    assert len(sign(SECRET, t, body)) == 64
    assert verify(SECRET, header, body, now=t + 10)
    assert not verify(SECRET, header, body.replace(b"fired", b"fixed"), now=t + 10)  # tampered body
    assert not verify(SECRET, header, body, now=t + 301)  # too old: a replay
    assert not verify(SECRET, header, body, now=t - 301)  # from the future
    assert verify(SECRET, header, body, now=t + 1000, tolerance_s=1200)
    assert not verify("another-secret", header, body, now=t)
    forged_t = header.replace(f"t={t}", f"t={t + 100}")  # re-stamping an old signature fails
    assert not verify(SECRET, forged_t, body, now=t + 100)
    for bad in (None, "", "v1=abc", f"t=xyz,v1={sign(SECRET, t, body)}", f"t={t}"):
        assert not verify(SECRET, bad, body, now=t)
    # secret rotation: a header may carry a v1 per secret
    rotated = f"t={t},v1={sign('old', t, body)},v1={sign(SECRET, t, body)}"
    assert verify(SECRET, rotated, body, now=t)


def test_backoff_is_exponential_capped_and_jittered():
    import random

    rng = random.Random(1)
    for attempt, cap in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 600.0), (30, 600.0)]:
        draws = [backoff_delay(attempt, 2.0, 600.0, rng) for _ in range(200)]
        assert all(cap / 2 <= d <= cap for d in draws)
        assert len(set(draws)) > 150  # jittered, not a fixed delay


# -- retries ------------------------------------------------------------------------------------
def test_failing_receiver_gets_exactly_one_event_with_the_same_id(http_server, redis_client):
    times: list[float] = []
    script = [
        Reply(500, "boom"),
        Reply(503, "busy"),
        Reply(429, "slow down", {"Retry-After": "1"}),
        Reply(200, "ok"),
    ]

    def receiver(req: Request) -> Reply:
        times.append(time.monotonic())
        return script.pop(0) if len(script) > 1 else script[0]

    http_server.route("/hook", receiver)
    settings = make_settings(http_server.url)
    ev = fired_event()
    [did] = enqueue(redis_client, settings, ev, ["desk"])
    DeliveryWorker(settings, redis_client, env=env_for(http_server.url)).run_until_idle(
        timeout_s=30
    )

    reqs = http_server.requests_to("/hook")
    assert len(reqs) == 4
    assert {r.headers[EVENT_ID_HEADER.lower()] for r in reqs} == {ev.id}
    assert {body_id(r) for r in reqs} == {ev.id}
    now = time.time()
    assert all(verify(SECRET, r.headers[SIGNATURE_HEADER.lower()], r.body, now=now) for r in reqs)
    assert times[3] - times[2] >= 1.0  # Retry-After: 1 was honoured (backoff alone is <= 0.05 s)
    # receiver-side dedup by event id sees one event; bookkeeping has one completed delivery
    assert len({body_id(r) for r in reqs if r.path == "/hook"}) == 1
    assert delivered_ids(redis_client) == [did]
    d = get_delivery(redis_client, did)
    assert d["state"] == "delivered" and d["attempts"] == 4 and d["last_status"] == "200"
    assert counts(redis_client) == {"pending": 0, "inflight": 0, "dead": 0, "delivered": 1}
    payload = json.loads(reqs[-1].body)
    assert (
        payload["type"] == "alert.fired"
        and payload["event"]["value"] == 0.8
        and payload["event"]["rule"] == "spx_near_flip"
    )


def test_timeout_is_retried(http_server, redis_client):
    http_server.route("/hook", [Reply(200, "late", delay_s=3.0), Reply(200, "ok")])
    settings = make_settings(http_server.url, timeout_seconds=1.0, lease_seconds=4.0)
    ev = fired_event()
    [did] = enqueue(redis_client, settings, ev, ["desk"])
    DeliveryWorker(settings, redis_client, env=env_for(http_server.url)).run_until_idle(
        timeout_s=30
    )
    reqs = http_server.requests_to("/hook")
    assert [body_id(r) for r in reqs] == [ev.id, ev.id]
    assert get_delivery(redis_client, did)["state"] == "delivered"


def test_400_is_not_retried_and_dead_letters_then_resend_works(http_server, redis_client):
    http_server.route("/hook", Reply(400, '{"error": "bad payload"}'))
    settings = make_settings(http_server.url)
    ev = fired_event()
    [did] = enqueue(redis_client, settings, ev, ["desk"])
    worker = DeliveryWorker(settings, redis_client, env=env_for(http_server.url))
    worker.run_until_idle(timeout_s=30)

    assert len(http_server.requests_to("/hook")) == 1  # no retry
    [dead] = dead_letters(redis_client)
    assert dead["id"] == did and dead["attempts"] == 1 and dead["state"] == "dead"
    assert "HTTP 400 (not retried)" in dead["last_error"] and "bad payload" in dead["last_error"]
    assert counts(redis_client) == {"pending": 0, "inflight": 0, "dead": 1, "delivered": 0}

    # fixed receiver; the operator re-sends from the dead-letter list (CLI)
    http_server.route("/hook", Reply(200, "ok"))
    settings.service.redis_url = _url(redis_client)
    res = CliRunner().invoke(alerts_cli, ["resend", did], obj={"settings": settings})
    assert res.exit_code == 0, res.output
    assert "queued again" in res.output
    worker.run_until_idle(timeout_s=30)
    reqs = http_server.requests_to("/hook")
    assert [body_id(r) for r in reqs] == [ev.id, ev.id]  # the same event id as the failed one
    assert delivered_ids(redis_client) == [did]
    assert dead_letters(redis_client) == []
    # only dead letters can be re-sent
    with pytest.raises(ValueError, match="is not dead-lettered"):
        resend(redis_client, did)
    res = CliRunner().invoke(alerts_cli, ["resend", "dlv_nope"], obj={"settings": settings})
    assert res.exit_code != 0 and "no delivery 'dlv_nope'" in res.output


def _url(client) -> str:
    kw = client.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"


def test_gives_up_after_max_attempts(http_server, redis_client):
    http_server.route("/hook", Reply(503, "down"))
    settings = make_settings(http_server.url, max_attempts=3)
    [did] = enqueue(redis_client, settings, fired_event(), ["desk"])
    DeliveryWorker(settings, redis_client, env=env_for(http_server.url)).run_until_idle(
        timeout_s=30
    )
    assert len(http_server.requests_to("/hook")) == 3
    [dead] = dead_letters(redis_client)
    assert (
        dead["id"] == did
        and "gave up after 3 attempts" in dead["last_error"]
        and "HTTP 503" in dead["last_error"]
    )


def test_connection_refused_is_retried_then_dead_lettered(redis_client):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings("x", max_attempts=2)
    [did] = enqueue(redis_client, settings, fired_event(), ["desk"])
    DeliveryWorker(settings, redis_client, env=env_for(f"http://127.0.0.1:{port}")).run_until_idle(
        timeout_s=30
    )
    d = get_delivery(redis_client, did)
    assert d["state"] == "dead" and d["attempts"] == 2 and "connection error" in d["last_error"]


def test_missing_env_variable_is_named(http_server, redis_client):
    settings = make_settings(http_server.url)
    [did] = enqueue(redis_client, settings, fired_event(), ["nourl"])
    DeliveryWorker(settings, redis_client, env=env_for(http_server.url)).run_until_idle(
        timeout_s=10
    )
    assert (
        "environment variable FD_TEST_UNSET_URL (url_env of the target) is not set"
        in get_delivery(redis_client, did)["last_error"]
    )
    with pytest.raises(TargetConfigError, match="FD_TEST_DESK_SECRET"):
        env = env_for(http_server.url)
        del env["FD_TEST_DESK_SECRET"]
        send_test(settings, "desk", env=env)
    with pytest.raises(TargetConfigError, match="unknown target 'nope'"):
        send_test(settings, "nope", env={})


# -- payload shapes ------------------------------------------------------------------------------
def test_slack_and_teams_payload_shapes(http_server, redis_client):
    http_server.route("/slack", Reply(200, "ok"))
    http_server.route("/teams", Reply(202, ""))
    settings = make_settings(http_server.url)
    ev = fired_event()
    enqueue(redis_client, settings, ev, ["slack", "teams"])
    DeliveryWorker(settings, redis_client, env=env_for(http_server.url)).run_until_idle(
        timeout_s=10
    )

    [slack] = http_server.requests_to("/slack")
    body = json.loads(slack.body)
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("[CRITICAL] spx_near_flip FIRED")
    assert body["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "[CRITICAL] spx_near_flip FIRED"},
    }
    assert all(b["type"] in {"header", "section", "context"} for b in body["blocks"])
    fields = next(b for b in body["blocks"] if "fields" in b)["fields"]
    assert {"type": "mrkdwn", "text": "*Value*\n0.8"} in fields
    assert slack.headers[EVENT_ID_HEADER.lower()] == ev.id
    assert ev.id in body["blocks"][-1]["elements"][0]["text"]

    [teams] = http_server.requests_to("/teams")
    body = json.loads(teams.body)
    assert body["type"] == "message"
    [att] = body["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert (
        card["type"] == "AdaptiveCard"
        and card["version"] == "1.4"
        and card["$schema"].startswith("http://adaptivecards.io/")
    )
    assert (
        card["body"][0]["type"] == "TextBlock"
        and card["body"][0]["text"] == "[CRITICAL] spx_near_flip FIRED"
    )
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts["Event id"] == ev.id and facts["Metric"] == "gamma.SPX.flip_distance_pct"
    # times people read are in the desk zone ([service] timezone, New York by default), not UTC
    assert (
        facts["Data as of"] == "2024-01-05 09:45 EST"
        and facts["Evaluated at"] == "2024-01-05 09:45:00 EST"
    )
    assert {"type": "mrkdwn", "text": "*Data as of*\n2024-01-05 09:45 EST"} in fields
    assert counts(redis_client)["delivered"] == 2


def test_alert_texts_follow_the_desk_time_zone():
    from jobs.alerts.webhooks import slack_payload, teams_payload

    ev = fired_event()
    facts = {
        f["title"]: f["value"]
        for f in teams_payload(ev, "Europe/London")["attachments"][0]["content"]["body"][2]["facts"]
    }
    assert (
        facts["Data as of"] == "2024-01-05 14:45 GMT"
        and facts["Evaluated at"] == "2024-01-05 14:45:00 GMT"
    )
    fields = next(b for b in slack_payload(ev, "Asia/Tokyo")["blocks"] if "fields" in b)["fields"]
    assert {"type": "mrkdwn", "text": "*Data as of*\n2024-01-05 23:45 JST"} in fields


def test_alerts_test_command_reports_status(http_server, redis_client, monkeypatch):
    http_server.route("/hook", Reply(204, ""))
    http_server.route("/slack", Reply(403, "invalid_token"))
    for k, v in env_for(http_server.url).items():
        monkeypatch.setenv(k, v)
    settings = make_settings(http_server.url)
    res = CliRunner().invoke(alerts_cli, ["test", "desk"], obj={"settings": settings})
    assert res.exit_code == 0 and "desk: HTTP 204 OK" in res.output
    [req] = http_server.requests_to("/hook")
    assert json.loads(req.body)["type"] == "alert.test"
    assert verify(SECRET, req.headers["x-flowdesk-signature"], req.body, now=time.time())
    res = CliRunner().invoke(alerts_cli, ["test", "slack"], obj={"settings": settings})
    assert res.exit_code == 1 and "slack: HTTP 403" in res.output and "invalid_token" in res.output
    res = CliRunner().invoke(alerts_cli, ["test", "nourl"], obj={"settings": settings})
    assert res.exit_code == 1 and "FD_TEST_UNSET_URL" in res.output


# -- crash safety ----------------------------------------------------------------------------------
def _config_file(tmp_path: Path, timeout_s: float, lease_s: float) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[alerts]
max_attempts = 5
backoff_base_seconds = 0.01
backoff_max_seconds = 0.05
timeout_seconds = {timeout_s}
lease_seconds = {lease_s}
delivery_threads = 1
poll_seconds = 0.05

[alerts.targets.desk]
kind = "webhook"
url_env = "FD_TEST_DESK_URL"
secret_env = "FD_TEST_DESK_SECRET"
"""
    )
    return path


def _worker_process(config: Path, base_url: str, redis_url: str) -> subprocess.Popen:
    env = dict(os.environ, FLOWDESK_CONFIG=str(config), REDIS_URL=redis_url, **env_for(base_url))
    code = "from jobs.commands.alerts import alerts; alerts(['deliver'])"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_worker_killed_mid_delivery_resumes_with_nothing_lost_or_duplicated(
    http_server, redis_client, redis_url, tmp_path
):
    arrived = threading.Event()
    seen: list[str] = []

    def receiver(req: Request) -> Reply:
        seen.append(req.headers[EVENT_ID_HEADER.lower()])
        if len(seen) == 1:
            arrived.set()
            return Reply(200, "too late", delay_s=6.0)  # slow: the worker dies while waiting
        return Reply(200, "ok")

    http_server.route("/hook", receiver)
    config = _config_file(tmp_path, timeout_s=3.0, lease_s=4.0)
    from jobs.config import load_settings

    settings = load_settings(config, env={})
    ev = fired_event()
    [did] = enqueue(redis_client, settings, ev, ["desk"])

    first = _worker_process(config, http_server.url, redis_url)
    try:
        assert arrived.wait(30), (
            first.stderr.read1().decode() if first.poll() is not None else "no request"
        )
        assert redis_client.zscore(keys.alert_inflight(), did) is not None  # claimed, lease held
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    # Nothing lost: the delivery is still in flight under the dead worker's lease (4 s), and
    # the restarted worker takes it over once that lease has expired.
    assert counts(redis_client)["inflight"] == 1 and delivered_ids(redis_client) == []

    second = _worker_process(config, http_server.url, redis_url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and did not in delivered_ids(redis_client):
            time.sleep(0.05)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(15)
    assert second.returncode is not None

    assert seen == [ev.id, ev.id]  # re-sent with the same event id
    assert len(set(seen)) == 1  # the receiver's dedup by event id sees one event
    assert delivered_ids(redis_client) == [did]  # exactly one completed delivery
    assert counts(redis_client) == {"pending": 0, "inflight": 0, "dead": 0, "delivered": 1}
    d = get_delivery(redis_client, did)
    assert d["state"] == "delivered" and d["attempts"] == 2


def test_expired_lease_cannot_finish_over_the_new_owner(http_server, redis_client):
    http_server.route("/hook", Reply(200, "ok"))
    settings = make_settings(http_server.url)
    [did] = enqueue(redis_client, settings, fired_event(), ["desk"])
    a = DeliveryWorker(settings, redis_client, env=env_for(http_server.url))
    b = DeliveryWorker(settings, redis_client, env=env_for(http_server.url))
    [(id_a, token_a)] = a.claim()
    redis_client.zadd(keys.alert_inflight(), {did: time.time() - 1})  # a's lease runs out
    [(id_b, token_b)] = b.claim()
    assert id_a == id_b == did and token_a != token_b
    assert a.deliver(did, token_a) == "lost"  # a may not record an outcome any more
    assert b.deliver(did, token_b) == "delivered"
    assert delivered_ids(redis_client) == [did]


# -- volume ------------------------------------------------------------------------------------------
def test_thousand_events_to_a_slow_receiver_without_loss(http_server, redis_client):
    received: Counter[str] = Counter()
    lock = threading.Lock()
    n_req = [0]

    def receiver(req: Request) -> Reply:
        with lock:
            n_req[0] += 1
            k = n_req[0]
        if k % 97 == 0:  # now and then the receiver is overloaded
            return Reply(503, "overloaded", delay_s=0.005)
        with lock:
            received[req.headers[EVENT_ID_HEADER.lower()]] += 1
        return Reply(200, "ok", delay_s=0.005)

    http_server.route("/hook", receiver)
    # Like a production receiver, answer without Nagle's delay (the test server writes headers
    # and body in two packets, which otherwise stalls each keep-alive request on a delayed ACK).
    http_server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
    settings = make_settings(http_server.url, delivery_threads=4, max_attempts=10)
    events = [fired_event(f"rule{i}", float(i)) for i in range(1000)]
    for i in range(0, 1000, 100):
        with redis_client.pipeline(transaction=True) as pipe:
            from jobs.alerts import add_deliveries

            for ev in events[i : i + 100]:
                add_deliveries(pipe, settings, ev, ["desk"])
            pipe.execute()
    assert counts(redis_client)["pending"] == 1000

    worker = DeliveryWorker(settings, redis_client, env=env_for(http_server.url)).start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and counts(redis_client)["delivered"] < 1000:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert not worker.running
    assert set(received) == {ev.id for ev in events}  # nothing lost
    assert max(received.values()) == 1  # nothing sent twice after success
    assert counts(redis_client) == {"pending": 0, "inflight": 0, "dead": 0, "delivered": 1000}
    assert len(set(delivered_ids(redis_client))) == 1000


def test_digest_reaches_digest_targets_and_long_text_is_clipped_for_slack(
    http_server, redis_client
):
    from jobs.alerts import enqueue_digest
    from jobs.store import ResultStore

    http_server.route("/hook", Reply(200, "ok"))
    http_server.route("/slack", Reply(200, "ok"))
    settings = make_settings(http_server.url)
    settings.alerts.targets["slack"].digest = True
    text = "\n".join(
        f"line {i}: SPX short gamma, flip 0.8% below spot" for i in range(200)
    )  # > 3,000 chars
    ids = enqueue_digest(
        settings,
        ResultStore(redis_client),
        "flowdesk morning brief 2024-01-05",
        text,
        {"date": "2024-01-05"},
    )
    assert len(ids) == 2  # desk and slack have digest = true; teams does not
    DeliveryWorker(settings, redis_client, env=env_for(http_server.url)).run_until_idle(
        timeout_s=10
    )
    [hook] = http_server.requests_to("/hook")
    generic = json.loads(hook.body)
    assert (
        generic["type"] == "alert.digest"
        and generic["event"]["text"] == text
        and generic["event"]["data"] == {"date": "2024-01-05"}
    )
    assert verify(SECRET, hook.headers["x-flowdesk-signature"], hook.body, now=time.time())
    [slack] = http_server.requests_to("/slack")
    section = json.loads(slack.body)["blocks"][1]["text"]["text"]
    assert len(section) == 3000 and section.endswith("(clipped)") and section.startswith("line 0:")
    assert http_server.requests_to("/teams") == []


def test_damaged_delivery_record_is_dead_lettered_not_retried_forever(http_server, redis_client):
    settings = make_settings(http_server.url)
    [did] = enqueue(redis_client, settings, fired_event(), ["desk"])
    redis_client.hset(keys.alert_delivery(did), "event", "{not json")
    DeliveryWorker(settings, redis_client, env=env_for(http_server.url)).run_until_idle(
        timeout_s=10
    )
    d = get_delivery(redis_client, did)
    assert d["state"] == "dead" and "delivery record is damaged" in d["last_error"]
    assert http_server.requests_to("/hook") == []


def test_worker_survives_a_redis_outage_and_stops_cleanly(caplog):
    import socket

    from jobs.store import connect

    with socket.socket() as s:  # a Redis port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings("x", poll_seconds=0.01)
    worker = DeliveryWorker(settings, connect(f"redis://127.0.0.1:{port}/0"), threads=2).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "redis error" not in caplog.text:
        time.sleep(0.02)
    assert "delivery worker: redis error" in caplog.text
    assert worker.running  # the threads keep going (backing off) instead of dying
    worker.stop(timeout=5)
    assert not worker.running
