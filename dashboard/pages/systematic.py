"""Systematic page: vol-control funds, CTA trend followers and VIX futures ETPs.

Reads ``volcontrol.<INDEX>``, ``cta.<INDEX>`` and ``vixetp.flows`` (published by the
``systematic`` task) and draws them; nothing is computed here.  Blocks: headline cards with each
engine's horizon, vol-control exposure and flow history and its shock grid, the CTA position
history, trigger-level table (levels, distance, days to flip) and tape scenarios, and the VIX
ETPs' needs in USD, VX contracts and % of VX volume.
"""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

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
from dashboard.figures import systematic as sfig
from dashboard.figures.common import empty

dash.register_page(
    __name__, path="/systematic", name="Systematic", order=25, title="flowdesk · Systematic"
)

VIXETP = "vixetp.flows"
DEFAULT_INDEX = "SPX"
GRAPHS = (
    "sys-vc-history",
    "sys-vc-grid",
    "sys-cta-history",
    "sys-cta-scenarios",
    "sys-etp-scenarios",
    "sys-etp-funds",
)


def _graph(gid: str) -> html.Div:
    return html.Div(
        dcc.Loading(dcc.Graph(id=gid, figure=empty("Loading…"), config={"displaylogo": False})),
        className="fd-col",
    )


