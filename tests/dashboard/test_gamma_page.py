"""The Dealer gamma page in headless Chromium, on results published by the real gamma task
(sample mode) and on one computed from the real SPX quote table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from dashboard import display
from dashboard.app import create_app
from jobs.config import parse_settings
from jobs.runner import run_job
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config
from tests.realdata import full, root, trimmed

NY = ZoneInfo("America/New_York")
CONTRACT_PAGE = (
    50  # dashboard.pages.gamma.CONTRACT_PAGE (a page module is imported only by the app)
)
GAMMA_JOB = """
[jobs.gamma_intraday]
task = "gamma"
cron = "*/15 9-16 * * 1-5"
retries = 0
retry_delay_seconds = 0
stale_after_minutes = 100000000
"""
GRAPHS = (
    "gamma-by-strike",
    "gamma-profile",
    "gamma-by-expiry",
    "gamma-heatmap",
    "gamma-hedge-flow",
    "gamma-history",
)


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


def _console_errors(dash_duo) -> list:
    return [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]


def _publish(
    store, underlyings: list[str], drop_dir: Path | None = None, mode: str = "sample"
) -> None:
    settings = parse_settings(
        {
            "service": {
                "source_mode": mode,
                "drop_dir": str(drop_dir or "var/drop"),
                "http_retries": 0,
                "http_timeout_seconds": 1,
                "http_min_interval_seconds": 0,
            },
            "jobs": {
                "g": {
                    "task": "gamma",
                    "cron": "0 8 * * 1-5",
                    "retries": 0,
                    "args": {"underlyings": underlyings},
                }
            },
            "gamma": {"profile_points": 201, "cboe_base_url": "http://127.0.0.1:9/none"},
        },
        env={},
    )
    for minute in (0, 15):  # two refreshes: the history chart has two points
        run_job(settings, store, "g", now=datetime(2026, 11, 18, 10, minute, tzinfo=NY))


@pytest.mark.browser
def test_gamma_page_renders_and_the_picker_switches(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    use_config(tmp_path, monkeypatch, redis_url, jobs=GAMMA_JOB)
    _publish(store, ["SPX", "SPY"])
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/gamma")

    for gid in GRAPHS:
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#gamma-by-strike", "SPX dealer GEX by strike", timeout=30)
    strike_text = dash_duo.find_element("#gamma-by-strike").text
    assert (
        "Dealer gamma (USD bn per 1% move)" in strike_text
        and "Strike (index points / USD per share)" in strike_text
    )
    assert "Dealer convention: dealers long calls, short puts" in strike_text
    assert "SPX gamma profile vs spot" in dash_duo.find_element("#gamma-profile").text
    assert "Spot (index points / USD per share)" in dash_duo.find_element("#gamma-profile").text
    assert "net GEX by expiry" in dash_duo.find_element("#gamma-by-expiry").text
    assert "by strike and expiry" in dash_duo.find_element("#gamma-heatmap").text
    hedge = dash_duo.find_element("#gamma-hedge-flow").text
    assert (
        "dealer hedge flow by spot move" in hedge
        and "Dealer trade (USD bn, + = buy)" in hedge
        and "Spot move (%)" in hedge
    )
    assert "daily closes and today" in dash_duo.find_element("#gamma-history").text
    ticks = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#gamma-history .xtick text')].map(e => e.textContent)"
    )
    assert ticks and len(ticks) == len(set(ticks)), ticks  # no repeated tick labels
    provenance = dash_duo.find_element("#gamma-provenance").text
    assert (
        "SAMPLE" in provenance
        and "source: SAMPLE CBOE delayed quotes SPX (seed " in provenance
        and "as of 2026-11-18 10:15" in provenance
    )
    cards = dash_duo.find_element("#gamma-cards").text.lower()  # card titles are upper-cased by CSS
    for title in (
        "Net GEX (USD per 1% move)",
        "Regime",
        "Gamma flip",
        "Call wall / put wall",
        "0DTE share",
    ):
        assert title.lower() in cards
    assert "gamma" in dash_duo.find_element("#gamma-card-regime").text.lower()
    # the key number equals the API's, written by its declared unit
    api = requests.get(
        f"{dash_duo.server_url}/api/v1/results/gamma.SPX", params={"limit": 1}, timeout=10
    ).json()
    net = api["meta"]["headline"]["net_gex_usd_per_1pct"]
    assert (
        display.value(net, api["meta"]["headline_units"]["net_gex_usd_per_1pct"])
        in dash_duo.find_element("#gamma-card-net").text
    )
    dash_duo.wait_for_contains_text("#gamma-sensitivity", "short every option", timeout=20)
    # contracts: AG Grid's infinite row model, one block of CONTRACT_PAGE rows from the server, largest |GEX| first
    dash_duo.wait_for_element("#gamma-contracts .ag-row .ag-cell[col-id='symbol']", timeout=20)
    headers = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#gamma-contracts .ag-header-cell-text')].map(e => e.textContent)"
    )
    assert "GEX (USD per 1% move)" in headers and "Implied volatility (% per year)" in headers
    contracts = store.read("gamma.SPX", tables=["contracts"]).table("contracts")
    rows = dash_duo.driver.execute_script(
        "const api = dash_ag_grid.getApi('gamma-contracts'); const out = []; api.forEachNode(n => { if (n.data) out.push(n.data); }); return out;"
    )
    assert 0 < len(rows) <= 2 * CONTRACT_PAGE < len(contracts)  # never the whole chain
    gcol = (
        "net_gex_usd_per_1pct"
        if "net_gex_usd_per_1pct" in contracts.columns
        else "gex_usd_per_1pct"
    )
    assert rows[0][gcol] == pytest.approx(
        float(contracts[gcol].abs().max()) * (1 if rows[0][gcol] > 0 else -1)
    )

    # the picker switches to SPY
    dash_duo.find_element("#gamma-underlying").click()
    option = dash_duo.wait_for_element_by_css_selector("[role='option']", timeout=10)
    options = dash_duo.driver.find_elements("css selector", "[role='option']")
    spy = next(o for o in options if o.text.strip() == "SPY")
    assert option is not None
    spy.click()
    dash_duo.wait_for_contains_text("#gamma-by-strike", "SPY dealer GEX by strike", timeout=30)
    dash_duo.wait_for_contains_text("#gamma-profile", "SPY gamma profile vs spot", timeout=30)
    assert _console_errors(dash_duo) == []


@pytest.mark.browser
@pytest.mark.parametrize(
    ("where", "name"),
    [
        trimmed("options/spx_quotedata_2023-09-14_trimmed.csv", id="trimmed"),
        full("options/spx_quotedata_2023-09-14.csv", id="full"),
    ],
)
def test_gamma_page_on_the_real_spx_file(
    dash_duo,
    tmp_path,
    monkeypatch,
    redis_url,
    store,
    where: str,
    name: str,
    request: pytest.FixtureRequest,
):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "spx_quotedata.csv").symlink_to(root(request, where) / name)
    use_config(tmp_path, monkeypatch, redis_url, jobs=GAMMA_JOB)
    _publish(store, ["SPX"], drop_dir=drop, mode="live")
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/gamma?underlying=SPX")
    dash_duo.wait_for_contains_text("#gamma-provenance", "cboe-csv:spx_quotedata.csv", timeout=30)
    assert "SAMPLE" not in dash_duo.find_element("#gamma-provenance").text
    assert "as of 2023-09-14 16:31" in dash_duo.find_element("#gamma-provenance").text
    for gid in GRAPHS:
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#gamma-by-strike", "SPX dealer GEX by strike", timeout=30)
    dash_duo.wait_for_contains_text("#gamma-note", "expired dropped")
    assert _console_errors(dash_duo) == []


@pytest.mark.browser
def test_gamma_page_shows_modelled_gamma_warnings_and_vix_forwards(
    dash_duo, tmp_path, monkeypatch, redis_url, store, http_server, test_data
):
    """The handed cases through the live task: the page says gamma was modelled (with the
    quality warning next to the provenance) and on which future the VIX options were valued."""
    from tests.httpserver import Reply

    http_server.route(
        "/o/SPY.json",
        Reply(200, (test_data / "cases/gamma-missing-source-gamma/chain.json").read_bytes()),
    )
    http_server.route(
        "/o/_VIX.json",
        Reply(200, (test_data / "cases/vix-options-settlement/chain.json").read_bytes()),
    )
    use_config(tmp_path, monkeypatch, redis_url, jobs=GAMMA_JOB)
    settings = parse_settings(
        {
            "service": {
                "source_mode": "live",
                "drop_dir": str(tmp_path),
                "http_retries": 0,
                "http_timeout_seconds": 5,
                "http_min_interval_seconds": 0,
            },
            "jobs": {
                "g": {
                    "task": "gamma",
                    "cron": "0 8 * * 1-5",
                    "retries": 0,
                    "args": {"underlyings": ["SPY", "VIX"]},
                }
            },
            "gamma": {"profile_points": 201, "cboe_base_url": f"{http_server.url}/o"},
        },
        env={},
    )
    record = run_job(settings, store, "g", now=datetime(2026, 7, 10, 14, 5, tzinfo=NY))
    assert record.status == "ok", record.error
    assert round(store.meta("gamma.SPY").headline["net_gex_usd_per_1pct"]) == -86_003_172
    assert round(store.meta("gamma.VIX").headline["net_gex_usd_per_1pct"]) == 5_300_924
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/gamma?underlying=SPY")
    dash_duo.wait_for_contains_text(
        "#gamma-note", "gamma modelled for 22 contracts (100.0% of |GEX|)", timeout=30
    )
    dash_duo.wait_for_contains_text("#gamma-provenance", "WARNING", timeout=30)
    assert (
        "gamma missing in the source for 22 of 22 contracts"
        in dash_duo.find_element("#gamma-provenance").text
    )
    dash_duo.wait_for_contains_text("#gamma-card-net", "$86.00 mn", timeout=30)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/gamma?underlying=VIX")
    dash_duo.wait_for_contains_text("#gamma-note", "2025-12-17 valued on its future 19", timeout=30)
    assert "18 expired dropped" in dash_duo.find_element("#gamma-note").text
    assert _console_errors(dash_duo) == []


@pytest.mark.browser
def test_gamma_page_without_results_says_so(dash_duo, tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url, jobs=GAMMA_JOB)
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/gamma")
    dash_duo.wait_for_contains_text("#gamma-provenance", "No published result", timeout=20)
    dash_duo.wait_for_contains_text("#gamma-by-strike", "Pick an underlying", timeout=20)
    assert _console_errors(dash_duo) == []


# -- figure builders (pure: no browser) ---------------------------------------------------------


def test_figures_carry_units_convention_and_markers() -> None:
    import numpy as np
    import pandas as pd

    from dashboard.figures import gamma as gfig
    from dashboard.figures.common import BUY, SELL

    by_strike = pd.DataFrame(
        {
            "strike": [90.0, 100.0, 110.0],
            "call_gex_usd_per_1pct": [1e6, 5e6, 9e6],
            "put_gex_usd_per_1pct": [-8e6, -4e6, -1e6],
        }
    )
    by_strike["net_gex_usd_per_1pct"] = (
        by_strike["call_gex_usd_per_1pct"] + by_strike["put_gex_usd_per_1pct"]
    )
    fig = gfig.gex_by_strike(
        by_strike,
        spot=100.0,
        flip=97.5,
        call_wall=110.0,
        put_wall=90.0,
        window=0.1,
        convention="short_all",
        underlying="XYZ",
    )
    assert fig.layout.title.text == "XYZ dealer GEX by strike"
    # Money in the scale the axis title names: USD 1e6..9e6 drawn as 1..9 "USD mn", plain ticks.
    assert fig.layout.yaxis.title.text == "Dealer gamma (USD mn per 1% move)"
    assert list(fig.data[0].y) == [1.0, 5.0, 9.0] and list(fig.data[2].y) == [-7.0, 1.0, 8.0]
    assert fig.layout.yaxis.exponentformat == "none" and not fig.layout.yaxis.tickformat
    assert "index points / USD per share" in fig.layout.xaxis.title.text
    assert [s.x0 for s in fig.layout.shapes] == [
        100.0,
        97.5,
        110.0,
        90.0,
    ]  # spot, flip, call wall, put wall
    assert tuple(fig.layout.xaxis.range) == pytest.approx((90.0, 110.0))
    # The convention note is written under the x-axis title (never over it)
    assert "dealers short every option" in fig.layout.xaxis.title.text
    assert [t.name for t in fig.data] == ["calls", "puts", "net"]

    spots = np.linspace(80, 120, 41)
    profile = pd.DataFrame(
        {"spot": spots, "net_gex_usd_per_1pct": (spots - 95) * (spots - 105) * 1e6}
    )
    fig = gfig.gamma_profile(profile, spot=100.0, flips=[95.0, 105.0], underlying="XYZ")
    flips_drawn = sorted(
        s.x0 for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1 and s.x0 != 100.0
    )
    assert flips_drawn == [95.0, 105.0]
    assert any(s.y0 == 0 and s.y1 == 0 for s in fig.layout.shapes)  # the zero line
    assert "dealers long calls, short puts" in fig.layout.xaxis.title.text

    hedge = pd.DataFrame(
        {
            "move_pct": [-1.0, 0.0, 1.0],
            "dealer_trade_usd": [5e6, 0.0, -4e6],
            "vanna_flow_usd": [1e5, 2e5, 3e5],
            "charm_flow_usd": [np.nan] * 3,
        }
    )
    fig = gfig.hedge_flow(hedge, underlying="XYZ", iv_shock_points=5)
    assert list(fig.data[0].marker.color) == [BUY, BUY, SELL]
    assert [t.name for t in fig.data] == [
        "delta hedge",
        "vanna +5 vol",
    ]  # an all-NaN charm series is left out
    assert fig.layout.yaxis.title.text == "Dealer trade (USD mn, + = buy)"
    assert fig.layout.xaxis.title.text.startswith("Spot move (%)<br>")
    assert list(fig.data[0].y) == [5.0, 0.0, -4.0] and list(fig.data[1].y) == [0.1, 0.2, 0.3]

    grid = pd.DataFrame(
        {
            "strike": [90.0, 100.0, 100.0, 150.0],
            "expiry": pd.to_datetime(["2026-11-20", "2026-11-20", "2026-12-18", "2026-12-18"]),
            "net_gex_usd_per_1pct": [1.0, 2.0, 3.0, 99.0],
        }
    )
    fig = gfig.gex_heatmap(grid, spot=100.0, window=0.2)
    assert np.nansum(fig.data[0].z) == 6.0  # the 150 strike is outside the window
    assert list(fig.data[0].x) == ["2026-11-20", "2026-12-18"]

    by_expiry = pd.DataFrame(
        {
            "expiry": pd.to_datetime(["2026-11-18", "2026-11-20"]),
            "net_gex_usd_per_1pct": [-1e6, 2e6],
        }
    )
    fig = gfig.gex_by_expiry(by_expiry, as_of="2026-11-18T15:00:00+00:00")
    assert list(fig.data[0].marker.color) == [gfig.ACCENT, BUY]  # today's expiry highlighted
    assert (
        gfig.ACCENT == "#ff7f0e" and "(0DTE in orange)" in fig.layout.title.text
    )  # the caption's colour is the bar's
    fig = gfig.gex_by_expiry(by_expiry, as_of="2026-11-17T15:00:00+00:00")
    assert (
        gfig.ACCENT not in list(fig.data[0].marker.color) and "orange" not in fig.layout.title.text
    )

    # history: daily closes before the last day, then the last day's intraday versions, in the desk zone
    closes = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-11-16", "2026-11-17", "2026-11-18"]),
            "as_of": pd.to_datetime(
                ["2026-11-16T21:00Z", "2026-11-17T21:00Z", "2026-11-18T15:15Z"]
            ),
            "net_gex_usd_per_1pct": [1e9, 2e9, 3e9],
            "flip": [99.0, 98.0, 97.0],
        }
    )
    intraday = pd.DataFrame(
        {
            "as_of": pd.to_datetime(
                ["2026-11-17T21:00Z", "2026-11-18T15:00Z", "2026-11-18T15:15Z"]
            ),
            "net_gex_usd_per_1pct": [2e9, 2.5e9, 3e9],
            "flip": [98.0, 97.5, 97.0],
        }
    )
    fig = gfig.history(closes, intraday, underlying="XYZ", tz="America/New_York")
    by_name = {t.name: t for t in fig.data}
    assert fig.layout.yaxis.title.text == "Dealer gamma (USD bn per 1% move)"
    assert list(by_name["net GEX, daily close"].y) == [1.0, 2.0]
    assert list(by_name["net GEX, 2026-11-18 intraday"].y) == [2.5, 3.0]
    assert [str(x)[:16].replace("T", " ") for x in by_name["net GEX, 2026-11-18 intraday"].x] == [
        "2026-11-18 10:00",
        "2026-11-18 10:15",
    ]  # 15:00 UTC = 10:00 EST
    assert list(by_name["flip (right axis)"].y) == [99.0, 98.0, 97.5, 97.0]
    assert fig.layout.xaxis.type == "date" and "America/New_York" in fig.layout.xaxis.title.text
    # The right axis has its own round ticks (not synced to the left grid) and a title that fits.
    assert fig.layout.yaxis2.tickmode == "auto" and fig.layout.yaxis2.title.text == gfig.PRICE_AXIS
    # Versions seconds apart, barely moving: the ranges are widened (6 hours; 10 % of the level)
    # so that no tick label repeats or shows milliseconds.
    same_day = intraday.assign(
        as_of=pd.to_datetime(
            ["2026-11-18T15:00:00Z", "2026-11-18T15:00:01Z", "2026-11-18T15:00:02Z"]
        ),
        net_gex_usd_per_1pct=[-5.94997e9, -5.94998e9, -5.94999e9],
    )
    fig = gfig.history(closes.iloc[:0], same_day, underlying="XYZ", tz="America/New_York")
    lo, hi = (pd.Timestamp(t) for t in fig.layout.xaxis.range)
    assert hi - lo == pd.Timedelta(hours=6)
    assert fig.layout.yaxis.range[1] - fig.layout.yaxis.range[0] == pytest.approx(0.1 * 5.94999)
    assert gfig.history(closes.iloc[:0], None).layout.annotations[0].text.startswith("No ")

    for builder, frame in (
        (gfig.gex_by_strike, pd.DataFrame()),
        (gfig.gex_heatmap, pd.DataFrame()),
    ):
        empty_fig = builder(frame, spot=100.0)
        assert empty_fig.layout.annotations[0].text.startswith("No ")
    # the cards write values by their declared unit (flows.formatting; issue 14)
    assert (
        display.value(-1.234e9, "USD per 1% move") == "−$1.23 bn"
        and display.value(None, "USD per 1% move") == "n/a"
    )
