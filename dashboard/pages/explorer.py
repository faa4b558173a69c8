"""Scenario explorer: pick the index move, the IV shock and the underlyings; the chart and table update.

Server callbacks select rows of the cached ``board.scenarios`` result: the ``totals`` table gives
the cards (sums over every underlying, computed by the ``board`` task for every move of the grid
and every configured IV shock), the ``underlyings`` table the list, the ``grid`` table the chart
and table rows (narrowed to the chosen underlyings).  Nothing is computed here.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, display
from dashboard.components import (
    card,
    export_params,
    grid,
    grid_exports,
    missing,
    table_data,
    times_line,
)
from dashboard.figures import board as bfig
from dashboard.figures.common import empty
from dashboard.render_cache import VIEWS, cached_view, warmer
from jobs.store import ResultNotFound

dash.register_page(
    __name__,
    path="/explorer",
    name="Scenario explorer",
    order=5,
    title="flowdesk · Scenario explorer",
)

log = logging.getLogger("flowdesk.web.explorer")
RESULT = "board.scenarios"
COLUMNS = (
    "underlying",
    "move_pct",
    "dealer_gamma_usd",
    "dealer_vanna_usd",
    "dealer_charm_usd",
    "letf_usd",
    "total_usd",
    "adv_usd",
    "total_pct_adv",
)
"""The table's columns of ``grid``, under their declared titles and units."""
NO_ADV = {"adv_usd": "no ADV", "total_pct_adv": "no ADV"}
"""What the ADV cells of a row without an ADV say (the indices: SPX, NDX)."""


grid_exports("explorer-table")


