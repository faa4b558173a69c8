"""The sample universe: shaped like the US listed-options universe, deterministic, real chains."""

from __future__ import annotations

import numpy as np
import pandas as pd

from flows.chain import Chain, validate_chain
from flows.sources import sample_universe as su
from jobs.tasks.universe import plan_shards

NOW = pd.Timestamp("2026-11-17 10:30", tz="America/New_York")


def test_universe_shape_and_determinism() -> None:
    u = su.universe(5000, 11)
    assert len(u) == 5000 and u["symbol"].is_unique
    assert {"AAPL", "NVDA", "SPY", "AMD"} <= set(u["symbol"])
    sizes = u["contracts"]
    # chain sizes from tens to tens of thousands; ~1.5 million contracts; median ~120
    assert (
        sizes.min() <= 20
        and sizes.max() >= 20_000
        and 1.2e6 < sizes.sum() < 1.9e6
        and 90 < sizes.median() < 160
    )
    assert set(u["sector"]) <= {*su.SECTORS, "Fund"} and (u["adv_usd"] > 0).all()
    pd.testing.assert_frame_equal(u, su.universe(5000, 11))


def test_chains_are_valid_priced_and_sized() -> None:
    u = su.universe(300, 3)
    exp = su.expiry_calendar(NOW.date())
    assert exp["expiry"].is_monotonic_increasing and (exp["settle_time"] > NOW).all()
    for row in list(u.itertuples(index=False))[::37]:
        spot, c = su.chain_table(row, NOW, 3, exp)
        chain = Chain(row.symbol, spot, NOW.tz_convert("UTC"), "sample", c)
        validate_chain(chain)  # the engine's own checks: unique OSI symbols, settlement, OI, IV
        assert 0.5 * row.contracts <= len(c) <= 1.3 * row.contracts + 4
        assert c["strike"].min() <= spot <= c["strike"].max()
        live = c["iv"].notna()
        assert (
            (c.loc[live, "gamma"] >= 0).all()
            and (c["open_interest"] >= 0).all()
            and c["open_interest"].sum() > 0
        )
    again = su.chain_table(next(u.itertuples(index=False)), NOW, 3, exp)[1]
    pd.testing.assert_frame_equal(
        again, su.chain_table(next(u.itertuples(index=False)), NOW, 3, exp)[1]
    )


def test_shards_are_balanced_by_size() -> None:
    sizes = dict(zip(*[su.universe(2000, 5)[c] for c in ("symbol", "contracts")], strict=True))
    shards = plan_shards(sizes, 100_000)
    loads = np.array([sum(sizes[s] for s in shard) for shard in shards])
    assert sorted(s for shard in shards for s in shard) == sorted(sizes)  # each name in one shard
    assert len(shards) == -(-sum(sizes.values()) // 100_000)
    assert loads.max() - loads.mean() <= max(sizes.values())  # the LPT bound
    assert plan_shards({"A": 5}, 100) == [["A"]] and plan_shards({"A": 5, "B": 7}, 1) == [
        ["B"],
        ["A"],
    ]
