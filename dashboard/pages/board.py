"""Home page (placeholder until the de-risking board, issue 6): every published result with its
headline figures and provenance.  Reads the store on each ``refresh-interval`` tick."""

from __future__ import annotations

import logging
import math
from typing import Any

import dash
from dash import Input, Output, callback, html

from dashboard import data
from dashboard.components import provenance
from dashboard.freshness import assess

dash.register_page(__name__, path="/", name="Board", order=0, title="flowdesk")

log = logging.getLogger("flowdesk.web.board")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Board", className="fd-page-title"),
            html.Div(
                "The de-risking scenario board (dealer gamma + leveraged-ETF + CTA/positioning flows by index move) "
                "comes with issue 6. Until then this page lists every published result with its headline figures.",
                className="fd-note",
            ),
            html.Div(id="board-results", className="fd-cards"),
        ],
        className="fd-page",
    )


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"
    return str(value)


def _result_card(meta: Any, stale_after: float | None, level: str, tz: str) -> html.Div:
    figures = [
        html.Div([html.Span(f"{key}: ", className="fd-card-sub"), html.Span(_fmt(value))], className="fd-headline")
        for key, value in meta.headline.items()
    ] or [html.Div("no headline figures", className="fd-card-sub")]
    return html.Div(
        [
            html.Div(meta.name, className="fd-card-title fd-result-name"),
            html.Div(f"{meta.rows:,} rows · tables: {', '.join(meta.tables)}", className="fd-card-sub"),
            *figures,
            provenance(meta, stale_after_minutes=stale_after, tz=tz),
        ],
        className=f"fd-card fd-card-wide fd-card-{level}",
        id=f"board-card-{meta.name.replace('.', '-')}",
    )


@callback(Output("board-results", "children"), Input("refresh-interval", "n_intervals"))
def refresh_board(_n: int) -> list:
    try:
        settings = data.settings()
        store = data.store()
        grades = {item.name: item for item in assess(settings, store).items}
        metas = store.summaries()
    except Exception as exc:  # show, never raise
        log.error("board: %s", exc)
        return [html.Div(f"Cannot read the store: {type(exc).__name__}: {exc}", className="fd-error")]
    if not metas:
        return [html.Div("No result has been published yet: run `flowdesk refresh` or wait for the scheduler.", className="fd-missing")]
    cards = []
    for meta in metas:
        grade = grades.get(meta.name)
        cards.append(_result_card(meta, grade.stale_after_minutes if grade else None, grade.level if grade else "ok", settings.service.timezone))
    return cards
