"""Every grid of every page in headless Chromium, on results published by the real tasks (sample
mode): each column has a human header with its unit, no cell is written in scientific notation,
no grid leaves a screen of white space under its rows, and the operational lists export CSV.
The text a reader sees on every page (cards, notes, flags, chart titles) writes a minus as U+2212
and money with a space before its scale word (:func:`tests.dashboard.layout_check.sign_problems`).

The headers and cells are read through AG Grid's API (every column, not only those on screen),
the cells as the grid displays them (``useFormatter``).
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.app import create_app
from flows.formatting import CODE_LABELS, format_time
from jobs.alerts import evaluate_published, fmt_value
from jobs.runner import run_job
from tests.dashboard.console import capture_console, console_messages
from tests.dashboard.layout_check import sign_problems, wait_for_graphs
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

NY = ZoneInfo("America/New_York")
JOBS = ("gamma", "universe", "cftc", "letf", "prices", "systematic", "futures", "board", "brief")
CONFIG = (
    "\n".join(
        f'[jobs.{job}]\ntask = "{task}"\ncron = "0 8 * * 1-5"\nretries = 0\nstale_after_minutes = 100000000\n'
        for job, task in zip(
            JOBS,
            (
                "gamma",
                "universe",
                "cftc",
                "letf",
                "prices",
                "systematic",
                "futures_positioning",
                "board",
                "brief",
            ),
            strict=True,
        )
    )
    + """
