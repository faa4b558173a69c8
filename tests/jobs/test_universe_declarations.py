"""The universe's results in the typed declarations: alert metrics with their units, publishes
validated (a basket key too); the Single names grid: tests/dashboard/test_universe_page.py."""

from __future__ import annotations

import pytest

from flows.errors import DeclarationError
from flows.units import Unit
from jobs import declarations
from jobs.alerts import rules


@pytest.mark.parametrize(
    ("metric", "unit"),
    [
        ("universe.table.net_gex_usd_per_1pct", Unit.USD_PER_1PCT),
        ("universe.table.gross_gex_usd_per_1pct", Unit.USD_PER_1PCT),
        ("universe.table.short_gamma_names", Unit.COUNT),
        ("universe.table.hedge_flow_down3_usd", Unit.USD_FLOW),
        ("universe.table.hedge_flow_up3_usd", Unit.USD_FLOW),
        ("universe.table.failed", Unit.COUNT),
        ("universe.table.net_gex_usd_per_1pct_mag7", Unit.USD_PER_1PCT),
        ("universe.table.hedge_flow_down3_usd_semis", Unit.USD_FLOW),
        ("universe.table.hedge_flow_up3_usd_my_basket2", Unit.USD_FLOW),
        ("universe.table.quality_skipped_share", Unit.FRACTION),
        ("universe.NVDA.flip_distance_pct", Unit.PERCENT),
        ("universe.AMD.net_gex_usd_per_1pct", Unit.USD_PER_1PCT),
    ],
)
def test_universe_alert_metrics_are_declared_with_units(metric: str, unit: Unit) -> None:
    assert rules.metric_unit(metric) == unit


@pytest.mark.parametrize(
    ("metric", "why"),
    [
        ("universe.table.round", "is text"),
        ("universe.table.shards", "not"),
        ("universe.table.net_gex_usd_per_1pct_Mag7", "unknown"),
    ],
)
def test_universe_keys_that_are_not_alert_metrics_are_refused(metric: str, why: str) -> None:
    with pytest.raises(rules.MetricError, match=why):
        rules.check_metric(metric)


def test_universe_table_headline_validates_basket_keys() -> None:
    decl = declarations.lookup("universe.table")
    names = declarations.empty_tables("universe.table")
    head = {
        "names": 0,
        "contracts": 0,
        "failed": 0,
        "net_gex_usd_per_1pct": 1.0,
        "gross_gex_usd_per_1pct": 2.0,
        "short_gamma_names": 0,
        "hedge_flow_down3_usd": 3.0,
        "hedge_flow_up3_usd": -3.0,
        "net_gex_usd_per_1pct_mag7": 1.0,
        "shards": 1,
        "round": "r",
        "sample": True,
    }
    units = declarations.validate("universe.table", names, head)
    assert units and decl.cadence == "session"
    assert (
        declarations.headline_units("universe.table", head)["net_gex_usd_per_1pct_mag7"]
        == Unit.USD_PER_1PCT
    )
    with pytest.raises(DeclarationError, match="net_gex_usd_per_1pct_mag7"):
        declarations.validate(
            "universe.table", names, {**head, "net_gex_usd_per_1pct_mag7": "a lot"}
        )


def test_universe_name_has_the_gamma_tables_and_its_own_keys() -> None:
    gamma, name = declarations.lookup("gamma.<UNDERLYING>"), declarations.lookup("universe.NVDA")
    assert name.name == "universe.<SYMBOL>" and name.tables == gamma.tables
    keys = {h.key: h for h in name.headline}
    assert (
        {h.key for h in gamma.headline} < set(keys)
        and keys["on_demand"].unit == Unit.FLAG
        and not keys["round"].alertable
    )
