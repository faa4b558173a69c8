"""dashboard.render_cache: one drawing per key, even with concurrent users; figures as dicts."""

from __future__ import annotations

import threading
import time

import plotly.graph_objects as go

from dashboard.render_cache import RenderCache, freeze, plain


def test_one_draw_per_key_under_concurrency():
    cache = RenderCache(max_entries=4)
    calls = []

    def draw():
        calls.append(1)
        time.sleep(0.05)
        return (go.Figure(go.Bar(x=[1], y=[2])), "text")

    out = []
    threads = [
        threading.Thread(target=lambda: out.append(cache.get(("k", 1), draw))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.misses == 1 and cache.hits == 7
    fig, text = out[0]
    assert isinstance(fig, dict) and fig["data"][0]["type"] == "bar" and text == "text"
    assert all(o is out[0] for o in out)


def test_bounded_and_keys():
    cache = RenderCache(max_entries=2)
    for k in range(5):
        cache.get(k, lambda k=k: k)
    assert cache.get(0, lambda: "redrawn") == "redrawn" and cache.get(4, lambda: "x") == 4
    assert freeze(["SPX", ["a"]]) == ("SPX", ("a",)) and plain([1]) == [1]


def test_warmers_run_once_per_new_set_of_versions(monkeypatch):
    from dashboard import render_cache

    seen = []
    done = threading.Event()

    def fn(versions):
        seen.append(versions)
        done.set()

    monkeypatch.setattr(render_cache, "WARMERS", [fn])
    monkeypatch.setattr(render_cache, "_seen", None)
    assert render_cache.warm_if_new({"a": "1"}) is True
    assert done.wait(5)
    assert render_cache.warm_if_new({"a": "1"}) is False  # seen: nothing drawn again
    done.clear()
    assert render_cache.warm_if_new({"a": "2"}) is True and done.wait(5)
    assert seen == [{"a": "1"}, {"a": "2"}]
