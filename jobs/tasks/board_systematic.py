"""The board's systematic components and positioning panel (used by :mod:`jobs.tasks.board`).

Horizons, never mixed silently
------------------------------
Every component of the mechanical flow is published with **when** it trades and **in what**:

==================  ===========================  ===============  =====================================
component           horizon                      group            figure at the board's flag move
==================  ===========================  ===============  =====================================
dealers             today (into the close)       today            the board grid (gamma+vanna+charm)
leveraged ETFs      today (into the close)       today            the board grid
VIX ETPs            today (into the close)       today            today's rebalance, in VX futures
vol-control funds   next sessions (lagged)       this week        shock grid, flow over 5 sessions
CTAs                this week                    this week        shock grid, position change
==================  ===========================  ===============  =====================================

The index move of the board (``[board] flag_move_pct`` of ``[board] index``) is mapped to the
vol-control / CTA index by the ratio of their betas (``[board] betas``, as the scenario engine maps
underlyings) and read off each engine's published one-day shock grid (linear interpolation
between its 0.5 % points).  ``horizon_totals`` sums the included components per horizon group
and instrument (index and stock futures/shares vs VX futures): a total never adds a today flow to
a this-week one, nor VX futures to index futures.  A missing or stale input is listed with the
reason and left out of every total; a daily input is used while its as-of is the last closed
session or the one before.

Positioning panel
-----------------
FX (``cftc.net_usd``: the headline basket's net USD), equity index and rates
(``cftc.futures_positioning``: asset managers and leveraged funds in the E-mini S&P 500 and the
10-year note, plus the rates total DV01), side by side with their 3-year percentile and z-score
and the previous 3-year extremes (FX: the previous cycle peak and trough).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from flows import calendars
from jobs.store import ResultNotFound, ResultStore

TODAY = "today"
WEEK = "this week"
INDEX_INSTRUMENT = "index futures / stocks"
VX_INSTRUMENT = "VX futures"
SYSTEMATIC_COLUMNS = [
    "component",
    "horizon",
    "horizon_group",
    "instrument",
    "usd",
    "basis",
    "source",
    "as_of",
    "included",
    "note",
]
TOTAL_COLUMNS = ["horizon_group", "instrument", "usd", "components"]
POSITIONING_COLUMNS = [
    "panel",
    "market",
    "trader_class",
    "net",
    "net_unit",
    "percentile_3y",
    "zscore_3y",
    "previous_max_3y",
    "previous_min_3y",
    "distance_to_max",
    "distance_to_min",
    "exposure",
    "exposure_unit",
    "as_of",
    "source",
]
PANEL_MARKETS = (("equity_index", "ES"), ("rates", "ZN"))
PANEL_CLASSES = ("asset_manager", "leveraged_funds")


def _read(store: ResultStore, name: str) -> Any:
    try:
        return store.read(name)
    except ResultNotFound:
        return None


def _fresh(meta: Any, now: datetime, calendar: str) -> tuple[bool, str]:
    """A daily result is used when its data (as-of) is of the last closed session or the one
    before (one session of grace: the board runs before the evening refresh)."""
    from jobs.tasks.prices import last_closed_session

    if meta is None:
        return False, "missing: never published"
    if meta.status == "stale":
        return (
            False,
            f"stale: last refresh failed ({(meta.failure or {}).get('error', 'unknown error')})",
        )
    last = last_closed_session(pd.Timestamp(now), calendar)
    oldest = calendars.session_on_or_before([last - pd.Timedelta(days=1)], calendar)[0]
    day = (
        pd.Timestamp(meta.as_of).tz_localize(None).normalize()
        if pd.Timestamp(meta.as_of).tzinfo is None
        else pd.Timestamp(meta.as_of).tz_convert("America/New_York").tz_localize(None).normalize()
    )
    if day < oldest:
        return (
            False,
            f"stale: data as of {day.date()}, older than the session before the last close ({oldest.date()})",
        )
    return True, "ok"


def mapped_move(settings: Any, index: str) -> float:
    """The board's flag move expressed as a move of ``index`` (beta ratio)."""
    cfg = settings.board
    b_board = float(cfg.betas.get(cfg.index, 1.0)) or 1.0
    return float(cfg.flag_move_pct) * float(cfg.betas.get(index, cfg.default_beta)) / b_board


