"""One typed declaration per result: its tables, column dtypes and units, headline keys.

Every result flowdesk publishes is declared exactly once, by a :class:`ResultDecl` in the module
of its family (``jobs/declarations/<family>.py``, listed in :data:`DECLARATION_MODULES`).  The
declaration is the single source of

* the tables a result has, each column's kind (:data:`KINDS`) and unit (:class:`Unit`), and
  what it means;
* the headline keys (the flat figures cards, alerts, history series and the brief read), their
  units and descriptions;
* the family's freshness cadence (:data:`CADENCES`) and the task that produces it.

Who reads it: :meth:`jobs.store.ResultStore.publish` validates every publish against it and
takes the column units from it (a task never passes units of its own); the alert catalogue
(:mod:`jobs.alerts.rules`) lists the numeric headline keys; :mod:`jobs.health` takes the as-of
cadence from it; the API's result listing and ``GET /api/v1/declarations`` serve it; the
formatters (:mod:`flows.formatting`) write numbers by its units; ``docs/results.md`` (linked from
the README's API section) is rendered from it (``python -m jobs.declarations --write``).

Names may hold placeholders (:data:`PLACEHOLDERS`): ``gamma.<UNDERLYING>`` declares one result
per underlying, a headline key ``net_usd_<BASKET>`` one key per configured basket, a column
``<SERIES>_z_<WINDOW>`` one column per series and window.  Exact names win; then patterns are
tried **in declared order** (declare the more specific pattern first: ``<SERIES>_z_<WINDOW>``
before ``net_usd_<BASKET>``, which would match it too).

Every publish also carries the input-quality keys the store adds (:data:`QUALITY_HEADLINE`),
declared here once for every result.

This module imports nothing from ``jobs`` (it sits between the store and the configuration in
the layers of ``docs/architecture.md``).
"""

from __future__ import annotations

import importlib
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import pandas as pd

from flows.errors import DeclarationError
from flows.formatting import series_label
from flows.units import Unit

__all__ = [
    "CADENCES",
    "DECLARATION_MODULES",
    "KINDS",
    "PLACEHOLDERS",
    "QUALITY_HEADLINE",
    "Column",
    "DeclarationError",
    "HeadlineKey",
    "ResultDecl",
    "Table",
    "Unit",
    "alert_catalogue",
    "column_titles",
    "declarations",
    "declare",
    "empty_table",
    "empty_tables",
    "find",
    "headline_units",
    "lookup",
    "markdown",
    "matching_tables",
    "placeholder_values",
    "readme_block",
    "reference",
    "render_readme",
    "validate",
]

KINDS = ("float", "int", "str", "bool", "date", "time", "any")
"""Column kinds: ``date`` = tz-naive datetime64, ``time`` = tz-aware datetime64, ``any`` = not
checked (use sparingly: a declared kind is a checked kind)."""
HEADLINE_KINDS = ("number", "text", "bool", "list", "time", "any")
"""Headline value kinds: ``number`` (int or float; None when not computed), ``text``, ``bool``,
``list`` (of numbers or records), ``time`` (ISO 8601 text), ``any`` (not checked)."""
CADENCES = ("session", "daily", "weekly-cftc", "derived", "on-demand")
"""How fresh a result's data (its as-of) is expected to be (:mod:`jobs.health` grades it):
``session`` = intraday quotes of an exchange session, ``daily`` = end-of-day files,
``weekly-cftc`` = the CFTC's weekly release, ``derived`` = built from other results (graded
through them), ``on-demand`` = no schedule (the demo)."""
PLACEHOLDERS: dict[str, str] = {
    "<UNDERLYING>": r"[A-Z0-9^_]{1,12}",
    "<SYMBOL>": r"[A-Z0-9^_]{1,12}",
    "<INDEX>": r"[A-Z0-9^_]{1,12}",
    "<BASKET>": r"[a-z0-9_]+",
    "<MARKET>": r"[a-z0-9_]+",
    "<CCY>": r"[A-Z]{3}",
    "<SERIES>": r"net_usd_[a-z0-9_]+",
    "<WINDOW>": r"[0-9]+y",
}
"""What each placeholder of a name stands for (a regular expression).  ``<BASKET>`` is a key of
``[cftc] baskets``; ``<SERIES>`` a net USD series (``net_usd_<BASKET>``,
``net_usd_levfunds_<BASKET>``, ``net_usd_assetmgr_<BASKET>``); ``<WINDOW>`` a look-back in years
(``1y``, ``3y``, ``5y``); ``<CCY>`` an ISO currency code."""


