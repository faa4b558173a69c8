"""Login cannot starve the server: failure limits (429 + Retry-After), the credential cache, /healthz.

Flask test client on the real test Redis (the failure counters live there, shared by every app
instance as by every gunicorn worker).  Client addresses are set per request (``REMOTE_ADDR``).
Behaviour only: no timing assertions.
"""

from __future__ import annotations

import base64
import threading

import pytest
from werkzeug.security import generate_password_hash

from dashboard import auth
from dashboard.app import create_app
from jobs.store import connect, keys
from tests.dashboard.shell_helpers import closed_port_url, reset_dashboard_caches, use_config

PASSWORD = "correct horse battery"
LIMITS = """
login_max_failures_per_client = 3
login_max_failures_total = 5
login_failure_window_seconds = 600
login_cache_seconds = 300
"""


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


@pytest.fixture()
def app_factory(tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url, web_extra=LIMITS)
    monkeypatch.setenv("FLOWDESK_USERS", f"alice:{generate_password_hash(PASSWORD)}")
    return lambda: create_app(host="0.0.0.0")


def _get(client, path: str, headers: dict[str, str] | None = None, addr: str = "10.0.0.1"):
    return client.get(path, headers=headers or {}, environ_base={"REMOTE_ADDR": addr})


def test_failures_per_client_get_429_with_retry_after_and_no_hash_check(app_factory, redis_client):
    app = app_factory()
    client, gate = app.server.test_client(), app.server.extensions["flowdesk_login"]
    for _ in range(3):
        assert _get(client, "/api/v1/results", _basic("alice", "wrong")).status_code == 401
    refused = _get(client, "/api/v1/results", _basic("alice", "wrong"))
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 600
    assert refused.get_json()["error"] == f"too many failed logins; retry in {retry_after} s"
    # the right password from the blocked client is refused too (it is not in the cache) ...
    assert _get(client, "/api/v1/results", _basic("alice", PASSWORD)).status_code == 429
    # ... refused requests are not counted, and the counter sits in Redis with an expiry
    window = [
        k
        for k in redis_client.scan_iter(
            match=keys.login_failures("client:10.0.0.1", 0).rsplit(":", 1)[0] + ":*"
        )
    ]
    assert (
        len(window) == 1
        and int(redis_client.get(window[0])) == 3
        and 0 < redis_client.ttl(window[0]) <= 600
    )
    # another client is unaffected: wrong -> 401, right -> 200
    assert (
        _get(client, "/api/v1/results", _basic("alice", "nope"), addr="10.0.0.2").status_code == 401
    )
    assert (
        _get(client, "/api/v1/results", _basic("alice", PASSWORD), addr="10.0.0.2").status_code
        == 200
    )
    assert gate.cache.hits == 0


def test_global_limit_blocks_unverified_logins_but_cached_ones_pass(app_factory):
    app = app_factory()
    client = app.server.test_client()
    assert (
        _get(client, "/api/v1/results", _basic("alice", PASSWORD), addr="10.0.1.1").status_code
        == 200
    )  # now cached
    for i in range(5):  # five addresses, one failure each: under every per-client limit
        assert (
            _get(client, "/api/v1/results", _basic("mallory", "x"), addr=f"10.0.2.{i}").status_code
            == 401
        )
    assert (
        _get(client, "/api/v1/results", _basic("mallory", "x"), addr="10.0.3.1").status_code == 429
    )
    assert (
        _get(client, "/api/v1/results", _basic("alice", PASSWORD), addr="10.0.3.2").status_code
        == 200
    )  # cached: no hash, passes
    assert (
        _get(
            client, "/api/v1/results", {"Authorization": "Bearer not-cached"}, addr="10.0.3.3"
        ).status_code
        == 429
    )


def test_counters_are_shared_by_every_worker(app_factory):
    """Two app instances (two gunicorn workers) share the Redis counters."""
    first, second = app_factory().server.test_client(), app_factory().server.test_client()
    for client in (first, second, first):
        assert _get(client, "/api/v1/jobs", _basic("alice", "wrong")).status_code == 401
    assert _get(second, "/api/v1/jobs", _basic("alice", "wrong")).status_code == 429


def test_successful_logins_are_cached_and_never_counted(app_factory, redis_client):
    app = app_factory()
    client, gate = app.server.test_client(), app.server.extensions["flowdesk_login"]
    for _ in range(10):  # more than any limit
        assert _get(client, "/api/v1/results", _basic("alice", PASSWORD)).status_code == 200
    assert gate.cache.hits == 9  # one hash check, nine cache hits
    assert not list(redis_client.scan_iter(match=f"{keys.PREFIX}:login:*"))
    # the cache holds keyed digests, never the password or the header
    held = repr(gate.cache._entries)
    assert (
        PASSWORD not in held and base64.b64encode(f"alice:{PASSWORD}".encode()).decode() not in held
    )
    assert all(isinstance(k, bytes) and len(k) == 32 for k in gate.cache._entries)
    # a wrong password for a cached user is still checked and refused
    assert _get(client, "/api/v1/results", _basic("alice", PASSWORD + "x")).status_code == 401


def test_healthz_is_unaffected_by_login_failures(app_factory):
    client = app_factory().server.test_client()
    for _ in range(6):
        _get(client, "/api/v1/results", _basic("alice", "wrong"))
    assert _get(client, "/api/v1/results", _basic("alice", "wrong")).status_code == 429
    for headers in ({}, _basic("alice", "wrong"), {"Authorization": "Basic !!!"}):
        resp = _get(client, "/healthz", headers)
        assert resp.status_code == 200 and resp.get_json()["redis"] == "ok"


def test_limits_hold_in_the_process_when_redis_is_down():
    limits = auth.LoginLimits(
        max_failures_per_client=2, max_failures_total=100, window_seconds=600, cache_seconds=0
    )
    limiter = auth.FailureLimiter(limits, lambda: connect(closed_port_url()))
    assert limiter.blocked("10.9.9.9") is None
    limiter.failed("10.9.9.9")
    limiter.failed("10.9.9.9")
    wait = limiter.blocked("10.9.9.9")
    assert wait is not None and 1 <= wait <= 600
    assert limiter.blocked("10.9.9.8") is None


def test_concurrent_identical_credentials_are_checked_once():
    cache = auth.CredentialCache(ttl_s=60)
    calls = []
    release = threading.Event()

    def check():
        calls.append(1)
        release.wait(5)
        return True, "basic", "alice"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.verify("Basic abc", check)))
        for _ in range(6)
    ]
    for th in threads:
        th.start()
    while not calls:  # the first thread is inside the check; the others queue behind it
        threading.Event().wait(0.01)
    threading.Event().wait(0.1)
    release.set()
    for th in threads:
        th.join(10)
    assert len(calls) == 1
    assert len(results) == 6 and all(ok and user == "alice" for ok, _scheme, user in results)
    assert cache.get("Basic abc") == (True, "alice")
