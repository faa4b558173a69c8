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
(:mod:`jobs.alerts.rules`) lists the headline keys; the API's result listing and the formatters
take units from it; the README's API section is rendered from it (``python -m jobs.declarations``).

Names may hold placeholders (:data:`PLACEHOLDERS`): ``gamma.<UNDERLYING>`` declares one result
per underlying, a headline key ``net_usd_<BASKET>`` one key per configured basket.

This module imports nothing from ``jobs`` (it sits between the store and the configuration in
the layers of ``docs/architecture.md``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import pandas as pd

from flows.errors import FlowdeskError


class Unit(StrEnum):
    """The units a column or headline figure may carry (shown verbatim on axes and headers)."""

    USD = "USD"
    USD_FLOW = "USD (+ = buy)"
    USD_PER_1PCT = "USD per 1% move"
    USD_PER_POINT = "USD per 1 point move"
    USD_PER_BP = "USD per basis point"
    USD_PER_VOL_POINT = "USD per volatility point"
    SHARES_PER_1PCT = "shares per 1% move"
    SHARES = "shares"
    CONTRACTS = "contracts"
    COUNT = "count"
    PERCENT = "%"
    PCT_OF_ADV = "% of ADV"
    PCT_OF_OI = "% of open interest"
    FRACTION = "fraction (0-1)"
    FRACTION_PER_YEAR = "fraction per year"
    PERCENTILE = "percentile (0-100)"
    INDEX_0_100 = "index (0-100)"
    STDEV = "standard deviations"
    PRICE = "index points / USD per share"
    INDEX_POINTS = "index points"
    VOL_POINTS = "volatility points"
    YEARS = "years"
    DAYS = "days"
    HOURS = "hours"
    DATE = "date"
    TIME = "time (UTC)"
    PER_POINT_PER_OPTION = "per 1 point per option"
    PER_OPTION = "per option"
    DIMENSIONLESS = "dimensionless"
    LABEL = "label"


KINDS = ("float", "int", "str", "bool", "date", "time", "any")
"""Column kinds: ``date`` = tz-naive datetime64, ``time`` = tz-aware datetime64 (UTC), ``any``
= not checked (use sparingly: a declared kind is a checked kind)."""
CADENCES = ("session", "daily", "weekly-cftc", "derived", "on-demand")
"""How fresh a result's data (its as-of) is expected to be (:mod:`jobs.health` grades it)."""
PLACEHOLDERS: dict[str, str] = {
    "<UNDERLYING>": r"[A-Z0-9^_]{1,12}",
    "<SYMBOL>": r"[A-Z0-9^_]{1,12}",
    "<BASKET>": r"[a-z0-9_]+",
    "<MARKET>": r"[a-z0-9_]+",
}


class DeclarationError(FlowdeskError):
    """A publish that does not match its result's declaration, or a result with none."""


@dataclass(frozen=True)
class Column:
    """One column of a declared table."""

    name: str
    kind: Literal["float", "int", "str", "bool", "date", "time", "any"]
    unit: Unit | str
    description: str = ""
    optional: bool = False
    """May be absent (e.g. ``dealer_position_contracts`` when the source has no positions)."""


@dataclass(frozen=True)
class Table:
    """One named table of a result."""

    name: str
    columns: tuple[Column, ...]
    description: str = ""
    optional: bool = False
    """The result may be published without it."""

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class HeadlineKey:
    """One headline figure (flat key of ``ResultMeta.headline``)."""

    key: str
    unit: Unit | str
    description: str = ""
    kind: Literal["number", "text", "bool", "list", "time", "any"] = "number"
    alertable: bool = True
    """Numeric keys alert rules may read (``<result>.<key>``)."""


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
        for h in self.headline:
            if h.key == key or ("<" in h.key and _compile(h.key).match(key)):
                return h
        return None

    def units(self) -> dict[str, dict[str, str]]:
        """``{table: {column: unit}}`` of every declared column."""
        return {t.name: {c.name: str(c.unit) for c in t.columns} for t in self.tables}


def _compile(template: str) -> re.Pattern[str]:
    rx = re.escape(template)
    for ph, sub in PLACEHOLDERS.items():
        rx = rx.replace(re.escape(ph), sub)
    return re.compile(f"^{rx}$")


# -- registry -----------------------------------------------------------------------------------
DECLARATION_MODULES: tuple[str, ...] = ("jobs.declarations.universe",)
"""Modules of this package that declare results (imported on first lookup, in this order).
A new family adds its module here (``tests`` check every publish is declared)."""

_REGISTRY: dict[str, ResultDecl] = {}
_loaded = False


def declare(decl: ResultDecl) -> ResultDecl:
    """Register ``decl`` (a module-level call in a declaration module); names are unique."""
    if decl.name in _REGISTRY and _REGISTRY[decl.name] != decl:
        raise DeclarationError(f"result {decl.name!r} is declared twice")
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


def lookup(name: str) -> ResultDecl:
    """The declaration of result ``name`` (exact names win over placeholder patterns).

    Raises :class:`DeclarationError` naming the known declarations when there is none.
    """
    _load()
    if name in _REGISTRY:
        return _REGISTRY[name]
    for decl in _REGISTRY.values():
        if "<" in decl.name and decl.pattern.match(name):
            return decl
    known = ", ".join(sorted(_REGISTRY)) or "none"
    raise DeclarationError(f"result {name!r} has no declaration (declared: {known}); declare it in jobs/declarations/")


# -- validation -----------------------------------------------------------------------------------
def _kind_ok(kind: str, series: pd.Series) -> bool:
    dt = series.dtype
    if kind == "any":
        return True
    if kind == "float":
        return pd.api.types.is_float_dtype(dt) or pd.api.types.is_integer_dtype(dt) or (pd.api.types.is_object_dtype(dt) and bool(series.isna().all()))
    if kind == "int":
        return pd.api.types.is_integer_dtype(dt)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dt)
    if kind == "str":
        return pd.api.types.is_string_dtype(dt) or pd.api.types.is_object_dtype(dt)
    if kind == "date":
        return not isinstance(dt, pd.DatetimeTZDtype) and pd.api.types.is_datetime64_dtype(dt)
    if kind == "time":
        return isinstance(dt, pd.DatetimeTZDtype)
    raise DeclarationError(f"unknown column kind {kind!r} (known: {', '.join(KINDS)})")