def _series_text(series: str) -> str:
    """``net_usd_levfunds_wide9`` -> ``Leveraged funds' net USD, wide9`` (see ``<SERIES>``): the
    series' words (:func:`flows.formatting.series_label`) opening a title."""
    words = series_label(series)
    return words[:1].upper() + words[1:]


PLACEHOLDER_TEXT: dict[str, Any] = {
    "<SERIES>": _series_text,
    "<WINDOW>": lambda w: f"{w.removesuffix('y')}-year",
}
"""How a placeholder's value is written in a column title (others as they are: ``<BASKET>``
``wide9``, ``<CCY>`` ``EUR``)."""


@cache
def _binder(template: str) -> re.Pattern[str]:
    """Like :func:`_compile`, with one named group per placeholder (``P0``, ``P1``, ...)."""
    rx = re.escape(template)
    for i, ph in enumerate(p for p in PLACEHOLDERS if p in template):
        rx = rx.replace(re.escape(ph), f"(?P<P{i}>{PLACEHOLDERS[ph]})")
    return re.compile(f"^{rx}$")


def placeholder_values(template: str, name: str) -> dict[str, str]:
    """``{placeholder: value}`` of ``name`` matched by the pattern ``template`` (``{}`` when it
    does not match): ``placeholder_values("<SERIES>_z_<WINDOW>", "net_usd_wide9_z_3y")`` ->
    ``{"<SERIES>": "net_usd_wide9", "<WINDOW>": "3y"}``."""
    m = _binder(template).match(name)
    if m is None:
        return {}
    used = [p for p in PLACEHOLDERS if p in template]
    return {used[int(k[1:])]: v for k, v in m.groupdict().items()}


TEXT_UNITS = frozenset({Unit.LABEL, Unit.TEXT, Unit.FLAG, Unit.LIST, Unit.DATE, Unit.TIME})
"""Units that are not amounts (a numeric column or key never carries one)."""


@cache
def _compile(template: str) -> re.Pattern[str]:
    rx = re.escape(template)
    for ph, sub in PLACEHOLDERS.items():
        rx = rx.replace(re.escape(ph), sub)
    return re.compile(f"^{rx}$")


def _find(items: Iterable[Any], name: str, attr: str) -> Any | None:
    """The item whose ``attr`` is ``name``; else the first whose ``attr`` is a pattern matching it."""
    items = tuple(items)
    for item in items:
        if getattr(item, attr) == name:
            return item
    for item in items:
        template = getattr(item, attr)
        if "<" in template and _compile(template).match(name):
            return item
    return None


