"""Daily price connectors: Cboe daily prices, FRED fredgraph.csv, Yahoo-style drop files.

Real files are the trimmed copies in tests/data/prices (PROVENANCE.md there); the live
endpoints are exercised against the local HTTP server serving those recorded bytes.
"""

from __future__ import annotations

import gzip
import math

import numpy as np
import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.schema import PRICE_COLUMNS
from flows.sources import cboe_prices, fred, price_files, yahoo_csv
from flows.sources.http import HttpClient
from flows.sources.textio import decode_text
from tests.httpserver import Reply

FRED = "fred_SP500_2023-01-03_2025-06-30.csv"
VIX18 = "VIX_History_2017-12-01_2018-03-29.csv"
VIX22 = "VIX_History_2022-05-02_2022-07-29.csv"
GSPC = "GSPC_ohlcv_2019-01-02_2020-04-30.csv"


def _client() -> HttpClient:
    return HttpClient(timeout_s=5, retries=2, min_interval_s=0.0, sleep=lambda _s: None)


def _raw(test_data, name: str) -> bytes:
    return (test_data / "prices" / name).read_bytes()


def _close(frame: pd.DataFrame, day: str) -> float:
    return float(frame.loc[frame["date"] == pd.Timestamp(day), "close"].iloc[0])


# -- the three layouts on real files -----------------------------------------------------------
def test_fred_holidays_are_gaps_not_losses(test_data) -> None:
    frame, q = fred.parse(_raw(test_data, FRED), FRED)
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert frame.attrs["symbol"] == "SP500"
    assert q.total_rows == 650 and q.skipped_rows == 0 and q.skipped_share == 0.0
    assert q.repairs == {"rows without a value on exchange holidays dropped (gaps)": 26}
    assert len(frame) == 650 - 26 and frame["date"].is_monotonic_increasing
    assert _close(frame, "2024-08-05") == 5186.33 and _close(frame, "2025-04-04") == 5074.08
    assert pd.Timestamp("2024-07-04") not in set(frame["date"])  # Independence Day: an empty row
    assert frame["open"].isna().all() and not q.warnings


def test_cboe_vix_file_and_holiday_rows(test_data) -> None:
    frame, q = cboe_prices.parse(_raw(test_data, VIX18), VIX18, "VIX")
    assert (
        _close(frame, "2018-02-05") == 37.32
        and float(frame.loc[frame["date"] == "2018-02-05", "high"].iloc[0]) == 38.8
    )
    assert q.skipped_rows == 0 and not q.warnings and len(frame) == 81
    # since 2022 the VIX has rows on exchange holidays (Cboe global trading hours): dropped
    frame, q = cboe_prices.parse(_raw(test_data, VIX22), VIX22, "VIX")
    assert q.repairs == {"rows on non-session dates dropped (published on an exchange holiday)": 3}
    assert not {pd.Timestamp(d) for d in ("2022-05-30", "2022-06-20", "2022-07-04")} & set(
        frame["date"]
    )
    assert q.skipped_share == 0.0


def test_yahoo_ohlcv_and_gzip_us_dates(test_data) -> None:
    frame, q = yahoo_csv.parse(_raw(test_data, GSPC), GSPC)
    assert len(frame) == 335 and q.skipped_rows == 0
    row = frame[frame["date"] == pd.Timestamp("2020-03-16")].iloc[0]
    assert row["close"] == pytest.approx(2386.1298828125) and row["volume"] == 7781540000
    assert row["low"] <= row["close"] <= row["high"]
    sp, q = yahoo_csv.parse(
        _raw(test_data, "arch_sp500_first120.csv.gz"), "arch_sp500_first120.csv.gz"
    )
    assert sp["date"].iloc[0] == pd.Timestamp("1999-01-04") and sp["close"].iloc[
        0
    ] == pytest.approx(1228.099976)
    assert sp["date"].iloc[-1] == pd.Timestamp("1999-06-24") and len(sp) == 120
    vix, q = yahoo_csv.parse(
        _raw(test_data, "arch_vix_first120.csv.gz"), "arch_vix_first120.csv.gz"
    )
    assert vix.attrs["symbol"] == "ARCH_VIX_FIRST120"
    assert (
        q.repairs["rows without a value on exchange holidays dropped (gaps)"] == 4
    )  # '.' on MLK, Presidents', Good Friday, Memorial Day
    assert _close(vix, "2014-01-21") == 12.87 and q.skipped_rows == 0


