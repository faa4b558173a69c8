"""The de-risking board, the scenario explorer and the morning brief in headless Chromium,
on results published by the real tasks (sample mode) and read back from the real Redis."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboard import display
from dashboard.app import create_app, warm_up
from flows.formatting import format_time
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


def _publish_everything(store) -> None:
    settings = parse_settings(
        {
            "service": {"source_mode": "sample"},
            "jobs": {
                "g": {
                    "task": "gamma",
                    "cron": "0 8 * * 1-5",
                    "retries": 0,
                    "args": {"underlyings": ["SPX", "QQQ"]},
                },
                "l": {
                    "task": "letf",
                    "cron": "45 8 * * 1-5",
                    "retries": 0,
                    "args": {"phase": "preopen"},
                },
                "c": {"task": "cftc", "cron": "45 15 * * mon-fri", "retries": 0},
                "b": {"task": "board", "cron": "50 8 * * 1-5", "retries": 0},
                "brief": {"task": "brief", "cron": "55 8 * * 1-5", "retries": 0},
            },
            "gamma": {"underlyings": ["SPX", "QQQ"], "profile_points": 201},
            "board": {
                "moves_pct": [-10.0, -5.0, -3.0, -1.0, 0.0, 1.0, 3.0, 5.0, 10.0],
                "iv_shocks_pts": [0.0, 5.0],
            },
        },
        env={},
    )
    now = datetime.now(NY)
    for job in ("g", "l", "c", "b", "brief"):
        record = run_job(settings, store, job, now=now)
        assert record.status == "ok", (job, record.error)


OVERLAP_JS = """
const root = document.querySelector(arguments[0]);
const sel = '.gtitle, .g-xtitle, .g-ytitle, .legend, .annotation';
const boxes = [...root.querySelectorAll(sel)].map(e => [e.getAttribute('class') + ':' + e.textContent.slice(0, 30), e.getBoundingClientRect()]).filter(b => b[1].width > 0);
const out = [];
for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
  const a = boxes[i][1], b = boxes[j][1];
  if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) out.push([boxes[i][0], boxes[j][0]]);
}
return out;
"""


def _overlaps(dash_duo, selector: str) -> list:
    """Pairs of the figure's title, axis titles, legend and annotations whose boxes intersect."""
    return dash_duo.driver.execute_script(OVERLAP_JS, selector)


ORDER_PROBE = """
window.__order = {};
(function probe() {
  const o = window.__order, t = performance.now();
  if (o.chart === undefined && document.querySelector('#board-flows .barlayer .point')) o.chart = t;
  if (o.grid === undefined && document.querySelector('.ag-root-wrapper')) o.grid = t;
  if (o.chart === undefined || o.grid === undefined) requestAnimationFrame(probe);
})();
"""


def _console_errors(dash_duo) -> list:
    return [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]