@dataclass(frozen=True)
class Column:
    """One column of a declared table (``name`` may hold placeholders)."""

    name: str
    kind: Literal["float", "int", "str", "bool", "date", "time", "any"]
    unit: Unit | str
    description: str = ""
    optional: bool = False
    """May be absent (e.g. ``dealer_position_contracts`` when the source has no positions)."""
    storage: Literal["float64", "float32"] = "float64"
    """How a ``float`` column is kept in Redis: ``float32`` only where its values carry fewer
    significant digits than float32's 7 (a per-option sensitivity quoted to 4 decimals), never
    for money or a figure that must reconcile with a sum (the store casts it at publish)."""
    title: str = ""
    """The column's header for people, without its unit (:func:`flows.formatting.header` adds
    the unit): ``"Net GEX"`` -> ``Net GEX (USD per 1% move)``.  Placeholders of the name may
    appear in it (``"<SERIES>, <WINDOW> z-score"``) and are filled by :meth:`header_title`.
    Every declared column has one (``tests/jobs/test_column_titles.py``)."""

    def header_title(self, name: str | None = None) -> str:
        """The title of the published column ``name`` (default: the declared name): the
        placeholders of :attr:`title` filled with the parts of ``name`` they matched, written
        for people (:data:`PLACEHOLDER_TEXT`).  A column declared without a title reads as its
        name with spaces (never shown for a declared result: the test above)."""
        name = self.name if name is None else name
        if not self.title:
            return name.replace("_", " ")
        if "<" not in self.title:
            return self.title
        parts = placeholder_values(self.name, name)
        title = self.title
        for ph, value in parts.items():
            title = title.replace(ph, PLACEHOLDER_TEXT.get(ph, str)(value))
        return title


@dataclass(frozen=True)
class Table:
    """One named table of a result."""

    name: str
    columns: tuple[Column, ...]
    description: str = ""
    optional: bool = False
    """The result may be published without it."""
    history: Literal["all", "latest"] = "all"
    """``latest``: kept only in the newest versions of the result (``[store] full_versions``);
    older versions keep their other tables and the headline (:meth:`ResultStore.publish`
    slims them).  For large detail tables (per-contract rows, the 801-point profile)."""

    def column(self, name: str) -> Column | None:
        """The declared column ``name`` (exactly, else the first pattern matching it)."""
        return _find(self.columns, name, "name")


@dataclass(frozen=True)
class HeadlineKey:
    """One headline figure (flat key of ``ResultMeta.headline``; ``key`` may hold placeholders)."""

    key: str
    unit: Unit | str
    description: str = ""
    kind: Literal["number", "text", "bool", "list", "time", "any"] = "number"
    alertable: bool = True
    """Numeric keys alert rules may read (``<result>.<key>``); False for text, lists, flags and
    figures that are not worth a rule (parameters echoed in the headline)."""


QUALITY_HEADLINE: tuple[HeadlineKey, ...] = (
    HeadlineKey(
        "quality_skipped_share",
        Unit.FRACTION,
        "share of the input's basis (open interest / AUM / positions) in skipped rows, 0-1",
    ),
    HeadlineKey("quality_warnings", Unit.COUNT, "input-quality warnings"),
)
"""Headline keys :meth:`jobs.store.ResultStore.publish` adds to every result published with an
input quality (valid alert metrics of every result)."""


@dataclass(frozen=True)
class ResultDecl:
    """The declaration of one result (or one family of results through a placeholder)."""

    name: str
    description: str
    task: str
    cadence: Literal["session", "daily", "weekly-cftc", "derived", "on-demand"]
    tables: tuple[Table, ...]
    headline: tuple[HeadlineKey, ...] = ()
    extra_headline: bool = False
    """Allow headline keys beyond the declared ones (never for new results; a migration aid)."""
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _compile(self.name))

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def headline_key(self, key: str) -> HeadlineKey | None:
        """The declared headline key ``key`` (exactly, else through a pattern; the quality keys of
        :data:`QUALITY_HEADLINE` belong to every result)."""
        return _find((*self.headline, *QUALITY_HEADLINE), key, "key")

    def units(self) -> dict[str, dict[str, str]]:
        """``{table: {column: unit}}`` of every declared column (names as declared)."""
        return {t.name: {c.name: str(c.unit) for c in t.columns} for t in self.tables}

    def to_dict(self) -> dict[str, Any]:
        """The declaration as plain JSON-able data (``GET /api/v1/declarations``)."""
        return {
            "name": self.name,
            "description": self.description,
            "task": self.task,
            "cadence": self.cadence,
            "tables": [
                {
                    "name": t.name,
                    "description": t.description,
                    "optional": t.optional,
                    "history": t.history,
                    "columns": [
                        {
                            "name": c.name,
                            "title": c.title,
                            "kind": c.kind,
                            "unit": str(c.unit),
                            "description": c.description,
                            "optional": c.optional,
                            "storage": c.storage,
                        }
                        for c in t.columns
                    ],
                }
                for t in self.tables
            ],
            "headline": [
                {
                    "key": h.key,
                    "kind": h.kind,
                    "unit": str(h.unit),
                    "description": h.description,
                    "alertable": h.alertable,
                }
                for h in (*self.headline, *QUALITY_HEADLINE)
            ],
        }


