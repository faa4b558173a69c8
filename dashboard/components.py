"""Small layout pieces shared by every page: result provenance line, SAMPLE and stale labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from dash import dash_table, html

from flows.formatting import header, table_format, time_format
from jobs import declarations
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
            *quality_note(meta),
        ],
        className="fd-provenance",
    )


def quality_note(meta: ResultMeta) -> list:
    """Input quality beside the provenance: rows skipped (share of the basis), warnings.

    Empty when the producer reported no quality; a QUALITY label when rows were skipped or a
    warning was raised, with the full summary as its tooltip.
    """
    q = meta.quality or {}
    if not q:
        return []
    skipped = int(q.get("skipped_rows", 0))
    warnings = list(q.get("warnings", []))
    share = float(q.get("skipped_share", 0.0)) * 100.0
    text = f" · input: {int(q.get('total_rows', 0)):,} rows"
    if skipped:
        text += f", {skipped:,} skipped ({share:.2f} % of {q.get('basis', 'rows')})"
    if q.get("repaired_rows"):
        text += f", {int(q['repaired_rows']):,} repaired"
    out: list = [html.Span(text, className="fd-quality")]
    if warnings:
        out.append(html.Span(f"{len(warnings)} WARNING{'S' if len(warnings) > 1 else ''}", className="fd-label fd-label-warning", title=" | ".join(warnings)))
        out.append(html.Div([html.Div(w) for w in warnings], className="fd-quality-warnings"))
    return out


def headline_units(meta: ResultMeta) -> dict[str, str]:
    """Unit of each headline key of ``meta``: as stored with it, else from its declaration
    (a version published before units were stored); ``{}`` for an undeclared result."""
    if meta.headline_units:
        return dict(meta.headline_units)
    return declarations.headline_units(meta.name, meta.headline) if declarations.find(meta.name) else {}


def missing(name: str) -> html.Div:
    """Shown where a result has never been published."""
    return html.Div(f"No published result '{name}' yet: run `flowdesk refresh` or wait for the scheduler.", className="fd-missing")


HOUSE_CELL_STYLE = {"fontSize": "13px", "padding": "4px 8px", "textAlign": "left"}
HOUSE_HEADER_STYLE = {"fontWeight": "600"}

TABLE_FONT = '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
"""Same stack as the app's CSS (DataTable sets its own monospace font otherwise)."""

LIST_CELL_STYLE = {"fontFamily": TABLE_FONT, "fontSize": "13px", "padding": "4px 8px", "textAlign": "left", "whiteSpace": "normal", "height": "auto", "maxWidth": "420px"}
"""Cells of the operational lists (Status, Alerts): long texts such as errors wrap."""
LIST_HEADER_STYLE = {"fontWeight": "600", "backgroundColor": "#f2f4f7"}


def datatable(
    table_id: str,
    *,
    page_size: int = 20,
    export: bool = True,
    filterable: bool = True,
    columns: list[dict] | None = None,
    style_cell: dict | None = HOUSE_CELL_STYLE,
    style_header: dict | None = HOUSE_HEADER_STYLE,
    **kwargs: object,
) -> dash_table.DataTable:
    """A sortable, filterable table in the house style (CSV download unless ``export=False``).

    ``filterable=False`` drops the filter row; ``columns`` are the initial DataTable columns (empty
    when the callback sets them); ``style_cell`` / ``style_header`` replace the house styles
    (``None``: DataTable's own).  Further keywords go to the DataTable as they are.
    """
    return dash_table.DataTable(
        id=table_id,
        data=[],
        columns=columns or [],
        sort_action="native",
        **({"filter_action": "native"} if filterable else {}),
        page_size=page_size,
        export_format="csv" if export else "none",
        style_table={"overflowX": "auto"},
        **({"style_cell": style_cell} if style_cell is not None else {}),
        **({"style_header": style_header} if style_header is not None else {}),
        **kwargs,
    )


def list_table(table_id: str, columns: list[tuple[str, str]], *, page_size: int, style_data_conditional: list[dict]) -> dash_table.DataTable:
    """An operational list (Status, Alerts): fixed ``(id, header)`` columns, wrapped cells, no filter row."""
    return datatable(
        table_id,
        page_size=page_size,
        filterable=False,
        columns=[{"id": cid, "name": name} for cid, name in columns],
        style_cell=LIST_CELL_STYLE,
        style_header=LIST_HEADER_STYLE,
        style_data_conditional=style_data_conditional,
    )


def card(title: str, value: str, sub: str | None = None, *, card_id: str | None = None, level: str | None = None) -> html.Div:
    """A headline card: title, big value, optional sub-line; ``level`` (``ok``, ``amber``, ``red``) adds ``fd-card-<level>``."""
    children = [html.Div(title, className="fd-card-title"), html.Div(value, className="fd-card-value")]
    if sub:
        children.append(html.Div(sub, className="fd-card-sub"))
    cls = "fd-card" + (f" fd-card-{level}" if level else "")
    return html.Div(children, className=cls, **({"id": card_id} if card_id else {}))


def _column(cid: str, title: str, unit: str | None, series: pd.Series) -> dict[str, Any]:
    """A DataTable column: header with the declared unit, numbers displayed by it
    (:func:`flows.formatting.table_format`), numeric so that sorting is numeric and the CSV
    export keeps full precision."""
    col: dict[str, Any] = {"name": header(title, unit), "id": cid}
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        col["type"] = "numeric"
        col["format"] = {"specifier": table_format(unit)}
    return col


def _records(frame: pd.DataFrame, units: Mapping[str, str]) -> list[dict[str, Any]]:
    """Records for a DataTable: datetimes as text (:func:`flows.formatting.time_format` of the
    column's unit), missing values ``None`` (an empty cell), booleans as ``true``/``false``."""
    f = frame.copy()
    for c in f.columns:
        if pd.api.types.is_datetime64_any_dtype(f[c]):
            f[c] = f[c].dt.strftime(time_format(units.get(str(c))))
    return f.astype(object).where(f.notna(), None).to_dict("records")


def table_data(frame: pd.DataFrame, names: Mapping[str, str], units: Mapping[str, str]) -> tuple[list[dict], list[dict]]:
    """Records and DataTable columns for ``names`` (column -> title) present in ``frame``.

    ``units`` are the table's declared units (``meta.units[table]``): each header reads
    ``title (unit)`` and numbers are displayed by the unit (:mod:`flows.formatting`), never by
    guessing from the column's name.
    """
    cols = [c for c in names if c in frame.columns]
    return _records(frame[cols], units), [_column(c, names[c], units.get(c), frame[c]) for c in cols]


def frame_table(frame: pd.DataFrame, units: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """DataTable records and columns of a whole result table (the pages' detail tables): every
    column under its own name with its declared unit (``units``: ``meta.units[table]``), numbers
    displayed by that unit (see :func:`table_data`)."""
    return _records(frame, units), [_column(str(c), str(c), units.get(str(c)), frame[c]) for c in frame.columns]
