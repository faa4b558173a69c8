"""Tests of flows.futures_positioning and the markets table on real TFF rows.

Trimmed real files (``tests/data/cftc_tff``: the 15 markets, 2021 and 2024 H1) cover the default
suite; the full 2017-2026 files run in the ``extended`` tests.  Expected values are typed from
the files' rows (hand sums), or computed in the test with plain pandas over explicit windows.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows import cftc
from flows import futures_positioning as fp
from flows.errors import InputError
from flows.sources import cftc_files, cftc_socrata, tff_markets
from flows.sources.textio import decode_text

TFF_2021 = "cftc_tff/fut_fin_txt_2021_markets.zip"
TFF_2024 = "cftc_tff/fut_fin_txt_2024_markets_through_2024-06-25.zip"
SOCRATA_ES = "cftc/socrata_gpe5-46if_tff_futonly_es_2026-07-07_to_2026-07-14_subset.json"
SYMBOLS = [
    "ES",
    "ES_CONS",
    "NQ",
    "NQ_CONS",
    "RTY",
    "YM",
    "YM_CONS",
    "VX",
    "ZT",
    "ZF",
    "ZN",
    "TN",
    "ZB",
    "UB",
    "SR3",
]


# -- helpers --------------------------------------------------------------------------------------
def _text(test_data: Path, name: str) -> str:
    path = test_data / name
    return cftc_files.read_zip(path.read_bytes(), str(path))


def _parse(text: str, source: str = "tff") -> pd.DataFrame:
    frame, _ = cftc_files.parse_report(
        text, "tff", source, list(tff_markets.load()["code"]), coverage=False, units=True
    )
    return frame


@pytest.fixture(scope="module")
def markets() -> pd.DataFrame:
    return tff_markets.load()


@pytest.fixture(scope="module")
def texts(test_data: Path) -> dict[str, str]:
    return {"2021": _text(test_data, TFF_2021), "2024": _text(test_data, TFF_2024)}


@pytest.fixture(scope="module")
def frame(texts: dict[str, str]) -> pd.DataFrame:
    return pd.concat(
        [_parse(texts["2021"], "2021"), _parse(texts["2024"], "2024")], ignore_index=True
    )


@pytest.fixture(scope="module")
def result(frame: pd.DataFrame, markets: pd.DataFrame) -> fp.FuturesPositioning:
    return fp.analyse(frame, markets)


def _raw_row(text: str, code: str, day: str) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(text), skipinitialspace=True))
    header = [h.strip() for h in rows[0]]
    row = next(r for r in rows[1:] if r and r[3].strip() == code and r[2].strip() == day)
    return {h: v.strip() for h, v in zip(header, row, strict=True)}


def _cell(res: fp.FuturesPositioning, symbol: str, day: str, cls: str) -> pd.Series:
    p = res.positions
    hit = p[
        (p["symbol"] == symbol) & (p["as_of"] == pd.Timestamp(day)) & (p["trader_class"] == cls)
    ]
    assert len(hit) == 1, (symbol, day, cls, len(hit))
    return hit.iloc[0]


# -- the markets table ----------------------------------------------------------------------------
def test_markets_table_shipped(markets: pd.DataFrame) -> None:
    assert list(markets["symbol"]) == SYMBOLS
    by = markets.set_index("symbol")
    assert (
        by.loc["ES", "code"] == "13874A"
        and by.loc["NQ", "code"] == "209742"
        and by.loc["RTY", "code"] == "239742"
    )
    assert (
        by.loc["YM", "code"] == "124603"
        and by.loc["VX", "code"] == "1170E1"
        and by.loc["SR3", "code"] == "134741"
    )
    assert [by.loc[s, "code"] for s in ("ZT", "ZF", "ZN", "TN", "ZB", "UB")] == [
        "042601",
        "044601",
        "043602",
        "043607",
        "020601",
        "020604",
    ]
    assert [by.loc[s, "code"] for s in ("ES_CONS", "NQ_CONS", "YM_CONS")] == [
        "13874+",
        "20974+",
        "12460+",
    ]
    # the headline uses the single contracts; the consolidated rows are reference only
    assert set(markets.loc[~markets["headline"], "symbol"]) == {"ES_CONS", "NQ_CONS", "YM_CONS"}
    assert set(markets.loc[markets["kind"] == "consolidated", "symbol"]) == {
        "ES_CONS",
        "NQ_CONS",
        "YM_CONS",
    }
    assert dict(by.loc[["ES", "NQ", "RTY", "YM", "VX"], "multiplier"]) == {
        "ES": 50.0,
        "NQ": 20.0,
        "RTY": 50.0,
        "YM": 5.0,
        "VX": 1000.0,
    }
    # the multiplier (USD per point of the quote) agrees with the dollar amount of the units text
    amounts = markets["contract_units"].map(fp.usd_amount)
    face = markets["contract_units"].str.contains("FACE VALUE")
    assert np.allclose(np.where(face, amounts / 100.0, amounts), markets["multiplier"])
    rates = markets[markets["group"] == "rates"]
    assert rates["dv01_usd_per_bp"].notna().all() and (rates["dv01_source"] != "").all()
    assert markets.loc[markets["group"] != "rates", "dv01_usd_per_bp"].isna().all()
    assert by.loc["SR3", "dv01_usd_per_bp"] == 25.0  # $2,500 x 0.01 IMM index points: exact
    assert by.loc["RTY", "first_report"] == pd.Timestamp("2017-08-15") and by.loc[
        "SR3", "first_report"
    ] == pd.Timestamp("2018-07-24")
    assert by["first_report"].notna().sum() == 2
    assert (
        by.loc[["ES", "ES_CONS", "NQ", "NQ_CONS", "RTY", "YM", "YM_CONS", "VX"], "underlying"] != ""
    ).all()


def test_markets_table_errors(tmp_path: Path) -> None:
    good = tff_markets.shipped_path().read_text()
    cases = {
        "dup_code": good.replace("209742,NQ,", "13874A,NQ,"),
        "bad_group": good.replace(
            ",equity_index,contract,true,E-mini S&P 500,", ",equities,contract,true,E-mini S&P 500,"
        ),
        "no_dv01": good.replace(",,88,", ",,,"),
        "dv01_in_cents": good.replace(",,62,", ",,6200,"),
        "bad_code": good.replace("1170E1,VX", "1170E,VX"),
        "bad_multiplier": good.replace(
            "VX,vix,contract,true,Cboe VIX futures,1000,",
            "VX,vix,contract,true,Cboe VIX futures,-1000,",
        ),
    }
    fields = {
        "dup_code": "code",
        "bad_group": "group",
        "no_dv01": "dv01_usd_per_bp",
        "dv01_in_cents": "dv01_usd_per_bp",
        "bad_code": "code",
        "bad_multiplier": "multiplier",
    }
    for name, text in cases.items():
        assert text != good, name
        p = tmp_path / f"{name}.csv"
        p.write_text(text)
        with pytest.raises(InputError) as exc:
            tff_markets.load(p)
        assert exc.value.field == fields[name] and str(p) in str(exc.value), (name, exc.value)
    assert "line" in str(
        pytest.raises(InputError, tff_markets.load, tmp_path / "dup_code.csv").value
    )


def test_markets_table_names_and_units_in_trimmed_files(
    markets: pd.DataFrame, frame: pd.DataFrame
) -> None:
    """Every code is in both trimmed years; the printed names are the documented ones."""
    for row in markets.itertuples():
        rows = frame[frame["code"] == row.code]
        assert set(rows["as_of"].dt.year) == {2021, 2024}, row.symbol
        documented = {n.rsplit(" (", 1)[0] for n in row.cftc_names.split("; ")}
        assert set(rows["market"]) <= documented, (row.symbol, set(rows["market"]) - documented)
        # 2024: every row printed in the table's unit
        assert set(rows.loc[rows["as_of"].dt.year == 2024, "contract_units"]) == {
            row.contract_units
        }, row.symbol


# -- hand sums on real rows -----------------------------------------------------------------------
HAND = {
    # (symbol, date): {class: (long, short)}, spreads (dealer, asset manager, leveraged, other), OI
    ("ES", "2021-12-28"): (
        {
            "dealer": (163720, 618302),
            "asset_manager": (1116367, 380274),
            "leveraged_funds": (255067, 352334),
            "other_reportables": (149973, 368699),
            "nonreportables": (259664, 225182),
        },
        (32209, 275306, 32814, 2732),
        2287852,
    ),
    ("ZN", "2024-06-25"): (
        {
            "dealer": (182216, 498293),
            "asset_manager": (2284583, 1052492),
            "leveraged_funds": (248168, 1454988),
            "other_reportables": (465117, 214993),
            "nonreportables": (416843, 376161),
        },
        (27163, 621540, 83718, 508),
        4329856,
    ),
    ("VX", "2021-06-15"): (
        {
            "dealer": (56870, 22024),
            "asset_manager": (108952, 89354),
            "leveraged_funds": (40672, 95114),
            "other_reportables": (6810, 2933),
            "nonreportables": (21568, 25447),
        },
        (14096, 34710, 62304, 10821),
        356803,
    ),
    ("SR3", "2024-01-02"): (
        {
            "dealer": (1655338, 1993461),
            "asset_manager": (152912, 679349),
            "leveraged_funds": (1800472, 781658),
            "other_reportables": (102782, 254721),
            "nonreportables": (33025, 35340),
        },
        (1795415, 978849, 3231889, 103373),
        9854055,
    ),
}
"""Typed from the rows of the real files (see tests/data/cftc_tff/PROVENANCE.md)."""


@pytest.mark.parametrize("key", list(HAND))
def test_hand_sums_per_class(
    key: tuple[str, str],
    result: fp.FuturesPositioning,
    texts: dict[str, str],
    markets: pd.DataFrame,
) -> None:
    symbol, day = key
    sides, spreads, oi = HAND[key]
    # the typed numbers are the file's
    raw = _raw_row(texts[day[:4]], markets.set_index("symbol").loc[symbol, "code"], day)
    assert (
        int(raw["Open_Interest_All"]) == oi
        and int(raw["Lev_Money_Positions_Long_All"]) == sides["leveraged_funds"][0]
    )
    assert int(raw["Asset_Mgr_Positions_Spread_All"]) == spreads[1]
    # the report's identity: each side's classes plus the spreads add up to the open interest
    assert sum(v[0] for v in sides.values()) + sum(spreads) == oi
    assert sum(v[1] for v in sides.values()) + sum(spreads) == oi
    for cls, (long, short) in sides.items():
        row = _cell(result, symbol, day, cls)
        assert (row["long"], row["short"], row["net_contracts"]) == (long, short, long - short)
        assert row["open_interest"] == oi
        assert row["net_pct_oi"] == pytest.approx(100.0 * (long - short) / oi, rel=1e-12)
    # net positions of all classes sum to zero (every contract has a long and a short holder)
    p = result.positions
    cell = p[(p["symbol"] == symbol) & (p["as_of"] == pd.Timestamp(day))]
    assert cell["net_contracts"].sum() == 0


def test_hand_net_values(result: fp.FuturesPositioning) -> None:
    """A few net figures worked by hand from the rows above."""
    assert (
        _cell(result, "ES", "2021-12-28", "asset_manager")["net_contracts"] == 736093
    )  # 1,116,367 - 380,274
    assert (
        _cell(result, "ES", "2021-12-28", "leveraged_funds")["net_contracts"] == -97267
    )  # 255,067 - 352,334
    assert (
        _cell(result, "ZN", "2024-06-25", "leveraged_funds")["net_contracts"] == -1206820
    )  # 248,168 - 1,454,988
    assert _cell(result, "ZN", "2024-06-25", "leveraged_funds")["net_pct_oi"] == pytest.approx(
        -27.872059, abs=1e-6
    )  # -1,206,820 / 4,329,856


# -- name change and units ------------------------------------------------------------------------
def test_name_change_one_continuous_history(result: fp.FuturesPositioning) -> None:
    rep = result.reports[result.reports["symbol"] == "ES"]
    assert set(rep["code"]) == {"13874A"}
    assert set(rep.loc[rep["as_of"].dt.year == 2021, "market"]) == {
        "E-MINI S&P 500 STOCK INDEX - CHICAGO MERCANTILE EXCHANGE"
    }
    assert set(rep.loc[rep["as_of"].dt.year == 2024, "market"]) == {
        "E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE"
    }
    es = result.positions[
        (result.positions["symbol"] == "ES") & (result.positions["trader_class"] == "asset_manager")
    ].set_index("as_of")
    assert len(es) == 52 + 26 and es.index.is_monotonic_increasing
    # weekly changes run through both names; the two-year gap of the files is no weekly change
    assert (
        es.loc["2024-01-09", "net_change_contracts"]
        == es.loc["2024-01-09", "net_contracts"] - es.loc["2024-01-02", "net_contracts"]
    )
    assert math.isnan(es.loc["2024-01-02", "net_change_contracts"])
    assert (
        es.loc["2021-12-28", "net_change_contracts"]
        == es.loc["2021-12-28", "net_contracts"] - es.loc["2021-12-21", "net_contracts"]
    )
    # the statistics of 2024 see 2021 through the same code: a 3-year window (any share) holds both
    res = fp.analyse(
        _frame_of(result, "ES"), fp.select_markets(tff_markets.load(), ["ES"]), min_share=0.1
    )
    p = res.positions[res.positions["trader_class"] == "asset_manager"].set_index("as_of")
    values = p["net_contracts"]
    t = pd.Timestamp("2024-06-25")
    window = values[values.index > t - pd.Timedelta(weeks=156)]  # 2021-07-06 .. 2024-06-25
    assert len(values) == 78 and len(window) == 26 + 26
    assert p.loc[t, "percentile_3y"] == pytest.approx(
        100.0 * (window <= values[t]).sum() / len(window)
    )


def test_consolidated_rows_rescaled_to_emini_units(
    result: fp.FuturesPositioning, texts: dict[str, str]
) -> None:
    raw = _raw_row(texts["2021"], "13874+", "2021-12-28")
    assert (
        raw["Contract_Units"] == "(S&P 500 INDEX X $250.00)"
        and int(raw["Open_Interest_All"]) == 457570
    )
    am = _cell(result, "ES_CONS", "2021-12-28", "asset_manager")
    assert (
        am["open_interest"] == 457570 * 5 and am["long"] == 223273 * 5 and am["short"] == 76055 * 5
    )
    rep = result.reports.set_index(["symbol", "as_of"])
    assert rep.loc[("ES_CONS", pd.Timestamp("2021-12-28")), "unit_scale"] == 5.0
    assert rep.loc[("ES_CONS", pd.Timestamp("2024-01-02")), "unit_scale"] == 1.0
    assert rep.loc[("NQ_CONS", pd.Timestamp("2021-12-28")), "unit_scale"] == 5.0  # $100 -> $20
    assert rep.loc[("YM_CONS", pd.Timestamp("2021-12-28")), "unit_scale"] == 2.0  # $10 -> $5
    assert rep.loc[("ES", pd.Timestamp("2021-12-28")), "unit_scale"] == 1.0
    # in E-mini units the consolidated S&P row and the E-mini row agree to 0.01 % of open interest
    es = rep.loc[("ES", pd.Timestamp("2021-12-28")), "open_interest"]
    assert abs(rep.loc[("ES_CONS", pd.Timestamp("2021-12-28")), "open_interest"] - es) / es < 1e-4
    assert result.quality.repairs == {
        "12460+ printed in ($10 X DJIA INDEX): positions x 2 to the table's unit": 52,
        "13874+ printed in (S&P 500 INDEX X $250.00): positions x 5 to the table's unit": 52,
        "20974+ printed in (NASDAQ 100 INDEX X $100): positions x 5 to the table's unit": 52,
    }


def test_unit_scale_rule() -> None:
    s = fp.unit_scale(
        [
            "(S&P 500 INDEX X $250.00)",
            "($50 X S&P 500 INDEX)",
            "",
            "(FOO)",
            "(CONTRACTS OF $200,000 FACE VALUE)",
        ],
        [
            "(S&P 500 INDEX X $50.00)",
            "($50 X S&P 500 INDEX)",
            "($50 X S&P 500 INDEX)",
            "($50 X S&P 500 INDEX)",
            "(CONTRACTS OF $100,000 FACE VALUE)",
        ],
    )
    assert s[:3].tolist() == [5.0, 1.0, 1.0] and math.isnan(s[3]) and s[4] == 2.0
    assert fp.usd_amount("($2,500 x Contract IMM Index)") == 2500.0 and math.isnan(
        fp.usd_amount("(5 Bitcoins)")
    )


def test_unreadable_unit_is_skipped_and_weighed(frame: pd.DataFrame, markets: pd.DataFrame) -> None:
    bad = frame.copy()
    hit = (bad["code"] == "043602") & (bad["as_of"] == pd.Timestamp("2021-06-15"))
    bad.loc[hit, "contract_units"] = "(CONTRACTS OF TEN-YEAR NOTES)"
    res = fp.analyse(bad, markets)
    assert res.quality.skipped_rows == 1
    assert res.quality.skipped_weight == float(frame.loc[hit, "open_interest"].iloc[0])
    assert "043602 on 2021-06-15" in res.quality.warnings[0]
    assert not (
        (res.positions["symbol"] == "ZN") & (res.positions["as_of"] == pd.Timestamp("2021-06-15"))
    ).any()


def test_without_units_column_consolidated_rows_are_warned(
    frame: pd.DataFrame, markets: pd.DataFrame
) -> None:
    res = fp.analyse(frame.drop(columns="contract_units"), markets)
    assert any("no contract_units column" in w and "13874+" in w for w in res.quality.warnings)
    only = fp.analyse(frame.drop(columns="contract_units"), fp.select_markets(markets, ["ES"]))
    assert only.quality.warnings == []


def test_history_starting_late_is_warned_unless_listed_late(
    texts: dict[str, str], markets: pd.DataFrame
) -> None:
    """A market whose first weeks are missing from the files (a cut file) is warned about; one
    listed later (RTY 2017-08-15, SR3 2018-07-24: the table's first_report) is not."""
    lines = texts["2024"].split("\r\n")
    early = {"2024-01-02", "2024-01-09"}
    cut = "\r\n".join(
        ln
        for ln in lines
        if not (
            ln.split(",")[3:4]
            and ln.split(",")[3].strip() == "1170E1"
            and ln.split(",")[2].strip() in early
        )
    )
    res = fp.analyse(_parse(cut), markets)
    assert [w for w in res.quality.warnings if "cut file" in w] == [
        "tff: VX starts on 2024-01-16, 2 report week(s) after the history's first (2024-01-02), though it has reported since 2017-01-03 or earlier: its earlier weeks are missing (a cut file?)"
    ]
    listed = markets.copy()
    listed.loc[listed["symbol"] == "VX", "first_report"] = pd.Timestamp("2024-01-16")
    assert not [w for w in fp.analyse(_parse(cut), listed).quality.warnings if "cut file" in w]


# -- a week missing for one market ----------------------------------------------------------------
def _drop_line(text: str, code: str, day: str) -> str:
    lines = text.split("\n")
    out = [
        ln
        for ln in lines
        if not (
            ln.split(",")[3:4]
            and ln.split(",")[3].strip().strip('"') == code
            and ln.split(",")[2].strip() == day
        )
    ]
    assert len(out) == len(lines) - 1
    return "\n".join(out)


def test_week_missing_for_one_market(
    texts: dict[str, str], markets: pd.DataFrame, result: fp.FuturesPositioning
) -> None:
    text = _drop_line(texts["2021"], "043602", "2021-06-15")
    parsed, q = cftc_files.parse_report(text, "tff", "cut", list(markets["code"]), units=True)
    assert any(
        "043602 absent on 1 of 52 report dates (2021-06-15)" in w for w in q.warnings
    )  # the parser says so too
    res = fp.analyse(parsed, markets, min_share=0.5)
    assert any(
        "ZN absent on 1 of 52 report weeks of its history (2021-06-15)" in w
        and "no forward fill" in w
        for w in res.quality.warnings
    )
    zn = res.positions[
        (res.positions["symbol"] == "ZN") & (res.positions["trader_class"] == "leveraged_funds")
    ].set_index("as_of")
    assert pd.Timestamp("2021-06-15") not in zn.index and len(zn) == 51
    assert math.isnan(zn.loc["2021-06-22", "net_change_contracts"])  # no change across the gap
    # the other markets keep every week and the same figures
    full = fp.analyse(_parse(texts["2021"]), markets, min_share=0.5)
    es_cut = res.positions[res.positions["symbol"] == "ES"].reset_index(drop=True)
    es_full = full.positions[full.positions["symbol"] == "ES"].reset_index(drop=True)
    pd.testing.assert_frame_equal(es_cut, es_full)
    # ZN's statistics use the 51 weeks present (plain pandas on the series without that week)
    s = zn["net_contracts"]
    t = pd.Timestamp("2021-12-28")
    window = s[s.index > t - pd.Timedelta(weeks=52)]
    assert len(window) == 51
    x = s[t]
    assert zn.loc[t, "zscore_1y"] == pytest.approx(
        (x - window.mean()) / window.std(ddof=1), rel=1e-9
    )
    assert zn.loc[t, "percentile_1y"] == pytest.approx(100.0 * (window <= x).sum() / 51, rel=1e-12)
    assert zn.loc[t, "cot_index_1y"] == pytest.approx(
        100.0 * (x - window.min()) / (window.max() - window.min()), rel=1e-9
    )
    # with the default 90 % rule 51 of 52 weeks still count (47 needed)
    dflt = fp.analyse(parsed, markets)
    assert (
        dflt.positions.loc[
            (dflt.positions["symbol"] == "ZN") & (dflt.positions["as_of"] == t), "percentile_1y"
        ]
        .notna()
        .all()
    )


# -- statistics against plain pandas --------------------------------------------------------------
def _expected_stats(series: pd.Series, weeks: int, needed: int) -> pd.DataFrame:
    """z-score, percentile and COT index over the reports of the last ``weeks`` calendar weeks,
    written as directly as possible (one explicit window per date)."""
    rows = {}
    for t, x in series.items():
        window = series[
            (series.index > t - pd.Timedelta(weeks=weeks)) & (series.index <= t)
        ].dropna()
        if len(window) < needed or pd.isna(x):
            rows[t] = (np.nan, np.nan, np.nan)
            continue
        std = window.std(ddof=1)
        rng = window.max() - window.min()
        z = (x - window.mean()) / std if rng > 0 else np.nan
        pct = 100.0 * (window <= x).sum() / len(window)
        cot = 100.0 * (x - window.min()) / rng if rng > 0 else 50.0
        rows[t] = (z, pct, cot)
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["zscore", "percentile", "cot_index"]
    )


