"""Figures of the leveraged-ETF page: pure DataFrame -> plotly Figure builders, units on every axis.

Inputs are the tables of the ``letf.flows`` result (see :mod:`jobs.tasks.letf`).  Sign
convention: + = the funds buy the underlying, - = they sell; long and inverse funds trade the
same way, so their bars stack rather than offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.common import (
    ACCENT,
    BUY,
    NET,
    PALETTE,
    SELL,
    empty,
    finite,
    styled,
    usd_axis_format,
)
from flows import money

SIGN_NOTE = "+ = funds buy the underlying into the close, − = sell; long and inverse funds trade the same way."


def format_usd(x: Any, signed: bool = False) -> str:
    """:func:`flows.money.format_usd`, unsigned unless asked (AUM and per-1% amounts)."""
    return money.format_usd(x, signed=signed, space=False, minus="\u2212")


def per_1pct_bars(by_underlying: pd.DataFrame, *, top: int = 20) -> go.Figure:
    """USD per +1% move by underlying, long vs inverse funds stacked (top ``top`` by total)."""
    if by_underlying.empty:
        return empty("No equity funds in the result")
    f = by_underlying.sort_values("per_1pct_usd", ascending=False).head(top)
    fig = go.Figure(
        [
            go.Bar(
                name="long funds (L > 0)",
                x=f["underlying"],
                y=f["long_per_1pct_usd"],
                marker_color=BUY,
                hovertemplate="%{x}: %{y:$,.3s} per 1%<extra>long</extra>",
            ),
            go.Bar(
                name="inverse funds (L < 0)",
                x=f["underlying"],
                y=f["inverse_per_1pct_usd"],
                marker_color=ACCENT,
                hovertemplate="%{x}: %{y:$,.3s} per 1%<extra>inverse</extra>",
            ),
        ]
    )
    fig.update_layout(barmode="stack")
    styled(
        fig,
        title=f"Rebalance per 1% move, top {len(f)} underlyings",
        x_title="Underlying (hedge ticker)",
        y_title="USD per +1% move (buy; sell for −1%)",
        note=SIGN_NOTE,
    )
    return usd_axis_format(fig)


def implied_trade(by_underlying: pd.DataFrame, *, top: int = 20) -> go.Figure:
    """Today's implied trade (move so far) by underlying, bars in USD, and % of ADV as markers."""
    f = (
        by_underlying[by_underlying["rebalance_usd"].notna()]
        if "rebalance_usd" in by_underlying
        else by_underlying.iloc[0:0]
    )
    if f.empty:
        return empty("No move so far for any underlying (no prices yet)")
    f = f.reindex(f["rebalance_usd"].abs().sort_values(ascending=False).index).head(top)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    colors = np.where(f["rebalance_usd"] >= 0, BUY, SELL)
    custom = np.stack([f["move_pct"].to_numpy(dtype=float)], axis=-1)
    fig.add_trace(
        go.Bar(
            name="trade (USD)",
            x=f["underlying"],
            y=f["rebalance_usd"],
            marker_color=colors,
            customdata=custom,
            hovertemplate="%{x}: %{y:$,.3s} (move %{customdata[0]:+.2f}%)<extra></extra>",
        ),
        secondary_y=False,
    )
    if "rebalance_pct_adv" in f and f["rebalance_pct_adv"].notna().any():
        fig.add_trace(
            go.Scatter(
                name="% of ADV",
                x=f["underlying"],
                y=f["rebalance_pct_adv"],
                mode="markers",
                marker={"color": NET, "size": 9, "symbol": "diamond"},
                hovertemplate="%{x}: %{y:.2f}% of ADV<extra></extra>",
            ),
            secondary_y=True,
        )
    styled(
        fig,
        title="Today's implied trade into the close (move so far)",
        x_title="Underlying (hedge ticker)",
        y_title="USD (+ buy / − sell)",
        note=SIGN_NOTE,
    )
    fig.update_yaxes(
        title_text="Share of average daily dollar volume (%)",
        secondary_y=True,
        rangemode="tozero",
        showgrid=False,
    )
    fig.update_yaxes(tickprefix="$", tickformat="~s", secondary_y=False)
    return fig


def scenario_curve(scenarios: pd.DataFrame, *, underlyings: list[str] | None = None) -> go.Figure:
    """Trade vs uniform move of the underlying (scenario grid), one line per underlying + TOTAL."""
    if scenarios.empty:
        return empty("No scenario grid in the result")
    names = underlyings or ["TOTAL"]
    fig = go.Figure()
    for i, name in enumerate(names):
        s = scenarios[scenarios["underlying"] == name].sort_values("move_pct")
        if s.empty:
            continue
        fig.add_trace(
            go.Scatter(
                name="all underlyings together" if name == "TOTAL" else name,
                x=s["move_pct"],
                y=s["rebalance_usd"],
                mode="lines+markers",
                line={
                    "color": NET if name == "TOTAL" else PALETTE[i % len(PALETTE)],
                    "width": 3 if name == "TOTAL" else 2,
                },
                hovertemplate="%{x:+.1f}%: %{y:$,.3s}<extra>" + name + "</extra>",
            )
        )
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    styled(
        fig,
        title="Scenario grid",
        x_title="Move of the underlying since prior close (%)",
        y_title="USD (+ buy / − sell)",
        note=SIGN_NOTE,
    )
    return usd_axis_format(fig)


