"""De-risking board and morning brief: combine the cached gamma, leveraged-ETF and CFTC results.

Tasks
-----
``board``
    Reads ``gamma.<U>`` (the ``contracts`` table and headline of each configured underlying),
    ``letf.flows`` (``funds`` and ``by_underlying``) and ``cftc.net_usd`` from the store, checks
    each input's freshness (``[board].max_input_age_hours`` by family, and the stale mark of a
    failed refresh), leaves stale or missing inputs out of the totals (listed in ``inputs`` with
    the reason, never silently mixed), and publishes ``board.scenarios`` from
    :mod:`flows.scenarios`.
``brief``
    After the morning refresh: a one-page summary ``board.brief`` (gamma regime and flip distance
    for the main indices, leveraged-ETF USD per 1 %, net USD position and its percentile, the
    biggest changes since the previous brief), kept in history by date, and sent as a digest to
    alert targets that ask for it.

The same input loading serves ``flowdesk scenario`` (:func:`load_inputs`, :func:`explicit_scenario`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from flows import calendars, formatting, levels, scenarios
from flows import cftc as cftc_analytics
from flows.errors import FlowdeskError
from flows.formatting import format_value
from flows.money import format_usd
from flows.units import Unit as U
from jobs import declarations
from jobs.config import Settings
from jobs.store import ResultMeta, ResultNotFound, ResultStore, keys
from jobs.tasks import TaskContext, TaskOutcome, task

RESULT = "board.scenarios"
BRIEF = "board.brief"
LETF_RESULT = "letf.flows"
CFTC_RESULT = "cftc.net_usd"
EXCHANGE_TZ = "America/New_York"
INDEX_ETF = {"NDX": "QQQ", "SPX": "SPY", "RUT": "IWM", "DJX": "DIA"}
"""ETF whose move so far stands for an index's move (leveraged-ETF quotes are of ETFs)."""


@dataclass
class BoardInputs:
    """Everything the scenario engine needs, read from the store, with each input's status."""

    books: dict[str, scenarios.DealerBook] = field(default_factory=dict)
    gamma_headlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    gamma_by_expiry: dict[str, pd.DataFrame] = field(default_factory=dict)
    letf_funds: pd.DataFrame | None = None
    letf_by_underlying: pd.DataFrame | None = None
    letf_headline: dict[str, Any] = field(default_factory=dict)
    cftc_headline: dict[str, Any] = field(default_factory=dict)
    cftc_unwind: pd.DataFrame | None = None
    cftc_unwind_weeks: int = 156
    inputs: list[dict[str, Any]] = field(default_factory=list)
    sample: bool = False

    @property
    def included(self) -> list[dict[str, Any]]:
        return [i for i in self.inputs if i["included"]]


def _status(
    meta: ResultMeta | None, name: str, family: str, max_age_h: float, now: datetime
) -> dict[str, Any]:
    if meta is None:
        return {
            "name": name,
            "family": family,
            "as_of": None,
            "computed_at": None,
            "source": None,
            "age_hours": None,
            "stale": True,
            "included": False,
            "sample": False,
            "note": "missing: never published",
        }
    age_h = (pd.Timestamp(now) - pd.Timestamp(meta.computed_at)).total_seconds() / 3600.0
    note = ""
    if meta.status == "stale":
        note = f"stale: last refresh failed ({(meta.failure or {}).get('error', 'unknown error')})"
    elif age_h > max_age_h:
        note = f"stale: {age_h:.1f} h old (limit {max_age_h:g} h)"
    stale = bool(note)
    return {
        "name": name,
        "family": family,
        "as_of": meta.as_of,
        "computed_at": meta.computed_at,
        "source": meta.source,
        "age_hours": round(age_h, 3),
        "stale": stale,
        "included": not stale,
        "sample": meta.sample,
        "note": note or "ok",
    }


def _meta_or_none(store: ResultStore, name: str) -> ResultMeta | None:
    try:
        return store.meta(name)
    except ResultNotFound:
        return None


