"""De-risking board (home): what gets mechanically sold or bought if the market moves X % today.

Reads ``board.scenarios`` (published by the ``board`` task from the cached gamma, leveraged-ETF
and CFTC results) and draws it: headline cards, mechanical flow by index move (components
stacked, total marked, today's move so far marked), regime flags, underlyings ranked by flow per
1 % as % of ADV, the FX positioning panel, and the time and source of every input (stale inputs
flagged; the task left them out of the totals).  Nothing is computed here.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import numpy as np
from dash import Input, Output, callback, dcc, html

from dashboard import data
from dashboard.components import card, datatable, headline_units, missing, provenance, table_data
from dashboard.figures import board as bfig
from dashboard.figures.common import empty
from dashboard.pages.board_systematic import register_callbacks, systematic_panels
from flows.formatting import format_value
from jobs.store import ResultNotFound

dash.register_page(__name__, path="/", name="Board", order=0, title="flowdesk · De-risking board")

log = logging.getLogger("flowdesk.web.board")
RESULT = "board.scenarios"
register_callbacks()  # the systematic panels' own callback (dashboard/pages/board_systematic.py)


def layout(shock: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        [
            html.H2("De-risking board: mechanical flow if the market moves today", className="fd-page-title"),
            html.Div(id="board-provenance", className="fd-provenance"),
            html.Div(id="board-cards", className="fd-cards"),
            html.Div(
                [
                    html.Label("IV shock (vol points)", htmlFor="board-shock", className="fd-control-label"),
                    dcc.RadioItems(id="board-shock", options=[{"label": f"{s:+g}", "value": s} for s in data.settings().board.iv_shocks_pts], value=float(shock) if shock else 0.0, inline=True),
                    dcc.Link("Open the scenario explorer →", href="/explorer", className="fd-link"),
                ],
                className="fd-controls",
            ),
            dcc.Loading(dcc.Graph(id="board-flows", figure=empty("Loading…"), config={"displaylogo": False})),
            html.Div(id="board-flags"),
            html.Div(
                [
                    html.Div([html.H3("Underlyings ranked by flow per 1% index move, % of ADV"), datatable("board-ranking", page_size=12)], className="fd-col"),
                    html.Div([html.H3("FX positioning (CFTC)"), html.Div(id="board-fx-cards", className="fd-cards"), datatable("board-fx", page_size=10)], className="fd-col"),
                ],
                className="fd-row",
            ),
            systematic_panels(),
            html.H3("Inputs"),
            html.Div("Every input with its time and source. Stale or missing inputs are left out of the totals, never silently mixed.", className="fd-note"),
            datatable("board-inputs", page_size=12, export=False),
        ],
        className="fd-page",
    )




@callback(
    Output("board-provenance", "children"),
    Output("board-cards", "children"),
    Output("board-flows", "figure"),
    Output("board-flags", "children"),
    Output("board-ranking", "data"),
    Output("board-ranking", "columns"),
    Output("board-fx-cards", "children"),
    Output("board-fx", "data"),
    Output("board-fx", "columns"),
    Output("board-inputs", "data"),
    Output("board-inputs", "columns"),
    Input("refresh-interval", "n_intervals"),
    Input("board-shock", "value"),
)
def refresh(_n: int, shock: float | None) -> tuple:
    blank = empty("No board yet")
    try:
        res = data.read_current(RESULT)
    except ResultNotFound:
        return missing(RESULT), [], blank, [], [], [], [], [], [], [], []
    except Exception as exc:  # show, never raise
        log.error("board: %s", exc)
        return html.Div(f"Cannot read the store: {type(exc).__name__}: {exc}", className="fd-error"), [], blank, [], [], [], [], [], [], [], []
    meta, head = res.meta, res.meta.headline
    hu = headline_units(meta)

    def bn(key: str, value: Any = None) -> str:
        """USD in bn, ``+12.34 bn USD`` (the board's style), by the key's declared unit."""
        return format_value(head.get(key) if value is None else value, hu.get(key), scale="bn", style="code")
    index = head.get("index", "index")
    stale_after = next((j.stale_after_minutes for j in data.settings().jobs.values() if j.task == "board"), None)
    totals = res.table("totals")
    shocks = sorted(totals["iv_shock_pts"].unique())
    shock = float(shock) if shock is not None and float(shock) in shocks else 0.0
    move = head.get("flag_move_pct", -3.0)
    today = head.get("today_move_pct")
    cards = [
        card(f"If {index} moves {move:+g}% today", bn("total_usd_at_flag_move"), "mechanical flow, + = buying", card_id="board-card-total"),
        card("of which dealers", format_value(sum(head.get(f"{c}_at_flag_move", 0.0) or 0.0 for c in ("dealer_gamma_usd", "dealer_vanna_usd", "dealer_charm_usd")), hu.get("dealer_gamma_usd_at_flag_move")), "hedging, no IV shock"),
        card("of which leveraged ETFs", bn("letf_usd_at_flag_move"), "rebalance into the close"),
        card(f"{index} move so far", format_value(today, hu.get("today_move_pct"), signed=True), "n/a" if head.get("total_usd_today_move") is None else f"implies {bn('total_usd_today_move')}"),
        card("Flags", format_value(head.get("flags", 0), hu.get("flags")), f"{head.get('stale_inputs', 0)} stale or missing input(s)"),
    ]
    fig = bfig.flows_by_move(totals, index=index, iv_shock_pts=shock, today_move_pct=today)
    flags = res.table("flags")
    flag_items = [html.Li(f["message"], className=f"fd-flag fd-flag-{f['severity']}") for f in flags.to_dict("records")]
    flags_block = html.Div([html.H3(f"Regime flags at {index} {move:+g}%"), html.Ul(flag_items) if flag_items else html.Div("No flag: flows do not feed on themselves at this move.", className="fd-note")], id="board-flags-list")
    units = meta.units
    rank_data, rank_cols = table_data(res.table("ranking"), {"underlying": "Underlying", "beta": "Beta to index", "flow_per_1pct_usd": "Flow", "adv_usd": "ADV", "flow_per_1pct_pct_adv": "Flow"}, units.get("ranking", {}))
    fx = res.table("fx")
    fx_data, fx_cols = table_data(fx, {"ccy": "Currency", "usd": "Spec position", "currency_flow_usd": "Bought (+) / sold (-) in an unwind to the median", "rank": "Beneficiary rank"}, units.get("fx", {}))
    fx_cards = [
        card("Net USD position", bn("net_usd_position_usd"), "speculators, + = long USD"),
        card("Percentile (3 years)", format_value(head.get("net_usd_percentile_3y"), hu.get("net_usd_percentile_3y")), "0 = most short USD, 100 = most long"),
    ]
    inputs = res.table("inputs")
    in_data, in_cols = table_data(inputs, {"name": "Input", "as_of": "As of", "computed_at": "Computed at", "source": "Source", "age_hours": "Age", "note": "Status"}, units.get("inputs", {}))
    prov = provenance(meta, stale_after_minutes=stale_after, tz=data.settings().service.timezone)
    if np.any(inputs["stale"].astype(bool)):
        prov = html.Div([prov, html.Span(" · some inputs are stale and left out (see Inputs)", className="fd-label fd-label-stale")])
    return prov, cards, fig, flags_block, rank_data, rank_cols, fx_cards, fx_data, fx_cols, in_data, in_cols
