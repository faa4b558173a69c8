"""jobs.declarations: the typed declaration API (lookup, validation, units, placeholders)."""

from __future__ import annotations

import pandas as pd
import pytest

from jobs import declarations as d


@pytest.fixture()
def toy() -> d.ResultDecl:
    decl = d.ResultDecl(
        name="toy.<UNDERLYING>",
        description="a toy result",
        task="demo",
        cadence="derived",
        tables=(
            d.Table("main", (d.Column("strike", "float", d.Unit.PRICE), d.Column("oi", "int", d.Unit.CONTRACTS), d.Column("pos", "float", d.Unit.CONTRACTS, optional=True))),
            d.Table("side", (d.Column("when", "time", d.Unit.TIME),), optional=True),
        ),
        headline=(d.HeadlineKey("net_usd", d.Unit.USD), d.HeadlineKey("net_usd_<BASKET>", d.Unit.USD)),
    )
    d._REGISTRY[decl.name] = decl
    yield decl
    d._REGISTRY.pop(decl.name, None)


def test_lookup_by_placeholder_and_units(toy: d.ResultDecl) -> None:
    assert d.lookup("toy.SPX") is toy
    main = pd.DataFrame({"strike": [1.0], "oi": [3]})
    assert d.validate("toy.SPX", {"main": main}, {"net_usd": 1.0, "net_usd_wide9": 2.0, "quality_warnings": 0}) == {"main": {"strike": "index points / USD per share", "oi": "contracts"}}
    assert d.headline_units("toy.SPX", ["net_usd_reuters6", "other"]) == {"net_usd_reuters6": "USD", "other": "label"}
    with pytest.raises(d.DeclarationError, match="'toy.spx' has no declaration"):
        d.lookup("toy.spx")


@pytest.mark.parametrize(
    ("tables", "headline", "message"),
    [
        ({}, {}, "table 'main' is declared but not published"),
        ({"main": pd.DataFrame({"strike": [1.0]})}, {}, "column 'oi' is declared but missing"),
        ({"main": pd.DataFrame({"strike": [1.0], "oi": [1], "x": [1]})}, {}, "column 'x' is not declared"),
        ({"main": pd.DataFrame({"strike": ["a"], "oi": [1]})}, {}, "strike: declared float, published"),
        ({"main": pd.DataFrame({"strike": [1.0], "oi": [1]}), "other": pd.DataFrame()}, {}, "table 'other' is not declared"),
        ({"main": pd.DataFrame({"strike": [1.0], "oi": [1]}), "side": pd.DataFrame({"when": pd.to_datetime(["2025-01-01"])})}, {}, "when: declared time"),
        ({"main": pd.DataFrame({"strike": [1.0], "oi": [1]})}, {"gross": 1.0}, "headline key 'gross' is not declared"),
    ],
)
def test_publishes_off_the_declaration_are_refused(toy: d.ResultDecl, tables: dict, headline: dict, message: str) -> None:
    with pytest.raises(d.DeclarationError, match=message):
        d.validate("toy.NDX", tables, headline)


def test_markdown_lists_units(toy: d.ResultDecl) -> None:
    text = d.markdown()
    assert "### `toy.<UNDERLYING>` (derived, task `demo`)" in text and "`oi` (int, contracts)" in text and "`net_usd_<BASKET>` (USD)" in text
