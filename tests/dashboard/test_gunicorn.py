"""The production web server as the Procfile runs it: gunicorn with ``dashboard/gunicorn_conf.py``.

A real gunicorn (gthread workers) on a free port against the test Redis.  Its access log must
mask secret query values and never log credentials, and a Basic-auth user name with a newline
must not forge an access-log line.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from jobs.redis_server import free_port

REPO = Path(__file__).resolve().parents[2]
TOKEN = "tok-gunicorn-0123456789"


@pytest.fixture()
def gunicorn(tmp_path, redis_url):
    config = tmp_path / "config.toml"
    config.write_text('[service]\nsource_mode = "sample"\n')
    port = free_port()
    env = dict(
        os.environ,
        FLOWDESK_CONFIG=str(config),
        REDIS_URL=redis_url,
        FLOWDESK_API_TOKENS=TOKEN,
        PORT=str(port),
        WEB_BIND_HOST="127.0.0.1",
        WEB_CONCURRENCY="1",
        WEB_THREADS="4",
    )
    env.pop("FLOWDESK_USERS", None)
    out = tmp_path / "gunicorn.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:dashboard.gunicorn_conf",
                "dashboard.wsgi:server",
            ],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(base + "/healthz", timeout=10).status_code in (200, 503):
                    break
            except (
                requests.ConnectionError,
                requests.Timeout,
            ):  # bound by the master, worker still importing
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not come up: {out.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base, proc, out
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def test_access_log_masks_query_secrets_and_credentials_and_cannot_be_forged(gunicorn):
    base, proc, out = gunicorn
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert (
        requests.get(
            base + "/api/v1/results?format=json&token=QuerySecret111&sig=QuerySig222",
            headers=bearer,
            timeout=30,
        ).status_code
        == 200
    )
    assert requests.get(base + "/healthz?password=QueryPassword333", timeout=30).status_code == 200
    forged_user = 'eve\n127.0.0.1 - admin [01/Jan/2026:00:00:00 +0000] "GET /forged HTTP/1.1" 200 0'
    basic = "Basic " + base64.b64encode(f"{forged_user}:pw".encode()).decode()
    assert (
        requests.get(
            base + "/api/v1/jobs",
            headers={"Authorization": basic, "Referer": f"{base}/x?api_key=RefererKey444"},
            timeout=30,
        ).status_code
        == 401
    )
    proc.terminate()
    proc.wait(timeout=30)
    text = out.read_text()
    access = [line for line in text.splitlines() if line.startswith("127.0.0.1 ")]
    assert len(access) >= 3, text[-3000:]
    for secret in ("QuerySecret111", "QuerySig222", "QueryPassword333", "RefererKey444", TOKEN):
        assert secret not in text, f"{secret} in the gunicorn output"
    assert any(
        '"GET /api/v1/results?format=json&token=***&sig=*** HTTP/1.1" 200' in line
        for line in access
    )
    assert any('"GET /healthz?password=*** HTTP/1.1" 200' in line for line in access)
    assert not any(
        "/forged" in line and not line.startswith("127.0.0.1 - eve\\n")
        for line in text.splitlines()
    ), "a user name forged a log line"
    assert any(
        line.startswith("127.0.0.1 - eve\\n127.0.0.1 - admin")
        and '"GET /api/v1/jobs HTTP/1.1" 401' in line
        for line in access
    )