[gamma]
underlyings = ["SPX", "QQQ"]
profile_points = 201
[universe]
sample_size = 60
shard_contracts = 60000
focus = ["NVDA"]
[prices]
sample_sessions = 800
[board]
moves_pct = [-5.0, -3.0, -1.0, 0.0, 1.0, 3.0, 5.0]
iv_shocks_pts = [0.0, 5.0]
brief_documents = false
[alerts.rules.near_flip]
metric = "gamma.SPX.flip_distance_pct"
op = "<"
threshold = 1000.0
absolute = true
"""
)
PAGES = (
    "/",
    "/explorer",
    "/brief",
    "/gamma",
    "/letf",
    "/systematic",
    "/cftc",
    "/cftc?market=equity_index",
    "/cftc?market=rates",
    "/single-names",
    "/alerts",
    "/status",
)
E_NOTATION = re.compile(r"(?<![A-Za-z0-9_])[-−+]?\d+(?:\.\d+)?[eE][+-]?\d+(?![A-Za-z0-9_])")
"""A number in scientific notation (``8.763e+5``), not an id that happens to hold ``3e1``."""
GRIDS_JS = """
const out = [];
for (const root of document.querySelectorAll('.ag-root-wrapper')) {
  const host = root.closest('div[id]');
  const id = host ? host.id : '';
  let api = null;
  try { api = dash_ag_grid.getApi(id); } catch (e) { continue; }
  if (!api) continue;
  const cols = api.getColumns() || [];
  const heads = cols.map(c => c.getColDef().headerName);
  const cells = [];
  let rows = 0;
  api.forEachNode(n => {
    if (!n.data) return;
    rows += 1;
    if (rows <= 40) for (const c of cols) {
      const v = api.getCellValue({rowNode: n, colKey: c.getColId(), useFormatter: true});
      if (v !== null && v !== undefined) cells.push(String(v));
    }
  });
  const body = root.querySelector('.ag-body-viewport');
  const shown = [...root.querySelectorAll('.ag-center-cols-container .ag-row')];
  const rowsHeight = shown.reduce((a, r) => a + r.getBoundingClientRect().height, 0);
  out.push({id, heads, cells, rows, visible: root.offsetParent !== null,
            body: body ? body.clientHeight : 0, rowsHeight, shown: shown.length,
            model: api.getGridOption('rowModelType') || 'clientSide'});
}
return out;
"""


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


def _grids(dash_duo, page: str, timeout: float = 40.0) -> list[dict]:
    """The page's grids once every visible one has its columns and the rows have stopped
    arriving (some lists are empty: the outbox); the timeout returns them as they are."""
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}{page}")
    deadline = time.time() + timeout
    grids: list[dict] = []
    last = None
    while time.time() < deadline:
        grids = dash_duo.driver.execute_script(GRIDS_JS)
        visible = [g for g in grids if g["visible"]]
        state = [(g["id"], g["rows"], len(g["heads"]), g["body"]) for g in grids]
        ready = visible and all(g["heads"] for g in visible) and any(g["rows"] for g in visible)
        if ready and state == last:
            break
        last = state if ready else None
        time.sleep(1.0)
    return grids


def _export(dash_duo, button: str, path, timeout: float = 30.0) -> list[str] | None:
    """Click the grid's CSV button until ``path`` exists (the name arrives with the rows, after
    them on a busy machine: an earlier click saves the default name), then wait until it holds
    its header and rows (Chromium creates the file before it has written it); its lines, or None
    when no such file came."""
    deadline, clicked = time.time() + timeout, 0.0
    while time.time() < deadline:
        if path.exists():
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            if len(lines) >= 2:
                return lines
        elif time.time() - clicked > 5.0:  # no file yet: click (again)
            dash_duo.driver.execute_script(
                "arguments[0].click()", dash_duo.find_element(f"#{button}")
            )
            clicked = time.time()
        time.sleep(0.2)
    return path.read_text(encoding="utf-8-sig").splitlines() if path.exists() else None


@pytest.mark.browser
def test_every_grid_has_human_headers_plain_numbers_and_no_empty_space(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    settings = use_config(tmp_path, monkeypatch, redis_url, jobs=CONFIG)
    now = datetime.now(NY)
    for job in JOBS:
        record = run_job(
            settings,
            store,
            job,
            now=now,
            after_publish=lambda names: evaluate_published(settings, store, names),
        )
        assert record.status == "ok", (job, record.error)

    dash_duo.driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    dash_duo.driver.set_window_size(1400, 1000)
    capture_console(dash_duo.driver)  # AG Grid's own warnings never reach dash_duo.get_logs()
    dash_duo.start_server(create_app())
    seen: dict[str, list[dict]] = {}
    signs: dict[str, list[str]] = {}
    for page in PAGES:
        grids = _grids(dash_duo, page)
        assert grids, f"{page}: no grid"
        seen[page] = grids
        if dash_duo.driver.execute_script(
            "return document.querySelectorAll('.js-plotly-plot').length"
        ):
            wait_for_graphs(dash_duo.driver)
        signs[page] = sign_problems(dash_duo.driver)
        warned = [m for m in console_messages(dash_duo.driver) if "AG Grid" in m]
        assert not warned, f"{page}: {warned[:3]}"
        for g in grids:
            where = f"{page} #{g['id']}"
            if not g["visible"] and not g["heads"]:
                continue  # a panel of the page not shown (the CFTC futures, with ?market=)
            assert g["heads"], where
            for h in g["heads"]:
                # a header a desk reads: words, not a column name; never blank
                assert h and h.strip() and "_" not in h, f"{where}: header {h!r}"
                assert not re.search(r"\([^)]*\(", h), f"{where}: unit said twice in {h!r}"
            bad = [c for c in g["cells"] if E_NOTATION.search(c)]
            assert not bad, f"{where}: scientific notation {bad[:5]}"
            # an enumeration's code or a boolean is shown in words (flows.formatting.code_label)
            codes = {c for c in g["cells"] if c in CODE_LABELS or c in ("true", "false")}
            codes |= {
                c for c in g["cells"] if re.fullmatch(r"(zscore|percentile|cot_index)_\d+y", c)
            }
            assert not codes, f"{where}: codes shown as they are {sorted(codes)}"
            if g["visible"] and g["model"] != "infinite" and g["shown"]:
                # sized to its rows: no more than a row's height of white space under them
                # (AG Grid keeps 150 px for a grid of one or two rows: room for its overlays)
                assert g["body"] <= max(g["rowsHeight"] + 60, 150), (
                    where,
                    g["body"],
                    g["rowsHeight"],
                )

    # one display style for signed numbers and money on every page (a minus is U+2212)
    signs = {page: found for page, found in signs.items() if found}
    assert not signs, "\n".join(
        f"{page}: {len(found)} {found[:6]}" for page, found in signs.items()
    )

    # the explorer: an index without an ADV says so in both ADV cells
    explorer = {g["id"]: g for g in seen["/explorer"]}["explorer-table"]
    assert "no ADV" in explorer["cells"], explorer["cells"][:20]
    # 0DTE share as a percentage on the board's key levels (the gamma page's card says %)
    levels = {g["id"]: g for g in seen["/"]}["board-levels"]
    assert "0DTE share of gross GEX (%)" in levels["heads"]
    # the absolute rule's last value keeps its sign (SPX's flip distance, as published)
    distance = store.meta("gamma.SPX").headline["flip_distance_pct"]
    rules = {g["id"]: g for g in seen["/alerts"]}["alerts-rules-table"]
    assert (
        "|value| < 1,000" in rules["cells"]
        and fmt_value(distance, minus="\u2212") in rules["cells"]
    )
    assert not [c for c in rules["cells"] if re.fullmatch(r"-\d[\d,.]*", c)], "ASCII minus"

    # CSV exports of the operational grids, named <page>-<table>_<date>[_<scenario>].csv
    today = format_time(datetime.now(NY), "America/New_York")[:10]
    as_of = format_time(store.meta("universe.table").as_of, "America/New_York")[:10]
    for page, button, name in (
        ("/single-names", "un-grid-csv", f"single-names_{as_of}_by-gex.csv"),
        ("/alerts", "alerts-rules-table-csv", f"alerts-rules_{today}.csv"),
        ("/status", "status-jobs-table-csv", f"status-jobs_{today}.csv"),
    ):
        _grids(dash_duo, page)
        lines = _export(dash_duo, button, tmp_path / name)
        assert lines is not None, (name, sorted(p.name for p in tmp_path.iterdir()))
        assert len(lines) >= 2 and "_" not in lines[0], (name, lines[:2])  # headers, then rows
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []
