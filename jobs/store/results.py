"""The Redis result store: jobs publish named results, the dashboard and the API read them.

A *result* is one or more named tables (pandas DataFrames; the first is the main table, called
``data`` when only one is given) plus metadata: name, as-of time of the data, computed-at time,
source, schema version, row count, status, column units and headline figures.

Layout (see :mod:`jobs.store.keys`): every publish gets an immutable *version* whose tables (Arrow IPC)
and metadata (JSON) are written together with the switch of the ``current`` pointer and the
history entry in one ``MULTI``/``EXEC`` transaction on one hash slot.  A reader resolves the
pointer and then reads that version's immutable keys, so it sees either the previous complete
result or the new one, never a mix.  A failed job calls :meth:`ResultStore.mark_failed`, which
leaves the current version in place and marks it stale until the next good publish.

History: every version stays readable (by version or by time, ``as_of=``) until pruned by count,
age or bytes (``[store]`` in ``config.toml``: ``history_max_count``, ``history_max_age_days``,
``history_max_mb`` per result, oldest versions first); the current version is never pruned.
Tables declared ``history="latest"`` (per-contract rows, the 801-point profile, the gamma grid)
are kept only in the newest ``full_versions`` versions: an older version is *slimmed* (its
metadata lists the tables it lost in ``slimmed``; its headline and other tables stay).  Columns
declared ``storage="float32"`` are stored as float32.  Each version's bytes (tables + metadata)
are in ``ResultMeta.bytes`` and in the result's ``sizes`` hash.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import redis

from flows.errors import ResultNotFound
from jobs import declarations
from jobs.store import codec, keys
from jobs.store.codec import arrow_to_frame, frame_to_arrow

MAIN_TABLE = "data"
"""Name of the table when a single DataFrame is published."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(ts: datetime | pd.Timestamp | str | None) -> str | None:
    if ts is None:
        return None
    if isinstance(ts, str):
        ts = pd.Timestamp(ts)
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        raise ValueError(f"timestamp {ts!r} has no time zone: flowdesk stores only tz-aware times")
    return ts.isoformat()


def dumps(value: Any) -> str:
    """JSON for Redis: NaN as null, timestamps as ISO strings (:func:`jobs.store.codec.dumps`)."""
    return codec.dumps(value)


@dataclass
class ResultMeta:
    """Metadata of one published version.  Times are ISO 8601 strings with offsets."""

    name: str
    version: str
    as_of: str
    """Time the data describes (e.g. the option snapshot time, the COT report date)."""
    computed_at: str
    """When flowdesk computed and published it."""
    source: str
    """Where the data came from (``cboe-json``, ``cboe-csv:<file>``, ``sample``, ...)."""
    schema_version: int
    rows: int
    """Rows of the main table."""
    tables: list[str]
    status: str = "ok"
    """``ok``, or ``stale`` when the last attempt to refresh it failed."""
    sample: bool = False
    """True when computed on generated sample data (the UI labels it SAMPLE)."""
    units: dict[str, dict[str, str]] = field(default_factory=dict)
    """Unit of each column, per table, from the declaration: ``{"by_strike": {"net_gex_usd_per_1pct": "USD per 1% move"}}``."""
    headline_units: dict[str, str] = field(default_factory=dict)
    """Unit of each headline key, from the declaration."""
    declaration: str | None = None
    """Name of the result's declaration (``gamma.<UNDERLYING>`` for ``gamma.SPX``): its tables,
    columns and headline keys with descriptions are in ``GET /api/v1/declarations``."""
    headline: dict[str, Any] = field(default_factory=dict)
    """Headline figures (flat, JSON-able) for cards, alerts and history series."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else the producer wants to carry (conventions, parameters, skipped rows)."""
    quality: dict[str, Any] = field(default_factory=dict)
    """Input quality (:meth:`flows.quality.Quality.to_dict`): rows skipped or repaired, the share
    of the basis they carry, warnings.  Empty when the producer reported none."""
    failure: dict[str, Any] | None = None
    """When stale: ``{"error": ..., "failed_at": ..., "job": ...}`` of the last failed attempt."""
    bytes: int = 0
    """Bytes this version keeps in Redis: its tables (Arrow IPC, zstd) and this metadata (0:
    published before sizes were recorded)."""
    slimmed: list[str] = field(default_factory=list)
    """Tables this version no longer holds (declared ``history="latest"``; dropped once
    ``[store] full_versions`` newer versions exist)."""

    @classmethod
    def from_json(cls, raw: str | bytes) -> ResultMeta:
        data = json.loads(raw)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def computed_at_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.computed_at)

    @property
    def as_of_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.as_of)

    def age_seconds(self, now: datetime | None = None) -> float:
        now = now or utcnow()
        return (pd.Timestamp(now) - self.computed_at_ts).total_seconds()


