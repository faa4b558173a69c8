"""Benchmark: leveraged-ETF scenario grid, 5,000 funds x 41 moves (target: under 5 ms median).

Run: ``python -m bench.bench_letf [--quick]`` (records in ``bench/results/bench_letf.json``).
The grid's baseline is a plain per-fund sum (:func:`plain_sum`) measured in the same run.
Median wall times of

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

import numpy as np
import pandas as pd

from bench.harness import compare, finish, quick_arg, time_figure, timed
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


def plain_sum(funds: pd.DataFrame, moves: np.ndarray) -> pd.DataFrame:
    """The baseline: a plain per-fund sum, ``A (L^2 - L) * 1 %`` per fund grouped by underlying
    (pandas ``groupby().sum()``), times every move of the grid."""
    lev = funds["leverage"].to_numpy(dtype=float)
    per = funds["aum_usd"].to_numpy(dtype=float) * (lev * lev - lev) * 0.01
    summed = pd.Series(per, index=funds["underlying"]).groupby(level=0, sort=False).sum()
    return pd.DataFrame(np.outer(summed.to_numpy(), moves), index=summed.index, columns=moves)


def main() -> None:
    quick = quick_arg()
    reps = (lambda n: max(5, n // 5)) if quick else (lambda n: n)
    rng = np.random.default_rng(1)
    funds = letf.classify(_universe(rng), {})
    flows = letf.fund_flows(funds)
    per = flows["per_1pct_usd"].to_numpy()
    moves_frame = pd.DataFrame(
        np.outer(MOVES, np.ones(N_UNDERLYINGS)), columns=[f"U{i:03d}" for i in range(N_UNDERLYINGS)]
    )
    print(
        f"leveraged-ETF scenario benchmark: {N_FUNDS:,} funds, {N_UNDERLYINGS} underlyings, {len(MOVES)} moves"
    )
    names = pd.DataFrame(
        {
            "ticker": [f"F{i:05d}" for i in range(N_FUNDS)],
            "name": rng.choice(
                [
                    "Direxion Daily X Bull 3X Shares",
                    "ProShares Ultra X",
                    "Tradr 2X Long X Monthly ETF",
                    "Roundhill X WeeklyPay ETF",
                    "Innovator X Accelerated ETF - Quarterly",
                    "Some X Fund",
                ],
                N_FUNDS,
            ),
            "issuer": rng.choice(
                ["Direxion", "ProShares", "Tradr ETFs", "Roundhill", "Innovator", "Other"], N_FUNDS
            ),
        }
    )
    table = letf_universe.reset_table()
    # the grid and its baseline agree before anything is timed
    mine = letf.scenario_table(flows, MOVES).drop(index="TOTAL")
    base = plain_sum(funds, MOVES)
    assert np.allclose(mine.to_numpy(), base.loc[mine.index].to_numpy(), rtol=1e-12, atol=1e-3)
    t_table, t_plain = compare(
        lambda: letf.scenario_table(flows, MOVES), lambda: plain_sum(funds, MOVES), reps(200)
    )
    t_whole, t_plain2 = compare(
        lambda: letf.scenario_table(letf.fund_flows(funds), MOVES),
        lambda: plain_sum(funds, MOVES),
        reps(50),
    )
    plain = f"plain per-fund sum (A (L^2 - L) 1 % per fund, pandas groupby-sum by underlying, x {len(MOVES)} moves)"
    size = f"{N_FUNDS:,} funds, {N_UNDERLYINGS} underlyings, {len(MOVES)} moves"
    figs = [
        time_figure(
            "letf: scenario_table from fund flows (underlyings x moves, wide)",
            t_table,
            target_ms=5,
            baseline=plain,
            baseline_t=t_plain,
            note=size,
        ),
        time_figure(
            "letf: fund_flows + scenario_table (per-fund step and the grid)",
            t_whole,
            baseline=plain,
            baseline_t=t_plain2,
            note=size,
        ),
        time_figure(
            "letf: classify_reset (5,000 funds, name and family rules + curated table)",
            timed(lambda: letf_reset.classify_reset(names, table), reps(20))[0],
        ),
        time_figure(
            "letf: scenario_matrix (funds x moves outer product)",
            timed(lambda: letf.scenario_matrix(per, MOVES), reps(200))[0],
        ),
        time_figure(
            "letf: scenario_grid (the grid in long format, the published table)",
            timed(lambda: letf.scenario_grid(flows, MOVES), reps(50))[0],
            target_ms=5,
        ),
        time_figure(
            "letf: scenario_flows (41 scenarios x 400 underlyings given as moves)",
            timed(lambda: letf.scenario_flows(flows, moves_frame), reps(200))[0],
        ),
        time_figure(
            "letf: fund_flows + by_underlying (the whole per-fund and per-underlying step)",
            timed(lambda: letf.by_underlying(letf.fund_flows(funds)), reps(30))[0],
        ),
    ]
    finish("bench_letf", figs, area="Leveraged ETFs", quick=quick)


if __name__ == "__main__":
    main()
