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
            d.Table(
                "main",
                (
                    d.Column("strike", "float", d.Unit.PRICE),
                    d.Column("oi", "int", d.Unit.CONTRACTS),
                    d.Column("pos", "float", d.Unit.CONTRACTS, optional=True),
                ),
            ),
            d.Table("side", (d.Column("when", "time", d.Unit.TIME),), optional=True),
        ),
        headline=(
            d.HeadlineKey("net_usd", d.Unit.USD),
            d.HeadlineKey("net_usd_<BASKET>", d.Unit.USD),
        ),
    )
    d._REGISTRY[decl.name] = decl
    yield decl
    d._REGISTRY.pop(decl.name, None)


def test_lookup_by_placeholder_and_units(toy: d.ResultDecl) -> None:
    assert d.lookup("toy.SPX") is toy
    main = pd.DataFrame({"strike": [1.0], "oi": [3]})
    assert d.validate(
        "toy.SPX", {"main": main}, {"net_usd": 1.0, "net_usd_wide9": 2.0, "quality_warnings": 0}
    ) == {"main": {"strike": "index points / USD per share", "oi": "contracts"}}
    assert d.headline_units("toy.SPX", ["net_usd_reuters6", "other"]) == {
        "net_usd_reuters6": "USD",
        "other": "label",
    }
    with pytest.raises(d.DeclarationError, match="'toy.spx' has no declaration"):
        d.lookup("toy.spx")


@pytest.mark.parametrize(
    ("tables", "headline", "message"),
    [
        ({}, {}, "table 'main' is declared but not published"),
        ({"main": pd.DataFrame({"strike": [1.0]})}, {}, "column 'oi' is declared but missing"),
        (
            {"main": pd.DataFrame({"strike": [1.0], "oi": [1], "x": [1]})},
            {},
            "column 'x' is not declared",
        ),
        (
            {"main": pd.DataFrame({"strike": ["a"], "oi": [1]})},
            {},
            "strike: declared float, published",
        ),
        (
            {"main": pd.DataFrame({"strike": [1.0], "oi": [1]}), "other": pd.DataFrame()},
            {},
            "table 'other' is not declared",
        ),
        (
            {
                "main": pd.DataFrame({"strike": [1.0], "oi": [1]}),
                "side": pd.DataFrame({"when": pd.to_datetime(["2025-01-01"])}),
            },
            {},
            "when: declared time",
        ),
        (
            {"main": pd.DataFrame({"strike": [1.0], "oi": [1]})},
            {"gross": 1.0},
            "headline key 'gross' is not declared",
        ),
    ],
)
def test_publishes_off_the_declaration_are_refused(
    toy: d.ResultDecl, tables: dict, headline: dict, message: str
) -> None:
    with pytest.raises(d.DeclarationError, match=message):
        d.validate("toy.NDX", tables, headline)


def test_markdown_lists_units(toy: d.ResultDecl) -> None:
    text = d.markdown()
    assert (
        "### `toy.<UNDERLYING>` (derived, task `demo`)" in text
        and "`oi` (int, contracts)" in text
        and "`net_usd_<BASKET>` (USD)" in text
    )


# -- the declarations of every published result (issue 14: one declaration per result) -----------
def test_every_declaration_module_is_listed() -> None:
    """A module of jobs/declarations/ not in DECLARATION_MODULES would never be loaded."""
    from pathlib import Path

    on_disk = {
        f"jobs.declarations.{p.stem}"
        for p in Path(d.__file__).parent.glob("*.py")
        if p.stem not in ("__init__", "__main__")
    }
    assert on_disk == set(d.DECLARATION_MODULES)


def test_every_result_is_declared_strictly_and_coherently() -> None:
    decls = d.declarations()
    assert {x.name for x in decls} >= {
        "demo",
        "gamma.<UNDERLYING>",
        "gamma.summary",
        "letf.flows",
        "cftc.positions",
        "cftc.fx",
        "cftc.net_usd",
        "board.scenarios",
        "board.brief",
        "universe.table",
        "universe.<SYMBOL>",
    }
    for decl in decls:
        assert not decl.extra_headline, (
            f"{decl.name}: extra_headline is a migration aid, not for a published result"
        )
        assert decl.description and all(t.description for t in decl.tables), decl.name
        for t in decl.tables:
            for c in t.columns:
                assert isinstance(c.unit, d.Unit) and c.description, (
                    f"{decl.name}.{t.name}.{c.name}"
                )
        for h in decl.headline:
            assert isinstance(h.unit, d.Unit) and h.description, f"{decl.name}: {h.key}"
        d._check(decl)  # what declare() checked


def test_every_task_result_has_a_declaration_naming_the_task() -> None:
    from jobs.config import Settings
    from jobs.tasks import load_tasks

    tasks = load_tasks()
    for decl in d.declarations():
        assert decl.task in tasks, f"{decl.name}: task {decl.task!r} is not registered"
    for name, spec in tasks.items():
        for result in spec.results(Settings(), {}):
            assert d.find(result) is not None, (
                f"task {name} publishes {result}, which has no declaration"
            )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (d.ResultDecl("x.y", "x", "demo", "hourly", ()), "cadence 'hourly' is not one of"),  # type: ignore[arg-type]
        (
            d.ResultDecl(
                "x.y",
                "x",
                "demo",
                "derived",
                (d.Table("t", (d.Column("a", "float", "USD per fortnight"),)),),
            ),
            "unit 'USD per fortnight' is not a flows.units.Unit",
        ),
        (
            d.ResultDecl(
                "x.y",
                "x",
                "demo",
                "derived",
                (d.Table("t", (d.Column("a", "float", d.Unit.LABEL),)),),
            ),
            "a number declared with the unit 'label'",
        ),
        (
            d.ResultDecl(
                "x.y",
                "x",
                "demo",
                "derived",
                (),
                (d.HeadlineKey("regime", d.Unit.LABEL, kind="text"),),
            ),
            "only numbers are alertable",
        ),
        (
            d.ResultDecl("x.y", "x", "demo", "derived", (d.Table("t", ()), d.Table("t", ()))),
            "a table is declared twice",
        ),
    ],
)
def test_an_incoherent_declaration_is_refused(bad: d.ResultDecl, message: str) -> None:
    with pytest.raises(d.DeclarationError, match=message):
        d.declare(bad)
    assert "x.y" not in d._REGISTRY


