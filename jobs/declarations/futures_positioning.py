"""Declaration of ``cftc.futures_positioning`` (:mod:`jobs.tasks.futures_positioning`; engine
:mod:`flows.futures_positioning`, markets :mod:`flows.sources.tff_markets`).

Headline keys name a market and trader class: ``<symbol>_<class>_<figure>`` in lower case
(``es_asset_manager_percentile_3y``, ``zn_leveraged_funds_dv01_usd_per_bp``), the group sums
``equity_index_<class>_notional_usd`` and ``rates_<class>_dv01_usd_per_bp``, and the crowding
flags ``crowding_flags`` / ``flag_<rule>`` (counts: a rule ``flag_... >= 1`` alerts on a flag).
"""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare

U = Unit


def _label(name: str, what: str) -> Column:
    return Column(name, "str", U.LABEL, what)


STATS = (
    Column(
        "zscore_<WINDOW>",
        "float",
        U.STDEV,
        "z-score of the net position over the window's report weeks (sample std)",
    ),
    Column(
        "percentile_<WINDOW>",
        "float",
        U.PERCENTILE,
        "percentile of the net position over the window (0-100)",
    ),
    Column(
        "cot_index_<WINDOW>",
        "float",
        U.INDEX_0_100,
        "COT index 100 (x - min) / (max - min) over the window",
    ),
)

