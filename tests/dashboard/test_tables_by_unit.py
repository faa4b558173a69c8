"""The dashboard's tables and cards format numbers by the declared unit, never by a column's name."""

from __future__ import annotations

import pandas as pd

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
        usd["headerName"] == "pct_move_usd (USD (+ = buy))"
        and usd["type"] == "numericColumn"
        and usd["filter"] == "agNumberColumnFilter"
    )
    assert usd["valueFormatter"] == {
        "function": "params.value == null ? '' : d3.format(',.0f')(params.value)"
    }
    assert (
        "d3.format(',.2f')" in by_id["flow_share_usd"]["valueFormatter"]["function"]
        and by_id["flow_share_usd"]["headerName"] == "flow_share_usd (%)"
    )
    assert (
        "d3.format(',.0f')" in by_id["missing"]["valueFormatter"]["function"]
        and by_id["missing"]["headerName"] == "missing (contracts)"
    )
    assert (
        "valueFormatter" not in by_id["ok"]
        and by_id["ok"]["headerName"] == "ok"
        and by_id["when"]["headerName"] == "when"
        and "filter" not in by_id["when"]
    )
    assert records == [
        {
            "pct_move_usd": 1.5e9,
            "flow_share_usd": 12.345,
            "when": "2026-01-02 15:30 EST",
            "day": "2026-01-02",
            "ok": True,
            "missing": None,
        }
    ]

    records, columns = table_data(frame, {"pct_move_usd": "Flow", "day": "Day"}, units)
    assert [c["headerName"] for c in columns] == ["Flow (USD (+ = buy))", "Day"]
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
