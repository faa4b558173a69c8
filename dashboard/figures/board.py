"""Figures of the de-risking board, the scenario explorer and the morning brief.

Pure builders: published tables in, plotly figures out.  Flows are USD of underlying traded,
+ = buying, - = selling; components are stacked and the total is marked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.common import (
    ACCENT,
    HOUSE_LAYOUT,
    NET,
    NEUTRAL,
    empty,
    styled,
    usd_axis_format,
)
from dashboard.render_cache import plain
from flows.money import format_usd
from jobs.store import Result

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
        "title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top", "yref": "container", "font": {"size": 15}},
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
            traces.append({"type": "bar", "x": x, "y": (sel[col].to_numpy(dtype=float) / 1e9).round(4).tolist(), "name": label, "marker": {"color": colour}, "hovertemplate": "%{y:+,.2f} bn USD<extra>" + label + "</extra>"})
    traces.append({"type": "scatter", "mode": "lines+markers", "x": x, "y": (sel["total_usd"].to_numpy(dtype=float) / 1e9).round(4).tolist(), "name": "Total", "line": {"color": NET, "width": 2}, "marker": {"size": 6}, "hovertemplate": "%{y:+,.2f} bn USD<extra>Total</extra>"})
    view = "core" if span_pct is not None else "all"
    layout = _house_layout(title=f"Mechanical flow by {index} move (IV shock {iv_shock_pts:+g} vol pts)", x_title=f"{index} move (%)", y_title="Flow (USD bn, + = buy)", height=height, uirevision=f"board-{index}-{view}")
    layout["barmode"] = "relative"
    layout["xaxis"]["ticksuffix"] = "%"
    layout["yaxis"]["tickformat"] = ",.1f"
    shapes: list[dict] = [{"type": "rect", "xref": "x", "yref": "paper", "x0": -mark_pct, "x1": mark_pct, "y0": 0, "y1": 1, "fillcolor": "#eef2f8", "line": {"width": 0}, "layer": "below"}]
    notes: list[dict] = [{"text": f"±{mark_pct:g}%", "xref": "x", "yref": "paper", "x": -mark_pct, "y": 0.0, "xanchor": "left", "yanchor": "bottom", "showarrow": False, "font": {"size": 11, "color": NEUTRAL}}]
    if today_move_pct is not None and np.isfinite(today_move_pct):
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": today_move_pct, "x1": today_move_pct, "y0": 0, "y1": 1, "line": {"color": ACCENT, "dash": "dash", "width": 2}})
        notes.append({"text": f"today {today_move_pct:+.2f}%", "xref": "x", "yref": "paper", "x": today_move_pct, "y": 1.0, "xanchor": "left", "yanchor": "top", "showarrow": False, "font": {"size": 11, "color": ACCENT}, "bgcolor": "rgba(255,255,255,0.8)"})
    if flip_move_pct is not None and np.isfinite(flip_move_pct) and (span_pct is None or abs(flip_move_pct) <= span_pct):
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": flip_move_pct, "x1": flip_move_pct, "y0": 0, "y1": 1, "line": {"color": NEUTRAL, "dash": "dot", "width": 1.5}})
        notes.append({"text": "gamma flip", "xref": "x", "yref": "paper", "x": flip_move_pct, "y": 0.92, "xanchor": "right", "yanchor": "top", "showarrow": False, "font": {"size": 11, "color": NEUTRAL}, "bgcolor": "rgba(255,255,255,0.8)"})
    layout["shapes"] = shapes
    layout["annotations"] = notes
    return {"data": traces, "layout": layout}


def flows_by_underlying(rows: pd.DataFrame, *, title: str, height: int = 430) -> go.Figure:
    """Stacked components per underlying for one scenario (rows of the board grid)."""
    if rows.empty:
        return empty("No underlying selected")
    rows = rows.assign(_abs=rows["total_usd"].abs()).sort_values("_abs", ascending=False)
    fig = go.Figure()
    for col, (label, colour) in COMPONENT_STYLE.items():
        if rows[col].abs().sum() > 0:
            fig.add_bar(x=rows["underlying"], y=rows[col], name=label, marker_color=colour, hovertemplate="%{y:$.3s}<extra>" + label + "</extra>")
    fig.add_scatter(x=rows["underlying"], y=rows["total_usd"], name="Total", mode="markers", marker={"color": NET, "symbol": "diamond", "size": 10}, hovertemplate="%{y:$.3s}<extra>Total</extra>")
    fig.update_layout(barmode="relative")
    styled(fig, title=title, x_title="Underlying", y_title="Flow (USD, + = buy)", note=NOTE, height=height)
    return usd_axis_format(fig)


def pct_adv_by_underlying(rows: pd.DataFrame, *, title: str, height: int = 330) -> go.Figure:
    """Total flow as % of each underlying's average daily dollar volume."""
    sel = rows[rows["total_pct_adv"].notna()].sort_values("total_pct_adv")
    if sel.empty:
        return empty("No ADV known for the selected underlyings")
    colours = np.where(sel["total_pct_adv"] < 0, "#d62728", "#1f77b4")
    fig = go.Figure(go.Bar(x=sel["underlying"], y=sel["total_pct_adv"], marker_color=colours, hovertemplate="%{y:.2f}% of ADV<extra></extra>"))
    return styled(fig, title=title, x_title="Underlying", y_title="Flow (% of ADV)", height=height)


