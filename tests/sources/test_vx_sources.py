"""VIX futures settlements (CFE per-contract files): the three layouts, quirks and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.schema import VX_COLUMNS
from flows.sources import cboe_vx
from flows.sources.http import HttpClient
from tests.httpserver import Reply

HEADER = "Trade Date,Futures,Open,High,Low,Close,Settle,Change,Total Volume,EFP,Open Interest"


def _client() -> HttpClient:
    return HttpClient(timeout_s=5, retries=1, min_interval_s=0.0, sleep=lambda _s: None)


def test_clean_layout(test_data) -> None:
    path = test_data / "vix_futures" / "clean" / "CFE_G18_VX.csv"
    frame, q = cboe_vx.parse(path.read_bytes(), str(path))
    assert list(frame.columns) == list(VX_COLUMNS)
    assert (
        set(frame["contract"]) == {"VXG18"}
        and (frame["expiry"] == pd.Timestamp("2018-02-14")).all()
    )
    day = frame.set_index("date").loc["2018-02-05"]
    assert (
        day["settle"] == 33.225
        and day["close"] == 33.2
        and day["volume"] == 567407
        and day["open_interest"] == 222804
    )
    # the last row is the final settlement (special opening quotation), far from the last close
    assert (
        frame["date"].iloc[-1] == pd.Timestamp("2018-02-14") and frame["settle"].iloc[-1] == 21.87
    )
    assert q.basis == "open interest" and q.skipped_rows == 0 and not q.warnings
    assert q.total_weight == pytest.approx(frame["open_interest"].sum())


def test_index_column_and_disclaimer_layouts(test_data) -> None:
    j18 = test_data / "vix_futures" / "indexed" / "CFE_J18_VX.csv"
    frame, q = cboe_vx.parse(j18.read_bytes(), str(j18))
    assert (
        set(frame["contract"]) == {"VXJ18"}
        and frame.set_index("date").loc["2018-02-05", "settle"] == 24.725
    )
    u15 = test_data / "vix_futures" / "disclaimer" / "CFE_U15_VX.csv"
    raw = u15.read_bytes()
    assert raw.startswith(b"CFE data is compiled") and b"\r\n" in raw
    frame, q = cboe_vx.parse(raw, str(u15))
    assert (
        set(frame["contract"]) == {"VXU15"}
        and (frame["expiry"] == pd.Timestamp("2015-09-16")).all()
    )
    assert frame.set_index("date").loc["2015-08-24", "settle"] == 25.125
    assert q.skipped_rows == 0 and not q.repairs


def test_read_dir_merges_folders(test_data) -> None:
    frame, q = cboe_vx.read_dir(test_data / "vix_futures")
    assert frame["contract"].nunique() == 18
    assert frame.groupby(["contract", "date"]).size().max() == 1
    assert frame[["expiry", "date"]].apply(tuple, axis=1).is_monotonic_increasing
    assert q.skipped_rows == 0 and q.total_rows == len(frame)


def test_pre_2007_prices_are_rescaled_and_pre_listing_rows_dropped() -> None:
    raw = "\n".join(
        [
            HEADER,
            "6/18/2004,G (Feb 05),0,0,0,0,0,,0,0,0",  # listed, no settlement yet
            "1/24/2005,G (Feb 05),145.9,146.1,144.5,145.5,144.5,,94,0,63,",  # trailing empty field
            "2/16/2005,G (Feb 05),0,0,0,0,112.93,0.43,0,0,3214",
        ]
    ).encode()
    frame, q = cboe_vx.parse(raw, "g05.csv")
    assert frame["settle"].tolist() == pytest.approx([14.45, 11.293])
    assert frame["close"].iloc[0] == pytest.approx(14.55) and math.isnan(
        frame["close"].iloc[1]
    )  # 0 = no trade
    assert q.repairs == {"prices before 2007-03-26 on the 10 x VIX scale divided by 10": 2}
    assert q.skipped_rows == 0  # the pre-listing row carries no open interest: not a loss
    assert frame["expiry"].iloc[0] == pd.Timestamp("2005-02-16")


def test_missing_settle_with_open_interest_is_a_weighed_skip() -> None:
    raw = "\n".join(
        [
            HEADER,
            "2018-02-01,G (Feb 2018),1,1,1,1,13.275,0,10,0,300",
            "2018-02-02,G (Feb 2018),1,1,1,1,-,0,10,0,100",
            "2018-02-05,G (Feb 2018),1,1,1,1,33.225,0,10,0,600",
        ]
    ).encode()
    frame, q = cboe_vx.parse(raw, "g18.csv")
    assert len(frame) == 2 and q.reasons == {"settle missing": 1}
    assert q.skipped_share == pytest.approx(100 / 1000)
    assert "first on line 3 (2018-02-02, Settle='-')" in q.warnings[0]


@pytest.mark.parametrize(
    ("rows", "field", "reason"),
    [
        (
            [
                "2018-02-01,G (Feb 2018),1,1,1,1,13.275,0,10,0,300",
                "2018-02-02,H (Mar 2018),1,1,1,1,14,0,10,0,300",
            ],
            "line 3, column 'Futures'",
            "mixes contracts",
        ),
        (
            ["2018-02-01,G (Mar 2018),1,1,1,1,13.275,0,10,0,300"],
            "line 2, column 'Futures'",
            "month code G is Feb",
        ),
        (
            ["2018-02-01,VX G8,1,1,1,1,13.275,0,10,0,300"],
            "line 2, column 'Futures'",
            "not a VX contract",
        ),
        (
            ["2018-02-15,G (Feb 2018),1,1,1,1,13.275,0,10,0,300"],
            "line 2, column 'Trade Date'",
            "after VXG18's final settlement 2018-02-14",
        ),
        (["2018-02-01,G (Feb 2018),1,1,1,1,1327.5,0,10,0,300"], "Settle", "plausible range"),
        (
            [
                "2018-02-01,G (Feb 2018),1,1,1,1,13.275,0,10,0,300",
                "2018-02-02,G (Feb 2018),1,1,1,1,13.3,0,10,0,300",
                "2018-02-05,G (Feb 2018),1,1,1,1,133,0,10,0,300",
                "2018-02-06,G (Feb 2018),1,1,1,1,134,0,10,0,300",
                "2018-02-07,G (Feb 2018),1,1,1,1,135,0,10,0,300",
            ],
            "line 4, column 'Settle'",
            "change of scale",
        ),
        (
            [
                "2018-02-01,G (Feb 2018),1,1,1,1,13.275,0,10,0,300",
                "2018-02-01,G (Feb 2018),1,1,1,1,13.5,0,10,0,300",
            ],
            "line 3, column 'Settle'",
            "different settle",
        ),
        (
            ["2018-02-01,G (Feb 2018),1,1,1,1,13.275,0,10,0"],
            "line 2, column 11",
            "row has 10 fields",
        ),
        (  # a year typed 0999 for 1999 (CFE's US layout): refused, not wrapped around
            [
                "1/3/2005,G (Feb 05),1,1,1,1,13.275,0,10,0,300",
                "1/4/0999,G (Feb 05),1,1,1,1,13,0,1,0,3",
            ],
            "line 3, column 'Trade Date'",
            "date '1/4/0999' outside the range a timestamp holds (1677-09-22 .. 2262-04-11)",
        ),
    ],
)
def test_bad_files_name_line_and_field(rows: list[str], field: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        cboe_vx.parse("\n".join([HEADER, *rows]).encode(), "vx.csv")
    assert err.value.source == "vx.csv" and err.value.field == field and reason in err.value.reason


def test_isolated_misprint_is_skipped() -> None:
    # the shape of CFE's 2008-04-21 misprint in VXG09: 23.88, 1.00, 23.48
    rows = [
        "2008-04-18,G (Feb 09),0,0,0,0,23.88,0,0,0,37",
        "2008-04-21,G (Feb 09),22.67,22.67,22.67,22.67,1.00,-22.55,1,0,37",
        "2008-04-22,G (Feb 09),0,0,0,0,23.48,22.48,0,0,37",
    ]
    frame, q = cboe_vx.parse("\n".join([HEADER, *rows]).encode(), "g09.csv")
    assert frame["settle"].tolist() == [23.88, 23.48]
    assert (
        q.skipped_rows == 1
        and q.skipped_weight == 37
        and "line 3 (2008-04-21, Settle=1.0)" in q.warnings[0]
    )


def test_header_only_file_and_missing_header() -> None:
    frame, q = cboe_vx.parse(("," + HEADER + "\n").encode(), "k21.csv")
    assert frame.empty and list(frame.columns) == list(VX_COLUMNS) and q.total_rows == 0
    with pytest.raises(InputError, match="no header row containing 'Trade Date'"):
        cboe_vx.parse(b"a\nb\nc\nd\ne\nf\ng\n", "x.csv")
    with pytest.raises(InputError) as err:
        cboe_vx.parse(b"Trade Date,Futures,Close\n2018-02-01,G (Feb 2018),1\n", "x.csv")
    assert err.value.field == "line 1, column 'Settle'"


def test_combine_refuses_conflicting_overlaps(test_data, tmp_path) -> None:
    path = test_data / "vix_futures" / "clean" / "CFE_G18_VX.csv"
    raw = path.read_bytes()
    a = cboe_vx.parse(raw, "a/CFE_G18_VX.csv")
    b = cboe_vx.parse(raw, "b/CFE_G18_VX.csv")
    frame, q = cboe_vx.combine([a, b])
    assert len(frame) == len(a[0]) and q.repairs[
        "rows present in two files (identical settles) kept once"
    ] == len(a[0])
    c = cboe_vx.parse(raw.replace(b"33.225", b"33.250"), "c/CFE_G18_VX.csv")
    with pytest.raises(InputError) as err:
        cboe_vx.combine([a, c])
    assert (
        err.value.source == "c/CFE_G18_VX.csv"
        and "VXG18 on 2018-02-05" in err.value.reason
        and "a/CFE_G18_VX.csv" in err.value.reason
    )
    with pytest.raises(InputError, match="no \\*.csv"):
        cboe_vx.files_in(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        cboe_vx.files_in(tmp_path / "none")


def test_queries_and_fetch_over_http(test_data, http_server) -> None:
    q = cboe_vx.build_query(2018, 2)
    assert q.contract == "VXG18" and q.expiry == pd.Timestamp("2018-02-14")
    assert (
        q.url
        == "https://cdn.cboe.com/data/us/futures/market_statistics/historical_data/VX/VX_2018-02-14.csv"
    )
    months = [x.contract for x in cboe_vx.queries_for("2018-02-05", months_back=1, months_ahead=7)]
    assert months == [
        "VXF18",
        "VXG18",
        "VXH18",
        "VXJ18",
        "VXK18",
        "VXM18",
        "VXN18",
        "VXQ18",
        "VXU18",
    ]
    raw = (test_data / "vix_futures" / "clean" / "CFE_G18_VX.csv").read_bytes()
    http_server.route(
        "/VX/VX_2018-02-14.csv", [Reply(500), Reply(200, raw, {"Content-Type": "text/csv"})]
    )
    template = http_server.url + "/VX/VX_{expiry}.csv"
    query = cboe_vx.build_query(2018, 2, url_template=template)
    frame, _ = cboe_vx.parse(cboe_vx.fetch(query, _client()), query.url)
    assert frame.set_index("date").loc["2018-02-05", "settle"] == 33.225
    assert len(http_server.requests_to("/VX/VX_2018-02-14.csv")) == 2
    with pytest.raises(SourceError) as err:
        cboe_vx.fetch(cboe_vx.build_query(2018, 3, url_template=template), _client())
    assert err.value.status == 404 and "VXH18" in str(err.value)
    with pytest.raises(InputError):
        cboe_vx.build_query(2018, 13)


@pytest.mark.extended
def test_full_shared_folder(shared_data) -> None:
    frame, q = cboe_vx.read_dir(shared_data / "vix_futures")
    assert len(frame) == 20991 and frame["contract"].nunique() == 121
    # CFE's 1.00 misprints of 2008-04-21 (VXF09 first row, VXG09 between 23.88 and 23.48)
    assert q.skipped_rows == 2 and len(q.warnings) == 2 and q.skipped_share < 1e-4
    assert q.repairs == {
        "prices before 2007-03-26 on the 10 x VIX scale divided by 10": 954,
        "rows present in two files (identical settles) kept once": 4116,
    }
    assert frame["settle"].between(8.0, 90.0).all()
    assert np.isclose(
        frame.set_index(["contract", "date"]).loc[("VXH07", pd.Timestamp("2007-03-21")), "settle"],
        12.983,
    )
