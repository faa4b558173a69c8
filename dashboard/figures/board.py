"""Figures of the de-risking board, the scenario explorer and the morning brief.

Pure builders: published tables in, plotly figures out.  Flows are USD of underlying traded,
+ = buying, - = selling; components are stacked and the total is marked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import display
from dashboard.figures.common import (
    ACCENT,
    BUY,
    DATE_TICKS,
    HOUSE_LAYOUT,
    LEGEND,
    LEGEND_ROW_PX,
    LEGEND_WIDTH_PX,
    MODEBAR,
    NET,
    NEUTRAL,
    PALETTE,
    PLAIN_TICKS,
    SELL,
    TITLE_BAND_PX,
    WIDE_PX,
    empty,
    legend_names,
    legend_rows,
    title_layout,
    top_margin,
)
from dashboard.render_cache import plain

COMPONENT_STYLE = {
    "dealer_gamma_usd": ("Dealer hedging (price)", "#1f77b4"),
    "dealer_vanna_usd": ("Dealer vanna (IV shock)", "#9467bd"),
    "dealer_charm_usd": ("Dealer charm (to the close)", "#17becf"),
    "letf_usd": ("Leveraged ETFs", "#ff7f0e"),
}
NOTE = "Dealer convention: dealers long calls, short puts (public GEX convention) unless configured. + = buying, - = selling."


CORE_SPAN_PCT = 5.0
"""The board's default x range: index moves within +-5 % (the tails behind the toggle)."""
MARK_PCT = 3.0
"""The moves marked on the board (+-3 %, the headline's flag move)."""


def _house_layout(
    *,
    title: str,
    x_title: str,
    y_title: str,
    height: int,
    uirevision: str,
    traces: list[dict],
    wide: bool = False,
) -> dict:
    """The house look (:func:`dashboard.figures.common.styled`) as a plain layout dict: the title
    band (title left, mode bar right), the legend in its own rows under it (the top margin
    reserved from the trace names; ``wide``: the chart spans the page), then the plot; money
    ticks as plain numbers."""
    names = legend_names(traces)
    return {
        **HOUSE_LAYOUT,
        "title": title_layout(title),
        "xaxis": {**HOUSE_LAYOUT["xaxis"], "title": {"text": x_title}},
        "yaxis": {**HOUSE_LAYOUT["yaxis"], **PLAIN_TICKS, "title": {"text": y_title}},
        "legend": LEGEND,
        "modebar": MODEBAR,
        "height": height,
        "margin": {
            "l": 70,
            "r": 20,
            "t": top_margin(names, WIDE_PX if wide else LEGEND_WIDTH_PX),
            "b": 50,
        },
        "hovermode": "x unified",
        "uirevision": uirevision,
    }