def test_specific_patterns_win_in_declared_order() -> None:
    weekly = d.lookup("cftc.net_usd").table("weekly")
    assert weekly.column("net_usd_wide9").unit == d.Unit.USD
    assert weekly.column("net_usd_wide9_z_3y").unit == d.Unit.STDEV
    assert weekly.column("net_usd_levfunds_wide9_pct_1y").unit == d.Unit.PERCENTILE
    assert weekly.column("net_usd_assetmgr_reuters6_cot_index_3y").unit == d.Unit.INDEX_0_100
    assert weekly.column("net_usd_levfunds_wide9").description.startswith("TFF leveraged funds")
    assert weekly.column("net_usd_wide9_change_fx_usd").description.startswith(
        "part of the change from FX"
    )
    head = d.lookup("cftc.net_usd")
    assert head.headline_key("net_usd_levfunds_reuters6").description.startswith(
        "TFF leveraged funds"
    )
    assert head.headline_key("zscore_5y").unit == d.Unit.STDEV
    assert d.lookup("cftc.fx").table("data").column("JPY").unit == d.Unit.USD_PER_UNIT
    assert (
        d.lookup("gamma.summary").name == "gamma.summary"
        and d.lookup("gamma.SPX").name == "gamma.<UNDERLYING>"
    )


def test_empty_tables_of_every_declaration_validate_and_keep_their_kinds() -> None:
    for decl in d.declarations():
        name = decl.name.replace("<UNDERLYING>", "SPX")
        tables = d.empty_tables(name)
        units = d.validate(name, tables, {})
        assert set(units) == {t.name for t in decl.tables if not t.optional}
    contracts = d.empty_table("gamma.SPX", "contracts")
    assert (
        str(contracts["settle_time"].dtype) == "datetime64[ns, UTC]"
        and str(contracts["expiry"].dtype) == "datetime64[ns]"
    )
    assert "dealer_position_contracts" in contracts.columns  # optional columns are there too
    with pytest.raises(d.DeclarationError, match="table 'nope' is not declared"):
        d.empty_table("gamma.SPX", "nope")


def test_headline_values_of_another_kind_are_refused() -> None:
    tables = d.empty_tables("letf.flows")
    assert d.validate(
        "letf.flows",
        tables,
        {
            "per_1pct_usd": 1.5e9,
            "funds": 12,
            "biggest_underlying": "QQQ",
            "rebalance_usd": None,
            "phase": "final",
        },
    )
    import numpy as np

    assert d.validate("letf.flows", tables, {"per_1pct_usd": np.float64(1.0), "funds": np.int64(3)})
    for key, value in (("per_1pct_usd", "1.5e9"), ("funds", True), ("phase", 3)):
        with pytest.raises(d.DeclarationError, match=f"headline key '{key}' is declared"):
            d.validate("letf.flows", tables, {key: value})


def test_alert_catalogue_is_the_numeric_alertable_keys_and_quality() -> None:
    cat = d.alert_catalogue()
    gamma = cat["gamma.<UNDERLYING>"]
    assert (
        "net_gex_usd_per_1pct" in gamma
        and "quality_skipped_share" in gamma
        and "quality_warnings" in gamma
    )
    assert not {"regime", "flips", "convention", "sample", "r", "q", "as_of"} & set(gamma)
    assert cat["board.brief"].keys() == {
        "quality_skipped_share",
        "quality_warnings",
    }  # rules read board.scenarios


def test_the_reference_is_json_and_lists_every_declaration() -> None:
    import json

    ref = json.loads(json.dumps(d.reference()))
    assert [r["name"] for r in ref["results"]] == [x.name for x in d.declarations()]
    assert set(ref["placeholders"]) == set(d.PLACEHOLDERS) and "USD per 1% move" in ref["units"]
    gamma = next(r for r in ref["results"] if r["name"] == "gamma.<UNDERLYING>")
    assert {
        "key": "quality_warnings",
        "kind": "number",
        "unit": "count",
        "description": "input-quality warnings",
        "alertable": True,
    } in gamma["headline"]


def test_committed_reference_and_readme_equal_the_rendering() -> None:
    """docs/results.md and the README's list of results cannot drift from the declarations:
    regenerate them with ``python -m jobs.declarations --write``."""
    from jobs.declarations.__main__ import DOC, README

    assert DOC.read_text(encoding="utf-8") == d.markdown(), (
        "docs/results.md is stale: run python -m jobs.declarations --write"
    )
    readme = README.read_text(encoding="utf-8")
    assert d.render_readme(readme) == readme, (
        "README.md's results list is stale: run python -m jobs.declarations --write"
    )
    assert "(docs/results.md)" in readme


def test_the_module_prints_the_reference(capsys) -> None:
    import json

    from jobs.declarations.__main__ import main

    assert main([]) == 0
    assert capsys.readouterr().out == d.markdown()
    assert main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(d.reference()))