@pytest.mark.browser
def test_board_explorer_and_brief(dash_duo, tmp_path, monkeypatch, redis_url, store):
    use_config(tmp_path, monkeypatch, redis_url, jobs=BOARD_JOBS)
    _publish_everything(store)
    board = store.read("board.scenarios")
    dash_duo.start_server(create_app())
    # first paint: the grids below are set up only once the flow chart is drawn (their set-up
    # used to hold Plotly.js back for seconds); recorded from the first script of the page
    dash_duo.driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": ORDER_PROBE}
    )
    dash_duo.wait_for_page(url=dash_duo.server_url + "/")

    # Board (home): chart with components and total, cards, flags, ranking, inputs with sources.
    dash_duo.wait_for_element("#board-flows .main-svg", timeout=30)
    dash_duo.wait_for_element("#board-card-total", timeout=20)
    card_text = dash_duo.driver.execute_script(
        "return document.querySelector('#board-card-total').textContent"
    )
    assert "If NDX moves −3% today" in card_text  # CSS upper-cases card titles: read the DOM text
    title = dash_duo.driver.execute_script(
        "return document.querySelector('#board-flows .gtitle').textContent"
    )
    assert "Mechanical flow by NDX move" in title
    axis = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#board-flows .g-ytitle, #board-flows .g-xtitle')].map(e => e.textContent)"
    )
    assert "Flow (USD bn, + = buy)" in axis and "NDX move (%)" in axis
    legend = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#board-flows .legendtext')].map(e => e.textContent)"
    )
    assert {"Dealer hedging (price)", "Leveraged ETFs", "Total"} <= set(legend)
    total_bn = board.meta.headline["total_usd_at_flag_move"] / 1e9
    assert display.minus_signs(f"{total_bn:+,.2f} bn USD") in card_text
    dash_duo.wait_for_contains_text("#board-inputs", "gamma.SPX", timeout=10)
    assert "SAMPLE DATA" in dash_duo.find_element("#board-provenance").text
    assert "letf.flows" in dash_duo.find_element("#board-inputs").text
    # Times: the header names the freshest input, every time in the desk's zone (no UTC ISO text).
    times = dash_duo.find_element("#board-times").text
    assert "freshest input as of" in times and ("EST" in times or "EDT" in times)
    inputs_text = dash_duo.find_element("#board-inputs").text
    assert "+00:00" not in inputs_text and "T0" not in inputs_text
    # Default range +-5 %: the tails are behind the toggle.
    xs = dash_duo.driver.execute_script(
        "return document.getElementById('board-flows').querySelector('.js-plotly-plot').data[0].x"
    )
    assert max(abs(float(x)) for x in xs) <= 5.0
    assert not _overlaps(dash_duo, "#board-flows"), _overlaps(dash_duo, "#board-flows")
    dash_duo.wait_for_element("#board-ranking .ag-row", timeout=20)
    order = dash_duo.driver.execute_script("return window.__order")
    assert order["chart"] <= order["grid"], order  # the chart first, then the tables
    # Key levels and the expiry calendar, as published (distances written by their unit).
    levels = board.table("levels").set_index("underlying")
    dash_duo.wait_for_contains_text("#board-levels", "SPX", timeout=10)
    # the grid writes negatives with the typographic minus (d3), as every table does
    assert f"{levels.loc['SPX', 'call_wall_distance_pct']:,.2f}" in dash_duo.find_element(
        "#board-levels"
    ).text.replace("\u2212", "-")
    # AG Grid: the SPX row's cell of that column, written by its declared unit (percent, 2 decimals).
    spx_row = dash_duo.find_element(
        f"#board-levels .ag-center-cols-container .ag-row[row-index='{list(levels.index).index('SPX')}']"
    )
    assert (
        spx_row.find_element(
            "css selector", ".ag-cell[col-id='call_wall_distance_pct']"
        ).text.replace("\u2212", "-")
        == f"{levels.loc['SPX', 'call_wall_distance_pct']:,.2f}"
    )
    headers = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#board-levels .ag-header-cell-text')].map(e => e.textContent)"
    )
    assert "Call wall distance (%)" in headers
    # CSV export named by page, as-of date and scenario (the IV shock shown), full-precision numbers.
    dash_duo.driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    dash_duo.driver.execute_script(
        "arguments[0].click()", dash_duo.find_element("#board-ranking-csv")
    )
    day = format_time(board.meta.as_of, "America/New_York")[:10]
    csv_path = tmp_path / f"board-ranking_{day}_iv+0.csv"
    deadline = time.time() + 15
    while time.time() < deadline and not csv_path.exists():
        time.sleep(0.2)
    assert csv_path.exists(), sorted(p.name for p in tmp_path.iterdir())
    exported = pd.read_csv(csv_path)
    ranking = board.table("ranking")
    assert len(exported) == len(ranking) and exported.columns[0] == "Underlying"
    assert "OPEX" in dash_duo.find_element("#board-expiries").text
    expiries = board.table("expiries")  # only what rolls off: no row of zeros
    assert len(expiries) and (expiries["gross_gex_usd_per_1pct"] > 0).all()
    assert (expiries["expiries"] >= 1).all()
    # FX unwind: the caption says which way each scenario trades (the task's sentences)
    readings = board.meta.extra["fx_unwind"]
    assert set(readings) == {"median", "zero"}
    dash_duo.wait_for_contains_text("#board-fx-note", "Beneficiary rank: 1 = ", timeout=10)
    fx_note = dash_duo.find_element("#board-fx-note").text
    assert all(display.minus_signs(text) in fx_note for text in readings.values()), (
        fx_note,
        readings,
    )
    fx = board.table("fx")
    for scenario, text in readings.items():
        rows = fx[fx["scenario"] == scenario]
        assert ("none is a beneficiary (rank 0)" in text) == (not rows["benefits"].any())
    # End-of-day history: today's close of each input is drawn (one point per exchange day).
    dash_duo.wait_for_element("#board-history .main-svg .scatterlayer", timeout=20)
    names = dash_duo.driver.execute_script(
        "return document.getElementById('board-history').querySelector('.js-plotly-plot').data.map(t => t.name)"
    )
    assert {"SPX net GEX", "leveraged ETFs per 1%"} <= set(names)
    # The cards follow the IV shock.
    totals = board.table("totals")
    at5 = totals[(totals["iv_shock_pts"] == 5.0) & (totals["index_move_pct"] == -3.0)].iloc[0]
    dash_duo.find_element("#board-shock input[value='5']").click()
    dash_duo.wait_for_contains_text(
        "#board-card-total",
        display.minus_signs(f"{at5['total_usd'] / 1e9:+,.2f} bn USD"),
        timeout=20,
    )
    dash_duo.find_element("#board-range input[value='all']").click()
    dash_duo.wait_for_text_to_equal(
        "#board-flows .gtitle", "Mechanical flow by NDX move (IV shock +5 vol pts)", timeout=20
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        xs = dash_duo.driver.execute_script(
            "return document.getElementById('board-flows').querySelector('.js-plotly-plot').data[0].x"
        )
        if max(abs(float(x)) for x in xs) > 5.0:
            break
        time.sleep(0.2)
    assert max(abs(float(x)) for x in xs) > 5.0

    # Explorer: moving to +5 % changes the total card to the grid's figure for that move.
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/explorer?move=5")
    dash_duo.wait_for_element("#explorer-chart .main-svg", timeout=30)
    grid = board.table("grid")
    sel = grid[
        (grid["index_move_pct"] == 5.0)
        & (grid["iv_shock_pts"] == 0.0)
        & (grid["total_usd"].abs() > 0)
    ]
    dash_duo.wait_for_contains_text(
        "#explorer-total",
        display.minus_signs(f"{sel['total_usd'].sum() / 1e9:+,.2f} bn USD"),
        timeout=20,
    )
    # the explorer's header names the inputs' own as-of times, as the board's does (its as-of
    # alone is the oldest input's, the CFTC week: today's flows read as two weeks old)
    assert dash_duo.find_element("#explorer-times").text == times
    started = time.perf_counter()
    dash_duo.find_element("#explorer-shock input[value='5']").click()
    sel5 = grid[
        (grid["index_move_pct"] == 5.0)
        & (grid["iv_shock_pts"] == 5.0)
        & (grid["total_usd"].abs() > 0)
    ]
    dash_duo.wait_for_contains_text(
        "#explorer-total",
        display.minus_signs(f"{sel5['total_usd'].sum() / 1e9:+,.2f} bn USD"),
        timeout=20,
    )
    print(f"explorer interaction round trip: {(time.perf_counter() - started) * 1000:.0f} ms")

    # Brief: the text and tables show; the PDF download is produced.
    dash_duo.driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/brief")
    dash_duo.wait_for_contains_text("#brief-text", "Leveraged ETFs:", timeout=20)
    # the stored text keeps ASCII (CLI, webhooks, PDF); the page shows its minus signs as U+2212
    stored_text = store.read("board.brief").meta.headline["text"]
    assert "\u2212" not in stored_text and " -" in stored_text  # the sample has a negative figure
    assert dash_duo.find_element("#brief-text").text == display.minus_signs(stored_text).strip()
    # the key number: each underlying's net GEX in the brief's grid, as the stored brief has it (USD, whole)
    brief_gamma = store.read("board.brief").table("gamma")
    dash_duo.wait_for_element(
        "#brief-gamma .ag-row .ag-cell[col-id='net_gex_usd_per_1pct']", timeout=20
    )
    shown = {
        r.find_element("css selector", ".ag-cell[col-id='underlying']").text: r.find_element(
            "css selector", ".ag-cell[col-id='net_gex_usd_per_1pct']"
        ).text.replace("\u2212", "-")
        for r in dash_duo.driver.find_elements(
            "css selector", "#brief-gamma .ag-center-cols-container .ag-row"
        )
    }
    assert shown == {
        u: f"{v:,.0f}"
        for u, v in zip(brief_gamma["underlying"], brief_gamma["net_gex_usd_per_1pct"], strict=True)
    }
    dash_duo.find_element("#brief-pdf").click()
    deadline = time.time() + 60
    pdfs: list[Path] = []
    while time.time() < deadline and not pdfs:
        pdfs = [p for p in tmp_path.glob("flowdesk-brief-*.pdf")]
        time.sleep(0.25)
    assert pdfs, "the brief PDF was not downloaded"
    assert pdfs[0].read_bytes()[:5] == b"%PDF-"
    assert _console_errors(dash_duo) == []


def test_brief_job_renders_png_and_pdf_with_the_desk_notes(store):
    """The brief job renders its PDF and PNG (stored with the result as bytes), titled, with the
    desk's notes of the day; the web tier only serves those bytes."""
    from jobs.store import keys

    today = datetime.now(NY).date().isoformat()
    store.redis.set(keys.brief_notes(today), b"Watch the NDX flip into OPEX.")
    _publish_everything(store)
    res = store.read("board.brief")
    docs = res.table("documents").set_index("format")
    png, pdf = bytes(docs.loc["png", "data"]), bytes(docs.loc["pdf", "data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and pdf[:5] == b"%PDF-"
    assert docs.loc["pdf", "size_bytes"] == len(pdf)
    assert f"/Title (flowdesk morning brief {today} - SAMPLE DATA)".encode() in pdf[-600:]
    assert res.meta.headline["notes"] == "Watch the NDX flip into OPEX."
    assert "Notes: Watch the NDX flip into OPEX." in res.meta.headline["text"]
    assert res.meta.extra["render_error"] is None and res.meta.extra["render_seconds"] > 0
    # the brief counts the board's flags (it said 0 beside a board with 10)
    board = store.read("board.scenarios")
    assert res.meta.headline["flags"] == board.meta.headline["flags"] == len(board.table("flags"))
    assert res.meta.headline["flags"] > 0


def test_brief_without_a_browser_is_published_without_documents_and_says_why(
    store, monkeypatch, caplog
):
    """No Chromium where the job runs (kaleido is pointed at a path that does not exist): the
    brief is published all the same, its record says why the documents are missing, and the
    job's log says it in one warning (the export libraries' own log lines are muted)."""
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    caplog.set_level(logging.WARNING)
    _publish_everything(store)
    res = store.read("board.brief")
    assert res.table("documents").empty
    why = res.meta.extra["render_error"]
    assert why.startswith("RuntimeError") and "Chrome" in why
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("brief published without its PDF and PNG: RuntimeError") for m in said)


def test_board_callbacks_answer_every_output_without_a_board(tmp_path, monkeypatch, redis_url):
    """No board published yet (a fresh start): each of the board's callbacks answers one value
    per output (the tables' callback answered one too many and failed with a 500)."""
    use_config(tmp_path, monkeypatch, redis_url, jobs=BOARD_JOBS)
    app = create_app()
    warm_up(app)  # Dash's set-up: the callback map
    from dashboard.pages import board

    def outputs(one: str) -> int:
        (key,) = [k for k in app.callback_map if k.startswith(f"..{one}.")]
        return len(key.strip(".").split("..."))

    outputs = {"refresh": outputs("board-provenance"), "refresh_tables": outputs("board-ranking")}
    assert outputs == {"refresh": 5, "refresh_tables": 17}
    top, tables = board.board_view(0.0, "core"), board.tables_view(0.0)
    assert (len(top), len(tables)) == (outputs["refresh"], outputs["refresh_tables"])
    assert "board.scenarios" in str(top[0])  # the top says what is missing