@pytest.mark.parametrize(
    ("symbol", "cls"),
    [
        ("ES", "leveraged_funds"),
        ("ZN", "asset_manager"),
        ("VX", "dealer"),
        ("SR3", "nonreportables"),
        ("ES_CONS", "asset_manager"),
    ],
)
def test_statistics_against_pandas(result: fp.FuturesPositioning, symbol: str, cls: str) -> None:
    p = result.positions[
        (result.positions["symbol"] == symbol) & (result.positions["trader_class"] == cls)
    ].set_index("as_of")
    for label, weeks in fp.WINDOWS.items():
        needed = math.ceil(0.9 * weeks)
        exp = _expected_stats(p["net_contracts"], weeks, needed)
        for col in ("zscore", "percentile", "cot_index"):
            got = p[f"{col}_{label}"]
            assert np.allclose(
                got.to_numpy(), exp[col].to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True
            ), (symbol, cls, label, col)
    assert (
        p["percentile_1y"].notna().sum() == 52 - 47 + 1
    )  # 2021-11-23 .. 2021-12-28: 47+ weeks present
    assert p["percentile_3y"].isna().all()  # a 3-year window never has 90 % of its weeks here


@pytest.mark.parametrize("min_share", [0.2, 0.5])
def test_statistics_across_the_gap_with_a_lower_share(
    frame: pd.DataFrame, markets: pd.DataFrame, min_share: float
) -> None:
    """Across 2022-2023 (no file) a 3-year window holds only the weeks present."""
    res = fp.analyse(frame, fp.select_markets(markets, ["ZN", "UB"]), min_share=min_share)
    for sym in ("ZN", "UB"):
        p = res.positions[
            (res.positions["symbol"] == sym) & (res.positions["trader_class"] == "leveraged_funds")
        ].set_index("as_of")
        for label, weeks in fp.WINDOWS.items():
            exp = _expected_stats(p["net_contracts"], weeks, fp.min_periods_for(weeks, min_share))
            for col in ("zscore", "percentile", "cot_index"):
                assert np.allclose(
                    p[f"{col}_{label}"], exp[col], rtol=1e-9, atol=1e-9, equal_nan=True
                ), (sym, label, col)
    # 52 of a 3-year window's 156 weeks are present at 2024-06-25 (2021 H2 and 2024 H1)
    t = pd.Timestamp("2024-06-25")
    window = p["net_contracts"][p.index > t - pd.Timedelta(weeks=156)]
    assert len(window) == 52
    if min_share <= 52 / 156:
        assert p.loc[t, "percentile_3y"] == pytest.approx(100.0 * (window <= window[t]).mean())
    else:
        assert math.isnan(p.loc[t, "percentile_3y"])


