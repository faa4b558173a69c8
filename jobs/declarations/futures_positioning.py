"""Declaration of ``cftc.futures_positioning`` (:mod:`jobs.tasks.futures_positioning`; engine
:mod:`flows.futures_positioning`, markets :mod:`flows.sources.tff_markets`).

Headline keys name a market and trader class: ``<symbol>_<class>_<figure>`` in lower case
(``es_asset_manager_percentile_3y``, ``zn_leveraged_funds_dv01_usd_per_bp``), the group sums
``equity_index_<class>_notional_usd`` and ``rates_<class>_dv01_usd_per_bp``, and the crowding
flags ``crowding_flags`` / ``flag_<rule>`` (counts: a rule ``flag_... >= 1`` alerts on a flag).
"""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare
from jobs.declarations.cftc import cot_title

U = Unit


def _label(name: str, what: str, *, title: str) -> Column:
    return Column(name, "str", U.LABEL, what, title=title)


STATS = (
    Column(
        "zscore_<WINDOW>",
        "float",
        U.STDEV,
        "z-score of the net position over the window's report weeks (sample std)",
        title="<WINDOW> z-score",
    ),
    Column(
        "percentile_<WINDOW>",
        "float",
        U.PERCENTILE,
        "percentile of the net position over the window (0-100)",
        title="<WINDOW> percentile",
    ),
    Column(
        "cot_index_<WINDOW>",
        "float",
        U.INDEX_0_100,
        "COT index 100 (x - min) / (max - min) over the window",
        title="<WINDOW> COT index",
    ),
)

POSITION_COLUMNS = (
    Column("as_of", "date", U.DATE, "report date (Tuesday)", title="Report date"),
    _label("symbol", "market (markets table)", title="Market"),
    _label("code", "CFTC contract market code", title="Market code"),
    _label("group", "equity_index / vix / rates", title="Group"),
    _label(
        "trader_class",
        "dealer / asset_manager / leveraged_funds / other_reportables / nonreportables",
        title="Trader class",
    ),
    Column(
        "open_interest",
        "float",
        U.CONTRACTS,
        "open interest (in the table's contract unit)",
        title="Open interest",
    ),
    Column("long", "float", U.CONTRACTS, "long positions", title="Long"),
    Column("short", "float", U.CONTRACTS, "short positions", title="Short"),
    Column("net_contracts", "float", U.CONTRACTS, "long - short (+ = net long)", title="Net"),
    Column("net_pct_oi", "float", U.PCT_OF_OI, "net as percent of open interest", title="Net"),
    Column(
        "net_change_contracts",
        "float",
        U.CONTRACTS,
        "change from the previous report week (NaN across a missing week)",
        title="Weekly change of net",
    ),
    *STATS,
    Column(
        "usd_per_point",
        "float",
        U.USD_PER_POINT,
        "equity / VIX: net x multiplier (USD per index or VIX futures point)",
        title="Net value per point",
    ),
    Column(
        "close",
        "float",
        U.INDEX_POINTS,
        "index close of the report date used for the notional (NaN: none)",
        title="Index close",
    ),
    Column(
        "notional_usd",
        "float",
        U.USD,
        "equity / VIX: net x multiplier x close (NaN when no close: never guessed)",
        title="Net notional",
    ),
    Column(
        "dv01_usd_per_bp",
        "float",
        U.USD_PER_BP,
        "rates: net x contract DV01 (+ = long duration)",
        title="Net DV01",
    ),
    Column(
        "ten_year_equivalents",
        "float",
        U.CONTRACTS,
        "rates: DV01 / the 10-year note's DV01 (ZN contracts)",
        title="10-year note equivalents",
    ),
)

