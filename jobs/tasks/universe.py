"""Single-name dealer gamma across the listed-options universe, fanned out on RQ workers.

One refresh is a *round* (its state in Redis, :mod:`jobs.store.keys` ``universe_*``):

1. **Fetch** (this process, :func:`fetch_missing`): every underlying of the universe
   (``[universe]``: the live list and file, or the generated sample universe) whose chain is not
   yet staged in this round is fetched (live: the CBOE per-symbol JSON through the one
   :class:`~flows.sources.http.HttpClient`, rate-limited; sample:
   :mod:`flows.sources.sample_universe`), parsed by the real parser and staged in Redis as Arrow.
   A rerun after a crash resumes the round: it fetches only what is missing.
2. **Shards** (:func:`plan_shards`): the staged names are split by size (contracts), largest
   first into the lightest shard, so shards take similar time; one RQ job per shard
   (:func:`run_shard`, retried ``shard_retries`` times, also when its worker dies) and a
   finalising job (:func:`finalize`) that depends on all of them (RQ dependencies, failures
   allowed).  With no ``flowdesk worker`` running, the jobs run in this process.
3. **Shard** (a worker): :func:`flows.gamma_batch.analyze_batch` on its chains in one pass; its
   rows are written to one key (a retried shard overwrites, never appends); the focus names
   among them get their full tables published as ``universe.<SYMBOL>`` unless this round already
   published them (idempotent).
4. **Finalize** (a worker): the shards' rows become ``universe.table`` (names, sector x regime
   and basket sums, failures), published once per round; the staged chains are deleted.

Names a user opens on the Single names page are computed by :func:`compute_name` on a worker
and published as ``universe.<SYMBOL>`` (``on_demand``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flows.errors import FlowdeskError, InputError
from jobs.config import PROJECT_ROOT, Settings
from jobs.store import keys
from jobs.tasks import TaskContext, TaskOutcome, task

SAMPLE_PREFIX = "SAMPLE "
"""How the ``source`` of a generated chain begins (:func:`sample_source`)."""


def sample_source(symbol: str, seed: int) -> str:
    """The ``source`` of a generated universe chain: SAMPLE, the name and the seed."""
    return f"{SAMPLE_PREFIX}listed-options universe chain {symbol} (seed {seed}, generated)"


def table_source(names: int, sample_seed: int | None) -> str:
    """The ``source`` of ``universe.table``: how many names, and where their chains came from
    (``sample_seed``: generated with that seed; None: live)."""
    chains = (
        f"SAMPLE generated chains (seed {sample_seed})"
        if sample_seed is not None
        else "CBOE delayed-quotes JSON chains"
    )
    return f"flowdesk universe table of {names:,} names from {chains}"


NAME_PREFIX = "universe."
TABLE_RESULT = "universe.table"
GAMMA_TABLES = (
    "by_strike",
    "by_expiry",
    "grid",
    "profile",
    "hedge_flow",
    "sensitivity",
    "contracts",
    "dropped",
)
STAGED_COLUMNS = (
    "symbol",
    "root",
    "type",
    "strike",
    "expiry",
    "settle_time",
    "bid",
    "ask",
    "iv",
    "gamma",
    "open_interest",
    "unreadable",
)
"""Chain columns staged for the shards: what the figures use (the source's delta and volume are
not: leaving them out makes the staged universe ~18 % smaller; they are NaN in a staged chain)."""


# -- the universe ---------------------------------------------------------------------------------
def universe_list(settings: Settings) -> pd.DataFrame:
    """The underlyings of the universe: ``symbol``, ``sector``, ``adv_usd`` (USD, NaN when
    unknown) and, in sample mode, the generator's columns."""
    from flows.sources import sample_universe

    u = settings.universe
    if settings.sample_mode:
        return sample_universe.universe(u.sample_size, settings.service.sample_seed)
    frames = []
    if u.symbols_file:
        path = Path(u.symbols_file)
        if not path.is_absolute():
            drop = Path(settings.service.drop_dir)
            drop = (
                drop
                if drop.is_absolute()
                else (Path.cwd() / drop if (Path.cwd() / drop).exists() else PROJECT_ROOT / drop)
            )
            path = drop / path
        try:
            f = pd.read_csv(path, dtype=str)
        except OSError as exc:
            raise InputError(
                str(path), None, f"cannot read the universe file: {exc.strerror or exc}"
            ) from None
        if "symbol" not in f.columns:
            raise InputError(
                str(path),
                "symbol",
                "the universe file needs a 'symbol' column (optional: sector, adv_usd)",
            )
        frames.append(f)
    if u.symbols:
        frames.append(pd.DataFrame({"symbol": u.symbols}))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"symbol": []})
    frame["symbol"] = frame["symbol"].astype(str).str.strip().str.upper().str.lstrip("_")
    frame = frame[frame["symbol"] != ""].drop_duplicates("symbol", keep="first")
    frame["sector"] = frame["sector"].fillna("unknown") if "sector" in frame else "unknown"
    frame["adv_usd"] = (
        pd.to_numeric(frame["adv_usd"], errors="coerce") if "adv_usd" in frame else np.nan
    )
    return (
        frame[["symbol", "sector", "adv_usd"]]
        .reset_index(drop=True)
        .astype({"symbol": "str", "sector": "str", "adv_usd": "float64"})
    )