def validate(name: str, tables: Mapping[str, pd.DataFrame], headline: Mapping[str, Any] | None = None) -> dict[str, dict[str, str]]:
    """Check one publish of ``name`` against its declaration; return the column units.

    Refused (:class:`DeclarationError` naming the result, table and column or key): an
    undeclared result, a missing required table, an undeclared table, a missing required column,
    an undeclared column, a column of another kind, an undeclared headline key.
    """
    decl = lookup(name)
    for t in decl.tables:
        if not t.optional and t.name not in tables:
            raise DeclarationError(f"{name}: table {t.name!r} is declared but not published (published: {', '.join(tables)})")
    units: dict[str, dict[str, str]] = {}
    for tname, frame in tables.items():
        table = decl.table(tname)
        if table is None:
            raise DeclarationError(f"{name}: table {tname!r} is not declared (declared: {', '.join(t.name for t in decl.tables)})")
        for col in table.columns:
            if not col.optional and col.name not in frame.columns:
                raise DeclarationError(f"{name}.{tname}: column {col.name!r} is declared but missing")
        units[tname] = {}
        for cname in map(str, frame.columns):
            col = table.column(cname)
            if col is None:
                raise DeclarationError(f"{name}.{tname}: column {cname!r} is not declared")
            if not _kind_ok(col.kind, frame[cname]):
                raise DeclarationError(f"{name}.{tname}.{cname}: declared {col.kind}, published {frame[cname].dtype}")
            units[tname][cname] = str(col.unit)
    if headline and not decl.extra_headline:
        for key in headline:
            if decl.headline_key(key) is None and not key.startswith("quality_"):
                raise DeclarationError(f"{name}: headline key {key!r} is not declared")
    return units


def headline_units(name: str, keys: Iterable[str]) -> dict[str, str]:
    """Unit of each headline key of ``name`` (``label`` for an undeclared one)."""
    decl = lookup(name)
    out = {}
    for k in keys:
        h = decl.headline_key(k)
        out[k] = str(h.unit) if h is not None else str(Unit.LABEL)
    return out


def markdown() -> str:
    """The README's API reference: every result, its tables and headline keys with units."""
    lines: list[str] = []
    for d in declarations():
        lines.append(f"### `{d.name}` ({d.cadence}, task `{d.task}`)\n\n{d.description}\n")
        for t in d.tables:
            lines.append(f"- table `{t.name}`{' (optional)' if t.optional else ''}: {t.description}")
            lines.extend(f"  - `{c.name}` ({c.kind}, {c.unit}){': ' + c.description if c.description else ''}" for c in t.columns)
        if d.headline:
            lines.append("- headline:")
            lines.extend(f"  - `{h.key}` ({h.unit}){': ' + h.description if h.description else ''}" for h in d.headline)
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m jobs.declarations > docs/results.md
    print(markdown())