# -- registry -----------------------------------------------------------------------------------
DECLARATION_MODULES: tuple[str, ...] = (
    "jobs.declarations.demo",
    "jobs.declarations.gamma",
    "jobs.declarations.letf",
    "jobs.declarations.cftc",
    "jobs.declarations.board",
    "jobs.declarations.universe",
    "jobs.declarations.prices",
    "jobs.declarations.systematic",
    "jobs.declarations.futures_positioning",
)
"""Modules of this package that declare results (imported on first lookup, in this order).
A new family adds its module here (``tests`` check every publish is declared)."""

_REGISTRY: dict[str, ResultDecl] = {}
_loaded = False


def _check(decl: ResultDecl) -> None:
    """Refuse a declaration that could not describe a publish: an unknown cadence, kind or unit,
    a numeric column or key with a non-numeric unit, duplicate tables or columns."""
    where = f"declaration {decl.name!r}"
    if decl.cadence not in CADENCES:
        raise DeclarationError(
            f"{where}: cadence {decl.cadence!r} is not one of {', '.join(CADENCES)}"
        )
    names = [t.name for t in decl.tables]
    if len(set(names)) != len(names):
        raise DeclarationError(f"{where}: a table is declared twice ({', '.join(names)})")
    for t in decl.tables:
        cols = [c.name for c in t.columns]
        if len(set(cols)) != len(cols):
            raise DeclarationError(f"{where}.{t.name}: a column is declared twice")
        for c in t.columns:
            if c.kind not in KINDS:
                raise DeclarationError(
                    f"{where}.{t.name}.{c.name}: kind {c.kind!r} is not one of {', '.join(KINDS)}"
                )
            _check_unit(f"{where}.{t.name}.{c.name}", c.unit, numeric=c.kind in ("float", "int"))
    keys = [h.key for h in decl.headline]
    if len(set(keys)) != len(keys):
        raise DeclarationError(f"{where}: a headline key is declared twice")
    for h in decl.headline:
        if h.kind not in HEADLINE_KINDS:
            raise DeclarationError(
                f"{where}: headline {h.key!r}: kind {h.kind!r} is not one of {', '.join(HEADLINE_KINDS)}"
            )
        if h.alertable and h.kind != "number":
            raise DeclarationError(
                f"{where}: headline {h.key!r} is {h.kind}: only numbers are alertable (alertable=False)"
            )
        _check_unit(f"{where}: headline {h.key!r}", h.unit, numeric=h.kind == "number")


def _check_unit(where: str, unit: Unit | str, *, numeric: bool) -> None:
    try:
        u = Unit(unit)
    except ValueError:
        raise DeclarationError(f"{where}: unit {unit!r} is not a flows.units.Unit") from None
    if numeric and u in TEXT_UNITS:
        raise DeclarationError(f"{where}: a number declared with the unit {u.value!r}")


def declare(decl: ResultDecl) -> ResultDecl:
    """Register ``decl`` (a module-level call in a declaration module); names are unique.

    Raises :class:`DeclarationError` for a name declared twice or an incoherent declaration
    (see :func:`_check`).
    """
    if decl.name in _REGISTRY and _REGISTRY[decl.name] != decl:
        raise DeclarationError(f"result {decl.name!r} is declared twice")
    _check(decl)
    _REGISTRY[decl.name] = decl
    return decl


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in DECLARATION_MODULES:
        importlib.import_module(module)
    _loaded = True


