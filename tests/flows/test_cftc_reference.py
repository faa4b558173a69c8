"""The vectorised CFTC engine against the plain reference on the real COT files and ECB rates.

:mod:`tests.reference.cftc_reference` reads the raw files with the ``csv`` module and computes
every figure one row, one currency and one week at a time from the formulas of
:mod:`flows.cftc`; the engine's results must agree to 1e-9 relative.  Default: the trimmed copies
in ``tests/data/cftc`` (every currency row of the 2025 legacy file, the TFF currency rows of 2024
and early 2025, ECB rates 2023-12-15 .. 2025-05-09: 70 TFF weeks, enough for 1-year windows);
``extended``: the full files (TFF 2017-2026, ECB history since 1999: 3- and 5-year windows).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows import cftc
from flows.sources import cftc_files, ecb
from tests.realdata import FULL, TRIMMED, full, root, trimmed
from tests.reference import cftc_reference as ref

BASKETS = {
    "reuters6": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD"],
    "wide9": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "MXN", "BRL"],
    "wide9_dxy": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "MXN", "BRL", "DXY"],
}
FILES = {
    TRIMMED: {
        "legacy": ["cftc/deacot2025_currencies_2025-01-07_to_2025-03-11.zip"],
        "tff": [
            "cftc/fut_fin_txt_2024_currencies_2024-01-02_to_2024-12-31.zip",
            "cftc/fut_fin_txt_2025_currencies_2025-01-07_to_2025-04-29.zip",
        ],
        "fx": "cftc/eurofxref-hist_2023-12-15_to_2025-05-09.zip",
    },
    FULL: {
        "legacy": ["cftc/legacy_futures_only/annual_2025_through_2025-03-11.txt"],
        "tff": [
            f"cftc/tff_futures_only/{n}"
            for n in (
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
        "fx": "cftc/fx/eurofxref-hist.csv",
    },
}
PREFIX = {"noncomm": "net_usd", "lev_money": "net_usd_levfunds", "asset_mgr": "net_usd_assetmgr"}
CURRENCY_COLUMNS = {
    "noncomm": ("net_contracts", "usd"),
    "lev_money": ("levfunds_net_contracts", "levfunds_usd"),
    "asset_mgr": ("assetmgr_net_contracts", "assetmgr_usd"),
}


def close(got: float, want: float | None, scale: float = 0.0) -> bool:
    """Equal to 1e-9 relative (``scale``: an absolute floor for sums that cancel), NaN for None."""
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return bool(np.isnan(got))
    return bool(got == pytest.approx(want, rel=1e-9, abs=1e-9 * scale))


@pytest.fixture(scope="module", params=[trimmed(id=TRIMMED), full(id=FULL)])
def real(request: pytest.FixtureRequest) -> dict:
    """The engine's result and the reference's inputs on the same real files."""
    where = request.param
    folder = root(request, where)
    files = FILES[where]
    legacy_texts = [ref.read_text(folder / p) for p in files["legacy"]]
    tff_texts = [ref.read_text(folder / p) for p in files["tff"]]
    fx_text = ref.read_text(folder / files["fx"])
    legacy = pd.concat(
        [cftc_files.parse_legacy(t, p) for t, p in zip(legacy_texts, files["legacy"], strict=True)],
        ignore_index=True,
    )
    tff = pd.concat(
        [cftc_files.parse_tff(t, p) for t, p in zip(tff_texts, files["tff"], strict=True)],
        ignore_index=True,
    )
    fx = ecb.parse_hist_csv(fx_text, files["fx"], currencies=None)
    positions = {**ref.read_cot(legacy_texts, "legacy"), **ref.read_cot(tff_texts, "tff")}
    return {
        "where": where,
        "result": cftc.analyse(legacy, tff, fx, BASKETS, headline_basket="wide9"),
        "positions": positions,
        "ecb": ref.read_ecb([fx_text]),
        "dates": sorted(set().union(*[set(p) for p in positions.values()])),
    }


def _weekly(real: dict) -> pd.DataFrame:
    weekly = real["result"].weekly.set_index("as_of")
    assert [d.date() for d in weekly.index] == real["dates"]  # one row per report date of any class
    return weekly


def test_positions_and_usd_values_per_currency_and_week(real: dict) -> None:
    cur = real["result"].currencies.set_index(["as_of", "ccy"])
    checked = 0
    for trader, (net_col, usd_col) in CURRENCY_COLUMNS.items():
        for day, by_ccy in real["positions"][trader].items():
            for ccy, net in by_ccy.items():
                row = cur.loc[(pd.Timestamp(day), ccy)]
                rate = ref.usd_per_unit(real["ecb"], day, ccy)
                assert row[net_col] == net, (trader, day, ccy)
                assert close(row["usd_per_unit"], rate), (day, ccy)
                assert close(row[usd_col], ref.usd_value(net, ccy, rate)), (trader, day, ccy)
                checked += 1
    assert checked >= {TRIMMED: 11 * (10 + 2 * 70), FULL: 7900}[real["where"]]


def test_net_usd_of_every_basket_and_trader_class(real: dict) -> None:
    weekly = _weekly(real)
    complete = 0
    for trader, prefix in PREFIX.items():
        for name, basket in BASKETS.items():
            want = ref.net_usd(real["positions"][trader], real["ecb"], basket)
            got = weekly[f"{prefix}_{name}"]
            for day in real["dates"]:
                value = want.get(day)  # a date of another report class: no position, partial
                assert close(got.loc[pd.Timestamp(day)], value), (trader, name, day)
                complete += value is not None
    assert complete > {TRIMMED: 400, FULL: 2000}[real["where"]]
    # the README's figure: 2025-01-14, wide basket, legacy non-commercials, USD 35.05 bn net long
    assert weekly.loc["2025-01-14", "net_usd_wide9"] == pytest.approx(35_052_990_271, abs=1.0)


def test_weekly_change_is_position_change_plus_fx_revaluation_exactly(real: dict) -> None:
    weekly = _weekly(real)
    seen = 0
    for trader in ("noncomm", "lev_money", "asset_mgr"):
        col = f"{PREFIX[trader]}_wide9"
        want = ref.weekly_change(real["positions"][trader], real["ecb"], BASKETS["wide9"])
        level = ref.net_usd(real["positions"][trader], real["ecb"], BASKETS["wide9"])
        days = sorted(want)
        for prev, day in zip(days[:-1], days[1:], strict=True):
            row = weekly.loc[pd.Timestamp(day)]
            parts = want[day]
            if parts is None:
                assert np.isnan(row[f"{col}_change_usd"]), (trader, day)
                continue
            position, revaluation = parts
            scale = abs(level[day]) + abs(level[prev])
            assert close(row[f"{col}_change_position_usd"], position, scale), (trader, day)
            assert close(row[f"{col}_change_fx_usd"], revaluation, scale), (trader, day)
            assert close(row[f"{col}_change_usd"], position + revaluation, scale), (trader, day)
            # the two parts add up to the change of the level itself
            assert position + revaluation == pytest.approx(
                level[day] - level[prev], rel=1e-9, abs=1e-9 * scale
            )
            seen += 1
    assert seen > {TRIMMED: 100, FULL: 600}[real["where"]]


def test_zscore_percentile_and_cot_index_over_every_window(real: dict) -> None:
    weekly = _weekly(real)
    seen = 0
    for trader in ("noncomm", "lev_money", "asset_mgr"):
        col = f"{PREFIX[trader]}_wide9"
        level = ref.net_usd(real["positions"][trader], real["ecb"], BASKETS["wide9"])
        series = [level.get(day) for day in real["dates"]]
        for label, weeks in cftc.WINDOWS_WEEKS.items():
            want = ref.rolling(series, weeks)
            z, pct = weekly[f"{col}_z_{label}"].to_numpy(), weekly[f"{col}_pct_{label}"].to_numpy()
            cot = weekly[f"{col}_cot_index_3y"].to_numpy() if label == "3y" else None
            for i, w in enumerate(want):
                assert close(z[i], None if w is None else w[0]), (col, label, real["dates"][i])
                assert close(pct[i], None if w is None else w[1]), (col, label, real["dates"][i])
                if cot is not None:
                    assert close(cot[i], None if w is None else w[2]), (col, real["dates"][i])
                seen += w is not None
    assert (
        seen >= {TRIMMED: 2 * 20, FULL: 500}[real["where"]]
    )  # 1-year windows on 2024-2025 at least


@pytest.mark.parametrize("weeks", [4, 8, 13])
def test_rolling_statistics_on_short_windows(real: dict, weeks: int) -> None:
    """The same statistics through :func:`flows.cftc.rolling_stats` over short windows of the real
    leveraged-fund series (partial weeks as gaps), with the default and an explicit minimum."""
    level = ref.net_usd(real["positions"]["lev_money"], real["ecb"], BASKETS["wide9"])
    series = [level.get(day) for day in real["dates"]]
    values = np.array([np.nan if v is None else v for v in series])
    for min_periods in (None, 2):
        got = cftc.rolling_stats(values, weeks, min_periods=min_periods)
        want = ref.rolling(series, weeks, min_periods)
        for i, w in enumerate(want):
            assert close(got.zscore[i], None if w is None else w[0])
            assert close(got.percentile[i], None if w is None else w[1])
            assert close(got.cot_index[i], None if w is None else w[2])
        assert sum(w is not None for w in want) > 50


def test_reference_reads_the_raw_files_like_the_parsers(test_data: Path) -> None:
    """The reference's own reading, on one row checked by hand in the legacy file: Euro FX on
    2025-03-11, non-commercials long 188,647, short 175,557; ECB 2025-01-14 USD 1.0245 per EUR."""
    text = ref.read_text(test_data / "cftc" / "deacot2025_currencies_2025-01-07_to_2025-03-11.zip")
    assert ref.read_cot([text], "legacy")["noncomm"][date(2025, 3, 11)]["EUR"] == 188647 - 175557
    rates = ref.read_ecb(
        [ref.read_text(test_data / "cftc" / "eurofxref-hist_2023-12-15_to_2025-05-09.zip")]
    )
    assert rates[date(2025, 1, 14)]["EUR"] == pytest.approx(1.0245)
    assert (
        ref.usd_per_unit(rates, date(2025, 1, 12), "EUR") == rates[date(2025, 1, 10)]["EUR"]
    )  # Sunday -> Friday
