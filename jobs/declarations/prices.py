"""Declarations of ``prices.<SYMBOL>`` and ``vx.settlements`` (:mod:`jobs.tasks.prices`,
:mod:`jobs.tasks.systematic`): the parsed daily histories the systematic engines and the
futures-positioning notional read, kept in the store so no run re-parses every file."""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare

U = Unit

PRICES = declare(
    ResultDecl(
        name="prices.<SYMBOL>",
        description="Daily closing history of one index (Cboe daily prices, FRED or a dropped file; SAMPLE in sample mode), parsed once and kept for the engines.",
        task="prices",
        cadence="daily",
        tables=(
            Table(
                "history",
                (
                    Column("date", "date", U.DATE, "session date", title="Date"),
                    Column("close", "float", U.INDEX_POINTS, "closing level", title="Close"),
                    Column(
                        "open",
                        "float",
                        U.INDEX_POINTS,
                        "opening level (NaN where the source has none)",
                        title="Open",
                    ),
                    Column(
                        "high",
                        "float",
                        U.INDEX_POINTS,
                        "session high (NaN where none)",
                        title="High",
                    ),
                    Column(
                        "low", "float", U.INDEX_POINTS, "session low (NaN where none)", title="Low"
                    ),
                    Column(
                        "volume",
                        "float",
                        U.SHARES,
                        "volume as the source counts it (NaN where none)",
                        title="Volume",
                    ),
                ),
                "one row per session, oldest first",
            ),
        ),
        headline=(
            HeadlineKey("close", U.INDEX_POINTS, "latest close"),
            HeadlineKey(
                "return_1d_pct", U.PERCENT, "change of the latest close from the previous one"
            ),
            HeadlineKey("sessions", U.COUNT, "sessions in the history"),
            HeadlineKey("first_date", U.DATE, "first session", kind="text", alertable=False),
            HeadlineKey("last_date", U.DATE, "latest session", kind="text", alertable=False),
        ),
    )
)

VX = declare(
    ResultDecl(
        name="vx.settlements",
        description="VIX futures (VX) daily settlements per contract (Cboe per-contract files; SAMPLE in sample mode), merged into one stored history for the VIX ETP engine.",
        task="systematic",
        cadence="daily",
        tables=(
            Table(
                "settlements",
                (
                    Column("date", "date", U.DATE, "trade date", title="Date"),
                    Column(
                        "contract", "str", U.LABEL, "contract code, e.g. VXG18", title="Contract"
                    ),
                    Column("expiry", "date", U.DATE, "final settlement date", title="Expiry"),
                    Column(
                        "settle",
                        "float",
                        U.VOL_POINTS,
                        "daily settlement (USD 1,000 per point per contract)",
                        title="Settlement",
                    ),
                    Column(
                        "open",
                        "float",
                        U.VOL_POINTS,
                        "open (NaN when the contract did not trade)",
                        title="Open",
                    ),
                    Column("high", "float", U.VOL_POINTS, "high", title="High"),
                    Column("low", "float", U.VOL_POINTS, "low", title="Low"),
                    Column("close", "float", U.VOL_POINTS, "close", title="Close"),
                    Column(
                        "volume",
                        "float",
                        U.CONTRACTS,
                        "contracts traded that session",
                        title="Volume",
                    ),
                    Column(
                        "open_interest",
                        "float",
                        U.CONTRACTS,
                        "open interest",
                        title="Open interest",
                    ),
                ),
                "one row per trade date and contract",
            ),
        ),
        headline=(
            HeadlineKey("contracts", U.COUNT, "contracts in the history"),
            HeadlineKey("sessions", U.COUNT, "trade dates in the history"),
            HeadlineKey(
                "front_settle",
                U.VOL_POINTS,
                "latest settlement of the nearest contract not settling that day",
            ),
            HeadlineKey("last_date", U.DATE, "latest trade date", kind="text", alertable=False),
        ),
    )
)
