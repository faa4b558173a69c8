"""Figures of the Single names page: pure frame-to-figure builders (units on every axis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import (
    BUY,
    PLAIN_TICKS,
    SELL,
    empty,
    money_scale,
    plain_axis,
    styled,
)

GEX_AXIS = "dealer net GEX (USD per 1% move)"


def sector_regime_heatmap(sectors: pd.DataFrame) -> go.Figure:
    """Net GEX (USD per 1 % move) per sector (rows) and gamma regime (columns); the cell text
    gives the number of names."""
    if sectors is None or sectors.empty:
        return empty("No sector table in this result")
    z = sectors.pivot_table(
        index="sector", columns="regime", values="net_gex_usd_per_1pct", aggfunc="sum"
    )
    # long and short always shown; a neutral column (net GEX exactly 0) only when a name has it
    neutral = ["neutral gamma"] if "neutral gamma" in z.columns else []
    z = z.reindex(columns=["long gamma", "short gamma", *neutral])
    n = sectors.pivot_table(
        index="sector", columns="regime", values="names", aggfunc="sum"
    ).reindex(index=z.index, columns=z.columns)
    z = z.loc[z.abs().sum(axis=1).sort_values().index]
    n = n.loc[z.index]
    count = n.fillna(0).astype(int)
    text = np.where(n.notna(), count.astype(str) + np.where(count == 1, " name", " names"), "")
    lim = float(np.nanmax(np.abs(z.to_numpy()))) if np.isfinite(z.to_numpy()).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy() / 1e9,
            x=list(z.columns),
            y=list(z.index),
            text=text,
            texttemplate="%{text}",
            colorscale=[[0, SELL], [0.5, "#f7f7f7"], [1, BUY]],
            zmin=-lim / 1e9,
            zmax=lim / 1e9,
            colorbar={"title": {"text": "USD bn per 1%"}, **PLAIN_TICKS},
            hovertemplate="%{y} · %{x}<br>net GEX %{z:,.2f} bn USD per 1%<br>%{text}<extra></extra>",
        )
    )
    return styled(
        fig,
        title="Net dealer GEX by sector and gamma regime",
        x_title="Dealer gamma regime of the names",
        y_title="Sector",
        height=460,
    )


def basket_bars(baskets: pd.DataFrame) -> go.Figure:
    """Net GEX per basket (USD per 1 % move) and the dealers' hedge trade for -3 % / +3 % on
    every member (USD, + = dealers buy)."""
    if baskets is None or baskets.empty:
        return empty("No baskets configured ([universe.baskets])")
    cols = ("net_gex_usd_per_1pct", "hedge_flow_down3_usd", "hedge_flow_up3_usd")
    scale = money_scale(*(baskets[c] for c in cols))
    hover = "%{x}: " + scale.hover() + "<extra>%{fullData.name}</extra>"
    fig = go.Figure()
    for col, name, colour in zip(
        cols,
        ("net GEX per 1% move", "dealers' hedge trade, −3%", "dealers' hedge trade, +3%"),
        ("#222222", BUY, SELL),
        strict=True,
    ):
        fig.add_bar(
            x=baskets["basket"],
            y=scale(baskets[col]),
            name=name,
            marker_color=colour,
            hovertemplate=hover,
        )
    fig.update_layout(barmode="group")
    styled(
        fig,
        title="Baskets: dealer gamma and hedge trades",
        x_title="Basket",
        y_title=f"{scale.unit()} (+ = dealers long gamma / buy)",
        note="Net GEX: USD of stock dealers trade per 1% move. Hedge trades re-price every option "
        "of every member for the move; + = dealers buy.",
        height=380,
    )
    return plain_axis(fig)
