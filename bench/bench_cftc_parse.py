"""Benchmark: parse every real CFTC file in ``../shared/data/cftc/`` (~20 MB) plus the ECB history.

Run ``/tmp/venv/bin/python bench/bench_cftc_parse.py [--repeat N]``.  Prints the median wall time
and CPU (process) time of each step over ``N`` runs (files are read from disk once; only parsing
is timed).  CPU time is printed too because wall time on a shared, loaded machine is noisy.  Only the
needed columns are read (``usecols``).  The analytics side adds the aggregation timing in
``bench/bench_cftc.py``; the issue's target for parse + aggregate is < 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from flows.sources import cftc_files, ecb

DATA = Path(os.environ.get("FLOWDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "cftc"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    legacy = [(p.name, p.read_text()) for p in sorted((DATA / "legacy_futures_only").glob("*.txt"))]
    tff = [(p.name, p.read_text()) for p in sorted((DATA / "tff_futures_only").glob("*.txt"))]
    fx_text = (DATA / "fx" / "eurofxref-hist.csv").read_text()
    mb = sum(len(t) for _, t in legacy + tff) / 1e6
    codes = list(cftc_files.CURRENCY_CODES)

    def run(codes_filter):
        rows = 0
        for name, text in legacy:
            rows += len(cftc_files.parse_legacy(text, name, codes_filter))
        for name, text in tff:
            rows += len(cftc_files.parse_tff(text, name, codes_filter))
        return rows

    timings: dict[str, list[float]] = {"cot_all_markets": [], "cot_fx_codes": [], "ecb_hist": []}
    cpu: dict[str, list[float]] = {k: [] for k in timings}

    def timed(key: str, fn, *a):
        t, c = time.perf_counter(), time.process_time()
        out = fn(*a)
        timings[key].append(time.perf_counter() - t)
        cpu[key].append(time.process_time() - c)
        return out

    rows_all = rows_fx = 0
    for _ in range(args.repeat):
        rows_all = timed("cot_all_markets", run, None)
        rows_fx = timed("cot_fx_codes", run, codes)
        fx = timed("ecb_hist", ecb.parse_hist_csv, fx_text, "eurofxref-hist.csv")
    print(f"CFTC files: {len(legacy)} legacy + {len(tff)} TFF, {mb:.1f} MB of text; ECB history {len(fx)} days")
    med = {k: statistics.median(v) for k, v in timings.items()}
    medc = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"parse all markets ({rows_all} rows):          median {med['cot_all_markets']:.3f} s wall, {medc['cot_all_markets']:.3f} s CPU")
    print(f"parse the 11 currency codes ({rows_fx} rows):   median {med['cot_fx_codes']:.3f} s wall, {medc['cot_fx_codes']:.3f} s CPU")
    print(f"parse ECB history (11 currencies):          median {med['ecb_hist']:.3f} s wall, {medc['ecb_hist']:.3f} s CPU")
    total, total_c = med["cot_fx_codes"] + med["ecb_hist"], medc["cot_fx_codes"] + medc["ecb_hist"]
    print(f"parse total (currency codes + FX):          median {total:.3f} s wall, {total_c:.3f} s CPU (runs: {args.repeat})")


if __name__ == "__main__":
    main()
