"""The weekly ``cftc`` task on real Redis (sample and live against a local HTTP server) and the CLI."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from click.testing import CliRunner

from jobs.commands.cftc import cftc as cftc_cmd
from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.tasks.cftc import RESULT, expected_report_date
from tests import cftc_replay
from tests.httpserver import Reply

NY = ZoneInfo("America/New_York")
TABLES = ["weekly", "currencies", "stats", "peaks", "crowding", "unwind"]
LEGACY_2025 = "cftc/legacy_futures_only/annual_2025_through_2025-03-11.txt"
TFF_2025 = "cftc/tff_futures_only/FinFutYY_2025_through_2025-04-29.txt"
ECB_HIST = "cftc/fx/eurofxref-hist.csv"


def _settings(mode: str, *, from_year: int = 2019, retries: int = 0, args: dict | None = None):
    job = {
        "task": "cftc",
        "cron": "45 15 * * mon,fri",
        "trading_days_only": False,
        "retries": retries,
        "retry_delay_seconds": 0,
    }
    if args:
        job["args"] = args
    return parse_settings(
        {
            "service": {"source_mode": mode, "http_min_interval_seconds": 0},
            "cftc": {"history_from_year": from_year},
            "jobs": {"cftc_weekly": job},
        },
        env={},
    )


def test_expected_report_date_friday_monday_and_holiday() -> None:
    # Friday 2025-01-17 after 15:30 ET: that week's Tuesday report; before 15:30: last week's.
    assert expected_report_date(datetime(2025, 1, 17, 15, 45, tzinfo=NY)) == pd.Timestamp(
        "2025-01-14"
    )
    assert expected_report_date(datetime(2025, 1, 17, 15, 0, tzinfo=NY)) == pd.Timestamp(
        "2025-01-07"
    )
    # Thanksgiving week 2024: the 2024-11-26 report comes out on Monday 2024-12-02.
    assert expected_report_date(datetime(2024, 11, 29, 15, 45, tzinfo=NY)) == pd.Timestamp(
        "2024-11-19"
    )
    assert expected_report_date(datetime(2024, 12, 2, 15, 45, tzinfo=NY)) == pd.Timestamp(
        "2024-11-26"
    )


def test_sample_mode_publishes_every_table(store) -> None:
    settings = _settings("sample")
    now = datetime(2025, 3, 14, 16, 0, tzinfo=NY)
    record = run_job(settings, store, "cftc_weekly", now=now)
    assert record.status == "ok", record.error
    assert {"cftc.positions", "cftc.fx", RESULT} <= set(record.results)
    result = store.read(RESULT)
    assert result.meta.tables == TABLES
    assert result.meta.sample is True
    # every source says SAMPLE and its seed (the net USD result joins its two inputs' sources)
    seed = settings.service.sample_seed
    cot = f"SAMPLE CFTC COT (seed {seed}, generated in the Historical Compressed layout)"
    fx = f"SAMPLE ECB reference rates (seed {seed}, generated in the eurofxref-hist.csv layout)"
    assert store.meta("cftc.positions").source == cot
    assert store.meta("cftc.fx").source == fx
    assert cot in result.meta.source and "SAMPLE" in result.meta.source.split(" + ")[-1]
    weekly = result.table("weekly")
    assert len(weekly) > 300  # weekly history since 2019
    assert pd.Timestamp(result.meta.as_of).tzinfo is not None
    h = result.meta.headline
    for key in (
        "net_usd_wide9",
        "net_usd_reuters6",
        "net_usd_levfunds_wide9",
        "change_usd",
        "zscore_3y",
        "percentile_3y",
        "as_of",
        "release_time",
    ):
        assert key in h, key
    last = weekly[~weekly["partial"]].iloc[-1]
    assert h["as_of"] == pd.Timestamp(last["as_of"]).date().isoformat()
    assert h["net_usd_wide9"] == pytest.approx(last["net_usd_wide9"])
    assert h["zscore_3y"] is not None and -10 < h["zscore_3y"] < 10
    assert 0 <= h["percentile_3y"] <= 100
    assert pd.Timestamp(h["release_time"]) > pd.Timestamp(last["as_of"]).tz_localize(NY)
    assert pd.Timestamp(h["release_time"]) <= pd.Timestamp(now)
    # Change decomposition sums exactly; every table carries units.
    d = weekly.dropna(subset=["net_usd_wide9_change_usd"])
    assert (
        d["net_usd_wide9_change_usd"]
        == d["net_usd_wide9_change_position_usd"] + d["net_usd_wide9_change_fx_usd"]
    ).all()
    assert set(TABLES) <= set(result.meta.units)
    unwind = result.table("unwind")
    assert set(unwind["series"]) == {
        "net_usd_wide9",
        "net_usd_levfunds_wide9",
        "net_usd_assetmgr_wide9",
    }
    assert set(unwind["scenario"]) == {"median", "zero"}
    median = unwind[(unwind["series"] == "net_usd_wide9") & (unwind["scenario"] == "median")]
    assert h["unwind_target_net_usd"] == pytest.approx(median["target_net_usd"].iloc[0])
    assert h["unwind_beneficiaries"] == ", ".join(
        median[median["benefits"]].sort_values("rank")["ccy"]
    )
    # the sentence of each unwind says which way it trades (the page's and the board's caption)
    readings = result.meta.extra["unwind_readings"]
    assert set(readings) == set(unwind["series"])
    text = readings["net_usd_wide9"]["median"]
    current, target = median["current_net_usd"].iloc[0], median["target_net_usd"].iloc[0]
    assert text.startswith(f"Net USD {'falls' if current > target else 'rises'} from ")
    assert ("so none is a beneficiary (rank 0)" in text) == (not median["benefits"].any())
    # Second run a week later extends the history instead of regenerating it.
    record2 = run_job(settings, store, "cftc_weekly", now=datetime(2025, 3, 21, 16, 0, tzinfo=NY))
    assert record2.status == "ok", record2.error
    assert store.read(RESULT).meta.headline["as_of"] > h["as_of"]


def test_live_late_release_is_a_warning_not_a_failure(store, http_server) -> None:
    """Live mode against a local HTTP server serving the real 2025 files (trimmed copies): the
    2025-03-11 report is published on its Friday; a week later the 2025-03-18 report is not out.
    That run succeeds: the result is republished with the same figures, flagged behind schedule
    by one week (headline, ``extra.warnings``), never marked stale or failed (it used to fail
    "not released yet" and leave the result stale)."""
    srv = http_server
    srv.route("/history/deacot2025.zip", Reply(200, cftc_replay.annual_zip("legacy")))
    # TFF cut at the same week as the legacy file (both reports must have the week)
    srv.route(
        "/history/fut_fin_txt_2025.zip", Reply(200, cftc_replay.annual_zip("tff", "2025-03-11"))
    )
    srv.route("/ecb/eurofxref-hist.zip", Reply(200, cftc_replay.ecb_hist_zip()))
    srv.route("/ecb/eurofxref-daily.xml", Reply(200, cftc_replay.ECB_DAILY_XML.read_bytes()))
    for dataset in ("6dca-aqww", "gpe5-46if"):
        srv.route(
            f"/resource/{dataset}.json",
            Reply(200, b"[]", headers={"Content-Type": "application/json"}),
        )
    endpoints = {
        "cftc_history": f"{srv.url}/history",
        "socrata": f"{srv.url}/resource",
        "ecb": f"{srv.url}/ecb",
    }
    settings = _settings("live", from_year=2025, retries=2, args={"endpoints": endpoints})

    first = run_job(
        settings,
        store,
        "cftc_weekly",
        now=datetime(2025, 3, 14, 16, 0, tzinfo=NY),
        sleep=lambda _s: None,
    )
    assert first.status == "ok", first.error
    good = store.read(RESULT)
    assert (
        good.meta.headline["as_of"] == "2025-03-11"
        and good.meta.headline["behind_schedule_weeks"] == 0
    )
    assert good.meta.sample is False and good.meta.extra["warnings"] == []
    assert good.table("weekly").set_index("as_of").loc[
        "2025-01-14", "net_usd_wide9"
    ] == pytest.approx(35_052_990_271.4, abs=1.0)

    second = run_job(
        settings,
        store,
        "cftc_weekly",
        now=datetime(2025, 3, 21, 16, 0, tzinfo=NY),
        sleep=lambda _s: None,
    )
    assert second.status == "ok" and second.attempts == 1, second.error
    assert "behind schedule" in second.detail and "2025-03-18" in second.detail
    meta = store.meta(RESULT)
    assert meta.status == "ok" and meta.failure is None
    assert meta.headline["as_of"] == "2025-03-11" and meta.headline["behind_schedule_weeks"] == 1
    assert meta.extra["schedule"] == {
        "expected_report": "2025-03-18",
        "latest_report": "2025-03-11",
        "behind_weeks": 1,
        "behind": True,
        "message": meta.extra["warnings"][0],
    }
    assert meta.headline["net_usd_wide9"] == good.meta.headline["net_usd_wide9"]
    assert store.last_run("cftc_weekly").status == "ok"


def _cli_files(tmp_path: Path) -> dict[str, Path]:
    """The trimmed real files (tests/data/cftc) as the command reads them: the yearly zips as
    published, the TFF file unzipped, the ECB history slice."""
    tff = tmp_path / "FinFutYY.txt"
    tff.write_text(cftc_replay.member_text(cftc_replay.TFF_ZIP))
    return {"legacy": cftc_replay.LEGACY_ZIP, "tff": tff, "fx": cftc_replay.ECB_CSV}


def test_cli_json_on_real_files(tmp_path: Path) -> None:
    files = _cli_files(tmp_path)
    out = CliRunner().invoke(
        cftc_cmd,
        [
            "--legacy",
            str(files["legacy"]),
            "--tff",
            str(files["tff"]),
            "--fx",
            str(files["fx"]),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    # the input quality travels with the numbers (clean real files: nothing skipped, no warning)
    assert (
        doc["quality"]["skipped_rows"] == 0
        and doc["quality"]["warnings"] == []
        and doc["quality"]["basis"] == "positions"
    )
    assert doc["quality"]["total_rows"] == 110 + 187 and doc["fx_quality"]["total_rows"] == 120
    by_date = {w["as_of"]: w for w in doc["weeks"]}
    jan14 = by_date["2025-01-14"]
    for key in (
        "as_of",
        "net_usd_reuters6",
        "net_usd_wide9",
        "net_usd_levfunds_wide9",
        "currencies",
    ):
        assert key in jan14
    # README: the 2025-01-14 wide-basket figure is USD 35.05 bn net long USD
    assert (
        jan14["net_usd_wide9"] == pytest.approx(35_052_990_271.4, abs=1.0)
        and jan14["partial_reason"] is None
    )
    eur = next(c for c in jan14["currencies"] if c["ccy"] == "EUR")
    assert eur["net_contracts"] == -60397 and isinstance(eur["net_contracts"], int)
    assert eur["usd"] < 0
    assert {"ccy", "net_contracts", "usd"} <= set(eur)
    # TFF-only weeks after the legacy file ends: partial, no legacy aggregate, and it says why
    apr29 = by_date["2025-04-29"]
    assert (
        apr29["partial"] is True
        and apr29["net_usd_wide9"] is None
        and apr29["net_usd_levfunds_wide9"] is not None
    )
    assert (
        apr29["partial_reason"] == "not in the legacy files (their weeks: 2025-01-07..2025-03-11)"
    )
    human = CliRunner().invoke(
        cftc_cmd,
        ["--legacy", str(files["legacy"]), "--tff", str(files["tff"]), "--fx", str(files["fx"])],
    )
    assert human.exit_code == 0
    assert "quality: 297 rows, none skipped" in human.output
    assert "2025-04-29" in human.output and "PARTIAL (not in the legacy files" in human.output


@pytest.mark.extended
def test_cli_full_real_files_give_the_readme_figure(shared_data: Path) -> None:
    args = [
        "--legacy",
        str(shared_data / LEGACY_2025),
        "--tff",
        str(shared_data / TFF_2025),
        "--fx",
        str(shared_data / ECB_HIST),
        "--json",
    ]
    out = CliRunner().invoke(cftc_cmd, args)
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    jan14 = next(w for w in doc["weeks"] if w["as_of"] == "2025-01-14")
    assert jan14["net_usd_wide9"] == pytest.approx(35_052_990_271.4, abs=1.0)
    assert doc["quality"]["warnings"] == [] and doc["fx_quality"]["total_rows"] == 6983


def test_cli_zip_input_bad_file_and_no_currency_rows_named(test_data: Path, tmp_path: Path) -> None:
    fx_zip = tmp_path / "eurofxref-hist.zip"
    fx_zip.write_bytes(
        cftc_replay.zip_bytes("eurofxref-hist.csv", cftc_replay.ECB_CSV.read_bytes())
    )
    runner = CliRunner()
    ok = runner.invoke(
        cftc_cmd, ["--legacy", str(cftc_replay.LEGACY_ZIP), "--fx", str(fx_zip), "--json"]
    )
    assert ok.exit_code == 0, ok.output
    assert len(json.loads(ok.stdout)["weeks"]) == 10
    bad = tmp_path / "annual.txt"
    bad.write_text('"Market and Exchange Names","Something Else"\n"EURO FX","1"\n')
    res = runner.invoke(cftc_cmd, ["--legacy", str(bad), "--fx", str(cftc_replay.ECB_CSV)])
    assert res.exit_code == 2
    assert str(bad) in res.output and "column missing" in res.output
    # cases/bad-input/cftc_no_currency_rows.txt: a clear error, not a ValueError traceback
    none = test_data / "cftc" / "cftc_no_currency_rows.txt"
    res = runner.invoke(cftc_cmd, ["--legacy", str(none), "--fx", str(cftc_replay.ECB_CSV)])
    assert res.exit_code == 2 and res.exception is None or isinstance(res.exception, SystemExit)
    assert res.output.startswith(
        f"error: {none}: CFTC Contract Market Code: no currency markets in the file"
    )


def _legacy_without(codes: set[str], weeks: set[str] | None = None) -> str:
    """The real legacy slice (tests/data) as text without the rows of ``codes`` (in ``weeks``
    only, as report dates ``YYYY-MM-DD``, when given)."""
    import zipfile

    with zipfile.ZipFile(cftc_replay.LEGACY_ZIP) as z:
        text = z.read(z.namelist()[0]).decode("utf-8")
    lines = text.splitlines(keepends=True)
    # the code is the 4th field and the date the 3rd (names are quoted and hold no comma)
    kept = [lines[0]] + [
        ln
        for ln in lines[1:]
        if not (
            ln.split(",")[3].strip().strip('"') in codes
            and (weeks is None or ln.split(",")[2].strip() in weeks)
        )
    ]
    assert len(kept) < len(lines)
    return "".join(kept)


@pytest.mark.parametrize(
    ("drop", "never"),
    [
        (
            {
                "090741",
                "092741",
                "095741",
                "096742",
                "097741",
                "099741",
                "102741",
                "112741",
                "232741",
            },
            "never reported JPY, EUR, GBP, CHF, CAD, AUD, NZD, MXN, BRL (the report holds",
        ),
        ({"097741"}, "never reported JPY (the report holds EUR"),
    ],
    ids=["only-usd-index-and-zar", "no-jpy"],
)
def test_cli_refuses_reports_without_any_complete_basket(
    tmp_path: Path, drop: set[str], never: str
) -> None:
    """A newcomer's file: the basket currencies removed, the USD index and rand kept.  Every
    week read n/a with exit 0 and the reason "not in the legacy files (their weeks: ...)" for
    weeks that are in them; JPY alone missing gave exit 0 and no week either."""
    path = tmp_path / "annual.txt"
    path.write_text(_legacy_without(drop), encoding="utf-8")
    res = CliRunner().invoke(cftc_cmd, ["--legacy", str(path), "--fx", str(cftc_replay.ECB_CSV)])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith(
        f"error: {path}: CFTC Contract Market Code: no week has a position for every currency "
        "of a basket, so no net USD can be computed: "
    )
    assert never in res.stderr


def test_cli_week_without_the_basket_currencies_says_which(tmp_path: Path) -> None:
    """One week of the file holds only the USD index and rand: it is partial for want of the
    basket currencies' positions, not "not in the legacy files" (its week is in them)."""
    basket = {"090741", "092741", "095741", "096742", "097741", "099741", "102741", "112741"}
    path = tmp_path / "annual.txt"
    path.write_text(_legacy_without(basket | {"232741"}, {"2025-01-14"}), encoding="utf-8")
    res = CliRunner().invoke(
        cftc_cmd, ["--legacy", str(path), "--fx", str(cftc_replay.ECB_CSV), "--json"]
    )
    assert res.exit_code == 0, res.output
    weeks = {w["as_of"]: w for w in json.loads(res.stdout)["weeks"]}
    jan14 = weeks["2025-01-14"]
    assert jan14["partial"] and jan14["net_usd_wide9"] is None
    assert jan14["partial_reason"].startswith("no position for ")
    assert "JPY" in jan14["partial_reason"] and "not in the legacy" not in jan14["partial_reason"]
    assert not weeks["2025-01-21"]["partial"]


