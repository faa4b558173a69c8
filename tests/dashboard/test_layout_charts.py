"""Layout assertion on every page with charts (issue 13: "no overlaps, checked in the browser
tests with a layout assertion"), measured in headless Chromium at 1400 x 900 and 1280 px wide on
results published by the real tasks in sample mode and read back from the real Redis.

Each graph's title, axis titles, legend, annotations, colour bar, mode bar and tick labels must
not overlap or leave the graph, no axis may repeat a tick label, and no numeric tick may carry an
SI suffix (``$5G``, ``11.3k``): see :mod:`tests.dashboard.layout_check`.  The pure helpers that
make this hold (money scales, note wrapping, legend rows, zero-aligned axes) are checked here
against hand-worked values.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from dashboard.app import create_app
from dashboard.figures import common
from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.tasks import TaskContext, load_tasks
from tests.dashboard.layout_check import layout_problems, wait_for_graphs
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

NY = ZoneInfo("America/New_York")
UNIVERSE = """
[universe]
sample_size = 200
shard_contracts = 60000
focus = ["NVDA"]
"""
PAGES = {
    "/": ("board-flows", "board-history"),
    "/explorer": ("explorer-chart", "explorer-adv"),
    "/gamma": (
        "gamma-by-strike",
        "gamma-profile",
        "gamma-by-expiry",
        "gamma-hedge-flow",
        "gamma-heatmap",
        "gamma-history",
    ),
    "/letf": (
        "letf-per-1pct",
        "letf-trade",
        "letf-scenarios",
        "letf-history",
        "letf-single-graph",
        "letf-excluded-aum-graph",
    ),
    "/systematic": (
        "sys-vc-history",
        "sys-vc-grid",
        "sys-cta-history",
        "sys-cta-scenarios",
        "sys-etp-funds",
        "sys-etp-scenarios",
    ),
    "/cftc": ("cftc-history", "cftc-currencies", "cftc-stats", "cftc-change", "cftc-unwind"),
    "/cftc?market=equity_index": (
        "cftc-fp-net",
        "cftc-fp-stats",
        "cftc-fp-exposure",
        "cftc-fp-change",
    ),
    "/cftc?market=rates": ("cftc-fp-net", "cftc-fp-stats", "cftc-fp-exposure", "cftc-fp-change"),
    "/single-names": ("un-heatmap", "un-baskets", "un-detail-strike", "un-detail-profile"),
}
"""Every page with charts and the graphs it must draw (ids of the ``dcc.Graph``)."""


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


def _publish_everything(store, tmp_path, monkeypatch, redis_url) -> None:
    """Every result a chart reads, by the real tasks in sample mode."""
    settings = use_config(tmp_path, monkeypatch, redis_url, jobs=UNIVERSE)
    jobs = {
        "g": {"task": "gamma", "args": {"underlyings": ["SPX", "QQQ"]}},
        "l": {"task": "letf", "args": {"phase": "final"}},
        "c": {"task": "cftc", "trading_days_only": False},
        "p": {"task": "prices"},
        "f": {"task": "futures_positioning", "trading_days_only": False},
        "s": {"task": "systematic"},
        "b": {"task": "board"},
    }
    run = parse_settings(
        {
            "service": {"source_mode": "sample"},
            "gamma": {"underlyings": ["SPX", "QQQ"], "profile_points": 201},
            "board": {
                "moves_pct": [-10.0, -5.0, -3.0, -1.0, 0.0, 1.0, 3.0, 5.0, 10.0],
                "iv_shocks_pts": [0.0, 5.0],
            },
            "prices": {"sample_sessions": 800},
            "futures_positioning": {"sample_years": 4},
            "jobs": {k: {"cron": "0 8 * * mon-fri", "retries": 0, **v} for k, v in jobs.items()},
        },
        env={},
    )
    now = datetime.now(NY)
    for job in jobs:
        record = run_job(run, store, job, now=now)
        assert record.status == "ok", (job, record.error)
    outcome = load_tasks()["universe"].fn(
        TaskContext(
            settings=settings,
            store=store,
            now=pd.Timestamp(now),
            job="universe",
            slot="t",
            log=logging.getLogger("t"),
        ),
        {},
    )
    assert outcome.failed == {}


@pytest.mark.browser
def test_every_chart_page_has_no_overlap_clipping_repeat_or_si_tick(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    _publish_everything(store, tmp_path, monkeypatch, redis_url)
    dash_duo.start_server(create_app())
    driver = dash_duo.driver
    problems: list[str] = []
    for width, height in ((1400, 900), (1280, 900)):
        driver.set_window_size(width, height)
        for page, graphs in PAGES.items():
            dash_duo.wait_for_page(url=f"{dash_duo.server_url}{page}")
            if page == "/single-names":  # the drill-down draws once a name is picked
                dash_duo.wait_for_element("#un-name", timeout=20).send_keys("NVDA\n")
                dash_duo.wait_for_contains_text("#un-detail-strike", "NVDA", timeout=60)
            drawn = wait_for_graphs(driver, timeout=90)
            titles = driver.execute_script(
                "return Object.fromEntries(arguments[0].map(id => [id, (() => {"
                " const g = document.querySelector('#' + id + ' .js-plotly-plot');"
                " return g && g.layout && g.layout.title ? (g.layout.title.text || '') : ''; })()]))",
                list(graphs),
            )
            # Every chart drew a titled figure (not the blank "Loading…" or "No result" one).
            untitled = [g for g, t in titles.items() if not t]
            assert not untitled, (width, page, untitled)
            measured, found = layout_problems(driver)
            assert measured == drawn >= len(graphs), (width, page, measured, drawn)
            problems += [f"{width}px {page}: {p}" for p in found]
    assert not problems, "\n".join(problems)
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []


# -- the pure helpers the layout rests on (hand-worked values) ---------------------------------


def test_money_scale_names_the_unit_and_the_ticks_stay_plain() -> None:
    # The largest finite amount decides: flows.money's scales (bn from 1e9, mn from 1e6...).
    assert common.money_scale([-5.94e9, 1e6]).unit() == "USD bn"
    assert common.money_scale(pd.Series([np.nan, 2.5e8, -9.9e8])).unit() == "USD mn"
    assert common.money_scale([1.2e12]).unit() == "USD tn"
    assert common.money_scale([4_500.0]).unit() == "USD thousands"
    assert common.money_scale([12.0], [np.inf]).unit() == "USD"
    scale = common.money_scale([-2.5e9])
    assert scale(np.array([-2.5e9, 1e8])).tolist() == [-2.5, 0.1]
    assert scale.hover() == "%{y:+,.2f} bn USD"
    assert scale.hover("x", signed=False) == "%{x:,.2f} bn USD"
    # Plain ticks: no SI suffix (exponentformat none), thousands separated, no d3 "~s" format.
    assert common.PLAIN_TICKS["exponentformat"] == "none" and common.PLAIN_TICKS["tickformat"] == ""
    # A right-hand axis keeps its own round ticks instead of Plotly's grid sync.
    assert common.SECONDARY_Y["tickmode"] == "auto"


def test_zero_aligned_ranges_cross_zero_at_one_height() -> None:
    # USD -800..900 and contracts -80,000..30,000: contracts are 8/11 below zero, so the USD axis
    # is extended down to -900 * (8/11) / (3/11) = -2,400 (then both padded by 5 % of the span).
    usd, contracts = common.zero_aligned_ranges([-800.0, 900.0], [-80_000.0, 30_000.0])
    assert usd == pytest.approx([-2400.0 - 165.0, 900.0 + 165.0])
    assert contracts == pytest.approx([-80_000.0 - 5_500.0, 30_000.0 + 5_500.0])
    share = [-lo / (hi - lo) for lo, hi in (usd, contracts)]
    assert share[0] == pytest.approx(share[1])
    # All above zero: zero at the bottom of both (less the padding).
    left, right = common.zero_aligned_ranges([1.0, 2.0], [3.0, 4.0])
    assert left == pytest.approx([-0.1, 2.1]) and right == pytest.approx([-0.2, 4.2])
    assert common.zero_aligned_ranges([np.nan], [1.0]) is None


def test_padded_range_and_date_axis_widen_what_barely_moves() -> None:
    assert common.padded_range([-5.94997, -5.94999], min_span=0.5) == pytest.approx(
        [-6.19998, -5.69998]
    )
    assert common.padded_range([1.0, 3.0], min_span=0.5) is None
    fig = common.date_axis(
        {},
        pd.to_datetime(["2026-11-30 04:17:00", "2026-11-30 04:17:07"]),
        min_span=pd.Timedelta(hours=6),
    )
    assert fig["xaxis"]["range"] == ["2026-11-30 01:17:03", "2026-11-30 07:17:03"]
    stops = {tuple(s["dtickrange"]): s["value"] for s in fig["xaxis"]["tickformatstops"]}
    assert stops[(common.DAY_MS, "M1")] == "%Y-%m-%d"
    assert stops[(60_000, common.DAY_MS)] == "%H:%M<br>%Y-%m-%d"


def test_notes_go_under_the_x_title_and_legends_get_their_rows() -> None:
    note = "Dealer convention: dealers long calls, short puts (calls +, puts −), the public GEX convention. + = dealers long gamma."
    lines = common.note_lines(note)
    assert len(lines) == 2 and all(len(line) <= common.NOTE_CHARS for line in lines)
    title = common.with_note("Strike (index points)", note)
    assert title.startswith("Strike (index points)<br><span style=")
    assert title.count("<br>") == 2 and "calls +, puts −" in title
    assert common.with_note("Strike", None) == "Strike"
    # Items of 44 px + 6.8 px per character in 480 px: 5 names of 10 characters (112 px) fill
    # 4 per row, so two rows; the top margin holds the title band and both rows.
    names = ["abcdefghij"] * 5
    assert common.legend_rows(names) == 2 and common.legend_rows([]) == 0
    assert common.top_margin(names) == common.TITLE_BAND_PX + 2 * common.LEGEND_ROW_PX + 6
    assert common.legend_names([{"name": "only"}]) == []  # Plotly shows no legend for one trace
    assert common.legend_names(
        [{"name": "a"}, {"name": "b", "showlegend": False}, {"name": "c"}]
    ) == [
        "a",
        "c",
    ]
