"""Config validation: each kind of mistake gets a message naming the file, the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.config import ConfigError
from jobs.validate import load_settings, parse_settings

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_shipped_config_is_valid() -> None:
    settings = load_settings(REPO / "config.toml", env={})
    assert settings.service.timezone == "America/New_York"
    assert settings.service.source_mode == "sample"
    assert "demo" in settings.jobs


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, '[service]\ntimezone = "America/New_York"\ntimezon = "x"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert f"{path}: service.timezon: unknown key" in str(err.value)


def test_wrong_type(tmp_path: Path) -> None:
    path = _write(tmp_path, '[web]\nport = "eighty"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert f"{path}: web.port:" in str(err.value)
    assert "'eighty'" in str(err.value)


def test_out_of_range(tmp_path: Path) -> None:
    path = _write(tmp_path, "[web]\nport = 70000\n")
    with pytest.raises(
        ConfigError, match=r"web\.port: Input should be less than or equal to 65535"
    ):
        load_settings(path, env={})


def test_bad_cron(tmp_path: Path) -> None:
    path = _write(tmp_path, '[jobs.demo]\ntask = "demo"\ncron = "61 * * * *"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert f"{path}: jobs.demo.cron: invalid cron expression '61 * * * *'" in str(err.value)


def test_unknown_task(tmp_path: Path) -> None:
    path = _write(tmp_path, '[jobs.x]\ntask = "no_such_task"\ncron = "0 8 * * 1-5"\n')
    with pytest.raises(
        ConfigError, match=r"jobs\.x\.task: unknown task 'no_such_task' \(known: .*demo"
    ):
        load_settings(path, env={})


def test_missing_required_key(tmp_path: Path) -> None:
    path = _write(tmp_path, '[jobs.x]\ntask = "demo"\n')
    with pytest.raises(ConfigError, match=r"jobs\.x\.cron: required key is missing"):
        load_settings(path, env={})


def test_bad_timezone_and_enum(tmp_path: Path) -> None:
    path = _write(tmp_path, '[service]\ntimezone = "Mars/Olympus"\nsource_mode = "paper"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    text = str(err.value)
    assert "service.timezone: unknown time zone 'Mars/Olympus'" in text
    assert "service.source_mode:" in text and "'paper'" in text
    assert len(err.value.problems) == 2


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[service\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, env={})
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_settings(tmp_path / "absent.toml", env={})


def test_environment_overrides_urls_and_mode() -> None:
    settings = parse_settings(
        {"service": {"redis_url": "redis://from-file:6379/0"}},
        env={"REDIS_URL": "rediss://:pw@cache.example:6380/1", "FLOWDESK_SOURCE_MODE": "live"},
    )
    assert settings.service.redis_url == "rediss://:pw@cache.example:6380/1"
    assert settings.service.source_mode == "live"
    with pytest.raises(ConfigError, match="FLOWDESK_SOURCE_MODE: must be 'sample' or 'live'"):
        parse_settings({}, env={"FLOWDESK_SOURCE_MODE": "paper"})
