"""Figures of the CFTC page's futures markets (equity index, VIX, rates): pure DataFrame -> plotly
Figure builders on the tables of ``cftc.futures_positioning``; units on every axis.

Sign convention: net = long - short contracts, + = net long; rates DV01 + = long duration.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import (
    BUY,
    NET,
    PALETTE,
    SELL,
    date_axis,
    empty,
    money_scale,
    plain_axis,
    styled,
)

CLASS_LABELS = {
    "dealer": "dealers",
    "asset_manager": "asset managers",
    "leveraged_funds": "leveraged funds",
    "other_reportables": "other reportables",
    "nonreportables": "non-reportables",
}


def net_history(positions: pd.DataFrame, symbol: str, name: str) -> go.Figure:
    """Net contracts per trader class over the report weeks of one market."""
    f = positions[positions["symbol"] == symbol]
    if f.empty:
        return empty(f"No positions for {symbol}")
    fig = go.Figure()
    for i, (cls, label) in enumerate(CLASS_LABELS.items()):
        part = f[f["trader_class"] == cls]
        if len(part):
            fig.add_trace(
                go.Scatter(
                    x=part["as_of"],
                    y=part["net_contracts"],
                    name=label,
                    mode="lines",
                    line={
                        "color": PALETTE[i % len(PALETTE)],
                        "width": 2 if cls in ("asset_manager", "leveraged_funds") else 1,
                    },
                    hovertemplate="%{x|%Y-%m-%d}: %{y:+,.0f} contracts<extra>" + label + "</extra>",
                )
            )
    styled(
        fig,
        title=f"{name} ({symbol}): net position by trader class",
        wide=True,
        x_title="Report date (Tuesday)",
        y_title="Net position (contracts, + = long)",
    )
    return date_axis(plain_axis(fig))


def stats_panel(
    positions: pd.DataFrame, symbol: str, trader_class: str, windows: list[str]
) -> go.Figure:
    """Percentiles over each window and the 3-year COT index of one class (0-100)."""
    f = positions[(positions["symbol"] == symbol) & (positions["trader_class"] == trader_class)]
    if f.empty:
        return empty(f"No statistics for {symbol}")
    fig = go.Figure()
    for i, w in enumerate(windows):
        col = f"percentile_{w}"
        if col in f.columns:
            fig.add_trace(
                go.Scatter(
                    x=f["as_of"],
                    y=f[col],
                    name=f"percentile {w}",
                    mode="lines",
                    line={"color": PALETTE[i % len(PALETTE)]},
                )
            )
    if "cot_index_3y" in f.columns:
        fig.add_trace(
            go.Scatter(
                x=f["as_of"],
                y=f["cot_index_3y"],
                name="COT index 3y",
                mode="lines",
                line={"color": NET, "dash": "dot"},
            )
        )
    styled(
        fig,
        title=f"{symbol} {CLASS_LABELS.get(trader_class, trader_class)}: percentile and COT index",
        x_title="Report date (Tuesday)",
        y_title="Percentile / COT index (0-100)",
    )
    fig.update_yaxes(range=[0, 100])
    return date_axis(fig)


def exposure(positions: pd.DataFrame, symbol: str, trader_class: str, group: str) -> go.Figure:
    """USD notional (equity, VIX) or DV01 (rates) of one class over time."""
    f = positions[(positions["symbol"] == symbol) & (positions["trader_class"] == trader_class)]
    if f.empty:
        return empty(f"No exposure for {symbol}")
    label = CLASS_LABELS.get(trader_class, trader_class)
    if group == "rates":
        col, y_title, title, note = (
            "dv01_usd_per_bp",
            "DV01 ({unit} per basis point, + = long duration)",
            f"{symbol} {label}: DV01",
            None,
        )
    elif f["notional_usd"].notna().any():
        col, y_title, title, note = (
            "notional_usd",
            "Notional ({unit}, + = net long)",
            f"{symbol} {label}: USD notional",
            "Notional = net contracts × multiplier × the index close of the report date.",
        )
    else:
        col, y_title, title, note = (
            "usd_per_point",
            "Exposure ({unit} per index point)",
            f"{symbol} {label}: USD per point",
            "No index close for these weeks: the notional is not computed, only USD per point.",
        )
    colors = [BUY if v >= 0 else SELL for v in f[col].fillna(0.0)]
    scale = money_scale(f[col])
    fig = go.Figure(
        [
            go.Bar(
                x=f["as_of"],
                y=scale(f[col]),
                marker_color=colors,
                name=label,
                hovertemplate="%{x|%Y-%m-%d}: " + scale.hover() + "<extra></extra>",
            )
        ]
    )
    styled(
        fig,
        title=title,
        x_title="Report date (Tuesday)",
        y_title=y_title.format(unit=scale.unit()),
        note=note,
    )
    return date_axis(plain_axis(fig))


def weekly_change(positions: pd.DataFrame, symbol: str, *, weeks: int = 52) -> go.Figure:
    """Week-on-week change of the net position, asset managers and leveraged funds (contracts)."""
    f = positions[
        (positions["symbol"] == symbol)
        & positions["trader_class"].isin(["asset_manager", "leveraged_funds"])
    ]
    if f.empty:
        return empty(f"No weekly change for {symbol}")
    last = sorted(f["as_of"].unique())[-weeks:]
    f = f[f["as_of"].isin(last)]
    fig = go.Figure()
    for cls, color in (("asset_manager", BUY), ("leveraged_funds", SELL)):
        part = f[f["trader_class"] == cls]
        fig.add_trace(
            go.Bar(
                x=part["as_of"],
                y=part["net_change_contracts"],
                name=CLASS_LABELS[cls],
                marker_color=color,
            )
        )
    fig.update_layout(barmode="group")
    styled(
        fig,
        title=f"{symbol}: weekly change of the net position",
        wide=True,
        x_title="Report date (Tuesday)",
        y_title="Change (contracts per week)",
        note="No change is drawn across a missing week.",
    )
    return date_axis(plain_axis(fig))
