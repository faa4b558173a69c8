"""Shared figure helpers: one look for every chart, units on every axis, empty states.

Colour convention across pages: dealer/fund *buying* and positive exposure in blue, *selling* and
negative exposure in red, totals/net in near-black.
"""

from __future__ import annotations

import html
import math
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dashboard.display import minus_signs
from flows import money

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
    # the tick labels stand off the plot (px): at the corner the first date and the lowest
    # value otherwise sit against each other ("Jan 2023" beside "-800,000")
    "xaxis": {
        "gridcolor": _GRID,
        "zerolinecolor": _GRID,
        "linecolor": _GRID,
        "automargin": True,
        "ticklabelstandoff": 6,
    },
    "yaxis": {
        "gridcolor": _GRID,
        "zerolinecolor": "#b8c2d0",
        "linecolor": _GRID,
        "automargin": True,
        "ticklabelstandoff": 6,
    },
}
HOUSE_LAYOUT = _HOUSE
"""House look, set property by property: a named template (``plotly_white``) costs ~0.1-0.2 s per
figure in validation and deep copies, which would dominate a page callback."""

# -- the frame of every chart: title band, legend row, notes under the x-axis title ---------------

TITLE_BAND_PX = 40
"""Top band of every chart: the title on the left, the mode bar on the right (nothing else)."""
LEGEND_ROW_PX = 22
"""One row of a horizontal legend (12 px text)."""
LEGEND_WIDTH_PX = 480
"""The width a legend is laid out for when the top margin is reserved: a half-width chart at a
1280 px wide window (measured: ~560 px of plot area), less a safety margin; wider charts simply
use fewer rows than reserved."""
WIDE_PX = 1050
"""The same for a chart spanning the page (``wide``): ~1100 px of plot area at 1280 px."""
NOTE_CHARS = 90
"""Characters per line of a note (11 px text: ~500 px, inside a half-width chart at 1280 px)."""
WIDE_NOTE_CHARS = 180
"""Characters per line of a note under a chart spanning the page."""
NOTE_LINE_PX = 15
MODEBAR = {
    "remove": [
        "select2d",
        "lasso2d",
        "zoomIn2d",
        "zoomOut2d",
        "autoScale2d",
        "sendChartToCloud",
    ]
}
"""Mode bar: save as PNG, zoom, pan and reset only (narrow enough to sit beside a title), and no
"share to the cloud" button on a desk's data."""


def title_layout(text: str) -> dict:
    """The chart title at the top left of the title band (container coordinates, so it never
    moves with the margins)."""
    return {
        "text": text,
        "x": 0.01,
        "xanchor": "left",
        "xref": "container",
        "y": 1.0,
        "yanchor": "top",
        "yref": "container",
        "pad": {"t": 12},
        "font": {"size": 15},
    }


def legend_rows(names: list[str], width_px: float = LEGEND_WIDTH_PX) -> int:
    """Rows a horizontal legend of ``names`` takes at ``width_px`` (0 without names): each item is
    its symbol (~40 px) and its text (~6.8 px per character at 12 px, an upper bound for
    Helvetica), wrapped like Plotly wraps them."""
    rows, used = 0, width_px
    for name in names:
        width = 44.0 + 6.8 * len(name)
        if used + width > width_px:
            rows, used = rows + 1, 0.0
        used += width
    return rows


def top_margin(names: list[str], width_px: float = LEGEND_WIDTH_PX) -> int:
    """Top margin holding the title band and the legend's rows under it (pixels)."""
    rows = legend_rows(names, width_px)
    return TITLE_BAND_PX + (rows * LEGEND_ROW_PX + 6 if rows else 0)


LEGEND = {
    "orientation": "h",
    "x": 0.0,
    "xanchor": "left",
    "y": 1.0,
    "yanchor": "bottom",
    "yref": "paper",
    "bgcolor": "rgba(255,255,255,0)",
}
"""The legend in its own row(s) between the title band and the plot: never over the title, the
mode bar or the data (the top margin is reserved for it by :func:`top_margin`)."""