def test_window_stats_equal_the_cftc_engine() -> None:
    """Same definitions as flows.cftc.rolling_stats (the FX engine), on a matrix with gaps and ties."""
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(size=(300, 6)) * 5)  # rounding makes ties
    x[rng.random(x.shape) < 0.07] = np.nan
    x[100:120, 2] = np.nan
    x[:, 5] = 3.0  # no range
    for w in (52, 156):
        a = fp.window_stats(x, w, 40)
        b = cftc.rolling_stats(x, w, min_periods=40)
        for name in ("zscore", "percentile", "cot_index"):
            assert np.allclose(
                getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-9, equal_nan=True
            ), (w, name)
    assert np.isnan(fp.window_stats(x, 52, 40).zscore[:, 5]).all()
    assert (fp.window_stats(x, 52, 40).cot_index[60:, 5] == 50.0).all()


# -- previous extremes ----------------------------------------------------------------------------
def test_previous_extremes(result: fp.FuturesPositioning) -> None:
    ex = result.extremes
    assert set(ex["window"]) == set(fp.WINDOWS) and len(ex) == len(SYMBOLS) * 5 * 3
    row = ex[
        (ex["symbol"] == "ZN") & (ex["trader_class"] == "leveraged_funds") & (ex["window"] == "1y")
    ].iloc[0]
    p = result.positions[
        (result.positions["symbol"] == "ZN")
        & (result.positions["trader_class"] == "leveraged_funds")
    ].set_index("as_of")["net_contracts"]
    t = pd.Timestamp("2024-06-25")
    earlier = p[(p.index > t - pd.Timedelta(weeks=52)) & (p.index < t)]
    assert len(earlier) == 25 and row["weeks_present"] == 25
    # 25 earlier weeks are fewer than 90 % of 51: no previous extreme is claimed
    assert math.isnan(row["previous_max_contracts"]) and pd.isna(row["previous_max_date"])
    res = fp.analyse(
        _frame_of(result), fp.select_markets(tff_markets.load(), ["ZN"]), min_share=0.3
    )
    r = res.extremes[
        (res.extremes["trader_class"] == "leveraged_funds") & (res.extremes["window"] == "1y")
    ].iloc[0]
    assert (
        r["previous_max_contracts"] == earlier.max()
        and r["previous_min_contracts"] == earlier.min()
    )
    assert r["previous_max_date"] == earlier[earlier == earlier.max()].index[-1]
    assert r["previous_min_date"] == earlier[earlier == earlier.min()].index[-1]
    assert (
        r["distance_to_max_contracts"] == p[t] - earlier.max()
        and r["distance_to_min_contracts"] == p[t] - earlier.min()
    )
    r3 = res.extremes[
        (res.extremes["trader_class"] == "leveraged_funds") & (res.extremes["window"] == "3y")
    ].iloc[0]
    earlier3 = p[(p.index > t - pd.Timedelta(weeks=156)) & (p.index < t)]  # 2021 H2 and 2024 H1
    assert (
        r3["weeks_present"] == len(earlier3) == 26 + 25
        and r3["previous_min_contracts"] == earlier3.min()
    )


