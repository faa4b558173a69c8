"""The vectorised leveraged-ETF engine against the plain per-fund reference on real universes.

:mod:`tests.reference.letf_reference` walks the funds one at a time with the rules written out
from the docstrings of :mod:`flows.letf`; every figure here must agree to 1e-9 relative.  The
default suite runs on the trimmed 2026-06-01 snapshot (``tests/data/letf``, 87 funds chosen to
cover every rule); the ``extended`` tests run on the five full snapshots of the shared folder.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flows import letf
from flows.sources import letf_universe
from jobs.config import LetfSettings
from tests.realdata import full, root, trimmed
from tests.reference import letf_reference as ref

PROXIES = dict(LetfSettings().index_proxies)
TRIMMED = "letf/leveraged_etf_data_2026-06-01_trimmed.csv"
FULL = [
    f"letf/pokedo0_leveraged_etf_data_{day}.csv"
    for day in ("2026-02-05", "2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01")
]
MOVES_PCT = {"QQQ": -3.2, "SPY": -2.1, "NVDA": -17.0, "TSLA": 4.5, "SOXX": -6.0, "IWM": 0.7}
"""Moves of the day (percent) for some underlyings; the others have none (NaN trade)."""
ADV_USD = {"QQQ": 22e9, "SPY": 35e9, "NVDA": 40e9, "TSLA": 28e9, "SOXX": 1.1e9}
GRID = [-10.0, -3.0, -0.5, 0.0, 1.0, 7.5]

CASES = [trimmed(TRIMMED, id="trimmed-2026-06-01")] + [
    full(path, id=f"full-{path[-14:-4]}") for path in FULL
]


def _universe(where: str, path: str, request: pytest.FixtureRequest) -> letf_universe.Universe:
    return letf_universe.read(root(request, where) / path)


def _records(funds: pd.DataFrame) -> list[dict]:
    return funds.to_dict("records")


@pytest.mark.parametrize(("where", "path"), CASES)
def test_each_fund_lands_in_the_same_group_for_the_same_reason(
    where: str, path: str, request: pytest.FixtureRequest
) -> None:
    universe = _universe(where, path, request)
    engine = letf.classify(universe.funds, PROXIES)
    got = list(zip(engine["underlying"], engine["group"], engine["exclusion"], strict=True))
    want = [ref.classify_fund(f, PROXIES) for f in _records(universe.funds)]
    assert got == want
    # every rule is exercised by the data (the trimmed file was cut to keep one of each)
    groups = {g for _, g, _ in want}
    categories = {c for _, _, c in want}
    assert {"equity", "crypto", "commodity", "excluded"} <= groups
    assert {
        "reset: weekly",
        "reset: monthly",
        "reset: quarterly",
        "reset: options-based",
        "reset: unknown",
        "non-equity underlying",
    } <= categories


@pytest.mark.parametrize(("where", "path"), CASES)
def test_per_underlying_sums_equal_the_per_fund_loop(
    where: str, path: str, request: pytest.FixtureRequest
) -> None:
    universe = _universe(where, path, request)
    flows = letf.fund_flows(letf.classify(universe.funds, PROXIES), MOVES_PCT)
    table = letf.by_underlying(flows, adv_usd=ADV_USD).set_index("underlying")
    want = ref.per_underlying(_records(universe.funds), PROXIES, MOVES_PCT, ADV_USD)
    assert set(table.index) == set(want)
    for underlying, row in want.items():
        got = table.loc[underlying]
        assert int(got["funds"]) == row["funds"], underlying
        for col in (
            "aum_usd",
            "long_per_1pct_usd",
            "inverse_per_1pct_usd",
            "per_1pct_usd",
            "rebalance_usd",
            "per_1pct_pct_adv",
        ):
            if math.isnan(row[col]):
                assert math.isnan(got[col]), (underlying, col)
            else:
                assert got[col] == pytest.approx(row[col], rel=1e-9, abs=1e-9), (underlying, col)
    # long and inverse funds trade the same way: the parts never offset
    assert (table["long_per_1pct_usd"] >= 0).all() and (table["inverse_per_1pct_usd"] >= 0).all()
    for name in ("QQQ", "SPY", "NVDA", "SOXX"):
        assert name in want and want[name]["funds"] >= 2
    # the day's trade: each underlying with a move, and no trade for one without
    moved = [u for u in want if u in MOVES_PCT]
    assert set(moved) == set(MOVES_PCT)
    assert all(math.isnan(want[u]["rebalance_usd"]) for u in want if u not in MOVES_PCT)


@pytest.mark.parametrize(("where", "path"), CASES)
def test_scenario_grid_equals_the_per_fund_loop(
    where: str, path: str, request: pytest.FixtureRequest
) -> None:
    universe = _universe(where, path, request)
    flows = letf.fund_flows(letf.classify(universe.funds, PROXIES))
    grid = letf.scenario_grid(flows, GRID)
    want = ref.scenario(_records(universe.funds), PROXIES, GRID)
    got = {
        (u, m): v
        for u, m, v in zip(grid["underlying"], grid["move_pct"], grid["rebalance_usd"], strict=True)
    }
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-6), key
    assert want[("TOTAL", -3.0)] < 0 < want[("TOTAL", 1.0)]  # every daily fund sells a fall
    assert all(want[(u, 0.0)] == 0.0 for u, m in want if m == 0.0)


@pytest.mark.parametrize(("where", "path"), CASES)
def test_excluded_assets_by_category_equal_the_per_fund_loop(
    where: str, path: str, request: pytest.FixtureRequest
) -> None:
    universe = _universe(where, path, request)
    flows = letf.fund_flows(letf.classify(universe.funds, PROXIES))
    engine = letf.excluded_aum(flows, universe.skipped).set_index("category")
    want, universe_aum = ref.excluded_by_category(
        _records(universe.funds), PROXIES, universe.skipped["aum_usd"].tolist()
    )
    assert set(engine.index) == set(want)
    for category, (n, aum) in want.items():
        assert int(engine.loc[category, "funds"]) == n, category
        assert engine.loc[category, "aum_usd"] == pytest.approx(aum, rel=1e-9, abs=1e-6), category
        assert engine.loc[category, "share_pct"] == pytest.approx(
            100.0 * aum / universe_aum, rel=1e-9, abs=1e-12
        ), category
    # what is left out plus what is counted is the whole universe (every fund is one or the other)
    assert float(engine["aum_usd"].sum()) + letf.included_aum(flows) == pytest.approx(
        universe_aum, rel=1e-12
    )


def test_reference_trade_is_the_docstring_worked_check() -> None:
    """The reference itself: a -3x fund with assets 100 after a -10 % move sells 120 (module
    docstring), a 1x long fund never trades, and long and inverse funds trade the same way."""
    assert ref.trade_usd(100.0, -3.0, -0.10) == pytest.approx(-120.0)
    assert ref.trade_usd(100.0, 1.0, 0.2) == 0.0
    for lev in (3.0, 2.0, -1.0, -2.0, -3.0):
        assert np.sign(ref.trade_usd(1e6, lev, -0.05)) == -1.0
        assert ref.trade_usd(1e6, lev, 0.01) == pytest.approx(ref.per_1pct_usd(1e6, lev), rel=1e-12)