def load_inputs(settings: Settings, store: ResultStore, now: datetime) -> BoardInputs:
    """Read and check every input of the board (no computation beyond building dealer books)."""
    cfg = settings.board
    ages = cfg.max_input_age_hours
    out = BoardInputs()
    for u in settings.gamma.underlyings:
        name = f"gamma.{u}"
        meta = _meta_or_none(store, name)
        st = _status(meta, name, "gamma", ages.get("gamma", 36.0), now)
        out.inputs.append(st)
        if meta is None:
            continue
        out.gamma_headlines[u] = dict(meta.headline)
        if not st["included"]:
            continue
        head = meta.headline
        contracts = store.read(name, version=meta.version, tables=["contracts"]).frame
        try:
            out.gamma_by_expiry[u] = store.read(
                name, version=meta.version, tables=["by_expiry"]
            ).frame
        except KeyError:  # a result published before the table existed
            pass
        out.books[u] = scenarios.dealer_book(
            contracts,
            underlying=u,
            spot=float(head["spot"]),
            r=float(head.get("r", settings.gamma.risk_free_rate)),
            q=float(head.get("q", 0.0)),
            convention=str(head.get("convention", "calls_long_puts_short")),
            source=name,
        )
        out.sample |= meta.sample
    _basket_books(settings, store, now, out)
    meta = _meta_or_none(store, LETF_RESULT)
    st = _status(meta, LETF_RESULT, "letf", ages.get("letf", 36.0), now)
    out.inputs.append(st)
    if meta is not None and st["included"]:
        res = store.read(LETF_RESULT, version=meta.version, tables=["funds", "by_underlying"])
        out.letf_funds = res.table("funds")
        out.letf_by_underlying = res.table("by_underlying")
        out.letf_headline = dict(meta.headline)
        out.sample |= meta.sample
    meta = _meta_or_none(store, CFTC_RESULT)
    st = _status(meta, CFTC_RESULT, "cftc", ages.get("cftc", 240.0), now)
    out.inputs.append(st)
    if meta is not None and st["included"]:
        out.cftc_headline = dict(meta.headline)
        unwind = store.read(CFTC_RESULT, version=meta.version, tables=["unwind"]).frame
        series = meta.extra.get("headline_series")
        if series is not None and "series" in unwind.columns:
            unwind = unwind[unwind["series"] == series]
        out.cftc_unwind = unwind.reset_index(drop=True)
        out.cftc_unwind_weeks = int(meta.extra.get("unwind_weeks", 156))
        out.sample |= meta.sample
    return out


def _basket_books(settings: Settings, store: ResultStore, now: datetime, out: BoardInputs) -> None:
    """Dealer books of the members of ``[universe] board_baskets`` (behind config, off by
    default): each member's full tables ``universe.<SYMBOL>`` (the focus list), listed in the
    inputs as family ``basket <name>``; a member already on the board as ``gamma.<U>`` is not
    counted twice, a member without full tables is listed as missing."""
    for basket in settings.universe.board_baskets:
        for sym in settings.universe.baskets.get(basket, []):
            if sym in out.books or sym in settings.gamma.underlyings:
                continue
            name = f"universe.{sym}"
            meta = _meta_or_none(store, name)
            st = _status(
                meta,
                name,
                f"basket {basket}",
                settings.board.max_input_age_hours.get("gamma", 36.0),
                now,
            )
            out.inputs.append(st)
            if meta is None or not st["included"]:
                continue
            head = meta.headline
            contracts = store.read(name, version=meta.version, tables=["contracts"]).frame
            out.books[sym] = scenarios.dealer_book(
                contracts,
                underlying=sym,
                spot=float(head["spot"]),
                r=float(head.get("r", settings.gamma.risk_free_rate)),
                q=float(head.get("q", 0.0)),
                convention=str(head.get("convention", "calls_long_puts_short")),
                source=f"{name} (basket {basket})",
            )
            out.gamma_headlines[sym] = dict(head)
            out.sample |= meta.sample


def hours_to_close(
    now: datetime, configured: float | None, calendar: str = calendars.DEFAULT_CALENDAR
) -> float:
    """Configured hours, else hours from ``now`` to the next session close of the exchange
    calendar (early closes included; after today's close: the next session's close, so a
    pre-open refresh gets a full day of charm)."""
    if configured is not None:
        return float(configured)
    return max(0.0, calendars.hours_to_next_close(pd.Timestamp(now), calendar))


def _adv(inp: BoardInputs, configured: dict[str, float] | None = None) -> dict[str, float]:
    """ADV (USD per day) per underlying: the leveraged-ETF volume file's, else ``[board] adv_usd``
    (indices: their futures' dollar volume)."""
    out = {str(k): float(v) for k, v in (configured or {}).items() if np.isfinite(v) and v > 0}
    t = inp.letf_by_underlying
    if t is None or "adv_usd" not in t.columns:
        return out
    s = t.set_index("underlying")["adv_usd"].astype(float)
    out.update({str(k): float(v) for k, v in s.items() if np.isfinite(v) and v > 0})
    return out


NO_ADV = "no ADV: no volume for it in the leveraged-ETF volume file (indices: set [board] adv_usd from ES/NQ futures volume)"
"""The ranking's note on a row without ADV (kept in the table, never dropped)."""


def _today_move(inp: BoardInputs, index: str) -> float | None:
    t = inp.letf_by_underlying
    if t is None or "move_pct" not in t.columns:
        return None
    moves = t.set_index("underlying")["move_pct"]
    for sym in (index, INDEX_ETF.get(index, index)):
        if sym in moves.index and pd.notna(moves[sym]):
            return float(moves[sym])
    return None


def _fx_table(inp: BoardInputs) -> pd.DataFrame:
    empty = declarations.empty_table(RESULT, "fx")
    if inp.cftc_unwind is None or inp.cftc_unwind.empty:
        return empty
    fx = inp.cftc_unwind[[c for c in empty.columns if c in inp.cftc_unwind.columns]]
    if "scenario" in fx.columns:  # one row per currency and unwind scenario, the scenario said
        fx = fx.sort_values(["scenario", "rank"], kind="stable")
    return fx.reset_index(drop=True)


