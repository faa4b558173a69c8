"""Benchmark: parse every real CFTC/ECB file in ``../shared/data/cftc/`` and compute every week.

Run: ``python -m bench.bench_cftc [--repeat N] [--quick]`` (records in ``bench/results/``).  Measures the median wall time of
(1) parsing (the project's parsers: ``cftc_files.parse_legacy/parse_tff`` with only the needed
columns and codes, ``ecb.parse_hist_csv``), (2) computing every week's aggregates
(``flows.cftc.analyse``: nets, USD values, baskets, decomposition, z/percentile/COT index,
peaks, crowding, unwind) and (3) both.  Target: under 0.5 s for both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import pandas as pd

from bench.harness import finish, value_figure
from flows import cftc
from flows.sources import cftc_files, ecb

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("FLOWDESK_SHARED_DATA", ROOT.parent / "shared" / "data")) / "cftc"
BASKETS = {
    "reuters6": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD"],
    "wide9": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "MXN", "BRL"],
}


def read_texts() -> tuple[list[tuple[Path, str]], list[tuple[Path, str]], str]:
    legacy = [(p, p.read_text()) for p in sorted((DATA / "legacy_futures_only").glob("*.txt"))]
    tff = [(p, p.read_text()) for p in sorted((DATA / "tff_futures_only").glob("*.txt"))]
    return legacy, tff, (DATA / "fx" / "eurofxref-hist.csv").read_text()


def parse(legacy_texts, tff_texts, fx_text):
    codes = list(cftc.contract_table()["code"])
    legacy = pd.concat(
        [cftc_files.parse_legacy(t, str(p), codes) for p, t in legacy_texts], ignore_index=True
    )
    tff = pd.concat(
        [cftc_files.parse_tff(t, str(p), codes) for p, t in tff_texts], ignore_index=True
    )
    fx = ecb.parse_hist_csv(fx_text, "eurofxref-hist.csv", currencies=None)
    return legacy, tff, fx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="3 repeats")
    args = ap.parse_args()
    if not (DATA / "fx" / "eurofxref-hist.csv").exists():
        raise SystemExit(
            f"no CFTC files in {DATA} (set FLOWDESK_SHARED_DATA to the shared data folder)"
        )
    if args.quick:
        args.repeat = min(args.repeat, 3)
    texts = read_texts()
    size = sum(len(t) for _, t in texts[0] + texts[1]) + len(texts[2])
    parse_t, compute_t, total_t, cpu_p, cpu_c = [], [], [], [], []
    res = None
    for _ in range(args.repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        legacy, tff, fx = parse(*texts)
        c1, t1 = time.process_time(), time.perf_counter()
        res = cftc.analyse(legacy, tff, fx, BASKETS)
        c2, t2 = time.process_time(), time.perf_counter()
        parse_t.append(t1 - t0)
        compute_t.append(t2 - t1)
        total_t.append(t2 - t0)
        cpu_p.append(c1 - c0)
        cpu_c.append(c2 - c1)
    assert res is not None
    w = res.weekly.set_index("as_of")
    what = f"{size / 1e6:.1f} MB of text, {len(texts[0])} legacy + {len(texts[1])} TFF files + ECB history; {len(res.weekly)} weeks ({res.info['partial_weeks']} partial); {args.repeat} runs"
    med = statistics.median
    figs = [
        value_figure(
            "cftc: parse the currency markets of every COT file + the ECB history",
            med(parse_t) * 1e3,
            "ms",
            note=f"{what}; CPU {med(cpu_p) * 1e3:.1f} ms",
        ),
        value_figure(
            "cftc: analyse every week (nets, USD, baskets, statistics, peaks, unwind)",
            med(compute_t) * 1e3,
            "ms",
            note=f"CPU {med(cpu_c) * 1e3:.1f} ms",
        ),
        value_figure(
            "cftc: parse + analyse",
            med(total_t) * 1e3,
            "ms",
            target="< 500 ms",
            note=f"net_usd_wide9 on 2025-01-14 = USD {w.loc['2025-01-14', 'net_usd_wide9'] / 1e9:.2f} bn (published about 35.2 bn)",
        ),
    ]
    finish("bench_cftc", figs, area="CFTC positioning", quick=args.quick)


if __name__ == "__main__":
    main()
