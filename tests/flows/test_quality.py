"""flows.quality and flows.limits: skipped share, refusal threshold, plausibility table."""

from __future__ import annotations

import numpy as np
import pytest

from flows.errors import InputError
from flows.limits import LIMITS, check_range, markdown_table
from flows.quality import Quality, QualityError, combine, enforce


def test_skipped_share_by_weight_and_conservative_for_unweighed_rows() -> None:
    q = Quality(source="f.csv", basis="open interest", total_rows=100, total_weight=1000.0)
    q.skip("gamma: not a number", rows=2, weight=5.0)
    assert q.skipped_share == pytest.approx(0.005)
    enforce(q, 0.01)  # 0.5 % < 1 %: kept
    q.skip("open_interest: '-'", rows=3, weight=None)  # weight unknown: row share (5 %) bounds it
    assert q.skipped_share == pytest.approx(0.05) and q.counted_by_rows
    # a row count is never presented as a share of open interest
    with pytest.raises(
        QualityError,
        match=r"f\.csv: refused: 5\.00 % of rows skipped \(limit 1\.00 %\): 5 of 100 rows skipped "
        r"\(counted by rows: 3 without a readable open interest\)",
    ):
        enforce(q, 0.01)
    assert isinstance(QualityError(q, 0.01), InputError)


def test_round_trip_merge_and_headline() -> None:
    a = Quality(source="a", basis="AUM", total_rows=10, total_weight=100.0)
    a.skip("negative assets", weight=10.0)
    a.warn("stale file")
    a.warn("stale file")
    b = Quality(source="b", basis="AUM", total_rows=5, total_weight=100.0)
    b.repair("bom removed")
    m = combine([a, b])
    assert m is not None and m.total_rows == 15 and m.skipped_share == pytest.approx(0.05)
    assert m.warnings == ["stale file"] and m.repairs == {"bom removed": 1}
    again = Quality.from_dict(m.to_dict())
    assert again.to_dict() == m.to_dict()
    assert m.headline() == {"quality_skipped_share": pytest.approx(0.05), "quality_warnings": 1}
    assert "1 of 15 rows skipped (5.00 % of AUM)" in m.summary()
    assert combine([]) is None
    assert m.source == "a; b"


def test_merged_sources_name_each_file_once() -> None:
    """Several tables read from the same files: each file is named once, in first-seen order."""
    parts = [Quality(source=s, basis="positions") for s in ("f1, f2", "f1", "f1", "f2", "tff")]
    merged = combine(parts)
    assert merged is not None and merged.source == "f1; f2; tff"
    assert combine([Quality(source="x", basis="rows")] * 3).source == "x"  # type: ignore[union-attr]


def test_check_range_names_source_row_and_field() -> None:
    check_range([1.0, 2.0, np.nan], "letf.leverage", "u.csv")
    with pytest.raises(
        InputError, match=r"u\.csv: leverage: 1 value\(s\) outside .*e\.g\. 30 \(row 7\)"
    ):
        check_range([3.0, 30.0], "letf.leverage", "u.csv", rows=[6, 7], field="leverage")
    with pytest.raises(InputError, match="inf"):
        check_range([np.inf], "option.iv", "x")
    with pytest.raises(InputError):
        check_range([np.nan], "option.iv", "x", ignore_nan=False)


def test_every_limit_is_documented() -> None:
    table = markdown_table()
    for key, lim in LIMITS.items():
        assert f"`{key}`" in table and lim.why and lim.unit


def test_a_refusal_names_the_skipped_rows() -> None:
    """The field's complaint: one fund of six without a readable AUM was refused as "16.67 % of
    AUM skipped", a row count, without saying which fund."""
    q = Quality(source="u.csv", basis="AUM", total_rows=6, total_weight=42e9)
    q.skip("assets not readable", 1, None, where=["TQQQ line 2"])
    assert str(QualityError(q, 0.01)) == (
        "u.csv: refused: 16.67 % of rows skipped (limit 1.00 %): 1 of 6 rows skipped "
        "(counted by rows: 1 without a readable AUM): assets not readable (1 row: TQQQ line 2)"
    )
    # weighed rows keep the share of the basis; at most EXAMPLES names per reason, kept on merge
    w = Quality(source="c.csv", basis="open interest", total_rows=100, total_weight=1000.0)
    w.skip("gamma: not a number", 4, 5.0, where=[f"X{i} line {i + 2}" for i in range(4)])
    assert not w.counted_by_rows and w.share_text() == "0.50 % of open interest"
    assert w.examples == {"gamma: not a number": ["X0 line 2", "X1 line 3", "X2 line 4"]}
    assert "gamma: not a number (4 rows: X0 line 2, X1 line 3, X2 line 4)" in w.summary()
    assert q.to_dict()["share_text"] == "16.67 % of rows"  # what the pages show beside a result
    m = combine([q, Quality.from_dict(q.to_dict())])
    assert m is not None and m.examples == {"assets not readable": ["TQQQ line 2"]}


