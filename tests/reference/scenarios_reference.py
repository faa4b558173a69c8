"""Slow, obvious reference for the de-risking scenarios (:mod:`flows.scenarios`): one contract,
one fund, one underlying and one scenario at a time.

Nothing here imports ``flows``; the formulas are written again from the module docstring:

* dealer delta ``D(s, sigma, T) = 100 × Σ_i w_i delta_i`` (units of underlying), ``w_i`` the
  dealers' position in contracts (public convention: calls +OI, puts -OI), ``delta_i`` the
  Black-Scholes-Merton delta with dividend yield ``q``: call ``e^{-qT} N(d1)``, put
  ``-e^{-qT} N(-d1)``;
* a contract on a scaled index, an adjusted deliverable or a futures price is carried in spot
  terms (``dealer_book``): strike ``K × S / U``, position ``w × (U / S) × units / 100``;
* with ``S' = S (1 + move)``, an IV shock ``dv`` (vol points / 100, volatility floored at 1e-4)
  and ``h`` the time to the close (years; time to settlement floored at 1e-8 years)::

      gamma = -(D(S', sigma, T)          - D(S, sigma, T))        × S'
      vanna = -(D(S', sigma + dv, T)     - D(S', sigma, T))       × S'
      charm = -(D(S', sigma + dv, T - h) - D(S', sigma + dv, T))  × S'

* leveraged ETFs: ``letf = Σ_funds A (L² - L) × 0.01 × move_pct`` over the underlying's funds;
* a board move ``m`` of the index moves underlying ``u`` by ``beta_u × m`` (default beta when
  not configured), ``total = gamma + vanna + charm + letf`` per underlying, and the board total
  of a scenario is the sum over underlyings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SECONDS_PER_YEAR = 365.0 * 86400.0
T_FLOOR = 1e-8
SIGMA_FLOOR = 1e-4


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def bsm_delta(
    s: float, k: float, t: float, r: float, q: float, sigma: float, is_call: bool
) -> float:
    d1 = (math.log(s / k) + (r - q + 0.5 * sigma * sigma) * t) / (sigma * math.sqrt(t))
    return math.exp(-q * t) * (norm_cdf(d1) if is_call else -norm_cdf(-d1))


@dataclass
class Book:
    """One underlying's dealer book: spot, rates and one dict per contract (``K``, ``is_call``,
    ``w`` (signed contracts), ``T`` (years), ``iv``)."""

    spot: float
    r: float
    q: float
    contracts: list[dict]


def book(rows: Iterable[Mapping], spot: float, r: float, q: float) -> Book:
    """The dealer book of a gamma result's ``contracts`` rows, public convention; contracts
    without a position, a positive time to settlement or an IV are left out."""
    out = []
    for row in rows:
        t, iv, oi = row["t_years"], row["iv_used"], row["open_interest"]
        if not (t == t and t > 0 and iv == iv and iv > 0 and oi == oi and oi != 0):  # NaN != NaN
            continue
        k, w = float(row["strike"]), float(oi) if row["type"] == "C" else -float(oi)
        if "strike_per_unit" in row and "underlying_price" in row and "units_per_contract" in row:
            ratio = float(row["underlying_price"]) / spot
            k = float(row["strike_per_unit"]) / ratio
            w = w * ratio * float(row["units_per_contract"]) / 100.0
        out.append({"K": k, "is_call": row["type"] == "C", "w": w, "T": float(t), "iv": float(iv)})
    return Book(spot=spot, r=r, q=q, contracts=out)


def dealer_delta(b: Book, s: float, shock_pts: float = 0.0, hours: float = 0.0) -> float:
    """``100 × Σ w delta`` at spot ``s``, IV shifted by ``shock_pts`` vol points, ``hours`` later."""
    total = 0.0
    for c in b.contracts:
        t = max(c["T"] - hours * 3600.0 / SECONDS_PER_YEAR, T_FLOOR)
        sigma = max(c["iv"] + shock_pts / 100.0, SIGMA_FLOOR)
        total += c["w"] * bsm_delta(s, c["K"], t, b.r, b.q, sigma, c["is_call"])
    return 100.0 * total


def dealer_components(
    b: Book, move_pct: float, shock_pts: float, hours: float
) -> tuple[float, float, float]:
    """``(gamma, vanna, charm)`` USD for the underlying moving ``move_pct`` percent."""
    s1 = b.spot * (1.0 + move_pct / 100.0)
    d0 = dealer_delta(b, b.spot)
    d_price = dealer_delta(b, s1)
    d_vol = dealer_delta(b, s1, shock_pts)
    d_time = dealer_delta(b, s1, shock_pts, hours)
    return -(d_price - d0) * s1, -(d_vol - d_price) * s1, -(d_time - d_vol) * s1


def letf_usd(funds: Iterable[Mapping], underlying: str, move_pct: float) -> float:
    """``Σ A (L² - L) × 0.01 × move`` over the funds of ``underlying``."""
    total = 0.0
    for f in funds:
        if f["underlying"] == underlying:
            total += f["aum_usd"] * (f["leverage"] ** 2 - f["leverage"]) * 0.01 * move_pct
    return total


def board(
    books: Mapping[str, Book],
    funds: Sequence[Mapping],
    index_moves_pct: Sequence[float],
    betas: Mapping[str, float],
    *,
    shocks_pts: Sequence[float] = (0.0,),
    hours: float = 0.0,
    default_beta: float = 1.0,
) -> dict[tuple[float, float], dict[str, dict[str, float]]]:
    """``{(index move, shock): {underlying: {component: USD}}}`` plus ``"TOTAL"`` per scenario,
    over the underlyings with a book or funds."""
    names = sorted(set(books) | {str(f["underlying"]) for f in funds})
    out: dict[tuple[float, float], dict[str, dict[str, float]]] = {}
    for m in index_moves_pct:
        for shock in shocks_pts:
            rows: dict[str, dict[str, float]] = {}
            total = {
                "dealer_gamma_usd": 0.0,
                "dealer_vanna_usd": 0.0,
                "dealer_charm_usd": 0.0,
                "letf_usd": 0.0,
                "total_usd": 0.0,
            }
            for u in names:
                move = betas.get(u, default_beta) * m
                g, v, c = (
                    dealer_components(books[u], move, shock, hours)
                    if u in books
                    else (0.0, 0.0, 0.0)
                )
                lf = letf_usd(funds, u, move)
                row = {
                    "move_pct": move,
                    "dealer_gamma_usd": g,
                    "dealer_vanna_usd": v,
                    "dealer_charm_usd": c,
                    "letf_usd": lf,
                    "total_usd": g + v + c + lf,
                }
                rows[u] = row
                for key in total:
                    total[key] += row[key]
            rows["TOTAL"] = total
            out[(float(m), float(shock))] = rows
    return out
