"""One contract test for every connector (flows.sources.contract), stage by stage.

Like OpenBB's ``Fetcher.test()``: for each HTTP connector, against the real local HTTP server
serving its recorded real-format response from ``tests/data``,

* ``build_query`` gives a typed query whose URL points where the source lives (here: the server);
* ``fetch`` returns the raw answer untransformed (the served bytes; the decoded JSON for the two
  JSON APIs), and an HTTP 404 or 500 is a :class:`SourceError` naming the source and the status;
* ``parse`` turns the raw answer into rows and a :class:`Quality`; a malformed body (an HTML error
  page served with 200, as proxies do) is a clear error naming the source, never a traceback.

Every file connector runs the same stages on its trimmed file.  The list of cases must cover
:data:`flows.sources.contract.CONNECTORS`.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from flows.errors import FlowdeskError, InputError, SourceError
from flows.quality import Quality
from flows.sources import (
    aum_drop,
    cboe,
    cboe_csv,
    cboe_prices,
    cboe_quotes,
    cboe_vx,
    cftc_files,
    cftc_socrata,
    contract,
    ecb,
    fred,
    letf_universe,
    price_files,
    proshares,
    vixetp_universe,
    yahoo_csv,
)
from flows.sources.http import HttpClient
from tests.httpserver import Reply

TEST_DATA = Path(__file__).resolve().parents[1] / "data"
HTML_ERROR_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>"
)


def _mstr_quote() -> bytes:
    """The quote endpoint's body: the options payload without its option rows (the same
    ``data`` object the quote endpoint serves)."""
    payload = json.loads(
        (TEST_DATA / "options" / "options_MSTR_2026-07-10_trimmed.json").read_bytes()
    )
    payload["data"].pop("options")
    return json.dumps(payload).encode()


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


@dataclass(frozen=True)
class HttpCase:
    name: str
    """``connector`` or ``connector:variant``."""
    build: Callable[[str], Any]
    """Server base URL -> the connector's query (its own ``build_query``)."""
    body: Callable[[], bytes]
    """The recorded real-format response."""
    parse: Callable[[Any, str], Any]
    """``(raw, source) -> result`` with the connector's own ``parse`` (extra arguments bound)."""
    raw_is_json: bool = False
    """``fetch`` returns the decoded JSON (cboe_quotes) or the rows (cftc_socrata)."""
    paged: bool = False
    """Socrata pages until an empty page: the server answers the rows, then ``[]``."""
    label: str | None = None
    """The source label the connector names in its errors instead of the caller's (``cboe:MSTR``)."""

    @property
    def module(self) -> Any:
        return globals()[self.name.split(":")[0]]


HTTP_CASES = [
    HttpCase(
        "cboe",
        lambda base: cboe.build_query("MSTR", base_url=f"{base}/options"),
        lambda: (TEST_DATA / "options" / "options_MSTR_2026-07-10_trimmed.json").read_bytes(),
        lambda raw, src: cboe.parse(raw, source=src, symbol="MSTR"),
        label="cboe:MSTR",
    ),
    HttpCase(
        "cboe_quotes",
        lambda base: cboe_quotes.build_query("MSTR", url_template=f"{base}/quotes/{{symbol}}.json"),
        _mstr_quote,
        cboe_quotes.parse,
        raw_is_json=True,
    ),
    HttpCase(
        "cboe_prices",
        lambda base: cboe_prices.build_query(
            "VIX", url_template=f"{base}/prices/{{symbol}}_History.csv"
        ),
        lambda: (TEST_DATA / "prices" / "VIX_History_2017-12-01_2018-03-29.csv").read_bytes(),
        lambda raw, src: cboe_prices.parse(raw, src, "VIX"),
    ),
    HttpCase(
        "cboe_vx",
        lambda base: cboe_vx.build_query(2018, 2, url_template=f"{base}/vx/VX_{{expiry}}.csv"),
        lambda: (TEST_DATA / "vix_futures" / "clean" / "CFE_G18_VX.csv").read_bytes(),
        cboe_vx.parse,
    ),
    HttpCase(
        "fred",
        lambda base: fred.build_query("SP500", url_template=f"{base}/fred/{{series}}.csv"),
        lambda: (TEST_DATA / "prices" / "fred_SP500_2023-01-03_2025-06-30.csv").read_bytes(),
        lambda raw, src: fred.parse(raw, src, "SP500"),
    ),
    HttpCase(
        "proshares",
        lambda base: proshares.build_query(
            "SSO", url_template=f"{base}/nav/{{ticker}}-historical_nav.csv"
        ),
        lambda: (TEST_DATA / "letf" / "proshares_SSO-historical_nav_trimmed.csv").read_bytes(),
        proshares.parse,
    ),
    HttpCase(
        "ecb:daily_xml",
        lambda base: ecb.build_query("daily_xml", base=f"{base}/ecb"),
        lambda: (TEST_DATA / "cftc" / "eurofxref-daily_2025-05-09.xml").read_bytes(),
        ecb.parse,
    ),
    HttpCase(
        "ecb:hist",
        lambda base: ecb.build_query("hist", base=f"{base}/ecb"),
        lambda: _zip(
            "eurofxref-hist.csv",
            (TEST_DATA / "cftc" / "eurofxref-hist_2024-11-15_to_2025-05-09.csv").read_bytes(),
        ),
        ecb.parse,
    ),
    HttpCase(
        "cftc_files:legacy",
        lambda base: cftc_files.build_query("legacy", 2025, base=f"{base}/cftc"),
        lambda: (
            TEST_DATA / "cftc" / "deacot2025_currencies_2025-01-07_to_2025-03-11.zip"
        ).read_bytes(),
        lambda raw, src: cftc_files.parse_report(cftc_files.read_zip(raw, src), "legacy", src),
    ),
    HttpCase(
        "cftc_files:tff",
        lambda base: cftc_files.build_query("tff", 2025, base=f"{base}/cftc"),
        lambda: (
            TEST_DATA / "cftc" / "fut_fin_txt_2025_currencies_2025-01-07_to_2025-04-29.zip"
        ).read_bytes(),
        lambda raw, src: cftc_files.parse_report(cftc_files.read_zip(raw, src), "tff", src),
    ),
    HttpCase(
        "cftc_socrata:legacy",
        lambda base: cftc_socrata.build_query("legacy", None, base=f"{base}/socrata"),
        lambda: (
            TEST_DATA
            / "cftc"
            / "socrata_6dca-aqww_legacy_futonly_six_markets_2026-09-08_to_2026-09-15.json"
        ).read_bytes(),
        lambda rows, src: cftc_socrata.parse_rows(rows, "legacy", src),
        raw_is_json=True,
        paged=True,
    ),
    HttpCase(
        "cftc_socrata:tff",
        lambda base: cftc_socrata.build_query("tff", None, base=f"{base}/socrata"),
        lambda: (
            TEST_DATA
            / "cftc"
            / "socrata_gpe5-46if_tff_futonly_es_2026-07-07_to_2026-07-14_subset.json"
        ).read_bytes(),
        lambda rows, src: cftc_socrata.parse_rows(rows, "tff", src),
        raw_is_json=True,
        paged=True,
    ),
]


