"""The start-up check of a configuration against the rest of flowdesk.

:mod:`jobs.config` reads and validates ``config.toml`` on its own (types, ranges, time zones,
crontab strings) and imports nothing from :mod:`jobs`.  What needs the other parts runs here, as a
separate step at start-up (the CLI, the scheduler, the web app):

* every ``[jobs.<name>] task`` names a registered task (:data:`jobs.tasks.TASKS`);
* every ``[alerts.rules.<name>] metric`` names a declared result and one of its numeric,
  alertable headline keys (:func:`jobs.alerts.check_metric`, reading :mod:`jobs.declarations`).

Problems are reported like the schema's, as one :class:`flows.errors.ConfigError` naming the file,
the dotted key and the reason (the CLI prints it and exits with code 2)::

    config.toml: jobs.x.task: unknown task 'no_such_task' (known: board, cftc, ...)

:func:`load_settings` and :func:`parse_settings` are the two steps together: what every entry
point uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.errors import ConfigError, MetricError
from jobs import config
from jobs.config import Settings


def check_settings(settings: Settings) -> Settings:
    """Check ``settings``' references to tasks and alert metrics; return them unchanged.

    Raises
    ------
    ConfigError
        Naming ``settings.source_path``, each dotted key at fault and the reason.
    """
    from jobs.alerts import check_metric
    from jobs.tasks import load_tasks

    tasks = load_tasks()
    problems: list[tuple[str, str]] = []
    for name, rule in settings.alerts.rules.items():
        try:
            check_metric(rule.metric)
        except MetricError as exc:
            problems.append((f"alerts.rules.{name}.metric", f"{exc} (got {rule.metric!r})"))
    for name, job in settings.jobs.items():
        if job.task not in tasks:
            known = ", ".join(sorted(tasks))
            problems.append((f"jobs.{name}.task", f"unknown task {job.task!r} (known: {known})"))
    if problems:
        raise ConfigError(settings.source_path, problems)
    return settings


def parse_settings(
    data: dict[str, Any], source: str = "<dict>", env: dict[str, str] | None = None
) -> Settings:
    """:func:`jobs.config.parse_settings` then :func:`check_settings`."""
    return check_settings(config.parse_settings(data, source=source, env=env))


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """:func:`jobs.config.load_settings` then :func:`check_settings` (what the entry points use)."""
    return check_settings(config.load_settings(path, env=env))
