"""The option product table: settlement instants from the exchange calendar, roots and levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows import products
from flows.products import Deliverable, classify_roots, settlement_instants
from flows.sources import cboe, cboe_quotes

NY = "America/New_York"


def local(t: pd.DatetimeIndex) -> list[str]:
    return [x.tz_convert(NY).strftime("%Y-%m-%d %H:%M") for x in t]


def test_every_required_product_is_in_the_table_with_its_rule() -> None:
    t = products.table_frame().set_index("root")
    am = {"SPX", "NDX", "RUT", "DJX", "VIX", "VIXW", "XSPAM"}
    for root in (
        "SPX",
        "SPXW",
        "SPXQ",
        "SPXPM",
        "NDX",
        "NDXP",
        "NQX",
        "RUT",
        "RUTW",
        "MRUT",
        "XSP",
        "DJX",
        "DJXW",
        "VIX",
        "VIXW",
        "XEO",
        "XND",
        "OEX",
    ):
        assert root in t.index, root
        assert t.loc[root, "settlement"] == ("AM" if root in am else "PM"), root
        assert t.loc[root, "multiplier"] == 100
    assert t.loc["VIX", "kind"] == t.loc["VIXW", "kind"] == "vix_future"
    assert (t.loc["OEX", "exercise"], t.loc["XEO", "exercise"]) == ("American", "European")
    # reduced-value indices priced off their base index
    assert t.loc["XSP", "level_vs_family"] == 0.1 and t.loc["XSP", "family"] == "SPX"
    assert t.loc["NQX", "level_vs_family"] == 0.2 and t.loc["XND", "level_vs_family"] == 0.01
    assert t.loc["MRUT", "level_vs_family"] == 0.1 and t.loc["MRUT", "family"] == "RUT"
    # ETFs and equities follow the default rule
    assert (
        products.product("SPY").settlement == "PM"
        and products.product("SPY").exercise == "American"
    )
    assert (
        products.product("SPY").underlying_kind == "etf"
        and products.product("MSTR").underlying_kind == "equity"
    )


def test_the_two_cdn_index_sets_are_one_set_from_the_table() -> None:
    # they used to disagree on MRUT, XND and XEO
    assert cboe.INDEX_SYMBOLS == cboe_quotes.INDEX_SYMBOLS == products.cdn_index_symbols()
    for sym in (
        "SPX",
        "XSP",
        "NDX",
        "XND",
        "RUT",
        "MRUT",
        "VIX",
        "DJX",
        "OEX",
        "XEO",
        "SOX",
        "SPESG",
        "NANOS",
    ):
        assert sym in cboe.INDEX_SYMBOLS, sym
        assert cboe.build_query(sym).url.endswith(f"/_{sym}.json")
        assert cboe_quotes.build_query(sym).url.endswith(f"/_{sym}.json")
    for sym in ("SPY", "QQQ", "MSTR", "SDS"):
        assert sym not in cboe.INDEX_SYMBOLS


def test_pm_series_settle_at_the_early_close() -> None:
    # the day after Thanksgiving 2025: NYSE closes at 13:00 ET; the AM monthly opens at 09:30
    t, moved = settlement_instants(["SPXW", "SPY", "SPX"], pd.to_datetime(["2025-11-28"] * 3))
    assert local(t) == ["2025-11-28 13:00", "2025-11-28 13:00", "2025-11-28 09:30"]
    assert not moved.any()
    # Christmas Eve 2025 (Wednesday) closes early too; 3 July 2025 as well
    t, _ = settlement_instants(["SPXW", "SPXW"], pd.to_datetime(["2025-12-24", "2025-07-03"]))
    assert local(t) == ["2025-12-24 13:00", "2025-07-03 13:00"]


def test_holiday_expiries_move_to_the_previous_session() -> None:
    # Good Friday 2026-04-03: the monthly settles on Thursday's open (AM) and close (PM)
    t, moved = settlement_instants(
        ["SPX", "SPXW", "SPY", "SPXW"],
        pd.to_datetime(["2026-04-03", "2026-04-03", "2026-04-03", "2026-04-02"]),
    )
    assert local(t) == [
        "2026-04-02 09:30",
        "2026-04-02 16:00",
        "2026-04-02 16:00",
        "2026-04-02 16:00",
    ]
    assert moved.tolist() == [True, True, True, False]
    # a VIX settlement Wednesday that is a holiday (New Year's Day 2025) moves to Tuesday's open
    t, moved = settlement_instants(["VIX", "VIXW"], pd.to_datetime(["2025-01-01", "2025-11-19"]))
    assert local(t) == ["2024-12-31 09:30", "2025-11-19 09:30"]
    assert moved.tolist() == [True, False]
    # across DST: 09:30 ET is 13:30 UTC in summer, 14:30 UTC in winter
    t, _ = settlement_instants(["SPX", "SPX"], pd.to_datetime(["2024-03-15", "2024-03-08"]))
    assert [x.strftime("%H:%M") for x in t] == ["13:30", "14:30"]


def test_missing_and_out_of_range_expiries_give_nat() -> None:
    t, moved = settlement_instants(
        ["SPY", "SPY", "SPY"], pd.to_datetime(["2099-01-16", None, "2026-01-16"])
    )
    assert t.isna().tolist() == [True, True, False]
    assert not moved.any()
    assert len(settlement_instants([], [])[0]) == 0


def test_settlement_instants_ns_is_the_same_rule_in_numpy() -> None:
    # every product of the table and plain roots, across both ends of the calendar (1990-01-01
    # is a holiday before the first session; 2041 is beyond it), holidays, early closes, NaT
    roots = [*products.PRODUCTS, "SPY", "MSTR", "ZZZ", "SDS1"]
    rng = np.random.default_rng(17)
    days = np.concatenate(
        [
            np.arange(np.datetime64("1989-12-20"), np.datetime64("1990-01-10")),
            np.arange(np.datetime64("2040-12-20"), np.datetime64("2041-01-05")),
            np.datetime64("1990-01-01") + rng.integers(0, 18_600, 4000).astype("timedelta64[D]"),
            np.array(["NaT"], dtype="datetime64[D]"),
        ]
    )
    each = [roots[i % len(roots)] for i in range(days.size)]
    expected = settlement_instants(each, days)[0].asi8
    got = products.settlement_instants_ns(each, days)
    assert got.dtype == np.int64 and np.array_equal(got, expected)
    assert (got == np.iinfo(np.int64).min).sum() >= 18  # NaT cases were covered
    pm = ["SPY"] * days.size  # no AM-settled root: the closes alone
    assert np.array_equal(
        products.settlement_instants_ns(pm, days), settlement_instants(pm, days)[0].asi8
    )
    with_time = days.astype("datetime64[ns]") + np.timedelta64(15, "h")  # any time of day
    assert np.array_equal(products.settlement_instants_ns(each, with_time), expected)
    assert products.settlement_instants_ns([], np.array([], dtype="datetime64[D]")).size == 0


def test_classify_roots_levels_deliverables_and_exclusions() -> None:
    c = classify_roots(["SPX", "SPXW", "XSP", "NANOS", "NDX", "SDS1", "ZZZ"], "SPX")
    assert c.loc[["SPX", "SPXW"], "status"].tolist() == ["standard"] * 2
    assert c.loc["XSP", "level_ratio"] == pytest.approx(0.1) and c.loc[
        "NANOS", "level_ratio"
    ] == pytest.approx(0.01)
    assert (
        c.loc["NDX", "status"] == "other underlying"
        and "not on the chain's underlying SPX" in c.loc["NDX", "reason"]
    )
    assert (
        c.loc["SDS1", "status"] == "non-standard"
        and "[gamma.deliverables]" in c.loc["SDS1", "reason"]
    )
    assert c.loc["ZZZ", "status"] == "non-standard"
    # an XSP chain sees SPX contracts at 10x its level
    assert classify_roots(["SPX"], "XSP").loc["SPX", "level_ratio"] == pytest.approx(10.0)
    # VIX options are priced off the future of their expiry
    v = classify_roots(["VIX", "VIXW"], "VIX")
    assert v["forward_priced"].tolist() == [True, True] and v["futures_tick"].tolist() == [
        0.05,
        0.05,
    ]
    # an adjusted series with a deliverable is modelled with it
    d = classify_roots(["SDS", "SDS1"], "SDS", {"sds1": Deliverable(shares=20)})
    assert (
        d.loc["SDS1", "status"] == "deliverable"
        and d.loc["SDS1", "units"] == 20
        and d.loc["SDS", "units"] == 100
    )
    # BRK.B's root BRKB is the chain's own underlying
    assert classify_roots(["BRKB"], "BRK.B").loc["BRKB", "status"] == "standard"
    with pytest.raises(ValueError):
        Deliverable(shares=0)
    with pytest.raises(ValueError):
        Deliverable(shares=10, cash=np.inf)
