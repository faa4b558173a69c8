"""Figures of the Dealer gamma page: pure DataFrame -> plotly Figure builders.

Every figure states its unit on both axes and carries the dealer sign convention as a note, so a
screenshot cannot be misread.  The builders only select, reshape and draw columns of the
published tables (``gamma.<U>``); they compute no analytics.

Expected columns (the engine's tables, units in the names):

* ``by_strike``: ``strike``, ``call_gex_usd_per_1pct``, ``put_gex_usd_per_1pct``, ``net_gex_usd_per_1pct``
* ``profile``: ``spot`` and ``net_gex_usd_per_1pct`` (dealer gamma at that spot level)
* ``by_expiry``: ``expiry``, ``net_gex_usd_per_1pct`` (optionally ``call_``/``put_`` columns)
* ``grid``: ``strike``, ``expiry``, ``net_gex_usd_per_1pct`` (long format)
* ``hedge_flow``: ``move_pct``, ``dealer_trade_usd`` (optionally ``vanna_flow_usd``, ``charm_flow_usd``)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import (
    ACCENT,
    BUY,
    CALL,
    NET,
    NEUTRAL,
    PLAIN_TICKS,
    PUT,
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

SPOT_AXIS = "Spot (index points / USD per share)"
STRIKE_AXIS = "Strike (index points / USD per share)"
PRICE_AXIS = "Flip, spot (index points / USD)"
"""The right axis of the history: short enough for the plot's height (the long form was cut)."""


def gex_axis(unit: str) -> str:
    """The GEX axis title in the scale drawn: ``Dealer gamma (USD bn per 1% move)``."""
    return f"Dealer gamma ({unit} per 1% move)"


GEX_AXIS = gex_axis("USD")

CONVENTION_TEXT = {
    "calls_long_puts_short": "Dealer convention: dealers long calls, short puts (calls +, puts −), the public GEX convention. + = dealers long gamma.",
    "short_all": "Dealer convention: dealers short every option (calls −, puts −). + = dealers long gamma.",
    "source_position": "Dealer convention: per-contract dealer position from the source. + = dealers long gamma.",
}


def convention_note(convention: str | None) -> str:
    """The sign-convention sentence printed under every gamma chart."""
    return CONVENTION_TEXT.get(
        convention or "calls_long_puts_short",
        f"Dealer convention: {convention}. + = dealers long gamma.",
    )


def _col(frame: pd.DataFrame, *names: str) -> str | None:
    for n in names:
        if n in frame.columns:
            return n
    return None


def _vline(
    fig: go.Figure,
    x: Any,
    label: str,
    color: str,
    dash: str = "dash",
    position: str = "top right",
    row: int = 0,
) -> None:
    """A vertical marker with its label inside the plot at ``position``; ``row`` moves the label
    one text row down (top) or up (bottom), so labels of nearby lines never print over each
    other (spot and the call wall are often a few points apart)."""
    if finite(x):
        shift = 14 * row * (-1 if position.startswith("top") else 1)
        fig.add_vline(
            x=float(x),
            line={"color": color, "dash": dash, "width": 1.5},
            annotation_text=label,
            annotation_position=position,
            annotation_yshift=shift,
            annotation_font={"size": 10, "color": color},
            annotation_bgcolor="rgba(255,255,255,0.7)" if label else None,
        )


def _scaled(frame: pd.DataFrame, cols: Sequence[str]) -> tuple[Any, dict[str, np.ndarray]]:
    """The money scale of ``cols`` together and each column in it."""
    present = [c for c in cols if c in frame.columns]
    scale = money_scale(*(frame[c] for c in present))
    return scale, {c: scale(frame[c].to_numpy(dtype=float)) for c in present}