def declarations() -> list[ResultDecl]:
    """Every declaration, in registration order."""
    _load()
    return list(_REGISTRY.values())


def find(name: str) -> ResultDecl | None:
    """The declaration of result ``name``, or None (exact names win over placeholder patterns)."""
    _load()
    if name in _REGISTRY:
        return _REGISTRY[name]
    for decl in _REGISTRY.values():
        if "<" in decl.name and decl.pattern.match(name):
            return decl
    return None


def lookup(name: str) -> ResultDecl:
    """The declaration of result ``name`` (exact names win over placeholder patterns).

    Raises :class:`DeclarationError` naming the known declarations when there is none.
    """
    decl = find(name)
    if decl is None:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise DeclarationError(
            f"result {name!r} has no declaration (declared: {known}); declare it in jobs/declarations/"
        )
    return decl


# -- validation -----------------------------------------------------------------------------------
def _kind_ok(kind: str, series: pd.Series) -> bool:
    dt = series.dtype
    if kind == "any" or len(series) == 0:  # an empty column carries no values of another kind
        return True
    if kind == "float":
        return (
            pd.api.types.is_float_dtype(dt)
            or pd.api.types.is_integer_dtype(dt)
            or (pd.api.types.is_object_dtype(dt) and bool(series.isna().all()))
        )
    if kind == "int":
        return pd.api.types.is_integer_dtype(dt)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dt)
    if kind == "str":
        return (
            pd.api.types.is_string_dtype(dt)
            or pd.api.types.is_object_dtype(dt)
            or isinstance(dt, pd.CategoricalDtype)
        )
    if kind == "date":
        return not isinstance(dt, pd.DatetimeTZDtype) and pd.api.types.is_datetime64_dtype(dt)
    if kind == "time":
        return isinstance(dt, pd.DatetimeTZDtype)
    raise DeclarationError(f"unknown column kind {kind!r} (known: {', '.join(KINDS)})")


def _value_ok(kind: str, value: Any) -> bool:
    if value is None or kind == "any":
        return True
    if kind == "number":
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind in ("text", "time"):
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list | tuple)
    return False


def validate(
    name: str, tables: Mapping[str, pd.DataFrame], headline: Mapping[str, Any] | None = None
) -> dict[str, dict[str, str]]:
    """Check one publish of ``name`` against its declaration; return the column units.

    Refused (:class:`DeclarationError` naming the result, table and column or key): an
    undeclared result, a missing required table, an undeclared table, a missing required column,
    an undeclared column, a column of another kind, an undeclared headline key, a headline value
    of another kind (a number where text is declared, ...).
    """
    decl = lookup(name)
    for t in decl.tables:
        if not t.optional and t.name not in tables:
            raise DeclarationError(
                f"{name}: table {t.name!r} is declared but not published (published: {', '.join(tables)})"
            )
    units: dict[str, dict[str, str]] = {}
    for tname, frame in tables.items():
        table = decl.table(tname)
        if table is None:
            raise DeclarationError(
                f"{name}: table {tname!r} is not declared (declared: {', '.join(t.name for t in decl.tables)})"
            )
        for col in table.columns:
            if not col.optional and "<" not in col.name and col.name not in frame.columns:
                raise DeclarationError(
                    f"{name}.{tname}: column {col.name!r} is declared but missing"
                )
        units[tname] = {}
        for cname in map(str, frame.columns):
            col = table.column(cname)
            if col is None:
                raise DeclarationError(f"{name}.{tname}: column {cname!r} is not declared")
            if not _kind_ok(col.kind, frame[cname]):
                raise DeclarationError(
                    f"{name}.{tname}.{cname}: declared {col.kind}, published {frame[cname].dtype}"
                )
            units[tname][cname] = str(col.unit)
    if headline and not decl.extra_headline:
        for key, value in headline.items():
            h = decl.headline_key(key)
            if h is None:
                raise DeclarationError(f"{name}: headline key {key!r} is not declared")
            if not _value_ok(h.kind, value):
                raise DeclarationError(
                    f"{name}: headline key {key!r} is declared {h.kind}, published {type(value).__name__} {value!r:.60}"
                )
    return units


