"""Leveraged-ETF page: how much daily-reset leveraged and inverse funds must trade into the close.

Reads the ``letf.flows`` result (published by the ``letf`` task) and draws it; no analytics here
beyond selecting rows and scaling the published per-1% column by a chosen move (exact: the trade
``A·(L²−L)·r`` is linear in ``r``).  Blocks: headline cards, USD per 1% by underlying (long vs
inverse stacked), today's implied trade with % of ADV, scenario curve, single-stock view, history
of the per-1% figure, fund table (CSV download), crypto/commodity groups, the assets left out of
the daily figures by reason (non-daily reset periods, unusable data) and the excluded list.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, display
from dashboard.components import (
    card,
    export_names,
    frame_table,
    grid,
    grid_exports,
    headline_units,
    missing,
    provenance,
)
from dashboard.figures import letf as lfig
from dashboard.figures.common import empty
from dashboard.render_cache import VIEWS, cached_view, warmer

dash.register_page(
    __name__, path="/letf", name="Leveraged ETFs", order=20, title="flowdesk · Leveraged ETFs"
)

log = logging.getLogger("flowdesk.web.letf")

RESULT = "letf.flows"
GRAPHS = (
    "letf-per-1pct",
    "letf-trade",
    "letf-scenarios",
    "letf-history",
    "letf-excluded-aum-graph",
)
DEFAULT_SINGLE = "NVDA"
DEFAULT_MOVE = -17.0


def _graph(gid: str) -> html.Div:
    return html.Div(
        dcc.Loading(dcc.Graph(id=gid, figure=empty("Loading…"), config={"displaylogo": False})),
        className="fd-col",
    )


def layout(underlying: str | None = None, move: str | None = None, **_query: Any) -> html.Div:
    """Page layout; ``?underlying=NVDA&move=-17`` preselects the single-stock view."""
    try:
        move_value = float(move) if move is not None else DEFAULT_MOVE
    except ValueError:
        move_value = DEFAULT_MOVE
    return html.Div(
        [
            html.H2(
                "Leveraged and inverse ETFs: rebalance into the close", className="fd-page-title"
            ),
            dcc.Store(id="letf-single-wanted", data=(underlying or DEFAULT_SINGLE).upper()),
            html.Div(id="letf-provenance", className="fd-provenance"),
            html.Div(id="letf-cards", className="fd-cards"),
            html.Div(id="letf-note", className="fd-note"),
            html.Div([_graph("letf-per-1pct"), _graph("letf-trade")], className="fd-row"),
            html.Div([_graph("letf-scenarios"), _graph("letf-history")], className="fd-row"),
            html.H3("Single-stock view"),
            html.Div(
                [
                    html.Label("Underlying", htmlFor="letf-single", className="fd-control-label"),
                    dcc.Dropdown(
                        id="letf-single",
                        options=[],
                        value=(underlying or DEFAULT_SINGLE).upper(),
                        clearable=False,
                        style={"width": "200px"},
                    ),
                    html.Label("Move (%)", htmlFor="letf-move", className="fd-control-label"),
                    dcc.Input(
                        id="letf-move",
                        type="number",
                        value=move_value,
                        step=0.5,
                        debounce=True,
                        style={"width": "90px"},
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(
                "Each fund's trade = its published USD per 1% × the move (exact for prior-close assets: A·(L²−L)·r is linear in r).",
                className="fd-note",
            ),
            html.Div(
                [
                    html.Div(
                        dcc.Graph(
                            id="letf-single-graph",
                            figure=empty("Loading…"),
                            config={"displaylogo": False},
                        ),
                        className="fd-col",
                    )
                ],
                className="fd-row",
            ),
            html.H3("Funds in the equity totals"),
            grid("letf-funds"),
            html.H3("Crypto and commodity groups (not in the equity totals)"),
            grid("letf-groups", page_size=10),
            html.H3("Assets left out of the daily figures, by reason"),
            html.Div([_graph("letf-excluded-aum-graph")], className="fd-row"),
            grid("letf-excluded-aum", page_size=15, filterable=False),
            html.H3("Excluded funds"),
            grid("letf-excluded", page_size=15),
        ],
        className="fd-page",
    )


def cards(h: dict[str, Any], extra: dict[str, Any], units: dict[str, str]) -> list[html.Div]:
    """Headline cards (values as published, written by their declared ``units``)."""

    def v(key: str, **style: Any) -> str:
        return display.value(h.get(key), units.get(key), **style)

    return [
        card(
            "Equity total per 1% move",
            v("per_1pct_usd", signed=False),
            f"long {v('long_per_1pct_usd', signed=False)} · inverse {v('inverse_per_1pct_usd', signed=False)}",
            card_id="letf-card-per1pct",
        ),
        card(
            "Implied trade, move so far",
            v("rebalance_usd"),
            "USD into the close; + = buy",
            card_id="letf-card-trade",
        ),
        card(
            "Biggest underlying",
            str(h.get("biggest_underlying") or "n/a"),
            f"{v('biggest_per_1pct_usd', signed=False)} per 1% · today {v('biggest_rebalance_usd')}",
            card_id="letf-card-biggest",
        ),
        card(
            "Funds",
            v("funds"),
            f"{h.get('excluded', 0)} excluded · phase {extra.get('phase', 'n/a')}",
            card_id="letf-card-funds",
        ),
        card(
            "Left out of the daily figures",
            v("excluded_aum_usd"),
            _left_out_sub(h, v),
            card_id="letf-card-left-out",
        ),
    ]


def _left_out_sub(h: dict[str, Any], v: Any) -> str:
    """``x % of assets · y not daily-reset`` from the published headline (formatting only)."""
    universe, left = h.get("universe_aum_usd"), h.get("excluded_aum_usd")
    if not universe or left is None:
        return "n/a"
    return f"{100.0 * float(left) / float(universe):.1f} % of the universe's assets · {v('excluded_not_daily_aum_usd')} not daily-reset"


@callback(
    Output("letf-provenance", "children"),
    Output("letf-cards", "children"),
    Output("letf-note", "children"),
    Output("letf-per-1pct", "figure"),
    Output("letf-trade", "figure"),
    Output("letf-scenarios", "figure"),
    Output("letf-history", "figure"),
    Output("letf-excluded-aum-graph", "figure"),
    Output("letf-funds", "rowData"),
    Output("letf-funds", "columnDefs"),
    Output("letf-groups", "rowData"),
    Output("letf-groups", "columnDefs"),
    Output("letf-excluded", "rowData"),
    Output("letf-excluded", "columnDefs"),
    Output("letf-excluded-aum", "rowData"),
    Output("letf-excluded-aum", "columnDefs"),
    Output("letf-single", "options"),
    Output("letf-single", "value"),
    Input("data-version", "data"),
    State("letf-single", "value"),
    State("letf-single-wanted", "data"),
)
@cached_view("letf", lambda *_a: RESULT, task="letf", skip=(0,))
def _render(_n: int, current: str | None, wanted: str | None) -> tuple:
    """Read ``letf.flows`` and draw every block but the single-stock view."""
    store = data.store()
    try:
        result = store.read(RESULT)
    except KeyError:
        blank = empty(f"No result {RESULT}")
        return (
            missing(RESULT),
            [],
            "",
            *([blank] * len(GRAPHS)),
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            current,
        )
    meta = result.meta
    tz, stale_after = data.display_settings("letf")
    tables = result.tables

    def tab(name: str) -> pd.DataFrame:
        return tables.get(name, pd.DataFrame())

    by_u = tab("by_underlying")
    extra = meta.extra
    top = (
        by_u.sort_values("per_1pct_usd", ascending=False)["underlying"].head(4).tolist()
        if not by_u.empty
        else []
    )
    price_time = extra.get("price_time")
    when = (
        pd.Timestamp(price_time).tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")
        if price_time
        else "n/a (sample moves)"
    )
    note = (
        "Per fund: trade = A·(L²−L)·r (A prior-close assets in USD, L signed daily leverage, r the underlying's move since the prior close); "
        "+ = buy. Long and inverse funds trade the same way and never offset. Daily-reset funds only: weekly, monthly, quarterly and options-based funds "
        "are listed below with their assets, not counted. "
        f"Prices as of {when}; assets as of {extra.get('assets_as_of', 'n/a')}; phase {extra.get('phase', 'n/a')}; "
        f"{extra.get('skipped_rows', 0)} universe rows skipped at import; {len(extra.get('failures') or {})} source problems."
    )
    figs = [
        lfig.per_1pct_bars(by_u),
        lfig.implied_trade(by_u),
        lfig.scenario_curve(tab("scenarios"), underlyings=["TOTAL", *top]),
        lfig.history(
            store.eod_series(RESULT, ["per_1pct_usd"]),
            store.headline_series(RESULT, ["per_1pct_usd"]),
            tz=tz,
        ),
        lfig.excluded_aum_bars(
            tab("excluded_aum"), universe_aum_usd=meta.headline.get("universe_aum_usd")
        ),
    ]
    funds_data, funds_cols = frame_table(tab("funds"), meta.units.get("funds", {}))
    groups_data, groups_cols = frame_table(tab("groups"), meta.units.get("groups", {}))
    excl_data, excl_cols = frame_table(tab("excluded"), meta.units.get("excluded", {}))
    left_data, left_cols = frame_table(tab("excluded_aum"), meta.units.get("excluded_aum", {}))
    funds = tab("funds")
    options = sorted(funds["underlying"].unique().tolist()) if not funds.empty else []
    # keep the user's pick; else the one asked for in the URL; else the largest single stock
    if current not in options:
        singles = (
            funds[funds["fund_type"].str.lower().eq("single stock")] if not funds.empty else funds
        )
        current = (
            wanted
            if wanted in options
            else (
                singles["underlying"].iloc[0]
                if not singles.empty
                else (options[0] if options else None)
            )
        )
    return (
        provenance(meta, stale_after_minutes=stale_after, tz=tz),
        cards(meta.headline, extra, headline_units(meta)),
        note,
        *figs,
        funds_data,
        funds_cols,
        groups_data,
        groups_cols,
        excl_data,
        excl_cols,
        left_data,
        left_cols,
        [{"label": u, "value": u} for u in options],
        current,
    )


@callback(
    Output("letf-single-graph", "figure"),
    Input("letf-single", "value"),
    Input("letf-move", "value"),
    Input("data-version", "data"),
)
@cached_view("letf-single", lambda *_a: RESULT, task="letf", skip=(2,))
def _single(underlying: str | None, move: float | None, _n: int) -> Any:
    """Single-stock view: the published per-fund USD per 1% scaled by the chosen move."""
    if not underlying:
        return empty("Pick an underlying")
    try:
        funds = data.store().read(RESULT, tables=["funds"]).table("funds")
    except KeyError:
        return empty(f"No result {RESULT}")
    return lfig.single_stock(funds, underlying, move if move is not None else float("nan"))


@warmer
def _warm_letf(versions: dict[str, str]) -> None:
    """The page's opening view, drawn after a publish."""
    if RESULT in versions:
        VIEWS["letf"](versions, None, None)


LETF_GRIDS = {
    "letf-funds": RESULT,
    "letf-groups": RESULT,
    "letf-excluded-aum": RESULT,
    "letf-excluded": RESULT,
}
grid_exports(*LETF_GRIDS)
export_names(LETF_GRIDS)