def gex_by_strike(
    by_strike: pd.DataFrame,
    *,
    spot: float,
    flip: float | None = None,
    call_wall: float | None = None,
    put_wall: float | None = None,
    window: float = 0.2,
    convention: str | None = None,
    underlying: str = "",
) -> go.Figure:
    """Call, put and net GEX per strike (USD per 1% move) with spot, flip and walls marked.

    The x axis is zoomed to ``spot * (1 ± window)``; bars outside stay reachable by panning.
    """
    if by_strike is None or by_strike.empty or "strike" not in by_strike.columns:
        return empty("No GEX by strike in this result")
    fig = go.Figure()
    x = by_strike["strike"]
    scale, y = _scaled(
        by_strike, ("call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct")
    )
    hover = scale.hover(signed=True) + " per 1%<extra>%{fullData.name}</extra>"
    for col, name, color in (
        ("call_gex_usd_per_1pct", "calls", CALL),
        ("put_gex_usd_per_1pct", "puts", PUT),
    ):
        if col in y:
            fig.add_bar(
                x=x, y=y[col], name=name, marker_color=color, opacity=0.55, hovertemplate=hover
            )
    if "net_gex_usd_per_1pct" in y:
        fig.add_bar(
            x=x, y=y["net_gex_usd_per_1pct"], name="net", marker_color=NET, hovertemplate=hover
        )
    fig.update_layout(barmode="overlay", bargap=0.05)
    # Labels: spot and the call wall at the top (two rows), the flip and the put wall at the bottom.
    _vline(fig, spot, "spot", NEUTRAL, "solid", "top left")
    _vline(fig, flip, "flip", ACCENT, "dash", "bottom right")
    _vline(fig, call_wall, "call wall", CALL, "dot", "top right", row=1)
    _vline(fig, put_wall, "put wall", PUT, "dot", "bottom left", row=1)
    if finite(spot):
        fig.update_xaxes(range=[float(spot) * (1 - window), float(spot) * (1 + window)])
    styled(
        fig,
        title=f"{underlying} dealer GEX by strike".strip(),
        x_title=STRIKE_AXIS,
        y_title=gex_axis(scale.unit()),
        note=convention_note(convention),
        height=420,
    )
    return plain_axis(fig)


def gamma_profile(
    profile: pd.DataFrame,
    *,
    spot: float,
    flips: Sequence[float] | None = None,
    convention: str | None = None,
    underlying: str = "",
) -> go.Figure:
    """Total dealer gamma (USD per 1% move) as a function of spot, zero line and every flip marked."""
    if profile is None or profile.empty:
        return empty("No gamma profile in this result")
    xcol = _col(profile, "spot", "spot_level", "level")
    ycol = _col(profile, "net_gex_usd_per_1pct", "gex_usd_per_1pct", "model_gex_usd_per_1pct")
    if xcol is None or ycol is None:
        return empty("Profile table lacks spot / GEX columns")
    scale = money_scale(profile[ycol])
    y = scale(profile[ycol].to_numpy(dtype=float))
    fig = go.Figure()
    # Shade long-gamma (stabilising) and short-gamma (amplifying) regions by sign.
    fig.add_scatter(
        x=profile[xcol],
        y=np.where(y >= 0, y, 0.0),
        mode="lines",
        line={"width": 0},
        fill="tozeroy",
        fillcolor="rgba(31,119,180,0.15)",
        name="long gamma",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=profile[xcol],
        y=np.where(y < 0, y, 0.0),
        mode="lines",
        line={"width": 0},
        fill="tozeroy",
        fillcolor="rgba(214,39,40,0.15)",
        name="short gamma",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=profile[xcol],
        y=y,
        mode="lines",
        line={"color": NET, "width": 2},
        name="dealer gamma",
        hovertemplate=scale.hover(signed=True) + " per 1%<extra>dealer gamma</extra>",
    )
    fig.add_hline(y=0, line={"color": NEUTRAL, "width": 1})
    _vline(fig, spot, "spot", NEUTRAL, "solid", "top right")
    for i, f in enumerate(flips or []):
        _vline(fig, f, "flip" if i == 0 else "", ACCENT, "dash", "bottom right")
    styled(
        fig,
        title=f"{underlying} gamma profile vs spot".strip(),
        x_title=SPOT_AXIS,
        y_title=gex_axis(scale.unit()),
        note=convention_note(convention),
        height=420,
    )
    return plain_axis(fig)