def universe_results(settings: Settings, args: dict[str, Any]) -> list[str]:
    """Results of the task (marked stale when it fails as a whole)."""
    return [TABLE_RESULT] + [f"{NAME_PREFIX}{s}" for s in settings.universe.focus]


# -- rounds and staging ---------------------------------------------------------------------------
@dataclass
class Round:
    """One refresh round (see the module docstring); JSON in :func:`keys.universe_round`."""

    id: str
    universe_hash: str
    started_at: str
    done: bool = False

    def to_json(self) -> str:
        return json.dumps(self.__dict__)


def _hash(symbols: Sequence[str], mode: str, seed: int) -> str:
    return hashlib.sha256(("|".join(symbols) + f"|{mode}|{seed}").encode()).hexdigest()[:16]


def open_round(
    conn: Any, symbols: Sequence[str], settings: Settings, now: datetime
) -> tuple[Round, bool]:
    """The round to work on: the current one when it is unfinished, for the same universe and
    younger than ``staging_ttl_hours`` (resumed: ``True``), else a new one (old staging deleted)."""
    h = _hash(symbols, settings.service.source_mode, settings.service.sample_seed)
    raw = conn.get(keys.universe_round())
    if raw:
        old = Round(**json.loads(raw))
        age_h = (pd.Timestamp(now) - pd.Timestamp(old.started_at)).total_seconds() / 3600
        if not old.done and old.universe_hash == h and age_h < settings.universe.staging_ttl_hours:
            return old, True
        drop_staging(conn, old.id)
    rnd = Round(
        id=pd.Timestamp(now).tz_convert("UTC").strftime("%Y%m%dT%H%M%S")
        + "-"
        + hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:6],
        universe_hash=h,
        started_at=pd.Timestamp(now).isoformat(),
    )
    conn.set(keys.universe_round(), rnd.to_json())
    return rnd, False


def drop_staging(conn: Any, round_id: str) -> None:
    """Delete a round's staged chains, shard lists and shard outputs."""
    n = conn.hlen(keys.universe_shards(round_id))
    conn.delete(
        keys.universe_chains(round_id),
        keys.universe_sizes(round_id),
        keys.universe_fetch_failed(round_id),
        keys.universe_shards(round_id),
        *[keys.universe_shard_out(round_id, k) for k in range(n)],
    )


def encode_chain(chain: Any) -> bytes:
    """A parsed chain as Arrow IPC (zstd) with its spot, as-of, source and quality in the schema
    metadata (what a shard needs; nothing to execute when read back)."""
    from jobs.store.codec import frame_to_arrow

    c = chain.contracts
    if "unreadable" not in c.columns:
        c = c.assign(unreadable=False)
    quality = chain.quality.to_dict() if getattr(chain, "quality", None) is not None else None
    meta = {
        "underlying": chain.underlying,
        "spot": float(chain.spot),
        "as_of": pd.Timestamp(chain.as_of).isoformat(),
        "source": chain.source,
        "quality": quality,
    }
    return frame_to_arrow(c[list(STAGED_COLUMNS)].reset_index(drop=True), metadata=meta)


