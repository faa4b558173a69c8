"""Benchmark the dealer gamma engine on the real SPX file (about 20,000 contracts).

Run: ``/tmp/venv/bin/python bench/bench_gamma.py [--runs N] [--file PATH]``

Prints median wall time over N runs of
* parse: the quote-table CSV bytes -> Chain,
* whole: parse + analyze (spot GEX, 801-point profile, flips, walls, hedge-flow curve, the
  sensitivity table under both conventions),
* profile: the 801-point model profile alone (contracts with OI and IV, ±20 % window),
and the peak memory: traced Python allocations (tracemalloc) of one whole run and the process's
maximum resident set size. Targets: whole < 0.25 s, profile < 50 ms, peak < 300 MB.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.gamma import GammaParams, analyze, gex_profile  # noqa: E402
from flows.sources import cboe_csv  # noqa: E402

DEFAULT_FILE = ROOT.parent / "shared" / "data" / "options" / "spx_quotedata_2023-09-14.csv"


def timed(fn, runs: int) -> tuple[float, object]:
    """Median wall time (s) of ``runs`` calls; the median CPU time of this process goes in CPU."""
    times, cpu = [], []
    out = None
    for _ in range(runs):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU[fn] = statistics.median(cpu)
    return statistics.median(times), out


CPU: dict = {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = ap.parse_args()
    raw = args.file.read_bytes()
    params = GammaParams(r=0.045, q=0.013)

    def whole():
        return analyze(cboe_csv.parse(raw, source=str(args.file)), params)

    whole()  # warm-up (imports, caches)
    def parse():
        return cboe_csv.parse(raw, source=str(args.file))

    t_parse, chain = timed(parse, args.runs)

    def analyze_only():
        return analyze(chain, params)

    t_analyze, _ = timed(analyze_only, args.runs)
    t_whole, report = timed(whole, args.runs)

    c = report.contracts
    m = (c["open_interest"] > 0) & (c["iv_used"] > 0) & (c["t_years"] > 0)
    K, T, iv = (c.loc[m, col].to_numpy() for col in ("strike", "t_years", "iv_used"))
    w = np.where(c.loc[m, "type"] == "C", 1.0, -1.0) * c.loc[m, "open_interest"].to_numpy()
    spots = chain.spot * np.linspace(0.8, 1.2, 801)
    def profile():
        return gex_profile(chain.spot, K, T, iv, w, spots, params.r, params.q)

    t_profile, prof = timed(profile, args.runs)
    assert np.allclose(prof, report.profile["net_gex_usd_per_1pct"].to_numpy(), rtol=1e-9, atol=1.0)

    gc.collect()
    tracemalloc.start()
    whole()
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    h = report.headline
    print(f"file: {args.file.name}  contracts: {len(chain.contracts):,} ({h['contracts']:,} alive, {int(m.sum()):,} in the model)  runs: {args.runs}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (CPU time is the robust figure on a busy machine)")
    print(f"parse                      median {t_parse * 1e3:8.1f} ms wall  {CPU[parse] * 1e3:8.1f} ms CPU")
    print(f"analyze (no parse)         median {t_analyze * 1e3:8.1f} ms wall  {CPU[analyze_only] * 1e3:8.1f} ms CPU")
    print(f"whole (parse + analyze)    median {t_whole * 1e3:8.1f} ms wall  {CPU[whole] * 1e3:8.1f} ms CPU   target < 250 ms")
    print(f"801-point profile alone    median {t_profile * 1e3:8.1f} ms wall  {CPU[profile] * 1e3:8.1f} ms CPU   target < 50 ms")
    print(f"peak traced allocations    {peak_traced / 2**20:8.1f} MB   (tracemalloc, one whole run)")
    print(f"max resident set size      {max_rss_mb:8.1f} MB   target < 300 MB (whole process incl. interpreter and libraries)")
    print(f"net GEX {h['net_gex_usd_per_1pct'] / 1e9:,.2f} bn USD per 1%, flip {h['flip']}, flips {len(h['flips'])}, walls C {h['call_wall']} / P {h['put_wall']}")


if __name__ == "__main__":
    main()
