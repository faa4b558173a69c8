"""Small layout pieces shared by every page: result provenance line, SAMPLE and stale labels."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import dash
import dash_ag_grid as dag
import numpy as np
import pandas as pd
from dash import Input, Output, State, html

from dashboard.display import minus_signs
from flows.formatting import (
    DEFAULT_TZ,
    TABLE_SCALE,
    code_label,
    format_time,
    header,
    table_format,
    table_scale,
    time_format,
)
from flows.units import Unit
from jobs import declarations
from jobs.store import ResultMeta


def _fmt_time(iso: str, tz: str = DEFAULT_TZ) -> str:
    return format_time(iso, tz)


def desk_tz() -> str:
    """The desk's time zone (``[service] timezone``; New York when the config cannot be read)."""
    from dashboard import data  # late: data reads the settings

    try:
        return data.settings().service.timezone
    except Exception:
        return DEFAULT_TZ


def provenance(
    meta: ResultMeta, *, stale_after_minutes: float | None = None, tz: str = "America/New_York"
) -> html.Div:
    """One line under every chart block: as-of time, computed-at, source, SAMPLE / STALE labels."""
    labels: list = []
    if meta.sample:
        labels.append(
            html.Span(
                "SAMPLE DATA",
                className="fd-label fd-label-sample",
                title="Generated sample data, not market data",
            )
        )
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
        said = q.get("share_text") or f"{share:.2f} % of {q.get('basis', 'rows')}"
        text += f", {skipped:,} skipped ({said})"
    if q.get("repaired_rows"):
        text += f", {int(q['repaired_rows']):,} repaired"
    out: list = [html.Span(text, className="fd-quality")]
    if warnings:
        out.append(
            html.Span(
                f"{len(warnings)} WARNING{'S' if len(warnings) > 1 else ''}",
                className="fd-label fd-label-warning",
                title=" | ".join(warnings),
            )
        )
        out.append(html.Div([html.Div(w) for w in warnings], className="fd-quality-warnings"))
    return out


def headline_units(meta: ResultMeta) -> dict[str, str]:
    """Unit of each headline key of ``meta``: as stored with it, else from its declaration
    (a version published before units were stored); ``{}`` for an undeclared result."""
    if meta.headline_units:
        return dict(meta.headline_units)
    return (
        declarations.headline_units(meta.name, meta.headline)
        if declarations.find(meta.name)
        else {}
    )


def missing(name: str) -> html.Div:
    """Shown where a result has never been published."""
    return html.Div(
        f"No published result '{name}' yet: run `flowdesk refresh` or wait for the scheduler.",
        className="fd-missing",
    )


GRID_CLASS = "ag-theme-alpine fd-grid"
INFINITE_HEIGHT = "560px"
"""Height of an infinite-row-model grid (rows arrive in blocks: the grid cannot size to them)."""


def _height(page_size: int) -> str:
    """A fixed height for ``page_size`` rows, its header, floating filter and pager (the
    infinite row model only: every other grid sizes to its rows, ``domLayout: autoHeight``)."""
    return f"{min(page_size, 25) * 34 + 130}px"


