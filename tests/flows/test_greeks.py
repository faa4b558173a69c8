"""BSM greeks against textbook values, finite differences, parity and a plain-Python reference;
the implied-vol solver round trip and its refusals."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from flows.greeks import (
    bsm_charm,
    bsm_delta,
    bsm_gamma,
    bsm_price,
    bsm_vanna,
    bsm_vega,
    implied_vol,
    price_bounds,
)
from tests.reference import gamma_reference as ref

# a grid over moneyness, maturity, vol, rates and dividends (calls and puts)
S0 = 100.0
GRID = list(
    itertools.product(
        [60.0, 90.0, 100.0, 110.0, 150.0],
        [1 / 365, 0.05, 0.5, 2.0],
        [0.08, 0.25, 0.9],
        [0.0, 0.045],
        [0.0, 0.02],
    )
)
K = np.array([g[0] for g in GRID])
T = np.array([g[1] for g in GRID])
SIG = np.array([g[2] for g in GRID])
R = np.array([g[3] for g in GRID])
Q = np.array([g[4] for g in GRID])


def test_textbook_values():
    # Hull, Options Futures and Other Derivatives: S=K=100 ... the classic S=42, K=40, r=10%, sigma=20%, T=0.5
    assert bsm_price(42.0, 40.0, 0.5, 0.10, 0.0, 0.20, True) == pytest.approx(4.7594, abs=1e-4)
    assert bsm_price(42.0, 40.0, 0.5, 0.10, 0.0, 0.20, False) == pytest.approx(0.8086, abs=1e-4)
    # S=K=100, T=1, r=5%, q=0, sigma=20%: call 10.4506, put 5.5735, delta N(0.35)=0.63683
    assert bsm_price(100.0, 100.0, 1.0, 0.05, 0.0, 0.20, True) == pytest.approx(10.4506, abs=1e-4)
    assert bsm_price(100.0, 100.0, 1.0, 0.05, 0.0, 0.20, False) == pytest.approx(5.5735, abs=1e-4)
    assert bsm_delta(100.0, 100.0, 1.0, 0.05, 0.0, 0.20, True) == pytest.approx(0.636831, abs=1e-6)
    # gamma = phi(0.35) / (100 * 0.2) = 0.375240 / 20
    assert bsm_gamma(100.0, 100.0, 1.0, 0.05, 0.0, 0.20) == pytest.approx(
        0.3752403 / 20.0, rel=1e-6
    )


@pytest.mark.parametrize("is_call", [True, False])
def test_matches_plain_python_reference(is_call):
    p = bsm_price(S0, K, T, R, Q, SIG, is_call)
    d = bsm_delta(S0, K, T, R, Q, SIG, is_call)
    g = bsm_gamma(S0, K, T, R, Q, SIG)
    for i, (k, t, s, r, q) in enumerate(GRID):
        assert p[i] == pytest.approx(ref.price(S0, k, t, r, q, s, is_call), rel=1e-9, abs=1e-12)
        assert d[i] == pytest.approx(ref.delta(S0, k, t, r, q, s, is_call), rel=1e-9, abs=1e-12)
        assert g[i] == pytest.approx(ref.gamma(S0, k, t, r, q, s), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("is_call", [True, False])
def test_greeks_against_central_differences(is_call):
    # steps scaled to the option's own price scale S sigma sqrt(T) (a 1-day option needs tiny steps)
    h_s = 1e-4 * S0 * SIG * np.sqrt(T)
    # delta = dPrice/dS
    fd_delta = (
        bsm_price(S0 + h_s, K, T, R, Q, SIG, is_call)
        - bsm_price(S0 - h_s, K, T, R, Q, SIG, is_call)
    ) / (2 * h_s)
    np.testing.assert_allclose(
        bsm_delta(S0, K, T, R, Q, SIG, is_call), fd_delta, rtol=1e-5, atol=1e-6
    )
    # gamma = dDelta/dS, and the second difference of the price
    fd_gamma = (
        bsm_delta(S0 + h_s, K, T, R, Q, SIG, is_call)
        - bsm_delta(S0 - h_s, K, T, R, Q, SIG, is_call)
    ) / (2 * h_s)
    np.testing.assert_allclose(bsm_gamma(S0, K, T, R, Q, SIG), fd_gamma, rtol=1e-4, atol=1e-7)
    h2 = 2e-2 * S0 * SIG * np.sqrt(T)
    fd2 = (
        bsm_price(S0 + h2, K, T, R, Q, SIG, is_call)
        - 2 * bsm_price(S0, K, T, R, Q, SIG, is_call)
        + bsm_price(S0 - h2, K, T, R, Q, SIG, is_call)
    ) / h2**2
    np.testing.assert_allclose(bsm_gamma(S0, K, T, R, Q, SIG), fd2, rtol=1e-3, atol=1e-5)
    # vanna = dDelta/dSigma (per 1.00 of vol)
    h_v = 1e-5
    fd_vanna = (
        bsm_delta(S0, K, T, R, Q, SIG + h_v, is_call)
        - bsm_delta(S0, K, T, R, Q, SIG - h_v, is_call)
    ) / (2 * h_v)
    np.testing.assert_allclose(bsm_vanna(S0, K, T, R, Q, SIG), fd_vanna, rtol=1e-5, atol=1e-6)
    # charm = dDelta/dt with t = calendar time passing = -dDelta/dT (per year)
    h_t = 1e-4 * T
    fd_charm = -(
        bsm_delta(S0, K, T + h_t, R, Q, SIG, is_call)
        - bsm_delta(S0, K, T - h_t, R, Q, SIG, is_call)
    ) / (2 * h_t)
    np.testing.assert_allclose(
        bsm_charm(S0, K, T, R, Q, SIG, is_call), fd_charm, rtol=1e-5, atol=1e-5
    )
    # vega = dPrice/dSigma
    fd_vega = (
        bsm_price(S0, K, T, R, Q, SIG + h_v, is_call)
        - bsm_price(S0, K, T, R, Q, SIG - h_v, is_call)
    ) / (2 * h_v)
    np.testing.assert_allclose(bsm_vega(S0, K, T, R, Q, SIG), fd_vega, rtol=1e-5, atol=1e-6)


def test_put_call_parity_and_symmetry():
    call = bsm_price(S0, K, T, R, Q, SIG, True)
    put = bsm_price(S0, K, T, R, Q, SIG, False)
    np.testing.assert_allclose(
        call - put, S0 * np.exp(-Q * T) - K * np.exp(-R * T), rtol=1e-12, atol=1e-10
    )
    np.testing.assert_allclose(
        bsm_delta(S0, K, T, R, Q, SIG, True) - bsm_delta(S0, K, T, R, Q, SIG, False),
        np.exp(-Q * T),
        rtol=1e-12,
    )
    # gamma and vanna are the same for calls and puts: check via finite differences of each side's delta
    h = 1e-4 * S0 * SIG * np.sqrt(T)
    for is_call in (True, False):
        fd = (
            bsm_delta(S0 + h, K, T, R, Q, SIG, is_call)
            - bsm_delta(S0 - h, K, T, R, Q, SIG, is_call)
        ) / (2 * h)
        np.testing.assert_allclose(fd, bsm_gamma(S0, K, T, R, Q, SIG), rtol=1e-4, atol=1e-7)
    # charm: put = call - q e^{-qT}
    np.testing.assert_allclose(
        bsm_charm(S0, K, T, R, Q, SIG, False),
        bsm_charm(S0, K, T, R, Q, SIG, True) - Q * np.exp(-Q * T),
        rtol=1e-10,
        atol=1e-12,
    )


def test_invalid_inputs_give_nan():
    out = bsm_gamma(
        [100.0, 100.0, 100.0], [100.0, 100.0, -1.0], [0.0, 0.5, 0.5], 0.0, 0.0, [0.2, 0.0, 0.2]
    )
    assert np.isnan(out).all()


@pytest.mark.parametrize("is_call", [True, False])
def test_implied_vol_round_trip(is_call):
    strikes = np.array([40.0, 70.0, 90.0, 99.0, 100.0, 101.0, 110.0, 130.0, 200.0])
    ks, ts, vs = (
        a.ravel()
        for a in np.meshgrid(
            strikes, [2 / 365, 0.1, 1.0, 3.0], [0.05, 0.2, 0.6, 1.5], indexing="ij"
        )
    )
    r, q = 0.045, 0.015
    px = bsm_price(S0, ks, ts, r, q, vs, is_call)
    iv, ok = implied_vol(px, S0, ks, ts, r, q, is_call)
    lo, hi = bsm_price(S0, ks, ts, r, q, 1e-4, is_call), bsm_price(S0, ks, ts, r, q, 5.0, is_call)
    # identifiable: the premium carries time value that float64 can see (deep ITM/OTM with no
    # time value cannot pin down a vol)
    vega = bsm_vega(S0, ks, ts, r, q, vs)
    identifiable = (px > lo + 1e-9 * S0) & (vega > 1e-4)
    assert identifiable.sum() > 0.6 * ks.size
    assert ok[identifiable].all()
    np.testing.assert_allclose(iv[identifiable], vs[identifiable], rtol=1e-6, atol=1e-7)
    # whatever is reported solved reprices to the premium
    solved_px = bsm_price(S0, ks[ok], ts[ok], r, q, iv[ok], is_call)
    np.testing.assert_allclose(solved_px, px[ok], rtol=1e-6, atol=1e-8 * S0)
    assert np.isnan(iv[~ok]).all()
    assert np.all((hi >= px) | ~ok)


def test_implied_vol_reports_unsolvable_prices():
    S, K_, T_, r, q = 100.0, 100.0, 0.5, 0.03, 0.0
    lower, upper = price_bounds(S, K_, T_, r, q, True)
    prices = np.array(
        [lower * 0.5 if lower > 0 else -1.0, float(upper) * 1.01, np.nan, 0.0, 5.0, 5.0]
    )
    expiry = np.array([T_, T_, T_, T_, 0.0, T_])
    iv, ok = implied_vol(prices, S, K_, expiry, r, q, True)
    assert ok.tolist() == [False, False, False, False, False, True]
    assert np.isnan(iv[:5]).all()
    # below intrinsic for an ITM put: unsolved, not garbage
    intrinsic = 100.0 * math.exp(-r * T_) - 80.0
    iv_p, ok_p = implied_vol(intrinsic - 0.5, 80.0, 100.0, T_, r, q, False)
    assert not ok_p and np.isnan(iv_p)


def test_implied_vol_outside_vol_bracket_is_unsolved():
    # a premium that needs 8.0 vol: outside hi=5.0 -> unsolved; a wider bracket solves it
    px = bsm_price(100.0, 100.0, 0.25, 0.0, 0.0, 8.0, True)
    assert not implied_vol(px, 100.0, 100.0, 0.25, 0.0, 0.0, True)[1]
    iv, ok = implied_vol(px, 100.0, 100.0, 0.25, 0.0, 0.0, True, hi=10.0)
    assert ok and iv == pytest.approx(8.0, rel=1e-6)
