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
import pandas as pd
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data, display
from dashboard.components import (
    card,
    export_params,
    grid,
    grid_exports,
    headline_units,
    missing,
    table_data,
    times_line,
)
from dashboard.figures import board as bfig
from dashboard.figures.common import empty
from dashboard.pages.board_systematic import register_callbacks, systematic_panels
from dashboard.render_cache import CACHE, freeze, plain, warmer
from jobs.store import ResultNotFound

dash.register_page(__name__, path="/", name="Board", order=0, title="flowdesk · De-risking board")

log = logging.getLogger("flowdesk.web.board")
RESULT = "board.scenarios"
register_callbacks()  # the systematic panels' own callback (dashboard/pages/board_systematic.py)


LEVEL_COLUMNS = (
    "underlying",
    "spot",
    "flip",
    "flip_distance_pct",
    "call_wall",
    "call_wall_distance_pct",
    "put_wall",
    "put_wall_distance_pct",
    "abs_gamma_strike",
    "abs_gamma_strike_distance_pct",
    "zero_dte_share",
    "regime",
)
"""The key-levels columns (headers: the declared titles and units)."""
EXPORTS = ("ranking", "fx", "levels", "expiries", "inputs")
"""The board's grids with a CSV button (file ``board-<table>_<as-of date>[_iv<shock>].csv``)."""
NO_EXPORT = ({},) * len(EXPORTS)
grid_exports(*(f"board-{t}" for t in EXPORTS))
RANGES = [
    {"label": "±5% (today's range)", "value": "core"},
    {"label": "all moves (tails)", "value": "all"},
]


def layout(shock: str | None = None, moves: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        [
            html.H2(
                "De-risking board: mechanical flow if the market moves today",
                className="fd-page-title",
            ),
            html.Div(id="board-provenance", className="fd-provenance"),
            html.Div(id="board-cards", className="fd-cards"),
            html.Div(
                [
                    html.Label(
                        "IV shock (vol points)", htmlFor="board-shock", className="fd-control-label"
                    ),
                    dcc.RadioItems(
                        id="board-shock",
                        options=[
                            {"label": display.signed(s), "value": s}
                            for s in data.settings().board.iv_shocks_pts
                        ],
                        value=float(shock) if shock else 0.0,
                        inline=True,
                    ),
                    html.Label("Index moves", htmlFor="board-range", className="fd-control-label"),
                    dcc.RadioItems(
                        id="board-range",
                        options=RANGES,
                        value=moves if moves in ("core", "all") else "core",
                        inline=True,
                    ),
                    dcc.Link("Open the scenario explorer →", href="/explorer", className="fd-link"),
                ],
                className="fd-controls",
            ),
            dcc.Graph(
                id="board-flows", figure=plain(empty("Loading…")), config={"displaylogo": False}
            ),
            html.Div(bfig.NOTE, className="fd-note", id="board-flows-note"),
            html.Div(id="board-sign-line", className="fd-note fd-sign-line"),
            html.Div(id="board-flags"),
            # the tables, the history and the systematic panels: mounted once the flow chart is
            # drawn (see below_layout), so their grids' set-up does not delay the first paint
            dcc.Store(id="board-stage", storage_type="memory"),
            html.Div(id="board-below"),
        ],
        className="fd-page",
    )