def grid(
    table_id: str,
    *,
    page_size: int = 20,
    export: bool = True,
    filterable: bool = True,
    columns: list[dict] | None = None,
    wrap: bool = False,
    row_style: dict | None = None,
    infinite: bool = False,
) -> html.Div:
    """THE table of every page: an AG Grid (``dash-ag-grid``) in the house style.

    Columns are sortable, resizable and (``filterable``) filterable with a floating filter row;
    rows are paged ``page_size`` at a time and the grid is as tall as the rows of its page
    (``domLayout: autoHeight``; the infinite model has a fixed height).  ``columns`` are the
    initial ``columnDefs`` (the
    callbacks send ``rowData``/``columnDefs`` built by :func:`table_data` / :func:`frame_table`).
    ``export``: a "CSV" button beside the grid; the file name comes from the grid's
    ``csvExportParams`` (:func:`export_params`, sent by the page's callback), the click is wired by
    :func:`grid_exports` (called once in the page module).  ``wrap``: long texts wrap (the
    operational lists); ``row_style``: AG Grid ``getRowStyle`` (``styleConditions``).
    ``infinite``: the infinite row model, the page's callback answering ``getRowsRequest`` with one
    block of rows at a time (:func:`rows_block`), for tables too large to send whole.
    """
    # headers carry their unit: wrapped over lines rather than cut ("Flow (US…" was unreadable)
    default_col: dict[str, Any] = {
        "sortable": True,
        "resizable": True,
        "minWidth": 90,
        "wrapHeaderText": True,
        "autoHeaderHeight": True,
        # the CSV export writes the numbers, not their display ("1,234" and d3's "−" are text)
        "useValueFormatterForExport": False,
    }
    if filterable:
        default_col.update({"filter": True, "floatingFilter": True})
    if wrap:
        default_col.update(
            {
                "wrapText": True,
                "autoHeight": True,
                "cellStyle": {"whiteSpace": "normal", "lineHeight": "1.4"},
            }
        )
    options: dict[str, Any] = {
        "pagination": True,
        "paginationPageSize": page_size,
        "paginationPageSizeSelector": False,
        "animateRows": False,
        "suppressFieldDotNotation": True,
        "enableCellTextSelection": True,
        "suppressColumnVirtualisation": True,
        # dash-ag-grid's columnSize applies once, when the (empty) grid is created; the pages send
        # columns and rows later, so AG Grid sizes them itself when the first rows are drawn
        "autoSizeStrategy": {"type": "fitCellContents"},
    }
    kwargs: dict[str, Any] = {}
    if infinite:
        options.update({"cacheBlockSize": page_size, "maxBlocksInCache": 4})
        kwargs["rowModelType"] = "infinite"
        style = {"height": _height(page_size), "width": "100%"}
    else:
        kwargs["rowData"] = []
        # as tall as its rows (a page holds at most page_size of them: long tables page), so a
        # 4-row table has no screen of white space under it
        options["domLayout"] = "autoHeight"
        style = {"width": "100%"}
    if row_style:
        kwargs["getRowStyle"] = row_style
    ag = dag.AgGrid(
        id=table_id,
        columnDefs=columns or [],
        defaultColDef=default_col,
        dashGridOptions=options,
        # columns as wide as their content (numbers are never cut); the grid scrolls sideways
        # when a wide table does not fit, instead of squeezing every column
        columnSize="autoSize",
        style=style,
        className=GRID_CLASS,
        **kwargs,
    )
    parts: list = [ag]
    if export:
        parts.insert(
            0,
            html.Button(
                "CSV",
                id=f"{table_id}-csv",
                n_clicks=0,
                className="fd-grid-export",
                title="Download this table as CSV",
            ),
        )
    return html.Div(parts, className="fd-grid-box")


def grid_exports(*table_ids: str) -> None:
    """Wire the CSV buttons of the grids ``table_ids`` (call once at the page module's top level:
    Dash runs page modules once per app).  The browser writes the file from the grid's rows under
    the grid's ``csvExportParams`` (:func:`export_params`)."""
    for tid in table_ids:
        dash.clientside_callback(
            "function(n) { return n ? true : window.dash_clientside.no_update; }",
            Output(tid, "exportDataAsCsv"),
            Input(f"{tid}-csv", "n_clicks"),
            prevent_initial_call=True,
        )


def export_names(grids: Mapping[str, str], *, picker: tuple[str, str] | None = None) -> None:
    """Name the CSV exports of ``grids`` (grid id -> result name) after each published version:
    ``<grid id>_<the result's as-of date>[_<picker value>].csv`` (:func:`export_params`).

    ``picker``: ``(component id, property)`` of the page's control that picks what the tables
    show (an index, a market group); its value is the scenario part of the name and fills a
    ``{}`` in a result name (``"volcontrol.{}"``).  Call once at the page module's top level.
    """
    ids = list(grids)
    inputs = [Input("data-version", "data")] + ([Input(*picker)] if picker else [])

    def name_exports(_versions: object, choice: object = None) -> list[dict[str, Any]]:
        from dashboard import data  # late: data reads the settings

        out = []
        for gid in ids:
            result = grids[gid].format(choice) if "{}" in grids[gid] else grids[gid]
            try:
                as_of = data.store().meta(result).as_of
            except Exception:  # not published (yet), or Redis down: undated
                as_of = None
            out.append(export_params(gid, as_of, choice))
        return out

    dash.callback([Output(gid, "csvExportParams") for gid in ids], *inputs)(name_exports)


