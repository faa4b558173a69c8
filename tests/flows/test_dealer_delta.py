"""The one dealer-delta kernel (:func:`flows.greeks.dealer_delta`) against plain references."""

from __future__ import annotations

import numpy as np

from flows.greeks import DELTA_BLOCK_ELEMENTS, bsm_delta, bsm_price, dealer_delta


def _book(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "strike": rng.uniform(3500.0, 5000.0, n),
        "t_years": rng.uniform(1 / 365, 1.5, n),
        "sigma": rng.uniform(0.08, 0.6, n),
        "q": rng.uniform(0.0, 0.03, n),
        "is_call": rng.random(n) < 0.5,
    }


def test_matches_a_loop_over_contracts_with_bsm_delta() -> None:
    # more contracts x spots than one block, so the blocking is exercised
    n, S, r = 3000, 4200.0, 0.045
    b = _book(n)
    spots = np.linspace(3800.0, 4600.0, 41)
    assert n * spots.size > DELTA_BLOCK_ELEMENTS
    W = np.vstack([np.linspace(-50.0, 50.0, n), np.ones(n)])
    got = dealer_delta(
        spots, S, np.full(n, S), b["strike"], b["t_years"], b["sigma"], r, b["q"], b["is_call"], W
    )
    want = np.zeros((2, spots.size))
    for i in range(n):  # the obvious, slow sum
        want += np.outer(
            W[:, i],
            bsm_delta(
                spots, b["strike"][i], b["t_years"][i], r, b["q"][i], b["sigma"][i], b["is_call"][i]
            ),
        )
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-9)


def test_scaled_underlying_is_delta_at_the_scaled_price() -> None:
    # an option on an underlying at U = S / 10 (a mini index) sees the spot move by the same ratio
    S, U, r = 4200.0, 420.0, 0.04
    spots = np.array([4000.0, 4200.0, 4400.0])
    got = dealer_delta(
        spots,
        S,
        np.array([U]),
        np.array([400.0]),
        np.array([0.25]),
        np.array([0.2]),
        r,
        np.array([0.01]),
        np.array([True]),
        np.array([[1.0]]),
    )[0]
    np.testing.assert_allclose(
        got, bsm_delta(spots * U / S, 400.0, 0.25, r, 0.01, 0.2, True), rtol=1e-12
    )


def test_is_the_spot_derivative_of_the_book_value() -> None:
    n, S, r = 200, 100.0, 0.03
    b = _book(n, seed=3)
    b["strike"] = b["strike"] / 42.0
    w = np.random.default_rng(5).normal(size=n)
    h = 1e-3
    value = [
        float(
            np.sum(w * bsm_price(s, b["strike"], b["t_years"], r, b["q"], b["sigma"], b["is_call"]))
        )
        for s in (S - h, S + h)
    ]
    got = dealer_delta(
        [S],
        S,
        np.full(n, S),
        b["strike"],
        b["t_years"],
        b["sigma"],
        r,
        b["q"],
        b["is_call"],
        w[None, :],
    )[0, 0]
    assert abs(got - (value[1] - value[0]) / (2 * h)) < 1e-6 * max(1.0, abs(got))
