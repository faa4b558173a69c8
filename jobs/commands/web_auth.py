"""``flowdesk hash-password``: make a password hash for ``FLOWDESK_USERS``.

The password is read from a hidden prompt (asked twice) or, for scripts, from standard input
with ``--stdin``; it is never taken as an argument (it would land in the shell history and the
process list) and never printed.  The output line is ready for the environment::

    FLOWDESK_USERS="alice:scrypt:32768:8:1$...$..."
"""

from __future__ import annotations

import sys

import click
from werkzeug.security import generate_password_hash

MIN_LENGTH = 8
"""Shortest password accepted (characters)."""


@click.command("hash-password")
@click.option("--user", default=None, help="Print a ready 'user:hash' entry for FLOWDESK_USERS.")
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (no prompt).",
)
def hash_password(user: str | None, from_stdin: bool) -> None:
    """Print a werkzeug password hash for FLOWDESK_USERS (the dashboard's login)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_LENGTH:
        raise click.UsageError(f"password too short: use at least {MIN_LENGTH} characters")
    if user is not None and (":" in user or "," in user or not user):
        raise click.UsageError("--user: a user name may not be empty or contain ':' or ','")
    pwhash = generate_password_hash(password)
    click.echo(f"{user}:{pwhash}" if user else pwhash)


COMMANDS = [hash_password]