def dated_exports(
    grids: Mapping[str, str],
    *,
    picker: tuple[str, str] | None = None,
    picked: tuple[str, ...] = (),
) -> None:
    """Name the CSV exports of operational lists (Status, Alerts: what the store holds now, no
    result as-of) by the desk date they are read on: ``<stem>_<today>[_<picker value>].csv``
    (:func:`export_params`; ``grids``: grid id -> file stem).  ``picker``: ``(component id,
    property)`` whose value names what the grids in ``picked`` show (a job).  Checked on each
    tick of ``refresh-interval``; a name that did not change is not re-sent.  Call once at the
    page module's top level."""
    ids = list(grids)
    inputs = [Input("refresh-interval", "n_intervals")] + ([Input(*picker)] if picker else [])
    states = [State(gid, "csvExportParams") for gid in ids]

    def name_exports(_n: object, *args: object) -> list[Any]:
        choice = args[0] if picker else None
        current = args[1:] if picker else args
        now = pd.Timestamp.now(tz="UTC")
        out: list[Any] = []
        for gid, shown in zip(ids, current, strict=True):
            params = export_params(grids[gid], now, choice if gid in picked else None)
            out.append(dash.no_update if shown == params else params)
        return out

    dash.callback([Output(gid, "csvExportParams") for gid in ids], *inputs, *states)(name_exports)


def export_params(page: str, as_of: object, scenario: object = None) -> dict[str, Any]:
    """``csvExportParams`` naming the export ``<page>_<as-of date>[_<scenario>].csv``.

    ``as_of``: the result's as-of (its date in the desk zone, :func:`flows.formatting.format_time`);
    ``scenario``: what the table shows besides the date (an underlying, an IV shock, a market),
    reduced to file-name characters.  Values are exported as numbers (full precision), not as the
    grid displays them.
    """
    day = format_time(as_of, desk_tz(), missing="undated")[:10]
    parts = [page, day]
    if scenario not in (None, ""):
        parts.append(re.sub(r"[^A-Za-z0-9.+-]+", "_", str(scenario)).strip("_"))
    return {"fileName": "_".join(parts) + ".csv"}


RED, AMBER, GREEN = "#b42318", "#b54708", "#067647"
RED_BG, AMBER_BG = "#fef3f2", "#fffaeb"


def when(condition: str, color: str, *, bold: bool = True) -> dict[str, Any]:
    """One AG Grid style condition (a JavaScript expression on ``params``): text ``color``."""
    return {
        "condition": condition,
        "style": {"color": color, **({"fontWeight": "600"} if bold else {})},
    }


def list_grid(
    table_id: str,
    columns: list[tuple[str, str]],
    *,
    page_size: int,
    row_style: dict | None = None,
    cell_styles: Mapping[str, dict] | None = None,
    export: bool = True,
    wide: Mapping[str, int] | None = None,
) -> html.Div:
    """An operational list (Status, Alerts): fixed ``(id, header)`` columns, wrapped cells, a CSV
    button (``export``; the page wires it with :func:`grid_exports` and names the file with
    :func:`export_params` of the time it read the list).  ``row_style``: ``getRowStyle``;
    ``cell_styles``: column id -> its ``cellStyle`` (``{"styleConditions": [...]}`` or a plain
    style).  ``wide``: column id -> width in px of the long texts (a source list, an error),
    which wrap within it: sized to a short header they wrapped a word per line and made every
    row ten lines tall."""
    styles = cell_styles or {}
    widths = wide or {}
    cols = [
        {
            "field": cid,
            "headerName": name,
            **({"cellStyle": styles[cid]} if cid in styles else {}),
            # a long text keeps its width and wraps: AG Grid's content sizing (autoSizeStrategy)
            # would stretch it to its longest line, and ignores (and warns on) colDef.flex
            **(
                {"width": widths[cid], "minWidth": widths[cid], "suppressAutoSize": True}
                if cid in widths
                else {}
            ),
        }
        for cid, name in columns
    ]
    return grid(
        table_id, page_size=page_size, export=export, columns=cols, wrap=True, row_style=row_style
    )


