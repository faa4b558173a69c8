"""Dealer gamma task: fetch a chain per underlying, analyse it, publish ``gamma.<U>`` and a summary.

Per underlying (``[gamma].underlyings``, or ``args.underlyings``):

* **sample** mode: the deterministic generator (:mod:`flows.sources.sample_options`) at the run
  time, written in a real CBOE format and parsed back by the real parser; published with
  ``sample=True`` and source ``sample``.
* **live** mode: CBOE delayed-quotes JSON (:mod:`flows.sources.cboe`) through the shared
  :class:`~flows.sources.http.HttpClient`; when the drop folder (``service.drop_dir``) holds a
  hand-downloaded quote table for the underlying whose snapshot is newer (or CBOE failed), that
  file is used instead (source ``cboe-csv:<file>``).

Then :func:`flows.gamma.analyze` with :class:`~flows.gamma.GammaParams` built from ``[gamma]``
(rate, dividend yield and dealer convention per underlying, window, profile points, time basis,
hedge moves, IV shock, next close from the exchange calendar, deliverables of adjusted series,
consistency factor).  The report's input quality is enforced against
``[quality]`` (``threshold("gamma")``) before publishing and published with the result.  One underlying failing does not
stop the others: it is returned in ``TaskOutcome.failed`` and the runner marks only that result
stale, so its last good publish stays readable.  ``gamma.summary`` (one row per underlying with
the headline figures, the board's input) is published whenever at least one underlying exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from flows.errors import FlowdeskError, GammaTaskError, InputError, ResultNotFound
from jobs import declarations
from jobs.config import PROJECT_ROOT, Settings
from jobs.tasks import TaskContext, TaskOutcome, task

TABLES = tuple(t.name for t in declarations.lookup("gamma.<UNDERLYING>").tables)
"""Tables of every ``gamma.<U>`` result, in publish order (``by_strike`` is the main table): the
declared ones (:mod:`jobs.declarations.gamma`), each an attribute of :class:`flows.gamma.GammaReport`."""

SUMMARY_FIELDS = (
    "spot",
    "net_gex_usd_per_1pct",
    "call_gex_usd_per_1pct",
    "put_gex_usd_per_1pct",
    "gross_gex_usd_per_1pct",
    "zero_dte_share",
    "regime",
    "flip",
    "flip_distance_pct",
    "call_wall",
    "put_wall",
    "abs_gamma_strike",
    "hedge_flow_down3_usd",
    "hedge_flow_up3_usd",
    "convention",
    "contracts",
    "modelled_gamma_share",
)
"""Headline keys copied into ``gamma.summary`` (units and descriptions: :mod:`jobs.declarations.gamma`)."""


def gamma_results(settings: Settings, args: dict[str, Any]) -> list[str]:
    """Result names of the task (the runner marks these stale when the task fails as a whole)."""
    return ["gamma.summary"] + [f"gamma.{u}" for u in _underlyings(settings, args)]


def _underlyings(settings: Settings, args: Mapping[str, Any]) -> list[str]:
    names = args.get("underlyings") or settings.gamma.underlyings
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    return [str(n).strip().upper().lstrip("_") for n in names]


def next_close(settings: Settings, as_of: pd.Timestamp) -> pd.Timestamp | None:
    """The next session close strictly after ``as_of`` (UTC), for the charm flow
    (:func:`flows.calendars.next_close`: early closes included); None outside the calendar."""
    from flows import calendars

    try:
        return calendars.next_close(pd.Timestamp(as_of), settings.scheduler.calendar)
    except (calendars.OutOfCalendarRange, ValueError):  # charm flow then uses the engine default
        return None


def gamma_params(settings: Settings, underlying: str, as_of: pd.Timestamp) -> Any:
    """:class:`flows.gamma.GammaParams` for ``underlying`` from ``[gamma]``."""
    from flows.gamma import GammaParams
    from flows.products import Deliverable

    g = settings.gamma
    q = g.dividend_yield.get(underlying, g.dividend_yield.get("default", 0.0))
    return GammaParams(
        calendar=settings.scheduler.calendar,
        deliverables={
            root: Deliverable(shares=d.shares, cash=d.cash) for root, d in g.deliverables.items()
        },
        consistency_factor=g.consistency_factor,
        r=g.risk_free_rate,
        q=q,
        convention=g.conventions.get(underlying, "calls_long_puts_short"),
        time_basis=g.time_basis,
        window=g.window,
        n_points=g.profile_points,
        moves_pct=tuple(float(m) for m in g.hedge_moves_pct),
        iv_shock_points=g.iv_shock_points,
        next_close=next_close(settings, as_of),
    )


def _drop_dir(settings: Settings) -> Path:
    path = Path(settings.service.drop_dir)
    return (
        path
        if path.is_absolute()
        else (Path.cwd() / path if (Path.cwd() / path).exists() else PROJECT_ROOT / path)
    )


def load_chain(
    ctx: TaskContext, underlying: str, client: Any = None
) -> tuple[Any, bool, dict[str, Any]]:
    """Fetch and parse the chain for ``underlying``: ``(chain, sample, notes)``.

    ``notes`` records choices made (drop file used or refused, CBOE error) for the result's
    ``extra``.  Raises :class:`flows.errors.FlowdeskError` subclasses when no source worked.
    """
    from flows.sources import cboe, cboe_csv, sample_options

    settings = ctx.settings
    notes: dict[str, Any] = {}
    if settings.sample_mode:
        seed = settings.service.sample_seed
        layout = settings.gamma.sample_format
        source = sample_options.source_text(underlying, seed, layout)
        if layout == "csv":
            text = sample_options.sample_quotedata_csv(underlying, ctx.now, seed)
            chain = cboe_csv.parse(text, source=source, underlying=underlying)
        else:
            payload = sample_options.sample_options_json(underlying, ctx.now, seed)
            chain = cboe.parse(payload, source=source)
        notes["sample_seed"] = seed
        notes["sample_format"] = settings.gamma.sample_format
        return chain, True, notes

    live_chain = None
    live_error: str | None = None
    try:
        query = cboe.build_query(underlying, base_url=settings.gamma.cboe_base_url)
        raw = cboe.fetch(query, client)
        live_chain = cboe.parse(raw, source=cboe.SOURCE, symbol=query.symbol)
    except FlowdeskError as exc:
        live_error = str(exc)
        notes["cboe_error"] = live_error

    drop_chain = None
    if settings.gamma.use_drop_folder:
        try:
            path = cboe_csv.list_drop_folder(_drop_dir(settings), underlying)
        except InputError:
            path = None  # no drop file for this underlying: the normal case
        if path is not None:
            try:
                drop_chain = cboe_csv.read_file(path, underlying=underlying)
                drop_chain.source = f"cboe-csv:{Path(path).name}"
            except FlowdeskError as exc:
                notes["drop_file_error"] = str(exc)
                if live_chain is None:
                    raise InputError(
                        str(path),
                        getattr(exc, "field", None),
                        f"{exc} (and CBOE failed: {live_error})",
                    ) from None

    if drop_chain is not None and (
        live_chain is None or pd.Timestamp(drop_chain.as_of) > pd.Timestamp(live_chain.as_of)
    ):
        notes["used"] = "drop folder"
        notes["drop_file_age_hours"] = round(
            (pd.Timestamp(ctx.now) - pd.Timestamp(drop_chain.as_of)).total_seconds() / 3600.0, 2
        )
        return drop_chain, False, notes
    if drop_chain is not None:
        notes["drop_file_ignored"] = f"{drop_chain.source} is older than CBOE's snapshot"
    if live_chain is None:
        raise _LiveFailure(underlying, live_error or "no source")
    notes["used"] = "cboe-json"
    return live_chain, False, notes


class _LiveFailure(FlowdeskError):
    def __init__(self, underlying: str, error: str) -> None:
        super().__init__(f"gamma.{underlying}: no chain: {error}")


def publish_report(
    ctx: TaskContext,
    underlying: str,
    chain: Any,
    report: Any,
    sample: bool,
    notes: Mapping[str, Any],
    params: Any,
) -> str:
    """Publish one analysed chain as ``gamma.<underlying>``; returns the result name.

    The report's input quality (:attr:`flows.gamma.GammaReport.quality`) must already have passed
    :func:`flows.quality.enforce` (see :func:`gamma`); it is published with the result, so the
    page, the API and the alerts see its skipped share and warnings."""
    name = f"gamma.{underlying}"
    tables = {t: getattr(report, t) for t in TABLES}
    headline = dict(report.headline)
    headline["sample"] = bool(sample)
    skipped = getattr(chain, "skipped", None)
    extra = {
        "params": {
            "r": params.r,
            "q": params.q,
            "convention": params.convention,
            "time_basis": params.time_basis,
            "window": params.window,
            "n_points": params.n_points,
            "moves_pct": list(params.moves_pct),
            "iv_shock_points": params.iv_shock_points,
            "next_close": params.next_close.isoformat() if params.next_close is not None else None,
            "calendar": params.calendar,
            "consistency_factor": params.consistency_factor,
            "deliverables": {
                k: {"shares": v.shares, "cash": v.cash} for k, v in params.deliverables.items()
            },
        },
        "skipped_rows": 0 if skipped is None else len(skipped),
        "skipped_examples": []
        if skipped is None
        else skipped.head(20).astype(str).to_dict("records"),
        "chain_source": chain.source,
        **{k: v for k, v in notes.items()},
    }
    ctx.store.publish(
        name,
        tables,
        as_of=pd.Timestamp(chain.as_of),
        source=chain.source,
        sample=sample,
        headline=headline,
        extra=extra,
        quality=report.quality.to_dict() if getattr(report, "quality", None) is not None else None,
    )
    return name


def summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``gamma.summary`` table from per-underlying rows (headline fields + status)."""
    cols = ["underlying", "status", "as_of", "source", *SUMMARY_FIELDS, "error"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True, format="ISO8601")
    for c in SUMMARY_FIELDS:
        if c not in ("regime", "convention"):
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in ("status", "source", "regime", "convention", "error", "underlying"):
        frame[c] = frame[c].astype("object").where(frame[c].notna(), None).astype("str")
    return frame


