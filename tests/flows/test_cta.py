"""CTA trend engine: hand-worked signals, positions and triggers; triggers reproduced by re-running
the signal at P*; days to flip by brute force; invariants; the Aug 2024 / Apr 2025 S&P 500."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flows import cta
from flows.errors import InputError
from flows.sources import fred
from tests.reference import systematic_reference as ref

FRED = "fred_SP500_2023-01-03_2025-06-30.csv"
HAND = [100.0, 102.0, 101.0, 103.0, 99.0, 100.0, 98.0]
HAND_PARAMS = cta.CtaParams(
    signals=("return:3", "ma:2/4"),
    target_vol=0.10,
    cap=2.0,
    vol_com_days=1.0,
    vol_lag=1,
    seed_days=2,
)


@pytest.fixture(scope="module")
def sp500(test_data) -> pd.DataFrame:
    frame, _ = fred.parse((test_data / "prices" / FRED).read_bytes(), FRED)
    return frame


def prices(closes, start: str = "2024-01-02") -> pd.DataFrame:
    from flows import calendars

    dates = calendars.sessions_in(start, "2031-12-31")[: len(closes)]
    return pd.DataFrame({"date": dates, "close": np.asarray(closes, dtype=float)})


def test_signal_specs() -> None:
    assert cta.parse_signal("return:21") == cta.Signal("return", 21)
    assert cta.parse_signal(" MA: 20 / 120 ") == cta.Signal("ma", 120, 20)
    assert (
        cta.parse_signal("ma:20/120").label == "20/120d MA"
        and cta.parse_signal("return:252").label == "252d return"
    )
    for bad in ("momentum:12", "return:0", "ma:120/20", "ma:20", "return:3/4"):
        with pytest.raises(InputError):
            cta.parse_signal(bad)


def test_signals_positions_and_flows_by_hand() -> None:
    """Closes 100, 102, 101, 103, 99, 100, 98; rules: 3-session return and 2/4 crossover;
    EWMA centre of mass 1 session (decay 0.5) seeded on two returns, lag 1; target 10 %."""
    h = cta.history(prices(HAND), HAND_PARAMS, 1e9)
    # return:3: sign(P_t - P_(t-3)): 103>100, 99<102, 100<101, 98<103
    assert h["signal_return:3"].tolist()[3:] == [1.0, -1.0, -1.0, -1.0]
    # ma:2/4: (101+103)/2=102 > 101.5; 101 < 101.25; 99.5 < 100.75; 99 < 100
    assert h["signal_ma:2/4"].tolist()[3:] == [1.0, -1.0, -1.0, -1.0]
    r = [math.log(b / a) for a, b in zip(HAND[:-1], HAND[1:], strict=True)]
    v = {2: 252 * (r[0] ** 2 + r[1] ** 2) / 2}
    for t in range(3, 7):
        v[t] = 0.5 * v[t - 1] + 0.5 * 252 * r[t - 1] ** 2
    sig = {t: math.sqrt(x) for t, x in v.items()}
    assert h["sigma"].tolist()[2:] == pytest.approx([sig[t] for t in range(2, 7)], rel=1e-12)
    want = {3: 0.1 / sig[2], 4: -0.1 / sig[3], 5: -0.1 / sig[4], 6: -0.1 / sig[5]}
    assert h["position"].tolist()[3:] == pytest.approx([want[t] for t in range(3, 7)], rel=1e-12)
    assert h["flow_usd"].iloc[4] == pytest.approx(
        (want[4] - want[3]) * 1e9, rel=1e-12
    )  # the flip: sell
    assert h["flow_usd"].iloc[4] < 0 and h["position"].iloc[:3].isna().all()


def test_triggers_by_hand() -> None:
    trig = cta.trigger_levels(np.asarray(HAND), HAND_PARAMS).set_index("spec")
    # return:3 flips at the close of 3 sessions ago + 1 = P_(T-2) = 99
    assert trig.loc["return:3", "level"] == 99.0 and trig.loc[
        "return:3", "distance_pct"
    ] == pytest.approx(100 * (99 / 98 - 1))
    # ma:2/4: A = 98 (last close), B = 99 + 100 + 98; P* = (2*B - 4*A) / (4 - 2) = 101
    assert trig.loc["ma:2/4", "level"] == pytest.approx(101.0)
    assert (99.5, 99.5) == ((98 + 101) / 2, (99 + 100 + 98 + 101) / 4)  # both averages meet at P*
    # flat at 98: the 3-session return compares 98 with 99, 100, then 98 -> zero on day 3;
    # the averages: (98, 98.75), (98, 98.5), (98, 98) -> zero on day 3
    assert trig["days_to_flip"].tolist() == [3.0, 3.0]
    assert trig["signal"].tolist() == [-1.0, -1.0]


@pytest.mark.parametrize("signals", [cta.DEFAULT_SIGNALS, cta.MA_SIGNALS, ("ma:5/30", "return:10")])
@pytest.mark.parametrize("as_of", ["2024-08-05", "2025-04-08", "2025-06-30"])
def test_trigger_levels_flip_the_signal_when_rerun(sp500, signals, as_of: str) -> None:
    params = cta.CtaParams(signals=signals)
    close = sp500.loc[sp500["date"] <= as_of, "close"].to_numpy()
    trig = cta.trigger_levels(close, params)
    for row in trig.itertuples(index=False):
        rule = cta.parse_signal(row.spec)
        if not math.isfinite(row.level):
            # no positive close flips the crossover in one session: check a 50 % move either way
            for p in (close[-1] * 0.5, close[-1] * 1.5):
                assert cta.signal_values(np.append(close, p), rule, params)[-1] == row.signal
            continue
        above = cta.signal_values(np.append(close, row.level * (1 + 1e-6)), rule, params)[-1]
        below = cta.signal_values(np.append(close, row.level * (1 - 1e-6)), rule, params)[-1]
        assert (above, below) == (1.0, -1.0), (row.spec, row.level)
        # days to flip, by brute force: append flat closes until the signal changes
        flat = close[-1]
        for k in range(1, rule.slow + 2):
            s = cta.signal_values(np.append(close, [flat] * k), rule, params)[-1]
            if s != row.signal:
                break
        assert row.days_to_flip == k, (row.spec, k)


def test_signals_match_the_loop_reference(sp500) -> None:
    closes = sp500["close"].tolist()
    params = cta.CtaParams(signals=("return:21", "return:252", "ma:20/120"))
    h = cta.history(sp500, params, 1.0)
    for t in (130, 300, 451, len(closes) - 1):
        assert h["signal_return:21"].iloc[t] == ref.return_signal(closes, t, 21)
        assert h["signal_ma:20/120"].iloc[t] == ref.ma_signal(closes, t, 20, 120)
        if t >= 252:
            assert h["signal_return:252"].iloc[t] == ref.return_signal(closes, t, 252)
    want = np.array([np.nan if v is None else v for v in ref.ewma_vol(closes, 60 / 61, 20)])
    np.testing.assert_allclose(h["sigma"], want, rtol=1e-12, equal_nan=True)


def test_cash_rate_raises_the_hurdle(sp500) -> None:
    close = sp500["close"].to_numpy()
    trig = cta.trigger_levels(close, cta.CtaParams(signals=("return:252",), cash_rate=0.05))
    assert trig["level"].iloc[0] == pytest.approx(close[-252] * (1 + 0.05))


def test_flat_history_and_aum_scaling() -> None:
    h = cta.history(prices([100.0] * 300), cta.DEFAULT, 1e9)
    assert (
        (h["signal_mean"].dropna() == 0).all()
        and (h["position"].dropna() == 0).all()
        and (h["flow_usd"].dropna() == 0).all()
    )
    rng = np.random.default_rng(3)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, 600)))
    a = cta.analyze(prices(closes), aum=1e9)
    b = cta.analyze(prices(closes * 9.0), aum=4e9)
    assert b.headline["position"] == pytest.approx(a.headline["position"])
    np.testing.assert_allclose(b.scenarios["flow_usd"], 4 * a.scenarios["flow_usd"], rtol=1e-9)
    np.testing.assert_allclose(b.triggers["level"], 9 * a.triggers["level"], rtol=1e-12)


def test_scenarios_split_and_flat_tape_consistency(sp500) -> None:
    for as_of in ("2024-08-05", "2025-04-08", "2025-06-30", "2024-03-28"):
        r = cta.analyze(sp500, as_of=as_of, aum=50e9)
        s = r.scenarios
        np.testing.assert_allclose(
            s["flow_signal_usd"] + s["flow_vol_usd"], s["flow_usd"], rtol=1e-12, atol=1e-3
        )
        first_flip = r.triggers["days_to_flip"].min()
        for row in s[s["tape"] == "flat"].itertuples(index=False):
            if first_flip > row.sessions:
                assert row.flow_signal_usd == 0.0  # no rule turns within the horizon on a flat tape
        assert s.loc[s["tape"] == "flat", "move_pct"].eq(0).all()
        sig = r.headline["sigma"]
        up = s[(s["tape"] == "up") & (s["horizon"] == "1m")]["move_pct"].iloc[0]
        assert up == pytest.approx(100 * math.expm1(2 * sig * math.sqrt(21 / 252)))
    # 2024-08-05: the 63-session rule flips after 2 flat sessions: the flat week sells
    r = cta.analyze(sp500, as_of="2024-08-05", aum=50e9)
    flat_1w = r.scenarios[(r.scenarios["tape"] == "flat") & (r.scenarios["horizon"] == "1w")].iloc[
        0
    ]
    assert (
        r.triggers.set_index("spec").loc["return:63", "days_to_flip"] == 2
        and flat_1w["flow_signal_usd"] < 0
    )


def test_path_positions_equal_the_history_of_the_extended_tape(sp500) -> None:
    close = sp500["close"].to_numpy()
    paths = np.array([[0.01] * 5, [-0.02, 0.0, 0.03, -0.01, 0.0]])
    pos, _, _ = cta.path_positions(close, paths, cta.DEFAULT)
    for k in range(2):
        ext = np.concatenate([close, close[-1] * np.exp(np.cumsum(paths[k]))])
        whole = cta.history(prices(ext, "2023-01-03"), cta.DEFAULT, 1.0)
        np.testing.assert_allclose(pos[k], whole["position"].to_numpy()[-5:], rtol=1e-12)


def test_april_2025_all_short_and_the_shock_grid(sp500) -> None:
    r = cta.analyze(sp500, as_of="2025-04-08", aum=50e9)
    assert (
        r.headline["as_of"] == "2025-04-08"
        and r.headline["signal_mean"] == -1.0
        and r.headline["position"] < 0
    )
    trig = r.triggers.set_index("spec")
    i = int(np.flatnonzero(sp500["date"] == pd.Timestamp("2025-04-08"))[0])
    # each level is a past close: P_(T+1-L)
    assert (
        trig.loc["return:252", "level"] == sp500["close"].iloc[i - 251] == 5202.39
    )  # the close of 2024-04-08
    assert trig.loc["return:63", "level"] == sp500["close"].iloc[i - 62] == 5909.03  # 2025-01-07
    assert trig.loc["return:21", "level"] == sp500["close"].iloc[i - 20] == 5572.07  # 2025-03-11
    assert r.headline["nearest_trigger"] == "252d return" and r.headline[
        "nearest_trigger_distance_pct"
    ] == pytest.approx(100 * (5202.39 / 4982.77 - 1))
    # the days to flip quoted beside the nearest trigger are that rule's, not the fewest of any rule
    assert r.headline["nearest_trigger_days_to_flip"] == trig.loc["return:252", "days_to_flip"]
    assert r.headline["min_days_to_flip"] == trig["days_to_flip"].min()
    grid = r.shock_grid.set_index("shock_pct")
    # a +5 % day lifts the close above 5202.39 (+4.4 %): the 12-month rule turns long
    assert grid.loc[4.0, "position"] == pytest.approx(r.headline["position"], rel=0.02)
    assert grid.loc[5.0, "position"] > grid.loc[4.0, "position"] and grid.loc[5.0, "flow_usd"] > 0
    assert len(r.shock_grid) == 41


def test_august_2024_near_a_trigger(sp500) -> None:
    r = cta.analyze(sp500, as_of="2024-08-05", aum=50e9)
    trig = r.triggers.set_index("spec")
    assert trig["signal"].tolist() == [-1.0, 1.0, 1.0]
    assert (
        trig.loc["return:63", "level"] == 5180.74
        and abs(trig.loc["return:63", "distance_pct"]) < 0.11
    )
    assert (
        r.headline["nearest_trigger_abs_distance_pct"] < 0.11
        and r.headline["min_days_to_flip"] == 2
    )
    grid = r.shock_grid.set_index("shock_pct")
    assert (
        grid.loc[-0.5, "position"] < 0 < grid.loc[0.0, "position"]
    )  # below 5180.74 the rule turns short


def test_calibrate_and_errors(sp500) -> None:
    h = cta.history(sp500, cta.DEFAULT, 1.0)
    pos = float(h.loc[h["date"] == "2024-07-16", "position"].iloc[0])
    cal = cta.calibrate(sp500, 80e9 if pos > 0 else -80e9, "2024-07-16", source="note")
    assert cal.aum_usd == pytest.approx(80e9 / abs(pos)) and cal.method == "position on date"
    with pytest.raises(InputError, match="disagree"):
        cta.calibrate(sp500, -80e9 if pos > 0 else 80e9, "2024-07-16")
    with pytest.raises(InputError, match="need at least"):
        cta.analyze(sp500.iloc[:200])
    with pytest.raises(InputError, match="before the first close"):
        cta.analyze(sp500, as_of="2022-01-03")
    with pytest.raises(InputError):
        cta.CtaParams(target_vol=0.0).validate()
    assert cta.analyze(sp500, aum=1e9).horizon == "this week"