def test_cli_backfill_sample_publishes(tmp_path: Path, redis_url: str, store) -> None:
    from jobs.cli import main

    config = tmp_path / "config.toml"
    config.write_text(
        '[service]\nsource_mode = "sample"\n[cftc]\nhistory_from_year = 2020\n', encoding="utf-8"
    )
    runner = CliRunner()
    out = runner.invoke(
        main,
        ["--config", str(config), "cftc-backfill", "--from", "2022"],
        env={"REDIS_URL": redis_url, "FLOWDESK_SOURCE_MODE": "sample"},
    )
    assert out.exit_code == 0, out.output
    assert "cftc.net_usd published" in out.output
    result = store.read(RESULT)
    assert result.meta.sample is True
    assert pd.Timestamp(result.table("weekly")["as_of"].min()).year == 2022
    assert (
        "cftc backfill: sample legacy 2022" in out.output
    )  # progress lines when not on a terminal


def _publish_behind(store) -> dict:
    """cftc.net_usd from the trimmed real files, checked on Fri 2025-03-28 (the 2025-03-25 report
    expected; the files end 2025-03-11): two weeks behind schedule."""
    from flows.quality import Quality
    from flows.sources import cftc_files, ecb
    from jobs.config import Settings
    from jobs.tasks.cftc import compute, publish, schedule_status

    legacy, q = cftc_files.parse_report(
        cftc_replay.member_text(cftc_replay.LEGACY_ZIP),
        "legacy",
        "annual.txt",
        list(cftc_files.CURRENCY_CODES),
    )
    fx = ecb.parse_hist_csv(cftc_replay.ECB_CSV.read_text(), "eurofxref-hist.csv")
    res = compute(legacy, None, fx, Settings())
    schedule = schedule_status(pd.Timestamp("2025-03-11"), datetime(2025, 3, 28, 16, 0, tzinfo=NY))
    publish(
        store,
        res,
        Settings(),
        source="cftc-files (real) + ecb",
        sample=False,
        quality=q,
        schedule=schedule,
    )
    assert isinstance(q, Quality)
    return schedule


