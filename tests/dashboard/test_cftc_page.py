"""The CFTC positioning page in headless Chromium, on a result computed from the real COT files."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from dashboard.app import create_app
from flows.sources import cftc_files, ecb
from jobs.config import Settings
from jobs.tasks.cftc import compute, publish
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config
from tests.realdata import FULL, TRIMMED, full, root, trimmed

CFTC_JOB = """
[jobs.cftc_weekly]
task = "cftc"
cron = "45 15 * * mon,fri"
trading_days_only = false
retries = 0
retry_delay_seconds = 0
stale_after_minutes = 100000000
"""


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


REAL = {
    TRIMMED: {
        "legacy": "cftc/deacot2025_currencies_2025-01-07_to_2025-03-11.zip",
        "tff": [
            "cftc/fut_fin_txt_2024_currencies_2024-01-02_to_2024-12-31.zip",
            "cftc/fut_fin_txt_2025_currencies_2025-01-07_to_2025-04-29.zip",
        ],
        "fx": "cftc/eurofxref-hist_2023-12-15_to_2025-05-09.zip",
        "last_tff_week": "2025-04-29",
        "peak_half_window_weeks": 8,
    },
    FULL: {
        "legacy": "cftc/legacy_futures_only/annual_2025_through_2025-03-11.txt",
        "tff": [
            f"cftc/tff_futures_only/{n}"
            for n in (
                "FinFutYY_2017.txt",
                "FinFutYY_2018.txt",
                "FinFutYY_2019.txt",
                "FinFutYY_2020_through_2020-11-24.txt",
                "FinFutYY_2021.txt",
                "FinFutYY_2024.txt",
                "FinFutYY_2025_through_2025-04-29.txt",
                "FinFutYY_2026_through_2026-08-04.txt",
            )
        ],
        "fx": "cftc/fx/eurofxref-hist.csv",
        "last_tff_week": "2026-04-14",
        "peak_half_window_weeks": 26,
    },
}
"""The real COT files and ECB history: trimmed copies (tests/data/cftc: 70 TFF weeks of 2024-2025
with an ECB rate: 1-year z-scores, previous peaks as extremes of +/- 8 reports instead of the
default 26) and the full files (extended)."""


def _text(path: Path) -> str:
    """A real file's text; a zip (CFTC yearly file, ECB history) read as its single member."""
    return (
        cftc_files.read_zip(path.read_bytes(), path.name)
        if path.suffix == ".zip"
        else path.read_text()
    )


def _publish_real(store, where: str, folder: Path) -> None:
    """cftc.net_usd from the real legacy 2025 file, real TFF files and the ECB history."""
    files = REAL[where]
    legacy_path = folder / files["legacy"]
    legacy = cftc_files.parse_legacy(_text(legacy_path), str(legacy_path))
    tff = pd.concat(
        [cftc_files.parse_tff(_text(folder / p), str(folder / p)) for p in files["tff"]],
        ignore_index=True,
    )
    fx_path = folder / files["fx"]
    fx = ecb.parse_hist_csv(_text(fx_path), str(fx_path), currencies=None)
    settings = Settings(cftc={"peak_half_window_weeks": files["peak_half_window_weeks"]})
    res = compute(legacy, tff, fx, settings)
    publish(store, res, settings, source="cftc-files (real) + ecb", sample=False)


def _console_errors(dash_duo) -> list:
    return [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]


@pytest.mark.browser
@pytest.mark.parametrize("where", [trimmed(id=TRIMMED), full(id=FULL)])
def test_cftc_page_renders_and_toggles(
    dash_duo, tmp_path, monkeypatch, redis_url, store, where: str, request: pytest.FixtureRequest
):
    use_config(tmp_path, monkeypatch, redis_url, jobs=CFTC_JOB)
    _publish_real(store, where, root(request, where))
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/cftc")

    # Legacy view: the 2025-03-11 report (latest complete legacy week) and its Friday release.
    dash_duo.wait_for_contains_text("#cftc-dates", "2025-03-11", timeout=20)
    assert "released Fri 2025-03-14 15:30" in dash_duo.find_element("#cftc-dates").text
    dash_duo.wait_for_contains_text("#cftc-card-wide9", "$")
    assert dash_duo.find_element("#cftc-card-wide9").text.count("+$4.3 bn") == 1
    assert "as of" in dash_duo.find_element("#cftc-provenance").text
    for gid in ("cftc-history", "cftc-currencies", "cftc-stats", "cftc-change", "cftc-unwind"):
        dash_duo.wait_for_element(f"#{gid} .main-svg", timeout=20)
    history_text = dash_duo.find_element("#cftc-history").text
    assert "Net USD position (USD bn, + = long USD)" in history_text
    assert "Net USD position, Legacy non-commercials" in history_text
    dash_duo.wait_for_contains_text("#cftc-table", "2025-01-14")

    # Toggle to TFF leveraged funds: the history (back to 2017 in the full files), z-scores, peaks marked.
    dash_duo.find_element("#cftc-trader input[value='lev_money']").click()
    dash_duo.wait_for_contains_text("#cftc-history", "TFF leveraged funds", timeout=20)
    dash_duo.wait_for_contains_text("#cftc-dates", "TFF leveraged funds")
    assert (
        REAL[where]["last_tff_week"] in dash_duo.find_element("#cftc-dates").text
    )  # last TFF week with an ECB rate
    dash_duo.wait_for_contains_text("#cftc-history", "previous peaks")
    dash_duo.wait_for_contains_text("#cftc-stats", "z-score (standard deviations)")
    dash_duo.wait_for_contains_text("#cftc-table", "Leveraged funds' net USD, wide9 (USD)")
    assert _console_errors(dash_duo) == []


