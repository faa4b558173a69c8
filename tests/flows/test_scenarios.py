"""The de-risking scenario engine: components add up, and match independent computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flows import letf, scenarios
from flows.errors import InputError
from flows.gamma import GammaParams, analyze
from flows.sources import cboe_csv, letf_universe
from tests.realdata import FULL, TRIMMED, full, root, trimmed

R, Q = 0.05, 0.013


def _ndtr(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _slow_dealer_delta(
    contracts: pd.DataFrame, spot: float, shock: float = 0.0, dt_years: float = 0.0
) -> float:
    """Obvious per-contract loop: 100 * sum(w * BSM delta), calls +OI / puts -OI."""
    total = 0.0
    for row in contracts.itertuples():
        t, iv = row.t_years, row.iv_used
        if not (t > 0 and iv > 0) or row.open_interest == 0:
            continue
        t = max(t - dt_years, 1e-8)
        sig = max(iv + shock, 1e-4)
        d1 = (math.log(spot / row.strike) + (R - Q + 0.5 * sig * sig) * t) / (sig * math.sqrt(t))
        dq = math.exp(-Q * t)
        delta = dq * _ndtr(d1) if row.type == "C" else -dq * _ndtr(-d1)
        w = row.open_interest if row.type == "C" else -row.open_interest
        total += w * delta
    return 100.0 * total


INPUTS = {
    TRIMMED: (
        "options/spx_quotedata_2023-09-14_trimmed.csv",
        "letf/leveraged_etf_data_2026-06-01_trimmed.csv",
    ),
    FULL: (
        "options/spx_quotedata_2023-09-14.csv",
        "letf/pokedo0_leveraged_etf_data_2026-02-05.csv",
    ),
}
"""The real SPX quote table and a real leveraged-ETF universe: trimmed copies (default) and the
full files (extended)."""


@pytest.fixture(scope="module", params=[trimmed(id=TRIMMED), full(id=FULL)])
def where(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def spx_report(where: str, request: pytest.FixtureRequest):
    chain = cboe_csv.read_file(root(request, where) / INPUTS[where][0])
    return chain, analyze(chain, GammaParams(r=R, q=Q))


@pytest.fixture(scope="module")
def letf_funds(where: str, request: pytest.FixtureRequest):
    universe = letf_universe.read(root(request, where) / INPUTS[where][1]).funds
    flows = letf.fund_flows(letf.classify(universe))
    return flows[flows["group"] == letf.EQUITY][
        ["ticker", "underlying", "leverage", "aum_usd", "per_1pct_usd", "group"]
    ]


def _book(chain, report, convention="calls_long_puts_short"):
    return scenarios.dealer_book(
        report.contracts, underlying="SPX", spot=chain.spot, r=R, q=Q, convention=convention
    )


def test_dealer_flows_match_a_brute_force_repricing(spx_report) -> None:
    chain, report = spx_report
    book = _book(chain, report)
    contracts = report.contracts
    S = chain.spot
    flows = scenarios.dealer_flows(book, [-3.0, 2.0], iv_shocks_pts=[5.0], hours_to_close=6.5)
    d0 = _slow_dealer_delta(contracts, S)
    dt = 6.5 / (365 * 24)
    for i, move in enumerate([-3.0, 2.0]):
        s1 = S * (1 + move / 100)
        price = _slow_dealer_delta(contracts, s1)
        vol = _slow_dealer_delta(contracts, s1, shock=0.05)
        later = _slow_dealer_delta(contracts, s1, shock=0.05, dt_years=dt)
        row = flows.iloc[i]
        assert row["dealer_gamma_usd"] == pytest.approx(-(price - d0) * s1, rel=1e-9)
        assert row["dealer_vanna_usd"] == pytest.approx(-(vol - price) * s1, rel=1e-9)
        assert row["dealer_charm_usd"] == pytest.approx(-(later - vol) * s1, rel=1e-9)


def test_dealer_price_flow_agrees_with_the_gamma_engine(spx_report) -> None:
    """The board's price component is the gamma engine's full re-pricing hedge flow."""
    chain, report = spx_report
    flows = scenarios.dealer_flows(_book(chain, report), report.hedge_flow["move_pct"].to_numpy())
    np.testing.assert_allclose(
        flows["dealer_gamma_usd"], report.hedge_flow["dealer_trade_usd"], rtol=1e-9, atol=1.0
    )


def test_zero_scenario_is_zero_and_short_all_flips_the_public_sign_of_calls(spx_report) -> None:
    chain, report = spx_report
    flows = scenarios.dealer_flows(_book(chain, report), [0.0])
    assert (
        flows.loc[0, ["dealer_gamma_usd", "dealer_vanna_usd", "dealer_charm_usd"]].abs().max()
        == 0.0
    )
    short = scenarios.dealer_flows(_book(chain, report, "short_all"), [-3.0])
    # short every option = long-gamma book turned into a short-gamma one: selling into a fall
    assert short.loc[0, "dealer_gamma_usd"] < 0


def test_grid_components_sum_to_total_everywhere(spx_report, letf_funds) -> None:
    chain, report = spx_report
    books = {"SPX": _book(chain, report)}
    moves = np.arange(-10.0, 10.5, 1.0)
    grid = scenarios.scenario_grid(
        books,
        letf_funds,
        moves,
        {"SPX": 0.8, "QQQ": 1.0, "SPY": 0.8},
        iv_shocks_pts=(0.0, 5.0),
        hours_to_close=3.0,
        adv_usd={"SPY": 30e9, "QQQ": 20e9},
    )
    assert len(grid) == len(moves) * 2 * grid["underlying"].nunique()
    np.testing.assert_allclose(
        grid[list(scenarios.COMPONENTS)].sum(axis=1), grid["total_usd"], rtol=0, atol=1e-6
    )
    tot = scenarios.totals(grid)
    for col in (*scenarios.COMPONENTS, "total_usd"):
        expected = grid.groupby(["index_move_pct", "iv_shock_pts"])[col].sum().to_numpy()
        np.testing.assert_allclose(tot[col].to_numpy(), expected)
    np.testing.assert_allclose(
        tot[list(scenarios.COMPONENTS)].sum(axis=1), tot["total_usd"], atol=1e-3
    )
    # only SPX has a dealer book: every other underlying has zero dealer flow
    assert (grid.loc[grid["underlying"] != "SPX", "dealer_gamma_usd"] == 0).all()
    # % of ADV where known, NaN where not
    qqq = grid[
        (grid["underlying"] == "QQQ") & (grid["index_move_pct"] == -3) & (grid["iv_shock_pts"] == 0)
    ].iloc[0]
    assert qqq["total_pct_adv"] == pytest.approx(qqq["total_usd"] / 20e9 * 100)
    assert grid.loc[grid["underlying"] == "SPX", "total_pct_adv"].isna().all()


def test_letf_component_is_an_independent_plain_sum(letf_funds) -> None:
    """USD for an index move of -3 % with beta 1.2 on QQQ: sum of A (L^2 - L) r over QQQ funds."""
    grid = scenarios.scenario_grid({}, letf_funds, [-3.0], {"QQQ": 1.2})
    expected = 0.0
    for row in letf_funds.itertuples():
        if row.underlying == "QQQ":
            expected += row.aum_usd * (row.leverage**2 - row.leverage) * (-0.036)
    got = grid.loc[grid["underlying"] == "QQQ", "letf_usd"].iloc[0]
    assert expected < -1e8  # hundreds of millions of USD, sold
    assert got == pytest.approx(expected, rel=1e-12)
    assert grid.loc[grid["underlying"] == "QQQ", "move_pct"].iloc[0] == pytest.approx(-3.6)


def test_ranking_and_flags() -> None:
    grid = pd.DataFrame(
        {
            "index_move_pct": [-1.0, 1.0, -1.0, 1.0, -3.0, -3.0],
            "iv_shock_pts": 0.0,
            "underlying": ["A", "A", "B", "B", "A", "B"],
            "beta": [1.0, 1.0, 2.0, 2.0, 1.0, 2.0],
            "move_pct": [-1.0, 1.0, -2.0, 2.0, -3.0, -6.0],
            "dealer_gamma_usd": [-1e8, 1e8, 0.0, 0.0, -3e8, 0.0],
            "dealer_vanna_usd": 0.0,
            "dealer_charm_usd": 0.0,
            "letf_usd": [-1e8, 1e8, -5e8, 5e8, -3e8, -15e8],
            "adv_usd": [1e10, 1e10, 1e10, 1e10, 1e10, 1e10],
        }
    )
    grid["total_usd"] = grid[list(scenarios.COMPONENTS)].sum(axis=1)
    grid["total_pct_adv"] = grid["total_usd"] / grid["adv_usd"] * 100
    rank = scenarios.ranking(grid)
    assert list(rank["underlying"]) == ["B", "A"]
    assert rank.loc[0, "flow_per_1pct_usd"] == pytest.approx(5e8)
    assert rank.loc[1, "flow_per_1pct_pct_adv"] == pytest.approx(2.0)
    flags = scenarios.regime_flags(
        grid,
        {
            "A": {"net_gex_usd_per_1pct": -2e9, "flip_distance_pct": 0.5, "flip": 99.5},
            "B": {"net_gex_usd_per_1pct": 1e9, "flip_distance_pct": 4.0},
        },
        index_move_pct=-3.0,
        letf_adv_threshold_pct=10.0,
    )
    kinds = set(zip(flags["kind"], flags["underlying"], strict=True))
    assert kinds == {("amplifying", "A"), ("near_flip", "A"), ("letf_heavy", "B")}


def test_bad_inputs_are_named() -> None:
    contracts = pd.DataFrame(
        {"type": ["C"], "strike": [100.0], "open_interest": [10.0], "t_years": [0.1]}
    )
    with pytest.raises(InputError, match="iv_used"):
        scenarios.dealer_book(contracts, underlying="X", spot=100.0, r=0.0, q=0.0)
    contracts["iv_used"] = 0.2
    with pytest.raises(InputError, match="spot"):
        scenarios.dealer_book(contracts, underlying="X", spot=float("nan"), r=0.0, q=0.0)
    book = scenarios.dealer_book(contracts, underlying="X", spot=100.0, r=0.0, q=0.0)
    with pytest.raises(InputError, match="move_pct"):
        scenarios.dealer_flows(book, [-120.0])


def test_dealer_book_carries_scaled_and_adjusted_contracts_in_spot_terms() -> None:
    """The board's book of the adjusted-series case (SDS1 = 20 shares) re-prices like the gamma
    engine: the hedge flows for -3 % / +3 % are the case's -213,857 / +211,274 USD."""
    from pathlib import Path

    from flows.products import Deliverable
    from flows.sources import cboe

    path = (
        Path(__file__).resolve().parents[1]
        / "data"
        / "cases"
        / "adjusted-option-series"
        / "chain.json"
    )
    rep = analyze(
        cboe.parse(path.read_bytes(), source=str(path)),
        GammaParams(r=0.045, q=0.0, deliverables={"SDS1": Deliverable(shares=20)}),
    )
    book = scenarios.dealer_book(rep.contracts, underlying="SDS", spot=16.0, r=0.045, q=0.0)
    flows = scenarios.dealer_flows(book, [-3.0, 3.0]).set_index("move_pct")
    assert (
        round(flows.loc[-3.0, "dealer_gamma_usd"]) == -213_857
        and round(flows.loc[3.0, "dealer_gamma_usd"]) == 211_274
    )
    assert flows.loc[-3.0, "dealer_gamma_usd"] == pytest.approx(
        rep.headline["hedge_flow_down3_usd"], rel=1e-10
    )


def test_underlying_moves_refuses_a_beta_mapped_move_past_100_percent() -> None:
    """SPX +100 % by beta 2.25 is TSLA +225 %: refused naming the name, the beta and the move."""
    from flows.errors import InputError
    from flows.scenarios import underlying_moves

    ok = underlying_moves([-10.0, 10.0], {"TSLA": 2.25}, ["TSLA", "SPY"])
    assert ok.loc[-10.0, "TSLA"] == pytest.approx(-22.5) and ok.loc[10.0, "SPY"] == pytest.approx(
        10.0
    )
    with pytest.raises(InputError, match=r"TSLA: beta 2.25 x index move \+100% = \+225%"):
        underlying_moves([100.0], {"TSLA": 2.25}, ["TSLA"])
    with pytest.raises(InputError, match=r"NDX: beta 1.25 x index move -89% = -111.25%"):
        underlying_moves([-89.0], {"NDX": 1.25}, ["NDX"])
