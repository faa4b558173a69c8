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
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data, display
from dashboard.components import (
    card,
    export_names,
    frame_table,
    grid,
    grid_exports,
    missing,
    provenance,
)
from dashboard.figures import cftc as cfig
from dashboard.figures.common import empty
from dashboard.render_cache import VIEWS, cached_view, warmer

dash.register_page(
    __name__, path="/cftc", name="CFTC positioning", order=30, title="flowdesk · CFTC positioning"
)

log = logging.getLogger("flowdesk.web.cftc")

TABLE_WEEKS = 156
"""Weekly rows in the page's table (3 years); the API serves every week."""
RESULT = "cftc.net_usd"
GRAPHS = ("cftc-history", "cftc-currencies", "cftc-stats", "cftc-change", "cftc-unwind")


def _graph(gid: str, note_id: str | None = None) -> html.Div:
    """A chart panel; ``note_id``: a caption under the chart, filled by the page's callback."""
    graph = dcc.Loading(dcc.Graph(id=gid, figure=empty("Loading…"), config={"displaylogo": False}))
    if note_id is None:
        return html.Div(graph, className="fd-col")
    return html.Div([graph, html.Div(id=note_id, className="fd-note")], className="fd-col")


def layout(trader: str | None = None, market: str | None = None, **_query: Any) -> html.Div:
    """Page layout; ``?trader=lev_money`` preselects the TFF view, ``?market=rates`` (or
    ``equity_index``, ``vix``) the futures markets of ``cftc.futures_positioning``.  No store
    access here."""
    value = trader if trader in cfig.TRADERS else "noncomm"
    group = market if market in MARKET_GROUPS else "fx"
    return html.Div(
        [
            html.H2("CFTC positioning", className="fd-page-title"),
            market_picker(group),
            dcc.Store(id="cftc-panel-kind", data=panel_kind(group), storage_type="memory"),
            html.Div(market_panel(group, value), id="cftc-panel"),
        ],
        className="fd-page",
    )


def panel_kind(group: str | None) -> str:
    """``"fx"`` (the FX basket, ``cftc.net_usd``) or ``"futures"`` (a group of
    ``cftc.futures_positioning``): the block the page mounts for a market group."""
    return "fx" if group in (None, "fx") else "futures"


def market_panel(group: str, trader: str = "noncomm") -> list:
    """The one block of the chosen market group.

    Only that block is in the page: the other one is not mounted hidden (``display: none``), so no
    grid or chart is ever sized while invisible (AG Grid warning #29, columns squeezed to their
    minimum width, charts drawn at a default width) and a view downloads only what it shows.
    """
    return fx_panel(trader) if panel_kind(group) == "fx" else [futures_panel(group)]


MARKET_GROUPS = {
    "fx": "FX basket (net USD)",
    "equity_index": "Equity index futures",
    "vix": "VIX futures",
    "rates": "Treasury and SOFR futures",
}
"""The market picker: the FX basket (``cftc.net_usd``) or a group of ``cftc.futures_positioning``."""
FP_RESULT = "cftc.futures_positioning"
FP_GRAPHS = ("cftc-fp-net", "cftc-fp-stats", "cftc-fp-exposure", "cftc-fp-change")


def market_picker(group: str) -> html.Div:
    return html.Div(
        [
            html.Label("Market", htmlFor="cftc-market", className="fd-control-label"),
            dcc.RadioItems(
                id="cftc-market",
                options=[{"label": v, "value": k} for k, v in MARKET_GROUPS.items()],
                value=group,
                inline=True,
            ),
        ],
        className="fd-controls",
    )