def brief_figure(gamma: pd.DataFrame, letf_top: pd.DataFrame, flows: pd.DataFrame, fx: pd.DataFrame, changes: pd.DataFrame, *, title: str, subtitle: str) -> go.Figure:
    """The one-page morning brief as a single figure (exported to PDF/PNG)."""
    fig = make_subplots(
        rows=3,
        cols=2,
        specs=[[{"type": "table", "colspan": 2}, None], [{"type": "table"}, {"type": "table"}], [{"type": "table"}, {"type": "table"}]],
        subplot_titles=("Dealer gamma (USD per 1% move)", "Leveraged ETFs: USD per 1% move", "Mechanical flow by index move (USD)", "FX positioning unwind beneficiaries (USD)", "Biggest changes since the previous brief"),
        vertical_spacing=0.08,
        row_heights=[0.22, 0.42, 0.36],
    )

    def bn(values: Sequence[float]) -> list[str]:
        return [format_usd(v, scale="bn", style="bare") for v in values]

    def num(values: Sequence[float], fmt: str) -> list[str]:
        return ["n/a" if v is None or not np.isfinite(v) else format(v, fmt) for v in values]

    header = {"fill": {"color": "#1f2a36"}, "font": {"color": "white", "size": 12}, "align": "left"}
    cells = {"align": "left", "font": {"size": 12}, "height": 24}
    fig.add_trace(
        go.Table(
            header={**header, "values": ["Underlying", "Spot", "Regime", "Net GEX (USD per 1%)", "Flip", "Flip distance (%)"]},
            cells={**cells, "values": [gamma["underlying"], num(gamma["spot"], ",.2f"), gamma["regime"], bn(gamma["net_gex_usd_per_1pct"]), num(gamma["flip"], ",.1f"), num(gamma["flip_distance_pct"], "+.2f")]},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(go.Table(header={**header, "values": ["Underlying", "USD per 1% move"]}, cells={**cells, "values": [letf_top["underlying"], bn(letf_top["per_1pct_usd"])]}), row=2, col=1)
    if not flows.empty:
        fig.add_trace(go.Table(header={**header, "values": ["Index move (%)", "Dealers", "Leveraged ETFs", "Total"]}, cells={**cells, "values": [num(flows["index_move_pct"], "+.0f"), bn(flows["dealer_gamma_usd"] + flows["dealer_vanna_usd"] + flows["dealer_charm_usd"]), bn(flows["letf_usd"]), bn(flows["total_usd"])]}), row=2, col=2)
    else:
        fig.add_trace(go.Table(header={**header, "values": ["Mechanical flow"]}, cells={**cells, "values": [["board not available"]]}), row=2, col=2)
    fx_rows = fx[fx["benefits"].astype(bool)] if "benefits" in fx else fx.iloc[0:0]
    fig.add_trace(go.Table(header={**header, "values": ["Currency", "Spec position (USD)", "Bought in unwind (USD)"]}, cells={**cells, "values": [fx_rows.get("ccy", []), bn(fx_rows.get("usd", pd.Series(dtype=float))), bn(fx_rows.get("currency_flow_usd", pd.Series(dtype=float)))]}), row=3, col=1)
    ch = changes.head(6)
    fig.add_trace(go.Table(header={**header, "values": ["Figure", "Previous", "Current"]}, cells={**cells, "values": [ch["figure"], num(ch["previous"], ",.4g"), num(ch["current"], ",.4g")]}), row=3, col=2)
    fig.update_layout(
        title={"text": f"{title}<br><sup>{subtitle}</sup>", "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        width=1100,
        height=1000,
        margin={"l": 30, "r": 30, "t": 110, "b": 30},
    )
    return fig


def brief_image(res: Result, fmt: str) -> bytes:
    """The brief rendered as one page, ``fmt`` = ``pdf`` or ``png`` (kaleido, headless Chromium)."""
    head = res.meta.headline
    title = f"flowdesk morning brief {head.get('date', '')}" + (" · SAMPLE DATA" if res.meta.sample else "")
    subtitle = f"as of {res.meta.as_of} · source: {res.meta.source}"
    fig = brief_figure(res.table("gamma"), res.table("letf"), res.table("flows"), res.table("fx"), res.table("changes"), title=title, subtitle=subtitle)
    return fig.to_image(format=fmt)
