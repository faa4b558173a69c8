"""Universe refresh: analysis + publish of the whole sample universe (data already fetched) with 0
(in-process), 1 and 2 ``flowdesk worker`` processes; Redis memory; the Single names page's ranking.

    FLOWDESK_SHARED_DATA=... .venv/bin/python bench/bench_universe.py [--names 5000] [--workers 0,1,2]

Prints, per worker count: the wall time from the shards' enqueue to the published table (fetch
excluded: the chains are staged first, as a live fetch leaves them), where it went (the shard
jobs' and the finalising job's own durations from their RQ records), the speed-up, and a
projection to more workers (Amdahl's law on the serial share measured between 1 and 2 workers);
the Redis memory one refresh adds (results, history, RQ records) and at its peak (staged chains);
a year of ``universe.table`` history, *measured* by publishing 252 versions (one refresh per
session) and scaled to more refreshes per session; the per-chain baseline (``flows.gamma.analyze``
+ one publish per name on a sample of names, extrapolated by contracts and names); and the
ranking callback's server time (a real POST to the Dash app's callback endpoint: filter, rank,
JSON of 5,000 rows).

Every figure also goes to ``bench/results/bench_universe.json`` (the records of COMMON_BRIEF /
issue 17: benchmark, figure, unit, target, baseline, baseline_figure, ratio, notes).  The machine's
load average is in each record's notes (the 2 cores are shared).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault(
    "OPENBLAS_NUM_THREADS", "1"
)  # as the scheduler and the workers run (before numpy loads BLAS)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobs.config import load_settings  # noqa: E402
from jobs.redis_server import start_embedded_redis  # noqa: E402
from jobs.store import ResultStore, connect, keys  # noqa: E402
from jobs.tasks import TaskContext, load_tasks  # noqa: E402
from jobs.tasks.universe import fetch_missing, open_round, universe_list  # noqa: E402

NOW = pd.Timestamp("2026-11-17 10:30", tz="America/New_York")
RESULTS = ROOT / "bench" / "results" / "bench_universe.json"
RANKING_OUTPUTS = (("un-grid", "rowData"), ("un-count", "children"), ("un-grid", "csvExportParams"))
"""The outputs of the single-names ranking callback (dashboard/pages/universe.py), as the page
posts them; tests/test_bench_records.py checks the app still has that callback."""
RECORDS: list[dict[str, Any]] = []


def ranking_output() -> str:
    """Dash's name of the ranking callback's outputs: ``..un-grid.rowData...un-count.children..``."""
    return ".." + "...".join(f"{i}.{p}" for i, p in RANKING_OUTPUTS) + ".."


def load() -> str:
    """The 1-, 5- and 15-minute load averages (2 shared cores)."""
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def record(
    benchmark: str,
    figure: float,
    unit: str,
    *,
    target: str | None = None,
    baseline: str | None = None,
    baseline_figure: float | None = None,
    notes: str = "",
) -> None:
    """One benchmark record (the shared format); ratio = figure / baseline_figure."""
    ratio = figure / baseline_figure if baseline_figure else None
    RECORDS.append(
        {
            "benchmark": benchmark,
            "figure": round(float(figure), 4),
            "unit": unit,
            "target": target,
            "baseline": baseline,
            "baseline_figure": None
            if baseline_figure is None
            else round(float(baseline_figure), 4),
            "ratio": None if ratio is None else round(ratio, 4),
            "notes": notes,
        }
    )


def used(conn) -> int:
    conn.execute_command("MEMORY PURGE")
    return int(conn.info("memory")["used_memory"])


def start_workers(n: int, env: dict) -> list[subprocess.Popen]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "jobs.cli", "worker", "--name", f"bench-{i}-{time.time_ns()}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for i in range(n)
    ]
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


def job_times(conn, round_id: str, shards: int) -> tuple[list[float], float]:
    """Durations (s) of the round's shard jobs and of its finalising job, from their RQ records."""
    from rq.job import Job

    from jobs import workers

    def dur(jid: str) -> float:
        j = Job.fetch(jid, connection=conn, serializer=workers.SERIALIZER)
        return (
            (j.ended_at - j.started_at).total_seconds()
            if j.ended_at and j.started_at
            else float("nan")
        )

    return [dur(f"universe-{round_id}-{k}") for k in range(shards)], dur(
        f"universe-{round_id}-final"
    )