def card(
    title: str,
    value: str,
    sub: str | None = None,
    *,
    card_id: str | None = None,
    level: str | None = None,
) -> html.Div:
    """A headline card: title, big value, optional sub-line; ``level`` (``ok``, ``amber``, ``red``) adds ``fd-card-<level>``.
    Texts are shown in the display rule (:func:`dashboard.display.minus_signs`: ``−3%``)."""
    children = [
        html.Div(minus_signs(title), className="fd-card-title"),
        html.Div(minus_signs(value), className="fd-card-value"),
    ]
    if sub:
        children.append(html.Div(minus_signs(sub), className="fd-card-sub"))
    cls = "fd-card" + (f" fd-card-{level}" if level else "")
    return html.Div(children, className=cls, **({"id": card_id} if card_id else {}))


def _value_formatter(spec: str, missing: str = "") -> dict[str, str]:
    """An AG Grid ``valueFormatter`` writing a number by the d3 specifier ``spec``; ``missing``
    (a plain text, e.g. ``no ADV``) where the cell is empty."""
    text = missing.replace("\\", "\\\\").replace("'", "\\'")
    return {"function": f"params.value == null ? '{text}' : d3.format('{spec}')(params.value)"}


def column_def(
    cid: str, title: str, unit: str | None, *, numeric: bool, missing: str = ""
) -> dict[str, Any]:
    """An AG Grid column: header ``title (unit)`` (:func:`flows.formatting.header`), numbers
    displayed by the declared unit (:func:`flows.formatting.table_format` through d3-format),
    numeric so that sorting and the number filter are numeric and the CSV export keeps full
    precision.  ``missing``: what an empty numeric cell says (``no ADV``; blank otherwise)."""
    col: dict[str, Any] = {
        "field": cid,
        "headerName": header(title, unit),
        "headerTooltip": header(title, unit),
    }
    if numeric:
        col.update(
            {
                "type": "numericColumn",
                "filter": "agNumberColumnFilter",
                "valueFormatter": _value_formatter(table_format(unit), missing),
            }
        )
    return col


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _column(
    cid: str, title: str, unit: str | None, series: pd.Series, missing: str = ""
) -> dict[str, Any]:
    """:func:`column_def` of a frame's column (numeric by its dtype)."""
    return column_def(cid, title, unit, numeric=_numeric(series), missing=missing)


def title_of(cid: str, titles: Mapping[str, str]) -> str:
    """The header title of column ``cid``: declared (``titles``, from
    :func:`jobs.declarations.column_titles`), else its name in words (an undeclared result)."""
    return titles.get(cid) or cid.replace("_", " ").capitalize()