def _frame_of(result: fp.FuturesPositioning, symbol: str | None = None) -> pd.DataFrame:
    """TFF rows rebuilt from a result's positions (the input of a second analysis)."""
    positions = (
        result.positions
        if symbol is None
        else result.positions[result.positions["symbol"] == symbol]
    )
    wide = fp.wide(positions)
    out = pd.DataFrame(
        {
            "as_of": wide["as_of"],
            "code": wide["code"],
            "market": wide["market"],
            "open_interest": wide["open_interest"].astype(np.int64),
        }
    )
    for cls, (lc, sc) in fp.CLASSES.items():
        out[lc] = wide[f"{cls}_long"].astype(np.int64)
        out[sc] = wide[f"{cls}_short"].astype(np.int64)
    return out


# -- exposure -------------------------------------------------------------------------------------
def test_notional_hand_worked(frame: pd.DataFrame, markets: pd.DataFrame) -> None:
    closes = pd.DataFrame(
        {"SPX": [4769.83, 4742.83], "NDX": [16825.93, np.nan]},
        index=pd.to_datetime(["2023-12-29", "2024-01-02"]),
    )
    res = fp.analyse(frame, fp.select_markets(markets, ["ES", "NQ", "RTY"]), closes=closes)
    es = _cell(res, "ES", "2024-01-02", "asset_manager")
    # 1,218,405 - 263,482 = 954,923 contracts x USD 50 x 4,742.83 points
    assert es["net_contracts"] == 954923
    assert es["usd_per_point"] == 954923 * 50 == 47746150
    assert es["close"] == 4742.83
    assert es["notional_usd"] == pytest.approx(954923 * 50 * 4742.83, rel=1e-15)
    assert es["notional_usd"] == pytest.approx(226_451_872_604.5, rel=1e-12)
    # NDX has no close on 2024-01-02: the previous session's (2023-12-29, 4 days older) is used
    nq = _cell(res, "NQ", "2024-01-02", "leveraged_funds")
    assert nq["close"] == 16825.93 and nq["notional_usd"] == pytest.approx(
        nq["net_contracts"] * 20 * 16825.93
    )
    # a week later the newest close is 7 days old (> 4): missing, never carried forward
    assert math.isnan(_cell(res, "ES", "2024-01-09", "asset_manager")["notional_usd"])
    assert not math.isnan(_cell(res, "ES", "2024-01-09", "asset_manager")["usd_per_point"])
    # RTY has no close column at all: stated as missing
    assert "RTY" in res.info["notional_missing"] and any(
        "no close for RTY" in n for n in res.info["notes"]
    )
    assert res.positions.loc[res.positions["symbol"] == "RTY", "notional_usd"].isna().all()