def test_a_refusal_counted_by_rows_names_the_unreadable_rows_first() -> None:
    """A newcomer's universe: 19 rows skipped as usual (small funds) and one fund whose assets
    read 'NaN'.  That one row makes the share count rows and so decides the refusal; the message
    listed only the three most frequent reasons and never named it."""
    q = Quality(source="u.csv", basis="AUM", total_rows=745, total_weight=216.9e9)
    q.skip("unknown underlying", 13, 0.4e9, where=["ARMG line 39", "ASMG line 41"])
    q.skip("direction not long/short", 5, 0.2e9, where=["BNKU line 82 reads ''"])
    q.skip("leverage not readable", 1, 0.05e9, where=["HZOZF line 264 reads ''"])
    q.skip("asset class not readable", 1, 0.01e9, where=["XYZ line 9 reads '-'"])
    q.skip("assets not readable", 1, None, where=["ORLG line 413 reads 'NaN'"])
    assert q.counted_by_rows and q.row_share == pytest.approx(21 / 745)
    text = str(QualityError(q, 0.01))
    assert text.startswith(
        "u.csv: refused: 2.82 % of rows skipped (limit 1.00 %): 21 of 745 rows skipped "
        "(counted by rows: 1 without a readable AUM): "
        "assets not readable (1 row: ORLG line 413 reads 'NaN'), unknown underlying (13 rows"
    )
    assert text.endswith("and 2 more reasons")
    # the record keeps which reasons had no readable weight, through storage and merges
    again = Quality.from_dict(q.to_dict())
    assert again.unweighed_reasons == {"assets not readable": 1}
    assert again.skipped_share == pytest.approx(q.skipped_share) and again.counted_by_rows
    merged = combine([q, again])
    assert merged is not None and merged.unweighed_reasons == {"assets not readable": 2}
    # weighed rows only: the most frequent reasons first, as before
    q.unweighed_reasons.clear()
    assert "skipped (0.30 % of AUM): unknown underlying (13 rows" in q.summary()


def test_limits_are_written_with_every_digit_never_an_exponent() -> None:
    """A newcomer read "[0, 5e+07] contracts, e.g. -1000.0" in a refusal."""
    from flows.limits import plain_number

    assert [plain_number(x) for x in (5e7, -1000.0, 1e-8, -0.0, 1327.5, 12345678.9, 0.25)] == [
        "50,000,000",
        "-1,000",
        "0.00000001",
        "0",
        "1,327.5",
        "12,345,678.9",
        "0.25",
    ]
    assert [plain_number(x) for x in (np.inf, -np.inf, np.nan)] == ["inf", "-inf", "nan"]
    with pytest.raises(InputError) as err:
        check_range([10.0, -1000.0], "option.open_interest", "spy.csv", rows=[4, 5])
    assert "outside the plausible range [0, 50,000,000] contracts, e.g. -1,000 (row 5)" in str(
        err.value
    )
    assert "e+" not in markdown_table()


def test_repairs_are_counted_as_repairs_not_rows() -> None:
    """The quote table repairs cells (IV, delta, gamma of one side): "1176 repaired" beside
    "720 rows" read as more rows repaired than the file held."""
    q = Quality(source="spy.csv", basis="open interest", total_rows=2, total_weight=10.0)
    q.repair("IV: not a number (e.g. 'abc'), taken as missing", 2)
    q.repair("Gamma: empty cell, taken as missing", 2)
    assert q.summary() == (
        "2 rows, none skipped; 4 repairs: IV: not a number (e.g. 'abc'), taken as missing (2), "
        "Gamma: empty cell, taken as missing (2)"
    )
    one = Quality(source="u.csv", total_rows=3)
    one.repair("exact duplicate row dropped")
    assert one.summary() == "3 rows, none skipped; 1 repair: exact duplicate row dropped (1)"
