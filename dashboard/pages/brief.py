"""Morning brief: the one-page summary published by the ``brief`` task, kept by date.

Shows any kept brief (a dropdown of the history), and downloads it as PDF or PNG: the page draws
the published tables into one figure and Plotly's static export (kaleido, headless Chromium)
renders it.  Nothing is computed here.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import data
from dashboard.components import datatable, missing, provenance, table_data
from dashboard.figures import board as bfig
from jobs.store import Result, ResultNotFound

dash.register_page(__name__, path="/brief", name="Morning brief", order=6, title="flowdesk · Morning brief")

log = logging.getLogger("flowdesk.web.brief")
RESULT = "board.brief"


def layout(version: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        [
            html.H2("Morning brief", className="fd-page-title"),
            html.Div(
                [
                    html.Label("Brief", htmlFor="brief-version", className="fd-control-label"),
                    dcc.Dropdown(id="brief-version", options=[], value=version, clearable=False, style={"width": "360px"}),
                    html.Button("Download PDF", id="brief-pdf", className="fd-button"),
                    html.Button("Download PNG", id="brief-png", className="fd-button"),
                    dcc.Download(id="brief-download"),
                ],
                className="fd-controls",
            ),
            html.Div(id="brief-provenance", className="fd-provenance"),
            html.Pre(id="brief-text", className="fd-brief-text"),
            html.Div(
                [
                    html.Div([html.H3("Dealer gamma"), datatable("brief-gamma", export=False)], className="fd-col"),
                    html.Div([html.H3("Biggest changes since the previous brief"), datatable("brief-changes", export=False)], className="fd-col"),
                ],
                className="fd-row",
            ),
            html.Div(
                [
                    html.Div([html.H3("Leveraged ETFs: USD per 1% move"), datatable("brief-letf", export=False)], className="fd-col"),
                    html.Div([html.H3("Mechanical flow by index move"), datatable("brief-flows", export=False)], className="fd-col"),
                ],
                className="fd-row",
            ),
        ],
        className="fd-page",
    )


def _read(version: str | None) -> Result:
    return data.store().read(RESULT, version=version) if version else data.store().read(RESULT)


@callback(Output("brief-version", "options"), Output("brief-version", "value"), Input("refresh-interval", "n_intervals"), State("brief-version", "value"))
def versions(_n: int, current: str | None) -> tuple[list[dict], str | None]:
    metas = data.store().history(RESULT)
    tz = data.settings().service.timezone
    options = [{"label": f"{m.headline.get('date', '?')} (computed {pd.Timestamp(m.computed_at).tz_convert(tz):%Y-%m-%d %H:%M %Z})", "value": m.version} for m in reversed(metas)]
    known = {o["value"] for o in options}
    return options, current if current in known else (options[0]["value"] if options else None)


@callback(
    Output("brief-provenance", "children"),
    Output("brief-text", "children"),
    Output("brief-gamma", "data"),
    Output("brief-gamma", "columns"),
    Output("brief-changes", "data"),
    Output("brief-changes", "columns"),
    Output("brief-letf", "data"),
    Output("brief-letf", "columns"),
    Output("brief-flows", "data"),
    Output("brief-flows", "columns"),
    Input("brief-version", "value"),
)
def show(version: str | None) -> tuple:
    try:
        res = _read(version)
    except ResultNotFound:
        return (missing(RESULT), "", [], [], [], [], [], [], [], [])
    units = res.meta.units
    g = table_data(res.table("gamma"), {"underlying": "Underlying", "regime": "Regime", "net_gex_usd_per_1pct": "Net GEX", "flip": "Flip", "flip_distance_pct": "Flip distance"}, units.get("gamma", {}))
    c = table_data(res.table("changes"), {"figure": "Figure", "previous": "Previous", "current": "Current", "change": "Change"}, units.get("changes", {}))
    lt = table_data(res.table("letf"), {"underlying": "Underlying", "per_1pct_usd": "Leveraged ETFs"}, units.get("letf", {}))
    fl = table_data(res.table("flows"), {"index_move_pct": "Index move", "dealer_gamma_usd": "Dealers, price", "letf_usd": "Leveraged ETFs", "total_usd": "Total"}, units.get("flows", {}))
    return (provenance(res.meta, tz=data.settings().service.timezone), res.meta.headline.get("text", ""), *g, *c, *lt, *fl)


@callback(Output("brief-download", "data"), Input("brief-pdf", "n_clicks"), Input("brief-png", "n_clicks"), State("brief-version", "value"), prevent_initial_call=True)
def download(_pdf: int | None, _png: int | None, version: str | None) -> dict:
    fmt = "pdf" if dash.ctx.triggered_id == "brief-pdf" else "png"
    res = _read(version)
    payload = bfig.brief_image(res, fmt)
    name = f"flowdesk-brief-{res.meta.headline.get('date', 'latest')}.{fmt}"
    return dcc.send_bytes(payload, name)