def test_notional_with_a_real_price_file(
    test_data: Path, frame: pd.DataFrame, markets: pd.DataFrame
) -> None:
    from flows.sources import price_files

    prices, _ = price_files.read(
        test_data / "prices" / "fred_SP500_2023-01-03_2025-06-30.csv", "SPX"
    )
    closes = fp.closes_frame({"SPX": prices})
    res = fp.analyse(frame, fp.select_markets(markets, ["ES", "ES_CONS"]), closes=closes)
    es = _cell(res, "ES", "2024-03-26", "leveraged_funds")
    assert es["close"] == 5203.58  # FRED SP500 on Tuesday 2024-03-26
    assert es["notional_usd"] == pytest.approx(es["net_contracts"] * 50 * 5203.58)
    # 2021 is not in the price file: notional missing there, not guessed
    assert res.positions.loc[res.positions["as_of"].dt.year == 2021, "notional_usd"].isna().all()
    assert res.info["notional_missing"] == []


def test_dv01_and_ten_year_equivalents_hand_worked(
    result: fp.FuturesPositioning, markets: pd.DataFrame, frame: pd.DataFrame
) -> None:
    zn = _cell(result, "ZN", "2024-06-25", "leveraged_funds")
    assert zn["dv01_usd_per_bp"] == -1206820 * 62.0 == -74822840.0
    assert zn["ten_year_equivalents"] == pytest.approx(-1206820.0)
    ub = _cell(result, "UB", "2024-06-25", "asset_manager")
    assert ub["dv01_usd_per_bp"] == pytest.approx(ub["net_contracts"] * 204.68)
    assert ub["ten_year_equivalents"] == pytest.approx(ub["net_contracts"] * 204.68 / 62.0)
    sr3 = _cell(result, "SR3", "2024-01-02", "leveraged_funds")
    assert sr3["net_contracts"] == 1800472 - 781658 == 1018814
    assert sr3["dv01_usd_per_bp"] == 1018814 * 25.0
    assert sr3["ten_year_equivalents"] == pytest.approx(1018814 * 25.0 / 62.0)
    assert math.isnan(_cell(result, "ES", "2024-01-02", "dealer")["dv01_usd_per_bp"])
    assert math.isnan(zn["usd_per_point"]) and math.isnan(zn["notional_usd"])
    # a configured DV01 replaces the table's; the 10-year equivalents follow ZN's
    table = fp.with_dv01(markets, {"ZN": 64.0, "UB": 210.0})
    res = fp.analyse(frame, fp.select_markets(table, ["UB"]), ten_year_dv01=64.0)
    ub2 = _cell(res, "UB", "2024-06-25", "asset_manager")
    assert ub2["dv01_usd_per_bp"] == ub["net_contracts"] * 210.0
    assert ub2["ten_year_equivalents"] == pytest.approx(ub["net_contracts"] * 210.0 / 64.0)
    assert table.set_index("symbol").loc["ZN", "dv01_source"] == "override"
    # without ZN and without ten_year_dv01 the equivalents are NaN (the DV01 is not)
    alone = fp.analyse(frame, fp.select_markets(markets, ["UB"]))
    assert (
        alone.positions["ten_year_equivalents"].isna().all()
        and alone.positions["dv01_usd_per_bp"].notna().all()
    )
    for bad in ({"ES": 50.0}, {"ZN": 6200.0}, {"XX": 60.0}):
        with pytest.raises(InputError):
            fp.with_dv01(markets, bad)