def note_lines(note: str | None, width: int = NOTE_CHARS) -> list[str]:
    """A note wrapped into lines of at most ``width`` characters (no line for no note)."""
    if not note:
        return []
    return textwrap.wrap(note, width=width, break_long_words=False, break_on_hyphens=False)


def with_note(x_title: str, note: str | None, width: int = NOTE_CHARS) -> str:
    """The x-axis title with the note written under it in small grey lines.

    The note is part of the axis title so that Plotly's automatic margins place it under the tick
    labels and the title, whatever their height (rotated dates, two-line times): a note drawn
    as a paper annotation sits at a fixed fraction of the plot and was printed over the title.
    """
    lines = note_lines(note, width)
    if not lines:
        return x_title
    style = f"font-size:11px;color:{NEUTRAL}"
    body = "<br>".join(
        f'<span style="{style}">{html.escape(line, quote=False)}</span>' for line in lines
    )
    return f"{x_title}<br>{body}" if x_title else body


def legend_names(data: Any) -> list[str]:
    """Names of the traces a Plotly legend shows for ``data`` (a figure's traces or their dicts):
    none for a single trace unless asked, never the traces hidden from it."""
    traces = [t if isinstance(t, dict) else t.to_plotly_json() for t in data]
    shown = [
        str(t.get("name") or "")
        for t in traces
        if t.get("showlegend") is not False and t.get("type") not in ("heatmap",)
    ]
    return shown if len(shown) > 1 or any(t.get("showlegend") for t in traces) else []


# -- numbers on the axes: money in the unit the title names, never SI suffixes --------------------


@dataclass(frozen=True)
class Scale:
    """A money scale for one axis: values are divided by ``size`` and the axis title names
    ``word`` (``USD bn``); ticks are plain numbers, never Plotly's SI ``G``/``M``."""

    size: float
    word: str

    def unit(self, currency: str = "USD") -> str:
        """``USD bn`` (``USD`` for whole dollars)."""
        return f"{currency} {self.word}".strip()

    def __call__(self, values: Any) -> Any:
        """``values`` (a number, array or Series) in this scale."""
        return values / self.size

    def hover(
        self, axis: str = "y", *, signed: bool = True, digits: int = 2, currency: str = "USD"
    ) -> str:
        """Hover text of a scaled value: ``%{y:+,.2f} bn USD``."""
        word = f" {self.word}" if self.word else ""
        return f"%{{{axis}:{'+' if signed else ''},.{digits}f}}{word} {currency}"


_SCALE_WORDS = {"k": "thousands"}


def money_scale(*values: Any) -> Scale:
    """The scale of the largest finite amount among ``values`` (arrays, Series or numbers), by
    :data:`flows.money.SCALES` (bn from 1e9, mn from 1e6, thousands from 1e3; else whole USD)."""
    arrays = [
        np.asarray(pd.to_numeric(pd.Series(np.ravel(v)), errors="coerce"), dtype=float)
        for v in values
    ]
    finite_abs = (
        np.concatenate([np.abs(a[np.isfinite(a)]) for a in arrays]) if arrays else np.array([])
    )
    largest = float(finite_abs.max()) if finite_abs.size else 0.0
    for name, size in money.SCALES:
        if largest >= size:
            return Scale(size, _SCALE_WORDS.get(name, name))
    return Scale(1.0, "")


PLAIN_TICKS = {
    "exponentformat": "none",
    "separatethousands": True,
    "tickprefix": "",
    "tickformat": "",
}
"""Tick labels as plain numbers with thousands separators: no SI suffix (``5G``, ``11.3k``), the
unit is in the axis title.  Plotly still chooses the decimals from the tick step, so labels never
repeat."""

