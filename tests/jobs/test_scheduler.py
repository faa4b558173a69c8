"""Scheduler: exactly-once slots across processes, leader take-over, trading-calendar gate,
raising jobs.  Real Redis (session fixture) and real ``flowdesk scheduler`` subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobs.config import JobSettings, parse_settings
from jobs.scheduler import LeaderLease, SlotRunner, cron_trigger, crontab_day_of_week, is_session
from jobs.store import ResultStore, RunRecord, keys

REPO = Path(__file__).resolve().parents[2]
NY = ZoneInfo("America/New_York")

FAST_SCHEDULER = """
[scheduler]
leader_lease_seconds = 5
heartbeat_seconds = 1
misfire_grace_seconds = 5
"""


def _wait_for(predicate: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll until ``predicate()`` holds; fail naming ``what`` (a safety net, not a speed target)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for: {what}")
        time.sleep(0.1)


class Schedulers:
    """Start ``flowdesk scheduler`` subprocesses on a temp config and clean them up."""

    def __init__(self, tmp_path: Path, redis_url: str, config_text: str) -> None:
        self.config = tmp_path / "config.toml"
        self.config.write_text(config_text)
        self.env = {
            **os.environ,
            "FLOWDESK_CONFIG": str(self.config),
            "REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
        }
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.tmp_path / f"scheduler-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.cli", "scheduler"],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.tmp_path / f"scheduler-{self.procs.index(proc)}.log").read_text()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture()
def schedulers(tmp_path: Path, redis_url: str) -> Iterator[Callable[[str], Schedulers]]:
    made: list[Schedulers] = []

    def make(config_text: str) -> Schedulers:
        s = Schedulers(tmp_path, redis_url, config_text)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop_all()


def _slot_times(records: list[RunRecord]) -> list[datetime]:
    return sorted(datetime.fromisoformat(r.slot) for r in records)


def _missing_slots(times: list[datetime], step_s: int) -> list[datetime]:
    """Slots missing between the first and last one of a job that fires every ``step_s`` seconds."""
    have = set(times)
    missing = []
    t = times[0]
    while t < times[-1]:
        t += timedelta(seconds=step_s)
        if t not in have:
            missing.append(t)
    return missing


def _assert_missing_explained(missing: list[datetime], log_text: str) -> None:
    """Every missed slot is accounted for in the scheduler's log (late beyond grace, or the
    previous run of the job still going); none disappears silently."""
    if missing:
        reasons = ("slot missed", "maximum number of running instances", "was missed by")
        assert any(r in log_text for r in reasons), f"slots {missing} missing with no logged reason"


# -- two processes, one Redis -----------------------------------------------------------
@pytest.mark.slow
def test_two_schedulers_run_each_slot_once_and_follower_takes_over(
    schedulers, store: ResultStore
) -> None:
    env = schedulers(
        FAST_SCHEDULER
        + """
