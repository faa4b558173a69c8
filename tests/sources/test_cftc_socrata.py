"""CFTC Public Reporting API (Socrata): query, paging over a real local server, errors, parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS
from flows.sources import cftc_files, cftc_socrata
from flows.sources.http import HttpClient
from tests.httpserver import Reply, Request

PATH = "/resource/6dca-aqww.json"


@pytest.fixture(scope="module")
def legacy_rows(test_data: Path) -> list[dict]:
    path = (
        test_data
        / "cftc"
        / "socrata_6dca-aqww_legacy_futonly_six_markets_2026-09-08_to_2026-09-15.json"
    )
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def tff_rows(test_data: Path) -> list[dict]:
    path = (
        test_data / "cftc" / "socrata_gpe5-46if_tff_futonly_es_2026-07-07_to_2026-07-14_subset.json"
    )
    return json.loads(path.read_text())


@pytest.fixture()
def client() -> HttpClient:
    slept: list[float] = []
    c = HttpClient(
        timeout_s=5,
        retries=2,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        min_interval_s=0.0,
        sleep=slept.append,
    )
    c.slept = slept  # type: ignore[attr-defined]
    return c


def test_build_query_always_orders_and_limits() -> None:
    q = cftc_socrata.build_query("legacy", ["099741", "097741"], since="2026-09-08", page_size=500)
    assert q.url == "https://publicreporting.cftc.gov/resource/6dca-aqww.json"
    assert q.params["$order"].startswith("report_date_as_yyyy_mm_dd ASC")
    assert q.params["$limit"] == "500" and q.params["$offset"] == "0"
    assert "cftc_contract_market_code in ('099741', '097741')" in q.params["$where"]
    assert "report_date_as_yyyy_mm_dd >= '2026-09-08T00:00:00'" in q.params["$where"]
    assert "noncomm_postions_spread_all" in q.params["$select"]  # CFTC's own spelling
    t = cftc_socrata.build_query("tff", None)
    assert t.url.endswith("/gpe5-46if.json") and "$where" not in t.params
    assert "asset_mgr_positions_long" in t.params["$select"].split(", ")
    with pytest.raises(InputError, match="codes"):
        cftc_socrata.build_query("legacy", ["99741"])
    with pytest.raises(InputError, match="report"):
        cftc_socrata.build_query("disagg", None)


def test_parse_real_legacy_response_string_values(legacy_rows: list[dict]) -> None:
    assert all(isinstance(v, str) for r in legacy_rows for v in r.values())
    frame = cftc_socrata.parse(legacy_rows, "legacy", "recorded.json")
    assert list(frame.columns) == list(COT_LEGACY_COLUMNS)
    assert len(frame) == 12 and frame["as_of"].dtype == "datetime64[ns]"
    assert set(frame["as_of"]) == {pd.Timestamp("2026-09-08"), pd.Timestamp("2026-09-15")}
    assert "13874A" in set(frame["code"]) and "043602" in set(frame["code"])
    eur = frame[(frame["code"] == "099741") & (frame["as_of"] == "2026-09-15")].iloc[0]
    assert (
        eur["open_interest"],
        eur["noncomm_long"],
        eur["noncomm_short"],
        eur["noncomm_spread"],
    ) == (920035, 209000, 235993, 37369)
    assert (eur["comm_long"], eur["comm_short"], eur["nonrept_long"], eur["nonrept_short"]) == (
        485267,
        485057,
        188399,
        161616,
    )
    # the identity long side = open interest holds for every row
    long_side = (
        frame["noncomm_long"] + frame["noncomm_spread"] + frame["comm_long"] + frame["nonrept_long"]
    )
    assert (long_side == frame["open_interest"]).all()
    only_eur = cftc_socrata.parse(legacy_rows, "legacy", "recorded.json", codes=["099741"])
    assert list(only_eur["code"]) == ["099741", "099741"]


def test_parse_real_tff_subset_without_all_suffix(tff_rows: list[dict]) -> None:
    frame = cftc_socrata.parse(tff_rows, "tff", "es.json")
    assert list(frame.columns) == list(COT_TFF_COLUMNS)
    newest = frame[frame["as_of"] == "2026-07-14"].iloc[0]
    assert newest["asset_mgr_long"] == 1144294 and newest["dealer_long"] == 142914
    assert newest["open_interest"] == 1941500


def test_same_quantities_as_the_file_layout(legacy_rows: list[dict], test_data: Path) -> None:
    """One Socrata row written into the real annual.txt layout parses to the same frame row."""
    legacy_zip = test_data / "cftc" / "deacot2025_currencies_2025-01-07_to_2025-03-11.zip"
    header_line = cftc_files.read_zip(legacy_zip.read_bytes(), legacy_zip.name).splitlines()[0]
    names = [h.strip('"') for h in header_line.split(",")]
    row = next(
        r
        for r in legacy_rows
        if r["cftc_contract_market_code"] == "099741"
        and r["report_date_as_yyyy_mm_dd"].startswith("2026-09-15")
    )
    file_to_api = {
        "Market and Exchange Names": '"' + row["market_and_exchange_names"] + '"',
        "As of Date in Form YYYY-MM-DD": row["report_date_as_yyyy_mm_dd"][:10],
        "CFTC Contract Market Code": row["cftc_contract_market_code"],
        "Open Interest (All)": row["open_interest_all"],
        "Noncommercial Positions-Long (All)": row["noncomm_positions_long_all"],
        "Noncommercial Positions-Short (All)": row["noncomm_positions_short_all"],
        "Noncommercial Positions-Spreading (All)": row["noncomm_postions_spread_all"],
        "Commercial Positions-Long (All)": row["comm_positions_long_all"],
        "Commercial Positions-Short (All)": row["comm_positions_short_all"],
        "Nonreportable Positions-Long (All)": row["nonrept_positions_long_all"],
        "Nonreportable Positions-Short (All)": row["nonrept_positions_short_all"],
    }
    values = [f"{file_to_api[n]:>8}" if n in file_to_api else "       ." for n in names]
    from_file = cftc_files.parse_legacy(header_line + "\n" + ",".join(values) + "\n", "annual.txt")
    from_api = cftc_socrata.parse([row], "legacy", "api.json")
    pd.testing.assert_frame_equal(from_file, from_api)


def test_fetch_pages_with_offset_and_limit(
    http_server, client, legacy_rows: list[dict], monkeypatch
) -> None:
    ordered = sorted(
        legacy_rows,
        key=lambda r: (r["report_date_as_yyyy_mm_dd"], r["cftc_contract_market_code"], r["id"]),
    )

    def serve(req: Request) -> Reply:
        off, lim = int(req.query["$offset"][0]), int(req.query["$limit"][0])
        return Reply(
            200, json.dumps(ordered[off : off + lim]), {"Content-Type": "application/json"}
        )

    http_server.route(PATH, serve)
    monkeypatch.setenv("CFTC_APP_TOKEN", "tok-123")
    q = cftc_socrata.build_query("legacy", None, page_size=5, base=f"{http_server.url}/resource")
    rows = cftc_socrata.fetch(q, client)
    assert rows == ordered
    reqs = http_server.requests_to(PATH)
    assert [r.query["$offset"][0] for r in reqs] == ["0", "5", "10"]  # 5 + 5 + 2 (short page stops)
    assert all(
        r.query["$limit"] == ["5"] and r.query["$order"][0].startswith("report_date_as_yyyy_mm_dd")
        for r in reqs
    )
    assert all(r.headers.get("x-app-token") == "tok-123" for r in reqs)
    # an exact multiple of the page size needs one more (empty) page to know it is the end
    http_server.requests.clear()
    q6 = cftc_socrata.build_query("legacy", None, page_size=6, base=f"{http_server.url}/resource")
    assert len(cftc_socrata.fetch(q6, client, app_token="")) == 12
    reqs = http_server.requests_to(PATH)
    assert [r.query["$offset"][0] for r in reqs] == ["0", "6", "12"]
    assert all("x-app-token" not in r.headers for r in reqs)


def test_fetch_retries_429_then_succeeds(http_server, client, legacy_rows: list[dict]) -> None:
    replies = [Reply(429, "slow down", {"Retry-After": "0"})]

    def serve(req: Request) -> Reply:
        if replies:
            return replies.pop()
        off = int(req.query["$offset"][0])
        return Reply(200, json.dumps(legacy_rows[off:]), {"Content-Type": "application/json"})

    http_server.route(PATH, serve)
    q = cftc_socrata.build_query("legacy", None, page_size=5000, base=f"{http_server.url}/resource")
    rows = cftc_socrata.fetch(q, client)
    # 429, the 12 rows, then the next offset to tell the end from a server cap (empty: the end)
    assert len(rows) == 12 and [r.query["$offset"][0] for r in http_server.requests_to(PATH)] == [
        "0",
        "0",
        "12",
    ]


def test_fetch_500_and_malformed_json_name_the_dataset(http_server, client, monkeypatch) -> None:
    monkeypatch.setenv("CFTC_APP_TOKEN", "secret-token-value")
    http_server.route(PATH, Reply(500, "oops"))
    q = cftc_socrata.build_query("legacy", None, base=f"{http_server.url}/resource")
    with pytest.raises(SourceError) as err:
        cftc_socrata.fetch(q, client)
    assert err.value.status == 500 and "6dca-aqww.json" in str(err.value)
    assert "secret-token-value" not in str(err.value)
    http_server.route(PATH, Reply(200, '[{"id": "x",', {"Content-Type": "application/json"}))
    with pytest.raises(SourceError, match="malformed JSON"):
        cftc_socrata.fetch(q, client)
    http_server.route(PATH, Reply(200, '{"error": true, "message": "bad $where"}'))
    with pytest.raises(SourceError, match="expected a JSON array"):
        cftc_socrata.fetch(q, client)


def test_parse_errors_name_row_and_field(legacy_rows: list[dict]) -> None:
    row = dict(legacy_rows[0])
    del row["noncomm_postions_spread_all"]
    with pytest.raises(InputError) as err:
        cftc_socrata.parse([row], "legacy", "api.json")
    assert err.value.field == "noncomm_postions_spread_all" and "row 0" in str(err.value)
    bad = dict(legacy_rows[0], open_interest_all="n/a")
    with pytest.raises(InputError, match="open_interest_all"):
        cftc_socrata.parse([bad], "legacy", "api.json")
    # the same row twice (a paging overlap) is dropped as a repair; a conflicting copy is an error
    frame, q = cftc_socrata.parse_rows([legacy_rows[0], legacy_rows[0]], "legacy", "api.json")
    assert len(frame) == 1 and q.repairs == {"exact duplicate row dropped (paging overlap?)": 1}
    other = dict(
        legacy_rows[0],
        noncomm_positions_long_all=str(int(legacy_rows[0]["noncomm_positions_long_all"]) - 1),
        comm_positions_long_all=str(int(legacy_rows[0]["comm_positions_long_all"]) + 1),
    )
    with pytest.raises(
        InputError,
        match=r"conflicting duplicate rows for code 13874A on 2026-09-15 \(rows 0 and 1\): noncomm_positions_long_all",
    ):
        cftc_socrata.parse([legacy_rows[0], other], "legacy", "api.json")
    empty = cftc_socrata.parse([], "tff", "api.json")
    assert list(empty.columns) == list(COT_TFF_COLUMNS) and empty.empty
