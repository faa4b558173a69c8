"""Shared figure helpers: one look for every chart, units on every axis, empty states.

Colour convention across pages: dealer/fund *buying* and positive exposure in blue, *selling* and
negative exposure in red, totals/net in near-black.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

pio.templates.default = "none"
"""No Plotly template in the web process: the house look (:data:`_HOUSE`) is set on every figure,
and the default template cost ~7 kB in every figure sent and its validation on every figure built."""

BUY = "#1f77b4"
SELL = "#d62728"
NET = "#222222"
CALL = "#2ca02c"
PUT = "#d62728"
NEUTRAL = "#7f7f7f"
ACCENT = "#ff7f0e"
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def finite(x: Any) -> bool:
    """True for a number (or numeric text) that is not NaN or infinite; False for None and non-numbers."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


_GRID = "#e5eaf2"
_HOUSE = {
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "colorway": PALETTE,
    "font": {"family": "Helvetica, Arial, sans-serif", "size": 12, "color": "#2a3f5f"},
    "xaxis": {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID, "automargin": True},
    "yaxis": {
        "gridcolor": _GRID,
        "zerolinecolor": "#b8c2d0",
        "linecolor": _GRID,
        "automargin": True,
    },
}
HOUSE_LAYOUT = _HOUSE
"""House look, set property by property: a named template (``plotly_white``) costs ~0.1-0.2 s per
figure in validation and deep copies, which would dominate a page callback."""


_HOUSE_OBJ: go.Layout | None = None


def _house_layout() -> go.Layout:
    """The house layout validated once per process (assigning a validated ``go.Layout`` costs a
    copy, not a walk through Plotly's validators: ~15 ms instead of ~55 ms per figure)."""
    global _HOUSE_OBJ
    if _HOUSE_OBJ is None:
        _HOUSE_OBJ = go.Layout(
            **_HOUSE,
            legend={
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.0,
                "xanchor": "right",
                "x": 1.0,
            },
            hovermode="x unified",
            title={"x": 0.01, "xanchor": "left", "font": {"size": 15}},
        )
    return _HOUSE_OBJ


def styled(
    fig: go.Figure,
    *,
    title: str,
    x_title: str,
    y_title: str,
    note: str | None = None,
    height: int = 380,
) -> go.Figure:
    """Apply the house layout.  ``x_title`` / ``y_title`` must include the unit, e.g. ``"Spot (index points)"``.

    What the figure's layout already holds (bar mode, lines and notes added before) is kept over
    the house look; ``uirevision`` is the title, so a user's zoom survives the page's redraws of
    the same view (a new underlying or trader class has a new title and starts unzoomed).
    """
    prior = fig.layout.to_plotly_json()
    prior.pop(
        "template", None
    )  # Plotly's default template: ~7 kB per figure, replaced by the house look
    fig.layout = _house_layout()
    fig.update_layout(
        prior,
        title_text=title,
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        margin={"l": 70, "r": 20, "t": 50, "b": 60 if note else 45},
        uirevision=title,
    )
    if note:
        fig.add_annotation(
            text=note,
            xref="paper",
            yref="paper",
            x=0,
            y=-0.18,
            showarrow=False,
            xanchor="left",
            font={"size": 11, "color": NEUTRAL},
        )
    return fig


def empty(message: str, *, height: int = 300) -> go.Figure:
    """A blank figure that says why it is blank (no data yet, stale, unknown underlying...)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 14, "color": NEUTRAL},
    )
    fig.update_layout(
        height=height,
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 20, "r": 20, "t": 20, "b": 20},
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    return fig


def usd_axis_format(fig: go.Figure, axis: str = "y") -> go.Figure:
    """Show USD amounts with SI suffixes ($1.2B is written 1.2G by d3; we use ~s with a $ prefix)."""
    fig.update_layout({f"{axis}axis": {"tickprefix": "$", "tickformat": "~s"}})
    return fig