def flows_by_move(
    totals: pd.DataFrame,
    *,
    index: str,
    iv_shock_pts: float,
    today_move_pct: float | None = None,
    span_pct: float | None = CORE_SPAN_PCT,
    mark_pct: float = MARK_PCT,
    flip_move_pct: float | None = None,
    height: int = 430,
) -> dict:
    """Stacked bars of each component by index move (USD bn, + = buy), the total as a marked line.

    A plain figure dict (no Plotly validation: issue 17 section 3).  ``span_pct``: only moves
    within +-span (None: every move of the grid, the tails).  Marked: the band of +-``mark_pct``,
    today's move so far (dashed) and, when given, the index move that reaches the gamma flip
    (dotted).  ``uirevision`` keeps the user's zoom across refreshes of the same view.
    """
    sel = totals[np.isclose(totals["iv_shock_pts"], iv_shock_pts)].sort_values("index_move_pct")
    if span_pct is not None:
        sel = sel[sel["index_move_pct"].abs() <= span_pct + 1e-9]
    if sel.empty:
        return plain(empty(f"No scenario with an IV shock of {iv_shock_pts:g} vol points"))
    x = sel["index_move_pct"].to_numpy(dtype=float).tolist()
    traces: list[dict] = []
    for col, (label, colour) in COMPONENT_STYLE.items():
        if col in sel and sel[col].abs().sum() > 0:
            traces.append(
                {
                    "type": "bar",
                    "x": x,
                    "y": (sel[col].to_numpy(dtype=float) / 1e9).round(4).tolist(),
                    "name": label,
                    "marker": {"color": colour},
                    "hovertemplate": "%{y:+,.2f} bn USD<extra>" + label + "</extra>",
                }
            )
    traces.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": (sel["total_usd"].to_numpy(dtype=float) / 1e9).round(4).tolist(),
            "name": "Total",
            "line": {"color": NET, "width": 2},
            "marker": {"size": 6},
            "hovertemplate": "%{y:+,.2f} bn USD<extra>Total</extra>",
        }
    )
    view = "core" if span_pct is not None else "all"
    layout = _house_layout(
        title=f"Mechanical flow by {index} move (IV shock {display.signed(iv_shock_pts)} vol pts)",
        x_title=f"{index} move (%)",
        y_title="Flow (USD bn, + = buy)",
        height=height,
        uirevision=f"board-{index}-{view}",
        traces=traces,
        wide=True,
    )
    layout["barmode"] = "relative"
    layout["xaxis"]["ticksuffix"] = "%"
    shapes: list[dict] = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": -mark_pct,
            "x1": mark_pct,
            "y0": 0,
            "y1": 1,
            "fillcolor": "#eef2f8",
            "line": {"width": 0},
            "layer": "below",
        }
    ]
    notes: list[dict] = [
        {
            "text": f"±{mark_pct:g}%",
            "xref": "x",
            "yref": "paper",
            "x": -mark_pct,
            "y": 0.0,
            "xanchor": "left",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 11, "color": NEUTRAL},
        }
    ]
    if today_move_pct is not None and np.isfinite(today_move_pct):
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": today_move_pct,
                "x1": today_move_pct,
                "y0": 0,
                "y1": 1,
                "line": {"color": ACCENT, "dash": "dash", "width": 2},
            }
        )
        notes.append(
            {
                "text": f"today {display.signed(today_move_pct, '+.2f')}%",
                "xref": "x",
                "yref": "paper",
                "x": today_move_pct,
                "y": 1.0,
                "xanchor": "left",
                "yanchor": "top",
                "showarrow": False,
                "font": {"size": 11, "color": ACCENT},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )
    if (
        flip_move_pct is not None
        and np.isfinite(flip_move_pct)
        and (span_pct is None or abs(flip_move_pct) <= span_pct)
    ):
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": flip_move_pct,
                "x1": flip_move_pct,
                "y0": 0,
                "y1": 1,
                "line": {"color": NEUTRAL, "dash": "dot", "width": 1.5},
            }
        )
        notes.append(
            {
                "text": "gamma flip",
                "xref": "x",
                "yref": "paper",
                "x": flip_move_pct,
                "y": 0.92,
                "xanchor": "right",
                "yanchor": "top",
                "showarrow": False,
                "font": {"size": 11, "color": NEUTRAL},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )
    layout["shapes"] = shapes
    layout["annotations"] = notes
    return {"data": traces, "layout": layout}


def flows_by_underlying(rows: pd.DataFrame, *, title: str, height: int = 430) -> dict:
    """Stacked components per underlying for one scenario (rows of the board grid), USD bn; a
    plain figure dict."""
    if rows.empty:
        return plain(empty("No underlying selected"))
    rows = rows.assign(_abs=rows["total_usd"].abs()).sort_values("_abs", ascending=False)
    x = rows["underlying"].astype(str).tolist()
    traces: list[dict] = []
    for col, (label, colour) in COMPONENT_STYLE.items():
        if rows[col].abs().sum() > 0:
            traces.append(
                {
                    "type": "bar",
                    "x": x,
                    "y": (rows[col].to_numpy(dtype=float) / 1e9).round(4).tolist(),
                    "name": label,
                    "marker": {"color": colour},
                    "hovertemplate": "%{y:+,.2f} bn USD<extra>" + label + "</extra>",
                }
            )
    traces.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": x,
            "y": (rows["total_usd"].to_numpy(dtype=float) / 1e9).round(4).tolist(),
            "name": "Total",
            "marker": {"color": NET, "symbol": "diamond", "size": 10},
            "hovertemplate": "%{y:+,.2f} bn USD<extra>Total</extra>",
        }
    )
    layout = _house_layout(
        title=title,
        x_title="Underlying",
        y_title="Flow (USD bn, + = buy)",
        height=height,
        uirevision="explorer-flows",
        traces=traces,
    )
    layout["barmode"] = "relative"
    return {"data": traces, "layout": layout}


def pct_adv_by_underlying(rows: pd.DataFrame, *, title: str, height: int = 330) -> dict:
    """Total flow as % of each underlying's average daily dollar volume; underlyings without an
    ADV are named under the chart (never dropped silently).  A plain figure dict."""
    sel = rows[rows["total_pct_adv"].notna()].sort_values("total_pct_adv")
    no_adv = sorted(rows.loc[rows["total_pct_adv"].isna(), "underlying"].astype(str))
    if sel.empty:
        return plain(
            empty(
                "No ADV known for the selected underlyings"
                + (f" ({', '.join(no_adv)})" if no_adv else "")
            )
        )
    pct = sel["total_pct_adv"].to_numpy(dtype=float)
    traces = [
        {
            "type": "bar",
            "x": sel["underlying"].astype(str).tolist(),
            "y": pct.round(4).tolist(),
            "marker": {"color": np.where(pct < 0, SELL, BUY).tolist()},
            "hovertemplate": "%{y:.2f}% of ADV<extra></extra>",
            "name": "% of ADV",
        }
    ]
    layout = _house_layout(
        title=title,
        x_title="Underlying" + (f" (no ADV: {', '.join(no_adv)})" if no_adv else ""),
        y_title="Flow (% of ADV)",
        height=height,
        uirevision="explorer-adv",
        traces=traces,
    )
    layout["showlegend"] = False
    return {"data": traces, "layout": layout}


