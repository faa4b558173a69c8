"""Alerts page: rules and their state, recent events, the delivery outbox and the dead-letter list.

Read from Redis on every tick of the global ``refresh-interval`` (and on page load) through the
small read functions of :mod:`jobs.alerts` and :mod:`jobs.alerts.delivery`; nothing is computed here.
Times are shown in the desk's time zone.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
from dash import Input, Output, callback, html

from dashboard import data
from dashboard.components import (
    GREEN,
    RED,
    RED_BG,
    card,
    dated_exports,
    grid_exports,
    list_grid,
    when,
)
from dashboard.display import MINUS  # the pages' minus sign, the grids' own (d3-format)
from flows.formatting import format_time, shown_unit
from jobs.alerts import condition_text, fmt_value, metric_unit

dash.register_page(__name__, path="/alerts", name="Alerts", order=80, title="flowdesk · Alerts")

log = logging.getLogger("flowdesk.web.alerts")

RULE_COLUMNS = [
    ("rule", "Rule"),
    ("metric", "Metric (result.headline key)"),
    ("unit", "Unit of the metric"),
    ("condition", "Condition"),
    ("severity", "Severity"),
    ("state", "State"),
    ("last_value", "Last value (signed, in the metric's unit)"),
    ("last_evaluated", "Last evaluated"),
    ("last_fired", "Last fired"),
    ("targets", "Targets"),
]
EVENT_COLUMNS = [
    ("at", "Time"),
    ("kind", "Event"),
    ("rule", "Rule"),
    ("severity", "Severity"),
    ("value", "Value (signed, in the metric's unit)"),
    ("unit", "Unit of the metric"),
    ("condition", "Condition"),
    ("as_of", "Data as of"),
    ("targets", "Targets"),
    ("id", "Event id"),
]
OUTBOX_COLUMNS = [
    ("id", "Delivery id"),
    ("state", "State"),
    ("target", "Target"),
    ("event_kind", "Event"),
    ("rule", "Rule"),
    ("attempts", "Attempts (count)"),
    ("next_attempt", "Next attempt"),
    ("last_error", "Last error"),
]
DEAD_COLUMNS = [
    ("id", "Delivery id"),
    ("target", "Target"),
    ("event_kind", "Event"),
    ("rule", "Rule"),
    ("attempts", "Attempts (count)"),
    ("dead_at", "Dead-lettered at"),
    ("last_error", "Last error"),
    ("event_id", "Event id"),
]
GRIDS = {
    "alerts-rules-table": "alerts-rules",
    "alerts-events-table": "alerts-events",
    "alerts-outbox-table": "alerts-outbox",
    "alerts-dead-table": "alerts-dead",
}
"""The page's grids and the stem of their CSV file (``alerts-rules_<date>.csv``)."""
WIDE = {
    **dict.fromkeys(("at", "last_evaluated", "last_fired", "next_attempt", "dead_at"), 160),
    **dict.fromkeys(("rule", "as_of", "target"), 150),
    "metric": 240,
    "condition": 200,
    "targets": 180,
    "last_error": 320,
    "id": 260,
    "event_id": 260,
}
"""Minimum widths of the long texts (px): they wrap, over a few lines, not a word a line."""
grid_exports(*GRIDS)
dated_exports(GRIDS)

_BREACH = "params.data.state === 'breach' || params.data.kind === 'fired'"
_OK = "params.data.state === 'ok' || params.data.kind === 'resolved'"
_ROWS = {"styleConditions": [{"condition": _BREACH, "style": {"backgroundColor": RED_BG}}]}
_STATE = {"styleConditions": [when(_BREACH, RED), when(_OK, GREEN)]}
_CELLS = {
    "state": _STATE,
    "kind": _STATE,
    "severity": {"styleConditions": [when("params.value === 'critical'", RED)]},
    "last_error": {"color": RED},
}


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Alerts", className="fd-page-title"),
            html.Div(id="alerts-error"),
            html.Div(id="alerts-cards", className="fd-cards"),
            html.H3("Rules", className="fd-section-title"),
            html.Div(
                list_grid(
                    "alerts-rules-table",
                    RULE_COLUMNS,
                    page_size=15,
                    row_style=_ROWS,
                    cell_styles=_CELLS,
                    wide=WIDE,
                ),
                className="fd-table",
            ),
            html.Div(
                "A rule fires when its metric enters breach and resolves when it leaves it by more than its hysteresis "
                "(a breach of '> T' resolves at '<= T - h', of '< T' at '>= T + h'); a breach re-entered within the "
                "cooldown after the last fire is announced only once the cooldown is over. A '|value|' condition "
                "compares the magnitude; the values shown keep their sign.",
                className="fd-note",
            ),
            html.H3("Recent events", className="fd-section-title"),
            html.Div(
                list_grid(
                    "alerts-events-table",
                    EVENT_COLUMNS,
                    page_size=15,
                    row_style=_ROWS,
                    cell_styles=_CELLS,
                    wide=WIDE,
                ),
                className="fd-table",
            ),
            html.H3("Outbox (pending and in flight)", className="fd-section-title"),
            html.Div(
                list_grid(
                    "alerts-outbox-table",
                    OUTBOX_COLUMNS,
                    page_size=15,
                    row_style=_ROWS,
                    cell_styles=_CELLS,
                    wide=WIDE,
                ),
                className="fd-table",
            ),
            html.H3("Dead letters", className="fd-section-title"),
            html.Div(
                list_grid(
                    "alerts-dead-table",
                    DEAD_COLUMNS,
                    page_size=15,
                    row_style=_ROWS,
                    cell_styles=_CELLS,
                    wide=WIDE,
                ),
                className="fd-table",
            ),
            html.Div(
                "Re-send a dead letter with `flowdesk alerts resend DELIVERY_ID` (same event id: receivers deduplicate).",
                className="fd-note",
            ),
        ],
        className="fd-page",
    )


