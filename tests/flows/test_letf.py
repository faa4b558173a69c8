"""Leveraged-ETF rebalance engine: formula vs the explicit trade, invariants, real snapshots."""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from flows import letf, letf_reset
from flows.sources import letf_universe
from jobs.config import LetfSettings
from tests.realdata import FULL, full, root, trimmed

LEVERAGES = [3.0, 2.0, 1.25, -1.0, -2.0, -3.0]
MOVES = [-0.25, -0.10, -0.03, -0.005, 0.0, 0.01, 0.047, 0.12]
SNAPSHOTS = {
    "2026-02-05": 755,
    "2026-03-01": 743,
    "2026-04-01": 719,
    "2026-05-01": 721,
    "2026-06-01": 745,
}
"""Rows per snapshot, from ../shared/data/letf/README.md."""

PROXIES = dict(LetfSettings().index_proxies)


def explicit_trade(aum: float, lev: float, r: float) -> float:
    """Target exposure minus drifted exposure, written out step by step (the reference)."""
    drifted = lev * aum * (1.0 + r)  # exposure after the move, before any trade
    aum_new = aum * (1.0 + lev * r)  # the fund's assets after the move
    target = lev * aum_new  # what the fund must hold at the close
    return target - drifted


@pytest.mark.parametrize(("lev", "r"), list(itertools.product(LEVERAGES, MOVES)))
def test_formula_equals_target_minus_drifted_exposure(lev: float, r: float) -> None:
    aum = 250e6
    expected = explicit_trade(aum, lev, r)
    assert float(letf.rebalance_usd(aum, lev, r)) == pytest.approx(expected, rel=1e-12, abs=1e-6)
    # the post-move variant on today's assets gives the same trade
    aum_now = aum * (1 + lev * r)
    assert float(letf.rebalance_usd_post_move(aum_now, lev, r)) == pytest.approx(
        expected, rel=1e-12, abs=1e-6
    )


def test_formula_vectorised_broadcast_matches_reference() -> None:
    lev = np.array(LEVERAGES)[:, None]
    r = np.array(MOVES)[None, :]
    got = letf.rebalance_usd(100.0, lev, r)
    ref = np.array([[explicit_trade(100.0, a, b) for b in MOVES] for a in LEVERAGES])
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)


def test_worked_check_minus_3x_sells_120() -> None:
    assert float(letf.rebalance_usd(100.0, -3.0, -0.10)) == pytest.approx(-120.0)
    assert explicit_trade(100.0, -3.0, -0.10) == pytest.approx(-120.0)
    # the same fund seen after the move: assets 100 * (1 + 0.3) = 130
    assert float(letf.rebalance_usd_post_move(130.0, -3.0, -0.10)) == pytest.approx(-120.0)


def test_post_move_variant_undefined_when_fund_wiped_out() -> None:
    out = letf.rebalance_usd_post_move(
        np.array([10.0, 10.0]), np.array([3.0, 3.0]), np.array([-0.30, -0.40])
    )
    assert math.isfinite(out[0]) and math.isnan(out[1])


def test_one_x_long_never_rebalances_and_gamma_factor() -> None:
    assert float(letf.rebalance_usd(1e9, 1.0, -0.2)) == 0.0
    np.testing.assert_allclose(
        letf.gamma_factor([3, 2, 1.25, -1, -2, -3]), [6, 2, 0.3125, 2, 6, 12]
    )


def test_creations_term_sign() -> None:
    # Inflows of 10 into a -2x fund: it shorts 20 more of the underlying; into a +3x fund it buys 30.
    np.testing.assert_allclose(letf.creations_flow_usd([-2.0, 3.0], [10.0, 10.0]), [-20.0, 30.0])
    funds = _hand_funds()
    flows = letf.fund_flows(
        letf.classify(funds, {}), {"AAA": 0.0}, net_creations_usd={"L3": 10.0, "I2": 10.0}
    )
    row = flows.set_index("ticker")
    assert row.loc["L3", "creations_usd"] == pytest.approx(30.0)
    assert row.loc["I2", "creations_usd"] == pytest.approx(-20.0)
    assert row.loc["L3", "total_flow_usd"] == pytest.approx(30.0)


