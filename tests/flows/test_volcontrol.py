"""Volatility estimators and the vol-control engine: hand-worked series, a loop reference on real
data (Aug 2024, Apr 2025), invariants (flat tape, AUM and price scaling), forward paths, calibration."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from flows import calibration, volatility, volcontrol
from flows.errors import InputError
from flows.sources import fred
from tests.reference import systematic_reference as ref

FRED = "fred_SP500_2023-01-03_2025-06-30.csv"


@pytest.fixture(scope="module")
def sp500(test_data) -> pd.DataFrame:
    frame, _ = fred.parse((test_data / "prices" / FRED).read_bytes(), FRED)
    return frame


def prices(closes, start: str = "2024-01-02") -> pd.DataFrame:
    from flows import calendars

    dates = calendars.sessions_in(start, "2030-12-31")[: len(closes)]
    return pd.DataFrame({"date": dates, "close": np.asarray(closes, dtype=float)})


# -- estimators ----------------------------------------------------------------------------------
def test_ewma_matches_the_loop_reference(sp500) -> None:
    closes = sp500["close"].tolist()
    r = volatility.log_returns(np.asarray(closes))
    for decay in (0.94, 0.97, 60 / 61):
        got = np.sqrt(volatility.ewma_variance(r, decay, seed=20))
        want = np.array([np.nan if v is None else v for v in ref.ewma_vol(closes, decay, 20)])
        np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def test_rolling_std_matches_statistics_stdev(sp500) -> None:
    closes = sp500["close"].tolist()
    r = volatility.log_returns(np.asarray(closes))
    got = volatility.rolling_std(r, 20)
    want = np.array([np.nan if v is None else v for v in ref.simple_vol(closes, 20)])
    np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)
    # one value by hand with the standard library
    t = 300
    assert got[t] == pytest.approx(statistics.stdev(r[t - 19 : t + 1]) * math.sqrt(252), rel=1e-12)


def test_ewma_paths_continue_the_recursion(sp500) -> None:
    r = volatility.log_returns(sp500["close"].to_numpy())
    v = volatility.ewma_variance(r, 0.94, seed=20)
    paths = np.array([[0.01, -0.02, 0.0], [0.05, 0.05, -0.1]])
    got = volatility.ewma_variance_paths(v[-1], paths, 0.94)
    for k in range(2):
        whole = volatility.ewma_variance(np.concatenate([r, paths[k]]), 0.94, seed=20)
        np.testing.assert_allclose(got[k], whole[-3:], rtol=1e-12)
    assert volatility.decay_from_com(60) == pytest.approx(60 / 61)
    with pytest.raises(InputError):
        volatility.ewma_variance(r, 1.0)
    with pytest.raises(InputError):
        volatility.rolling_std(r, 1)


# -- hand-worked series ----------------------------------------------------------------------------
def test_exposure_and_flow_step_by_step() -> None:
    """Closes 100, 101, 100, 102, 102, 99; EWMA decay 0.9 seeded on two returns; target 10 %,
    cap 150 %, lag 1; AUM USD 1 bn.  Every step written out."""
    params = volcontrol.VolControlParams(decays=(0.9,), seed_days=2, lag=1)
    h = volcontrol.history(prices([100, 101, 100, 102, 102, 99]), params, 1e9)
    r1, r2, r3, r4, r5 = (
        math.log(1.01),
        math.log(100 / 101),
        math.log(1.02),
        0.0,
        math.log(99 / 102),
    )
    v2 = 252 * (r1**2 + r2**2) / 2  # seed: mean of the first two squared returns, annualised
    v3 = 0.9 * v2 + 0.1 * 252 * r3**2
    v4 = 0.9 * v3 + 0.1 * 252 * r4**2
    v5 = 0.9 * v4 + 0.1 * 252 * r5**2
    sig = [math.sqrt(v) for v in (v2, v3, v4, v5)]
    assert h["sigma"].tolist()[2:] == pytest.approx(sig, rel=1e-12)
    assert sig[0] == pytest.approx(0.157957, abs=1e-6) and sig[3] == pytest.approx(
        0.220571, abs=1e-6
    )
    # exposure of session t uses sigma of session t-1
    e = [0.1 / s for s in sig[:3]]
    assert h["exposure"].tolist()[3:] == pytest.approx(e, rel=1e-12)
    assert e == pytest.approx([0.633085, 0.556094, 0.586175], abs=1e-6)
    assert h["flow_usd"].tolist()[4:] == pytest.approx(
        [(e[1] - e[0]) * 1e9, (e[2] - e[1]) * 1e9], rel=1e-12
    )
    assert h["flow_usd"].iloc[4] == pytest.approx(
        -76.991e6, abs=1e3
    )  # sold USD 77 mn after the 2 % day
    assert h["exposure"].iloc[:3].isna().all()


def test_simple_vol_variant_by_hand() -> None:
    params = volcontrol.VolControlParams(estimator="sma", windows=(3,), lag=2, cap=1.0)
    closes = [100, 102, 101, 103, 99, 100, 98]
    h = volcontrol.history(prices(closes), params, 1.0)
    r = [math.log(b / a) for a, b in zip(closes[:-1], closes[1:], strict=True)]
    sig3 = statistics.stdev(r[0:3]) * math.sqrt(252)  # returns 1..3, known at session 3
    sig4 = statistics.stdev(r[1:4]) * math.sqrt(252)
    assert h["sigma"].iloc[3] == pytest.approx(sig3) and h["sigma"].iloc[4] == pytest.approx(sig4)
    assert h["exposure"].iloc[5] == pytest.approx(min(1.0, 0.1 / sig3))  # lag 2
    assert h["exposure"].iloc[6] == pytest.approx(min(1.0, 0.1 / sig4))
    assert h["exposure"].iloc[:5].isna().all()


def test_flat_tape_and_scaling_invariants() -> None:
    flat = volcontrol.history(prices([100.0] * 60), volcontrol.EWMA, 1e9)
    assert (flat["exposure"].dropna() == 1.5).all() and (flat["flow_usd"].dropna() == 0).all()
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.012, 300)))
    a = volcontrol.history(prices(closes), volcontrol.EWMA, 1e9)
    b = volcontrol.history(prices(closes * 37.0), volcontrol.EWMA, 3e9)
    np.testing.assert_allclose(
        a["exposure"], b["exposure"], rtol=1e-12, equal_nan=True
    )  # price scale: none
    np.testing.assert_allclose(
        3 * a["flow_usd"], b["flow_usd"], rtol=1e-9, equal_nan=True
    )  # linear in AUM
    ra = volcontrol.analyze(prices(closes), aum=1e9)
    rb = volcontrol.analyze(prices(closes), aum=2e9)
    assert rb.headline["flow_usd_1d"] == pytest.approx(2 * ra.headline["flow_usd_1d"])
    np.testing.assert_allclose(rb.shock_grid["flow_2w_usd"], 2 * ra.shock_grid["flow_2w_usd"])
    # the unchanged tape after a flat history: exposure stays at the cap, no flow at all
    rf = volcontrol.analyze(prices([100.0] * 60), aum=1e9)
    assert rf.headline["flow_usd_1d"] == 0 and (rf.forward["flow_usd"] == 0).all()


# -- the loop reference on real data ---------------------------------------------------------------
@pytest.mark.parametrize("estimator", ["ewma", "sma"])
def test_exposure_matches_reference_on_the_sp500(sp500, estimator: str) -> None:
    params = volcontrol.PRESETS[estimator]
    h = volcontrol.history(sp500, params, 1.0)
    kw = {"windows": params.windows} if estimator == "sma" else {"decays": params.decays}
    want = ref.volcontrol_exposure(
        sp500["close"].tolist(),
        target=params.target_vol,
        cap=params.cap,
        lag=params.lag,
        seed=params.seed_days,
        **kw,
    )
    np.testing.assert_allclose(
        h["exposure"],
        np.array([np.nan if v is None else v for v in want]),
        rtol=1e-12,
        equal_nan=True,
    )


def _on(h: pd.DataFrame, day: str, col: str) -> float:
    return float(h.loc[h["date"] == pd.Timestamp(day), col].iloc[0])


def test_august_2024_selling(sp500) -> None:
    """2024-08-05 (S&P 500 -3.0 %, the yen-carry unwind): the EWMA volatility jumps to ~19 %
    and, one session later, the exposure drops: vol-control sells into 2024-08-06."""
    h = volcontrol.history(sp500, volcontrol.EWMA, 1.0)
    assert _on(h, "2024-08-05", "log_return") == pytest.approx(math.log(5186.33 / 5346.56))
    assert 0.19 < _on(h, "2024-08-05", "sigma") < 0.20
    assert _on(h, "2024-08-06", "exposure") == pytest.approx(0.1 / _on(h, "2024-08-05", "sigma"))
    week = h[(h["date"] >= "2024-08-01") & (h["date"] <= "2024-08-09")]
    assert week["flow_usd"].sum() == pytest.approx(
        _on(h, "2024-08-09", "exposure") - _on(h, "2024-07-31", "exposure")
    )
    assert week["flow_usd"].sum() < -0.25  # sold more than a quarter of AUM in those 7 sessions
    r = volcontrol.analyze(sp500, as_of="2024-08-05", aum=300e9)
    assert r.headline["flow_usd_1d"] == pytest.approx(
        300e9 * (_on(h, "2024-08-06", "exposure") - _on(h, "2024-08-05", "exposure"))
    )
    assert r.headline["flow_usd_1d"] < -30e9


def test_april_2025_selling(sp500) -> None:
    """2025-04-03/04 (tariffs, -4.8 % and -6.0 %): exposure 56 % -> 29 % of AUM by 2025-04-07."""
    h = volcontrol.history(sp500, volcontrol.EWMA, 1.0)
    assert _on(h, "2025-04-02", "exposure") > 0.55 and _on(h, "2025-04-07", "exposure") < 0.30
    sold = h[(h["date"] >= "2025-04-03") & (h["date"] <= "2025-04-10")]["flow_usd"].sum()
    assert sold == pytest.approx(
        _on(h, "2025-04-10", "exposure") - _on(h, "2025-04-02", "exposure")
    )
    assert sold < -0.35
    # the simple-volatility family (lag 2) sells later: nothing yet on 2025-04-04
    s = volcontrol.history(sp500, volcontrol.SMA, 1.0)
    assert _on(s, "2025-04-04", "flow_usd") > 0 and _on(s, "2025-04-07", "flow_usd") < -0.1


# -- forward paths and scenarios -------------------------------------------------------------------
@pytest.mark.parametrize("estimator", ["ewma", "sma"])
def test_forward_paths_equal_the_history_of_the_extended_tape(sp500, estimator: str) -> None:
    params = volcontrol.PRESETS[estimator]
    hist = volcontrol.history(sp500, params, 5e9)
    paths = np.vstack([volcontrol.alternating_paths([1.5], 10), volcontrol.shock_paths([-7.0], 10)])
    got = volcontrol.forward_flows(hist, paths, params, 5e9)
    for k in range(2):
        closes = sp500["close"].iloc[-1] * np.exp(np.cumsum(paths[k]))
        ext = pd.concat([sp500[["date", "close"]], prices(closes, "2025-07-01")], ignore_index=True)
        whole = volcontrol.history(ext, params, 5e9)
        np.testing.assert_allclose(got[k], whole["flow_usd"].to_numpy()[-10:], rtol=1e-9, atol=1e-3)


def test_alternating_tapes_keep_the_level_and_the_lag_shows(sp500) -> None:
    path = volcontrol.alternating_paths([0.5, 2.0], 10)
    levels = np.exp(np.cumsum(path, axis=1))
    np.testing.assert_allclose(levels[:, 1::2], 1.0, rtol=1e-12)
    assert levels[1, 0] == pytest.approx(1 / 1.02)
    r = volcontrol.analyze(sp500, as_of="2025-06-30", aum=300e9)
    assert list(r.scenarios.columns) == ["daily_move_pct", "sessions", "flow_usd", "exposure_end"]
    assert r.scenarios["flow_usd"].is_monotonic_decreasing  # bigger swings, more selling
    assert len(r.shock_grid) == 41 and r.shock_grid["shock_pct"].iloc[[0, 20, 40]].tolist() == [
        -10.0,
        0.0,
        10.0,
    ]
    # lag 1: tomorrow's flow is fixed today, whatever tomorrow's move
    assert r.shock_grid["flow_1d_usd"].nunique() == 1
    assert r.shock_grid["flow_1d_usd"].iloc[0] == pytest.approx(r.headline["flow_usd_1d"])
    # the 0 % shock is the unchanged tape; volatility only grows with |shock|
    zero = r.shock_grid.set_index("shock_pct").loc[0.0]
    assert zero["flow_1w_usd"] == pytest.approx(r.forward["cumulative_flow_usd"].iloc[4])
    assert (
        r.shock_grid.set_index("shock_pct").loc[-10.0, "flow_1w_usd"]
        < r.shock_grid.set_index("shock_pct").loc[-2.0, "flow_1w_usd"]
        < zero["flow_1w_usd"]
    )


def test_analyze_as_of_and_errors(sp500) -> None:
    r = volcontrol.analyze(sp500, as_of="2024-08-03", aum=1e9)  # a Saturday: Friday's close
    assert r.headline["as_of"] == "2024-08-02" and r.history["date"].iloc[-1] == pd.Timestamp(
        "2024-08-02"
    )
    assert r.headline["exposure_change_10d"] == pytest.approx(
        r.history["exposure"].iloc[-1] - r.history["exposure"].iloc[-11]
    )
    with pytest.raises(InputError, match="before the first close"):
        volcontrol.analyze(sp500, as_of="2020-01-02")
    with pytest.raises(InputError, match="needs at least"):
        volcontrol.analyze(sp500.iloc[:25])
    with pytest.raises(InputError):
        volcontrol.preset("garch")
    with pytest.raises(InputError):
        volcontrol.VolControlParams(cap=-1).validate()
    assert (
        set(r.tables()) == {"history", "scenarios", "shock_grid", "forward"}
        and r.horizon == "next sessions (lagged)"
    )


# -- calibration ---------------------------------------------------------------------------------
def test_calibrate_recovers_the_aum(sp500) -> None:
    h = volcontrol.history(sp500, volcontrol.EWMA, 310e9)
    window = h[(h["date"] >= "2024-07-29") & (h["date"] <= "2024-08-09")]
    published = float(window["flow_usd"].sum())
    cal = volcontrol.calibrate(sp500, published, "2024-07-29", "2024-08-09", source="test note")
    assert cal.aum_usd == pytest.approx(310e9) and cal.method == "flow over window"
    assert (cal.start, cal.end) == ("2024-07-29", "2024-08-09")
    assert "calibrated to USD" in cal.label() and "test note" in cal.label()
    with pytest.raises(InputError, match="disagree"):
        volcontrol.calibrate(sp500, -published, "2024-07-29", "2024-08-09")
    with pytest.raises(InputError, match="before the first close"):
        volcontrol.calibrate(sp500, published, "2019-01-02", "2019-02-01")
    flat = prices([100.0] * 80)
    with pytest.raises(InputError, match="too little to calibrate"):
        volcontrol.calibrate(flat, 1e9, flat["date"].iloc[40], flat["date"].iloc[50])
    with pytest.raises(InputError):
        calibration.configured(-5.0)
    assert calibration.configured(2e9).to_dict()["label"] == "AUM USD 2.0 bn (configured)"