def decode_chains(blobs: Sequence[bytes]) -> tuple[Any, list[dict[str, Any]]]:
    """Staged chains -> one :class:`flows.gamma_batch.ChainBatch` (in the given order) and the
    metadata of each."""
    import pyarrow as pa

    from flows.gamma_batch import ChainBatch

    tables, metas = [], []
    for i, blob in enumerate(blobs):
        with pa.ipc.open_stream(pa.BufferReader(blob)) as reader:
            t = reader.read_all()
        metas.append(json.loads(t.schema.metadata[b"flowdesk"]))
        t = t.replace_schema_metadata(None)
        tables.append(t.append_column("chain", pa.array(np.full(t.num_rows, i, dtype=np.int32))))
    contracts = (
        pa.concat_tables(tables).to_pandas()
        if tables
        else pd.DataFrame(columns=[*STAGED_COLUMNS, "chain"])
    )
    contracts["delta"] = np.nan
    contracts["volume"] = np.nan
    batch = ChainBatch(
        underlying=np.array([m["underlying"] for m in metas], dtype=object),
        spot=np.array([m["spot"] for m in metas], dtype=np.float64),
        as_of=pd.DatetimeIndex([pd.Timestamp(m["as_of"]).tz_convert("UTC") for m in metas]),
        source=np.array([m["source"] for m in metas], dtype=object),
        contracts=contracts,
    )
    return batch, metas


def fetch_one(
    settings: Settings, row: Any, now: datetime, client: Any, expiries: pd.DataFrame | None
) -> Any:
    """The chain of one underlying (sample: generated; live: CBOE JSON), parsed."""
    from flows.chain import Chain
    from flows.sources import cboe, sample_universe

    if settings.sample_mode:
        spot, contracts = sample_universe.chain_table(
            row, pd.Timestamp(now), settings.service.sample_seed, expiries
        )
        return Chain(
            underlying=row.symbol,
            spot=spot,
            as_of=pd.Timestamp(now).tz_convert("UTC"),
            source=sample_source(row.symbol, settings.service.sample_seed),
            contracts=contracts,
        )
    query = cboe.build_query(row.symbol, base_url=settings.gamma.cboe_base_url)
    return cboe.parse(cboe.fetch(query, client), source=cboe.SOURCE, symbol=query.symbol)


def fetch_missing(
    ctx: TaskContext, rnd: Round, names: pd.DataFrame, *, client: Any = None
) -> dict[str, int]:
    """Fetch and stage every name not yet staged (or failed) in ``rnd``: the resumable step.

    Each chain is staged as soon as it is parsed, so a crash loses at most the chain in hand.
    A name whose fetch or parse fails is recorded (symbol -> field, reason) and fetched again by
    the next run of the round.  Progress: ``ctx.progress`` every 50 names (a bar on a terminal).
    Returns counts: ``staged_before``, ``fetched``, ``failed``.
    """
    from flows.quality import enforce
    from flows.sources import sample_universe

    conn = ctx.store.redis
    ck, fk = keys.universe_chains(rnd.id), keys.universe_fetch_failed(rnd.id)
    have = {k.decode() for k in conn.hkeys(ck)}
    todo = names[~names["symbol"].isin(have)]
    ttl = int(ctx.settings.universe.staging_ttl_hours * 3600)
    expiries = (
        sample_universe.expiry_calendar(
            pd.Timestamp(ctx.now).tz_convert("America/New_York").date(),
            ctx.settings.scheduler.calendar,
        )
        if ctx.settings.sample_mode
        else None
    )
    threshold = ctx.settings.quality.threshold("gamma")
    fetched = failed = 0
    bar = _progress_bar(len(todo), "universe fetch")
    for i, row in enumerate(todo.itertuples(index=False), 1):
        try:
            chain = fetch_one(ctx.settings, row, ctx.now, client, expiries)
            if chain.quality is not None:
                enforce(chain.quality, threshold)
            blob = encode_chain(chain)
        except FlowdeskError as exc:
            conn.hset(
                fk,
                row.symbol,
                json.dumps({"field": getattr(exc, "field", None) or "", "reason": str(exc)}),
            )
            failed += 1
        else:
            sk = keys.universe_sizes(rnd.id)
            with conn.pipeline(transaction=True) as pipe:
                pipe.hset(ck, row.symbol, blob)
                pipe.hset(sk, row.symbol, len(chain.contracts))
                pipe.hdel(fk, row.symbol)
                for key in (ck, sk, fk):
                    pipe.expire(key, ttl)
                pipe.execute()
            fetched += 1
        if bar is not None:
            bar.update(1)
        if i % 50 == 0 or i == len(todo):
            ctx.progress(f"universe fetch {i}/{len(todo)} ({len(have)} staged before)")
    if bar is not None:
        bar.close()
    return {"staged_before": len(have), "fetched": fetched, "failed": failed}


