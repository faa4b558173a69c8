"""Bad-input corpus harness: mutate real files, run a ``flowdesk`` command in-process, classify.

Every corpus test (one module per source family, ``test_corpus_<family>.py``) builds mutated
copies of real files with the helpers below, runs the command through click's ``CliRunner`` and
classifies each outcome:

``clear error``
    exit code in the documented set (1 or 2) with an ``error: ...`` message naming the input;
``warned``
    exit 0 and a warning in the output (``quality.warnings`` in ``--json``, ``warning:`` lines);
``correct``
    exit 0, no warning, and the figure equals the clean file's (to a relative 1e-9);
``wrong``
    exit 0, no warning, a different figure: the fault this corpus exists to catch;
``traceback``
    any exception other than ``SystemExit`` escaped the command.

The assertion is that no case is ``wrong`` or ``traceback``.  :func:`outcome_table` prints the
table a closing note quotes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from click.testing import CliRunner

OUTCOMES = ("clear error", "warned", "correct", "wrong", "traceback")
DOCUMENTED_EXIT_CODES = {0, 1, 2}
"""Exit codes a file command may end with (README: 0 ok, 1 failed, 2 bad input/usage)."""


@dataclass
class Outcome:
    """One run of a command on one corpus case."""

    case: str
    kind: str
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    verdict: str = ""
    detail: str = ""


def run_cli(args: Sequence[str]) -> tuple[int, str, str, BaseException | None]:
    """Run ``flowdesk ARGS`` in-process; ``(exit code, stdout, stderr, escaped exception)``."""
    from jobs.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    exc = (
        result.exception
        if result.exception is not None and not isinstance(result.exception, SystemExit)
        else None
    )
    return result.exit_code, result.stdout, result.stderr, exc


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def classify(
    case: str,
    kind: str,
    args: Sequence[str],
    clean_value: float | None,
    value_of: Callable[[dict[str, Any]], float | None],
) -> Outcome:
    """Run the command (it must be given ``--json``) and classify the outcome (module docstring).

    ``value_of`` extracts the figure compared with ``clean_value`` from the parsed JSON output.
    """
    code, out, err, exc = run_cli(args)
    o = Outcome(case, kind, code, out, err, exc)
    if exc is not None:
        o.verdict, o.detail = "traceback", f"{type(exc).__name__}: {exc}"
        return o
    if code != 0:
        named = err.strip().startswith("error:")
        o.verdict = "clear error" if code in DOCUMENTED_EXIT_CODES and named else "traceback"
        o.detail = err.strip().splitlines()[0] if err.strip() else f"exit {code} with no message"
        return o
    try:
        payload = json.loads(out)
    except ValueError:
        o.verdict, o.detail = "wrong", "exit 0 but the --json output is not JSON"
        return o
    quality = payload.get("quality") if isinstance(payload, dict) else None
    warnings = (quality or {}).get("warnings") or []
    if warnings or (quality or {}).get("skipped_rows"):
        o.verdict, o.detail = (
            "warned",
            "; ".join(warnings)[:200] or f"{quality.get('skipped_rows')} rows skipped",
        )
        return o
    value = value_of(payload)
    o.verdict = "correct" if _close(value, clean_value) else "wrong"
    o.detail = f"value {value!r} vs clean {clean_value!r}"
    return o


def outcome_table(outcomes: Sequence[Outcome]) -> str:
    """Markdown table: kind x verdict counts, then the total."""
    kinds = sorted({o.kind for o in outcomes})
    counts = Counter((o.kind, o.verdict) for o in outcomes)
    lines = ["| kind | " + " | ".join(OUTCOMES) + " |", "| --- |" + " --- |" * len(OUTCOMES)]
    for k in kinds:
        lines.append(f"| {k} | " + " | ".join(str(counts.get((k, v), 0)) for v in OUTCOMES) + " |")
    total = Counter(o.verdict for o in outcomes)
    lines.append("| **all** | " + " | ".join(str(total.get(v, 0)) for v in OUTCOMES) + " |")
    return "\n".join(lines)


# -- mutations of delimited text ------------------------------------------------------------------
def split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def set_cells(
    text: str,
    header_line: int,
    rows: Sequence[int],
    column: str | int,
    value: str,
    *,
    occurrence: int = 0,
) -> str:
    """Replace ``column`` (name, or index) in data ``rows`` (0-based after the header) by ``value``.

    ``header_line`` is the 0-based line of the header; ``occurrence`` picks the n-th column of that
    name (CBOE quote tables repeat ``Gamma`` for calls and puts).
    """
    lines = split_lines(text)
    header = next(csv.reader([lines[header_line]]))
    if isinstance(column, int):
        idx = column
    else:
        idx = [i for i, h in enumerate(header) if h.strip() == column][occurrence]
    for r in rows:
        ln = header_line + 1 + r
        if ln >= len(lines):
            continue
        end = "\n" if lines[ln].endswith("\n") else ""
        fields = next(csv.reader([lines[ln].rstrip("\r\n")]))
        if idx < len(fields):
            fields[idx] = value
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(fields)
        lines[ln] = buf.getvalue() + end
    return "".join(lines)


def cut(text: str, fraction: float, *, mid_line: bool = True) -> str:
    """The first ``fraction`` of the text; ``mid_line`` keeps a partial last line (a broken download)."""
    n = max(1, int(len(text) * fraction))
    out = text[:n]
    if not mid_line:
        out = out[: out.rfind("\n") + 1]
    return out


def encode(text: str, encoding: str, *, bom: bool = False) -> bytes:
    """Bytes of ``text`` in ``encoding`` (``errors='replace'``), with a UTF-8 BOM when asked."""
    data = text.encode(encoding, errors="replace")
    return (b"\xef\xbb\xbf" + data) if bom else data


def json_set(payload: Any, path: Sequence[str | int], value: Any) -> Any:
    """A deep copy of ``payload`` with the item at ``path`` set to ``value``."""
    out = json.loads(json.dumps(payload))
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out
