"""The universe task on RQ: real Redis, real ``flowdesk worker`` processes, real kills.

* without any worker the shards run in-process (``flowdesk refresh`` needs nothing more);
* with workers, they run the shards;
* a worker killed (``kill -9`` of its whole process group) mid-shard loses nothing: its job is
  declared abandoned within seconds, retried on the other worker, and nothing is published twice;
* a work horse killed mid-shard: the job fails and is retried;
* a shard that keeps failing is retried, then reported (its names in the failed table, the run
  partial), the other shards' names published;
* the live fetch is resumable: a run killed mid-fetch is resumed by the next one, which fetches
  only what is missing (over the local HTTP server, in the CBOE CDN format).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.chain import Chain
from flows.gamma import GammaParams
from flows.gamma_batch import ROW_COLUMNS, analyze_chains
from flows.sources import sample_options, sample_universe
from jobs import workers
from jobs.config import load_settings
from jobs.store import ResultStore, keys
from jobs.tasks import TaskContext, load_tasks
from jobs.tasks.universe import fetch_missing, open_round, universe_list

NOW = pd.Timestamp("2026-11-17 10:30", tz="America/New_York")
CONFIG = """
[service]
source_mode = "{mode}"
http_retries = 0
http_min_interval_seconds = 0
[universe]
sample_size = {size}
shard_contracts = {shard}
focus = {focus}
worker_heartbeat_seconds = 1
abandoned_after_seconds = 2
shard_retries = 2
wait_seconds = 180
{extra}
[jobs.universe]
task = "universe"
cron = "*/15 9-16 * * mon-fri"
"""
pytestmark = pytest.mark.slow


def write_config(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    *,
    mode: str = "sample",
    size: int = 200,
    shard: int = 15000,
    extra: str = "",
    focus: str = '["SPY", "NVDA", "AAPL"]',
) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(mode=mode, size=size, shard=shard, extra=extra, focus=focus))
    monkeypatch.setenv("FLOWDESK_CONFIG", str(path))  # the jobs (in-process or on workers) read it
    monkeypatch.setenv("REDIS_URL", redis_url)
    return path


def run_task(store: ResultStore, progress=lambda _m: None):
    settings = load_settings()
    ctx = TaskContext(
        settings=settings,
        store=store,
        now=NOW,
        job="universe",
        slot="test",
        log=logging.getLogger("test.universe"),
        progress=progress,
    )
    return load_tasks()["universe"].fn(ctx, {})


def reference_rows(settings) -> pd.DataFrame:
    """Every name analysed independently of the task (generator -> flows.gamma_batch)."""
    names = universe_list(settings)
    exp = sample_universe.expiry_calendar(NOW.date())
    chains = []
    for row in names.itertuples(index=False):
        spot, contracts = sample_universe.chain_table(row, NOW, settings.service.sample_seed, exp)
        chains.append(Chain(row.symbol, spot, NOW.tz_convert("UTC"), "sample", contracts))
    dy = settings.gamma.dividend_yield
    q = [
        dy.get(c.underlying, dy.get("default", 0.0)) for c in chains
    ]  # the desk's yields (SPY, QQQ)
    return analyze_chains(chains, GammaParams(), q).table.set_index("underlying")


def assert_complete_and_equal(store: ResultStore, settings) -> pd.DataFrame:
    """universe.table holds every name once, equal to the reference; published once; the focus
    names once each."""
    result = store.read("universe.table")
    names = result.tables["names"]
    universe = universe_list(settings)
    assert sorted(names["symbol"]) == sorted(universe["symbol"])  # nothing lost, nothing doubled
    assert result.tables["failed"].empty
    ref = reference_rows(settings)
    got = names.set_index("symbol")
    for col in ROW_COLUMNS:
        if col in ("underlying", "as_of", "source", "regime"):
            continue
        np.testing.assert_allclose(
            got[col].to_numpy(dtype=float),
            ref.loc[got.index, col].to_numpy(dtype=float),
            rtol=1e-9,
            equal_nan=True,
            err_msg=col,
        )
    assert len(store.history("universe.table")) == 1
    for sym in settings.universe.focus:
        assert len(store.history(f"universe.{sym}")) == 1, sym
    return names


class Workers:
    """``flowdesk worker`` processes, each in its own process group (killed by group id)."""

    def __init__(self, tmp_path: Path) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.tmp = tmp_path

    def start(self, name: str) -> None:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "jobs.cli", "worker", "--name", name],
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_registered(self, store: ResultStore, n: int) -> None:
        deadline = time.monotonic() + 30
        while workers.live_workers(store.redis) < n:
            assert time.monotonic() < deadline, (
                (self.tmp / "w1.log").read_text() if (self.tmp / "w1.log").exists() else "no log"
            )
            time.sleep(0.1)

    def horses(self, name: str) -> list[int]:
        """The worker's work horses (RQ forks one per job into its own process group)."""
        pid = self.procs[name].pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except FileNotFoundError:
            return []

    def kill_group(self, name: str, sig: int = signal.SIGKILL, *, horses: bool = True) -> None:
        """``sig`` to the worker's process group and (``horses``) to its work horses' groups."""
        for pid in self.horses(name) if horses else []:
            os.killpg(pid, sig)
        os.killpg(self.procs[name].pid, sig)

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


