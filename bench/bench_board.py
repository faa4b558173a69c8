"""Benchmark of the de-risking board: the scenario grid and one explorer interaction.

Publishes sample gamma (7 underlyings), leveraged-ETF and CFTC results into a private embedded
Redis, then times, median of N runs:

* ``board``: reading every input from Redis and computing the whole grid (41 index moves x 4 IV
  shocks x every underlying; dealer books re-priced in full);
* ``explorer``: one scenario-explorer interaction (the server callback: read the cached grid from
  Redis, select the move / shock / underlyings, build the two figures and the table) -- target
  under 300 ms.

Run: ``python -m bench.bench_board [--quick]`` (records in ``bench/results/``).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import finish, quick_arg, value_figure  # noqa: E402
from jobs.config import load_settings  # noqa: E402
from jobs.redis_server import start_embedded_redis  # noqa: E402
from jobs.runner import run_job  # noqa: E402
from jobs.store import ResultStore, connect  # noqa: E402
from jobs.tasks.board import compute_board, load_inputs  # noqa: E402


def _median_ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    server = start_embedded_redis(quiet=True)
    os.environ["REDIS_URL"] = server.url
    settings = load_settings(Path(__file__).resolve().parents[1] / "config.toml")
    store = ResultStore(connect(server.url))
    now = datetime.now(ZoneInfo("America/New_York"))
    for job in ("gamma_morning", "letf_preopen", "cftc_weekly", "board_morning"):
        record = run_job(settings, store, job, now=now, sleep=lambda _s: None)
        assert record.status == "ok", (job, record.error)
    inp = load_inputs(settings, store, now)
    contracts = sum(b.strike.size for b in inp.books.values())
    board_ms = _median_ms(
        lambda: compute_board(settings, load_inputs(settings, store, now), now), 5
    )
    grid_rows = len(store.read("board.scenarios", tables=["grid"]).frame)

    import dash

    dash.Dash(__name__, use_pages=True, pages_folder="")  # pages register against an app
    from dashboard.pages import explorer

    explorer.explore(-3.0, 5.0, [], 0)  # warm-up (imports, first read)
    quick = quick_arg()
    n = 7 if quick else 20
    explore_ms = _median_ms(lambda: explorer.explore(-3.0, 5.0, [], 0), n)
    subset_ms = _median_ms(lambda: explorer.explore(2.5, 0.0, ["SPX", "QQQ", "NVDA"], 0), n)
    server.stop()
    figs = [
        value_figure(
            "board: read every input from Redis + compute the whole scenario grid",
            board_ms,
            "ms",
            note=f"{len(inp.books)} dealer books ({contracts:,} contracts), grid {grid_rows:,} rows (SAMPLE data)",
        ),
        value_figure(
            "board: one explorer interaction, all underlyings (server callback, one user)",
            explore_ms,
            "ms",
            target="< 300 ms",
        ),
        value_figure(
            "board: one explorer interaction, 3 underlyings (one user)",
            subset_ms,
            "ms",
            target="< 300 ms",
        ),
    ]
    finish("bench_board", figs, area="De-risking board", quick=quick)


if __name__ == "__main__":
    main()