_DTYPES = {
    "float": "float64",
    "int": "int64",
    "str": "object",
    "bool": "bool",
    "date": "datetime64[ns]",
    "time": "datetime64[ns, UTC]",
    "any": "object",
}


def empty_table(name: str, table: str) -> pd.DataFrame:
    """Table ``table`` of result ``name`` with no rows: every declared column (placeholder
    columns left out) with the dtype of its kind.  For a task that has nothing to put in a
    declared table, and for tests."""
    decl = lookup(name)
    t = decl.table(table)
    if t is None:
        raise DeclarationError(
            f"{name}: table {table!r} is not declared (declared: {', '.join(x.name for x in decl.tables)})"
        )
    return pd.DataFrame(
        {c.name: pd.Series(dtype=_DTYPES[c.kind]) for c in t.columns if "<" not in c.name}
    )


def empty_tables(name: str) -> dict[str, pd.DataFrame]:
    """:func:`empty_table` of every required table of ``name``, in declared order."""
    return {t.name: empty_table(name, t.name) for t in lookup(name).tables if not t.optional}


def headline_units(name: str, keys: Iterable[str]) -> dict[str, str]:
    """Unit of each headline key of ``name`` (``label`` for an undeclared one)."""
    decl = lookup(name)
    out = {}
    for k in keys:
        h = decl.headline_key(k)
        out[k] = str(h.unit) if h is not None else str(Unit.LABEL)
    return out


def matching_tables(units: Mapping[str, str]) -> list[tuple[ResultDecl, Table]]:
    """The declared tables a published table with these column ``units`` (``meta.units[table]``:
    every published column and its unit) is a publish of: every column resolves (exactly or
    through a pattern) to a declared column of the same unit, and every required column of the
    table is there.  Usually one; tables declared once and published under two results
    (``gamma.<UNDERLYING>`` and ``universe.<SYMBOL>``, the board's and the brief's levels) match
    together, with the same columns."""
    return list(_matching(tuple(sorted(units.items()))))


@cache
def _matching(items: tuple[tuple[str, str], ...]) -> tuple[tuple[ResultDecl, Table], ...]:
    if not items:
        return ()
    out = []
    for d in declarations():
        for t in d.tables:
            ok = True
            for name, unit in items:
                col = t.column(name)
                if col is None or str(col.unit) != unit:
                    ok = False
                    break
            names = {n for n, _ in items}
            if ok and all(
                c.name in names for c in t.columns if not c.optional and "<" not in c.name
            ):
                out.append((d, t))
    return tuple(out)


def column_titles(units: Mapping[str, str]) -> dict[str, str]:
    """``{column: title}`` of a published table given its column ``units`` (``meta.units[table]``),
    from the declared table(s) it matches (:func:`matching_tables`): the page need not say which
    result and table a frame came from.  A column whose matching declarations disagree on its
    title (none today: ``tests/jobs/test_column_titles.py``) is left out (the caller falls back)."""
    tables = matching_tables(units)
    out: dict[str, str] = {}
    for name in units:
        titles = {col.header_title(name) for _d, t in tables if (col := t.column(name)) is not None}
        if len(titles) == 1:
            out[name] = titles.pop()
    return out


def alert_catalogue() -> dict[str, dict[str, HeadlineKey]]:
    """The metrics alert rules may read: ``{result name (or pattern): {key: HeadlineKey}}``, the
    numeric ``alertable`` headline keys of every declaration plus :data:`QUALITY_HEADLINE`."""
    return {
        d.name: {
            h.key: h for h in (*d.headline, *QUALITY_HEADLINE) if h.alertable and h.kind == "number"
        }
        for d in declarations()
    }


