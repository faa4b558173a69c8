"""Task ``systematic``: vol-control funds, CTA trend followers and VIX futures ETPs, after the close.

Wiring only.  Inputs come from the store, parsed once:

* index closes: ``prices.<INDEX>`` (:mod:`jobs.tasks.prices`; refreshed here first when the
  result is missing);
* VX settlements: ``vx.settlements``, published by this task.  Sample mode: generated in CFE's
  per-contract layout and parsed back by the real parser (:mod:`flows.sources.sample_prices`,
  once per session: reused while its last date is the last closed session).  Live: the
  contracts from ``[systematic] vx_months_back`` months back to ``vx_months_ahead`` ahead are
  fetched from Cboe (:mod:`flows.sources.cboe_vx`) and merged into the stored history (a fetched
  contract replaces its stored rows), so no run re-parses the whole history;
* VIX ETP assets: sample assets (SAMPLE), or live the ProShares NAV history of
  ``[vixetp] proshares_tickers`` and the drop file ``[vixetp] aum_drop_file`` (wins).

Engines: :mod:`flows.volcontrol` (``volcontrol.<INDEX>`` for ``[systematic] volcontrol_indices``),
:mod:`flows.cta` (``cta.<INDEX>`` for ``cta_indices``), :mod:`flows.vixetp` (``vixetp.flows``).
The AUM calibration of ``[volcontrol]`` / ``[cta]`` applies to the first index of each list
(falls back to the configured AUM with a warning when its window is not in the data); the
calibration in force is published with each result (table ``calibration``, headline
``calibration``).  Each result states its horizon (the board keeps them apart).

Input quality: the prices' and VX parsers' :class:`flows.quality.Quality` (enforced with
``[quality]`` families ``prices`` / ``vix_futures``) travels with each result, plus warnings
(calibration fallbacks, VX contracts not fetched, funds left out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from flows import calibration, cta, vixetp, volcontrol
from flows.errors import FlowdeskError, InputError
from flows.quality import Quality, enforce
from flows.schema import VX_COLUMNS
from jobs.store import ResultNotFound
from jobs.tasks import TaskContext, TaskOutcome, task
from jobs.tasks import prices as prices_task

VX_RESULT = "vx.settlements"
VIXETP_RESULT = "vixetp.flows"
VX_FAMILY = "vix_futures"
INDEX_COLUMNS = [
    "date",
    "front",
    "front_weight",
    "front_settle",
    "second",
    "second_settle",
    "index_return",
    "index_level",
]
VC_HISTORY = ["date", "close", "log_return", "sigma", "exposure", "notional_usd", "flow_usd"]
CTA_HISTORY = ["date", "close", "signal_mean", "sigma", "position", "position_usd", "flow_usd"]
SHOCK_HEADLINE_PCT = -5.0
"""The shock of ``flow_usd_shock_down_5pct_1w`` (a rule "vol-control selling > N after a -5 % day")."""


def vc_name(index: str) -> str:
    return f"volcontrol.{index.upper()}"


def cta_name(index: str) -> str:
    return f"cta.{index.upper()}"


def _results(settings: Any, _args: dict[str, Any]) -> list[str]:
    s = settings.systematic
    return [
        *(vc_name(i) for i in s.volcontrol_indices),
        *(cta_name(i) for i in s.cta_indices),
        VX_RESULT,
        VIXETP_RESULT,
    ]


@dataclass
class Inputs:
    """Histories the engines read (from the store), with their quality."""

    prices: dict[str, pd.DataFrame]
    price_quality: dict[str, Quality]
    vx: pd.DataFrame | None = None
    vx_quality: Quality | None = None
    vx_source: str = ""


# -- inputs ------------------------------------------------------------------------------------
def load_prices(ctx: TaskContext, index: str) -> tuple[pd.DataFrame, Quality]:
    """``prices.<INDEX>`` from the store (refreshed first when missing), with a rows quality."""
    frame = prices_task.read_history(ctx.store, index)
    if frame is None:
        ctx.progress(f"prices {index} (not stored yet)")
        prices_task.refresh_symbol(ctx, index, _client(ctx))
        frame = prices_task.read_history(ctx.store, index)
        if frame is None:  # pragma: no cover - refresh_symbol publishes or raises
            raise InputError(prices_task.result_name(index), None, "no stored history")
    meta = ctx.store.meta(prices_task.result_name(index))
    q = Quality(source=frame.attrs.get("source", index), basis="rows", total_rows=len(frame))
    for w in (meta.quality or {}).get("warnings", []):
        q.warn(w)
    return frame, q


def _client(ctx: TaskContext) -> Any:
    if ctx.settings.sample_mode:
        return None
    from flows.sources.http import HttpClient

    return HttpClient.from_settings(ctx.settings)


def read_vx(store: Any) -> tuple[pd.DataFrame, Any] | None:
    """The stored ``vx.settlements`` table (VX_COLUMNS) and meta, or None."""
    try:
        res = store.read(VX_RESULT)
    except ResultNotFound:
        return None
    frame = res.table("settlements")
    for c in ("date", "expiry"):
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    frame["contract"] = frame["contract"].astype(str)
    return frame, res.meta


def merge_vx(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """Stored settlements with the fetched contracts' rows replaced by the fetched ones."""
    new = new[list(VX_COLUMNS)].assign(contract=new["contract"].astype(str))
    if old is None or old.empty:
        out = new
    else:
        keep = old[~old["contract"].isin(set(new["contract"]))]
        out = pd.concat([keep[list(VX_COLUMNS)], new], ignore_index=True)
    return out.sort_values(["expiry", "date"], kind="stable").reset_index(drop=True)