def test_long_and_inverse_never_offset() -> None:
    rng = np.random.default_rng(7)
    lev = np.concatenate([rng.uniform(1.01, 4, 500), -rng.uniform(0.1, 4, 500)])
    aum = rng.uniform(1e6, 1e10, lev.size)
    for r in (-0.07, 0.03):
        trades = letf.rebalance_usd(aum, lev, r)
        assert np.all(np.sign(trades) == np.sign(r))
        assert abs(trades.sum()) == pytest.approx(np.abs(trades).sum())
    table = letf.by_underlying(letf.fund_flows(letf.classify(_hand_funds(), {}), {"AAA": -5.0}))
    row = table.set_index("underlying").loc["AAA"]
    assert row["long_per_1pct_usd"] > 0 and row["inverse_per_1pct_usd"] > 0
    assert row["per_1pct_usd"] == pytest.approx(
        row["long_per_1pct_usd"] + row["inverse_per_1pct_usd"]
    )


def _hand_funds() -> pd.DataFrame:
    """Small universe: one underlying AAA with +3x (100), -2x (50), +1x (40); BBB with -3x (100)."""
    return pd.DataFrame(
        {
            "ticker": ["L3", "I2", "L1", "B3"],
            "name": ["Long 3x", "Short 2x", "Tracker", "Bear 3x"],
            "underlying": ["AAA", "AAA", "AAA", "BBB"],
            "underlying_asset": ["", "", "", ""],
            "leverage": [3.0, -2.0, 1.0, -3.0],
            "asset_class": ["equity"] * 4,
            "aum_usd": [100.0, 50.0, 40.0, 100.0],
            "reset": ["daily"] * 4,
        }
    )


def test_by_underlying_hand_values_and_adv_share() -> None:
    flows = letf.fund_flows(letf.classify(_hand_funds(), {}), {"AAA": -2.0, "BBB": 10.0})
    table = letf.by_underlying(flows, adv_usd={"AAA": 100.0}, auction_usd={"AAA": 10.0}).set_index(
        "underlying"
    )
    # AAA: 100*6*1% + 50*6*1% + 40*0 = 9 USD per 1%; move -2% -> sell 18
    assert table.loc["AAA", "per_1pct_usd"] == pytest.approx(9.0)
    assert table.loc["AAA", "long_per_1pct_usd"] == pytest.approx(6.0)
    assert table.loc["AAA", "inverse_per_1pct_usd"] == pytest.approx(3.0)
    assert table.loc["AAA", "rebalance_usd"] == pytest.approx(-18.0)
    assert table.loc["AAA", "rebalance_pct_adv"] == pytest.approx(18.0)
    assert table.loc["AAA", "rebalance_pct_auction"] == pytest.approx(180.0)
    assert table.loc["AAA", "funds"] == 3
    # BBB: -3x, 100 -> 12 per 1%; +10% -> buy 120 (the worked check, mirrored)
    assert table.loc["BBB", "rebalance_usd"] == pytest.approx(120.0)
    assert math.isnan(table.loc["BBB", "rebalance_pct_adv"])


def test_scenario_matrix_is_the_outer_product() -> None:
    per = np.array([9.0, 12.0, 0.0])
    grid = np.arange(-10.0, 10.5, 0.5)
    mat = letf.scenario_matrix(per, grid)
    assert mat.shape == (3, 41)
    ref = [[p * g for g in grid] for p in per]
    np.testing.assert_allclose(mat, ref)


def test_scenario_grid_per_underlying_and_total() -> None:
    flows = letf.fund_flows(letf.classify(_hand_funds(), {}))
    grid = letf.scenario_grid(flows, [-10.0, 0.0, 5.0])
    pivot = grid.pivot(index="underlying", columns="move_pct", values="rebalance_usd")
    assert pivot.loc["AAA", -10.0] == pytest.approx(-90.0)
    assert pivot.loc["BBB", -10.0] == pytest.approx(-120.0)
    assert pivot.loc["TOTAL", 5.0] == pytest.approx(5 * (9 + 12))
    assert (pivot[0.0] == 0).all()


