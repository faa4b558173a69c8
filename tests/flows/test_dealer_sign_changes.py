"""flows.scenarios.dealer_sign_changes: where the dealers' flow changes sign away from 0 %."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.scenarios import dealer_sign_changes


def _totals(moves, gamma, vanna=0.0, shock=0.0):
    return pd.DataFrame(
        {
            "index_move_pct": moves,
            "iv_shock_pts": shock,
            "dealer_gamma_usd": gamma,
            "dealer_vanna_usd": vanna,
            "dealer_charm_usd": 0.0,
        }
    )


def test_interpolated_crossing_on_each_side():
    moves = np.array([-5.0, -3.0, -1.0, 0.0, 1.0, 3.0, 5.0])
    # long gamma near spot (buy falls, sell rises); past -3 % and +3 % the sign turns.
    gamma = np.array([-4.0, 2.0, 1.0, 0.0, -1.0, -2.0, 3.0])
    down, up = dealer_sign_changes(_totals(moves, gamma))
    # -3 + (-5 - -3) * 2 / (2 - -4) = -3.6667 ; 3 + (5 - 3) * -2 / (-2 - 3) = 3.8
    assert down == pytest.approx(-3.0 - 4.0 / 6.0)
    assert up == pytest.approx(3.8)


def test_no_change_of_sign_and_the_trivial_one_at_zero():
    moves = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert dealer_sign_changes(_totals(moves, np.array([2.0, 1.0, 0.0, -1.0, -2.0]))) == (
        None,
        None,
    )


def test_sums_the_dealer_components_and_reads_one_shock():
    moves = np.array([-2.0, -1.0, 1.0, 2.0])
    a = _totals(moves, np.array([1.0, 1.0, -1.0, -1.0]), vanna=np.array([-3.0, 0.0, 0.0, 0.0]))
    b = _totals(moves, np.array([5.0, 5.0, 5.0, 5.0]), shock=5.0)
    down, up = dealer_sign_changes(pd.concat([a, b]))
    assert down == pytest.approx(-1.0 + (-1.0) * 1.0 / (1.0 - -2.0)) and up is None