def layout(move: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        [
            html.H2("Scenario explorer", className="fd-page-title"),
            html.Div(id="explorer-provenance", className="fd-provenance"),
            html.Div(
                [
                    html.Label(
                        "Index move (%)", htmlFor="explorer-move", className="fd-control-label"
                    ),
                    html.Div(
                        dcc.Slider(
                            id="explorer-move",
                            min=-10,
                            max=10,
                            step=0.5,
                            value=float(move) if move else -3.0,
                            marks={},
                        ),
                        style={"width": "520px"},
                    ),
                    html.Label(
                        "IV shock (vol points)",
                        htmlFor="explorer-shock",
                        className="fd-control-label",
                    ),
                    dcc.RadioItems(id="explorer-shock", options=[], value=0.0, inline=True),
                ],
                className="fd-controls",
            ),
            html.Div(
                [
                    html.Label(
                        "Underlyings", htmlFor="explorer-underlyings", className="fd-control-label"
                    ),
                    dcc.Dropdown(
                        id="explorer-underlyings",
                        options=[],
                        value=[],
                        multi=True,
                        placeholder="all with dealer or leveraged-ETF flow",
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(id="explorer-cards", className="fd-cards"),
            html.Div(
                [
                    html.Div(
                        dcc.Graph(
                            id="explorer-chart",
                            figure=empty("Loading…"),
                            config={"displaylogo": False},
                        ),
                        className="fd-col",
                    ),
                    html.Div(
                        dcc.Graph(
                            id="explorer-adv",
                            figure=empty("Loading…"),
                            config={"displaylogo": False},
                        ),
                        className="fd-col",
                    ),
                ],
                className="fd-row",
            ),
            grid("explorer-table", page_size=15),
            dcc.Store(id="explorer-init"),
        ],
        className="fd-page",
    )


def _board(*tables: str) -> tuple[Any, dict[str, pd.DataFrame]]:
    res = data.read_current(RESULT, tables=list(tables))
    return res.meta, res.tables


def _bn(v: Any, unit: str | None) -> str:
    """USD in bn, ``+12.34 bn USD`` (the board's style), by the declared ``unit``."""
    return display.value(v, unit, scale="bn", style="code")


@callback(
    Output("explorer-move", "marks"),
    Output("explorer-move", "step"),
    Output("explorer-move", "min"),
    Output("explorer-move", "max"),
    Output("explorer-shock", "options"),
    Output("explorer-underlyings", "options"),
    Output("explorer-provenance", "children"),
    Input("explorer-init", "data"),
    Input("data-version", "data"),
)
def controls(_init: Any, _n: int) -> tuple:
    try:
        meta, tables = _board("totals", "underlyings", "inputs")
    except (
        ResultNotFound,
        KeyError,
    ):  # none yet, or a board published before its "underlyings" table
        return {}, 1.0, -10, 10, [], [], missing(RESULT)
    totals = tables["totals"]
    moves = np.sort(totals["index_move_pct"].unique())
    # Label every second whole percent; the step lets the handle stop on every grid move.
    marks = {int(m): display.signed(m) for m in moves if float(m).is_integer() and int(m) % 2 == 0}
    step = float(np.min(np.diff(moves))) if moves.size > 1 else 1.0
    shocks = [
        {"label": display.signed(s), "value": float(s)}
        for s in sorted(totals["iv_shock_pts"].unique())
    ]
    options = [{"label": u, "value": u} for u in tables["underlyings"]["underlying"]]
    return (
        marks,
        step,
        float(moves.min()),
        float(moves.max()),
        shocks,
        options,
        # the inputs' own as-of times (freshest, oldest flagged), as on the board: the board's
        # as-of alone is its oldest input's (the CFTC week)
        times_line(
            meta,
            tables["inputs"],
            tz=data.settings().service.timezone,
            stale_after_minutes=None,
            line_id="explorer-times",
        ),
    )


@callback(
    Output("explorer-cards", "children"),
    Output("explorer-chart", "figure"),
    Output("explorer-adv", "figure"),
    Output("explorer-table", "rowData"),
    Output("explorer-table", "columnDefs"),
    Output("explorer-table", "csvExportParams"),
    Input("explorer-move", "value"),
    Input("explorer-shock", "value"),
    Input("explorer-underlyings", "value"),
    State("data-version", "data"),
)
@cached_view("explorer", lambda *_a: RESULT, task="board", skip=(3,))
def explore(
    move: float | None, shock: float | None, underlyings: list[str] | None, _n: int
) -> tuple:
    try:
        meta, tables = _board("grid", "totals", "underlyings")
    except (
        ResultNotFound,
        KeyError,
    ):  # none yet, or a board published before its "underlyings" table
        return [], empty("No board yet"), empty("No board yet"), [], [], {}
    move = -3.0 if move is None else float(move)
    shock = 0.0 if shock is None else float(shock)
    index = meta.headline.get("index", "index")
    by_underlying, totals = tables["grid"], tables["totals"]
    at = totals[
        np.isclose(totals["index_move_pct"], move) & np.isclose(totals["iv_shock_pts"], shock)
    ]
    total = at.iloc[0] if not at.empty else pd.Series(dtype=float)
    active = tables["underlyings"]["underlying"]
    shown = list(underlyings) if underlyings else list(active)
    rows = by_underlying[
        np.isclose(by_underlying["index_move_pct"], move)
        & np.isclose(by_underlying["iv_shock_pts"], shock)
        & by_underlying["underlying"].isin(shown)
    ]
    scope = (
        f"all {len(active)} underlyings with flow"
        + (" (the selection narrows the chart and table)" if underlyings else "")
        + ", + = buying"
    )
    dealer = [
        c for c in ("dealer_gamma_usd", "dealer_vanna_usd", "dealer_charm_usd") if c in total.index
    ]
    units = meta.units.get("totals", {})
    cards = [
        card(
            f"Total at {index} {display.signed(move)}%, IV {display.signed(shock)}",
            _bn(total.get("total_usd"), units.get("total_usd")),
            scope,
            card_id="explorer-total",
        ),
        card(
            "Dealer hedging",
            _bn(total[dealer].sum() if dealer else None, units.get("dealer_gamma_usd")),
            f"of which vanna {_bn(total.get('dealer_vanna_usd'), units.get('dealer_vanna_usd'))}, charm {_bn(total.get('dealer_charm_usd'), units.get('dealer_charm_usd'))}",
        ),
        card(
            "Leveraged ETFs",
            _bn(total.get("letf_usd"), units.get("letf_usd")),
            "rebalance into the close",
        ),
    ]
    title = f"Flow by underlying at {index} {display.signed(move)}% (IV shock {display.signed(shock)} vol pts)"
    records, columns = table_data(
        rows.sort_values("total_usd", key=np.abs, ascending=False),
        COLUMNS,
        meta.units.get("grid", {}),
        missing=NO_ADV,
    )
    return (
        cards,
        bfig.flows_by_underlying(rows.head(25), title=title),
        bfig.pct_adv_by_underlying(rows, title="Total flow as % of average daily dollar volume"),
        records,
        columns,
        export_params("explorer", meta.as_of, f"move{move:+g}_iv{shock:+g}"),
    )


@warmer
def _warm_explorer(versions: dict[str, str]) -> None:
    """The explorer's opening view (-3 %, every IV shock, all underlyings), drawn after a publish."""
    if RESULT in versions:
        for shock in data.settings().board.iv_shocks_pts:
            VIEWS["explorer"](-3.0, float(shock), [], versions)
