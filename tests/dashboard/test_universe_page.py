"""The Single names page in headless Chromium, on results published by the real ``universe`` task;
the drill-down into a name outside the focus list is computed by a real ``flowdesk worker``."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from dashboard import display
from dashboard.app import create_app
from flows.formatting import header, shown_unit, table_format
from flows.units import Unit
from jobs.tasks import TaskContext, load_tasks
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

UNIVERSE = """
[universe]
sample_size = 300
shard_contracts = 60000
focus = ["NVDA"]
[jobs.universe]
task = "universe"
cron = "*/15 9-16 * * mon-fri"
stale_after_minutes = 100000000
"""
NOW = pd.Timestamp("2026-11-17 10:30", tz="America/New_York")


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


@pytest.mark.browser
def test_single_names_page_ranks_filters_and_drills_down(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    settings = use_config(tmp_path, monkeypatch, redis_url, jobs=UNIVERSE)
    outcome = load_tasks()["universe"].fn(
        TaskContext(
            settings=settings,
            store=store,
            now=NOW,
            job="universe",
            slot="t",
            log=logging.getLogger("t"),
        ),
        {},
    )
    assert outcome.failed == {}
    result = store.read("universe.table")
    names = result.tables["names"]
    app = create_app()
    from dashboard.pages.universe import ranked  # pages register with the app

    top = ranked(names, "gex", None, None, None)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/single-names")

    dash_duo.wait_for_contains_text("#un-count", "300 of 300 names", timeout=30)
    dash_duo.wait_for_contains_text("#un-grid", top["symbol"].iloc[0], timeout=20)
    grid = dash_duo.find_element("#un-grid").text
    # every header states the column's declared unit (columns off screen are not rendered: test_single_names_grid_formats_by_declared_unit); paged
    assert (
        header("Net GEX", Unit.USD_PER_1PCT) in grid
        and header("Net GEX per 1% move", Unit.PCT_OF_ADV) in grid
        and "1 to 50 of 300" in grid
    )
    # the first row is the largest |net GEX| and shows its published figure
    first = dash_duo.find_elements("#un-grid .ag-center-cols-container .ag-row[row-index='0']")[
        0
    ].text
    assert (
        f"{top['net_gex_usd_per_1pct'].iloc[0]:,.0f}".replace("-", "\u2212") in first
    )  # d3 writes a true minus
    cards = dash_duo.find_element("#un-cards").text
    h, units = result.meta.headline, result.meta.headline_units
    assert (
        units["net_gex_usd_per_1pct"] == Unit.USD_PER_1PCT
        and units["net_gex_usd_per_1pct_mag7"] == Unit.USD_PER_1PCT
    )  # declared units stored
    assert (
        display.value(h["net_gex_usd_per_1pct"], Unit.USD_PER_1PCT) in cards
        and display.value(h["net_gex_usd_per_1pct_mag7"], Unit.USD_PER_1PCT) in cards
    )
    for gid in ("un-heatmap", "un-baskets"):
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=20)
    assert "USD bn per 1%" in dash_duo.find_element("#un-heatmap").text

    # rank by % of ADV, then only the semis basket
    dash_duo.find_elements("#un-rank input")[1].click()
    top_adv = ranked(names, "adv", None, None, None)
    dash_duo.wait_for_contains_text("#un-count", "ranked by |net GEX| as % of ADV", timeout=10)
    dash_duo.wait_for_contains_text(
        "#un-grid .ag-row[row-index='0']", top_adv["symbol"].iloc[0], timeout=10
    )
    dash_duo.wait_for_element("#un-basket input[value='semis']", timeout=10)
    dash_duo.find_element("#un-basket input[value='semis']").click()
    semis = ranked(names, "adv", None, "semis", None)
    dash_duo.wait_for_contains_text("#un-count", f"{len(semis)} of 300 names", timeout=10)

    # a focus name opens at once from its published tables
    box = dash_duo.find_element("#un-name")
    box.send_keys("NVDA\n")
    dash_duo.wait_for_element("#un-detail-strike .main-svg", timeout=20)
    nvda = store.meta("universe.NVDA").headline
    dash_duo.wait_for_contains_text(
        "#un-detail-cards",
        display.value(nvda["net_gex_usd_per_1pct"], Unit.USD_PER_1PCT),
        timeout=20,
    )

    # a name outside the focus list: queued, computed by a worker process, then drawn
    other = next(s for s in semis["symbol"] if s != "NVDA")
    box.clear()
    box.send_keys(f"{other}\n")
    dash_duo.wait_for_contains_text("#un-detail-status", "no worker is running", timeout=20)
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "worker", "--name", "page-worker"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "universe." + other not in store.names():
            assert time.monotonic() < deadline, "the worker did not compute the name"
            time.sleep(0.2)
        dash_duo.wait_for_contains_text(
            "#un-detail-cards",
            display.value(
                store.meta(f"universe.{other}").headline["net_gex_usd_per_1pct"], Unit.USD_PER_1PCT
            ),
            timeout=30,
        )
        assert store.meta(f"universe.{other}").headline["on_demand"] is True
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert dash_duo.get_logs() == [] or all(
        entry["level"] != "SEVERE" for entry in dash_duo.get_logs()
    )


def test_single_names_grid_formats_by_declared_unit() -> None:
    from jobs import declarations

    create_app()  # registers the pages
    from dashboard.pages.universe import grid_columns

    table = declarations.lookup("universe.table").table("names")
    cols = {c["field"]: c for c in grid_columns()}
    for field, col in cols.items():
        if field == "rank":
            continue
        unit = table.column(field).unit
        assert col["headerName"].endswith(f"({shown_unit(unit)})") == (
            unit not in (Unit.LABEL, Unit.FLAG, Unit.TIME)
        ), field
        assert col["headerName"].startswith(table.column(field).title), field  # declared title
        if "valueFormatter" in col:
            assert f"d3.format('{table_format(unit)}')" in col["valueFormatter"]["function"], field
    assert cols["net_gex_usd_per_1pct"]["headerName"] == header("Net GEX", Unit.USD_PER_1PCT)
    assert "'no ADV'" in cols["gex_pct_adv"]["valueFormatter"]["function"]  # a missing ADV says so
    assert "'no ADV'" in cols["adv_usd"]["valueFormatter"]["function"]
    assert "valueFormatter" not in cols["symbol"] and cols["zero_dte_share"]["headerName"] == (
        "0DTE share of gross GEX (%)"  # a fraction, shown as a percentage as on the gamma page
    )
    assert all(c["headerName"].strip() for c in cols.values())  # no blank header


def test_ranking_and_filters_by_hand() -> None:
    """|net GEX| largest first (sign ignored), names without an ADV last by % of ADV, ties in table
    order; filters by sector, basket membership (whole names: 'semis' is not 'semis2') and regime;
    the records of a version are built once and permuted."""
    create_app()
    from dashboard.pages.universe import GRID_FIELDS, grid_records, ranked, ranked_positions

    names = pd.DataFrame({f: pd.Series([0.0] * 5) for f in GRID_FIELDS})
    names["symbol"] = ["A", "B", "C", "D", "E"]
    names["sector"] = ["Tech", "Tech", "Energy", "Tech", "Energy"]
    names["baskets"] = ["semis", "", "semis2", "mag7,semis", "semis"]
    names["regime"] = ["long gamma", "short gamma", "long gamma", "short gamma", "long gamma"]
    names["net_gex_usd_per_1pct"] = [1e9, -3e9, 2e9, -2e9, 5e8]
    names["gex_pct_adv"] = [float("nan"), 0.5, -4.0, 0.5, float("nan")]
    assert list(ranked(names, "gex", None, None, None)["symbol"]) == ["B", "C", "D", "A", "E"]
    assert list(ranked(names, "adv", None, None, None)["symbol"]) == [
        "C",
        "B",
        "D",
        "A",
        "E",
    ]  # tie B/D in table order, NaN last
    assert list(ranked(names, "gex", ["Tech"], "semis", None)["symbol"]) == ["D", "A"]
    assert list(ranked(names, "gex", None, "semis", "long gamma")["symbol"]) == ["A", "E"]
    assert list(ranked(names, "gex", None, None, None)["rank"]) == [1, 2, 3, 4, 5]
    names["zero_dte_share"] = [0.25, 0.0, 0.5, 0.125, 1.0]
    records = grid_records("v-test", names)
    assert (
        grid_records("v-test", names) is records and records[0]["gex_pct_adv"] is None
    )  # once per version; NaN -> empty cell
    # a fraction is held as the percentage its header states (sort, filter and CSV alike)
    assert [r["zero_dte_share"] for r in records] == [25.0, 0.0, 50.0, 12.5, 100.0]
    assert [records[p]["symbol"] for p in ranked_positions(names, "adv", None, None, None)] == [
        "C",
        "B",
        "D",
        "A",
        "E",
    ]


def test_sector_heatmap_shows_a_neutral_column_only_when_a_name_has_net_gex_of_zero() -> None:
    from dashboard.figures.universe import sector_regime_heatmap

    sectors = pd.DataFrame(
        {
            "sector": ["Tech", "Tech", "Energy"],
            "regime": ["long gamma", "short gamma", "long gamma"],
            "names": [3, 2, 1],
            "net_gex_usd_per_1pct": [4.0e9, -1.0e9, 2.0e8],
        }
    )
    heat = sector_regime_heatmap(sectors).data[0]
    assert list(heat.x) == ["long gamma", "short gamma"]
    with_neutral = pd.concat(
        [
            sectors,
            pd.DataFrame(
                {
                    "sector": ["Energy"],
                    "regime": ["neutral gamma"],
                    "names": [1],
                    "net_gex_usd_per_1pct": [0.0],
                }
            ),
        ],
        ignore_index=True,
    )
    heat = sector_regime_heatmap(with_neutral).data[0]
    assert list(heat.x) == ["long gamma", "short gamma", "neutral gamma"]
    energy = list(heat.y).index("Energy")
    assert heat.text[energy][2] == "1 name"  # the name is counted, not dropped
    assert heat.text[list(heat.y).index("Tech")][0] == "3 names"
