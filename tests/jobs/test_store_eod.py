"""End-of-day closes: the last publish of each exchange day, kept past the version pruning."""

from __future__ import annotations

import pandas as pd
import pytest

from jobs.store import ResultStore, connect


def _pub(store: ResultStore, as_of: str, total: float) -> None:
    frame = pd.DataFrame(
        {
            "item": ["a"],
            "value_usd": [total],
            "computed_at": pd.to_datetime(["2026-11-25T15:00:00Z"]),
        }
    )
    store.publish(
        "demo",
        {"data": frame},
        as_of=pd.Timestamp(as_of),
        source="test",
        headline={"total_usd": total, "rows": 1},
    )


def test_last_publish_of_each_exchange_day_is_its_close(redis_url):
    store = ResultStore(connect(redis_url), history_max_count=2)
    _pub(store, "2026-11-25T15:00:00+00:00", 1.0e9)
    _pub(store, "2026-11-25T20:59:00+00:00", 2.0e9)  # 15:59 New York: the close of the 25th
    _pub(store, "2026-11-26T02:00:00+00:00", 9.0e9)  # 21:00 New York on the 25th: still the 25th
    _pub(store, "2026-11-27T15:00:00+00:00", 3.0e9)
    _pub(store, "2026-11-30T15:00:00+00:00", 4.0e9)
    eod = store.eod_series("demo")
    assert eod["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-11-25",
        "2026-11-27",
        "2026-11-30",
    ]
    assert eod["total_usd"].tolist() == pytest.approx([9.0e9, 3.0e9, 4.0e9])
    assert len(store.history("demo")) == 2  # versions pruned, closes kept
    assert store.eod_series("demo", ["rows"]).columns.tolist() == [
        "date",
        "as_of",
        "version",
        "rows",
    ]
    assert store.eod_series("never.published").empty
