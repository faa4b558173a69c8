"""Every declared column has a header a desk reads: a title, its unit, no raw column name.

The pages' grids take their headers from the declarations (``Column.title`` +
:func:`flows.formatting.header`); these tests walk every column of every declared table, so a new
column without a human header fails here, not in front of a desk.
"""

from __future__ import annotations

import re

import pytest

from flows.formatting import NOT_NUMBERS, header, shown_unit
from flows.units import Unit
from jobs import declarations

EXAMPLES = {
    "<UNDERLYING>": "SPX",
    "<SYMBOL>": "NVDA",
    "<INDEX>": "SPX",
    "<BASKET>": "wide9",
    "<MARKET>": "es",
    "<CCY>": "EUR",
    "<SERIES>": "net_usd_levfunds_wide9",
    "<WINDOW>": "3y",
}
"""A published name for each placeholder (what a pattern column is published as)."""


def _published(name: str) -> str:
    for ph, value in EXAMPLES.items():
        name = name.replace(ph, value)
    return name


def _columns():
    for d in declarations.declarations():
        for t in d.tables:
            for c in t.columns:
                yield pytest.param(d, t, c, id=f"{d.name}.{t.name}.{c.name}")


@pytest.mark.parametrize(("decl", "table", "column"), list(_columns()))
def test_every_declared_column_has_a_human_header(decl, table, column) -> None:
    assert column.title.strip(), f"{decl.name}.{table.name}.{column.name}: no title"
    name = _published(column.name)
    text = header(column.header_title(name), column.unit)
    where = f"{decl.name}.{table.name}.{column.name}: {text!r}"
    assert text.strip() and text[0] == text[0].strip(), where
    assert "_" not in text and "<" not in text and ">" not in text, where  # no raw name
    # written as a header: capitalised (z-scores are written lower case, as statisticians do)
    assert text[0].isupper() or text[0].isdigit() or text.startswith("z-score"), where
    numeric = column.kind in ("float", "int")
    assert (shown_unit(column.unit) is not None) == numeric, where  # numbers say their unit
    if numeric:
        assert text.endswith(f" ({shown_unit(column.unit)})"), where
    # one unit, said once: no "(USD (+ = buy))", no sign convention in the title and the unit
    assert not re.search(r"\([^)]*\(", text), where
    assert text.count("+") <= 1 or "−3%" in text or "+3%" in text, where
    if column.unit == Unit.USD_FLOW:
        assert "(+" not in column.title and "buy" not in column.title.lower(), where


def test_placeholders_are_written_for_people() -> None:
    weekly = declarations.lookup("cftc.net_usd").table("weekly")
    z = weekly.column("net_usd_wide9_z_3y")
    assert z.header_title("net_usd_wide9_z_3y") == "Speculators' net USD, wide9, 3-year z-score"
    assert (
        weekly.column("net_usd_levfunds_wide9").header_title("net_usd_levfunds_wide9")
        == "Leveraged funds' net USD, wide9"
    )
    fx = declarations.lookup("cftc.fx").table("data").column("EUR")
    assert header(fx.header_title("EUR"), fx.unit) == "EUR (USD per unit of the currency)"
    assert declarations.placeholder_values("<SERIES>_z_<WINDOW>", "net_usd_wide9_z_1y") == {
        "<SERIES>": "net_usd_wide9",
        "<WINDOW>": "1y",
    }
    assert declarations.placeholder_values("<SERIES>_z_<WINDOW>", "close") == {}


def test_titles_are_found_from_a_published_tables_units() -> None:
    """A page passes ``meta.units[table]``; every declared table is found from its own column
    units, and where several declarations match (a table declared once, published under two
    results) they agree on every title."""
    for d in declarations.declarations():
        for t in d.tables:
            units = {_published(c.name): str(c.unit) for c in t.columns}
            found = declarations.column_titles(units)
            expected = {_published(c.name): c.header_title(_published(c.name)) for c in t.columns}
            assert found == expected, f"{d.name}.{t.name}"
            # a publish without the optional columns is found too
            required = {k: v for k, v in units.items() if not t.column(k).optional}
            assert declarations.column_titles(required) == {k: expected[k] for k in required}, (
                f"{d.name}.{t.name} (required columns only)"
            )


def test_unknown_units_find_no_titles() -> None:
    assert declarations.column_titles({}) == {}
    assert declarations.column_titles({"no_such_column": "USD"}) == {}
    # the right names with another unit are another table: no title is guessed
    assert declarations.column_titles({"underlying": "USD", "aum_usd": "label"}) == {}


def test_text_units_carry_no_unit_in_the_header() -> None:
    for u in NOT_NUMBERS:
        assert header("Regime", u) == "Regime"
