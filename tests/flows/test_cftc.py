"""Tests of flows.cftc: hand-worked small cases, invariants, slow references and the real files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows import cftc
from flows.errors import InputError
from flows.sources import cftc_files, ecb
from tests.realdata import FULL, TRIMMED, full, root, trimmed

BASKETS = {
    "reuters6": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD"],
    "wide9": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "MXN", "BRL"],
}
LEGACY_2025 = "cftc/legacy_futures_only/annual_2025_through_2025-03-11.txt"
ECB_HIST = "cftc/fx/eurofxref-hist.csv"


# -- small hand-built frames -----------------------------------------------------------------
def _legacy(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    """Legacy frame from (date, code, noncomm_long, noncomm_short); other columns zero."""
    frame = pd.DataFrame(rows, columns=["as_of", "code", "noncomm_long", "noncomm_short"])
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["market"] = "NAME CHANGES DO NOT MATTER " + frame.index.astype(str)
    for col in (
        "open_interest",
        "noncomm_spread",
        "comm_long",
        "comm_short",
        "nonrept_long",
        "nonrept_short",
    ):
        frame[col] = 0
    return frame


def _fx(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.DatetimeIndex(pd.to_datetime(list(rows)), name="date")
    return frame


def test_contract_table_is_keyed_on_codes_with_leading_zeros() -> None:
    table = cftc.contract_table()
    assert table["code"].str.len().eq(6).all()
    assert table.set_index("ccy").loc["CAD", "code"] == "090741"
    assert table.set_index("ccy").loc["JPY", "contract_size"] == 12_500_000
    assert table.set_index("ccy").loc["DXY", "sign"] == -1
    assert not table["code"].duplicated().any()


def test_net_contracts_long_minus_short_per_code() -> None:
    cot = _legacy(
        [
            ("2025-01-07", "099741", 150, 100),  # EUR +50
            ("2025-01-07", "097741", 10, 40),  # JPY -30
            ("2025-01-07", "999999", 5, 1),  # not a currency: ignored
            ("2025-01-14", "099741", 100, 125),  # EUR -25
        ]
    )
    net = cftc.net_contracts(cot, "noncomm")
    assert list(net.columns) == ["EUR", "JPY"]
    assert net.loc["2025-01-07", "EUR"] == 50
    assert net.loc["2025-01-07", "JPY"] == -30
    assert net.loc["2025-01-14", "EUR"] == -25
    assert math.isnan(net.loc["2025-01-14", "JPY"])  # did not report: NaN, never 0


def test_net_contracts_missing_column_names_source_and_field() -> None:
    cot = _legacy([("2025-01-07", "099741", 1, 1)]).drop(columns="noncomm_short")
    with pytest.raises(InputError, match="legacy.txt: noncomm_short"):
        cftc.net_contracts(cot, "noncomm", source="legacy.txt")


def test_usd_value_and_minus_sum_sign() -> None:
    # EUR: +10 contracts × 125,000 EUR × 1.10 USD/EUR = +1,375,000 USD (long EUR)
    # JPY: -4 × 12,500,000 JPY × 0.0067 USD/JPY = -335,000 USD (short JPY)
    # DXY: +2 × 100 index points × 1,000 USD = +200,000 USD (long USD)
    day = pd.DatetimeIndex(["2025-01-14"])
    net = pd.DataFrame({"EUR": [10.0], "JPY": [-4.0], "DXY": [2.0]}, index=day)
    rates = pd.DataFrame({"EUR": [1.10], "JPY": [0.0067], "DXY": [100.0]}, index=day)
    usd = cftc.usd_values(net, rates)
    assert usd.loc["2025-01-14", "EUR"] == pytest.approx(1_375_000.0)
    assert usd.loc["2025-01-14", "JPY"] == pytest.approx(-335_000.0)
    assert usd.loc["2025-01-14", "DXY"] == pytest.approx(200_000.0)
    # Net USD = minus the sum of the currency positions: long EUR / short JPY = short 1.04m USD.
    assert cftc.net_usd(usd, ["EUR", "JPY"]).iloc[0] == pytest.approx(-1_040_000.0)
    # The USD index counts with its own sign: long DXY = long USD.
    assert cftc.net_usd(usd, ["EUR", "JPY", "DXY"]).iloc[0] == pytest.approx(-840_000.0)


def test_decomposition_hand_worked_and_exact() -> None:
    # EUR n: 10 -> 12 contracts, p: 1.10 -> 1.20 USD/EUR.
    # position = -(12-10) × 125,000 × 1.10 = -275,000; FX = -12 × 125,000 × 0.10 = -150,000.
    idx = pd.DatetimeIndex(["2025-01-07", "2025-01-14"])
    net = pd.DataFrame({"EUR": [10.0, 12.0]}, index=idx)
    rates = pd.DataFrame({"EUR": [1.10, 1.20]}, index=idx)
    dec = cftc.change_decomposition(net, rates, ["EUR"])
    assert math.isnan(dec["change_usd"].iloc[0])
    assert dec["change_position_usd"].iloc[1] == pytest.approx(-275_000.0)
    assert dec["change_fx_usd"].iloc[1] == pytest.approx(-150_000.0)
    levels = cftc.net_usd(cftc.usd_values(net, rates), ["EUR"])
    assert dec["change_usd"].iloc[1] == pytest.approx(levels.iloc[1] - levels.iloc[0])


def test_decomposition_sums_to_level_change_on_random_weeks() -> None:
    rng = np.random.default_rng(7)
    idx = pd.date_range("2024-01-02", periods=60, freq="7D")
    ccys = BASKETS["wide9"]
    net = pd.DataFrame(
        rng.integers(-200_000, 200_000, (60, 9)).astype(float), index=idx, columns=ccys
    )
    rates = pd.DataFrame(rng.uniform(0.005, 1.5, (60, 9)), index=idx, columns=ccys)
    dec = cftc.change_decomposition(net, rates, ccys)
    parts = dec["change_position_usd"] + dec["change_fx_usd"]
    assert (dec["change_usd"].iloc[1:] == parts.iloc[1:]).all()  # exact by construction
    levels = cftc.net_usd(cftc.usd_values(net, rates), ccys)
    np.testing.assert_allclose(
        dec["change_usd"].iloc[1:], levels.diff().iloc[1:], rtol=1e-9, atol=1e-3
    )


def test_decomposition_across_a_data_gap_is_nan() -> None:
    idx = pd.DatetimeIndex(["2021-12-28", "2024-01-02"])
    net = pd.DataFrame({"EUR": [10.0, 12.0]}, index=idx)
    rates = pd.DataFrame({"EUR": [1.1, 1.2]}, index=idx)
    assert cftc.change_decomposition(net, rates, ["EUR"])["change_usd"].isna().all()


# -- statistics: hand-worked and against slow references ------------------------------------------
def _ref_z(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for t in range(len(values)):
        win = values[max(0, t - window + 1) : t + 1]
        win = win[~np.isnan(win)]
        if np.isnan(values[t]) or len(win) < min_periods:
            continue
        sd = win.std(ddof=1)
        if sd > 0:
            out[t] = (values[t] - win.mean()) / sd
    return out


def _ref_pct(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for t in range(len(values)):
        win = values[max(0, t - window + 1) : t + 1]
        win = win[~np.isnan(win)]
        if np.isnan(values[t]) or len(win) < min_periods:
            continue
        out[t] = 100.0 * np.sum(win <= values[t]) / len(win)
    return out


def test_zscore_and_percentile_hand_worked() -> None:
    s = pd.Series([1.0, 2, 3, 4, 5])
    z = cftc.rolling_zscore(s, 5, min_periods=5)
    # window 1..5: mean 3, sample std sqrt(2.5); z of 5 = 2 / 1.5811 = 1.2649
    assert z.iloc[-1] == pytest.approx(2 / math.sqrt(2.5))
    assert z.iloc[:-1].isna().all()
    pct = cftc.rolling_percentile(pd.Series([3.0, 1.0, 2.0]), 3, min_periods=3)
    assert pct.iloc[-1] == pytest.approx(200 / 3)  # 2 is >= two of the three values
    assert cftc.rolling_percentile(s, 5, min_periods=5).iloc[-1] == 100.0


def test_zscore_and_percentile_match_slow_reference() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(20e9, 8e9, 400)
    values[[17, 120, 121, 300]] = np.nan
    s = pd.Series(values)
    for window in (52, 156, 260):
        mp = window - window // 10
        np.testing.assert_allclose(
            cftc.rolling_zscore(s, window).to_numpy(),
            _ref_z(values, window, mp),
            rtol=1e-9,
            equal_nan=True,
        )
        np.testing.assert_allclose(
            cftc.rolling_percentile(s, window).to_numpy(),
            _ref_pct(values, window, mp),
            rtol=1e-12,
            equal_nan=True,
        )


def test_cot_index_bounds_and_hand_value() -> None:
    assert cftc.cot_index(pd.Series([0.0, 10.0, 5.0]), 3, min_periods=3).iloc[-1] == pytest.approx(
        50.0
    )
    rng = np.random.default_rng(11)
    idx = cftc.cot_index(pd.Series(rng.normal(0, 1, 500).cumsum()), 156).dropna()
    assert len(idx) > 300
    assert idx.min() >= 0.0 and idx.max() <= 100.0
    assert (idx == 0.0).any() and (idx == 100.0).any()
    flat = cftc.cot_index(pd.Series([4.0] * 5), 5, min_periods=5)
    assert flat.iloc[-1] == 50.0


def test_previous_peaks_on_a_cycle() -> None:
    weeks = pd.date_range("2015-01-06", periods=520, freq="7D")
    x = 20e9 * np.sin(2 * np.pi * np.arange(520) / 104)  # 2-year cycle, peaks at 26 + 104k
    peaks = cftc.previous_peaks(pd.Series(x, index=weeks), half_window=26)
    tops = peaks[peaks["kind"] == "peak"].sort_values("as_of")
    assert list(tops["as_of"]) == [weeks[26 + 104 * k] for k in range(5)]
    assert np.allclose(tops["value_usd"], 20e9)
    assert np.allclose(tops["distance_usd"], x[-1] - 20e9)
    # Nothing inside the last half window (not confirmed yet).
    assert peaks["weeks_ago"].min() >= 26


def test_crowding_ranks_by_abs_zscore() -> None:
    idx = pd.date_range("2020-01-07", periods=60, freq="7D")
    base = np.tile([0.0, 1.0], 30)
    net = pd.DataFrame({"EUR": base * 10, "JPY": base * 10, "GBP": base * 10}, index=idx)
    net.iloc[-1] = [5.0, 60.0, -40.0]  # JPY far above its history, GBP far below, EUR at its mean
    ranking = cftc.crowding(net, net * 1e5, window=52)
    assert list(ranking["ccy"]) == ["JPY", "GBP", "EUR"]
    assert list(ranking["direction"]) == ["long", "short", "long"]
    by_ci = cftc.crowding(net, net * 1e5, window=52, by="cot_index")
    assert set(by_ci["ccy"][:2]) == {"JPY", "GBP"}
    assert by_ci["extremity"].between(0, 100).all()


def test_unwind_ordering_and_sum() -> None:
    # Specs short EUR (10bn), CAD (5bn), JPY (2bn), long GBP (1bn): net long USD 16bn.
    usd = pd.Series({"EUR": -10e9, "JPY": -2e9, "GBP": 1e9, "CAD": -5e9})
    current = cftc.net_usd(usd.to_frame().T, list(usd.index)).iloc[0]
    assert current == pytest.approx(16e9)
    out = cftc.unwind(usd, current, 0.0)
    benefits = out[out["benefits"]]
    assert list(benefits["ccy"]) == ["EUR", "CAD", "JPY"]  # largest short first
    assert list(benefits["rank"]) == [1, 2, 3]
    assert benefits["cover_usd"].sum() == pytest.approx(16e9)  # the whole gap is covered
    assert out.set_index("ccy").loc["EUR", "cover_usd"] == pytest.approx(16e9 * 10 / 17)
    assert out.set_index("ccy").loc["GBP", "cover_usd"] == 0.0  # other side: not part of it
    # Reverting to a median above the current level benefits nobody among the shorts.
    up = cftc.unwind(usd, current, 20e9)
    assert not up["benefits"].any()
    assert up.set_index("ccy").loc["GBP", "currency_flow_usd"] < 0  # longs are sold


def _two_currency_unwind(target: float) -> pd.DataFrame:
    """Specs long EUR 2bn (usd +2bn: short USD) and short JPY 1bn (long USD): net USD -1bn."""
    usd = pd.Series({"EUR": 2e9, "JPY": -1e9})
    current = cftc.net_usd(usd.to_frame().T, list(usd.index)).iloc[0]
    assert current == pytest.approx(-1e9)  # -(+2) - (-1)
    out = cftc.unwind(usd, current, target)
    out["current_net_usd"], out["target_net_usd"] = current, target
    return out.set_index("ccy")


def test_unwind_to_a_median_above_buys_usd_and_has_no_beneficiary_by_hand() -> None:
    """Net USD -1bn, its median +1bn: gap = -1 - (+1) = -2bn, net USD rises.  The side unwound is
    the short-USD one, the EUR long (contribution -2bn; JPY's +1bn is on the other side): EUR's
    share 1, cover -2bn, EUR sold 2bn; JPY untouched.  No currency is bought, so every rank is 0:
    the board's all-zero "beneficiary rank" is right; only the captions were wrong (they said
    "blue = beneficiaries (specs cover shorts)")."""
    out = _two_currency_unwind(1e9)
    assert out.loc["EUR", "share"] == pytest.approx(1.0) and out.loc["JPY", "share"] == 0.0
    assert out.loc["EUR", "currency_flow_usd"] == pytest.approx(-2e9)
    assert out.loc["JPY", "currency_flow_usd"] == 0.0
    assert not out["benefits"].any() and (out["rank"] == 0).all()
    # after the unwind net USD is the target: -(2 - 2) - (-1) = +1bn
    after = cftc.net_usd((out["usd"] + out["currency_flow_usd"]).to_frame().T, ["EUR", "JPY"])
    assert after.iloc[0] == pytest.approx(1e9)
    text = cftc.unwind_reading(out.reset_index(), target_label="its 3-year median")
    assert text == (
        "Net USD rises from -$1.0 bn to +$1.0 bn (its 3-year median): speculators buy $2.0 bn of USD "
        "by selling the currencies they are long, in proportion to those longs (EUR); the "
        "currencies they are short are not traded. No currency is bought in this unwind, so none "
        "is a beneficiary (rank 0): the USD is what gains."
    )


def test_unwind_to_a_median_below_buys_back_the_shorts_by_hand() -> None:
    """Net USD -1bn, its median -3bn: gap = +2bn, net USD falls.  The long-USD side is the JPY
    short (contribution +1bn): JPY's share 1, JPY bought 2bn (rank 1), EUR untouched; after it
    net USD = -(2) - (-1 + 2) = -3bn."""
    out = _two_currency_unwind(-3e9)
    assert out.loc["JPY", "currency_flow_usd"] == pytest.approx(2e9)
    assert out.loc["EUR", "currency_flow_usd"] == 0.0
    assert out.loc["JPY", "benefits"] and out.loc["JPY", "rank"] == 1
    assert not out.loc["EUR", "benefits"] and out.loc["EUR", "rank"] == 0
    after = cftc.net_usd((out["usd"] + out["currency_flow_usd"]).to_frame().T, ["EUR", "JPY"])
    assert after.iloc[0] == pytest.approx(-3e9)
    assert cftc.unwind_reading(out.reset_index(), target_label="zero").startswith(
        "Net USD falls from -$1.0 bn to -$3.0 bn (zero): speculators sell $2.0 bn of USD by buying "
        "back the currencies they are short, in proportion to those shorts: JPY benefit"
    )
    at = _two_currency_unwind(-1e9)
    assert cftc.unwind_reading(at.reset_index(), target_label="zero") == (
        "Net USD is at zero: nothing to unwind."
    )


def test_unwind_target_labels_and_readings_per_series() -> None:
    assert cftc.unwind_target_label("median", 156) == "its 3-year median"
    assert cftc.unwind_target_label("median", 100) == "its 100-week median"
    assert cftc.unwind_target_label("zero", 156) == "zero"
    rows = pd.concat(
        [
            _two_currency_unwind(t).reset_index().assign(series="net_usd_x", scenario=sc)
            for sc, t in (("median", 1e9), ("zero", 0.0))
        ]
    )
    got = cftc.unwind_readings(rows, 156)
    assert set(got) == {"net_usd_x"} and set(got["net_usd_x"]) == {"median", "zero"}
    assert "(its 3-year median)" in got["net_usd_x"]["median"]
    assert got["net_usd_x"]["zero"].startswith(
        "Net USD rises from -$1.0 bn to $0 (zero): speculators buy $1.0 bn"
    )


def test_expected_release_friday_and_holiday_monday() -> None:
    rel = cftc.expected_release(pd.to_datetime(["2025-01-14", "2024-11-26", "2024-12-24"]))
    assert [str(t) for t in rel] == [
        "2025-01-17 15:30:00-05:00",  # Tuesday report -> Friday
        "2024-12-02 15:30:00-05:00",  # Thanksgiving week -> Monday
        "2024-12-30 15:30:00-05:00",  # Christmas Wednesday -> Monday
    ]


def test_federal_holidays_match_pandas_calendar() -> None:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    ours = cftc.us_federal_holidays(range(1995, 2031))
    ref = USFederalHolidayCalendar().holidays("1995-01-01", "2030-12-31")
    assert set(ours[(ours >= "1995-01-01") & (ours <= "2030-12-31")]) == set(ref)


def test_rolling_stats_matrix_equals_columns() -> None:
    rng = np.random.default_rng(5)
    mat = rng.normal(0, 1, (300, 4))
    mat[rng.integers(0, 300, 20), rng.integers(0, 4, 20)] = np.nan
    both = cftc.rolling_stats(mat, 52)
    for j in range(4):
        one = cftc.rolling_stats(mat[:, j], 52)
        np.testing.assert_allclose(both.zscore[:, j], one.zscore, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(
            both.percentile[:, j], one.percentile, rtol=1e-12, equal_nan=True
        )
        np.testing.assert_allclose(both.cot_index[:, j], one.cot_index, rtol=1e-12, equal_nan=True)


def test_align_fx_previous_business_day_and_stale_gap() -> None:
    fx = _fx(
        {"2025-01-10": {"EUR": 1.03}, "2025-01-13": {"EUR": 1.02}, "2025-01-15": {"EUR": 1.04}}
    )
    out = cftc.align_fx(
        fx, pd.to_datetime(["2025-01-14", "2025-01-13", "2025-01-09", "2025-02-28"]), ["EUR"]
    )
    assert out["EUR"].iloc[0] == 1.02  # no row on the 14th: the 13th
    assert out["EUR"].iloc[1] == 1.02
    assert math.isnan(out["EUR"].iloc[2])  # before the history
    assert math.isnan(out["EUR"].iloc[3])  # more than 7 days stale
    with pytest.raises(InputError, match="fx: MXN"):
        cftc.align_fx(fx, pd.to_datetime(["2025-01-14"]), ["EUR", "MXN"])


def test_missing_currency_makes_the_week_partial_small() -> None:
    rows = []
    for day in ("2025-01-07", "2025-01-14"):
        for code in ("099741", "097741"):
            if day == "2025-01-14" and code == "097741":
                continue  # JPY did not report that week
            rows.append((day, code, 10, 5))
    fx = _fx({d: {"EUR": 1.03, "JPY": 0.0064} for d in ("2025-01-07", "2025-01-14")})
    res = cftc.analyse(
        _legacy(rows), None, fx, {"two": ["EUR", "JPY"], "eur": ["EUR"]}, headline_basket="two"
    )
    weekly = res.weekly.set_index("as_of")
    assert list(weekly["partial"]) == [False, True]
    assert math.isnan(weekly.loc["2025-01-14", "net_usd_two"])
    assert weekly.loc["2025-01-14", "net_usd_eur"] == pytest.approx(-5 * 125_000 * 1.03)
    assert res.latest_complete == pd.Timestamp("2025-01-07")


# -- the real files ------------------------------------------------------------------------------
REAL = {
    TRIMMED: {
        "legacy": "cftc/deacot2025_currencies_2025-01-07_to_2025-03-11.zip",
        "fx": "cftc/eurofxref-hist_2023-12-15_to_2025-05-09.zip",
        "holiday_fx": "cftc/eurofxref-hist_2017-12-18_to_2018-05-03_two_windows.csv",
        "tff": [
            "cftc/fut_fin_txt_2021_currencies_2021-11-02_to_2021-12-28.zip",
            "cftc/fut_fin_txt_2024_currencies_2024-01-02_to_2024-12-31.zip",
            "cftc/fut_fin_txt_2025_currencies_2025-01-07_to_2025-04-29.zip",
            "cftc/fut_fin_txt_2026_currencies_2026-03-03_to_2026-05-05.zip",
        ],
    },
    FULL: {
        "legacy": LEGACY_2025,
        "fx": ECB_HIST,
        "holiday_fx": ECB_HIST,
        "tff": [
            f"cftc/tff_futures_only/{name}"
            for name in (
                "FinFutYY_2017.txt",
                "FinFutYY_2018.txt",
                "FinFutYY_2019.txt",
                "FinFutYY_2020_through_2020-11-24.txt",
                "FinFutYY_2021.txt",
                "FinFutYY_2024.txt",
                "FinFutYY_2025_through_2025-04-29.txt",
                "FinFutYY_2026_through_2026-08-04.txt",
            )
        ],
    },
}
"""Trimmed copies (tests/data/cftc: every currency row of the legacy file, some weeks of four TFF
years, ECB windows; PROVENANCE.md there) and the full files of the shared folder (extended)."""


def _text(path: Path) -> str:
    """A real file's text; a zip (CFTC yearly file, ECB history) read as its single member."""
    return (
        cftc_files.read_zip(path.read_bytes(), path.name)
        if path.suffix == ".zip"
        else path.read_text()
    )