def layout(index: str | None = None, **_query: Any) -> html.Div:
    """Page layout; ``?index=NDX`` picks the index of the vol-control and CTA blocks."""
    return html.Div(
        [
            html.H2(
                "Systematic flows: vol-control funds, CTAs, VIX ETPs", className="fd-page-title"
            ),
            html.Div(
                [
                    html.Label("Index", htmlFor="sys-index", className="fd-control-label"),
                    dcc.Dropdown(
                        id="sys-index",
                        options=[(index or DEFAULT_INDEX).upper()],
                        value=(index or DEFAULT_INDEX).upper(),
                        clearable=False,
                        style={"width": "160px"},
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(id="sys-cards", className="fd-cards"),
            html.H3("Vol-control funds (horizon: next sessions, lagged)"),
            html.Div(id="sys-vc-provenance", className="fd-provenance"),
            html.Div([_graph("sys-vc-history"), _graph("sys-vc-grid")], className="fd-row"),
            grid("sys-vc-scenarios", page_size=10, filterable=False),
            html.H3("CTA trend followers (horizon: this week)"),
            html.Div(id="sys-cta-provenance", className="fd-provenance"),
            html.Div([_graph("sys-cta-history"), _graph("sys-cta-scenarios")], className="fd-row"),
            html.H4("Trigger levels: the close that flips each rule at the next session"),
            grid("sys-cta-triggers", page_size=10, filterable=False),
            html.H3("VIX futures ETPs (horizon: today, into the close)"),
            html.Div(id="sys-etp-provenance", className="fd-provenance"),
            html.Div([_graph("sys-etp-funds"), _graph("sys-etp-scenarios")], className="fd-row"),
            grid("sys-etp-funds-table", page_size=12),
            html.H4("Per VX contract: the funds' trades against the contract's volume"),
            grid("sys-etp-contracts", page_size=12, filterable=False),
            html.H4("AUM calibrations in force"),
            grid("sys-calibration", page_size=4, filterable=False, export=False),
        ],
        className="fd-page",
    )


def _indices(store: Any) -> list[str]:
    names = store.names()
    return sorted({n.split(".", 1)[1] for n in names if n.startswith(("volcontrol.", "cta."))})


def _read(store: Any, name: str) -> Any:
    try:
        return store.read(name)
    except KeyError:
        return None


def cards(vc: Any, ct: Any, etp: Any) -> list[html.Div]:
    """Headline cards, each value written by its declared unit, each engine with its horizon."""
    out = []

    def v(meta: Any, key: str, **style: Any) -> str:
        return display.value(
            meta.headline.get(key),
            headline_units(meta).get(key),
            **style,
        )

    if vc is not None:
        m = vc.meta
        out.append(
            card(
                "Vol-control flow, next session",
                v(m, "flow_usd_1d"),
                f"next 5 sessions {v(m, 'flow_usd_1w_flat')} · exposure {v(m, 'exposure')} · {m.headline.get('horizon')}",
                card_id="sys-card-vc",
            )
        )
    if ct is not None:
        m = ct.meta
        out.append(
            card(
                "CTA nearest trigger",
                v(m, "nearest_trigger_level"),
                f"{m.headline.get('nearest_trigger')} · {v(m, 'nearest_trigger_distance_pct', signed=True)} from the close · that rule flips in {v(m, 'nearest_trigger_days_to_flip')} sessions if flat (first flip of any rule: {v(m, 'min_days_to_flip')})",
                card_id="sys-card-cta-trigger",
            )
        )
        out.append(
            card(
                "CTA position",
                v(m, "position_usd"),
                f"{v(m, 'position')} of AUM · −2σ week {v(m, 'flow_usd_down_1w')} · {m.headline.get('horizon')}",
                card_id="sys-card-cta",
            )
        )
    if etp is not None:
        m = etp.meta
        out.append(
            card(
                "VIX ETP rebalance today",
                v(m, "rebalance_usd"),
                f"{v(m, 'rebalance_contracts')} VX contracts · {v(m, 'pct_of_volume')} of the traded contracts' volume · {m.headline.get('horizon')}",
                card_id="sys-card-etp",
            )
        )
    return out


@callback(
    Output("sys-index", "options"),
    Output("sys-cards", "children"),
    Output("sys-vc-provenance", "children"),
    Output("sys-cta-provenance", "children"),
    Output("sys-etp-provenance", "children"),
    *(Output(g, "figure") for g in GRAPHS),
    Output("sys-vc-scenarios", "rowData"),
    Output("sys-vc-scenarios", "columnDefs"),
    Output("sys-cta-triggers", "rowData"),
    Output("sys-cta-triggers", "columnDefs"),
    Output("sys-etp-funds-table", "rowData"),
    Output("sys-etp-funds-table", "columnDefs"),
    Output("sys-etp-contracts", "rowData"),
    Output("sys-etp-contracts", "columnDefs"),
    Output("sys-calibration", "rowData"),
    Output("sys-calibration", "columnDefs"),
    Input("data-version", "data"),  # redrawn only when a result is published
    Input("sys-index", "value"),
)
def _render(_versions: dict[str, str] | None, index: str | None) -> tuple:
    """Read the three results of the chosen index and draw every block."""
    store = data.store()
    index = (index or DEFAULT_INDEX).upper()
    tz, stale_after = data.display_settings("systematic")
    vc, ct, etp = (
        _read(store, f"volcontrol.{index}"),
        _read(store, f"cta.{index}"),
        _read(store, VIXETP),
    )

    def tab(res: Any, name: str) -> pd.DataFrame:
        return res.tables.get(name, pd.DataFrame()) if res is not None else pd.DataFrame()

    def prov(res: Any, name: str) -> Any:
        return (
            provenance(res.meta, stale_after_minutes=stale_after, tz=tz)
            if res is not None
            else missing(name)
        )

    def table(res: Any, name: str) -> tuple[list, list]:
        return (
            frame_table(tab(res, name), res.meta.units.get(name, {}))
            if res is not None
            else ([], [])
        )

    figs = [
        sfig.volcontrol_history(tab(vc, "history"), index)
        if vc is not None
        else empty(f"No result volcontrol.{index}"),
        sfig.volcontrol_shock_grid(tab(vc, "shock_grid"), index)
        if vc is not None
        else empty(f"No result volcontrol.{index}"),
        sfig.cta_history(tab(ct, "history"), index)
        if ct is not None
        else empty(f"No result cta.{index}"),
        sfig.cta_scenarios(tab(ct, "scenarios"), index)
        if ct is not None
        else empty(f"No result cta.{index}"),
        sfig.vixetp_scenarios(tab(etp, "scenarios"))
        if etp is not None
        else empty(f"No result {VIXETP}"),
        sfig.vixetp_funds(tab(etp, "funds")) if etp is not None else empty(f"No result {VIXETP}"),
    ]
    cal_frames = []
    cal_units: dict[str, str] = {}
    for res in (vc, ct):
        if res is not None and "calibration" in res.tables:
            cal_frames.append(res.tables["calibration"].assign(result=res.meta.name))
            cal_units = {**res.meta.units.get("calibration", {}), "result": "label"}
    cal = pd.concat(cal_frames, ignore_index=True) if cal_frames else pd.DataFrame()
    cal_data, cal_cols = frame_table(
        cal[["result", *[c for c in cal.columns if c != "result"]]] if not cal.empty else cal,
        cal_units,
        own={"result": "Result"},
    )
    return (
        [{"label": i, "value": i} for i in _indices(store)],
        cards(vc, ct, etp),
        prov(vc, f"volcontrol.{index}"),
        prov(ct, f"cta.{index}"),
        prov(etp, VIXETP),
        *figs,
        *table(vc, "scenarios"),
        *table(ct, "triggers"),
        *table(etp, "funds"),
        *table(etp, "by_contract"),
        cal_data,
        cal_cols,
    )


SYSTEMATIC_GRIDS = {
    "sys-vc-scenarios": "volcontrol.{}",
    "sys-cta-triggers": "cta.{}",
    "sys-etp-funds-table": "vixetp.flows",
    "sys-etp-contracts": "vixetp.flows",
}
grid_exports(*SYSTEMATIC_GRIDS)
export_names(SYSTEMATIC_GRIDS, picker=("sys-index", "value"))
