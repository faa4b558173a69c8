"""Layout assertion for charts, measured in the real browser: every drawn Plotly graph of a page
is checked for overlapping or clipped text (issue 13: "no overlaps, checked in the browser
tests with a layout assertion").

For each visible ``.js-plotly-plot`` the script reads the bounding boxes Chromium computed for the
figure title, the axis titles, the legend, every annotation, the colour bar, the mode bar and
every tick label, and reports

* ``overlap``: two of title / axis titles / legend / annotations / colour bar / mode bar whose
  boxes intersect, or a tick label intersecting one of them;
* ``clipped``: a box reaching outside the graph's own area (cut by the SVG);
* ``repeat``: an axis showing the same tick label twice (a tick step finer than the format);
* ``si``: a tick label on a numeric axis written with an SI suffix (``$5G``, ``11.3k``): money
  ticks are written in the unit the axis title names (``USD bn``), never Plotly's ``G``/``M``.

* ``corner``: an x-axis tick label intersecting a y-axis tick label (at the plot's corner the
  first date sat against the lowest value until the house layout gave tick labels a standoff).

One pixel of tolerance absorbs anti-aliasing.

:func:`sign_problems` checks the text a reader sees on a page (the page's text and the text drawn
in its charts; the grids are left out: their numbers are written by d3, already with U+2212, and
their text cells are data such as a fund's name, ``-1x Short VIX Futures ETF``): a minus sign is U+2212 (``−0.94%``), never the ASCII hyphen-minus (``-0.94%``), and
money keeps a space before its scale word (``$2.36 bn``, never ``$262.69bn``).
"""

from __future__ import annotations

import re
import time
from typing import Any

ASCII_MINUS = re.compile(r"(?:^|(?<=[\s(:=,]))-(?=\$?\d)", re.MULTILINE)
"""An ASCII hyphen-minus used as a minus sign: at the start of a line or after a space, ``(``,
``:``, ``=`` or ``,``, before a digit or ``$`` (not a date ``2026-11-30``, a range ``1-2``, a
code ``ES_CONS``, nor ``+/-``)."""
MONEY_NO_SPACE = re.compile(r"\$\d[\d,.]*(?:tn|bn|mn|k)\b")
"""Money without the space before its scale word: ``$262.69bn`` (the rule: ``$262.69 bn``)."""
TEXT_JS = r"""
const grids = [...document.querySelectorAll('.ag-root-wrapper')];
const was = grids.map(g => g.style.display);
grids.forEach(g => { g.style.display = 'none'; });
const parts = [document.body.innerText];
grids.forEach((g, i) => { g.style.display = was[i]; });
for (const gd of document.querySelectorAll('.js-plotly-plot')) {
  if (gd.offsetParent === null) continue;
  gd.querySelectorAll('text').forEach(t => { if (t.textContent.trim()) parts.push(t.textContent); });
}
return parts.join('\n');
"""