def test_scenario_flows_series_and_frame() -> None:
    flows = letf.fund_flows(letf.classify(_hand_funds(), {}))
    one = letf.scenario_flows(flows, {"AAA": -3.0}).set_index("underlying")
    assert one.loc["AAA", "rebalance_usd"] == pytest.approx(-27.0)
    assert one.loc["BBB", "rebalance_usd"] == 0.0  # no move given
    moves = pd.DataFrame(
        {"AAA": [-1.0, 2.0], "BBB": [-1.5, 3.0]}, index=pd.Index([-1.0, 2.0], name="index_move_pct")
    )
    grid = letf.scenario_flows(flows, moves)
    # reference: per fund, A*(L^2-L)*r summed by hand
    for scen in moves.index:
        ref_aaa = sum(
            float(letf.rebalance_usd(a, lv, moves.loc[scen, "AAA"] / 100))
            for a, lv in ((100, 3), (50, -2), (40, 1))
        )
        ref_bbb = float(letf.rebalance_usd(100, -3, moves.loc[scen, "BBB"] / 100))
        assert grid.loc[scen, "AAA"] == pytest.approx(ref_aaa)
        assert grid.loc[scen, "TOTAL"] == pytest.approx(ref_aaa + ref_bbb)
    # also from leverage and assets only (no per_1pct column)
    raw = _hand_funds()
    assert letf.scenario_flows(raw, {"BBB": 10.0}).set_index("underlying").loc[
        "BBB", "rebalance_usd"
    ] == pytest.approx(120.0)