@pytest.fixture(scope="module", params=[trimmed(id=TRIMMED), full(id=FULL)])
def where(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def real_legacy(where: str, request: pytest.FixtureRequest) -> pd.DataFrame:
    path = root(request, where) / REAL[where]["legacy"]
    return cftc_files.parse_legacy(_text(path), str(path))


@pytest.fixture(scope="module")
def real_fx(where: str, request: pytest.FixtureRequest) -> pd.DataFrame:
    path = root(request, where) / REAL[where]["fx"]
    return ecb.parse_hist_csv(_text(path), str(path), currencies=None)


@pytest.fixture(scope="module")
def holiday_fx(where: str, request: pytest.FixtureRequest, real_fx: pd.DataFrame) -> pd.DataFrame:
    """ECB rates around the TARGET holidays of Christmas 2017 and 1 May 2018."""
    if where == FULL:
        return real_fx
    path = root(request, where) / REAL[where]["holiday_fx"]
    return ecb.parse_hist_csv(path.read_text(), str(path), currencies=None)


@pytest.fixture(scope="module")
def real_tff(where: str, request: pytest.FixtureRequest) -> pd.DataFrame:
    paths = [root(request, where) / name for name in REAL[where]["tff"]]
    return pd.concat([cftc_files.parse_tff(_text(p), str(p)) for p in paths], ignore_index=True)


def test_real_2025_01_14_wide9_matches_published(
    real_legacy: pd.DataFrame, real_fx: pd.DataFrame
) -> None:
    res = cftc.analyse(real_legacy, None, real_fx, BASKETS)
    weekly = res.weekly.set_index("as_of")
    wide9 = weekly.loc["2025-01-14", "net_usd_wide9"]
    # Published: about USD 35.2bn net long USD (legacy non-commercials, 9 currencies, no DXY).
    assert abs(wide9 - 35.2e9) < 0.5e9
    assert 0 < weekly.loc["2025-01-14", "net_usd_reuters6"] < wide9  # NZD/BRL shorts add to it
    assert not weekly["partial"].any()
    assert res.latest_complete == pd.Timestamp("2025-03-11")
    # 10 weekly reports, all Tuesdays, released on the Friday.
    assert len(weekly) == 10 and (weekly.index.day_of_week == 1).all()
    assert (weekly["release_time"].dt.day_of_week == 4).all()
    cur = res.currencies.set_index(["as_of", "ccy"])
    eur = cur.loc[(pd.Timestamp("2025-01-14"), "EUR")]
    assert eur["net_contracts"] == -60397  # 2025-01-14 Euro FX non-commercial long - short
    assert eur["usd"] == pytest.approx(-60397 * 125_000 * eur["usd_per_unit"])


def test_real_dxy_reconstruction_is_plausible(real_fx: pd.DataFrame, where: str) -> None:
    # ICE closes: ~109.3 (2025-01-14), ~89.4 (2021-01-05, full ECB file only); ECB fixing time differs slightly.
    closes = {"2025-01-14": 109.3, "2021-01-05": 89.4} if where == FULL else {"2025-01-14": 109.3}
    rates = cftc.usd_per_unit_frame(real_fx, pd.to_datetime(list(closes)), ["DXY"])
    for level, ice in zip(rates["DXY"], closes.values(), strict=True):
        assert level == pytest.approx(ice, abs=1.0)


def test_real_unwind_to_zero_beneficiaries_2025_03_11(
    real_legacy: pd.DataFrame, real_fx: pd.DataFrame
) -> None:
    res = cftc.analyse(real_legacy, None, real_fx, BASKETS)
    uw = res.unwind[(res.unwind["series"] == "net_usd_wide9") & (res.unwind["scenario"] == "zero")]
    assert (uw["as_of"] == pd.Timestamp("2025-03-11")).all()
    current = uw["current_net_usd"].iloc[0]
    assert current > 0  # still net long USD on 2025-03-11
    winners = uw[uw["benefits"]].sort_values("rank")
    # Specs were short CAD, CHF, AUD, NZD (largest USD first): covering those shorts buys them.
    assert list(winners["ccy"]) == ["CAD", "CHF", "AUD", "NZD"]
    assert winners["cover_usd"].sum() == pytest.approx(current)
    longs = uw[uw["usd"] > 0]
    assert (
        set(longs["ccy"]) == {"JPY", "EUR", "GBP", "MXN", "BRL"} and (longs["cover_usd"] == 0).all()
    )
    assert set(res.unwind["scenario"]) == {"median", "zero"}


def test_real_usd_index_basket_adds_the_dxy_position(
    real_legacy: pd.DataFrame, real_fx: pd.DataFrame
) -> None:
    baskets = {**BASKETS, "wide9_dxy": [*BASKETS["wide9"], "DXY"]}
    res = cftc.analyse(real_legacy, None, real_fx, baskets)
    weekly = res.weekly.set_index("as_of")
    cur = res.currencies.set_index(["as_of", "ccy"])
    dxy = cur.loc[(pd.Timestamp("2025-01-14"), "DXY")]
    assert dxy["net_contracts"] == 12729  # ICE USD index non-commercial long - short
    assert dxy["usd"] == pytest.approx(12729 * dxy["usd_per_unit"] * 1000)  # long DXY = long USD
    diff = weekly.loc["2025-01-14", "net_usd_wide9_dxy"] - weekly.loc["2025-01-14", "net_usd_wide9"]
    assert diff == pytest.approx(dxy["usd"])
    assert diff > 0


def test_real_tff_levfunds_continuous_across_renames(
    real_tff: pd.DataFrame, real_fx: pd.DataFrame, where: str
) -> None:
    gbp = real_tff[real_tff["code"] == "096742"]["market"].unique()
    assert len(gbp) == 2  # "BRITISH POUND STERLING" (2017-21) then "BRITISH POUND" (2024-)
    net = cftc.net_contracts(real_tff, "lev_money")
    report_dates = pd.DatetimeIndex(sorted(real_tff["as_of"].unique()))
    assert net.index.equals(report_dates)
    for ccy in [*BASKETS["wide9"], "DXY"]:
        assert net[ccy].notna().all(), f"{ccy} has gaps in leveraged-fund positions"
    years = set(net.index.year)
    assert (
        {2017, 2018, 2019, 2020, 2021, 2024, 2025, 2026}
        if where == FULL
        else {2021, 2024, 2025, 2026}
    ) <= years
    res = cftc.analyse(None, real_tff, real_fx, BASKETS)
    weekly = res.weekly.set_index("as_of")
    lev = weekly["net_usd_levfunds_wide9"]
    # TFF weeks the ECB file does not cover (the full file ends 2026-04-13; the trimmed one covers
    # 2023-12-15 .. 2025-05-09) have no FX, so they are partial, not complete.
    covered = (lev.index >= real_fx.index[0]) & (
        lev.index <= real_fx.index[-1] + pd.Timedelta(days=7)
    )
    assert covered.sum() >= 70 and (~covered).sum() >= 16
    assert lev[covered].notna().all()
    assert lev[~covered].isna().all() and weekly["partial"][~covered].all()
    assert res.latest_complete == lev[covered].index[-1]
    # 1-year statistics exist once a year of reports is there (the trimmed 2024-2025 block)
    assert weekly["net_usd_levfunds_wide9_z_1y"].loc["2025-01-07":"2025-04-29"].notna().all()
    if where == FULL:
        # 3-year statistics exist once three years of reports are there (2017-2020 block).
        assert weekly["net_usd_levfunds_wide9_z_3y"].loc["2020-06-30":"2020-11-24"].notna().all()


def test_real_target_holiday_uses_previous_business_day(holiday_fx: pd.DataFrame) -> None:
    # 2017-12-26 (a Tuesday report date) and 2018-05-01 are TARGET holidays: no ECB row.
    assert (
        pd.Timestamp("2017-12-26") not in holiday_fx.index
        and pd.Timestamp("2018-05-01") not in holiday_fx.index
    )
    aligned = cftc.align_fx(
        holiday_fx, pd.to_datetime(["2017-12-26", "2018-05-01"]), ["EUR", "JPY"]
    )
    assert aligned.loc["2017-12-26", "EUR"] == holiday_fx.loc["2017-12-22", "EUR"]
    assert aligned.loc["2018-05-01", "JPY"] == holiday_fx.loc["2018-04-30", "JPY"]


def test_real_missing_currency_week_is_partial(
    real_legacy: pd.DataFrame, real_fx: pd.DataFrame
) -> None:
    drop = (real_legacy["code"] == "112741") & (
        real_legacy["as_of"] == pd.Timestamp("2025-03-11")
    )  # NZD
    res = cftc.analyse(real_legacy[~drop.to_numpy()], None, real_fx, BASKETS)
    weekly = res.weekly.set_index("as_of")
    assert bool(weekly.loc["2025-03-11", "partial"])
    assert math.isnan(weekly.loc["2025-03-11", "net_usd_wide9"])
    assert not math.isnan(weekly.loc["2025-03-11", "net_usd_reuters6"])  # NZD not in reuters6
    assert res.latest_complete == pd.Timestamp("2025-03-04")
    assert (res.unwind["as_of"] == pd.Timestamp("2025-03-04")).all()


def test_real_missing_fx_date_uses_previous_business_day(
    real_legacy: pd.DataFrame, real_fx: pd.DataFrame
) -> None:
    fx = real_fx.drop(index=pd.Timestamp("2025-01-14"))
    res = cftc.analyse(real_legacy, None, fx, BASKETS)
    cur = res.currencies.set_index(["as_of", "ccy"])
    assert (
        cur.loc[(pd.Timestamp("2025-01-14"), "EUR"), "usd_per_unit"]
        == real_fx.loc["2025-01-13", "EUR"]
    )
    assert not res.weekly["partial"].any()
