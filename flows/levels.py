"""Key levels and the expiry calendar: where dealer gamma sits and when it rolls off.

Pure: figures of the published gamma results in, frames out (no I/O, no clock; the dates of the
calendar are given by the caller, from :mod:`flows.calendars`).

* :func:`key_levels`: per underlying, spot, the gamma flip, the call and put walls, the
  abs-gamma strike (largest ``|call GEX| + |put GEX|``), each with its distance from spot
  ``(level / spot - 1) x 100`` in %, the 0DTE share of gross GEX, net GEX and the regime.
* :func:`expiry_calendar`: for each of the next dated events (monthly OPEX, VIX expiry, quarter
  end), per underlying with expiries settling that day, the spot GEX of those expiries: net,
  gross, and the share of the underlying's gross GEX that rolls off (``gross of the day / gross
  of every expiry``); an underlying with nothing rolling off has no row (no rows of zeros).
  The GEX "rolling off" is what the dealers' hedge loses when those contracts settle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

LEVELS = ("flip", "call_wall", "put_wall", "abs_gamma_strike")
"""Levels of :func:`key_levels`, each with a ``<level>_distance_pct`` column."""

LEVEL_COLUMNS = (
    "underlying",
    "spot",
    *(c for lv in LEVELS for c in (lv, f"{lv}_distance_pct")),
    "zero_dte_share",
    "net_gex_usd_per_1pct",
    "regime",
)


def _num(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return x if np.isfinite(x) else float("nan")


def key_levels(headlines: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per underlying of ``headlines`` (``gamma.<U>`` headline dicts: ``spot``, ``flip``,
    ``call_wall``, ``put_wall``, ``abs_gamma_strike``, ``zero_dte_share``, ``net_gex_usd_per_1pct``,
    ``regime``), columns :data:`LEVEL_COLUMNS`.  Levels and spot in the underlying's price units,
    distances in % of spot (negative: below spot), the 0DTE share a fraction (0-1), net GEX USD per
    1 % move.  A missing level is NaN (no flip in the window, ...)."""
    names = list(headlines)
    out = pd.DataFrame({"underlying": pd.Series(names, dtype=str)})
    spot = np.array([_num(headlines[u].get("spot")) for u in names], dtype=float)
    out["spot"] = spot
    with np.errstate(divide="ignore", invalid="ignore"):
        for lv in LEVELS:
            level = np.array([_num(headlines[u].get(lv)) for u in names], dtype=float)
            out[lv] = level
            out[f"{lv}_distance_pct"] = np.where(spot > 0, (level / spot - 1.0) * 100.0, np.nan)
    out["zero_dte_share"] = np.array(
        [_num(headlines[u].get("zero_dte_share")) for u in names], dtype=float
    )
    out["net_gex_usd_per_1pct"] = np.array(
        [_num(headlines[u].get("net_gex_usd_per_1pct")) for u in names], dtype=float
    )
    out["regime"] = pd.Series([str(headlines[u].get("regime") or "") for u in names], dtype=str)
    return out[list(LEVEL_COLUMNS)]


CALENDAR_COLUMNS = (
    "date",
    "events",
    "underlying",
    "expiries",
    "net_gex_usd_per_1pct",
    "gross_gex_usd_per_1pct",
    "share_of_gross",
)


def _day(values: object) -> pd.DatetimeIndex:
    """Dates (timestamps, strings, tz-aware or naive) as naive midnight dates."""
    idx = pd.DatetimeIndex(pd.to_datetime(values))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize()


def expiry_calendar(
    by_expiry: Mapping[str, pd.DataFrame],
    events: Mapping[str, Sequence[object]],
    *,
    start: object,
    count: int = 6,
) -> pd.DataFrame:
    """GEX rolling off at each of the next ``count`` event dates on or after ``start``.

    ``by_expiry``: per underlying the gamma result's ``by_expiry`` table (``expiry`` date,
    ``net_gex_usd_per_1pct``, ``gross_gex_usd_per_1pct``); ``events``: event name (``OPEX``,
    ``VIX expiry``, ``quarter end``) -> its dates.  Returns :data:`CALENDAR_COLUMNS`: one row per
    event date and underlying *whose GEX rolls off that day* (dates with the same day merged,
    their names joined), ``expiries`` the listed expiries settling that day (count), GEX in USD per
    1 % move, ``share_of_gross`` a fraction (0-1) of the underlying's gross GEX over every expiry.

    An underlying with nothing settling on an event date (or only expiries without gross GEX, no
    open interest) has no row that day: a VIX expiry is listed for VIX options, and for an index
    only when it has an expiry that Wednesday (SPX dailies).  An event date where nothing rolls off
    for any underlying is left out, and ``count`` counts the dates that remain, so the calendar
    still shows the next ``count`` dates where dealer hedges change.
    """
    start_day = _day([start])[0]
    labelled: dict[pd.Timestamp, list[str]] = {}
    for name, days in events.items():
        for d in _day(list(days)):
            if d >= start_day:
                labelled.setdefault(d, []).append(name)
    event_days = pd.DatetimeIndex(sorted(labelled))
    frames: list[pd.DataFrame] = []
    for u, table in by_expiry.items():
        if table is None or table.empty:
            continue
        net = table["net_gex_usd_per_1pct"].to_numpy(dtype=float)
        gross = table["gross_gex_usd_per_1pct"].to_numpy(dtype=float)
        gross_all = float(np.nansum(gross))
        per_day = (
            pd.DataFrame({"date": _day(table["expiry"]), "net": net, "gross": gross})
            .loc[lambda t: t["date"].isin(event_days)]
            .groupby("date", sort=True)
            .agg(
                expiries=("net", "size"),
                net_gex_usd_per_1pct=("net", "sum"),  # NaN-skipping sums
                gross_gex_usd_per_1pct=("gross", "sum"),
            )
            .reset_index()
        )
        per_day.insert(1, "underlying", str(u))
        per_day["share_of_gross"] = (
            per_day["gross_gex_usd_per_1pct"] / gross_all if gross_all > 0 else np.nan
        )
        frames.append(per_day)
    rows = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[c for c in CALENDAR_COLUMNS if c != "events"])
    )
    rows = rows[rows["gross_gex_usd_per_1pct"].astype(float) > 0]  # GEX rolls off there
    kept = pd.DatetimeIndex(sorted(rows["date"].unique()))[:count]
    rows = rows[rows["date"].isin(kept)]
    rows["events"] = [", ".join(labelled[pd.Timestamp(d)]) for d in rows["date"]]
    out = rows.reindex(columns=list(CALENDAR_COLUMNS))
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    for c in ("events", "underlying"):
        out[c] = out[c].astype(str)
    out["expiries"] = out["expiries"].astype("int64")
    for c in ("net_gex_usd_per_1pct", "gross_gex_usd_per_1pct", "share_of_gross"):
        out[c] = out[c].astype(float)
    return out.sort_values(["date", "underlying"], kind="stable").reset_index(drop=True)