[jobs.tick]
task = "demo"
cron = "* * * * *"
second = "*"
trading_days_only = false
retries = 0
"""
    )
    first = env.start()
    second = env.start()
    procs = {first.pid: first, second.pid: second}

    _wait_for(lambda: len(store.runs("tick", 500)) >= 4, "four one-second slots run")
    leader_pid = store.runs("tick", 1)[0].pid
    assert leader_pid in procs
    follower = next(p for pid, p in procs.items() if pid != leader_pid)
    assert store.heartbeat()["pid"] == leader_pid
    assert store.heartbeat()["leader"] is True

    # Kill the leader without any chance to release its lease.
    procs[leader_pid].send_signal(signal.SIGKILL)
    procs[leader_pid].wait(timeout=10)
    killed_at = datetime.now(NY)

    _wait_for(
        lambda: sum(r.pid == follower.pid for r in store.runs("tick", 500)) >= 3,
        "follower takes over and runs three slots",
    )
    follower.send_signal(signal.SIGTERM)
    assert follower.wait(timeout=20) == 0, env.log_of(follower)

    runs = store.runs("tick", 500)
    slots = [r.slot for r in runs]
    assert len(slots) == len(set(slots)), "a slot ran twice"
    assert {r.status for r in runs} == {"ok"}
    assert {r.pid for r in runs} == {leader_pid, follower.pid}

    by_leader = _slot_times([r for r in runs if r.pid == leader_pid])
    by_follower = _slot_times([r for r in runs if r.pid == follower.pid])
    # While a leader was alive every slot ran, and the follower ran nothing until the kill.  On a
    # starved machine (CPU contention) a one-second slot can still be missed or coalesced; that is
    # never silent: the scheduler logs it.  Duplicates, the invariant, are never allowed (above).
    _assert_missing_explained(_missing_slots(by_leader, 1), env.log_of(procs[leader_pid]))
    # The follower's first slot may be one it watched while the dead leader's lease ran out and
    # then ran late (slots fired meanwhile are skipped: one instance per job); from then on, all.
    _assert_missing_explained(_missing_slots(by_follower[1:], 1), env.log_of(follower))
    assert by_leader[-1] < by_follower[0]
    assert by_follower[0] >= killed_at.replace(microsecond=0) - timedelta(seconds=2)
    # Each slot run was claimed with SET NX (the claim key is there, owned by the runner).
    for r in runs[:5]:
        owner = store.redis.get(keys.job_slot("tick", r.slot))
        assert owner is not None and owner.decode().endswith(f":{r.pid}")
    assert "leader acquired" in env.log_of(follower)
    assert "leader released" in env.log_of(follower)  # clean SIGTERM gives the lease up


@pytest.mark.slow
def test_raising_job_is_recorded_retried_and_scheduler_keeps_running(
    schedulers, store: ResultStore
) -> None:
    env = schedulers(
        FAST_SCHEDULER
        + """
[jobs.bad]
task = "demo"
cron = "* * * * *"
second = "*"
trading_days_only = false
retries = 2
retry_delay_seconds = 0.1
args = { fail = true }

[jobs.tick]
task = "demo"
cron = "* * * * *"
second = "*"
trading_days_only = false
retries = 0
"""
    )
    proc = env.start()
    _wait_for(lambda: len(store.runs("bad")) >= 2, "two slots of the raising job")
    first_failure = store.runs("bad")[-1]
    _wait_for(
        lambda: any(
            datetime.fromisoformat(r.slot) > datetime.fromisoformat(first_failure.slot)
            for r in store.runs("tick", 200)
        ),
        "a later slot of another job",
    )
    assert proc.poll() is None, "the scheduler died"

    bad_runs = store.runs("bad")
    for r in bad_runs:
        assert r.status == "failed"
        assert r.attempts == 3  # first try + retries = 2
        assert "RuntimeError: demo task asked to fail" in (r.error or "")
    # The next slot of the failing job ran too (it is not disabled by a failure).
    assert len({r.slot for r in bad_runs}) == len(bad_runs) >= 2
    assert store.last_success("bad") is None
    assert store.last_success("tick") is not None
    # A failure marks the job's result stale, the next good run clears it: never a crash.
    assert store.meta("demo").rows == 5

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    log = env.log_of(proc)
    assert "job attempt failed job=bad attempt=1/3" in log
    assert "job end job=bad status=failed" in log
    assert "Traceback" not in log  # one line per event, no stray tracebacks


# -- trading calendar -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 26), False),  # Thanksgiving (4th Thursday of November)
        (date(2026, 11, 27), True),  # day after Thanksgiving: early close, still a session
        (date(2026, 12, 25), False),  # Christmas (Friday)
        (date(2026, 12, 24), True),  # Christmas Eve: a session in 2026
        (date(2026, 7, 3), False),  # Independence Day observed (4 July 2026 is a Saturday)
        (date(2027, 1, 1), False),  # New Year's Day (Friday)
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 30), True),  # Monday
    ],
)
def test_is_session_xnys(day: date, expected: bool) -> None:
    assert is_session("XNYS", day) is expected


class _AlwaysLeader(LeaderLease):
    """A lease that believes it leads: models a paused leader whose lease lapsed."""

    def refresh(self) -> bool:
        return True


def _settings(text: str):
    import tomllib

    return parse_settings(tomllib.loads(text), source="test.toml", env={})


def test_holiday_has_no_morning_refresh(store: ResultStore) -> None:
    settings = _settings(
        """