def test_layout_detection(test_data) -> None:
    assert price_files.detect_layout(_raw(test_data, FRED), "f") == "fred"
    assert price_files.detect_layout(_raw(test_data, VIX18), "v") == "cboe"
    assert price_files.detect_layout(_raw(test_data, GSPC), "g") == "yahoo"
    assert price_files.detect_layout(_raw(test_data, "arch_sp500_first120.csv.gz"), "a") == "yahoo"
    frame, _ = price_files.read(test_data / "prices" / VIX18)
    assert frame.attrs["symbol"] == "VIX"
    with pytest.raises(InputError, match="unknown price file layout"):
        price_files.parse(b"when,price\n2024-01-02,1\n", "x.csv")


# -- decoding rule and bad input ----------------------------------------------------------------
def test_decoding_rule() -> None:
    assert decode_text(b"\xef\xbb\xbfDATE,CLOSE\n", "x")[0] == "DATE,CLOSE\n"
    decoded = decode_text("Date,Close\n# caf\u00e9 \u20ac\n".encode("cp1252"), "x")
    assert "\u20ac" in decoded.text and decoded.repairs == ["decoded as cp1252 (not UTF-8)"]
    decoded = decode_text(b"Date,Close\n\x81\n", "x")  # 0x81 is undefined in cp1252
    assert decoded.repairs == ["decoded as latin-1 (not UTF-8)"]
    assert decode_text(gzip.compress(b"a,b\n"), "x")[0] == "a,b\n"
    # the one rule (flows.sources.textio): UTF-16 with its byte-order mark is decoded, without is refused
    decoded = decode_text("Date,Close\n".encode("utf-16"), "x")
    assert decoded.text == "Date,Close\n" and decoded.repairs == [
        "decoded as UTF-16 (byte-order mark)"
    ]
    with pytest.raises(InputError, match="NUL"):
        decode_text("Date,Close\n".encode("utf-16-le"), "x")
    with pytest.raises(InputError, match="broken gzip"):
        decode_text(gzip.compress(b"a,b\n" * 100)[:20], "x")
    # an empty text is the parser's to refuse, naming what it lacks
    with pytest.raises(InputError, match="unknown price file layout"):
        price_files.parse(b"  \n", "x.csv")