def gex_by_expiry(
    by_expiry: pd.DataFrame,
    *,
    as_of: Any = None,
    convention: str | None = None,
    underlying: str = "",
) -> go.Figure:
    """Net GEX per expiry (USD per 1% move); the snapshot-date (0DTE) bar is highlighted."""
    if by_expiry is None or by_expiry.empty or "expiry" not in by_expiry.columns:
        return empty("No GEX by expiry in this result")
    net = _col(by_expiry, "net_gex_usd_per_1pct")
    if net is None:
        return empty("By-expiry table lacks net_gex_usd_per_1pct")
    exp = pd.to_datetime(by_expiry["expiry"])
    labels = exp.dt.strftime("%Y-%m-%d")
    scale = money_scale(by_expiry[net])
    y = scale(by_expiry[net].to_numpy(dtype=float))
    colors = np.where(y >= 0, BUY, SELL).astype(object)
    zero_dte = np.zeros(len(labels), dtype=bool)
    if as_of is not None:
        day = (
            pd.Timestamp(as_of).tz_convert("America/New_York").strftime("%Y-%m-%d")
            if pd.Timestamp(as_of).tzinfo
            else pd.Timestamp(as_of).strftime("%Y-%m-%d")
        )
        zero_dte = (labels == day).to_numpy()
        colors[zero_dte] = ACCENT
    # The caption names the colour only when a 0DTE bar is there to carry it.
    caption = "0DTE in orange" if zero_dte.any() else "no expiry on the as-of day"
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=y,
            marker_color=list(colors),
            name="net GEX",
            hovertemplate="%{x}: " + scale.hover(signed=True) + " per 1%<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    styled(
        fig,
        title=f"{underlying} net GEX by expiry ({caption})".strip(),
        x_title="Expiry (date)",
        y_title=gex_axis(scale.unit()),
        note=convention_note(convention),
        height=380,
    )
    return plain_axis(fig)


def gex_heatmap(
    grid: pd.DataFrame,
    *,
    spot: float,
    window: float = 0.2,
    max_expiries: int = 20,
    convention: str | None = None,
    underlying: str = "",
) -> go.Figure:
    """Strike x expiry heatmap of net GEX (USD per 1% move), strikes within ``spot*(1±window)``."""
    if grid is None or grid.empty or not {"strike", "expiry"} <= set(grid.columns):
        return empty("No strike x expiry grid in this result")
    val = _col(grid, "net_gex_usd_per_1pct")
    if val is None:
        return empty("Grid lacks net_gex_usd_per_1pct")
    g = grid[["strike", "expiry", val]].copy()
    if finite(spot):
        g = g[(g["strike"] >= spot * (1 - window)) & (g["strike"] <= spot * (1 + window))]
    if g.empty:
        return empty("No strikes within the window")
    g["expiry"] = pd.to_datetime(g["expiry"]).dt.strftime("%Y-%m-%d")
    first = sorted(g["expiry"].unique())[:max_expiries]
    g = g[g["expiry"].isin(first)]
    wide = g.pivot_table(index="strike", columns="expiry", values=val, aggfunc="sum").sort_index()
    scale = money_scale(wide.to_numpy(dtype=float))
    z = scale(wide.to_numpy(dtype=float))
    lim = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            x=list(wide.columns),
            y=wide.index.to_numpy(dtype=float),
            z=z,
            colorscale=[[0.0, SELL], [0.5, "#ffffff"], [1.0, BUY]],
            zmin=-lim,
            zmax=lim,
            colorbar={"title": {"text": f"{scale.unit()} per 1%"}, **PLAIN_TICKS},
            hovertemplate="expiry %{x}<br>strike %{y}<br>net GEX "
            + scale.hover("z", signed=True)
            + " per 1%<extra></extra>",
        )
    )
    if finite(spot):
        fig.add_hline(
            y=float(spot),
            line={"color": NEUTRAL, "dash": "dash", "width": 1},
            annotation_text="spot",
            annotation_position="top left",
            annotation_font={"size": 10},
        )
    fig.update_xaxes(type="category")
    styled(
        fig,
        title=f"{underlying} net GEX by strike and expiry".strip(),
        wide=True,
        x_title="Expiry (date)",
        y_title=STRIKE_AXIS,
        note=convention_note(convention),
        height=460,
    )
    fig.update_layout(hovermode="closest")
    return fig