[jobs.morning]
task = "demo"
cron = "0 8 * * 1-5"
trading_days_only = true
retries = 0
"""
    )
    runner = SlotRunner(settings, store, LeaderLease(store.redis, 30, "test:1"))
    trigger = cron_trigger(settings.jobs["morning"], settings.tz)
    fire_times = []
    t = trigger.get_next_fire_time(None, datetime(2026, 11, 23, tzinfo=NY))
    while t < datetime(2027, 1, 1, tzinfo=NY):
        fire_times.append(t)
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))

    # "1-5" is Monday to Friday (crontab), at 08:00 New York time.
    assert {t.strftime("%a") for t in fire_times} == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert all((t.hour, t.minute) == (8, 0) for t in fire_times)
    assert len(fire_times) == 29  # 23 Nov - 31 Dec 2026: five full weeks plus Mon-Thu 28-31 Dec
    records = {t.date(): runner.fire("morning", t) for t in fire_times}

    skipped = {d for d, r in records.items() if r.status == "skipped"}
    assert skipped == {date(2026, 11, 26), date(2026, 12, 25)}
    for d in skipped:
        assert "is not a XNYS session" in records[d].detail
        assert records[d].attempts == 0
    assert records[date(2026, 11, 27)].status == "ok"
    assert {r.status for d, r in records.items() if d not in skipped} == {"ok"}
    # Skipped slots are recorded as runs (the Status page shows why), with the slot as fire time.
    stored = {r.slot: r.status for r in store.runs("morning", 100)}
    assert stored["2026-11-26T08:00:00-05:00"] == "skipped"
    assert stored["2026-11-27T08:00:00-05:00"] == "ok"
    assert stored["2026-12-25T08:00:00-05:00"] == "skipped"
    # The run's `now` is the scheduled slot time: the demo result is stamped with it.
    assert store.meta("demo").as_of.startswith("2026-12-31T08:00:00")


def test_weekend_job_without_calendar_gate_runs(store: ResultStore) -> None:
    settings = _settings(
        '[jobs.weekly]\ntask = "demo"\ncron = "0 9 * * 6"\ntrading_days_only = false\nretries = 0\n'
    )
    runner = SlotRunner(settings, store, LeaderLease(store.redis, 30, "test:1"))
    t = cron_trigger(settings.jobs["weekly"], settings.tz).get_next_fire_time(
        None, datetime(2026, 11, 23, tzinfo=NY)
    )
    assert t == datetime(2026, 11, 28, 9, 0, tzinfo=NY)  # crontab 6 = Saturday
    assert runner.fire("weekly", t).status == "ok"


def test_slot_claim_runs_a_slot_once_even_with_two_leaders(store: ResultStore) -> None:
    settings = _settings(
        '[jobs.j]\ntask = "demo"\ncron = "*/5 * * * *"\ntrading_days_only = false\nretries = 0\n'
    )
    a = SlotRunner(settings, store, _AlwaysLeader(store.redis, 30, "host-a:1"))
    b = SlotRunner(settings, store, _AlwaysLeader(store.redis, 30, "host-b:2"))
    slot = datetime(2026, 11, 30, 9, 35, tzinfo=NY)
    assert a.fire("j", slot).status == "ok"
    assert b.fire("j", slot) is None
    assert b.fire("j", slot + timedelta(minutes=5)).status == "ok"
    assert [r.slot for r in store.runs("j")] == [
        "2026-11-30T09:40:00-05:00",
        "2026-11-30T09:35:00-05:00",
    ]
    ttl = store.redis.ttl(keys.job_slot("j", "2026-11-30T09:35:00-05:00"))
    assert 0 < ttl <= settings.scheduler.slot_lock_seconds


def test_leader_lease_single_holder_and_takeover_after_expiry(store: ResultStore) -> None:
    a = LeaderLease(store.redis, 5, "host-a:1")
    b = LeaderLease(store.redis, 5, "host-b:2")
    assert a.refresh() is True
    assert b.refresh() is False
    assert a.refresh() is True  # renewal
    # The leader dies without releasing: its key expires after the lease (simulated by expiring it now).
    store.redis.pexpire(keys.scheduler_leader(), 1)
    time.sleep(0.01)
    assert b.refresh() is True
    assert a.refresh() is False  # the old leader notices it lost the lease
    b.release()
    assert a.refresh() is True


JOB_J = '[jobs.j]\ntask = "demo"\ncron = "* * * * *"\ntrading_days_only = false\nretries = 0\n'


def test_follower_does_not_fire(store: ResultStore) -> None:
    settings = _settings(JOB_J)
    leader = SlotRunner(settings, store, LeaderLease(store.redis, 30, "host-a:1"))
    follower = SlotRunner(
        settings, store, LeaderLease(store.redis, 30, "host-b:2"), follower_wait_s=0
    )
    slot = datetime(2026, 11, 30, 10, 0, tzinfo=NY)
    assert leader.leader.refresh()
    assert follower.fire("j", slot) is None
    assert store.runs("j") == []
    assert (
        store.redis.get(keys.job_slot("j", slot.isoformat())) is None
    )  # a follower claims nothing


def test_follower_stops_watching_a_slot_the_leader_claimed(store: ResultStore) -> None:
    settings = _settings(JOB_J)
    leader = SlotRunner(settings, store, LeaderLease(store.redis, 30, "host-a:1"))
    follower = SlotRunner(
        settings, store, LeaderLease(store.redis, 30, "host-b:2"), follower_wait_s=600, poll_s=0.05
    )
    slot = datetime(2026, 11, 30, 10, 0, tzinfo=NY)
    assert leader.fire("j", slot).status == "ok"
    assert (
        follower.fire("j", slot) is None
    )  # returns at once: the claim is there (600 s is not waited)
    assert [r.pid for r in store.runs("j")] == [os.getpid()]


def test_follower_runs_the_slot_of_a_leader_that_died(store: ResultStore) -> None:
    settings = _settings(JOB_J)
    dead = LeaderLease(store.redis, 1, "host-a:1")  # took the lease, then "died": never renews
    assert dead.refresh()
    follower = SlotRunner(
        settings, store, LeaderLease(store.redis, 30, "host-b:2"), follower_wait_s=30, poll_s=0.05
    )
    slot = datetime(2026, 11, 30, 10, 0, tzinfo=NY)
    record = follower.fire("j", slot)
    assert record is not None and record.status == "ok"
    assert record.slot == "2026-11-30T10:00:00-05:00"
    assert store.redis.get(keys.job_slot("j", record.slot)) == b"host-b:2"
    assert follower.leader.held


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("1-5/2", "mon,wed,fri"),
        ("mon-fri", "mon-fri"),
    ],
)
def test_crontab_day_of_week(field: str, expected: str) -> None:
    assert crontab_day_of_week(field) == expected


@pytest.mark.parametrize("field", ["8", "5-1", "mon,3"])
def test_crontab_day_of_week_refuses(field: str) -> None:
    with pytest.raises(ValueError, match=r"day-of-week field"):
        crontab_day_of_week(field)


def test_second_field_is_validated() -> None:
    with pytest.raises(Exception, match=r"invalid seconds field '75'"):
        JobSettings(task="demo", cron="* * * * *", second="75")


def test_bad_cron_key_is_refused_when_the_config_loads(store: ResultStore) -> None:
    """Config validation builds the scheduler's own trigger, so a day-of-week field mixing names
    and numbers is refused at start-up, before any scheduler exists, naming file and key."""
    from jobs.config import ConfigError

    with pytest.raises(
        ConfigError,
        match=r"test\.toml: jobs\.j\.cron: invalid cron expression '0 8 \* \* mon,3': day-of-week field 'mon,3'",
    ):
        _settings('[jobs.j]\ntask = "demo"\ncron = "0 8 * * mon,3"\n')  # names mixed with numbers


def test_build_scheduler_schedules_enabled_jobs_only(store: ResultStore) -> None:
    from jobs.scheduler import build_scheduler

    settings = _settings(
        '[jobs.a]\ntask = "demo"\ncron = "0 8 * * 1-5"\n[jobs.b]\ntask = "demo"\ncron = "0 9 * * *"\nenabled = false\n'
    )
    sched = build_scheduler(settings, store)
    ids = sorted(job.id for job in sched.get_jobs())
    assert ids == [
        "flowdesk:heartbeat",
        "flowdesk:rq-unattended",
        "job:a",
    ]  # + RQ jobs run in-process while no worker runs
    job = sched.get_job("job:a")
    assert job.executor == "slots"  # the executor that passes each run its scheduled fire time
    assert str(job.trigger.timezone) == "America/New_York"
