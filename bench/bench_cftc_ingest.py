"""Benchmark: the CFTC ingest (back-fill and weekly update) and the release rule it applies.

Run: ``python -m bench.bench_cftc_ingest [--from 2006] [--repeat 3] [--quick]`` (records in ``bench/results/``).  Starts a private
embedded Redis and prints the median wall time of

1. the release rule over every report date of the back-fill (one vectorised
   :func:`flows.calendars.cftc_release_times` call vs one call per date, as the ingest used to);
2. a sample-mode back-fill ``--from``..2026 (~1,060 weekly reports of both COT layouts and the
   ECB history generated in the real formats, parsed by the real parsers, published to Redis);
3. a weekly update on top of it (one new report).

Sample mode exercises the same ingest code as live mode after the download (parsing, partial-week
checks, release times, publish), without the network.  Target: back-fill under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from bench.harness import finish, value_figure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="from_year", type=int, default=2006)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one repeat")
    args = ap.parse_args()
    if args.quick:
        args.repeat = 1

    try:
        from flows.calendars import cftc_release_times
    except ImportError:  # trees before the time module (for a before/after comparison)
        from flows.cftc import expected_release as cftc_release_times
    from jobs.config import parse_settings
    from jobs.redis_server import start_embedded_redis
    from jobs.store import ResultStore, connect
    from jobs.tasks import cftc_ingest

    tz = "America/New_York"
    now = pd.Timestamp("2026-06-01 12:00", tz=tz)
    dates = pd.date_range(f"{args.from_year}-01-03", now.tz_localize(None), freq="W-TUE")
    cftc_release_times(dates[:1])
    t0 = time.perf_counter()
    for d in dates:
        cftc_release_times(pd.DatetimeIndex([d]))
    per_date = time.perf_counter() - t0
    t0 = time.perf_counter()
    cftc_release_times(dates)
    vectorised = time.perf_counter() - t0
    figs = [
        value_figure(
            f"cftc ingest: release rule over {len(dates)} report dates (one vectorised call)",
            vectorised * 1e3,
            "ms",
            baseline="one call per date",
            baseline_value=per_date * 1e3,
        )
    ]

    settings = parse_settings({"service": {"source_mode": "sample"}}, env={})
    server = start_embedded_redis(quiet=True)
    try:
        client = connect(server.url)
        store = ResultStore(client, history_max_count=5, history_max_age_days=30)
        back, upd, back_cpu, upd_cpu = [], [], [], []
        for _ in range(args.repeat):
            client.flushall()
            c0, t0 = time.process_time(), time.perf_counter()
            cftc_ingest.backfill(settings, store, args.from_year, now=now)
            back.append(time.perf_counter() - t0)
            back_cpu.append(time.process_time() - c0)
            c0, t0 = time.process_time(), time.perf_counter()
            cftc_ingest.update_latest(settings, store, now=now + pd.Timedelta(days=5))
            upd.append(time.perf_counter() - t0)
            upd_cpu.append(time.process_time() - c0)
        weeks = store.read(cftc_ingest.POSITIONS).table("legacy")["as_of"].nunique()
        figs.append(
            value_figure(
                f"cftc ingest: SAMPLE back-fill {args.from_year}-{now.year} ({weeks} weekly reports, parse + publish)",
                statistics.median(back),
                "s",
                target="< 2 s",
                note=f"CPU {statistics.median(back_cpu):.3f} s; runs {', '.join(f'{x:.3f}' for x in back)}",
            )
        )
        figs.append(
            value_figure(
                "cftc ingest: weekly update (one new report)",
                statistics.median(upd),
                "s",
                note=f"CPU {statistics.median(upd_cpu):.3f} s",
            )
        )
    finally:
        server.stop()
    finish("bench_cftc_ingest", figs, area="CFTC positioning", quick=args.quick)


if __name__ == "__main__":
    main()
