"""JSON / CSV / Arrow API on the dashboard's Flask server (read-only, from Redis).

Routes (registered by :func:`dashboard.app.create_app`; behind the login when the app is exposed,
except ``/healthz``):

``GET /api/v1/results``
    Every published result: name, as_of, computed_at, source, status, rows, tables, sample,
    headline, freshness grade, and from its declaration (:mod:`jobs.declarations`): ``units``
    (per table and column), ``headline_units``, ``description`` and ``descriptions`` (of the
    tables, the columns per table and the headline keys).
``GET /api/v1/results/<name>``
    One table of one result (only that table is read from Redis).  ``format=json`` (default:
    ``{"meta": {...}, "table": ..., "total": rows, "offset": ..., "limit": ..., "next_offset":
    ... | null, "data": [records]}``: a page of ``limit`` rows from ``offset``, default
    :data:`DEFAULT_PAGE` rows, at most :data:`MAX_PAGE`; ``next_offset`` is null on the last
    page), ``csv`` (every row, plain CSV; provenance in ``X-Flowdesk-*`` headers: result, version,
    as-of, computed-at, source, status, sample, units as JSON) or ``arrow`` (every row, Arrow IPC
    stream, ``application/vnd.apache.arrow.stream``; flowdesk metadata JSON under the schema
    metadata key ``flowdesk``; built from the stored Arrow bytes without going through pandas;
    ``compression=zstd`` serves the stored zstd-compressed stream byte for byte, provenance in
    the headers only).  A table an older version no longer keeps (``[store] full_versions``:
    per-contract rows, profiles) is a 404 saying so.  ``table=`` picks a table (default: the main one), ``as_of=`` an ISO time
    returns the version current at that time (naive times are in the desk's time zone; a space
    where a URL-decoded ``+`` offset was is accepted), ``version=`` an exact version id.
``GET /api/v1/results/<name>/history``
    Headline figures of every kept version (``format=json`` or ``csv``).
``GET /api/v1/declarations``
    The reference of every result flowdesk publishes (:func:`jobs.declarations.reference`:
    tables, columns with kind, unit and description, headline keys, cadence, task; the
    placeholders and units).  ``result=gamma.SPX`` returns only the declaration of that result
    (404 when none).  ``docs/results.md`` is the same reference as Markdown.
``GET /api/v1/jobs``
    Every configured or recorded job: configuration, last run, last success, ``state``
    (:data:`jobs.health.JOB_STATES`).
``GET /healthz``
    200 ``{"redis": "ok", "scheduler_heartbeat_age_s": ..., "scheduler": "ok" | "late" | "no heartbeat"}``
    when Redis answers (the scheduler graded by :func:`jobs.health.scheduler_health`), else 503
    (also while the pages serve their last results marked stale).  Cheap on purpose: no login
    (it is in :data:`dashboard.auth.OPEN_PATHS`), one pipelined round trip to Redis.

Errors are JSON ``{"error": "..."}``: 404 unknown result/table/version, 400 bad parameter,
503 Redis unreachable.  NaN and infinities are ``null`` in JSON.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import redis
from flask import Blueprint, Response, request

from dashboard import data, render_cache
from flows.errors import FlowdeskError
from jobs import declarations
from jobs.health import assess, job_health, scheduler_health
from jobs.store import ResultMeta, ResultNotFound, codec

log = logging.getLogger("flowdesk.web.api")

ARROW_MIME = "application/vnd.apache.arrow.stream"
FORMATS = ("json", "csv", "arrow")
DEFAULT_PAGE = 1_000
"""Rows of a JSON answer when no ``limit`` is given."""
MAX_PAGE = 100_000
"""Largest ``limit`` of a JSON answer (Arrow and CSV answers carry every row)."""

bp = Blueprint("flowdesk_api", __name__)


class ApiError(Exception):
    """An error answered as JSON with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(payload: Any, status: int = 200) -> Response:
    """Strict JSON (NaN/inf -> null), timestamps as ISO 8601 with offsets."""
    body = codec.dumps(payload, strict=False)
    return Response(body, status=status, mimetype="application/json")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response({"error": exc.message}, exc.status)


@bp.errorhandler(FlowdeskError)
def _flowdesk_error(exc: FlowdeskError) -> Response:
    # e.g. an invalid config.toml: the message names the file, key and reason (never a secret)
    log.error("api: path=%s error=%s", request.path, exc)
    return json_response({"error": str(exc)}, 500)


