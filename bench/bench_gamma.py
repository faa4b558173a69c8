"""Benchmark the dealer gamma engine on the real SPX file (about 20,000 contracts).

Run: ``python -m bench.bench_gamma [--runs N] [--file PATH] [--quick]`` (records in
``bench/results/bench_gamma.json``; ``scripts/bench`` runs every bench and renders them).

Prints median wall time over N runs of
* parse: the quote-table CSV bytes -> Chain,
* whole: parse + analyze (spot GEX, 801-point profile, flips, walls, hedge-flow curve, the
  sensitivity table under both conventions),
* profile: the 801-point model profile alone (contracts with OI and IV, ±20 % window),
and the peak memory: traced Python allocations (tracemalloc) of one whole run and the process's
maximum resident set size. Targets: whole < 0.25 s, profile < 50 ms, peak < 300 MB.
The profile's baseline is a plain numpy loop over the spots (:func:`profile_loop`), measured in
the same run.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import finish, value_figure  # noqa: E402
from bench.harness import timed as harness_timed  # noqa: E402
from flows.gamma import GammaParams, analyze, gex_profile  # noqa: E402
from flows.sources import cboe_csv  # noqa: E402

DEFAULT_FILE = (
    Path(os.environ.get("FLOWDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
    / "options"
    / "spx_quotedata_2023-09-14.csv"
)


def timed(fn, runs: int) -> tuple[float, object]:
    """Median wall time (s) of ``runs`` calls (:func:`bench.harness.timed`, no warm-up call);
    the median CPU time of this process goes in CPU."""
    t, out = harness_timed(fn, runs, warmup=0)
    CPU[fn] = t.cpu
    return t.wall, out


CPU: dict = {}


def profile_loop(
    S: float,
    K: np.ndarray,
    T: np.ndarray,
    iv: np.ndarray,
    w: np.ndarray,
    spots: np.ndarray,
    r: float,
    q: float,
) -> np.ndarray:
    """The baseline of the profile: a plain numpy loop over the spots, BSM gamma of every
    contract at each spot (Hull, Options, Futures and Other Derivatives, ch. 19:
    ``gamma = e^(-qT) N'(d1) / (s sigma sqrt T)``) times signed contracts x 100 x s^2 x 0.01."""
    out = np.empty(len(spots))
    sqrt_t = np.sqrt(T)
    vol_t = iv * sqrt_t
    carry = (r - q + 0.5 * iv * iv) * T
    disc = np.exp(-q * T)
    for i, s in enumerate(spots):
        d1 = (np.log(s / K) + carry) / vol_t
        gamma = disc * np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi) / (s * vol_t)
        out[i] = np.sum(w * gamma) * 100.0 * s * s * 0.01
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--quick", action="store_true", help="7 runs")
    args = ap.parse_args()
    if args.quick:
        args.runs = min(args.runs, 7)
    notes = []
    if not args.file.exists():
        args.file = ROOT / "tests" / "data" / "options" / "spx_quotedata_2023-09-14_trimmed.csv"
        notes.append(f"the full SPX file is absent: measured on {args.file.name} (trimmed)")
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

    def baseline():
        return profile_loop(chain.spot, K, T, iv, w, spots, params.r, params.q)

    t_profile, prof = timed(profile, args.runs)
    t_loop, prof_loop = timed(baseline, args.runs)
    assert np.allclose(prof, prof_loop, rtol=1e-9, atol=1.0), (
        "the profile and its numpy-loop baseline disagree"
    )

    gc.collect()
    tracemalloc.start()
    whole()
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    h = report.headline
    what = f"{args.file.name}, {len(chain.contracts):,} contracts ({h['contracts']:,} alive, {int(m.sum()):,} in the model), {args.runs} runs"
    cpu = lambda fn: f"CPU {CPU[fn] * 1e3:.1f} ms"  # noqa: E731
    figs = [
        value_figure(
            "gamma: parse the SPX quote table (cboe_csv.parse)",
            t_parse * 1e3,
            "ms",
            note=f"{what}; {cpu(parse)}",
        ),
        value_figure(
            "gamma: analyze without parse (spot GEX, profile, flips, walls, hedge flows, sensitivity)",
            t_analyze * 1e3,
            "ms",
            note=cpu(analyze_only),
        ),
        value_figure(
            "gamma: whole analysis (parse + analyze)",
            t_whole * 1e3,
            "ms",
            target="< 250 ms",
            note=f"{cpu(whole)}; net GEX {h['net_gex_usd_per_1pct'] / 1e9:,.2f} bn USD per 1 %, flip {h['flip']}",
        ),
        value_figure(
            "gamma: 801-point GEX profile (flows.gamma.gex_profile)",
            t_profile * 1e3,
            "ms",
            target="< 50 ms",
            baseline="plain numpy loop over the 801 spots (BSM gamma of every contract per spot)",
            baseline_value=t_loop * 1e3,
            note=f"{cpu(profile)} vs {CPU[baseline] * 1e3:.1f} ms; {int(m.sum()):,} contracts x 801 spots",
        ),
        value_figure(
            "gamma: peak traced allocations of one whole run (tracemalloc)",
            peak_traced / 2**20,
            "MB",
        ),
        value_figure(
            "gamma: maximum resident set size of the bench process",
            max_rss_mb,
            "MB",
            target="< 300 MB",
            note="whole process incl. interpreter and libraries",
        ),
    ]
    finish("bench_gamma", figs, area="Dealer gamma", notes=notes, quick=args.quick)


if __name__ == "__main__":
    main()
