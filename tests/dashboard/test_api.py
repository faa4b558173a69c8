"""API, health check and login of the dashboard server, on the real test Redis (Flask test client)."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard import auth
from dashboard.app import create_app
from jobs import declarations as d
from jobs.commands.web_auth import COMMANDS, hash_password
from jobs.health import assess, heartbeat_state
from jobs.runner import run_job
from jobs.store import keys, utcnow
from tests.dashboard.shell_helpers import closed_port_url, reset_dashboard_caches, use_config
from tests.declared import declared

PASSWORD = "correct horse battery"
TOKEN = "tok-0123456789abcdef"


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


# The API's subject here is serialising every dtype the store keeps, so these tests publish a toy
# ``gamma.SPX`` (an exact name: it shadows the real ``gamma.<UNDERLYING>`` declaration for the
# duration of a test) and an ``other.result`` nobody produces.
TOY_GAMMA = d.ResultDecl(
    name="gamma.SPX",
    description="toy gamma result of the API tests",
    task="gamma",
    cadence="session",
    tables=(
        d.Table(
            "data",
            (
                d.Column("strike", "int", d.Unit.INDEX_POINTS, "strike"),
                d.Column("net_gex_usd_per_1pct", "float", d.Unit.USD_PER_1PCT, "net GEX"),
                d.Column("expiry", "time", d.Unit.TIME, "settlement"),
                d.Column("kind", "str", d.Unit.LABEL, "call / put"),
                d.Column("symbol", "str", d.Unit.LABEL, "root"),
                d.Column("itm", "bool", d.Unit.FLAG, "in the money"),
            ),
            "toy main table",
        ),
        d.Table(
            "profile",
            (
                d.Column("spot", "float", d.Unit.PRICE, "spot"),
                d.Column("gex_usd_per_1pct", "float", d.Unit.USD_PER_1PCT, "GEX"),
            ),
            "toy profile",
            optional=True,
        ),
    ),
    headline=(
        d.HeadlineKey("net_gex_usd_per_1pct", d.Unit.USD_PER_1PCT, "net GEX"),
        d.HeadlineKey("flip", d.Unit.PRICE, "flip"),
    ),
)
OTHER = d.ResultDecl(
    name="other.result",
    description="nobody's",
    task="demo",
    cadence="on-demand",
    tables=(d.Table("data", (d.Column("x_usd", "float", d.Unit.USD),)),),
)


@pytest.fixture(autouse=True)
def _toys_declared():
    with declared(TOY_GAMMA, OTHER):
        yield


@pytest.fixture()
def settings(tmp_path, monkeypatch, redis_url):
    return use_config(tmp_path, monkeypatch, redis_url)


@pytest.fixture()
def client(settings):
    return create_app().server.test_client()


def _frame() -> pd.DataFrame:
    """Every dtype the store keeps: tz-aware times, categoricals, NaN, int64, strings, bools."""
    return pd.DataFrame(
        {
            "strike": np.array([4000, 4100, 4200], dtype="int64"),
            "net_gex_usd_per_1pct": [1.5e9, np.nan, -2.25e8],
            "expiry": pd.to_datetime(
                ["2024-01-19 16:00", "2024-02-16 16:00", "2024-03-15 16:00"]
            ).tz_localize("America/New_York"),
            "kind": pd.Categorical(["call", "put", "call"]),
            "symbol": ["SPX", "SPX", "SPX"],
            "itm": [True, False, True],
        }
    )


def _publish_gamma(store, *, computed_at=None, total=1.0, profile=True):
    tables = {"data": _frame()}
    if profile:
        tables["profile"] = pd.DataFrame(
            {"spot": [4000.0, 4100.0], "gex_usd_per_1pct": [1.0e9, -5.0e8]}
        )
    return store.publish(
        "gamma.SPX",
        tables,
        as_of=pd.Timestamp("2024-01-05 16:00", tz="America/New_York"),
        source="cboe-csv:quotedata.csv",
        headline={"net_gex_usd_per_1pct": total, "flip": float("nan")},
        computed_at=computed_at,
    )


# -- results ---------------------------------------------------------------------------------
def test_results_list_carries_provenance_and_freshness(client, store):
    _publish_gamma(store, total=2.5e9)
    body = client.get("/api/v1/results").get_json()
    (res,) = body["results"]
    assert res["name"] == "gamma.SPX"
    assert res["source"] == "cboe-csv:quotedata.csv"
    assert res["as_of"] == "2024-01-05T16:00:00-05:00"
    assert res["rows"] == 3
    assert res["tables"] == ["data", "profile"]
    assert res["sample"] is False
    assert res["status"] == "ok"
    assert res["headline"] == {"net_gex_usd_per_1pct": 2.5e9, "flip": None}  # NaN -> null
    assert res["units"]["data"]["net_gex_usd_per_1pct"] == "USD per 1% move"
    assert res["freshness"] == "amber"  # computed just now, but a 2024 option chain is old data
    # from the declaration (issue 14): units of the headline, descriptions of everything
    assert res["declaration"] == "gamma.SPX"
    assert res["headline_units"] == {
        "net_gex_usd_per_1pct": "USD per 1% move",
        "flip": "index points / USD per share",
    }
    assert res["description"] == "toy gamma result of the API tests"
    assert res["descriptions"]["tables"] == {"data": "toy main table", "profile": "toy profile"}
    assert res["descriptions"]["columns"]["profile"] == {"spot": "spot", "gex_usd_per_1pct": "GEX"}
    assert res["descriptions"]["headline"] == {"net_gex_usd_per_1pct": "net GEX", "flip": "flip"}


def test_a_result_of_a_placeholder_declaration_lists_its_declared_units(client, store):
    """``gamma.QQQ`` (no toy): the real ``gamma.<UNDERLYING>`` declaration describes it."""
    from tests.declared import tables_for

    store.publish(
        "gamma.QQQ",
        tables_for("gamma.QQQ"),
        as_of=pd.Timestamp("2024-01-05 16:00", tz="America/New_York"),
        source="t",
        headline={"net_gex_usd_per_1pct": -1.0, "regime": "short gamma"},
    )
    (res,) = client.get("/api/v1/results").get_json()["results"]
    assert res["declaration"] == "gamma.<UNDERLYING>"
    assert res["units"]["hedge_flow"]["dealer_trade_usd"] == "USD (+ = buy)"
    assert res["headline_units"] == {"net_gex_usd_per_1pct": "USD per 1% move", "regime": "label"}
    assert (
        res["descriptions"]["headline"]["regime"]
        == "long gamma / short gamma / neutral gamma (sign of the net GEX; neutral: 0 to rounding)"
    )
    assert res["descriptions"]["columns"]["by_strike"]["net_gex_usd_per_1pct"] == "call + put GEX"
    meta = client.get("/api/v1/results/gamma.QQQ").get_json()["meta"]  # a result's own metadata
    assert (
        meta["declaration"] == "gamma.<UNDERLYING>" and meta["headline_units"]["regime"] == "label"
    )
    assert meta["units"]["by_strike"]["strike"] == "index points / USD per share"


def test_declarations_endpoint_serves_the_reference(client):
    body = client.get("/api/v1/declarations").get_json()
    assert body == json.loads(json.dumps(d.reference()))
    names = [r["name"] for r in body["results"]]
    assert {
        "gamma.<UNDERLYING>",
        "gamma.summary",
        "letf.flows",
        "cftc.net_usd",
        "cftc.positions",
        "cftc.fx",
        "board.scenarios",
        "board.brief",
        "demo",
    } <= set(names)
    one = client.get("/api/v1/declarations?result=gamma.NDX").get_json()
    assert one["name"] == "gamma.<UNDERLYING>" and one["cadence"] == "session"
    by_strike = next(t for t in one["tables"] if t["name"] == "by_strike")
    assert {
        "name": "net_gex_usd_per_1pct",
        "title": "Net GEX",  # the header the pages show, before its unit
        "kind": "float",
        "unit": "USD per 1% move",
        "description": "call + put GEX",
        "optional": False,
        "storage": "float64",
    } in by_strike["columns"]
    assert by_strike["history"] == "all"
    contracts = next(t for t in one["tables"] if t["name"] == "contracts")
    assert contracts["history"] == "latest" and {
        c["name"] for c in contracts["columns"] if c["storage"] == "float32"
    } == {"gamma_file", "gamma_model"}
    missing = client.get("/api/v1/declarations?result=nobody.here")
    assert (
        missing.status_code == 404
        and "no declaration for result 'nobody.here'" in missing.get_json()["error"]
    )


def test_result_json_records_with_null_for_nan_and_iso_times(client, store):
    meta = _publish_gamma(store)
    resp = client.get("/api/v1/results/gamma.SPX")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert "NaN" not in resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["meta"]["version"] == meta.version
    assert body["meta"]["as_of"] == "2024-01-05T16:00:00-05:00"
    assert body["table"] == "data"
    assert body["data"][0] == {
        "strike": 4000,
        "net_gex_usd_per_1pct": 1.5e9,
        "expiry": "2024-01-19T16:00:00-05:00",
        "kind": "call",
        "symbol": "SPX",
        "itm": True,
    }
    assert body["data"][1]["net_gex_usd_per_1pct"] is None
    assert [r["kind"] for r in body["data"]] == ["call", "put", "call"]


def test_result_json_other_table(client, store):
    _publish_gamma(store)
    body = client.get("/api/v1/results/gamma.SPX?table=profile").get_json()
    assert body["table"] == "profile"
    assert body["data"] == [
        {"spot": 4000.0, "gex_usd_per_1pct": 1.0e9},
        {"spot": 4100.0, "gex_usd_per_1pct": -5.0e8},
    ]


def test_result_csv_with_provenance_headers(client, store):
    meta = _publish_gamma(store)
    resp = client.get("/api/v1/results/gamma.SPX?format=csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["X-Flowdesk-As-Of"] == meta.as_of
    assert resp.headers["X-Flowdesk-Computed-At"] == meta.computed_at
    assert resp.headers["X-Flowdesk-Source"] == "cboe-csv:quotedata.csv"
    assert resp.headers["X-Flowdesk-Version"] == meta.version
    assert json.loads(resp.headers["X-Flowdesk-Units"])["net_gex_usd_per_1pct"] == "USD per 1% move"
    assert 'filename="gamma.SPX.csv"' in resp.headers["Content-Disposition"]
    back = pd.read_csv(io.StringIO(resp.get_data(as_text=True)))
    assert list(back.columns) == list(_frame().columns)
    assert back["strike"].tolist() == [4000, 4100, 4200]
    assert back["net_gex_usd_per_1pct"].isna().tolist() == [False, True, False]
    assert pd.to_datetime(back["expiry"], utc=True).equals(_frame()["expiry"].dt.tz_convert("UTC"))


def test_result_arrow_round_trip(client, store):
    meta = _publish_gamma(store)
    resp = client.get("/api/v1/results/gamma.SPX?format=arrow")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.apache.arrow.stream"
    with pa.ipc.open_stream(pa.BufferReader(resp.get_data())) as reader:
        table = reader.read_all()
    back = table.to_pandas()
    pd.testing.assert_frame_equal(back, _frame())
    carried = json.loads(table.schema.metadata[b"flowdesk"])
    assert carried["as_of"] == meta.as_of
    assert carried["source"] == meta.source
    assert carried["units"]["data"]["net_gex_usd_per_1pct"] == "USD per 1% move"


def test_result_as_of_and_version_pick_past_versions(client, store):
    t0 = utcnow() - timedelta(hours=3)
    old = _publish_gamma(store, computed_at=t0, total=1.0)
    new = _publish_gamma(store, computed_at=t0 + timedelta(hours=2), total=2.0)
    between = (t0 + timedelta(hours=1)).isoformat()

    body = client.get("/api/v1/results/gamma.SPX", query_string={"as_of": between}).get_json()
    assert body["meta"]["version"] == old.version
    assert body["meta"]["headline"]["net_gex_usd_per_1pct"] == 1.0
    # a '+00:00' offset sent unencoded arrives as a space; still understood
    raw = client.get(f"/api/v1/results/gamma.SPX?as_of={between.replace('+', '%20')}").get_json()
    assert raw["meta"]["version"] == old.version
    # a naive time is read in the desk's time zone (America/New_York)
    naive = (
        pd.Timestamp(t0 + timedelta(hours=1))
        .tz_convert("America/New_York")
        .tz_localize(None)
        .isoformat()
    )
    assert (
        client.get("/api/v1/results/gamma.SPX", query_string={"as_of": naive}).get_json()["meta"][
            "version"
        ]
        == old.version
    )
    assert client.get("/api/v1/results/gamma.SPX").get_json()["meta"]["version"] == new.version
    by_version = client.get(
        "/api/v1/results/gamma.SPX", query_string={"version": old.version}
    ).get_json()
    assert by_version["meta"]["headline"]["net_gex_usd_per_1pct"] == 1.0

    before = client.get(
        "/api/v1/results/gamma.SPX", query_string={"as_of": (t0 - timedelta(days=1)).isoformat()}
    )
    assert before.status_code == 404
    assert "at or before" in before.get_json()["error"]


def test_history_lists_headline_series(client, store):
    t0 = utcnow() - timedelta(hours=3)
    _publish_gamma(store, computed_at=t0, total=1.0)
    _publish_gamma(store, computed_at=t0 + timedelta(hours=1), total=2.0)
    body = client.get("/api/v1/results/gamma.SPX/history").get_json()
    assert body["name"] == "gamma.SPX"
    assert [row["net_gex_usd_per_1pct"] for row in body["history"]] == [1.0, 2.0]
    assert all(row["flip"] is None for row in body["history"])
    csv = client.get("/api/v1/results/gamma.SPX/history?format=csv")
    assert pd.read_csv(io.StringIO(csv.get_data(as_text=True)))[
        "net_gex_usd_per_1pct"
    ].tolist() == [1.0, 2.0]
    assert client.get("/api/v1/results/nope/history").status_code == 404


@pytest.mark.parametrize(
    ("url", "status", "fragment"),
    [
        ("/api/v1/results/nope", 404, "no published result 'nope'"),
        ("/api/v1/results/gamma.SPX?table=missing", 404, "no table 'missing'"),
        (
            "/api/v1/results/gamma.SPX?version=20000101T000000.000000Z-000000",
            404,
            "no published result",
        ),
        ("/api/v1/results/gamma.SPX?format=xml", 400, "format: must be one of json, csv, arrow"),
        ("/api/v1/results/gamma.SPX?as_of=yesterday-ish", 400, "as_of: not an ISO 8601 time"),
        ("/api/v1/results/gamma.SPX?as_of=2024-01-05&version=x", 400, "either as_of or version"),
        (
            "/api/v1/results/gamma.SPX?as_of=2024-03-10T02:30:00",
            400,
            "does not exist in America/New_York",
        ),
        ("/api/v1/results/gamma.SPX/history?format=arrow", 400, "format: must be one of json, csv"),
    ],
)
def test_errors_are_json(client, store, url, status, fragment):
    _publish_gamma(store)
    resp = client.get(url)
    assert resp.status_code == status
    assert resp.mimetype == "application/json"
    assert fragment in resp.get_json()["error"]


def test_jobs_lists_last_runs(client, settings, store):
    run_job(settings, store, "demo")
    run_job(settings, store, "demo_broken", sleep=lambda _s: None)
    jobs = {j["job"]: j for j in client.get("/api/v1/jobs").get_json()["jobs"]}
    assert set(jobs) == {"demo", "demo_broken"}
    assert jobs["demo"]["last_run"]["status"] == "ok"
    assert jobs["demo"]["last_run"]["rows"] == 5
    assert jobs["demo"]["last_success"]["results"] == ["demo"]
    assert jobs["demo"]["cron"] == "*/15 * * * *"
    assert jobs["demo_broken"]["last_run"]["status"] == "failed"
    assert "demo task asked to fail" in jobs["demo_broken"]["last_run"]["error"]
    assert jobs["demo_broken"]["last_success"] is None


def test_index_page_references_only_local_assets(client):
    html = client.get("/").get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(r.startswith("/assets/flowdesk.css") for r in refs)
    assert any(r.startswith("/_dash-component-suites/") for r in refs)
    for ref in refs:
        assert ref.startswith("/"), f"external asset {ref}"
        assert client.get(ref).status_code == 200, ref


# -- health ----------------------------------------------------------------------------------
def test_healthz_ok_with_heartbeat(client, store):
    assert client.get("/healthz").get_json() == {
        "redis": "ok",
        "scheduler_heartbeat_age_s": None,
        "scheduler": "no heartbeat",
    }
    store.beat(leader=True)
    body = client.get("/healthz").get_json()
    assert body["redis"] == "ok"
    assert 0 <= body["scheduler_heartbeat_age_s"] < 60
    assert body["scheduler"] == "ok"


def test_healthz_503_and_api_503_when_redis_is_down(tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url)
    monkeypatch.setenv("REDIS_URL", closed_port_url())
    reset_dashboard_caches()
    client = create_app().server.test_client()
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["redis"] == "unreachable"
    api = client.get("/api/v1/results")
    assert api.status_code == 503
    assert "Redis unreachable" in api.get_json()["error"]


def test_healthz_503_without_any_redis_configured(tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url)
    monkeypatch.delenv("REDIS_URL")
    reset_dashboard_caches()
    resp = create_app().server.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["redis"] == "unknown"
    assert "REDIS_URL" in resp.get_json()["error"]


def test_invalid_config_gives_json_error_naming_the_key(tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url)
    bad = tmp_path / "bad.toml"
    bad.write_text("[web]\nrefresh_seconds = 5\nbogus = 1\n", encoding="utf-8")
    monkeypatch.setenv("FLOWDESK_CONFIG", str(bad))
    reset_dashboard_caches()
    client = create_app().server.test_client()  # a broken config does not kill the server...
    resp = client.get("/api/v1/results")
    assert resp.status_code == 500
    assert (
        "bad.toml: web.bogus: unknown key" in resp.get_json()["error"]
    )  # ...and says what is wrong


def test_heartbeat_state_missing_fresh_late(store, redis_client):
    assert heartbeat_state(store.heartbeat(), heartbeat_seconds=10)[:2] == ("amber", "no heartbeat")
    store.beat(leader=True)
    level, text, detail = heartbeat_state(store.heartbeat(), heartbeat_seconds=10)
    assert level == "ok" and text.startswith("beat ") and detail.startswith("leader pid ")
    redis_client.set(
        keys.scheduler_heartbeat(),
        json.dumps({"at": time.time() - 95, "pid": 42, "host": "sched-1", "leader": False}),
    )
    level, text, detail = heartbeat_state(store.heartbeat(), heartbeat_seconds=10)
    assert (level, text, detail) == ("amber", "beat 95 s ago (late)", "standby pid 42 on sched-1")


# -- freshness grading -----------------------------------------------------------------------
def test_freshness_grades_ok_amber_red(settings, store):
    assert assess(settings, store).level == "unknown"
    run_job(settings, store, "demo")
    fresh = assess(settings, store)
    assert (fresh.level, fresh.label) == ("ok", "fresh")
    assert fresh.items[0].job == "demo" and fresh.items[0].stale_after_minutes == 60

    # 2 h old against stale_after 60 min -> amber; an unclaimed result uses the shortest (60 min)
    store.publish(
        "other.result",
        pd.DataFrame({"x_usd": [1.0]}),
        as_of=utcnow(),
        source="test",
        computed_at=utcnow() - timedelta(hours=2),
    )
    fresh = assess(settings, store)
    assert fresh.level == "amber"
    assert "other.result: older than 60 min" in fresh.tooltip()
    # the badge's tooltip (desk zone) names computation times, not ages: the same text on the next
    # tick while nothing is published, so the header re-sends nothing
    desk = fresh.tooltip("America/New_York")
    assert "other.result: older than 60 min (computed " in desk and " old)" not in desk
    assert assess(settings, store).tooltip("America/New_York") == desk

    run_job(settings, store, "demo_broken")
    fresh = assess(settings, store)
    assert fresh.level == "red"
    assert fresh.label == "stale: 1 result"
    assert (
        "demo: stale, last refresh failed: RuntimeError: demo task asked to fail" in fresh.tooltip()
    )


def test_freshness_red_when_never_published_or_redis_down(settings, store):
    store.mark_failed("cftc.net_usd", "SourceError: cftc.gov: HTTP 503", job="cftc")
    fresh = assess(settings, store)
    assert fresh.level == "red"
    assert "failed, never published" in fresh.tooltip()
    down = assess(settings, type(store).from_url(closed_port_url()))
    assert (down.level, down.redis_ok) == ("red", False)
    assert down.tooltip().startswith("Redis unreachable")


# -- login -----------------------------------------------------------------------------------
def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture()
def exposed(settings, monkeypatch):
    monkeypatch.setenv(
        "FLOWDESK_USERS",
        f"alice:{generate_password_hash(PASSWORD)},bob:{generate_password_hash('other password')}",
    )
    monkeypatch.setenv("FLOWDESK_API_TOKENS", f"tok-unused,{TOKEN}")
    return create_app(host="0.0.0.0").server.test_client()


PROTECTED = [
    "/",
    "/status",
    "/_dash-layout",
    "/_dash-dependencies",
    "/api/v1/results",
    "/api/v1/jobs",
    "/assets/flowdesk.css",
]


@pytest.mark.parametrize("path", PROTECTED)
def test_exposed_app_requires_credentials(exposed, store, path):
    resp = exposed.get(path)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith('Basic realm="flowdesk"')
    assert exposed.get(path, headers=_basic("alice", PASSWORD)).status_code == 200
    assert exposed.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_exposed_dash_callback_endpoint_requires_credentials(exposed):
    payload = {
        "output": "freshness-badge.children",
        "outputs": [],
        "inputs": [],
        "changedPropIds": [],
    }
    assert exposed.post("/_dash-update-component", json=payload).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        _basic("alice", "wrong password"),
        _basic("mallory", PASSWORD),
        _basic("bob", PASSWORD),
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": f"Token {TOKEN}"},
    ],
)
def test_exposed_app_refuses_wrong_credentials(exposed, headers):
    assert exposed.get("/api/v1/results", headers=headers).status_code == 401


def test_exposed_health_stays_open(exposed):
    resp = exposed.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["redis"] == "ok"


def test_exposed_without_credentials_refuses_to_start(settings):
    with pytest.raises(
        auth.AuthConfigError, match="no credentials are configured: set FLOWDESK_USERS"
    ):
        create_app(host="0.0.0.0")


def test_malformed_users_variable_is_refused_without_echoing_it(settings, monkeypatch):
    monkeypatch.setenv("FLOWDESK_USERS", "alice:plaintext-secret")
    with pytest.raises(auth.AuthConfigError) as err:
        create_app(host="0.0.0.0")
    assert "not a werkzeug password hash" in str(err.value)
    assert "plaintext-secret" not in str(err.value)


def test_loopback_is_open_and_modes_override(tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url)
    assert (
        create_app(host="127.0.0.1").server.test_client().get("/api/v1/results").status_code == 200
    )
    use_config(tmp_path, monkeypatch, redis_url, require_login="always")
    monkeypatch.setenv("FLOWDESK_API_TOKENS", TOKEN)
    always = create_app(host="127.0.0.1").server.test_client()
    assert always.get("/api/v1/results").status_code == 401
    assert (
        always.get("/api/v1/results", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 200
    )
    use_config(tmp_path, monkeypatch, redis_url, require_login="never")
    assert create_app(host="0.0.0.0").server.test_client().get("/api/v1/results").status_code == 200


@pytest.mark.parametrize(
    ("mode", "host", "production", "expected"),
    [
        ("auto", None, False, False),
        ("auto", "127.0.0.1", False, False),
        ("auto", "localhost", False, False),
        ("auto", "::1", False, False),
        ("auto", "0.0.0.0", False, True),
        ("auto", "", False, True),
        ("auto", "10.1.2.3", False, True),
        ("auto", "desk-box.example.com", False, True),
        ("auto", None, True, True),
        ("never", "0.0.0.0", True, False),
        ("always", "127.0.0.1", False, True),
    ],
)
def test_login_required_rules(mode, host, production, expected):
    assert auth.login_required(mode, host=host, production=production) is expected


def test_wsgi_requires_redis_url_and_login(tmp_path, monkeypatch, redis_url):
    use_config(tmp_path, monkeypatch, redis_url)
    monkeypatch.setenv("FLOWDESK_API_TOKENS", TOKEN)
    import dashboard.wsgi as wsgi

    client = wsgi.server.test_client()
    assert client.get("/api/v1/results").status_code == 401
    assert (
        client.get("/api/v1/results", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 200
    )
    assert client.get("/healthz").status_code == 200
    monkeypatch.delenv("REDIS_URL")
    reset_dashboard_caches()
    with pytest.raises(wsgi.WsgiConfigError, match="needs an external Redis: set REDIS_URL"):
        wsgi.build()


def test_hash_password_command():
    assert hash_password in COMMANDS
    result = CliRunner().invoke(
        hash_password, ["--user", "alice"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    entry = result.output.strip().splitlines()[-1]
    user, _, pwhash = entry.partition(":")
    assert user == "alice"
    assert check_password_hash(pwhash, PASSWORD)
    assert PASSWORD not in result.output
    creds = auth.Credentials.from_env({"FLOWDESK_USERS": entry})
    assert creds.check_basic("alice", PASSWORD) and not creds.check_basic("alice", "nope")
    short = CliRunner().invoke(hash_password, ["--stdin"], input="short\n")
    assert short.exit_code != 0 and "too short" in short.output


def test_result_json_is_paged_with_the_total(client, store):
    _publish_gamma(store)
    body = client.get("/api/v1/results/gamma.SPX").get_json()
    assert (body["total"], body["offset"], body["limit"], body["next_offset"]) == (
        3,
        0,
        1_000,
        None,
    )
    first = client.get("/api/v1/results/gamma.SPX?limit=2").get_json()
    assert [r["strike"] for r in first["data"]] == [4000, 4100]
    assert (first["total"], first["next_offset"]) == (3, 2)
    rest = client.get(f"/api/v1/results/gamma.SPX?limit=2&offset={first['next_offset']}").get_json()
    assert [r["strike"] for r in rest["data"]] == [4200] and rest["next_offset"] is None
    assert client.get("/api/v1/results/gamma.SPX?offset=10").get_json()["data"] == []
    for query, message in (
        ("limit=0", "limit: must be between 1 and 100000"),
        ("limit=x", "limit: not a whole number"),
        ("offset=-1", "offset: must be >= 0"),
        ("format=json&compression=zstd", "compression: only with format=arrow"),
        ("format=arrow&compression=gzip", "compression: only zstd"),
    ):
        resp = client.get(f"/api/v1/results/gamma.SPX?{query}")
        assert resp.status_code == 400 and message in resp.get_json()["error"], query


def test_result_arrow_stored_bytes_served_as_they_are(client, store):
    meta = _publish_gamma(store)
    resp = client.get("/api/v1/results/gamma.SPX?format=arrow&compression=zstd")
    assert resp.status_code == 200 and resp.mimetype == "application/vnd.apache.arrow.stream"
    assert resp.get_data() == store.redis.get(keys.result_table("gamma.SPX", meta.version, "data"))
    with pa.ipc.open_stream(pa.BufferReader(resp.get_data())) as reader:
        pd.testing.assert_frame_equal(reader.read_all().to_pandas(), _frame())
    assert json.loads(resp.headers["X-Flowdesk-Meta"])["version"] == meta.version
    assert resp.headers["X-Flowdesk-Version"] == meta.version


def test_slimmed_versions_serve_what_they_keep(client, store):
    from tests.jobs.test_store_retention import gamma_tables

    store.full_versions = 1
    t0 = utcnow() - timedelta(hours=3)
    old = store.publish(
        "gamma.NDX",
        gamma_tables(name="gamma.NDX"),
        as_of=pd.Timestamp("2024-01-05 16:00", tz="America/New_York"),
        source="test",
        computed_at=t0,
    )
    store.publish(
        "gamma.NDX",
        gamma_tables(name="gamma.NDX"),
        as_of=pd.Timestamp("2024-01-05 16:00", tz="America/New_York"),
        source="test",
        computed_at=t0 + timedelta(hours=1),
    )
    gone = client.get(f"/api/v1/results/gamma.NDX?version={old.version}&table=contracts")
    assert (
        gone.status_code == 404
        and "is kept in the newest versions only" in gone.get_json()["error"]
    )
    kept = client.get(f"/api/v1/results/gamma.NDX?version={old.version}&table=by_expiry").get_json()
    assert kept["total"] == 20 and kept["meta"]["slimmed"] == [
        "contracts",
        "dropped",
        "grid",
        "profile",
    ]
    assert (
        client.get(f"/api/v1/results/gamma.NDX?version={old.version}").get_json()["table"]
        == "by_strike"
    )
    assert (
        client.get("/api/v1/results/gamma.NDX?table=contracts&limit=5").get_json()["total"] == 2_000
    )
    assert len(client.get("/api/v1/results/gamma.NDX/history").get_json()["history"]) == 2


def test_json_page_built_in_arrow_equals_the_pandas_records():
    """The JSON page is built in Arrow (``arrow_records_json``); it must give exactly the records
    the pandas path gives, for every dtype the store keeps plus infinities, durations, a named
    index and a table whose columns arrive in many chunks."""
    from dashboard.api import arrow_records_json, frame_records
    from jobs.store import codec

    frame = pd.concat([_frame(), _frame()], ignore_index=True)
    frame["net_gex_usd_per_1pct"] = [1.5e9, np.nan, np.inf, -np.inf, 0.1 + 0.2, -2.25e8]
    frame["age"] = pd.to_timedelta([1, 2, None, 4, 5, 6], unit="h")
    frame["when"] = pd.to_datetime(["2024-01-05"] * 5 + [None])  # naive, with NaT
    indexed = frame.set_index(pd.Index([f"r{i}" for i in range(6)], name="row"))
    for f in (frame, indexed):
        table = codec.arrow_table(codec.frame_to_arrow(f))
        expected = json.loads(codec.dumps(frame_records(table.to_pandas()), strict=False))
        got = json.loads(arrow_records_json(table))
        assert got == expected
        assert got[1]["net_gex_usd_per_1pct"] is None and got[2]["net_gex_usd_per_1pct"] is None
        assert got[4]["net_gex_usd_per_1pct"] == 0.1 + 0.2  # full float precision kept
    assert list(got[0])[0] == "row"
    assert got[0]["expiry"] == "2024-01-19T16:00:00-05:00" and got[0]["age"] == 3600.0
    # a page is a slice: the same records as slicing the pandas frame
    page = json.loads(arrow_records_json(table.slice(2, 3)))
    assert page == expected[2:5]


def test_stored_tables_are_one_record_batch():
    """Columns that arrive chunked (pyarrow-backed strings after a concat) are written as one
    batch: each batch costs its own compressed buffers on every read (the board grid had 136)."""
    from jobs.store import codec

    parts = [
        pd.DataFrame({"u": pd.array([f"X{i}"] * 3, dtype="string[pyarrow]"), "v": [float(i)] * 3})
        for i in range(50)
    ]
    frame = pd.concat(parts, ignore_index=True)
    assert pa.Table.from_pandas(frame).column("u").num_chunks > 1  # the premise
    blob = codec.frame_to_arrow(frame)
    with pa.ipc.open_stream(pa.BufferReader(blob)) as reader:
        assert sum(1 for _ in reader) == 1
    pd.testing.assert_frame_equal(codec.arrow_to_frame(blob), frame)
