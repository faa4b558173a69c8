"""flows.levels: key levels with their distances, and the GEX rolling off at each event date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.levels import LEVEL_COLUMNS, expiry_calendar, key_levels


def test_key_levels_distances_by_hand():
    heads = {
        "SPX": {
            "spot": 5000.0,
            "flip": 4900.0,
            "call_wall": 5100.0,
            "put_wall": 4800.0,
            "abs_gamma_strike": 5000.0,
            "zero_dte_share": 0.25,
            "net_gex_usd_per_1pct": 2.3e10,
            "regime": "long gamma",
        },
        "NDX": {
            "spot": 20000.0,
            "flip": None,
            "call_wall": 21000.0,
            "put_wall": 19000.0,
            "abs_gamma_strike": 20500.0,
            "regime": "short gamma",
        },
    }
    t = key_levels(heads).set_index("underlying")
    assert list(key_levels(heads).columns) == list(LEVEL_COLUMNS)
    assert t.loc["SPX", "flip_distance_pct"] == pytest.approx(-2.0)  # 4900 / 5000 - 1
    assert t.loc["SPX", "call_wall_distance_pct"] == pytest.approx(2.0)
    assert t.loc["SPX", "put_wall_distance_pct"] == pytest.approx(-4.0)
    assert t.loc["SPX", "abs_gamma_strike_distance_pct"] == pytest.approx(0.0)
    assert t.loc["NDX", "call_wall_distance_pct"] == pytest.approx(5.0)  # 21000 / 20000 - 1
    assert (
        np.isnan(t.loc["NDX", "flip"])
        and np.isnan(t.loc["NDX", "flip_distance_pct"])
        and np.isnan(t.loc["NDX", "zero_dte_share"])
    )
    assert t.loc["NDX", "regime"] == "short gamma"


def test_expiry_calendar_rolls_off_each_event():
    by_expiry = {
        "SPX": pd.DataFrame(
            {
                "expiry": pd.to_datetime(["2026-12-16", "2026-12-18", "2026-12-31", "2027-01-15"]),
                "net_gex_usd_per_1pct": [1.0e9, 4.0e9, -2.0e9, 3.0e9],
                "gross_gex_usd_per_1pct": [2.0e9, 10.0e9, 4.0e9, 4.0e9],
            }
        )
    }
    events = {
        "OPEX": pd.to_datetime(["2026-11-20", "2026-12-18", "2027-01-15"]),
        "VIX expiry": pd.to_datetime(["2026-12-16"]),
        "quarter end": pd.to_datetime(["2026-12-31"]),
    }
    cal = expiry_calendar(by_expiry, events, start=pd.Timestamp("2026-11-30"), count=3)
    assert cal["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-12-16",
        "2026-12-18",
        "2026-12-31",
    ]  # the November OPEX is past
    assert cal["events"].tolist() == ["VIX expiry", "OPEX", "quarter end"]
    # gross of every expiry = 20 bn: the December OPEX rolls off 10 / 20 = half of it
    assert cal["share_of_gross"].tolist() == pytest.approx([0.1, 0.5, 0.2])
    assert cal["net_gex_usd_per_1pct"].tolist() == pytest.approx([1.0e9, 4.0e9, -2.0e9])
    assert cal["expiries"].tolist() == [1, 1, 1]


def test_same_day_events_merge_and_empty_days_say_zero():
    by_expiry = {
        "QQQ": pd.DataFrame(
            {
                "expiry": pd.to_datetime(["2027-03-19"]),
                "net_gex_usd_per_1pct": [1.0],
                "gross_gex_usd_per_1pct": [1.0],
            }
        )
    }
    cal = expiry_calendar(
        by_expiry,
        {"OPEX": ["2027-03-19"], "quarter end": ["2027-03-31"], "VIX expiry": ["2027-03-17"]},
        start="2027-03-01",
    )
    assert cal["events"].tolist() == ["VIX expiry", "OPEX", "quarter end"]
    assert cal["gross_gex_usd_per_1pct"].tolist() == [0.0, 1.0, 0.0] and cal[
        "expiries"
    ].tolist() == [0, 1, 0]