def test_schedule_status_counts_the_weeks_behind_the_calendar() -> None:
    from jobs.tasks.cftc import schedule_status

    # Wed 2025-11-19, the first day of the post-shutdown backlog: the newest stored report was
    # 2025-09-23; the calendar expects 2025-11-11 (its release moved to Mon 2025-11-17 by Veterans
    # Day), so 7 weekly reports are missing
    s = schedule_status(pd.Timestamp("2025-09-23"), datetime(2025, 11, 19, 12, 0, tzinfo=NY))
    assert (s["expected_report"], s["behind_weeks"], s["behind"]) == ("2025-11-11", 7, True)
    assert s["message"].startswith(
        "behind schedule: latest report 2025-09-23 is 7 weeks older than the 2025-11-11 report"
    )
    # on the Friday of a release, before 15:30 ET the previous week is still the expected one
    assert (
        schedule_status(pd.Timestamp("2025-03-04"), datetime(2025, 3, 14, 15, 0, tzinfo=NY))[
            "behind_weeks"
        ]
        == 0
    )
    assert (
        schedule_status(pd.Timestamp("2025-03-04"), datetime(2025, 3, 14, 15, 45, tzinfo=NY))[
            "behind_weeks"
        ]
        == 1
    )
    # New Year's Day 2019 fell on the Tuesday: that report is dated Monday 2018-12-31 (released
    # Fri 2019-01-04), and the calendar expects that Monday
    s = schedule_status(pd.Timestamp("2018-12-31"), datetime(2019, 1, 4, 16, 0, tzinfo=NY))
    assert (s["expected_report"], s["behind"], s["behind_weeks"]) == ("2018-12-31", False, 0)
    s = schedule_status(pd.Timestamp("2018-12-24"), datetime(2019, 1, 4, 16, 0, tzinfo=NY))
    assert (s["expected_report"], s["behind"], s["behind_weeks"]) == ("2018-12-31", True, 1)


def test_status_shows_the_behind_schedule_warning(tmp_path: Path, redis_url: str, store) -> None:
    from jobs.cli import main

    schedule = _publish_behind(store)
    config = tmp_path / "config.toml"
    config.write_text('[service]\nsource_mode = "live"\n', encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(main, ["--config", str(config), "status"], env={"REDIS_URL": redis_url})
    assert text.exit_code == 0, text.output
    assert f"warning: cftc.net_usd: {schedule['message']}" in text.output
    assert "is 2 weeks older than the 2025-03-25 report" in schedule["message"]
    doc = json.loads(
        runner.invoke(
            main, ["--config", str(config), "status", "--json"], env={"REDIS_URL": redis_url}
        ).output
    )
    result = next(r for r in doc["results"] if r["name"] == RESULT)
    assert (
        result["warnings"] == [schedule["message"]]
        and result["status"] == "ok"
        and result["error"] is None
    )