def components(
    settings: Any, store: ResultStore, now: datetime, totals: pd.DataFrame | None
) -> pd.DataFrame:
    """The ``systematic`` table (:data:`SYSTEMATIC_COLUMNS`), one row per component."""
    cfg = settings.board
    cal = settings.scheduler.calendar
    rows: list[dict[str, Any]] = []
    flag = float(cfg.flag_move_pct)
    grid_row = None
    if totals is not None and len(totals):
        sel = totals[
            np.isclose(totals["iv_shock_pts"], 0.0) & np.isclose(totals["index_move_pct"], flag)
        ]
        grid_row = sel.iloc[0] if len(sel) else None
    basis = f"board grid at {cfg.index} {flag:+g} %, no IV shock"
    for comp, value in (
        (
            "dealers",
            None if grid_row is None else float(grid_row["total_usd"] - grid_row["letf_usd"]),
        ),
        ("leveraged ETFs", None if grid_row is None else float(grid_row["letf_usd"])),
    ):
        rows.append(
            {
                "component": comp,
                "horizon": "today (into the close)",
                "horizon_group": TODAY,
                "instrument": INDEX_INSTRUMENT,
                "usd": value,
                "basis": basis,
                "source": "board.scenarios (gamma.*, letf.flows)",
                "as_of": "",
                "included": value is not None,
                "note": "ok" if value is not None else "no board grid",
            }
        )
    etp = _read(store, "vixetp.flows")
    ok, note = _fresh(etp.meta if etp else None, now, cal)
    rows.append(
        {
            "component": "VIX ETPs",
            "horizon": "today (into the close)",
            "horizon_group": TODAY,
            "instrument": VX_INSTRUMENT,
            "usd": etp.meta.headline.get("rebalance_usd") if etp and ok else None,
            "basis": "today's rebalance for the VX move of the session (A (L^2 - L) R)",
            "source": "vixetp.flows",
            "as_of": etp.meta.as_of if etp else "",
            "included": ok,
            "note": note,
        }
    )
    vc_index = (
        settings.systematic.volcontrol_indices[0]
        if settings.systematic.volcontrol_indices
        else None
    )
    if vc_index:
        res = _read(store, f"volcontrol.{vc_index}")
        ok, note = _fresh(res.meta if res else None, now, cal)
        move = mapped_move(settings, vc_index)
        value = None
        if res is not None and ok:
            g = res.table("shock_grid").sort_values("shock_pct")
            value = float(np.interp(move, g["shock_pct"], g["flow_1w_usd"]))
        rows.append(
            {
                "component": "vol-control funds",
                "horizon": "next sessions (lagged)",
                "horizon_group": WEEK,
                "instrument": INDEX_INSTRUMENT,
                "usd": value,
                "basis": f"flow over 5 sessions after a {move:+.2f} % {vc_index} day (shock grid; the first session is already fixed by the lag)",
                "source": f"volcontrol.{vc_index}",
                "as_of": res.meta.as_of if res else "",
                "included": ok,
                "note": note,
            }
        )
    cta_index = settings.systematic.cta_indices[0] if settings.systematic.cta_indices else None
    if cta_index:
        res = _read(store, f"cta.{cta_index}")
        ok, note = _fresh(res.meta if res else None, now, cal)
        move = mapped_move(settings, cta_index)
        value = None
        if res is not None and ok:
            g = res.table("shock_grid").sort_values("shock_pct")
            value = float(np.interp(move, g["shock_pct"], g["flow_usd"]))
        rows.append(
            {
                "component": "CTAs",
                "horizon": "this week",
                "horizon_group": WEEK,
                "instrument": INDEX_INSTRUMENT,
                "usd": value,
                "basis": f"position change after a {move:+.2f} % {cta_index} day (shock grid), executed over the week",
                "source": f"cta.{cta_index}",
                "as_of": res.meta.as_of if res else "",
                "included": ok,
                "note": note,
            }
        )
    out = pd.DataFrame(rows, columns=SYSTEMATIC_COLUMNS)
    out["usd"] = pd.to_numeric(out["usd"], errors="coerce").astype(float)
    out["included"] = out["included"].astype(bool) & out["usd"].notna()
    for c in (
        "component",
        "horizon",
        "horizon_group",
        "instrument",
        "basis",
        "source",
        "as_of",
        "note",
    ):
        out[c] = out[c].astype(str)
    return out


def horizon_totals(systematic: pd.DataFrame) -> pd.DataFrame:
    """Included components summed per horizon group and instrument (:data:`TOTAL_COLUMNS`)."""
    inc = systematic[systematic["included"]]
    rows = []
    for (group, instrument), part in inc.groupby(["horizon_group", "instrument"], sort=False):
        rows.append(
            {
                "horizon_group": group,
                "instrument": instrument,
                "usd": float(part["usd"].sum()),
                "components": ", ".join(part["component"]),
            }
        )
    out = pd.DataFrame(rows, columns=TOTAL_COLUMNS)
    out["usd"] = out["usd"].astype(float)
    for c in ("horizon_group", "instrument", "components"):
        out[c] = out[c].astype(str)
    return out


