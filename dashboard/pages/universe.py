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
import threading
from typing import Any

import dash
import dash_ag_grid as dag
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import data, display
from dashboard.components import (
    GRID_CLASS,
    card,
    column_def,
    export_params,
    grid_exports,
    headline_units,
    missing,
    provenance,
    scaled,
)
from dashboard.figures import gamma as gfig
from dashboard.figures import universe as ufig
from dashboard.figures.common import empty
from flows.errors import ResultNotFound
from flows.formatting import NOT_NUMBERS, header
from flows.units import Unit, unit_of
from jobs import declarations

dash.register_page(
    __name__, path="/single-names", name="Single names", order=12, title="flowdesk · Single names"
)

log = logging.getLogger("flowdesk.web.universe")

RESULT = "universe.table"
RANKS = {
    "gex": ("|net GEX| (USD per 1% move)", "net_gex_usd_per_1pct"),
    "adv": ("|net GEX| as % of ADV", "gex_pct_adv"),
}

GRID_COLUMNS = (
    "symbol",
    "sector",
    "spot",
    "net_gex_usd_per_1pct",
    "gex_pct_adv",
    "call_gex_usd_per_1pct",
    "put_gex_usd_per_1pct",
    "regime",
    "flip",
    "flip_distance_pct",
    "call_wall",
    "put_wall",
    "zero_dte_share",
    "hedge_flow_down3_usd",
    "hedge_flow_up3_usd",
    "adv_usd",
    "contracts",
    "baskets",
)
"""Grid columns of ``names`` (in order), under their declared titles and units."""
_WHEN_MISSING = {"gex_pct_adv": "no ADV", "adv_usd": "no ADV"}
"""What an empty cell says where a missing value has a meaning (otherwise blank)."""


def grid_columns() -> list[dict[str, Any]]:
    """The grid's column definitions from ``universe.table``'s declaration (table ``names``):
    declared titles and units (:func:`dashboard.components.column_def`), numbers written by the
    unit through d3-format (the cell stays a number: numeric sort, number filter, exact CSV)."""
    names = declarations.lookup(RESULT).table("names")
    cols = [
        {
            "field": "rank",
            "headerName": header("Rank", Unit.RANK),
            "width": 90,
            "filter": False,
            "type": "numericColumn",
        }
    ]
    for field in GRID_COLUMNS:
        declared = names.column(field)
        unit = str(declared.unit) if declared is not None else None
        col = column_def(
            field,
            declared.header_title() if declared is not None else field,
            unit,
            numeric=unit is not None and unit_of(unit) not in NOT_NUMBERS,
            missing=_WHEN_MISSING.get(field, ""),
        )
        if field == "sector":
            col["filter"] = "agTextColumnFilter"
        cols.append(col)
    cols[1].update(pinned="left", width=100)
    return cols


