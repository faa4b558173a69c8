"""VIX futures ETPs: the S&P VIX futures index returns computed by hand from the settlements on
volatile days (Feb 2018, Mar 2020, Aug 2015), the roll schedule, each fund's rebalance, re-leverage
and roll (and that they add up), contracts, scenarios, exclusions, the universe file."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from flows import calendars, vixetp
from flows.errors import InputError
from flows.sources import cboe_vx, vixetp_universe
from tests.reference import systematic_reference as ref

HOLIDAYS = {date(2018, 1, 15), date(2018, 2, 19), date(2020, 2, 17), date(2015, 9, 7)}
"""Exchange holidays inside the roll periods below (MLK 2018, Presidents' Day 2018 and 2020, Labor Day 2015)."""


@pytest.fixture(scope="module")
def vx(test_data) -> pd.DataFrame:
    frame, _ = cboe_vx.read_dir(test_data / "vix_futures")
    return frame


@pytest.fixture(scope="module")
def indices(vx) -> dict[str, vixetp.IndexHistory]:
    return {
        "short_term": vixetp.index_history(vx, vixetp.SHORT_TERM),
        "mid_term": vixetp.index_history(vx, vixetp.MID_TERM),
    }


@pytest.fixture(scope="module")
def universe() -> pd.DataFrame:
    return vixetp_universe.read()


def row(ih: vixetp.IndexHistory, day: str) -> pd.Series:
    return ih.table.set_index("date").loc[pd.Timestamp(day)]


# -- the index by hand ---------------------------------------------------------------------------
def test_feb_5_2018_short_term_return_by_hand(indices) -> None:
    """Held over 2018-02-05 (set at the close of Friday 2018-02-02): the roll period runs from the
    January settlement (2018-01-17) to the February one (2018-02-14)."""
    dt = ref.business_days(
        date(2018, 1, 17), date(2018, 2, 14), HOLIDAYS
    )  # 11 January + 9 February days
    dr = ref.business_days(
        date(2018, 2, 5), date(2018, 2, 14), HOLIDAYS
    )  # Feb 5, 6, 7, 8, 9, 12, 13
    assert (dt, dr) == (20, 7)
    w = dr / dt
    g18 = (15.625, 33.225)  # VXG18 settle on 2018-02-02 and 2018-02-05
    h18 = (14.975, 27.975)  # VXH18
    by_hand = (w * g18[1] + (1 - w) * h18[1]) / (w * g18[0] + (1 - w) * h18[0]) - 1
    assert by_hand == pytest.approx(29.8125 / 15.2025 - 1) and by_hand == pytest.approx(
        0.961026, abs=1e-6
    )
    r = row(indices["short_term"], "2018-02-05")
    assert (r["front"], r["second"]) == ("VXG18", "VXH18")
    assert r["front_weight"] == pytest.approx(0.35) and r["second_weight"] == pytest.approx(0.65)
    assert r["index_return"] == pytest.approx(by_hand, rel=1e-12)
    assert r["held_value_pts"] == pytest.approx(w * g18[1] + (1 - w) * h18[1])


def test_mar_16_2020_short_term_return_by_hand(indices) -> None:
    dt = ref.business_days(date(2020, 2, 19), date(2020, 3, 18), HOLIDAYS)
    dr = ref.business_days(date(2020, 3, 16), date(2020, 3, 18), HOLIDAYS)
    assert (dt, dr) == (20, 2)
    w = dr / dt
    by_hand = (w * 72.625 + (1 - w) * 59.15) / (
        w * 53.425 + (1 - w) * 43.9
    ) - 1  # VXH20, VXJ20 on 03-13 and 03-16
    assert by_hand == pytest.approx(0.348810, abs=1e-6)
    r = row(indices["short_term"], "2020-03-16")
    assert (r["front"], r["second"], r["front_weight"]) == ("VXH20", "VXJ20", pytest.approx(0.1))
    assert r["index_return"] == pytest.approx(by_hand, rel=1e-12)


def test_aug_24_2015_from_the_disclaimer_layout(indices) -> None:
    dt = ref.business_days(date(2015, 8, 19), date(2015, 9, 16), HOLIDAYS)
    dr = ref.business_days(date(2015, 8, 24), date(2015, 9, 16), HOLIDAYS)
    assert (dt, dr) == (19, 16)
    w = dr / dt
    by_hand = (w * 25.125 + (1 - w) * 22.50) / (
        w * 19.90 + (1 - w) * 18.625
    ) - 1  # VXU15, VXV15 on 08-21 and 08-24
    r = row(indices["short_term"], "2015-08-24")
    assert (r["front"], r["second"]) == ("VXU15", "VXV15") and r["index_return"] == pytest.approx(
        by_hand, rel=1e-12
    )
    assert by_hand == pytest.approx(0.254425, abs=1e-6)


def test_roll_schedule_around_a_settlement(indices) -> None:
    st = indices["short_term"]
    # Tuesday before the Wednesday settlement: the close already holds only the next contract
    tue = row(st, "2018-02-13")
    assert (tue["front_close"], tue["front_weight_close"]) == ("VXH18", 1.0) and tue[
        "second_weight_close"
    ] == 0.0
    # the settlement day: new roll period 2018-02-14 .. 2018-03-21 (24 sessions), 23 remain
    wed = row(st, "2018-02-14")
    assert (wed["dt"], wed["dr"]) == (24, 23) and wed["front_weight_close"] == pytest.approx(
        23 / 24
    )
    assert ref.business_days(date(2018, 2, 14), date(2018, 3, 21), HOLIDAYS) == 24
    # so the expiring VXG18 never enters the index on its settlement day
    assert (wed["front"], wed["front_weight"]) == ("VXH18", 1.0)
    assert wed["index_return"] == pytest.approx(17.875 / 19.825 - 1)
    # weights always sum to one; the index level compounds the returns
    t = st.table.dropna(subset=["index_return"])
    np.testing.assert_allclose(t["front_weight"] + t["second_weight"], 1.0)
    lv = st.table.set_index("date")["index_level"]
    assert lv.loc["2018-02-05"] / lv.loc["2018-02-02"] == pytest.approx(1 + 0.9610261470, rel=1e-9)


def test_mid_term_by_hand(indices) -> None:
    """Months 4-7 on 2018-02-05: VXK18 rolls into VXQ18 (same dr/dt = 7/20), VXM18 and VXN18 held."""
    w = 7 / 20
    now = (
        w * 20.95 + 19.375 + 19.425 + (1 - w) * 20.425
    )  # K, M, N, Q on 2018-02-05 (the /3 cancels)
    prev = w * 15.275 + 15.425 + 15.825 + (1 - w) * 15.925
    r = row(indices["mid_term"], "2018-02-05")
    assert [r["m4"], r["m5"], r["m6"], r["m7"]] == ["VXK18", "VXM18", "VXN18", "VXQ18"]
    assert [r["m4_weight"], r["m5_weight"], r["m6_weight"], r["m7_weight"]] == pytest.approx(
        [w / 3, 1 / 3, 1 / 3, (1 - w) / 3]
    )
    assert r["index_return"] == pytest.approx(now / prev - 1, rel=1e-12) and r[
        "index_return"
    ] == pytest.approx(0.265429, abs=1e-6)


def test_missing_contracts_give_no_return(indices) -> None:
    # VXV20 is not in the trimmed data: the mid-term index starts rolling into it at the close
    # of 2020-03-17 (weight 0 that evening), so 2020-03-19 is the first session it is missing for
    assert np.isfinite(row(indices["mid_term"], "2020-03-18")["index_return"])
    assert np.isnan(row(indices["mid_term"], "2020-03-19")["index_return"])
    assert np.isfinite(row(indices["mid_term"], "2020-03-16")["index_return"])


# -- the funds ---------------------------------------------------------------------------------
ASSETS = {
    "XIV": 1.6e9,
    "SVXY": 1.3e9,
    "UVXY": 0.9e9,
    "TVIX": 1.2e9,
    "VXX": 1.0e9,
    "VIXY": 0.3e9,
    "VIXM": 0.05e9,
    "VXZ": 0.02e9,
}


def test_fund_trades_on_feb_5_2018(indices, universe) -> None:
    day = pd.Timestamp("2018-02-05")
    flows = vixetp.day_flows(indices, universe, ASSETS, day)
    f = flows.funds.set_index("ticker")
    assert set(f.index) == set(ASSETS)  # the eight funds alive on that day
    r = 0.9610261470152934
    value = 0.35 * 33.225 + 0.65 * 27.975  # VIX points per unit of index held over the day
    for t, lev in {
        "XIV": -1.0,
        "SVXY": -1.0,
        "UVXY": 2.0,
        "TVIX": 2.0,
        "VXX": 1.0,
        "VIXY": 1.0,
    }.items():
        assert f.loc[t, "leverage"] == lev and f.loc[t, "index_return"] == pytest.approx(r)
        reb = ASSETS[t] * (lev * lev - lev) * r
        assert f.loc[t, "rebalance_usd"] == pytest.approx(reb, rel=1e-12)
        assert f.loc[t, "rebalance_contracts"] == pytest.approx(reb / (value * 1000.0), rel=1e-12)
        assert f.loc[t, "vega_usd_per_vol_pt"] == pytest.approx(
            f.loc[t, "rebalance_contracts"] * 1000.0
        )
    # XIV: -1x on USD 1.6 bn after a +96 % day must buy 2 x 1.6 x 0.961 = USD 3.08 bn of VX futures
    assert (
        f.loc["XIV", "rebalance_usd"] == pytest.approx(3.075e9, rel=1e-3)
        and f.loc["XIV", "rebalance_contracts"] > 100_000
    )
    assert f.loc["VXX", "rebalance_usd"] == 0.0 and f.loc["VIXM", "rebalance_usd"] == 0.0
    # long and inverse funds trade the same way
    assert (f.loc[["XIV", "SVXY", "UVXY", "TVIX"], "rebalance_usd"] > 0).all()
    # the roll: long funds sell the front and buy the second, inverse funds the reverse
    assert (
        f.loc["VXX", "roll_out_contracts"] < 0 < f.loc["VXX", "roll_in_contracts"]
        and f.loc["VXX", "roll_usd"] > 0
    )
    assert (
        f.loc["SVXY", "roll_out_contracts"] > 0 > f.loc["SVXY", "roll_in_contracts"]
        and f.loc["SVXY", "roll_usd"] < 0
    )
    # exposure after the close
    assert f.loc["UVXY", "position_usd"] == pytest.approx(2.0 * 0.9e9 * (1 + 2 * r))
    assert f.loc["XIV", "position_usd"] == pytest.approx(-1.6e9 * (1 - r))
    # everything adds up: contracts x settle x USD 1,000 over the contracts = the funds' net USD
    bc = flows.by_contract
    usd = float((bc["total_contracts"] * bc["settle"] * 1000.0).sum())
    assert usd == pytest.approx(float(f["net_usd"].sum()), rel=1e-9)
    assert float((bc["roll_contracts"] * bc["settle"]).sum()) == pytest.approx(0.0, abs=1e-3)
    g18 = bc.set_index("contract").loc["VXG18"]
    assert g18["volume"] == 567407 and g18["pct_of_volume"] == pytest.approx(
        100 * abs(g18["total_contracts"]) / 567407
    )


def test_one_fund_by_hand_trade_per_contract(indices, universe) -> None:
    """VXX (1x, USD 1 bn) on 2018-02-05: no rebalance, only the roll from the close's weights
    (VXG18 0.35, VXH18 0.65 held) to the new ones (0.30 / 0.70), at the day's settles."""
    flows = vixetp.day_flows(
        indices, universe[universe["ticker"] == "VXX"], {"VXX": 1e9}, pd.Timestamp("2018-02-05")
    )
    g, h = 33.225, 27.975
    e1 = 1e9 * (1 + 0.9610261470152934)
    s_old = 0.35 * g / (0.35 * g + 0.65 * h)
    s_new = 0.30 * g / (0.30 * g + 0.70 * h)
    bc = flows.by_contract.set_index("contract")
    assert bc.loc["VXG18", "roll_contracts"] == pytest.approx(
        e1 * (s_new - s_old) / (g * 1000), rel=1e-12
    )
    assert bc.loc["VXH18", "roll_contracts"] == pytest.approx(
        e1 * (s_old - s_new) / (h * 1000), rel=1e-12
    )
    assert flows.funds["roll_usd"].iloc[0] == pytest.approx(e1 * (s_old - s_new), rel=1e-12)


def test_leverage_change_of_feb_27_2018(indices, universe) -> None:
    day = pd.Timestamp("2018-02-27")
    f = vixetp.day_flows(indices, universe, {"UVXY": 0.9e9, "SVXY": 0.3e9}, day).funds.set_index(
        "ticker"
    )
    r = (
        2 / 3 * 17.525 + 1 / 3 * 17.175
    ) / 16.175 - 1  # VXH18, VXJ18 (both 16.175 on 02-26), w = 16/24
    assert f.loc["UVXY", "index_return"] == pytest.approx(r, rel=1e-12)
    assert (f.loc["UVXY", "leverage"], f.loc["UVXY", "leverage_next"]) == (2.0, 1.5)
    assert (f.loc["SVXY", "leverage"], f.loc["SVXY", "leverage_next"]) == (-1.0, -0.5)
    assert f.loc["UVXY", "releverage_usd"] == pytest.approx(
        -0.5 * 0.9e9 * (1 + 2 * r)
    )  # sells half a unit of assets
    assert f.loc["SVXY", "releverage_usd"] == pytest.approx(0.5 * 0.3e9 * (1 - r))  # buys back half
    assert f.loc["UVXY", "net_usd"] == pytest.approx(0.9e9 * 2 * r - 0.5 * 0.9e9 * (1 + 2 * r))
    assert f.loc["UVXY", "position_usd"] == pytest.approx(1.5 * 0.9e9 * (1 + 2 * r))
    nxt = vixetp.day_flows(
        indices, universe, {"UVXY": 1e9}, pd.Timestamp("2018-02-28")
    ).funds.set_index("ticker")
    assert nxt.loc["UVXY", "leverage"] == 1.5 and nxt.loc["UVXY", "releverage_usd"] == 0.0


def test_analyze_headline_scenarios_and_exclusions(vx, universe) -> None:
    rep = vixetp.analyze(vx, universe, ASSETS, date="2018-02-05")
    h = rep.headline
    assert (h["front"], h["second"], h["front_weight"]) == ("VXG18", "VXH18", pytest.approx(0.35))
    assert h["index_return"] == pytest.approx(0.961026147, rel=1e-9) and h[
        "mid_index_return"
    ] == pytest.approx(0.265429, abs=1e-6)
    assert (
        h["rebalance_usd"] == pytest.approx(rep.funds["rebalance_usd"].sum()) and rep.excluded.empty
    )
    # scenarios: the next close, from the assets after 2018-02-05's close, linear in the move
    s = rep.scenarios.set_index("move_pct")
    assert len(s) == 41 and s.loc[0.0, "rebalance_usd"] == 0.0
    f = rep.funds.set_index("ticker")
    a_after = f["aum_prev_usd"] * (1 + f["leverage"] * f["index_return"])
    per_1pct = float((a_after * (f["leverage_next"] ** 2 - f["leverage_next"]) * 0.01).sum())
    assert h["per_1pct_usd"] == pytest.approx(per_1pct, rel=1e-12)
    assert s.loc[10.0, "rebalance_usd"] == pytest.approx(10 * per_1pct) and s.loc[
        -20.0, "rebalance_usd"
    ] == pytest.approx(-20 * per_1pct)
    value_after = 0.30 * 33.225 + 0.70 * 27.975  # the close's weights at the close's settles
    assert s.loc[10.0, "rebalance_contracts"] == pytest.approx(
        10 * per_1pct / (value_after * 1.10 * 1000), rel=1e-9
    )
    assert s.loc[10.0, "long_funds_usd"] + s.loc[10.0, "inverse_funds_usd"] == pytest.approx(
        s.loc[10.0, "rebalance_usd"]
    )
    # 2020-03-19: the mid-term funds have no index return in the trimmed data; no assets for SVXY
    rep = vixetp.analyze(vx, universe, {"UVXY": 1e9, "VIXM": 1e8}, date="2020-03-19")
    reasons = rep.excluded.set_index("ticker")["reason"]
    assert "no mid_term index return on 2020-03-19" in reasons["VIXM"] and reasons[
        "SVXY"
    ].startswith("no assets")
    assert rep.funds["ticker"].tolist() == ["UVXY"]
    with pytest.raises(InputError, match="no VX settlements on 2018-02-10"):
        vixetp.analyze(vx, universe, ASSETS, date="2018-02-10")


def test_rebalance_history_agrees_with_day_flows(indices, universe) -> None:
    nav = pd.DataFrame(
        {
            "date": pd.to_datetime(["2018-02-02", "2018-02-05", "2018-02-26", "2018-02-27"]),
            "ticker": ["UVXY"] * 4,
            "aum_usd": [0.9e9, 2.6e9, 1.0e9, 1.1e9],
        }
    )
    hist = vixetp.rebalance_history(indices, universe, nav).set_index("date")
    for day, prev_aum in (("2018-02-05", 0.9e9), ("2018-02-27", 1.0e9)):
        f = vixetp.day_flows(
            indices, universe, {"UVXY": prev_aum}, pd.Timestamp(day)
        ).funds.set_index("ticker")
        assert hist.loc[day, "rebalance_usd"] == pytest.approx(
            f.loc["UVXY", "rebalance_usd"], rel=1e-12
        )
        assert hist.loc[day, "rebalance_contracts"] == pytest.approx(
            f.loc["UVXY", "rebalance_contracts"], rel=1e-12
        )
    assert (
        hist.loc["2018-02-28", "leverage"] == 1.5
        and hist.loc["2018-02-28", "aum_prev_usd"] == 1.1e9
    )
    before = vixetp.assets_before(nav, "2018-02-27")
    assert before.to_dict("records") == [
        {"ticker": "UVXY", "aum_usd": 1.0e9, "as_of": pd.Timestamp("2018-02-26")}
    ]


def test_contract_table_and_weights_cover_the_calendar() -> None:
    table = vixetp.contract_table(pd.Timestamp("2018-01-02"), pd.Timestamp("2018-03-01"))
    assert table["contract"].iloc[0] == "VXZ17" and "VXG18" in set(table["contract"])
    exp = pd.DatetimeIndex(table["expiry"])
    assert exp.is_monotonic_increasing and exp[table["contract"] == "VXG18"][0] == pd.Timestamp(
        "2018-02-14"
    )
    days = calendars.sessions_in("2018-01-02", "2018-03-01")
    legs, w, dr, dt = vixetp.roll_weights(days, exp)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert (dr <= dt).all() and (dr >= 1).all()
    with pytest.raises(InputError):
        vixetp.roll_weights(days, exp[:2])


# -- the universe file -----------------------------------------------------------------------------
def test_shipped_universe(universe) -> None:
    live = vixetp.active_funds(
        universe, pd.Timestamp("2026-07-24"), pd.Timestamp("2026-07-27")
    ).set_index("ticker")
    assert set(live.index) == {"VXX", "VIXY", "UVXY", "SVXY", "UVIX", "SVIX", "VIXM", "VXZ"}
    assert (
        live.loc["UVXY", "leverage"] == 1.5
        and live.loc["SVXY", "leverage"] == -0.5
        and live.loc["UVIX", "leverage"] == 2.0
    )
    assert live.loc["VIXM", "index"] == "mid_term" and live["sample_aum_usd"].gt(0).all()
    old = vixetp.active_funds(
        universe, pd.Timestamp("2018-02-05"), pd.Timestamp("2018-02-06")
    ).set_index("ticker")
    assert (
        old.loc["UVXY", "leverage"] == 2.0
        and old.loc["XIV", "leverage"] == -1.0
        and "UVIX" not in old.index
    )
    end = vixetp.active_funds(
        universe, pd.Timestamp("2018-02-15"), pd.Timestamp("2018-02-16")
    ).set_index("ticker")
    assert end.loc["XIV", "leverage_next"] == 0.0  # the last day of XIV's period


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ("ABC,x,y,short_term,4,2020-01-01,,1,", "leverage", "plausible range"),
        ("ABC,x,y,long_term,1,2020-01-01,,1,", "line 2, column 'index'", "index must be one of"),
        ("ABC,x,y,short_term,1,01/02/2020,,1,", "line 2, column 'valid_from'", "not a date"),
        ("ABC,x,y,short_term,0,2020-01-01,,1,", "line 2, column 'leverage'", "non-zero"),
    ],
)
def test_universe_errors(line: str, field: str, reason: str) -> None:
    head = "ticker,name,issuer,index,leverage,valid_from,valid_to,sample_aum_usd,note\n"
    with pytest.raises(InputError) as err:
        vixetp_universe.parse((head + line + "\n").encode(), "u.csv")
    assert err.value.field == field and reason in err.value.reason
    overlap = (
        head
        + "ABC,x,y,short_term,2,2020-01-01,2020-06-30,,\nABC,x,y,short_term,1.5,2020-06-30,,1,\n"
    )
    with pytest.raises(InputError, match="overlaps"):
        vixetp_universe.parse(overlap.encode(), "u.csv")


