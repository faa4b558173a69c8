"""Benchmark: option-chain sources and the gamma task end to end (sample mode, real Redis).

Run ``python -m bench.bench_gamma_sources [--repeat N] [--quick]`` (records in ``bench/results/``).  Measures median wall and
CPU (process) times over ``N`` runs of:

* generating the sample chain (JSON shape and quote-table CSV) per underlying,
* parsing it back (:func:`flows.sources.cboe.parse`, :func:`flows.sources.cboe_csv.parse`),
* parsing the real recorded CBOE JSON (MSTR, 48 contracts),
* the whole ``gamma`` task for the seven default underlyings on an embedded Redis (generate,
  parse, analyse with an 801-point profile, publish 8 tables each plus the summary).

The analytics alone are timed in ``bench/bench_gamma.py``.  Wall time on this shared 2-core
machine is noisy; CPU time is printed next to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

DATA = Path(
    os.environ.get("FLOWDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
from bench.harness import finish, value_figure  # noqa: E402

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=ZoneInfo("America/New_York"))


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 repeats")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 2
    figs = []

    def fig(name: str, w: float, c: float, detail: str) -> None:
        figs.append(
            value_figure(
                f"gamma sources: {name}", w * 1e3, "ms", note=f"CPU {c * 1e3:.1f} ms; {detail}"
            )
        )

    from flows.sources import cboe, cboe_csv, sample_options

    for u in ("SPX", "NDX", "SPY", "NVDA"):
        w, c, payload = timed(
            lambda u=u: sample_options.sample_options_json(u, NOW, 1), args.repeat
        )
        fig(
            f"generate the SAMPLE JSON chain {u}",
            w,
            c,
            f"{len(payload['data']['options']):,} contracts",
        )
        w, c, chain = timed(
            lambda payload=payload: cboe.parse(payload, source="sample"), args.repeat
        )
        fig(f"cboe.parse SAMPLE {u}", w, c, f"{len(chain.contracts):,} rows")
        w, c, text = timed(lambda u=u: sample_options.sample_quotedata_csv(u, NOW, 1), args.repeat)
        fig(f"generate the SAMPLE quote table {u}", w, c, f"{len(text) / 1e6:.2f} MB")
        w, c, chain = timed(
            lambda text=text, u=u: cboe_csv.parse(text, source="sample", underlying=u), args.repeat
        )
        fig(f"cboe_csv.parse SAMPLE {u}", w, c, f"{len(chain.contracts):,} rows")
    mstr = DATA / "responses/cboe/options_MSTR_2026-07-10_trimmed.json"
    if mstr.exists():
        raw = mstr.read_bytes()
        w, c, _ = timed(lambda: cboe.parse(raw), args.repeat * 4)
        fig("cboe.parse of the real MSTR response", w, c, "48 contracts")

    from jobs.config import parse_settings
    from jobs.redis_server import start_embedded_redis
    from jobs.runner import run_job
    from jobs.store import ResultStore

    server = start_embedded_redis(quiet=True)
    try:
        store = ResultStore.from_url(server.url)
        settings = parse_settings(
            {"jobs": {"g": {"task": "gamma", "cron": "0 8 * * 1-5", "retries": 0}}}, env={}
        )
        run_job(settings, store, "g", now=NOW)  # warm-up: imports, exchange calendar
        w, c, rec = timed(lambda: run_job(settings, store, "g", now=NOW), max(1, args.repeat // 2))
        fig(
            "the gamma task, 7 underlyings (SAMPLE, published to Redis)",
            w,
            c,
            f"status {rec.status}, {rec.rows:,} contracts",
        )
    finally:
        server.stop()
    finish("bench_gamma_sources", figs, area="Dealer gamma", quick=args.quick)


if __name__ == "__main__":
    main()