@dataclass(frozen=True)
class FileCase:
    name: str
    build: Callable[[Path], Path]
    """The trimmed file (or its folder) -> the connector's query (its own ``build_query``)."""
    file: Path
    parse: Callable[[bytes, str], Any]

    @property
    def module(self) -> Any:
        return globals()[self.name.split(":")[0]]


LETF_UNIVERSE = TEST_DATA / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"
FILE_CASES = [
    FileCase(
        "cboe_csv",
        lambda folder: cboe_csv.build_query(folder, "SPX"),
        TEST_DATA / "options" / "spx_quotedata_2023-09-14_trimmed.csv",
        lambda raw, src: cboe_csv.parse(raw, src, "SPX"),
    ),
    FileCase(
        "letf_universe",
        lambda path: letf_universe.build_query(path),
        LETF_UNIVERSE,
        letf_universe.parse,
    ),
    FileCase(
        "vixetp_universe",
        lambda _path: vixetp_universe.build_query(None),
        vixetp_universe.shipped_path(),
        vixetp_universe.parse,
    ),
    FileCase(
        "yahoo_csv",
        lambda path: yahoo_csv.build_query(path.parent, path.name),
        TEST_DATA / "prices" / "GSPC_ohlcv_2019-01-02_2020-04-30.csv",
        lambda raw, src: yahoo_csv.parse(raw, src, "SPX"),
    ),
    FileCase(
        "price_files",
        price_files.build_query,
        TEST_DATA / "prices" / "arch_sp500_first120.csv.gz",
        lambda raw, src: price_files.parse(raw, src, "SPX"),
    ),
]


@pytest.fixture(scope="module")
def _server():
    """One real local server for the module (stopping one costs 0.5 s: its shutdown poll)."""
    from tests.httpserver import LocalHTTPServer

    with LocalHTTPServer() as srv:
        yield srv


@pytest.fixture()
def http_server(_server):
    """The module's server with no routes and no recorded requests (overrides conftest's)."""
    _server.routes.clear()
    _server.requests.clear()
    return _server


def _client() -> HttpClient:
    return HttpClient(timeout_s=5.0, retries=0, min_interval_s=0.0)


def _rows(result: Any) -> int:
    """Rows of a parse result, whatever its shape (chain, frame, (frame, quality), named tuple)."""
    for attr in ("frame", "history", "contracts", "funds", "table"):
        value = getattr(result, attr, None)
        if isinstance(value, pd.DataFrame):
            return len(value)
    if isinstance(result, tuple) and isinstance(result[0], pd.DataFrame):
        return len(result[0])
    if isinstance(result, pd.DataFrame):
        return len(result)
    raise AssertionError(f"unknown parse result {type(result).__name__}")