def scaled(frame: pd.DataFrame, units: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with its fraction columns x 100 (:data:`flows.formatting.TABLE_SCALE`): a table
    shows, sorts, filters and exports them as the percentages its header states.  The same
    frame when there is none."""
    cols = [c for c in frame.columns if units.get(str(c)) in TABLE_SCALE and _numeric(frame[c])]
    if not cols:
        return frame
    out = frame.copy()
    for c in cols:
        out[c] = out[c].astype("float64") * table_scale(units.get(str(c)))
    return out


def _labels(column: pd.Series) -> dict[Any, str]:
    """Each distinct value of ``column`` -> its words (:func:`flows.formatting.code_label`)."""
    return {v: code_label(v) for v in column.dropna().unique()}


def _records(
    frame: pd.DataFrame, units: Mapping[str, str], tz: str | None = None, *, scale: bool = True
) -> list[dict[str, Any]]:
    """Row data for a grid: datetimes as text (:func:`flows.formatting.time_format` of the
    column's unit) in the desk's time zone ``tz`` (default :func:`desk_tz`), text columns declared
    ``TIME`` (ISO instants) likewise, fractions as percentages (:func:`scaled`; ``scale=False``
    when the caller did it), missing values ``None`` (an empty cell), the codes of ``LABEL``
    columns and booleans in words (:func:`flows.formatting.code_label`: ``asset managers``,
    ``yes``)."""
    f = scaled(frame, units) if scale else frame
    f = f.copy()
    zone = None
    for c in f.columns:
        unit = units.get(str(c))
        if pd.api.types.is_bool_dtype(f[c]) or unit == Unit.LABEL:
            # mapped once per distinct value: a grid of thousands of rows holds a few codes
            f[c] = f[c].map(_labels(f[c]), na_action="ignore")
        elif pd.api.types.is_datetime64_any_dtype(f[c]):
            col = f[c]
            if unit != Unit.DATE and getattr(col.dt, "tz", None) is not None:
                zone = zone or tz or desk_tz()
                col = col.dt.tz_convert(zone)
            f[c] = col.dt.strftime(time_format(unit))
        elif unit == Unit.TIME and (
            pd.api.types.is_object_dtype(f[c]) or pd.api.types.is_string_dtype(f[c])
        ):
            zone = zone or tz or desk_tz()
            f[c] = [format_time(v, zone, missing="") for v in f[c]]
    return f.astype(object).where(f.notna(), None).to_dict("records")


def table_data(
    frame: pd.DataFrame,
    columns: Mapping[str, str | None] | Sequence[str],
    units: Mapping[str, str],
    *,
    tz: str | None = None,
    missing: Mapping[str, str] | None = None,
) -> tuple[list[dict], list[dict]]:
    """``rowData`` and ``columnDefs`` of ``columns`` (in that order) present in ``frame``.

    ``units`` are the table's declared units (``meta.units[table]``): each header reads
    ``title (unit)`` and numbers are displayed by the unit (:mod:`flows.formatting`), never by
    guessing from the column's name.  Titles are the declared ones
    (:func:`jobs.declarations.column_titles`); ``columns`` as a mapping may give a title of the
    page's own (None: the declared one).  ``missing``: column -> what its empty cells say.
    """
    declared = declarations.column_titles(units)
    given = columns if isinstance(columns, Mapping) else {}
    cols = [c for c in columns if c in frame.columns]
    said = missing or {}
    return _records(frame[cols], units, tz), [
        _column(c, given.get(c) or title_of(c, declared), units.get(c), frame[c], said.get(c, ""))
        for c in cols
    ]


def frame_table(
    frame: pd.DataFrame, units: Mapping[str, str], *, own: Mapping[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``rowData`` and ``columnDefs`` of a whole result table (the pages' detail tables): every
    column under its declared title and unit (``units``: ``meta.units[table]``, which also
    identifies the declared table: :func:`jobs.declarations.column_titles`), numbers displayed by
    that unit (see :func:`table_data`).  ``own``: columns the page added (column -> title; their
    units, if any, in ``units``), left out of the look-up."""
    extra = own or {}
    titles = {
        **declarations.column_titles({c: u for c, u in units.items() if c not in extra}),
        **extra,
    }
    return _records(frame, units), [
        _column(str(c), title_of(str(c), titles), units.get(str(c)), frame[c])
        for c in frame.columns
    ]


_NUMBER_TESTS = {
    "equals": lambda s, a, b: s == a,
    "notEqual": lambda s, a, b: s != a,
    "lessThan": lambda s, a, b: s < a,
    "lessThanOrEqual": lambda s, a, b: s <= a,
    "greaterThan": lambda s, a, b: s > a,
    "greaterThanOrEqual": lambda s, a, b: s >= a,
    "inRange": lambda s, a, b: (s >= a) & (s <= b),
    "blank": lambda s, a, b: s.isna(),
    "notBlank": lambda s, a, b: s.notna(),
}
_TEXT_TESTS = {
    "contains": lambda s, a: s.str.contains(a, regex=False),
    "notContains": lambda s, a: ~s.str.contains(a, regex=False),
    "equals": lambda s, a: s == a,
    "notEqual": lambda s, a: s != a,
    "startsWith": lambda s, a: s.str.startswith(a),
    "endsWith": lambda s, a: s.str.endswith(a),
    "blank": lambda s, a: s == "",
    "notBlank": lambda s, a: s != "",
}


def _condition(column: pd.Series, model: Mapping[str, Any]) -> pd.Series:
    """Boolean mask of one AG Grid filter condition (number or text filter; ``AND``/``OR`` of two)."""
    if "conditions" in model:
        masks = [_condition(column, m) for m in model["conditions"]]
        out = masks[0]
        for m in masks[1:]:
            out = (out | m) if model.get("operator") == "OR" else (out & m)
        return out
    kind = model.get("type", "equals")
    if model.get("filterType") == "number":
        test = _NUMBER_TESTS.get(kind)
        values = pd.to_numeric(column, errors="coerce")
        return (
            test(values, model.get("filter"), model.get("filterTo")).fillna(False).astype(bool)
            if test
            else pd.Series(True, index=column.index)
        )
    text = column.astype("string").fillna("").str.lower()
    ttest = _TEXT_TESTS.get(kind)
    return (
        ttest(text, str(model.get("filter", "")).lower()).fillna(False).astype(bool)
        if ttest
        else pd.Series(True, index=column.index)
    )


def rows_block(
    frame: pd.DataFrame, request: Mapping[str, Any] | None, units: Mapping[str, str]
) -> dict[str, Any]:
    """One block of rows for an infinite-row-model grid (:func:`grid` ``infinite=True``).

    ``request``: the grid's ``getRowsRequest`` (``startRow``, ``endRow``, ``sortModel``,
    ``filterModel``); the whole ``frame`` is filtered and sorted here (on the numbers, not their
    display), then rows ``startRow .. endRow-1`` are sent as :func:`frame_table` writes them, with
    ``rowCount`` the filtered total so the pager knows the last page.  Unknown columns in the
    models are ignored.
    """
    req = request or {}
    f = scaled(frame, units)  # filters are typed in the numbers the grid shows
    for col, model in (req.get("filterModel") or {}).items():
        if col in f.columns:
            f = f[_condition(f[col], model)]
    sort = [s for s in (req.get("sortModel") or []) if s.get("colId") in f.columns]
    if sort:
        f = f.sort_values(
            [s["colId"] for s in sort],
            ascending=[s.get("sort") != "desc" for s in sort],
            kind="stable",
            na_position="last",
        )
    start = max(int(req.get("startRow") or 0), 0)
    end = max(int(req.get("endRow") or start + 100), start)
    return {"rowData": _records(f.iloc[start:end], units, scale=False), "rowCount": len(f)}


def times_line(
    meta: Any,
    inputs: pd.DataFrame,
    *,
    tz: str,
    stale_after_minutes: float | None,
    line_id: str = "board-times",
) -> html.Div:
    """The header line of a page drawn from the board (board, explorer): the freshest input's
    as-of and the oldest one flagged (each with its name), when the board was computed, SAMPLE /
    STALE labels.  Every time in ``tz``.  The board's own as-of is its oldest input's (the CFTC
    week), which read alone would make today's flows look two weeks old."""
    labels: list = []
    if meta.sample:
        labels.append(
            html.Span(
                "SAMPLE DATA",
                className="fd-label fd-label-sample",
                title="Generated sample data, not market data",
            )
        )
    stale = meta.status == "stale" or (
        stale_after_minutes is not None and meta.age_seconds() > stale_after_minutes * 60
    )
    if stale:
        labels.append(
            html.Span(
                "STALE",
                className="fd-label fd-label-stale",
                title=(meta.failure or {}).get("error") or "older than its refresh interval",
            )
        )
    known = (
        inputs[inputs["as_of"].notna() & ~inputs["as_of"].isin(["None", ""])]
        if "as_of" in inputs
        else inputs.iloc[0:0]
    )
    parts: list = []
    if not known.empty:
        stamps = pd.to_datetime(known["as_of"], utc=True, format="ISO8601")
        newest, oldest = known.iloc[int(stamps.argmax())], known.iloc[int(stamps.argmin())]
        parts.append(
            html.Span(
                f"freshest input as of {format_time(newest['as_of'], tz)} ({newest['name']})",
                className="fd-asof",
            )
        )
        if oldest["name"] != newest["name"]:
            parts.append(
                html.Span(
                    [
                        " · oldest: ",
                        html.Span(
                            f"{oldest['name']} as of {format_time(oldest['as_of'], tz)}",
                            className="fd-oldest",
                            title="each input keeps its own cadence: see Inputs",
                        ),
                    ]
                )
            )
    parts.append(html.Span(f" · board computed {format_time(meta.computed_at, tz)}"))
    if np.any(inputs.get("stale", pd.Series(dtype=bool)).astype(bool)):
        parts.append(
            html.Span(
                " · some inputs are stale and left out (see Inputs)",
                className="fd-label fd-label-stale",
            )
        )
    return html.Div([*labels, *parts], className="fd-provenance", id=line_id)
