"""``python -m jobs.cli``: the ``flowdesk`` command (child processes of ``flowdesk run`` use it)."""

from jobs.cli import main

main()
