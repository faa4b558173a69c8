"""Input quality of the CFTC family's parsers on the trimmed real files (tests/data/cftc).

Decoding rule, skipped rows and their weight, duplicates, plausibility (positions within open
interest, the open-interest identity, FX band), coverage warnings, the current year's zip that
is not there yet, and Socrata paging through a server-side page cap.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.limits import LIMITS
from flows.sources import cftc_files, cftc_socrata, ecb
from flows.sources.http import HttpClient
from flows.sources.textio import decode_text
from tests import cftc_replay
from tests.cftc_replay import SocrataDataset
from tests.httpserver import Reply

CODES = list(cftc_files.CURRENCY_CODES)
EUR_LINE = "2025-01-14,099741,"


@pytest.fixture(scope="module")
def legacy() -> str:
    return cftc_replay.member_text(cftc_replay.LEGACY_ZIP)


@pytest.fixture()
def client() -> HttpClient:
    return HttpClient(
        timeout_s=5,
        retries=1,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        min_interval_s=0.0,
        sleep=lambda _s: None,
    )


def _set(text: str, needle: str, col: int, value: str) -> str:
    nl = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(nl)
    i = next(k for k, ln in enumerate(lines) if needle in ln)
    fields = lines[i].split(",")
    fields[col] = value
    lines[i] = ",".join(fields)
    return nl.join(lines)


def test_decoding_rule_bom_utf16_cp1252_latin1_and_binary() -> None:
    assert decode_text(b"\xef\xbb\xbfDate,USD\n", "f") == ("Date,USD\n", "utf-8", True)
    assert decode_text("Date,USD\n".encode("utf-16"), "f") == ("Date,USD\n", "utf-16", True)
    assert decode_text("Zürich".encode("cp1252"), "f") == ("Zürich", "cp1252", False)
    # 0x81 is undefined in cp1252: Latin-1 reads every byte
    assert decode_text(b"a\x81b", "f") == ("a\x81b", "latin-1", False)
    with pytest.raises(InputError, match=r"f: binary data \(NUL bytes\)"):
        decode_text("Date".encode("utf-16-le"), "f")


def test_clean_real_file_quality_and_weight(legacy: str) -> None:
    frame, q = cftc_files.parse_report(legacy, "legacy", "annual.txt", CODES)
    assert len(frame) == 110 and q.skipped_rows == 0 and q.warnings == [] and q.basis == "positions"
    # the weight is the open interest of the currency rows read (contracts)
    assert q.total_rows == 110 and q.total_weight == float(frame["open_interest"].sum())


def test_unreadable_cell_skips_the_row_weighed_by_its_long_side(legacy: str) -> None:
    # EUR 2025-01-14: open interest unreadable; its long side (non-commercial long + spreading +
    # commercial long + non-reportable long) equals the open interest by the report's identity
    frame, clean = cftc_files.parse_report(legacy, "legacy", "annual.txt", CODES)
    eur = frame[(frame["code"] == "099741") & (frame["as_of"] == "2025-01-14")].iloc[0]
    _, q = cftc_files.parse_report(
        _set(legacy, EUR_LINE, 7, "       -"), "legacy", "annual.txt", CODES
    )
    assert q.skipped_rows == 1 and q.reasons == {
        "Open Interest (All): not a whole number of contracts": 1
    }
    assert q.skipped_weight == float(eur["open_interest"])
    assert q.skipped_share == pytest.approx(eur["open_interest"] / clean.total_weight)
    assert "line 90 (099741 (EUR) 2025-01-14): Open Interest (All) = '-'" in q.warnings[0]
    # a fraction of a contract is unreadable too (never truncated to an integer)
    _, q = cftc_files.parse_report(
        _set(legacy, EUR_LINE, 8, "  1.5"), "legacy", "annual.txt", CODES
    )
    assert q.skipped_rows == 1


def test_implausible_positions_name_file_line_and_field(legacy: str) -> None:
    with pytest.raises(InputError) as err:
        cftc_files.parse_report(
            _set(legacy, EUR_LINE, 8, "  -60000"), "legacy", "annual.txt", CODES
        )
    assert (
        err.value.source == "annual.txt" and err.value.field == "Noncommercial Positions-Long (All)"
    )
    assert "line 90 (099741 (EUR) 2025-01-14)" in str(
        err.value
    ) and "outside [0, open interest]" in str(err.value)
    # a plausible misprint (10,000 contracts off) breaks the open-interest identity
    text = _set(legacy, EUR_LINE, 8, "  178647")  # 188647 in the file
    with pytest.raises(
        InputError,
        match=r"long side - open interest: 1 value\(s\) outside the plausible range \[-5, 5\]",
    ):
        cftc_files.parse_report(text, "legacy", "annual.txt", CODES)
    assert LIMITS["cftc.oi_identity_gap"].unit == "contracts"


def test_duplicates_exact_dropped_conflicting_named(legacy: str) -> None:
    nl = "\n"
    lines = legacy.split(nl)
    i = next(k for k, ln in enumerate(lines) if EUR_LINE in ln)
    frame, q = cftc_files.parse_report(
        nl.join([*lines[: i + 1], lines[i], *lines[i + 1 :]]), "legacy", "annual.txt", CODES
    )
    assert len(frame) == 110 and q.repairs == {"exact duplicate row dropped": 1}
    other = lines[i].split(",")
    other[8], other[11] = f"{int(other[8]) + 5:>8d}", f"{int(other[11]) - 5:>8d}"
    with pytest.raises(
        InputError,
        match=r"conflicting duplicate rows for code 099741 \(EUR\) on 2025-01-14 \(lines 90 and 91\): noncomm_long 162760 vs 162765",
    ):
        cftc_files.parse_report(
            nl.join([*lines[: i + 1], ",".join(other), *lines[i + 1 :]]),
            "legacy",
            "annual.txt",
            CODES,
        )


def test_missing_markets_are_warned_and_no_currency_rows_is_an_error(
    legacy: str, test_data
) -> None:
    nl = "\n"
    cut = nl.join(ln for ln in legacy.split(nl) if not (",2025-02-11," in ln and ",102741," in ln))
    _, q = cftc_files.parse_report(cut, "legacy", "annual.txt", CODES)
    assert q.warnings == [
        "annual.txt: 102741 (BRL) absent on 1 of 10 report dates (2025-02-11): those weeks are partial"
    ]
    with pytest.raises(
        InputError,
        match=r"annual.txt: CFTC Contract Market Code: no currency markets in the file "
        r"\(looked for the contract market codes 090741, ",
    ):
        cftc_files.parse_report(
            (test_data / "cftc" / "cftc_no_currency_rows.txt").read_text(),
            "legacy",
            "annual.txt",
            CODES,
        )
    with pytest.raises(InputError, match=r"no data rows \(header only\)"):
        cftc_files.parse_report(legacy.split(nl)[0] + nl, "legacy", "annual.txt", CODES)


def test_current_year_zip_not_there_yet_and_earlier_year_errors(http_server, client) -> None:
    srv = http_server
    base = f"{srv.url}/history"
    srv.route("/history/fut_fin_txt_2025.zip", Reply(200, cftc_replay.annual_zip("tff")))
    for body, why in (
        (b"<html><body>Page not found</body></html>", "HTTP 200 with an HTML page"),
        (b"", "HTTP 200 with an empty body"),
        (b"GONE", "HTTP 200 with a body that is not a zip (b'GONE')"),
    ):
        srv.route("/history/fut_fin_txt_2026.zip", Reply(200, body))
        files = cftc_files.fetch_years("tff", [2025, 2026], client, base=base, current_year=2026)
        assert files.missing_current == 2026 and list(files.years.values()) == [(2025,)]
        assert files.notes == [
            f"{base}/fut_fin_txt_2026.zip: the 2026 file is not published yet ({why}); using 2025 and the weekly data"
        ]
        assert files.parse_report(CODES).frame["as_of"].max() == pd.Timestamp("2025-04-29")
    # an HTML answer for an earlier year is an error naming its URL
    srv.route("/history/fut_fin_txt_2025.zip", Reply(200, b"<html>maintenance</html>"))
    with pytest.raises(InputError, match=r"fut_fin_txt_2025\.zip: not a zip archive"):
        cftc_files.fetch_years("tff", [2025, 2026], client, base=base, current_year=2026)


def test_socrata_pages_through_a_server_cap_to_the_end(http_server, client) -> None:
    rows = cftc_replay.socrata_rows("legacy")  # 140 rows: 14 markets x 10 weeks
    srv = http_server
    srv.route("/resource/6dca-aqww.json", SocrataDataset(rows, cap=40))
    q = cftc_socrata.build_query(
        "legacy", CODES, "2025-01-07", page_size=100, base=f"{srv.url}/resource"
    )
    got = cftc_socrata.fetch(q, client)
    # 110 currency rows: 40 + 40 + 30; the first page (40 < 100 asked) is not taken for the end
    assert [r.query["$offset"][0] for r in srv.requests_to("/resource/6dca-aqww.json")] == [
        "0",
        "40",
        "80",
    ]
    frame, quality = cftc_socrata.parse_rows(got, "legacy", q.url, CODES)
    expected, _ = cftc_files.parse_report(
        cftc_replay.member_text(cftc_replay.LEGACY_ZIP), "legacy", "annual.txt", CODES
    )
    pd.testing.assert_frame_equal(frame, expected)
    assert quality.skipped_rows == 0 and quality.repaired_rows == 0
    # a cap that divides the data: the next page is empty and ends it
    srv.requests.clear()
    srv.route("/resource/6dca-aqww.json", SocrataDataset(rows, cap=55))
    assert len(cftc_socrata.fetch(q, client)) == 110
    assert [r.query["$offset"][0] for r in srv.requests_to("/resource/6dca-aqww.json")] == [
        "0",
        "55",
        "110",
    ]
    # a server that ignores $offset never yields duplicated rows
    srv.route("/resource/6dca-aqww.json", Reply(200, cftc_replay.socrata_body(rows[:30])))
    with pytest.raises(SourceError, match="ignores \\$offset"):
        cftc_socrata.fetch(q, client)


def test_socrata_absurdly_nested_json_is_a_source_error(http_server, client) -> None:
    depth = sys.getrecursionlimit() + 10
    http_server.route("/resource/6dca-aqww.json", Reply(200, "[" * depth + "]" * depth))
    q = cftc_socrata.build_query("legacy", CODES, base=f"{http_server.url}/resource")
    with pytest.raises(SourceError, match="malformed JSON in the response: nested too deeply"):
        cftc_socrata.fetch(q, client)


def test_socrata_row_missing_a_value_is_skipped_with_its_weight() -> None:
    rows = json.loads(cftc_replay.socrata_body(cftc_replay.socrata_rows("legacy")))
    eur = next(
        r
        for r in rows
        if r["cftc_contract_market_code"] == "099741"
        and r["report_date_as_yyyy_mm_dd"].startswith("2025-01-14")
    )
    del eur["comm_positions_short_all"]
    frame, q = cftc_socrata.parse_rows(rows, "legacy", "api", CODES)
    assert (
        len(frame) == 109
        and q.skipped_rows == 1
        and q.skipped_weight == float(eur["open_interest_all"])
    )
    assert q.reasons == {"comm_positions_short_all: missing or not a whole number of contracts": 1}


def test_ecb_unreadable_day_skipped_duplicates_and_misprint() -> None:
    text = cftc_replay.ECB_CSV.read_text()
    clean, q0 = ecb.read_hist_csv(text, "hist.csv")
    assert q0.basis == "rows" and q0.total_rows == 120 and q0.skipped_rows == 0
    lines = text.split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("2025-01-14"))
    bad = lines[i].replace("1.0245", "-", 1)
    fx, q = ecb.read_hist_csv("\n".join([*lines[:i], bad, *lines[i + 1 :]]), "hist.csv")
    assert q.skipped_rows == 1 and pd.Timestamp("2025-01-14") not in fx.index
    assert q.warnings == [
        f"hist.csv: 1 day(s) skipped for a rate that is neither a number nor N/A (line {i + 1}: USD '-'); the previous ECB day serves those dates"
    ]
    fx, q = ecb.read_hist_csv("\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]]), "hist.csv")
    assert q.repairs == {"exact duplicate day dropped": 1}
    pd.testing.assert_frame_equal(fx, clean)
    with pytest.raises(
        InputError,
        match="hist.csv: Date: conflicting duplicate rows for 2025-01-14: USD 1.0245 vs 1.03",
    ):
        ecb.read_hist_csv(
            "\n".join([*lines[: i + 1], lines[i].replace("1.0245", "1.0300", 1), *lines[i + 1 :]]),
            "hist.csv",
        )
    with pytest.raises(InputError) as err:
        ecb.read_hist_csv(
            "\n".join([*lines[:i], lines[i].replace("1.0245", "10.245", 1), *lines[i + 1 :]]),
            "hist.csv",
        )
    assert err.value.field == "USD (units per EUR as printed; log change from the previous ECB day)"
    assert "row 2025-01-14" in str(err.value) and "[-0.3, 0.3]" in str(err.value)


def test_ecb_new_day_checked_against_the_stored_history() -> None:
    hist = ecb.parse_hist_csv(cftc_replay.ECB_CSV.read_text(), "hist.csv")
    daily = ecb.parse_daily_xml(cftc_replay.ECB_DAILY_XML.read_bytes(), "daily.xml")
    ecb.check_fx(
        ecb.merge(hist, daily), "daily.xml", new_from=daily.index.min()
    )  # the real day: fine
    misprint = daily.copy()
    misprint.index = misprint.index + pd.Timedelta(days=3)  # Mon 2025-05-12, JPY a factor 10 off
    misprint["JPY"] = misprint["JPY"] * 10
    with pytest.raises(
        InputError,
        match=r"daily\.xml: JPY \(USD per unit; log change from the previous ECB day\).*row 2025-05-12",
    ):
        ecb.check_fx(ecb.merge(hist, misprint), "daily.xml", new_from=misprint.index.min())
    assert np.isfinite(hist.to_numpy()).all()
