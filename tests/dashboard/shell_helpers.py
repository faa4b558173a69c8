"""Helpers for the web-shell tests: a temporary ``config.toml`` and fresh dashboard caches.

The dashboard reads its settings through :func:`dashboard.data.settings` (cached); tests write a
config file, point ``FLOWDESK_CONFIG`` and ``REDIS_URL`` at it and at the test Redis, and clear
the caches before building the app and again afterwards.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dashboard import data, render_cache
from jobs.config import Settings

DEMO_JOBS = """
[jobs.demo]
task = "demo"
cron = "*/15 * * * *"
trading_days_only = false
retries = 0
retry_delay_seconds = 0
stale_after_minutes = 60

[jobs.demo_broken]
task = "demo"
cron = "*/15 * * * *"
trading_days_only = false
retries = 0
retry_delay_seconds = 0
stale_after_minutes = 60
args = { fail = true }
"""


def reset_dashboard_caches() -> None:
    data.settings.cache_clear()
    data._store_for.cache_clear()
    data._resilient_for.cache_clear()
    data._read_version.cache_clear()
    data.redis_outage().recovered()
    render_cache.CACHE.clear()
    render_cache._seen = None


def use_config(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    *,
    require_login: str = "auto",
    refresh_seconds: int = 30,
    jobs: str = DEMO_JOBS,
    web_extra: str = "",
) -> Settings:
    """Write a config with the demo jobs, point the dashboard at it and return its settings."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[service]
timezone = "America/New_York"
source_mode = "sample"

[web]
refresh_seconds = {refresh_seconds}
require_login = "{require_login}"
{web_extra}
{jobs}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("FLOWDESK_CONFIG", str(path))
    monkeypatch.setenv("REDIS_URL", redis_url)
    for var in ("FLOWDESK_USERS", "FLOWDESK_API_TOKENS", "FLOWDESK_SOURCE_MODE"):
        monkeypatch.delenv(var, raising=False)
    reset_dashboard_caches()
    return data.settings()


def closed_port_url() -> str:
    """A Redis URL on a local port nobody listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"
