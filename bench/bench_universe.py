"""Universe refresh: analysis + publish of the whole sample universe (data already fetched) with 0
(in-process), 1 and 2 ``flowdesk worker`` processes; Redis memory; the Single names page's ranking.

    FLOWDESK_SHARED_DATA=... .venv/bin/python bench/bench_universe.py [--names 5000] [--workers 0,1,2]

Prints, per worker count: the wall time from the shards' enqueue to the published table
(fetch excluded: the chains are staged first, as a live fetch leaves them), the speed-up, and a
projection to more workers (Amdahl's law on the measured serial share: the finalising job and
the orchestration); then the Redis memory one refresh adds (results, RQ records) and at its peak
(staged chains), the bytes of one ``universe.table`` version and the year's sizing; the per-chain
baseline (``flows.gamma.analyze`` + one publish per name on a sample of names, extrapolated);
and the ranking callback's server time on the published table.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobs.config import load_settings  # noqa: E402
from jobs.redis_server import start_embedded_redis  # noqa: E402
from jobs.store import ResultStore, connect, keys  # noqa: E402
from jobs.tasks import TaskContext, load_tasks  # noqa: E402
from jobs.tasks.universe import fetch_missing, open_round, universe_list  # noqa: E402

NOW = pd.Timestamp("2026-11-17 10:30", tz="America/New_York")


def used(conn) -> int:
    return int(conn.info("memory")["used_memory"])


def start_workers(n: int, env: dict) -> list[subprocess.Popen]:
    procs = [subprocess.Popen([sys.executable, "-m", "jobs.cli", "worker", "--name", f"bench-{i}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True) for i in range(n)]
    from jobs import workers

    conn = connect(env["REDIS_URL"])
    deadline = time.monotonic() + 60
    while workers.live_workers(conn) < n:
        if time.monotonic() > deadline:
            raise SystemExit("workers did not start")
        time.sleep(0.1)
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", type=int, default=5000)
    ap.add_argument("--workers", default="0,1,2")
    ap.add_argument("--shard-contracts", type=int, default=200_000)
    ap.add_argument("--baseline-names", type=int, default=300)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="bench-universe-"))
    cfg = tmp / "config.toml"
    cfg.write_text(f'[service]\nsource_mode = "sample"\n[universe]\nsample_size = {args.names}\nshard_contracts = {args.shard_contracts}\nwait_seconds = 3600\n')
    server = start_embedded_redis(quiet=True)
    env = dict(os.environ, FLOWDESK_CONFIG=str(cfg), REDIS_URL=server.url, OPENBLAS_NUM_THREADS="1")
    os.environ.update(FLOWDESK_CONFIG=str(cfg), REDIS_URL=server.url)
    try:
        conn = connect(server.url)
        store = ResultStore(conn)
        settings = load_settings()
        names = universe_list(settings)
        ctx = TaskContext(settings=settings, store=store, now=NOW, job="universe", slot="bench", log=logging.getLogger("bench"))
        print(f"universe: {len(names)} names, {int(names['contracts'].sum()):,} contracts (targets); shards of {args.shard_contracts:,} contracts")
        times: dict[int, float] = {}
        mem_added = peak = staged = 0
        for n in [int(x) for x in args.workers.split(",")]:
            rnd, _ = open_round(conn, list(names["symbol"]), settings, NOW)
            t0 = time.perf_counter()
            counts = fetch_missing(ctx, rnd, names)
            t_fetch = time.perf_counter() - t0
            procs = start_workers(n, env) if n else []
            conn.execute_command("MEMORY PURGE")
            before = used(conn)
            staged = before
            try:
                t0 = time.perf_counter()
                outcome = load_tasks()["universe"].fn(ctx, {})
                times[n] = time.perf_counter() - t0
            finally:
                stop_workers(procs)
            after = used(conn)
            if n == 0 or not mem_added:
                mem_added = after
            print(f"workers={n}: analysis + publish {times[n]:.1f} s ({outcome.detail}); sample fetch (staging) {t_fetch:.1f} s, {counts['fetched']} chains")
            peak = max(peak, staged)
        t1 = times.get(1) or times.get(0)
        if t1:
            for n, t in sorted(times.items()):
                print(f"  speed-up vs 1 process at {n or 'in-process'} workers: {t1 / t:.2f}x")
            if 2 in times and 1 in times:
                s = max(0.0, (2 * times[2] / times[1] - 1.0))  # Amdahl: T2/T1 = s + (1-s)/2
                proj = {k: times[1] * (s + (1 - s) / k) for k in (4, 8, 16)}
                print(f"  serial share (Amdahl, from 1 and 2 workers) {s:.2f}; projected: " + ", ".join(f"{k} workers {v:.1f} s (on {k} cores)" for k, v in proj.items()))
        # memory: results and RQ records after the refreshes, per refresh
        base = ResultStore(conn)
        meta = base.meta("universe.table")
        table_bytes = sum(int(conn.memory_usage(keys.result_table("universe.table", meta.version, t)) or 0) for t in meta.tables) + int(conn.memory_usage(keys.result_meta("universe.table", meta.version)) or 0)
        focus_bytes = 0
        for sym in settings.universe.focus:
            m = base.meta(f"universe.{sym}")
            focus_bytes += sum(int(conn.memory_usage(keys.result_table(f"universe.{sym}", m.version, t)) or 0) for t in m.tables) + int(conn.memory_usage(keys.result_meta(f"universe.{sym}", m.version)) or 0)
        rq_bytes = sum(int(conn.memory_usage(k) or 0) for k in conn.scan_iter("rq:*"))
        runs = len(times)
        print(f"Redis: used_memory with the chains staged (peak input) {peak / 1e6:.1f} MB; after {runs} refreshes {mem_added / 1e6:.1f} MB in all")
        print(f"  one refresh adds: universe.table {table_bytes / 1e6:.2f} MB + focus names {focus_bytes / 1e6:.2f} MB + RQ job records {rq_bytes / runs / 1e6:.2f} MB = {(table_bytes + focus_bytes + rq_bytes / runs) / 1e6:.2f} MB")
        for per_day in (1, 4, 26):
            year = table_bytes * per_day * 252
            print(f"  a year of universe.table history at {per_day} refresh(es) per session: {year / 1e9:.2f} GB ({per_day * 252} versions x {table_bytes / 1e6:.2f} MB)")
        # baseline: one analyze + one publish per name, on a sample of names, extrapolated
        from flows.chain import Chain
        from flows.gamma import analyze
        from flows.sources import sample_universe
        from jobs.tasks.gamma import gamma_params

        exp = sample_universe.expiry_calendar(NOW.date())
        sample = names.sample(min(args.baseline_names, len(names)), random_state=1)
        t_an = t_pub = 0.0
        for row in sample.itertuples(index=False):
            spot, c = sample_universe.chain_table(row, NOW, settings.service.sample_seed, exp)
            chain = Chain(row.symbol, spot, NOW.tz_convert("UTC"), "sample", c)
            t0 = time.perf_counter()
            rep = analyze(chain, gamma_params(settings, row.symbol, NOW))
            t_an += time.perf_counter() - t0
            t0 = time.perf_counter()
            base.publish(f"bench.{row.symbol}", {t: getattr(rep, t) for t in ("by_strike", "profile", "contracts")}, as_of=NOW, source="sample")
            t_pub += time.perf_counter() - t0
        scale = names["contracts"].sum() / sample["contracts"].sum()
        print(f"per-chain baseline ({len(sample)} names, scaled by contracts x{scale:.1f}): analysis {t_an * scale:.0f} s + publish {t_pub * len(names) / len(sample):.0f} s (3 tables per name) in one process")
        # the page: rank + filter 5,000 rows (the callback's server time)
        from dashboard.app import create_app

        app = create_app()  # registers the pages
        from dashboard.pages import universe as page
        page._rank(meta.version, "gex", None, None, None)  # decodes the table once (per version)
        for label, a in (("rank by GEX", ("gex", None, None, None)), ("rank by % ADV", ("adv", None, None, None)), ("sector + basket filter", ("adv", ["Information Technology"], "semis", None)), ("regime filter", ("gex", None, None, "short gamma"))):
            ts = []
            for _ in range(7):
                t0 = time.perf_counter()
                page._rank(meta.version, *a)
                ts.append(time.perf_counter() - t0)
            assert app is not None
            print(f"page ranking callback, {label}: median {np.median(ts) * 1e3:.0f} ms, max {max(ts) * 1e3:.0f} ms ({len(base.read('universe.table', tables=['names']).frame):,} rows)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
