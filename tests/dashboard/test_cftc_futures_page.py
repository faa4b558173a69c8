"""The CFTC page's market picker in headless Chromium: equity-index and rates futures from
``cftc.futures_positioning`` published by the real task (sample mode), with the notional from
``prices.SPX``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard import display
from dashboard.app import create_app
from jobs.config import parse_settings
from jobs.runner import run_job
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

NY = ZoneInfo("America/New_York")
JOBS = """
[jobs.futures_positioning]
task = "futures_positioning"
cron = "50 15 * * fri"
trading_days_only = false
retries = 0
retry_delay_seconds = 0
stale_after_minutes = 100000000
"""


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


@pytest.mark.browser
def test_market_picker_shows_equity_and_rates_positioning(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    use_config(tmp_path, monkeypatch, redis_url, jobs=JOBS)
    settings = parse_settings(
        {
            "service": {"source_mode": "sample"},
            "prices": {"symbols": ["SPX"], "sample_sessions": 600},
            "futures_positioning": {"sample_years": 4},
            "jobs": {
                "p": {"task": "prices", "cron": "15 17 * * mon-fri", "retries": 0},
                "f": {
                    "task": "futures_positioning",
                    "cron": "50 15 * * fri",
                    "retries": 0,
                    "trading_days_only": False,
                },
            },
        },
        env={},
    )
    now = datetime(2026, 11, 20, 17, 30, tzinfo=NY)  # Friday after the release
    assert run_job(settings, store, "p", now=now).status == "ok"
    rec = run_job(settings, store, "f", now=now)
    assert rec.status == "ok", rec.error
    res = store.read("cftc.futures_positioning")
    latest = res.table("latest")
    es = latest[(latest["symbol"] == "ES") & (latest["trader_class"] == "asset_manager")].iloc[0]
    assert es["notional_usd"] == pytest.approx(
        es["net_contracts"] * 50 * es["close"]
    )  # the close of prices.SPX
    units = res.meta.units["latest"]
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/cftc?market=equity_index")
    for gid in ("cftc-fp-net", "cftc-fp-stats", "cftc-fp-exposure", "cftc-fp-change"):
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#cftc-fp-net", "net position by trader class", timeout=30)
    assert "Net position (contracts, + = long)" in dash_duo.find_element("#cftc-fp-net").text
    assert "Notional (USD bn, + = net long)" in dash_duo.find_element("#cftc-fp-exposure").text
    assert "Percentile / COT index (0-100)" in dash_duo.find_element("#cftc-fp-stats").text
    dash_duo.wait_for_contains_text("#cftc-fp-cards", "contracts", timeout=20)
    cards = dash_duo.find_element("#cftc-fp-cards").text
    assert display.value(es["net_contracts"], units["net_contracts"], signed=True) in cards
    assert display.value(es["notional_usd"], units["notional_usd"], signed=True) in cards
    # every number on a card says its unit: the week's change in contracts
    change = display.value(es["net_change_contracts"], units["net_change_contracts"], signed=True)
    assert f"weekly change {change} contracts" in cards
    assert "SAMPLE" in dash_duo.find_element("#cftc-fp-provenance").text
    dash_duo.wait_for_contains_text("#cftc-fp-latest", "Net (% of open interest)", timeout=20)
    # rates: DV01 and 10-year note equivalents
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/cftc?market=rates")
    dash_duo.wait_for_contains_text("#cftc-fp-cards", "DV01", timeout=30)
    dash_duo.wait_for_contains_text(
        "#cftc-fp-exposure", "per basis point, + = long duration", timeout=30
    )
    assert not [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]
