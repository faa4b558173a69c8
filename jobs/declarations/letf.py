"""Declaration of ``letf.flows`` (:mod:`jobs.tasks.letf`, analytics in :mod:`flows.letf`).

Convention: a fund's trade is ``A (L^2 - L) r`` (``A`` prior-close assets, ``L`` signed daily
leverage, ``r`` the underlying's move as a fraction); + = the fund buys the underlying; long and
inverse funds trade the same way and never offset.  Daily-reset funds only.
"""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare

U = Unit


def _label(name: str, what: str, *, title: str) -> Column:
    return Column(name, "str", U.LABEL, what, title=title)


PER_1PCT = "USD the funds trade per +1% move of the underlying (+ = buy)"

LETF = declare(
    ResultDecl(
        name="letf.flows",
        description="Leveraged and inverse ETF rebalancing: USD the daily-reset funds must trade per 1% move of each underlying, the trade implied by the move so far, scenarios, and the assets left out.",
        task="letf",
        cadence="session",
        tables=(
            Table(
                "by_underlying",
                (
                    _label("underlying", "hedge ticker the funds trade", title="Underlying"),
                    Column(
                        "funds", "int", U.COUNT, "daily-reset equity funds on it", title="Funds"
                    ),
                    Column("aum_usd", "float", U.USD, "their prior-close assets", title="Assets"),
                    Column(
                        "long_per_1pct_usd",
                        "float",
                        U.USD_PER_1PCT,
                        "funds with L > 0: " + PER_1PCT,
                        title="Long funds' rebalance",
                    ),
                    Column(
                        "inverse_per_1pct_usd",
                        "float",
                        U.USD_PER_1PCT,
                        "funds with L < 0: " + PER_1PCT,
                        title="Inverse funds' rebalance",
                    ),
                    Column(
                        "per_1pct_usd",
                        "float",
                        U.USD_PER_1PCT,
                        "every fund: " + PER_1PCT,
                        title="Rebalance",
                    ),
                    Column(
                        "move_pct",
                        "float",
                        U.PERCENT,
                        "move of the underlying since the prior close",
                        title="Move today",
                    ),
                    Column(
                        "rebalance_usd",
                        "float",
                        U.USD_FLOW,
                        "trade implied by the move so far (+ = buy)",
                        title="Rebalance for today's move",
                    ),
                    Column(
                        "creations_usd",
                        "float",
                        U.USD_FLOW,
                        "net creations of the funds (+ = buy)",
                        title="Creations",
                    ),
                    Column(
                        "adv_usd",
                        "float",
                        U.USD_PER_DAY,
                        "average daily dollar volume of the underlying (NaN: not given)",
                        title="ADV",
                    ),
                    Column(
                        "rebalance_pct_adv",
                        "float",
                        U.PCT_OF_ADV,
                        "100 x |rebalance_usd| / adv_usd",
                        title="Rebalance for today's move",
                    ),
                    Column(
                        "per_1pct_pct_adv",
                        "float",
                        U.PCT_OF_ADV_PER_1PCT,
                        "100 x |per_1pct_usd| / adv_usd",
                        title="Rebalance",
                    ),
                    Column(
                        "auction_usd",
                        "float",
                        U.USD,
                        "closing-auction notional of the underlying (NaN: not given)",
                        title="Closing auction",
                    ),
                    Column(
                        "rebalance_pct_auction",
                        "float",
                        U.PCT_OF_AUCTION,
                        "100 x |rebalance_usd| / auction_usd",
                        title="Rebalance for today's move",
                    ),
                ),
                "equity funds aggregated per underlying, largest USD per 1% first (the main table)",
            ),
            Table(
                "funds",
                (
                    _label("ticker", "fund ticker", title="Fund"),
                    _label("name", "fund name", title="Name"),
                    _label("underlying", "hedge ticker the fund trades", title="Underlying"),
                    Column(
                        "leverage",
                        "float",
                        U.DIMENSIONLESS,
                        "signed daily leverage L (+3, -1, ...)",
                        title="Leverage",
                    ),
                    _label("issuer", "fund family", title="Issuer"),
                    _label("fund_type", "Index / Sector / Single Stock / ...", title="Fund type"),
                    _label("group", "equity (the only group in this table)", title="Group"),
                    Column("aum_usd", "float", U.USD, "prior-close net assets", title="Assets"),
                    Column(
                        "gamma_factor",
                        "float",
                        U.DIMENSIONLESS,
                        "L^2 - L",
                        title="Gamma factor L²−L",
                    ),
                    Column("per_1pct_usd", "float", U.USD_PER_1PCT, PER_1PCT, title="Rebalance"),
                    Column(
                        "move_pct",
                        "float",
                        U.PERCENT,
                        "move of the underlying since the prior close",
                        title="Move today",
                    ),
                    Column(
                        "rebalance_usd",
                        "float",
                        U.USD_FLOW,
                        "trade implied by the move so far (+ = buy)",
                        title="Rebalance for today's move",
                    ),
                    Column(
                        "creations_usd",
                        "float",
                        U.USD_FLOW,
                        "net creations (+ = buy)",
                        title="Creations",
                    ),
                    Column(
                        "total_flow_usd",
                        "float",
                        U.USD_FLOW,
                        "rebalance + creations (+ = buy)",
                        title="Total trade",
                    ),
                ),
                "the daily-reset equity funds in the totals",
            ),
            Table(
                "scenarios",
                (
                    _label(
                        "underlying",
                        "underlying, or TOTAL (every underlying moving together)",
                        title="Underlying",
                    ),
                    Column(
                        "move_pct",
                        "float",
                        U.PERCENT,
                        "uniform move of the underlying",
                        title="Move",
                    ),
                    Column(
                        "rebalance_usd",
                        "float",
                        U.USD_FLOW,
                        "trade for that move (+ = buy)",
                        title="Rebalance",
                    ),
                ),
                "trade per underlying over a grid of moves ([letf] scenario_moves_pct)",
            ),
            Table(
                "excluded",
                (
                    _label("ticker", "fund ticker", title="Fund"),
                    _label(
                        "underlying",
                        "underlying (empty for a skipped import row)",
                        title="Underlying",
                    ),
                    _label("reset", "leverage reset period", title="Reset"),
                    Column(
                        "aum_usd",
                        "float",
                        U.USD,
                        "prior-close net assets (NaN: unknown)",
                        title="Assets",
                    ),
                    _label("group", "crypto / commodity / excluded / skipped", title="Group"),
                    _label("exclusion", "category of the exclusion", title="Exclusion"),
                    _label("reason", "why", title="Reason"),
                ),
                "funds left out of the equity totals",
            ),
            Table(
                "groups",
                (
                    _label("group", "crypto / commodity", title="Group"),
                    _label("underlying", "underlying", title="Underlying"),
                    Column("funds", "int", U.COUNT, "funds", title="Funds"),
                    Column("aum_usd", "float", U.USD, "their prior-close assets", title="Assets"),
                    Column("per_1pct_usd", "float", U.USD_PER_1PCT, PER_1PCT, title="Rebalance"),
                    Column(
                        "rebalance_usd",
                        "float",
                        U.USD_FLOW,
                        "trade implied by the move so far (+ = buy)",
                        title="Rebalance for today's move",
                    ),
                ),
                "crypto and commodity groups (not in the equity totals)",
            ),
            Table(
                "excluded_aum",
                (
                    _label(
                        "category",
                        "why the assets are left out (reset: monthly, variable leverage, ...)",
                        title="Left out because",
                    ),
                    Column("funds", "int", U.COUNT, "funds", title="Funds"),
                    Column(
                        "aum_usd",
                        "float",
                        U.USD,
                        "their assets (unknown assets count 0)",
                        title="Assets",
                    ),
                    Column(
                        "share_pct",
                        "float",
                        U.PERCENT,
                        "percent of the universe's known assets",
                        title="Share of the universe's assets",
                    ),
                ),
                "assets left out of every daily figure, by category",
            ),
        ),
        headline=(
            HeadlineKey("per_1pct_usd", U.USD_PER_1PCT, "equity total: " + PER_1PCT),
            HeadlineKey("long_per_1pct_usd", U.USD_PER_1PCT, "long funds"),
            HeadlineKey("inverse_per_1pct_usd", U.USD_PER_1PCT, "inverse funds"),
            HeadlineKey(
                "rebalance_usd",
                U.USD_FLOW,
                "trade implied by the moves so far (+ = buy; None without moves)",
            ),
            HeadlineKey(
                "biggest_underlying",
                U.LABEL,
                "underlying with the largest USD per 1%",
                kind="text",
                alertable=False,
            ),
            HeadlineKey("biggest_per_1pct_usd", U.USD_PER_1PCT, "its USD per 1% move"),
            HeadlineKey(
                "biggest_rebalance_usd", U.USD_FLOW, "its trade implied by the move so far"
            ),
            HeadlineKey("funds", U.COUNT, "equity funds in the totals"),
            HeadlineKey("excluded", U.COUNT, "funds left out of the equity totals"),
            HeadlineKey("universe_aum_usd", U.USD, "assets of the whole universe"),
            HeadlineKey("included_aum_usd", U.USD, "assets in a daily figure"),
            HeadlineKey("excluded_aum_usd", U.USD, "assets left out of every daily figure"),
            HeadlineKey(
                "excluded_not_daily_aum_usd", U.USD, "of which funds that do not reset daily"
            ),
            HeadlineKey(
                "phase", U.LABEL, "preopen / intraday / final", kind="text", alertable=False
            ),
        ),
    )
)
