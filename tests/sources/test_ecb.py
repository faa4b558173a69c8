"""ECB reference rates: history zip/CSV, both daily formats, USD per unit, holiday fallback."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.sources import ecb
from flows.sources.http import HttpClient
from tests.httpserver import Reply
from tests.realdata import FULL, TRIMMED, full, root, trimmed

HIST = {
    TRIMMED: ("cftc/eurofxref-hist_2025-04-10_to_2026-04-13_two_windows.csv", 100, "2025-04-10"),
    FULL: ("cftc/fx/eurofxref-hist.csv", 6983, "1999-01-04"),
}
"""The ECB history: a trimmed copy (two windows of the real file: Easter and May 2025, Christmas
2025 to the file's last day; tests/data/cftc/PROVENANCE.md) and the full file (extended), with
their row counts and first days."""


@pytest.fixture(scope="module")
def ecb_dir(test_data: Path) -> Path:
    """The recorded ECB responses (daily XML and CSV), copied into tests/data/cftc."""
    return test_data / "cftc"


@pytest.fixture(scope="module", params=[trimmed(id=TRIMMED), full(id=FULL)])
def where(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def hist_path(where: str, request: pytest.FixtureRequest) -> Path:
    return root(request, where) / HIST[where][0]


@pytest.fixture(scope="module")
def hist(hist_path: Path) -> pd.DataFrame:
    return ecb.parse_hist_csv(hist_path.read_text(), hist_path.name)


@pytest.fixture(scope="module")
def hist_zip(where: str, hist_path: Path, request: pytest.FixtureRequest) -> bytes:
    """``eurofxref-hist.zip`` as the ECB serves it: the real download (full), or the trimmed CSV
    zipped the same way (one member ``eurofxref-hist.csv``)."""
    if where == FULL:
        return (
            root(request, FULL) / "responses" / "ecb" / "eurofxref-hist_2026-04-13.zip"
        ).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("eurofxref-hist.csv", hist_path.read_bytes())
    return buf.getvalue()


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


def test_hist_csv_usd_per_unit_by_hand(hist: pd.DataFrame, where: str) -> None:
    _, rows, first = HIST[where]
    assert list(hist.columns) == list(ecb.FLOWDESK_CURRENCIES)
    assert hist.index.is_monotonic_increasing and hist.index.name == "date"
    assert hist.index[0] == pd.Timestamp(first) and hist.index[-1] == pd.Timestamp("2026-04-13")
    assert len(hist) == rows
    row = hist.loc["2026-04-13"]
    # file row: USD 1.1684, JPY 186.75, GBP 0.87058, CHF 0.9242, MXN 20.3203 (units per EUR)
    assert row["USD"] == 1.0
    assert row["EUR"] == pytest.approx(1.1684)
    assert row["JPY"] == pytest.approx(1.1684 / 186.75)  # 0.0062565 USD per yen
    assert row["GBP"] == pytest.approx(1.1684 / 0.87058)  # 1.3421 USD per pound
    assert row["CHF"] == pytest.approx(1.1684 / 0.9242)
    assert row["MXN"] == pytest.approx(1.1684 / 20.3203)
    # every value is positive where quoted; BRL/MXN/ZAR... start later than 1999 in some cases
    assert (hist.stack().dropna() > 0).all()


def test_hist_csv_keeps_na_and_all_currencies(hist_path: Path) -> None:
    text = hist_path.read_text()
    every = ecb.parse_hist_csv(text, "hist", currencies=None)
    assert "" not in every.columns and not any(
        c.startswith("Unnamed") for c in every.columns
    )  # trailing comma
    assert len(every.columns) == 42  # 41 ECB currencies + EUR
    assert np.isnan(every.loc["2026-04-13", "BGN"])  # N/A
    assert every.loc["2025-12-31", "BGN"] == pytest.approx(1.175 / 1.9558)


def test_hist_zip_round_trip_matches_csv(hist_zip: bytes, hist: pd.DataFrame) -> None:
    frame = ecb.parse_hist_csv(ecb.read_zip(hist_zip, "eurofxref-hist.zip"), "eurofxref-hist.zip")
    pd.testing.assert_frame_equal(frame, hist)


def test_daily_xml_and_csv(ecb_dir: Path, hist: pd.DataFrame) -> None:
    x = ecb.parse_daily_xml((ecb_dir / "eurofxref-daily_2025-05-09.xml").read_bytes(), "daily.xml")
    assert list(x.index) == [pd.Timestamp("2025-05-09")]
    assert x.loc["2025-05-09", "EUR"] == pytest.approx(1.1252)
    assert x.loc["2025-05-09", "JPY"] == pytest.approx(1.1252 / 163.36)
    old = ecb.parse_daily_xml(
        (ecb_dir / "eurofxref-daily_2022-07-08.xml").read_text(), "daily.xml", currencies=None
    )
    assert "HRK" in old.columns and old.index[0] == pd.Timestamp("2022-07-08")
    c = ecb.parse_daily_csv((ecb_dir / "eurofxref_2026-04-13.csv").read_text(), "eurofxref.csv")
    assert list(c.index) == [pd.Timestamp("2026-04-13")]
    # the daily CSV and the history file agree on that day
    pd.testing.assert_frame_equal(c, hist.loc[["2026-04-13"]], check_freq=False)
    # the 2025-05-09 XML agrees with the history row of that day
    pd.testing.assert_frame_equal(x, hist.loc[["2025-05-09"]], check_freq=False)


def test_daily_errors_name_the_source() -> None:
    with pytest.raises(InputError, match="daily.xml.*malformed XML"):
        ecb.parse_daily_xml("<gesmes:Envelope", "daily.xml")
    with pytest.raises(InputError, match="Cube"):
        ecb.parse_daily_xml(
            "<Envelope><Cube><Cube time='2025-05-09'/></Cube></Envelope>", "daily.xml"
        )
    with pytest.raises(InputError, match="Date"):
        ecb.parse_daily_csv("Date, USD, \n13 Avril 2026, 1.1, \n", "eurofxref.csv")
    with pytest.raises(InputError, match="USD"):
        ecb.parse_hist_csv("Date,JPY,\n2026-04-13,186.75,\n", "hist.csv")
    with pytest.raises(InputError, match="GBP"):
        ecb.parse_hist_csv(
            "Date,USD,JPY,\n2026-04-13,1.1,186.75,\n", "hist.csv", currencies=["USD", "GBP"]
        )


def test_fx_on_takes_previous_business_day(hist: pd.DataFrame) -> None:
    out = ecb.fx_on(
        hist,
        [
            "2025-12-24",
            "2025-12-25",
            "2025-12-26",
            "2025-12-28",
            "2026-01-01",
            "2025-04-18",
            "2025-04-21",
        ],
    )
    assert list(out.index) == list(
        pd.to_datetime(
            [
                "2025-12-24",
                "2025-12-25",
                "2025-12-26",
                "2025-12-28",
                "2026-01-01",
                "2025-04-18",
                "2025-04-21",
            ]
        )
    )
    for day in ("2025-12-25", "2025-12-26", "2025-12-28"):  # Christmas, St Stephen, Sunday
        pd.testing.assert_series_equal(out.loc[day], hist.loc["2025-12-24"], check_names=False)
    pd.testing.assert_series_equal(out.loc["2026-01-01"], hist.loc["2025-12-31"], check_names=False)
    # Good Friday / Easter Monday 2025 -> Thursday 2025-04-17
    pd.testing.assert_series_equal(out.loc["2025-04-21"], hist.loc["2025-04-17"], check_names=False)
    used = ecb.fx_dates_for(hist, ["2025-12-26"])
    assert used[0] == pd.Timestamp("2025-12-24")


def test_fx_on_missing_date_names_it(hist: pd.DataFrame) -> None:
    with pytest.raises(InputError) as err:
        ecb.fx_on(hist, ["2026-04-10", "2026-05-05"])
    assert "2026-05-05" in str(err.value) and "2026-04-13" in str(err.value)
    with pytest.raises(InputError, match="1998-12-29"):
        ecb.fx_on(hist, ["1998-12-29"])


def test_fetch_hist_and_daily_over_http(
    http_server, client, ecb_dir: Path, hist: pd.DataFrame, hist_zip: bytes
) -> None:
    http_server.route("/fx/eurofxref-hist.zip", Reply(200, hist_zip))
    http_server.route(
        "/fx/eurofxref-daily.xml",
        Reply(200, (ecb_dir / "eurofxref-daily_2025-05-09.xml").read_bytes()),
    )
    frame = ecb.fetch_hist(client, base=f"{http_server.url}/fx")
    pd.testing.assert_frame_equal(frame, hist)
    daily = ecb.fetch_daily(client, base=f"{http_server.url}/fx")
    assert daily.index[0] == pd.Timestamp("2025-05-09")
    merged = ecb.merge(hist.loc[:"2025-05-08"], daily)
    assert merged.index[-1] == pd.Timestamp("2025-05-09")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("eurofxref.csv", (ecb_dir / "eurofxref_2026-04-13.csv").read_bytes())
    http_server.route("/fx/eurofxref.zip", Reply(200, buf.getvalue()))
    from_zip = ecb.fetch_daily(client, base=f"{http_server.url}/fx", kind="zip")
    pd.testing.assert_frame_equal(from_zip, hist.loc[["2026-04-13"]], check_freq=False)
    http_server.route("/fx/eurofxref-daily.xml", Reply(503, "maintenance"))
    with pytest.raises(SourceError) as err:
        ecb.fetch_daily(client, base=f"{http_server.url}/fx")
    assert err.value.status == 503 and "eurofxref-daily.xml" in str(err.value)


def test_zip_errors() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(InputError, match="one file"):
        ecb.read_zip(buf.getvalue(), "x.zip")
    with pytest.raises(InputError, match="not a zip"):
        ecb.read_zip(b"nope", "x.zip")


def test_a_day_without_a_usd_rate_is_skipped_with_a_warning_and_the_previous_day_serves() -> None:
    """ECB prints N/A for USD on a day: every cross of that day is unusable (USD per EUR divides
    them all).  The day is skipped, said so, and the CFTC lookup takes the previous ECB day (a
    field report: the week printed no figure and blamed a 7-day gap).  Hand values: USD per JPY =
    1.0198 / 160.22 on 2025-01-13."""
    from flows.cftc import align_fx

    text = "Date,USD,JPY,GBP,\n2025-01-14,N/A,161.63,0.842,\n2025-01-13,1.0198,160.22,0.8375,\n"
    parsed = ecb.read_hist_csv(text, "eurofxref-hist.csv", currencies=["JPY", "GBP", "EUR"])
    assert list(parsed.frame.index.strftime("%Y-%m-%d")) == ["2025-01-13"]
    assert any(
        "1 day(s) without a USD rate (N/A: 2025-01-14) skipped" in w
        for w in parsed.quality.warnings
    )
    fx = align_fx(parsed.frame, ["2025-01-14"], ["JPY", "EUR"])
    assert fx.loc["2025-01-14", "JPY"] == pytest.approx(1.0198 / 160.22)
    assert fx.loc["2025-01-14", "EUR"] == pytest.approx(1.0198)