def below_layout() -> list:
    """Everything under the flags: the ranking and FX grids, key levels and the expiry calendar,
    the end-of-day history, the systematic panels and the inputs.

    Mounted by :func:`_mount_below` once the flow chart is drawn (a fresh browser spent ~2 s of
    main thread setting up these seven AG Grids before Plotly.js could even start, so the first
    chart waited for tables below the fold); each block's callback then fills it (Dash runs a
    callback whose outputs appear), from the render cache like the rest of the board.
    """
    return [
        html.Div(
            [
                html.Div(
                    [
                        html.H3("Underlyings ranked by flow per 1% index move, % of ADV"),
                        grid("board-ranking", page_size=12),
                    ],
                    className="fd-col",
                ),
                html.Div(
                    [
                        html.H3("FX positioning (CFTC)"),
                        html.Div(id="board-fx-cards", className="fd-cards"),
                        grid("board-fx", page_size=12),
                        html.Div(id="board-fx-note", className="fd-note"),
                    ],
                    className="fd-col",
                ),
            ],
            className="fd-row",
        ),
        html.Div(
            [
                html.Div(
                    [html.H3("Key levels"), grid("board-levels", page_size=12)],
                    className="fd-col",
                ),
                html.Div(
                    [
                        html.H3("Expiry calendar: GEX rolling off"),
                        grid("board-expiries", page_size=12),
                    ],
                    className="fd-col",
                ),
            ],
            className="fd-row",
        ),
        html.H3("End-of-day history"),
        html.Div(
            "The last publish of each exchange day of every input, kept for years; the cards show the change since the previous day's close.",
            className="fd-note",
        ),
        dcc.Graph(
            id="board-history", figure=plain(empty("Loading…")), config={"displaylogo": False}
        ),
        systematic_panels(),
        html.H3("Inputs"),
        html.Div(
            "Every input with its own as-of time (desk time zone) and source. Stale or missing inputs are left out of the totals, never silently mixed.",
            className="fd-note",
        ),
        grid("board-inputs", page_size=12),
    ]


def _change(now: Any, before: float | None, fmt: Any, key: str) -> str:
    """`` · +1.20 bn USD vs the previous close`` (empty without a previous close)."""
    if before is None or now is None:
        return ""
    return f" · {fmt(float(now) - before, key)} vs the previous close"


def sign_line(head: dict[str, Any], hu: dict[str, str]) -> str:
    """One line on a change of sign of the dealers' flow across the gamma flip (from the task's
    headline: :func:`flows.scenarios.dealer_sign_changes`)."""
    index = head.get("index", "the index")
    down, up = (
        head.get("dealer_flow_sign_change_down_pct"),
        head.get("dealer_flow_sign_change_up_pct"),
    )
    flip_u, flip_d = head.get("index_gamma_underlying"), head.get("index_flip_distance_pct")
    flip = (
        f"; the {flip_u} gamma flip is {display.value(flip_d, hu.get('index_flip_distance_pct'), signed=True)} from spot"
        if flip_u and flip_d is not None
        else ""
    )
    said = []
    if down is not None:
        said.append(
            f"below {index} {display.value(down, hu.get('dealer_flow_sign_change_down_pct'), signed=True)}"
        )
    if up is not None:
        said.append(
            f"above {index} {display.value(up, hu.get('dealer_flow_sign_change_up_pct'), signed=True)}"
        )
    if not said:
        return f"Dealer flow keeps one side of the market on each side of today's level over the whole grid (no gamma flip crossed){flip}."
    return f"Dealer flow changes sign {' and '.join(said)}: past the gamma flip the dealers' gamma changes sign, so they hedge the other way (buying into rises / selling into falls when short gamma){flip}."


@callback(
    Output("board-provenance", "children"),
    Output("board-cards", "children"),
    Output("board-flows", "figure"),
    Output("board-sign-line", "children"),
    Output("board-flags", "children"),
    Input("data-version", "data"),
    Input("board-shock", "value"),
    Input("board-range", "value"),
)
def refresh(_versions: Any, shock: float | None, view: str | None) -> tuple:
    """Draw the top of the board (what the first paint shows) for the IV shock and range chosen
    (cached per version and controls)."""
    return board_view(shock, view)


@callback(
    Output("board-ranking", "rowData"),
    Output("board-ranking", "columnDefs"),
    Output("board-fx-cards", "children"),
    Output("board-fx", "rowData"),
    Output("board-fx", "columnDefs"),
    Output("board-inputs", "rowData"),
    Output("board-inputs", "columnDefs"),
    Output("board-levels", "rowData"),
    Output("board-levels", "columnDefs"),
    Output("board-expiries", "rowData"),
    Output("board-expiries", "columnDefs"),
    *(Output(f"board-{t}", "csvExportParams") for t in EXPORTS),
    Output("board-fx-note", "children"),
    Input("data-version", "data"),
    Input("board-shock", "value"),
)
def refresh_tables(_versions: Any, shock: float | None) -> tuple:
    """Fill the board's grids (mounted under the chart by :func:`_mount_below`)."""
    return tables_view(shock)


# Once the first flow chart is drawn, mount the blocks below it (once per page view).  The
# promise resolves when Plotly has drawn the chart's traces (at once for a figure without any:
# no board yet, or Redis down; after 15 s at the latest, so the tables never wait for ever).
dash.clientside_callback(
    """
    function(figure, stage) {
        if (stage) { return window.dash_clientside.no_update; }
        if (!figure || !figure.data || !figure.data.length) { return 1; }
        return new Promise(function(resolve) {
            var start = Date.now();
            (function poll() {
                var gd = document.querySelector('#board-flows .js-plotly-plot');
                var drawn = gd && gd.data && gd.data.length && gd.querySelector('.main-svg');
                if (drawn || Date.now() - start > 15000) { resolve(1); }
                else { window.requestAnimationFrame(poll); }
            })();
        });
    }
    """,
    Output("board-stage", "data"),
    Input("board-flows", "figure"),
    State("board-stage", "data"),
    prevent_initial_call=True,
)


@callback(
    Output("board-below", "children"), Input("board-stage", "data"), prevent_initial_call=True
)
def _mount_below(stage: Any) -> list:
    """The blocks under the chart (:func:`below_layout`), once the chart is drawn."""
    if not stage:
        raise PreventUpdate
    return below_layout()


def _cache_key(meta: Any, stale_after: float | None, *rest: Any) -> tuple:
    aged = stale_after is not None and meta.age_seconds() > stale_after * 60
    return (meta.version, meta.status, aged, *rest)


def _read_meta() -> tuple[Any, Any]:
    """``(meta, None)`` of the board result, or ``(None, what to show instead)``."""
    try:
        return data.store().meta(RESULT), None
    except ResultNotFound:
        return None, missing(RESULT)
    except Exception as exc:  # show, never raise
        log.error("board: %s", exc)
        return None, html.Div(
            f"Cannot read the store: {type(exc).__name__}: {exc}", className="fd-error"
        )


def board_view(shock: float | None, view: str | None) -> tuple:
    """The top of the board for one IV shock and range (see :func:`refresh`)."""
    meta, instead = _read_meta()
    if meta is None:
        return instead, [], plain(empty("No board yet")), "", []
    tz, stale_after = data.display_settings("board")
    key = (
        "board",
        *_cache_key(meta, stale_after, None if shock is None else float(shock), view or "core"),
    )
    return CACHE.get(key, lambda: _draw(shock, view, tz, stale_after))


def tables_view(shock: float | None) -> tuple:
    """The board's grids for one IV shock (see :func:`refresh_tables`)."""
    meta, _instead = _read_meta()
    if meta is None:  # the top of the board says why
        return ([],) * 11 + NO_EXPORT + ("",)
    tz, stale_after = data.display_settings("board")
    key = ("board-tables", *_cache_key(meta, stale_after, None if shock is None else float(shock)))
    return CACHE.get(key, lambda: _draw_tables(shock, tz))


def _shock(totals: pd.DataFrame, shock: float | None) -> float:
    """The IV shock asked for if the board has it, else none (0)."""
    shocks = sorted(totals["iv_shock_pts"].unique())
    return float(shock) if shock is not None and float(shock) in shocks else 0.0


def _bn(hu: dict[str, str]) -> Any:
    def bn(value: Any, unit_key: str) -> str:
        """USD in bn, ``+12.34 bn USD`` (the board's style), by the key's declared unit."""
        return display.value(value, hu.get(unit_key), scale="bn", style="code")

    return bn


