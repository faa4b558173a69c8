"""Sample CFTC/ECB generator: real layouts through the real parsers, determinism, realism."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.sources import cftc_files, ecb, sample_cftc

SEED = 20240105
END = "2026-11-27"
SIZE = {
    "099741": 125_000,
    "097741": 12_500_000,
    "096742": 62_500,
    "092741": 125_000,
    "090741": 100_000,
    "232741": 100_000,
}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {
        "legacy": sample_cftc.legacy_text(SEED, END),
        "tff": sample_cftc.tff_text(SEED, END),
        "fx": sample_cftc.ecb_hist_csv(SEED, END),
    }


def _first_line(path: Path) -> str:
    """The header line of a real COT file (a yearly zip's member)."""
    return cftc_files.read_zip(path.read_bytes(), path.name).splitlines()[0]


def test_headers_are_the_real_ones(texts: dict[str, str], test_data: Path) -> None:
    real_legacy = _first_line(
        test_data / "cftc" / "deacot2025_currencies_2025-01-07_to_2025-03-11.zip"
    )
    real_tff = _first_line(
        test_data / "cftc" / "fut_fin_txt_2026_currencies_2026-03-03_to_2026-05-05.zip"
    )
    assert texts["legacy"].split("\n", 1)[0] == real_legacy
    assert texts["tff"].split("\r\n", 1)[0] == real_tff
    # every data row has as many fields as the header
    for key, header in (("legacy", real_legacy), ("tff", real_tff)):
        rows = list(csv.reader(io.StringIO(texts[key])))
        assert {len(r) for r in rows} == {len(header.split(","))}


def test_parses_through_real_parsers_every_tuesday(texts: dict[str, str]) -> None:
    legacy = cftc_files.parse_legacy(texts["legacy"], "sample annual.txt")
    tff = cftc_files.parse_tff(texts["tff"], "sample FinFutYY.txt")
    for frame in (legacy, tff):
        assert sorted(frame["code"].unique()) == sorted(sample_cftc.CODES)
        dates = frame["as_of"].drop_duplicates().sort_values()
        assert (dates.dt.day_of_week == 1).all() and (dates.diff().dropna().dt.days == 7).all()
        assert dates.iloc[-1] == pd.Timestamp("2026-11-24")
        assert 300 <= len(dates) <= 315  # ~6 years
        assert (frame.groupby("as_of").size() == 11).all()
        numeric = frame.select_dtypes("number")
        assert (numeric >= 0).all().all()
    long_side = (
        legacy["noncomm_long"]
        + legacy["noncomm_spread"]
        + legacy["comm_long"]
        + legacy["nonrept_long"]
    )
    short_side = (
        legacy["noncomm_short"]
        + legacy["noncomm_spread"]
        + legacy["comm_short"]
        + legacy["nonrept_short"]
    )
    assert (long_side == legacy["open_interest"]).all() and (
        short_side == legacy["open_interest"]
    ).all()
    tff_long = tff[
        ["dealer_long", "asset_mgr_long", "lev_money_long", "other_rept_long", "nonrept_long"]
    ].sum(axis=1)
    assert (tff_long < tff["open_interest"]).all()  # the spreads make up the rest


def test_deterministic_and_extension_consistent() -> None:
    a = sample_cftc.positions(SEED, "2025-06-30", "2024-01-01")
    b = sample_cftc.positions(SEED, "2026-06-30", "2023-01-01")
    c = sample_cftc.positions(SEED + 1, "2025-06-30", "2024-01-01")
    for report in ("legacy", "tff"):
        later = b[report][
            (b[report]["as_of"] >= "2024-01-01") & (b[report]["as_of"] <= "2025-06-30")
        ].reset_index(drop=True)
        pd.testing.assert_frame_equal(a[report], later)
        assert not a[report]["open_interest"].equals(c[report]["open_interest"])
    assert sample_cftc.legacy_text(SEED, "2025-06-30", "2024-01-01") == sample_cftc.legacy_text(
        SEED, "2025-06-30", "2024-01-01"
    )


def test_net_usd_has_realistic_cycles(texts: dict[str, str]) -> None:
    legacy = cftc_files.parse_legacy(texts["legacy"], "sample", list(SIZE))
    fx = ecb.parse_hist_csv(texts["fx"], "sample fx")
    ccy = {code: cftc_files.CURRENCY_CODES[code] for code in SIZE}
    rates = ecb.fx_on(fx, legacy["as_of"])
    usd_per_unit = rates.to_numpy()[
        np.arange(len(legacy)), [list(rates.columns).index(ccy[c]) for c in legacy["code"]]
    ]
    usd = (
        (legacy["noncomm_long"] - legacy["noncomm_short"]).to_numpy()
        * legacy["code"].map(SIZE).to_numpy()
        * usd_per_unit
    )
    net_usd_bn = -pd.Series(usd, index=legacy["as_of"]).groupby(level=0).sum() / 1e9
    assert 10 < net_usd_bn.abs().max() < 80  # tens of USD bn, like the real series
    assert (net_usd_bn > 5).any() and (net_usd_bn < -5).any()  # long and short USD phases


def test_sample_ecb_csv_layout(texts: dict[str, str]) -> None:
    lines = texts["fx"].splitlines()
    assert lines[0].startswith("Date,USD,") and all(line.endswith(",") for line in lines[:10])
    assert lines[1] > lines[2]  # newest first (ISO dates compare as text)
    fx = ecb.parse_hist_csv(texts["fx"], "sample fx")
    assert not fx.index.isin(
        pd.to_datetime(
            ["2025-12-25", "2025-12-26", "2026-01-01", "2025-04-18", "2025-04-21", "2025-05-01"]
        )
    ).any()
    assert fx.index[-1] == pd.Timestamp("2026-11-27")
    assert fx["EUR"].between(0.8, 1.5).all() and fx["JPY"].between(0.004, 0.015).all()
