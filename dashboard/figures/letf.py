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

from dashboard import display
from dashboard.figures.common import (
    ACCENT,
    BUY,
    NET,
    PALETTE,
    SECONDARY_Y,
    SELL,
    date_axis,
    empty,
    finite,
    money_scale,
    padded_range,
    plain_axis,
    styled,
)

SIGN_NOTE = "+ = funds buy the underlying into the close, − = sell; long and inverse funds trade the same way."


def format_usd(x: Any, signed: bool = False) -> str:
    """:func:`dashboard.display.usd`, unsigned unless asked (AUM and per-1% amounts)."""
    return display.usd(x, signed=signed)


def per_1pct_bars(by_underlying: pd.DataFrame, *, top: int = 20) -> go.Figure:
    """USD per +1% move by underlying, long vs inverse funds stacked (top ``top`` by total)."""
    if by_underlying.empty:
        return empty("No equity funds in the result")
    f = by_underlying.sort_values("per_1pct_usd", ascending=False).head(top)
    scale = money_scale(f["per_1pct_usd"], f["long_per_1pct_usd"], f["inverse_per_1pct_usd"])
    hover = "%{x}: " + scale.hover(signed=False) + " per 1%<extra>%{fullData.name}</extra>"
    fig = go.Figure(
        [
            go.Bar(
                name="long funds (L > 0)",
                x=f["underlying"],
                y=scale(f["long_per_1pct_usd"]),
                marker_color=BUY,
                hovertemplate=hover,
            ),
            go.Bar(
                name="inverse funds (L < 0)",
                x=f["underlying"],
                y=scale(f["inverse_per_1pct_usd"]),
                marker_color=ACCENT,
                hovertemplate=hover,
            ),
        ]
    )
    fig.update_layout(barmode="stack")
    styled(
        fig,
        title=f"Rebalance per 1% move, top {len(f)} underlyings",
        x_title="Underlying (hedge ticker)",
        y_title=f"{scale.unit()} per +1% move (buy)",
        note=SIGN_NOTE + " A −1% move sells the same amount.",
    )
    return plain_axis(fig)


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
    scale = money_scale(f["rebalance_usd"])
    fig.add_trace(
        go.Bar(
            name=f"trade ({scale.unit()})",
            x=f["underlying"],
            y=scale(f["rebalance_usd"]),
            marker_color=colors,
            customdata=custom,
            hovertemplate="%{x}: "
            + scale.hover(signed=True)
            + " (move %{customdata[0]:+.2f}%)<extra></extra>",
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
        title="Today's implied trade into the close",
        x_title="Underlying (hedge ticker)",
        y_title=f"Trade ({scale.unit()}, + = buy)",
        note="Move so far today. " + SIGN_NOTE,
    )
    fig.update_yaxes(
        title_text="Trade (% of average daily dollar volume)",
        secondary_y=True,
        rangemode="tozero",
        **SECONDARY_Y,
    )
    return plain_axis(fig)


def scenario_curve(scenarios: pd.DataFrame, *, underlyings: list[str] | None = None) -> go.Figure:
    """Trade vs uniform move of the underlying (scenario grid), one line per underlying + TOTAL."""
    if scenarios.empty:
        return empty("No scenario grid in the result")
    names = underlyings or ["TOTAL"]
    scale = money_scale(scenarios.loc[scenarios["underlying"].isin(names), "rebalance_usd"])
    fig = go.Figure()
    for i, name in enumerate(names):
        s = scenarios[scenarios["underlying"] == name].sort_values("move_pct")
        if s.empty:
            continue
        fig.add_trace(
            go.Scatter(
                name="all underlyings together" if name == "TOTAL" else name,
                x=s["move_pct"],
                y=scale(s["rebalance_usd"]),
                mode="lines+markers",
                line={
                    "color": NET if name == "TOTAL" else PALETTE[i % len(PALETTE)],
                    "width": 3 if name == "TOTAL" else 2,
                },
                hovertemplate="%{x:+.1f}%: " + scale.hover() + "<extra>" + name + "</extra>",
            )
        )
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    styled(
        fig,
        title="Scenario grid",
        x_title="Move of the underlying since prior close (%)",
        y_title=f"Trade ({scale.unit()}, + = buy)",
        note=SIGN_NOTE,
    )
    return plain_axis(fig)


def single_stock(funds: pd.DataFrame, underlying: str, move_pct: float) -> go.Figure:
    """What each fund on ``underlying`` must trade for ``move_pct``: ``per_1pct_usd × move_pct``.

    Exact for prior-close assets because the trade ``A·(L²−L)·r`` is linear in the move.
    """
    f = funds[funds["underlying"] == underlying] if not funds.empty else funds
    if f.empty or not finite(move_pct):
        return empty(f"No equity funds on {underlying}" if f.empty else "Enter a move in percent")
    f = f.assign(trade_usd=f["per_1pct_usd"] * float(move_pct))
    f = f.reindex(f["trade_usd"].abs().sort_values(ascending=True).index)
    labels = [
        f"{t} ({display.signed(lev)}x)" for t, lev in zip(f["ticker"], f["leverage"], strict=True)
    ]
    colors = np.where(f["trade_usd"] >= 0, BUY, SELL)
    scale = money_scale(f["trade_usd"])
    assets = money_scale(f["aum_usd"])
    fig = go.Figure(
        go.Bar(
            x=scale(f["trade_usd"]),
            y=labels,
            orientation="h",
            marker_color=colors,
            customdata=np.stack([assets(f["aum_usd"].to_numpy(dtype=float))], axis=-1),
            hovertemplate="%{y}: "
            + scale.hover("x")
            + " (assets "
            + assets.hover("customdata[0]", signed=False)
            + ")<extra></extra>",
        )
    )
    total = float(f["trade_usd"].sum())
    styled(
        fig,
        title=f"{underlying} {display.signed(float(move_pct))}%: funds must trade {format_usd(total, signed=True)} in total",
        wide=True,
        x_title=f"Trade ({scale.unit()}, + = buy) = USD per 1% × move",
        y_title="Fund (signed leverage)",
        height=max(300, 60 + 28 * len(f)),
        note=SIGN_NOTE,
    )
    fig.update_layout(hovermode="closest")
    return plain_axis(fig, axis="x")


def history(
    closes: pd.DataFrame,
    intraday: pd.DataFrame | None = None,
    *,
    tz: str = "America/New_York",
) -> go.Figure:
    """Equity total USD per 1% move over time: the end-of-day closes (``ResultStore.eod_series``:
    one point per exchange day, the day's last publish) and, after them, the last day's
    publishes (``ResultStore.headline_series``), as the gamma page draws its history.  Times on
    a date axis in the desk zone ``tz`` (never UTC, never a millisecond scale)."""
    parts = []
    for frame, kind in ((closes, "close"), (intraday, "intraday")):
        if frame is not None and not frame.empty and "per_1pct_usd" in frame.columns:
            f = frame[frame["per_1pct_usd"].notna()].copy()
            f["t"] = pd.to_datetime(f["as_of"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
            f["kind"] = kind
            parts.append(f)
    if not parts or all(p.empty for p in parts):
        return empty("No history yet")
    both = pd.concat(parts, ignore_index=True)
    last_day = both["t"].max().normalize()
    daily = both[(both["kind"] == "close") & (both["t"] < last_day)].sort_values("t")
    today = both[(both["kind"] == "intraday") & (both["t"] >= last_day)]
    if today.empty:  # no intraday versions kept: the last day's close stands for it
        today = both[(both["kind"] == "close") & (both["t"] >= last_day)]
    today = today.drop_duplicates("t").sort_values("t")
    scale = money_scale(both["per_1pct_usd"])
    hover = "%{x|%Y-%m-%d %H:%M}: " + scale.hover(signed=False) + " per 1%<extra></extra>"
    fig = go.Figure()
    if not daily.empty:
        fig.add_scatter(
            x=daily["t"],
            y=scale(daily["per_1pct_usd"]),
            mode="lines+markers",
            line={"color": NET},
            name="daily close",
            hovertemplate=hover,
        )
    fig.add_scatter(
        x=today["t"],
        y=scale(today["per_1pct_usd"]),
        mode="lines+markers",
        line={"color": NET, "dash": "dot"},
        marker={"symbol": "diamond"},
        name=f"{last_day:%Y-%m-%d} publishes",
        hovertemplate=hover,
    )
    zone = pd.Timestamp.now(tz=tz).strftime("%Z") if tz else ""
    styled(
        fig,
        title="History: equity total rebalance per 1% move",
        x_title=f"As of ({tz}, {zone})",
        y_title=f"{scale.unit()} per +1% move",
    )
    values = scale(both["per_1pct_usd"].to_numpy(dtype=float))
    y_range = padded_range(values, min_span=0.1 * float(np.nanmax(np.abs(values))))
    if y_range:
        fig.update_yaxes(range=y_range)
    else:
        fig.update_yaxes(rangemode="tozero")
    plain_axis(fig)
    shown = pd.concat([daily["t"], today["t"]])
    return date_axis(fig, shown, min_span=pd.Timedelta(hours=6))


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
    scale = money_scale(f["aum_usd"])
    fig = go.Figure(
        go.Bar(
            x=scale(f["aum_usd"]),
            y=f["category"],
            orientation="h",
            marker_color=colors,
            customdata=custom,
            hovertemplate="%{y}: "
            + scale.hover("x", signed=False)
            + " in %{customdata[0]:.0f} funds (%{customdata[1]:.2f} %)<extra></extra>",
        )
    )
    styled(
        fig,
        title=f"Left out of the daily figures: {format_usd(total)}{share}",
        wide=True,
        x_title=f"Assets ({scale.unit()})",
        y_title="Reason (reset period or data)",
        height=max(300, 80 + 30 * len(f)),
        note="Only daily-reset funds rebalance into every close; weekly, monthly, quarterly and options-based funds (and funds with unusable data) are listed here, not counted.",
    )
    fig.update_layout(hovermode="closest")
    return plain_axis(fig, axis="x")