def reference() -> dict[str, Any]:
    """Every declaration as JSON-able data, with the placeholders and units they use."""
    return {
        "placeholders": dict(PLACEHOLDERS),
        "units": [u.value for u in Unit],
        "results": [d.to_dict() for d in declarations()],
    }


# -- the reference documents --------------------------------------------------------------------
README_BEGIN = (
    "<!-- results: rendered by `python -m jobs.declarations --write` from jobs/declarations/ -->"
)
README_END = "<!-- results: end -->"
"""Markers of the block of the README's API section rendered by :func:`readme_block`."""


def readme_block() -> str:
    """The README's list of published results (between :data:`README_BEGIN` and
    :data:`README_END`): name, cadence, tables and headline keys; the details are in
    ``docs/results.md``."""
    lines = [
        README_BEGIN,
        "",
        "| result | cadence | tables | headline keys | what |",
        "| --- | --- | --- | --- | --- |",
    ]
    for d in declarations():
        tables = ", ".join(f"`{t.name}`" for t in d.tables)
        alertable = sum(h.alertable for h in d.headline)
        lines.append(
            f"| `{d.name}` | {d.cadence} | {tables} | {len(d.headline)} ({alertable} alertable) | {d.description} |"
        )
    lines += ["", README_END]
    return "\n".join(lines)


def render_readme(text: str) -> str:
    """``text`` (the README) with its rendered block replaced by :func:`readme_block`.

    Raises :class:`DeclarationError` when the markers are missing."""
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        raise DeclarationError(
            f"README: the markers {README_BEGIN!r} ... {README_END!r} are missing"
        )
    return text[:start] + readme_block() + text[end + len(README_END) :]


def markdown() -> str:
    """``docs/results.md``: every result, its tables and headline keys with units.

    Committed and checked by ``tests/jobs/test_declarations.py`` (regenerate with
    ``python -m jobs.declarations --write``).
    """
    lines: list[str] = [
        "# Published results",
        "",
        "<!-- Generated by `python -m jobs.declarations --write` from jobs/declarations/; do not edit. -->",
        "",
        "Every result flowdesk publishes to the store, as declared in `jobs/declarations/`: its tables,",
        "each column's kind and unit, and its headline keys (the figures cards, alerts and history read).",
        "A publish that does not match its declaration is refused. The same reference is served as JSON",
        "by `GET /api/v1/declarations`. Alert rules may read every headline key marked *alertable*",
        "(`<result>.<key>`); `quality_skipped_share` and `quality_warnings` belong to every result",
        "published with an input quality.  Tables marked *latest versions only* are kept in the newest",
        "`[store] full_versions` versions; older versions keep the other tables and the headline.",
        "",
        "Placeholders: " + "; ".join(f"`{k}` = `{v}`" for k, v in PLACEHOLDERS.items()) + ".",
        "",
    ]
    for d in declarations():
        lines.append(f"### `{d.name}` ({d.cadence}, task `{d.task}`)\n\n{d.description}\n")
        for t in d.tables:
            kept = (
                " (latest versions only: older versions keep the other tables)"
                if t.history == "latest"
                else ""
            )
            lines.append(
                f"- table `{t.name}`{' (optional)' if t.optional else ''}{kept}: {t.description}"
            )
            lines.extend(
                f"  - `{c.name}` ({c.kind}, {c.unit}){' (optional)' if c.optional else ''}{', stored as float32' if c.storage == 'float32' else ''}{', header “' + c.title + '”' if c.title else ''}{': ' + c.description if c.description else ''}"
                for c in t.columns
            )
        if d.headline:
            lines.append("- headline:")
            lines.extend(
                f"  - `{h.key}` ({h.unit}){'' if h.alertable else ', not alertable'}{': ' + h.description if h.description else ''}"
                for h in d.headline
            )
        lines.append("")
    return "\n".join(lines)
