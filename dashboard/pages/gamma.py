"""Dealer gamma page: are dealers long or short gamma, where does it flip, what must they trade.

Reads ``gamma.<U>`` results (published by the ``gamma`` task) and draws them; no analytics here.
Underlying picker (from the published ``gamma.*`` names; ``?underlying=SPX`` preselects), headline
cards, GEX by strike, gamma profile vs spot, by expiry, strike x expiry heatmap, hedge flow by
move, the convention sensitivity table, refresh history, and the contracts table (sortable, CSV).
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
    export_params,
    frame_table,
    grid,
    grid_exports,
    headline_units,
    missing,
    provenance,
    rows_block,
)
from dashboard.figures import gamma as gfig
from dashboard.figures.common import empty, finite
from dashboard.render_cache import VIEWS, cached_view, warmer
from flows.formatting import header

dash.register_page(
    __name__, path="/gamma", name="Dealer gamma", order=10, title="flowdesk · Dealer gamma"
)

log = logging.getLogger("flowdesk.web.gamma")

PREFIX = "gamma."
GRAPHS = (
    "gamma-by-strike",
    "gamma-profile",
    "gamma-by-expiry",
    "gamma-heatmap",
    "gamma-hedge-flow",
    "gamma-history",
)
HISTORY_FIELDS = ["net_gex_usd_per_1pct", "flip", "spot"]
CONTRACT_PAGE = 50
"""Contracts sent to the browser per block of the contracts grid (AG Grid infinite row model);
the download has them all."""
grid_exports("gamma-sensitivity")


def _graph(gid: str) -> html.Div:
    return html.Div(
        dcc.Loading(dcc.Graph(id=gid, figure=empty("Loading…"), config={"displaylogo": False})),
        className="fd-col",
    )


def layout(underlying: str | None = None, **_query: Any) -> html.Div:
    """Page layout; ``?underlying=SPX`` preselects an underlying.  No store access here."""
    return html.Div(
        [
            html.H2("Dealer gamma", className="fd-page-title"),
            html.Div(
                [
                    html.Label(
                        "Underlying", htmlFor="gamma-underlying", className="fd-control-label"
                    ),
                    dcc.Dropdown(
                        id="gamma-underlying",
                        options=[],
                        value=(underlying or "").upper() or None,
                        clearable=False,
                        style={"width": "200px"},
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(id="gamma-provenance", className="fd-provenance"),
            html.Div(id="gamma-cards", className="fd-cards"),
            html.Div(id="gamma-note", className="fd-note"),
            html.Div([_graph("gamma-by-strike"), _graph("gamma-profile")], className="fd-row"),
            html.Div([_graph("gamma-by-expiry"), _graph("gamma-hedge-flow")], className="fd-row"),
            html.Div([_graph("gamma-heatmap")], className="fd-row"),
            html.Div([_graph("gamma-history")], className="fd-row"),
            html.H3("Sensitivity to the dealer sign convention"),
            html.Div(
                "The same chain under each dealer-position assumption: how much of the headline is the assumption.",
                className="fd-note",
            ),
            grid("gamma-sensitivity", page_size=8, filterable=False),
            html.H3("Contracts"),
            html.Div(
                [
                    html.Span(
                        f"Every contract, largest |GEX| first, {CONTRACT_PAGE} a page (sorted and filtered on the server: a large chain is never sent whole). ",
                        className="fd-note",
                    ),
                    html.Button(
                        "Download all contracts (CSV)", id="gamma-download-btn", n_clicks=0
                    ),
                    dcc.Download(id="gamma-download"),
                ]
            ),
            grid("gamma-contracts", page_size=CONTRACT_PAGE, export=False, infinite=True),
            dcc.Store(id="gamma-contracts-reset"),
        ],
        className="fd-page",
    )


@callback(
    Output("gamma-underlying", "options"),
    Output("gamma-underlying", "value"),
    Input("data-version", "data"),
    State("gamma-underlying", "value"),
)
def _pick(_n: int, current: str | None) -> tuple[list[dict[str, str]], str | None]:
    """Underlyings with a published ``gamma.<U>`` result; keep the current pick when possible."""
    try:
        names = [
            n[len(PREFIX) :]
            for n in data.store().names()
            if n.startswith(PREFIX) and n != "gamma.summary"
        ]
    except Exception as exc:  # Redis down: the freshness badge says so; keep the page alive
        log.error("gamma page cannot list results: %s", exc)
        return [], current
    order = ["SPX", "SPY", "QQQ", "NDX", "IWM"]
    names = sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))
    options = [{"label": n, "value": n} for n in names]
    if current in names:
        return options, current
    return options, (names[0] if names else None)


def cards(h: dict[str, Any], units: dict[str, str]) -> list[html.Div]:
    """Headline cards from a ``gamma.<U>`` headline (values as published, written by their
    declared ``units``: :func:`dashboard.display.value`)."""

    def v(key: str, **style: Any) -> str:
        return display.value(h.get(key), units.get(key), **style)

    dist = h.get("flip_distance_pct")
    flip_sub = (
        f"{v('flip_distance_pct', signed=True)} from spot"
        if finite(dist)
        else "no crossing in the window"
    )
    return [
        card(
            header("Net GEX", units.get("net_gex_usd_per_1pct")),
            v("net_gex_usd_per_1pct"),
            f"calls {v('call_gex_usd_per_1pct')} · puts {v('put_gex_usd_per_1pct')}",
            card_id="gamma-card-net",
        ),
        card(
            "Regime",
            str(h.get("regime") or "n/a"),
            "long gamma dampens moves; short gamma amplifies",
            card_id="gamma-card-regime",
        ),
        card(
            "Gamma flip",
            v("flip") if finite(h.get("flip")) else "none",
            flip_sub,
            card_id="gamma-card-flip",
        ),
        card(
            "Call wall / put wall",
            f"{v('call_wall')} / {v('put_wall')}",
            f"abs-gamma strike {v('abs_gamma_strike')}",
            card_id="gamma-card-walls",
        ),
        card(
            "0DTE share", v("zero_dte_share"), "of |GEX| expiring today", card_id="gamma-card-0dte"
        ),
        card(
            header("Hedge flow −3% / +3%", units.get("hedge_flow_down3_usd")),
            f"{v('hedge_flow_down3_usd')} / {v('hedge_flow_up3_usd')}",
            "USD dealers trade; + = dealers buy",
            card_id="gamma-card-hedge",
        ),
    ]


def fidelity_note(h: dict[str, Any]) -> str:
    """Sentences on how the figures were built when it is not the plain case (as published)."""
    parts = []
    if h.get("modelled_gamma_contracts"):
        parts.append(
            f"gamma modelled for {int(h['modelled_gamma_contracts']):,} contracts ({100 * float(h.get('modelled_gamma_share') or 0):.1f}% of |GEX|)"
        )
    if h.get("deliverable_contracts"):
        parts.append(
            f"{int(h['deliverable_contracts']):,} contracts of adjusted series modelled with their deliverable"
        )
    if h.get("excluded_contracts"):
        parts.append(
            f"{int(h['excluded_contracts']):,} contracts of non-standard series or other underlyings excluded ({float(h.get('excluded_oi') or 0):,.0f} contracts OI; see the dropped table)"
        )
    if h.get("unsolved_dropped"):
        parts.append(f"{int(h['unsolved_dropped']):,} contracts without gamma or IV left out")
    for f in h.get("forwards") or []:
        parts.append(
            f"{f.get('expiry')} valued on its future {float(f.get('forward')):,.4g} ({f.get('method')})"
        )
    for m in h.get("moved_expiries") or []:
        parts.append(
            f"expiry {m.get('expiry')} settles on the {m.get('settles')} session (holiday)"
        )
    return (" " + "; ".join(parts) + ".") if parts else ""


@callback(
    Output("gamma-provenance", "children"),
    Output("gamma-cards", "children"),
    Output("gamma-note", "children"),
    Output("gamma-by-strike", "figure"),
    Output("gamma-profile", "figure"),
    Output("gamma-by-expiry", "figure"),
    Output("gamma-heatmap", "figure"),
    Output("gamma-hedge-flow", "figure"),
    Output("gamma-history", "figure"),
    Output("gamma-sensitivity", "rowData"),
    Output("gamma-sensitivity", "columnDefs"),
    Output("gamma-sensitivity", "csvExportParams"),
    Output("gamma-contracts", "columnDefs"),
    Input("gamma-underlying", "value"),
    Input("data-version", "data"),
)
@cached_view("gamma", lambda u, *_a: f"{PREFIX}{u}" if u else None, task="gamma", skip=(1,))
def _render(underlying: str | None, _n: int) -> tuple:
    """Read ``gamma.<underlying>`` and draw every block."""
    blank = empty("Pick an underlying")
    if not underlying:
        return missing("gamma.<underlying>"), [], "", *([blank] * len(GRAPHS)), [], [], {}, []
    name = f"{PREFIX}{underlying}"
    try:
        store = data.store()
        result = store.read(name)
        series = store.headline_series(name, HISTORY_FIELDS)
        closes = store.eod_series(name, HISTORY_FIELDS)
    except KeyError:
        return missing(name), [], "", *([empty(f"No result {name}")] * len(GRAPHS)), [], [], {}, []
    except Exception as exc:  # Redis unreachable: say so on the page instead of a callback error
        log.error("gamma page cannot read %s: %s", name, exc)
        box = html.Div(f"Cannot read {name} from the result store: {exc}", className="fd-error")
        return box, [], "", *([empty("Result store unavailable")] * len(GRAPHS)), [], [], {}, []
    meta = result.meta
    h = meta.headline
    tz, stale_after = data.display_settings("gamma")
    conv = h.get("convention")
    params = meta.extra.get("params", {})
    window = float(params.get("window") or 0.2)
    spot = h.get("spot")
    tables = result.tables

    def tab(t: str) -> pd.DataFrame:
        return tables.get(t, pd.DataFrame())

    note = (
        f"{gfig.convention_note(conv)} Spot GEX = Σ sign × gamma × OI × units × U² × 1% (the source's gamma; "
        f"BSM gamma at the contract's IV where the source has none or 0); "
        f"time basis {h.get('time_basis', params.get('time_basis', 'calendar'))}; "
        f"{h.get('contracts', 'n/a')} contracts, {h.get('expired_dropped', 0)} expired dropped, "
        f"{h.get('unsolved_iv', 0)} with unsolved IV, {meta.extra.get('skipped_rows', 0)} source rows skipped."
        + fidelity_note(h)
    )
    figs = [
        gfig.gex_by_strike(
            tab("by_strike"),
            spot=spot,
            flip=h.get("flip"),
            call_wall=h.get("call_wall"),
            put_wall=h.get("put_wall"),
            window=window,
            convention=conv,
            underlying=underlying,
        ),
        gfig.gamma_profile(
            tab("profile"),
            spot=spot,
            flips=h.get("flips") or [],
            convention=conv,
            underlying=underlying,
        ),
        gfig.gex_by_expiry(
            tab("by_expiry"), as_of=meta.as_of, convention=conv, underlying=underlying
        ),
        gfig.gex_heatmap(
            tab("grid"), spot=spot, window=window, convention=conv, underlying=underlying
        ),
        gfig.hedge_flow(
            tab("hedge_flow"),
            convention=conv,
            underlying=underlying,
            iv_shock_points=params.get("iv_shock_points"),
        ),
        gfig.history(closes, series, convention=conv, underlying=underlying, tz=tz),
    ]
    sens_data, sens_cols = frame_table(tab("sensitivity"), meta.units.get("sensitivity", {}))
    _, con_cols = frame_table(tab("contracts").head(0), meta.units.get("contracts", {}))
    return (
        provenance(meta, stale_after_minutes=stale_after, tz=tz),
        cards(h, headline_units(meta)),
        note,
        *figs,
        sens_data,
        sens_cols,
        export_params("gamma-sensitivity", meta.as_of, underlying),
        con_cols,
    )


def by_abs_gex(contracts: pd.DataFrame) -> pd.DataFrame:
    """The contracts, largest |net GEX| first (the grid's order before the user sorts)."""
    gcol = next(
        (c for c in ("net_gex_usd_per_1pct", "gex_usd_per_1pct") if c in contracts.columns), None
    )
    return (
        contracts
        if gcol is None
        else contracts.iloc[contracts[gcol].abs().argsort(kind="stable")[::-1]]
    )


@callback(
    Output("gamma-contracts", "getRowsResponse"),
    Input("gamma-contracts", "getRowsRequest"),
    State("gamma-underlying", "value"),
    prevent_initial_call=True,
)
def _contract_rows(request: dict | None, underlying: str | None) -> Any:
    """One block of the contracts grid (``startRow`` .. ``endRow`` after the grid's sort and
    filters): the chain stays on the server, the browser gets :data:`CONTRACT_PAGE` rows at a time."""
    if not request:
        return dash.no_update
    if not underlying:  # asked before an underlying is picked: empty until the columns arrive
        return {"rowData": [], "rowCount": 0}
    try:
        result = data.store().read(f"{PREFIX}{underlying}", tables=["contracts"])
    except (
        Exception
    ) as exc:  # no result or Redis down: an empty grid, the page's other blocks say why
        log.error("gamma contracts %s: %s", underlying, exc)
        return {"rowData": [], "rowCount": 0}
    return rows_block(
        by_abs_gex(result.table("contracts")), request, result.meta.units.get("contracts", {})
    )


# A new underlying or version (its columns are sent after each): the grid drops its blocks and asks again.
dash.clientside_callback(
    """function(columns) {
        try {
            const api = window.dash_ag_grid.getApi("gamma-contracts");
            if (api) { api.purgeInfiniteCache(); }
        } catch (e) { /* the grid is not drawn yet: it asks for its first block itself */ }
        return window.dash_clientside.no_update;
    }""",
    Output("gamma-contracts-reset", "data"),
    Input("gamma-contracts", "columnDefs"),
    prevent_initial_call=True,
)


@callback(
    Output("gamma-download", "data"),
    Input("gamma-download-btn", "n_clicks"),
    State("gamma-underlying", "value"),
    prevent_initial_call=True,
)
def _download(n_clicks: int, underlying: str | None) -> Any:
    """Every contract of the current result as CSV (column names carry units)."""
    if not n_clicks or not underlying:
        return dash.no_update
    result = data.store().read(f"{PREFIX}{underlying}", tables=["contracts"])
    frame = result.table("contracts")
    return dcc.send_data_frame(
        frame.to_csv,
        export_params("gamma-contracts", result.meta.as_of, underlying)["fileName"],
        index=False,
    )


@warmer
def _warm_gamma(versions: dict[str, str]) -> None:
    """Every gamma underlying's page, drawn after a publish."""
    for name in versions:
        if name.startswith(PREFIX):
            VIEWS["gamma"](name[len(PREFIX) :], versions)
