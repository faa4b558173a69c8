"""Benchmark: the CFTC ingest (back-fill and weekly update) and the release rule it applies.

Run: ``.venv/bin/python bench/bench_cftc_ingest.py [--from 2006] [--repeat 3]``.  Starts a private
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="from_year", type=int, default=2006)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

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
    print(f"release rule, {len(dates)} report dates: one call per date {per_date * 1000:.1f} ms, vectorised {vectorised * 1000:.2f} ms")

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
        print(f"sample back-fill {args.from_year}-{now.year} ({weeks} weekly reports): median {statistics.median(back):.3f} s wall, {statistics.median(back_cpu):.3f} s CPU (runs {', '.join(f'{x:.3f}' for x in back)})")
        print(f"weekly update (one new report): median {statistics.median(upd):.3f} s wall, {statistics.median(upd_cpu):.3f} s CPU")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
