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

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from flows import calendars, scenarios
from flows.errors import FlowdeskError
from flows.money import format_usd
from jobs import declarations
from jobs.config import Settings
from jobs.store import ResultMeta, ResultNotFound, ResultStore
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
    letf_funds: pd.DataFrame | None = None
    letf_by_underlying: pd.DataFrame | None = None
    letf_headline: dict[str, Any] = field(default_factory=dict)
    cftc_headline: dict[str, Any] = field(default_factory=dict)
    cftc_unwind: pd.DataFrame | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    sample: bool = False

    @property
    def included(self) -> list[dict[str, Any]]:
        return [i for i in self.inputs if i["included"]]


def _status(meta: ResultMeta | None, name: str, family: str, max_age_h: float, now: datetime) -> dict[str, Any]:
    if meta is None:
        return {"name": name, "family": family, "as_of": None, "computed_at": None, "source": None, "age_hours": None, "stale": True, "included": False, "sample": False, "note": "missing: never published"}
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
        out.books[u] = scenarios.dealer_book(contracts, underlying=u, spot=float(head["spot"]), r=float(head.get("r", settings.gamma.risk_free_rate)), q=float(head.get("q", 0.0)), convention=str(head.get("convention", "calls_long_puts_short")), source=name)
        out.sample |= meta.sample
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
        out.sample |= meta.sample
    return out


def hours_to_close(now: datetime, configured: float | None, calendar: str = calendars.DEFAULT_CALENDAR) -> float:
    """Configured hours, else hours from ``now`` to the next session close of the exchange
    calendar (early closes included; after today's close: the next session's close, so a
    pre-open refresh gets a full day of charm)."""
    if configured is not None:
        return float(configured)
    return max(0.0, calendars.hours_to_next_close(pd.Timestamp(now), calendar))


def _adv(inp: BoardInputs) -> dict[str, float]:
    t = inp.letf_by_underlying
    if t is None or "adv_usd" not in t.columns:
        return {}
    s = t.set_index("underlying")["adv_usd"].astype(float)
    return {str(k): float(v) for k, v in s.items() if np.isfinite(v) and v > 0}


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
    return inp.cftc_unwind[[c for c in empty.columns if c in inp.cftc_unwind.columns]].reset_index(drop=True)


def compute_board(settings: Settings, inp: BoardInputs, now: datetime) -> dict[str, pd.DataFrame]:
    """Run the scenario engine on loaded inputs: tables ``grid``, ``totals``, ``ranking``, ``flags``, ``inputs``, ``fx``, ``underlyings``."""
    cfg = settings.board
    if not inp.books and inp.letf_funds is None:
        problems = "; ".join(f"{i['name']}: {i['note']}" for i in inp.inputs)
        raise FlowdeskError(f"{RESULT}: no usable equity input (every gamma and leveraged-ETF result is missing or stale): {problems}")
    grid = scenarios.scenario_grid(
        inp.books,
        inp.letf_funds,
        cfg.moves_pct,
        cfg.betas,
        iv_shocks_pts=cfg.iv_shocks_pts,
        hours_to_close=hours_to_close(now, cfg.hours_to_close, settings.scheduler.calendar),
        adv_usd=_adv(inp),
        default_beta=cfg.default_beta,
    )
    flags = scenarios.regime_flags(grid, {u: inp.gamma_headlines[u] for u in inp.books}, index_move_pct=cfg.flag_move_pct, flip_proximity_pct=cfg.flip_proximity_pct, letf_adv_threshold_pct=cfg.letf_adv_threshold_pct)
    stale_rows = [{"kind": "stale_input", "underlying": i["name"], "severity": "warning", "message": f"{i['name']} left out of the totals: {i['note']}"} for i in inp.inputs if not i["included"]]
    if stale_rows:
        flags = pd.concat([flags, pd.DataFrame(stale_rows).astype(str)], ignore_index=True)
    inputs = pd.DataFrame(inp.inputs)
    for col in ("name", "family", "as_of", "computed_at", "source", "note"):
        inputs[col] = inputs[col].astype("str")
    return {"grid": grid, "totals": scenarios.totals(grid), "ranking": scenarios.ranking(grid), "flags": flags, "inputs": inputs, "fx": _fx_table(inp), "underlyings": _active_underlyings(grid)}