HEAD = "observation_date,SP500\n"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ("2024-08-01,5446.68\n2024-08-02,5346.56,9\n", "line 3, column 3", "row has 3 fields"),
        (
            "2024-08-01,5446.68\n2024-13-02,5346.56\n",
            "line 3, column 'observation_date'",
            "not a date",
        ),
        ("2024-08-01,5446.68\n2024-08-02,534.656\n", "line 3, column 'SP500'", "log change"),
        (
            "2024-08-01,5446.68\n2024-08-01,5446.00\n",
            "line 3, column 'SP500'",
            "repeated with a different close",
        ),
        ("2024-08-01,1e9\n", "SP500", "plausible range"),
        (  # beyond what a timestamp holds: refused, never wrapped around into another century
            "2024-08-01,5446.68\n9999-08-02,5346.56\n",
            "line 3, column 'observation_date'",
            "date '9999-08-02' outside the range a timestamp holds (1677-09-22 .. 2262-04-11)",
        ),
    ],
)
def test_bad_rows_name_line_and_field(body: str, field: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        fred.parse((HEAD + body).encode(), "drop/sp500.csv")
    assert (
        err.value.source == "drop/sp500.csv"
        and err.value.field == field
        and reason in err.value.reason
    )


def test_missing_value_on_a_session_is_skipped_and_warned() -> None:
    body = "2024-08-01,5446.68\n2024-08-02,-\n2024-08-05,5186.33\n2024-08-06,abc\n2024-08-07,0\n2024-08-08,5319.31\n"
    frame, q = fred.parse((HEAD + body).encode(), "s.csv")
    assert frame["date"].dt.day.tolist() == [1, 5, 8]
    assert q.skipped_rows == 3 and q.skipped_share == pytest.approx(0.5)
    assert q.reasons == {
        "close missing on a session": 1,
        "close not a number": 1,
        "close not positive": 1,
    }
    assert "first on line 3 (2024-08-02, SP500='-')" in q.warnings[0]


def test_unsorted_duplicates_and_cut_file() -> None:
    body = "2024-08-05,5186.33\n2024-08-02,5346.56\n2024-08-05,5186.33\n2024-08-06,5240.03"
    frame, q = fred.parse((HEAD + body).encode(), "u.csv")
    assert frame["close"].tolist() == [5346.56, 5186.33, 5240.03]
    assert q.repairs == {"rows sorted by date": 4, "repeated rows dropped": 1}
    assert q.warnings == [
        "the file does not end with a newline: its last row (2024-08-06) may be cut"
    ]


def test_missing_sessions_are_counted_and_recent_ones_warned() -> None:
    body = "2024-08-01,5446.68\n2024-08-02,5346.56\n2024-08-06,5240.03\n"
    frame, q = fred.parse((HEAD + body).encode(), "g.csv")
    assert frame.attrs["missing_sessions"] == ["2024-08-05"]
    assert q.repairs == {"sessions absent from the file (returns span the gap)": 1}
    assert "1 session(s) missing" in q.warnings[0] and q.skipped_rows == 0


def test_required_columns() -> None:
    with pytest.raises(InputError) as err:
        cboe_prices.parse(b"DATE,OPEN,HIGH\n01/02/2024,1,2\n", "c.csv")
    assert err.value.field == "line 1, column 'CLOSE'"
    with pytest.raises(InputError) as err:
        yahoo_csv.parse(b"Day,Close\n2024-01-02,1\n", "y.csv")
    assert err.value.field == "line 1, column 'Date'"


def test_us_dates_beyond_a_timestamp_are_refused() -> None:
    raw = b"DATE,CLOSE\n02/02/2018,17.31\n02/05/0218,37.32\n"
    with pytest.raises(InputError) as err:
        cboe_prices.parse(raw, "cdn", "VIX")
    assert err.value.field == "line 3, column 'DATE'" and "'02/05/0218' outside the range" in str(
        err.value
    )


def test_cboe_cdn_layout_us_dates() -> None:
    raw = b"DATE,OPEN,HIGH,LOW,CLOSE\n02/02/2018,13.640000,17.860000,13.640000,17.310000\n02/05/2018,18.440000,38.800000,16.800000,37.320000\n"
    frame, q = cboe_prices.parse(raw, "cdn", "VIX")
    assert frame["date"].tolist() == [pd.Timestamp("2018-02-02"), pd.Timestamp("2018-02-05")]
    assert frame["close"].tolist() == [17.31, 37.32]


# -- live endpoints against the local server ----------------------------------------------------
def test_cboe_prices_over_http(test_data, http_server) -> None:
    http_server.route(
        "/api/global/us_indices/daily_prices/VIX_History.csv",
        [
            Reply(503, headers={"Retry-After": "0"}),
            Reply(200, _raw(test_data, VIX18), {"Content-Type": "text/csv"}),
        ],
    )
    template = http_server.url + "/api/global/us_indices/daily_prices/{symbol}_History.csv"
    query = cboe_prices.build_query("^vix", url_template=template)
    assert query.symbol == "VIX" and query.url.endswith("/VIX_History.csv")
    assert (
        cboe_prices.build_query("VIX").url
        == "https://cdn.cboe.com/api/global/us_indices/daily_prices/VIX_History.csv"
    )
    frame, q = cboe_prices.parse(cboe_prices.fetch(query, _client()), query.url, query.symbol)
    assert _close(frame, "2018-02-05") == 37.32 and q.source == query.url
    assert len(http_server.requests_to("/api/global/us_indices/daily_prices/VIX_History.csv")) == 2
    with pytest.raises(SourceError) as err:
        cboe_prices.fetch(cboe_prices.build_query("NOPE", url_template=template), _client())
    assert err.value.status == 404
    with pytest.raises(InputError):
        cboe_prices.build_query(" ")


def test_fred_over_http(test_data, http_server) -> None:
    http_server.route(
        "/graph/fredgraph.csv", [Reply(200, _raw(test_data, FRED), {"Content-Type": "text/csv"})]
    )
    query = fred.build_query(
        "sp500", url_template=http_server.url + "/graph/fredgraph.csv?id={series}"
    )
    assert (
        fred.build_query("SP500").url == "https://fred.stlouisfed.org/graph/fredgraph.csv?id=SP500"
    )
    frame, q = fred.parse(fred.fetch(query, _client()), query.url)
    assert http_server.requests_to("/graph/fredgraph.csv")[0].query == {"id": ["SP500"]}
    assert frame.attrs["symbol"] == "SP500" and _close(frame, "2025-04-08") == 4982.77
    assert "flowdesk" in http_server.requests_to("/graph/fredgraph.csv")[0].headers["user-agent"]
    with pytest.raises(InputError):
        fred.build_query("SP 500")


def test_yahoo_drop_file(tmp_path, test_data) -> None:
    (tmp_path / "^GSPC.csv").write_bytes(_raw(test_data, GSPC))
    query = yahoo_csv.build_query(tmp_path, "^GSPC.csv")
    frame, _ = yahoo_csv.parse(yahoo_csv.fetch(query), str(query))
    assert frame.attrs["symbol"] == "^GSPC" and len(frame) == 335
    with pytest.raises(InputError, match="cannot read"):
        yahoo_csv.fetch(tmp_path / "missing.csv")


@pytest.mark.extended
def test_full_shared_price_files(shared_data) -> None:
    folder = shared_data / "prices"
    vix, q = price_files.read(folder / "VIX_History_1990-01-02_2026-07-23.csv")
    assert len(vix) == 9202 and q.skipped_rows == 0
    assert vix.attrs["missing_sessions"] == ["1991-03-01", "1997-01-31", "1997-11-26", "1999-12-31"]
    sp, q = price_files.read(folder / "fred_SP500_2016-02-12_2026-02-11.csv")
    assert len(sp) == 2514 and q.repairs == {
        "rows without a value on exchange holidays dropped (gaps)": 95
    }
    gspc, _ = price_files.read(folder / "GSPC_ohlcv_2005-01-03_2020-08-21.csv")
    nasdaq, _ = price_files.read(folder / "arch_8.0.0" / "nasdaq.csv.gz")
    assert len(gspc) == 3937 and len(nasdaq) == 5031
    # the two S&P 500 files agree where they overlap (FRED vs Yahoo): exactly on 1,136 of 1,140
    # sessions; four closes differ by up to 0.04 % (later revisions by one of the two sources)
    both = sp.merge(gspc, on="date", suffixes=("_fred", "_yahoo"))
    rel = np.abs(both["close_fred"] / both["close_yahoo"] - 1.0)
    assert len(both) == 1140 and int((rel > 1e-6).sum()) == 4 and rel.max() < 5e-4
    assert math.isclose(_close(sp, "2020-03-16"), 2386.13)
