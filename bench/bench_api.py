"""Benchmark: the HTTP API and the store's bytes (issue 17 section 4).

Publishes the SAMPLE results (gamma for the configured underlyings, leveraged ETFs, CFTC, the
board) into a private embedded Redis, then measures through the Flask app in this process (the
WSGI test client: the server's own cost, no network):

* ``GET /api/v1/results``: requests per second (one client, sequential);
* ``GET /api/v1/results/board.scenarios?table=grid``: the board's scenario grid as JSON (the
  default page and every row) and as Arrow (the stored zstd bytes served as they are, and the
  uncompressed stream with the metadata in its schema), ms and bytes;
* the bytes one version of each result keeps in Redis (the tables' Arrow IPC, zstd, plus the
  metadata JSON): the full latest version of ``gamma.SPX`` and a slimmed older one, the inputs of
  the Redis sizing rule in the README.

Baseline: the same JSON answer built the way the API did before paging (every row of the table,
decoded from the whole result) is not kept in code; the before figures are in the report of the
change.  Run ``python -m bench.bench_api [--quick]`` (records in ``bench/results/``).
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

JOBS = ("gamma_morning", "letf_preopen", "cftc_weekly", "board_morning")


def _median_ms(fn, n: int) -> tuple[float, object]:
    out = fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), out


def main() -> None:
    quick = quick_arg()
    from jobs.config import load_settings
    from jobs.redis_server import start_embedded_redis
    from jobs.runner import run_job
    from jobs.store import ResultStore, connect, keys

    server = start_embedded_redis(quiet=True)
    figs = []
    try:
        os.environ["REDIS_URL"] = server.url
        root = Path(__file__).resolve().parents[1]
        os.environ.setdefault("FLOWDESK_CONFIG", str(root / "config.toml"))
        settings = load_settings(root / "config.toml")
        store = ResultStore(connect(server.url))
        now = datetime.now(ZoneInfo("America/New_York"))
        for job in JOBS:
            record = run_job(settings, store, job, now=now, sleep=lambda _s: None)
            assert record.status == "ok", (job, record.error)
        from dashboard.app import create_app

        client = create_app().server.test_client()
        n = 30 if quick else 100
        assert client.get("/api/v1/results").status_code == 200
        t0 = time.perf_counter()
        for _ in range(n):
            client.get("/api/v1/results")
        rps = n / (time.perf_counter() - t0)
        figs.append(
            value_figure(
                "api: GET /api/v1/results (every result's metadata, freshness, declared units)",
                rps,
                "req/s",
                target=">= 100 req/s",
                higher_is_better=True,
                note=f"{len(store.names())} results; one sequential client, Flask test client (server cost, no network); {n} requests",
            )
        )

        grid_rows = (
            store.meta("board.scenarios").rows
            if store.meta("board.scenarios").tables[0] == "grid"
            else len(store.read("board.scenarios", tables=["grid"]).frame)
        )
        reps = 7 if quick else 21
        url = "/api/v1/results/board.scenarios?table=grid"
        ms_page, resp_page = _median_ms(lambda: client.get(url), reps)
        ms_all, resp_all = _median_ms(lambda: client.get(url + f"&limit={grid_rows}"), reps)
        ms_arrow, resp_arrow = _median_ms(lambda: client.get(url + "&format=arrow"), reps)
        ms_raw, resp_raw = _median_ms(
            lambda: client.get(url + "&format=arrow&compression=zstd"), reps
        )
        for r in (resp_page, resp_all, resp_arrow, resp_raw):
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
        figs += [
            value_figure(
                "api: board scenarios grid as JSON, default page",
                ms_page,
                "ms",
                target="<= 50 ms",
                note=f"{len(resp_page.data) / 1e6:.2f} MB; grid {grid_rows:,} rows",
            ),
            value_figure(
                "api: board scenarios grid as JSON, every row (limit = rows)",
                ms_all,
                "ms",
                baseline="the same grid as Arrow (uncompressed stream with metadata)",
                baseline_value=ms_arrow,
                note=f"{len(resp_all.data) / 1e6:.2f} MB",
            ),
            value_figure(
                "api: board scenarios grid as Arrow (uncompressed stream, metadata in the schema)",
                ms_arrow,
                "ms",
                target="<= 35 ms",
                note=f"{len(resp_arrow.data) / 1e6:.2f} MB",
            ),
            value_figure(
                "api: board scenarios grid as Arrow, the stored zstd bytes as they are",
                ms_raw,
                "ms",
                target="<= 35 ms",
                note=f"{len(resp_raw.data) / 1e6:.3f} MB",
            ),
        ]

        def version_bytes(name: str, version: str) -> int:
            meta_raw = store.redis.get(keys.result_meta(name, version))
            meta = store.meta(name, version=version)
            return len(meta_raw) + sum(
                store.redis.strlen(keys.result_table(name, version, t)) for t in meta.tables
            )

        for name in ("gamma.SPX", "gamma.NDX", "letf.flows", "board.scenarios", "cftc.positioning"):
            if name in store.names():
                figs.append(
                    value_figure(
                        f"store: bytes of one version of {name} (Arrow zstd tables + metadata)",
                        version_bytes(name, store.meta(name).version) / 1e6,
                        "MB",
                        note=f"tables: {', '.join(store.meta(name).tables)}",
                    )
                )
        spx = (
            Path(os.environ.get("FLOWDESK_SHARED_DATA", root.parent / "shared" / "data"))
            / "options"
            / "spx_quotedata_2023-09-14.csv"
        )
        if spx.exists() and hasattr(
            ResultStore, "version_bytes"
        ):  # the sizing rule's G and S on a real full chain
            import logging

            import pandas as pd

            from flows.gamma import analyze
            from flows.sources import cboe_csv
            from jobs.tasks import TaskContext
            from jobs.tasks.gamma import gamma_params, publish_report

            sized = ResultStore(connect(server.url), full_versions=1, history_max_mb=None)
            chain = cboe_csv.parse(spx.read_bytes(), source=str(spx))
            params = gamma_params(settings, "SPX", pd.Timestamp(chain.as_of))
            report = analyze(chain, params)
            ctx = TaskContext(
                settings=settings,
                store=sized,
                now=now,
                job="bench",
                slot="bench",
                log=logging.getLogger("bench"),
            )
            sized.redis.delete(*[k for k in sized.redis.scan_iter(match="*gamma.SPX*")])
            for _ in range(2):
                publish_report(ctx, "SPX", chain, report, False, {}, params)
            (old, g_slim), (_new, g_full) = list(sized.version_bytes("gamma.SPX").items())
            figs.append(
                value_figure(
                    f"store: bytes of a full gamma version, real SPX chain 2023-09-14 ({len(chain.contracts):,} contracts): G",
                    g_full / 1e6,
                    "MB",
                    note="every table; the sizing rule's G (README: Redis sizing)",
                )
            )
            figs.append(
                value_figure(
                    "store: bytes of a slimmed gamma version, same chain: S",
                    g_slim / 1e6,
                    "MB",
                    note=f"headline, by_strike, by_expiry, hedge_flow, sensitivity (slimmed: {', '.join(sized.meta('gamma.SPX', version=old).slimmed)}); the sizing rule's S",
                )
            )

    finally:
        server.stop()
    finish("bench_api", figs, area="API and storage", quick=quick)


if __name__ == "__main__":
    main()
