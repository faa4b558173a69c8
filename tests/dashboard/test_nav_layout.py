"""The navigation fits desk screens: every page link visible at 1280 and 1400 px (headless Chromium).

At 1400 px the links used to run under the badge, the last ones (Status) only reachable by
scrolling the link bar sideways.  Each link must now lie inside the viewport and the header, be
the element actually drawn at its centre (not covered by the badge or the brand), and overlap no
other link; at a narrower width they wrap to a second row instead of hiding.
"""

from __future__ import annotations

import pytest

from dashboard.app import create_app
from jobs.runner import run_job
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config

_GEOMETRY = """
const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
const box = e => { const r = e.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
const header = box(document.querySelector('.fd-header'));
const others = ['.fd-brand-block', '.fd-header-right'].map(s => box(document.querySelector(s)));
const links = Array.from(document.querySelectorAll('.fd-nav-link')).map(e => {
  const b = box(e);
  const hit = document.elementFromPoint((b.left + b.right) / 2, (b.top + b.bottom) / 2);
  return {text: e.innerText, ...b, drawn: !!hit && (hit === e || e.contains(hit))};
});
return {vw, vh, header, others, links};
"""


def _overlap(a: dict, b: dict) -> bool:
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5
    )


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


@pytest.mark.browser
def test_every_nav_link_is_visible_at_desk_widths(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    settings = use_config(tmp_path, monkeypatch, redis_url)  # sample mode: the label is shown too
    run_job(settings, store, "demo")
    dash_duo.start_server(create_app())
    names = None
    for width, rows in ((1400, 1), (1280, 1), (1000, 2)):
        dash_duo.driver.set_window_size(width, 900)
        dash_duo.wait_for_page(url=f"{dash_duo.server_url}/status")
        dash_duo.wait_for_contains_class("#nav-status", "active")
        dash_duo.wait_for_contains_text("#freshness-badge", "fresh")
        g = dash_duo.driver.execute_script(_GEOMETRY)
        links = g["links"]
        names = names or [k["text"] for k in links]
        assert [k["text"] for k in links] == names and "Status" in names and len(names) >= 10
        for k in links:
            where = f"{k['text']} at {width} px: {k}"
            assert 0 <= k["left"] and k["right"] <= g["vw"], where  # inside the viewport
            assert g["header"]["top"] <= k["top"] and k["bottom"] <= g["header"]["bottom"], where
            assert k["drawn"], where  # nothing covers it
            assert not any(_overlap(k, o) for o in g["others"]), where
        for i, a in enumerate(links):
            assert not any(_overlap(a, b) for b in links[i + 1 :]), (width, a)
        assert len({round(k["top"]) for k in links}) == rows, (width, links)