def refresh_vx(ctx: TaskContext, end: pd.Timestamp) -> tuple[pd.DataFrame, Quality, str]:
    """Sample: generate (or reuse today's); live: fetch the recent contracts and merge.  Publishes
    ``vx.settlements`` when it changed."""
    s = ctx.settings
    stored = read_vx(ctx.store)
    if s.sample_mode:
        if (
            stored is not None
            and stored[1].sample
            and stored[1].headline.get("last_date") == end.date().isoformat()
        ):
            frame, meta = stored
            q = Quality(source=meta.source, basis="open interest", total_rows=len(frame))
            return frame, q, meta.source
        from flows.sources import sample_prices

        frame, q = sample_prices.sample_vx(
            end=end, seed=s.service.sample_seed, sessions=s.prices.sample_sessions
        )
        source = f"SAMPLE CFE VX settlements (seed {s.service.sample_seed}, generated)"
    else:
        from flows.sources import cboe_vx

        client = _client(ctx)
        parts, missing = [], []
        for query in cboe_vx.queries_for(
            end,
            s.systematic.vx_months_back,
            s.systematic.vx_months_ahead,
            url_template=s.vixetp.vx_url,
        ):
            try:
                parts.append(cboe_vx.parse(cboe_vx.fetch(query, client), query.url))
            except FlowdeskError as exc:
                missing.append(f"{query.contract}: {exc}")
        if not parts:
            raise InputError(
                "cboe-vx", None, f"no VX contract file could be read ({'; '.join(missing[:3])})"
            )
        fetched, q = cboe_vx.combine(parts, f"cboe-vx ({len(parts)} contracts)")
        for m in missing:
            q.warn(f"VX contract not fetched: {m}")
        fetched = fetched[
            fetched["date"] <= end
        ]  # a settlement after the last closed session is not one yet
        frame = merge_vx(stored[0] if stored is not None else None, fetched)
        source = "Cboe VX settlement history (per-contract files), merged into the stored history"
    enforce(q, s.quality.threshold(VX_FAMILY))
    last = pd.Timestamp(frame["date"].max())
    day = frame[frame["date"] == last]
    live = day[day["expiry"] > last].sort_values("expiry")
    headline = {
        "contracts": int(frame["contract"].nunique()),
        "sessions": int(frame["date"].nunique()),
        "front_settle": float(live["settle"].iloc[0]) if len(live) else None,
        "last_date": last.date().isoformat(),
    }
    ctx.store.publish(
        VX_RESULT,
        {"settlements": frame[list(VX_COLUMNS)]},
        as_of=prices_task.close_instant(last, s.service.timezone, s.scheduler.calendar),
        source=source,
        sample=s.sample_mode,
        headline=headline,
        quality=q.to_dict(),
        extra={"convention": "VX settlements, VIX points (USD 1,000 per point per contract)"},
    )
    return frame, q, source


