"""The dashboard's tables and cards format numbers by the declared unit, never by a column's name."""

from __future__ import annotations

import pandas as pd

from dashboard.components import frame_table, headline_units, table_data
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
    units = {"pct_move_usd": "USD (+ = buy)", "flow_share_usd": "%", "when": "time (with time zone)", "day": "date", "ok": "true / false", "missing": "contracts"}
    records, columns = frame_table(frame, units)
    by_id = {c["id"]: c for c in columns}
    assert by_id["pct_move_usd"] == {"name": "pct_move_usd (USD (+ = buy))", "id": "pct_move_usd", "type": "numeric", "format": {"specifier": ",.0f"}}
    assert by_id["flow_share_usd"]["format"] == {"specifier": ",.2f"} and by_id["flow_share_usd"]["name"] == "flow_share_usd (%)"
    assert by_id["missing"]["format"] == {"specifier": ",.0f"} and by_id["missing"]["name"] == "missing (contracts)"
    assert by_id["ok"] == {"name": "ok", "id": "ok"} and by_id["when"] == {"name": "when", "id": "when"}
    assert records == [{"pct_move_usd": 1.5e9, "flow_share_usd": 12.345, "when": "2026-01-02 15:30 EST", "day": "2026-01-02", "ok": True, "missing": None}]

    records, columns = table_data(frame, {"pct_move_usd": "Flow", "day": "Day"}, units)
    assert [c["name"] for c in columns] == ["Flow (USD (+ = buy))", "Day"]
    assert records == [{"pct_move_usd": 1.5e9, "day": "2026-01-02"}]


def test_headline_units_stored_or_declared() -> None:
    def meta(name: str, **kw) -> ResultMeta:
        return ResultMeta(name=name, version="v", as_of="", computed_at="", source="", schema_version=1, rows=0, tables=[], headline={"spot": 1.0, "regime": "long gamma"}, **kw)

    assert headline_units(meta("gamma.SPX", headline_units={"spot": "stored unit"})) == {"spot": "stored unit"}
    assert headline_units(meta("gamma.SPX")) == {"spot": "index points / USD per share", "regime": "label"}  # stored before units were
    assert headline_units(meta("nobody.declared")) == {}
