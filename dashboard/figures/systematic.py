"""Figures of the Systematic page: pure DataFrame -> plotly Figure builders, units on every axis.

Inputs are the tables of ``volcontrol.<INDEX>``, ``cta.<INDEX>`` and ``vixetp.flows``
(:mod:`jobs.tasks.systematic`).  Sign convention: + = the funds buy index (VX) futures.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.common import (
    ACCENT,
    BUY,
    NET,
    NEUTRAL,
    SECONDARY_Y,
    SELL,
    date_axis,
    empty,
    money_scale,
    plain_axis,
    styled,
    zero_aligned_ranges,
)

SIGN = "+ = buy index futures, − = sell"


def _bar_colors(values: pd.Series) -> list[str]:
    return [BUY if v >= 0 else SELL for v in values.fillna(0.0)]


def _usd_bars_with_line(
    x: pd.Series,
    usd: pd.Series,
    line: pd.Series,
    *,
    bar_name: str,
    bar_label: str,
    line_name: str,
    x_hover: str,
    line_hover: str,
    title: str,
    x_title: str,
    y_title: str,
    y2_title: str,
    note: str,
    align_zero: bool = False,
) -> go.Figure:
    """USD bars (buy / sell coloured) on the left axis and a line on the right axis.

    ``y_title`` holds ``{unit}``, replaced by the money scale drawn (``USD bn``); ``align_zero``:
    the line measures the same trade in other units, so both axes cross zero at one height."""
    scale = money_scale(usd)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            name=bar_name,
            x=x,
            y=scale(usd),
            marker_color=_bar_colors(usd),
            hovertemplate=f"{x_hover}: {scale.hover()}<extra>{bar_label}</extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(name=line_name, x=x, y=line, line={"color": NET}, hovertemplate=line_hover),
        secondary_y=True,
    )
    styled(fig, title=title, x_title=x_title, y_title=y_title.format(unit=scale.unit()), note=note)
    fig.update_yaxes(title_text=y2_title, secondary_y=True, **SECONDARY_Y)
    ranges = zero_aligned_ranges(scale(usd), line) if align_zero else None
    if ranges:
        fig.update_yaxes(range=ranges[0], secondary_y=False)
        fig.update_yaxes(range=ranges[1], secondary_y=True)
    return plain_axis(fig)


def volcontrol_history(history: pd.DataFrame, index: str) -> go.Figure:
    """Exposure (line, fraction of AUM) and daily flow (bars, USD) per session."""
    if history.empty:
        return empty("No vol-control history")
    fig = _usd_bars_with_line(
        history["date"],
        history["flow_usd"],
        100.0 * history["exposure"],
        bar_name="flow at the close",
        bar_label="flow",
        line_name="exposure",
        x_hover="%{x|%Y-%m-%d}",
        line_hover="%{y:.1f} %<extra>exposure</extra>",
        title=f"Vol-control on {index}: exposure and flow",
        x_title="Session (date)",
        y_title="Flow ({unit} of index futures, + = buy)",
        y2_title="Exposure (% of AUM)",
        note=SIGN,
    )
    return date_axis(fig)


def volcontrol_shock_grid(grid: pd.DataFrame, index: str) -> go.Figure:
    """Cumulative flow after a one-day shock, over 1 session, 1 week and 2 weeks."""
    if grid.empty:
        return empty("No shock grid")
    cols = ("flow_1d_usd", "flow_1w_usd", "flow_2w_usd")
    scale = money_scale(*(grid[c] for c in cols))
    fig = go.Figure()
    styles = (
        ("1 session", NEUTRAL),
        ("1 week (5 sessions)", ACCENT),
        ("2 weeks (10 sessions)", NET),
    )
    for col, (name, color) in zip(cols, styles, strict=True):
        fig.add_trace(
            go.Scatter(
                name=name,
                x=grid["shock_pct"],
                y=scale(grid[col]),
                mode="lines+markers",
                line={"color": color},
                hovertemplate="%{x:+.1f} %: " + scale.hover() + "<extra>" + name + "</extra>",
            )
        )
    styled(
        fig,
        title=f"Vol-control flow after a one-day {index} shock",
        x_title="Index move on the next session (%)",
        y_title=f"Cumulative flow ({scale.unit()}, + = buy)",
        note="Lag 1: the first session's flow is already fixed whatever the shock. " + SIGN + ".",
    )
    return plain_axis(fig)


def cta_history(history: pd.DataFrame, index: str) -> go.Figure:
    """CTA position (USD of index futures) per session, with the close."""
    if history.empty:
        return empty("No CTA history")
    scale = money_scale(history["position_usd"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            name="position",
            x=history["date"],
            y=scale(history["position_usd"]),
            fill="tozeroy",
            line={"color": BUY},
            hovertemplate="%{x|%Y-%m-%d}: " + scale.hover() + "<extra>position</extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            name=f"{index} close",
            x=history["date"],
            y=history["close"],
            line={"color": NEUTRAL, "width": 1},
            hovertemplate="%{y:,.2f}<extra>close</extra>",
        ),
        secondary_y=True,
    )
    styled(
        fig,
        title=f"CTA position on {index}",
        x_title="Session (date)",
        y_title=f"Position ({scale.unit()} of index futures, + = long)",
    )
    fig.update_yaxes(title_text=f"{index} close (index points)", secondary_y=True, **SECONDARY_Y)
    return date_axis(plain_axis(fig))


def cta_scenarios(scenarios: pd.DataFrame, index: str) -> go.Figure:
    """Flow on flat / up / down tapes over 1 week and 1 month, split into signal and volatility parts."""
    if scenarios.empty:
        return empty("No CTA scenarios")
    label = scenarios["tape"] + " · " + scenarios["horizon"]
    scale = money_scale(
        scenarios["flow_signal_usd"], scenarios["flow_vol_usd"], scenarios["flow_usd"]
    )
    hover = "%{x}: " + scale.hover() + "<extra>%{fullData.name}</extra>"
    fig = go.Figure(
        [
            go.Bar(
                name="signal changes",
                x=label,
                y=scale(scenarios["flow_signal_usd"]),
                marker_color=ACCENT,
                hovertemplate=hover,
            ),
            go.Bar(
                name="volatility changes",
                x=label,
                y=scale(scenarios["flow_vol_usd"]),
                marker_color=NEUTRAL,
                hovertemplate=hover,
            ),
            go.Scatter(
                name="total",
                x=label,
                y=scale(scenarios["flow_usd"]),
                mode="markers",
                marker={"color": NET, "size": 10, "symbol": "diamond"},
                hovertemplate=hover,
            ),
        ]
    )
    fig.update_layout(barmode="relative")
    styled(
        fig,
        title=f"CTA flow on {index} tapes (±2 sigma)",
        x_title="Tape · horizon",
        y_title=f"Flow over the horizon ({scale.unit()}, + = buy)",
        note=SIGN,
    )
    return plain_axis(fig)


def vixetp_scenarios(scenarios: pd.DataFrame) -> go.Figure:
    """Rebalance into the next close for VX moves: USD (bars) and VX contracts (line)."""
    if scenarios.empty:
        return empty("No VIX ETP scenarios")
    return _usd_bars_with_line(
        scenarios["move_pct"],
        scenarios["rebalance_usd"],
        scenarios["rebalance_contracts"],
        bar_name="rebalance",
        bar_label="rebalance",
        line_name="VX contracts",
        x_hover="%{x:+.0f} %",
        line_hover="%{y:+,.0f} contracts<extra>VX</extra>",
        title="VIX ETPs: rebalance into the next close",
        x_title="VX futures move into the close (%)",
        y_title="Rebalance ({unit} of VX futures, + = buy)",
        y2_title="VX contracts (USD 1,000 per point)",
        note="Long and inverse funds both buy after a rise.",
        align_zero=True,
    )


def vixetp_funds(funds: pd.DataFrame) -> go.Figure:
    """Per fund, today's rebalance and roll (USD)."""
    if funds.empty:
        return empty("No VIX ETP in the result")
    scale = money_scale(funds["rebalance_usd"], funds["roll_usd"])
    fig = go.Figure(
        [
            go.Bar(
                name="rebalance",
                x=funds["ticker"],
                y=scale(funds["rebalance_usd"]),
                marker_color=BUY,
                hovertemplate="%{x}: " + scale.hover() + "<extra>rebalance</extra>",
            ),
            go.Bar(
                name="roll (front → second)",
                x=funds["ticker"],
                y=scale(funds["roll_usd"]),
                marker_color=ACCENT,
                hovertemplate="%{x}: " + scale.hover() + "<extra>roll</extra>",
            ),
        ]
    )
    fig.update_layout(barmode="group")
    styled(
        fig,
        title="VIX ETPs today: rebalance and roll per fund",
        x_title="Fund",
        y_title=f"VX futures traded ({scale.unit()})",
        note="Rebalance: + = buy, − = sell. Roll: the front-month contracts moved into the "
        "second month, signed as the fund's exposure.",
    )
    return plain_axis(fig)
