"""No new ``Any`` in the public signatures of ``flows/`` (issue 14).

mypy runs strict on ``flows/`` in ``scripts/test`` (``[tool.mypy]``); strict mode still allows an
explicit ``Any``, and ``disallow_any_explicit`` would also refuse the JSON documents
(``dict[str, Any]``) the connectors legitimately carry.  This test is the ratchet: the public
functions whose annotations mention ``Any`` today are listed here (mostly JSON payloads and the
calendar's date-likes); a new one fails until it is typed precisely or added here on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

FLOWS = Path(__file__).resolve().parent.parent / "flows"

ALLOWED = frozenset(
    {
        "calendars.py:exchange_calendar",
        "calendars.py:is_session",
        "calendars.py:next_session",
        "calendars.py:session_closes",
        "calendars.py:session_on_or_before",
        "calendars.py:session_opens",
        "calendars.py:sessions_between",
        "calendars.py:sessions_in",
        "calendars.py:spx_standard_expiry",
        "calendars.py:third_fridays",
        "calendars.py:vx_contract_code",
        "calendars.py:vx_final_settlement",
        "calibration.py:to_dict",
        "formatting.py:format_value",
        "futures_positioning.py:headline",
        "levels.py:key_levels",
        "limits.py:check_range",
        "money.py:format_usd",
        "quality.py:from_dict",
        "quality.py:to_dict",
        "sources/cboe.py:parse",
        "sources/cboe.py:parse_timestamp",
        "sources/cboe.py:rows_frame",
        "sources/cboe_quotes.py:fetch",
        "sources/cboe_quotes.py:parse",
        "sources/cftc_files.py:coverage_warnings",
        "sources/cftc_socrata.py:fetch",
        "sources/cftc_socrata.py:parse",
        "sources/cftc_socrata.py:parse_rows",
        "sources/contract.py:build_query",
        "sources/contract.py:fetch",
        "sources/contract.py:get_bytes",
        "sources/contract.py:quality_of",
        "sources/http.py:from_settings",
        "sources/http.py:get",
        "sources/http.py:get_bytes",
        "sources/http.py:get_json",
        "sources/sample_options.py:sample_contracts",
        "sources/sample_options.py:sample_options_json",
    }
)


def public_signatures_with_any() -> set[str]:
    """``module.py:function`` for every public function or public-class method of ``flows/``
    whose parameter or return annotation mentions ``Any``."""
    found: set[str] = set()
    for path in sorted(FLOWS.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            funcs: list[ast.stmt] = [node]
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                funcs = list(node.body)
            for f in funcs:
                if not isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) or f.name.startswith(
                    "_"
                ):
                    continue
                a = f.args
                params = [
                    *a.posonlyargs,
                    *a.args,
                    *a.kwonlyargs,
                    *(x for x in (a.vararg, a.kwarg) if x),
                ]
                anns = [p.annotation for p in params if p.annotation] + (
                    [f.returns] if f.returns else []
                )
                if any("Any" in ast.unparse(ann) for ann in anns):
                    found.add(f"{path.relative_to(FLOWS).as_posix()}:{f.name}")
    return found


def test_no_new_any_in_public_signatures() -> None:
    new = public_signatures_with_any() - ALLOWED
    assert not new, (
        f"public signatures with Any added in flows/: {sorted(new)} (type them precisely)"
    )