# -- crowding flags -------------------------------------------------------------------------------
def test_crowding_flags_table(result: fp.FuturesPositioning) -> None:
    cr = result.crowding
    assert list(cr.columns) == [
        "as_of",
        "symbol",
        "code",
        "group",
        "trader_class",
        "flag",
        "metric",
        "op",
        "value",
        "threshold",
        "net_contracts",
        "flagged",
        "description",
    ]
    # the default rules evaluate every headline market of their group on the latest week
    assert len(cr) == 7 + 7 + 4 + 4 + 1 and set(cr["as_of"]) == {pd.Timestamp("2024-06-25")}
    assert "ES_CONS" not in set(cr["symbol"])
    # 3- and 5-year windows lack 90 % of their weeks in the trimmed files: no value, no flag
    assert cr["value"].isna().all() and not cr["flagged"].any()
    assert result.headline["crowding_flags"] == 0


def test_crowding_flags_fire_on_thresholds(frame: pd.DataFrame, markets: pd.DataFrame) -> None:
    rule = fp.FlagRule(
        "levfunds_short_1y_low",
        "rates",
        "leveraged_funds",
        "percentile_1y",
        "<=",
        50.0,
        -1,
        "test rule",
    )
    res = fp.analyse(frame.loc[frame["as_of"].dt.year == 2021], markets, flags=[rule])
    cr = res.crowding.set_index("symbol")
    lat = res.latest[res.latest["trader_class"] == "leveraged_funds"].set_index("symbol")
    for sym in ("ZT", "ZF", "ZN", "TN", "ZB", "UB", "SR3"):
        value, net = lat.loc[sym, "percentile_1y"], lat.loc[sym, "net_contracts"]
        assert cr.loc[sym, "value"] == value and cr.loc[sym, "net_contracts"] == net
        assert cr.loc[sym, "flagged"] == bool(value <= 50.0 and net < 0), sym
    assert cr["flagged"].any() and not cr["flagged"].all()
    flagged = sorted(cr.index[cr["flagged"]])
    assert (
        res.headline["flag_levfunds_short_1y_low"] == len(flagged) == res.headline["crowding_flags"]
    )
    # the flags in words a desk reads (the brief, alert texts): the class in words, the rule's name
    shown = res.crowding[res.crowding["flagged"]]["symbol"]
    assert res.headline["flagged"] == ", ".join(
        f"{sym} leveraged funds (levfunds_short_1y_low)" for sym in shown
    )
    # the same rule with a threshold of 0 flags nothing; sign 0 ignores the direction
    none = fp.analyse(
        frame,
        markets,
        flags=[fp.FlagRule("x", "rates", "leveraged_funds", "percentile_1y", "<=", 0.0, 0, "")],
    )
    assert not none.crowding["flagged"].any()
    with pytest.raises(InputError):
        fp.analyse(
            frame,
            markets,
            flags=[fp.FlagRule("x", "rates", "hedgers", "percentile_1y", "<=", 0.0, 0, "")],
        )
    with pytest.raises(InputError):
        fp.analyse(
            frame,
            markets,
            flags=[fp.FlagRule("x", "rates", "dealer", "percentile_2y", "<=", 0.0, 0, "")],
        )