def positioning(settings: Any, store: ResultStore) -> pd.DataFrame:
    """The positioning panel (:data:`POSITIONING_COLUMNS`): FX, equity index and rates side by side."""
    rows: list[dict[str, Any]] = []
    fx = _read(store, "cftc.net_usd")
    if fx is not None:
        h = fx.meta.headline
        basket = h.get("basket") or settings.cftc.headline_basket
        series = fx.meta.extra.get("headline_series") or f"net_usd_{basket}"
        net = h.get(f"net_usd_{basket}")
        peaks = fx.tables.get("peaks", pd.DataFrame())
        pk = peaks[peaks["series"] == series] if "series" in peaks.columns else peaks.iloc[0:0]
        hi = float(pk.loc[pk["kind"] == "peak", "value_usd"].max()) if len(pk) else np.nan
        lo = float(pk.loc[pk["kind"] == "trough", "value_usd"].min()) if len(pk) else np.nan
        rows.append(
            {
                "panel": "FX",
                "market": f"net USD ({basket})",
                "trader_class": "speculators",
                "net": net,
                "net_unit": "USD",
                "percentile_3y": h.get("percentile_3y"),
                "zscore_3y": h.get("zscore_3y"),
                "previous_max_3y": hi,
                "previous_min_3y": lo,
                "exposure": net,
                "exposure_unit": "USD (+ = long USD)",
                "as_of": str(h.get("as_of") or fx.meta.as_of),
                "source": "cftc.net_usd",
            }
        )
    fp = _read(store, "cftc.futures_positioning")
    if fp is not None:
        latest = fp.tables.get("latest", pd.DataFrame())
        ext = fp.tables.get("extremes", pd.DataFrame())
        for group, sym in PANEL_MARKETS:
            for cls in PANEL_CLASSES:
                r = latest[(latest["symbol"] == sym) & (latest["trader_class"] == cls)]
                if r.empty:
                    continue
                r = r.iloc[0]
                e = ext[
                    (ext["symbol"] == sym) & (ext["trader_class"] == cls) & (ext["window"] == "3y")
                ]
                e = e.iloc[0] if len(e) else None
                expo, unit = (
                    (r["dv01_usd_per_bp"], "USD per basis point (+ = long duration)")
                    if group == "rates"
                    else (r["notional_usd"], "USD notional")
                )
                rows.append(
                    {
                        "panel": "rates" if group == "rates" else "equity index",
                        "market": sym,
                        "trader_class": cls,
                        "net": r["net_contracts"],
                        "net_unit": "contracts",
                        "percentile_3y": r.get("percentile_3y"),
                        "zscore_3y": r.get("zscore_3y"),
                        "previous_max_3y": None if e is None else e["previous_max_contracts"],
                        "previous_min_3y": None if e is None else e["previous_min_contracts"],
                        "exposure": expo,
                        "exposure_unit": unit,
                        "as_of": fp.meta.headline.get("as_of") or "",
                        "source": "cftc.futures_positioning",
                    }
                )
        for cls in PANEL_CLASSES:
            total = fp.meta.headline.get(f"rates_{cls}_dv01_usd_per_bp")
            if total is not None:
                rows.append(
                    {
                        "panel": "rates",
                        "market": "all Treasury and SOFR futures",
                        "trader_class": cls,
                        "net": np.nan,
                        "net_unit": "",
                        "percentile_3y": np.nan,
                        "zscore_3y": np.nan,
                        "previous_max_3y": np.nan,
                        "previous_min_3y": np.nan,
                        "exposure": total,
                        "exposure_unit": "USD per basis point (+ = long duration)",
                        "as_of": fp.meta.headline.get("as_of") or "",
                        "source": "cftc.futures_positioning",
                    }
                )
    out = pd.DataFrame(rows, columns=POSITIONING_COLUMNS)
    for c in (
        "net",
        "percentile_3y",
        "zscore_3y",
        "previous_max_3y",
        "previous_min_3y",
        "exposure",
    ):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    out["distance_to_max"] = out["net"] - out["previous_max_3y"]
    out["distance_to_min"] = out["net"] - out["previous_min_3y"]
    for c in ("panel", "market", "trader_class", "net_unit", "exposure_unit", "as_of", "source"):
        out[c] = out[c].astype(str)
    return out[POSITIONING_COLUMNS]