SECONDARY_Y = {
    **PLAIN_TICKS,
    "tickmode": "auto",
    "showgrid": False,
    "zeroline": False,
    "automargin": True,
}
"""A right-hand axis: its own round ticks (Plotly syncs an overlaying axis to the left axis's grid
by default, which gave ticks like 41.1, 60.8, 80.5) and no second grid."""


def plain_axis(fig: go.Figure, axis: str = "y", **extra: Any) -> go.Figure:
    """Plain number ticks on ``axis`` (:data:`PLAIN_TICKS`): money already in the scale its title
    names (:func:`money_scale`), contracts and other counts written in full."""
    fig.update_layout({f"{axis}axis": {**PLAIN_TICKS, **extra}})
    return fig


def padded_range(values: Any, *, min_span: float) -> list[float] | None:
    """An axis range around ``values`` at least ``min_span`` wide (None when Plotly's own range is
    wide enough or there is no value): a series that barely moves (two intraday versions of the
    same day) would otherwise get ticks a millionth apart."""
    v = np.asarray(pd.to_numeric(pd.Series(np.ravel(values)), errors="coerce"), dtype=float)
    v = v[np.isfinite(v)]
    if not v.size or not np.isfinite(min_span) or min_span <= 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    if hi - lo >= min_span:
        return None
    mid = (lo + hi) / 2.0
    return [mid - min_span / 2.0, mid + min_span / 2.0]


def zero_aligned_ranges(*series: Any, pad: float = 0.05) -> list[list[float]] | None:
    """Ranges for axes drawn over each other (a left and a right axis) whose zeros sit at the
    same height, each holding its own values and zero (None without finite values).  Two
    measures of the same trade (USD and contracts) then cross zero together instead of showing
    two zero lines."""
    bounds = []
    for values in series:
        v = np.asarray(pd.to_numeric(pd.Series(np.ravel(values)), errors="coerce"), dtype=float)
        v = v[np.isfinite(v)]
        if not v.size:
            return None
        bounds.append((min(0.0, float(v.min())), max(0.0, float(v.max()))))
    # The share of the height below zero: the largest axis's share, unless that axis lies wholly
    # below zero while another rises above it (then the largest share of the others).
    shares = [(-lo / (hi - lo)) if hi > lo else 0.0 for lo, hi in bounds]
    share = max(shares)
    if share >= 1.0 and any(hi > 0.0 for _lo, hi in bounds):
        share = max([s for s in shares if s < 1.0] + [0.5])
    out = []
    for lo, hi in bounds:
        if share >= 1.0:
            span = -lo
        elif share <= 0.0:
            span = hi
        else:
            span = max(-lo / share, hi / (1.0 - share))
        span = span or 1.0
        out.append([-share * span - pad * span, (1.0 - share) * span + pad * span])
    return out


DAY_MS = 86_400_000
DATE_TICKS = [
    {"dtickrange": [None, 1000], "value": "%H:%M:%S.%L<br>%Y-%m-%d"},
    {"dtickrange": [1000, 60_000], "value": "%H:%M:%S<br>%Y-%m-%d"},
    {"dtickrange": [60_000, DAY_MS], "value": "%H:%M<br>%Y-%m-%d"},
    {"dtickrange": [DAY_MS, "M1"], "value": "%Y-%m-%d"},
    {"dtickrange": ["M1", "M12"], "value": "%b %Y"},
    {"dtickrange": ["M12", None], "value": "%Y"},
]
"""Date tick labels by tick step: a day or more shows the date (``2026-11-30``), less shows the
time over the date.  Every label names its step's unit, so no two ticks read the same."""


