"""Sample option chains: deterministic, in the real CBOE CSV/JSON layouts, read back by the real
parsers, with 0DTE/weekly/monthly expiries, round-strike OI clusters and a put skew."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from flows import calendars
from flows.greeks import bsm_gamma
from flows.sources import cboe, cboe_csv, sample_options
from flows.sources.sample_options import (
    PROFILES,
    RATE,
    profile_for,
    sample_options_json,
    sample_quotedata_csv,
)

NY = ZoneInfo("America/New_York")
WED = datetime(
    2026, 11, 18, 10, 30, tzinfo=NY
)  # a Wednesday, in session, the week of Nov monthly OPEX
SEED = 7


def _third_friday(year: int, month: int) -> pd.Timestamp:
    days = pd.date_range(f"{year}-{month:02d}-01", periods=31, freq="D")
    return days[(days.month == month) & (days.day_of_week == 4)][2]


def test_deterministic_by_seed_and_time() -> None:
    a = sample_quotedata_csv("SPX", WED, SEED)
    assert a == sample_quotedata_csv("SPX", WED, SEED)
    assert a != sample_quotedata_csv("SPX", WED, SEED + 1)
    assert sample_options_json("SPY", WED, SEED) == sample_options_json("SPY", WED, SEED)
    later = sample_quotedata_csv("SPX", WED.replace(minute=45), SEED)
    assert later != a

    # Open interest is published once a day: the same for two snapshots of one day.
    def oi(t: pd.Timestamp) -> pd.Series:
        return cboe.parse(sample_options_json("SPX", t, SEED)).contracts.set_index("symbol")[
            "open_interest"
        ]

    pd.testing.assert_series_equal(oi(WED), oi(WED.replace(minute=45)))


def test_csv_layout_matches_the_real_quote_table() -> None:
    text = sample_quotedata_csv("SPX", WED, SEED)
    lines = text.split("\n")
    assert lines[0] == ""
    assert lines[1].startswith("S&P 500 Index,Last: ") and ",Change: " in lines[1]
    assert lines[2].startswith('"Date: November 18, 2026 at 10:30 AM EST",Bid: ')
    assert lines[3] == ",".join(cboe_csv.HEADER)
    first = lines[4].split(",")
    assert len(first) == 22
    assert pd.Timestamp(first[0]).strftime("%a %b %d %Y") == first[0]
    assert first[1][:4] == "SPXW" or first[1][:3] == "SPX"


@pytest.mark.parametrize("underlying", ["SPX", "SPY", "NDX", "NVDA"])
def test_csv_and_json_go_through_the_real_parsers_and_agree(underlying: str) -> None:
    via_csv = cboe_csv.parse(
        sample_quotedata_csv(underlying, WED, SEED), source="sample", underlying=underlying
    )
    via_json = cboe.parse(sample_options_json(underlying, WED, SEED), source="sample")
    assert via_csv.underlying == via_json.underlying == underlying
    assert via_csv.spot == pytest.approx(via_json.spot)
    assert via_csv.as_of == via_json.as_of == pd.Timestamp(WED).tz_convert("UTC")
    a = via_csv.contracts.set_index("symbol").sort_index()
    b = via_json.contracts.set_index("symbol").sort_index()
    assert list(a.index) == list(b.index)
    assert len(a) > 300
    np.testing.assert_array_equal(a["open_interest"].to_numpy(), b["open_interest"].to_numpy())
    np.testing.assert_allclose(a["gamma"].to_numpy(), b["gamma"].to_numpy(), equal_nan=True)
    np.testing.assert_allclose(a["iv"].to_numpy(), b["iv"].to_numpy(), equal_nan=True)
    assert via_csv.skipped.empty and via_json.skipped.empty


def test_expiries_include_0dte_weeklies_and_monthlies_with_am_and_pm_roots() -> None:
    c = cboe.parse(sample_options_json("SPX", WED, SEED)).contracts
    exp = pd.to_datetime(c["expiry"])
    today = pd.Timestamp("2026-11-18")
    # 0DTE: today's PM-settled SPXW contracts are alive at 10:30 (settle 16:00 ET)
    zero = c[exp == today]
    assert len(zero) > 50 and set(zero["root"]) == {"SPXW"}
    assert (zero["settle_time"] > pd.Timestamp(WED)).all()
    # weeklies: Fridays that are not the third Friday
    fridays = sorted({d for d in exp if d.day_of_week == 4})
    assert pd.Timestamp("2026-11-27") in fridays and pd.Timestamp("2026-12-04") in fridays
    # monthly: third Friday, listed as AM-settled SPX (09:30 ET) and PM-settled SPXW
    nov = _third_friday(2026, 11)
    assert nov == pd.Timestamp("2026-11-20")
    roots = set(c.loc[exp == nov, "root"])
    assert roots == {"SPX", "SPXW"}
    am = c[(exp == nov) & (c["root"] == "SPX")]["settle_time"].iloc[0]
    assert am == pd.Timestamp("2026-11-20 09:30", tz=NY)
    spx = pd.to_datetime(pd.Series(c.loc[c["root"] == "SPX", "expiry"].unique()))
    # third Fridays, or the session before when the Friday is a holiday (Juneteenth observed on
    # Friday 2027-06-18: the June 2027 monthly is listed on Thursday 2027-06-17)
    assert set(spx.dt.day_of_week) == {3, 4}
    assert list(spx[spx.dt.day_of_week == 3]) == [pd.Timestamp("2027-06-17")]
    # dailies exist (Thursday tomorrow) and LEAPS years out
    assert pd.Timestamp("2026-11-19") in set(exp)
    assert exp.max() >= pd.Timestamp("2029-12-01")
    # single names: Friday weeklies only, no dailies
    n = cboe.parse(sample_options_json("NVDA", WED, SEED)).contracts
    nvda = pd.to_datetime(pd.Series(n["expiry"].unique()))
    assert set(nvda.dt.day_of_week) == {3, 4}  # Friday weeklies; holiday Fridays on the Thursday
    thursdays = nvda[nvda.dt.day_of_week == 3]
    assert set(thursdays) == {
        pd.Timestamp("2026-12-24"),
        pd.Timestamp("2026-12-31"),
        pd.Timestamp("2027-06-17"),
    }
    assert not calendars.is_session(
        thursdays + pd.Timedelta(days=1)
    ).any()  # Christmas, New Year, Juneteenth
    assert set(n["root"]) == {"NVDA"}


def test_open_interest_clusters_on_round_strikes() -> None:
    for underlying, big, small in (("SPX", 100, 25), ("SPY", 10, 5)):
        c = cboe.parse(sample_options_json(underlying, WED, SEED)).contracts
        spot = profile_for(underlying).spot
        near = c[(c["strike"] / spot - 1).abs() < 0.08]
        by_k = near.groupby("strike")["open_interest"].mean()
        k = by_k.index.to_numpy()
        on_big = np.isclose(np.mod(k, big), 0)
        on_small = np.isclose(np.mod(k, small), 0) & ~on_big
        off = ~np.isclose(np.mod(k, small), 0)
        assert on_big.sum() >= 5 and off.sum() >= 5
        assert by_k[on_big].mean() > 1.5 * by_k[on_small].mean() > 1.5 * by_k[off].mean()


def test_half_dollar_strikes_are_listed_and_kept_apart() -> None:
    c = cboe.parse(sample_options_json("SPY", WED, SEED)).contracts
    half = c[np.isclose(np.mod(c["strike"], 1.0), 0.5)]
    assert len(half) > 0
    assert (pd.to_datetime(half["expiry"]) <= pd.Timestamp("2026-11-25")).all()
    k = float(half["strike"].iloc[0])
    sym = half["symbol"].iloc[0]
    assert sym.endswith(f"{round(k * 1000):08d}") and sym.endswith("500")
    same_day = c[(c["expiry"] == half["expiry"].iloc[0]) & (c["type"] == half["type"].iloc[0])]
    assert {k - 0.5, k, k + 0.5} <= set(same_day["strike"])


def test_put_skew_and_term_structure() -> None:
    c = cboe.parse(sample_options_json("SPX", WED, SEED)).contracts
    c = c[(c["root"] == "SPX") & c["iv"].notna()]
    spot = float(cboe.parse(sample_options_json("SPX", WED, SEED)).spot)
    for expiry in sorted(c["expiry"].unique())[:4]:
        e = c[c["expiry"] == expiry]
        puts = e[(e["type"] == "P") & (e["strike"] < spot)]
        calls = e[(e["type"] == "C") & (e["strike"] > spot)]
        put_iv = puts.iloc[(puts["strike"] - spot * 0.95).abs().argsort()[:1]]["iv"].iloc[0]
        call_iv = calls.iloc[(calls["strike"] - spot * 1.05).abs().argsort()[:1]]["iv"].iloc[0]
        assert put_iv > call_iv + 0.01, (expiry, put_iv, call_iv)
        # monotone put wing: further OTM puts have higher IV
        wing = puts.sort_values("strike")
        assert wing["iv"].iloc[0] > wing["iv"].iloc[-1]


def test_file_gamma_is_consistent_with_flows_greeks() -> None:
    chain = cboe.parse(sample_options_json("SPY", WED, SEED))
    c = chain.contracts.dropna(subset=["iv", "gamma"])
    t = (c["settle_time"] - chain.as_of).dt.total_seconds().to_numpy() / (365.0 * 86400.0)
    model = bsm_gamma(
        chain.spot, c["strike"].to_numpy(), t, RATE, PROFILES["SPY"].q, c["iv"].to_numpy()
    )
    # the file rounds IV to 4 decimals and gamma to 6, as CBOE does
    np.testing.assert_allclose(c["gamma"].to_numpy(), model, rtol=2e-2, atol=2e-6)
    assert (c["gamma"] > 0).mean() > 0.9


def test_settled_and_worthless_contracts_carry_the_real_quirks() -> None:
    after_close = datetime(2026, 11, 18, 16, 31, tzinfo=NY)
    c = cboe.parse(sample_options_json("SPY", after_close, SEED)).contracts
    today = c[pd.to_datetime(c["expiry"]) == pd.Timestamp("2026-11-18")]
    assert len(today) > 0
    assert today["iv"].isna().all()  # IV 0 in the file -> NaN after parsing
    assert (today["settle_time"] <= pd.Timestamp(after_close)).all()


def test_spot_levels_are_plausible_and_unknown_symbols_work() -> None:
    for u, prof in PROFILES.items():
        chain = cboe.parse(sample_options_json(u, WED, SEED))
        assert 0.8 * prof.spot < chain.spot < 1.2 * prof.spot, u
    odd = cboe.parse(sample_options_json("ABCD", WED, SEED))
    assert odd.underlying == "ABCD" and 70 < odd.spot < 130
    assert json.loads(
        sample_options.sample_options_bytes("ABCD", WED, SEED)
    ) == sample_options_json("ABCD", WED, SEED)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        sample_options_json("SPX", datetime(2026, 11, 18, 10, 30), SEED)
