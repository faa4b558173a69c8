"""The Systematic page in headless Chromium, on results published by the real ``prices`` and
``systematic`` tasks (sample mode)."""

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
[jobs.systematic]
task = "systematic"
cron = "30 17 * * mon-fri"
retries = 0
retry_delay_seconds = 0
stale_after_minutes = 100000000
"""
GRAPHS = (
    "sys-vc-history",
    "sys-vc-grid",
    "sys-cta-history",
    "sys-cta-scenarios",
    "sys-etp-scenarios",
    "sys-etp-funds",
)


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


def _publish(store) -> None:
    settings = parse_settings(
        {
            "service": {"source_mode": "sample"},
            "prices": {"sample_sessions": 800},
            "jobs": {"s": {"task": "systematic", "cron": "30 17 * * mon-fri", "retries": 0}},
        },
        env={},
    )
    record = run_job(settings, store, "s", now=datetime(2026, 11, 18, 17, 30, tzinfo=NY))
    assert record.status == "ok", record.error


@pytest.mark.browser
def test_systematic_page_renders_engines_with_units_and_the_published_numbers(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    use_config(tmp_path, monkeypatch, redis_url, jobs=JOBS)
    _publish(store)
    ct = store.read("cta.SPX").meta
    etp = store.read("vixetp.flows").meta
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/systematic")
    for gid in GRAPHS:
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#sys-vc-history", "Vol-control on SPX", timeout=30)
    assert "Exposure (% of AUM)" in dash_duo.find_element("#sys-vc-history").text
    assert "Index move on the next session (%)" in dash_duo.find_element("#sys-vc-grid").text
    assert "VX contracts (USD 1,000 per point)" in dash_duo.find_element("#sys-etp-scenarios").text
    assert (
        "Flow over the horizon (USD bn, + = buy)"
        in dash_duo.find_element("#sys-cta-scenarios").text
    )
    # the key numbers: the CTA trigger level and the VIX ETP rebalance as published
    units = ct.headline_units
    dash_duo.wait_for_contains_text("#sys-cards", "CTA", timeout=20)
    cards = dash_duo.find_element("#sys-cards").text
    assert (
        display.value(ct.headline["nearest_trigger_level"], units["nearest_trigger_level"]) in cards
    )
    assert (
        display.value(etp.headline["rebalance_usd"], etp.headline_units["rebalance_usd"]) in cards
    )
    assert "next sessions (lagged)" in cards and "this week" in cards and "today" in cards
    dash_duo.wait_for_contains_text("#sys-cta-triggers", "Sessions to flip (sessions)", timeout=20)
    assert "Distance from the close (%)" in dash_duo.find_element("#sys-cta-triggers").text
    dash_duo.wait_for_contains_text("#sys-etp-contracts", "Share of volume (%)", timeout=20)
    prov = dash_duo.find_element("#sys-cta-provenance").text
    assert "SAMPLE" in prov and "as of 2026-11-18 16:00" in prov
    # another index from the picker
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/systematic?index=NDX")
    dash_duo.wait_for_contains_text("#sys-cta-history", "CTA position on NDX", timeout=30)
    assert not [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]
