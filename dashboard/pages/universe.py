"""Single names page: dealer gamma across the listed-options universe.

Reads ``universe.table`` (published by the ``universe`` task) and draws it: headline cards, the
names ranked by net GEX (USD per 1 % move) or by GEX as % of ADV in an AG Grid (5,000 rows:
filtered and ranked on the server, sorted and filtered further in the browser), the sector x
regime heatmap, the custom baskets, and a drill-down into any name: its full tables
(``universe.<SYMBOL>``), computed by a worker when the name is not in the focus list or its
tables are older than ``[universe] detail_max_age_minutes``.  Nothing is computed here: ranking
is a sort of published figures, the drill-down is a job request.

The table is re-sent only when a new version is published or a control changes.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import data
from dashboard.components import card, missing, provenance
from dashboard.figures import gamma as gfig
from dashboard.figures import universe as ufig
from dashboard.figures.common import empty
from flows.errors import ResultNotFound
from flows.money import format_usd

dash.register_page(__name__, path="/single-names", name="Single names", order=12, title="flowdesk · Single names")

log = logging.getLogger("flowdesk.web.universe")

RESULT = "universe.table"
RANKS = {"gex": ("|net GEX| (USD per 1% move)", "net_gex_usd_per_1pct"), "adv": ("|net GEX| as % of ADV", "gex_pct_adv")}

_USD = {"function": "params.value == null ? '' : d3.format(',.0f')(params.value)"}
_PCT = {"function": "params.value == null ? 'no ADV' : d3.format(',.2f')(params.value)"}
_PRICE = {"function": "params.value == null ? '' : d3.format(',.2f')(params.value)"}
_SHARE = {"function": "params.value == null ? '' : d3.format('.1%')(params.value)"}
COLUMNS = [
    {"field": "rank", "headerName": "#", "width": 70, "filter": False},
    {"field": "symbol", "headerName": "Symbol", "pinned": "left", "width": 100},
    {"field": "sector", "headerName": "Sector", "filter": "agTextColumnFilter"},
    {"field": "spot", "headerName": "Spot (USD)", "valueFormatter": _PRICE, "filter": "agNumberColumnFilter"},
    {"field": "net_gex_usd_per_1pct", "headerName": "Net GEX (USD per 1%)", "valueFormatter": _USD, "filter": "agNumberColumnFilter"},
    {"field": "gex_pct_adv", "headerName": "Net GEX (% of ADV)", "valueFormatter": _PCT, "filter": "agNumberColumnFilter"},
    {"field": "call_gex_usd_per_1pct", "headerName": "Call GEX (USD per 1%)", "valueFormatter": _USD, "filter": "agNumberColumnFilter"},
    {"field": "put_gex_usd_per_1pct", "headerName": "Put GEX (USD per 1%)", "valueFormatter": _USD, "filter": "agNumberColumnFilter"},
    {"field": "regime", "headerName": "Regime"},
    {"field": "flip", "headerName": "Flip (USD)", "valueFormatter": _PRICE, "filter": "agNumberColumnFilter"},
    {"field": "flip_distance_pct", "headerName": "Flip distance (%)", "valueFormatter": _PRICE, "filter": "agNumberColumnFilter"},
    {"field": "call_wall", "headerName": "Call wall (USD)", "valueFormatter": _PRICE, "filter": "agNumberColumnFilter"},
    {"field": "put_wall", "headerName": "Put wall (USD)", "valueFormatter": _PRICE, "filter": "agNumberColumnFilter"},
    {"field": "zero_dte_share", "headerName": "0DTE share (% of gross)", "valueFormatter": _SHARE, "filter": "agNumberColumnFilter"},
    {"field": "hedge_flow_down3_usd", "headerName": "Hedge trade -3% (USD, + = buy)", "valueFormatter": _USD, "filter": "agNumberColumnFilter"},
    {"field": "hedge_flow_up3_usd", "headerName": "Hedge trade +3% (USD, + = buy)", "valueFormatter": _USD, "filter": "agNumberColumnFilter"},
    {"field": "adv_usd", "headerName": "ADV (USD)", "valueFormatter": _USD, "filter": "agNumberColumnFilter"},
    {"field": "contracts", "headerName": "Contracts", "filter": "agNumberColumnFilter"},
    {"field": "baskets", "headerName": "Baskets"},
]
GRID_FIELDS = [c["field"] for c in COLUMNS if c["field"] != "rank"]


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H2("Single names: dealer gamma across the listed universe", className="fd-page-title"),
            dcc.Store(id="un-version"),
            dcc.Store(id="un-pending"),
            dcc.Interval(id="un-poll", interval=1000, disabled=True),
            html.Div(id="un-provenance", className="fd-provenance"),
            html.Div(id="un-cards", className="fd-cards"),
            html.Div(
                "Dealer convention: dealers long calls, short puts (the public one). GEX = the USD of stock dealers trade per 1 % move; "
                "hedge trades re-price every option for the move (+ = dealers buy). % of ADV: net GEX per 1 % over the name's average daily dollar volume.",
                className="fd-note",
            ),
            html.Div(
                [
                    html.Label("Rank by", htmlFor="un-rank", className="fd-control-label"),
                    dcc.RadioItems(id="un-rank", options=[{"label": v[0], "value": k} for k, v in RANKS.items()], value="gex", inline=True),
                    html.Label("Sector", htmlFor="un-sector", className="fd-control-label"),
                    dcc.Dropdown(id="un-sector", options=[], multi=True, placeholder="all sectors", style={"minWidth": "260px"}),
                    html.Label("Basket", htmlFor="un-basket", className="fd-control-label"),
                    dcc.RadioItems(id="un-basket", options=[{"label": "all names", "value": ""}], value="", inline=True),
                    html.Label("Regime", htmlFor="un-regime", className="fd-control-label"),
                    dcc.RadioItems(id="un-regime", options=[{"label": r, "value": v} for r, v in (("both", ""), ("long gamma", "long gamma"), ("short gamma", "short gamma"))], value="", inline=True),
                ],
                className="fd-controls",
            ),
            html.Div(id="un-count", className="fd-note"),
            dag.AgGrid(
                id="un-grid",
                columnDefs=COLUMNS,
                rowData=[],
                defaultColDef={"sortable": True, "filter": True, "resizable": True, "floatingFilter": True, "minWidth": 90},
                dashGridOptions={"pagination": True, "paginationPageSize": 50, "rowSelection": {"mode": "singleRow", "enableClickSelection": True}, "animateRows": False},
                getRowId="params.data.symbol",
                style={"height": "560px"},
                className="ag-theme-alpine",
            ),
            html.Div([html.Div(dcc.Graph(id="un-heatmap", figure=empty("Loading…"), config={"displaylogo": False}), className="fd-col"), html.Div(dcc.Graph(id="un-baskets", figure=empty("Loading…"), config={"displaylogo": False}), className="fd-col")], className="fd-row"),
            html.H3("Drill-down"),
            html.Div(
                [
                    html.Label("Name", htmlFor="un-name", className="fd-control-label"),
                    dcc.Input(id="un-name", type="text", placeholder="pick a row or type a symbol", debounce=True, style={"width": "200px"}),
                ],
                className="fd-controls",
            ),
            html.Div(id="un-detail-status", className="fd-note"),
            html.Div(id="un-detail-cards", className="fd-cards"),
            html.Div([html.Div(dcc.Graph(id="un-detail-strike", figure=empty("Pick a name"), config={"displaylogo": False}), className="fd-col"), html.Div(dcc.Graph(id="un-detail-profile", figure=empty("Pick a name"), config={"displaylogo": False}), className="fd-col")], className="fd-row"),
        ],
        className="fd-page",
    )


def cards(h: dict[str, Any]) -> list[html.Div]:
    """Headline cards (published figures, formatted only)."""
    out = [
        card("Names", f"{h.get('names', 0):,}", f"{h.get('contracts', 0):,} contracts · {h.get('failed', 0)} left out", card_id="un-card-names"),
        card("Net GEX, all names", format_usd(h.get("net_gex_usd_per_1pct")), f"per 1% move on every name · {h.get('short_gamma_names', 0):,} names short gamma", card_id="un-card-net"),
        card("Hedge trade, every name -3%", format_usd(h.get("hedge_flow_down3_usd")), f"+3%: {format_usd(h.get('hedge_flow_up3_usd'))} · + = dealers buy", card_id="un-card-hedge"),
    ]
    for key, value in h.items():
        if key.startswith("net_gex_usd_per_1pct_"):
            b = key.removeprefix("net_gex_usd_per_1pct_")
            out.append(card(f"Basket {b}", format_usd(value), f"net GEX per 1% · -3%: {format_usd(h.get(f'hedge_flow_down3_usd_{b}'))}", card_id=f"un-card-basket-{b}"))
    return out


def ranked(names: pd.DataFrame, rank: str, sectors: list[str] | None, basket: str | None, regime: str | None) -> pd.DataFrame:
    """The rows shown: filtered by sector, basket and regime, ranked by ``|rank column|``
    (largest first; names without an ADV last when ranking by % of ADV)."""
    rows = names
    if sectors:
        rows = rows[rows["sector"].isin(sectors)]
    if basket:
        rows = rows[rows["baskets"].str.split(",").map(lambda bs: basket in bs)]
    if regime:
        rows = rows[rows["regime"] == regime]
    col = RANKS.get(rank, RANKS["gex"])[1]
    order = rows[col].abs().sort_values(ascending=False, na_position="last", kind="stable").index
    out = rows.loc[order, GRID_FIELDS].reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


@callback(
    Output("un-version", "data"),
    Output("un-provenance", "children"),
    Output("un-cards", "children"),
    Output("un-heatmap", "figure"),
    Output("un-baskets", "figure"),
    Output("un-sector", "options"),
    Output("un-basket", "options"),
    Input("refresh-interval", "n_intervals"),
    State("un-version", "data"),
)
def _render(_n: int, seen: str | None) -> tuple:
    """Headline, heatmap and baskets; only when a new version is published."""
    try:
        meta = data.store().meta(RESULT)
    except ResultNotFound:
        blank = empty(f"No result {RESULT}")
        return None, missing(RESULT), [], blank, blank, [], []
    tz, stale_after = data.display_settings("universe")
    if meta.version == seen:
        return no_update, provenance(meta, stale_after_minutes=stale_after, tz=tz), no_update, no_update, no_update, no_update, no_update
    result = data.read_current(RESULT)
    sectors = result.tables["sectors"]
    baskets = result.tables["baskets"]
    names = result.tables["names"]
    return (
        meta.version,
        provenance(meta, stale_after_minutes=stale_after, tz=tz),
        cards(meta.headline),
        ufig.sector_regime_heatmap(sectors),
        ufig.basket_bars(baskets),
        [{"label": s, "value": s} for s in sorted(names["sector"].unique())],
        [{"label": "all names", "value": ""}] + [{"label": b, "value": b} for b in baskets["basket"]],
    )


@callback(
    Output("un-grid", "rowData"),
    Output("un-count", "children"),
    Input("un-version", "data"),
    Input("un-rank", "value"),
    Input("un-sector", "value"),
    Input("un-basket", "value"),
    Input("un-regime", "value"),
)
def _rank(version: str | None, rank: str, sectors: list[str] | None, basket: str | None, regime: str | None) -> tuple:
    """The ranked, filtered rows (server side: a sort of published figures)."""
    if not version:
        return [], ""
    names = data.read_current(RESULT, ["names"]).tables["names"]
    rows = ranked(names, rank, sectors, basket, regime)
    return rows.to_dict("records"), f"{len(rows):,} of {len(names):,} names, ranked by {RANKS.get(rank, RANKS['gex'])[0]}; click a row to open it."


@callback(Output("un-name", "value"), Input("un-grid", "selectedRows"), prevent_initial_call=True)
def _pick(rows: list[dict] | None) -> str:
    if not rows:
        raise PreventUpdate
    return rows[0]["symbol"]


def _detail_figures(result: Any) -> tuple:
    h = result.meta.headline
    sym = h.get("underlying", "")
    conv = h.get("convention")
    strike = gfig.gex_by_strike(result.tables["by_strike"], spot=h.get("spot"), flip=h.get("flip"), call_wall=h.get("call_wall"), put_wall=h.get("put_wall"), convention=conv, underlying=sym)
    profile = gfig.gamma_profile(result.tables["profile"], spot=h.get("spot"), flips=h.get("flips"), convention=conv, underlying=sym)
    cards_ = [
        card("Net GEX", format_usd(h.get("net_gex_usd_per_1pct")), f"per 1% · {h.get('regime', '')}", card_id="un-detail-net"),
        card("Flip", gfig.format_level(h.get("flip")), f"{gfig.format_level(h.get('flip_distance_pct'))} % from spot {gfig.format_level(h.get('spot'))}", card_id="un-detail-flip"),
        card("Walls", f"{gfig.format_level(h.get('put_wall'))} / {gfig.format_level(h.get('call_wall'))}", "put / call (USD)", card_id="un-detail-walls"),
    ]
    tz, _ = data.display_settings("universe")
    return cards_, strike, profile, provenance(result.meta, tz=tz)


@callback(
    Output("un-detail-status", "children"),
    Output("un-detail-cards", "children"),
    Output("un-detail-strike", "figure"),
    Output("un-detail-profile", "figure"),
    Output("un-pending", "data"),
    Output("un-poll", "disabled"),
    Input("un-name", "value"),
    Input("un-poll", "n_intervals"),
    State("un-pending", "data"),
)
def _detail(name: str | None, _tick: int, pending: dict | None) -> tuple:
    """A name's full tables: shown when fresh, else requested from a worker and polled."""
    from jobs import workers

    if not name:
        raise PreventUpdate
    sym = name.strip().upper()
    trigger = dash.ctx.triggered_id
    max_age = data.settings().universe.detail_max_age_minutes * 60
    try:
        result = data.read_current(f"universe.{sym}")
    except ResultNotFound:
        result = None
    fresh = result is not None and result.meta.age_seconds() <= max_age
    if trigger == "un-poll" and pending and pending.get("symbol") == sym:
        status, err = workers.job_state(data.live_store().redis, pending["job"])
        if status == "failed":
            return f"{sym}: the worker could not compute it: {err}", [], empty(f"{sym}: failed"), empty(f"{sym}: failed"), None, True
        if status != "finished" or result is None:
            return f"{sym}: {status or 'queued'} on a worker…", no_update, no_update, no_update, pending, False
        fresh = True
    if fresh:
        cards_, strike, profile, prov = _detail_figures(result)
        return prov, cards_, strike, profile, None, True
    conn = data.live_store().redis
    job_id, status = workers.request(conn, "universe-name", sym)
    n_workers = workers.live_workers(conn)
    note = f"{sym}: computing its full tables on a worker ({status})…" if n_workers else f"{sym}: queued; no worker is running (start `flowdesk worker`; the next universe refresh also runs queued names)"
    keep = (no_update, no_update, no_update) if result is None else _detail_figures(result)[:3]
    return note, *keep, {"symbol": sym, "job": job_id}, False