@pytest.fixture()
def rq_workers(tmp_path: Path):
    w = Workers(tmp_path)
    yield w
    w.stop()


def test_in_process_without_any_worker(
    tmp_path, monkeypatch, redis_url, store: ResultStore
) -> None:
    write_config(tmp_path, monkeypatch, redis_url)
    assert workers.live_workers(store.redis) == 0
    messages: list[str] = []
    outcome = run_task(store, messages.append)
    settings = load_settings()
    assert outcome.failed == {} and "universe.table" in outcome.published
    assert {f"universe.{s}" for s in settings.universe.focus} <= set(outcome.published)
    assert any("universe fetch" in m for m in messages) and any(
        m.startswith("universe shards") or "shards queued" in m for m in messages
    )
    names = assert_complete_and_equal(store, settings)
    meta = store.meta("universe.table")
    assert meta.headline["shards"] > 1 and meta.headline["names"] == len(names) and meta.sample
    assert meta.source == (
        f"flowdesk universe table of {len(names):,} names from SAMPLE generated chains "
        f"(seed {settings.service.sample_seed})"
    )
    # the staged chains of a finished round are gone (Redis keeps only the results)
    rnd = json.loads(store.redis.get(keys.universe_round()))
    assert rnd["done"] and not store.redis.exists(keys.universe_chains(rnd["id"]))
    # the focus names carry the full per-underlying tables
    spy = store.read("universe.SPY")
    assert spy.meta.headline["round"] == rnd["id"] and len(spy.tables["contracts"]) > 1000
    assert spy.meta.sample and spy.meta.source == (
        f"SAMPLE listed-options universe chain SPY (seed {settings.service.sample_seed}, generated)"
    )
    assert spy.meta.headline["net_gex_usd_per_1pct"] == pytest.approx(
        names.set_index("symbol").loc["SPY", "net_gex_usd_per_1pct"], rel=1e-9
    )


def test_workers_run_the_shards(
    tmp_path, monkeypatch, redis_url, store: ResultStore, rq_workers: Workers
) -> None:
    write_config(tmp_path, monkeypatch, redis_url)
    rq_workers.start("w1")
    rq_workers.start("w2")
    rq_workers.wait_registered(store, 2)
    outcome = run_task(store)
    assert outcome.failed == {}
    settings = load_settings()
    assert_complete_and_equal(store, settings)
    rnd = json.loads(store.redis.get(keys.universe_round()))["id"]
    ran_on = set()
    for k in range(store.meta("universe.table").headline["shards"]):
        from rq.job import Job

        ran_on.add(
            Job.fetch(
                f"universe-{rnd}-{k}", connection=store.redis, serializer=workers.SERIALIZER
            ).worker_name
        )
    assert ran_on <= {"w1", "w2"} and ran_on  # the worker processes did the work


def _catch_started(store: ResultStore, rq_workers: Workers, names: set[str]) -> tuple[str, str]:
    """Freeze (SIGSTOP) the worker group running a shard, and return (job id, worker name) once
    the frozen job is confirmed still running: the kill then lands mid-shard for sure."""
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for jid in StartedJobRegistry(queue=workers.queue(store.redis)).get_job_ids():
            job = Job.fetch(jid, connection=store.redis, serializer=workers.SERIALIZER)
            if (
                not jid.startswith("universe-")
                or jid.endswith("-final")
                or job.worker_name not in names
            ):
                continue
            rq_workers.kill_group(job.worker_name, signal.SIGSTOP)
            if job.get_status(refresh=True) == "started":
                return jid, job.worker_name
            rq_workers.kill_group(
                job.worker_name, signal.SIGCONT
            )  # it finished first: try the next
        time.sleep(0.005)
    raise AssertionError("no shard caught running")


