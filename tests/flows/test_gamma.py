"""Dealer gamma engine on the three real CBOE files and on hand-built chains.

Independent checks come from :mod:`tests.reference.gamma_reference` (plain Python, one contract
at a time, the file read with the ``csv`` module)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from flows import calendars
from flows.chain import DEALER_POSITION_COLUMN, Chain, settlement_times
from flows.errors import InputError
from flows.gamma import GammaParams, analyze, find_flips
from flows.greeks import bsm_gamma, bsm_price
from flows.schema import CHAIN_COLUMNS
from flows.sources import cboe_csv
from tests.realdata import FULL, TRIMMED, full, root, trimmed
from tests.reference import gamma_reference as ref

SPX_2023, SPY_2023, SPX_2024 = "spx_2023-09-14", "spy_2023-09-14", "spx_2024-01-07"
FILES = [SPX_2023, SPY_2023, SPX_2024]
PATHS = {
    TRIMMED: {
        SPX_2023: "options/spx_quotedata_2023-09-14_trimmed.csv",
        SPY_2023: "options/spy_quotedata_2023-09-14_trimmed.csv",
        SPX_2024: "options/spx_quotedata_2024-01-07_trimmed.csv",
    },
    FULL: {
        SPX_2023: "options/spx_quotedata_2023-09-14.csv",
        SPY_2023: "options/spy_quotedata_2023-09-14.csv",
        SPX_2024: "options/spx_quotedata_2024-01-07.csv",
    },
}
"""The three real CBOE files: trimmed copies (tests/data/options, default) and the full files
(shared folder, ``extended``)."""
PARAMS = GammaParams(r=0.045, q=0.013)
HEADLINE_KEYS = [
    "underlying", "spot", "as_of", "source", "convention", "time_basis", "contracts", "expired_dropped", "expired_dropped_oi",
    "unsolved_iv", "net_gex_usd_per_1pct", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "gross_gex_usd_per_1pct",
    "net_gex_usd_per_point", "net_gex_shares_per_1pct", "zero_dte_share", "model_gex_at_spot_usd_per_1pct", "regime", "flip",
    "flip_distance_pct", "flips", "call_wall", "put_wall", "abs_gamma_strike", "hedge_flow_down3_usd", "hedge_flow_up3_usd",
]  # fmt: skip


@pytest.fixture(scope="module", params=[trimmed(id=TRIMMED), full(id=FULL)])
def real(request: pytest.FixtureRequest) -> dict[str, tuple[Chain, object]]:
    """Chain and report of each real file, plus ``"where"``, ``"root"`` and the file paths."""
    where = request.param
    folder = root(request, where)
    out: dict = {"where": where, "paths": {name: folder / PATHS[where][name] for name in FILES}}
    for name in FILES:
        chain = cboe_csv.read_file(out["paths"][name])
        out[name] = (chain, analyze(chain, PARAMS))
    return out


def hand_chain(
    rows: list[tuple],
    spot: float,
    as_of: str = "2024-03-01 10:00",
    expiry: str = "2024-03-15",
    root: str = "SPY",
    underlying: str = "SPY",
    position: list[float] | None = None,
) -> Chain:
    """rows: (type, strike, open_interest, iv, file gamma[, expiry])."""
    recs = []
    for row in rows:
        typ, k, oi, iv, g = row[:5]
        exp = pd.Timestamp(row[5] if len(row) > 5 else expiry)
        recs.append(
            {
                "symbol": f"{root}{exp:%y%m%d}{typ}{int(round(k * 1000)):08d}",
                "root": root,
                "type": typ,
                "strike": float(k),
                "expiry": exp,
                "bid": 1.0,
                "ask": 1.1,
                "iv": iv,
                "delta": np.nan,
                "gamma": g,
                "open_interest": float(oi),
                "volume": 0.0,
            }
        )
    frame = pd.DataFrame(recs)
    frame["expiry"] = frame["expiry"].astype("datetime64[ns]")
    frame["settle_time"] = settlement_times(frame["root"], frame["expiry"])
    frame = frame[list(CHAIN_COLUMNS)]
    if position is not None:
        frame[DEALER_POSITION_COLUMN] = position
    return Chain(
        underlying=underlying,
        spot=spot,
        as_of=pd.Timestamp(as_of, tz="America/New_York"),
        source="hand-built",
        contracts=frame,
    )


def model_contracts(report, conv_sign: str = "calls_long_puts_short") -> list[dict]:
    c = report.contracts
    m = (c["open_interest"] > 0) & (c["iv_used"] > 0) & (c["t_years"] > 0)
    out = []
    for row in c[m].itertuples():
        is_call = row.type == "C"
        w = (
            row.open_interest
            if (is_call and conv_sign == "calls_long_puts_short")
            else -row.open_interest
        )
        out.append(
            {
                "w": w,
                "K": row.strike,
                "T": row.t_years,
                "sig": row.iv_used,
                "is_call": is_call,
                "settle": row.settle_time,
            }
        )
    return out


# -- spot GEX on the real files ---------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_net_gex_equals_a_plain_sum(real, name: str) -> None:
    chain, rep = real[name]
    plain = ref.plain_file_gex(real["paths"][name])
    h = rep.headline
    c = rep.contracts
    S = plain["spot"]
    # the file's gamma where it is a positive number; BSM gamma (the reference formula, at the
    # engine's IV and T) where the file has none or 0 for a live contract with a position
    assert (c.loc[c["gamma_source"] == "file", "gamma_file"] > 0).all()
    modelled = c[c["gamma_source"] == "model"]
    assert (modelled["gamma_file"].isna() | (modelled["gamma_file"] == 0)).all()
    assert len(modelled) == h["modelled_gamma_contracts"] > 0
    model_part = {"C": 0.0, "P": 0.0}
    for row in modelled.itertuples():
        sign = 1.0 if row.type == "C" else -1.0
        model_part[row.type] += (
            sign
            * row.open_interest
            * ref.gamma(S, row.strike, row.t_years, PARAMS.r, PARAMS.q, row.iv_used)
            * 100
            * S
            * S
            * 0.01
        )
    call, put = plain["call"] + model_part["C"], plain["put"] + model_part["P"]
    assert h["net_gex_usd_per_1pct"] == pytest.approx(call + put, rel=1e-10)
    assert h["call_gex_usd_per_1pct"] == pytest.approx(call, rel=1e-10)
    assert h["put_gex_usd_per_1pct"] == pytest.approx(put, rel=1e-10)
    assert h["gross_gex_usd_per_1pct"] == pytest.approx(call - put, rel=1e-10)
    assert h["modelled_gamma_share"] == pytest.approx(
        (model_part["C"] - model_part["P"]) / (call - put), rel=1e-9
    )
    assert (
        h["modelled_gamma_share"] < 0.01
    )  # the real files only lose gamma printed as 0 far from the money
    # contracts in no figure (a position but no gamma and no IV) are listed, not silently kept
    assert (
        h["contracts"] + h["unsolved_dropped"] == plain["alive"]
        and h["expired_dropped"] == plain["dropped"]
    )
    assert h["expired_dropped_oi"] == plain["dropped_oi"]
    assert set(rep.dropped["kind"]) <= {"settled", "unsolved"}
    # per point and share-equivalent are the same sum rescaled
    net = call + put
    assert h["net_gex_usd_per_point"] == pytest.approx(net / (0.01 * S), rel=1e-10)
    assert h["net_gex_shares_per_1pct"] == pytest.approx(net / S, rel=1e-10)
    # tables add up to the headline
    for table in (rep.by_strike, rep.by_expiry, rep.grid):
        assert table["net_gex_usd_per_1pct"].sum() == pytest.approx(net, rel=1e-9)
    assert rep.contracts["gex_usd_per_1pct"].sum() == pytest.approx(net, rel=1e-9)
    json.dumps(h)  # JSON-able, with plain Python types (not numpy scalars)
    for key, value in h.items():
        assert type(value) in (str, int, float, list, type(None)), (key, type(value))
    assert all(type(x) is float for x in h["flips"])
    assert set(HEADLINE_KEYS) <= set(h)
    assert h["regime"] == ("long gamma" if net > 0 else "short gamma")
    # the real files are clean: nothing skipped, nothing to warn about
    assert rep.quality.skipped_rows == 0 and rep.quality.warnings == []


def test_spy_after_the_close_drops_the_same_day_expiry(real) -> None:
    chain, rep = real[SPY_2023]
    same_day = chain.contracts["expiry"] == pd.Timestamp("2023-09-14")
    settled = rep.dropped[rep.dropped["kind"] == "settled"]
    assert set(settled["expiry"]) == {pd.Timestamp("2023-09-14")}
    assert (
        len(settled) == int(same_day.sum()) == {TRIMMED: 2 * 51, FULL: 250}[real["where"]]
    )  # rows of Sep 14 in the file x 2
    assert settled["open_interest"].sum() == chain.contracts.loc[same_day, "open_interest"].sum()
    assert rep.headline["zero_dte_share"] == 0.0  # nothing expiring today is left
    assert not rep.by_expiry["zero_dte"].any()
    assert rep.by_expiry["expiry"].min() == pd.Timestamp("2023-09-15")
    assert (
        settled["reason"].iloc[0]
        == "settled at 2023-09-14T16:00:00-04:00 (PM, close), at or before the snapshot 2023-09-14T16:31:00-04:00"
    )
    # deep-in-the-money calls quoted at intrinsic value have no IV and no gamma: listed with why
    unsolved = rep.dropped[rep.dropped["kind"] == "unsolved"]
    assert len(unsolved) == rep.headline["unsolved_dropped"] > 0
    if real["where"] == FULL:
        assert len(unsolved) == 387
    assert unsolved["reason"].str.contains("intrinsic value").all()
    assert (chain.contracts.set_index("symbol").loc[unsolved["symbol"], "type"] == "C").all()


def test_spx_am_settled_monthlies_alive_until_the_open(real) -> None:
    chain, rep = real[SPX_2023]
    c = rep.contracts.set_index("symbol")
    # SPX (AM) Sep 15: settles 09:30 ET next morning; SPXW Sep 15: 16:00 ET
    t_am = (pd.Timestamp("2023-09-15 09:30", tz="America/New_York") - chain.as_of) / pd.Timedelta(
        days=365
    )
    t_pm = (pd.Timestamp("2023-09-15 16:00", tz="America/New_York") - chain.as_of) / pd.Timedelta(
        days=365
    )
    assert c.loc["SPX230915C04500000", "t_years"] == pytest.approx(t_am, rel=1e-12)
    assert c.loc["SPXW230915C04500000", "t_years"] == pytest.approx(t_pm, rel=1e-12)
    assert set(rep.dropped.loc[rep.dropped["kind"] == "settled", "expiry"]) == {
        pd.Timestamp("2023-09-14")
    }


def test_sunday_file_drops_the_already_expired_friday(real) -> None:
    chain, rep = real[SPX_2024]
    friday = chain.contracts["expiry"] == pd.Timestamp("2024-01-05")
    assert int(friday.sum()) > 0
    settled = rep.dropped[rep.dropped["kind"] == "settled"]
    assert set(settled["expiry"]) == {pd.Timestamp("2024-01-05")}
    assert len(settled) == int(friday.sum())
    assert rep.by_expiry["expiry"].min() == pd.Timestamp("2024-01-08")
    assert (rep.contracts["t_years"] > 0).all()
    # charm horizon: the next close after a Sunday morning is Monday 16:00 ET
    assert (
        rep.headline["next_close"]
        == pd.Timestamp("2024-01-08 16:00", tz="America/New_York").tz_convert("UTC").isoformat()
    )


def test_spx_and_spxw_stay_apart(real) -> None:
    chain, rep = real[SPX_2023]
    c = rep.contracts
    assert c["symbol"].is_unique
    assert len(c) == len(chain.contracts) - len(rep.dropped)
    both = c.groupby(["expiry", "strike", "type"])["root"].nunique()
    assert int((both == 2).sum()) > {TRIMMED: 300, FULL: 3000}[real["where"]]
    # by strike sums both roots
    at = c[c["strike"] == 4500.0]
    row = rep.by_strike.set_index("strike").loc[4500.0]
    assert row["call_gex_usd_per_1pct"] == pytest.approx(
        at.loc[at["type"] == "C", "gex_usd_per_1pct"].sum(), rel=1e-12
    )
    assert row["call_oi_contracts"] == at.loc[at["type"] == "C", "open_interest"].sum()
    spx = at[(at["root"] == "SPX") & (at["type"] == "C")]
    spxw = at[(at["root"] == "SPXW") & (at["type"] == "C")]
    assert len(spx) > 0 and len(spxw) > 0 and set(spx["symbol"]).isdisjoint(spxw["symbol"])


def test_half_dollar_strikes_not_merged(real) -> None:
    chain, rep = real[SPY_2023]
    alive = rep.contracts
    strikes = rep.by_strike["strike"].to_numpy()
    assert set(strikes) == set(alive["strike"])
    half = [k for k in strikes if k % 1 == 0.5]
    assert half, "the alive SPY chain still has half-dollar strikes"
    for k in half:
        sel = alive[(alive["strike"] == k) & (alive["type"] == "P")]
        assert (
            rep.by_strike.set_index("strike").loc[k, "put_oi_contracts"]
            == sel["open_interest"].sum()
        )
    assert len(strikes) == len(np.unique(strikes))
    # 452.5 sits between 452 and 455 as its own row
    assert {452.0, 452.5}.issubset(set(strikes))


# -- model curves ------------------------------------------------------------------------------


def test_profile_matches_a_per_contract_loop(real) -> None:
    chain, rep = real[SPX_2023]
    contracts = model_contracts(rep)
    prof = rep.profile
    assert len(prof) == 801
    assert prof["spot"].iloc[0] == pytest.approx(0.8 * chain.spot) and prof["spot"].iloc[
        -1
    ] == pytest.approx(1.2 * chain.spot)
    for i in (0, 200, 377, 400, 650, 800):
        s = prof["spot"].iloc[i]
        assert prof["net_gex_usd_per_1pct"].iloc[i] == pytest.approx(
            ref.profile_point(contracts, s, PARAMS.r, PARAMS.q), rel=1e-9
        )
    centre = prof.iloc[400]
    assert centre["spot"] == pytest.approx(chain.spot, rel=1e-14)
    assert rep.headline["model_gex_at_spot_usd_per_1pct"] == pytest.approx(
        centre["net_gex_usd_per_1pct"], rel=1e-9
    )
    np.testing.assert_allclose(
        prof["call_gex_usd_per_1pct"] + prof["put_gex_usd_per_1pct"],
        prof["net_gex_usd_per_1pct"],
        rtol=1e-9,
        atol=1e-3 * abs(centre["net_gex_usd_per_1pct"]) * 1e-6,
    )
    # contracts table: model gamma is the BSM gamma of the contract at spot
    c = rep.contracts.dropna(subset=["gamma_model"]).iloc[::997]
    np.testing.assert_allclose(
        c["gamma_model"],
        bsm_gamma(chain.spot, c["strike"], c["t_years"], PARAMS.r, PARAMS.q, c["iv_used"]),
        rtol=1e-10,
    )


def test_solved_ivs_reprice_to_the_mid(real) -> None:
    # the full SPX file has 491 contracts with IV 0 solved from the mid (strikes up to 4,000);
    # its trimmed copy keeps strikes 4,300-4,700 only, the trimmed SPY copy has 61
    chain, rep = real[{TRIMMED: SPY_2023, FULL: SPX_2023}[real["where"]]]
    c = rep.contracts.merge(chain.contracts[["symbol", "bid", "ask"]], on="symbol")
    solved = c[c["iv_source"] == "solved"]
    assert len(solved) > 50
    mid = 0.5 * (solved["bid"] + solved["ask"])
    px = bsm_price(
        chain.spot,
        solved["strike"],
        solved["t_years"],
        PARAMS.r,
        PARAMS.q,
        solved["iv_used"],
        solved["type"] == "C",
    )
    np.testing.assert_allclose(px, mid, rtol=1e-6, atol=1e-6)
    assert set(c["iv_source"]) == {"file", "solved", "unsolved"}
    assert c.loc[c["iv_source"] == "unsolved", "iv_used"].isna().all()
    unsolved_with_oi = int(((c["iv_source"] == "unsolved") & (c["open_interest"] > 0)).sum())
    assert rep.headline["unsolved_iv"] == unsolved_with_oi


def test_hedge_flows_match_brute_force_repricing(real) -> None:
    chain, rep = real[SPY_2023]
    S = chain.spot
    contracts = model_contracts(rep)
    next_close = pd.Timestamp(rep.headline["next_close"])
    for c in contracts:
        c["T_next"] = max((c["settle"] - next_close) / pd.Timedelta(days=365), 1e-8)
    moves = [-10.0, -3.0, -1.0, 0.0, 2.0, 3.0, 10.0]
    brute = pd.DataFrame(
        ref.hedge_flow_brute(contracts, S, moves, PARAMS.r, PARAMS.q, PARAMS.iv_shock_points / 100)
    ).set_index("move_pct")
    hf = rep.hedge_flow.set_index("move_pct")
    for m in moves:
        for col in ("dealer_trade_usd", "vanna_flow_usd", "charm_flow_usd"):
            assert hf.loc[m, col] == pytest.approx(
                brute.loc[m, col], rel=1e-8, abs=1e-6 * abs(brute["dealer_trade_usd"]).max()
            ), (m, col)
        assert hf.loc[m, "spot"] == pytest.approx(S * (1 + m / 100))
    assert rep.headline["hedge_flow_down3_usd"] == pytest.approx(
        brute.loc[-3.0, "dealer_trade_usd"], rel=1e-8
    )
    assert rep.headline["hedge_flow_up3_usd"] == pytest.approx(
        brute.loc[3.0, "dealer_trade_usd"], rel=1e-8
    )
    # gamma approximation: -m * sum(w * gamma_model) * (S' - S) * S'
    gam = (
        sum(c["w"] * ref.gamma(S, c["K"], c["T"], PARAMS.r, PARAMS.q, c["sig"]) for c in contracts)
        * 100
    )
    for m in moves:
        s_new = S * (1 + m / 100)
        assert hf.loc[m, "gamma_approx_usd"] == pytest.approx(
            -gam * (s_new - S) * s_new, rel=1e-8, abs=1.0
        )
    assert hf.loc[0.0, "dealer_trade_usd"] == 0.0


def test_long_gamma_dealers_sell_rallies_and_buy_dips() -> None:
    # dealers long calls only: long gamma; full re-pricing agrees with gamma for a small move
    chain = hand_chain([("C", 100, 1000, 0.2, 0.03), ("C", 105, 500, 0.2, 0.02)], spot=101.0)
    rep = analyze(chain, GammaParams(moves_pct=(-1.0, -0.1, 0.0, 0.1, 1.0)))
    hf = rep.hedge_flow.set_index("move_pct")
    assert hf.loc[1.0, "dealer_trade_usd"] < 0 < hf.loc[-1.0, "dealer_trade_usd"]
    assert hf.loc[0.1, "dealer_trade_usd"] == pytest.approx(
        hf.loc[0.1, "gamma_approx_usd"], rel=0.03
    )
    assert (
        rep.headline["regime"] == "long gamma"
        and rep.headline["flip"] is None
        and rep.headline["flips"] == []
    )
    # the whole window stays long gamma: no crossing
    assert (rep.profile["net_gex_usd_per_1pct"] > 0).all()
    # short-all flips every sign
    sens = rep.sensitivity.set_index("convention")
    assert sens.loc["short_all", "net_gex_usd_per_1pct"] == pytest.approx(
        -rep.headline["net_gex_usd_per_1pct"]
    )
    assert sens.loc["short_all", "hedge_flow_up3_usd"] == pytest.approx(
        -sens.loc["calls_long_puts_short", "hedge_flow_up3_usd"]
    )


# -- flips ----------------------------------------------------------------------------------


def exact_curve(rep) -> callable:
    contracts = model_contracts(rep)
    return lambda s: ref.profile_point(contracts, s, PARAMS.r, PARAMS.q)


@pytest.mark.parametrize(
    ("rows", "spot", "n_flips"),
    [
        (
            [("C", 90, 1000, 0.1, 0.0), ("P", 100, 3000, 0.1, 0.0), ("C", 110, 1000, 0.1, 0.0)],
            102.0,
            2,
        ),
        (
            [
                ("C", 90, 1000, 0.12, 0.0),
                ("P", 97, 1500, 0.12, 0.0),
                ("C", 104, 1500, 0.12, 0.0),
                ("P", 111, 1000, 0.12, 0.0),
            ],
            100.0,
            3,
        ),
    ],
)
def test_profile_with_several_crossings(rows, spot, n_flips) -> None:
    chain = hand_chain(rows, spot=spot)
    rep = analyze(chain, PARAMS)
    flips = rep.headline["flips"]
    assert len(flips) == n_flips
    assert flips == sorted(flips)
    f = exact_curve(rep)
    for x in flips:
        # each crossing refined within 0.01 % of spot of the true root of the exact model
        root = brentq(f, x - 0.005 * spot, x + 0.005 * spot, xtol=1e-12)
        assert abs(x - root) <= 1e-4 * spot
        assert np.sign(f(x - 1e-4 * spot)) != np.sign(f(x + 1e-4 * spot))
    assert rep.headline["flip"] == min(flips, key=lambda x: abs(x - spot))
    assert rep.headline["flip_distance_pct"] == pytest.approx(
        (rep.headline["flip"] / spot - 1) * 100
    )
    # sampled profile changes sign exactly n_flips times
    sign = np.sign(rep.profile["net_gex_usd_per_1pct"].to_numpy())
    assert int(np.sum(sign[1:] != sign[:-1])) == n_flips


def test_find_flips_handles_exact_zeros_and_touches() -> None:
    x = np.arange(10.0)
    # touches zero at 3 without changing sign; crosses through a zero run at 6-7
    y = np.array([1.0, 2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, -1.0, -2.0])
    assert find_flips(x, y, lambda s: np.interp(s, x, y), tol=1e-6) == [6.5]
    z = np.sin(x)  # crossings near pi, 2 pi: refined on the exact function
    flips = find_flips(x, z, np.sin, tol=1e-9)
    assert flips == pytest.approx([math.pi, 2 * math.pi], abs=1e-9)


# -- walls, conventions, time bases -----------------------------------------------------------


def test_walls_and_headline_on_a_hand_built_chain() -> None:
    # S = 100: one unit of gamma x OI is worth 100 * 100^2 * 0.01 = 10,000 USD per 1 %
    rows = [
        ("C", 95, 100, 0.2, 0.01),  # +10,000
        ("C", 100, 300, 0.2, 0.02),  # +60,000
        ("C", 105, 300, 0.2, 0.03),  # +90,000  <- call wall
        ("P", 95, 500, 0.2, 0.02),  # -100,000 <- put wall
        ("P", 100, 400, 0.2, 0.02),  # -80,000  (100: 60k + 80k = 140k <- absolute-gamma strike)
        ("P", 105, 0, 0.2, 0.0),  # no position: 0 (a position with gamma 0 would be modelled)
    ]
    rep = analyze(hand_chain(rows, spot=100.0), PARAMS)
    bs = rep.by_strike.set_index("strike")
    assert bs["call_gex_usd_per_1pct"].to_dict() == pytest.approx(
        {95.0: 10000, 100.0: 60000, 105.0: 90000}
    )
    assert bs["put_gex_usd_per_1pct"].to_dict() == pytest.approx(
        {95.0: -100000, 100.0: -80000, 105.0: 0}
    )
    assert bs["net_gex_usd_per_1pct"].to_dict() == pytest.approx(
        {95.0: -90000, 100.0: -20000, 105.0: 90000}
    )
    assert bs["put_oi_contracts"].to_dict() == {95.0: 500, 100.0: 400, 105.0: 0}
    h = rep.headline
    assert (h["call_wall"], h["put_wall"], h["abs_gamma_strike"]) == (105.0, 95.0, 100.0)
    assert h["call_gex_usd_per_1pct"] == pytest.approx(160000)
    assert h["put_gex_usd_per_1pct"] == pytest.approx(-180000)
    assert h["net_gex_usd_per_1pct"] == pytest.approx(-20000)
    assert h["gross_gex_usd_per_1pct"] == pytest.approx(340000)
    assert h["net_gex_usd_per_point"] == pytest.approx(-20000)  # 1 point = 1 % at S = 100
    assert h["net_gex_shares_per_1pct"] == pytest.approx(-200)
    assert h["regime"] == "short gamma"
    sens = rep.sensitivity.set_index("convention")
    assert list(sens.index) == ["calls_long_puts_short", "short_all"]
    assert sens.loc["short_all", "net_gex_usd_per_1pct"] == pytest.approx(-340000)


def test_source_position_convention() -> None:
    rows = [("C", 95, 100, 0.2, 0.01), ("P", 95, 500, 0.2, 0.02), ("C", 105, 300, 0.2, 0.03)]
    # the source says dealers are long 40 of the calls at 95, short 200 puts, short 300 calls at 105
    chain = hand_chain(rows, spot=100.0, position=[40.0, -200.0, -300.0])
    rep = analyze(chain, PARAMS)
    sens = rep.sensitivity.set_index("convention")
    assert list(sens.index) == ["calls_long_puts_short", "short_all", "source_position"]
    assert sens.loc["source_position", "net_gex_usd_per_1pct"] == pytest.approx(
        10000 * (40 * 0.01 - 200 * 0.02 - 300 * 0.03)
    )
    own = analyze(chain, GammaParams(r=PARAMS.r, q=PARAMS.q, convention="source_position"))
    assert own.headline["net_gex_usd_per_1pct"] == pytest.approx(
        sens.loc["source_position", "net_gex_usd_per_1pct"]
    )
    assert own.headline["hedge_flow_up3_usd"] == pytest.approx(
        sens.loc["source_position", "hedge_flow_up3_usd"]
    )
    assert DEALER_POSITION_COLUMN in own.contracts.columns
    with pytest.raises(InputError, match=DEALER_POSITION_COLUMN):
        analyze(hand_chain(rows, spot=100.0), GammaParams(convention="source_position"))


def test_busdays262_against_calendar(real) -> None:
    chain, cal = real[SPX_2024]
    bus = analyze(chain, GammaParams(r=PARAMS.r, q=PARAMS.q, time_basis="busdays262"))
    cc, bc = cal.contracts.set_index("symbol"), bus.contracts.set_index("symbol")
    as_of = chain.as_of
    # Monday SPXW from a Sunday snapshot: no weekday in [Sun, Mon) -> the 1/262 floor
    assert bc.loc["SPXW240108C04700000", "t_years"] == pytest.approx(1 / 262)
    assert cc.loc["SPXW240108C04700000", "t_years"] == pytest.approx(
        (pd.Timestamp("2024-01-08 16:00", tz="America/New_York") - as_of) / pd.Timedelta(days=365)
    )
    # Friday 2024-01-12: Mon-Thu = 4 business days; the AM-settled SPX monthly of 2024-01-19: 9
    assert bc.loc["SPXW240112C04700000", "t_years"] == pytest.approx(4 / 262)
    assert bc.loc["SPX240119C04700000", "t_years"] == pytest.approx(9 / 262)
    assert cc.loc["SPX240119C04700000", "t_years"] == pytest.approx(
        (pd.Timestamp("2024-01-19 09:30", tz="America/New_York") - as_of) / pd.Timedelta(days=365)
    )
    # spot GEX from the file's gamma is identical; the model (and modelled gamma) depend on the basis
    file_part = [
        r.contracts.loc[r.contracts["gamma_source"] == "file", "gex_usd_per_1pct"].sum()
        for r in (bus, cal)
    ]
    assert file_part[0] == pytest.approx(file_part[1], rel=1e-12)
    assert bus.headline["net_gex_usd_per_1pct"] != cal.headline["net_gex_usd_per_1pct"]
    assert bus.headline["time_basis"] == "busdays262"
    assert (
        bus.headline["model_gex_at_spot_usd_per_1pct"]
        != cal.headline["model_gex_at_spot_usd_per_1pct"]
    )
    # the profile under busdays262 matches the per-contract loop with the busdays T
    contracts = model_contracts(bus)
    s = bus.profile["spot"].iloc[300]
    assert bus.profile["net_gex_usd_per_1pct"].iloc[300] == pytest.approx(
        ref.profile_point(contracts, s, PARAMS.r, PARAMS.q), rel=1e-9
    )


def test_zero_dte_alive_intraday() -> None:
    # 10:00 ET on expiry day: the PM-settled same-day contracts are alive (6 h left)
    rows = [
        ("C", 100, 1000, 0.2, 0.05, "2024-03-01"),
        ("P", 100, 1000, 0.2, 0.05, "2024-03-01"),
        ("C", 100, 1000, 0.2, 0.01, "2024-03-15"),
    ]
    chain = hand_chain(rows, spot=100.0, as_of="2024-03-01 10:00")
    cal = analyze(chain, PARAMS)
    bus = analyze(chain, GammaParams(time_basis="busdays262"))
    assert cal.headline["expired_dropped"] == 0
    t0 = cal.contracts.set_index("symbol").loc["SPY240301C00100000", "t_years"]
    assert t0 == pytest.approx(6 / (365 * 24))
    assert bus.contracts.set_index("symbol").loc["SPY240301C00100000", "t_years"] == pytest.approx(
        1 / 262
    )
    assert cal.by_expiry["zero_dte"].tolist() == [True, False]
    assert cal.by_expiry["days_to_expiry"].tolist() == [0, 14]
    # 0DTE share of gross: (0.05 + 0.05) / (0.05 + 0.05 + 0.01)
    assert cal.headline["zero_dte_share"] == pytest.approx(0.10 / 0.11)
    # after the close the same chain drops them
    late = analyze(hand_chain(rows, spot=100.0, as_of="2024-03-01 16:00"), PARAMS)
    assert late.headline["expired_dropped"] == 2 and late.headline["expired_dropped_oi"] == 2000


def test_default_next_close_comes_from_the_exchange_calendar() -> None:
    ny = "America/New_York"
    rows = [("C", 100, 1000, 0.2, 0.05, "2025-12-19"), ("P", 100, 1000, 0.2, 0.05, "2025-12-19")]
    # Wednesday before Thanksgiving, after the close: Thursday is a holiday, Friday closes at 13:00
    rep = analyze(hand_chain(rows, spot=100.0, as_of="2025-11-26 16:30"), PARAMS)
    assert (
        rep.headline["next_close"]
        == pd.Timestamp("2025-11-28 13:00", tz=ny).tz_convert("UTC").isoformat()
    )
    for at, expected in (
        ("2023-09-14 16:31", "2023-09-15 16:00"),
        ("2023-09-14 10:00", "2023-09-14 16:00"),
        ("2024-01-07 10:52", "2024-01-08 16:00"),
    ):
        assert calendars.next_close(pd.Timestamp(at, tz=ny)) == pd.Timestamp(expected, tz=ny)


# -- bad input ----------------------------------------------------------------------------------


def no_quotes(chain: Chain) -> Chain:
    """``chain`` with every bid and ask 0: no mid to solve an IV from."""
    return Chain(
        chain.underlying,
        chain.spot,
        chain.as_of,
        chain.source,
        chain.contracts.assign(bid=0.0, ask=0.0),
    )


def test_bad_chains_and_params_are_refused() -> None:
    good = [("C", 100, 10, 0.2, 0.01)]
    chain = hand_chain(good, spot=100.0)
    empty = Chain("SPY", 100.0, chain.as_of, "hand-built", chain.contracts.iloc[:0])
    cases = [
        (empty, "contracts"),
        (Chain("SPY", float("nan"), chain.as_of, "hand-built", chain.contracts), "spot"),
        (hand_chain([("C", 100, -10, 0.2, 0.01)], spot=100.0), "open_interest"),
        (
            no_quotes(
                hand_chain([("C", 100, 10, np.nan, 0.01), ("P", 100, 10, np.nan, 0.01)], spot=100.0)
            ),
            "iv",
        ),
        (hand_chain(good, spot=100.0, as_of="2024-03-20 10:00"), "expiry"),
    ]
    for bad, field in cases:
        with pytest.raises(InputError) as err:
            analyze(bad, PARAMS)
        assert err.value.field == field
        assert "hand-built" in str(err.value) or field == "expiry"
    for params, field in [
        (GammaParams(time_basis="act360"), "time_basis"),
        (GammaParams(convention="dealers_long"), "convention"),
        (GammaParams(window=1.5), "window"),
        (GammaParams(n_points=2), "n_points"),
        (
            GammaParams(next_close=pd.Timestamp("2024-02-29 16:00", tz="America/New_York")),
            "next_close",
        ),
        (GammaParams(next_close=pd.Timestamp("2024-03-01 16:00")), "next_close"),
    ]:
        with pytest.raises(InputError) as err:
            analyze(chain, params)
        assert err.value.field == field


def test_gamma_regime_is_the_sign_of_net_gex_and_neutral_at_zero() -> None:
    from flows.gamma import gamma_regime

    net = np.array([2.5e9, -7.0e8, 0.0, -0.0, np.nan])
    assert gamma_regime(net).tolist() == [
        "long gamma",
        "short gamma",
        "neutral gamma",
        "neutral gamma",
        "",  # not known
    ]
    assert str(gamma_regime(1.0)) == "long gamma"  # a scalar gives a 0-d array
    # rounding left by calls and puts that cancel (1e-9 of the gross) is not a regime ...
    gross = np.array([1.0e6, 1.0e6, 1.0e6])
    assert gamma_regime(np.array([1.0e-4, -1.0e-3, 1.0e-2]), gross).tolist() == [
        "neutral gamma",
        "neutral gamma",
        "long gamma",  # ... $0.01 on a $1 mn book is (1e-8 of it)
    ]
