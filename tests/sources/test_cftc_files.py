"""CFTC historical compressed files: every real file parses; quirks; continuity; zips; fetch + 404."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS
from flows.sources import cftc_files
from flows.sources.http import HttpClient
from tests.httpserver import Reply

FX_CODES = list(cftc_files.CURRENCY_CODES)


def _zip(member: str, text: str | bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, text)
    return buf.getvalue()


@pytest.fixture()
def client() -> HttpClient:
    slept: list[float] = []
    return HttpClient(timeout_s=5, retries=2, backoff_base_s=0.01, backoff_max_s=0.05, min_interval_s=0.0, sleep=slept.append)


@pytest.fixture(scope="module")
def legacy_path(shared_data: Path) -> Path:
    return shared_data / "cftc" / "legacy_futures_only" / "annual_2025_through_2025-03-11.txt"


@pytest.fixture(scope="module")
def tff_paths(shared_data: Path) -> list[Path]:
    paths = sorted((shared_data / "cftc" / "tff_futures_only").glob("FinFutYY_*.txt"))
    assert len(paths) == 8
    return paths


@pytest.fixture(scope="module")
def tff_all(tff_paths: list[Path]) -> pd.DataFrame:
    return pd.concat([cftc_files.parse_tff(p.read_text(), p.name, FX_CODES) for p in tff_paths], ignore_index=True)


def test_urls_of_yearly_files_and_bundles() -> None:
    assert cftc_files.build_query("legacy", 2025) == "https://www.cftc.gov/files/dea/history/deacot2025.zip"
    assert cftc_files.build_query("tff", 2024) == "https://www.cftc.gov/files/dea/history/fut_fin_txt_2024.zip"
    assert cftc_files.bundle_query("legacy").endswith("/deacot1986_2016.zip")
    assert cftc_files.bundle_query("tff").endswith("/fin_fut_txt_2006_2016.zip")
    with pytest.raises(InputError, match="report"):
        cftc_files.build_query("disagg", 2024)  # type: ignore[arg-type]


def test_real_legacy_file_parses_with_header_quirks(legacy_path: Path) -> None:
    text = legacy_path.read_text()
    # the real header's quirk this parser must survive
    assert '," Total Reportable Positions-Long (All)",' in text.split("\n", 1)[0]
    frame = cftc_files.parse_legacy(text, legacy_path.name)
    assert list(frame.columns) == list(COT_LEGACY_COLUMNS)
    assert frame["as_of"].dtype == "datetime64[ns]"
    assert frame["as_of"].min() == pd.Timestamp("2025-01-07") and frame["as_of"].max() == pd.Timestamp("2025-03-11")
    assert frame["as_of"].nunique() == 10
    assert (frame["code"].str.len() == 6).all()
    assert "001602" in set(frame["code"])  # leading zeros kept (wheat)
    # EURO FX 2025-03-11, read by hand from the file's row
    eur = frame[(frame["code"] == "099741") & (frame["as_of"] == "2025-03-11")].iloc[0]
    assert (eur["open_interest"], eur["noncomm_long"], eur["noncomm_short"], eur["noncomm_spread"]) == (729760, 188647, 175557, 46442)
    assert (eur["comm_long"], eur["comm_short"], eur["nonrept_long"], eur["nonrept_short"]) == (394505, 442352, 100166, 65409)
    assert eur["market"] == "EURO FX - CHICAGO MERCANTILE EXCHANGE"
    # the report's identity holds for the currency futures (no old/other crop split there):
    # long side = short side = open interest
    frame = frame[frame["code"].isin(FX_CODES)]
    long_side = frame["noncomm_long"] + frame["noncomm_spread"] + frame["comm_long"] + frame["nonrept_long"]
    short_side = frame["noncomm_short"] + frame["noncomm_spread"] + frame["comm_short"] + frame["nonrept_short"]
    assert (long_side == frame["open_interest"]).all() and (short_side == frame["open_interest"]).all()


def test_codes_filter_keeps_all_eleven_currency_contracts(legacy_path: Path) -> None:
    frame = cftc_files.parse_legacy(legacy_path.read_text(), legacy_path.name, FX_CODES)
    assert sorted(frame["code"].unique()) == sorted(FX_CODES)
    assert len(frame) == 11 * 10


def test_every_real_tff_file_parses_crlf_and_lf(tff_paths: list[Path]) -> None:
    endings = set()
    for path in tff_paths:
        raw = path.read_bytes()
        endings.add(b"\r\n" in raw)
        frame = cftc_files.parse_tff(raw.decode(), path.name)
        assert list(frame.columns) == list(COT_TFF_COLUMNS), path.name
        assert len(frame) > 1000
        year = int(path.name.split("_")[1][:4])
        assert (frame["as_of"].dt.year == year).all(), path.name
        # TFF identity: dealer+asset mgr+lev+other+spreads+nonrept = OI; without spreads <= OI
        long_wo_spreads = frame[["dealer_long", "asset_mgr_long", "lev_money_long", "other_rept_long", "nonrept_long"]].sum(axis=1)
        assert (long_wo_spreads <= frame["open_interest"]).all(), path.name
    assert endings == {True, False}  # both CRLF (2017-2025) and LF (2026) were parsed


def test_tff_series_continuous_across_years_and_renames(tff_all: pd.DataFrame) -> None:
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
        assert set(per_year.index) == {2017, 2018, 2019, 2020, 2021, 2024, 2025, 2026}, code
        if code == "122741":
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
        frame = cftc_files.parse_tff(header + "\n" + row + "\n" + bad.replace("250107,2025-01-07", "250114,2025-01-14") + "\n", "synthetic.txt")
    assert len(frame) == 1


def test_code_without_leading_zero_is_restored() -> None:
    header = '"Market_and_Exchange_Names","As_of_Date_In_Form_YYMMDD","Report_Date_as_YYYY-MM-DD","CFTC_Contract_Market_Code","Open_Interest_All","Dealer_Positions_Long_All","Dealer_Positions_Short_All","Asset_Mgr_Positions_Long_All","Asset_Mgr_Positions_Short_All","Lev_Money_Positions_Long_All","Lev_Money_Positions_Short_All","Other_Rept_Positions_Long_All","Other_Rept_Positions_Short_All","NonRept_Positions_Long_All","NonRept_Positions_Short_All"'
    rows = ['"EURO FX - CHICAGO MERCANTILE EXCHANGE",250107,2025-01-07,99741,100,10,20,30,40,50,5,1,2,9,33', '"E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE",250107,2025-01-07,"13874A",100,10,20,30,40,50,5,1,2,9,33']
    text = header + "\n" + "\n".join(rows) + "\n"
    assert list(cftc_files.parse_tff(text, "x")["code"]) == ["099741", "13874A"]
    assert list(cftc_files.parse_tff(text, "x", ["099741"])["code"]) == ["099741"]
    assert list(cftc_files.parse_tff(text, "x", ["13874A"])["code"]) == ["13874A"]


def test_bundle_us_date_format_is_accepted() -> None:
    header = '"Market_and_Exchange_Names","As_of_Date_In_Form_YYMMDD","Report_Date_as_YYYY-MM-DD","CFTC_Contract_Market_Code","Open_Interest_All","Dealer_Positions_Long_All","Dealer_Positions_Short_All","Asset_Mgr_Positions_Long_All","Asset_Mgr_Positions_Short_All","Lev_Money_Positions_Long_All","Lev_Money_Positions_Short_All","Other_Rept_Positions_Long_All","Other_Rept_Positions_Short_All","NonRept_Positions_Long_All","NonRept_Positions_Short_All"'
    row = '"EURO FX - CHICAGO MERCANTILE EXCHANGE",100105,1/5/2010 12:00:00 AM,099741,100,10,20,30,40,50,5,1,2,9,33'
    frame = cftc_files.parse_tff(header + "\n" + row + "\n", "F_TFF_2006_2016.txt")
    assert frame.iloc[0]["as_of"] == pd.Timestamp("2010-01-05")


def test_changed_header_names_file_and_column(legacy_path: Path) -> None:
    text = legacy_path.read_text()
    changed = text.replace('"Noncommercial Positions-Short (All)"', '"Noncommercial Short (All)"', 1)
    with pytest.raises(InputError) as err:
        cftc_files.parse_legacy(changed, "annual.txt")
    assert err.value.source == "annual.txt"
    assert err.value.field == "noncommercial_positions_short_all"
    assert "annual.txt" in str(err.value) and "noncommercial_positions_short_all" in str(err.value)
    with pytest.raises(InputError, match="empty"):
        cftc_files.parse_tff("", "FinFutYY.txt")


def test_read_zip_round_trip_and_errors(legacy_path: Path) -> None:
    text = legacy_path.read_text()
    assert cftc_files.read_zip(_zip("annual.txt", text), "deacot2025.zip") == text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "x")
        zf.writestr("b.txt", "y")
    with pytest.raises(InputError, match="exactly one file"):
        cftc_files.read_zip(buf.getvalue(), "two.zip")
    with pytest.raises(InputError, match="not a zip"):
        cftc_files.read_zip(b"<html>not found</html>", "deacot2025.zip")


def test_fetch_years_serves_real_files_and_falls_back_on_404(http_server, client, tff_paths: list[Path]) -> None:
    by_year = {int(p.name.split("_")[1][:4]): p for p in tff_paths}
    http_server.route("/history/fut_fin_txt_2024.zip", Reply(200, _zip("FinFutYY.txt", by_year[2024].read_bytes())))
    http_server.route("/history/fut_fin_txt_2025.zip", Reply(200, _zip("FinFutYY.txt", by_year[2025].read_bytes())))
    # 2026 not published yet (no route: the server answers 404)
    base = f"{http_server.url}/history"
    seen: list[str] = []
    files = cftc_files.fetch_years("tff", [2024, 2026], client, seen.append, base=base, current_year=2026)
    assert files.missing_current == 2026
    assert set(files.years.values()) == {(2024,), (2025,)}  # previous year fetched as the fallback
    frame = files.parse(FX_CODES)
    assert frame["as_of"].min() == pd.Timestamp("2024-01-02") and frame["as_of"].max() == pd.Timestamp("2025-04-29")
    assert any("2026" in m and "404" in m for m in seen)
    assert [r.path for r in http_server.requests] == ["/history/fut_fin_txt_2024.zip", "/history/fut_fin_txt_2026.zip", "/history/fut_fin_txt_2025.zip"]
    # a 404 for a past year is an error naming the URL
    with pytest.raises(SourceError) as err:
        cftc_files.fetch_years("tff", [2023, 2024], client, base=base, current_year=2026)
    assert err.value.status == 404 and "fut_fin_txt_2023.zip" in str(err.value)


def test_fetch_years_uses_the_bundle_up_to_2016(http_server, client, tff_paths: list[Path]) -> None:
    text = tff_paths[0].read_text()  # 2017 rows, re-dated to look like the bundle's 2015-2016 weeks
    bundle = text.replace(",2017-", ",2016-")
    http_server.route("/history/fin_fut_txt_2006_2016.zip", Reply(200, _zip("F_TFF_2006_2016.txt", bundle)))
    http_server.route("/history/fut_fin_txt_2017.zip", Reply(200, _zip("FinFutYY.txt", text)))
    msgs: list[str] = []
    files = cftc_files.fetch_years("tff", [2016, 2017], client, msgs.append, base=f"{http_server.url}/history")
    frame = files.parse(["099741"])
    years = frame["as_of"].dt.year.value_counts().to_dict()
    assert years == {2016: 52, 2017: 52}
    assert len(msgs) == 2
    assert np.array_equal(frame[frame["as_of"].dt.year == 2016]["lev_money_long"].to_numpy(), frame[frame["as_of"].dt.year == 2017]["lev_money_long"].to_numpy())


def test_code_prefilter_gives_the_same_rows_as_parsing_everything(tff_paths: list[Path], legacy_path: Path) -> None:
    for path, report in [(legacy_path, "legacy"), *((p, "tff") for p in tff_paths[:2])]:
        text = path.read_text()
        full = cftc_files.parse(text, report, path.name)  # type: ignore[arg-type]
        filtered = cftc_files.parse(text, report, path.name, FX_CODES)  # type: ignore[arg-type]
        expected = full[full["code"].isin(FX_CODES)].reset_index(drop=True)
        pd.testing.assert_frame_equal(filtered, expected)
    # a code that is not in the file: an error naming the file (an empty table is never a result)
    with pytest.raises(InputError, match=r"x: .*none of the requested markets in the file \(contract market codes 999999\)"):
        cftc_files.parse_tff(tff_paths[0].read_text(), "x", ["999999"])