FUTURES_JOBS = {
    "p": {"task": "prices", "cron": "15 17 * * mon-fri", "retries": 0},
    "f": {
        "task": "futures_positioning",
        "cron": "50 15 * * fri",
        "retries": 0,
        "trading_days_only": False,
    },
}


@pytest.mark.browser
def test_every_tab_of_the_cftc_page_draws_without_console_warnings(
    dash_duo, tmp_path, monkeypatch, redis_url, store, test_data
):
    """Every trader class of the FX view and every futures group, switched in turn: no console
    warning or error at all (AG Grid warned #29 when it sized the grids of the hidden block),
    and only the chosen block is mounted, so nothing is sized while invisible.  The trader class
    picked is kept when the FX block comes back."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from jobs.config import parse_settings
    from jobs.runner import run_job
    from tests.dashboard.console import capture_console, console_messages

    use_config(tmp_path, monkeypatch, redis_url, jobs=CFTC_JOB)
    _publish_real(store, TRIMMED, test_data)
    sample = parse_settings(
        {
            "service": {"source_mode": "sample"},
            "prices": {"symbols": ["SPX"], "sample_sessions": 300},
            "futures_positioning": {"sample_years": 2},
            "jobs": FUTURES_JOBS,
        },
        env={},
    )
    now = datetime(2026, 11, 20, 17, 30, tzinfo=ZoneInfo("America/New_York"))
    for job in ("p", "f"):
        assert run_job(sample, store, job, now=now).status == "ok"

    dash_duo.start_server(create_app())
    capture_console(dash_duo.driver)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/cftc")
    dash_duo.wait_for_contains_text("#cftc-dates", "Legacy non-commercials", timeout=20)
    dash_duo.wait_for_contains_text("#cftc-crowding", "GBP", timeout=20)
    assert not dash_duo.find_elements("#cftc-fp-panel")  # the futures block is not mounted
    # the unwind chart's caption: the task's sentence of the shown series and scenario
    meta = store.meta("cftc.net_usd")
    reading = meta.extra["unwind_readings"]["net_usd_wide9"][meta.extra["unwind_to"]]
    dash_duo.wait_for_contains_text("#cftc-unwind-note", reading, timeout=10)
    uw = store.read("cftc.net_usd").table("unwind")
    shown = uw[(uw["series"] == "net_usd_wide9") & (uw["scenario"] == meta.extra["unwind_to"])]
    falls = shown["current_net_usd"].iloc[0] > shown["target_net_usd"].iloc[0]
    assert reading.startswith(f"Net USD {'falls' if falls else 'rises'} from")
    assert ("none is a beneficiary" in reading) == (not shown["benefits"].any())
    for trader, label in (
        ("lev_money", "TFF leveraged funds"),
        ("asset_mgr", "TFF asset managers"),
        ("lev_money", "TFF leveraged funds"),
    ):
        dash_duo.find_element(f"#cftc-trader input[value='{trader}']").click()
        dash_duo.wait_for_contains_text("#cftc-dates", label, timeout=20)
    for group, text in (("equity_index", "contracts"), ("vix", "contracts"), ("rates", "DV01")):
        dash_duo.find_element(f"#cftc-market input[value='{group}']").click()
        dash_duo.wait_for_contains_text("#cftc-fp-cards", text, timeout=30)
        dash_duo.wait_for_element("#cftc-fp-latest .ag-row", timeout=20)
        assert not dash_duo.find_elements("#cftc-history")  # the FX block is not mounted
    dash_duo.find_element("#cftc-market input[value='fx']").click()
    dash_duo.wait_for_contains_text("#cftc-dates", "TFF leveraged funds", timeout=20)
    assert dash_duo.find_element("#cftc-trader input:checked").get_attribute("value") == "lev_money"
    dash_duo.wait_for_element("#cftc-crowding .ag-row", timeout=20)
    time.sleep(1.5)  # AG Grid retries a zero-width grid for 0.6 s before warning
    assert console_messages(dash_duo.driver) == []
    assert _console_errors(dash_duo) == []


@pytest.mark.browser
def test_cftc_page_without_result_says_so(dash_duo, tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url, jobs=CFTC_JOB)
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/cftc")
    dash_duo.wait_for_contains_text(
        "#cftc-provenance", "No published result 'cftc.net_usd'", timeout=20
    )
    assert _console_errors(dash_duo) == []


def _title_scale(title: str) -> float:
    """The size of the money scale an axis title names (``USD bn`` -> 1e9, plain ``USD`` -> 1)."""
    import re

    from flows import money

    words = {("thousands" if k == "k" else k): v for k, v in money.SCALES}
    found = re.search(r"USD (tn|bn|mn|thousands)\b", title)
    return words[found.group(1)] if found else 1.0


@pytest.mark.parametrize("where", [trimmed(id=TRIMMED), full(id=FULL)])
def test_figures_state_units_and_basket_stack(store, where: str, request: pytest.FixtureRequest):
    """Pure figure builders on the published real result: unit in every axis title; the
    currency stack only holds the basket (so it sums to the basket's net USD)."""
    from dashboard.figures import cftc as cfig

    _publish_real(store, where, root(request, where))
    result = store.read("cftc.net_usd")
    weekly = result.table("weekly")
    tff = weekly[weekly["net_usd_levfunds_wide9"].notna()]
    series = "net_usd_levfunds_wide9"
    basket = result.meta.extra["baskets"]["wide9"]
    figs = [
        cfig.net_usd_history(tff, result.table("peaks"), series, title="t"),
        cfig.currency_bars(
            result.table("currencies"), "levfunds_contribution_usd", basket=basket, title="t"
        ),
        cfig.stats_panel(tff, series, title="t"),
        cfig.change_decomposition(tff, series, title="t"),
        cfig.unwind_bars(result.table("unwind"), series, title="t"),
    ]
    for fig in figs:
        titles = [
            fig.layout[k].title.text
            for k in fig.layout
            if k.startswith(("xaxis", "yaxis")) and fig.layout[k].title.text
        ]
        assert titles, "figure without axis titles"
        assert any("USD" in t or "standard deviations" in t for t in titles), titles
    bars = figs[1]
    assert {t.name for t in bars.data} == set(basket)
    # The stack of the last week equals the published net USD of that week, in the scale the
    # axis title names (ticks are plain numbers: "USD bn", never Plotly's "G").
    size = _title_scale(bars.layout.yaxis.title.text)
    last_day = max(bars.data[0].x)
    stack = sum(float(y) for t in bars.data for x, y in zip(t.x, t.y, strict=True) if x == last_day)
    published = tff.set_index("as_of").loc[pd.Timestamp(last_day), series]
    assert stack * size == pytest.approx(published, rel=1e-9)
    peaks = [t for t in figs[0].data if t.name == "previous peaks"]
    assert peaks and len(peaks[0].x) >= 1


@pytest.mark.browser
def test_cftc_page_shows_behind_schedule_and_input_quality(
    dash_duo, tmp_path, monkeypatch, redis_url, store
):
    """A result published two weeks behind the CFTC calendar (trimmed real files, checked on Fri
    2025-03-28): the page says so above the figures, and the input quality (one BRL row skipped
    for a '-' cell) is on the provenance line with its warning."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flows.sources import cftc_files as files
    from jobs.tasks.cftc import schedule_status
    from tests import cftc_replay

    text = cftc_replay.member_text(cftc_replay.LEGACY_ZIP)
    nl = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(nl)
    i = next(k for k, ln in enumerate(lines) if ",2025-02-11,102741," in ln)
    fields = lines[i].split(",")
    fields[8] = "       -"  # BRL non-commercial long of 2025-02-11 unreadable
    lines[i] = ",".join(fields)
    legacy, quality = files.parse_report(
        nl.join(lines), "legacy", "annual.txt", list(files.CURRENCY_CODES)
    )
    assert quality.skipped_rows == 1
    fx = ecb.parse_hist_csv(cftc_replay.ECB_CSV.read_text(), "eurofxref-hist.csv")
    res = compute(legacy, None, fx, Settings())
    schedule = schedule_status(
        pd.Timestamp("2025-03-11"),
        datetime(2025, 3, 28, 16, 0, tzinfo=ZoneInfo("America/New_York")),
    )
    publish(
        store,
        res,
        Settings(),
        source="cftc-files (real) + ecb",
        sample=False,
        quality=quality,
        schedule=schedule,
    )

    use_config(tmp_path, monkeypatch, redis_url, jobs=CFTC_JOB)
    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/cftc")
    dash_duo.wait_for_contains_text("#cftc-schedule", "BEHIND SCHEDULE: 2 WEEKS", timeout=20)
    banner = dash_duo.find_element("#cftc-schedule").text
    assert "latest report 2025-03-11 is 2 weeks older than the 2025-03-25 report" in banner
    provenance = dash_duo.find_element("#cftc-provenance").text
    assert "input: 110 rows, 1 skipped" in provenance and "1 WARNING" in provenance
    assert "line 96 (102741 (BRL) 2025-02-11)" in provenance
    # the figures are still drawn: being behind is a warning, not a missing result
    dash_duo.wait_for_contains_text("#cftc-dates", "2025-03-11")
    dash_duo.wait_for_element("#cftc-history .main-svg", timeout=20)
    assert _console_errors(dash_duo) == []
