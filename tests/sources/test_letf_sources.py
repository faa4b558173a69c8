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

HEADER = "ticker,name,underlying_asset,underlying_ticker,leverage,direction,fund_type,aum,fund_family,asset_class,updated_at"


def _client() -> HttpClient:
    return HttpClient(timeout_s=5, retries=2, min_interval_s=0.0, sleep=lambda _s: None)


# -- universe import -----------------------------------------------------------------------


def test_universe_bad_rows_are_skipped_with_reasons() -> None:
    text = "\n".join(
        [
            "\ufeff" + HEADER,
            "TQQQ,ProShares UltraPro QQQ,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity,2026-06-01T00:00:00+00:00",
            "BADL,Bad leverage,Nasdaq-100,QQQ,three,long,Index,1000,X,equity,",
            "NEGA,Negative assets,Nasdaq-100,QQQ,2x,long,Index,-5,X,equity,",
            "NOUN,No underlying,,,2x,long,Index,10,X,equity,",
            "NODI,No direction,S&P 500,SPX,2x,,Index,10,X,equity,",
            "VARI,GraniteShares YieldBOOST QQQ ETF,Nasdaq-100,QQQ,variable,long,Index,10,X,equity,",
            "SOXL,Direxion Daily Semiconductor Bull 3X,NYSE Semiconductor Index,,3x,long,Index,2000,Direxion,equity,",
            "TQQQ,duplicate,Nasdaq-100,QQQ,3x,long,Index,1,ProShares,equity,",
            "SQQQ,ProShares UltraPro Short QQQ,Nasdaq-100,QQQ,3x,short,Index,,ProShares,equity,",
        ]
    )
    universe, skipped = letf_universe.parse(text.encode(), "test.csv")
    assert universe["ticker"].tolist() == ["TQQQ", "VARI", "SOXL", "SQQQ"]
    row = universe.set_index("ticker")
    assert row.loc["TQQQ", "leverage"] == 3.0 and row.loc["SQQQ", "leverage"] == -3.0
    assert math.isnan(row.loc["VARI", "leverage"]) and row.loc["VARI", "leverage_kind"] == "variable"
    assert row.loc["SOXL", "underlying"] == "" and row.loc["SOXL", "underlying_asset"] == "NYSE Semiconductor Index"
    assert math.isnan(row.loc["SQQQ", "aum_usd"])
    assert row.loc["TQQQ", "as_of"] == pd.Timestamp("2026-06-01", tz="UTC")
    reasons = dict(zip(skipped["ticker"], skipped["reason"], strict=True))
    lines = dict(zip(skipped["ticker"], skipped["line"], strict=True))
    assert reasons["BADL"] == "leverage 'three' is not a number" and lines["BADL"] == 3
    assert reasons["NEGA"].startswith("negative assets") and lines["NEGA"] == 4
    assert reasons["NOUN"].startswith("unknown underlying")
    assert reasons["NODI"].startswith("direction")
    assert reasons["TQQQ"] == "duplicate ticker (first listed on line 2)" and lines["TQQQ"] == 9
    assert len(universe) + len(skipped) == 9


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (HEADER + "\nTQQQ,ProShares,Nasdaq-100,QQQ,3x,long,Index,1000,ProShares,equity\n", "line 2, column 11"),
        (HEADER + "\nA,a,b,c,2x,long,Index,1,X,equity,\nB,a,b,c,2x,long,Index,1,X,equity,,extra\n", "line 3, column 12"),
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


def test_not_utf8_refused() -> None:
    with pytest.raises(InputError, match="not UTF-8"):
        letf_universe.parse(HEADER.encode() + b"\n\xff\xfe,x\n", "bin.csv")


def test_shipped_curated_universe() -> None:
    universe, skipped = letf_universe.read()
    assert skipped.empty
    row = universe.set_index("ticker")
    for t in ("NVDL", "NVDU", "NVDX", "NVDD", "NVDQ", "TSLL", "TSLQ", "TSLZ", "MSTX", "MSTU", "CONL", "AMDL", "TQQQ", "SQQQ", "SOXL"):
        assert t in row.index
    assert row.loc["NVDD", "leverage"] == -1.0 and row.loc["SQQQ", "leverage"] == -3.0
    assert set(row["fund_type"]) >= {"Index", "Sector", "Single Stock"}
    # assets in the shipped table are SAMPLE values, kept apart from aum_usd
    assert universe["aum_usd"].isna().all() and (universe["sample_aum_usd"] > 0).all()


def test_curated_layout_with_live_assets_column() -> None:
    text = "ticker,name,underlying,leverage,issuer,fund_type,asset_class,aum_usd\nNVDL,x,NVDA,2,GraniteShares,Single Stock,equity,4500000000\nBAD,x,NVDA,2x?,X,Single Stock,equity,1\n"
    universe, skipped = letf_universe.parse(text.encode(), "c.csv")
    assert universe.loc[0, "aum_usd"] == 4.5e9 and universe.loc[0, "leverage"] == 2.0
    assert skipped.loc[0, "ticker"] == "BAD" and "not a number" in skipped.loc[0, "reason"]