def add_systematic(settings: Settings, store: ResultStore, now: datetime, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
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
    peak = grid.assign(abs_total=grid["total_usd"].abs()).groupby("underlying", sort=False)["abs_total"].max()
    peak = peak[peak > 0].sort_values(ascending=False, kind="stable")
    return pd.DataFrame({"underlying": peak.index.astype(str), "max_abs_total_usd": peak.to_numpy(dtype=float)})


def _headline(settings: Settings, tables: dict[str, pd.DataFrame], inp: BoardInputs, today_move: float | None) -> dict[str, Any]:
    cfg = settings.board
    tot = tables["totals"]
    row = tot[np.isclose(tot["iv_shock_pts"], 0.0) & np.isclose(tot["index_move_pct"], cfg.flag_move_pct)]
    head: dict[str, Any] = {"index": cfg.index, "flag_move_pct": cfg.flag_move_pct, "today_move_pct": today_move}
    if not row.empty:
        r = row.iloc[0]
        head["total_usd_at_flag_move"] = float(r["total_usd"])
        for c in scenarios.COMPONENTS:
            head[f"{c}_at_flag_move"] = float(r[c])
    if today_move is not None:
        z = tot[np.isclose(tot["iv_shock_pts"], 0.0)]
        if not z.empty:
            head["total_usd_today_move"] = float(np.interp(today_move, z["index_move_pct"], z["total_usd"]))
    head["letf_per_1pct_usd"] = inp.letf_headline.get("per_1pct_usd")
    head["net_usd_position_usd"] = inp.cftc_headline.get(f"net_usd_{settings.cftc.headline_basket}")
    head["net_usd_percentile_3y"] = inp.cftc_headline.get("percentile_3y")
    head["flags"] = int(len(tables["flags"]))
    head["stale_inputs"] = int(sum(not i["included"] for i in inp.inputs))
    return head


@task("board", results=[RESULT], description="De-risking board: mechanical flow by index move from the cached gamma, leveraged-ETF and CFTC results.")
def board(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Publish ``board.scenarios`` (see module docstring)."""
    s = ctx.settings
    inp = load_inputs(s, ctx.store, ctx.now)
    tables = compute_board(s, inp, ctx.now)
    included = inp.included
    as_of = min(pd.Timestamp(i["as_of"]) for i in included if i["as_of"]) if included else pd.Timestamp(ctx.now)
    today_move = _today_move(inp, s.board.index)
    systematic_head = add_systematic(s, ctx.store, ctx.now, tables)
    ctx.store.publish(
        RESULT,
        tables,
        as_of=as_of,
        source="flowdesk board: " + ", ".join(f"{i['name']}@{i['computed_at']}" for i in included),
        sample=inp.sample,
        headline={**_headline(s, tables, inp, today_move), **systematic_head},
        extra={
            "index": s.board.index,
            "betas": dict(s.board.betas),
            "default_beta": s.board.default_beta,
            "hours_to_close": hours_to_close(ctx.now, s.board.hours_to_close, s.scheduler.calendar),
            "conventions": "USD of underlying traded; + = buy. Dealer components from full re-pricing of dealer delta (gamma: price move, vanna: IV shock, charm: time to the close); leveraged ETFs A*(L^2-L)*r. Components add up to total_usd.",
            "dealer_conventions": {u: inp.gamma_headlines[u].get("convention") for u in inp.books},
        },
    )
    return TaskOutcome(published=[RESULT], rows=len(tables["grid"]), detail=f"{len(inp.books)} dealer books, {0 if inp.letf_funds is None else len(inp.letf_funds)} funds, {len(tables['flags'])} flags")


def explicit_scenario(settings: Settings, inp: BoardInputs, moves: dict[str, float], *, iv_shock_pts: float = 0.0, hours: float = 0.0) -> pd.DataFrame:
    """One scenario of explicit or index-mapped moves, per underlying (``flowdesk scenario``).

    One move given: it is read as the index-equivalent move of that underlying and mapped to the
    others by their betas (``index move = move / beta``).  Several: only those underlyings move.
    """
    cfg = settings.board
    if len(moves) == 1:
        (sym, pct), = moves.items()
        beta = float(cfg.betas.get(sym, cfg.default_beta))
        if beta == 0:
            raise FlowdeskError(f"scenario: {sym} has beta 0 to {cfg.index}; give explicit moves instead")
        betas, index_moves, default_beta = dict(cfg.betas), [pct / beta], cfg.default_beta
    else:
        # every underlying moves by its own figure: beta = its move for a unit index move
        betas, index_moves, default_beta = dict(moves), [1.0], 0.0
    grid = scenarios.scenario_grid(inp.books, inp.letf_funds, index_moves, betas, iv_shocks_pts=[iv_shock_pts], hours_to_close=hours, adv_usd=_adv(inp), default_beta=default_beta)
    return grid


def _brief_tables(settings: Settings, inp: BoardInputs, board_totals: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    rows = []
    for u in settings.board.brief_indices:
        h = inp.gamma_headlines.get(u)
        if h:
            rows.append({"underlying": u, "spot": h.get("spot"), "regime": h.get("regime"), "net_gex_usd_per_1pct": h.get("net_gex_usd_per_1pct"), "flip": h.get("flip"), "flip_distance_pct": h.get("flip_distance_pct"), "as_of": h.get("as_of")})
    gamma = pd.DataFrame(rows, columns=["underlying", "spot", "regime", "net_gex_usd_per_1pct", "flip", "flip_distance_pct", "as_of"])
    for col in ("underlying", "regime", "as_of"):
        gamma[col] = gamma[col].astype("str")
    for col in ("spot", "net_gex_usd_per_1pct", "flip", "flip_distance_pct"):
        gamma[col] = pd.to_numeric(gamma[col], errors="coerce").astype(float)
    if inp.letf_by_underlying is not None:
        letf_top = inp.letf_by_underlying.sort_values("per_1pct_usd", key=np.abs, ascending=False).head(8)[["underlying", "per_1pct_usd"]].reset_index(drop=True)
    else:
        letf_top = pd.DataFrame({"underlying": pd.Series(dtype=str), "per_1pct_usd": pd.Series(dtype=float)})
    flows = board_totals[np.isclose(board_totals["iv_shock_pts"], 0.0) & board_totals["index_move_pct"].isin([-5.0, -3.0, -1.0, 1.0, 3.0, 5.0])].reset_index(drop=True) if board_totals is not None else declarations.empty_table(BRIEF, "flows")
    fx = _fx_table(inp).head(6)
    return {"gamma": gamma, "letf": letf_top, "flows": flows, "fx": fx, "inputs": pd.DataFrame(inp.inputs).astype({"name": "str", "note": "str", "as_of": "str", "computed_at": "str", "source": "str", "family": "str"})}


def _brief_figures(settings: Settings, inp: BoardInputs) -> dict[str, float | None]:
    """The flat figures compared from one brief to the next."""
    figs: dict[str, float | None] = {}
    for u in settings.board.brief_indices:
        h = inp.gamma_headlines.get(u) or {}
        figs[f"{u} net GEX (USD per 1%)"] = h.get("net_gex_usd_per_1pct")
        figs[f"{u} flip distance (%)"] = h.get("flip_distance_pct")
    figs["LETF USD per 1%"] = inp.letf_headline.get("per_1pct_usd")
    figs["Net USD position (USD)"] = inp.cftc_headline.get(f"net_usd_{settings.cftc.headline_basket}")
    figs["Net USD percentile 3y (%)"] = inp.cftc_headline.get("percentile_3y")
    return {k: (float(v) if isinstance(v, int | float) and np.isfinite(v) else None) for k, v in figs.items()}


def _changes(now_figs: dict[str, float | None], prev_figs: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for k, v in now_figs.items():
        p = prev_figs.get(k)
        if v is None or p is None:
            continue
        change = v - float(p)
        rel = abs(change) / abs(float(p)) if p else np.inf
        rows.append({"figure": k, "previous": float(p), "current": v, "change": change, "relative_change": rel})
    frame = pd.DataFrame(rows, columns=["figure", "previous", "current", "change", "relative_change"])
    frame["figure"] = frame["figure"].astype("str")
    return frame.sort_values("relative_change", ascending=False, kind="stable").reset_index(drop=True)




def brief_text(settings: Settings, head: dict[str, Any], tables: dict[str, pd.DataFrame]) -> str:
    """The brief as plain text lines (the digest body)."""
    lines = []
    for r in tables["gamma"].itertuples():
        dist = "no flip in the window" if not np.isfinite(r.flip_distance_pct) else f"flip {r.flip:,.0f} ({r.flip_distance_pct:+.1f}% away)"
        lines.append(f"{r.underlying}: {r.regime}, net GEX {_fmt_bn(r.net_gex_usd_per_1pct)} per 1%, {dist}")
    lines.append(f"Leveraged ETFs: {_fmt_bn(head.get('letf_per_1pct_usd'))} per 1% move (equity total)")
    if head.get("total_usd_at_flag_move") is not None:
        lines.append(f"If {settings.board.index} moves {settings.board.flag_move_pct:+g}% today: mechanical flow {_fmt_bn(head['total_usd_at_flag_move'])}")
    pct = head.get("net_usd_percentile_3y")
    lines.append(f"Net USD position: {_fmt_bn(head.get('net_usd_position_usd'))}" + (f", percentile {pct:.0f} of the last 3 years" if isinstance(pct, int | float) else ""))
    for r in tables["changes"].head(3).itertuples():
        lines.append(f"Change since the previous brief: {r.figure} {r.previous:,.3g} -> {r.current:,.3g}")
    if head.get("stale_inputs"):
        lines.append(f"WARNING: {head['stale_inputs']} input(s) stale or missing, left out")
    return "\n".join(lines)


@task("brief", results=[BRIEF], description="Morning brief: one-page summary after the morning refresh, kept by date and sent as a digest.")
def brief(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Publish ``board.brief`` and queue the digest for targets with ``digest = true``."""
    s = ctx.settings
    inp = load_inputs(s, ctx.store, ctx.now)
    board_meta = _meta_or_none(ctx.store, RESULT)
    totals = ctx.store.read(RESULT, version=board_meta.version, tables=["totals"]).frame if board_meta is not None and board_meta.status == "ok" else None
    tables = _brief_tables(s, inp, totals)
    figs = _brief_figures(s, inp)
    prev = _meta_or_none(ctx.store, BRIEF)
    tables["changes"] = _changes(figs, (prev.extra.get("figures") or {}) if prev else {})
    head = _headline(s, {"totals": totals if totals is not None else pd.DataFrame(columns=["iv_shock_pts", "index_move_pct", *scenarios.COMPONENTS, "total_usd"]), "flags": pd.DataFrame()}, inp, None)
    head["date"] = pd.Timestamp(ctx.now).tz_convert(EXCHANGE_TZ).date().isoformat()
    from jobs.tasks import board_systematic as bs

    sys_head, sys_lines = bs.brief_headline(s, ctx.store)
    head.update(sys_head)
    figs.update({label: (float(sys_head[k]) if isinstance(sys_head.get(k), int | float) else None) for k, label in bs.brief_figures(s).items()})
    tables["changes"] = _changes(figs, (prev.extra.get("figures") or {}) if prev else {})
    text = brief_text(s, head, tables)
    if sys_lines:
        text += "\n" + "\n".join(sys_lines)
    head["text"] = text
    included = inp.included
    as_of = max(pd.Timestamp(i["as_of"]) for i in included if i["as_of"]) if included else pd.Timestamp(ctx.now)
    ctx.store.publish(
        BRIEF,
        tables,
        as_of=as_of,
        source="flowdesk brief: " + ", ".join(i["name"] for i in included),
        sample=inp.sample,
        headline=head,
        extra={"figures": figs, "previous_version": prev.version if prev else None},
    )
    from jobs import alerts  # late import: alerts import the config and store

    alerts.enqueue_digest(s, ctx.store, f"flowdesk morning brief {head['date']}" + (" (SAMPLE)" if inp.sample else ""), text, {"date": head["date"], "figures": figs})
    return TaskOutcome(published=[BRIEF], rows=len(tables["gamma"]), detail=text.splitlines()[0] if text else None)


def _fmt_bn(v: Any) -> str:
    """USD in bn, ``+12.34 bn USD`` (:func:`flows.money.format_usd`, the board's style)."""
    return format_usd(v, scale="bn", style="code")
