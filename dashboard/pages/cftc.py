"""CFTC positioning page: the speculative net USD position in IMM currency futures.

Reads ``cftc.net_usd`` (published by the ``cftc`` task) and draws it; no analytics here.
Behind-schedule warning (the newest report older than the one the CFTC calendar expects, as
during the backlog after a shutdown: ``extra.schedule`` of the result), the input quality on the
provenance line, trader toggle (legacy non-commercials / TFF leveraged funds / TFF asset
managers), headline cards (net USD, weekly change, z-score, percentile, as-of and release
dates: the release is when the report was first seen), net USD history
with previous peaks, per-currency stacked contributions, z-score/percentile panel, weekly change
split into position and FX, unwind beneficiaries, crowding ranking and the weekly table (CSV).
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, callback, dash_table, dcc, html

from dashboard import data
from dashboard.components import card, datatable, frame_table, missing, provenance
from dashboard.figures import cftc as cfig
from dashboard.figures.common import empty
from flows.formatting import format_value

dash.register_page(__name__, path="/cftc", name="CFTC positioning", order=30, title="flowdesk · CFTC positioning")

log = logging.getLogger("flowdesk.web.cftc")

RESULT = "cftc.net_usd"
GRAPHS = ("cftc-history", "cftc-currencies", "cftc-stats", "cftc-change", "cftc-unwind")


def _graph(gid: str) -> html.Div:
    return html.Div(dcc.Loading(dcc.Graph(id=gid, figure=empty("Loading…"), config={"displaylogo": False})), className="fd-col")


def layout(trader: str | None = None, **_query: Any) -> html.Div:
    """Page layout; ``?trader=lev_money`` preselects the TFF view.  No store access here."""
    value = trader if trader in cfig.TRADERS else "noncomm"
    return html.Div(
        [
            html.H2("CFTC positioning: speculative net USD", className="fd-page-title"),
            html.Div(
                [
                    html.Label("Trader class", htmlFor="cftc-trader", className="fd-control-label"),
                    dcc.RadioItems(
                        id="cftc-trader",
                        options=[{"label": v["label"], "value": k} for k, v in cfig.TRADERS.items()],
                        value=value,
                        inline=True,
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(id="cftc-provenance", className="fd-provenance"),
            html.Div(id="cftc-schedule"),
            html.Div(id="cftc-dates", className="fd-note"),
            html.Div(id="cftc-cards", className="fd-cards"),
            html.Div(
                "Net USD = minus the sum of the speculative positions in the basket's currency futures, "
                "each valued at contracts × contract size × USD per unit (ECB rate of the report date, or the previous ECB day); "
                "+ = speculators net long USD. Weeks where a basket currency is missing are partial and never shown as complete.",
                className="fd-note",
            ),
            html.Div([_graph("cftc-history")], className="fd-row"),
            html.Div([_graph("cftc-currencies")], className="fd-row"),
            html.Div([_graph("cftc-stats"), _graph("cftc-change")], className="fd-row"),
            html.Div([_graph("cftc-unwind")], className="fd-row"),
            html.H3("Crowding (3y, net contracts)", className="fd-section-title"),
            dash_table.DataTable(id="cftc-crowding", data=[], columns=[], sort_action="native", style_table={"overflowX": "auto"}),
            html.H3("Weekly net USD", className="fd-section-title"),
            html.Div("Sortable; the Export button downloads the table as CSV.", className="fd-note"),
            datatable("cftc-table", filterable=False, style_cell=None, style_header=None),
        ],
        className="fd-page",
    )


def schedule_note(extra: dict[str, Any]) -> list:
    """The behind-schedule warning of ``extra.schedule`` (empty when on schedule or unknown)."""
    sched = extra.get("schedule") or {}
    if not sched.get("behind"):
        return []
    weeks = int(sched.get("behind_weeks", 0))
    return [
        html.Span(f"BEHIND SCHEDULE: {weeks} WEEK{'S' if weeks != 1 else ''}", className="fd-label fd-label-warning", title=sched.get("message", "")),
        html.Span(f" {sched.get('message', '')}", className="fd-quality-warnings"),
    ]


def cards(row: pd.Series, series: str, baskets: list[str], prefix: str, units: dict[str, str]) -> list[html.Div]:
    """Headline cards from the latest complete weekly row of ``series``, written by the declared
    ``units`` of the weekly table (:func:`flows.formatting.format_value`)."""

    def v(col: str) -> str:
        # the CFTC cards' style: +$35.2bn (signed, one decimal, no space)
        return format_value(row.get(col), units.get(col), signed=True, digits=1, space=False)

    out = []
    for b in baskets:
        col = f"{prefix}_{b}"
        if col in row.index:
            out.append(card(f"Net USD {b}", v(col), "USD, + = long USD", card_id=f"cftc-card-{b}"))
    out += [
        card("Weekly change", v(f"{series}_change_usd"), f"position {v(f'{series}_change_position_usd')} · FX {v(f'{series}_change_fx_usd')}", card_id="cftc-card-change"),
        card("z-score 3y", v(f"{series}_z_3y"), f"1y {v(f'{series}_z_1y')} · 5y {v(f'{series}_z_5y')} ({units.get(f'{series}_z_3y', 'standard deviations')})", card_id="cftc-card-z"),
        card("Percentile 3y", v(f"{series}_pct_3y"), f"COT index 3y {v(f'{series}_cot_index_3y')} ({units.get(f'{series}_cot_index_3y', '0-100')})", card_id="cftc-card-pct"),
    ]
    return out


@callback(
    Output("cftc-provenance", "children"),
    Output("cftc-schedule", "children"),
    Output("cftc-dates", "children"),
    Output("cftc-cards", "children"),
    Output("cftc-history", "figure"),
    Output("cftc-currencies", "figure"),
    Output("cftc-stats", "figure"),
    Output("cftc-change", "figure"),
    Output("cftc-unwind", "figure"),
    Output("cftc-crowding", "data"),
    Output("cftc-crowding", "columns"),
    Output("cftc-table", "data"),
    Output("cftc-table", "columns"),
    Input("cftc-trader", "value"),
    Input("refresh-interval", "n_intervals"),
)
def _render(trader: str | None, _n: int) -> tuple:
    """Read ``cftc.net_usd`` and draw every block for the chosen trader class."""
    trader = trader if trader in cfig.TRADERS else "noncomm"
    spec = cfig.TRADERS[trader]
    try:
        result = data.store().read(RESULT)
    except KeyError:
        blank = empty(f"No result {RESULT}")
        return missing(RESULT), [], "", [], *([blank] * len(GRAPHS)), [], [], [], []
    meta = result.meta
    schedule = schedule_note(meta.extra)
    tz, stale_after = data.display_settings("cftc")
    weekly = result.tables.get("weekly", pd.DataFrame())
    baskets = list(meta.extra.get("baskets", {}))
    head_basket = meta.headline.get("basket") or (baskets[-1] if baskets else "wide9")
    prefix = spec["prefix"]
    series = f"{prefix}_{head_basket}"
    label = spec["label"]
    if series not in weekly.columns:
        blank = empty(f"{label}: not in this result (no {'TFF' if trader != 'noncomm' else 'legacy'} report ingested)")
        return provenance(meta, stale_after_minutes=stale_after, tz=tz), schedule, "", [], *([blank] * len(GRAPHS)), [], [], [], []
    # Only the weeks this trader class reported (a legacy-only history has no TFF rows, and back).
    own = [f"{prefix}_{b}" for b in baskets if f"{prefix}_{b}" in weekly.columns] or [series]
    weekly = weekly[weekly[own].notna().any(axis=1)]
    if weekly.empty:
        blank = empty(f"{label}: no week with positions in this result")
        return provenance(meta, stale_after_minutes=stale_after, tz=tz), schedule, "", [], *([blank] * len(GRAPHS)), [], [], [], []
    complete = weekly[weekly[series].notna()]
    last = complete.iloc[-1] if len(complete) else weekly.iloc[-1]
    release = pd.Timestamp(last["release_time"]).tz_convert(tz).strftime("%a %Y-%m-%d %H:%M %Z") if pd.notna(last["release_time"]) else "n/a"
    dates = f"Report as of {pd.Timestamp(last['as_of']).strftime('%a %Y-%m-%d')} · released {release} · {label}, basket {head_basket}"
    partial = int(weekly["partial"].sum()) if "partial" in weekly.columns else 0
    if partial:
        dates += f" · {partial} partial week(s) excluded"
    others = [f"{prefix}_{b}" for b in baskets if f"{prefix}_{b}" != series]
    scenario = meta.extra.get("unwind_to", "median")
    years = round(int(meta.extra.get("unwind_weeks", 156)) / 52)
    figs = [
        cfig.net_usd_history(weekly, result.tables.get("peaks", pd.DataFrame()), series, title=f"Net USD position, {label} ({head_basket})", other=others),
        cfig.currency_bars(
            result.tables.get("currencies", pd.DataFrame()),
            spec["contrib"],
            basket=list(meta.extra.get("baskets", {}).get(head_basket, [])),
            title=f"Contribution to net USD by currency, {label} ({head_basket}; the stack sums to net USD)",
        ),
        cfig.stats_panel(weekly, series, title="z-scores, percentile and COT index"),
        cfig.change_decomposition(weekly, series, title="Weekly change: position vs FX revaluation"),
        cfig.unwind_bars(
            result.tables.get("unwind", pd.DataFrame()),
            series,
            scenario=scenario,
            title=f"Unwind to {'zero' if scenario == 'zero' else f'the {years}-year median'}: who benefits",
        ),
    ]
    crowd = result.tables.get("crowding", pd.DataFrame())
    crowd = crowd[crowd["series"] == series] if "series" in crowd.columns else crowd
    crowd_data, crowd_cols = frame_table(crowd.drop(columns=[c for c in ("series",) if c in crowd.columns]), meta.units.get("crowding", {}))
    keep = ["as_of", "release_time", *[c for c in weekly.columns if c.startswith(prefix + "_") and c.count("_") <= (prefix.count("_") + 1)]]
    keep += [f"{series}_{s}" for s in ("change_usd", "change_position_usd", "change_fx_usd", "z_1y", "z_3y", "z_5y", "pct_3y", "cot_index_3y") if f"{series}_{s}" in weekly.columns]
    keep += ["partial"]
    table = weekly[list(dict.fromkeys(c for c in keep if c in weekly.columns))].iloc[::-1]
    tab_data, tab_cols = frame_table(table, meta.units.get("weekly", {}))
    return (
        provenance(meta, stale_after_minutes=stale_after, tz=tz),
        schedule,
        dates,
        cards(last, series, baskets, prefix, meta.units.get("weekly", {})),
        *figs,
        crowd_data,
        crowd_cols,
        tab_data,
        tab_cols,
    )
