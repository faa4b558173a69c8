"""The Leveraged ETFs page in headless Chromium, on results published by the real ``letf`` task."""

from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.app import create_app
from flows.formatting import format_time
from jobs.config import parse_settings
from jobs.runner import run_job
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

NY = ZoneInfo("America/New_York")
LETF_JOB = """
[jobs.letf_final]
task = "letf"
cron = "30 15 * * mon-fri"
retries = 0
retry_delay_seconds = 0
stale_after_minutes = 100000000
args = { phase = "final" }
"""
GRAPHS = (
    "letf-per-1pct",
    "letf-trade",
    "letf-scenarios",
    "letf-history",
    "letf-single-graph",
    "letf-excluded-aum-graph",
)


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


def _publish(store) -> None:
    settings = parse_settings(
        {
            "service": {"source_mode": "sample"},
            "jobs": {
                "l": {
                    "task": "letf",
                    "cron": "30 15 * * mon-fri",
                    "retries": 0,
                    "args": {"phase": "final"},
                }
            },
        },
        env={},
    )
    for minute in (0, 30):  # two publishes: the history chart has two points
        record = run_job(settings, store, "l", now=datetime(2026, 11, 18, 15, minute, tzinfo=NY))
        assert record.status == "ok", record.error


@pytest.mark.browser
def test_letf_page_renders_charts_tables_and_single_stock_view(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    use_config(tmp_path, monkeypatch, redis_url, jobs=LETF_JOB)
    _publish(store)
    result = store.read("letf.flows")
    funds = result.table("funds")
    nvda = funds[funds["underlying"] == "NVDA"]
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/letf?underlying=NVDA&move=-17")

    for gid in GRAPHS:
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#letf-per-1pct", "Rebalance per 1% move", timeout=30)
    per = dash_duo.find_element("#letf-per-1pct").text
    assert (
        "USD bn per +1% move" in per
        and "Underlying (hedge ticker)" in per
        and "inverse funds" in per
    )
    trade = dash_duo.find_element("#letf-trade").text
    assert (
        "implied trade" in trade
        and re.search(r"Trade \(USD (bn|mn|thousands), \+ = buy\)", trade)
        and "Trade (% of average daily dollar volume)" in trade
    )
    scen = dash_duo.find_element("#letf-scenarios").text
    assert (
        "Move of the underlying since prior close (%)" in scen
        and "all underlyings together" in scen
    )
    history = dash_duo.find_element("#letf-history").text
    # In the desk's zone with date ticks (as the gamma page), never UTC on a millisecond scale.
    assert "USD bn per +1% move" in history and "As of (America/New_York" in history
    assert "UTC" not in history and not re.search(r"\d\d:\d\d:\d\d\.\d", history)
    dash_duo.wait_for_contains_text("#letf-single-graph", "NVDA −17%", timeout=30)
    single = dash_duo.find_element("#letf-single-graph").text
    for ticker in ("NVDL", "NVDU", "NVDX"):
        assert ticker in single
    # the picker shows the underlying asked for in the URL once the page's options arrive: its
    # label read from the DOM, waited for as long as the charts (a loaded test run once read the
    # dropdown's visible text empty after 10 s, the chart of the same value already drawn)
    picked = WebDriverWait(dash_duo.driver, 30).until(
        lambda d: d.execute_script(
            "const v = document.querySelector('#letf-single .dash-dropdown-value');"
            "return v && v.textContent.trim();"
        )
    )
    assert picked == "NVDA"
    # the title states the total the page computed: published per-1% x move
    from dashboard.figures.letf import format_usd

    assert format_usd(float(nvda["per_1pct_usd"].sum()) * -17, signed=True) in single
    provenance = dash_duo.find_element("#letf-provenance").text
    assert (
        "SAMPLE" in provenance
        and "source: universe file letf_universe.csv; SAMPLE assets, moves and volumes"
        in provenance
        and "as of 2026-11-18 15:30" in provenance
    )
    cards = dash_duo.find_element("#letf-cards").text
    assert (
        "equity total per 1% move" in cards.lower()
        and "implied trade, move so far" in cards.lower()
    )  # CSS upper-cases titles
    assert format_usd(result.meta.headline["per_1pct_usd"]) in cards
    dash_duo.wait_for_contains_text("#letf-funds", "TQQQ", timeout=20)
    assert (
        "Rebalance (USD per 1% move)" in dash_duo.find_element("#letf-funds").text
    )  # the declared title and unit (issues 13, 14)
    # CSV export named by page table and the result's as-of date in the desk zone, every fund in it
    dash_duo.driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    dash_duo.driver.execute_script("arguments[0].click()", dash_duo.find_element("#letf-funds-csv"))
    csv_path = (
        tmp_path / f"letf-funds_{format_time(result.meta.as_of, 'America/New_York')[:10]}.csv"
    )
    deadline = time.time() + 15
    while time.time() < deadline and not csv_path.exists():
        time.sleep(0.2)
    assert csv_path.exists(), sorted(p.name for p in tmp_path.iterdir())
    exported = pd.read_csv(csv_path)
    assert len(exported) == len(result.table("funds"))
    # the numbers themselves (not "44,896,329" as displayed), under the grid's headers
    assert exported["Rebalance (USD per 1% move)"].tolist() == pytest.approx(
        result.table("funds")["per_1pct_usd"].tolist(), rel=1e-12
    )
    dash_duo.wait_for_contains_text("#letf-excluded", "TSYY", timeout=20)
    # what the daily figures leave out, by reason: the published table, its total in the title
    left = result.table("excluded_aum")
    assert "reset: options-based" in set(left["category"])
    dash_duo.wait_for_contains_text("#letf-excluded-aum", "reset: options-based", timeout=20)
    assert "Assets (USD)" in dash_duo.find_element("#letf-excluded-aum").text
    left_graph = dash_duo.find_element("#letf-excluded-aum-graph").text
    assert (
        "Left out of the daily figures" in left_graph
        and format_usd(float(left["aum_usd"].sum())) in left_graph
    )
    assert "Assets (USD mn)" in left_graph
    assert (
        format_usd(result.meta.headline["excluded_aum_usd"])
        in dash_duo.find_element("#letf-card-left-out").text
    )
    dash_duo.wait_for_contains_text("#letf-groups", "BTC", timeout=20)
    assert "A·(L²−L)·r" in dash_duo.find_element("#letf-note").text
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []


@pytest.mark.browser
def test_letf_page_without_result_says_so(dash_duo, tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url, jobs=LETF_JOB)
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/letf")
    dash_duo.wait_for_contains_text(
        "#letf-provenance", "No published result 'letf.flows'", timeout=30
    )
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []
