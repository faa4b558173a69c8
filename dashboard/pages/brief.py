"""Morning brief: the one-page summary published by the ``brief`` task, kept by date.

Shows any kept brief (a dropdown of the history) and serves its PDF and PNG as the brief job
rendered and stored them (no rendering, no Chromium in a web request).  The flow table has every
component, so its columns add up to the total, as in the PDF.  An empty section says "none".
The desk's notes for today's brief are written here (kept in Redis by date) and go into the PDF
and the digest when the brief job runs; the notes the shown brief went out with are under it.
Nothing is computed here.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, display
from dashboard.components import grid, missing, provenance, table_data
from dashboard.pages.board import LEVEL_COLUMNS
from dashboard.render_cache import cached_view
from jobs.store import Result, ResultNotFound, keys

dash.register_page(
    __name__, path="/brief", name="Morning brief", order=6, title="flowdesk · Morning brief"
)

log = logging.getLogger("flowdesk.web.brief")
RESULT = "board.brief"
EXCHANGE_TZ = "America/New_York"
"""The brief's date is the exchange's (the brief job's ``date``)."""
NONE = "none"
MAX_NOTES = 2000
NOTES_KEPT_DAYS = 400
FLOW_COLUMNS = (
    "index_move_pct",
    "dealer_gamma_usd",
    "dealer_vanna_usd",
    "dealer_charm_usd",
    "letf_usd",
    "total_usd",
)
"""As in the PDF (``jobs.tasks.board.BRIEF_FLOW_COLUMNS``): the components add up to the total
(titles and units as declared)."""


def _or_none(table: tuple[list[dict], list[dict]]) -> tuple[list[dict], list[dict]]:
    """An empty section's table says "none" in its first column."""
    records, columns = table
    if not records and columns:
        first = {
            k: v for k, v in columns[0].items() if k not in ("type", "filter", "valueFormatter")
        }
        return [{first["field"]: NONE}], [first]
    return records, columns


def layout(version: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        [
            html.H2("Morning brief", className="fd-page-title"),
            html.Div(
                [
                    html.Label("Brief", htmlFor="brief-version", className="fd-control-label"),
                    dcc.Dropdown(
                        id="brief-version",
                        options=[],
                        value=version,
                        clearable=False,
                        style={"width": "360px"},
                    ),
                    html.Button("Download PDF", id="brief-pdf", className="fd-button"),
                    html.Button("Download PNG", id="brief-png", className="fd-button"),
                    dcc.Download(id="brief-download"),
                    html.Span(id="brief-download-error", className="fd-note"),
                ],
                className="fd-controls",
            ),
            html.Div(id="brief-provenance", className="fd-provenance"),
            html.Pre(id="brief-text", className="fd-brief-text"),
            html.H3("Key levels"),
            grid("brief-levels", export=False),
            html.Div(
                [
                    html.Div(
                        [html.H3("Dealer gamma"), grid("brief-gamma", export=False)],
                        className="fd-col",
                    ),
                    html.Div(
                        [
                            html.H3("Biggest changes since the previous brief"),
                            grid("brief-changes", export=False),
                        ],
                        className="fd-col",
                    ),
                ],
                className="fd-row",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3("Leveraged ETFs: USD per 1% move"),
                            grid("brief-letf", export=False),
                        ],
                        className="fd-col",
                    ),
                    html.Div(
                        [
                            html.H3("Mechanical flow by index move"),
                            grid("brief-flows", export=False),
                        ],
                        className="fd-col",
                    ),
                ],
                className="fd-row",
            ),
            html.H3("Notes in this brief"),
            html.Pre(id="brief-notes-shown", className="fd-brief-text"),
            html.H3("Desk notes for today's brief"),
            html.Div(id="brief-notes-help", className="fd-note"),
            dcc.Textarea(id="brief-notes", value="", style={"width": "100%", "height": "90px"}),
            html.Button("Save notes", id="brief-notes-save", className="fd-button"),
            html.Span(id="brief-notes-status", className="fd-note"),
        ],
        className="fd-page",
    )


def _read(version: str | None) -> Result:
    return data.store().read(RESULT, version=version) if version else data.store().read(RESULT)


@callback(
    Output("brief-version", "options"),
    Output("brief-version", "value"),
    Input("data-version", "data"),
    State("brief-version", "value"),
)
def versions(_n: int, current: str | None) -> tuple[list[dict], str | None]:
    metas = data.store().history(RESULT)
    tz = data.settings().service.timezone
    options = [
        {
            "label": f"{m.headline.get('date', '?')} (computed {pd.Timestamp(m.computed_at).tz_convert(tz):%Y-%m-%d %H:%M %Z})",
            "value": m.version,
        }
        for m in reversed(metas)
    ]
    known = {o["value"] for o in options}
    return options, current if current in known else (options[0]["value"] if options else None)


@callback(
    Output("brief-provenance", "children"),
    Output("brief-text", "children"),
    Output("brief-gamma", "rowData"),
    Output("brief-gamma", "columnDefs"),
    Output("brief-changes", "rowData"),
    Output("brief-changes", "columnDefs"),
    Output("brief-letf", "rowData"),
    Output("brief-letf", "columnDefs"),
    Output("brief-flows", "rowData"),
    Output("brief-flows", "columnDefs"),
    Output("brief-notes-shown", "children"),
    Output("brief-levels", "rowData"),
    Output("brief-levels", "columnDefs"),
    Input("brief-version", "value"),
)
@cached_view("brief", lambda *_a: RESULT, task="brief")
def show(version: str | None) -> tuple:
    try:
        res = _read(version)
    except ResultNotFound:
        return (missing(RESULT), "", [], [], [], [], [], [], [], [], "", [], [])
    units = res.meta.units
    notes = str(res.meta.headline.get("notes") or "").strip() or NONE
    g = table_data(
        res.table("gamma"),
        ("underlying", "regime", "net_gex_usd_per_1pct", "flip", "flip_distance_pct"),
        units.get("gamma", {}),
    )
    c = table_data(
        res.table("changes"), ("figure", "previous", "current", "change"), units.get("changes", {})
    )
    lt = table_data(res.table("letf"), ("underlying", "per_1pct_usd"), units.get("letf", {}))
    fl = table_data(res.table("flows"), FLOW_COLUMNS, units.get("flows", {}))
    return (
        provenance(res.meta, tz=data.settings().service.timezone),
        display.minus_signs(str(res.meta.headline.get("text", ""))),  # stored ASCII, shown −
        *_or_none(g),
        *_or_none(c),
        *_or_none(lt),
        *_or_none(fl),
        notes,
        *_or_none(
            table_data(
                res.tables.get("levels", pd.DataFrame()), LEVEL_COLUMNS, units.get("levels", {})
            )
        ),
    )


@callback(
    Output("brief-download", "data"),
    Output("brief-download-error", "children"),
    Input("brief-pdf", "n_clicks"),
    Input("brief-png", "n_clicks"),
    State("brief-version", "value"),
    prevent_initial_call=True,
)
def download(_pdf: int | None, _png: int | None, version: str | None) -> tuple:
    """The stored document of the shown brief, bytes as the brief job rendered them."""
    fmt = "pdf" if dash.ctx.triggered_id == "brief-pdf" else "png"
    res = (
        data.store().read(RESULT, version=version, tables=["documents"])
        if version
        else data.store().read(RESULT, tables=["documents"])
    )
    docs = res.tables.get("documents")
    row = docs[docs["format"] == fmt] if docs is not None and "format" in docs else None
    if row is None or row.empty:
        why = res.meta.extra.get("render_error") or "this brief was published without documents"
        return dash.no_update, f"No {fmt.upper()} stored with this brief: {why}"
    name = f"flowdesk-brief-{res.meta.headline.get('date', 'latest')}.{fmt}"
    return dcc.send_bytes(bytes(row["data"].iloc[0]), name), ""


def _today() -> str:
    return pd.Timestamp.now(tz=EXCHANGE_TZ).date().isoformat()


@callback(
    Output("brief-notes", "value"),
    Output("brief-notes-help", "children"),
    Input("data-version", "data"),
    State("brief-notes", "value"),
)
def notes_load(_versions: Any, typed: str | None) -> tuple:
    """Today's saved notes (never overwriting what the desk is typing)."""
    date = _today()
    help_text = f"Notes for the brief of {date}: saved in Redis, they go into its PDF and digest when the brief job runs (re-run `flowdesk refresh brief` after editing a published brief)."
    if typed:
        return dash.no_update, help_text
    try:
        raw = data.live_store().redis.get(keys.brief_notes(date))
    except Exception as exc:
        return dash.no_update, f"{help_text} (cannot read the notes: {type(exc).__name__})"
    return (raw.decode("utf-8", "replace") if raw else ""), help_text


@callback(
    Output("brief-notes-status", "children"),
    Input("brief-notes-save", "n_clicks"),
    State("brief-notes", "value"),
    prevent_initial_call=True,
)
def notes_save(_n: int | None, text: str | None) -> str:
    date = _today()
    body = (text or "")[:MAX_NOTES]
    try:
        data.live_store().redis.set(
            keys.brief_notes(date), body.encode("utf-8"), ex=NOTES_KEPT_DAYS * 86400
        )
    except Exception as exc:
        return f"Not saved: {type(exc).__name__}: {exc}"
    return f"Saved for {date} ({len(body)} characters)."
