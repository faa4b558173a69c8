"""Small layout pieces shared by every page: result provenance line, SAMPLE and stale labels."""

from __future__ import annotations

import pandas as pd
from dash import html

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