# -- the full shared folder -------------------------------------------------------------------------
@pytest.mark.extended
def test_every_session_against_a_plain_loop(shared_data) -> None:
    frame, _ = cboe_vx.read_dir(shared_data / "vix_futures")
    st = vixetp.index_history(frame, vixetp.SHORT_TERM)
    settle = {
        (c, d): s for c, d, s in zip(frame["contract"], frame["date"], frame["settle"], strict=True)
    }
    sessions = list(st.dates)
    expiries = list(pd.DatetimeIndex(st.contracts["expiry"]))
    codes = list(st.contracts["contract"])
    # NYSE holidays written independently of exchange-calendars: US federal holidays without
    # Columbus and Veterans Day, plus Good Friday, plus the 2018-12-05 national day of mourning
    from dateutil.easter import easter

    federal = calendars.us_federal_holidays(range(2013, 2021)).date
    hol = {d for d in federal if d.month != 10 and not (d.month == 11 and d.day <= 12)}
    hol |= {easter(y) - pd.Timedelta(days=2).to_pytimedelta() for y in range(2013, 2021)} | {
        date(2018, 12, 5)
    }

    def held(day: pd.Timestamp) -> tuple[str, str, float]:
        nb = day + pd.Timedelta(days=1)
        while nb.weekday() >= 5 or nb.date() in hol:
            nb += pd.Timedelta(days=1)
        k = next(i for i, e in enumerate(expiries) if e > nb)
        dt = ref.business_days(expiries[k - 1].date(), expiries[k].date(), hol)
        dr = ref.business_days(nb.date(), expiries[k].date(), hol)
        return codes[k], codes[k + 1], dr / dt

    checked = 0
    for i in range(1, len(sessions)):
        day, prev = sessions[i], sessions[i - 1]
        if prev < pd.Timestamp("2013-08-01") or day > pd.Timestamp("2020-08-14"):
            continue
        a, b, w = held(prev)
        want = (w * settle[(a, day)] + (1 - w) * settle[(b, day)]) / (
            w * settle[(a, prev)] + (1 - w) * settle[(b, prev)]
        ) - 1
        assert st.table["index_return"].iloc[i] == pytest.approx(want, rel=1e-12, abs=1e-14), day
        checked += 1
    assert checked > 1750