def hedge_flow(
    hedge: pd.DataFrame,
    *,
    convention: str | None = None,
    underlying: str = "",
    iv_shock_points: float | None = None,
) -> go.Figure:
    """USD notional dealers trade to stay delta-hedged per spot move (+ = dealers buy).

    Bars of ``dealer_trade_usd`` by ``move_pct``; when present, the vanna flow (IV shock) and the
    charm flow (to the next close) are drawn as extra series.
    """
    if hedge is None or hedge.empty or not {"move_pct", "dealer_trade_usd"} <= set(hedge.columns):
        return empty("No hedge-flow table in this result")
    lines = [
        c for c in ("vanna_flow_usd", "charm_flow_usd") if c in hedge and hedge[c].notna().any()
    ]
    scale, scaled = _scaled(hedge, ("dealer_trade_usd", *lines))
    y = scaled["dealer_trade_usd"]
    hover = "%{x:+g} %: " + scale.hover(signed=True) + "<extra>%{fullData.name}</extra>"
    fig = go.Figure(
        go.Bar(
            x=hedge["move_pct"],
            y=y,
            marker_color=list(np.where(y >= 0, BUY, SELL)),
            name="delta hedge",
            hovertemplate=hover,
        )
    )
    shock = f" +{iv_shock_points:g} vol" if iv_shock_points else ""
    for col, name, color in (
        ("vanna_flow_usd", f"vanna{shock}", "#9467bd"),
        ("charm_flow_usd", "charm to close", "#8c564b"),
    ):
        if col in lines:
            fig.add_scatter(
                x=hedge["move_pct"],
                y=scaled[col],
                mode="lines+markers",
                name=name,
                line={"color": color},
                hovertemplate=hover,
            )
    fig.add_hline(y=0, line={"color": NEUTRAL, "width": 1})
    note = (
        convention_note(convention)
        + " Flow: + = dealers buy, − = dealers sell (full delta re-pricing)."
    )
    styled(
        fig,
        title=f"{underlying} dealer hedge flow by spot move".strip(),
        x_title="Spot move (%)",
        y_title=f"Dealer trade ({scale.unit()}, + = buy)",
        note=note,
        height=400,
    )
    return plain_axis(fig)


