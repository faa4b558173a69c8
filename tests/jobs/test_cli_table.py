"""The explicit command table of ``flowdesk`` and the task module list match the code.

``flowdesk --help`` reads the one-line help from :data:`jobs.cli.COMMANDS` without importing
the commands: this test keeps those lines equal to the commands' docstrings, and makes a command
module (or a task module) that is not in its table fail here instead of vanishing silently.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import click
from click.testing import CliRunner

import jobs.commands
import jobs.tasks
from jobs.cli import COMMANDS, load_command, main


def test_every_table_row_loads_a_command_whose_help_matches() -> None:
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command.name == name, entry.target
        first_line = (command.help or "").strip().splitlines()[0]
        assert entry.help == first_line, (
            f"{name}: table says {entry.help!r}, docstring says {first_line!r}"
        )


def test_every_command_module_is_in_the_table() -> None:
    targets = {entry.target.split(":")[0] for entry in COMMANDS.values()}
    for info in pkgutil.iter_modules(jobs.commands.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"jobs.commands.{info.name}")
        assert f"jobs.commands.{info.name}" in targets, (
            f"jobs/commands/{info.name}.py is not in jobs.cli.COMMANDS"
        )
        for command in module.COMMANDS:
            assert isinstance(command, click.Command)
            assert load_command(command.name) is command


def test_every_task_module_is_listed() -> None:
    on_disk = {info.name for info in pkgutil.iter_modules(jobs.tasks.__path__)}
    assert on_disk == set(jobs.tasks.TASK_MODULES)
    tasks = jobs.tasks.load_tasks()
    assert {"demo", "gamma", "letf", "cftc", "board", "brief"} <= set(tasks)


def test_help_lists_every_command_without_importing_them() -> None:
    import sys

    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in res.output
    # the group itself imports nothing heavy: neither pandas nor the command modules are needed
    code = "import sys, jobs.cli; from click.testing import CliRunner; CliRunner().invoke(jobs.cli.main, ['--help']); print(sorted(m for m in ('pandas', 'numpy', 'pydantic', 'redis', 'jobs.commands.gamma', 'jobs.config') if m in sys.modules))"
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_an_import_error_fails_loudly(monkeypatch) -> None:
    from jobs.cli import Entry

    monkeypatch.setitem(
        COMMANDS,
        "broken",
        Entry("jobs.commands.no_such_module:cmd", "A command whose module is missing."),
    )
    res = CliRunner().invoke(main, ["broken"])
    assert res.exit_code != 0
    assert isinstance(res.exception, ModuleNotFoundError)


def test_a_file_command_does_not_import_the_redis_client(test_data) -> None:
    """``flowdesk gamma FILE`` reads a file and prints: the Redis client (about 75 ms of its
    start-up, the CLI benchmark's figure) is imported only by commands that use the store."""
    import subprocess
    import sys

    chain = test_data / "options" / "spx_quotedata_2023-09-14_trimmed.csv"
    code = (
        "import sys, jobs.cli; from click.testing import CliRunner; "
        f"r = CliRunner().invoke(jobs.cli.main, ['gamma', {str(chain)!r}, '--json']); "
        "print(r.exit_code, 'redis' in sys.modules, 'flows.gamma' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["0", "False", "True"]


def test_file_command_texts_read_as_words(test_data) -> None:
    """Counts agree with their noun and the dealer convention reads as words beside its value."""
    cases = test_data / "cases"
    letf = CliRunner().invoke(main, ["letf", str(cases / "letf-calendar-reset" / "universe.csv")])
    assert letf.exit_code == 0, letf.output
    assert "excluded from the equity totals: 5 funds" in letf.output
    assert re.search(r"reset: monthly +1 fund +\$327\.36 mn", letf.output), letf.output
    assert "1 funds" not in letf.output
    gamma = CliRunner().invoke(
        main, ["gamma", str(cases / "adjusted-option-series" / "chain.json")]
    )
    assert gamma.exit_code == 0, gamma.output
    assert "dealer convention: calls long, puts short (calls_long_puts_short)" in gamma.output
    assert "net GEX   $0 per 1% move" in gamma.output  # exactly 0: no sign
