"""History retention by bytes, slimmed old versions and float32 storage, on the real Redis.

``gamma.<UNDERLYING>`` declares ``contracts``, ``dropped``, ``grid`` and ``profile`` as
``history="latest"`` and ``gamma_file``/``gamma_model`` as ``storage="float32"``; the tests
publish real-shaped gamma results (every declared table) and check what each version keeps.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from jobs import declarations
from jobs.config import parse_settings
from jobs.store import ResultStore, keys, utcnow

NAME = "gamma.SPX"
LATEST_ONLY = ["contracts", "dropped", "grid", "profile"]
AS_OF = pd.Timestamp("2024-01-05 16:00", tz="America/New_York")


def _column(kind: str, n: int, rng: np.random.Generator) -> object:
    if kind == "float":
        return rng.normal(size=n)
    if kind == "int":
        return rng.integers(0, 100, n)
    if kind == "bool":
        return rng.random(n) > 0.5
    if kind == "date":
        return pd.date_range("2024-01-19", periods=n, freq="D").as_unit("ns")
    if kind == "time":
        return pd.date_range("2024-01-19 21:00", periods=n, freq="D", tz="UTC").as_unit("ns")
    return [f"s{i}" for i in range(n)]


def gamma_tables(
    contracts: int = 2_000, seed: int = 1, name: str = NAME
) -> dict[str, pd.DataFrame]:
    """Every declared table of gamma.SPX with rows of the declared kinds (``contracts`` rows in
    the per-contract table, 801 in the profile)."""
    rng = np.random.default_rng(seed)
    decl = declarations.lookup(name)
    rows = {"contracts": contracts, "profile": 801, "grid": 500, "dropped": 50}
    out = {}
    for t in decl.tables:
        n = rows.get(t.name, 20)
        out[t.name] = pd.DataFrame(
            {c.name: _column(c.kind, n, rng) for c in t.columns if "<" not in c.name}
        )
    return out


def _publish(store: ResultStore, k: int, **kw) -> object:
    return store.publish(
        NAME,
        gamma_tables(**kw),
        as_of=AS_OF,
        source="test",
        headline={"net_gex_usd_per_1pct": float(k)},
        computed_at=utcnow() - timedelta(minutes=100 - k),
    )


def _stored_bytes(client, name: str, version: str) -> int:
    meta_raw = client.get(keys.result_meta(name, version))
    tables = store_meta_tables(client, name, version)
    return len(meta_raw) + sum(client.strlen(keys.result_table(name, version, t)) for t in tables)


def store_meta_tables(client, name: str, version: str) -> list[str]:
    from jobs.store import ResultMeta

    return ResultMeta.from_json(client.get(keys.result_meta(name, version))).tables


def test_store_settings_carry_the_byte_cap_and_full_versions() -> None:
    s = parse_settings({"store": {"history_max_mb": 12.5, "full_versions": 2}}, env={}).store
    assert (s.history_max_mb, s.full_versions) == (12.5, 2)
    defaults = parse_settings({}, env={}).store
    assert defaults.history_max_mb == 64.0 and defaults.full_versions == 3
    assert ResultStore.options(s)["history_max_mb"] == 12.5


def test_meta_bytes_are_the_bytes_redis_holds(redis_client) -> None:
    store = ResultStore(redis_client)
    meta = _publish(store, 1)
    assert meta.bytes == _stored_bytes(redis_client, NAME, meta.version)
    assert store.version_bytes(NAME) == {meta.version: meta.bytes}


def test_old_versions_keep_headline_by_strike_by_expiry_only(redis_client) -> None:
    store = ResultStore(redis_client, full_versions=2, history_max_mb=None)
    metas = [_publish(store, k) for k in range(4)]
    old, full = metas[:2], metas[2:]
    for m in old:
        back = store.meta(NAME, version=m.version)
        assert back.slimmed == sorted(LATEST_ONLY)
        assert back.tables == ["by_strike", "by_expiry", "hedge_flow", "sensitivity"]
        assert back.headline["net_gex_usd_per_1pct"] == m.headline["net_gex_usd_per_1pct"]
        for t in LATEST_ONLY:  # the keys are gone from Redis
            assert redis_client.exists(keys.result_table(NAME, m.version, t)) == 0
        # the bytes recorded for it are what it now holds
        assert (
            back.bytes
            == _stored_bytes(redis_client, NAME, m.version)
            == store.version_bytes(NAME)[m.version]
        )
        assert back.bytes < m.bytes / 3
        # readers: the kept tables read as before, a slimmed one is a clear KeyError
        res = store.read(NAME, version=m.version)
        assert list(res.tables) == back.tables
        pd.testing.assert_frame_equal(
            store.read(NAME, version=m.version, tables=["by_strike"]).frame,
            gamma_tables()["by_strike"],
        )
        with pytest.raises(KeyError, match="'contracts' is kept in the newest versions only"):
            store.read(NAME, version=m.version, tables=["contracts"])
    for m in full:
        back = store.meta(NAME, version=m.version)
        assert back.slimmed == [] and "contracts" in back.tables
        assert len(store.read(NAME, version=m.version, tables=["contracts"]).frame) == 2_000
    # history charts read the headline of every version, slimmed or not
    series = store.headline_series(NAME)
    assert series["net_gex_usd_per_1pct"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_per_option_gammas_are_stored_as_float32_money_stays_float64(redis_client) -> None:
    store = ResultStore(redis_client)
    tables = gamma_tables()
    store.publish(NAME, tables, as_of=AS_OF, source="test")
    back = store.read(NAME, tables=["contracts"]).frame
    assert back["gamma_model"].dtype == np.float32 and back["gamma_file"].dtype == np.float32
    np.testing.assert_allclose(
        back["gamma_model"].to_numpy(np.float64), tables["contracts"]["gamma_model"], rtol=6e-8
    )
    assert back["gex_usd_per_1pct"].dtype == np.float64
    assert back["gex_usd_per_1pct"].tolist() == tables["contracts"]["gex_usd_per_1pct"].tolist()
    assert store.read(NAME, tables=["by_strike"]).frame["net_gex_usd_per_1pct"].dtype == np.float64


def test_byte_cap_trims_oldest_first_and_never_the_current(redis_client) -> None:
    probe = ResultStore(redis_client, history_max_mb=None, full_versions=1)
    first = _publish(probe, 0)
    one_full = first.bytes
    redis_client.flushall()
    # room for the current full version and a few slimmed ones
    cap_mb = (one_full + 3 * one_full / 8) / 1e6
    store = ResultStore(redis_client, history_max_mb=cap_mb, full_versions=1)
    metas = [_publish(store, k) for k in range(12)]
    sizes = store.version_bytes(NAME)
    kept = list(sizes)
    assert sum(sizes.values()) <= cap_mb * 1e6
    assert kept[-1] == metas[-1].version  # the newest (current) is kept
    assert kept == [m.version for m in metas[-len(kept) :]]  # the oldest went first
    assert 2 <= len(kept) < 12
    for m in metas[: -len(kept)]:
        assert redis_client.exists(keys.result_meta(NAME, m.version)) == 0
        assert redis_client.hget(keys.result_sizes(NAME), m.version) is None
        assert not any(
            redis_client.exists(keys.result_table(NAME, m.version, t))
            for t in ("by_strike", "contracts")
        )

    # a cap below one version: the current one alone stays
    tiny = ResultStore(redis_client, history_max_mb=0.001, full_versions=1)
    last = _publish(tiny, 99)
    assert list(tiny.version_bytes(NAME)) == [last.version]
    assert tiny.read(NAME).meta.version == last.version


def test_versions_stored_before_sizes_were_recorded_are_measured(redis_client) -> None:
    store = ResultStore(redis_client, history_max_mb=None)
    a = _publish(store, 1)
    redis_client.delete(keys.result_sizes(NAME))  # as a version published by an older flowdesk
    assert store.version_bytes(NAME)[a.version] == _stored_bytes(redis_client, NAME, a.version)
