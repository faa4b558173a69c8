"""The web shell in headless Chromium: app loads, Status shows job runs, the badge turns red."""

from __future__ import annotations

import pytest
import requests

from dashboard.app import create_app
from jobs.runner import run_job
from tests.dashboard.shell_helpers import closed_port_url, reset_dashboard_caches, use_config


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


def _console_errors(dash_duo) -> list:
    return [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]


@pytest.mark.browser
def test_app_loads_with_nav_badge_and_sample_label_from_local_assets(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    settings = use_config(tmp_path, monkeypatch, redis_url)
    run_job(settings, store, "demo")
    dash_duo.start_server(create_app())

    dash_duo.wait_for_contains_text("#freshness-badge", "fresh")
    dash_duo.wait_for_contains_class("#freshness-badge", "fd-badge-ok")
    assert dash_duo.find_element("#sample-mode-label").text == "SAMPLE DATA"
    nav = dash_duo.find_element(".fd-nav").text
    assert "Board" in nav and "Status" in nav
    assert nav.index("Board") < nav.index("Status")  # ordered by page order
    # the home page (the board; its own tests cover its content) renders inside the shell
    dash_duo.wait_for_element(".fd-main .fd-page")
    # every script, stylesheet and XHR came from this server: nothing from a CDN (desks are offline)
    loaded = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert any("/assets/flowdesk.css" in url for url in loaded)
    assert [url for url in loaded if not url.startswith(dash_duo.server_url)] == []
    assert _console_errors(dash_duo) == []


@pytest.mark.browser
def test_status_shows_demo_run_then_stale_after_failure(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    settings = use_config(tmp_path, monkeypatch, redis_url, refresh_seconds=1)
    run_job(settings, store, "demo")
    store.beat(leader=True)
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/status")

    dash_duo.wait_for_contains_class("#nav-status", "active")
    assert "active" not in dash_duo.find_element("#nav-board").get_attribute("class")
    dash_duo.wait_for_contains_text("#status-jobs-table", "demo")
    jobs_text = dash_duo.find_element("#status-jobs-table").text
    assert "*/15 * * * *" in jobs_text and "ok" in jobs_text and "fresh" in jobs_text
    dash_duo.wait_for_contains_text("#status-results-table", "SAMPLE")
    # the key number: each result's row count equals the API's listing, cell by cell
    listed = {
        r["name"]: r["rows"]
        for r in requests.get(f"{dash_duo.server_url}/api/v1/results", timeout=10).json()["results"]
    }
    shown = dash_duo.driver.execute_script(
        "const out = {}; dash_ag_grid.getApi('status-results-table').forEachNode(n => { out[n.data.name] = n.data.rows; }); return out;"
    )
    assert listed and shown == listed
    # read in one script: the page refreshes every second (refresh_seconds=1) and AG Grid may
    # redraw its rows between two element reads (a stale element in CI)
    cells = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll("
        "\"#status-results-table .ag-row .ag-cell[col-id='rows']\")].map(c => c.innerText.trim())"
    )
    assert sorted(cells) == sorted(str(v) for v in listed.values())
    dash_duo.wait_for_contains_text("#status-redis", "PING ok")
    dash_duo.wait_for_contains_text("#status-scheduler", "leader pid")
    dash_duo.wait_for_contains_text("#status-runs-table", "manual-")
    dash_duo.wait_for_contains_class("#freshness-badge", "fd-badge-ok")

    # the demo job's result goes stale when a run of the failing demo job marks it failed
    run_job(settings, store, "demo_broken")
    dash_duo.wait_for_contains_class("#freshness-badge", "fd-badge-red", timeout=15)
    dash_duo.wait_for_contains_text("#freshness-badge", "stale")
    title = dash_duo.find_element("#freshness-badge").get_attribute("title")
    assert "demo: stale, last refresh failed" in title
    dash_duo.wait_for_contains_text("#status-jobs-table", "demo task asked to fail", timeout=15)
    dash_duo.wait_for_contains_text("#status-results-table", "stale")
    assert _console_errors(dash_duo) == []


@pytest.mark.browser
def test_status_says_no_heartbeat(dash_duo, tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url)
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/status")
    dash_duo.wait_for_contains_text("#status-scheduler", "no heartbeat")
    assert "fd-card-amber" in dash_duo.find_element("#status-scheduler").get_attribute("class")
    dash_duo.wait_for_contains_text("#freshness-badge", "no data yet")
    assert _console_errors(dash_duo) == []


@pytest.mark.browser
def test_redis_down_turns_badge_red_and_status_says_so(dash_duo, tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url)
    monkeypatch.setenv("REDIS_URL", closed_port_url())
    reset_dashboard_caches()
    dash_duo.start_server(create_app())
    dash_duo.wait_for_contains_class("#freshness-badge", "fd-badge-red", timeout=20)
    assert dash_duo.find_element("#freshness-badge").text == "Redis unreachable"
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/status")
    dash_duo.wait_for_contains_text("#status-redis", "unreachable", timeout=20)
    dash_duo.wait_for_contains_text("#status-error", "Redis unreachable")
    assert _console_errors(dash_duo) == []
