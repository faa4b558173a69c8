"""Sample mode for the systematic engines: deterministic, labelled SAMPLE, in the real layouts,
parsed back by the real parsers, and usable by the engines end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows import calendars, cta, vixetp, volcontrol
from flows.sources import cboe_vx, price_files, sample_prices, vixetp_universe

END = "2026-07-24"
SEED = 20240105


def test_deterministic_by_seed_and_labelled() -> None:
    a = sample_prices.simulate("SPX", end=END, seed=SEED, sessions=500)
    b = sample_prices.simulate("SPX", end=END, seed=SEED, sessions=500)
    c = sample_prices.simulate("SPX", end=END, seed=SEED + 1, sessions=500)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["close"], c["close"])
    assert sample_prices.cboe_file(a) == sample_prices.cboe_file(b)
    frame, q = sample_prices.sample_prices("SPX", end=END, seed=SEED, sessions=500)
    assert frame.attrs["source"] == f"SAMPLE cboe SPX (seed {SEED})" and q.source.startswith(
        "SAMPLE"
    )
    # sessions of the exchange calendar, ending on the last session on or before END
    assert frame["date"].iloc[-1] == pd.Timestamp(END) and calendars.is_session(frame["date"]).all()
    assert frame["close"].iloc[-1] == 6000.0  # the sample option chain's SPX spot


@pytest.mark.parametrize("layout", ["cboe", "fred", "yahoo"])
def test_layouts_parse_back_to_the_same_closes(layout: str) -> None:
    path = sample_prices.simulate("NDX", end=END, seed=SEED, sessions=400)
    frame, q = sample_prices.sample_prices("NDX", end=END, seed=SEED, sessions=400, layout=layout)
    np.testing.assert_allclose(frame["close"], path["close"])
    assert q.skipped_rows == 0 and not q.warnings
    writer = {
        "cboe": sample_prices.cboe_file,
        "fred": sample_prices.fred_file,
        "yahoo": sample_prices.yahoo_file,
    }[layout]
    assert price_files.detect_layout(writer(path), "x") == layout
    if layout == "fred":  # holidays written as empty rows, like FRED
        assert q.repairs["rows without a value on exchange holidays dropped (gaps)"] > 0
        assert b"observation_date,NASDAQ100\n" in writer(path, "NASDAQ100")
    if layout == "cboe":
        assert (
            sample_prices.cboe_file(path).splitlines()[1][:10].count(b"/") == 2
        )  # MM/DD/YYYY like the CDN


def test_sample_vix_behaves_like_a_vix() -> None:
    spx, _ = sample_prices.sample_prices("SPX", end=END, seed=SEED, sessions=3000)
    vix, _ = sample_prices.sample_prices("VIX", end=END, seed=SEED, sessions=3000)
    assert vix.attrs["symbol"] == "VIX" and (vix["date"] == spx["date"]).all()
    assert 10 < vix["close"].median() < 30 and vix["close"].min() > 5
    corr = np.corrcoef(np.diff(np.log(spx["close"])), np.diff(np.log(vix["close"])))[0, 1]
    assert corr < -0.3  # the VIX rises when the index falls


@pytest.mark.parametrize("layout", ["clean", "indexed", "disclaimer"])
def test_vx_files_in_the_three_layouts(layout: str) -> None:
    path = sample_prices.simulate("SPX", end=END, seed=SEED, sessions=300)
    curve = sample_prices.vx_curve(path, seed=SEED)
    files = sample_prices.vx_files(curve, layout)
    name = "VX_2026-07-22.csv"  # July 2026 contract: 2026-08-21 minus 30 days
    assert name in files
    frame, q = cboe_vx.parse(files[name], name)
    assert set(frame["contract"]) == {"VXN26"} and frame["date"].iloc[-1] == pd.Timestamp(
        "2026-07-22"
    )
    assert q.skipped_rows == 0 and not q.warnings
    # the final settlement is the VIX of that day (two decimals), settles on the 0.025 grid before
    assert frame["settle"].iloc[-1] == path.set_index("date").loc["2026-07-22", "vix"]
    assert np.allclose(
        np.round(frame["settle"].iloc[:-1] / 0.025) * 0.025, frame["settle"].iloc[:-1]
    )
    first = files[name].decode().splitlines()[0]
    assert {
        "clean": first.startswith("Trade Date"),
        "indexed": first.startswith(",Trade Date"),
        "disclaimer": first.startswith("CFE data"),
    }[layout]


def test_sample_vx_drives_the_engines() -> None:
    vx, q = sample_prices.sample_vx(end=END, seed=SEED, sessions=260)
    again, _ = sample_prices.sample_vx(end=END, seed=SEED, sessions=260, layout="disclaimer")
    pd.testing.assert_frame_equal(vx.reset_index(drop=True), again.reset_index(drop=True))
    assert q.skipped_rows == 0 and vx["contract"].nunique() >= 12
    universe = vixetp_universe.read()
    assets = sample_prices.sample_etp_assets(universe, SEED, day=END)
    assert set(assets["ticker"]) == {"VXX", "VIXY", "UVXY", "SVXY", "UVIX", "SVIX", "VIXM", "VXZ"}
    assert assets["as_of"].str.endswith("(SAMPLE)").all()
    rep = vixetp.analyze(vx, universe, assets, date=END)
    assert (
        rep.excluded.empty
        and np.isfinite(rep.headline["index_return"])
        and np.isfinite(rep.headline["mid_index_return"])
    )
    spx, _ = sample_prices.sample_prices("SPX", end=END, seed=SEED, sessions=600)
    assert np.isfinite(volcontrol.analyze(spx, aum=1e9).headline["exposure"])
    assert cta.analyze(spx, aum=1e9).triggers["level"].notna().any()
