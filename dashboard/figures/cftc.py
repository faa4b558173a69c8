"""CFTC positioning figures: pure DataFrame -> plotly Figure builders (tables of ``cftc.net_usd``).

No analytics here: every value drawn is a published column; builders only select rows/columns.
Sign convention on every chart: net USD > 0 = speculators net long USD; a currency's
contribution to net USD = minus its position value (short EUR = long USD).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard import display
from dashboard.figures.common import (
    ACCENT,
    BUY,
    NET,
    NEUTRAL,
    PALETTE,
    SELL,
    date_axis,
    empty,
    money_scale,
    plain_axis,
    styled,
)
from flows.formatting import code_label

TRADERS: dict[str, dict[str, str]] = {
    "noncomm": {
        "label": "Legacy non-commercials",
        "prefix": "net_usd",
        "contrib": "contribution_usd",
        "contracts": "net_contracts",
    },
    "lev_money": {
        "label": "TFF leveraged funds",
        "prefix": "net_usd_levfunds",
        "contrib": "levfunds_contribution_usd",
        "contracts": "levfunds_net_contracts",
    },
    "asset_mgr": {
        "label": "TFF asset managers",
        "prefix": "net_usd_assetmgr",
        "contrib": "assetmgr_contribution_usd",
        "contracts": "assetmgr_net_contracts",
    },
}
"""Trader class -> label and the published column names it reads."""


def format_usd(x: Any, signed: bool = True) -> str:
    """``+$35.2 bn`` style, one decimal (n/a for missing): :func:`dashboard.display.usd`."""
    return display.usd(x, signed=signed, digits=1)


def net_usd_history(
    weekly: pd.DataFrame,
    peaks: pd.DataFrame,
    series: str,
    *,
    title: str,
    other: list[str] | None = None,
) -> go.Figure:
    """Net USD position over time (USD) with the previous cycle peaks/troughs marked."""
    if weekly.empty or series not in weekly.columns or weekly[series].notna().sum() == 0:
        return empty(f"No data for {series}")
    others = [c for c in other or [] if c in weekly.columns and c != series]
    scale = money_scale(*(weekly[c] for c in (series, *others)))
    hover = "%{x|%Y-%m-%d}: " + scale.hover() + "<extra>%{fullData.name}</extra>"
    fig = go.Figure()
    for i, col in enumerate(others):
        fig.add_trace(
            go.Scatter(
                x=weekly["as_of"],
                y=scale(weekly[col]),
                name=code_label(col),
                mode="lines",
                line={"color": PALETTE[(i + 4) % len(PALETTE)], "width": 1},
                hovertemplate=hover,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=weekly["as_of"],
            y=scale(weekly[series]),
            name=code_label(series),
            mode="lines",
            line={"color": NET, "width": 2},
            hovertemplate=hover,
        )
    )
    pk = (
        peaks[peaks["series"] == series]
        if not peaks.empty and "series" in peaks.columns
        else peaks.iloc[0:0]
    )
    for kind, colour, symbol in (("peak", SELL, "triangle-down"), ("trough", BUY, "triangle-up")):
        sel = pk[pk["kind"] == kind] if not pk.empty else pk
        if len(sel):
            fig.add_trace(
                go.Scatter(
                    x=sel["as_of"],
                    y=scale(sel["value_usd"]),
                    mode="markers",
                    name=f"previous {kind}s",
                    marker={"color": colour, "size": 10, "symbol": symbol},
                    customdata=scale(sel[["distance_usd"]].to_numpy(dtype=float)),
                    hovertemplate="%{x|%Y-%m-%d}: "
                    + scale.hover()
                    + "<br>current − this: "
                    + scale.hover("customdata[0]")
                    + "<extra></extra>",
                )
            )
    fig.add_hline(y=0, line={"color": NEUTRAL, "width": 1})
    styled(
        fig,
        title=title,
        wide=True,
        x_title="CFTC report date (as of)",
        y_title=f"Net USD position ({scale.unit()}, + = long USD)",
        note="Peaks/troughs: extreme of ±26 weekly reports around them (confirmed only).",
    )
    return date_axis(plain_axis(fig))


def currency_bars(
    currencies: pd.DataFrame,
    value_col: str,
    *,
    basket: list[str] | None = None,
    weeks: int = 156,
    title: str,
) -> go.Figure:
    """Stacked bars per report date: each basket currency's contribution to net USD (USD).

    With ``basket`` only its members are drawn, so the stack adds up to the basket's net USD.
    """
    if (
        currencies.empty
        or value_col not in currencies.columns
        or currencies[value_col].notna().sum() == 0
    ):
        return empty("No per-currency positions")
    frame = currencies[currencies[value_col].notna()]
    if basket:
        frame = frame[frame["ccy"].isin(basket)]
    dates = sorted(frame["as_of"].unique())[-weeks:]
    frame = frame[frame["as_of"].isin(dates)]
    # The scale of the stacks' extent (each week's positive and negative sums), not of one bar.
    sums = frame.groupby("as_of")[value_col]
    scale = money_scale(
        sums.apply(lambda v: v.clip(lower=0).sum()), sums.apply(lambda v: v.clip(upper=0).sum())
    )
    fig = go.Figure()
    for i, (ccy, part) in enumerate(frame.groupby("ccy", sort=False)):
        fig.add_trace(
            go.Bar(
                x=part["as_of"],
                y=scale(part[value_col]),
                name=str(ccy),
                marker_color=PALETTE[i % len(PALETTE)],
                hovertemplate="%{x|%Y-%m-%d}: " + scale.hover() + "<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(barmode="relative")
    styled(
        fig,
        title=title,
        wide=True,
        x_title="CFTC report date (as of)",
        y_title=f"Contribution to net USD ({scale.unit()}, + = long USD)",
        note="Short a currency = long USD: a currency's contribution is minus its position value (USD index: + its value).",
    )
    return date_axis(plain_axis(fig))


def stats_panel(weekly: pd.DataFrame, series: str, *, title: str) -> go.Figure:
    """Z-scores (1y/3y/5y, standard deviations) and 3y percentile / COT index (0-100)."""
    cols = [f"{series}_z_{w}" for w in ("1y", "3y", "5y")]
    if weekly.empty or not any(c in weekly.columns and weekly[c].notna().any() for c in cols):
        return empty("Not enough history for z-scores (needs about one year of weekly reports)")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for i, c in enumerate(cols):
        if c in weekly.columns:
            fig.add_trace(
                go.Scatter(
                    x=weekly["as_of"],
                    y=weekly[c],
                    name=f"z-score, {c.rsplit('_', 1)[-1].removesuffix('y')}-year",
                    mode="lines",
                    line={"color": PALETTE[i]},
                ),
                row=1,
                col=1,
            )
    # the bottom panel's colours are none of the z-scores' (PALETTE[0:3]): one colour, one line
    for c, colour, name in (
        (f"{series}_pct_3y", PALETTE[4], "percentile, 3-year"),
        (f"{series}_cot_index_3y", NEUTRAL, "COT index, 3-year"),
    ):
        if c in weekly.columns:
            fig.add_trace(
                go.Scatter(
                    x=weekly["as_of"], y=weekly[c], name=name, mode="lines", line={"color": colour}
                ),
                row=2,
                col=1,
            )
    styled(fig, title=title, x_title="", y_title="z-score (standard deviations)", height=460)
    fig.update_yaxes(title_text="z-score (standard deviations)", row=1, col=1)
    fig.update_yaxes(title_text="percentile / COT index (0-100)", range=[0, 100], row=2, col=1)
    fig.update_xaxes(title_text="CFTC report date (as of)", row=2, col=1)
    date_axis(fig, axis="x")
    return date_axis(fig, axis="x2")


def change_decomposition(
    weekly: pd.DataFrame, series: str, *, weeks: int = 52, title: str
) -> go.Figure:
    """Week-on-week change of net USD split into position change and FX revaluation (USD)."""
    cols = [f"{series}_change_position_usd", f"{series}_change_fx_usd", f"{series}_change_usd"]
    if (
        weekly.empty
        or any(c not in weekly.columns for c in cols)
        or weekly[cols[2]].notna().sum() == 0
    ):
        return empty("No week-on-week changes yet")
    w = weekly[weekly[cols[2]].notna()].tail(weeks)
    scale = money_scale(*(w[c] for c in cols))
    hover = "%{x|%Y-%m-%d}: " + scale.hover() + "<extra>%{fullData.name}</extra>"
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=w["as_of"],
            y=scale(w[cols[0]]),
            name="position change (Δnet × old FX)",
            marker_color=BUY,
            hovertemplate=hover,
        )
    )
    fig.add_trace(
        go.Bar(
            x=w["as_of"],
            y=scale(w[cols[1]]),
            name="FX revaluation (new net × ΔFX)",
            marker_color=ACCENT,
            hovertemplate=hover,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=w["as_of"],
            y=scale(w[cols[2]]),
            name="total change",
            mode="markers",
            marker={"color": NET, "size": 7},
            hovertemplate=hover,
        )
    )
    fig.update_layout(barmode="relative")
    styled(
        fig,
        title=title,
        x_title="CFTC report date (as of)",
        y_title=f"Change in net USD ({scale.unit()} per week)",
    )
    return date_axis(plain_axis(fig))


def unwind_bars(
    unwind: pd.DataFrame, series: str, *, scenario: str = "median", title: str
) -> go.Figure:
    """USD notional of each currency bought (+) / sold (-) if net USD reverts to its target."""
    u = (
        unwind[unwind["series"] == series]
        if not unwind.empty and "series" in unwind.columns
        else unwind.iloc[0:0]
    )
    if "scenario" in u.columns:
        u = u[u["scenario"] == scenario]
    if u.empty:
        return empty("No unwind scenario")
    u = u.sort_values("currency_flow_usd")
    colours = [
        BUY if b else (SELL if v < 0 else NEUTRAL)
        for b, v in zip(u["benefits"], u["currency_flow_usd"], strict=True)
    ]
    scale = money_scale(u["currency_flow_usd"])
    fig = go.Figure(
        go.Bar(
            x=scale(u["currency_flow_usd"]),
            y=u["ccy"],
            orientation="h",
            marker_color=colours,
            name="currency bought (+) / sold (−)",
            hovertemplate="%{y}: " + scale.hover("x") + "<extra></extra>",
        )
    )
    first = u.iloc[0]
    note = f"Reversion from {format_usd(first['current_net_usd'])} to {format_usd(first['target_net_usd'])} net USD; blue = currency bought, red = sold."
    styled(
        fig,
        title=title,
        wide=True,
        x_title=f"Currency bought (+) / sold (−) in the unwind ({scale.unit()})",
        y_title="Currency",
        note=note,
    )
    fig.update_layout(hovermode="closest")
    return plain_axis(fig, "x")
