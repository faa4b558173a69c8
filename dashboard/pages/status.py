"""Status page: job runs, last success and staleness, published results, Redis and scheduler health.

Everything here is read from Redis on each tick of the global ``refresh-interval`` (and on page
load) and graded by :mod:`jobs.health` (the same definitions as ``flowdesk status``); the page
only draws.  Times are shown in the desk's time zone.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import data
from dashboard.components import (
    AMBER,
    AMBER_BG,
    GREEN,
    RED,
    RED_BG,
    card,
    dated_exports,
    grid_exports,
    list_grid,
    when,
)
from flows.formatting import format_time
from jobs.health import Freshness, Health, collect, format_age, heartbeat_state

dash.register_page(__name__, path="/status", name="Status", order=90, title="flowdesk · Status")

log = logging.getLogger("flowdesk.web.status")

LEVEL_TEXT = {"ok": "fresh", "amber": "aging", "red": "stale"}

JOB_COLUMNS = [
    ("job", "Job"),
    ("task", "Task"),
    ("cron", "Schedule (cron, desk time zone)"),
    ("started", "Last run start"),
    ("ended", "Last run end"),
    ("status", "Status"),
    ("duration_s", "Duration (seconds)"),
    ("rows", "Rows (count)"),
    ("attempts", "Attempts (count)"),
    ("last_success", "Last success"),
    ("success_age", "Success age"),
    ("staleness", "Staleness"),
    ("error", "Error"),
]
RESULT_COLUMNS = [
    ("name", "Result"),
    ("job", "Job"),
    ("as_of", "As of"),
    ("computed_at", "Computed at"),
    ("age", "Age"),
    ("source", "Source"),
    ("rows", "Rows (count)"),
    ("status", "Status"),
    ("freshness", "Freshness"),
    ("sample", "Sample data"),
    ("detail", "Detail"),
]
RUN_COLUMNS = [
    ("slot", "Slot"),
    ("started", "Start"),
    ("ended", "End"),
    ("status", "Status"),
    ("duration_s", "Duration (seconds)"),
    ("rows", "Rows (count)"),
    ("attempts", "Attempts (count)"),
    ("results", "Results"),
    ("host", "Host / pid"),
    ("error", "Error"),
]
GRIDS = {
    "status-jobs-table": "status-jobs",
    "status-results-table": "status-results",
    "status-runs-table": "status-runs",
}
"""The page's grids and the stem of their CSV file (``status-runs_<date>_<job>.csv``)."""
WIDE = {
    **dict.fromkeys(("job", "task", "slot"), 130),
    **dict.fromkeys(("started", "ended", "last_success", "as_of", "computed_at"), 150),
    "name": 170,
    "cron": 170,
    "source": 320,
    "detail": 300,
    "error": 300,
    "results": 240,
}
"""Minimum widths of the long texts (px): they wrap, over a few lines, not a word a line."""
grid_exports(*GRIDS)
dated_exports(GRIDS, picker=("status-job-select", "value"), picked=("status-runs-table",))

