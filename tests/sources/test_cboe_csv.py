"""CBOE quote-table CSV: the three real files, every date layout, and bad input."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.chain import UNREADABLE_COLUMN, parse_osi, settlement_times
from flows.errors import InputError
from flows.quality import Quality
from flows.schema import CHAIN_COLUMNS
from flows.sources import cboe_csv
from tests.realdata import full, root, trimmed

# Facts per file: for the full files of the shared folder from its data README; for the trimmed
# copies in tests/data/options counted from the slice with the csv module (see PROVENANCE.md):
# rows, root split, OI per side, IV=0 rows per side, strikes, expiries
REAL = {
    "spx_quotedata_2023-09-14.csv": dict(
        rows=9960,
        roots={"SPX": 3143, "SPXW": 6817},
        call_oi=6663949,
        put_oi=13722905,
        iv0=(709, 738),
        strikes=451,
        expiries=53,
        spot=4505.1001,
        as_of="2023-09-14 16:31-04:00",
        underlying="SPX",
    ),
    "spy_quotedata_2023-09-14.csv": dict(
        rows=3646,
        roots={"SPY": 3646},
        call_oi=6906952,
        put_oi=14666220,
        iv0=(875, 760),
        strikes=269,
        expiries=31,
        spot=450.81,
        as_of="2023-09-14 16:31-04:00",
        underlying="SPY",
    ),
    "spx_quotedata_2024-01-07.csv": dict(
        rows=10519,
        roots={"SPX": 3278, "SPXW": 7241},
        call_oi=6138491,
        put_oi=11959919,
        iv0=(431, 615),
        strikes=457,
        expiries=55,
        spot=4697.2402,
        as_of="2024-01-07 10:52-05:00",
        underlying="SPX",
    ),
}
TRIMMED = {
    "spx_quotedata_2023-09-14_trimmed.csv": dict(
        rows=608,
        roots={"SPX": 224, "SPXW": 384},
        call_oi=1653859,
        put_oi=1643352,
        iv0=(73, 115),
        strikes=138,
        expiries=6,
        spot=4505.1001,
        as_of="2023-09-14 16:31-04:00",
        underlying="SPX",
    ),
    "spy_quotedata_2023-09-14_trimmed.csv": dict(
        rows=360,
        roots={"SPY": 360},
        call_oi=1574749,
        put_oi=1732436,
        iv0=(63, 70),
        strikes=137,
        expiries=6,
        spot=450.81,
        as_of="2023-09-14 16:31-04:00",
        underlying="SPY",
    ),
    "spx_quotedata_2024-01-07_trimmed.csv": dict(
        rows=251,
        roots={"SPX": 87, "SPXW": 164},
        call_oi=419752,
        put_oi=470668,
        iv0=(57, 51),
        strikes=84,
        expiries=5,
        spot=4697.2402,
        as_of="2024-01-07 10:52-05:00",
        underlying="SPX",
    ),
}
FILES = [trimmed(f"options/{name}", facts, id=name) for name, facts in TRIMMED.items()] + [
    full(f"options/{name}", facts, id=name) for name, facts in REAL.items()
]

HEADER = "Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest"
TOP = (
    "\nTest Index,Last: 4505.1001,Change:  37.6601\n"
    + '"Date: September 14, 2023 at 4:31 PM EDT",Bid: 4483.25,Ask: 4526.27,Size: 1*1,Volume: 0\n'
)
ROWS = [
    "Fri Sep 15 2023,SPXW230915C04500000,20,1,19.5,20.5,100,0.12,0.52,0.01,1000,4500.00,SPXW230915P04500000,15,-1,14.5,15.5,50,0.13,-0.48,0.011,2000",
    "Fri Sep 15 2023,SPX230915C04500000,21,1,20,21,10,0.11,0.53,0.012,3000,4500.00,SPX230915P04500000,14,-1,13.5,14.5,5,0.12,-0.47,0.012,4000",
    "Fri Sep 22 2023,SPXW230922C04550500,5,0,4.5,5.5,1,0.15,0.3,0.004,10,4550.50,SPXW230922P04550500,40,0,39,41,2,0.16,-0.7,0.004,20",
]


def make(rows=ROWS, header=HEADER, top=TOP) -> str:
    return top + header + "\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize(("where", "name", "facts"), FILES)
def test_real_files_parse_with_the_readme_counts(
    where: str, name: str, facts: dict, request: pytest.FixtureRequest
) -> None:
    chain = cboe_csv.read_file(root(request, where) / name)
    c = chain.contracts
    assert list(c.columns) == [*CHAIN_COLUMNS, UNREADABLE_COLUMN]
    assert not c[UNREADABLE_COLUMN].any()
    assert chain.underlying == facts["underlying"]
    assert chain.spot == facts["spot"]
    assert chain.as_of == pd.Timestamp(facts["as_of"])
    assert str(chain.as_of.tz) == "America/New_York"
    assert chain.source.endswith(Path(name).name)
    assert len(chain.skipped) == 0
    q = chain.quality
    assert (q.total_rows, q.skipped_rows, q.repaired_rows, q.warnings, q.basis) == (
        2 * facts["rows"],
        0,
        0,
        [],
        "open interest",
    )
    assert q.total_weight == facts["call_oi"] + facts["put_oi"]
    # one row per contract: every CSV row gives a call and a put, keyed by symbol
    assert len(c) == 2 * facts["rows"]
    assert c["symbol"].is_unique
    assert (c["root"].value_counts() // 2).to_dict() == facts["roots"]
    assert c.loc[c["type"] == "C", "open_interest"].sum() == facts["call_oi"]
    assert c.loc[c["type"] == "P", "open_interest"].sum() == facts["put_oi"]
    # IV 0 in the file -> NaN
    assert (
        c.loc[c["type"] == "C", "iv"].isna().sum(),
        c.loc[c["type"] == "P", "iv"].isna().sum(),
    ) == facts["iv0"]
    assert (c["iv"].dropna() > 0).all()
    assert c["strike"].nunique() == facts["strikes"]
    assert c["expiry"].nunique() == facts["expiries"]
    # the fields agree with the OSI symbol itself
    osi = parse_osi(c["symbol"])
    assert (osi["root"] == c["root"]).all() and (osi["type"] == c["type"]).all()
    np.testing.assert_array_equal(osi["strike"].to_numpy(), c["strike"].to_numpy())
    assert (osi["expiry"] == c["expiry"]).all()


@pytest.mark.parametrize(("where", "spy_name", "spx_name", "half_rows", "pairs"), [
    trimmed("options/spy_quotedata_2023-09-14_trimmed.csv", "options/spx_quotedata_2023-09-14_trimmed.csv", 17, 162, id="trimmed"),
    full("options/spy_quotedata_2023-09-14.csv", "options/spx_quotedata_2023-09-14.csv", 23, 1727, id="full"),
])  # fmt: skip
def test_spy_half_dollar_strikes_and_spx_duplicates_survive(
    where: str,
    spy_name: str,
    spx_name: str,
    half_rows: int,
    pairs: int,
    request: pytest.FixtureRequest,
) -> None:
    folder = root(request, where)
    spy = cboe_csv.read_file(folder / spy_name).contracts
    # README: 23 rows (expiry, strike) with a half-dollar strike (7 distinct strikes 432.5 ... 462.5);
    # the trimmed copy keeps 17 of them, every distinct strike
    half = spy[spy["strike"] % 1 == 0.5]
    assert len(half) == 2 * half_rows
    assert sorted(half["strike"].unique()) == [432.5, 437.5, 442.5, 447.5, 452.5, 457.5, 462.5]
    spx = cboe_csv.read_file(folder / spx_name).contracts
    per_key = spx.groupby(["expiry", "strike", "type"])["root"].nunique()
    # SPX and SPXW rows sharing (expiry, strike), calls and puts (README: 1,727; trimmed: 162)
    assert int((per_key == 2).sum()) == 2 * pairs


@pytest.mark.parametrize(("where", "spx_name", "spy_name", "zero_gamma"), [
    trimmed("options/spx_quotedata_2023-09-14_trimmed.csv", "options/spy_quotedata_2023-09-14_trimmed.csv", "SPXW230914C04500000", id="trimmed"),
    full("options/spx_quotedata_2023-09-14.csv", "options/spy_quotedata_2023-09-14.csv", "SPXW230914C01200000", id="full"),
])  # fmt: skip
def test_zero_dte_gamma_kept_when_iv_missing(
    where: str, spx_name: str, spy_name: str, zero_gamma: str, request: pytest.FixtureRequest
) -> None:
    # CBOE prints IV 0 but a gamma on some rows (SPXW 4545 P, 2023-09-15): the gamma is kept,
    # the IV becomes NaN; a gamma of 0 stays 0 (the source said 0; the engine models live ones)
    folder = root(request, where)
    spx = cboe_csv.read_file(folder / spx_name).contracts.set_index("symbol")
    row = spx.loc["SPXW230915P04545000"]
    assert np.isnan(row["iv"]) and row["gamma"] == pytest.approx(0.0066)
    assert spx.loc[zero_gamma, "gamma"] == 0.0 and np.isnan(spx.loc[zero_gamma, "iv"])
    spy = cboe_csv.read_file(folder / spy_name).contracts.set_index("symbol")
    assert spy.loc["SPY230914C00451000", "gamma"] == pytest.approx(1.1609)


def test_settlement_times_by_root() -> None:
    t = settlement_times(
        pd.Series(["SPX", "SPXW", "SPY", "NDX", "NDXP"]),
        pd.Series(pd.to_datetime(["2023-09-15"] * 4 + ["2024-01-05"])),
    )
    assert [x.isoformat() for x in t] == [
        "2023-09-15T13:30:00+00:00",  # 09:30 EDT
        "2023-09-15T20:00:00+00:00",  # 16:00 EDT
        "2023-09-15T20:00:00+00:00",
        "2023-09-15T13:30:00+00:00",
        "2024-01-05T21:00:00+00:00",  # 16:00 EST
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Date: September 14, 2023 at 4:31 PM EDT", "2023-09-14 16:31-04:00"),
        ("Date: June 11, 2022, 8:47 PM EDT", "2022-06-11 20:47-04:00"),
        ("Date: January 7, 2024 at 10:52 AM EST", "2024-01-07 10:52-05:00"),
        ("Date: Jan 7, 2024 at 12:05 AM EST", "2024-01-07 00:05-05:00"),
        ("Date: 23 de marzo de 2022, 8:47 PM EDT", "2022-03-23 20:47-04:00"),
        ("Date: 23 de marzo de 2022 a las 20:47", "2022-03-23 20:47-04:00"),
    ],
)
def test_date_layouts(cell: str, expected: str) -> None:
    assert cboe_csv.parse_date_line(cell, "f.csv") == pd.Timestamp(expected)
    chain = cboe_csv.parse(
        make(
            top=TOP.replace(
                "Date: September 14, 2023 at 4:31 PM EDT", cell.replace("Date: ", "Date: ")
            )
        ),
        "f.csv",
    )
    assert chain.as_of == pd.Timestamp(expected)


@pytest.mark.parametrize(
    "cell",
    [
        "Date: 2023-09-14 16:31",
        "Date: September 14 2023 4:31 PM EDT",
        "Date: 14 septembre 2023, 16:31",
        "Date: Septober 14, 2023 at 4:31 PM EDT",
        "Date: September 14, 2023 at 4:31 PM CET",
        "When: today",
    ],
)
def test_unknown_date_layout_names_file_and_field(cell: str) -> None:
    with pytest.raises(InputError) as err:
        cboe_csv.parse(
            make(top=TOP.replace("Date: September 14, 2023 at 4:31 PM EDT", cell)),
            "drop/spx_quotedata.csv",
        )
    assert err.value.field == "Date"
    assert "drop/spx_quotedata.csv" in str(err.value)


def test_small_file_values_and_inference() -> None:
    chain = cboe_csv.parse(make().encode(), "f.csv")
    c = chain.contracts.set_index("symbol")
    assert chain.underlying == "SPX"  # SPXW -> SPX
    assert len(c) == 6
    assert c.loc["SPXW230922C04550500", "strike"] == 4550.5
    assert c.loc["SPX230915P04500000", "open_interest"] == 4000
    assert c.loc["SPX230915C04500000", "settle_time"] == pd.Timestamp(
        "2023-09-15 09:30", tz="America/New_York"
    )
    assert c.loc["SPXW230915C04500000", "settle_time"] == pd.Timestamp(
        "2023-09-15 16:00", tz="America/New_York"
    )
    assert (
        c.loc["SPXW230915P04500000", "iv"] == 0.13 and c.loc["SPXW230915P04500000", "bid"] == 14.5
    )
    assert cboe_csv.parse(make(), "f.csv", underlying="XSP").underlying == "XSP"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (",Open Interest\n", ",Open Int\n", "Open Interest"),
        (",IV,Delta,Gamma,Open Interest,Strike", ",Vol,Delta,Gamma,Open Interest,Strike", "IV"),
        (",Strike,", ",Strike Price,", "Strike"),
        (",Gamma,Open Interest\n", ",Gamma\n", "Open Interest"),
    ],
)
def test_missing_or_renamed_column_is_named(old: str, new: str, field: str) -> None:
    text = (
        make().replace(old, new, 1)
        if old != ",Open Interest\n"
        else make().replace(HEADER, HEADER[: -len("Open Interest")] + "Open Int")
    )
    with pytest.raises(InputError) as err:
        cboe_csv.parse(text, "f.csv")
    assert err.value.field == field
    assert "f.csv" in str(err.value)


def test_unreadable_cells_by_column_and_negative_oi_refused() -> None:
    rows = list(ROWS)
    rows[0] = rows[0].replace(
        ",0.12,0.52,0.01,1000,", ",0.12,0.52,x1,1000,"
    )  # call gamma not a number: kept, marked
    rows[2] = rows[2].replace(",4550.50,", ",abc,")  # strike not a number: both sides skipped
    rows[1] = rows[1].replace(
        ",3000,4500.00,", ",-,4500.00,"
    )  # call OI "-": that side skipped, weight unknown
    chain = cboe_csv.parse(make(rows=rows), "f.csv")
    c = chain.contracts.set_index("symbol")
    assert sorted(c.index) == ["SPX230915P04500000", "SPXW230915C04500000", "SPXW230915P04500000"]
    assert (
        np.isnan(c.loc["SPXW230915C04500000", "gamma"])
        and c.loc["SPXW230915C04500000", UNREADABLE_COLUMN]
    )
    assert not c.loc["SPXW230915P04500000", UNREADABLE_COLUMN]
    sk = chain.skipped.sort_values(["row", "field"]).reset_index(drop=True)
    assert sk["row"].tolist() == [6, 7]
    assert sk["field"].tolist() == ["Open Interest (call)", "Strike"]
    q = chain.quality
    assert q.total_rows == 6 and q.skipped_rows == 3 and q.unweighed_skipped_rows == 1
    assert q.skipped_weight == 10 + 20  # the strike row's two sides carry OI 10 and 20
    assert q.repairs == {"Gamma: not a number (e.g. 'x1'), taken as missing": 1}
    assert q.skipped_share == pytest.approx(3 / 6)  # an unweighed row: the row share bounds it
    # a negative open interest is a broken file, not a row to skip
    bad = list(ROWS)
    bad[1] = bad[1].replace(",3000,4500.00,", ",-5,4500.00,")
    with pytest.raises(InputError, match=r"f\.csv: Open Interest \(call\): .*-5 \(row 6\)"):
        cboe_csv.parse(make(rows=bad), "f.csv")


@pytest.mark.parametrize(
    ("where", "name", "rows"),
    [
        trimmed("options/spy_quotedata_2023-09-14_trimmed.csv", 360, id="trimmed"),
        full("options/spy_quotedata_2023-09-14.csv", 3646, id="full"),
    ],
)
def test_real_file_with_a_damaged_cell(
    where: str, name: str, rows: int, request: pytest.FixtureRequest
) -> None:
    text = (root(request, where) / name).read_text()
    lines = text.split("\n")
    cells = lines[10].split(",")
    cells[10] = "12a"  # call Open Interest of file line 11
    lines[10] = ",".join(cells)
    chain = cboe_csv.parse("\n".join(lines), "spy.csv")
    assert len(chain.contracts) == 2 * rows - 1
    assert chain.skipped.to_dict("records") == [
        {"row": 11, "field": "Open Interest (call)", "reason": "not a number: '12a'"}
    ]
    assert chain.quality.skipped_rows == 1 and chain.quality.reasons == {
        "Open Interest: not a number": 1
    }
    # the record names the skipped side, so a refusal or the CLI's quality line says which
    assert chain.quality.examples == {"Open Interest: not a number": ["call at line 11"]}
    assert "Open Interest: not a number (1 row: call at line 11)" in chain.quality.summary()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (make(rows=[]), "contracts"),
        (make().replace("Last: 4505.1001", "Last: "), "Last"),
        (make().replace("Last: 4505.1001", "Price 4505"), "Last"),
        (
            make(  # IV, bid and ask 0 on both sides of every row: nothing to solve an IV from
                rows=[
                    ",".join(
                        "0" if i in (4, 5, 7, 15, 16, 18) else c for i, c in enumerate(r.split(","))
                    )
                    for r in ROWS
                ]
            ),
            "iv",
        ),
        ("", None),  # an empty file (test_an_empty_file_is_called_empty)
        ("\n", None),
        ("\nonly a line\n", "header"),
    ],
)
def test_bad_input_raises_naming_file_and_field(text: str, field: str | None) -> None:
    with pytest.raises(InputError) as err:
        cboe_csv.parse(text, "drop/spx_quotedata.csv")
    assert err.value.field == field
    assert err.value.source == "drop/spx_quotedata.csv"


def test_drop_folder_picks_newest_file_for_the_underlying(tmp_path: Path) -> None:
    for i, name in enumerate(
        [
            "spx_quotedata.csv",
            "SPX_quotedata (1).csv",
            "spxw_quotedata.csv",
            "spy_quotedata.csv",
            "notes.txt",
        ]
    ):
        p = tmp_path / name
        p.write_text(make())
        os.utime(p, (1_700_000_000 + i, 1_700_000_000 + i))
    assert cboe_csv.list_drop_folder(tmp_path, "SPX").name == "SPX_quotedata (1).csv"
    assert cboe_csv.list_drop_folder(tmp_path, "spy").name == "spy_quotedata.csv"
    (tmp_path / "qqq.csv").write_text(make())
    assert cboe_csv.list_drop_folder(tmp_path, "QQQ").name == "qqq.csv"
    with pytest.raises(InputError, match="IWM"):
        cboe_csv.list_drop_folder(tmp_path, "IWM")
    with pytest.raises(InputError):
        cboe_csv.list_drop_folder(tmp_path / "missing", "SPX")
    chain = cboe_csv.read_file(cboe_csv.build_query(tmp_path, "SPX"))
    assert len(chain.contracts) == 6
    with pytest.raises(InputError):
        cboe_csv.read_file(tmp_path / "nope.csv")


def test_fixed_offset_dates_read_as_pandas_reads_them() -> None:
    """EDT/EST stamps are read with the standard library: the same Timestamp (instant, zone
    object, unit) as pandas' ``tz_localize("UTC").tz_convert(New York)`` of the wall clock
    moved by the offset, across both DST changes, midnight and the year's ends; an impossible
    date is the same error."""
    stamps = [
        "Date: March 12, 2023 at 1:59 AM EST",
        "Date: March 12, 2023 at 3:00 AM EDT",
        "Date: November 5, 2023 at 1:30 AM EDT",
        "Date: November 5, 2023 at 1:30 AM EST",
        "Date: December 31, 2023 at 11:59 PM EST",
        "Date: January 1, 2024 at 12:00 AM EST",
        "Date: February 29, 2024 at 9:30 AM EST",
        "Date: September 14, 2023 at 4:31 PM EDT",
        "Date: 23 de marzo de 2022, 8:47 PM EDT",
    ]
    for cell in stamps:
        got = cboe_csv.parse_date_line(cell, "f.csv")
        m = re.search(r"(\d{1,2}):(\d{2}) ([AP])M (E[DS]T)", cell)
        assert m is not None
        hour = int(m[1]) % 12 + (12 if m[3] == "P" else 0)
        day = pd.Timestamp(
            re.sub(r"^Date: | at .*|, \d+:.*", "", cell).replace(" de marzo de ", " March ")
        )
        wall = day + pd.Timedelta(hours=hour, minutes=int(m[2]))
        offset = {"EDT": -4, "EST": -5}[m[4]]
        expected = (
            (wall - pd.Timedelta(hours=offset)).tz_localize("UTC").tz_convert("America/New_York")
        )
        assert got == expected and repr(got) == repr(expected), cell
        assert got.unit == expected.unit and got.tz is expected.tz
    with pytest.raises(InputError, match="impossible date/time .* day is out of range"):
        cboe_csv.parse_date_line("Date: February 30, 2023 at 4:31 PM EDT", "f.csv")


def _boundary_cut_reference(expiry, strike, call_delta, ok, spot, as_of, source, quality):
    """The rule of cboe_csv._check_boundary_cut written plainly (masks, no bisection)."""
    dated = ~np.isnat(expiry)
    ok = np.ones(len(expiry), dtype=bool) if ok is None else ok
    if not dated.any() or not ok.any():
        return
    last_expiry = expiry[np.flatnonzero(dated)[-1]]
    e, k, d = expiry[ok].astype("datetime64[ns]").view(np.int64), strike[ok], call_delta[ok]
    same = e[1:] == e[:-1]
    last = e == np.datetime64(last_expiry, "ns").astype(np.int64)
    if not (np.all(e[1:] >= e[:-1]) and np.all(k[1:][same] >= k[:-1][same])) or not last.any():
        return
    day, top = str(np.datetime64(last_expiry, "D")), float(k[last].max())
    if top < spot <= float(k.max()):
        raise InputError(source, "Strike", f"cut {day} {top:g}")
    if np.isfinite(d[last][-1]) and d[last][-1] >= cboe_csv.CUT_TOP_CALL_DELTA:
        quality.warn(f"delta {day} {top:g}")
    snapshot = np.datetime64(as_of.tz_convert("America/New_York").date(), "D")
    if int((np.datetime64(last_expiry, "D") - snapshot) // np.timedelta64(1, "D")) < 90:
        quality.warn(f"near {day}")


def test_boundary_cut_check_against_its_plain_rule() -> None:
    rng = np.random.default_rng(7)
    as_of = pd.Timestamp("2023-09-14 16:31", tz="America/New_York")
    for trial in range(1500):
        n = int(rng.integers(1, 40))
        days = np.sort(rng.integers(0, 6, n)) if trial % 3 else rng.integers(0, 6, n)
        expiry = (np.datetime64("2023-09-15") + days * np.timedelta64(30, "D")).astype("M8[ns]")
        strike = np.concatenate([np.sort(rng.integers(1, 9, n)) * 10.0])
        if trial % 5 == 0:
            order = np.lexsort((strike, expiry))
            expiry, strike = expiry[order], strike[order]
        delta = rng.uniform(0, 1, n)
        ok = None if trial % 2 else rng.uniform(size=n) < 0.8
        if ok is not None:
            expiry = np.where(rng.uniform(size=n) < 0.1, np.datetime64("NaT"), expiry)
            ok &= ~np.isnat(expiry)
        spot = float(rng.integers(1, 10) * 10 - 5)
        outcomes = []
        for check in (cboe_csv._check_boundary_cut, _boundary_cut_reference):
            q = Quality(source="f.csv")
            try:
                check(expiry, strike, delta, ok, spot, as_of, "f.csv", q)
                kinds = sorted("delta" if "delta" in w else "near" for w in q.warnings)
                outcomes.append(("ok", tuple(kinds)))
            except InputError:
                outcomes.append(("error", 0))
        assert len(set(outcomes)) <= 1, (trial, outcomes)


@pytest.mark.parametrize(
    ("end", "says"),
    [
        ("\n", "line 4, the quote table's header, is blank: the file ends or breaks after"),
        ("\n\n", "line 4, the quote table's header, is blank: the file ends or breaks after"),
        ("", "file has 3 line(s); expected spot, date and header lines"),
    ],
)
def test_a_file_cut_after_its_date_line_says_the_table_is_missing(end: str, says: str) -> None:
    """The first three lines of a real export (a newcomer's cut download): the error said
    "header has 0 columns, column 1 ('Expiration Date') is missing"."""
    lines = make().split("\n")[:3]
    with pytest.raises(InputError) as err:
        cboe_csv.parse("\n".join(lines) + end, "drop/spy_quotedata.csv")
    assert err.value.field == "header"
    assert says in str(err.value)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda row: ",".join(row.split(",")[:8]), "8 fields where the header has 22"),  # cut short
        (lambda row: row.replace(",0.12,", ",0.12,0.5,", 1), "23 fields where the header has 22"),
        (lambda row: row.replace(",1,19.5,", ",119.5,", 1), "21 fields where the header has 22"),
        # cut inside its 8th field and run into the next line: 8 + 22 - 1 fields
        (lambda row: ",".join(row.split(",")[:8]) + row, "29 fields where the header has 22"),
    ],
    ids=["cut-short", "comma-added", "comma-lost", "two-lines-in-one"],
)
@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_line_of_another_width_is_refused_with_its_line(edit, says: str, line_end: str) -> None:
    """A damaged data line in the middle of the file (its line end kept) is refused naming the
    line: pandas padded a short line with NaN and the values after the break landed in the
    wrong columns (the short line was then skipped as "strike missing", or not at all)."""
    rows = [ROWS[0], edit(ROWS[0]), ROWS[1], ROWS[2]]
    text = make(rows).replace("\n", line_end)
    with pytest.raises(InputError) as err:
        cboe_csv.parse(text, "drop/spx_quotedata.csv")
    assert err.value.field == "line 6"  # the second data line (header on line 4)
    assert says in str(err.value) and "whole file is refused" in str(err.value)
    # the same rows without the damage are read
    assert len(cboe_csv.parse(make([ROWS[0], ROWS[1], ROWS[2]]), "f.csv").contracts) == 6


def test_a_quoted_cell_with_a_comma_keeps_the_line_regular() -> None:
    """The width count reads a line with quotes as CSV: a quoted comma is not a field break."""
    quoted = ROWS[2].replace(",1,0.15,", ',"1,000",0.15,', 1)  # a call volume of 1,000
    assert quoted.count(",") == ROWS[2].count(",") + 1
    chain = cboe_csv.parse(make([ROWS[0], ROWS[1], quoted]), "f.csv")
    assert len(chain.contracts) == 6


@pytest.mark.parametrize(
    "raw", [b"", b"\xef\xbb\xbf", b"\n\n  \r\n", b"\xff\xfe", "".encode("utf-16")], ids=repr
)
def test_an_empty_file_is_called_empty(raw: bytes) -> None:
    """No bytes, blanks only or a byte-order mark only: "empty file", not "file has 1 line(s);
    expected spot, date and header lines" (or a missing spot in a blank line 2)."""
    from flows.sources import cboe

    with pytest.raises(InputError) as err:
        cboe_csv.parse(raw, "drop/spy_quotedata.csv")
    assert err.value.field is None and err.value.reason.startswith("empty file")
    with pytest.raises(InputError) as err:
        cboe.parse(raw, source="cboe:SPY")
    assert err.value.reason.startswith("empty body")


def test_the_gamma_command_calls_an_empty_file_empty(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from jobs.commands.gamma import gamma

    for name, raw in (("chain.json", b""), ("quotes.csv", b"\xef\xbb\xbf\n")):
        path = tmp_path / name
        path.write_bytes(raw)
        res = CliRunner().invoke(gamma, [str(path)])
        assert res.exit_code == 2
        assert res.stderr.strip() == (
            f"error: {path}: empty file (expected CBOE options JSON or a CBOE quote-table CSV)"
        )
