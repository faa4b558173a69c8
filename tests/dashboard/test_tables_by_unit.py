"""The dashboard's tables and cards format numbers by the declared unit, never by a column's name."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.components import export_params, frame_table, headline_units, rows_block, table_data
from jobs.store import ResultMeta


def test_numbers_are_formatted_by_their_unit_not_their_name() -> None:
    # names that the old guessing read wrongly on purpose: "pct" in a USD column, "_usd" in a percentage
    frame = pd.DataFrame(
        {
            "pct_move_usd": [1.5e9],
            "flow_share_usd": [12.345],
            "when": pd.to_datetime(["2026-01-02 15:30"]).tz_localize("America/New_York"),
            "day": pd.to_datetime(["2026-01-02"]),
            "ok": [True],
            "missing": [float("nan")],
        }
    )
    units = {
        "pct_move_usd": "USD (+ = buy)",
        "flow_share_usd": "%",
        "when": "time (with time zone)",
        "day": "date",
        "ok": "true / false",
        "missing": "contracts",
    }
    records, columns = frame_table(frame, units)
    by_id = {c["field"]: c for c in columns}
    usd = by_id["pct_move_usd"]
    assert (
        usd["headerName"] == "Pct move usd (USD, + = buy)"  # undeclared: its name in words
        and usd["type"] == "numericColumn"
        and usd["filter"] == "agNumberColumnFilter"
    )
    assert usd["valueFormatter"] == {
        "function": "params.value == null ? '' : d3.format(',.0f')(params.value)"
    }
    assert (
        "d3.format(',.2f')" in by_id["flow_share_usd"]["valueFormatter"]["function"]
        and by_id["flow_share_usd"]["headerName"] == "Flow share usd (%)"
    )
    assert (
        "d3.format(',.0f')" in by_id["missing"]["valueFormatter"]["function"]
        and by_id["missing"]["headerName"] == "Missing (contracts)"
    )
    assert (
        "valueFormatter" not in by_id["ok"]
        and by_id["ok"]["headerName"] == "Ok"
        and by_id["when"]["headerName"] == "When"
        and "filter" not in by_id["when"]
    )
    assert records == [
        {
            "pct_move_usd": 1.5e9,
            "flow_share_usd": 12.345,
            "when": "2026-01-02 15:30 EST",
            "day": "2026-01-02",
            "ok": "yes",  # a boolean in words, as a desk reads it
            "missing": None,
        }
    ]

    records, columns = table_data(frame, {"pct_move_usd": "Flow", "day": "Day"}, units)
    assert [c["headerName"] for c in columns] == ["Flow (USD, + = buy)", "Day"]
    assert records == [{"pct_move_usd": 1.5e9, "day": "2026-01-02"}]


def test_headline_units_stored_or_declared() -> None:
    def meta(name: str, **kw) -> ResultMeta:
        return ResultMeta(
            name=name,
            version="v",
            as_of="",
            computed_at="",
            source="",
            schema_version=1,
            rows=0,
            tables=[],
            headline={"spot": 1.0, "regime": "long gamma"},
            **kw,
        )

    assert headline_units(meta("gamma.SPX", headline_units={"spot": "stored unit"})) == {
        "spot": "stored unit"
    }
    assert headline_units(meta("gamma.SPX")) == {
        "spot": "index points / USD per share",
        "regime": "label",
    }  # stored before units were
    assert headline_units(meta("nobody.declared")) == {}


def test_export_file_names_page_date_and_scenario(monkeypatch) -> None:
    monkeypatch.setattr("dashboard.components.desk_tz", lambda: "America/New_York")
    # 02:30 UTC on 1 December is still 30 November at the desk
    assert export_params("board-ranking", "2026-12-01T02:30:00+00:00", "iv+5") == {
        "fileName": "board-ranking_2026-11-30_iv+5.csv"
    }
    assert export_params("cftc", "2026-11-17", None) == {"fileName": "cftc_2026-11-17.csv"}
    assert export_params("letf-funds", "2026-11-30T15:00:00+00:00", "SPX move -3%") == {
        "fileName": "letf-funds_2026-11-30_SPX_move_-3.csv"
    }


def test_rows_block_filters_sorts_and_pages_on_the_numbers() -> None:
    frame = pd.DataFrame(
        {
            "strike": [100.0, 90.0, 110.0, 95.0, 105.0],
            "kind": ["call", "put", "call", "put", "call"],
            "gex_usd": [5.0, -2.0, 1.0, -7.0, 3.0],
        }
    )
    units = {"strike": "index points / USD per share", "kind": "label", "gex_usd": "USD"}
    # no model: rows in stored order, the total count for the pager
    block = rows_block(frame, {"startRow": 0, "endRow": 2}, units)
    assert block["rowCount"] == 5 and [r["strike"] for r in block["rowData"]] == [100.0, 90.0]
    # sorted by GEX descending, second block of two
    block = rows_block(
        frame,
        {"startRow": 2, "endRow": 4, "sortModel": [{"colId": "gex_usd", "sort": "desc"}]},
        units,
    )
    assert [r["gex_usd"] for r in block["rowData"]] == [1.0, -2.0]
    # text filter (case-insensitive) and a number range; an unknown column is ignored
    req = {
        "startRow": 0,
        "endRow": 10,
        "filterModel": {
            "kind": {"filterType": "text", "type": "contains", "filter": "CALL"},
            "strike": {"filterType": "number", "type": "inRange", "filter": 100, "filterTo": 110},
            "nope": {"filterType": "text", "type": "equals", "filter": "x"},
        },
        "sortModel": [{"colId": "strike", "sort": "asc"}],
    }
    block = rows_block(frame, req, units)
    assert block["rowCount"] == 3 and [r["strike"] for r in block["rowData"]] == [
        100.0,
        105.0,
        110.0,
    ]
    # two conditions joined by OR
    req = {
        "startRow": 0,
        "endRow": 10,
        "filterModel": {
            "gex_usd": {
                "filterType": "number",
                "operator": "OR",
                "conditions": [
                    {"filterType": "number", "type": "lessThan", "filter": -5},
                    {"filterType": "number", "type": "greaterThan", "filter": 4},
                ],
            }
        },
    }
    assert sorted(r["gex_usd"] for r in rows_block(frame, req, units)["rowData"]) == [-7.0, 5.0]


def test_headers_are_the_declared_titles_and_empty_adv_says_so() -> None:
    """The explorer's grid: titles and units from ``board.scenarios``' declaration (found from the
    table's units), ``no ADV`` in the ADV cells of an index, fractions held as percentages."""
    from jobs import declarations

    units = declarations.lookup("board.scenarios").units()["grid"]
    frame = pd.DataFrame(
        {
            "underlying": ["SPX", "NVDA"],
            "total_usd": [-7.5e10, -1.0e9],
            "adv_usd": [float("nan"), 4.0e10],
            "total_pct_adv": [float("nan"), 2.5],
        }
    )
    records, columns = table_data(
        frame,
        ("underlying", "total_usd", "adv_usd", "total_pct_adv"),
        units,
        missing={"adv_usd": "no ADV", "total_pct_adv": "no ADV"},
    )
    assert [c["headerName"] for c in columns] == [
        "Underlying",
        "Total (USD, + = buy)",
        "ADV (USD per day)",
        "Total (% of ADV)",
    ]
    by_id = {c["field"]: c for c in columns}
    assert by_id["adv_usd"]["valueFormatter"]["function"].startswith(
        "params.value == null ? 'no ADV' : d3.format(',.0f')"
    )
    assert "'no ADV'" in by_id["total_pct_adv"]["valueFormatter"]["function"]
    assert "'no ADV'" not in by_id["total_usd"]["valueFormatter"]["function"]
    assert records[0]["adv_usd"] is None and records[1]["adv_usd"] == 4.0e10  # stays a number
    # a page title overrides the declared one; None keeps it
    _, cols = table_data(frame, {"underlying": "Name", "total_usd": None}, units)
    assert [c["headerName"] for c in cols] == ["Name", "Total (USD, + = buy)"]


def test_fractions_are_held_as_the_percentages_their_header_states() -> None:
    from jobs import declarations

    units = declarations.lookup("board.scenarios").units()["levels"]
    frame = pd.DataFrame({"underlying": ["SPX", "QQQ"], "zero_dte_share": [0.234, 0.05]})
    records, columns = frame_table(frame, units)
    share = {c["field"]: c for c in columns}["zero_dte_share"]
    assert share["headerName"] == "0DTE share of gross GEX (%)"
    assert "d3.format(',.2f')" in share["valueFormatter"]["function"]
    assert [r["zero_dte_share"] for r in records] == pytest.approx([23.4, 5.0])
    assert frame["zero_dte_share"].tolist() == [0.234, 0.05]  # the published frame is untouched
    # the infinite model filters and sorts on the numbers shown: "> 10 %" keeps SPX only
    block = rows_block(
        frame,
        {
            "startRow": 0,
            "endRow": 10,
            "filterModel": {
                "zero_dte_share": {"filterType": "number", "type": "greaterThan", "filter": 10}
            },
        },
        units,
    )
    assert block["rowCount"] == 1 and block["rowData"][0]["zero_dte_share"] == pytest.approx(23.4)


def test_a_page_column_keeps_the_declared_titles_of_the_others() -> None:
    from jobs import declarations

    units = {**declarations.lookup("cta.<INDEX>").units()["calibration"], "result": "label"}
    frame = pd.DataFrame({"result": ["cta.SPX"], "aum_usd": [3.0e11], "method": ["configured"]})
    _, columns = frame_table(frame, units, own={"result": "Result"})
    assert [c["headerName"] for c in columns] == ["Result", "Assets in force (USD)", "Method"]


def test_grids_size_to_their_rows_and_export_numbers() -> None:
    from dashboard.components import grid, list_grid

    box = grid("t-grid", page_size=12)
    csv, ag = box.children
    assert csv.id == "t-grid-csv"
    assert ag.dashGridOptions["domLayout"] == "autoHeight" and "height" not in ag.style
    assert ag.dashGridOptions["paginationPageSize"] == 12  # a long table pages
    assert (
        ag.defaultColDef["useValueFormatterForExport"] is False
    )  # CSV: 1234567.5, not "1,234,568"
    infinite = grid("t-inf", page_size=50, infinite=True, export=False).children[0]
    assert "domLayout" not in infinite.dashGridOptions and infinite.style["height"]
    # the operational lists have a CSV button too, and room for their long texts
    listed = list_grid(
        "t-list", [("job", "Job"), ("error", "Error")], page_size=5, wide={"error": 300}
    )
    assert listed.children[0].id == "t-list-csv"
    cols = {c["field"]: c for c in listed.children[1].columnDefs}
    assert cols["error"]["minWidth"] == 300 and "minWidth" not in cols["job"]


def test_the_quality_note_says_a_share_counted_by_rows() -> None:
    from dashboard.components import quality_note
    from flows.quality import Quality

    q = Quality(source="u.csv", basis="AUM", total_rows=6, total_weight=42e9)
    q.skip("assets not readable", 1, None, where=["TQQQ line 2"])
    meta = ResultMeta(
        name="letf.flows",
        version="1",
        as_of="2026-06-01T00:00:00+00:00",
        computed_at="2026-06-01T00:00:00+00:00",
        source="u.csv",
        schema_version=1,
        rows=5,
        tables=["main"],
        quality=q.to_dict(),
    )
    text = quality_note(meta)[0].children
    assert text == " · input: 6 rows, 1 skipped (16.67 % of rows)"