def etp_assets(
    ctx: TaskContext, universe: pd.DataFrame, day: pd.Timestamp, quality: Quality
) -> tuple[Any, str]:
    """Prior-close assets per VIX ETP and where they come from."""
    s = ctx.settings
    if s.sample_mode:
        from flows.sources import sample_prices

        return sample_prices.sample_etp_assets(
            universe, s.service.sample_seed, day=day
        ), f"SAMPLE assets (seed {s.service.sample_seed}, typical values x noise)"
    from flows.sources import aum_drop, proshares

    client = _client(ctx)
    assets: dict[str, float] = {}
    where = []
    for ticker in s.vixetp.proshares_tickers:
        query = proshares.build_query(ticker, url_template=s.letf.proshares_url)
        try:
            nav = proshares.parse(proshares.fetch(query, client), f"proshares:{ticker}")
            enforce(nav.quality, s.quality.threshold("letf"))
        except FlowdeskError as exc:
            quality.warn(f"proshares:{ticker} unusable: {exc}")
            continue
        before = vixetp.assets_before(nav.history.assign(ticker=ticker), day)
        if len(before):
            assets[ticker] = float(before["aum_usd"].iloc[0])
    if assets:
        where.append("ProShares NAV history")
    path = aum_drop.build_query(s.service.drop_dir, s.vixetp.aum_drop_file)
    raw = aum_drop.fetch(path)
    if raw is not None:
        drop = aum_drop.parse_aum(raw, str(path))
        enforce(drop.quality, s.quality.threshold("letf"))
        for w in drop.quality.warnings:
            quality.warn(f"{path}: {w}")
        assets.update(
            dict(zip(drop.frame["ticker"], drop.frame["aum_usd"].astype(float), strict=True))
        )
        where.append(str(path))
    return assets, " + ".join(where) or "no assets source (every fund left out)"


# -- publishing --------------------------------------------------------------------------------
def _calibration_table(cal: calibration.Calibration) -> pd.DataFrame:
    d = cal.to_dict()
    return pd.DataFrame(
        {
            "method": [cal.method],
            "aum_usd": [float(cal.aum_usd)],
            "published_usd": [float(cal.published_usd)],
            "model_per_usd": [float(cal.model_per_usd)],
            "start": [d["start"] or ""],
            "end": [d["end"] or ""],
            "source": [cal.source],
            "label": [cal.label()],
        }
    )