def headline(
    systematic: pd.DataFrame, totals: pd.DataFrame, store: ResultStore, settings: Any
) -> dict[str, Any]:
    """Board headline keys of the systematic components (None when left out)."""

    def comp(name: str) -> float | None:
        r = systematic[(systematic["component"] == name) & systematic["included"]]
        return float(r["usd"].iloc[0]) if len(r) else None

    def tot(group: str) -> float | None:
        r = totals[(totals["horizon_group"] == group) & (totals["instrument"] == INDEX_INSTRUMENT)]
        return float(r["usd"].iloc[0]) if len(r) else None

    out = {
        "today_index_usd_at_flag_move": tot(TODAY),
        "week_index_usd_at_flag_move": tot(WEEK),
        "vixetp_rebalance_usd": comp("VIX ETPs"),
        "volcontrol_usd_at_flag_move": comp("vol-control funds"),
        "cta_usd_at_flag_move": comp("CTAs"),
    }
    cta_index = settings.systematic.cta_indices[0] if settings.systematic.cta_indices else None
    res = _read(store, f"cta.{cta_index}") if cta_index else None
    out["cta_nearest_trigger_distance_pct"] = (
        res.meta.headline.get("nearest_trigger_distance_pct") if res else None
    )
    return out


# -- the morning brief -------------------------------------------------------------------------
BRIEF_KEYS = (
    "volcontrol_flow_usd_1d",
    "volcontrol_flow_usd_1w_flat",
    "cta_nearest_trigger",
    "cta_nearest_trigger_level",
    "cta_nearest_trigger_distance_pct",
    "vixetp_rebalance_usd",
    "vixetp_rebalance_contracts",
    "futures_crowding_flags",
    "futures_flagged",
)
"""Headline keys the brief adds (declared in :mod:`jobs.declarations.board`)."""


def brief_figures(settings: Any) -> dict[str, str]:
    """Brief headline key -> label of the figure compared from one brief to the next."""
    return {
        "volcontrol_flow_usd_1d": "Vol-control flow next session (USD)",
        "cta_nearest_trigger_distance_pct": "CTA nearest trigger distance (%)",
        "vixetp_rebalance_usd": "VIX ETP rebalance (USD)",
        "futures_crowding_flags": "Futures crowding flags (count)",
    }


def brief_headline(settings: Any, store: ResultStore) -> tuple[dict[str, Any], list[str]]:
    """The systematic and futures-positioning figures of the brief and their text lines (a
    missing result gives None and no line)."""
    from flows.money import format_usd

    def bn(v: Any) -> str:
        return format_usd(v, scale="bn", style="code")

    head: dict[str, Any] = dict.fromkeys(BRIEF_KEYS)
    lines: list[str] = []
    s = settings.systematic
    if s.volcontrol_indices:
        idx = s.volcontrol_indices[0]
        res = _read(store, f"volcontrol.{idx}")
        if res is not None:
            h = res.meta.headline
            head["volcontrol_flow_usd_1d"], head["volcontrol_flow_usd_1w_flat"] = (
                h.get("flow_usd_1d"),
                h.get("flow_usd_1w_flat"),
            )
            lines.append(
                f"Vol-control ({idx}, next sessions, lagged): {bn(h.get('flow_usd_1d'))} at the next close, {bn(h.get('flow_usd_1w_flat'))} over 5 sessions if prices stay put (exposure {100 * float(h.get('exposure') or 0):.0f} % of AUM)"
            )
    if s.cta_indices:
        idx = s.cta_indices[0]
        res = _read(store, f"cta.{idx}")
        if res is not None:
            h = res.meta.headline
            (
                head["cta_nearest_trigger"],
                head["cta_nearest_trigger_level"],
                head["cta_nearest_trigger_distance_pct"],
            ) = (
                h.get("nearest_trigger"),
                h.get("nearest_trigger_level"),
                h.get("nearest_trigger_distance_pct"),
            )
            if h.get("nearest_trigger_level") is not None:
                lines.append(
                    f"CTAs ({idx}, this week): nearest trigger {h.get('nearest_trigger')} at {float(h['nearest_trigger_level']):,.2f} ({float(h['nearest_trigger_distance_pct']):+.2f} % from the close); position {bn(h.get('position_usd'))}"
                )
    res = _read(store, "vixetp.flows")
    if res is not None:
        h = res.meta.headline
        head["vixetp_rebalance_usd"], head["vixetp_rebalance_contracts"] = (
            h.get("rebalance_usd"),
            h.get("rebalance_contracts"),
        )
        if h.get("rebalance_contracts") is not None:
            lines.append(
                f"VIX ETPs (today, VX futures): rebalance {bn(h.get('rebalance_usd'))} = {float(h['rebalance_contracts']):+,.0f} contracts"
            )
    res = _read(store, "cftc.futures_positioning")
    if res is not None:
        h = res.meta.headline
        head["futures_crowding_flags"], head["futures_flagged"] = (
            h.get("crowding_flags"),
            h.get("flagged") or "",
        )
        lines.append(
            f"Futures positioning (CFTC {h.get('as_of')}): {h.get('crowding_flags', 0)} crowding flag(s)"
            + (f": {h['flagged']}" if h.get("flagged") else "")
        )
    return head, lines
