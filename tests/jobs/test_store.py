"""The Redis result store on a real Redis server: round trips, atomicity, history, stale marks."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from jobs import declarations as d
from jobs.store import ResultNotFound, ResultStore, RunRecord, keys
from tests.declared import declared

AS_OF = pd.Timestamp("2026-11-27 16:15", tz="America/New_York")

_COLUMNS = (
    d.Column("when", "time", d.Unit.TIME),
    d.Column("kind", "str", d.Unit.LABEL),
    d.Column("value_usd", "float", d.Unit.USD),
    d.Column("contracts", "int", d.Unit.CONTRACTS),
    d.Column("name", "str", d.Unit.LABEL),
    d.Column("flag", "bool", d.Unit.FLAG),
    d.Column("obj", "any", d.Unit.LABEL, optional=True),  # not Arrow-serialisable: a failed publish
)
TOY = d.ResultDecl(
    name="t.<MARKET>",
    description="the store tests' toy results (t.roundtrip, t.multi, ...)",
    task="demo",
    cadence="on-demand",
    tables=tuple(
        d.Table(name, _COLUMNS, optional=True) for name in ("data", "strikes", "profile", "a", "b")
    ),
    headline=(
        d.HeadlineKey("total_usd", d.Unit.USD),
        d.HeadlineKey("nan_value", d.Unit.USD),
        d.HeadlineKey("marker", d.Unit.COUNT),
        d.HeadlineKey("i", d.Unit.COUNT),
    ),
)


@pytest.fixture(autouse=True)
def _toy_declared():
    with declared(TOY):
        yield


def _frame(n: int = 6, marker: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "when": pd.date_range("2026-01-02 09:30", periods=n, freq="D", tz="America/New_York"),
            "kind": pd.Categorical(["call", "put"] * (n // 2), categories=["call", "put"]),
            "value_usd": np.where(np.arange(n) == 1, np.nan, np.arange(n) * 1.5 + marker),
            "contracts": np.arange(n, dtype="int64") * 10**12,
            "name": [f"n{i}" for i in range(n)],
            "flag": np.arange(n) % 2 == 0,
        }
    )


def test_round_trip_keeps_every_dtype(store: ResultStore) -> None:
    frame = _frame()
    meta = store.publish(
        "t.roundtrip",
        frame,
        as_of=AS_OF,
        source="unit-test",
        headline={"total_usd": 12.5, "nan_value": float("nan")},
    )
    got = store.read("t.roundtrip")
    pd.testing.assert_frame_equal(got.frame, frame)
    assert str(got.frame["when"].dt.tz) == "America/New_York"
    assert isinstance(got.frame["kind"].dtype, pd.CategoricalDtype)
    assert got.frame["contracts"].dtype == np.int64
    assert got.frame["contracts"].iloc[-1] == 5 * 10**12
    assert np.isnan(got.frame["value_usd"].iloc[1])
    assert got.meta.version == meta.version
    assert got.meta.rows == 6
    assert got.meta.status == "ok"
    assert got.meta.units["data"] == {
        "when": "time (with time zone)",
        "kind": "label",
        "value_usd": "USD",
        "contracts": "contracts",
        "name": "label",
        "flag": "true / false",
    }
    assert got.meta.headline_units == {"total_usd": "USD", "nan_value": "USD"}
    assert got.meta.declaration == "t.<MARKET>"
    assert got.meta.headline == {"total_usd": 12.5, "nan_value": None}
    assert pd.Timestamp(got.meta.as_of) == AS_OF


def test_several_tables_and_table_selection(store: ResultStore) -> None:
    a, b = _frame(4), _frame(2, marker=100)
    store.publish("t.multi", {"strikes": a, "profile": b}, as_of=AS_OF, source="unit-test")
    res = store.read("t.multi")
    assert res.meta.tables == ["strikes", "profile"]
    pd.testing.assert_frame_equal(res.frame, a)
    only = store.read("t.multi", tables=["profile"])
    assert list(only.tables) == ["profile"]
    pd.testing.assert_frame_equal(only.table("profile"), b)
    with pytest.raises(KeyError, match="no table 'nope'"):
        store.read("t.multi", tables=["nope"])


def test_tables_are_arrow_not_pickle(store: ResultStore, redis_client) -> None:
    meta = store.publish("t.arrow", _frame(), as_of=AS_OF, source="unit-test")
    blob = redis_client.get(keys.result_table("t.arrow", meta.version, "data"))
    assert blob[:4] == b"\xff\xff\xff\xff"  # Arrow IPC stream continuation marker
    assert b"pandas" in blob  # schema metadata travels as JSON in the Arrow schema
    assert not blob.startswith(b"\x80")  # no pickle protocol header


def test_keys_are_versioned_and_share_a_hash_slot(store: ResultStore, redis_client) -> None:
    store.publish("t.keys", _frame(), as_of=AS_OF, source="unit-test")
    names = [k.decode() for k in redis_client.keys("flowdesk:v1:{res:t.keys}:*")]
    assert names, "result keys must live under flowdesk:v1 with the {res:<name>} hash tag"
    slots = {_slot(n) for n in names}
    assert len(slots) == 1


def _slot(key: str) -> str:
    start = key.index("{")
    return key[start + 1 : key.index("}", start)]


@pytest.mark.parametrize(
    ("name", "tables", "headline", "message"),
    [
        ("nobody.declared", {"data": _frame()}, {}, "result 'nobody.declared' has no declaration"),
        ("t.off", {"other": _frame()}, {}, "t.off: table 'other' is not declared"),
        (
            "t.off",
            {"data": _frame().assign(extra_usd=1.0)},
            {},
            "t.off.data: column 'extra_usd' is not declared",
        ),
        (
            "t.off",
            {"data": _frame().assign(contracts=1.5)},
            {},
            "t.off.data.contracts: declared int, published float64",
        ),
        (
            "t.off",
            {"data": _frame()},
            {"gross_usd": 1.0},
            "t.off: headline key 'gross_usd' is not declared",
        ),
        (
            "t.off",
            {"data": _frame()},
            {"marker": "high"},
            "t.off: headline key 'marker' is declared number, published str",
        ),
    ],
)
def test_a_publish_off_its_declaration_is_refused_and_writes_nothing(
    store: ResultStore, redis_client, name, tables, headline, message
) -> None:
    with pytest.raises(d.DeclarationError, match=message):
        store.publish(name, tables, as_of=AS_OF, source="unit-test", headline=headline)
    assert redis_client.keys("flowdesk:v1:{res:" + name + "}:*") == []
    assert name not in store.names()


def test_quality_keys_are_declared_for_every_result(store: ResultStore) -> None:
    meta = store.publish(
        "t.quality",
        _frame(),
        as_of=AS_OF,
        source="unit-test",
        quality={"skipped_share": 0.02, "warnings": ["a", "b"]},
    )
    assert meta.headline == {"quality_skipped_share": 0.02, "quality_warnings": 2}
    assert meta.headline_units == {
        "quality_skipped_share": "fraction (0-1)",
        "quality_warnings": "count",
    }


def test_unknown_result_raises(store: ResultStore) -> None:
    with pytest.raises(ResultNotFound, match="no published result named 'missing'"):
        store.read("missing")


def test_publish_requires_tz_aware_as_of(store: ResultStore) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        store.publish("t.naive", _frame(), as_of=pd.Timestamp("2026-01-02 10:00"), source="x")


def test_reader_never_sees_a_mix_under_concurrent_publishes(redis_url: str) -> None:
    """Each publish writes two tables whose marker must match; a reader polling while a writer
    publishes 150 versions must always see matching pairs."""
    writer = ResultStore.from_url(redis_url, history_max_count=5)
    reader = ResultStore.from_url(redis_url, history_max_count=5)
    writer.publish(
        "t.atomic",
        {"a": _frame(200, 0), "b": _frame(200, 0)},
        as_of=AS_OF,
        source="w",
        headline={"marker": 0},
    )
    stop = threading.Event()
    seen: list[tuple[float, float, float]] = []
    errors: list[BaseException] = []

    def read_loop() -> None:
        try:
            while not stop.is_set():
                res = reader.read("t.atomic")
                seen.append(
                    (
                        res.table("a")["value_usd"].iloc[0],
                        res.table("b")["value_usd"].iloc[0],
                        res.meta.headline["marker"],
                    )
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=read_loop) for _ in range(2)]
    for t in threads:
        t.start()
    for marker in range(1, 151):
        writer.publish(
            "t.atomic",
            {"a": _frame(200, marker), "b": _frame(200, marker)},
            as_of=AS_OF,
            source="w",
            headline={"marker": marker},
        )
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(seen) > 50
    for a0, b0, marker in seen:
        assert a0 == b0 == marker


def test_history_is_bounded_and_readable_by_time(redis_client) -> None:
    store = ResultStore(redis_client, history_max_count=3, history_max_age_days=365)
    t0 = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    versions = []
    for i in range(5):
        meta = store.publish(
            "t.hist",
            _frame(2, marker=i),
            as_of=AS_OF,
            source="h",
            headline={"i": i},
            computed_at=t0 + timedelta(minutes=10 * i),
        )
        versions.append(meta.version)
    hist = store.history("t.hist")
    assert [m.headline["i"] for m in hist] == [2, 3, 4]  # count bound keeps the 3 newest
    assert redis_client.get(keys.result_meta("t.hist", versions[0])) is None  # pruned keys deleted
    assert redis_client.get(keys.result_table("t.hist", versions[0], "data")) is None
    at = store.read("t.hist", as_of=t0 + timedelta(minutes=25))
    assert at.meta.headline["i"] == 2
    assert at.frame["value_usd"].iloc[0] == 2.0
    with pytest.raises(ResultNotFound):
        store.read("t.hist", as_of=t0 - timedelta(days=1))
    series = store.headline_series("t.hist", ["i"])
    assert list(series["i"]) == [2, 3, 4]
    assert series["computed_at"].is_monotonic_increasing


def test_history_age_bound_keeps_current(redis_client) -> None:
    store = ResultStore(redis_client, history_max_count=100, history_max_age_days=1)
    old = datetime.now(UTC) - timedelta(days=3)
    store.publish("t.age", _frame(2, 1), as_of=AS_OF, source="h", computed_at=old)
    store.publish(
        "t.age", _frame(2, 2), as_of=AS_OF, source="h", computed_at=old + timedelta(hours=1)
    )
    # Both are older than the age bound, but the current one is never pruned.
    assert [m.rows for m in store.history("t.age")] == [2]
    assert store.read("t.age").frame["value_usd"].iloc[0] == 2.0
    store.publish("t.age", _frame(2, 3), as_of=AS_OF, source="h")
    assert len(store.history("t.age")) == 1


def test_failed_refresh_keeps_previous_result_marked_stale(store: ResultStore) -> None:
    store.publish("t.stale", _frame(4, 7), as_of=AS_OF, source="s")
    store.mark_failed(
        "t.stale", "SourceError: cdn.cboe.com: gave up (HTTP 500)", job="gamma_morning"
    )
    res = store.read("t.stale")
    assert res.meta.status == "stale"
    assert res.meta.failure["job"] == "gamma_morning"
    assert "HTTP 500" in res.meta.failure["error"]
    assert res.frame["value_usd"].iloc[0] == 7.0
    store.publish("t.stale", _frame(4, 8), as_of=AS_OF, source="s")
    fresh = store.read("t.stale")
    assert fresh.meta.status == "ok" and fresh.meta.failure is None
    # Old versions read by time are not "stale": that mark belongs to the current result only.
    assert store.history("t.stale")[0].status == "ok"


def test_failed_publish_leaves_previous_result(store: ResultStore) -> None:
    store.publish("t.fail", _frame(4, 1), as_of=AS_OF, source="s")
    bad = _frame(4, 2)
    bad["obj"] = [object()] * 4  # not serialisable to Arrow: the publish must fail as a whole
    with pytest.raises(Exception):  # noqa: B017 - pyarrow raises ArrowInvalid/TypeError by version
        store.publish("t.fail", bad, as_of=AS_OF, source="s")
    assert store.read("t.fail").frame["value_usd"].iloc[0] == 1.0
    assert len(store.history("t.fail")) == 1


def test_run_records(store: ResultStore) -> None:
    for i, status in enumerate(["ok", "failed", "ok"]):
        store.record_run(
            RunRecord(
                job="demo",
                slot=f"s{i}",
                started_at=f"2026-11-27T13:0{i}:00+00:00",
                ended_at=f"2026-11-27T13:0{i}:01+00:00",
                duration_s=1.0,
                status=status,
                error="boom" if status == "failed" else None,
                rows=5,
            )
        )
    runs = store.runs("demo")
    assert [r.slot for r in runs] == ["s2", "s1", "s0"]
    assert runs[1].error == "boom"
    assert store.last_run("demo").slot == "s2"
    assert store.last_success("demo").slot == "s2"
    assert store.job_names() == ["demo"]


def test_heartbeat(store: ResultStore) -> None:
    assert store.heartbeat() is None
    store.beat(leader=True)
    time.sleep(0.05)
    beat = store.heartbeat()
    assert beat["leader"] is True
    assert 0 <= beat["age_s"] < 5
