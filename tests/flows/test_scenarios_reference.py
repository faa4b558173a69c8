"""The vectorised scenario engine against the plain reference on real chains and a real universe.

:mod:`tests.reference.scenarios_reference` re-prices the dealers' books one contract at a time
(``math.erf``), sums the leveraged-ETF trades one fund at a time and maps the board's index move
to each underlying by its beta; the engine's grid and board totals must agree to 1e-9 relative.
Default: the trimmed SPX and SPY quote tables of 2023-09-14 and the trimmed 2026-06-01 universe;
``extended``: the full files.
"""

from __future__ import annotations

import numpy as np
import pytest

from flows import letf, scenarios
from flows.gamma import GammaParams, analyze
from flows.sources import cboe_csv, letf_universe
from tests.realdata import FULL, TRIMMED, full, root, trimmed
from tests.reference import scenarios_reference as ref

R, Q = 0.045, 0.013
INPUTS = {
    TRIMMED: (
        "options/spx_quotedata_2023-09-14_trimmed.csv",
        "options/spy_quotedata_2023-09-14_trimmed.csv",
        "letf/leveraged_etf_data_2026-06-01_trimmed.csv",
    ),
    FULL: (
        "options/spx_quotedata_2023-09-14.csv",
        "options/spy_quotedata_2023-09-14.csv",
        "letf/pokedo0_leveraged_etf_data_2026-06-01.csv",
    ),
}
BETAS = {"SPX": 0.8, "SPY": 0.8, "QQQ": 1.0, "NVDA": 1.7, "IWM": 1.1}
"""Betas to the board index (NDX); every other underlying gets the default beta."""
DEFAULT_BETA = 0.9
MOVES = [-5.0, -3.0, -1.0, 0.0, 2.0, 5.0]
SHOCKS = (0.0, 5.0)
HOURS = 3.5
COLUMNS = (*scenarios.COMPONENTS, "total_usd")


@pytest.fixture(scope="module", params=[trimmed(id=TRIMMED), full(id=FULL)])
def inputs(request: pytest.FixtureRequest):
    where = request.param
    folder = root(request, where)
    spx_path, spy_path, universe_path = INPUTS[where]
    books, refs = {}, {}
    for name, path in (("SPX", spx_path), ("SPY", spy_path)):
        chain = cboe_csv.read_file(folder / path)
        report = analyze(chain, GammaParams(r=R, q=Q))
        books[name] = scenarios.dealer_book(
            report.contracts, underlying=name, spot=chain.spot, r=R, q=Q
        )
        refs[name] = ref.book(report.contracts.to_dict("records"), chain.spot, R, Q)
    flows = letf.fund_flows(letf.classify(letf_universe.read(folder / universe_path).funds))
    funds = flows[flows["group"] == letf.EQUITY][
        ["ticker", "underlying", "leverage", "aum_usd", "per_1pct_usd", "group"]
    ]
    return books, refs, funds


def test_grid_and_board_totals_equal_the_plain_loops(inputs) -> None:
    books, refs, funds = inputs
    grid = scenarios.scenario_grid(
        books,
        funds,
        MOVES,
        BETAS,
        iv_shocks_pts=SHOCKS,
        hours_to_close=HOURS,
        default_beta=DEFAULT_BETA,
    )
    want = ref.board(
        refs,
        funds.to_dict("records"),
        MOVES,
        BETAS,
        shocks_pts=SHOCKS,
        hours=HOURS,
        default_beta=DEFAULT_BETA,
    )
    scale = max(abs(want[(m, s)]["TOTAL"]["total_usd"]) for m, s in want)  # for the zero scenario
    assert len(grid) == len(MOVES) * len(SHOCKS) * (len(want[(0.0, 0.0)]) - 1)
    for row in grid.itertuples():
        expected = want[(row.index_move_pct, row.iv_shock_pts)][row.underlying]
        assert row.move_pct == pytest.approx(expected["move_pct"], rel=1e-12)
        assert row.beta == BETAS.get(row.underlying, DEFAULT_BETA)
        for col in COLUMNS:
            assert getattr(row, col) == pytest.approx(expected[col], rel=1e-9, abs=1e-9 * scale), (
                row.underlying,
                row.index_move_pct,
                row.iv_shock_pts,
                col,
            )
    totals = scenarios.totals(grid)
    assert len(totals) == len(MOVES) * len(SHOCKS)
    for row in totals.itertuples():
        expected = want[(row.index_move_pct, row.iv_shock_pts)]["TOTAL"]
        for col in COLUMNS:
            assert getattr(row, col) == pytest.approx(expected[col], rel=1e-9, abs=1e-9 * scale), (
                row.index_move_pct,
                row.iv_shock_pts,
                col,
            )
    # the figures are not degenerate: both books carry dealer flow, funds on many underlyings
    fall = want[(-3.0, 5.0)]
    assert (
        fall["SPX"]["dealer_gamma_usd"] != 0.0
        and fall["SPY"]["dealer_vanna_usd"] != 0.0
        and fall["SPX"]["dealer_charm_usd"] != 0.0
    )
    assert (
        fall["QQQ"]["letf_usd"] < 0 and fall["NVDA"]["letf_usd"] < 0
    )  # leveraged ETFs sell a fall
    # no move and no shock: only the decay to the close is left
    still = want[(0.0, 0.0)]
    assert all(
        v["dealer_gamma_usd"] == v["dealer_vanna_usd"] == v["letf_usd"] == 0.0
        for v in still.values()
    )
    assert (
        still["SPX"]["dealer_charm_usd"] != 0.0
        and still["TOTAL"]["total_usd"] == still["TOTAL"]["dealer_charm_usd"]
    )


def test_components_add_up_to_the_full_repricing(inputs) -> None:
    """Gamma + vanna + charm is the full re-pricing ``-(D(S', sigma + dv, T - h) - D(S, sigma, T)) S'``
    (the module docstring's identity), by the reference's own delta."""
    _books, refs, _funds = inputs
    b = refs["SPY"]
    for move in (-7.0, 3.0):
        g, v, c = ref.dealer_components(b, move, 5.0, HOURS)
        s1 = b.spot * (1 + move / 100)
        full_repricing = -(ref.dealer_delta(b, s1, 5.0, HOURS) - ref.dealer_delta(b, b.spot)) * s1
        assert g + v + c == pytest.approx(full_repricing, rel=1e-12)
    np.testing.assert_allclose(ref.dealer_components(b, 0.0, 0.0, 0.0), 0.0)
