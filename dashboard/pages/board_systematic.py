"""The board's systematic panels (placed and registered by the board page, drawn by their own callback):
the mechanical flow by horizon (dealers and leveraged ETFs today, VIX ETPs today in VX futures,
vol-control next sessions, CTAs this week; totals per horizon and instrument, never mixed) and
the positioning panel (FX, equity index and rates side by side with their extremes).

Reads the ``systematic``, ``horizon_totals`` and ``positioning`` tables of ``board.scenarios``
(:mod:`jobs.tasks.board_systematic`); nothing is computed here.  Kept apart from the board
page's own blocks so each can change without the other.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from dash import Input, Output, callback, html

from dashboard import data, display
from dashboard.components import (
    card,
    export_params,
    frame_table,
    grid,
    grid_exports,
    headline_units,
)
from jobs.store import ResultNotFound

log = logging.getLogger("flowdesk.web.board")
RESULT = "board.scenarios"
TABLES = ["systematic", "horizon_totals", "positioning"]


def systematic_panels() -> html.Div:
    """The two panels (placed by the board page's layout)."""
    return html.Div(
        [
            html.H3("Mechanical flow by horizon"),
            html.Div(
                "Each component trades at its own horizon: dealers and leveraged ETFs today into the close, VIX ETPs today (in VX futures), "
                "vol-control funds over the next sessions (their rule is lagged), CTAs over the week. Totals are per horizon and instrument, never mixed.",
                className="fd-note",
            ),
            html.Div(id="board-horizon-cards", className="fd-cards"),
            grid("board-systematic", page_size=10, filterable=False),
            html.H3("Positioning: FX, equity index and rates (CFTC)"),
            grid("board-positioning", page_size=12, filterable=False),
        ],
        id="board-systematic-panels",
    )


def horizon_cards(
    totals: pd.DataFrame, head: dict[str, Any], units: dict[str, str], total_unit: str | None
) -> list:
    out = []
    for r in totals.to_dict("records"):
        out.append(
            card(
                f"{r['horizon_group']} · {r['instrument']}",
                display.value(r["usd"], total_unit, scale="bn", style="code"),
                r["components"],
                card_id=f"board-horizon-{r['horizon_group'].replace(' ', '-')}-{'vx' if 'VX' in r['instrument'] else 'index'}",
            )
        )
    dist = head.get("cta_nearest_trigger_distance_pct")
    if dist is not None:
        out.append(
            card(
                "CTA nearest trigger",
                display.value(dist, units.get("cta_nearest_trigger_distance_pct"), signed=True),
                "from the close",
                card_id="board-cta-trigger",
            )
        )
    return out


def register_callbacks() -> None:
    """Register :func:`refresh_systematic` (called at the board page's module level: Dash runs
    page modules once per app, this helper module only on its first import)."""
    callback(
        Output("board-horizon-cards", "children"),
        Output("board-systematic", "rowData"),
        Output("board-systematic", "columnDefs"),
        Output("board-positioning", "rowData"),
        Output("board-positioning", "columnDefs"),
        Output("board-systematic", "csvExportParams"),
        Output("board-positioning", "csvExportParams"),
        Input("data-version", "data"),  # redrawn only when a result is published
    )(refresh_systematic)
    grid_exports("board-systematic", "board-positioning")


def refresh_systematic(_versions: dict[str, str] | None) -> tuple:
    try:
        res = data.read_current(RESULT)
    except ResultNotFound:
        return [], [], [], [], [], {}, {}
    except Exception as exc:  # show, never raise (Redis down: the board's own block says so)
        log.error("board systematic panels: %s", exc)
        return (
            [html.Div(f"Cannot read the store: {type(exc).__name__}", className="fd-note")],
            [],
            [],
            [],
            [],
            {},
            {},
        )
    meta = res.meta
    if not set(TABLES) <= set(meta.tables):
        return (
            [
                html.Div(
                    "This board was computed without the systematic components.",
                    className="fd-note",
                )
            ],
            [],
            [],
            [],
            [],
            {},
            {},
        )
    units = meta.units
    sys_data, sys_cols = frame_table(res.table("systematic"), units.get("systematic", {}))
    pos_data, pos_cols = frame_table(res.table("positioning"), units.get("positioning", {}))
    cards = horizon_cards(
        res.table("horizon_totals"),
        meta.headline,
        headline_units(meta),
        units.get("horizon_totals", {}).get("usd"),
    )
    exports = (
        export_params("board-systematic", meta.as_of),
        export_params("board-positioning", meta.as_of),
    )
    return cards, sys_data, sys_cols, pos_data, pos_cols, *exports
