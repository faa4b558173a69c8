"""flows.gamma_batch: the batched universe engine equals flows.gamma.analyze, chain by chain.

On the real chains (trimmed SPX/SPY quote tables and the MSTR CDN response; extended: the three
full quote tables) and on random small chains (file IVs and gammas missing or zero, settled
contracts, zero open interest, both public conventions, both time bases): every figure of the
universe row equals the per-chain headline to 1e-9 relative.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from flows.chain import Chain
from flows.gamma import GammaParams, analyze
from flows.gamma_batch import ROW_COLUMNS, ChainBatch, analyze_batch, analyze_chains
from flows.greeks import bsm_gamma, bsm_price
from flows.products import settlement_instants
from flows.sources import cboe, cboe_csv

REL = 1e-9
TEXT = ("underlying", "source", "regime")


def assert_rows_equal(
    chains: list[Chain], params: GammaParams, q: list[float] | None = None
) -> pd.DataFrame:
    report = analyze_chains(chains, params, q)
    assert report.failed.empty, report.failed.to_dict("records")
    assert list(report.table["chain"]) == list(range(len(chains)))
    for i, chain in enumerate(chains):
        p = params if q is None else replace(params, q=q[i])
        head = analyze(chain, p).headline
        row = report.table.iloc[i]
        for key in ROW_COLUMNS:
            if key == "as_of":
                assert row[key] == pd.Timestamp(head[key])
                continue
            want, got = head[key], row[key]
            if key in TEXT:
                assert got == want, (chain.underlying, key)
                continue
            if want is None:
                assert math.isnan(got), (chain.underlying, key, got)
                continue
            assert got == pytest.approx(want, rel=REL, abs=1e-300), (i, chain.underlying, key)
    return report.table


def real_chains(folder) -> list[Chain]:
    out = [cboe_csv.read_file(p) for p in sorted(folder.glob("*quotedata*.csv"))]
    out.append(cboe.parse((folder / "options_MSTR_2026-07-10_trimmed.json").read_bytes()))
    return out


def test_real_chains_equal_the_per_chain_engine(test_data) -> None:
    chains = real_chains(test_data / "options")
    table = assert_rows_equal(chains, GammaParams())
    # the figures are live numbers, not zeros: each chain has a flip or a wall and a hedge flow
    assert (table["gross_gex_usd_per_1pct"] > 0).all() and table["call_wall"].notna().all()
    assert (table["hedge_flow_down3_usd"] != 0).all()


def test_real_chains_other_conventions_and_time_basis(test_data) -> None:
    chains = real_chains(test_data / "options")
    assert_rows_equal(
        chains,
        GammaParams(convention="short_all", time_basis="busdays262"),
        q=[0.013, 0.013, 0.013, 0.0],
    )


@pytest.mark.extended
def test_full_real_files_equal_the_per_chain_engine(shared_data) -> None:
    chains = [cboe_csv.read_file(p) for p in sorted((shared_data / "options").glob("*.csv"))]
    table = assert_rows_equal(chains, GammaParams())
    assert table["flip"].notna().sum() >= 2


def random_chain(rng: np.random.Generator, name: str, as_of: pd.Timestamp) -> Chain:
    """A small chain with the quirks of real files: IV 0 (solved from the mid), gamma 0 or
    missing (modelled), settled contracts, zero open interest, uneven strikes."""
    spot = float(rng.uniform(5, 800))
    days = np.unique(
        rng.choice([0, 1, 3, 7, 14, 30, 60, 200, 400], size=rng.integers(1, 4), replace=False)
    )
    rows = []
    for d in days:
        exp = (
            as_of.tz_convert("America/New_York").normalize() + pd.Timedelta(days=int(d))
        ).tz_localize(None)
        n_k = int(rng.integers(1, 12))
        strikes = np.unique(np.round(spot * np.exp(rng.normal(0, 0.12, n_k)), 1))
        for k in strikes:
            for cp in "CP":
                rows.append({"expiry": exp, "strike": float(k), "type": cp})
    c = pd.DataFrame(rows)
    c["root"] = name
    c["symbol"] = [
        f"{name}{e:%y%m%d}{t}{round(k * 1000):08d}"
        for e, t, k in zip(c["expiry"], c["type"], c["strike"], strict=True)
    ]
    settle, _ = settlement_instants(c["root"], c["expiry"])
    c["settle_time"] = settle
    t = np.maximum((settle.asi8 - as_of.value) / 1e9 / (365 * 86400), 0)
    iv = rng.uniform(0.15, 0.9, len(c))
    is_call = (c["type"] == "C").to_numpy()
    live = t > 0
    price = np.where(
        live, bsm_price(spot, c["strike"], np.where(live, t, 1.0), 0.045, 0.0, iv, is_call), 0.0
    )
    gam = np.where(live, bsm_gamma(spot, c["strike"], np.where(live, t, 1.0), 0.045, 0.0, iv), 0.0)
    c["bid"] = np.round(price * 0.98, 2)
    c["ask"] = np.round(price * 1.02 + 0.01, 2)
    c["iv"] = np.where(rng.random(len(c)) < 0.2, np.nan, iv)
    c["delta"] = np.nan
    c["gamma"] = np.where(
        rng.random(len(c)) < 0.15,
        0.0,
        np.where(rng.random(len(c)) < 0.1, np.nan, gam * rng.uniform(0.9, 1.1, len(c))),
    )
    c["open_interest"] = np.where(
        rng.random(len(c)) < 0.15, 0.0, np.floor(rng.lognormal(5, 1.5, len(c)))
    )
    c["volume"] = 0.0
    from flows.schema import CHAIN_COLUMNS

    return Chain(
        underlying=name,
        spot=spot,
        as_of=as_of,
        source=f"random:{name}",
        contracts=c[list(CHAIN_COLUMNS)],
    )


def random_chains(seed: int, n: int) -> list[Chain]:
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp("2026-03-12 18:30", tz="UTC")
    out = []
    for i in range(n):
        try_at = as_of + pd.Timedelta(minutes=int(rng.integers(0, 600)))
        ch = random_chain(
            rng, "R" + "".join(chr(65 + (i // 26**k) % 26) for k in range(3)), try_at
        )  # letters: a digit would be an adjusted root
        k = ch.contracts["strike"]
        if k.min() <= ch.spot <= k.max() and (ch.contracts["settle_time"] > try_at).any():
            out.append(ch)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_small_chains_equal_the_per_chain_engine(seed: int) -> None:
    chains = random_chains(seed, 60)
    assert len(chains) > 30
    table = assert_rows_equal(chains, GammaParams())
    assert table["flip"].notna().any() and table["flip"].isna().any()  # both cases exercised


def test_random_chains_short_all_busdays() -> None:
    assert_rows_equal(
        random_chains(7, 40),
        GammaParams(convention="short_all", time_basis="busdays262", window=0.1, n_points=201),
    )


def test_refusals_name_the_chain_and_match_the_per_chain_engine(test_data) -> None:
    good = cboe.parse((test_data / "options" / "options_MSTR_2026-07-10_trimmed.json").read_bytes())
    wrong_spot = replace(good, spot=good.spot * 10)
    dead = replace(good, as_of=pd.Timestamp("2027-01-01", tz="UTC"))
    no_iv = replace(good, contracts=good.contracts.assign(iv=np.nan, bid=0.0, ask=0.0))
    report = analyze_chains([good, wrong_spot, dead, no_iv], GammaParams())
    assert list(report.table["chain"]) == [0]
    failed = report.failed.set_index("chain")
    assert (
        failed.loc[1, "field"] == "spot" and "outside the listed strikes" in failed.loc[1, "reason"]
    )
    assert failed.loc[2, "field"] == "expiry"
    assert failed.loc[3, "field"] == "iv"
    assert set(failed["underlying"]) == {"MSTR"} and set(failed["source"]) == {"cboe-json"}
    for chain in (wrong_spot, dead, no_iv):  # the per-chain engine refuses the same chains
        with pytest.raises(Exception, match="spot|settled|implied volatility"):
            analyze(chain, GammaParams())


def test_special_products_go_to_the_per_chain_engine(test_data) -> None:
    spx = cboe_csv.read_file(test_data / "options" / "spx_quotedata_2023-09-14_trimmed.csv")
    batch = ChainBatch.from_chains([spx])
    assert analyze_batch(batch, GammaParams()).fallback == []
    report = analyze_batch(
        batch,
        GammaParams(
            deliverables={
                "SPXW": __import__("flows.products", fromlist=["Deliverable"]).Deliverable(
                    shares=100
                )
            }
        ),
    )
    assert report.fallback == [0] and report.table.empty


def test_hand_worked_single_call() -> None:
    """One call, file gamma 0.01 per point, OI 1,000, spot 100: GEX = 1000 * 0.01 * 100 * 100**2
    * 0.01 = USD 100,000 per 1 %; all of it call GEX, the wall at its strike."""
    as_of = pd.Timestamp("2026-03-12 15:00", tz="UTC")
    exp = pd.Timestamp("2026-04-17")
    settle, _ = settlement_instants(["ABC"], [exp])
    c = pd.DataFrame(
        {
            "symbol": ["ABC260417C00100000"],
            "root": "ABC",
            "type": "C",
            "strike": 100.0,
            "expiry": [exp],
            "settle_time": settle,
            "bid": 2.0,
            "ask": 2.2,
            "iv": 0.3,
            "delta": 0.5,
            "gamma": 0.01,
            "open_interest": 1000.0,
            "volume": 0.0,
        }
    )
    table = analyze_chains([Chain("ABC", 100.0, as_of, "hand", c)], GammaParams()).table
    row = table.iloc[0]
    assert row["net_gex_usd_per_1pct"] == pytest.approx(100_000.0, rel=1e-12)
    assert (
        row["call_gex_usd_per_1pct"] == row["gross_gex_usd_per_1pct"]
        and row["put_gex_usd_per_1pct"] == 0
    )
    assert row["call_wall"] == 100.0 and math.isnan(row["put_wall"]) and math.isnan(row["flip"])
    # dealers long the call: they sell into a rally and buy a dip
    assert row["hedge_flow_up3_usd"] < 0 < row["hedge_flow_down3_usd"]