@task(
    "gamma",
    results=gamma_results,
    description="Dealer gamma per underlying: fetch chains, analyse, publish gamma.<U> and gamma.summary.",
)
def gamma(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Fetch, analyse and publish ``gamma.<U>`` for each underlying, then ``gamma.summary``."""
    from flows.gamma import analyze
    from flows.quality import enforce
    from flows.sources.http import HttpClient

    settings = ctx.settings
    underlyings = _underlyings(settings, args)
    client = None if settings.sample_mode else HttpClient.from_settings(settings)
    published: list[str] = []
    failed: dict[str, str] = {}
    rows = 0
    summary: list[dict[str, Any]] = []
    for i, u in enumerate(underlyings, 1):
        ctx.progress(f"gamma {u} ({i}/{len(underlyings)})")
        name = f"gamma.{u}"
        try:
            chain, sample, notes = load_chain(ctx, u, client)
            params = gamma_params(settings, u, pd.Timestamp(chain.as_of))
            report = analyze(chain, params)
            # refuse a result that lost too much of its input: the job fails for this
            # underlying and its last good result stays published, marked stale
            enforce(report.quality, settings.quality.threshold("gamma"))
            publish_report(ctx, u, chain, report, sample, notes, params)
        except Exception as exc:  # one underlying never stops the others
            err = f"{type(exc).__name__}: {exc}"
            ctx.log.error("gamma underlying failed underlying=%s error=%s", u, err)
            failed[name] = err
            summary.append(_summary_row_from_store(ctx, u, err))
            continue
        published.append(name)
        rows += len(report.contracts)
        summary.append(_summary_row(u, "ok", chain.as_of, chain.source, report.headline, None))
    if underlyings and not published:
        # Nothing worked (network down, CBOE blocking us): fail the run as a whole so the runner
        # retries it and marks every gamma result stale, instead of recording a "partial" success.
        raise GammaTaskError(
            "every underlying failed: " + "; ".join(f"{k}: {v}" for k, v in failed.items())
        )
    if summary:
        frame = summary_frame(summary)
        ok = frame[frame["status"] == "ok"]
        as_of = ok["as_of"].max() if len(ok) else pd.Timestamp(ctx.now)
        ctx.store.publish(
            "gamma.summary",
            {"summary": frame},
            as_of=pd.Timestamp(as_of),
            source=f"flowdesk gamma summary of {len(frame)} underlyings: "
            + ", ".join(f"gamma.{u}" for u in frame["underlying"]),
            sample=settings.sample_mode,
            headline={
                "underlyings": len(frame),
                "ok": int((frame["status"] == "ok").sum()),
                "failed": len(failed),
            },
            extra={"failed": failed},
        )
        published.append("gamma.summary")
    detail = f"{len(published) - 1 if summary else 0}/{len(underlyings)} underlyings published"
    return TaskOutcome(published=published, rows=rows, failed=failed, detail=detail)


def _summary_row(
    u: str,
    status: str,
    as_of: Any,
    source: str | None,
    headline: Mapping[str, Any],
    error: str | None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "underlying": u,
        "status": status,
        "as_of": pd.Timestamp(as_of).isoformat() if as_of is not None else None,
        "source": source,
        "error": error,
    }
    for f in SUMMARY_FIELDS:
        row[f] = headline.get(f)
    return row


def _summary_row_from_store(ctx: TaskContext, u: str, error: str) -> dict[str, Any]:
    """Summary row for a failed underlying: its last good headline, marked stale (or empty)."""
    try:
        meta = ctx.store.meta(f"gamma.{u}")
    except ResultNotFound:
        return _summary_row(u, "failed", None, None, {}, error)
    return _summary_row(u, "stale", meta.as_of, meta.source, meta.headline, error)
