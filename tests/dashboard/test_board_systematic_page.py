"""The board's systematic panels in headless Chromium: components by horizon, totals per horizon
and the positioning panel, on results published by the real tasks (sample mode)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard import display
from dashboard.app import create_app
from jobs.config import parse_settings
from jobs.runner import run_job
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

NY = ZoneInfo("America/New_York")
BOARD_JOBS = """
[jobs.board]
task = "board"
cron = "50 8 * * mon-fri"
stale_after_minutes = 100000000
"""


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


@pytest.mark.browser
def test_board_shows_flows_by_horizon_and_positioning(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    use_config(tmp_path, monkeypatch, redis_url, jobs=BOARD_JOBS)
    settings = parse_settings(
        {
            "service": {"source_mode": "sample"},
            "jobs": {
                "g": {
                    "task": "gamma",
                    "cron": "0 8 * * 1-5",
                    "retries": 0,
                    "args": {"underlyings": ["SPX"]},
                },
                "l": {
                    "task": "letf",
                    "cron": "45 8 * * 1-5",
                    "retries": 0,
                    "args": {"phase": "preopen"},
                },
                "s": {"task": "systematic", "cron": "30 17 * * 1-5", "retries": 0},
                "f": {
                    "task": "futures_positioning",
                    "cron": "50 15 * * 5",
                    "retries": 0,
                    "trading_days_only": False,
                },
                "b": {"task": "board", "cron": "50 8 * * 1-5", "retries": 0},
            },
            "gamma": {"underlyings": ["SPX"], "profile_points": 201},
            "prices": {"sample_sessions": 800},
            "futures_positioning": {"sample_years": 4},
            "board": {"moves_pct": [-5.0, -3.0, -1.0, 0.0, 1.0, 3.0, 5.0], "iv_shocks_pts": [0.0]},
        },
        env={},
    )
    now = datetime.now(NY)
    for job in ("g", "l", "s", "f", "b"):
        record = run_job(settings, store, job, now=now)
        assert record.status == "ok", (job, record.error)
    res = store.read("board.scenarios")
    totals = res.table("horizon_totals").set_index(["horizon_group", "instrument"])
    week = totals.loc[("this week", "index futures / stocks"), "usd"]
    dash_duo.start_server(create_app())
    dash_duo.wait_for_element("#board-flows .main-svg", timeout=60)
    dash_duo.wait_for_contains_text("#board-systematic", "vol-control funds", timeout=60)
    table = dash_duo.find_element("#board-systematic").text
    assert "next sessions (lagged)" in table and "this week" in table and "VX futures" in table
    assert "At the flag move (USD, + = buy)" in table  # the declared title, the sign said once
    cards = dash_duo.driver.execute_script(
        "return document.querySelector('#board-horizon-cards').textContent"
    )
    assert display.value(week, "USD (+ = buy)", scale="bn", style="code") in cards
    assert "this week · index futures / stocks" in cards and "today · VX futures" in cards
    dash_duo.wait_for_contains_text("#board-positioning", "ES", timeout=20)
    pos = dash_duo.find_element("#board-positioning").text
    assert "ZN" in pos and "Percentile, 3 years (percentile, 0-100)" in pos
    assert "Previous high (in the row's unit)" in pos
    assert not re.search(r"\d\.\d+e[+-]\d", pos)  # was 8.763e+5: contracts written in full
    assert not [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