FUTURES = declare(
    ResultDecl(
        name="cftc.futures_positioning",
        description="Equity-index, VIX and Treasury futures positioning by trader class from the CFTC TFF report: net contracts, % of open interest, weekly change, z-score / percentile / COT index over 1, 3 and 5 years, distance to previous extremes, USD notional (with the index closes of prices.<SYMBOL>) or DV01 and 10-year note equivalents, and crowding flags.",
        task="futures_positioning",
        cadence="weekly-cftc",
        tables=(
            Table(
                "latest", POSITION_COLUMNS, "positions of the latest report week (the main table)"
            ),
            Table("positions", POSITION_COLUMNS, "every report week, market and trader class"),
            Table(
                "extremes",
                (
                    Column("as_of", "date", U.DATE, "latest report date", title="Report date"),
                    _label("symbol", "market", title="Market"),
                    _label("code", "CFTC contract market code", title="Market code"),
                    _label("trader_class", "trader class", title="Trader class"),
                    _label("window", "1y / 3y / 5y", title="Window"),
                    Column(
                        "weeks_present",
                        "int",
                        U.WEEKS,
                        "earlier weeks of the window with a report",
                        title="Reports in the window",
                    ),
                    Column(
                        "net_contracts",
                        "float",
                        U.CONTRACTS,
                        "net position, latest week",
                        title="Net, latest week",
                    ),
                    Column(
                        "previous_max_contracts",
                        "float",
                        U.CONTRACTS,
                        "highest net of the window's earlier weeks",
                        title="Previous high",
                    ),
                    Column(
                        "previous_max_date",
                        "date",
                        U.DATE,
                        "its report date",
                        title="Previous high on",
                    ),
                    Column(
                        "previous_min_contracts",
                        "float",
                        U.CONTRACTS,
                        "lowest net of the window's earlier weeks",
                        title="Previous low",
                    ),
                    Column(
                        "previous_min_date",
                        "date",
                        U.DATE,
                        "its report date",
                        title="Previous low on",
                    ),
                    Column(
                        "distance_to_max_contracts",
                        "float",
                        U.CONTRACTS,
                        "net - previous max (> 0 = new high)",
                        title="Distance to the high",
                    ),
                    Column(
                        "distance_to_min_contracts",
                        "float",
                        U.CONTRACTS,
                        "net - previous min (< 0 = new low)",
                        title="Distance to the low",
                    ),
                ),
                "distance to previous extremes, per market, class and window",
            ),
            Table(
                "crowding",
                (
                    Column("as_of", "date", U.DATE, "latest report date", title="Report date"),
                    _label("symbol", "market", title="Market"),
                    _label("code", "CFTC contract market code", title="Market code"),
                    _label("group", "equity_index / vix / rates", title="Group"),
                    _label("trader_class", "trader class", title="Trader class"),
                    _label("flag", "rule", title="Rule"),
                    _label("metric", "statistic the rule reads", title="Statistic"),
                    _label("op", "<= / >=", title="Test"),
                    Column(
                        "value",
                        "float",
                        U.MIXED,
                        "the statistic (0-100 for percentiles and COT indices, standard deviations for z)",
                        title="Value",
                    ),
                    Column(
                        "threshold",
                        "float",
                        U.MIXED,
                        "the rule's threshold, same unit as value",
                        title="Threshold",
                    ),
                    Column(
                        "net_contracts", "float", U.CONTRACTS, "net position", title="Net position"
                    ),
                    Column(
                        "flagged",
                        "bool",
                        U.FLAG,
                        "beyond the threshold with the rule's sign",
                        title="Flagged",
                    ),
                    _label("description", "what the rule means", title="What the rule means"),
                ),
                "crowding flags per headline market and rule",
            ),
            Table(
                "reports",
                (
                    Column("as_of", "date", U.DATE, "report date", title="Report date"),
                    _label("symbol", "market", title="Market"),
                    _label("code", "CFTC contract market code", title="Market code"),
                    _label(
                        "market",
                        "market and exchange name as printed that week",
                        title="Name as printed",
                    ),
                    _label(
                        "contract_units",
                        "contract units as printed that week",
                        title="Contract units as printed",
                    ),
                    Column(
                        "unit_scale",
                        "float",
                        U.DIMENSIONLESS,
                        "factor applied to the printed contracts (1 = the table's unit)",
                        title="Unit scale",
                    ),
                    Column(
                        "open_interest",
                        "float",
                        U.CONTRACTS,
                        "open interest (in the table's contract unit)",
                        title="Open interest",
                    ),
                    Column(
                        "release_time", "time", U.TIME, "scheduled release", title="Release time"
                    ),
                ),
                "one row per report date and market",
            ),
            Table(
                "markets",
                (
                    _label("code", "CFTC contract market code", title="Market code"),
                    _label("symbol", "short name", title="Symbol"),
                    _label("group", "equity_index / vix / rates", title="Group"),
                    _label("kind", "contract / consolidated", title="Kind"),
                    Column(
                        "headline",
                        "bool",
                        U.FLAG,
                        "in the headline figures",
                        title="In the headline",
                    ),
                    _label("name", "market", title="Market"),
                    Column(
                        "multiplier",
                        "float",
                        U.USD_PER_POINT,
                        "USD per point of the quote",
                        title="Multiplier",
                    ),
                    _label("multiplier_unit", "what the multiplier is", title="Multiplier unit"),
                    _label("contract_units", "contract units", title="Contract units"),
                    _label(
                        "underlying",
                        "index whose close values the notional (empty for rates)",
                        title="Index for the notional",
                    ),
                    Column(
                        "dv01_usd_per_bp",
                        "float",
                        U.USD_PER_BP,
                        "contract DV01 as applied (overrides included)",
                        title="Contract DV01",
                    ),
                    _label("dv01_source", "where the DV01 comes from", title="DV01 source"),
                    Column(
                        "first_report",
                        "date",
                        U.DATE,
                        "first report of the market (NaT: before the files)",
                        title="First report",
                    ),
                    _label("cftc_names", "names printed by the CFTC", title="CFTC names"),
                    _label("notes", "notes", title="Notes"),
                ),
                "the markets table as applied",
            ),
            Table(
                "rows",
                (
                    Column("as_of", "date", U.DATE, "report date", title="Report date"),
                    _label("code", "CFTC contract market code", title="Market code"),
                    _label(
                        "market", "market and exchange name as printed", title="Market as printed"
                    ),
                    Column(
                        "open_interest",
                        "int",
                        U.CONTRACTS,
                        "open interest as printed",
                        title="Open interest",
                    ),
                    *(
                        Column(
                            f"{cls}_{side}",
                            "int",
                            U.CONTRACTS,
                            f"{cls.replace('_', ' ')} {side}, as printed",
                            title=cot_title(f"{cls}_{side}"),
                        )
                        for cls in ("dealer", "asset_mgr", "lev_money", "other_rept", "nonrept")
                        for side in ("long", "short")
                    ),
                    _label(
                        "contract_units",
                        "contract units as printed",
                        title="Contract units as printed",
                    ),
                ),
                "the parsed TFF rows of the markets (the stored history the next run merges into; never re-downloaded)",
            ),
        ),
        headline=(
            HeadlineKey("as_of", U.DATE, "latest report date", kind="text", alertable=False),
            HeadlineKey(
                "release_time", U.TIME, "its scheduled release", kind="time", alertable=False
            ),
            HeadlineKey("crowding_flags", U.COUNT, "flagged (market, rule) pairs"),
            HeadlineKey("flagged", U.TEXT, "the flags raised", kind="text", alertable=False),
            HeadlineKey(
                "markets_reported", U.COUNT, "headline markets with a report in the latest week"
            ),
            HeadlineKey(
                "markets_missing",
                U.TEXT,
                "headline markets without one",
                kind="text",
                alertable=False,
            ),
            HeadlineKey(
                "notional_missing",
                U.TEXT,
                "markets whose USD notional is missing (no close)",
                kind="text",
                alertable=False,
            ),
            HeadlineKey("flag_<MARKET>", U.COUNT, "markets flagged by the rule <MARKET>"),
            HeadlineKey("<MARKET>_net_contracts", U.CONTRACTS, "net position of <symbol>_<class>"),
            HeadlineKey("<MARKET>_net_pct_oi", U.PCT_OF_OI, "net as percent of open interest"),
            HeadlineKey("<MARKET>_net_change_contracts", U.CONTRACTS, "week-on-week change"),
            HeadlineKey("<MARKET>_percentile_<WINDOW>", U.PERCENTILE, "percentile over the window"),
            HeadlineKey("<MARKET>_zscore_<WINDOW>", U.STDEV, "z-score over the window"),
            HeadlineKey("<MARKET>_cot_index_<WINDOW>", U.INDEX_0_100, "COT index over the window"),
            HeadlineKey("<MARKET>_usd_per_point", U.USD_PER_POINT, "net x multiplier"),
            HeadlineKey("<MARKET>_notional_usd", U.USD, "USD notional (None without a close)"),
            HeadlineKey("<MARKET>_dv01_usd_per_bp", U.USD_PER_BP, "DV01 (+ = long duration)"),
            HeadlineKey("<MARKET>_ten_year_equivalents", U.CONTRACTS, "10-year note equivalents"),
        ),
    )
)