def _plain(v: Any) -> Any:
    if isinstance(v, float | np.floating) and not math.isfinite(float(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def vc_params(settings: Any) -> volcontrol.VolControlParams:
    cfg = settings.volcontrol
    sub = cfg.ewma if cfg.estimator == "ewma" else cfg.sma
    extra = (
        {"decays": tuple(sub.decays)}
        if cfg.estimator == "ewma"
        else {"windows": tuple(sub.windows)}
    )
    return volcontrol.preset(
        cfg.estimator, target_vol=sub.target_vol, cap=sub.cap, lag=sub.lag, **extra
    )


def cta_params(settings: Any) -> cta.CtaParams:
    c = settings.cta
    return cta.CtaParams(
        signals=tuple(c.signals),
        target_vol=c.target_vol,
        cap=c.cap,
        vol_com_days=c.vol_com_days,
        vol_lag=c.vol_lag,
        cash_rate=c.cash_rate,
    )


def _aum(
    kind: str, settings: Any, index: str, first: bool, prices: pd.DataFrame, params: Any, q: Quality
) -> calibration.Calibration:
    cfg = getattr(settings, kind)
    per_index = getattr(settings.systematic, f"{kind}_aum_usd")
    if index in per_index:
        return calibration.configured(per_index[index], f"[systematic].{kind}_aum_usd.{index}")
    c = cfg.calibration
    if first and c is not None:
        try:
            if kind == "volcontrol":
                return volcontrol.calibrate(
                    prices, c.published_usd, c.start or c.end, c.end, params, c.source
                )
            return cta.calibrate(prices, c.published_usd, c.end, params, c.source)
        except InputError as exc:
            q.warn(f"[{kind}.calibration] not usable ({exc.reason}): configured aum_usd used")
    return calibration.configured(cfg.aum_usd, f"[{kind}].aum_usd")


def publish_volcontrol(
    ctx: TaskContext, index: str, prices: pd.DataFrame, q: Quality, first: bool
) -> dict[str, Any]:
    s = ctx.settings
    params = vc_params(s)
    q = _copy(q)
    cal = _aum("volcontrol", s, index, first, prices, params, q)
    cfg = s.volcontrol
    rep = volcontrol.analyze(
        prices,
        aum=cal,
        params=params,
        scenario_moves_pct=cfg.scenario_moves_pct,
        scenario_sessions=cfg.scenario_sessions,
        shock_grid_pct=cfg.shock_grid_pct,
    )
    keep = s.systematic.history_sessions
    hist = rep.history[VC_HISTORY].iloc[-keep:].reset_index(drop=True)
    grid = rep.shock_grid
    at = np.isclose(grid["shock_pct"].to_numpy(), SHOCK_HEADLINE_PCT)
    head = {k: _plain(v) for k, v in rep.headline.items()}
    head["flow_usd_shock_down_5pct_1w"] = (
        float(grid.loc[at, "flow_1w_usd"].iloc[0]) if at.any() else None
    )
    day = pd.Timestamp(rep.history["date"].iloc[-1])
    ctx.store.publish(
        vc_name(index),
        {
            "history": hist,
            "forward": rep.forward,
            "scenarios": rep.scenarios,
            "shock_grid": grid,
            "calibration": _calibration_table(cal),
        },
        as_of=prices_task.close_instant(day, s.service.timezone, s.scheduler.calendar),
        source=f"{prices.attrs.get('source', index)}; flows.volcontrol ({params.estimator})",
        sample=bool(prices.attrs.get("sample", s.sample_mode)),
        headline=head,
        quality=q.to_dict(),
        extra={
            "index": index,
            "horizon": rep.horizon,
            "calibration": cal.to_dict(),
            "params": {
                "estimator": params.estimator,
                "target_vol": params.target_vol,
                "cap": params.cap,
                "lag": params.lag,
            },
            "convention": "flow = AUM x (e_t - e_(t-1)), USD of index futures, + = buy; exposure fraction of AUM",
        },
    )
    return head


def publish_cta(
    ctx: TaskContext, index: str, prices: pd.DataFrame, q: Quality, first: bool
) -> dict[str, Any]:
    s = ctx.settings
    params = cta_params(s)
    q = _copy(q)
    cal = _aum("cta", s, index, first, prices, params, q)
    rep = cta.analyze(
        prices,
        aum=cal,
        params=params,
        tape_sigmas=s.cta.tape_sigmas,
        shock_grid_pct=s.cta.shock_grid_pct,
    )
    hist = rep.history[CTA_HISTORY].iloc[-s.systematic.history_sessions :].reset_index(drop=True)
    head = {k: _plain(v) for k, v in rep.headline.items()}
    day = pd.Timestamp(rep.history["date"].iloc[-1])
    triggers = rep.triggers.assign(
        lookback=rep.triggers["lookback"].astype(str), spec=rep.triggers["spec"].astype(str)
    )
    ctx.store.publish(
        cta_name(index),
        {
            "history": hist,
            "triggers": triggers,
            "scenarios": rep.scenarios,
            "shock_grid": rep.shock_grid,
            "calibration": _calibration_table(cal),
        },
        as_of=prices_task.close_instant(day, s.service.timezone, s.scheduler.calendar),
        source=f"{prices.attrs.get('source', index)}; flows.cta ({', '.join(params.signals)})",
        sample=bool(prices.attrs.get("sample", s.sample_mode)),
        headline=head,
        quality=q.to_dict(),
        extra={
            "index": index,
            "horizon": rep.horizon,
            "calibration": cal.to_dict(),
            "signals": list(params.signals),
            "convention": "position = mean signal x target vol / sigma (lagged), capped; flows USD of index futures, + = buy",
        },
    )
    return head


def publish_vixetp(
    ctx: TaskContext, vx: pd.DataFrame, vx_q: Quality, vx_source: str
) -> dict[str, Any]:
    from flows.sources import vixetp_universe

    s = ctx.settings
    q = _copy(vx_q)
    universe = vixetp_universe.read(s.vixetp.universe_file)
    day = pd.Timestamp(vx["date"].max())
    assets, assets_source = etp_assets(ctx, universe, day, q)
    rep = vixetp.analyze(
        vx,
        universe,
        assets,
        date=day,
        moves_pct=s.vixetp.scenario_moves_pct,
        calendar=s.scheduler.calendar,
    )
    for row in rep.excluded.to_dict("records"):
        q.warn(f"{row['ticker']} left out: {row['reason']}")
    idx = rep.index[INDEX_COLUMNS].copy()
    for c in ("front", "second"):
        idx[c] = idx[c].astype(str)
    mid = rep.mid_index.set_index("date")["index_return"]
    idx["mid_index_return"] = mid.reindex(pd.DatetimeIndex(idx["date"])).to_numpy(dtype=float)
    idx = idx.iloc[-s.systematic.history_sessions :].reset_index(drop=True)
    head = {k: _plain(v) for k, v in rep.headline.items()}
    excluded = rep.excluded.assign(
        ticker=rep.excluded["ticker"].astype(str), reason=rep.excluded["reason"].astype(str)
    )
    funds = rep.funds.assign(**{c: rep.funds[c].astype(str) for c in ("ticker", "name", "index")})
    by_contract = rep.by_contract.assign(contract=rep.by_contract["contract"].astype(str))
    ctx.store.publish(
        VIXETP_RESULT,
        {
            "funds": funds,
            "by_contract": by_contract,
            "scenarios": rep.scenarios,
            "index": idx,
            "excluded": excluded,
        },
        as_of=prices_task.close_instant(day, s.service.timezone, s.scheduler.calendar),
        source=f"{vx_source}; assets: {assets_source}",
        sample=s.sample_mode,
        headline=head,
        quality=q.to_dict(),
        extra={
            "horizon": rep.horizon,
            "assets_source": assets_source,
            "convention": "rebalance A (L^2 - L) R, USD of VX futures, + = buy; contracts at USD 1,000 per VIX point; roll front -> second",
        },
    )
    return head


def _copy(q: Quality) -> Quality:
    from dataclasses import replace

    return replace(q, reasons=dict(q.reasons), repairs=dict(q.repairs), warnings=list(q.warnings))


@task(
    "systematic",
    results=_results,
    description="Vol-control, CTA and VIX ETP flows from the stored price and VX histories.",
)
def systematic(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Publish ``volcontrol.<INDEX>``, ``cta.<INDEX>``, ``vx.settlements`` and ``vixetp.flows``
    (see the module docstring); one engine failing leaves the others published (partial)."""
    s = ctx.settings
    out = TaskOutcome()
    indices = list(dict.fromkeys([*s.systematic.volcontrol_indices, *s.systematic.cta_indices]))
    loaded: dict[str, tuple[pd.DataFrame, Quality]] = {}
    for index in indices:
        try:
            loaded[index] = load_prices(ctx, index)
        except FlowdeskError as exc:
            for name in (vc_name(index), cta_name(index)):
                out.failed[name] = str(exc)
    jobs = [
        (vc_name(i), publish_volcontrol, i, n == 0)
        for n, i in enumerate(s.systematic.volcontrol_indices)
    ]
    jobs += [(cta_name(i), publish_cta, i, n == 0) for n, i in enumerate(s.systematic.cta_indices)]
    for name, fn, index, first in jobs:
        if index not in loaded:
            continue
        ctx.progress(name)
        try:
            frame, q = loaded[index]
            fn(ctx, index, frame, q, first)
        except FlowdeskError as exc:
            out.failed[name] = str(exc)
            continue
        out.published.append(name)
        out.rows += 1
    try:
        ctx.progress("VX settlements")
        end = prices_task.last_closed_session(pd.Timestamp(ctx.now), s.scheduler.calendar)
        vx, vx_q, vx_source = refresh_vx(ctx, end)
        out.published.append(VX_RESULT)
        ctx.progress("VIX ETPs")
        publish_vixetp(ctx, vx, vx_q, vx_source)
        out.published.append(VIXETP_RESULT)
    except FlowdeskError as exc:
        for name in (VX_RESULT, VIXETP_RESULT):
            if name not in out.published:
                out.failed[name] = str(exc)
    if not out.published:
        raise InputError("systematic", None, "; ".join(f"{k}: {v}" for k, v in out.failed.items()))
    out.detail = f"{len(out.published)} results" + (
        f", {len(out.failed)} failed" if out.failed else ""
    )
    return out
