"""Figures of the de-risking board, the scenario explorer and the morning brief.

Pure builders: published tables in, plotly figures out.  Flows are USD of underlying traded,
+ = buying, - = selling; components are stacked and the total is marked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.figures.common import (
    ACCENT,
    BUY,
    HOUSE_LAYOUT,
    NET,
    NEUTRAL,
    PALETTE,
    SELL,
    empty,
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


def _house_layout(*, title: str, x_title: str, y_title: str, height: int, uirevision: str) -> dict:
    """The house look (:data:`dashboard.figures.common._HOUSE`) as a plain layout dict: the title
    at the top left, the legend in its own row under it (never over the title or the plot)."""
    return {
        **HOUSE_LAYOUT,
        "title": {
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "y": 0.98,
            "yanchor": "top",
            "yref": "container",
            "font": {"size": 15},
        },
        "xaxis": {**HOUSE_LAYOUT["xaxis"], "title": {"text": x_title}},
        "yaxis": {**HOUSE_LAYOUT["yaxis"], "title": {"text": y_title}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0.0},
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 80, "b": 50},
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
        title=f"Mechanical flow by {index} move (IV shock {iv_shock_pts:+g} vol pts)",
        x_title=f"{index} move (%)",
        y_title="Flow (USD bn, + = buy)",
        height=height,
        uirevision=f"board-{index}-{view}",
    )
    layout["barmode"] = "relative"
    layout["xaxis"]["ticksuffix"] = "%"
    layout["yaxis"]["tickformat"] = ",.1f"
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
                "text": f"today {today_move_pct:+.2f}%",
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
    )
    layout["barmode"] = "relative"
    layout["yaxis"]["tickformat"] = ",.1f"
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
    )
    layout["showlegend"] = False
    return {"data": traces, "layout": layout}


HISTORY_PANELS = (
    ("net_gex", "Net GEX (USD bn per 1% move)", 1e9),
    ("flip_distance", "Gamma flip distance (% of spot)", 1.0),
    ("letf", "Leveraged ETFs (USD bn per 1% move)", 1e9),
    ("net_usd", "Net USD position (USD bn, + = long USD)", 1e9),
)
"""The end-of-day history panels: key, title with unit, divisor."""


def eod_history(
    series: dict[str, list[tuple[str, pd.DataFrame, str]]], *, height: int = 520
) -> dict:
    """End-of-day closes over months, one panel per :data:`HISTORY_PANELS` key; ``series``: panel
    key -> ``[(label, frame with date, column)]``.  A plain figure dict (2 x 2 panels, each with
    its own axes; dates on the x axes, one point per exchange day)."""
    traces: list[dict] = []
    layout = {
        **HOUSE_LAYOUT,
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 60, "b": 40},
        "hovermode": "x unified",
        "uirevision": "board-history",
        "showlegend": True,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.06, "xanchor": "left", "x": 0.0},
        "annotations": [],
    }
    domains = (
        ((0.0, 0.46), (0.58, 1.0)),
        ((0.54, 1.0), (0.58, 1.0)),
        ((0.0, 0.46), (0.0, 0.42)),
        ((0.54, 1.0), (0.0, 0.42)),
    )
    colour = 0
    for i, ((key, title, div), (xd, yd)) in enumerate(zip(HISTORY_PANELS, domains, strict=True)):
        ax = "" if i == 0 else str(i + 1)
        layout[f"xaxis{ax}"] = {
            **HOUSE_LAYOUT["xaxis"],
            "domain": list(xd),
            "anchor": f"y{ax}",
            "type": "date",
            "tickformat": "%Y-%m-%d",
            "nticks": 6,
        }
        layout[f"yaxis{ax}"] = {
            **HOUSE_LAYOUT["yaxis"],
            "domain": list(yd),
            "anchor": f"x{ax}",
            "tickformat": ",.1f",
        }
        layout["annotations"].append(
            {
                "text": title,
                "xref": "paper",
                "yref": "paper",
                "x": xd[0],
                "y": yd[1],
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
        for label, frame, col in series.get(key, []):
            if frame.empty or col not in frame:
                continue
            y = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float) / div
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
                }
            )
            colour += 1
    if not traces:
        return plain(
            empty(
                "No end-of-day closes yet: one is kept per exchange day from the first publish on"
            )
        )
    return {"data": traces, "layout": layout}
