"""CFTC historical compressed files: every real file parses; quirks; continuity; zips; fetch + 404."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS
from flows.sources import cftc_files
from flows.sources.http import HttpClient
from tests.httpserver import Reply
from tests.realdata import FULL, TRIMMED, full, root, trimmed

FX_CODES = list(cftc_files.CURRENCY_CODES)


def _zip(member: str, text: str | bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, text)
    return buf.getvalue()


@pytest.fixture()
def client() -> HttpClient:
    slept: list[float] = []
    return HttpClient(
        timeout_s=5,
        retries=2,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        min_interval_s=0.0,
        sleep=slept.append,
    )


LEGACY = {
    TRIMMED: "cftc/deacot2025_currencies_2025-01-07_to_2025-03-11.zip",
    FULL: "cftc/legacy_futures_only/annual_2025_through_2025-03-11.txt",
}
TFF = {
    TRIMMED: [
        (2021, "cftc/fut_fin_txt_2021_currencies_2021-11-02_to_2021-12-28.zip"),
        (2024, "cftc/fut_fin_txt_2024_currencies_2024-01-02_to_2024-12-31.zip"),
        (2025, "cftc/fut_fin_txt_2025_currencies_2025-01-07_to_2025-04-29.zip"),
        (2026, "cftc/fut_fin_txt_2026_currencies_2026-03-03_to_2026-05-05.zip"),
    ],
    FULL: [
        (2017, "cftc/tff_futures_only/FinFutYY_2017.txt"),
        (2018, "cftc/tff_futures_only/FinFutYY_2018.txt"),
        (2019, "cftc/tff_futures_only/FinFutYY_2019.txt"),
        (2020, "cftc/tff_futures_only/FinFutYY_2020_through_2020-11-24.txt"),
        (2021, "cftc/tff_futures_only/FinFutYY_2021.txt"),
        (2024, "cftc/tff_futures_only/FinFutYY_2024.txt"),
        (2025, "cftc/tff_futures_only/FinFutYY_2025_through_2025-04-29.txt"),
        (2026, "cftc/tff_futures_only/FinFutYY_2026_through_2026-08-04.txt"),
    ],
}
"""The real COT files: trimmed copies (the currency rows of some weeks, in the yearly zip layout,
tests/data/cftc/PROVENANCE.md) and the full files of the shared folder (extended)."""


@dataclass(frozen=True)
class CotFile:
    """One real COT text: its year, file name and text (a zip's member already read)."""

    year: int
    name: str
    text: str


def _cot_file(path: Path, year: int) -> CotFile:
    text = (
        cftc_files.read_zip(path.read_bytes(), path.name)
        if path.suffix == ".zip"
        else path.read_bytes().decode()
    )
    return CotFile(year, path.name, text)


@pytest.fixture(scope="module", params=[trimmed(id=TRIMMED), full(id=FULL)])
def where(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def legacy(where: str, request: pytest.FixtureRequest) -> CotFile:
    return _cot_file(root(request, where) / LEGACY[where], 2025)


@pytest.fixture(scope="module")
def tff_files(where: str, request: pytest.FixtureRequest) -> list[CotFile]:
    return [_cot_file(root(request, where) / name, year) for year, name in TFF[where]]


@pytest.fixture(scope="module")
def tff_all(tff_files: list[CotFile]) -> pd.DataFrame:
    return pd.concat(
        [cftc_files.parse_tff(f.text, f.name, FX_CODES) for f in tff_files], ignore_index=True
    )


def test_urls_of_yearly_files_and_bundles() -> None:
    assert (
        cftc_files.build_query("legacy", 2025)
        == "https://www.cftc.gov/files/dea/history/deacot2025.zip"
    )
    assert (
        cftc_files.build_query("tff", 2024)
        == "https://www.cftc.gov/files/dea/history/fut_fin_txt_2024.zip"
    )
    assert cftc_files.bundle_query("legacy").endswith("/deacot1986_2016.zip")
    assert cftc_files.bundle_query("tff").endswith("/fin_fut_txt_2006_2016.zip")
    with pytest.raises(InputError, match="report"):
        cftc_files.build_query("disagg", 2024)  # type: ignore[arg-type]


def test_real_legacy_file_parses_with_header_quirks(legacy: CotFile) -> None:
    text = legacy.text
    # the real header's quirk this parser must survive
    assert '," Total Reportable Positions-Long (All)",' in text.split("\n", 1)[0]
    frame = cftc_files.parse_legacy(text, legacy.name)
    assert list(frame.columns) == list(COT_LEGACY_COLUMNS)
    assert frame["as_of"].dtype == "datetime64[ns]"
    assert frame["as_of"].min() == pd.Timestamp("2025-01-07") and frame[
        "as_of"
    ].max() == pd.Timestamp("2025-03-11")
    assert frame["as_of"].nunique() == 10
    assert (frame["code"].str.len() == 6).all()
    assert "001602" in set(frame["code"])  # leading zeros kept (wheat)
    # EURO FX 2025-03-11, read by hand from the file's row
    eur = frame[(frame["code"] == "099741") & (frame["as_of"] == "2025-03-11")].iloc[0]
    assert (
        eur["open_interest"],
        eur["noncomm_long"],
        eur["noncomm_short"],
        eur["noncomm_spread"],
    ) == (729760, 188647, 175557, 46442)
    assert (eur["comm_long"], eur["comm_short"], eur["nonrept_long"], eur["nonrept_short"]) == (
        394505,
        442352,
        100166,
        65409,
    )
    assert eur["market"] == "EURO FX - CHICAGO MERCANTILE EXCHANGE"
    # the report's identity holds for the currency futures (no old/other crop split there):
    # long side = short side = open interest
    frame = frame[frame["code"].isin(FX_CODES)]
    long_side = (
        frame["noncomm_long"] + frame["noncomm_spread"] + frame["comm_long"] + frame["nonrept_long"]
    )
    short_side = (
        frame["noncomm_short"]
        + frame["noncomm_spread"]
        + frame["comm_short"]
        + frame["nonrept_short"]
    )
    assert (long_side == frame["open_interest"]).all() and (
        short_side == frame["open_interest"]
    ).all()


def test_codes_filter_keeps_all_eleven_currency_contracts(legacy: CotFile) -> None:
    frame = cftc_files.parse_legacy(legacy.text, legacy.name, FX_CODES)
    assert sorted(frame["code"].unique()) == sorted(FX_CODES)
    assert len(frame) == 11 * 10


def test_every_real_tff_file_parses_crlf_and_lf(tff_files: list[CotFile], where: str) -> None:
    endings = set()
    for f in tff_files:
        endings.add("\r\n" in f.text)
        frame = cftc_files.parse_tff(f.text, f.name)
        assert list(frame.columns) == list(COT_TFF_COLUMNS), f.name
        assert len(frame) > (1000 if where == FULL else 90)
        assert (frame["as_of"].dt.year == f.year).all(), f.name
        # TFF identity: dealer+asset mgr+lev+other+spreads+nonrept = OI; without spreads <= OI
        long_wo_spreads = frame[
            ["dealer_long", "asset_mgr_long", "lev_money_long", "other_rept_long", "nonrept_long"]
        ].sum(axis=1)
        assert (long_wo_spreads <= frame["open_interest"]).all(), f.name
    assert endings == {True, False}  # both CRLF (2017-2025) and LF (2026) were parsed


def test_tff_series_continuous_across_years_and_renames(tff_all: pd.DataFrame, where: str) -> None:
    assert sorted(tff_all["code"].unique()) == sorted(FX_CODES)
    report_dates = tff_all["as_of"].drop_duplicates().sort_values()
    for year, d in report_dates.groupby(report_dates.dt.year):
        gaps = d.diff().dropna().dt.days
        # weekly cadence inside a file (holiday weeks shift the date by a day or two)
        assert gaps.between(5, 9).all(), (year, gaps[~gaps.between(5, 9)])
    weeks_per_year = report_dates.groupby(report_dates.dt.year).size()
    for code, g in tff_all.groupby("code"):
        per_year = g.groupby(g["as_of"].dt.year).size()
        assert not g["as_of"].duplicated().any(), code
        assert set(per_year.index) == {year for year, _ in TFF[where]}, code
        if code == "122741" and where == FULL:
            # the rand is really missing some weeks of 2018-2019 (not published: too few
            # reportable traders); every other contract is there every week
            assert per_year[2018] == 39 and per_year[2019] == 43
            continue
        assert (per_year == weeks_per_year).all(), (code, per_year[per_year != weeks_per_year])
    # the names changed between 2021 and 2024 but the codes are the key and carry on
    names = tff_all.groupby(["code", tff_all["as_of"].dt.year])["market"].first()
    assert names[("096742", 2021)] == "BRITISH POUND STERLING - CHICAGO MERCANTILE EXCHANGE"
    assert names[("096742", 2024)] == "BRITISH POUND - CHICAGO MERCANTILE EXCHANGE"
    assert names[("112741", 2024)].startswith("NZ DOLLAR")
    assert names[("098662", 2024)].startswith("USD INDEX")


def test_padded_numbers_dot_and_crlf_synthetic() -> None:
    header = '"Market_and_Exchange_Names","As_of_Date_In_Form_YYMMDD","Report_Date_as_YYYY-MM-DD","CFTC_Contract_Market_Code","Open_Interest_All","Dealer_Positions_Long_All","Dealer_Positions_Short_All","Asset_Mgr_Positions_Long_All","Asset_Mgr_Positions_Short_All","Lev_Money_Positions_Long_All","Lev_Money_Positions_Short_All","Other_Rept_Positions_Long_All","Other_Rept_Positions_Short_All","NonRept_Positions_Long_All","NonRept_Positions_Short_All","Change_in_Open_Interest_All"'
    row = '"EURO FX - CHICAGO MERCANTILE EXCHANGE",250107,2025-01-07,099741,  100,      10,      20,      30,      40,      50,       5,       1,       2,       9,      33,       .'
    for nl in ("\r\n", "\n"):
        frame = cftc_files.parse_tff(header + nl + row + nl, "synthetic.txt")
        assert frame.iloc[0]["open_interest"] == 100 and frame.iloc[0]["lev_money_short"] == 5
        assert frame.iloc[0]["code"] == "099741"
    # a '.' in a position column (never in real files) drops the row with a warning
    bad = row.replace("      20,", "       .,")
    with pytest.warns(UserWarning, match="dropped 1 row"):
        frame = cftc_files.parse_tff(
            header
            + "\n"
            + row
            + "\n"
            + bad.replace("250107,2025-01-07", "250114,2025-01-14")
            + "\n",
            "synthetic.txt",
        )
    assert len(frame) == 1


def test_code_without_leading_zero_is_restored() -> None:
    header = '"Market_and_Exchange_Names","As_of_Date_In_Form_YYMMDD","Report_Date_as_YYYY-MM-DD","CFTC_Contract_Market_Code","Open_Interest_All","Dealer_Positions_Long_All","Dealer_Positions_Short_All","Asset_Mgr_Positions_Long_All","Asset_Mgr_Positions_Short_All","Lev_Money_Positions_Long_All","Lev_Money_Positions_Short_All","Other_Rept_Positions_Long_All","Other_Rept_Positions_Short_All","NonRept_Positions_Long_All","NonRept_Positions_Short_All"'
    rows = [
        '"EURO FX - CHICAGO MERCANTILE EXCHANGE",250107,2025-01-07,99741,100,10,20,30,40,50,5,1,2,9,33',
        '"E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE",250107,2025-01-07,"13874A",100,10,20,30,40,50,5,1,2,9,33',
    ]
    text = header + "\n" + "\n".join(rows) + "\n"
    assert list(cftc_files.parse_tff(text, "x")["code"]) == ["099741", "13874A"]
    assert list(cftc_files.parse_tff(text, "x", ["099741"])["code"]) == ["099741"]
    assert list(cftc_files.parse_tff(text, "x", ["13874A"])["code"]) == ["13874A"]


def test_bundle_us_date_format_is_accepted() -> None:
    header = '"Market_and_Exchange_Names","As_of_Date_In_Form_YYMMDD","Report_Date_as_YYYY-MM-DD","CFTC_Contract_Market_Code","Open_Interest_All","Dealer_Positions_Long_All","Dealer_Positions_Short_All","Asset_Mgr_Positions_Long_All","Asset_Mgr_Positions_Short_All","Lev_Money_Positions_Long_All","Lev_Money_Positions_Short_All","Other_Rept_Positions_Long_All","Other_Rept_Positions_Short_All","NonRept_Positions_Long_All","NonRept_Positions_Short_All"'
    row = '"EURO FX - CHICAGO MERCANTILE EXCHANGE",100105,1/5/2010 12:00:00 AM,099741,100,10,20,30,40,50,5,1,2,9,33'
    frame = cftc_files.parse_tff(header + "\n" + row + "\n", "F_TFF_2006_2016.txt")
    assert frame.iloc[0]["as_of"] == pd.Timestamp("2010-01-05")


def test_changed_header_names_file_and_column(legacy: CotFile) -> None:
    text = legacy.text
    changed = text.replace(
        '"Noncommercial Positions-Short (All)"', '"Noncommercial Short (All)"', 1
    )
    with pytest.raises(InputError) as err:
        cftc_files.parse_legacy(changed, "annual.txt")
    assert err.value.source == "annual.txt"
    assert err.value.field == "noncommercial_positions_short_all"
    assert "annual.txt" in str(err.value) and "noncommercial_positions_short_all" in str(err.value)
    with pytest.raises(InputError, match="empty"):
        cftc_files.parse_tff("", "FinFutYY.txt")


def test_read_zip_round_trip_and_errors(legacy: CotFile) -> None:
    text = legacy.text
    assert cftc_files.read_zip(_zip("annual.txt", text), "deacot2025.zip") == text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "x")
        zf.writestr("b.txt", "y")
    with pytest.raises(InputError, match="exactly one file"):
        cftc_files.read_zip(buf.getvalue(), "two.zip")
    with pytest.raises(InputError, match="not a zip"):
        cftc_files.read_zip(b"<html>not found</html>", "deacot2025.zip")


def test_fetch_years_serves_real_files_and_falls_back_on_404(
    http_server, client, tff_files: list[CotFile]
) -> None:
    by_year = {f.year: f for f in tff_files}
    http_server.route(
        "/history/fut_fin_txt_2024.zip", Reply(200, _zip("FinFutYY.txt", by_year[2024].text))
    )
    http_server.route(
        "/history/fut_fin_txt_2025.zip", Reply(200, _zip("FinFutYY.txt", by_year[2025].text))
    )
    # 2026 not published yet (no route: the server answers 404)
    base = f"{http_server.url}/history"
    seen: list[str] = []
    files = cftc_files.fetch_years(
        "tff", [2024, 2026], client, seen.append, base=base, current_year=2026
    )
    assert files.missing_current == 2026
    assert set(files.years.values()) == {(2024,), (2025,)}  # previous year fetched as the fallback
    frame = files.parse(FX_CODES)
    assert frame["as_of"].min() == pd.Timestamp("2024-01-02") and frame[
        "as_of"
    ].max() == pd.Timestamp("2025-04-29")
    assert any("2026" in m and "404" in m for m in seen)
    assert [r.path for r in http_server.requests] == [
        "/history/fut_fin_txt_2024.zip",
        "/history/fut_fin_txt_2026.zip",
        "/history/fut_fin_txt_2025.zip",
    ]
    # a 404 for a past year is an error naming the URL
    with pytest.raises(SourceError) as err:
        cftc_files.fetch_years("tff", [2023, 2024], client, base=base, current_year=2026)
    assert err.value.status == 404 and "fut_fin_txt_2023.zip" in str(err.value)


def test_fetch_years_uses_the_bundle_up_to_2016(
    http_server, client, tff_files: list[CotFile]
) -> None:
    first = tff_files[0]  # its rows re-dated to look like 2017's and the bundle's 2016 weeks
    text = first.text.replace(f",{first.year}-", ",2017-")
    weeks = len({line.split(",")[2] for line in text.splitlines()[1:] if line})
    bundle = text.replace(",2017-", ",2016-")
    http_server.route(
        "/history/fin_fut_txt_2006_2016.zip", Reply(200, _zip("F_TFF_2006_2016.txt", bundle))
    )
    http_server.route("/history/fut_fin_txt_2017.zip", Reply(200, _zip("FinFutYY.txt", text)))
    msgs: list[str] = []
    files = cftc_files.fetch_years(
        "tff", [2016, 2017], client, msgs.append, base=f"{http_server.url}/history"
    )
    frame = files.parse(["099741"])
    years = frame["as_of"].dt.year.value_counts().to_dict()
    assert years == {2016: weeks, 2017: weeks} and weeks >= 9
    assert len(msgs) == 2
    assert np.array_equal(
        frame[frame["as_of"].dt.year == 2016]["lev_money_long"].to_numpy(),
        frame[frame["as_of"].dt.year == 2017]["lev_money_long"].to_numpy(),
    )


def test_code_prefilter_gives_the_same_rows_as_parsing_everything(
    tff_files: list[CotFile], legacy: CotFile
) -> None:
    # the legacy copies keep other markets (wheat, E-mini S&P 500, gold) besides the currencies
    for f, report in [(legacy, "legacy"), *((t, "tff") for t in tff_files[:3])]:
        every = cftc_files.parse(f.text, report, f.name)  # type: ignore[arg-type]
        filtered = cftc_files.parse(f.text, report, f.name, FX_CODES)  # type: ignore[arg-type]
        expected = every[every["code"].isin(FX_CODES)].reset_index(drop=True)
        pd.testing.assert_frame_equal(filtered, expected)
    # a code that is not in the file: an error naming the file (an empty table is never a result)
    with pytest.raises(
        InputError,
        match=r"x: .*none of the requested markets in the file \(looked for the contract market codes 999999\)",
    ):
        cftc_files.parse_tff(tff_files[0].text, "x", ["999999"])