def _draw(shock: float | None, view: str | None, tz: str, stale_after: float | None) -> tuple:
    res = data.read_current(RESULT)
    meta, head = res.meta, res.meta.headline
    hu = headline_units(meta)
    bn = _bn(hu)

    index = head.get("index", "index")
    totals = res.table("totals")
    shock = _shock(totals, shock)
    move = head.get("flag_move_pct", -3.0)
    today = head.get("today_move_pct")
    at = totals[
        np.isclose(totals["iv_shock_pts"], shock) & np.isclose(totals["index_move_pct"], move)
    ]
    row = at.iloc[0] if not at.empty else pd.Series(dtype=float)
    dealers = (
        float(
            sum(
                row.get(c, 0.0)
                for c in ("dealer_gamma_usd", "dealer_vanna_usd", "dealer_charm_usd")
            )
        )
        if not row.empty
        else None
    )
    shock_txt = "no IV shock" if shock == 0 else f"IV shock {display.signed(shock)} vol pts"
    today_total = None
    if today is not None and np.isfinite(today):
        z = totals[np.isclose(totals["iv_shock_pts"], shock)].sort_values("index_move_pct")
        if not z.empty and z["index_move_pct"].min() <= today <= z["index_move_pct"].max():
            today_total = float(
                np.interp(today, z["index_move_pct"], z["total_usd"])
            )  # a read between grid rows
    prev_total = (
        previous_close(RESULT, "total_usd_at_flag_move", meta.as_of) if shock == 0 else None
    )
    dod = (
        f" · {bn(row.get('total_usd') - prev_total, 'total_usd_at_flag_move')} vs the previous close"
        if prev_total is not None and not row.empty
        else ""
    )
    cards = [
        card(
            f"If {index} moves {display.signed(move)}% today",
            bn(row.get("total_usd"), "total_usd_at_flag_move"),
            f"mechanical flow, + = buying, {shock_txt}{dod}",
            card_id="board-card-total",
        ),
        card(
            "of which dealers",
            bn(dealers, "dealer_gamma_usd_at_flag_move"),
            f"hedging, {shock_txt}",
            card_id="board-card-dealers",
        ),
        card(
            "of which leveraged ETFs",
            bn(row.get("letf_usd"), "letf_usd_at_flag_move"),
            "rebalance into the close",
            card_id="board-card-letf",
        ),
        card(
            f"{index} move so far",
            display.value(today, hu.get("today_move_pct"), signed=True),
            "n/a"
            if today_total is None
            else f"implies {bn(today_total, 'total_usd_today_move')} ({shock_txt})",
            card_id="board-card-today",
        ),
        card(
            "Flags",
            display.value(head.get("flags", 0), hu.get("flags")),
            f"{head.get('stale_inputs', 0)} stale or missing input(s)",
            card_id="board-card-flags",
        ),
    ]
    flip_d = head.get("index_flip_distance_pct")
    fig = bfig.flows_by_move(
        totals,
        index=index,
        iv_shock_pts=shock,
        today_move_pct=today,
        span_pct=None if view == "all" else bfig.CORE_SPAN_PCT,
        flip_move_pct=flip_d if head.get("index_gamma_underlying") else None,
    )
    flags = res.table("flags")
    flag_items = [
        html.Li(display.minus_signs(f["message"]), className=f"fd-flag fd-flag-{f['severity']}")
        for f in flags.to_dict("records")
    ]
    flags_block = html.Div(
        [
            html.H3(f"Regime flags at {index} {display.signed(move)}%"),
            html.Ul(flag_items)
            if flag_items
            else html.Div(
                "No flag: flows do not feed on themselves at this move.", className="fd-note"
            ),
        ],
        id="board-flags-list",
    )
    prov = times_line(meta, res.table("inputs"), tz=tz, stale_after_minutes=stale_after)
    return prov, cards, fig, sign_line(head, hu), flags_block


