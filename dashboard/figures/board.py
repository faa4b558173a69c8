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

from dashboard.figures.common import ACCENT, NET, empty, styled, usd_axis_format
from flows.money import format_usd
from jobs.store import Result

COMPONENT_STYLE = {
    "dealer_gamma_usd": ("Dealer hedging (price)", "#1f77b4"),
    "dealer_vanna_usd": ("Dealer vanna (IV shock)", "#9467bd"),
    "dealer_charm_usd": ("Dealer charm (to the close)", "#17becf"),
    "letf_usd": ("Leveraged ETFs", "#ff7f0e"),
}
NOTE = "Dealer convention: dealers long calls, short puts (public GEX convention) unless configured. + = buying, - = selling."


def flows_by_move(totals: pd.DataFrame, *, index: str, iv_shock_pts: float, today_move_pct: float | None = None, height: int = 430) -> go.Figure:
    """Stacked bars of each component by index move, the total as a marked line, today's move as a vertical line."""
    sel = totals[np.isclose(totals["iv_shock_pts"], iv_shock_pts)].sort_values("index_move_pct")
    if sel.empty:
        return empty(f"No scenario with an IV shock of {iv_shock_pts:g} vol points")
    fig = go.Figure()
    for col, (label, colour) in COMPONENT_STYLE.items():
        if col in sel and sel[col].abs().sum() > 0:
            fig.add_bar(x=sel["index_move_pct"], y=sel[col], name=label, marker_color=colour, hovertemplate="%{y:$.3s}<extra>" + label + "</extra>")
    fig.add_scatter(x=sel["index_move_pct"], y=sel["total_usd"], name="Total", mode="lines+markers", line={"color": NET, "width": 2}, marker={"size": 6}, hovertemplate="%{y:$.3s}<extra>Total</extra>")
    fig.update_layout(barmode="relative")
    if today_move_pct is not None and np.isfinite(today_move_pct):
        fig.add_vline(x=today_move_pct, line_dash="dash", line_color=ACCENT, annotation_text=f"today {today_move_pct:+.2f}%", annotation_position="top")
    styled(fig, title=f"Mechanical flow by {index} move (IV shock {iv_shock_pts:+g} vol pts)", x_title=f"{index} move (%)", y_title="Flow (USD, + = buy)", note=NOTE, height=height)
    return usd_axis_format(fig)


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
