"""Benchmark: leveraged-ETF scenario grid, 5,000 funds x 41 moves (target: under 5 ms median).

Run: ``/tmp/venv/bin/python bench/bench_letf.py``.  Prints median wall times of

* ``scenario_matrix``: the funds x moves outer product (USD, 5,000 x 41);
* ``scenario_table``: per-underlying trade over the grid (indicator-matrix aggregation as a
  weighted bincount, then the outer product; wide DataFrame out) from a ``fund_flows`` frame;
* ``scenario_grid``: the same in long format (string-heavy frame building; published table);
* ``scenario_flows``: 41 scenarios x all underlyings given as a DataFrame of moves;
* ``fund_flows + by_underlying``: the whole per-fund and per-underlying step;
* ``classify_reset``: reset period of 5,000 funds from real-style names and families (name and
  family rules plus the curated table).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd

from flows import letf, letf_reset
from flows.sources import letf_universe

N_FUNDS = 5_000
N_UNDERLYINGS = 400
MOVES = np.linspace(-10.0, 10.0, 41)


def _universe(rng: np.random.Generator) -> pd.DataFrame:
    lev = rng.choice([3.0, 2.0, 1.5, 1.25, -1.0, -2.0, -3.0], N_FUNDS)
    return pd.DataFrame(
        {
            "ticker": [f"F{i:05d}" for i in range(N_FUNDS)],
            "name": "bench fund",
            "underlying": [f"U{i:03d}" for i in rng.integers(0, N_UNDERLYINGS, N_FUNDS)],
            "underlying_asset": "",
            "leverage": lev,
            "asset_class": "equity",
            "aum_usd": rng.lognormal(18, 2, N_FUNDS),
            "reset": "daily",
        }
    )


def _median_ms(fn, repeat: int = 200) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(1)
    funds = letf.classify(_universe(rng), {})
    flows = letf.fund_flows(funds)
    per = flows["per_1pct_usd"].to_numpy()
    moves_frame = pd.DataFrame(np.outer(MOVES, np.ones(N_UNDERLYINGS)), columns=[f"U{i:03d}" for i in range(N_UNDERLYINGS)])
    print(f"leveraged-ETF scenario benchmark: {N_FUNDS:,} funds, {N_UNDERLYINGS} underlyings, {len(MOVES)} moves")
    names = pd.DataFrame(
        {
            "ticker": [f"F{i:05d}" for i in range(N_FUNDS)],
            "name": rng.choice(["Direxion Daily X Bull 3X Shares", "ProShares Ultra X", "Tradr 2X Long X Monthly ETF", "Roundhill X WeeklyPay ETF", "Innovator X Accelerated ETF - Quarterly", "Some X Fund"], N_FUNDS),
            "issuer": rng.choice(["Direxion", "ProShares", "Tradr ETFs", "Roundhill", "Innovator", "Other"], N_FUNDS),
        }
    )
    table = letf_universe.reset_table()
    print(f"  classify_reset (5,000 funds, rules + table)     {_median_ms(lambda: letf_reset.classify_reset(names, table), repeat=20):8.3f} ms median")
    print(f"  scenario_matrix (funds x moves outer product)   {_median_ms(lambda: letf.scenario_matrix(per, MOVES)):8.3f} ms median")
    print(f"  scenario_table (underlyings x moves, wide)      {_median_ms(lambda: letf.scenario_table(flows, MOVES)):8.3f} ms median")
    print(f"  scenario_grid (the same, long format)           {_median_ms(lambda: letf.scenario_grid(flows, MOVES), repeat=50):8.3f} ms median")
    print(f"  scenario_flows (41 scenarios x underlyings)     {_median_ms(lambda: letf.scenario_flows(flows, moves_frame)):8.3f} ms median")
    print(f"  fund_flows + by_underlying (whole step)         {_median_ms(lambda: letf.by_underlying(letf.fund_flows(funds)), repeat=30):8.3f} ms median")
    print("target: under 5 ms median for the 5,000 x 41 grid")


if __name__ == "__main__":
    main()