_STATUS_ROWS = {
    "styleConditions": [
        {
            "condition": "String(params.data.staleness || '').includes('stale') || params.data.freshness === 'stale'",
            "style": {"backgroundColor": RED_BG},
        },
        {
            "condition": "String(params.data.staleness || '').includes('aging') || params.data.freshness === 'aging'",
            "style": {"backgroundColor": AMBER_BG},
        },
    ]
}
_STATUS_CELLS = {
    "status": {
        "styleConditions": [
            when("params.value === 'failed' || params.value === 'stale'", RED),
            when("params.value === 'partial'", AMBER),
            when("params.value === 'ok'", GREEN),
        ]
    },
    "error": {"color": RED},
}


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Status", className="fd-page-title"),
            html.Div(id="status-error"),
            html.Div(id="status-cards", className="fd-cards"),
            html.H3("Jobs", className="fd-section-title"),
            html.Div(
                list_grid(
                    "status-jobs-table",
                    JOB_COLUMNS,
                    page_size=25,
                    row_style=_STATUS_ROWS,
                    cell_styles=_STATUS_CELLS,
                    wide=WIDE,
                ),
                className="fd-table",
            ),
            html.Div(
                "Staleness (jobs.health, as in `flowdesk status`): a job is 'stale (last run failed)' when its last "
                "refresh failed (its last good results are still served), 'aging' when its last success is older "
                "than its stale_after_minutes, 'never succeeded' before its first success. A result's freshness "
                "also grades its data's as-of.",
                className="fd-note",
            ),
            html.H3("Results", className="fd-section-title"),
            html.Div(
                list_grid(
                    "status-results-table",
                    RESULT_COLUMNS,
                    page_size=25,
                    row_style=_STATUS_ROWS,
                    cell_styles=_STATUS_CELLS,
                    wide=WIDE,
                ),
                className="fd-table",
            ),
            html.H3("Recent runs", className="fd-section-title"),
            html.Div(
                [
                    html.Label("Job", htmlFor="status-job-select"),
                    dcc.Dropdown(
                        id="status-job-select",
                        options=[],
                        value=None,
                        clearable=False,
                        style={"minWidth": "240px"},
                    ),
                ],
                className="fd-controls",
            ),
            html.Div(
                list_grid(
                    "status-runs-table",
                    RUN_COLUMNS,
                    page_size=15,
                    row_style=_STATUS_ROWS,
                    cell_styles=_STATUS_CELLS,
                    wide=WIDE,
                ),
                className="fd-table",
            ),
            html.Div(id="status-config", className="fd-note"),
        ],
        className="fd-page",
    )


def _fmt_time(iso: str | None, tz: Any) -> str:
    return format_time(iso, str(tz), seconds=True, missing="-")


def _redis_card(store: Any) -> html.Div:
    try:
        store.redis.ping()
        info = store.redis.info()
    except Exception as exc:  # show, never raise: the page must render with Redis down
        return card(
            "Redis",
            "unreachable",
            f"{type(exc).__name__}: {exc}",
            level="red",
            card_id="status-redis",
        )
    sub = f"Redis {info.get('redis_version', '?')} · {info.get('used_memory_human', '?')} used · {info.get('connected_clients', '?')} clients"
    return card("Redis", "PING ok", sub, level="ok", card_id="status-redis")


def _scheduler_card(health: Health, settings: Any) -> html.Div:
    s = settings.scheduler
    level, text, detail = heartbeat_state(
        health.scheduler, s.heartbeat_seconds, s.leader_lease_seconds
    )
    return card("Scheduler", text, detail, level=level, card_id="status-scheduler")


def _freshness_card(fresh: Freshness) -> html.Div:
    level = {"ok": "ok", "amber": "amber", "red": "red"}.get(fresh.level)
    return card(
        "Data",
        fresh.label,
        f"{len(fresh.items)} results published",
        level=level,
        card_id="status-freshness",
    )


def _job_rows(health: Health, tz: Any) -> list[dict[str, Any]]:
    rows = []
    for j in health.jobs:
        spec, last, success = j.spec, j.last_run, j.last_success
        rows.append(
            {
                "job": j.job,
                "task": spec.task if spec else "(not configured)",
                "cron": (spec.cron + ("" if spec.enabled else " (disabled)")) if spec else "-",
                "started": _fmt_time(last.started_at, tz) if last else "never run",
                "ended": _fmt_time(last.ended_at, tz) if last else "-",
                "status": last.status if last else "-",
                "duration_s": last.duration_s if last else None,
                "rows": last.rows if last else None,
                "attempts": last.attempts if last else None,
                "last_success": _fmt_time(success.ended_at or success.started_at, tz)
                if success
                else "never",
                "success_age": format_age(
                    j.age_minutes * 60 if j.age_minutes is not None else None
                ),
                "staleness": j.state,
                "error": (last.error or (last.detail if last.status == "skipped" else "") or "")
                if last
                else "",
            }
        )
    return rows