def _time(value: Any, tz: Any) -> str:
    """ISO string or epoch seconds -> desk-time text."""
    return format_time(value, str(tz), seconds=True, missing="-")


def _rule_rows(settings: Any, client: Any, tz: Any) -> list[dict[str, Any]]:
    from jobs.alerts import rule_states

    rows = []
    for r in rule_states(settings, client, minus=MINUS):
        rows.append(
            {
                **r,
                "state": r["state"] + ("" if r["enabled"] else " (disabled)"),
                "unit": shown_unit(r["unit"]) or "unknown metric",
                "last_value": fmt_value(r["last_value"], minus=MINUS),
                "last_evaluated": _time(r["last_evaluated"], tz),
                "last_fired": _time(r["last_fired"], tz),
                "targets": r["targets"] or "(none: shown here only)",
            }
        )
    return rows


def _event_rows(client: Any, tz: Any) -> list[dict[str, Any]]:
    from jobs.alerts import recent_events

    rows = []
    for ev in recent_events(client, 200):
        cond = (
            condition_text(ev.op or "", ev.threshold, ev.absolute, minus=MINUS)
            if ev.threshold is not None
            else "-"
        )
        rows.append(
            {
                "at": _time(ev.at, tz),
                "kind": ev.kind,
                "rule": ev.rule or ev.title,
                "severity": ev.severity,
                "value": fmt_value(ev.value, minus=MINUS),
                "unit": (shown_unit(metric_unit(ev.metric)) or "-") if ev.metric else "-",
                "condition": cond,
                "as_of": _time(ev.as_of, tz) if ev.as_of else "-",
                "targets": ", ".join(ev.targets) or "-",
                "id": ev.id,
            }
        )
    return rows


def _delivery_rows(entries: list[dict[str, Any]], tz: Any) -> list[dict[str, Any]]:
    rows = []
    for d in entries:
        rows.append(
            {
                "id": d.get("id"),
                "state": d.get("state"),
                "target": d.get("target"),
                "event_kind": d.get("event_kind"),
                "rule": d.get("rule") or d.get("title") or "-",
                "attempts": d.get("attempts"),
                "next_attempt": _time(d.get("next_attempt_at"), tz),
                "dead_at": _time(d.get("dead_at"), tz),
                "last_error": d.get("last_error") or "",
                "event_id": d.get("event_id"),
            }
        )
    return rows


@callback(
    Output("alerts-cards", "children"),
    Output("alerts-rules-table", "rowData"),
    Output("alerts-events-table", "rowData"),
    Output("alerts-outbox-table", "rowData"),
    Output("alerts-dead-table", "rowData"),
    Output("alerts-error", "children"),
    Input("refresh-interval", "n_intervals"),
)
def refresh_alerts(_n: int) -> tuple:
    from jobs.alerts import counts, dead_letters, outbox_entries

    try:
        settings = data.settings()
        client = data.store().redis
    except Exception as exc:
        return (
            [],
            [],
            [],
            [],
            [],
            html.Div(f"Configuration or store error: {exc}", className="fd-error"),
        )
    try:
        tz = settings.tz
        rules = _rule_rows(settings, client, tz)
        events = _event_rows(client, tz)
        outbox = _delivery_rows(outbox_entries(client, 200), tz)
        dead = _delivery_rows(dead_letters(client, 200), tz)
        totals = counts(client)
    except Exception as exc:  # Redis down or a malformed record: show it, keep the page
        log.error("alerts page: %s", exc)
        return (
            [],
            [],
            [],
            [],
            [],
            html.Div(
                f"Cannot read alerts from the store: {type(exc).__name__}: {exc}",
                className="fd-error",
            ),
        )
    breaches = sum(1 for r in rules if r["state"].startswith("breach"))
    cards = [
        card(
            "Rules",
            str(len(rules)),
            f"{breaches} in breach",
            level="red" if breaches else "ok",
            card_id="alerts-card-rules",
        ),
        card(
            "Outbox",
            f"{totals['pending'] + totals['inflight']} queued",
            f"{totals['inflight']} in flight · {totals['delivered']} delivered recently",
            level="amber" if totals["pending"] + totals["inflight"] else "ok",
            card_id="alerts-card-outbox",
        ),
        card(
            "Dead letters",
            str(totals["dead"]),
            "deliveries that gave up or were refused",
            level="red" if totals["dead"] else "ok",
            card_id="alerts-card-dead",
        ),
    ]
    return cards, rules, events, outbox, dead, None