# -- headline, reports, wide rows -----------------------------------------------------------------
def test_headline(result: fp.FuturesPositioning) -> None:
    h = result.headline
    assert h["as_of"] == "2024-06-25" and h["release_time"] == "2024-06-28T15:30:00-04:00"
    assert (
        h["zn_leveraged_funds_net_contracts"] == -1206820
        and h["zn_dealer_net_contracts"] == 182216 - 498293
    )
    assert h["zn_leveraged_funds_dv01_usd_per_bp"] == -1206820 * 62.0
    assert (
        "es_cons_asset_manager_net_contracts" not in h
    )  # consolidated rows are not in the headline
    lat = result.latest[result.latest["trader_class"] == "leveraged_funds"].set_index("symbol")
    rates = ["ZT", "ZF", "ZN", "TN", "ZB", "UB", "SR3"]
    assert h["rates_leveraged_funds_dv01_usd_per_bp"] == pytest.approx(
        lat.loc[rates, "dv01_usd_per_bp"].sum()
    )
    assert h["rates_leveraged_funds_ten_year_equivalents"] == pytest.approx(
        lat.loc[rates, "dv01_usd_per_bp"].sum() / 62.0
    )
    assert h["equity_index_asset_manager_notional_usd"] is None  # no closes: never a partial sum
    assert h["es_asset_manager_percentile_1y"] is None  # 26 of 52 weeks present in 2024 H1
    assert h["markets_reported"] == 12 and h["markets_missing"] == ""
    units = {k: fp.headline_unit(k) for k in h}
    assert units["zn_leveraged_funds_dv01_usd_per_bp"].startswith("USD per basis point")
    assert units["es_asset_manager_percentile_5y"] == "0-100" and units[
        "flag_rates_levfunds_short_extreme"
    ].startswith("count")
    assert units["rates_asset_manager_ten_year_equivalents"] == "10-year note (ZN) contracts"
    assert [k for k, u in units.items() if not u] == ["flagged", "markets_missing"]


def test_reports_table(result: fp.FuturesPositioning) -> None:
    rep = result.reports
    assert len(rep) == 15 * (52 + 26)
    assert list(rep.columns) == [
        "as_of",
        "symbol",
        "code",
        "market",
        "contract_units",
        "unit_scale",
        "open_interest",
        "release_time",
    ]
    first = rep[(rep["symbol"] == "ZN") & (rep["as_of"] == pd.Timestamp("2021-11-23"))].iloc[0]
    # Tuesday before Thanksgiving: released Monday 2021-11-29 (3rd federal business day)
    assert first["release_time"] == pd.Timestamp("2021-11-29 15:30", tz="America/New_York")


def test_wide_rows(result: fp.FuturesPositioning) -> None:
    w = fp.wide(result.positions, result.reports)
    assert len(w) == 15 * (52 + 26)
    row = w[(w["market"] == "ZN") & (w["as_of"] == pd.Timestamp("2024-06-25"))].iloc[0]
    assert row["code"] == "043602" and row["name"] == "UST 10Y NOTE - CHICAGO BOARD OF TRADE"
    assert (
        row["leveraged_funds_net_contracts"] == -1206820
        and row["asset_manager_net_contracts"] == 2284583 - 1052492
    )
    assert row["dealer_net_contracts"] == 182216 - 498293 and row["open_interest"] == 4329856
    for cls in fp.CLASSES:
        for m in (
            "percentile_1y",
            "percentile_3y",
            "percentile_5y",
            "zscore_3y",
            "cot_index_3y",
            "net_pct_oi",
        ):
            assert f"{cls}_{m}" in w.columns


def test_units_documented(result: fp.FuturesPositioning) -> None:
    for name, table in result.tables().items():
        if name in ("latest", "markets"):
            continue
        documented = fp.UNITS[name]
        numeric = [
            c
            for c in table.columns
            if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        ]
        missing = [c for c in numeric if c not in documented]
        assert not missing, (name, missing)


# -- input errors ---------------------------------------------------------------------------------
def test_input_errors(frame: pd.DataFrame, markets: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="unknown market 'XX'"):
        fp.select_markets(markets, ["ES", "XX"])
    assert list(fp.select_markets(markets, ["es", "zn"])["symbol"]) == ["ES", "ZN"]
    with pytest.raises(InputError, match="no rows of the requested markets"):
        fp.analyse(frame[frame["code"] == "13874A"], fp.select_markets(markets, ["ZN"]))
    with pytest.raises(InputError, match="missing column"):
        fp.analyse(frame.drop(columns="lev_money_long"), markets)
    twice = pd.concat(
        [
            frame,
            frame[
                (frame["code"] == "043602") & (frame["as_of"] == pd.Timestamp("2021-06-15"))
            ].assign(as_of=pd.Timestamp("2021-06-14")),
        ]
    )
    with pytest.raises(InputError, match="two reports of 043602 in one week"):
        fp.analyse(twice, markets)
    bad = frame.copy()
    bad.loc[bad.index[0], "lev_money_long"] = bad.loc[bad.index[0], "open_interest"] + 1
    with pytest.raises(InputError, match="outside"):
        fp.analyse(bad, markets)
    with pytest.raises(InputError, match="min_share"):
        fp.analyse(frame, markets, min_share=0.0)
    closes = pd.DataFrame({"SPX": [-1.0]}, index=pd.to_datetime(["2024-01-02"]))
    with pytest.raises(InputError, match="closes"):
        fp.analyse(frame, markets, closes=closes)


# -- the Socrata rows (same analytics, other source) ----------------------------------------------
def test_socrata_rows(test_data: Path, markets: pd.DataFrame) -> None:
    import json

    rows = json.loads((test_data / SOCRATA_ES).read_text())
    parsed, q = cftc_socrata.parse_rows(rows, "tff", "socrata", units=True)
    assert list(parsed["contract_units"]) == ["($50 X S&P 500 INDEX)"] * 2
    res = fp.analyse(parsed, fp.select_markets(markets, ["ES"]), min_share=0.5)
    am = _cell(res, "ES", "2026-07-14", "asset_manager")
    assert am["net_contracts"] == 1144294 - 203822 and am["open_interest"] == 1941500
    assert (
        am["net_change_contracts"]
        == am["net_contracts"] - _cell(res, "ES", "2026-07-07", "asset_manager")["net_contracts"]
    )
    assert res.quality.repaired_rows == 0 and res.quality.warnings == []
    q2 = cftc_socrata.build_query("tff", ["13874+", "13874A"])
    assert "'13874+'" in q2.params["$where"] and "contract_units" in q2.params["$select"].split(
        ", "
    )


