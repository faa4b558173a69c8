"""Declaration of ``demo`` (:mod:`jobs.tasks.demo`): the pipeline's proof, not an analytic."""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare

DEMO = declare(
    ResultDecl(
        name="demo",
        description="A few generated rows stamped with the run time: proves scheduler -> store -> dashboard works (SAMPLE).",
        task="demo",
        cadence="on-demand",
        tables=(
            Table(
                "data",
                (
                    Column("item", "str", Unit.LABEL, "row label", title="Item"),
                    Column(
                        "value_usd",
                        "float",
                        Unit.USD,
                        "a random amount (seeded by service.sample_seed)",
                        title="Value",
                    ),
                    Column(
                        "computed_at", "time", Unit.TIME, "the run time, UTC", title="Computed at"
                    ),
                ),
                "the demo rows",
            ),
        ),
        headline=(
            HeadlineKey("total_usd", Unit.USD, "sum of value_usd"),
            HeadlineKey("rows", Unit.COUNT, "rows published"),
        ),
    )
)