def test_killed_worker_loses_nothing_and_doubles_nothing(
    tmp_path, monkeypatch, redis_url, store: ResultStore, rq_workers: Workers
) -> None:
    write_config(tmp_path, monkeypatch, redis_url, size=400, shard=10000)
    rq_workers.start("w1")
    rq_workers.start("w2")
    rq_workers.wait_registered(store, 2)
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("outcome", run_task(store)))
    thread.start()
    job_id, victim = _catch_started(store, rq_workers, {"w1", "w2"})
    rq_workers.kill_group(
        victim, signal.SIGKILL
    )  # the worker and its work horse, mid-shard: a lost machine
    thread.join(timeout=180)
    assert not thread.is_alive()
    assert box["outcome"].failed == {}
    assert_complete_and_equal(store, load_settings())
    from rq.job import Job

    job = Job.fetch(job_id, connection=store.redis, serializer=workers.SERIALIZER)
    assert job.get_status() == "finished" and job.retries_left < 2  # re-run after the kill
    assert job.worker_name != victim  # on the surviving worker


def test_killed_work_horse_is_retried(
    tmp_path, monkeypatch, redis_url, store: ResultStore, rq_workers: Workers
) -> None:
    write_config(tmp_path, monkeypatch, redis_url, size=300, shard=10000)
    rq_workers.start("w1")
    rq_workers.wait_registered(store, 1)
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("outcome", run_task(store)))
    thread.start()
    job_id, victim = _catch_started(store, rq_workers, {"w1"})
    horses = rq_workers.horses(victim)
    assert horses, "the job runs in a forked work horse"
    for pid in horses:
        os.killpg(pid, signal.SIGKILL)  # only the horse: the worker sees it die
    rq_workers.kill_group(victim, signal.SIGCONT, horses=False)
    thread.join(timeout=180)
    assert box["outcome"].failed == {}
    assert_complete_and_equal(store, load_settings())
    from rq.job import Job

    job = Job.fetch(job_id, connection=store.redis, serializer=workers.SERIALIZER)
    assert job.get_status() == "finished" and job.retries_left < 2


def test_a_shard_that_keeps_failing_is_retried_then_reported(
    tmp_path, monkeypatch, redis_url, store: ResultStore
) -> None:
    write_config(tmp_path, monkeypatch, redis_url, size=120, shard=20000)
    settings = load_settings()
    ctx = TaskContext(
        settings=settings,
        store=store,
        now=NOW,
        job="universe",
        slot="test",
        log=logging.getLogger("test"),
    )
    names = universe_list(settings)
    rnd, resumed = open_round(store.redis, list(names["symbol"]), settings, NOW)
    fetch_missing(ctx, rnd, names)
    victim = names["symbol"].iloc[-1]
    store.redis.hset(
        keys.universe_chains(rnd.id), victim, b"not an arrow stream"
    )  # corrupt staged data
    outcome = run_task(store)  # resumes the round (nothing to fetch), shards in-process
    assert (
        "universe.table" in outcome.failed
        and "failed after 2 retries" in outcome.failed["universe.table"]
    )
    result = store.read("universe.table")
    failed = result.tables["failed"]
    assert victim in set(failed["symbol"]) and set(failed["stage"]) == {"shard"}
    published = set(result.tables["names"]["symbol"])
    assert published | set(failed["symbol"]) == set(names["symbol"]) and not published & set(
        failed["symbol"]
    )
    from rq.job import Job

    shard_of = (
        {
            int(k): json.loads(v)
            for k, v in store.redis.hgetall(keys.universe_shards(rnd.id)).items()
        }
        if store.redis.exists(keys.universe_shards(rnd.id))
        else None
    )
    bad = [
        k
        for k in range(result.meta.headline["shards"])
        if Job.fetch(
            f"universe-{rnd.id}-{k}", connection=store.redis, serializer=workers.SERIALIZER
        ).get_status()
        == "failed"
    ]
    assert len(bad) == 1 and (shard_of is None or victim in shard_of[bad[0]])
    assert (
        Job.fetch(
            f"universe-{rnd.id}-{bad[0]}", connection=store.redis, serializer=workers.SERIALIZER
        ).retries_left
        == 0
    )