def futures_panel(group: str) -> html.Div:
    """The futures markets' block (equity index, VIX, rates): same charts as the FX view."""
    return html.Div(
        [
            html.Div(
                [
                    html.Label("Contract", htmlFor="cftc-fp-symbol", className="fd-control-label"),
                    dcc.Dropdown(
                        id="cftc-fp-symbol",
                        options=[],
                        value=None,
                        clearable=False,
                        style={"width": "260px"},
                    ),
                    html.Label(
                        "Trader class", htmlFor="cftc-fp-class", className="fd-control-label"
                    ),
                    dcc.RadioItems(
                        id="cftc-fp-class",
                        options=[
                            {"label": "asset managers", "value": "asset_manager"},
                            {"label": "leveraged funds", "value": "leveraged_funds"},
                            {"label": "dealers", "value": "dealer"},
                        ],
                        value="asset_manager",
                        inline=True,
                        persistence=True,  # kept when the block is mounted again
                        persistence_type="memory",
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(id="cftc-fp-provenance", className="fd-provenance"),
            html.Div(id="cftc-fp-cards", className="fd-cards"),
            html.Div(
                "Net = long − short contracts by trader class (TFF futures only); equity and VIX exposure in USD (net × multiplier × the index close of the report date, "
                "never guessed without one), Treasuries and SOFR in DV01 (USD per basis point, + = long duration) and 10-year note equivalents.",
                className="fd-note",
            ),
            html.Div([_graph("cftc-fp-net")], className="fd-row"),
            html.Div([_graph("cftc-fp-stats"), _graph("cftc-fp-exposure")], className="fd-row"),
            html.Div([_graph("cftc-fp-change")], className="fd-row"),
            html.H3(
                "Latest week: every market of the group and class", className="fd-section-title"
            ),
            grid("cftc-fp-latest", page_size=25, filterable=False),
            html.H3("Distance to previous extremes", className="fd-section-title"),
            grid("cftc-fp-extremes", page_size=15, filterable=False),
            html.H3("Crowding flags", className="fd-section-title"),
            grid("cftc-fp-crowding", page_size=15, filterable=False),
        ],
        id="cftc-fp-panel",
    )


def fx_panel(value: str) -> list:
    return [
        html.Div(
            [
                html.Label("Trader class", htmlFor="cftc-trader", className="fd-control-label"),
                dcc.RadioItems(
                    id="cftc-trader",
                    options=[{"label": v["label"], "value": k} for k, v in cfig.TRADERS.items()],
                    value=value,
                    inline=True,
                    persistence=True,  # the class picked is kept when the block is mounted again
                    persistence_type="memory",
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
        html.Div([_graph("cftc-unwind", note_id="cftc-unwind-note")], className="fd-row"),
        html.H3("Crowding (3y, net contracts)", className="fd-section-title"),
        grid("cftc-crowding", page_size=15),
        html.H3(f"Weekly net USD: the last {TABLE_WEEKS} reports", className="fd-section-title"),
        html.Div(
            [
                "Sortable; the Export button downloads these rows as CSV; every week since the first report: ",
                html.A(
                    "weekly table as CSV",
                    href=f"/api/v1/results/{RESULT}?format=csv&table=weekly",
                    id="cftc-all-weeks",
                ),
            ],
            className="fd-note",
        ),
        grid("cftc-table", filterable=False),
    ]


def schedule_note(extra: dict[str, Any]) -> list:
    """The behind-schedule warning of ``extra.schedule`` (empty when on schedule or unknown)."""
    sched = extra.get("schedule") or {}
    if not sched.get("behind"):
        return []
    weeks = int(sched.get("behind_weeks", 0))
    return [
        html.Span(
            f"BEHIND SCHEDULE: {weeks} WEEK{'S' if weeks != 1 else ''}",
            className="fd-label fd-label-warning",
            title=sched.get("message", ""),
        ),
        html.Span(f" {sched.get('message', '')}", className="fd-quality-warnings"),
    ]


def cards(
    row: pd.Series, series: str, baskets: list[str], prefix: str, units: dict[str, str]
) -> list[html.Div]:
    """Headline cards from the latest complete weekly row of ``series``, written by the declared
    ``units`` of the weekly table (:func:`dashboard.display.value`)."""

    def v(col: str) -> str:
        # the CFTC cards' style: +$35.2 bn (signed, one decimal)
        return display.value(row.get(col), units.get(col), signed=True, digits=1)

    out = []
    for b in baskets:
        col = f"{prefix}_{b}"
        if col in row.index:
            out.append(card(f"Net USD {b}", v(col), "USD, + = long USD", card_id=f"cftc-card-{b}"))
    out += [
        card(
            "Weekly change",
            v(f"{series}_change_usd"),
            f"position {v(f'{series}_change_position_usd')} · FX {v(f'{series}_change_fx_usd')}",
            card_id="cftc-card-change",
        ),
        card(
            "z-score 3y",
            v(f"{series}_z_3y"),
            f"1y {v(f'{series}_z_1y')} · 5y {v(f'{series}_z_5y')} ({units.get(f'{series}_z_3y', 'standard deviations')})",
            card_id="cftc-card-z",
        ),
        card(
            "Percentile 3y",
            v(f"{series}_pct_3y"),
            f"COT index 3y {v(f'{series}_cot_index_3y')} ({units.get(f'{series}_cot_index_3y', '0-100')})",
            card_id="cftc-card-pct",
        ),
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
    Output("cftc-crowding", "rowData"),
    Output("cftc-crowding", "columnDefs"),
    Output("cftc-table", "rowData"),
    Output("cftc-table", "columnDefs"),
    Output("cftc-unwind-note", "children"),
    Input("cftc-trader", "value"),
    Input("data-version", "data"),
)
@cached_view("cftc", lambda *_a: "cftc.net_usd", task="cftc", skip=(1,))
def _render(trader: str | None, _n: int) -> tuple:
    """Read ``cftc.net_usd`` and draw every block for the chosen trader class."""
    trader = trader if trader in cfig.TRADERS else "noncomm"
    spec = cfig.TRADERS[trader]
    try:
        result = data.store().read(RESULT)
    except KeyError:
        blank = empty(f"No result {RESULT}")
        return missing(RESULT), [], "", [], *([blank] * len(GRAPHS)), [], [], [], [], ""
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
        blank = empty(
            f"{label}: not in this result (no {'TFF' if trader != 'noncomm' else 'legacy'} report ingested)"
        )
        return (
            provenance(meta, stale_after_minutes=stale_after, tz=tz),
            schedule,
            "",
            [],
            *([blank] * len(GRAPHS)),
            [],
            [],
            [],
            [],
            "",
        )
    # Only the weeks this trader class reported (a legacy-only history has no TFF rows, and back).
    own = [f"{prefix}_{b}" for b in baskets if f"{prefix}_{b}" in weekly.columns] or [series]
    weekly = weekly[weekly[own].notna().any(axis=1)]
    if weekly.empty:
        blank = empty(f"{label}: no week with positions in this result")
        return (
            provenance(meta, stale_after_minutes=stale_after, tz=tz),
            schedule,
            "",
            [],
            *([blank] * len(GRAPHS)),
            [],
            [],
            [],
            [],
            "",
        )
    complete = weekly[weekly[series].notna()]
    last = complete.iloc[-1] if len(complete) else weekly.iloc[-1]
    release = (
        pd.Timestamp(last["release_time"]).tz_convert(tz).strftime("%a %Y-%m-%d %H:%M %Z")
        if pd.notna(last["release_time"])
        else "n/a"
    )
    dates = f"Report as of {pd.Timestamp(last['as_of']).strftime('%a %Y-%m-%d')} · released {release} · {label}, basket {head_basket}"
    partial = int(weekly["partial"].sum()) if "partial" in weekly.columns else 0
    if partial:
        dates += f" · {partial} partial week(s) excluded"
    others = [f"{prefix}_{b}" for b in baskets if f"{prefix}_{b}" != series]
    scenario = meta.extra.get("unwind_to", "median")
    years = round(int(meta.extra.get("unwind_weeks", 156)) / 52)
    figs = [
        cfig.net_usd_history(
            weekly,
            result.tables.get("peaks", pd.DataFrame()),
            series,
            title=f"Net USD position, {label} ({head_basket})",
            other=others,
        ),
        cfig.currency_bars(
            result.tables.get("currencies", pd.DataFrame()),
            spec["contrib"],
            basket=list(meta.extra.get("baskets", {}).get(head_basket, [])),
            title=f"Contribution to net USD by currency, {label} ({head_basket}; the stack sums to net USD)",
        ),
        cfig.stats_panel(weekly, series, title="z-scores, percentile and COT index"),
        cfig.change_decomposition(
            weekly, series, title="Weekly change: position vs FX revaluation"
        ),
        cfig.unwind_bars(
            result.tables.get("unwind", pd.DataFrame()),
            series,
            scenario=scenario,
            title=f"Unwind to {'zero' if scenario == 'zero' else f'the {years}-year median'}: currencies bought (+) and sold (−)",
        ),
    ]
    crowd = result.tables.get("crowding", pd.DataFrame())
    crowd = crowd[crowd["series"] == series] if "series" in crowd.columns else crowd
    crowd_data, crowd_cols = frame_table(
        crowd.drop(columns=[c for c in ("series",) if c in crowd.columns]),
        meta.units.get("crowding", {}),
    )
    keep = [
        "as_of",
        "release_time",
        *[
            c
            for c in weekly.columns
            if c.startswith(prefix + "_") and c.count("_") <= (prefix.count("_") + 1)
        ],
    ]
    keep += [
        f"{series}_{s}"
        for s in (
            "change_usd",
            "change_position_usd",
            "change_fx_usd",
            "z_1y",
            "z_3y",
            "z_5y",
            "pct_3y",
            "cot_index_3y",
        )
        if f"{series}_{s}" in weekly.columns
    ]
    keep += ["partial"]
    # the page carries the last TABLE_WEEKS reports (the whole history, 20 years, was ~0.5 MB per draw): the link above serves every week
    table = (
        weekly[list(dict.fromkeys(c for c in keep if c in weekly.columns))]
        .iloc[::-1]
        .head(TABLE_WEEKS)
    )
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
        unwind_note(meta.extra, series, scenario),
    )


def unwind_note(extra: dict[str, Any], series: str, scenario: str) -> str:
    """The caption of the unwind chart: which way the unwind trades and who benefits, as the
    ``cftc`` task wrote it (``extra.unwind_readings``, :func:`flows.cftc.unwind_reading`): net USD
    above its target falls (the currencies the speculators are short are bought: blue, the
    beneficiaries); below it, it rises (their long currencies are sold: red; no currency is bought,
    so none is a beneficiary).  Empty for a result published before the readings existed."""
    text = ((extra.get("unwind_readings") or {}).get(series) or {}).get(scenario)
    if not text:
        return ""
    return display.minus_signs(f"{text} Blue: bought (a beneficiary); red: sold.")


@warmer
def _warm_cftc(versions: dict[str, str]) -> None:
    """The page for every trader class, drawn after a publish."""
    if RESULT in versions:
        for trader in cfig.TRADERS:
            VIEWS["cftc"](trader, versions)


@callback(
    Output("cftc-panel", "children"),
    Output("cftc-panel-kind", "data"),
    Input("cftc-market", "value"),
    State("cftc-panel-kind", "data"),
    prevent_initial_call=True,
)
def _switch(group: str | None, shown: str | None) -> tuple:
    """Mount the block of the chosen market group (:func:`market_panel`); moving between two
    futures groups keeps the mounted block (its callback redraws it for the new group)."""
    kind = panel_kind(group)
    if kind == shown:
        raise PreventUpdate
    return market_panel(group or "fx"), kind


@callback(
    Output("cftc-fp-provenance", "children"),
    Output("cftc-fp-cards", "children"),
    Output("cftc-fp-symbol", "options"),
    Output("cftc-fp-symbol", "value"),
    *(Output(g, "figure") for g in FP_GRAPHS),
    Output("cftc-fp-latest", "rowData"),
    Output("cftc-fp-latest", "columnDefs"),
    Output("cftc-fp-extremes", "rowData"),
    Output("cftc-fp-extremes", "columnDefs"),
    Output("cftc-fp-crowding", "rowData"),
    Output("cftc-fp-crowding", "columnDefs"),
    Input("cftc-market", "value"),
    Input("cftc-fp-symbol", "value"),
    Input("cftc-fp-class", "value"),
    Input("data-version", "data"),  # redrawn only when a result is published
)
def _render_futures(
    group: str | None,
    symbol: str | None,
    trader_class: str | None,
    _versions: dict[str, str] | None,
) -> tuple:
    """Read ``cftc.futures_positioning`` and draw the chosen group's market and class."""
    from dashboard.figures import futures_positioning as ffig

    blank = empty("Pick a futures market")
    if group in (None, "fx"):
        return [], [], [], None, *([blank] * len(FP_GRAPHS)), [], [], [], [], [], []
    try:
        result = data.store().read(FP_RESULT)
    except KeyError:
        blank = empty(f"No result {FP_RESULT}")
        return missing(FP_RESULT), [], [], None, *([blank] * len(FP_GRAPHS)), [], [], [], [], [], []
    meta = result.meta
    tz, stale_after = data.display_settings("futures_positioning")
    markets = result.tables.get("markets", pd.DataFrame())
    mk = markets[markets["group"] == group]
    options = [
        {"label": f"{s}: {n}", "value": s}
        for s, n in zip(mk["symbol"].astype(str), mk["name"].astype(str), strict=True)
    ]
    symbols = [o["value"] for o in options]
    if symbol not in symbols:
        head = mk[mk["headline"].astype(bool)]["symbol"].tolist()
        symbol = head[0] if head else (symbols[0] if symbols else None)
    trader_class = trader_class or "asset_manager"
    positions = result.tables.get("positions", pd.DataFrame())
    latest = result.tables.get("latest", pd.DataFrame())
    name = str(mk.loc[mk["symbol"] == symbol, "name"].iloc[0]) if symbol in symbols else str(symbol)
    windows = list(meta.extra.get("windows_weeks", {"1y": 52, "3y": 156, "5y": 260}))
    figs = [
        ffig.net_history(positions, symbol, name),
        ffig.stats_panel(positions, symbol, trader_class, windows),
        ffig.exposure(positions, symbol, trader_class, group),
        ffig.weekly_change(positions, symbol),
    ]
    units = meta.units
    lat = (
        latest[(latest["group"] == group) & (latest["trader_class"] == trader_class)]
        if len(latest)
        else latest
    )
    ext = result.tables.get("extremes", pd.DataFrame())
    ext = (
        ext[(ext["symbol"] == symbol) & (ext["trader_class"] == trader_class)] if len(ext) else ext
    )
    crowd = result.tables.get("crowding", pd.DataFrame())
    crowd = crowd[crowd["group"] == group] if len(crowd) else crowd
    row = lat[lat["symbol"] == symbol]
    return (
        provenance(meta, stale_after_minutes=stale_after, tz=tz),
        futures_cards(
            row.iloc[0] if len(row) else None, symbol, trader_class, group, units.get("latest", {})
        ),
        options,
        symbol,
        *figs,
        *frame_table(lat, units.get("latest", {})),
        *frame_table(ext, units.get("extremes", {})),
        *frame_table(crowd, units.get("crowding", {})),
    )


def futures_cards(
    row: pd.Series | None, symbol: str | None, trader_class: str, group: str, units: dict[str, str]
) -> list:
    """Cards of the latest week for one market and class (values by their declared units)."""
    if row is None:
        return [card(f"{symbol}", "n/a", "no report in the latest week")]

    def v(col: str, **style: Any) -> str:
        return display.value(row.get(col), units.get(col), **style)

    expo = (
        (
            "DV01",
            v("dv01_usd_per_bp", signed=True),
            f"{v('ten_year_equivalents', signed=True)} 10-year note equivalents",
        )
        if group == "rates"
        else (
            "USD notional",
            v("notional_usd", signed=True)
            if pd.notna(row.get("notional_usd"))
            else "n/a (no close)",
            f"{v('usd_per_point', signed=True)} per point",
        )
    )
    change = row.get("net_change_contracts")
    weekly = (
        f"weekly change {v('net_change_contracts', signed=True)} contracts"
        if pd.notna(change)
        else "weekly change n/a (no report the week before)"
    )
    return [
        card(
            f"{symbol} net ({trader_class.replace('_', ' ')})",
            f"{v('net_contracts', signed=True)} contracts",
            f"{v('net_pct_oi')} of open interest · {weekly}",
            card_id="cftc-fp-card-net",
        ),
        card(
            "Percentile 3y",
            v("percentile_3y"),
            f"1y {v('percentile_1y')} · 5y {v('percentile_5y')} · z 3y {v('zscore_3y')}",
            card_id="cftc-fp-card-pct",
        ),
        card(
            "COT index 3y",
            v("cot_index_3y"),
            "0-100 between the 3-year low and high",
            card_id="cftc-fp-card-cot",
        ),
        card(expo[0], expo[1], expo[2], card_id="cftc-fp-card-exposure"),
    ]


CFTC_GRIDS = {"cftc-crowding": RESULT, "cftc-table": RESULT}
FP_GRIDS = {
    "cftc-fp-latest": FP_RESULT,
    "cftc-fp-extremes": FP_RESULT,
    "cftc-fp-crowding": FP_RESULT,
}
grid_exports(*CFTC_GRIDS, *FP_GRIDS)
# one naming callback per block: each one's grids are all mounted or none
export_names(CFTC_GRIDS)
export_names(FP_GRIDS)
