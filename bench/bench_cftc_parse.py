"""Benchmark: parse every real CFTC file in ``../shared/data/cftc/`` (~20 MB) plus the ECB history.

Run ``python -m bench.bench_cftc_parse [--repeat N] [--quick]`` (records in ``bench/results/``).  Measures the median wall time
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

from bench.harness import finish, value_figure
from flows.sources import cftc_files, ecb

DATA = (
    Path(
        os.environ.get(
            "FLOWDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    / "cftc"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    args = parser.parse_args()
    if not (DATA / "fx" / "eurofxref-hist.csv").exists():
        raise SystemExit(
            f"no CFTC files in {DATA} (set FLOWDESK_SHARED_DATA to the shared data folder)"
        )
    if args.quick:
        args.repeat = min(args.repeat, 3)
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
    med = {k: statistics.median(v) for k, v in timings.items()}
    medc = {k: statistics.median(v) for k, v in cpu.items()}
    total, total_c = med["cot_fx_codes"] + med["ecb_hist"], medc["cot_fx_codes"] + medc["ecb_hist"]
    what = f"{len(legacy)} legacy + {len(tff)} TFF files, {mb:.1f} MB of text; ECB history {len(fx)} days; {args.repeat} runs"
    figs = [
        value_figure(
            f"cftc parse: every market ({rows_all:,} rows)",
            med["cot_all_markets"] * 1e3,
            "ms",
            note=f"{what}; CPU {medc['cot_all_markets'] * 1e3:.0f} ms",
        ),
        value_figure(
            f"cftc parse: the 11 currency codes ({rows_fx:,} rows)",
            med["cot_fx_codes"] * 1e3,
            "ms",
            note=f"CPU {medc['cot_fx_codes'] * 1e3:.0f} ms",
        ),
        value_figure(
            "cftc parse: ECB history (11 currencies)",
            med["ecb_hist"] * 1e3,
            "ms",
            note=f"CPU {medc['ecb_hist'] * 1e3:.0f} ms",
        ),
        value_figure(
            "cftc parse: currency codes + FX", total * 1e3, "ms", note=f"CPU {total_c * 1e3:.0f} ms"
        ),
    ]
    finish("bench_cftc_parse", figs, area="CFTC positioning", quick=args.quick)


if __name__ == "__main__":
    main()
