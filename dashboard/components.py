"""Small layout pieces shared by every page: result provenance line, SAMPLE and stale labels."""

from __future__ import annotations

import pandas as pd
from dash import dash_table, html
from dash.dash_table.Format import Format, Group, Scheme

from jobs.store import ResultMeta


def _fmt_time(iso: str, tz: str = "America/New_York") -> str:
    ts = pd.Timestamp(iso)
    return ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")


def provenance(meta: ResultMeta, *, stale_after_minutes: float | None = None, tz: str = "America/New_York") -> html.Div:
    """One line under every chart block: as-of time, computed-at, source, SAMPLE / STALE labels."""
    labels: list = []
    if meta.sample:
        labels.append(html.Span("SAMPLE DATA", className="fd-label fd-label-sample", title="Generated sample data, not market data"))
    stale = meta.status == "stale"
    if stale_after_minutes is not None and meta.age_seconds() > stale_after_minutes * 60:
        stale = True
    if stale:
        why = (meta.failure or {}).get("error") or "older than its refresh interval"
        labels.append(html.Span("STALE", className="fd-label fd-label-stale", title=why))
    return html.Div(
        [
            *labels,
            html.Span(f"as of {_fmt_time(meta.as_of, tz)}", className="fd-asof"),
            html.Span(f" · computed {_fmt_time(meta.computed_at, tz)}"),
            html.Span(f" · source: {meta.source}"),
        ],
        className="fd-provenance",
    )


def missing(name: str) -> html.Div:
    """Shown where a result has never been published."""
    return html.Div(f"No published result '{name}' yet: run `flowdesk refresh` or wait for the scheduler.", className="fd-missing")


def datatable(table_id: str, *, page_size: int = 20, export: bool = True, **kwargs: object) -> dash_table.DataTable:
    """A sortable, filterable table in the house style (CSV download unless ``export=False``)."""
    return dash_table.DataTable(
        id=table_id,
        data=[],
        columns=[],
        sort_action="native",
        filter_action="native",
        page_size=page_size,
        export_format="csv" if export else "none",
        style_table={"overflowX": "auto"},
        style_cell={"fontSize": "13px", "padding": "4px 8px", "textAlign": "left"},
        style_header={"fontWeight": "600"},
        **kwargs,
    )


def card(title: str, value: str, sub: str | None = None, *, card_id: str | None = None) -> html.Div:
    """A headline card: title, big value, optional sub-line."""
    children = [html.Div(title, className="fd-card-title"), html.Div(value, className="fd-card-value")]
    if sub:
        children.append(html.Div(sub, className="fd-card-sub"))
    return html.Div(children, className="fd-card", **({"id": card_id} if card_id else {}))


def table_data(frame: pd.DataFrame, names: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """Records and DataTable columns for ``names`` (column -> header with unit) present in ``frame``.

    Numbers keep full precision in the data (the CSV export) and are displayed by unit: USD and
    contracts with thousands separators and no decimals, percentages and betas with two decimals.
    """
    cols = [c for c in names if c in frame.columns]
    columns = []
    for c in cols:
        spec: dict = {"name": names[c], "id": c}
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]):
            two_dp = "pct" in c or "beta" in c or "distance" in c or c.endswith("_hours")
            spec.update(type="numeric", format=Format(group=Group.yes, precision=2 if two_dp else 0, scheme=Scheme.fixed))
        columns.append(spec)
    return frame[cols].to_dict("records"), columns