def bytes_of(conn, name: str, meta) -> int:
    return sum(
        int(conn.memory_usage(keys.result_table(name, meta.version, t)) or 0) for t in meta.tables
    ) + int(conn.memory_usage(keys.result_meta(name, meta.version)) or 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", type=int, default=5000)
    ap.add_argument("--workers", default="0,1,2")
    ap.add_argument("--shard-contracts", type=int, default=200_000)
    ap.add_argument("--baseline-names", type=int, default=200)
    ap.add_argument(
        "--no-write", action="store_true", help="do not write bench/results/bench_universe.json"
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="scripts/bench --quick: 1,000 names, 0 and 1 worker (figures marked quick)",
    )
    args = ap.parse_args()
    if args.quick:
        args.names, args.workers, args.baseline_names = (
            min(args.names, 1000),
            "0,1",
            min(args.baseline_names, 50),
        )
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="bench-universe-"))
    cfg = tmp / "config.toml"
    cfg.write_text(
        f'[service]\nsource_mode = "sample"\n[store]\nhistory_max_count = 5000\nhistory_max_age_days = 3660\n[universe]\nsample_size = {args.names}\nshard_contracts = {args.shard_contracts}\nwait_seconds = 3600\n'
    )
    server = start_embedded_redis(quiet=True)
    env = dict(os.environ, FLOWDESK_CONFIG=str(cfg), REDIS_URL=server.url, OPENBLAS_NUM_THREADS="1")
    os.environ.update(FLOWDESK_CONFIG=str(cfg), REDIS_URL=server.url, OPENBLAS_NUM_THREADS="1")
    try:
        conn = connect(server.url)
        settings = load_settings()
        store = ResultStore(
            conn,
            history_max_count=settings.store.history_max_count,
            history_max_age_days=settings.store.history_max_age_days,
        )
        names = universe_list(settings)
        ctx = TaskContext(
            settings=settings,
            store=store,
            now=NOW,
            job="universe",
            slot="bench",
            log=logging.getLogger("bench"),
        )
        contracts = int(names["contracts"].sum())
        print(
            f"universe: {len(names)} names, {contracts:,} contracts (targets); shards of {args.shard_contracts:,} contracts; {os.cpu_count()} CPUs; {load()}"
        )
        times: dict[int, float] = {}
        loads: dict[int, str] = {}
        added: dict[int, int] = {}
        peak = 0
        for n in [int(x) for x in args.workers.split(",")]:
            base = used(conn)
            rnd, _ = open_round(conn, list(names["symbol"]), settings, NOW)
            t0 = time.perf_counter()
            if conn.exists(
                "bench:chains"
            ):  # staged once: later rounds get a copy (the sample generation is not what is measured)
                conn.copy("bench:chains", keys.universe_chains(rnd.id))
                conn.copy("bench:sizes", keys.universe_sizes(rnd.id))
                counts = {"fetched": 0}
            else:
                counts = fetch_missing(ctx, rnd, names)
                conn.copy(keys.universe_chains(rnd.id), "bench:chains")
                conn.copy(keys.universe_sizes(rnd.id), "bench:sizes")
                base += sum(
                    int(conn.memory_usage(k, samples=0) or 0)
                    for k in ("bench:chains", "bench:sizes")
                )  # the copy is not the refresh's
            t_fetch = time.perf_counter() - t0
            peak = max(peak, used(conn) - base)
            procs = start_workers(n, env) if n else []
            try:
                before = load()
                t0 = time.perf_counter()
                outcome = load_tasks()["universe"].fn(ctx, {})
                times[n] = time.perf_counter() - t0
                loads[n] = f"{before} before, {load()} after"
            finally:
                stop_workers(procs)
            added[n] = used(conn) - base
            shard_t, final_t = job_times(
                conn, rnd.id, int(store.meta("universe.table").headline["shards"])
            )
            print(
                f"workers={n}: analysis + publish {times[n]:.1f} s ({outcome.detail}); shard jobs {sum(shard_t):.1f} s in all (longest {max(shard_t):.1f} s), finalising job {final_t:.1f} s; Redis +{added[n] / 1e6:.1f} MB; sample generation + staging {t_fetch:.1f} s ({counts['fetched']} chains generated, else a copy of the staged ones); {loads[n]}"
            )
            label = "in-process (no worker)" if n == 0 else f"{n} worker{'s' if n > 1 else ''}"
            record(
                f"universe refresh, {label}: analysis + publish, data fetched",
                times[n],
                "s",
                target="< 60 s" if n == 2 else None,
                notes=f"{len(names)} names, {contracts:,} contracts, {len(shard_t)} shards of <= {args.shard_contracts:,} contracts; shard jobs {sum(shard_t):.1f} s in all, finalising job {final_t:.1f} s; {loads[n]}; 2 cores shared",
            )
        # the per-chain baseline: one analyze + one publish per name, on a sample of names, extrapolated
        from flows.chain import Chain
        from flows.gamma import analyze
        from flows.sources import sample_universe
        from jobs.tasks.gamma import gamma_params

        exp = sample_universe.expiry_calendar(NOW.date())
        sample = names.sample(min(args.baseline_names, len(names)), random_state=1)
        t_an = t_pub = 0.0
        mem0 = used(conn)
        bl_load = load()
        for row in sample.itertuples(index=False):
            spot, c = sample_universe.chain_table(row, NOW, settings.service.sample_seed, exp)
            chain = Chain(row.symbol, spot, NOW.tz_convert("UTC"), "sample", c)
            t0 = time.perf_counter()
            rep = analyze(chain, gamma_params(settings, row.symbol, NOW))
            t_an += time.perf_counter() - t0
            t0 = time.perf_counter()
            head = {**rep.headline, "sample": True}
            store.publish(
                f"gamma.{row.symbol}",
                {
                    t: getattr(rep, t)
                    for t in (
                        "by_strike",
                        "by_expiry",
                        "grid",
                        "profile",
                        "hedge_flow",
                        "sensitivity",
                        "contracts",
                        "dropped",
                    )
                },
                as_of=NOW,
                source="sample",
                sample=True,
                headline=head,
            )
            t_pub += time.perf_counter() - t0
        mem_per_name = (used(conn) - mem0) / len(sample)
        scale = contracts / sample["contracts"].sum()
        baseline_s = t_an * scale + t_pub * len(names) / len(sample)
        baseline_mb = mem_per_name * len(names) / 1e6
        print(
            f"per-chain baseline ({len(sample)} names, analysis scaled by contracts x{scale:.1f}, publish by names): analysis {t_an * scale:.0f} s + publish {t_pub * len(names) / len(sample):.0f} s = {baseline_s:.0f} s in one process; Redis {baseline_mb:.0f} MB per refresh ({bl_load})"
        )
        record(
            "per-chain baseline: flows.gamma.analyze + full publish per name, one process (extrapolated)",
            baseline_s,
            "s",
            notes=f"{len(sample)} sampled names: analysis {t_an:.1f} s scaled by contracts x{scale:.1f}, publish {t_pub:.1f} s scaled by names; {bl_load}",
        )
        if 2 in times:
            RECORDS[
                [r["benchmark"] for r in RECORDS].index(
                    "universe refresh, 2 workers: analysis + publish, data fetched"
                )
            ].update(
                baseline="per-chain baseline (same run)",
                baseline_figure=round(baseline_s, 4),
                ratio=round(times[2] / baseline_s, 4),
            )
        t1 = times.get(1)
        if t1:
            for n, t in sorted(times.items()):
                print(f"  speed-up vs 1 worker at {n or 'in-process'} workers: {t1 / t:.2f}x")
            if 2 in times:
                record(  # a ratio of two times: the times themselves go in the notes
                    "universe refresh speed-up, 2 workers vs 1",
                    t1 / times[2],
                    "x",
                    notes=f"1 worker {t1:.2f} s, 2 workers {times[2]:.2f} s (same run); {loads[2]}; two workers on two shared cores",
                )
                s = min(1.0, max(0.0, 2 * times[2] / t1 - 1.0))  # Amdahl: T2/T1 = s + (1 - s)/2
                proj = {k: t1 * (s + (1 - s) / k) for k in (4, 8, 16)}
                print(
                    f"  serial share (Amdahl, from 1 and 2 workers) {s:.2f}; projected: "
                    + ", ".join(f"{k} workers {v:.1f} s (one core each)" for k, v in proj.items())
                )
                for k, v in proj.items():
                    record(
                        f"universe refresh projected, {k} workers (Amdahl from 1 and 2 workers)",
                        v,
                        "s",
                        notes=f"serial share {s:.2f} measured between 1 and 2 workers; assumes one free core per worker and a Redis that keeps up",
                    )
        # Redis: what one refresh adds, the peak, the table and a year of its history
        base_store = ResultStore(conn)
        meta = base_store.meta("universe.table")
        table_bytes = bytes_of(conn, "universe.table", meta)
        focus_bytes = sum(
            bytes_of(conn, f"universe.{s}", base_store.meta(f"universe.{s}"))
            for s in settings.universe.focus
        )
        rq_bytes = sum(int(conn.memory_usage(k) or 0) for k in conn.scan_iter("rq:*"))
        per_refresh = max(added.values()) if added else 0
        print(
            f"Redis: one refresh adds {per_refresh / 1e6:.1f} MB (measured used_memory, the worst of the runs: {', '.join(f'{n} workers +{b / 1e6:.1f} MB' for n, b in added.items())}); universe.table {table_bytes / 1e6:.2f} MB + focus names {focus_bytes / 1e6:.2f} MB + RQ records {rq_bytes / max(1, len(times)) / 1e6:.2f} MB"
        )
        print(
            f"  peak while a round runs (staged chains): +{peak / 1e6:.1f} MB, deleted when the round is published"
        )
        record(
            "Redis memory added by one universe refresh",
            per_refresh / 1e6,
            "MB",
            target="< 60 MB",
            baseline="per-chain baseline: full tables per name (same run, extrapolated)",
            baseline_figure=baseline_mb,
            notes=f"used_memory after MEMORY PURGE, before and after a refresh (results, history, RQ records): universe.table {table_bytes / 1e6:.2f} MB, {len(settings.universe.focus)} focus names {focus_bytes / 1e6:.2f} MB",
        )
        record(
            "Redis peak while a round runs (staged chains)",
            peak / 1e6,
            "MB",
            notes=f"{contracts:,} contracts staged as Arrow (zstd), deleted when the round is published",
        )
        record(
            "universe.table: one version in Redis",
            table_bytes / 1e6,
            "MB",
            notes=f"{meta.rows:,} rows; MEMORY USAGE of its tables and meta",
        )
        # a year of history, measured: 252 versions (one refresh per session)
        current = base_store.read("universe.table")
        m0 = used(conn)
        t0 = time.perf_counter()
        for d in range(1, 252):
            as_of = pd.Timestamp(current.meta.as_of) - pd.Timedelta(days=d)
            store.publish(
                "universe.table",
                current.tables,
                as_of=as_of,
                source=current.meta.source,
                sample=True,
                headline={**current.meta.headline, "round": f"history-{d}"},
                computed_at=as_of.to_pydatetime(),
            )
        t_hist = time.perf_counter() - t0
        year = (used(conn) - m0) + table_bytes
        kept = len(store.history("universe.table"))
        print(
            f"  a year of universe.table history, measured: 252 versions (one per session) {year / 1e9:.3f} GB ({kept} versions kept; published in {t_hist:.0f} s)"
        )
        for per_day in (1, 4, 16):
            print(f"    at {per_day} refresh(es) per session: {year * per_day / 1e9:.2f} GB")
        record(
            "a year of universe.table history, 1 refresh per session (252 versions, measured)",
            year / 1e9,
            "GB",
            target="<= 2 GB",
            notes=f"{kept} versions held; 4 per session: {year * 4 / 1e9:.2f} GB, 16 per session: {year * 16 / 1e9:.2f} GB (scaled)",
        )
        # the page: the ranking callback through the Dash app's endpoint (filter, rank, JSON)
        from dashboard.app import create_app

        app = create_app()
        client = app.server.test_client()
        n_rows = len(current.tables["names"])

        def post(
            rank: str, sectors: list[str] | None, basket: str, regime: str
        ) -> tuple[float, int]:
            body = {
                "output": ranking_output(),
                "outputs": [{"id": i, "property": p} for i, p in RANKING_OUTPUTS],
                "inputs": [
                    {"id": "un-version", "property": "data", "value": meta.version},
                    {"id": "un-rank", "property": "value", "value": rank},
                    {"id": "un-sector", "property": "value", "value": sectors},
                    {"id": "un-basket", "property": "value", "value": basket},
                    {"id": "un-regime", "property": "value", "value": regime},
                ],
                "changedPropIds": ["un-rank.value"],
                "state": [],
            }
            t0 = time.perf_counter()
            r = client.post("/_dash-update-component", json=body)
            dt = time.perf_counter() - t0
            assert r.status_code == 200, r.data[:300]
            return dt, len(r.get_json()["response"]["un-grid"]["rowData"])

        post("gex", None, "", "")  # the first read decodes the table (once per version and process)
        page_load = load()
        for label, a in (
            (f"rank {n_rows:,} names by |net GEX|", ("gex", None, "", "")),
            ("rank by % of ADV", ("adv", None, "", "")),
            ("sector + basket filter", ("adv", ["Information Technology"], "semis", "")),
            ("regime filter", ("gex", None, "", "short gamma")),
        ):
            ts, rows = [], 0
            for _ in range(9):
                dt, rows = post(*a)
                ts.append(dt)
            print(
                f"page ranking callback (POST /_dash-update-component), {label}: median {np.median(ts) * 1e3:.0f} ms, max {max(ts) * 1e3:.0f} ms ({rows:,} of {n_rows:,} rows returned)"
            )
            record(
                f"Single names page: {label} (server time of the callback request)",
                float(np.median(ts) * 1e3),
                "ms",
                target="< 300 ms",
                notes=f"median of 9 POSTs to /_dash-update-component (filter, rank, JSON of {rows:,} rows); max {max(ts) * 1e3:.0f} ms; {page_load}",
            )
    finally:
        server.stop()
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(RECORDS, indent=2) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)} ({len(RECORDS)} records)")


if __name__ == "__main__":
    main()