CLOSE_AXIS = "Exchange day (close)"
HISTORY_PANELS = (
    ("net_gex", "Net GEX per 1% move", "USD bn per 1%", CLOSE_AXIS, 1e9),
    ("flip_distance", "Gamma flip distance from spot", "% of spot", CLOSE_AXIS, 1.0),
    ("letf", "Leveraged ETFs: rebalance per 1% move", "USD bn per 1%", CLOSE_AXIS, 1e9),
    ("net_usd", "CFTC net USD position (+ = long USD)", "USD bn", "CFTC report date (as of)", 1e9),
)
"""The end-of-day history panels: key, panel title, y-axis unit, x-axis title, divisor."""

HISTORY_MIN_SPAN = pd.Timedelta(days=7)
"""The narrowest date range of a history panel: a few closes are drawn on a week with one tick per
day, never on hours labelled with the same date."""


def _date_range(dates: list[pd.Series]) -> list[str] | None:
    """A range of at least :data:`HISTORY_MIN_SPAN` around ``dates`` ending a day after the last
    (None: wide enough for Plotly's own)."""
    t = pd.concat(dates).dropna() if dates else pd.Series(dtype="datetime64[ns]")
    if t.empty or t.max() - t.min() >= HISTORY_MIN_SPAN:
        return None
    end = t.max() + pd.Timedelta(days=1)
    return [(end - HISTORY_MIN_SPAN).strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")]


def eod_history(
    series: dict[str, list[tuple[str, pd.DataFrame, str]]], *, height: int = 600
) -> dict:
    """End-of-day closes over months, one panel per :data:`HISTORY_PANELS` key; ``series``: panel
    key -> ``[(label, frame with date, column)]``.  A plain figure dict (2 x 2 panels, each with
    its title, its axis titles and units; dates on the x axes, one point per exchange day).

    Top to bottom: the title band (title left, mode bar right), the legend's rows (the whole
    width), the panels."""
    traces: list[dict] = []
    domains = (
        ((0.0, 0.44), (0.6, 1.0)),
        ((0.56, 1.0), (0.6, 1.0)),
        ((0.0, 0.44), (0.0, 0.4)),
        ((0.56, 1.0), (0.0, 0.4)),
    )
    axes: dict[str, dict] = {}
    annotations: list[dict] = []
    colour = 0
    for i, ((key, title, unit, x_title, div), (xd, yd)) in enumerate(
        zip(HISTORY_PANELS, domains, strict=True)
    ):
        ax = "" if i == 0 else str(i + 1)
        dates = []
        for label, frame, col in series.get(key, []):
            if frame.empty or col not in frame:
                continue
            y = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float) / div
            dates.append(frame["date"])
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": frame["date"].dt.strftime("%Y-%m-%d").tolist(),
                    "y": [None if not np.isfinite(v) else round(float(v), 4) for v in y],
                    "name": label,
                    "xaxis": f"x{ax}",
                    "yaxis": f"y{ax}",
                    "marker": {"size": 5, "color": PALETTE[colour % len(PALETTE)]},
                    "line": {"color": PALETTE[colour % len(PALETTE)]},
                    "hovertemplate": "%{y:,.2f} " + unit + "<extra>" + label + "</extra>",
                }
            )
            colour += 1
        x_range = _date_range(dates)
        axes[f"xaxis{ax}"] = {
            **HOUSE_LAYOUT["xaxis"],
            "domain": list(xd),
            "anchor": f"y{ax}",
            "type": "date",
            "tickformatstops": DATE_TICKS,
            "nticks": 6,
            "title": {"text": x_title, "standoff": 4},
            **({"range": x_range} if x_range else {}),
        }
        axes[f"yaxis{ax}"] = {
            **HOUSE_LAYOUT["yaxis"],
            **PLAIN_TICKS,
            "domain": list(yd),
            "anchor": f"x{ax}",
            "title": {"text": unit},
        }
        annotations.append(
            {
                "text": title,
                "xref": "paper",
                "yref": "paper",
                "x": xd[0],
                "y": yd[1],
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": 4,
                "showarrow": False,
                "font": {"size": 13},
            }
        )
    if not traces:
        return plain(
            empty(
                "No end-of-day closes yet: one is kept per exchange day from the first publish on"
            )
        )
    rows = legend_rows(legend_names(traces), WIDE_PX)
    legend_px = rows * LEGEND_ROW_PX + 6
    layout = {
        **HOUSE_LAYOUT,
        **axes,
        "height": height + legend_px,
        # the mode bar's band, the legend, then a row for the upper panels' titles
        "margin": {"l": 70, "r": 20, "t": TITLE_BAND_PX + legend_px + 24, "b": 50},
        "hovermode": "x unified",
        "uirevision": "board-history",
        "title": title_layout("End-of-day closes of the board's inputs"),
        "showlegend": True,
        "legend": {
            **LEGEND,
            "yref": "container",
            "y": 1.0 - TITLE_BAND_PX / (height + legend_px),
            "yanchor": "top",
        },
        "modebar": MODEBAR,
        "annotations": annotations,
    }
    return {"data": traces, "layout": layout}
