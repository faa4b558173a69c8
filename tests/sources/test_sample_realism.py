"""Sample realism: the generated SPX and SPY chains look like the real CBOE quote tables.

The references are the three real files of ``../shared/data/options`` (SPX 2023-09-14, SPX
2024-01-07, SPY 2023-09-14), analysed by :func:`flows.gamma.analyze`; their figures are the
constants below (the extended test re-derives them from the full files).  Three snapshots are
a small sample, so each band is the real files' range widened by a stated margin.  Before the
calibration the sample SPX had net/gross -0.04..+0.13, flips up to 1.0 % below spot, 55 % of its
open interest in puts (real: 66-70 %) and an OI spread of 0.17 in log-moneyness (real: 0.20-0.37).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.gamma import GammaParams, analyze
from flows.sources import cboe, cboe_csv, sample_options

REAL = {
    # file: net and gross GEX (USD bn per 1 %), flip distance (% of spot), share of OI within 5 %
    # and 15 % of spot, put share of OI, OI-weighted mean and spread of ln(strike / spot)
    "spx_quotedata_2023-09-14.csv": {
        "net": 22.159,
        "gross": 368.361,
        "flip": -0.391,
        "near5": 0.301,
        "near15": 0.611,
        "put": 0.675,
        "mu": -0.190,
        "sd": 0.369,
    },
    "spx_quotedata_2024-01-07.csv": {
        "net": -11.484,
        "gross": 235.846,
        "flip": 0.434,
        "near5": 0.280,
        "near15": 0.659,
        "put": 0.659,
        "mu": -0.175,
        "sd": 0.371,
    },
    "spy_quotedata_2023-09-14.csv": {
        "net": 1.517,
        "gross": 42.565,
        "flip": -0.303,
        "near5": 0.345,
        "near15": 0.692,
        "put": 0.695,
        "mu": -0.098,
        "sd": 0.198,
    },
}


def metrics(chain) -> dict[str, float]:
    report = analyze(chain, GammaParams())
    h, bs = report.headline, report.by_strike
    oi = (bs["call_oi_contracts"] + bs["put_oi_contracts"]).to_numpy()
    k = bs["strike"].to_numpy() / chain.spot
    m = np.log(k)
    mu = float((m * oi).sum() / oi.sum())
    return {
        "net": h["net_gex_usd_per_1pct"] / 1e9,
        "gross": h["gross_gex_usd_per_1pct"] / 1e9,
        "net_to_gross": h["net_gex_usd_per_1pct"] / h["gross_gex_usd_per_1pct"],
        "flip": h["flip_distance_pct"],
        "near5": float(oi[(k > 0.95) & (k < 1.05)].sum() / oi.sum()),
        "near15": float(oi[(k > 0.85) & (k < 1.15)].sum() / oi.sum()),
        "put": float(bs["put_oi_contracts"].sum() / oi.sum()),
        "mu": mu,
        "sd": float(np.sqrt(((m - mu) ** 2 * oi).sum() / oi.sum())),
    }


def band(key: str, files: list[str], widen: float) -> tuple[float, float]:
    values = [REAL[f][key] for f in files]
    return min(values) - widen, max(values) + widen


ALL = list(REAL)
SPX = [f for f in ALL if f.startswith("spx")]
RATIO = [REAL[f]["net"] / REAL[f]["gross"] for f in ALL]
BANDS = {
    # widened by half the SPX files' span (33.6 bn): the sign flips between the two real days
    "net": {"SPX": band("net", SPX, 16.8)},
    "gross": {
        "SPX": (0.75 * REAL[SPX[1]]["gross"], 1.25 * REAL[SPX[0]]["gross"]),
        "SPY": (0.75 * 42.565, 1.25 * 42.565),
    },
    "net_to_gross": {"*": (min(RATIO) - 0.1, max(RATIO) + 0.1)},
    "flip": {"*": band("flip", ALL, 0.6)},
    "near5": {"*": band("near5", ALL, 0.1)},
    "near15": {"*": band("near15", ALL, 0.1)},
    "put": {"*": band("put", ALL, 0.1)},
    "mu": {"*": band("mu", ALL, 0.1)},
    "sd": {"*": band("sd", ALL, 0.1)},
}
SNAPSHOTS = [
    "2026-01-06 14:10",
    "2026-03-02 13:10",
    "2026-05-20 15:10",
    "2026-07-15 20:10",
    "2026-09-15 19:10",
    "2026-11-17 14:10",
]


@pytest.mark.parametrize("underlying", ["SPX", "SPY"])
def test_sample_chain_within_the_real_files_range(underlying: str) -> None:
    outside = []
    for when in SNAPSHOTS:
        chain = cboe.parse(
            sample_options.sample_options_json(underlying, pd.Timestamp(when, tz="UTC"), 20240105)
        )
        got = metrics(chain)
        for key, bands in BANDS.items():
            lo, hi = bands.get(underlying) or bands.get("*") or (-np.inf, np.inf)
            if not lo <= got[key] <= hi:
                outside.append(f"{when} {key} {got[key]:.3f} not in [{lo:.3f}, {hi:.3f}]")
    assert not outside, outside


def test_bands_are_tight_enough_to_mean_something() -> None:
    """The old generator's figures (measured before the calibration) fall outside."""
    before = {"net_to_gross": 0.130, "flip": -1.034, "put": 0.55, "sd": 0.165}
    outside = [k for k, v in before.items() if not BANDS[k]["*"][0] <= v <= BANDS[k]["*"][1]]
    assert outside == ["flip", "put"]


@pytest.mark.extended
def test_reference_figures_are_the_real_files(shared_data) -> None:
    for name, want in REAL.items():
        got = metrics(cboe_csv.read_file(shared_data / "options" / name))
        for key, value in want.items():
            assert got[key] == pytest.approx(
                value, abs=1.5e-3 if key != "net" and key != "gross" else 1.5e-3 * abs(value)
            ), (name, key)