def fx_readings(inp: BoardInputs) -> dict[str, str]:
    """Per unwind scenario of the headline CFTC series, which way it trades and who benefits
    (:func:`flows.cftc.unwind_reading`): ``{scenario: sentence}``, empty without a CFTC input.
    When net USD is below its target the unwind buys USD and no currency benefits (the FX table's
    ranks are all 0): the board and the brief say so instead of showing a bare column of zeros."""
    if inp.cftc_unwind is None or inp.cftc_unwind.empty:
        return {}
    rows = inp.cftc_unwind
    if "series" not in rows.columns:
        rows = rows.assign(series="headline")
    readings = cftc_analytics.unwind_readings(rows, inp.cftc_unwind_weeks)
    return next(iter(readings.values()), {})


CALENDAR_EVENTS = 6
"""Event dates in the expiry calendar (the next monthly OPEX, VIX expiries and quarter ends)."""


def calendar_events(
    now: datetime, calendar: str = calendars.DEFAULT_CALENDAR, months: int = 4
) -> dict[str, pd.DatetimeIndex]:
    """The dated events of the expiry calendar over the next ``months`` months: SPX monthly
    OPEX, VIX final settlement, quarter end (last session of March, June, September, December)."""
    day = (
        pd.Timestamp(now).tz_convert(EXCHANGE_TZ) if pd.Timestamp(now).tzinfo else pd.Timestamp(now)
    )
    ym = np.arange(months + 1) + day.year * 12 + day.month - 1
    years, mons = ym // 12, ym % 12 + 1
    month_ends = pd.DatetimeIndex(
        [
            pd.Timestamp(int(y), int(m), 1) + pd.offsets.MonthEnd(0)
            for y, m in zip(years, mons, strict=True)
            if m % 3 == 0
        ]
    )
    return {
        "OPEX": calendars.spx_standard_expiry(years, mons, calendar),
        "VIX expiry": calendars.vx_final_settlement(years, mons, calendar),
        "quarter end": calendars.session_on_or_before(month_ends, calendar)
        if len(month_ends)
        else pd.DatetimeIndex([]),
    }


def levels_tables(settings: Settings, inp: BoardInputs, now: datetime) -> dict[str, pd.DataFrame]:
    """``levels`` (key levels per gamma underlying) and ``expiries`` (GEX rolling off at the next
    OPEX, VIX expiry and quarter end) from the gamma inputs (:mod:`flows.levels`)."""
    heads = {u: h for u, h in inp.gamma_headlines.items() if u in inp.books}
    day = (
        pd.Timestamp(now).tz_convert(EXCHANGE_TZ).tz_localize(None).normalize()
        if pd.Timestamp(now).tzinfo
        else pd.Timestamp(now).normalize()
    )
    events = calendar_events(now, settings.scheduler.calendar)
    expiries = levels.expiry_calendar(
        {u: t for u, t in inp.gamma_by_expiry.items() if u in heads},
        events,
        start=day,
        count=CALENDAR_EVENTS,
    )
    return {"levels": levels.key_levels(heads), "expiries": expiries}


def compute_board(settings: Settings, inp: BoardInputs, now: datetime) -> dict[str, pd.DataFrame]:
    """Run the scenario engine on loaded inputs: tables ``grid``, ``totals``, ``ranking``, ``flags``, ``inputs``, ``fx``, ``underlyings``."""
    cfg = settings.board
    if not inp.books and inp.letf_funds is None:
        problems = "; ".join(f"{i['name']}: {i['note']}" for i in inp.inputs)
        raise FlowdeskError(
            f"{RESULT}: no usable equity input (every gamma and leveraged-ETF result is missing or stale): {problems}"
        )
    grid = scenarios.scenario_grid(
        inp.books,
        inp.letf_funds,
        cfg.moves_pct,
        cfg.betas,
        iv_shocks_pts=cfg.iv_shocks_pts,
        hours_to_close=hours_to_close(now, cfg.hours_to_close, settings.scheduler.calendar),
        adv_usd=_adv(inp, cfg.adv_usd),
        default_beta=cfg.default_beta,
    )
    flags = scenarios.regime_flags(
        grid,
        {u: inp.gamma_headlines[u] for u in inp.books},
        index_move_pct=cfg.flag_move_pct,
        flip_proximity_pct=cfg.flip_proximity_pct,
        letf_adv_threshold_pct=cfg.letf_adv_threshold_pct,
    )
    stale_rows = [
        {
            "kind": "stale_input",
            "underlying": i["name"],
            "severity": "warning",
            "message": f"{i['name']} left out of the totals: {i['note']}",
        }
        for i in inp.inputs
        if not i["included"]
    ]
    if stale_rows:
        flags = pd.concat([flags, pd.DataFrame(stale_rows).astype(str)], ignore_index=True)
    inputs = pd.DataFrame(inp.inputs)
    for col in ("name", "family", "as_of", "computed_at", "source", "note"):
        inputs[col] = inputs[col].astype("str")
    ranking = scenarios.ranking(grid)
    ranking["adv_note"] = np.where(ranking["adv_usd"].gt(0), "", NO_ADV).astype(str)
    return {
        "grid": grid,
        "totals": scenarios.totals(grid),
        "ranking": ranking,
        "flags": flags,
        "inputs": inputs,
        "fx": _fx_table(inp),
        "underlyings": _active_underlyings(grid),
        **levels_tables(settings, inp, now),
    }


