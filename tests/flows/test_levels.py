"""flows.levels: key levels with their distances, and the GEX rolling off at each event date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.levels import CALENDAR_COLUMNS, LEVEL_COLUMNS, expiry_calendar, key_levels


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


def test_same_day_events_merge():
    by_expiry = {
        "QQQ": pd.DataFrame(
            {
                "expiry": pd.to_datetime(["2027-03-19", "2027-03-31"]),
                "net_gex_usd_per_1pct": [1.0, 2.0],
                "gross_gex_usd_per_1pct": [1.0, 3.0],
            }
        )
    }
    cal = expiry_calendar(
        by_expiry,
        {"OPEX": ["2027-03-31"], "quarter end": ["2027-03-31"], "VIX expiry": ["2027-03-17"]},
        start="2027-03-01",
    )
    assert cal["events"].tolist() == ["OPEX, quarter end"]
    assert cal["gross_gex_usd_per_1pct"].tolist() == [3.0] and cal["expiries"].tolist() == [1]
    assert cal["share_of_gross"].tolist() == pytest.approx([0.75])  # 3 of 1 + 3


def test_calendar_lists_an_underlying_only_where_its_gex_rolls_off():
    """Hand-worked: SPX (dailies), NDX (monthlies) and VIX options around the December 2026
    VIX expiry (Wed 16th), OPEX (Fri 18th) and quarter end (Thu 31st).

    * Wed 16th: VIX's December options settle (gross 2 of VIX's 2 + 6 = 8 bn: share 0.25); SPX
      has a Wednesday daily that day (gross 1 of 1 + 4 + 5 = 10 bn: 0.1); NDX has nothing: no
      row (it used to be a row of zeros).
    * Fri 18th: SPX 4 bn (0.4), NDX 9 of 9 + 1 (0.9); VIX's next expiry is in January: no row.
    * Thu 31st: SPX 5 bn (0.5).  NDX's listed 31st expiry has no open interest (gross 0): no row.
    * The January VIX expiry (Wed 20th) and OPEX (Fri 15th): beyond ``count=3`` dates.
    """
    dates = lambda *d: pd.to_datetime(list(d))  # noqa: E731
    by_expiry = {
        "SPX": pd.DataFrame(
            {
                "expiry": dates("2026-12-16", "2026-12-18", "2026-12-31"),
                "net_gex_usd_per_1pct": [0.5e9, -2.0e9, 3.0e9],
                "gross_gex_usd_per_1pct": [1.0e9, 4.0e9, 5.0e9],
            }
        ),
        "NDX": pd.DataFrame(
            {
                "expiry": dates("2026-12-18", "2026-12-31", "2027-01-15"),
                "net_gex_usd_per_1pct": [-3.0e9, 0.0, 0.2e9],
                "gross_gex_usd_per_1pct": [9.0e9, 0.0, 1.0e9],
            }
        ),
        "VIX": pd.DataFrame(
            {
                "expiry": dates("2026-12-16", "2027-01-20"),
                "net_gex_usd_per_1pct": [-0.4e9, 1.5e9],
                "gross_gex_usd_per_1pct": [2.0e9, 6.0e9],
            }
        ),
    }
    events = {
        "OPEX": dates("2026-12-18", "2027-01-15"),
        "VIX expiry": dates("2026-12-16", "2027-01-20"),
        "quarter end": dates("2026-12-31"),
    }
    cal = expiry_calendar(by_expiry, events, start=pd.Timestamp("2026-12-01"), count=3)
    got = [
        (d.strftime("%m-%d"), e, u, n)
        for d, e, u, n in zip(
            cal["date"], cal["events"], cal["underlying"], cal["expiries"], strict=True
        )
    ]
    assert got == [
        ("12-16", "VIX expiry", "SPX", 1),
        ("12-16", "VIX expiry", "VIX", 1),
        ("12-18", "OPEX", "NDX", 1),
        ("12-18", "OPEX", "SPX", 1),
        ("12-31", "quarter end", "SPX", 1),
    ]
    assert cal["net_gex_usd_per_1pct"].tolist() == pytest.approx(
        [0.5e9, -0.4e9, -3.0e9, -2.0e9, 3.0e9]
    )
    assert cal["share_of_gross"].tolist() == pytest.approx([0.1, 0.25, 0.9, 0.4, 0.5])
    assert (cal["gross_gex_usd_per_1pct"] > 0).all()
    # without the VIX options the VIX expiry stays only where SPX has its Wednesday daily
    no_vix = expiry_calendar(
        {u: t for u, t in by_expiry.items() if u != "VIX"}, events, start="2026-12-01", count=6
    )
    assert no_vix.loc[no_vix["events"] == "VIX expiry", "underlying"].tolist() == ["SPX"]
    # the January VIX expiry has nothing rolling off without VIX options: the date is left out,
    # and the 4th remaining date is the January OPEX (NDX)
    assert no_vix["date"].dt.strftime("%Y-%m-%d").unique().tolist() == [
        "2026-12-16",
        "2026-12-18",
        "2026-12-31",
        "2027-01-15",
    ]


def test_calendar_without_anything_rolling_off_is_empty_with_its_columns():
    cal = expiry_calendar(
        {
            "SPY": pd.DataFrame(
                {
                    "expiry": pd.to_datetime(["2026-12-17"]),
                    "net_gex_usd_per_1pct": [1.0],
                    "gross_gex_usd_per_1pct": [1.0],
                }
            ),
            "IWM": pd.DataFrame(
                columns=["expiry", "net_gex_usd_per_1pct", "gross_gex_usd_per_1pct"]
            ),
        },
        {"OPEX": ["2026-12-18"]},
        start="2026-12-01",
    )
    assert cal.empty and list(cal.columns) == list(CALENDAR_COLUMNS)
    assert str(cal["date"].dtype) == "datetime64[ns]" and str(cal["expiries"].dtype) == "int64"