def test_classify_reasons() -> None:
    frame = pd.DataFrame(
        {
            "ticker": [
                "OK",
                "VAR",
                "YB",
                "NOAUM",
                "ZERO",
                "BTC2",
                "GLD2",
                "DEBT",
                "BLANK",
                "MAPPED",
            ],
            "name": [
                "x",
                "x",
                "GraniteShares YieldBOOST TSLA ETF",
                "x",
                "x",
                "x",
                "x",
                "x",
                "x",
                "x",
            ],
            "underlying": ["NVDA", "TSLA", "TSLA", "NVDA", "NVDA", "BTC", "", "TYX", "", ""],
            "underlying_asset": [
                "",
                "",
                "",
                "",
                "",
                "",
                "Gold",
                "",
                "Some Exotic Index",
                "Russell 2000 Index",
            ],
            "leverage": [2.0, np.nan, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0],
            "leverage_kind": [
                "fixed",
                "variable",
                "fixed",
                "fixed",
                "fixed",
                "fixed",
                "fixed",
                "fixed",
                "fixed",
                "fixed",
            ],
            "asset_class": [
                "equity",
                "equity",
                "equity",
                "equity",
                "equity",
                "crypto",
                "commodity",
                "debt",
                "equity",
                "equity",
            ],
            "aum_usd": [1.0, 1.0, 1.0, np.nan, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            "reset": [
                "daily",
                "daily",
                "options-based",
                "daily",
                "daily",
                "daily",
                "daily",
                "daily",
                "daily",
                "daily",
            ],
        }
    )
    out = letf.classify(frame, {"Russell 2000": "IWM"}).set_index("ticker")
    assert (
        out.loc["OK", "group"] == "equity"
        and out.loc["OK", "reason"] == ""
        and out.loc["OK", "exclusion"] == ""
    )
    assert (
        out.loc["VAR", "reason"] == letf.REASON_VARIABLE
        and out.loc["VAR", "exclusion"] == "variable leverage"
    )
    # a YieldBoost fund is an options payoff: excluded for its reset class (was: "variable")
    assert (
        out.loc["YB", "reason"] == letf.REASON_RESET["options-based"]
        and out.loc["YB", "exclusion"] == "reset: options-based"
    )
    # without a reset column the name rules decide: the same YieldBoost name -> options-based
    assert (
        letf.classify(frame.drop(columns="reset"), {}).set_index("ticker").loc["YB", "reset"]
        == "options-based"
    )
    assert out.loc["NOAUM", "reason"] == letf.REASON_NO_AUM
    assert out.loc["ZERO", "reason"] == letf.REASON_ZERO_AUM
    assert out.loc["BTC2", "group"] == "crypto"
    assert out.loc["GLD2", "group"] == "commodity" and out.loc["GLD2", "underlying"] == "Gold"
    assert out.loc["DEBT", "group"] == "excluded" and "debt" in out.loc["DEBT", "reason"]
    assert out.loc["BLANK", "reason"] == letf.REASON_UNKNOWN_UNDERLYING
    assert out.loc["MAPPED", "underlying"] == "IWM" and out.loc["MAPPED", "group"] == "equity"
    assert out.loc["MAPPED", "underlying_source"] == "proxy"


# -- the five real snapshots ----------------------------------------------------------------


TRIMMED_SNAPSHOT = "letf/leveraged_etf_data_2026-06-01_trimmed.csv"
"""87 real rows of the 2026-06-01 snapshot chosen to cover every rule (tests/data/letf/PROVENANCE.md)."""
UNIVERSES = [trimmed(TRIMMED_SNAPSHOT, 87, id="trimmed-2026-06-01")] + [
    full(f"letf/pokedo0_leveraged_etf_data_{day}.csv", rows, id=f"full-{day}")
    for day, rows in SNAPSHOTS.items()
]


def _snapshot(folder, name: str):
    path = folder / name
    parsed = letf_universe.parse(path.read_bytes(), str(path))
    return path, parsed.funds, parsed.skipped


def _full_snapshot(shared_data, day: str):
    return _snapshot(shared_data, f"letf/pokedo0_leveraged_etf_data_{day}.csv")


@pytest.mark.parametrize(("where", "name", "rows"), UNIVERSES)
def test_real_snapshots_parse_with_readme_row_counts(
    where: str, name: str, rows: int, request: pytest.FixtureRequest
) -> None:
    path, universe, skipped = _snapshot(root(request, where), name)
    assert len(universe) + len(skipped) == rows
    assert universe["ticker"].is_unique
    assert (universe["aum_usd"].dropna() >= 0).all()
    assert set(np.sign(universe["leverage"].dropna())) <= {-1.0, 1.0}
    # NaN leverage: "variable", or an unreadable cell kept on a fund outside the daily figures
    # (not daily-reset, or a fund the source has no market data for: no assets, price, volume)
    no_lev = universe["leverage"].isna() & universe["leverage_kind"].ne("variable")
    no_data = universe[["aum_usd", "price", "avg_volume"]].isna().all(axis=1)
    assert (universe["reset"].ne("daily") | no_data)[no_lev].all()
    assert universe.loc[universe["leverage_kind"].eq("variable"), "leverage"].isna().all()
    assert skipped["reason"].str.len().gt(0).all() and skipped["line"].between(2, rows + 1).all()
    assert set(universe["reset"]) <= set(letf_reset.RESETS)


PROXY_NAMES = {" ".join(k.split()).casefold().removesuffix(" index") for k in PROXIES}
"""The index names of the proxy map, as the funds' ``underlying_asset`` spells them."""


def _independent_sums(path, skip_underlyings: set[str], daily: set[str]) -> dict[str, float]:
    """Plain-Python USD per 1% per underlying ticker, straight from the CSV text (daily-reset
    funds only: ``daily`` is the set of their tickers)."""
    sums: dict[str, float] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            under = row["underlying_ticker"].strip().upper()
            text = row["leverage"].strip().lower()
            name = " ".join(row["underlying_asset"].split()).casefold().removesuffix(" index")
            if (
                not under
                or under in skip_underlyings
                or name in PROXY_NAMES  # the index's proxy collects it (covered fund by fund)
                or row["asset_class"].strip().lower() != "equity"
            ):
                continue
            if (
                not text.endswith("x")
                or row["direction"] not in ("long", "short")
                or not row["aum"]
                or float(row["aum"]) <= 0
            ):
                continue
            if row["ticker"].strip().upper() not in daily:
                continue
            lev = float(text[:-1]) * (1 if row["direction"] == "long" else -1)
            sums[under] = sums.get(under, 0.0) + float(row["aum"]) * (lev * lev - lev) / 100.0
    return sums


@pytest.mark.parametrize(("where", "name", "rows"), UNIVERSES)
def test_real_snapshot_per_underlying_totals_match_independent_sum(
    where: str, name: str, rows: int, request: pytest.FixtureRequest
) -> None:
    path, universe, _ = _snapshot(root(request, where), name)
    # Underlyings touched by the proxy map (as key or target) also collect blank-ticker funds by
    # name; the plain sum below covers the rest, which is most single stocks.
    touched = {k.upper() for k in PROXIES} | {v.upper() for v in PROXIES.values()}
    expected = _independent_sums(
        path, touched, set(universe.loc[universe["reset"].eq("daily"), "ticker"])
    )
    table = letf.by_underlying(letf.fund_flows(letf.classify(universe, PROXIES))).set_index(
        "underlying"
    )
    # the single stocks (the trimmed copy keeps five; tests/flows/test_letf_reference.py covers
    # every underlying, index proxies included, fund by fund)
    assert len(expected) > (100 if where == FULL else 4)
    for under, value in expected.items():
        assert table.loc[under, "per_1pct_usd"] == pytest.approx(value, rel=1e-9, abs=1e-3), under
    for under in (
        ("NVDA", "TSLA", "AMD", "PLTR") if where == FULL else ("NVDA", "TSLA", "AMD", "CBRS")
    ):
        assert under in expected


@pytest.mark.extended
@pytest.mark.parametrize(("day", "readme_bn"), [("2026-02-05", 6.2), ("2026-06-01", 8.8)])
def test_readme_derived_check_reproduced(shared_data, day: str, readme_bn: float) -> None:
    """README: equity rows, sum A*(L^2-L)*1% ~ $6.2bn (2026-02) and ~ $8.8bn (2026-06).

    Reproduced on every equity row with a fixed leverage and a long/short direction, whatever
    its underlying: 6.196bn and 8.697bn.  Tolerance 2%: the README rounds to two figures and does
    not say how it treats rows with a blank direction (we cannot sign them and skip them at
    import; counting them as short gives 6.23 / 8.84bn, so the README's 8.8 sits between).
    The flowdesk equity total is lower because funds with an unmappable underlying (VIX futures,
    bespoke baskets) and option-income funds are excluded; the difference is exactly those.
    """
    _, universe, _ = _full_snapshot(shared_data, day)
    fixed_equity = universe[(universe["asset_class"] == "equity") & universe["leverage"].notna()]
    naive = float(
        (
            fixed_equity["aum_usd"].fillna(0) * letf.gamma_factor(fixed_equity["leverage"]) * 0.01
        ).sum()
    )
    assert naive / 1e9 == pytest.approx(readme_bn, rel=0.02)
    flows = letf.fund_flows(letf.classify(universe, PROXIES))
    counted = float(letf.by_underlying(flows)["per_1pct_usd"].sum())
    left_out = flows[
        (flows["asset_class"] == "equity")
        & flows["leverage"].notna()
        & (flows["group"] == "excluded")
    ]
    assert counted + float(left_out["per_1pct_usd"].fillna(0).sum()) == pytest.approx(
        naive, rel=1e-12
    )
    assert counted < naive


@pytest.mark.parametrize(
    ("day", "underlying", "readme_bn"),
    [
        ("2026-02-05", "QQQ", 2.3),
        ("2026-06-01", "QQQ", 3.0),
        ("2026-02-05", "SPY", 1.0),
        ("2026-06-01", "SPY", 1.1),
        ("2026-02-05", "SOXX", 0.9),
        ("2026-06-01", "SOXX", 1.9),
    ],
)
@pytest.mark.extended
def test_readme_per_index_figures(shared_data, day: str, underlying: str, readme_bn: float) -> None:
    """README: NDX-linked ~2.3/3.0bn, SPX-linked ~1.0/1.1bn, SOXL+SOXS+USD ~0.9/1.9bn per 1%.

    Ours aggregate by hedge proxy (SPX funds -> SPY, SOXL/SOXS via the index name and USD/SSG via
    DJUSSC -> SOXX), within 8%: the README rounds to one decimal in $bn and its groupings may
    include or leave out the odd small fund (SSG, the 1x SH and PSQ).
    """
    _, universe, _ = _full_snapshot(shared_data, day)
    table = letf.by_underlying(letf.fund_flows(letf.classify(universe, PROXIES))).set_index(
        "underlying"
    )
    assert table.loc[underlying, "per_1pct_usd"] / 1e9 == pytest.approx(readme_bn, rel=0.08)


@pytest.mark.parametrize(("where", "name", "rows"), [UNIVERSES[0], UNIVERSES[-1]])
def test_blank_index_underlyings_are_mapped(
    where: str, name: str, rows: int, request: pytest.FixtureRequest
) -> None:
    _, universe, _ = _snapshot(root(request, where), name)
    raw = universe.set_index("ticker")
    assert raw.loc[["SOXL", "TECL", "TNA"], "underlying"].eq("").all()  # blank in the file
    out = letf.classify(universe, PROXIES).set_index("ticker")
    assert out.loc["SOXL", "underlying"] == "SOXX"
    assert out.loc["SOXS", "underlying"] == "SOXX"
    assert out.loc["TECL", "underlying"] == "XLK"
    assert out.loc["TNA", "underlying"] == "IWM"
    assert (out.loc[["SOXL", "TECL", "TNA"], "underlying_source"] == "proxy").all()
    assert (out.loc[["SOXL", "TECL", "TNA"], "group"] == "equity").all()
    assert (
        out.loc["TQQQ", "underlying"] == "QQQ" and out.loc["TQQQ", "underlying_source"] == "ticker"
    )
    assert out.loc["UPRO", "underlying"] == "SPY"  # index ticker SPX -> SPY
    if where == FULL:  # left out of the trimmed copy on purpose (its PROVENANCE.md)
        assert out.loc["UVIX", "reason"] == letf.REASON_UNKNOWN_UNDERLYING  # VIX futures: no proxy


def test_map_underlyings_name_normalisation() -> None:
    frame = pd.DataFrame(
        {
            "underlying": ["", "", "spx", ""],
            "underlying_asset": ["NYSE  Semiconductor Index", "nasdaq-100 index", "", "Nope"],
        }
    )
    out = letf.map_underlyings(
        frame, {"NYSE Semiconductor": "SOXX", "Nasdaq-100": "QQQ", "SPX": "SPY"}
    )
    assert out["underlying"].tolist() == ["SOXX", "QQQ", "SPY", ""]
    assert out["underlying_source"].tolist() == ["proxy", "proxy", "proxy", ""]


def test_scenario_table_wide_matches_long_and_reference() -> None:
    flows = letf.fund_flows(letf.classify(_hand_funds(), {}))
    wide = letf.scenario_table(flows, [-10.0, 2.5])
    assert wide.index.tolist() == ["AAA", "BBB", "TOTAL"]
    assert wide.loc["AAA", 2.5] == pytest.approx(9.0 * 2.5)
    assert wide.loc["TOTAL", -10.0] == pytest.approx(-210.0)
    long = letf.scenario_grid(flows, [-10.0, 2.5]).set_index(["underlying", "move_pct"])[
        "rebalance_usd"
    ]
    assert long.loc[("BBB", 2.5)] == pytest.approx(wide.loc["BBB", 2.5])
    # a moves frame that lacks an underlying: that underlying trades nothing
    partial = letf.scenario_flows(flows, pd.DataFrame({"BBB": [-1.0]}))
    assert partial.loc[0, "AAA"] == 0.0 and partial.loc[0, "BBB"] == pytest.approx(-12.0)
    assert partial.loc[0, "TOTAL"] == pytest.approx(-12.0)


def test_fund_flows_post_move_assets_and_missing_columns() -> None:
    funds = letf.classify(_hand_funds(), {})
    prior = letf.fund_flows(funds, {"AAA": -10.0, "BBB": -10.0}).set_index("ticker")
    now = funds.copy()
    now["aum_usd"] = now["aum_usd"] * (1 + now["leverage"] * -0.10)  # assets after the move
    post = letf.fund_flows(now, {"AAA": -10.0, "BBB": -10.0}, aum_is_post_move=True).set_index(
        "ticker"
    )
    np.testing.assert_allclose(post["rebalance_usd"], prior["rebalance_usd"])
    assert post.loc["B3", "rebalance_usd"] == pytest.approx(-120.0)
    from flows.errors import InputError

    with pytest.raises(InputError, match="aum_usd"):
        letf.classify(_hand_funds().drop(columns="aum_usd"), {})


def test_rebalance_past_wipe_out_is_the_liquidation_of_the_exposure() -> None:
    """Hand-worked: A = 100, L = 3.  r = -0.2: the formula, 100 x 6 x -0.2 = -120.  r = -0.4: the
    fund's assets are gone (1 + 3 x -0.4 = -0.2), it sells its exposure 3 x 100 x 0.6 = 180 (the
    formula would say 240).  At r = -1/3 both give -200 (continuous).  Inverse -1x at +150 %: it
    buys back its short, 1 x 100 x 2.5 = 250."""
    from flows.letf import rebalance_usd, wiped_out

    got = rebalance_usd(
        np.array([100.0, 100.0, 100.0, 100.0]),
        np.array([3.0, 3.0, 3.0, -1.0]),
        np.array([-0.2, -0.4, -1.0 / 3.0, 1.5]),
    )
    assert got == pytest.approx([-120.0, -180.0, -200.0, 250.0])
    assert wiped_out(
        np.array([3.0, 3.0, -1.0, 2.0]), np.array([-0.2, -0.4, 1.5, np.nan])
    ).tolist() == [False, True, True, False]
    eps = 1e-9
    below = rebalance_usd(100.0, 3.0, -1.0 / 3.0 - eps)
    above = rebalance_usd(100.0, 3.0, -1.0 / 3.0 + eps)
    assert float(below) == pytest.approx(float(above), rel=1e-6)
    assert np.isnan(rebalance_usd(100.0, 3.0, np.nan))
