"""Benchmark: every real TFF file in ``../shared/data/cftc/tff_futures_only/`` (2017-2026) parsed
and every market's history computed (:mod:`flows.futures_positioning`); target < 0.5 s.

Run ``python -m bench.bench_futures_positioning [--repeat N] [--quick]`` (records in ``bench/results/``).  The files' bytes are
read from disk once; each run decodes them (:func:`flows.sources.textio.decode_text`), parses the
15 markets of the markets table with their unit text
(:func:`flows.sources.cftc_files.parse_report`, ``units=True``), concatenates and runs
:func:`flows.futures_positioning.analyse` (positions, 1/3/5-year statistics of 15 markets x 5
trader classes, exposure, extremes, crowding flags, headline).  Prints the median wall and CPU
(process) time of each step and of the whole (CPU because wall time on a shared machine is
noisy), and the wide rows of the CLI (:func:`flows.futures_positioning.wide`) separately.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import pandas as pd

from bench.harness import finish, value_figure
from flows import futures_positioning as fp
from flows.sources import cftc_files, tff_markets
from flows.sources.textio import decode_text

DATA = (
    Path(
        os.environ.get(
            "FLOWDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    / "cftc"
    / "tff_futures_only"
)
TARGET_S = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    args = parser.parse_args()
    if args.quick:
        args.repeat = min(args.repeat, 3)
    files = [(p.name, p.read_bytes()) for p in sorted(DATA.glob("*.txt"))]
    if not files:
        raise SystemExit(f"no TFF files in {DATA} (set FLOWDESK_SHARED_DATA)")
    markets = tff_markets.load()
    codes = list(markets["code"])
    mb = sum(len(b) for _, b in files) / 1e6

    def parse() -> pd.DataFrame:
        frames = []
        for name, raw in files:
            text = decode_text(raw, name).text
            frame, _ = cftc_files.parse_report(text, "tff", name, codes, coverage=False, units=True)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    steps = ("parse", "analyse", "total", "wide")
    wall: dict[str, list[float]] = {k: [] for k in steps}
    cpu: dict[str, list[float]] = {k: [] for k in steps}
    res = frame = None
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        frame = parse()
        t1, c1 = time.perf_counter(), time.process_time()
        res = fp.analyse(frame, markets)
        t2, c2 = time.perf_counter(), time.process_time()
        rows = fp.wide(res.positions, res.reports)
        t3, c3 = time.perf_counter(), time.process_time()
        for k, (w, c) in {
            "parse": (t1 - t0, c1 - c0),
            "analyse": (t2 - t1, c2 - c1),
            "total": (t2 - t0, c2 - c0),
            "wide": (t3 - t2, c3 - c2),
        }.items():
            wall[k].append(w)
            cpu[k].append(c)
    assert res is not None and frame is not None
    med = {k: statistics.median(v) for k, v in wall.items()}
    medc = {k: statistics.median(v) for k, v in cpu.items()}
    what = f"{len(files)} TFF files ({mb:.1f} MB), {len(frame)} rows of {len(markets)} markets, {res.info['weeks']} report weeks; positions {len(res.positions)} rows; {args.repeat} runs"
    figs = [
        value_figure(
            "futures positioning: decode + parse (15 markets)",
            med["parse"] * 1e3,
            "ms",
            note=f"{what}; CPU {medc['parse'] * 1e3:.0f} ms",
        ),
        value_figure(
            "futures positioning: analyse every market's history",
            med["analyse"] * 1e3,
            "ms",
            note=f"CPU {medc['analyse'] * 1e3:.0f} ms",
        ),
        value_figure(
            "futures positioning: parse + analyse",
            med["total"] * 1e3,
            "ms",
            target=f"< {TARGET_S * 1e3:g} ms",
            note=f"CPU {medc['total'] * 1e3:.0f} ms",
        ),
        value_figure(
            f"futures positioning: wide rows for the CLI ({len(rows)} rows, not in the total)",
            med["wide"] * 1e3,
            "ms",
            note=f"CPU {medc['wide'] * 1e3:.0f} ms",
        ),
    ]
    finish("bench_futures_positioning", figs, area="CFTC positioning", quick=args.quick)


if __name__ == "__main__":
    main()