def date_axis(
    fig: go.Figure | dict,
    times: Any = None,
    *,
    axis: str = "x",
    min_span: pd.Timedelta | None = None,
) -> go.Figure | dict:
    """A date axis with :data:`DATE_TICKS`; with ``min_span`` the range is widened around
    ``times`` (tz-naive, in the zone the title names) to at least that span, so a few publishes
    seconds apart are not drawn on a millisecond scale."""
    spec: dict[str, Any] = {"type": "date", "tickformatstops": DATE_TICKS}
    if min_span is not None and times is not None:
        t = pd.to_datetime(pd.Series(np.ravel(times))).dropna()
        if len(t) and t.max() - t.min() < min_span:
            mid = t.min() + (t.max() - t.min()) / 2
            spec["range"] = [
                (mid - min_span / 2).strftime("%Y-%m-%d %H:%M:%S"),
                (mid + min_span / 2).strftime("%Y-%m-%d %H:%M:%S"),
            ]
    key = f"{axis}axis" if len(axis) == 1 else f"{axis[0]}axis{axis[1:]}"
    if isinstance(fig, dict):
        fig.setdefault(key, {}).update(spec)
        return fig
    fig.update_layout({key: spec})
    return fig


_HOUSE_OBJ: go.Layout | None = None


def _house_layout() -> go.Layout:
    """The house layout validated once per process (assigning a validated ``go.Layout`` costs a
    copy, not a walk through Plotly's validators: ~15 ms instead of ~55 ms per figure)."""
    global _HOUSE_OBJ
    if _HOUSE_OBJ is None:
        _HOUSE_OBJ = go.Layout(**_HOUSE, legend=LEGEND, hovermode="x unified", modebar=MODEBAR)
    return _HOUSE_OBJ


def styled(
    fig: go.Figure,
    *,
    title: str,
    x_title: str,
    y_title: str,
    note: str | None = None,
    height: int = 380,
    wide: bool = False,
) -> go.Figure:
    """Apply the house layout.  ``x_title`` / ``y_title`` must include the unit, e.g. ``"Spot (index points)"``.

    The frame, top to bottom: the title band (title left, mode bar right), the legend's rows
    (reserved from the trace names, :func:`top_margin`), the plot, the tick labels, the x-axis
    title and under it the note (:func:`with_note`).  ``height`` is the plot's share: the note's
    lines and extra legend rows are added to it, so every chart keeps its plot area.  ``wide``: the
    chart spans the page (legend and note laid out for :data:`WIDE_PX`, :data:`WIDE_NOTE_CHARS`).

    What the figure's layout already holds (bar mode, lines and notes added before) is kept over
    the house look; ``uirevision`` is the title, so a user's zoom survives the page's redraws of
    the same view (a new underlying or trader class has a new title and starts unzoomed).
    Title, axis titles, note, annotations and legend entries are shown in the display rule
    (:func:`dashboard.display.minus_signs`: ``−3%``).
    """
    title, x_title, y_title = minus_signs(title), minus_signs(x_title), minus_signs(y_title)
    note = minus_signs(note) if note else note
    for trace in fig.data:  # legend entries: "NVDD (−1x)"
        if isinstance(trace.name, str):
            trace.name = minus_signs(trace.name)
    prior = fig.layout.to_plotly_json()
    prior.pop(
        "template", None
    )  # Plotly's default template: ~7 kB per figure, replaced by the house look
    for note_ in prior.get("annotations", ()):
        if isinstance(note_.get("text"), str):
            note_["text"] = minus_signs(note_["text"])
    fig.layout = _house_layout()
    names = legend_names(fig.data)
    top = top_margin(names, WIDE_PX if wide else LEGEND_WIDTH_PX)
    chars = WIDE_NOTE_CHARS if wide else NOTE_CHARS
    lines = note_lines(note, chars)
    fig.update_layout(
        prior,
        title=title_layout(title),
        xaxis_title_text=with_note(x_title, note, chars),
        yaxis_title_text=y_title,
        height=height + len(lines) * NOTE_LINE_PX + max(0, top - TITLE_BAND_PX - LEGEND_ROW_PX - 6),
        margin={"l": 60, "r": 20, "t": top, "b": 40},
        uirevision=title,
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