# -- CBOE quotes -----------------------------------------------------------------------------


def _mstr_quote(shared_data) -> dict:
    payload = json.loads((shared_data / "responses" / "cboe" / "options_MSTR_2026-07-10_trimmed.json").read_text())
    payload["data"].pop("options")
    return payload


def test_quote_query_symbols() -> None:
    assert cboe_quotes.build_query("spx").url.endswith("/quotes/_SPX.json")
    assert cboe_quotes.build_query("NVDA").url.endswith("/quotes/NVDA.json")
    assert cboe_quotes.build_query("_NDX").symbol == "NDX"
    with pytest.raises(InputError):
        cboe_quotes.build_query(" ")


def test_quote_parse_real_mstr_block(shared_data) -> None:
    frame = cboe_quotes.parse(_mstr_quote(shared_data), "mstr")
    row = frame.iloc[0]
    assert list(frame.columns) == cboe_quotes.QUOTE_COLUMNS
    assert row["symbol"] == "MSTR" and row["price"] == 94.6604 and row["prev_close"] == 93.89
    assert row["return_since_prev_close"] == pytest.approx(94.6604 / 93.89 - 1)
    assert row["volume_shares"] == 16101473
    # 15:59:59 New York (EDT, UTC-4) = 19:59:59 UTC
    assert row["price_time"] == pd.Timestamp("2026-07-10 19:59:59", tz="UTC")


