"""Leveraged-ETF sources: universe import, CBOE quotes, ProShares NAV history, drop files."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.sources import aum_drop, cboe_quotes, letf_universe, proshares, sample_letf
from flows.sources.http import HttpClient
from tests.httpserver import Reply
from tests.realdata import full, root, trimmed

HEADER = "ticker,name,underlying_asset,underlying_ticker,leverage,direction,fund_type,aum,fund_family,asset_class,updated_at"


def _client() -> HttpClient:
    return HttpClient(timeout_s=5, retries=2, min_interval_s=0.0, sleep=lambda _s: None)


# -- universe import -----------------------------------------------------------------------


def test_universe_bad_rows_are_skipped_with_reasons() -> None:
    text = "\n".join(
        [
            "\ufeff" + HEADER,
            "TQQQ,ProShares UltraPro QQQ,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity,2026-06-01T00:00:00+00:00",
            "BADL,Direxion Daily Bad Bull 3X,Nasdaq-100,QQQ,three,long,Index,100,Direxion,equity,",
            "NOUN,Direxion Daily No Underlying Bull 2X,,,2x,long,Index,10,Direxion,equity,",
            "NODI,ProShares Ultra Something,S&P 500,SPX,2x,,Index,10,ProShares,equity,",
            "VARI,GraniteShares YieldBOOST QQQ ETF,Nasdaq-100,QQQ,variable,long,Index,10,GraniteShares,equity,",
            "SOXL,Direxion Daily Semiconductor Bull 3X,NYSE Semiconductor Index,,3x,long,Index,2000,Direxion,equity,",
            "SQQQ,ProShares UltraPro Short QQQ,Nasdaq-100,QQQ,3x,short,Index,,ProShares,equity,",
            "XAPR,FT Vest U.S. Equity Enhance & Moderate Buffer ETF - April,S&P 500,SPY,2x,,Index,40,FT Vest,equity,",
            "TQQQ,ProShares UltraPro QQQ,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity,2026-06-01T00:00:00+00:00",
        ]
    )
    parsed = letf_universe.parse(text.encode(), "test.csv")
    universe, skipped, quality = parsed
    assert universe["ticker"].tolist() == ["TQQQ", "VARI", "SOXL", "SQQQ", "XAPR"]
    row = universe.set_index("ticker")
    assert row.loc["TQQQ", "leverage"] == 3.0 and row.loc["SQQQ", "leverage"] == -3.0
    assert (
        math.isnan(row.loc["VARI", "leverage"]) and row.loc["VARI", "leverage_kind"] == "variable"
    )
    assert (
        row.loc["SOXL", "underlying"] == ""
        and row.loc["SOXL", "underlying_asset"] == "NYSE Semiconductor Index"
    )
    assert math.isnan(
        row.loc["SQQQ", "aum_usd"]
    )  # no assets, price or volume: the source has no data
    assert row.loc["TQQQ", "as_of"] == pd.Timestamp("2026-06-01", tz="UTC")
    # reset periods: curated table, name rules, family rules
    assert row.loc["TQQQ", "reset"] == "daily" and row.loc["TQQQ", "reset_source"] == "curated"
    assert row.loc["SOXL", "reset"] == "daily" and row.loc["SOXL", "reset_source"] == "name"
    assert row.loc["VARI", "reset"] == "options-based"
    # a buffer fund with a blank direction is kept (outside the daily figures anyway), defect named
    assert row.loc["XAPR", "reset"] == "options-based" and math.isnan(row.loc["XAPR", "leverage"])
    assert row.loc["XAPR", "defect"].startswith("direction")
    reasons = dict(zip(skipped["ticker"], skipped["reason"], strict=True))
    lines = dict(zip(skipped["ticker"], skipped["line"], strict=True))
    assert reasons["BADL"] == "leverage 'three' is not a positive number" and lines["BADL"] == 3
    assert reasons["NOUN"].startswith("unknown underlying")
    assert reasons["NODI"].startswith("direction")
    assert skipped["counted"].all()
    assert len(universe) + len(skipped) == 8  # 9 rows; the exact duplicate of TQQQ was dropped
    # quality: the skipped daily funds' assets over every readable asset figure
    assert quality.basis == "AUM" and quality.total_rows == 9 and quality.skipped_rows == 3
    assert quality.total_weight == pytest.approx(1000 + 100 + 10 + 10 + 10 + 2000 + 40)
    assert quality.skipped_share == pytest.approx((100 + 10 + 10) / 3170)
    assert quality.repairs == {"exact duplicate row dropped": 1}


def test_universe_conflicting_duplicate_names_the_ticker() -> None:
    text = (
        HEADER
        + "\nTQQQ,ProShares UltraPro QQQ,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity,\nTQQQ,ProShares UltraPro QQQ,Nasdaq-100,QQQ,3x,long,Index,1200,ProShares,equity,\n"
    )
    with pytest.raises(InputError) as err:
        letf_universe.parse(text.encode(), "dup.csv")
    assert (
        err.value.field == "ticker TQQQ"
        and "lines 2 and 3" in str(err.value)
        and "aum" in str(err.value)
    )


@pytest.mark.parametrize(
    ("cells", "field", "line"),
    [
        ("3x,long,Index,-5", "aum", 2),
        ("3x,long,Index,1e15", "aum", 2),
        ("30x,long,Index,1000", "leverage", 2),
    ],
)
def test_universe_plausibility_limits_are_errors(cells: str, field: str, line: int) -> None:
    text = HEADER + f"\nTQQQ,ProShares UltraPro QQQ,Nasdaq-100,QQQ,{cells},ProShares,equity,\n"
    with pytest.raises(InputError) as err:
        letf_universe.parse(text.encode(), "lim.csv")
    assert (
        err.value.source == "lim.csv"
        and err.value.field == field
        and f"(row line {line})" in str(err.value)
    )


@pytest.mark.parametrize(
    ("column", "value"), [("price", "0"), ("price", "-3.5"), ("avg_volume", "-1")]
)
def test_universe_price_and_volume_limits(column: str, value: str) -> None:
    header = HEADER + ",price,avg_volume"
    cells = {"price": "84.56", "avg_volume": "73486100"}
    cells[column] = value
    text = (
        header
        + f"\nTQQQ,ProShares UltraPro QQQ,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity,,{cells['price']},{cells['avg_volume']}\n"
    )
    with pytest.raises(InputError) as err:
        letf_universe.parse(text.encode(), "lim.csv")
    assert err.value.field == column and "(row line 2)" in str(err.value)


def test_universe_header_only_is_an_empty_universe(test_data) -> None:
    path = test_data / "letf" / "letf_header_only.csv"
    with pytest.raises(InputError, match="empty universe") as err:
        letf_universe.parse(path.read_bytes(), str(path))
    assert err.value.source == str(path)


def test_universe_without_a_usable_row_is_an_empty_universe() -> None:
    text = (
        HEADER
        + "\nTQQQ,ProShares UltraPro QQQ,Nasdaq-100,QQQ,-,long,Index,1000,ProShares,equity,\n"
    )
    with pytest.raises(InputError, match="empty universe: none of the 1 rows"):
        letf_universe.parse(text.encode(), "one.csv")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            HEADER + "\nTQQQ,ProShares,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity\n",
            "line 2, column 11",
        ),
        (
            HEADER
            + "\nA,a,b,c,2x,long,Index,1,X,equity,\nB,a,b,c,2x,long,Index,1,X,equity,,extra\n",
            "line 3, column 12",
        ),
        ("ticker,leverage,direction\nA,2x,long\n", "line 1, column 'underlying_asset'"),
        ("", "line 1"),
        ("foo,bar\n1,2\n", "line 1"),
    ],
)
def test_malformed_universe_refused_with_file_line_column(text: str, where: str) -> None:
    with pytest.raises(InputError) as err:
        letf_universe.parse(text.encode(), "drop/universe.csv")
    assert err.value.source == "drop/universe.csv"
    assert err.value.field == where
    assert str(err.value).startswith(f"drop/universe.csv: {where}")


def test_decoding_rule_utf8_bom_then_cp1252_then_latin1() -> None:
    row = (
        "\nTQQQ,ProShares UltraPro QQQ \u2122,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity,\n"
    )
    utf8 = letf_universe.parse((HEADER + row).encode("utf-8"), "u.csv")
    assert utf8.quality.repairs == {} and utf8.funds.loc[0, "name"].endswith("\u2122")
    bom = letf_universe.parse(b"\xef\xbb\xbf" + (HEADER + row).encode("utf-8"), "u.csv")
    assert bom.quality.repairs == {} and bom.funds.loc[0, "ticker"] == "TQQQ"
    cp = letf_universe.parse((HEADER + row).encode("cp1252"), "u.csv")  # 0x99 = TM in cp1252
    assert cp.quality.repairs == {"decoded as cp1252 (not UTF-8)": 1} and cp.funds.loc[
        0, "name"
    ].endswith("\u2122")
    latin = letf_universe.parse(
        HEADER.encode()
        + b"\nTQQQ,ProShares \x81,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity,\n",
        "u.csv",
    )
    assert (
        latin.quality.repairs == {"decoded as latin-1 (not UTF-8)": 1}
        and latin.funds.loc[0, "aum_usd"] == 1000.0
    )
    # the one rule (flows.sources.textio): UTF-16 with its byte-order mark is decoded, without is refused
    u16 = letf_universe.parse((HEADER + row).encode("utf-16"), "u16.csv")
    assert u16.quality.repairs == {"decoded as UTF-16 (byte-order mark)": 1} and u16.funds.loc[
        0, "name"
    ].endswith("\u2122")
    with pytest.raises(InputError, match="NUL"):
        letf_universe.parse((HEADER + row).encode("utf-16-le"), "u16.csv")


def test_shipped_curated_universe() -> None:
    universe, skipped, quality = letf_universe.read()
    assert skipped.empty and quality.skipped_rows == 0
    # every shipped fund is daily-reset but the YieldBoost one
    assert set(universe.loc[universe["reset"].ne("daily"), "ticker"]) == {"TSYY"}
    row = universe.set_index("ticker")
    for t in (
        "NVDL",
        "NVDU",
        "NVDX",
        "NVDD",
        "NVDQ",
        "TSLL",
        "TSLQ",
        "TSLZ",
        "MSTX",
        "MSTU",
        "CONL",
        "AMDL",
        "TQQQ",
        "SQQQ",
        "SOXL",
    ):
        assert t in row.index
    assert row.loc["NVDD", "leverage"] == -1.0 and row.loc["SQQQ", "leverage"] == -3.0
    assert set(row["fund_type"]) >= {"Index", "Sector", "Single Stock"}
    # assets in the shipped table are SAMPLE values, kept apart from aum_usd
    assert universe["aum_usd"].isna().all() and (universe["sample_aum_usd"] > 0).all()


def test_curated_layout_with_live_assets_column() -> None:
    text = "ticker,name,underlying,leverage,issuer,fund_type,asset_class,aum_usd\nNVDL,x,NVDA,2,GraniteShares,Single Stock,equity,4500000000\nBAD,x,NVDA,2x?,ProShares,Single Stock,equity,1\n"
    universe, skipped, _q = letf_universe.parse(text.encode(), "c.csv")
    assert universe.loc[0, "aum_usd"] == 4.5e9 and universe.loc[0, "leverage"] == 2.0
    assert skipped.loc[0, "ticker"] == "BAD" and "not a positive number" in skipped.loc[0, "reason"]


# -- CBOE quotes -----------------------------------------------------------------------------


def _mstr_quote(test_data) -> dict:
    payload = json.loads(
        (test_data / "options" / "options_MSTR_2026-07-10_trimmed.json").read_text()
    )
    payload["data"].pop("options")
    return payload


def test_quote_query_symbols() -> None:
    assert cboe_quotes.build_query("spx").url.endswith("/quotes/_SPX.json")
    assert cboe_quotes.build_query("NVDA").url.endswith("/quotes/NVDA.json")
    assert cboe_quotes.build_query("_NDX").symbol == "NDX"
    with pytest.raises(InputError):
        cboe_quotes.build_query(" ")


def test_quote_parse_real_mstr_block(test_data) -> None:
    frame = cboe_quotes.parse(_mstr_quote(test_data), "mstr")
    row = frame.iloc[0]
    assert list(frame.columns) == cboe_quotes.QUOTE_COLUMNS
    assert row["symbol"] == "MSTR" and row["price"] == 94.6604 and row["prev_close"] == 93.89
    assert row["return_since_prev_close"] == pytest.approx(94.6604 / 93.89 - 1)
    assert row["volume_shares"] == 16101473
    # 15:59:59 New York (EDT, UTC-4) = 19:59:59 UTC
    assert row["price_time"] == pd.Timestamp("2026-07-10 19:59:59", tz="UTC")


def test_quote_connector_over_http(test_data, http_server) -> None:
    body = json.dumps(_mstr_quote(test_data))
    http_server.route(
        "/quotes/MSTR.json",
        [
            Reply(429, headers={"Retry-After": "0"}),
            Reply(200, body, {"Content-Type": "application/json"}),
        ],
    )
    http_server.route("/quotes/_SPX.json", [Reply(500)])
    http_server.route("/quotes/BAD.json", [Reply(200, "{not json")])
    http_server.route(
        "/quotes/EMPTY.json",
        [
            Reply(
                200,
                json.dumps(
                    {
                        "timestamp": "2026-07-10 21:12:30",
                        "data": {"symbol": "EMPTY", "current_price": 5.0},
                    }
                ),
            )
        ],
    )
    template = http_server.url + "/quotes/{symbol}.json"
    client = _client()
    query = cboe_quotes.build_query("MSTR", url_template=template)
    frame = cboe_quotes.parse(cboe_quotes.fetch(query, client), "mstr")
    assert frame.loc[0, "price"] == 94.6604
    assert len(http_server.requests_to("/quotes/MSTR.json")) == 2  # 429 retried
    assert "flowdesk" in http_server.requests_to("/quotes/MSTR.json")[0].headers["user-agent"]
    with pytest.raises(SourceError) as err:
        cboe_quotes.fetch(cboe_quotes.build_query("SPX", url_template=template), client)
    assert err.value.status == 500 and "SPX" in str(err.value)
    with pytest.raises(SourceError) as err:
        cboe_quotes.fetch(cboe_quotes.build_query("NOPE", url_template=template), client)
    assert err.value.status == 404
    with pytest.raises(SourceError, match="malformed JSON"):
        cboe_quotes.fetch(cboe_quotes.build_query("BAD", url_template=template), client)
    with pytest.raises(InputError) as ierr:
        cboe_quotes.parse(
            cboe_quotes.fetch(cboe_quotes.build_query("EMPTY", url_template=template), client),
            "quote:EMPTY",
        )
    assert ierr.value.field == "prev_day_close"
    # several symbols: the good one comes back, the rest are reported
    frame, failures = cboe_quotes.quotes(
        ["MSTR", "SPX", "NOPE", "BAD", "EMPTY"], client, url_template=template
    )
    assert frame["symbol"].tolist() == ["MSTR"]
    assert set(failures) == {"SPX", "NOPE", "BAD", "EMPTY"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timestamp": "x"}, "data"),
        ({"data": {"symbol": "X", "current_price": 1.0, "prev_day_close": 0}}, "prev_day_close"),
        ({"data": {"symbol": "X", "current_price": "abc", "prev_day_close": 2}}, "current_price"),
        (
            {
                "data": {
                    "symbol": "X",
                    "current_price": 1.0,
                    "prev_day_close": 2,
                    "last_trade_time": "not a time",
                }
            },
            "last_trade_time",
        ),
    ],
)
def test_quote_parse_bad_bodies(payload: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        cboe_quotes.parse(payload, "quote:X")
    assert err.value.field == field and err.value.source == "quote:X"


# -- ProShares NAV history -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "name", "ticker", "rows", "first"),
    [
        trimmed(
            "letf/proshares_SSO-historical_nav_trimmed.csv",
            "SSO",
            150,
            "2024-10-04",
            id="trimmed-SSO",
        ),
        trimmed(
            "letf/proshares_UPRO-historical_nav_trimmed.csv",
            "UPRO",
            150,
            "2024-10-04",
            id="trimmed-UPRO",
        ),
        full(
            "responses/letf/proshares_SSO-historical_nav_through_2025-05-12.csv",
            "SSO",
            4755,
            "2006-06-19",
            id="full-SSO",
        ),
        full(
            "responses/letf/proshares_UPRO-historical_nav_through_2025-05-12.csv",
            "UPRO",
            3997,
            "2009-06-23",
            id="full-UPRO",
        ),
    ],
)
def test_proshares_real_files(
    where: str, name: str, ticker: str, rows: int, first: str, request: pytest.FixtureRequest
) -> None:
    path = root(request, where) / name
    hist, quality = proshares.parse(path.read_bytes(), str(path))
    assert quality.skipped_rows == 0 and quality.warnings == [] and quality.basis == "AUM"
    assert len(hist) == rows
    assert hist["date"].iloc[0] == pd.Timestamp(first) and hist["date"].iloc[-1] == pd.Timestamp(
        "2025-05-12"
    )
    assert hist["date"].is_monotonic_increasing and (hist["ticker"] == ticker).all()
    # NAV x shares (file value x 1000) = AUM on the latest rows
    tail = hist.tail(20)
    np.testing.assert_allclose(tail["nav"] * tail["shares_outstanding"], tail["aum_usd"], rtol=1e-6)
    # net creations: ΔSO x NAV, by hand on the last rows
    for i in range(len(hist) - 5, len(hist)):
        expected = (
            hist["shares_outstanding"].iloc[i] - hist["shares_outstanding"].iloc[i - 1]
        ) * hist["nav"].iloc[i]
        assert hist["net_creations_usd"].iloc[i] == pytest.approx(expected)
    assert math.isnan(hist["net_creations_usd"].iloc[0])


@pytest.mark.parametrize(
    ("where", "name"),
    [
        trimmed("letf/proshares_SSO-historical_nav_trimmed.csv", id="trimmed"),
        full("responses/letf/proshares_SSO-historical_nav_through_2025-05-12.csv", id="full"),
    ],
)
def test_proshares_sso_latest_row_values(
    where: str, name: str, request: pytest.FixtureRequest
) -> None:
    path = root(request, where) / name
    last = proshares.latest(proshares.parse(path.read_bytes(), str(path)))  # NavHistory accepted
    assert last["nav"] == 87.462 and last["shares_outstanding"] == 62_950_000
    assert last["aum_usd"] == pytest.approx(5_505_732_900)


def test_proshares_connector_over_http(test_data, http_server) -> None:
    raw = (test_data / "letf" / "proshares_UPRO-historical_nav_trimmed.csv").read_bytes()
    http_server.route(
        "/etfdata/ByFund/UPRO-historical_nav.csv",
        [Reply(503), Reply(200, raw, {"Content-Type": "text/csv"})],
    )
    http_server.route(
        "/etfdata/ByFund/BAD-historical_nav.csv", [Reply(200, b"Date,NAV\n05/12/2025,1\n")]
    )
    template = http_server.url + "/etfdata/ByFund/{ticker}-historical_nav.csv"
    client = _client()
    query = proshares.build_query("upro", url_template=template)
    hist = proshares.parse(proshares.fetch(query, client), query.url).history
    assert len(hist) == 150 and hist["aum_usd"].iloc[-1] == 3_773_430_950
    assert len(http_server.requests_to("/etfdata/ByFund/UPRO-historical_nav.csv")) == 2
    with pytest.raises(SourceError) as err:
        proshares.fetch(proshares.build_query("NONE", url_template=template), client)
    assert err.value.status == 404
    bad = proshares.build_query("BAD", url_template=template)
    with pytest.raises(InputError) as ierr:
        proshares.parse(proshares.fetch(bad, client), bad.url)
    assert ierr.value.field == "line 1, column 'Ticker'"


NAV_HEADER = b"Date,ProShares Name,Ticker,NAV,Prior NAV,NAV Change (%),NAV Change ($),Shares Outstanding (000),Assets Under Management\n"


def test_proshares_bad_row_is_skipped_with_its_line_and_a_warning() -> None:
    raw = (
        NAV_HEADER
        + b"05/12/2025,X,SSO,87.462,1,1,1,62950,5505732900\n13/45/2025,X,SSO,82.1032,1,1,1,62950,5168396440\n05/08/2025,X,SSO,82.2466,1,1,1,62950,5177423470"
    )
    hist, quality = proshares.parse(raw, "x.csv")
    assert hist["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-05-08", "2025-05-12"]
    assert quality.reasons == {"date not readable (MM/DD/YYYY)": 1} and quality.total_rows == 3
    assert quality.skipped_share == pytest.approx(
        5168396440 / (5505732900 + 5168396440 + 5177423470)
    )
    # the damaged row sits between the two newest dates: the latest net creations span two days
    assert len(quality.warnings) == 1 and "line 3" in quality.warnings[0]


def test_proshares_inconsistent_row_is_skipped() -> None:
    # assets x10 on the newest row: NAV x shares no longer match -> skipped, older row used, warned
    raw = (
        NAV_HEADER
        + b"05/12/2025,X,SSO,87.462,1,1,1,62950,55057329000\n05/09/2025,X,SSO,82.1032,1,1,1,62950,5168396440\n"
    )
    nav = proshares.parse(raw, "x.csv")
    assert nav.quality.reasons == {"NAV x shares does not match the assets": 1}
    assert (
        proshares.latest(nav)["aum_usd"] == 5168396440
        and "latest usable date 2025-05-09" in nav.quality.warnings[0]
    )


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        (
            b"05/12/2025,X,SSO,87.462,1,1,1,62950,5505732900\n05/12/2025,X,SSO,87.462,1,1,1,62950,5505732901\n",
            "date 05/12/2025",
        ),
        (
            b"05/12/2025,X,SSO,87.462,1,1,1,62950,5505732900\n05/09/2025,X,UPRO,82.1032,1,1,1,62950,5168396440\n",
            "column 'Ticker'",
        ),
        (b"05/12/2025,X,SSO,-87.462,1,1,1,62950,5505732900\n", "NAV"),
        (b"05/12/2025,X,SSO,87.462,1,1,1,62950,-5505732900\n", "Assets Under Management"),
        (b"05/12/2025,X,SSO,-,1,1,1,62950,5505732900\n", None),
    ],
)
def test_proshares_refusals(rows: bytes, field: str | None) -> None:
    with pytest.raises(InputError) as err:
        proshares.parse(NAV_HEADER + rows, "x.csv")
    assert err.value.field == field and err.value.source == "x.csv"


def test_proshares_exact_duplicate_and_cut_last_row() -> None:
    raw = (
        NAV_HEADER
        + b"05/12/2025,X,SSO,87.462,1,1,1,62950,5505732900\n05/12/2025,X,SSO,87.462,1,1,1,62950,5505732900\n05/09/2025,X,SSO,82.1032,1,1,1,62950,5168396440\n05/08/2025,X,SSO,82.24"
    )
    hist, quality = proshares.parse(raw, "x.csv")
    assert len(hist) == 2 and quality.repairs == {"exact duplicate row dropped": 1}
    assert quality.reasons == {"last row cut off": 1} and "cut off" in quality.warnings[0]


# -- drop files and sample data ---------------------------------------------------------------


def test_aum_drop_file(tmp_path) -> None:
    query = aum_drop.build_query(tmp_path, "letf_aum.csv")
    assert aum_drop.fetch(query) is None  # nothing dropped: optional
    query.write_text(
        "ticker,aum_usd,shares_outstanding\nnvdl,4600000000,61000000\nTSLL,abc,\nTQQQ,1000,\n"
    )
    frame, skipped, quality = aum_drop.parse_aum(aum_drop.fetch(query), str(query))
    assert frame["ticker"].tolist() == ["NVDL", "TQQQ"]
    assert frame.loc[0, "aum_usd"] == 4.6e9 and frame.loc[0, "shares_outstanding"] == 61e6
    assert math.isnan(frame.loc[1, "shares_outstanding"])
    assert skipped["ticker"].tolist() == ["TSLL"] and skipped["line"].tolist() == [3]
    # TSLL's assets cannot be read: the conservative row share (1 of 3 rows)
    assert (
        quality.basis == "AUM"
        and quality.skipped_rows == 1
        and quality.skipped_share == pytest.approx(1 / 3)
    )
    assert quality.examples == {"not a number": ["TSLL line 3"]}  # a refusal names the fund
    query.write_text("ticker,aum\nA,1\n")
    with pytest.raises(InputError) as err:
        aum_drop.parse_aum(aum_drop.fetch(query), str(query))
    assert err.value.field == "line 1, column 'aum_usd'"


@pytest.mark.parametrize(
    ("body", "field", "match"),
    [
        ("ticker,aum_usd\nSOXL,-1\n", "aum_usd", "row line 2"),
        ("ticker,aum_usd\nSOXL,1e15\n", "aum_usd", "row line 2"),
        ("ticker,aum_usd\nSOXL,100\nsoxl,200\n", "ticker SOXL", "different values"),
        ("ticker,aum_usd\n", "line 2", "header only"),
    ],
)
def test_aum_drop_refusals(tmp_path, body: str, field: str, match: str) -> None:
    path = tmp_path / "letf_aum.csv"
    path.write_text(body)
    with pytest.raises(InputError, match=match) as err:
        aum_drop.parse_aum(path.read_bytes(), str(path))
    assert err.value.field == field


def test_aum_drop_exact_duplicate_is_a_repair(tmp_path) -> None:
    path = tmp_path / "letf_aum.csv"
    path.write_text("ticker,aum_usd\nSOXL,100\nSOXL,100\n")
    drop = aum_drop.parse_aum(path.read_bytes(), str(path))
    assert drop.frame["ticker"].tolist() == ["SOXL"] and drop.quality.repairs == {
        "exact duplicate row dropped": 1
    }


def test_adv_drop_file(tmp_path) -> None:
    query = aum_drop.build_query(tmp_path, "letf_adv.csv")
    query.write_text(
        "underlying,adv_usd,auction_usd\nQQQ,25000000000,2500000000\nNVDA,30000000000\n"
    )
    with pytest.raises(InputError) as err:
        aum_drop.parse_adv(aum_drop.fetch(query), str(query))
    assert err.value.field == "line 3, column 3"
    query.write_text("underlying,adv_usd\nQQQ,25000000000\n")
    frame, skipped, quality = aum_drop.parse_adv(aum_drop.fetch(query), str(query))
    assert (
        frame.loc[0, "adv_usd"] == 25e9
        and math.isnan(frame.loc[0, "auction_usd"])
        and skipped.empty
    )
    assert quality.basis == "ADV" and quality.skipped_rows == 0
    query.write_text("underlying,adv_usd\nQQQ,-5\n")
    with pytest.raises(InputError, match="line 2"):
        aum_drop.parse_adv(aum_drop.fetch(query), str(query))


def test_sample_generators_deterministic() -> None:
    universe = letf_universe.read().funds
    a1 = sample_letf.sample_assets(universe, 1, day="2026-01-05")
    a2 = sample_letf.sample_assets(universe, 1, day="2026-01-05")
    assert a1.equals(a2) and (a1 > 0).all()
    assert not a1.equals(sample_letf.sample_assets(universe, 2, day="2026-01-05"))
    m = sample_letf.sample_moves(["QQQ", "NVDA"], 1, phase="intraday")
    assert m.equals(sample_letf.sample_moves(["QQQ", "NVDA"], 1, phase="intraday"))
    assert sample_letf.sample_moves(
        ["QQQ", "NVDA"], 1, phase="preopen"
    ).to_numpy() == pytest.approx(m.to_numpy() * 0.5, abs=2e-3)
    adv = sample_letf.sample_adv(["QQQ", "NVDA"], 1)
    assert (adv["auction_usd"] == adv["adv_usd"] * 0.1).all()


def test_a_refused_universe_names_the_fund(tmp_path, test_data) -> None:
    """The field's complaint: a daily fund without readable assets, one of six, was refused as
    "16.67 % of AUM skipped" without naming it.  The share is said to be counted by rows, and
    the fund is named with its line."""
    import csv

    from flows.quality import QualityError, enforce

    src = test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"
    rows = list(csv.reader(src.open(encoding="utf-8-sig")))
    header, body = rows[0], rows[1:]
    under, ticker = header.index("underlying_ticker"), header.index("ticker")
    six = [r for r in body if r[under] in ("QQQ", "SPY")][:6]
    assert [r[ticker] for r in six][0] == "TQQQ"
    six[0][header.index("aum")] = "NaN"
    path = tmp_path / "universe_nan_aum.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *six])
    _, _, quality = letf_universe.parse(path.read_bytes(), str(path))
    # the fund, its line and the cell as it reads (the newcomer: "1 assets not readable" named
    # neither the cell nor, before that, the fund)
    assert quality.examples == {"assets not readable": ["TQQQ line 2 reads 'NaN'"]}
    with pytest.raises(QualityError) as err:
        enforce(quality, 0.01)
    assert str(err.value) == (
        f"{path}: refused: 16.67 % of rows skipped (limit 1.00 %): 1 of 6 rows skipped "
        "(counted by rows: 1 without a readable AUM): "
        "assets not readable (1 row: TQQQ line 2 reads 'NaN')"
    )


def test_one_unreadable_asset_cell_in_a_whole_snapshot_is_named_in_the_refusal(
    test_data, tmp_path
) -> None:
    """The real slice (87 funds) with two daily funds' direction blanked (skipped, weighed) and
    the smallest daily fund's assets 'NaN': that one row makes the share count rows, so the
    refusal names it first; it listed the most frequent reasons and never the cell."""
    import csv

    from flows.quality import QualityError, enforce

    src = test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"
    rows = list(csv.reader(src.open(encoding="utf-8-sig")))
    header, body = rows[0], rows[1:]
    aum, ticker, direction = (header.index(c) for c in ("aum", "ticker", "direction"))
    funds = letf_universe.parse(src.read_bytes(), str(src)).funds
    daily = [r for r in body if r[ticker] in set(funds.loc[funds["reset"] == "daily", "ticker"])]
    by_size = sorted((r for r in daily if r[aum] not in ("", "0")), key=lambda r: float(r[aum]))
    small, blanked = by_size[0], by_size[1:3]
    small[aum] = "NaN"
    for r in blanked:
        r[direction] = ""
    path = tmp_path / "universe.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *body])
    quality = letf_universe.parse(path.read_bytes(), str(path)).quality
    assert quality.skipped_rows == 3 and quality.counted_by_rows
    assert quality.reasons == {"direction not long/short": 2, "assets not readable": 1}
    with pytest.raises(QualityError) as err:
        enforce(quality, 0.01)
    line = body.index(small) + 2
    named = f"assets not readable (1 row: {small[ticker]} line {line} reads 'NaN')"
    assert f"without a readable AUM): {named}, direction not long/short (2 rows" in str(err.value)