LAYOUT_JS = r"""
const TOL = 1;
const SI = /^[\u2212\-+$]*\d[\d.,]*\s?[yzafpn\u00b5umkMGTPEZY]$/;
const problems = [];
let graphs = 0;
for (const gd of document.querySelectorAll('.js-plotly-plot')) {
  const host = gd.getBoundingClientRect();
  if (host.width < 2 || host.height < 2 || gd.offsetParent === null) continue;
  graphs += 1;
  const name = (gd.closest('[id]') || gd).id + ' "' + (((gd.layout || {}).title || {}).text || '').slice(0, 40) + '"';
  const labels = [];
  const ticks = {};
  const box = (el) => { const r = el.getBoundingClientRect(); return (r.width > 0 && r.height > 0) ? r : null; };
  const add = (kind, el, text) => { const r = box(el); if (r) labels.push({kind, text: (text ?? el.textContent).trim().slice(0, 50), r}); };
  gd.querySelectorAll('.g-gtitle .gtitle').forEach(e => add('title', e));
  gd.querySelectorAll('.infolayer > g').forEach(g => {
    const c = g.getAttribute('class') || '';
    if (/^g-[xy]\d*title$/.test(c)) add('axis title', g);
  });
  gd.querySelectorAll('.legend').forEach(e => add('legend', e.querySelector('.bg') || e, 'legend'));
  gd.querySelectorAll('.annotation').forEach(e => add('annotation', e));
  gd.querySelectorAll('.colorbar').forEach(e => add('colour bar', e, 'colour bar'));
  gd.querySelectorAll('.modebar').forEach(e => add('mode bar', e, 'mode bar'));
  const full = gd._fullLayout || {};
  gd.querySelectorAll('g').forEach(g => {
    const m = [...g.classList].find(c => /^[xy]\d*tick$/.test(c));
    if (!m) return;
    const t = g.querySelector('text');
    if (!t) return;
    const r = box(t);
    if (!r) return;
    const id = m.slice(0, -4);
    (ticks[id] = ticks[id] || []).push({kind: 'tick ' + id, text: t.textContent.trim(), r});
  });
  const hit = (a, b) => a.left < b.right - TOL && b.left < a.right - TOL && a.top < b.bottom - TOL && b.top < a.bottom - TOL;
  const out = (r) => r.left < host.left - TOL || r.right > host.right + TOL || r.top < host.top - TOL || r.bottom > host.bottom + TOL;
  const say = (kind, msg) => problems.push(kind + ': ' + name + ': ' + msg);
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++)
    if (hit(labels[i].r, labels[j].r)) say('overlap', labels[i].kind + ' "' + labels[i].text + '" x ' + labels[j].kind + ' "' + labels[j].text + '"');
  for (const [id, list] of Object.entries(ticks)) {
    const axis = full[(id[0] + 'axis' + id.slice(1))] || {};
    const seen = new Set();
    for (const t of list) {
      for (const l of labels) if (hit(t.r, l.r)) say('overlap', t.kind + ' "' + t.text + '" x ' + l.kind + ' "' + l.text + '"');
      if (out(t.r)) say('clipped', t.kind + ' "' + t.text + '"');
      if (t.text && seen.has(t.text)) say('repeat', t.kind + ' "' + t.text + '"');
      seen.add(t.text);
      if (axis.type !== 'category' && axis.type !== 'multicategory' && SI.test(t.text)) say('si', t.kind + ' "' + t.text + '"');
    }
  }
  const xs = Object.entries(ticks).filter(([id]) => id[0] === 'x').flatMap(([, l]) => l);
  const ys = Object.entries(ticks).filter(([id]) => id[0] === 'y').flatMap(([, l]) => l);
  for (const a of xs) for (const b of ys)
    if (hit(a.r, b.r)) say('corner', a.kind + ' "' + a.text + '" x ' + b.kind + ' "' + b.text + '"');
  for (const l of labels) if (out(l.r)) say('clipped', l.kind + ' "' + l.text + '"');
}
return {graphs, problems};
"""


def layout_problems(driver) -> tuple[int, list[str]]:
    """(graphs measured, problems) of every visible Plotly graph on the current page."""
    res = driver.execute_script(LAYOUT_JS)
    return int(res["graphs"]), list(res["problems"])


def wait_for_graphs(driver, *, timeout: float = 60.0, settle: float = 1.0) -> int:
    """Wait until every visible graph of the page has drawn a figure (no ``Loading…``
    placeholder, no Dash loading spinner) and the layout stopped moving; the number of graphs."""
    js = """
    const gs = [...document.querySelectorAll('.js-plotly-plot')].filter(g => g.offsetParent !== null);
    const loading = document.querySelector('.dash-spinner, ._dash-loading, [data-dash-is-loading="true"]');
    const pending = gs.filter(g => !g._fullLayout || !g.querySelector('.main-svg') ||
        [...g.querySelectorAll('.annotation')].some(a => a.textContent.startsWith('Loading')));
    return [gs.length, pending.length, !!loading, gs.map(g => g.getBoundingClientRect().height).join(',')];
    """
    deadline = time.time() + timeout
    last: Any = None
    stable_since = time.time()
    while time.time() < deadline:
        n, pending, loading, sizes = driver.execute_script(js)
        state = (n, sizes)
        if state != last:
            last, stable_since = state, time.time()
        if n and not pending and not loading and time.time() - stable_since >= settle:
            return int(n)
        time.sleep(0.2)
    raise AssertionError(f"graphs still drawing after {timeout} s: {last}")


def sign_problems(driver) -> list[str]:
    """Every place of the page's visible text (its HTML and its charts' SVG text) where a minus
    is written as an ASCII hyphen-minus or money lacks the space before its scale word, each
    with a little context (``'ascii minus: ...-0.94% from...'``)."""
    text = str(driver.execute_script(TEXT_JS))
    found = []
    for kind, pattern in (("ascii minus", ASCII_MINUS), ("no space", MONEY_NO_SPACE)):
        for m in pattern.finditer(text):
            found.append(f"{kind}: {text[max(m.start() - 25, 0) : m.end() + 15]!r}")
    return found