def _draw_tables(shock: float | None, tz: str) -> tuple:
    res = data.read_current(RESULT)
    meta, head = res.meta, res.meta.headline
    hu = headline_units(meta)
    bn = _bn(hu)
    shock = _shock(res.table("totals"), shock)
    units = meta.units
    rank_data, rank_cols = table_data(
        res.table("ranking"),
        ("underlying", "beta", "flow_per_1pct_usd", "adv_usd", "flow_per_1pct_pct_adv", "adv_note"),
        units.get("ranking", {}),
    )
    fx = res.table("fx")
    fx_data, fx_cols = table_data(
        fx,
        ("scenario", "ccy", "usd", "currency_flow_usd", "rank"),
        units.get("fx", {}),
    )
    fx_cards = [
        card(
            "Net USD position",
            bn(head.get("net_usd_position_usd"), "net_usd_position_usd"),
            "speculators, + = long USD"
            + _change(
                head.get("net_usd_position_usd"),
                previous_close(RESULT, "net_usd_position_usd", meta.as_of),
                bn,
                "net_usd_position_usd",
            ),
        ),
        card(
            "Percentile (3 years)",
            display.value(head.get("net_usd_percentile_3y"), hu.get("net_usd_percentile_3y")),
            "0 = most short USD, 100 = most long",
        ),
    ]
    inputs = res.table("inputs")
    in_data, in_cols = table_data(
        inputs,
        ("name", "as_of", "computed_at", "source", "age_hours", "note"),
        units.get("inputs", {}),
        tz=tz,
    )
    lv = res.tables.get("levels", pd.DataFrame())
    lv_data, lv_cols = table_data(lv, LEVEL_COLUMNS, units.get("levels", {}))
    ex = res.tables.get("expiries", pd.DataFrame())
    ex_data, ex_cols = table_data(
        ex,
        (
            "date",
            "events",
            "underlying",
            "expiries",
            "net_gex_usd_per_1pct",
            "gross_gex_usd_per_1pct",
            "share_of_gross",
        ),
        units.get("expiries", {}),
    )
    scenario = f"iv{shock:+g}"
    exports = tuple(
        export_params(f"board-{t}", meta.as_of, scenario if t in ("ranking", "fx") else None)
        for t in EXPORTS
    )
    return (
        rank_data,
        rank_cols,
        fx_cards,
        fx_data,
        fx_cols,
        in_data,
        in_cols,
        lv_data,
        lv_cols,
        ex_data,
        ex_cols,
        *exports,
        fx_note(meta.extra.get("fx_unwind") or {}),
    )


SCENARIO_NAMES = {"median": "Unwind to the median", "zero": "Unwind to zero"}


def fx_note(readings: dict[str, str]) -> list:
    """The FX table's caption: per unwind scenario, which way it trades and who benefits, as the
    board task wrote it (``extra.fx_unwind``, :func:`flows.cftc.unwind_reading`).  When net USD is
    below its target the unwind buys USD: no currency is bought, every beneficiary rank is 0, and
    the caption says why rather than leaving a column of zeros unexplained."""
    if not readings:
        return []
    parts: list = [
        "Beneficiary rank: 1 = the currency bought most in that unwind; 0 = not bought. "
    ]
    for scenario, text in readings.items():
        parts += [
            html.B(f"{SCENARIO_NAMES.get(scenario, scenario)}: "),
            f"{display.minus_signs(text)} ",
        ]
    return parts


def _eod(name: str) -> pd.DataFrame:
    try:
        return data.store().eod_series(name)
    except Exception:  # never published, or Redis down and never read
        return pd.DataFrame()


def previous_close(name: str, key: str, as_of: str) -> float | None:
    """The end-of-day close of headline ``key`` of ``name`` on the last exchange day before the
    day of ``as_of`` (None: none kept)."""
    eod = _eod(name)
    if eod.empty or key not in eod:
        return None
    day = pd.Timestamp(as_of).tz_convert("America/New_York").tz_localize(None).normalize()
    before = eod[(eod["date"] < day) & eod[key].notna()]
    return float(before[key].iloc[-1]) if not before.empty else None


@callback(Output("board-history", "figure"), Input("data-version", "data"))
def history(versions: Any) -> Any:
    """End-of-day history of the board's inputs (drawn once per set of versions)."""
    return CACHE.get(("board-history", freeze(versions)), _history)


def _history() -> dict:
    s = data.settings()
    series: dict[str, list] = {"net_gex": [], "flip_distance": [], "letf": [], "net_usd": []}
    for u in s.board.brief_indices:
        eod = _eod(f"gamma.{u}")
        series["net_gex"].append((f"{u} net GEX", eod, "net_gex_usd_per_1pct"))
        series["flip_distance"].append((f"{u} flip distance", eod, "flip_distance_pct"))
    series["letf"].append(("leveraged ETFs per 1%", _eod("letf.flows"), "per_1pct_usd"))
    series["net_usd"].append(
        (
            f"net USD ({s.cftc.headline_basket})",
            _eod("cftc.net_usd"),
            f"net_usd_{s.cftc.headline_basket}",
        )
    )
    return bfig.eod_history(series)


@warmer
def _warm_board(versions: dict[str, str]) -> None:
    """The board at every IV shock (±5 % range) and its history, drawn after a publish."""
    if RESULT not in versions:
        return
    for shock in data.settings().board.iv_shocks_pts:
        board_view(float(shock), "core")
        tables_view(float(shock))
    CACHE.get(("board-history", freeze(versions)), _history)