@dataclass
class Result:
    """A result read back from the store."""

    meta: ResultMeta
    tables: dict[str, pd.DataFrame]

    @property
    def frame(self) -> pd.DataFrame:
        """The main table (or, when only some tables were read, the first of those)."""
        main = self.meta.tables[0]
        return self.tables[main] if main in self.tables else next(iter(self.tables.values()))

    def table(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(
                f"result {self.meta.name!r} has no table {name!r} (has: {', '.join(self.meta.tables)})"
            ) from None


@dataclass
class RunRecord:
    """One run of a job (one attempt sequence for one slot)."""

    job: str
    slot: str
    started_at: str
    ended_at: str | None = None
    duration_s: float | None = None
    status: str = "running"
    """``running``, ``ok``, ``failed``, ``partial`` (some parts failed) or ``skipped``."""
    error: str | None = None
    rows: int = 0
    attempts: int = 1
    results: list[str] = field(default_factory=list)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    detail: str | None = None

    @classmethod
    def from_json(cls, raw: str | bytes) -> RunRecord:
        data = json.loads(raw)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


EOD_TZ = "America/New_York"
"""Time zone of the end-of-day dates (the exchange's: a session's close is its day's)."""


def eod_close(meta: ResultMeta) -> tuple[str, dict[str, Any]]:
    """``(exchange date of the as-of, record)`` of a publish for the end-of-day hash: the numeric
    headline figures (numbers and None; text, lists and flags left out), as-of and version."""
    day = pd.Timestamp(meta.as_of).tz_convert(EOD_TZ).date().isoformat()
    numbers = {
        k: v
        for k, v in meta.headline.items()
        if v is None or (isinstance(v, int | float) and not isinstance(v, bool))
    }
    return day, {
        "as_of": meta.as_of,
        "computed_at": meta.computed_at,
        "version": meta.version,
        "headline": numbers,
    }


def _stored(frame: pd.DataFrame, table: declarations.Table | None) -> pd.DataFrame:
    """``frame`` as kept in Redis: columns declared ``storage="float32"`` cast to float32 (the
    declaration says why each may be); everything else as published."""
    if table is None:
        return frame
    cast = [
        c
        for c in map(str, frame.columns)
        if (col := table.column(c)) is not None
        and col.storage == "float32"
        and pd.api.types.is_float_dtype(frame[c].dtype)
        and frame[c].dtype != "float32"
    ]
    if not cast:
        return frame
    return frame.astype({c: "float32" for c in cast})


def _sized(meta: ResultMeta, table_bytes: int) -> str:
    """The metadata JSON with ``meta.bytes`` set to ``table_bytes`` + the JSON's own length."""
    meta.bytes = table_bytes
    text = dumps(meta.to_dict())
    for _ in range(3):  # the count's digits are part of the JSON: settle in a step or two
        total = table_bytes + len(text.encode())
        if total == meta.bytes:
            break
        meta.bytes = total
        text = dumps(meta.to_dict())
    return text


def _new_version(now: datetime) -> str:
    # Sortable by time, unique across processes.
    return now.strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(3)


class ResultStore:
    """Publish and read results, record job runs.  Thread-safe (redis-py pools connections).

    Parameters
    ----------
    client:
        A ``redis.Redis`` client created with ``decode_responses=False`` (tables are bytes).
    history_max_count, history_max_age_days, history_max_mb:
        Retention of past versions per result: count, age, bytes (MB = 10^6 bytes of tables and
        metadata; None: no byte cap).  The current version is always kept.
    full_versions:
        Newest versions that keep their ``history="latest"`` tables.
    run_history:
        Run records kept per job.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        history_max_count: int = 500,
        history_max_age_days: float = 120.0,
        history_max_mb: float | None = 64.0,
        full_versions: int = 3,
        run_history: int = 200,
    ) -> None:
        self.redis = client
        self.history_max_count = history_max_count
        self.history_max_age_s = history_max_age_days * 86400.0
        self.history_max_bytes = None if history_max_mb is None else int(history_max_mb * 1e6)
        self.full_versions = max(1, int(full_versions))
        self.run_history = run_history

    @staticmethod
    def options(store_settings: Any) -> dict[str, Any]:
        """Constructor keywords from :class:`jobs.config.StoreSettings`."""
        s = store_settings
        return {
            "history_max_count": s.history_max_count,
            "history_max_age_days": s.history_max_age_days,
            "history_max_mb": s.history_max_mb,
            "full_versions": s.full_versions,
            "run_history": s.run_history,
        }

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ResultStore:
        return cls(connect(url), **kwargs)

    @classmethod
    def from_settings(cls, settings: Any) -> ResultStore:
        """Store for validated :class:`jobs.config.Settings` (needs ``service.redis_url``)."""
        url = settings.service.redis_url
        if not url:
            raise RuntimeError(
                "no Redis configured: set REDIS_URL (or service.redis_url in config.toml), "
                "or use `flowdesk run`, which starts an embedded development Redis"
            )
        return cls(connect(url), **cls.options(settings.store))

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False

    # -- publishing -----------------------------------------------------------------------
    def publish(
        self,
        name: str,
        tables: pd.DataFrame | Mapping[str, pd.DataFrame],
        *,
        as_of: datetime | pd.Timestamp | str,
        source: str,
        schema_version: int = 1,
        sample: bool = False,
        headline: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        quality: Mapping[str, Any] | None = None,
        computed_at: datetime | None = None,
    ) -> ResultMeta:
        """Atomically publish a new version of ``name`` and make it current.

        ``tables`` is one DataFrame (stored as ``data``) or an ordered mapping of named tables,
        the first being the main one.  ``as_of`` must be tz-aware.  ``quality`` is the input
        quality (:meth:`flows.quality.Quality.to_dict`); its ``quality_skipped_share`` and
        ``quality_warnings`` are added to the headline so alerts can read them.  Clears any
        stale mark.

        Every publish is checked against the result's declaration (:mod:`jobs.declarations`),
        which also gives the units of the columns and headline keys stored with it: an
        undeclared result, table, column or headline key, or a column of another kind, raises
        :class:`jobs.declarations.DeclarationError` naming it, and nothing is written.
        """
        if isinstance(tables, pd.DataFrame):
            tables = {MAIN_TABLE: tables}
        if not tables:
            raise ValueError(f"result {name!r}: nothing to publish (no tables)")
        for tname, frame in tables.items():
            if not isinstance(frame, pd.DataFrame):
                raise TypeError(
                    f"result {name!r}: table {tname!r} is a {type(frame).__name__}, not a DataFrame"
                )
            if ":" in tname:
                raise ValueError(f"result {name!r}: table name {tname!r} may not contain ':'")
        head = dict(headline or {})
        if quality:
            head.setdefault("quality_skipped_share", float(quality.get("skipped_share", 0.0)))
            head.setdefault("quality_warnings", len(quality.get("warnings", [])))
        units = declarations.validate(name, tables, head)
        decl = declarations.lookup(name)
        computed = computed_at or utcnow()
        version = _new_version(computed)
        encoded = {
            tname: frame_to_arrow(_stored(frame, decl.table(tname)))
            for tname, frame in tables.items()
        }
        latest_only = [
            t
            for t in tables
            if (d := decl.table(t)) is not None
            and d.history == "latest"
            and t != next(iter(tables))
        ]
        names = list(tables)
        meta = ResultMeta(
            name=name,
            version=version,
            as_of=_iso(as_of) or "",
            computed_at=_iso(computed) or "",
            source=source,
            schema_version=schema_version,
            rows=len(tables[names[0]]),
            tables=names,
            sample=sample,
            units=units,
            headline_units=declarations.headline_units(name, head),
            declaration=decl.name,
            headline=head,
            extra=dict(extra or {}),
            quality=dict(quality or {}),
        )
        meta_json = _sized(meta, sum(len(b) for b in encoded.values()))
        score = computed.timestamp()
        with self.redis.pipeline(transaction=True) as pipe:
            for tname, blob in encoded.items():
                pipe.set(keys.result_table(name, version, tname), blob)
            pipe.set(keys.result_meta(name, version), meta_json)
            pipe.zadd(keys.result_history(name), {version: score})
            pipe.hset(keys.result_sizes(name), version, meta.bytes)
            if latest_only:
                pipe.sadd(keys.result_full(name), version)
            pipe.set(keys.result_current(name), version)
            pipe.delete(keys.result_status(name))
            day, close = eod_close(meta)
            pipe.hset(keys.result_eod(name), day, dumps(close))
            pipe.execute()
        self.redis.sadd(keys.result_index(), name)
        self._prune(name, now=time.time())
        self._slim(name, decl)
        self._cap_bytes(name)
        return meta

    def mark_failed(
        self, name: str, error: str, *, job: str | None = None, at: datetime | None = None
    ) -> None:
        """Record that refreshing ``name`` failed: the current version stays, shown as stale."""
        failure = {"error": str(error), "failed_at": _iso(at or utcnow()), "job": job}
        self.redis.set(keys.result_status(name), dumps(failure))
        self.redis.sadd(keys.result_index(), name)

    def _prune(self, name: str, now: float) -> None:
        hkey = keys.result_history(name)
        current = self._current_version(name)
        doomed: set[bytes] = set()
        excess = self.redis.zcard(hkey) - self.history_max_count
        if excess > 0:
            doomed.update(self.redis.zrange(hkey, 0, excess - 1))
        doomed.update(self.redis.zrangebyscore(hkey, "-inf", now - self.history_max_age_s))
        if current is not None:
            doomed.discard(current.encode())
        self._delete_versions(name, [raw.decode() for raw in doomed])

    def _delete_versions(self, name: str, versions: list[str]) -> None:
        """Remove ``versions`` of ``name`` (metadata, tables, history and size entries)."""
        if not versions:
            return
        metas = self.redis.mget([keys.result_meta(name, v) for v in versions])
        with self.redis.pipeline(transaction=True) as pipe:
            for version, meta_raw in zip(versions, metas, strict=True):
                tables = ResultMeta.from_json(meta_raw).tables if meta_raw else []
                pipe.zrem(keys.result_history(name), version)
                pipe.hdel(keys.result_sizes(name), version)
                pipe.srem(keys.result_full(name), version)
                pipe.delete(
                    keys.result_meta(name, version),
                    *[keys.result_table(name, version, t) for t in tables],
                )
            pipe.execute()

    def _slim(self, name: str, decl: declarations.ResultDecl) -> None:
        """Drop the ``history="latest"`` tables of every version older than the newest
        ``full_versions`` (never the current one): its metadata then lists them in ``slimmed``
        and its recorded bytes shrink."""
        full = [v.decode() for v in self.redis.smembers(keys.result_full(name))]
        if len(full) <= self.full_versions:
            return
        keep = {
            v.decode()
            for v in self.redis.zrange(keys.result_history(name), -self.full_versions, -1)
        }
        current = self._current_version(name)
        if current is not None:
            keep.add(current)
        latest_only = {t.name for t in decl.tables if t.history == "latest"}
        for version in sorted(v for v in full if v not in keep):
            meta = self._meta_of(name, version)
            if meta is None:
                self.redis.srem(keys.result_full(name), version)
                continue
            dropped = [t for t in meta.tables[1:] if t in latest_only]
            kept = [t for t in meta.tables if t not in dropped]
            sizes = [self.redis.strlen(keys.result_table(name, version, t)) for t in kept]
            meta.tables, meta.slimmed = kept, sorted({*meta.slimmed, *dropped})
            meta.status, meta.failure = "ok", None  # as stored (status is added on read)
            meta_json = _sized(meta, sum(sizes))
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(keys.result_meta(name, version), meta_json, xx=True)
                if dropped:
                    pipe.delete(*[keys.result_table(name, version, t) for t in dropped])
                pipe.hset(keys.result_sizes(name), version, meta.bytes)
                pipe.srem(keys.result_full(name), version)
                pipe.execute()

    def _cap_bytes(self, name: str) -> None:
        """Trim the oldest versions of ``name`` until its versions' bytes are within
        ``history_max_bytes`` (the current version stays, even alone above the cap)."""
        if self.history_max_bytes is None:
            return
        sizes = {k.decode(): int(v) for k, v in self.redis.hgetall(keys.result_sizes(name)).items()}
        versions = [v.decode() for v in self.redis.zrange(keys.result_history(name), 0, -1)]
        for v in versions:  # versions published before sizes were recorded: measure them once
            if v not in sizes:
                sizes[v] = self._measure(name, v)
        total = sum(sizes.get(v, 0) for v in versions)
        if total <= self.history_max_bytes:
            return
        current = self._current_version(name)
        doomed = []
        for v in versions:  # oldest first
            if total <= self.history_max_bytes:
                break
            if v == current:
                continue
            doomed.append(v)
            total -= sizes.get(v, 0)
        self._delete_versions(name, doomed)

    def _measure(self, name: str, version: str) -> int:
        """Bytes of one stored version (tables + metadata), recorded in the sizes hash."""
        meta_raw = self.redis.get(keys.result_meta(name, version))
        if meta_raw is None:
            return 0
        meta = ResultMeta.from_json(meta_raw)
        total = len(meta_raw) + sum(
            self.redis.strlen(keys.result_table(name, version, t)) for t in meta.tables
        )
        self.redis.hset(keys.result_sizes(name), version, total)
        return total

    def version_bytes(self, name: str) -> dict[str, int]:
        """Bytes each kept version of ``name`` holds in Redis (tables + metadata), oldest first."""
        sizes = {k.decode(): int(v) for k, v in self.redis.hgetall(keys.result_sizes(name)).items()}
        versions = [v.decode() for v in self.redis.zrange(keys.result_history(name), 0, -1)]
        return {v: sizes[v] if v in sizes else self._measure(name, v) for v in versions}

    # -- reading --------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(n.decode() for n in self.redis.smembers(keys.result_index()))

    def versions(self) -> dict[str, str]:
        """``{result name: current version}`` of every published result, a failed last refresh
        marked ``<version>!stale``: what a page compares to know whether anything it shows changed
        (two round trips, no metadata decoded)."""
        names = self.names()
        pipe = self.redis.pipeline(transaction=False)
        for n in names:
            pipe.get(keys.result_current(n))
            pipe.exists(keys.result_status(n))
        got = pipe.execute()
        out: dict[str, str] = {}
        for i, n in enumerate(names):
            ver = got[2 * i]
            if ver is not None:
                out[n] = ver.decode() + ("!stale" if got[2 * i + 1] else "")
        return out

    def _current_version(self, name: str) -> str | None:
        raw = self.redis.get(keys.result_current(name))
        return raw.decode() if raw is not None else None

    def _version_at(self, name: str, as_of: datetime) -> str | None:
        found = self.redis.zrevrangebyscore(
            keys.result_history(name), pd.Timestamp(as_of).timestamp(), "-inf", start=0, num=1
        )
        return found[0].decode() if found else None

    def _meta_of(self, name: str, version: str) -> ResultMeta | None:
        raw = self.redis.get(keys.result_meta(name, version))
        return ResultMeta.from_json(raw) if raw is not None else None

    def _with_status(self, meta: ResultMeta, current: bool) -> ResultMeta:
        if current:
            failure = self.redis.get(keys.result_status(meta.name))
            if failure is not None:
                meta.status = "stale"
                meta.failure = json.loads(failure)
        return meta

    def meta(
        self, name: str, *, as_of: datetime | None = None, version: str | None = None
    ) -> ResultMeta:
        """Metadata of the current version (or the one at/before ``as_of``, or ``version``)."""
        for _ in range(5):
            ver = version or (
                self._version_at(name, as_of) if as_of else self._current_version(name)
            )
            if ver is None:
                raise ResultNotFound(name, as_of)
            meta = self._meta_of(name, ver)
            if meta is not None:
                return self._with_status(meta, current=ver == self._current_version(name))
            if version:
                break
        raise ResultNotFound(name, as_of)

    def read(
        self,
        name: str,
        *,
        as_of: datetime | None = None,
        version: str | None = None,
        tables: list[str] | None = None,
    ) -> Result:
        """Read a whole result (or only ``tables``) consistently.

        Versions are immutable; if the one resolved is pruned between the pointer read and the
        table read (only possible for old versions), the lookup is retried.
        """
        for _ in range(5):
            ver = version or (
                self._version_at(name, as_of) if as_of else self._current_version(name)
            )
            if ver is None:
                raise ResultNotFound(name, as_of)
            meta = self._meta_of(name, ver)
            if meta is None:
                if version:
                    break
                continue
            wanted = tables or meta.tables
            missing = [t for t in wanted if t not in meta.tables]
            if missing:
                if missing[0] in meta.slimmed:
                    raise KeyError(
                        f"result {name!r} version {ver}: table {missing[0]!r} is kept in the newest versions only (this older version keeps: {', '.join(meta.tables)}; [store] full_versions)"
                    )
                raise KeyError(
                    f"result {name!r} has no table {missing[0]!r} (has: {', '.join(meta.tables)})"
                )
            blobs = self.redis.mget([keys.result_table(name, ver, t) for t in wanted])
            if any(b is None for b in blobs):
                if version:
                    break
                continue
            frames = {t: arrow_to_frame(b) for t, b in zip(wanted, blobs, strict=True)}
            return Result(
                self._with_status(meta, current=ver == self._current_version(name)), frames
            )
        raise ResultNotFound(name, as_of)

    def history(self, name: str, *, limit: int | None = None) -> list[ResultMeta]:
        """Metadata of every kept version, oldest first."""
        start = 0 if limit is None else -limit
        versions = [v.decode() for v in self.redis.zrange(keys.result_history(name), start, -1)]
        if not versions:
            return []
        raws = self.redis.mget([keys.result_meta(name, v) for v in versions])
        return [ResultMeta.from_json(r) for r in raws if r is not None]

    def headline_series(
        self, name: str, fields: list[str] | None = None, *, limit: int | None = None
    ) -> pd.DataFrame:
        """Time series of headline figures across kept versions.

        Columns: ``computed_at`` and ``as_of`` (tz-aware UTC), ``version``, then one column per
        headline key (or only ``fields``).  Units are those of the headline keys.
        """
        metas = self.history(name, limit=limit)
        rows = []
        for m in metas:
            row = {"computed_at": m.computed_at, "as_of": m.as_of, "version": m.version}
            row.update({k: v for k, v in m.headline.items() if fields is None or k in fields})
            rows.append(row)
        frame = pd.DataFrame(
            rows, columns=None if rows else ["computed_at", "as_of", "version", *(fields or [])]
        )
        if rows:
            frame["computed_at"] = pd.to_datetime(frame["computed_at"], utc=True, format="ISO8601")
            frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True, format="ISO8601")
        return frame

    def eod_series(self, name: str, fields: list[str] | None = None) -> pd.DataFrame:
        """End-of-day closes of the headline: one row per exchange date (the day's last publish),
        oldest first.  Columns ``date`` (tz-naive), ``as_of`` (tz-aware UTC), ``version``, then the
        numeric headline keys (or only ``fields``), in the units of the headline keys.  Kept
        for every day published (one small field per day; never pruned with the versions)."""
        raw = self.redis.hgetall(keys.result_eod(name))
        rows = []
        for day, blob in raw.items():
            rec = json.loads(blob)
            row = {"date": day.decode(), "as_of": rec.get("as_of"), "version": rec.get("version")}
            row.update(
                {
                    k: v
                    for k, v in (rec.get("headline") or {}).items()
                    if fields is None or k in fields
                }
            )
            rows.append(row)
        frame = pd.DataFrame(
            rows, columns=None if rows else ["date", "as_of", "version", *(fields or [])]
        )
        frame["date"] = pd.to_datetime(frame["date"])
        frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True, format="ISO8601")
        return frame.sort_values("date", kind="stable").reset_index(drop=True)

    def summaries(self) -> list[ResultMeta]:
        """Current metadata of every result (for the results list and the freshness badge).

        Three pipelined round trips whatever the number of results (pointers, metadata,
        failure marks; a pipeline, not ``MGET``, because each result's keys have their own hash
        slot); a version pruned between the pointer and its metadata is looked up again."""
        names = self.names()
        if not names:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for n in names:
                pipe.get(keys.result_current(n))
            currents = pipe.execute()
        pairs = [(n, c.decode()) for n, c in zip(names, currents, strict=True) if c is not None]
        with self.redis.pipeline(transaction=False) as pipe:
            for n, v in pairs:
                pipe.get(keys.result_meta(n, v))
            for n, _ in pairs:
                pipe.get(keys.result_status(n))
            got = pipe.execute()
        out = []
        for (n, _v), raw, failure in zip(pairs, got[: len(pairs)], got[len(pairs) :], strict=True):
            if raw is None:  # pruned or replaced meanwhile: the slow path
                try:
                    out.append(self.meta(n))
                except ResultNotFound:
                    pass
                continue
            meta = ResultMeta.from_json(raw)
            if failure is not None:
                meta.status = "stale"
                meta.failure = json.loads(failure)
            out.append(meta)
        return out

    def table_bytes(
        self,
        name: str,
        *,
        as_of: datetime | None = None,
        version: str | None = None,
        table: str | None = None,
    ) -> tuple[ResultMeta, str, bytes]:
        """``(meta, table, bytes)``: one table of a version as stored (Arrow IPC stream, zstd),
        without decoding it (the API serves it as it is).  ``table`` default: the main one.
        Raises :class:`ResultNotFound` and ``KeyError`` (unknown or slimmed table) as :meth:`read`."""
        for _ in range(5):
            ver = version or (
                self._version_at(name, as_of) if as_of else self._current_version(name)
            )
            if ver is None:
                raise ResultNotFound(name, as_of)
            meta = self._meta_of(name, ver)
            if meta is None:
                if version:
                    break
                continue
            wanted = table or meta.tables[0]
            if wanted not in meta.tables:
                if wanted in meta.slimmed:
                    raise KeyError(
                        f"result {name!r} version {ver}: table {wanted!r} is kept in the newest versions only (this older version keeps: {', '.join(meta.tables)}; [store] full_versions)"
                    )
                raise KeyError(
                    f"result {name!r} has no table {wanted!r} (has: {', '.join(meta.tables)})"
                )
            blob = self.redis.get(keys.result_table(name, ver, wanted))
            if blob is None:
                if version:
                    break
                continue
            return self._with_status(meta, current=ver == self._current_version(name)), wanted, blob
        raise ResultNotFound(name, as_of)

    # -- job runs -------------------------------------------------------------------------
    def record_run(self, record: RunRecord) -> None:
        """Append a run record (newest first, bounded) and update the job's last run / success."""
        payload = dumps(record.to_dict())
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(keys.job_runs(record.job), payload)
            pipe.ltrim(keys.job_runs(record.job), 0, self.run_history - 1)
            pipe.set(keys.job_last_run(record.job), payload)
            if record.status in ("ok", "partial"):
                pipe.set(keys.job_last_success(record.job), payload)
            pipe.execute()
        self.redis.sadd(keys.job_index(), record.job)

    def runs(self, job: str, limit: int = 50) -> list[RunRecord]:
        return [RunRecord.from_json(r) for r in self.redis.lrange(keys.job_runs(job), 0, limit - 1)]

    def last_run(self, job: str) -> RunRecord | None:
        raw = self.redis.get(keys.job_last_run(job))
        return RunRecord.from_json(raw) if raw else None

    def last_success(self, job: str) -> RunRecord | None:
        raw = self.redis.get(keys.job_last_success(job))
        return RunRecord.from_json(raw) if raw else None

    def job_names(self) -> list[str]:
        return sorted(n.decode() for n in self.redis.smembers(keys.job_index()))

    # -- scheduler heartbeat --------------------------------------------------------------
    def beat(self, *, leader: bool, ttl_s: int = 120) -> None:
        payload = {
            "at": time.time(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "leader": leader,
        }
        self.redis.set(keys.scheduler_heartbeat(), dumps(payload), ex=ttl_s)

    def heartbeat(self) -> dict[str, Any] | None:
        """Last scheduler heartbeat with ``age_s`` added, or None."""
        raw = self.redis.get(keys.scheduler_heartbeat())
        if raw is None:
            return None
        beat = json.loads(raw)
        beat["age_s"] = max(0.0, time.time() - float(beat["at"]))
        return beat


def connect(url: str, **kwargs: Any) -> redis.Redis:
    """A redis-py client for ``redis://``, ``rediss://`` (TLS) or ``unix://`` URLs (password in the URL).

    Short timeouts so that a dead server turns into a clear error rather than a hang.
    """
    kwargs.setdefault("socket_connect_timeout", 5)
    kwargs.setdefault("socket_timeout", 30)
    kwargs.setdefault("health_check_interval", 30)
    return redis.Redis.from_url(url, decode_responses=False, **kwargs)