# -- full files (extended) ------------------------------------------------------------------------
def _all_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "cftc" / "tff_futures_only").glob("*.txt"))


@pytest.fixture(scope="module")
def full(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, fp.FuturesPositioning]:
    shared = request.getfixturevalue("shared_data")
    markets = tff_markets.load()
    frames = []
    for p in _all_files(shared):
        text = decode_text(p.read_bytes(), str(p)).text
        f, q = cftc_files.parse_report(
            text, "tff", str(p), list(markets["code"]), coverage=False, units=True
        )
        assert q.skipped_rows == 0
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True)
    return frame, fp.analyse(frame, markets)


@pytest.mark.extended
def test_full_files_markets_table_verified(shared_data: Path) -> None:
    """Every code in every file 2017-2026 (RTY from 2017-08-15, SR3 from 2018-07-24), under the
    documented names and units."""
    markets = tff_markets.load()
    seen_names: dict[str, set[str]] = {c: set() for c in markets["code"]}
    seen_units: dict[str, set[tuple[int, str]]] = {c: set() for c in markets["code"]}
    first: dict[str, str] = {}
    for p in _all_files(shared_data):
        for row in csv.reader(
            io.StringIO(decode_text(p.read_bytes(), str(p)).text), skipinitialspace=True
        ):
            if len(row) > 81 and row[3].strip() in seen_names:
                code = row[3].strip()
                seen_names[code].add(row[0].strip())
                seen_units[code].add((int(row[2][:4]), row[81].strip()))
                first[code] = min(first.get(code, "9999"), row[2].strip())
    by = markets.set_index("code")
    for code, names in seen_names.items():
        documented = {n.rsplit(" (", 1)[0] for n in by.loc[code, "cftc_names"].split("; ")}
        assert names == documented, (code, names ^ documented)
        late = {u for y, u in seen_units[code] if y >= 2024}
        assert late == {by.loc[code, "contract_units"]}, code
    assert first["239742"] == "2017-08-15" and first["134741"] == "2018-07-24"
    assert all(v == "2017-01-03" for c, v in first.items() if c not in ("239742", "134741"))
    assert {u for y, u in seen_units["13874+"] if y <= 2021} == {"(S&P 500 INDEX X $250.00)"}


@pytest.mark.extended
def test_full_files_history(full: tuple[pd.DataFrame, fp.FuturesPositioning]) -> None:
    frame, res = full
    assert res.quality.skipped_rows == 0
    assert res.quality.repaired_rows == 3 * 256  # the consolidated rows of 2017-2021
    # the one real gap of a market inside its history: SR3 on 2018-09-25
    assert [w for w in res.quality.warnings if "absent" in w] == [
        next(
            w
            for w in res.quality.warnings
            if w.startswith("tff: SR3 absent on 1 of 276 report weeks of its history (2018-09-25)")
        )
    ]
    assert res.latest_as_of == pd.Timestamp("2026-08-04")
    assert not [
        w for w in res.quality.warnings if "cut file" in w
    ]  # RTY and SR3 start on their listing
    # 5-year statistics at the end of 2021 (2017-2021 nearly complete) against plain pandas
    t = pd.Timestamp("2021-12-28")
    for sym, cls in (
        ("ZN", "leveraged_funds"),
        ("ES", "asset_manager"),
        ("VX", "leveraged_funds"),
        ("ES_CONS", "asset_manager"),
    ):
        p = res.positions[
            (res.positions["symbol"] == sym) & (res.positions["trader_class"] == cls)
        ].set_index("as_of")
        exp = _expected_stats(p["net_contracts"].loc[:t], 260, 234)
        for col in ("zscore", "percentile", "cot_index"):
            assert p.loc[t, f"{col}_5y"] == pytest.approx(exp.loc[t, col], rel=1e-9), (sym, col)
    # the consolidated S&P 500 row in E-mini units tracks the E-mini row over 2017-2026
    oi = res.reports.pivot_table(index="as_of", columns="symbol", values="open_interest")
    ratio = oi["ES_CONS"] / oi["ES"]
    assert ratio.between(0.99, 1.3).all(), ratio.describe()
    assert (ratio.loc["2024":] - 1).abs().max() < 0.03


@pytest.mark.extended
def test_full_files_2022_rename_continuous(
    full: tuple[pd.DataFrame, fp.FuturesPositioning],
) -> None:
    _, res = full
    rep = res.reports[res.reports["symbol"] == "ES"]
    assert rep["market"].nunique() == 2 and rep["code"].nunique() == 1 and len(rep) == 357
    assert (
        rep.loc[rep["as_of"] <= "2021-12-28", "market"]
        .eq("E-MINI S&P 500 STOCK INDEX - CHICAGO MERCANTILE EXCHANGE")
        .all()
    )
    assert (
        rep.loc[rep["as_of"] >= "2024-01-02", "market"]
        .eq("E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE")
        .all()
    )


def test_vx_front_month_is_the_nearest_contract_still_trading() -> None:
    """Hand-worked: on 20 Jan the January contract (final settlement 21 Jan) is the front month;
    on 21 Jan, its own final-settlement day, February is; a day without a finite settlement
    gives no row."""
    settlements = pd.DataFrame(
        {
            "date": pd.to_datetime(
                ["2026-01-20", "2026-01-20", "2026-01-21", "2026-01-21", "2026-01-22"]
            ),
            "contract": ["VXG26", "VXF26", "VXF26", "VXG26", "VXG26"],
            "expiry": pd.to_datetime(
                ["2026-02-18", "2026-01-21", "2026-01-21", "2026-02-18", "2026-02-18"]
            ),
            "settle": [17.3, 16.1, 15.9, 17.0, np.nan],
        }
    )
    out = fp.vx_front_month(settlements)
    assert out["date"].tolist() == [pd.Timestamp("2026-01-20"), pd.Timestamp("2026-01-21")]
    assert out["close"].tolist() == [16.1, 17.0]
    assert fp.vx_front_month(settlements.iloc[:0]).empty