def test_the_cases_cover_every_connector() -> None:
    covered = (
        {c.name.split(":")[0] for c in HTTP_CASES}
        | {c.name.split(":")[0] for c in FILE_CASES}
        | {"aum_drop"}
    )
    assert covered == set(contract.CONNECTORS)
    assert {c.name.split(":")[0] for c in HTTP_CASES} == {
        n for n, k in contract.CONNECTORS.items() if k == "http"
    }


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda c: c.name)
def test_http_connector_stages(case: HttpCase, http_server) -> None:
    # 1. query: typed, pointing at the source (here the local server)
    query = case.build(http_server.url)
    url = query if isinstance(query, str) else query.url
    assert url.startswith(http_server.url + "/")
    path = url[len(http_server.url) :].split("?", 1)[0]
    body = case.body()
    http_server.route(
        path, [Reply(200, body), Reply(200, b"[]")] if case.paged else [Reply(200, body)]
    )
    # 2. fetch: the raw answer, untransformed
    raw = case.module.fetch(query, _client())
    if case.raw_is_json:
        expected = json.loads(body)
        assert raw == (expected if not case.paged else list(expected))
    else:
        assert raw == body
    # 3. parse: rows and the input's quality
    source = f"{case.name} test"
    result = case.parse(raw, source)
    assert _rows(result) > 0
    q = contract.quality_of(result)
    if case.name != "cboe_quotes":  # a single quote has no rows to skip: no Quality
        assert isinstance(q, Quality) and q.total_rows > 0 and q.skipped_share <= 0.01


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("status", [404, 500])
def test_http_connector_errors_name_the_source_and_status(
    case: HttpCase, status: int, http_server
) -> None:
    query = case.build(http_server.url)
    url = query if isinstance(query, str) else query.url
    path = url[len(http_server.url) :].split("?", 1)[0]
    if status != 404:  # an unknown route is the server's 404
        http_server.route(path, [Reply(status, b"internal error")])
    with pytest.raises(SourceError) as err:
        case.module.fetch(query, _client())
    assert err.value.status == status
    assert path.rsplit("/", 1)[-1].split(".")[0] in str(err.value)  # names what was asked for


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda c: c.name)
def test_http_connector_malformed_body_is_a_clear_error(case: HttpCase, http_server) -> None:
    query = case.build(http_server.url)
    url = query if isinstance(query, str) else query.url
    path = url[len(http_server.url) :].split("?", 1)[0]
    http_server.route(path, [Reply(200, HTML_ERROR_PAGE, {"Content-Type": "text/html"})])
    source = f"{case.name} test"
    with pytest.raises(FlowdeskError) as err:  # the fetch (JSON APIs) or the parse refuses it
        case.parse(case.module.fetch(query, _client()), source)
    assert isinstance(err.value, InputError | SourceError)
    assert any(name in str(err.value) for name in (source, path, url, case.label) if name)


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.name)
def test_file_connector_stages(case: FileCase, tmp_path: Path) -> None:
    target = case.file
    if case.name == "cboe_csv":  # the drop folder holds the file under its usual name
        target = tmp_path / "spx_quotedata.csv"
        target.write_bytes(case.file.read_bytes())
        query = case.build(tmp_path)
    else:
        query = case.build(target)
    assert isinstance(query, Path) and query.exists()
    raw = case.module.fetch(query)
    assert raw == query.read_bytes()
    result = case.parse(raw, str(query))
    assert _rows(result) > 0
    q = contract.quality_of(result)
    if case.name != "vixetp_universe":  # the curated universe is checked, not counted
        assert isinstance(q, Quality) and q.total_rows > 0


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.name)
def test_file_connector_missing_and_binary_files_name_the_file(
    case: FileCase, tmp_path: Path
) -> None:
    missing = tmp_path / "absent.csv"
    with pytest.raises(InputError, match="absent.csv: cannot read the file"):
        case.module.fetch(missing)
    with pytest.raises(InputError) as err:
        case.parse(
            gzip.compress(b"\x00\x01\x02" * 50)[:30]
            if case.name == "price_files"
            else b"\x00\x01binary\x00",
            "bad.bin",
        )
    assert "bad.bin" in str(err.value)


def test_aum_drop_stages(tmp_path: Path) -> None:
    # two drop files, one module: parse_aum / parse_adv; nothing dropped is None, not an error
    query = aum_drop.build_query(tmp_path, "letf_aum.csv")
    assert query == tmp_path / "letf_aum.csv" and aum_drop.fetch(query) is None
    query.write_bytes(b"ticker,aum_usd\nTQQQ,25000000000\nSQQQ,3000000000\n")
    table = aum_drop.parse_aum(aum_drop.fetch(query), str(query))
    assert contract.quality_of(table) is not None and len(table.frame) == 2
    with pytest.raises(InputError, match="letf_aum.csv"):
        aum_drop.parse_aum(b"ticker,aum_usd\nTQQQ,-5\n", str(query))