def add_systematic(
    settings: Settings, store: ResultStore, now: datetime, tables: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    """Add the systematic components with their horizons, the per-horizon totals and the
    positioning panel (:mod:`jobs.tasks.board_systematic`) to ``tables``; their headline keys."""
    from jobs.tasks import board_systematic as bs

    tables["systematic"] = bs.components(settings, store, now, tables.get("totals"))
    tables["horizon_totals"] = bs.horizon_totals(tables["systematic"])
    tables["positioning"] = bs.positioning(settings, store)
    return bs.headline(tables["systematic"], tables["horizon_totals"], store, settings)


def _active_underlyings(grid: pd.DataFrame) -> pd.DataFrame:
    """Underlyings with any flow in the grid, largest ``max |total_usd|`` first (the explorer's
    list): ``underlying``, ``max_abs_total_usd`` (USD)."""
    peak = (
        grid.assign(abs_total=grid["total_usd"].abs())
        .groupby("underlying", sort=False)["abs_total"]
        .max()
    )
    peak = peak[peak > 0].sort_values(ascending=False, kind="stable")
    return pd.DataFrame(
        {"underlying": peak.index.astype(str), "max_abs_total_usd": peak.to_numpy(dtype=float)}
    )


def _headline(
    settings: Settings, tables: dict[str, pd.DataFrame], inp: BoardInputs, today_move: float | None
) -> dict[str, Any]:
    cfg = settings.board
    tot = tables["totals"]
    row = tot[
        np.isclose(tot["iv_shock_pts"], 0.0) & np.isclose(tot["index_move_pct"], cfg.flag_move_pct)
    ]
    head: dict[str, Any] = {
        "index": cfg.index,
        "flag_move_pct": cfg.flag_move_pct,
        "today_move_pct": today_move,
    }
    if not row.empty:
        r = row.iloc[0]
        head["total_usd_at_flag_move"] = float(r["total_usd"])
        for c in scenarios.COMPONENTS:
            head[f"{c}_at_flag_move"] = float(r[c])
    if today_move is not None:
        z = tot[np.isclose(tot["iv_shock_pts"], 0.0)]
        if not z.empty:
            head["total_usd_today_move"] = float(
                np.interp(today_move, z["index_move_pct"], z["total_usd"])
            )
    head["letf_per_1pct_usd"] = inp.letf_headline.get("per_1pct_usd")
    head["net_usd_position_usd"] = inp.cftc_headline.get(f"net_usd_{settings.cftc.headline_basket}")
    head["net_usd_percentile_3y"] = inp.cftc_headline.get("percentile_3y")
    down, up = scenarios.dealer_sign_changes(tot) if not tot.empty else (None, None)
    head["dealer_flow_sign_change_down_pct"] = down
    head["dealer_flow_sign_change_up_pct"] = up
    for sym in (cfg.index, INDEX_ETF.get(cfg.index, cfg.index)):
        g = inp.gamma_headlines.get(sym)
        if g:
            head["index_gamma_underlying"] = sym
            head["index_flip_distance_pct"] = g.get("flip_distance_pct")
            break
    head["flags"] = int(len(tables["flags"]))
    head["stale_inputs"] = int(sum(not i["included"] for i in inp.inputs))
    return head


@task(
    "board",
    results=[RESULT],
    description="De-risking board: mechanical flow by index move from the cached gamma, leveraged-ETF and CFTC results.",
)
def board(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Publish ``board.scenarios`` (see module docstring)."""
    s = ctx.settings
    inp = load_inputs(s, ctx.store, ctx.now)
    tables = compute_board(s, inp, ctx.now)
    included = inp.included
    as_of = (
        min(pd.Timestamp(i["as_of"]) for i in included if i["as_of"])
        if included
        else pd.Timestamp(ctx.now)
    )
    today_move = _today_move(inp, s.board.index)
    systematic_head = add_systematic(s, ctx.store, ctx.now, tables)
    ctx.store.publish(
        RESULT,
        tables,
        as_of=as_of,
        source=f"flowdesk board from {len(included)} inputs: "
        + ", ".join(i["name"] for i in included)
        + " (their times: table inputs)",
        sample=inp.sample,
        headline={**_headline(s, tables, inp, today_move), **systematic_head},
        extra={
            "index": s.board.index,
            "betas": dict(s.board.betas),
            "default_beta": s.board.default_beta,
            "hours_to_close": hours_to_close(ctx.now, s.board.hours_to_close, s.scheduler.calendar),
            "conventions": "USD of underlying traded; + = buy. Dealer components from full re-pricing of dealer delta (gamma: price move, vanna: IV shock, charm: time to the close); leveraged ETFs A*(L^2-L)*r. Components add up to total_usd.",
            "dealer_conventions": {u: inp.gamma_headlines[u].get("convention") for u in inp.books},
            "fx_unwind": fx_readings(inp),
        },
    )
    return TaskOutcome(
        published=[RESULT],
        rows=len(tables["grid"]),
        detail=f"{len(inp.books)} dealer books, {0 if inp.letf_funds is None else len(inp.letf_funds)} funds, {len(tables['flags'])} flags",
    )


def explicit_scenario(
    settings: Settings,
    inp: BoardInputs,
    moves: dict[str, float],
    *,
    iv_shock_pts: float = 0.0,
    hours: float = 0.0,
) -> pd.DataFrame:
    """One scenario of explicit or index-mapped moves, per underlying (``flowdesk scenario``).

    One move given: it is read as the index-equivalent move of that underlying and mapped to the
    others by their betas (``index move = move / beta``).  Several: only those underlyings move.
    """
    cfg = settings.board
    if len(moves) == 1:
        ((sym, pct),) = moves.items()
        beta = float(cfg.betas.get(sym, cfg.default_beta))
        if beta == 0:
            raise FlowdeskError(
                f"scenario: {sym} has beta 0 to {cfg.index}; give explicit moves instead"
            )
        betas, index_moves, default_beta = dict(cfg.betas), [pct / beta], cfg.default_beta
    else:
        # every underlying moves by its own figure: beta = its move for a unit index move
        betas, index_moves, default_beta = dict(moves), [1.0], 0.0
    grid = scenarios.scenario_grid(
        inp.books,
        inp.letf_funds,
        index_moves,
        betas,
        iv_shocks_pts=[iv_shock_pts],
        hours_to_close=hours,
        adv_usd=_adv(inp, cfg.adv_usd),
        default_beta=default_beta,
    )
    return grid


def _brief_tables(
    settings: Settings, inp: BoardInputs, board_totals: pd.DataFrame | None
) -> dict[str, pd.DataFrame]:
    rows = []
    for u in settings.board.brief_indices:
        h = inp.gamma_headlines.get(u)
        if h:
            rows.append(
                {
                    "underlying": u,
                    "spot": h.get("spot"),
                    "regime": h.get("regime"),
                    "net_gex_usd_per_1pct": h.get("net_gex_usd_per_1pct"),
                    "flip": h.get("flip"),
                    "flip_distance_pct": h.get("flip_distance_pct"),
                    "as_of": h.get("as_of"),
                }
            )
    gamma = pd.DataFrame(
        rows,
        columns=[
            "underlying",
            "spot",
            "regime",
            "net_gex_usd_per_1pct",
            "flip",
            "flip_distance_pct",
            "as_of",
        ],
    )
    for col in ("underlying", "regime", "as_of"):
        gamma[col] = gamma[col].astype("str")
    for col in ("spot", "net_gex_usd_per_1pct", "flip", "flip_distance_pct"):
        gamma[col] = pd.to_numeric(gamma[col], errors="coerce").astype(float)
    if inp.letf_by_underlying is not None:
        letf_top = (
            inp.letf_by_underlying.sort_values("per_1pct_usd", key=np.abs, ascending=False)
            .head(8)[["underlying", "per_1pct_usd"]]
            .reset_index(drop=True)
        )
    else:
        letf_top = pd.DataFrame(
            {"underlying": pd.Series(dtype=str), "per_1pct_usd": pd.Series(dtype=float)}
        )
    flows = (
        board_totals[
            np.isclose(board_totals["iv_shock_pts"], 0.0)
            & board_totals["index_move_pct"].isin([-5.0, -3.0, -1.0, 1.0, 3.0, 5.0])
        ].reset_index(drop=True)
        if board_totals is not None
        else declarations.empty_table(BRIEF, "flows")
    )
    fx = _fx_table(inp)  # both unwind scenarios; the PDF lists the beneficiaries
    key = levels.key_levels({u: h for u, h in inp.gamma_headlines.items() if u in inp.books})
    return {
        "gamma": gamma,
        "letf": letf_top,
        "flows": flows,
        "fx": fx,
        "inputs": pd.DataFrame(inp.inputs).astype(
            {
                "name": "str",
                "note": "str",
                "as_of": "str",
                "computed_at": "str",
                "source": "str",
                "family": "str",
            }
        ),
        "levels": key,
    }


def _brief_figures(settings: Settings, inp: BoardInputs) -> dict[str, float | None]:
    """The flat figures compared from one brief to the next."""
    figs: dict[str, float | None] = {}
    for u in settings.board.brief_indices:
        h = inp.gamma_headlines.get(u) or {}
        figs[f"{u} net GEX (USD per 1%)"] = h.get("net_gex_usd_per_1pct")
        figs[f"{u} flip distance (%)"] = h.get("flip_distance_pct")
    figs["LETF USD per 1%"] = inp.letf_headline.get("per_1pct_usd")
    figs["Net USD position (USD)"] = inp.cftc_headline.get(
        f"net_usd_{settings.cftc.headline_basket}"
    )
    figs["Net USD percentile 3y (%)"] = inp.cftc_headline.get("percentile_3y")
    return {
        k: (float(v) if isinstance(v, int | float) and np.isfinite(v) else None)
        for k, v in figs.items()
    }


def _changes(now_figs: dict[str, float | None], prev_figs: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for k, v in now_figs.items():
        p = prev_figs.get(k)
        if v is None or p is None:
            continue
        change = v - float(p)
        rel = abs(change) / abs(float(p)) if p else np.inf
        rows.append(
            {
                "figure": k,
                "previous": float(p),
                "current": v,
                "change": change,
                "relative_change": rel,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["figure", "previous", "current", "change", "relative_change"]
    )
    frame["figure"] = frame["figure"].astype("str")
    return frame.sort_values("relative_change", ascending=False, kind="stable").reset_index(
        drop=True
    )


def brief_text(settings: Settings, head: dict[str, Any], tables: dict[str, pd.DataFrame]) -> str:
    """The brief as plain text lines (the digest body)."""
    lines = []
    for r in tables["gamma"].itertuples():
        dist = (
            "no flip in the window"
            if not np.isfinite(r.flip_distance_pct)
            else f"flip {r.flip:,.0f} ({r.flip_distance_pct:+.1f}% away)"
        )
        lines.append(
            f"{r.underlying}: {r.regime}, net GEX {_fmt_bn(r.net_gex_usd_per_1pct)} per 1%, {dist}"
        )
    lines.append(
        f"Leveraged ETFs: {_fmt_bn(head.get('letf_per_1pct_usd'))} per 1% move (equity total)"
    )
    if head.get("total_usd_at_flag_move") is not None:
        lines.append(
            f"If {settings.board.index} moves {settings.board.flag_move_pct:+g}% today: mechanical flow {_fmt_bn(head['total_usd_at_flag_move'])}"
        )
    pct = head.get("net_usd_percentile_3y")
    lines.append(
        f"Net USD position: {_fmt_bn(head.get('net_usd_position_usd'))}"
        + (f", percentile {pct:.0f} of the last 3 years" if isinstance(pct, int | float) else "")
    )
    for r in tables["changes"].head(3).itertuples():
        lines.append(
            f"Change since the previous brief: {r.figure} {r.previous:,.3g} -> {r.current:,.3g}"
        )
    if head.get("stale_inputs"):
        lines.append(f"WARNING: {head['stale_inputs']} input(s) stale or missing, left out")
    return "\n".join(lines)


@task(
    "brief",
    results=[BRIEF],
    description="Morning brief: one-page summary after the morning refresh, kept by date and sent as a digest.",
)
def brief(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Publish ``board.brief`` and queue the digest for targets with ``digest = true``."""
    s = ctx.settings
    inp = load_inputs(s, ctx.store, ctx.now)
    board_meta = _meta_or_none(ctx.store, RESULT)
    board = (
        ctx.store.read(RESULT, version=board_meta.version, tables=["totals", "flags"])
        if board_meta is not None and board_meta.status == "ok"
        else None
    )
    totals = board.table("totals") if board is not None else None
    tables = _brief_tables(s, inp, totals)
    figs = _brief_figures(s, inp)
    prev = _meta_or_none(ctx.store, BRIEF)
    tables["changes"] = _changes(figs, (prev.extra.get("figures") or {}) if prev else {})
    head = _headline(
        s,
        {
            "totals": totals
            if totals is not None
            else pd.DataFrame(
                columns=["iv_shock_pts", "index_move_pct", *scenarios.COMPONENTS, "total_usd"]
            ),
            # the board's flags (the brief read "flags 0" beside a board with 10)
            "flags": board.table("flags") if board is not None else pd.DataFrame(),
        },
        inp,
        None,
    )
    head["date"] = pd.Timestamp(ctx.now).tz_convert(EXCHANGE_TZ).date().isoformat()
    from jobs.tasks import board_systematic as bs

    sys_head, sys_lines = bs.brief_headline(s, ctx.store)
    head.update(sys_head)
    figs.update(
        {
            label: (float(sys_head[k]) if isinstance(sys_head.get(k), int | float) else None)
            for k, label in bs.brief_figures(s).items()
        }
    )
    tables["changes"] = _changes(figs, (prev.extra.get("figures") or {}) if prev else {})
    notes_raw = ctx.store.redis.get(keys.brief_notes(head["date"]))
    notes = notes_raw.decode("utf-8", "replace") if notes_raw else ""
    text = brief_text(s, head, tables)
    if sys_lines:
        text += "\n" + "\n".join(sys_lines)
    if notes.strip():
        text += f"\nNotes: {notes.strip()}"
    head["text"] = text
    head["notes"] = notes
    included = inp.included
    as_of = (
        max(pd.Timestamp(i["as_of"]) for i in included if i["as_of"])
        if included
        else pd.Timestamp(ctx.now)
    )
    tz = s.service.timezone
    title = f"flowdesk morning brief {head['date']}" + (" - SAMPLE DATA" if inp.sample else "")
    subtitle = f"inputs as of {formatting.format_time(as_of, tz)} · computed {formatting.format_time(ctx.now, tz)} · from {', '.join(i['name'] for i in included) or 'no input'}"
    if s.board.brief_documents:
        tables["documents"], render_s, render_error = render_brief(
            tables, title=title, subtitle=subtitle, notes=notes, fx_unwind=fx_readings(inp)
        )
        if render_error:  # the one line that says so (the export libraries' own logs are muted)
            ctx.log.warning("brief published without its PDF and PNG: %s", render_error)
    else:
        tables["documents"], render_s, render_error = (
            declarations.empty_table(BRIEF, "documents"),
            0.0,
            "not rendered: [board] brief_documents = false",
        )
    ctx.store.publish(
        BRIEF,
        tables,
        as_of=as_of,
        source="flowdesk brief: " + ", ".join(i["name"] for i in included),
        sample=inp.sample,
        headline=head,
        extra={
            "figures": figs,
            "previous_version": prev.version if prev else None,
            "render_seconds": round(render_s, 3),
            "render_error": render_error,
            "notes_at_render": notes,
        },
    )
    from jobs import alerts  # late import: alerts import the config and store

    alerts.enqueue_digest(
        s,
        ctx.store,
        f"flowdesk morning brief {head['date']}" + (" (SAMPLE)" if inp.sample else ""),
        text,
        {"date": head["date"], "figures": figs},
    )
    return TaskOutcome(
        published=[BRIEF], rows=len(tables["gamma"]), detail=text.splitlines()[0] if text else None
    )


BRIEF_FLOW_COLUMNS = tuple(
    (c, formatting.header(col.header_title(), U.PERCENT if c == "index_move_pct" else None))
    for c in ("index_move_pct", *scenarios.COMPONENTS, "total_usd")
    if (col := declarations.lookup("board.brief").table("flows").column(c)) is not None
)
"""The brief's flow columns and their declared titles, on the web and in the PDF alike: the
components add up to the total (the PDF's flow table is in USD bn, said by its title)."""
NONE = "none"
"""What an empty section of the brief says."""


def _ascii(text: str) -> str:
    return (
        text.encode("ascii", "replace")
        .decode()
        .replace("\\", "\\\\")
        .replace("(", "\\(")
        .replace(")", "\\)")
    )


def pdf_with_title(pdf: bytes, title: str, *, creator: str = "flowdesk") -> bytes:
    """``pdf`` with its document title set (the renderer writes its own name there), by an
    incremental update (PDF 1.7, section 7.5.6): a new Info dictionary replacing the trailer's,
    a one-entry cross-reference section and a trailer pointing back at the old one.  The bytes
    before are untouched.  A PDF without a classic trailer (cross-reference streams) comes back
    unchanged."""
    import re

    trailer = pdf.rfind(b"trailer")
    start = re.search(rb"startxref\s+(\d+)", pdf[trailer:]) if trailer >= 0 else None
    size = re.search(rb"/Size\s+(\d+)", pdf[trailer:]) if trailer >= 0 else None
    root = re.search(rb"/Root\s+(\d+\s+\d+\s+R)", pdf[trailer:]) if trailer >= 0 else None
    if not (start and size and root):
        return pdf
    n = int(size.group(1))
    body = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    offset = len(body)
    obj = (
        f"{n} 0 obj\n<</Title ({_ascii(title)})\n/Creator ({_ascii(creator)})>>\nendobj\n".encode()
    )
    xref_at = offset + len(obj)
    xref = f"xref\n{n} 1\n{offset:010d} 00000 n \n".encode()
    tail = f"trailer\n<</Size {n + 1}\n/Root {root.group(1).decode()}\n/Info {n} 0 R\n/Prev {int(start.group(1))}>>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return body + obj + xref + tail


def brief_figure(
    tables: dict[str, pd.DataFrame],
    *,
    title: str,
    subtitle: str,
    notes: str,
    fx_unwind: Mapping[str, str] | None = None,
) -> Any:
    """The one-page morning brief as one Plotly figure (exported to PDF and PNG by the job):
    gamma of the main indices, the board's flows (every component and the total, as on the web
    page) as a table and a chart, leveraged ETFs per 1 %, the FX unwind, the changes since the
    previous brief and the desk's notes; an empty section says "none".  ``fx_unwind``: the
    sentence of each unwind scenario (:func:`fx_readings`), written in the FX section instead of a
    bare "none" when no currency is bought (the unwind buys USD)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=5,
        cols=2,
        specs=[
            [{"type": "table", "colspan": 2}, None],
            [{"type": "table", "colspan": 2}, None],
            [{"type": "xy"}, {"type": "table"}],
            [{"type": "table"}, {"type": "table"}],
            [{"type": "table", "colspan": 2}, None],
        ],
        subplot_titles=(
            "Dealer gamma and key levels",
            "Mechanical flow by index move (USD bn, + = buy; the components add up to the total)",
            "Total mechanical flow by index move (USD bn)",
            "Leveraged ETFs: USD per 1% move",
            "FX positioning: unwind beneficiaries",
            "Biggest changes since the previous brief",
            "Desk notes",
        ),
        vertical_spacing=0.045,
        row_heights=[0.26, 0.16, 0.24, 0.20, 0.06],
    )
    header = {"fill": {"color": "#1f2a36"}, "font": {"color": "white", "size": 12}, "align": "left"}
    cells = {"align": "left", "font": {"size": 12}, "height": 22}

    def table(heads: list[str], columns: list[list[str]], row: int, col: int) -> None:
        if not columns or not len(columns[0]):
            heads, columns = [heads[0]], [[NONE]]
        fig.add_trace(
            go.Table(header={**header, "values": heads}, cells={**cells, "values": columns}),
            row=row,
            col=col,
        )

    def usd(values: Any, unit: Any) -> list[str]:
        return [format_value(v, unit, scale="bn", style="bare") for v in values]

    def by_unit(values: Any, unit: Any, **kw: Any) -> list[str]:
        return [format_value(v, unit, **kw) for v in values]

    g = tables["levels"]

    def level(name: str) -> list[str]:
        return [
            f"{format_value(v, U.PRICE)} ({format_value(d, U.PERCENT, signed=True)})"
            if np.isfinite(v)
            else "none"
            for v, d in zip(g[name], g[f"{name}_distance_pct"], strict=True)
        ]

    table(
        [
            "Underlying",
            "Spot",
            "Regime",
            "Net GEX (USD bn per 1%)",
            "Flip (distance)",
            "Call wall",
            "Put wall",
            "Abs-gamma strike",
            "0DTE share (% of gross GEX)",
        ],
        [
            g["underlying"].tolist(),
            by_unit(g["spot"], U.PRICE),
            g["regime"].tolist(),
            usd(g["net_gex_usd_per_1pct"], U.USD_PER_1PCT),
            level("flip"),
            level("call_wall"),
            level("put_wall"),
            level("abs_gamma_strike"),
            by_unit(g["zero_dte_share"], U.FRACTION),
        ],
        1,
        1,
    )
    f = tables["flows"]
    table(
        [t for _c, t in BRIEF_FLOW_COLUMNS],
        [
            by_unit(f["index_move_pct"], U.PERCENT, signed=True),
            *(usd(f[c], U.USD_FLOW) for c, _t in BRIEF_FLOW_COLUMNS[1:]),
        ],
        2,
        1,
    )
    if not f.empty:
        y = f["total_usd"].to_numpy(dtype=float) / 1e9
        fig.add_trace(
            go.Bar(
                x=[f"{m:+g}%" for m in f["index_move_pct"]],
                y=y,
                marker_color=np.where(y < 0, "#d62728", "#1f77b4"),
                showlegend=False,
            ),
            row=3,
            col=1,
        )
    else:
        fig.add_annotation(
            text=NONE, xref="x domain", yref="y domain", x=0.5, y=0.5, showarrow=False, row=3, col=1
        )
    lt = tables["letf"]
    table(
        ["Underlying", "USD bn per 1% move"],
        [lt["underlying"].tolist(), usd(lt["per_1pct_usd"], U.USD_PER_1PCT)],
        3,
        2,
    )
    fx = tables["fx"]
    fx = fx[fx["benefits"].astype(bool)] if "benefits" in fx else fx.iloc[0:0]
    if fx.empty and fx_unwind:  # no beneficiary at all: say which way the unwind trades instead
        scen = list(fx_unwind)
        table(["Unwind to", "No currency is bought"], [scen, [fx_unwind[k] for k in scen]], 4, 1)
    else:
        cols = [
            fx.get("scenario", pd.Series(dtype=str)).astype(str).tolist(),
            fx["ccy"].tolist(),
            usd(fx["usd"], U.USD),
            usd(fx["currency_flow_usd"], U.USD_FLOW),
        ]
        for k in fx_unwind or {}:  # a scenario buying USD has no beneficiary: one row says so
            if k not in cols[0]:
                for c, v in zip(cols, (k, "none (the USD is bought)", "", ""), strict=True):
                    c.append(v)
        table(
            ["Unwind to", "Currency", "Spec position (USD bn)", "Bought in the unwind (USD bn)"],
            cols,
            4,
            1,
        )
    ch = tables["changes"].head(6)
    table(
        ["Figure", "Previous", "Current"],
        [ch["figure"].tolist(), by_unit(ch["previous"], U.MIXED), by_unit(ch["current"], U.MIXED)],
        4,
        2,
    )
    table(["Notes"], [[notes.strip() or NONE]], 5, 1)
    fig.update_layout(
        title={"text": f"{title}<br><sup>{subtitle}</sup>", "x": 0.01, "xanchor": "left"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        width=1100,
        height=1650,
        margin={"l": 30, "r": 30, "t": 110, "b": 30},
        font={"family": "Helvetica, Arial, sans-serif", "size": 12},
    )
    return fig


def render_brief(
    tables: dict[str, pd.DataFrame],
    *,
    title: str,
    subtitle: str,
    notes: str,
    fx_unwind: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, float, str | None]:
    """The brief as PDF and PNG bytes (Plotly static export: kaleido and a headless Chromium on
    the job's machine, never in a web request): ``(documents table, seconds, error)``; on a
    rendering failure the table is empty and ``error`` says why (the brief is published all the
    same, its page says the documents are missing)."""
    import time

    started = time.perf_counter()
    fig = brief_figure(tables, title=title, subtitle=subtitle, notes=notes, fx_unwind=fx_unwind)
    try:
        pdf = pdf_with_title(fig.to_image(format="pdf"), title)
        png = fig.to_image(format="png")
    except Exception as exc:  # no Chromium / kaleido on this machine: publish without documents
        return (
            declarations.empty_table(BRIEF, "documents"),
            time.perf_counter() - started,
            f"{type(exc).__name__}: {exc}",
        )
    docs = pd.DataFrame(
        {
            "format": ["pdf", "png"],
            "media_type": ["application/pdf", "image/png"],
            "size_bytes": [len(pdf), len(png)],
            "data": [pdf, png],
        }
    )
    return docs, time.perf_counter() - started, None


def _fmt_bn(v: Any) -> str:
    """USD in bn, ``+12.34 bn USD`` (:func:`flows.money.format_usd`, the board's style)."""
    return format_usd(v, scale="bn", style="code")
