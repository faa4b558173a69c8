"""The web tier while Redis is down and while the first refresh runs.

A private, real Redis (not the session one: these tests stop it) that is stopped mid-test.  The
data layer and the API through the Flask test client; the pages in headless Chromium (the
service banner, the first-refresh progress, a page that keeps its figures marked STALE).
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
import redis
import requests
from dash.exceptions import PreventUpdate

from dashboard import app as app_module
from dashboard import data
from dashboard.app import create_app
from jobs.redis_server import start_embedded_redis
from jobs.refresh_progress import RefreshProgress
from jobs.refresh_progress import read as read_progress
from jobs.runner import run_job
from jobs.store import ResultNotFound, ResultStore, utcnow
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

GAMMA_JOB = """
[jobs.gamma_test]
task = "gamma"
cron = "0 8 * * *"
trading_days_only = false
retries = 0
stale_after_minutes = 1440
"""


@pytest.fixture()
def private_redis():
    server = start_embedded_redis(quiet=True)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch):
    monkeypatch.setattr(
        data, "RETRY_SECONDS", 0.0
    )  # retry Redis on every read: no waiting in tests
    reset_dashboard_caches()
    yield
    reset_dashboard_caches()


def _publish_demo(store: ResultStore, value: float) -> None:
    frame = pd.DataFrame({"item": ["item-0"], "value_usd": [value], "computed_at": [utcnow()]})
    store.publish("demo", frame, as_of=utcnow(), source="test", headline={"total_usd": value})


def test_pages_store_serves_last_reads_marked_stale_while_the_api_says_503(
    tmp_path, monkeypatch, private_redis
):
    use_config(tmp_path, monkeypatch, private_redis.url)
    live = ResultStore.from_url(private_redis.url)
    _publish_demo(live, 42.0)
    client = create_app().server.test_client()

    fresh = data.read_current("demo")
    assert fresh.meta.status == "ok" and fresh.table("data")["value_usd"].tolist() == [42.0]
    assert data.store().names() == ["demo"]
    assert data.check_redis() is None

    private_redis.stop()  # Redis goes away mid-session

    stale = data.read_current("demo")
    assert stale.meta.status == "stale"
    assert stale.meta.failure["error"].startswith("Redis unreachable since ")
    assert stale.table("data")["value_usd"].tolist() == [
        42.0
    ]  # the last decoded result, still served
    assert data.store().names() == ["demo"]
    with pytest.raises(redis.ConnectionError, match="nothing read before the outage"):
        data.store().read("never.read")
    since = data.redis_outage().since
    assert since is not None and data.check_redis() == since

    # the API and the health check stay honest
    assert client.get("/healthz").status_code == 503
    assert client.get("/api/v1/results").status_code == 503
    children, css, poll_disabled = app_module.banner_state()
    assert css == "fd-banner fd-banner-red" and poll_disabled is True  # at the page refresh
    assert children[0].children.startswith("Redis unreachable since ")
    assert "showing the last results this server read, marked stale" in children[0].children

    # Redis back (empty: this one was ephemeral): reads are live again, the banner goes
    back = start_embedded_redis(port=private_redis.port, quiet=True)
    try:
        _publish_demo(ResultStore.from_url(back.url), 7.0)
        again = data.read_current("demo")
        assert again.meta.status == "ok" and again.table("data")["value_usd"].tolist() == [7.0]
        assert data.redis_outage().since is None
        assert app_module.banner_state()[1] == "fd-banner fd-banner-hidden"
        with pytest.raises(ResultNotFound):
            data.store().read("never.read")
    finally:
        back.stop()


def test_first_refresh_progress_banner_and_badge(tmp_path, monkeypatch, redis_url, redis_client):
    use_config(tmp_path, monkeypatch, redis_url)
    assert app_module.banner_state()[1] == "fd-banner fd-banner-hidden"
    progress = RefreshProgress(redis_client, ["demo", "gamma_morning", "board_morning"])
    progress.job_started("demo")
    progress.job_finished("demo", ok=False)
    progress.job_started("gamma_morning")
    progress.message("gamma_morning", "gamma SPX (1/7)")
    children, css, poll_disabled = app_module.banner_state()
    assert css == "fd-banner fd-banner-info" and poll_disabled is False
    text, bar = children
    assert (
        text.children
        == "First refresh running: 1 of 3 jobs done · now: gamma_morning (gamma SPX (1/7)) · failed: demo. Pages fill in as results are published."
    )
    assert (bar.value, bar.max) == ("1", "3")
    assert app_module._badge_state()[0] == "first refresh running"  # nothing published yet
    # the callback's answer: shown (and polled fast) while running, whatever the browser shows
    assert app_module.banner_update("fd-banner fd-banner-hidden")[1:] == (
        "fd-banner fd-banner-info",
        False,
    )
    progress.finish()
    assert read_progress(redis_client)["state"] == "done"
    assert app_module.banner_state() == ([], "fd-banner fd-banner-hidden", True)
    # once done: hidden and the fast poll off; hidden and staying hidden sends nothing
    assert app_module.banner_update("fd-banner fd-banner-info") == (
        [],
        "fd-banner fd-banner-hidden",
        True,
    )
    with pytest.raises(PreventUpdate):
        app_module.banner_update("fd-banner fd-banner-hidden")


@pytest.mark.browser
def test_browser_first_refresh_then_redis_outage_keeps_the_page(
    dash_duo, tmp_path, monkeypatch, private_redis
):
    settings = use_config(
        tmp_path, monkeypatch, private_redis.url, refresh_seconds=1, jobs=GAMMA_JOB
    )
    store = ResultStore.from_url(private_redis.url)
    progress = RefreshProgress(store.redis, ["gamma_test", "board_test"])
    progress.job_started("gamma_test")
    dash_duo.start_server(create_app())

    dash_duo.wait_for_contains_text(
        "#service-banner-text",
        "First refresh running: 0 of 2 jobs done · now: gamma_test",
        timeout=15,
    )
    # the banner re-renders every second: wait for a matching element, never hold a reference
    dash_duo.wait_for_element("#first-refresh-progress[max='2']", timeout=15)
    record = run_job(settings, store, "gamma_test")  # the sample gamma job publishes gamma.<U>
    assert record.status == "ok", record.error
    progress.job_finished("gamma_test", ok=True)
    progress.finish()
    dash_duo.wait_for_class_to_equal("#service-banner", "fd-banner fd-banner-hidden", timeout=15)

    dash_duo.wait_for_page(url=dash_duo.server_url + "/gamma", timeout=15)
    dash_duo.wait_for_contains_text("#gamma-provenance", "as of", timeout=20)
    assert "STALE" not in dash_duo.find_element("#gamma-provenance").text
    cards = dash_duo.find_element("#gamma-cards").text
    assert "NET GEX" in cards.upper()

    private_redis.stop()
    dash_duo.wait_for_contains_text("#service-banner-text", "Redis unreachable since", timeout=20)
    dash_duo.wait_for_contains_text(
        "#gamma-provenance", "STALE", timeout=20
    )  # the figures stay, marked stale
    assert dash_duo.find_element("#gamma-cards").text == cards
    assert not dash_duo.find_elements(".fd-error")
    assert requests.get(dash_duo.server_url + "/healthz", timeout=10).status_code == 503
    assert [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"] == []


_BANNER_POSTS = """
return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component') && e.startTime > arguments[0]).length
"""


def _callback_posts_during(dash_duo, seconds: float) -> int:
    """Callback requests the page sends during the next ``seconds`` (Resource Timing)."""
    driver = dash_duo.driver
    driver.execute_script("performance.setResourceTimingBufferSize(100000)")
    start = driver.execute_script("return performance.now()")
    time.sleep(seconds)
    return int(driver.execute_script(_BANNER_POSTS, start))


@pytest.mark.browser
def test_banner_polls_every_2_s_only_while_the_first_refresh_runs(
    dash_duo, tmp_path, monkeypatch, private_redis
):
    """On a page that sends nothing by itself (Status) with a 60 s page refresh: while the first
    refresh runs, the banner asks every 2 s (about 3 requests in 6 s); once it is done the fast poll
    stops and the page sends nothing for 6 s, and a page opened afterwards never starts it (it
    used to poll every 2 s for ever: the poll started on, and a banner hidden and staying hidden
    never switched it off)."""
    use_config(tmp_path, monkeypatch, private_redis.url, refresh_seconds=60)
    store = ResultStore.from_url(private_redis.url)
    progress = RefreshProgress(store.redis, ["demo", "board_test"])
    progress.job_started("demo")
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/status")
    dash_duo.wait_for_contains_text("#service-banner-text", "0 of 2 jobs done", timeout=15)
    progress.job_finished("demo", ok=True)
    dash_duo.wait_for_contains_text("#service-banner-text", "1 of 2 jobs done", timeout=10)
    assert _callback_posts_during(dash_duo, 6.0) >= 2
    progress.finish()
    dash_duo.wait_for_class_to_equal("#service-banner", "fd-banner fd-banner-hidden", timeout=10)
    assert _callback_posts_during(dash_duo, 6.0) == 0
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/status")  # a page opened afterwards
    dash_duo.wait_for_element("#status-jobs-table", timeout=15)
    time.sleep(1.0)  # the page's own first callbacks
    assert _callback_posts_during(dash_duo, 6.0) == 0
    assert [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"] == []