def _progress_bar(total: int, desc: str) -> Any:
    """A tqdm bar on an interactive terminal (None otherwise: logs and the progress record)."""
    import sys

    if total == 0 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="name", leave=False)


def plan_shards(sizes: Mapping[str, int], target: int) -> list[list[str]]:
    """Split names into shards of similar size: ``ceil(total / target)`` shards (at least one,
    at most one per name), each name (largest first) into the currently lightest shard (the LPT
    rule: the largest shard exceeds the mean by at most the largest name)."""
    import heapq

    total = sum(sizes.values())
    n = max(1, min(len(sizes), -(-total // max(target, 1))))
    heap = [(0, k) for k in range(n)]
    shards: list[list[str]] = [[] for _ in range(n)]
    for sym, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        load, k = heapq.heappop(heap)
        shards[k].append(sym)
        heapq.heappush(heap, (load + size, k))
    return [s for s in shards if s]


# -- the shard job (runs on a worker) -------------------------------------------------------------
def _job_context() -> tuple[Settings, Any]:
    """Settings and a store on the job's own Redis connection (inside an RQ job)."""
    from rq import get_current_job

    from jobs.config import load_settings
    from jobs.store import ResultStore

    settings = load_settings()
    s = settings.store
    store = ResultStore(
        get_current_job().connection,
        history_max_count=s.history_max_count,
        history_max_age_days=s.history_max_age_days,
        run_history=s.run_history,
    )
    return settings, store


def _params(settings: Settings) -> Any:
    from jobs.tasks.gamma import gamma_params

    return gamma_params(settings, "", pd.Timestamp.now(tz="UTC"))


def warm_up(settings: Settings) -> None:
    """Import what a shard job uses and fill the process-wide caches it reads (the exchange
    calendar behind the gamma parameters): ``flowdesk worker`` calls it before forking its work
    horses, which then inherit them instead of building them again for every job."""
    import pyarrow.ipc  # noqa: F401
    import rq.job  # noqa: F401

    import flows.gamma  # noqa: F401
    import flows.gamma_batch  # noqa: F401

    _params(settings)


def run_shard(round_id: str, shard: int) -> dict[str, Any]:
    """RQ job: analyse one shard's names (:func:`flows.gamma_batch.analyze_batch`), write its
    rows (one key, overwritten by a retry) and publish its focus names' full tables (once per
    round).  Returns counts (JSON)."""
    settings, store = _job_context()
    return analyse_shard(settings, store, round_id, shard)


def analyse_shard(settings: Settings, store: Any, round_id: str, shard: int) -> dict[str, Any]:
    """The body of :func:`run_shard` (see there)."""
    from dataclasses import replace

    from flows.gamma_batch import analyze_batch, complete
    from jobs.store.codec import frame_to_arrow

    conn = store.redis
    symbols = json.loads(conn.hget(keys.universe_shards(round_id), str(shard)))
    blobs = conn.hmget(keys.universe_chains(round_id), symbols)
    missing = [s for s, b in zip(symbols, blobs, strict=True) if b is None]
    present = [b for b in blobs if b is not None]
    batch, metas = decode_chains(present)
    g = settings.gamma
    batch.q = np.array(
        [
            g.dividend_yield.get(str(u), g.dividend_yield.get("default", 0.0))
            for u in batch.underlying
        ]
    )
    params = replace(_params(settings), next_close=None)
    report = complete(batch, analyze_batch(batch, params), params)
    rows = report.table.drop(columns="chain")
    failed = pd.DataFrame(
        {
            "symbol": [str(batch.underlying[i]) for i in report.failed["chain"]] + missing,
            "stage": ["analysis"] * len(report.failed) + ["shard"] * len(missing),
            "field": list(report.failed["field"]) + [""] * len(missing),
            "reason": list(report.failed["reason"])
            + ["chain no longer staged (expired)"] * len(missing),
        }
    ).astype("str")
    focus = set(settings.universe.focus)
    published = []
    for i in np.flatnonzero(np.isin(batch.underlying.astype(str), list(focus))):
        sym = str(batch.underlying[i])
        if sym in set(failed["symbol"]):
            continue
        chain = batch.chain(int(i))
        chain.quality = None
        if publish_name(settings, store, chain, round_id=round_id, on_demand=False):
            published.append(f"{NAME_PREFIX}{sym}")
    out_key = keys.universe_shard_out(round_id, shard)
    with conn.pipeline(transaction=True) as pipe:
        pipe.hset(out_key, mapping={"rows": frame_to_arrow(rows), "failed": frame_to_arrow(failed)})
        pipe.expire(out_key, int(settings.universe.staging_ttl_hours * 3600))
        pipe.execute()
    return {"shard": shard, "names": len(rows), "failed": len(failed), "published": published}


def publish_name(
    settings: Settings,
    store: Any,
    chain: Any,
    *,
    round_id: str,
    on_demand: bool,
    sector: str | None = None,
) -> bool:
    """Full tables of one name as ``universe.<SYMBOL>`` (:func:`flows.gamma.analyze`); skipped
    (``False``) when this round already published it (a retried shard doubles nothing)."""
    from flows.errors import ResultNotFound
    from flows.gamma import analyze
    from jobs.tasks.gamma import gamma_params

    name = f"{NAME_PREFIX}{chain.underlying}"
    try:
        if store.meta(name).headline.get("round") == round_id:
            return False
    except ResultNotFound:
        pass
    report = analyze(chain, gamma_params(settings, chain.underlying, pd.Timestamp(chain.as_of)))
    headline = dict(report.headline)
    headline.update(
        sample=chain.source.startswith(SAMPLE_PREFIX), round=round_id, on_demand=on_demand
    )
    if sector is not None:
        headline["sector"] = sector
    store.publish(
        name,
        {t: getattr(report, t) for t in GAMMA_TABLES},
        as_of=pd.Timestamp(chain.as_of),
        source=chain.source,
        sample=chain.source.startswith(SAMPLE_PREFIX),
        headline=headline,
        extra={"as_of_cadence": "session", "round": round_id, "on_demand": on_demand},
        quality=report.quality.to_dict() if report.quality is not None else None,
    )
    return True


# -- finalize (runs on a worker after every shard) ------------------------------------------------
def finalize(round_id: str, shard_job_ids: list[str]) -> dict[str, Any]:
    """RQ job: merge the shards' rows into ``universe.table`` and publish it (once per round)."""
    settings, store = _job_context()
    return finalize_round(settings, store, round_id, shard_job_ids)


def finalize_round(
    settings: Settings, store: Any, round_id: str, shard_job_ids: Sequence[str]
) -> dict[str, Any]:
    """The body of :func:`finalize`: reads each shard's output (a shard whose job failed after
    its retries has none: its names are reported failed with the job's error)."""
    from rq.job import Job

    from jobs.store.codec import arrow_to_frame
    from jobs.workers import SERIALIZER

    conn = store.redis
    raw = conn.get(keys.universe_round())
    rnd = Round(**json.loads(raw)) if raw else None
    names = universe_list(settings)
    rows, failed = [], []
    shard_errors: dict[str, str] = {}
    shard_lists = {
        int(k): json.loads(v) for k, v in conn.hgetall(keys.universe_shards(round_id)).items()
    }
    for k in sorted(shard_lists):
        out = conn.hgetall(keys.universe_shard_out(round_id, k))
        if not out:
            job_id = shard_job_ids[k] if k < len(shard_job_ids) else ""
            err = "no output"
            try:
                job = Job.fetch(job_id, connection=conn, serializer=SERIALIZER)
                err = (
                    (job.latest_result().exc_string or "").strip().splitlines()[-1]
                    if job.latest_result()
                    else f"status {job.get_status()}"
                )
            except Exception:  # the job record may have expired: report what is known
                pass
            shard_errors[str(k)] = err
            failed.append(
                pd.DataFrame(
                    {
                        "symbol": shard_lists[k],
                        "stage": "shard",
                        "field": "",
                        "reason": f"shard {k} failed after its retries: {err}",
                    }
                )
            )
            continue
        parts = {kk.decode(): arrow_to_frame(v) for kk, v in out.items()}
        rows.append(parts["rows"])
        failed.append(parts["failed"])
    for sym, why in conn.hgetall(keys.universe_fetch_failed(round_id)).items():
        info = json.loads(why)
        failed.append(
            pd.DataFrame(
                {
                    "symbol": [sym.decode()],
                    "stage": ["fetch"],
                    "field": [info.get("field", "")],
                    "reason": [info.get("reason", "")],
                }
            )
        )
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    failed_frame = (
        pd.concat(failed, ignore_index=True).astype("str")
        if failed
        else pd.DataFrame(
            {c: pd.Series(dtype="str") for c in ("symbol", "stage", "field", "reason")}
        )
    )
    tables, headline = universe_tables(settings, table, names, failed_frame)
    headline.update(shards=len(shard_lists), round=round_id, sample=settings.sample_mode)
    published = []
    try:
        current = store.meta(TABLE_RESULT).headline.get("round")
    except FlowdeskError:
        current = None
    if current != round_id and len(tables["names"]):
        as_of = tables["names"]["as_of"].max()
        store.publish(
            TABLE_RESULT,
            tables,
            as_of=as_of,
            source=table_source(
                len(tables["names"]),
                settings.service.sample_seed if settings.sample_mode else None,
            ),
            sample=settings.sample_mode,
            headline=headline,
            extra={"as_of_cadence": "session", "shard_errors": shard_errors},
        )
        published.append(TABLE_RESULT)
    if rnd is not None and rnd.id == round_id and len(tables["names"]):
        rnd.done = True
        conn.set(keys.universe_round(), rnd.to_json())
        drop_staging(conn, round_id)
    return {
        "published": published,
        "names": int(len(tables["names"])),
        "failed": int(len(failed_frame)),
        "shard_errors": shard_errors,
        "empty": not len(tables["names"]),
    }


def universe_tables(
    settings: Settings, rows: pd.DataFrame, names: pd.DataFrame, failed: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """``universe.table``'s tables and headline from the shards' rows (sums only: the figures
    themselves come from :mod:`flows.gamma_batch`)."""
    u = settings.universe
    info = names.set_index("symbol")
    if rows.empty:
        rows = pd.DataFrame({c: pd.Series(dtype="float64") for c in ("spot", "contracts")}).assign(
            underlying=pd.Series(dtype="str")
        )
    t = rows.rename(columns={"underlying": "symbol"}).copy()
    t.insert(1, "sector", t["symbol"].map(info["sector"]).fillna("unknown").astype("str"))
    t["adv_usd"] = t["symbol"].map(info["adv_usd"]).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        t["gex_pct_adv"] = np.where(
            t["adv_usd"] > 0, t["net_gex_usd_per_1pct"] / t["adv_usd"] * 100.0, np.nan
        )
    member: dict[str, list[str]] = {}
    for b, syms in u.baskets.items():
        for s in syms:
            member.setdefault(s, []).append(b)
    t["baskets"] = t["symbol"].map(lambda s: ",".join(member.get(s, []))).astype("str")
    t["focus"] = t["symbol"].isin(u.focus)
    t["contracts"] = t["contracts"].astype("int64")
    t = t.sort_values("gross_gex_usd_per_1pct", ascending=False, kind="stable").reset_index(
        drop=True
    )
    sums = [
        "net_gex_usd_per_1pct",
        "call_gex_usd_per_1pct",
        "put_gex_usd_per_1pct",
        "gross_gex_usd_per_1pct",
        "hedge_flow_down3_usd",
        "hedge_flow_up3_usd",
    ]

    def agg(frame: pd.DataFrame) -> dict[str, Any]:
        has_adv = frame["adv_usd"] > 0
        adv = float(frame.loc[has_adv, "adv_usd"].sum())
        out = {"names": len(frame), **{c: float(frame[c].sum()) for c in sums}, "adv_usd": adv}
        out["gex_pct_adv"] = (
            float(frame.loc[has_adv, "net_gex_usd_per_1pct"].sum()) / adv * 100.0
            if adv > 0
            else np.nan
        )
        return out

    sectors = pd.DataFrame(
        [
            {"sector": s, "regime": r, **agg(f)}
            for (s, r), f in t.groupby(["sector", "regime"], sort=True)
        ],
        columns=["sector", "regime", "names", *sums, "adv_usd", "gex_pct_adv"],
    )
    baskets = pd.DataFrame(
        [
            {
                "basket": b,
                "members": ",".join(m for m in syms if m in set(t["symbol"])),
                **agg(t[t["symbol"].isin(syms)]),
            }
            for b, syms in u.baskets.items()
        ],
        columns=["basket", "members", "names", *sums, "adv_usd", "gex_pct_adv"],
    )
    for frame in (sectors, baskets):
        frame["names"] = frame["names"].astype("int64")
        for c in frame.columns[frame.columns.get_loc("names") + 1 :]:
            frame[c] = frame[c].astype("float64")
    headline: dict[str, Any] = {
        "names": len(t),
        "contracts": int(t["contracts"].sum()),
        "failed": len(failed),
        "net_gex_usd_per_1pct": float(t["net_gex_usd_per_1pct"].sum()),
        "gross_gex_usd_per_1pct": float(t["gross_gex_usd_per_1pct"].sum()),
        "short_gamma_names": int((t["regime"] == "short gamma").sum()),
        "hedge_flow_down3_usd": float(t["hedge_flow_down3_usd"].sum()),
        "hedge_flow_up3_usd": float(t["hedge_flow_up3_usd"].sum()),
    }
    for _, b in baskets.iterrows():
        headline[f"net_gex_usd_per_1pct_{b['basket']}"] = b["net_gex_usd_per_1pct"]
        headline[f"hedge_flow_down3_usd_{b['basket']}"] = b["hedge_flow_down3_usd"]
        headline[f"hedge_flow_up3_usd_{b['basket']}"] = b["hedge_flow_up3_usd"]
    return {
        "names": t,
        "sectors": sectors,
        "baskets": baskets,
        "failed": failed.reset_index(drop=True),
    }, headline


# -- on demand: a name a user opens -------------------------------------------------------------
def compute_name(symbol: str) -> dict[str, Any]:
    """RQ job: fetch one name's chain now and publish its full tables as ``universe.<SYMBOL>``."""
    settings, store = _job_context()
    return compute_name_with(settings, store, symbol, pd.Timestamp.now(tz=UTC))


def compute_name_with(settings: Settings, store: Any, symbol: str, now: datetime) -> dict[str, Any]:
    from flows.sources import sample_universe
    from flows.sources.http import HttpClient

    names = universe_list(settings)
    hit = names[names["symbol"] == symbol.upper()]
    if hit.empty:
        raise InputError("universe", "symbol", f"{symbol!r} is not in the universe")
    row = next(hit.itertuples(index=False))
    expiries = (
        sample_universe.expiry_calendar(
            pd.Timestamp(now).tz_convert("America/New_York").date(), settings.scheduler.calendar
        )
        if settings.sample_mode
        else None
    )
    client = None if settings.sample_mode else HttpClient.from_settings(settings)
    chain = fetch_one(settings, row, now, client, expiries)
    publish_name(
        settings,
        store,
        chain,
        round_id=f"on-demand-{pd.Timestamp(now).isoformat()}",
        on_demand=True,
        sector=str(row.sector),
    )
    return {"published": f"{NAME_PREFIX}{chain.underlying}"}


# -- the task -------------------------------------------------------------------------------------
@task(
    "universe",
    results=universe_results,
    description="Dealer gamma of every listed underlying: fetch (resumable), shards on RQ workers (in-process without one), universe.table and the focus names.",
)
def universe(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Fetch the universe (resumable), analyse it in shards on RQ workers, publish the tables."""
    from rq.job import Dependency

    from flows.errors import UniverseTaskError
    from flows.sources.http import HttpClient
    from jobs import workers

    settings, u = ctx.settings, ctx.settings.universe
    conn = ctx.store.redis
    names = universe_list(settings)
    if names.empty:
        raise UniverseTaskError(
            "the universe is empty: list [universe] symbols or a symbols_file (live mode)"
        )
    rnd, resumed = open_round(conn, list(names["symbol"]), settings, ctx.now)
    client = None if settings.sample_mode else HttpClient.from_settings(settings)
    counts = fetch_missing(ctx, rnd, names, client=client)
    ctx.log.info("universe fetch round=%s resumed=%s %s", rnd.id, resumed, counts)
    sizes = _staged_sizes(conn, rnd.id)
    if not sizes:
        raise UniverseTaskError(
            f"no chain could be fetched ({counts['failed']} failed): see the round's failures"
        )
    shard_key = keys.universe_shards(rnd.id)
    if conn.hlen(shard_key) == 0:  # a resumed round keeps its shards (its jobs may be running)
        plan = plan_shards(sizes, u.shard_contracts)
        conn.hset(shard_key, mapping={str(k): json.dumps(s) for k, s in enumerate(plan)})
        conn.expire(shard_key, int(u.staging_ttl_hours * 3600))
    n_shards = conn.hlen(shard_key)
    q = workers.queue(conn)
    ids = [f"universe-{rnd.id}-{k}" for k in range(n_shards)]
    jobs = [
        workers.ensure_job(
            q,
            "jobs.tasks.universe.run_shard",
            [rnd.id, k],
            job_id=ids[k],
            retries=u.shard_retries,
            timeout_s=u.shard_timeout_seconds,
        )
        for k in range(n_shards)
    ]
    final = workers.ensure_job(
        q,
        "jobs.tasks.universe.finalize",
        [rnd.id, ids],
        job_id=f"universe-{rnd.id}-final",
        timeout_s=u.shard_timeout_seconds,
        depends_on=Dependency(jobs=jobs, allow_failure=True),
    )
    ctx.progress(f"universe: {n_shards} shards queued ({workers.live_workers(conn)} workers)")

    def describe() -> str:
        done = sum(1 for j in jobs if j.get_status(refresh=True) in ("finished", "failed"))
        return f"universe shards {done}/{n_shards}"

    status = workers.wait_for(
        conn, final, timeout_s=u.wait_seconds, progress=ctx.progress, describe=describe
    )
    if status != "finished":
        raise UniverseTaskError(f"finalising round {rnd.id} ended {status}")
    summary = final.return_value(refresh=True) or {}
    if summary.get("empty"):
        raise UniverseTaskError(
            f"every shard of round {rnd.id} failed: {summary.get('shard_errors')}"
        )
    shard_published = [
        p
        for j in jobs
        for p in (
            (j.return_value(refresh=True) or {}).get("published", [])
            if j.get_status(refresh=True) == "finished"
            else []
        )
    ]
    # names of failed shards are in universe.table's failed table; the run is partial and the
    # table says why (marked stale until a complete refresh)
    errors = summary.get("shard_errors", {})
    failed = (
        {
            TABLE_RESULT: "; ".join(
                f"shard {k} failed after {u.shard_retries} retries: {e}" for k, e in errors.items()
            )
        }
        if errors
        else {}
    )
    published = list(summary.get("published", [])) + shard_published
    return TaskOutcome(
        published=published,
        rows=int(summary.get("names", 0)),
        failed=failed,
        detail=f"{summary.get('names', 0)} names, {summary.get('failed', 0)} left out, {n_shards} shards, round {rnd.id}{' (resumed)' if resumed else ''}",
    )


def _staged_sizes(conn: Any, round_id: str) -> dict[str, int]:
    """Contracts per staged chain."""
    return {sym.decode(): int(n) for sym, n in conn.hgetall(keys.universe_sizes(round_id)).items()}