def single_stock(funds: pd.DataFrame, underlying: str, move_pct: float) -> go.Figure:
    """What each fund on ``underlying`` must trade for ``move_pct``: ``per_1pct_usd × move_pct``.

    Exact for prior-close assets because the trade ``A·(L²−L)·r`` is linear in the move.
    """
    f = funds[funds["underlying"] == underlying] if not funds.empty else funds
    if f.empty or not finite(move_pct):
        return empty(f"No equity funds on {underlying}" if f.empty else "Enter a move in percent")
    f = f.assign(trade_usd=f["per_1pct_usd"] * float(move_pct))
    f = f.reindex(f["trade_usd"].abs().sort_values(ascending=True).index)
    labels = [f"{t} ({lev:+g}x)" for t, lev in zip(f["ticker"], f["leverage"], strict=True)]
    colors = np.where(f["trade_usd"] >= 0, BUY, SELL)
    fig = go.Figure(
        go.Bar(
            x=f["trade_usd"],
            y=labels,
            orientation="h",
            marker_color=colors,
            customdata=np.stack([f["aum_usd"].to_numpy(dtype=float)], axis=-1),
            hovertemplate="%{y}: %{x:$,.3s} (assets %{customdata[0]:$,.3s})<extra></extra>",
        )
    )
    total = float(f["trade_usd"].sum())
    styled(
        fig,
        title=f"{underlying} {float(move_pct):+g}%: funds must trade {format_usd(total, signed=True)} in total",
        x_title="USD (+ buy / − sell) = USD per 1% × move",
        y_title="Fund (signed leverage)",
        height=max(300, 60 + 28 * len(f)),
        note=SIGN_NOTE,
    )
    fig.update_layout(hovermode="closest")
    return usd_axis_format(fig, axis="x")


def history(series: pd.DataFrame) -> go.Figure:
    """Equity total USD per 1% move over the kept publishes (``store.headline_series``)."""
    if series.empty or "per_1pct_usd" not in series or series["per_1pct_usd"].isna().all():
        return empty("No history yet")
    s = series.sort_values("as_of")
    fig = go.Figure(
        go.Scatter(
            x=s["as_of"],
            y=s["per_1pct_usd"],
            mode="lines+markers",
            line={"color": NET},
            name="equity total",
            hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:$,.3s}<extra></extra>",
        )
    )
    styled(
        fig,
        title="History: equity total rebalance per 1% move",
        x_title="As of (UTC)",
        y_title="USD per +1% move",
    )
    fig.update_yaxes(rangemode="tozero")
    return usd_axis_format(fig)


def excluded_aum_bars(
    excluded_aum: pd.DataFrame, *, universe_aum_usd: float | None = None
) -> go.Figure:
    """Assets left out of every daily figure, by reason (the ``excluded_aum`` table), horizontal
    bars in USD; the title states the total and its share of the universe's assets."""
    if excluded_aum.empty:
        return empty("Nothing left out: every fund is in a daily figure")
    f = excluded_aum.sort_values("aum_usd", ascending=True)
    total = float(f["aum_usd"].sum())
    share = (
        f" ({100.0 * total / universe_aum_usd:.1f} % of the universe's assets)"
        if finite(universe_aum_usd) and universe_aum_usd
        else ""
    )
    colors = np.where(f["category"].str.startswith("reset: "), ACCENT, SELL)
    custom = np.stack(
        [f["funds"].to_numpy(dtype=float), f["share_pct"].to_numpy(dtype=float)], axis=-1
    )
    fig = go.Figure(
        go.Bar(
            x=f["aum_usd"],
            y=f["category"],
            orientation="h",
            marker_color=colors,
            customdata=custom,
            hovertemplate="%{y}: %{x:$,.3s} in %{customdata[0]:.0f} funds (%{customdata[1]:.2f} %)<extra></extra>",
        )
    )
    styled(
        fig,
        title=f"Left out of the daily figures: {format_usd(total)}{share}",
        x_title="Assets, USD",
        y_title="Reason (reset period or data)",
        height=max(300, 80 + 30 * len(f)),
        note="Only daily-reset funds rebalance into every close; weekly, monthly, quarterly and options-based funds (and funds with unusable data) are listed here, not counted.",
    )
    fig.update_layout(hovermode="closest")
    return usd_axis_format(fig, axis="x")