COLUMNS = grid_columns()
GRID_FIELDS = [c["field"] for c in COLUMNS if c["field"] != "rank"]


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H2(
                "Single names: dealer gamma across the listed universe", className="fd-page-title"
            ),
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
                    dcc.RadioItems(
                        id="un-rank",
                        options=[{"label": v[0], "value": k} for k, v in RANKS.items()],
                        value="gex",
                        inline=True,
                    ),
                    html.Label("Sector", htmlFor="un-sector", className="fd-control-label"),
                    dcc.Dropdown(
                        id="un-sector",
                        options=[],
                        multi=True,
                        placeholder="all sectors",
                        style={"minWidth": "260px"},
                    ),
                    html.Label("Basket", htmlFor="un-basket", className="fd-control-label"),
                    dcc.RadioItems(
                        id="un-basket",
                        options=[{"label": "all names", "value": ""}],
                        value="",
                        inline=True,
                    ),
                    html.Label("Regime", htmlFor="un-regime", className="fd-control-label"),
                    dcc.RadioItems(
                        id="un-regime",
                        options=[
                            {"label": r, "value": v}
                            for r, v in (
                                ("all", ""),
                                ("long gamma", "long gamma"),
                                ("short gamma", "short gamma"),
                                ("neutral gamma", "neutral gamma"),
                            )
                        ],
                        value="",
                        inline=True,
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(id="un-count", className="fd-note"),
            html.Div(
                [
                    html.Button(
                        "CSV",
                        id="un-grid-csv",
                        n_clicks=0,
                        className="fd-grid-export",
                        title="Download the ranked names (every page) as CSV",
                    ),
                    dag.AgGrid(
                        id="un-grid",
                        columnDefs=COLUMNS,
                        rowData=[],
                        defaultColDef={
                            "sortable": True,
                            "filter": True,
                            "resizable": True,
                            "floatingFilter": True,
                            "minWidth": 90,
                            "wrapHeaderText": True,
                            "autoHeaderHeight": True,
                            "useValueFormatterForExport": False,
                        },
                        dashGridOptions={
                            "pagination": True,
                            "paginationPageSize": 50,
                            # a row click opens the name; no checkbox column (it had no header)
                            "rowSelection": {
                                "mode": "singleRow",
                                "enableClickSelection": True,
                                "checkboxes": False,
                            },
                            "animateRows": False,
                            "suppressFieldDotNotation": True,
                        },
                        getRowId="params.data.symbol",
                        # 5,000 names: a fixed height that scrolls, 50 to a page
                        style={"height": "560px", "width": "100%"},
                        className=GRID_CLASS,
                    ),
                ],
                className="fd-grid-box",
            ),
            html.Div(
                [
                    html.Div(
                        dcc.Graph(
                            id="un-heatmap", figure=empty("Loading…"), config={"displaylogo": False}
                        ),
                        className="fd-col",
                    ),
                    html.Div(
                        dcc.Graph(
                            id="un-baskets", figure=empty("Loading…"), config={"displaylogo": False}
                        ),
                        className="fd-col",
                    ),
                ],
                className="fd-row",
            ),
            html.H3("Drill-down"),
            html.Div(
                [
                    html.Label("Name", htmlFor="un-name", className="fd-control-label"),
                    dcc.Input(
                        id="un-name",
                        type="text",
                        placeholder="pick a row or type a symbol",
                        debounce=True,
                        style={"width": "200px"},
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(id="un-detail-status", className="fd-note"),
            html.Div(id="un-detail-cards", className="fd-cards"),
            html.Div(
                [
                    html.Div(
                        dcc.Graph(
                            id="un-detail-strike",
                            figure=empty("Pick a name"),
                            config={"displaylogo": False},
                        ),
                        className="fd-col",
                    ),
                    html.Div(
                        dcc.Graph(
                            id="un-detail-profile",
                            figure=empty("Pick a name"),
                            config={"displaylogo": False},
                        ),
                        className="fd-col",
                    ),
                ],
                className="fd-row",
            ),
        ],
        className="fd-page",
    )


def cards(h: dict[str, Any], units: dict[str, str]) -> list[html.Div]:
    """Headline cards (published figures, written by their declared units)."""

    def fmt(key: str) -> str:
        return display.value(h.get(key), units.get(key))

    out = [
        card(
            "Names",
            fmt("names"),
            f"{fmt('contracts')} contracts · {fmt('failed')} left out",
            card_id="un-card-names",
        ),
        card(
            "Net GEX, all names",
            fmt("net_gex_usd_per_1pct"),
            f"per 1% move on every name · {fmt('short_gamma_names')} names short gamma",
            card_id="un-card-net",
        ),
        card(
            "Hedge trade, every name −3%",
            fmt("hedge_flow_down3_usd"),
            f"+3%: {fmt('hedge_flow_up3_usd')} · + = dealers buy",
            card_id="un-card-hedge",
        ),
    ]
    for key in h:
        if key.startswith("net_gex_usd_per_1pct_"):
            b = key.removeprefix("net_gex_usd_per_1pct_")
            out.append(
                card(
                    f"Basket {b}",
                    fmt(key),
                    f"net GEX per 1% · −3%: {fmt(f'hedge_flow_down3_usd_{b}')}",
                    card_id=f"un-card-basket-{b}",
                )
            )
    return out


def ranked_positions(
    names: pd.DataFrame,
    rank: str,
    sectors: list[str] | None,
    basket: str | None,
    regime: str | None,
) -> np.ndarray:
    """Positions (in ``names``) of the rows shown: filtered by sector, basket and regime, ranked
    by ``|rank column|`` (largest first, ties in table order; names without an ADV last when
    ranking by % of ADV)."""
    keep = np.ones(len(names), dtype=bool)
    if sectors:
        keep &= names["sector"].isin(sectors).to_numpy()
    if basket:
        keep &= ("," + names["baskets"] + ",").str.contains(f",{basket},", regex=False).to_numpy()
    if regime:
        keep &= (names["regime"] == regime).to_numpy()
    pos = np.flatnonzero(keep)
    size = np.abs(names[RANKS.get(rank, RANKS["gex"])[1]].to_numpy(dtype=np.float64)[pos])
    missing = np.isnan(size)
    return pos[
        np.lexsort((pos, -np.where(missing, 0.0, size), missing))
    ]  # last key first: missing, then size descending, then position


def ranked(
    names: pd.DataFrame,
    rank: str,
    sectors: list[str] | None,
    basket: str | None,
    regime: str | None,
) -> pd.DataFrame:
    """The rows shown (:func:`ranked_positions`) as a frame with their ``rank`` (1 = first)."""
    out = names.iloc[ranked_positions(names, rank, sectors, basket, regime)][
        GRID_FIELDS
    ].reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


_RECORDS: dict[str, list[dict[str, Any]]] = {}
_RECORDS_LOCK = threading.Lock()


def grid_records(version: str, names: pd.DataFrame) -> list[dict[str, Any]]:
    """The grid's records of every name of a version, in table order (missing values ``None``),
    built once per version and process: a ranking is then a permutation of this list (building
    5,000 records per request was a third of the callback's time)."""
    with _RECORDS_LOCK:
        hit = _RECORDS.get(version)
    if hit is None:
        table = declarations.lookup(RESULT).table("names")
        units = {c: str(col.unit) for c in GRID_FIELDS if (col := table.column(c)) is not None}
        frame = scaled(names[GRID_FIELDS], units)  # fractions shown (and exported) as %
        hit = frame.astype(object).where(frame.notna(), None).to_dict("records")
        with _RECORDS_LOCK:
            if len(_RECORDS) >= 2:  # the current version and the one before are enough
                _RECORDS.pop(next(iter(_RECORDS)))
            _RECORDS[version] = hit
    return hit


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
        return (
            no_update,
            provenance(meta, stale_after_minutes=stale_after, tz=tz),
            no_update,
            no_update,
            no_update,
            no_update,
            no_update,
        )
    result = data.read_current(RESULT)
    sectors = result.tables["sectors"]
    baskets = result.tables["baskets"]
    names = result.tables["names"]
    return (
        meta.version,
        provenance(meta, stale_after_minutes=stale_after, tz=tz),
        cards(meta.headline, headline_units(meta)),
        ufig.sector_regime_heatmap(sectors),
        ufig.basket_bars(baskets),
        [{"label": s, "value": s} for s in sorted(names["sector"].unique())],
        [{"label": "all names", "value": ""}]
        + [{"label": b, "value": b} for b in baskets["basket"]],
    )


grid_exports("un-grid")


@callback(
    Output("un-grid", "rowData"),
    Output("un-count", "children"),
    Output("un-grid", "csvExportParams"),
    Input("un-version", "data"),
    Input("un-rank", "value"),
    Input("un-sector", "value"),
    Input("un-basket", "value"),
    Input("un-regime", "value"),
)
def _rank(
    version: str | None,
    rank: str,
    sectors: list[str] | None,
    basket: str | None,
    regime: str | None,
) -> tuple:
    """The ranked, filtered rows (server side: a sort of published figures)."""
    if not version:
        return [], "", export_params("single-names", None)
    result = data.read_current(RESULT, ["names"])
    names = result.tables["names"]
    records = grid_records(result.meta.version, names)
    rows = [
        {"rank": i, **records[p]}
        for i, p in enumerate(ranked_positions(names, rank, sectors, basket, regime).tolist(), 1)
    ]
    shown = [f"by-{rank}", *(sectors or []), basket or "", regime or ""]
    return (
        rows,
        f"{len(rows):,} of {len(names):,} names, ranked by {RANKS.get(rank, RANKS['gex'])[0]}; click a row to open it.",
        export_params(
            "single-names", result.meta.as_of, "_".join(x.replace(" ", "-") for x in shown if x)
        ),
    )


@callback(Output("un-name", "value"), Input("un-grid", "selectedRows"), prevent_initial_call=True)
def _pick(rows: list[dict] | None) -> str:
    if not rows:
        raise PreventUpdate
    return rows[0]["symbol"]


def _detail_figures(result: Any) -> tuple:
    h = result.meta.headline
    sym = h.get("underlying", "")
    conv = h.get("convention")
    strike = gfig.gex_by_strike(
        result.tables["by_strike"],
        spot=h.get("spot"),
        flip=h.get("flip"),
        call_wall=h.get("call_wall"),
        put_wall=h.get("put_wall"),
        convention=conv,
        underlying=sym,
    )
    profile = gfig.gamma_profile(
        result.tables["profile"],
        spot=h.get("spot"),
        flips=h.get("flips"),
        convention=conv,
        underlying=sym,
    )
    units = headline_units(result.meta)

    def fmt(key: str) -> str:
        return display.value(h.get(key), units.get(key))

    cards_ = [
        card(
            "Net GEX",
            fmt("net_gex_usd_per_1pct"),
            f"per 1% move · {h.get('regime', '')}",
            card_id="un-detail-net",
        ),
        card(
            "Flip",
            fmt("flip"),
            f"{display.value(h.get('flip_distance_pct'), units.get('flip_distance_pct'), signed=True)} from spot {fmt('spot')}",
            card_id="un-detail-flip",
        ),
        card(
            "Walls",
            f"{fmt('put_wall')} / {fmt('call_wall')}",
            f"put / call ({units.get('call_wall', 'price')})",
            card_id="un-detail-walls",
        ),
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
            return (
                f"{sym}: the worker could not compute it: {err}",
                [],
                empty(f"{sym}: failed"),
                empty(f"{sym}: failed"),
                None,
                True,
            )
        if status != "finished" or result is None:
            return (
                f"{sym}: {status or 'queued'} on a worker…",
                no_update,
                no_update,
                no_update,
                pending,
                False,
            )
        fresh = True
    if fresh:
        cards_, strike, profile, prov = _detail_figures(result)
        return prov, cards_, strike, profile, None, True
    conn = data.live_store().redis
    job_id, status = workers.request(conn, "universe-name", sym)
    n_workers = workers.live_workers(conn)
    note = (
        f"{sym}: computing its full tables on a worker ({status})…"
        if n_workers
        else f"{sym}: queued; no worker is running (start `flowdesk worker`; the next universe refresh also runs queued names)"
    )
    keep = (no_update, no_update, no_update) if result is None else _detail_figures(result)[:3]
    return note, *keep, {"symbol": sym, "job": job_id}, False
