"""Benchmark: parse every real CFTC/ECB file in ``../shared/data/cftc/`` and compute every week.

Run: ``/tmp/venv/bin/python bench/bench_cftc.py [--repeat N]``.  Prints the median wall time of
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
    legacy = pd.concat([cftc_files.parse_legacy(t, str(p), codes) for p, t in legacy_texts], ignore_index=True)
    tff = pd.concat([cftc_files.parse_tff(t, str(p), codes) for p, t in tff_texts], ignore_index=True)
    fx = ecb.parse_hist_csv(fx_text, "eurofxref-hist.csv", currencies=None)
    return legacy, tff, fx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
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
    print(f"input: {size / 1e6:.1f} MB of text, {len(texts[0])} legacy + {len(texts[1])} TFF files + ECB history")
    print(f"weeks: {len(res.weekly)} ({res.info['partial_weeks']} partial), currencies rows: {len(res.currencies)}")
    print(f"parse   median {statistics.median(parse_t) * 1000:7.1f} ms  (min {min(parse_t) * 1000:.1f})")
    print(f"compute median {statistics.median(compute_t) * 1000:7.1f} ms  (min {min(compute_t) * 1000:.1f})")
    print(f"total   median {statistics.median(total_t) * 1000:7.1f} ms  (target < 500 ms), repeats={args.repeat}")
    # On a shared, loaded machine wall time includes waiting for a core: CPU time is the cost.
    print(f"CPU time median: parse {statistics.median(cpu_p) * 1000:.1f} ms, compute {statistics.median(cpu_c) * 1000:.1f} ms, load average {os.getloadavg()[0]:.1f}")
    w = res.weekly.set_index("as_of")
    print(f"check: net_usd_wide9 on 2025-01-14 = USD {w.loc['2025-01-14', 'net_usd_wide9'] / 1e9:.2f}bn (published ~35.2bn)")


if __name__ == "__main__":
    main()