def _result_rows(health: Health, tz: Any) -> list[dict[str, Any]]:
    metas = health.metas
    rows = []
    for item in sorted(health.freshness.items, key=lambda i: i.name):
        meta = metas.get(item.name)
        rows.append(
            {
                "name": item.name,
                "job": item.job or "-",
                "as_of": _fmt_time(meta.as_of, tz) if meta else "-",
                "computed_at": _fmt_time(meta.computed_at, tz) if meta else "-",
                "age": format_age(item.age_s),
                "source": meta.source if meta else "-",
                "rows": meta.rows if meta else None,
                "status": meta.status if meta else "failed",
                "freshness": LEVEL_TEXT.get(item.level, item.level),
                "sample": "SAMPLE" if meta and meta.sample else "",
                "detail": "" if item.level == "ok" else item.reason,
            }
        )
    return rows


@callback(
    Output("status-cards", "children"),
    Output("status-jobs-table", "rowData"),
    Output("status-results-table", "rowData"),
    Output("status-job-select", "options"),
    Output("status-job-select", "value"),
    Output("status-error", "children"),
    Output("status-config", "children"),
    Input("refresh-interval", "n_intervals"),
    State("status-job-select", "value"),
)
def refresh_status(_n: int, selected: str | None) -> tuple:
    try:
        settings = data.settings()
    except Exception as exc:
        return (
            [],
            [],
            [],
            [],
            None,
            html.Div(f"Configuration error: {exc}", className="fd-error"),
            "",
        )
    config_note = f"Configuration: {settings.source_path} · source mode: {settings.service.source_mode} · times in {settings.service.timezone}"
    try:
        store = data.store()
    except Exception as exc:
        return [], [], [], [], None, html.Div(f"No store: {exc}", className="fd-error"), config_note
    health = collect(settings, store, include_unconfigured=True)
    cards = [_redis_card(store)]
    if not health.redis_ok:
        return (
            cards,
            [],
            [],
            [],
            selected,
            html.Div(f"Redis unreachable: {health.freshness.error}", className="fd-error"),
            config_note,
        )
    try:
        tz = settings.tz
        cards += [_scheduler_card(health, settings), _freshness_card(health.freshness)]
        jobs = _job_rows(health, tz)
        results = _result_rows(health, tz)
    except Exception as exc:  # a malformed record: show it, keep the page
        log.error("status page: %s", exc)
        return (
            cards,
            [],
            [],
            [],
            selected,
            html.Div(f"Cannot read the store: {type(exc).__name__}: {exc}", className="fd-error"),
            config_note,
        )
    options = [{"label": row["job"], "value": row["job"]} for row in jobs]
    names = [row["job"] for row in jobs]
    if selected not in names:
        selected = names[0] if names else None
    return cards, jobs, results, options, selected, None, config_note


@callback(
    Output("status-runs-table", "rowData"),
    Input("status-job-select", "value"),
    Input("refresh-interval", "n_intervals"),
)
def refresh_runs(job: str | None, _n: int) -> list[dict[str, Any]]:
    if not job:
        return []
    try:
        tz = data.settings().tz
        runs = data.store().runs(job, limit=50)
    except Exception as exc:
        log.error("status page runs: %s", exc)
        return []
    return [
        {
            "slot": r.slot,
            "started": _fmt_time(r.started_at, tz),
            "ended": _fmt_time(r.ended_at, tz),
            "status": r.status,
            "duration_s": r.duration_s,
            "rows": r.rows,
            "attempts": r.attempts,
            "results": ", ".join(r.results),
            "host": f"{r.host} / {r.pid}",
            "error": r.error or "",
        }
        for r in runs
    ]
