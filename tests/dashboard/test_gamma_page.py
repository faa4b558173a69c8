"""The Dealer gamma page in headless Chromium, on results published by the real gamma task
(sample mode) and on one computed from the real SPX quote table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard.app import create_app
from jobs.config import parse_settings
from jobs.runner import run_job
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

NY = ZoneInfo("America/New_York")
GAMMA_JOB = """
[jobs.gamma_intraday]
task = "gamma"
cron = "*/15 9-16 * * 1-5"
retries = 0
retry_delay_seconds = 0
stale_after_minutes = 100000000
"""
GRAPHS = ("gamma-by-strike", "gamma-profile", "gamma-by-expiry", "gamma-heatmap", "gamma-hedge-flow", "gamma-history")


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


def _console_errors(dash_duo) -> list:
    return [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]


def _publish(store, underlyings: list[str], drop_dir: Path | None = None, mode: str = "sample") -> None:
    settings = parse_settings(
        {
            "service": {"source_mode": mode, "drop_dir": str(drop_dir or "var/drop"), "http_retries": 0, "http_timeout_seconds": 1, "http_min_interval_seconds": 0},
            "jobs": {"g": {"task": "gamma", "cron": "0 8 * * 1-5", "retries": 0, "args": {"underlyings": underlyings}}},
            "gamma": {"profile_points": 201, "cboe_base_url": "http://127.0.0.1:9/none"},
        },
        env={},
    )
    for minute in (0, 15):  # two refreshes: the history chart has two points
        run_job(settings, store, "g", now=datetime(2026, 11, 18, 10, minute, tzinfo=NY))


@pytest.mark.browser
def test_gamma_page_renders_and_the_picker_switches(dash_duo, tmp_path, monkeypatch, redis_url, store):
    use_config(tmp_path, monkeypatch, redis_url, jobs=GAMMA_JOB)
    _publish(store, ["SPX", "SPY"])
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/gamma")

    for gid in GRAPHS:
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#gamma-by-strike", "SPX dealer GEX by strike", timeout=30)
    strike_text = dash_duo.find_element("#gamma-by-strike").text
    assert "Dealer gamma (USD per 1% move)" in strike_text and "Strike (index points / USD per share)" in strike_text
    assert "Dealer convention: dealers long calls, short puts" in strike_text
    assert "SPX gamma profile vs spot" in dash_duo.find_element("#gamma-profile").text
    assert "Spot (index points / USD per share)" in dash_duo.find_element("#gamma-profile").text
    assert "net GEX by expiry" in dash_duo.find_element("#gamma-by-expiry").text
    assert "by strike and expiry" in dash_duo.find_element("#gamma-heatmap").text
    hedge = dash_duo.find_element("#gamma-hedge-flow").text
    assert "dealer hedge flow by spot move" in hedge and "Dealer trade (USD)" in hedge and "Spot move (%)" in hedge
    assert "across refreshes" in dash_duo.find_element("#gamma-history").text
    provenance = dash_duo.find_element("#gamma-provenance").text
    assert "SAMPLE" in provenance and "source: sample" in provenance and "as of 2026-11-18 10:15" in provenance
    cards = dash_duo.find_element("#gamma-cards").text.lower()  # card titles are upper-cased by CSS
    for title in ("Net GEX (USD per 1% move)", "Regime", "Gamma flip", "Call wall / put wall", "0DTE share"):
        assert title.lower() in cards
    assert "gamma" in dash_duo.find_element("#gamma-card-regime").text.lower()
    dash_duo.wait_for_contains_text("#gamma-sensitivity", "short_all", timeout=20)
    dash_duo.wait_for_contains_text("#gamma-contracts", "SPX", timeout=20)
    assert "gex_usd_per_1pct (USD per 1% move)" in dash_duo.find_element("#gamma-contracts").text

    # the picker switches to SPY
    dash_duo.find_element("#gamma-underlying").click()
    option = dash_duo.wait_for_element_by_css_selector("[role='option']", timeout=10)
    options = dash_duo.driver.find_elements("css selector", "[role='option']")
    spy = next(o for o in options if o.text.strip() == "SPY")
    assert option is not None
    spy.click()
    dash_duo.wait_for_contains_text("#gamma-by-strike", "SPY dealer GEX by strike", timeout=30)
    dash_duo.wait_for_contains_text("#gamma-profile", "SPY gamma profile vs spot", timeout=30)
    assert _console_errors(dash_duo) == []


@pytest.mark.browser
def test_gamma_page_on_the_real_spx_file(dash_duo, tmp_path, monkeypatch, redis_url, store, shared_data):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "spx_quotedata.csv").symlink_to(shared_data / "options/spx_quotedata_2023-09-14.csv")
    use_config(tmp_path, monkeypatch, redis_url, jobs=GAMMA_JOB)
    _publish(store, ["SPX"], drop_dir=drop, mode="live")
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/gamma?underlying=SPX")
    dash_duo.wait_for_contains_text("#gamma-provenance", "cboe-csv:spx_quotedata.csv", timeout=30)
    assert "SAMPLE" not in dash_duo.find_element("#gamma-provenance").text
    assert "as of 2023-09-14 16:31" in dash_duo.find_element("#gamma-provenance").text
    for gid in GRAPHS:
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#gamma-by-strike", "SPX dealer GEX by strike", timeout=30)
    dash_duo.wait_for_contains_text("#gamma-note", "expired dropped")
    assert _console_errors(dash_duo) == []