def test_live_fetch_resumes_after_a_crash(
    tmp_path, monkeypatch, redis_url, store: ResultStore, http_server, test_data
) -> None:
    from tests.httpserver import Reply

    symbols = ["MSTR", "AAA", "BBB", "CCC", "DDD"]
    path = write_config(
        tmp_path,
        monkeypatch,
        redis_url,
        mode="live",
        focus="[]",
        extra=f'symbols = {json.dumps(symbols)}\n[gamma]\ncboe_base_url = "{http_server.url}/api"\nuse_drop_folder = false',
    )
    as_of = pd.Timestamp("2026-07-10 21:12:30", tz="UTC")
    http_server.route(
        "/api/MSTR.json",
        Reply(200, (test_data / "options" / "options_MSTR_2026-07-10_trimmed.json").read_bytes()),
    )
    gate = threading.Event()
    for s in symbols[1:]:
        body = sample_options.sample_options_bytes(s, as_of, 7)
        if s == "CCC":  # the first run dies while this one is in flight
            http_server.route(
                f"/api/{s}.json", lambda _req, body=body: (gate.wait(30), Reply(200, body))[1]
            )
        else:
            http_server.route(f"/api/{s}.json", Reply(200, body))
    env = dict(os.environ, FLOWDESK_CONFIG=str(path), REDIS_URL=redis_url)
    first = subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "refresh", "universe"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not http_server.requests_to("/api/CCC.json"):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)  # crash mid-fetch
        first.wait(timeout=10)
    finally:
        gate.set()
    rnd = json.loads(store.redis.get(keys.universe_round()))
    assert not rnd["done"] and sorted(
        k.decode() for k in store.redis.hkeys(keys.universe_chains(rnd["id"]))
    ) == ["AAA", "BBB", "MSTR"]
    outcome = run_task(store)
    assert outcome.failed == {}
    for s in ("MSTR", "AAA", "BBB"):
        assert len(http_server.requests_to(f"/api/{s}.json")) == 1, s  # not fetched again
    for s in ("CCC", "DDD"):
        assert len(http_server.requests_to(f"/api/{s}.json")) >= 1
    assert len(http_server.requests_to("/api/DDD.json")) == 1
    result = store.read("universe.table")
    assert (
        sorted(result.tables["names"]["symbol"]) == sorted(symbols)
        and result.meta.headline["round"] == rnd["id"]
    )
    assert (
        result.tables["names"].set_index("symbol").loc["MSTR", "source"] == "cboe-json"
        and not result.meta.sample
    )


def test_published_tables_match_their_declaration(
    tmp_path, monkeypatch, redis_url, store: ResultStore
) -> None:
    from jobs import declarations

    write_config(tmp_path, monkeypatch, redis_url, size=60)
    run_task(store)
    for name in ["universe.table", "universe.SPY", "universe.NVDA"]:
        r = store.read(name)
        units = declarations.validate(name, r.tables, r.meta.headline)
        assert units[r.meta.tables[0]]


def test_board_adds_a_basket_only_when_configured(
    tmp_path, monkeypatch, redis_url, store: ResultStore
) -> None:
    """``[universe] board_baskets``: the basket's members with full tables join the board's dealer
    books, listed as inputs of family ``basket <name>``; a member already on the board is not
    counted twice; off by default."""
    from jobs.tasks.board import load_inputs

    write_config(tmp_path, monkeypatch, redis_url, size=60, focus='["AAPL", "MSFT", "NVDA"]')
    run_task(store)
    settings = load_settings()
    base = load_inputs(settings, store, NOW)
    assert (
        not any(i["family"].startswith("basket") for i in base.inputs) and "AAPL" not in base.books
    )
    on = settings.model_copy(
        update={"universe": settings.universe.model_copy(update={"board_baskets": ["mag7"]})}
    )
    inp = load_inputs(on, store, NOW)
    fams = {i["name"]: i for i in inp.inputs if i["family"] == "basket mag7"}
    assert {"universe.AAPL", "universe.MSFT"} <= set(fams) and fams["universe.AAPL"]["included"]
    assert (
        "universe.NVDA" not in fams
    )  # NVDA is on the board as gamma.NVDA (settings.gamma.underlyings)
    assert (
        not fams["universe.AMZN"]["included"] and "missing" in fams["universe.AMZN"]["note"]
    )  # no full tables
    assert {"AAPL", "MSFT"} <= set(inp.books) and inp.books["AAPL"].spot == store.meta(
        "universe.AAPL"
    ).headline["spot"]


def test_requested_name_runs_in_the_scheduler_without_workers(
    tmp_path, monkeypatch, redis_url, store: ResultStore
) -> None:
    """A name opened on the page while no worker runs: the scheduler's in-process drain computes it."""
    write_config(tmp_path, monkeypatch, redis_url, size=60)
    job_id, status = workers.request(store.redis, "universe-name", "AMD")
    assert (
        status == "queued" and workers.request(store.redis, "universe-name", "AMD")[0] == job_id
    )  # queued once
    assert workers.drain_if_unattended(store.redis) == 1
    assert workers.job_state(store.redis, job_id) == ("finished", None)
    meta = store.meta("universe.AMD")
    assert (
        meta.headline["on_demand"] is True and meta.headline["sector"] == "Information Technology"
    )
    bad, _ = workers.request(store.redis, "universe-name", "NOSUCH")
    workers.drain_if_unattended(store.redis)
    status, err = workers.job_state(store.redis, bad)
    assert status == "failed" and "not in the universe" in err