POSITION_COLUMNS = (
    Column("as_of", "date", U.DATE, "report date (Tuesday)"),
    _label("symbol", "market (markets table)"),
    _label("code", "CFTC contract market code"),
    _label("group", "equity_index / vix / rates"),
    _label(
        "trader_class",
        "dealer / asset_manager / leveraged_funds / other_reportables / nonreportables",
    ),
    Column("open_interest", "float", U.CONTRACTS, "open interest (in the table's contract unit)"),
    Column("long", "float", U.CONTRACTS, "long positions"),
    Column("short", "float", U.CONTRACTS, "short positions"),
    Column("net_contracts", "float", U.CONTRACTS, "long - short (+ = net long)"),
    Column("net_pct_oi", "float", U.PCT_OF_OI, "net as percent of open interest"),
    Column(
        "net_change_contracts",
        "float",
        U.CONTRACTS,
        "change from the previous report week (NaN across a missing week)",
    ),
    *STATS,
    Column(
        "usd_per_point",
        "float",
        U.USD_PER_POINT,
        "equity / VIX: net x multiplier (USD per index or VIX futures point)",
    ),
    Column(
        "close",
        "float",
        U.INDEX_POINTS,
        "index close of the report date used for the notional (NaN: none)",
    ),
    Column(
        "notional_usd",
        "float",
        U.USD,
        "equity / VIX: net x multiplier x close (NaN when no close: never guessed)",
    ),
    Column(
        "dv01_usd_per_bp", "float", U.USD_PER_BP, "rates: net x contract DV01 (+ = long duration)"
    ),
    Column(
        "ten_year_equivalents",
        "float",
        U.CONTRACTS,
        "rates: DV01 / the 10-year note's DV01 (ZN contracts)",
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
                    Column("as_of", "date", U.DATE, "latest report date"),
                    _label("symbol", "market"),
                    _label("code", "CFTC contract market code"),
                    _label("trader_class", "trader class"),
                    _label("window", "1y / 3y / 5y"),
                    Column(
                        "weeks_present", "int", U.WEEKS, "earlier weeks of the window with a report"
                    ),
                    Column("net_contracts", "float", U.CONTRACTS, "net position, latest week"),
                    Column(
                        "previous_max_contracts",
                        "float",
                        U.CONTRACTS,
                        "highest net of the window's earlier weeks",
                    ),
                    Column("previous_max_date", "date", U.DATE, "its report date"),
                    Column(
                        "previous_min_contracts",
                        "float",
                        U.CONTRACTS,
                        "lowest net of the window's earlier weeks",
                    ),
                    Column("previous_min_date", "date", U.DATE, "its report date"),
                    Column(
                        "distance_to_max_contracts",
                        "float",
                        U.CONTRACTS,
                        "net - previous max (> 0 = new high)",
                    ),
                    Column(
                        "distance_to_min_contracts",
                        "float",
                        U.CONTRACTS,
                        "net - previous min (< 0 = new low)",
                    ),
                ),
                "distance to previous extremes, per market, class and window",
            ),
            Table(
                "crowding",
                (
                    Column("as_of", "date", U.DATE, "latest report date"),
                    _label("symbol", "market"),
                    _label("code", "CFTC contract market code"),
                    _label("group", "equity_index / vix / rates"),
                    _label("trader_class", "trader class"),
                    _label("flag", "rule"),
                    _label("metric", "statistic the rule reads"),
                    _label("op", "<= / >="),
                    Column(
                        "value",
                        "float",
                        U.MIXED,
                        "the statistic (0-100 for percentiles and COT indices, standard deviations for z)",
                    ),
                    Column(
                        "threshold", "float", U.MIXED, "the rule's threshold, same unit as value"
                    ),
                    Column("net_contracts", "float", U.CONTRACTS, "net position"),
                    Column("flagged", "bool", U.FLAG, "beyond the threshold with the rule's sign"),
                    _label("description", "what the rule means"),
                ),
                "crowding flags per headline market and rule",
            ),
            Table(
                "reports",
                (
                    Column("as_of", "date", U.DATE, "report date"),
                    _label("symbol", "market"),
                    _label("code", "CFTC contract market code"),
                    _label("market", "market and exchange name as printed that week"),
                    _label("contract_units", "contract units as printed that week"),
                    Column(
                        "unit_scale",
                        "float",
                        U.DIMENSIONLESS,
                        "factor applied to the printed contracts (1 = the table's unit)",
                    ),
                    Column(
                        "open_interest",
                        "float",
                        U.CONTRACTS,
                        "open interest (in the table's contract unit)",
                    ),
                    Column("release_time", "time", U.TIME, "scheduled release"),
                ),
                "one row per report date and market",
            ),
            Table(
                "markets",
                (
                    _label("code", "CFTC contract market code"),
                    _label("symbol", "short name"),
                    _label("group", "equity_index / vix / rates"),
                    _label("kind", "contract / consolidated"),
                    Column("headline", "bool", U.FLAG, "in the headline figures"),
                    _label("name", "market"),
                    Column("multiplier", "float", U.USD_PER_POINT, "USD per point of the quote"),
                    _label("multiplier_unit", "what the multiplier is"),
                    _label("contract_units", "contract units"),
                    _label("underlying", "index whose close values the notional (empty for rates)"),
                    Column(
                        "dv01_usd_per_bp",
                        "float",
                        U.USD_PER_BP,
                        "contract DV01 as applied (overrides included)",
                    ),
                    _label("dv01_source", "where the DV01 comes from"),
                    Column(
                        "first_report",
                        "date",
                        U.DATE,
                        "first report of the market (NaT: before the files)",
                    ),
                    _label("cftc_names", "names printed by the CFTC"),
                    _label("notes", "notes"),
                ),
                "the markets table as applied",
            ),
            Table(
                "rows",
                (
                    Column("as_of", "date", U.DATE, "report date"),
                    _label("code", "CFTC contract market code"),
                    _label("market", "market and exchange name as printed"),
                    Column("open_interest", "int", U.CONTRACTS, "open interest as printed"),
                    *(
                        Column(
                            f"{cls}_{side}",
                            "int",
                            U.CONTRACTS,
                            f"{cls.replace('_', ' ')} {side}, as printed",
                        )
                        for cls in ("dealer", "asset_mgr", "lev_money", "other_rept", "nonrept")
                        for side in ("long", "short")
                    ),
                    _label("contract_units", "contract units as printed"),
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