def test_quote_connector_over_http(shared_data, http_server) -> None:
    body = json.dumps(_mstr_quote(shared_data))
    http_server.route("/quotes/MSTR.json", [Reply(429, headers={"Retry-After": "0"}), Reply(200, body, {"Content-Type": "application/json"})])
    http_server.route("/quotes/_SPX.json", [Reply(500)])
    http_server.route("/quotes/BAD.json", [Reply(200, "{not json")])
    http_server.route("/quotes/EMPTY.json", [Reply(200, json.dumps({"timestamp": "2026-07-10 21:12:30", "data": {"symbol": "EMPTY", "current_price": 5.0}}))])
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
        cboe_quotes.parse(cboe_quotes.fetch(cboe_quotes.build_query("EMPTY", url_template=template), client), "quote:EMPTY")
    assert ierr.value.field == "prev_day_close"
    # several symbols: the good one comes back, the rest are reported
    frame, failures = cboe_quotes.quotes(["MSTR", "SPX", "NOPE", "BAD", "EMPTY"], client, url_template=template)
    assert frame["symbol"].tolist() == ["MSTR"]
    assert set(failures) == {"SPX", "NOPE", "BAD", "EMPTY"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timestamp": "x"}, "data"),
        ({"data": {"symbol": "X", "current_price": 1.0, "prev_day_close": 0}}, "prev_day_close"),
        ({"data": {"symbol": "X", "current_price": "abc", "prev_day_close": 2}}, "current_price"),
        ({"data": {"symbol": "X", "current_price": 1.0, "prev_day_close": 2, "last_trade_time": "not a time"}}, "last_trade_time"),
    ],
)
def test_quote_parse_bad_bodies(payload: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        cboe_quotes.parse(payload, "quote:X")
    assert err.value.field == field and err.value.source == "quote:X"


# -- ProShares NAV history -------------------------------------------------------------------


@pytest.mark.parametrize(("ticker", "rows", "first"), [("SSO", 4755, "2006-06-19"), ("UPRO", 3997, "2009-06-23")])
def test_proshares_real_files(shared_data, ticker: str, rows: int, first: str) -> None:
    path = shared_data / "responses" / "letf" / f"proshares_{ticker}-historical_nav_through_2025-05-12.csv"
    hist = proshares.parse(path.read_bytes(), str(path))
    assert len(hist) == rows
    assert hist["date"].iloc[0] == pd.Timestamp(first) and hist["date"].iloc[-1] == pd.Timestamp("2025-05-12")
    assert hist["date"].is_monotonic_increasing and (hist["ticker"] == ticker).all()
    # NAV x shares (file value x 1000) = AUM on the latest rows
    tail = hist.tail(20)
    np.testing.assert_allclose(tail["nav"] * tail["shares_outstanding"], tail["aum_usd"], rtol=1e-6)
    # net creations: ΔSO x NAV, by hand on the last rows
    for i in range(len(hist) - 5, len(hist)):
        expected = (hist["shares_outstanding"].iloc[i] - hist["shares_outstanding"].iloc[i - 1]) * hist["nav"].iloc[i]
        assert hist["net_creations_usd"].iloc[i] == pytest.approx(expected)
    assert math.isnan(hist["net_creations_usd"].iloc[0])


def test_proshares_sso_latest_row_values(shared_data) -> None:
    path = shared_data / "responses" / "letf" / "proshares_SSO-historical_nav_through_2025-05-12.csv"
    last = proshares.latest(proshares.parse(path.read_bytes(), str(path)))
    assert last["nav"] == 87.462 and last["shares_outstanding"] == 62_950_000
    assert last["aum_usd"] == pytest.approx(5_505_732_900)


def test_proshares_connector_over_http(shared_data, http_server) -> None:
    raw = (shared_data / "responses" / "letf" / "proshares_UPRO-historical_nav_through_2025-05-12.csv").read_bytes()
    http_server.route("/etfdata/ByFund/UPRO-historical_nav.csv", [Reply(503), Reply(200, raw, {"Content-Type": "text/csv"})])
    http_server.route("/etfdata/ByFund/BAD-historical_nav.csv", [Reply(200, b"Date,NAV\n05/12/2025,1\n")])
    template = http_server.url + "/etfdata/ByFund/{ticker}-historical_nav.csv"
    client = _client()
    query = proshares.build_query("upro", url_template=template)
    hist = proshares.parse(proshares.fetch(query, client), query.url)
    assert len(hist) == 3997 and hist["aum_usd"].iloc[-1] == 3_773_430_950
    assert len(http_server.requests_to("/etfdata/ByFund/UPRO-historical_nav.csv")) == 2
    with pytest.raises(SourceError) as err:
        proshares.fetch(proshares.build_query("NONE", url_template=template), client)
    assert err.value.status == 404
    bad = proshares.build_query("BAD", url_template=template)
    with pytest.raises(InputError) as ierr:
        proshares.parse(proshares.fetch(bad, client), bad.url)
    assert ierr.value.field == "line 1, column 'Ticker'"


def test_proshares_bad_value_names_line_and_column() -> None:
    raw = b"Date,ProShares Name,Ticker,NAV,Prior NAV,NAV Change (%),NAV Change ($),Shares Outstanding (000),Assets Under Management\n05/12/2025,X,SSO,87.4,1,1,1,62950,5505732900\n13/45/2025,X,SSO,87.4,1,1,1,62950,5505732900"
    with pytest.raises(InputError) as err:
        proshares.parse(raw, "x.csv")
    assert err.value.field == "line 3, column 'Date'"


# -- drop files and sample data ---------------------------------------------------------------


def test_aum_drop_file(tmp_path) -> None:
    query = aum_drop.build_query(tmp_path, "letf_aum.csv")
    assert aum_drop.fetch(query) is None  # nothing dropped: optional
    query.write_text("ticker,aum_usd,shares_outstanding\nnvdl,4600000000,61000000\nTSLL,abc,\nSOXL,-1,\nTQQQ,1000,\n")
    frame, skipped = aum_drop.parse_aum(aum_drop.fetch(query), str(query))
    assert frame["ticker"].tolist() == ["NVDL", "TQQQ"]
    assert frame.loc[0, "aum_usd"] == 4.6e9 and frame.loc[0, "shares_outstanding"] == 61e6
    assert math.isnan(frame.loc[1, "shares_outstanding"])
    assert skipped["ticker"].tolist() == ["TSLL", "SOXL"] and skipped["line"].tolist() == [3, 4]
    query.write_text("ticker,aum\nA,1\n")
    with pytest.raises(InputError) as err:
        aum_drop.parse_aum(aum_drop.fetch(query), str(query))
    assert err.value.field == "line 1, column 'aum_usd'"


def test_adv_drop_file(tmp_path) -> None:
    query = aum_drop.build_query(tmp_path, "letf_adv.csv")
    query.write_text("underlying,adv_usd,auction_usd\nQQQ,25000000000,2500000000\nNVDA,30000000000\n")
    with pytest.raises(InputError) as err:
        aum_drop.parse_adv(aum_drop.fetch(query), str(query))
    assert err.value.field == "line 3, column 3"
    query.write_text("underlying,adv_usd\nQQQ,25000000000\n")
    frame, skipped = aum_drop.parse_adv(aum_drop.fetch(query), str(query))
    assert frame.loc[0, "adv_usd"] == 25e9 and math.isnan(frame.loc[0, "auction_usd"]) and skipped.empty


def test_sample_generators_deterministic() -> None:
    universe, _ = letf_universe.read()
    a1 = sample_letf.sample_assets(universe, 1, day="2026-01-05")
    a2 = sample_letf.sample_assets(universe, 1, day="2026-01-05")
    assert a1.equals(a2) and (a1 > 0).all()
    assert not a1.equals(sample_letf.sample_assets(universe, 2, day="2026-01-05"))
    m = sample_letf.sample_moves(["QQQ", "NVDA"], 1, phase="intraday")
    assert m.equals(sample_letf.sample_moves(["QQQ", "NVDA"], 1, phase="intraday"))
    assert sample_letf.sample_moves(["QQQ", "NVDA"], 1, phase="preopen").to_numpy() == pytest.approx(m.to_numpy() * 0.5, abs=2e-3)
    adv = sample_letf.sample_adv(["QQQ", "NVDA"], 1)
    assert (adv["auction_usd"] == adv["adv_usd"] * 0.1).all()
