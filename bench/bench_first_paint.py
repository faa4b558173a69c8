"""Board first paint in a new headless Chromium (issue 13: "board first paint with all cards < 2 s").

A private embedded Redis filled by the real jobs on sample data (gamma, leveraged ETFs, CFTC, the
board), the production web tier (gunicorn with ``dashboard/gunicorn_conf.py``, as
``bench/bench_callbacks.py`` starts it), and a new headless Chromium per load (nothing cached:
Plotly.js, 4.8 MB, is fetched and compiled every time).  Measured in the page, from the
navigation's start (``performance.now()``), checked every animation frame:

* every card: the five headline cards hold their numbers;
* the flow chart drawn: Plotly has drawn the chart's bars and its total line;
* every block: the tables below the chart (mounted once the chart is drawn) hold rows and the
  end-of-day history is drawn.

The workers first draw the usual views of the publish (as after the pages' first version check,
``bench_callbacks.open_pages``), so the loads time the browser, not a cold render cache.

Baseline of the chart (loaded interleaved with the board, so both see the same load): the same
flow chart, alone and static, on an otherwise empty Dash page served the same way: what Plotly.js
itself costs in this browser on this machine now.  The ratio is what the board adds to it.

Run: ``python -m bench.bench_first_paint [--quick]`` (records in
``bench/results/bench_first_paint.json``).  Needs Chromium and chromedriver (the browser tests'
apt packages).
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import finish, headless_chromium, quick_arg, value_figure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
JOBS = ("gamma_morning", "letf_preopen", "cftc_weekly", "board_morning")

PAINT_PROBE = """
window.__paint = {};
const CARDS = ['board-card-total', 'board-card-dealers', 'board-card-letf', 'board-card-today',
               'board-card-flags'];
