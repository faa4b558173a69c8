"""``python -m jobs.declarations``: print the results reference (``docs/results.md``).

``--write`` writes it to ``docs/results.md`` and renders the list of results into the README's
API section (run it after changing a declaration; ``tests/jobs/test_declarations.py`` fails
while either committed file differs); ``--json`` prints the JSON reference that
``GET /api/v1/declarations`` serves.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jobs.declarations import markdown, reference, render_readme

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "results.md"
"""The committed reference, linked from the README's API section."""
README = ROOT / "README.md"


def main(argv: list[str]) -> int:
    if "--json" in argv:
        print(json.dumps(reference(), indent=2))
    elif "--write" in argv:
        DOC.write_text(markdown(), encoding="utf-8")
        README.write_text(render_readme(README.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote {DOC} and the results list of {README}")
    else:
        print(markdown(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
