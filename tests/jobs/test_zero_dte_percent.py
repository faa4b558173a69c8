"""The 0DTE share is a percentage wherever people read it (the gamma page's card says "23.4%"):
the CLI summary, the brief's PDF, the key-levels grids (tests/dashboard/test_tables_by_unit.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from jobs import declarations

CHAIN = Path(__file__).parents[1] / "data" / "cases" / "gamma-missing-source-gamma" / "chain.json"


def test_gamma_cli_prints_the_zero_dte_share_as_a_percentage() -> None:
    from jobs.commands.gamma import gamma

    doc = json.loads(CliRunner().invoke(gamma, [str(CHAIN), "--json"]).stdout)
    share = doc["zero_dte_share"]  # machines keep the fraction (declared 0-1)
    assert 0.0 <= share <= 1.0
    res = CliRunner().invoke(gamma, [str(CHAIN)])
    assert res.exit_code == 0, res.output
    [line] = [ln for ln in res.output.splitlines() if ln.startswith("0DTE")]
    assert f"{100.0 * share:.1f}% of gross GEX" in line, line


def test_brief_pdf_writes_the_zero_dte_share_as_a_percentage() -> None:
    from jobs.tasks.board import BRIEF_FLOW_COLUMNS, brief_figure

    tables = declarations.empty_tables("board.brief")
    levels = declarations.empty_table("board.brief", "levels")
    row = {c: np.nan for c in levels.columns}
    row.update(
        underlying="SPX",
        regime="short gamma",
        spot=6000.0,
        zero_dte_share=0.2346,
        net_gex_usd_per_1pct=-1.5e9,
    )
    tables["levels"] = pd.DataFrame([row]).astype(levels.dtypes.to_dict())
    fig = brief_figure(tables, title="t", subtitle="s", notes="")
    [lv] = [t for t in fig.data if t.type == "table" and "Spot" in t.header.values]
    heads = list(lv.header.values)
    assert heads[-1] == "0DTE share (% of gross GEX)"
    assert list(lv.cells.values[-1]) == ["23.5%"]  # 0.2346 -> 23.5 %, as on the gamma page
    # the PDF's flow columns are the declared titles (the web brief shows the same)
    flows = declarations.lookup("board.brief").table("flows")
    assert [t for c, t in BRIEF_FLOW_COLUMNS[1:]] == [
        flows.column(c).title for c, _t in BRIEF_FLOW_COLUMNS[1:]
    ]
