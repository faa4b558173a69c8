"""Benchmark: the systematic engines over 30 years of daily data and a 41-point scenario grid
(target: each engine under 50 ms median; the whole systematic refresh under 1 s).

Run: ``python -m bench.bench_systematic [--quick]`` (records in ``bench/results/``).  Data: the SAMPLE generator's 30 years
(7,560 sessions) of index closes, written in the Cboe layout, and its VX settlements for every
monthly contract over the same years (written per contract in the CFE layout).  Prints medians of

* ``volcontrol.analyze``: EWMA (0.94/0.97) exposure history, the next sessions' flows, the
  alternating tapes and the 41-point one-day shock grid over 1 day / 1 week / 2 weeks;
* ``cta.analyze``: three lookback signals, EWMA vol, positions, trigger levels and days to flip,
  flat/up/down tapes over 1 week and 1 month, the 41-point shock grid;
* ``vixetp.analyze``: the short- and mid-term VIX futures indices over 30 years, one day's
  per-fund trades and the 41-point VX move grid;
* the parsers: the 30-year Cboe price file, and every VX contract file (~360);
* the daily refresh: the 30-year price file, the VX contracts a live refresh fetches (the 11
  monthly contracts from two months back to eight ahead), then the three engines;
* the full replay: both 30-year histories parsed, then the three engines.
"""

from __future__ import annotations

import statistics
import time

from bench.harness import finish, quick_arg, value_figure
from flows import cta, vixetp, volcontrol
from flows.sources import cboe_prices, cboe_vx, sample_prices, vixetp_universe

END = "2026-07-24"
SEED = 20240105
SESSIONS = 30 * 252
GRID = [x / 2 for x in range(-20, 21)]  # 41 one-day shocks, percent
VX_GRID = [float(x) for x in range(-40, 41, 2)]  # 41 VX moves, percent


QUICK = quick_arg()


def _median_ms(fn, repeat: int = 30) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the machine is shared: CPU time
    is the steadier figure when other work runs), ms."""
    if QUICK:
        repeat = max(2, repeat // 5)
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    path = sample_prices.simulate("SPX", end=END, seed=SEED, sessions=SESSIONS)
    price_raw = sample_prices.cboe_file(path)
    vx_files = sample_prices.vx_files(sample_prices.vx_curve(path, seed=SEED), "clean")
    prices, _ = cboe_prices.parse(price_raw, "bench", "SPX")
    vx, _ = cboe_vx.combine([cboe_vx.parse(raw, name) for name, raw in vx_files.items()])
    universe = vixetp_universe.read()
    assets = sample_prices.sample_etp_assets(universe, SEED, day=END)
    print(
        f"systematic engines benchmark: {len(prices):,} sessions ({prices['date'].iloc[0].date()} .. {prices['date'].iloc[-1].date()}), {len(vx):,} VX settlements in {len(vx_files)} contract files, 41-point grids"
    )

    def vc() -> None:
        volcontrol.analyze(prices, aum=300e9, shock_grid_pct=GRID)

    def vc_sma() -> None:
        volcontrol.analyze(prices, aum=300e9, params=volcontrol.SMA, shock_grid_pct=GRID)

    def trend() -> None:
        cta.analyze(prices, aum=50e9, shock_grid_pct=GRID)

    def trend_ma() -> None:
        cta.analyze(
            prices,
            aum=50e9,
            params=cta.CtaParams(signals=cta.DEFAULT_SIGNALS + cta.MA_SIGNALS),
            shock_grid_pct=GRID,
        )

    def etp() -> None:
        vixetp.analyze(vx, universe, assets, date=END, moves_pct=VX_GRID)

    def parse_prices() -> None:
        cboe_prices.parse(price_raw, "bench", "SPX")

    def parse_vx() -> None:
        cboe_vx.combine([cboe_vx.parse(raw, name) for name, raw in vx_files.items()])

    current = {
        q.url.rsplit("/", 1)[-1] for q in cboe_vx.queries_for(END)
    }  # what a daily refresh fetches
    today_files = {k: v for k, v in vx_files.items() if k in current}

    def daily() -> None:
        p, _ = cboe_prices.parse(price_raw, "bench", "SPX")
        v, _ = cboe_vx.combine([cboe_vx.parse(raw, name) for name, raw in today_files.items()])
        volcontrol.analyze(p, aum=300e9, shock_grid_pct=GRID)
        cta.analyze(p, aum=50e9, shock_grid_pct=GRID)
        vixetp.analyze(v, universe, assets, date=END, moves_pct=VX_GRID)

    def refresh() -> None:
        p, _ = cboe_prices.parse(price_raw, "bench", "SPX")
        v, _ = cboe_vx.combine([cboe_vx.parse(raw, name) for name, raw in vx_files.items()])
        volcontrol.analyze(p, aum=300e9, shock_grid_pct=GRID)
        cta.analyze(p, aum=50e9, shock_grid_pct=GRID)
        vixetp.analyze(v, universe, assets, date=END, moves_pct=VX_GRID)

    figs = []

    def fig(name: str, fn, target: str | None = "< 50 ms", repeat: int = 30) -> None:
        wall, cpu = _median_ms(fn, repeat)
        figs.append(
            value_figure(
                f"systematic: {name}",
                wall,
                "ms",
                target=target,
                note=f"CPU {cpu:.2f} ms; {len(prices):,} sessions (SAMPLE, 30 years)",
            )
        )

    fig("volcontrol.analyze (EWMA 0.94/0.97, 30 y + 41-point shock grid)", vc)
    fig("volcontrol.analyze (20/40-session simple vol)", vc_sma)
    fig("cta.analyze (1/3/12-month signals, triggers, tapes, 41-point grid)", trend)
    fig("cta.analyze (the same + 20/120 MA crossover)", trend_ma)
    fig("vixetp.analyze (short + mid-term index over 30 y, 8 funds, 41 moves)", etp)
    fig("parse the 30-year Cboe price file", parse_prices, target=None)
    fig(f"parse + merge every VX contract file ({len(vx_files)})", parse_vx, target=None, repeat=5)
    fig(
        f"daily systematic refresh (30-y price file, the {len(today_files)} listed VX contracts, three engines)",
        daily,
        target="< 1000 ms",
        repeat=10,
    )
    fig(
        "full 30-year replay (parse both histories + three engines)", refresh, target=None, repeat=5
    )
    finish("bench_systematic", figs, area="Systematic engines", quick=QUICK)


if __name__ == "__main__":
    main()