@bp.errorhandler(redis.RedisError)
def _redis_error(exc: redis.RedisError) -> Response:
    log.error("api: redis error path=%s error=%s", request.path, type(exc).__name__)
    return json_response({"error": f"Redis unreachable ({type(exc).__name__})"}, 503)


def _column_values(col: pd.Series) -> list[Any]:
    """Python values of one column: None for missing, ISO strings for times."""
    if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
        return [None if pd.isna(v) else v.isoformat() for v in col]
    if pd.api.types.is_timedelta64_dtype(col.dtype):
        return [None if pd.isna(v) else v.total_seconds() for v in col]
    values = col.astype(object).where(col.notna(), None).tolist()
    return [codec.plain(v) for v in values]


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame`` as JSON-ready records (index kept as columns when it is not a RangeIndex)."""
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    columns = [str(c) for c in frame.columns]
    values = [_column_values(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return (
        [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
        if columns
        else []
    )


def arrow_records_json(table: pa.Table) -> str:
    """``table`` (one page of a stored table) as a JSON array of records, built in Arrow.

    The same values :func:`frame_records` gives (NaN and infinities -> null, times as ISO 8601
    with their offset, index columns kept) without a pandas round trip or a per-value cleaner:
    floats are nulled where not finite in Arrow, times are converted per column, and the records
    leave Arrow once (``to_pylist``).  The board grid's default page: 64 ms -> see
    ``bench/bench_api.py``.
    """
    meta = table.schema.pandas_metadata or {}
    index = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    if index:  # a named/non-range index stored as columns: put it first, as reset_index does
        table = table.select(index + [n for n in table.column_names if n not in index])
    columns = []
    for col in table.columns:
        if pa.types.is_floating(col.type):
            col = pc.if_else(pc.is_finite(col), col, pa.scalar(None, col.type))
        elif pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
            col = pa.array(_column_values(col.to_pandas()), type=pa.string())
        elif pa.types.is_duration(col.type):
            col = pa.array(_column_values(col.to_pandas()), type=pa.float64())
        elif pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        columns.append(col)
    records = pa.table(columns, names=[str(n) for n in table.column_names]).to_pylist()
    return json.dumps(records, default=str, allow_nan=False, separators=(",", ":"))


def parse_as_of(value: str, tz: Any) -> pd.Timestamp:
    """Parse ``as_of``: ISO 8601; naive times are in ``tz``.  Raises :class:`ApiError` (400)."""
    text = value.strip()
    # A '+' offset that was not URL-encoded arrives as a space: "2024-01-05T16:00:00 05:00".
    text = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", text)
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise ApiError(400, f"as_of: not an ISO 8601 time: {value!r} ({exc})") from None
    if pd.isna(ts):
        raise ApiError(400, f"as_of: not an ISO 8601 time: {value!r}")
    if ts.tzinfo is None:
        try:
            ts = ts.tz_localize(tz)
        except (ValueError, TypeError) as exc:  # a DST gap or overlap in the desk's time zone
            raise ApiError(
                400,
                f"as_of: {value!r} is ambiguous or does not exist in {tz}: give a UTC offset ({exc})",
            ) from None
    return ts


def _provenance_headers(meta: ResultMeta, table: str) -> dict[str, str]:
    return {
        "X-Flowdesk-Result": meta.name,
        "X-Flowdesk-Table": table,
        "X-Flowdesk-Version": meta.version,
        "X-Flowdesk-As-Of": meta.as_of,
        "X-Flowdesk-Computed-At": meta.computed_at,
        "X-Flowdesk-Source": meta.source,
        "X-Flowdesk-Status": meta.status,
        "X-Flowdesk-Sample": "true" if meta.sample else "false",
        "X-Flowdesk-Units": json.dumps(meta.units.get(table, {}), separators=(",", ":")),
    }


def _int_arg(name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name}: not a whole number: {raw!r}") from None
    if value < lo or (hi is not None and value > hi):
        raise ApiError(
            400,
            f"{name}: must be between {lo} and {hi}"
            if hi is not None
            else f"{name}: must be >= {lo}",
        )
    return value


def _arrow_with_meta(blob: bytes, meta: dict[str, Any]) -> bytes:
    """The stored Arrow stream ``blob`` rewritten uncompressed with ``meta`` under the schema
    metadata key ``flowdesk`` (what any Arrow reader opens); no pandas on the way."""
    import pyarrow as pa

    table = codec.arrow_table(blob)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[b"flowdesk"] = codec.dumps(meta, strict=False).encode()
    table = table.replace_schema_metadata(schema_meta)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _format_arg(allowed: tuple[str, ...]) -> str:
    fmt = request.args.get("format", "json").lower()
    if fmt not in allowed:
        raise ApiError(400, f"format: must be one of {', '.join(allowed)} (got {fmt!r})")
    return fmt


def declared(meta: ResultMeta) -> dict[str, Any]:
    """What the declaration of ``meta``'s result says of this version: units of its columns and
    headline keys (as stored with it at publish; headline units from the declaration for a
    version stored without them) and the descriptions of the result, its tables, their columns
    and its headline keys."""
    decl = declarations.find(meta.name)
    if decl is None:  # a result published before it was declared: its stored units only
        return {
            "declaration": None,
            "description": None,
            "units": meta.units,
            "headline_units": meta.headline_units,
            "descriptions": {},
        }
    tables = {t: decl.table(t) for t in meta.tables}
    heads = {k: decl.headline_key(k) for k in meta.headline}
    return {
        "declaration": decl.name,
        "description": decl.description,
        "units": meta.units,
        "headline_units": meta.headline_units
        or {k: str(h.unit) for k, h in heads.items() if h is not None},
        "descriptions": {
            "tables": {t: table.description for t, table in tables.items() if table is not None},
            "columns": {
                t: {
                    c: col.description
                    for c in meta.units.get(t, {})
                    if (col := table.column(c)) is not None
                }
                for t, table in tables.items()
                if table is not None
            },
            "headline": {k: h.description for k, h in heads.items() if h is not None},
        },
    }


LISTING_SECONDS = 30
"""The results listing is rebuilt when a result changes, else at most this often (freshness)."""


@bp.get("/api/v1/results")
def list_results() -> Response:
    store = data.live_store()
    metas = store.summaries()
    # the listing is a function of the current versions (and their failure marks) and of the
    # clock through the freshness grades, which move in hours: one body per window serves every
    # poller (125 KB of declared units and descriptions; building it costs ~40 ms)
    key = (
        "api-listing",
        tuple(
            (m.name, m.version, m.status, m.failure and codec.dumps(m.failure, strict=False))
            for m in metas
        ),
        int(time.time() // LISTING_SECONDS),
    )
    body = render_cache.CACHE.get(key, lambda: _listing_body(store, metas))
    return Response(body, mimetype="application/json")


def _listing_body(store: Any, metas: list[ResultMeta]) -> str:
    grades = {
        item.name: item
        for item in assess(data.settings(), store, metas={m.name: m for m in metas}).items
    }
    out = []
    for meta in metas:
        grade = grades.get(meta.name)
        out.append(
            {
                "name": meta.name,
                "as_of": meta.as_of,
                "computed_at": meta.computed_at,
                "source": meta.source,
                "status": meta.status,
                "rows": meta.rows,
                "tables": meta.tables,
                "sample": meta.sample,
                "headline": meta.headline,
                **declared(meta),
                "version": meta.version,
                "freshness": grade.level if grade else None,
                "quality": meta.quality,
                "failure": meta.failure,
            }
        )
    return codec.dumps({"results": out}, strict=False)


@bp.get("/api/v1/declarations")
def list_declarations() -> Response:
    name = request.args.get("result")
    if name is None:
        return json_response(declarations.reference())
    decl = declarations.find(name)
    if decl is None:
        raise ApiError(
            404,
            f"no declaration for result {name!r} (declared: {', '.join(d.name for d in declarations.declarations())})",
        )
    return json_response(decl.to_dict())


@bp.get("/api/v1/results/<name>")
def get_result(name: str) -> Response:
    fmt = _format_arg(FORMATS)
    as_of_raw = request.args.get("as_of")
    version = request.args.get("version") or None
    as_of = parse_as_of(as_of_raw, data.settings().tz) if as_of_raw else None
    if as_of is not None and version is not None:
        raise ApiError(400, "give either as_of or version, not both")
    table = request.args.get("table") or None
    compression = request.args.get("compression")
    if compression not in (None, "", "zstd"):
        raise ApiError(
            400, f"compression: only zstd (the stored bytes) is offered (got {compression!r})"
        )
    if compression and fmt != "arrow":
        raise ApiError(400, "compression: only with format=arrow")
    offset = _int_arg("offset", 0, 0)
    limit = _int_arg("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    store = data.live_store()
    try:
        meta_obj, table, blob = store.table_bytes(name, as_of=as_of, version=version, table=table)
    except ResultNotFound as exc:
        what = f"version {version!r} of " if version else ""
        raise ApiError(
            404,
            f"no published result {what}{name!r}"
            + (f" at or before {as_of.isoformat()}" if as_of is not None else ""),
        ) from exc
    except KeyError as exc:  # unknown table, or one an older version no longer keeps
        raise ApiError(404, str(exc.args[0]) if exc.args else str(exc)) from exc
    meta = meta_obj.to_dict()
    headers = _provenance_headers(meta_obj, table)
    stem = f"{name}.{table}" if table != meta_obj.tables[0] else name
    if fmt == "arrow":
        headers["Content-Disposition"] = f'attachment; filename="{stem}.arrows"'
        if compression:
            headers["X-Flowdesk-Meta"] = codec.dumps(meta, strict=False)
            return Response(blob, mimetype=ARROW_MIME, headers=headers)
        return Response(_arrow_with_meta(blob, meta), mimetype=ARROW_MIME, headers=headers)
    if fmt == "json":
        arrow = codec.arrow_table(blob)
        total = arrow.num_rows
        nxt = offset + limit if offset + limit < total else None
        head = codec.dumps(
            {
                "meta": meta,
                "table": table,
                "total": total,
                "offset": offset,
                "limit": limit,
                "next_offset": nxt,
            },
            strict=False,
        )
        # only the page's rows leave Arrow, straight to JSON (the records are the bulk)
        body = f'{head[:-1]},"data":{arrow_records_json(arrow.slice(offset, limit))}}}'
        return Response(body, mimetype="application/json")
    frame = codec.arrow_to_frame(blob)
    headers["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    body = frame.to_csv(index=not isinstance(frame.index, pd.RangeIndex))
    return Response(body, mimetype="text/csv", headers=headers)


@bp.get("/api/v1/results/<name>/history")
def get_history(name: str) -> Response:
    fmt = _format_arg(("json", "csv"))
    store = data.live_store()
    series = store.headline_series(name)
    if series.empty:
        raise ApiError(404, f"no published result {name!r}")
    if fmt == "csv":
        return Response(
            series.to_csv(index=False), mimetype="text/csv", headers={"X-Flowdesk-Result": name}
        )
    return json_response({"name": name, "history": frame_records(series)})


@bp.get("/api/v1/jobs")
def list_jobs() -> Response:
    store = data.live_store()
    out = []
    for j in job_health(data.settings(), store, include_unconfigured=True):
        spec = j.spec
        out.append(
            {
                "job": j.job,
                "configured": spec is not None,
                "task": spec.task if spec else None,
                "cron": spec.cron if spec else None,
                "enabled": spec.enabled if spec else None,
                "stale_after_minutes": spec.stale_after_minutes if spec else None,
                "last_run": j.last_run.to_dict() if j.last_run else None,
                "last_success": j.last_success.to_dict() if j.last_success else None,
                "state": j.state,
            }
        )
    out.sort(key=lambda row: row["job"])
    return json_response({"jobs": out})


@bp.get("/healthz")
def healthz() -> Response:
    try:
        store = data.live_store()
        store.redis.ping()
        beat = scheduler_health(data.settings(), store)
    except redis.RedisError as exc:
        data.redis_outage().failed(exc)
        log.error("healthz: redis unreachable error=%s", type(exc).__name__)
        return json_response(
            {
                "redis": "unreachable",
                "error": type(exc).__name__,
                "scheduler_heartbeat_age_s": None,
            },
            503,
        )
    except Exception as exc:  # no Redis configured, invalid config: unhealthy, and say why
        log.error("healthz: %s", exc)
        return json_response(
            {
                "redis": "unknown",
                "error": f"{type(exc).__name__}: {exc}",
                "scheduler_heartbeat_age_s": None,
            },
            503,
        )
    return json_response(
        {
            "redis": "ok",
            "scheduler_heartbeat_age_s": round(beat["age_s"], 3) if beat else None,
            "scheduler": ("ok" if beat["alive"] else "late") if beat else "no heartbeat",
        }
    )