def history(
    closes: pd.DataFrame,
    intraday: pd.DataFrame | None = None,
    *,
    convention: str | None = None,
    underlying: str = "",
    tz: str = "America/New_York",
) -> go.Figure:
    """Net GEX (USD per 1% move, left axis) and the flip level (right axis) over time: the
    end-of-day closes (``ResultStore.eod_series``: one point per exchange day, the day's last
    publish) and, after them, the latest day's intraday versions (``ResultStore.headline_series``
    rows whose as-of falls on the last day).  Times on a real date axis in the desk zone ``tz``
    (plotly chooses the tick spacing, so no label repeats)."""
    parts = []
    for frame, kind in ((closes, "close"), (intraday, "intraday")):
        if frame is not None and not frame.empty and "net_gex_usd_per_1pct" in frame.columns:
            f = frame.copy()
            f["t"] = pd.to_datetime(f["as_of"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
            f["kind"] = kind
            parts.append(f)
    if not parts:
        return empty("No history yet")
    both = pd.concat(parts, ignore_index=True)
    last_day = both["t"].max().normalize()
    closes_s = both[
        (both["kind"] == "close") & (both["t"] < last_day)
    ]  # the last day is drawn intraday
    today = both[(both["kind"] == "intraday") & (both["t"] >= last_day)]
    if today.empty:  # no intraday versions kept: the last day's close stands for it
        today = both[(both["kind"] == "close") & (both["t"] >= last_day)]
    s = pd.concat([closes_s, today]).drop_duplicates("t").sort_values("t")
    scale = money_scale(s["net_gex_usd_per_1pct"])
    hover = "%{x|%Y-%m-%d %H:%M}: " + scale.hover(signed=True) + " per 1%<extra></extra>"
    fig = go.Figure()
    fig.add_scatter(
        x=closes_s["t"],
        y=scale(closes_s["net_gex_usd_per_1pct"]),
        mode="lines+markers",
        name="net GEX, daily close",
        line={"color": NET},
        hovertemplate=hover,
    )
    fig.add_scatter(
        x=today["t"],
        y=scale(today["net_gex_usd_per_1pct"]),
        mode="lines+markers",
        name=f"net GEX, {last_day:%Y-%m-%d} intraday",
        line={"color": NET, "dash": "dot"},
        marker={"symbol": "diamond"},
        hovertemplate=hover,
    )
    prices = []
    if "flip" in s.columns and pd.to_numeric(s["flip"], errors="coerce").notna().any():
        prices.append(pd.to_numeric(s["flip"], errors="coerce"))
        fig.add_scatter(
            x=s["t"],
            y=prices[-1],
            mode="lines+markers",
            name="flip (right axis)",
            line={"color": ACCENT, "dash": "dash"},
            yaxis="y2",
            hovertemplate="%{y:,.2f}<extra>flip</extra>",
        )
    if "spot" in s.columns:
        prices.append(pd.to_numeric(s["spot"], errors="coerce"))
        fig.add_scatter(
            x=s["t"],
            y=prices[-1],
            mode="lines",
            name="spot (right axis)",
            line={"color": NEUTRAL, "width": 1},
            yaxis="y2",
            hovertemplate="%{y:,.2f}<extra>spot</extra>",
        )
    zone = pd.Timestamp.now(tz=tz).strftime("%Z") if tz else ""
    styled(
        fig,
        title=f"{underlying} net GEX and flip: daily closes and today".strip(),
        wide=True,
        x_title=f"As of ({tz}, {zone})",
        y_title=gex_axis(scale.unit()),
        note=convention_note(convention),
        height=380,
    )
    # A series that barely moved (versions minutes apart) gets a range of 10 % of its size, so the
    # ticks are round numbers instead of millionths; prices get 1 %.
    gex = scale(s["net_gex_usd_per_1pct"].to_numpy(dtype=float))
    level = float(np.nanmax(np.abs(gex))) if np.isfinite(gex).any() else 0.0
    y_range = padded_range(gex, min_span=0.1 * level)
    fig.update_layout(yaxis={**PLAIN_TICKS, **({"range": y_range} if y_range else {})})
    if prices:
        both = pd.concat(prices).to_numpy(dtype=float)
        level = float(np.nanmax(np.abs(both))) if np.isfinite(both).any() else 0.0
        y2_range = padded_range(both, min_span=0.01 * level)
        fig.update_layout(
            yaxis2={
                **SECONDARY_Y,
                "title": {"text": PRICE_AXIS},
                "overlaying": "y",
                "side": "right",
                "automargin": True,
                **({"range": y2_range} if y2_range else {}),
            }
        )
    return date_axis(fig, s["t"], min_span=pd.Timedelta(hours=6))


def summary_rows(items: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Rows ``{"figure": ..., "value": ...}`` for a small key/value table."""
    return [{"figure": k, "value": v} for k, v in items]