function probe() {
  const t = performance.now(), p = window.__paint;
  if (p.cards === undefined && CARDS.every(id => {
        const e = document.getElementById(id); return e && /[0-9]/.test(e.textContent); })) {
    p.cards = t;
  }
  const g = document.querySelector('#board-flows .js-plotly-plot, #alone .js-plotly-plot');
  if (p.chart === undefined && g && g.querySelector('.barlayer .point path')
      && g.querySelector('.scatterlayer .trace')) {
    p.chart = t;
  }
  if (p.below === undefined && document.querySelector('#board-ranking .ag-row')
      && document.querySelector('#board-expiries .ag-row')
      && document.querySelector('#board-history .scatterlayer .trace')) {
    p.below = t;
  }
  requestAnimationFrame(probe);
}
requestAnimationFrame(probe);
"""
"""Installed before any script of the page (DevTools ``addScriptToEvaluateOnNewDocument``)."""


def _browser():
    return headless_chromium(1400, 900)


def load(url: str, wanted: tuple[str, ...], timeout_s: float = 60.0) -> dict[str, float]:
    """Milliseconds from the navigation's start to each of ``wanted`` (``cards``, ``chart``,
    ``below``) in a new browser loading ``url``."""
    import time

    driver = _browser()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAINT_PROBE})
        driver.get(url)
        deadline = time.monotonic() + timeout_s
        while True:
            got = driver.execute_script("return window.__paint") or {}
            if all(k in got for k in wanted):
                return {k: float(got[k]) for k in wanted}
            if time.monotonic() > deadline:
                raise SystemExit(f"bench_first_paint: {url} not drawn in {timeout_s:.0f} s: {got}")
            time.sleep(0.05)
    finally:
        driver.quit()


def chart_alone(figure: dict) -> tuple[object, str]:
    """The baseline page: one static ``dcc.Graph`` of ``figure`` on an empty Dash app (served
    locally, like the product), on a free port in a thread; ``(server, url)``."""
    from dash import Dash, dcc, html
    from werkzeug.serving import make_server

    from jobs.redis_server import free_port

    app = Dash(__name__, serve_locally=True)
    app.layout = html.Div(
        dcc.Graph(id="alone", figure=figure, config={"displaylogo": False}), id="page"
    )
    port = free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}/"


def main() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bench.bench_callbacks import Callbacks, open_pages, start_gunicorn
    from dashboard.figures import board as bfig
    from jobs.config import load_settings
    from jobs.redis_server import start_embedded_redis
    from jobs.runner import run_job
    from jobs.store import ResultStore, connect

    quick = quick_arg()
    runs = 3 if quick else 7
    tmp = Path(tempfile.mkdtemp(prefix="bench-first-paint-"))
    config = tmp / "config.toml"  # the repository's, served on loopback without a login
    config.write_text(
        (REPO / "config.toml")
        .read_text()
        .replace('require_login = "auto"', 'require_login = "never"')
    )
    settings = load_settings(config)
    server = start_embedded_redis(quiet=True)
    os.environ["REDIS_URL"] = server.url
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop gunicorn and Redis on a kill
    proc = None
    alone = None
    try:
        store = ResultStore(connect(server.url))
        now = datetime.now(ZoneInfo(settings.service.timezone))
        for job in JOBS:
            record = run_job(settings, store, job, now=now, sleep=lambda _s: None)
            if record.status != "ok":
                raise SystemExit(f"bench_first_paint: job {job} failed: {record.error}")
        head = store.meta("board.scenarios").headline
        figure = bfig.flows_by_move(
            store.read("board.scenarios", tables=["totals"]).frame,
            index=head.get("index", "NDX"),
            iv_shock_pts=0.0,
            today_move_pct=head.get("today_move_pct"),
        )
        workers, threads = 2, 16
        proc, base = start_gunicorn(server.url, config, workers, threads, tmp / "gunicorn.log")
        alone, alone_url = chart_alone(figure)
        # what open browsers do first: every worker then draws the usual views of the publish
        # in the background (dashboard.render_cache.warm_if_new); let it finish before timing
        open_pages(base, Callbacks(base), workers, settle_s=20.0)
        for _ in range(workers):  # every worker's first answer to a board, untimed
            load(base + "/", ("cards", "chart", "below"))
        board, baseline = [], []
        for _ in range(runs):  # interleaved: both see the same load
            board.append(load(base + "/", ("cards", "chart", "below")))
            baseline.append(load(alone_url, ("chart",)))
    finally:
        if alone is not None:
            alone.shutdown()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        server.stop()

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows) / 1000.0

    def spread(rows: list[dict[str, float]], key: str) -> str:
        return ", ".join(f"{r[key] / 1000:.2f}" for r in rows)

    load_avg = os.getloadavg()[0]
    common = (
        f"median of {runs} loads of / in a new headless Chromium each (1400x900, nothing "
        f"cached), measured in the page from the navigation's start; gunicorn gthread "
        f"{workers} workers x {threads} threads; sample data; load average {load_avg:.1f} on "
        f"{os.cpu_count()} cores"
    )
    baseline_name = (
        "the same flow chart alone, static, on an empty Dash page (Plotly.js fetched, compiled "
        "and drawn), loaded interleaved"
    )
    figs = [
        value_figure(
            "board first paint: every card (new browser)",
            med(board, "cards"),
            "s",
            target="< 2 s",
            note=f"{common}; runs: {spread(board, 'cards')} s",
        ),
        value_figure(
            "board first paint: the flow chart drawn (new browser)",
            med(board, "chart"),
            "s",
            baseline=baseline_name,
            baseline_value=med(baseline, "chart"),
            note=f"{common}; runs: {spread(board, 'chart')} s, chart alone {spread(baseline, 'chart')} s",
        ),
        value_figure(
            "board: the blocks below the chart filled (tables, history; new browser)",
            med(board, "below"),
            "s",
            note=f"{common}; mounted once the chart is drawn; runs: {spread(board, 'below')} s",
        ),
    ]
    finish("bench_first_paint", figs, area="De-risking board", quick=quick)


if __name__ == "__main__":
    main()
