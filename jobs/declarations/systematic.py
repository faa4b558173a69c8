"""Declarations of ``volcontrol.<INDEX>``, ``cta.<INDEX>`` and ``vixetp.flows``
(:mod:`jobs.tasks.systematic`; engines :mod:`flows.volcontrol`, :mod:`flows.cta`,
:mod:`flows.vixetp`).

Conventions: flows in USD of index (VX) futures, + = buy; exposures and positions as fractions
of AUM (1 = 100 %); each result states its horizon (vol-control: next sessions (lagged); CTAs:
this week; VIX ETPs: today) and the AUM calibration in force.
"""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare

U = Unit


def _label(name: str, what: str, *, title: str) -> Column:
    return Column(name, "str", U.LABEL, what, title=title)


CALIBRATION = Table(
    "calibration",
    (
        _label("method", "configured / flow over window / position on date", title="Method"),
        Column("aum_usd", "float", U.USD, "AUM in force", title="Assets in force"),
        Column(
            "published_usd",
            "float",
            U.USD_FLOW,
            "published figure matched (NaN when configured)",
            title="Published figure",
        ),
        Column(
            "model_per_usd",
            "float",
            U.DIMENSIONLESS,
            "model quantity per USD of AUM over the window",
            title="Model per USD of assets",
        ),
        _label("start", "window start (ISO date; empty when configured)", title="Window start"),
        _label("end", "window end (ISO date; empty when configured)", title="Window end"),
        _label("source", "who published the figure / where the AUM is set", title="Source"),
        _label("label", "one line for people", title="Calibration"),
    ),
    "the AUM calibration in force (one row)",
)

VOLCONTROL = declare(
    ResultDecl(
        name="volcontrol.<INDEX>",
        description="Volatility-control funds on one index: exposure history, the next sessions' flow (fixed by the lagged rule), alternating-tape scenarios and a one-day shock grid over 1 day, 1 week and 2 weeks, with the AUM calibration in force.",
        task="systematic",
        cadence="daily",
        tables=(
            Table(
                "history",
                (
                    Column("date", "date", U.DATE, "session date", title="Date"),
                    Column("close", "float", U.INDEX_POINTS, "index close", title="Close"),
                    Column(
                        "log_return", "float", U.FRACTION, "daily log return", title="Log return"
                    ),
                    Column(
                        "sigma",
                        "float",
                        U.FRACTION_PER_YEAR,
                        "realised volatility the rule reads (max of the estimators, annualised)",
                        title="Realised volatility",
                    ),
                    Column(
                        "exposure",
                        "float",
                        U.FRACTION_OF_AUM,
                        "exposure min(cap, target / sigma lagged)",
                        title="Exposure",
                    ),
                    Column("notional_usd", "float", U.USD, "AUM x exposure", title="Notional"),
                    Column(
                        "flow_usd",
                        "float",
                        U.USD_FLOW,
                        "AUM x change of exposure at the close (+ = buy index futures)",
                        title="Flow",
                    ),
                ),
                "exposure and flow per session (the last [systematic] history_sessions sessions)",
            ),
            Table(
                "forward",
                (
                    Column(
                        "session",
                        "int",
                        U.SESSIONS,
                        "sessions after the as-of close",
                        title="Session ahead",
                    ),
                    Column(
                        "exposure",
                        "float",
                        U.FRACTION_OF_AUM,
                        "exposure with unchanged prices",
                        title="Exposure",
                    ),
                    Column(
                        "flow_usd",
                        "float",
                        U.USD_FLOW,
                        "flow at that session's close (+ = buy)",
                        title="Flow",
                    ),
                    Column(
                        "cumulative_flow_usd",
                        "float",
                        U.USD_FLOW,
                        "flow summed from the first session",
                        title="Cumulative flow",
                    ),
                ),
                "the next sessions with unchanged prices (the first one is fixed by the lag)",
            ),
            Table(
                "scenarios",
                (
                    Column(
                        "daily_move_pct",
                        "float",
                        U.PERCENT,
                        "daily move size, alternating sign (the level stays put)",
                        title="Daily move",
                    ),
                    Column("sessions", "int", U.SESSIONS, "sessions of the tape", title="Length"),
                    Column(
                        "flow_usd",
                        "float",
                        U.USD_FLOW,
                        "flow summed over the sessions (+ = buy)",
                        title="Flow over the tape",
                    ),
                    Column(
                        "exposure_end",
                        "float",
                        U.FRACTION_OF_AUM,
                        "exposure after the last session",
                        title="Exposure at the end",
                    ),
                ),
                "alternating tapes: only volatility changes",
            ),
            Table(
                "shock_grid",
                (
                    Column(
                        "shock_pct",
                        "float",
                        U.PERCENT,
                        "index move on the next session, then unchanged",
                        title="Next-session move",
                    ),
                    Column(
                        "flow_1d_usd",
                        "float",
                        U.USD_FLOW,
                        "cumulative flow over 1 session",
                        title="Flow over 1 session",
                    ),
                    Column(
                        "flow_1w_usd",
                        "float",
                        U.USD_FLOW,
                        "cumulative flow over 5 sessions",
                        title="Flow over 5 sessions",
                    ),
                    Column(
                        "flow_2w_usd",
                        "float",
                        U.USD_FLOW,
                        "cumulative flow over 10 sessions",
                        title="Flow over 10 sessions",
                    ),
                ),
                "one-day shock grid -10..+10 %",
            ),
            CALIBRATION,
        ),
        headline=(
            HeadlineKey(
                "as_of", U.DATE, "close the figures are computed at", kind="text", alertable=False
            ),
            HeadlineKey("close", U.INDEX_POINTS, "index close"),
            HeadlineKey("sigma", U.FRACTION_PER_YEAR, "realised volatility (annualised)"),
            HeadlineKey("exposure", U.FRACTION_OF_AUM, "exposure at the close"),
            HeadlineKey(
                "exposure_change_10d",
                U.FRACTION_OF_AUM,
                "change of exposure over the last 10 sessions",
            ),
            HeadlineKey("notional_usd", U.USD, "index futures held"),
            HeadlineKey(
                "flow_usd_1d",
                U.USD_FLOW,
                "flow at the next session's close (already fixed by the lag; + = buy)",
            ),
            HeadlineKey(
                "flow_usd_1w_flat", U.USD_FLOW, "flow over the next 5 sessions, unchanged prices"
            ),
            HeadlineKey(
                "flow_usd_2w_flat", U.USD_FLOW, "flow over the next 10 sessions, unchanged prices"
            ),
            HeadlineKey("flow_usd_past_10d", U.USD_FLOW, "flow over the last 10 sessions"),
            HeadlineKey(
                "flow_usd_shock_down_5pct_1w",
                U.USD_FLOW,
                "flow over 5 sessions after a -5 % day (shock grid)",
            ),
            HeadlineKey("aum_usd", U.USD, "AUM in force"),
            HeadlineKey(
                "calibration", U.TEXT, "the calibration in force", kind="text", alertable=False
            ),
            HeadlineKey("estimator", U.LABEL, "ewma / sma", kind="text", alertable=False),
            HeadlineKey("target_vol", U.FRACTION_PER_YEAR, "volatility target", alertable=False),
            HeadlineKey("cap", U.FRACTION_OF_AUM, "maximum exposure", alertable=False),
            HeadlineKey(
                "lag",
                U.SESSIONS,
                "sessions between the volatility reading and the trade",
                alertable=False,
            ),
            HeadlineKey(
                "horizon",
                U.LABEL,
                "when the flow happens: next sessions (lagged)",
                kind="text",
                alertable=False,
            ),
        ),
    )
)

CTA = declare(
    ResultDecl(
        name="cta.<INDEX>",
        description="CTA trend followers on one index: position history, trigger levels (the close that flips each rule, distance and days to flip), flows on flat / up / down tapes over a week and a month, a one-day shock grid, and the AUM calibration in force.",
        task="systematic",
        cadence="daily",
        tables=(
            Table(
                "history",
                (
                    Column("date", "date", U.DATE, "session date", title="Date"),
                    Column("close", "float", U.INDEX_POINTS, "index close", title="Close"),
                    Column(
                        "signal_mean",
                        "float",
                        U.DIMENSIONLESS,
                        "mean of the rules' signs (-1..+1)",
                        title="Mean signal",
                    ),
                    Column(
                        "sigma",
                        "float",
                        U.FRACTION_PER_YEAR,
                        "EWMA volatility (annualised, unlagged)",
                        title="EWMA volatility",
                    ),
                    Column(
                        "position",
                        "float",
                        U.FRACTION_OF_AUM,
                        "position (+ = long)",
                        title="Position",
                    ),
                    Column(
                        "position_usd",
                        "float",
                        U.USD,
                        "index futures held (+ = long)",
                        title="Futures held",
                    ),
                    Column(
                        "flow_usd", "float", U.USD_FLOW, "flow at the close (+ = buy)", title="Flow"
                    ),
                ),
                "position and flow per session (the last [systematic] history_sessions sessions)",
            ),
            Table(
                "triggers",
                (
                    _label("lookback", "rule", title="Rule"),
                    _label(
                        "spec",
                        "rule as configured (return:21, ma:20/120)",
                        title="Rule as configured",
                    ),
                    Column(
                        "signal",
                        "float",
                        U.DIMENSIONLESS,
                        "the rule's sign today (-1/0/+1)",
                        title="Signal today",
                    ),
                    Column(
                        "level",
                        "float",
                        U.INDEX_POINTS,
                        "close at which the rule flips at the next session",
                        title="Trigger level",
                    ),
                    Column(
                        "distance_pct",
                        "float",
                        U.PERCENT,
                        "distance of that level from today's close",
                        title="Distance from the close",
                    ),
                    Column(
                        "days_to_flip",
                        "float",
                        U.SESSIONS,
                        "sessions until the rule flips if every close equals today's (NaN: never)",
                        title="Sessions to flip",
                    ),
                ),
                "trigger levels per rule",
            ),
            Table(
                "scenarios",
                (
                    _label("tape", "flat / up / down", title="Tape"),
                    _label("horizon", "1w / 1m", title="Horizon"),
                    Column("sessions", "int", U.SESSIONS, "sessions of the tape", title="Length"),
                    Column(
                        "move_pct",
                        "float",
                        U.PERCENT,
                        "index move over the horizon",
                        title="Index move",
                    ),
                    Column(
                        "flow_usd",
                        "float",
                        U.USD_FLOW,
                        "flow over the horizon (+ = buy)",
                        title="Flow",
                    ),
                    Column(
                        "flow_signal_usd",
                        "float",
                        U.USD_FLOW,
                        "of which from signal changes",
                        title="From signal changes",
                    ),
                    Column(
                        "flow_vol_usd",
                        "float",
                        U.USD_FLOW,
                        "of which from volatility changes",
                        title="From volatility changes",
                    ),
                    Column(
                        "position_end",
                        "float",
                        U.FRACTION_OF_AUM,
                        "position at the end",
                        title="Position at the end",
                    ),
                ),
                "tapes of +/- 2 sigma",
            ),
            Table(
                "shock_grid",
                (
                    Column(
                        "shock_pct",
                        "float",
                        U.PERCENT,
                        "index move on the next session",
                        title="Next-session move",
                    ),
                    Column(
                        "position",
                        "float",
                        U.FRACTION_OF_AUM,
                        "position after that close",
                        title="Position after the close",
                    ),
                    Column(
                        "flow_usd",
                        "float",
                        U.USD_FLOW,
                        "flow at that close (+ = buy)",
                        title="Flow",
                    ),
                ),
                "one-day shock grid -10..+10 %",
            ),
            CALIBRATION,
        ),
        headline=(
            HeadlineKey(
                "as_of", U.DATE, "close the figures are computed at", kind="text", alertable=False
            ),
            HeadlineKey("close", U.INDEX_POINTS, "index close"),
            HeadlineKey("sigma", U.FRACTION_PER_YEAR, "EWMA volatility"),
            HeadlineKey("position", U.FRACTION_OF_AUM, "position (+ = long)"),
            HeadlineKey("position_usd", U.USD, "index futures held (+ = long)"),
            HeadlineKey("signal_mean", U.DIMENSIONLESS, "mean signal (-1..+1)"),
            HeadlineKey("flow_usd_1d", U.USD_FLOW, "flow at the last close"),
            HeadlineKey(
                "nearest_trigger",
                U.LABEL,
                "rule whose trigger is nearest",
                kind="text",
                alertable=False,
            ),
            HeadlineKey("nearest_trigger_level", U.INDEX_POINTS, "its level"),
            HeadlineKey(
                "nearest_trigger_distance_pct", U.PERCENT, "its distance from the close (signed)"
            ),
            HeadlineKey(
                "nearest_trigger_abs_distance_pct",
                U.PERCENT,
                "its distance from the close (absolute: 'a CTA trigger within 1 %')",
            ),
            HeadlineKey(
                "nearest_trigger_days_to_flip",
                U.SESSIONS,
                "sessions until the nearest trigger's rule flips on a flat tape",
            ),
            HeadlineKey(
                "min_days_to_flip",
                U.SESSIONS,
                "fewest sessions to a flip on a flat tape (any rule)",
            ),
            HeadlineKey("flow_usd_flat_1w", U.USD_FLOW, "flow over 5 sessions on a flat tape"),
            HeadlineKey("flow_usd_up_1w", U.USD_FLOW, "flow over 5 sessions on a +2 sigma tape"),
            HeadlineKey("flow_usd_down_1w", U.USD_FLOW, "flow over 5 sessions on a -2 sigma tape"),
            HeadlineKey("aum_usd", U.USD, "AUM in force"),
            HeadlineKey(
                "calibration", U.TEXT, "the calibration in force", kind="text", alertable=False
            ),
            HeadlineKey(
                "horizon", U.LABEL, "when the flow happens: this week", kind="text", alertable=False
            ),
        ),
    )
)

VIXETP = declare(
    ResultDecl(
        name="vixetp.flows",
        description="VIX futures ETPs: the short- and mid-term VIX futures index return of the session, each fund's rebalance and roll at the close in USD, VX contracts and vega, per contract against its volume, and the rebalance for VX moves into the next close.",
        task="systematic",
        cadence="daily",
        tables=(
            Table(
                "funds",
                (
                    _label("ticker", "fund", title="Fund"),
                    _label("name", "fund name", title="Name"),
                    _label("index", "short_term / mid_term", title="Index"),
                    Column(
                        "leverage",
                        "float",
                        U.DIMENSIONLESS,
                        "signed daily leverage over the session",
                        title="Leverage",
                    ),
                    Column(
                        "leverage_next",
                        "float",
                        U.DIMENSIONLESS,
                        "leverage from the next session",
                        title="Leverage next session",
                    ),
                    Column(
                        "aum_prev_usd",
                        "float",
                        U.USD,
                        "prior-close net assets",
                        title="Assets at the prior close",
                    ),
                    Column(
                        "index_return",
                        "float",
                        U.FRACTION,
                        "index excess return of the session",
                        title="Index return",
                    ),
                    Column(
                        "rebalance_usd",
                        "float",
                        U.USD_FLOW,
                        "A (L^2 - L) R (+ = buy VX futures)",
                        title="Rebalance",
                    ),
                    Column(
                        "releverage_usd",
                        "float",
                        U.USD_FLOW,
                        "trade on a leverage change",
                        title="Re-leverage",
                    ),
                    Column(
                        "creations_usd", "float", U.USD_FLOW, "net creations", title="Creations"
                    ),
                    Column(
                        "net_usd",
                        "float",
                        U.USD_FLOW,
                        "rebalance + re-leverage + creations",
                        title="Net trade",
                    ),
                    Column(
                        "roll_usd",
                        "float",
                        U.USD,
                        "moved from the front into the second month (signed as the exposure)",
                        title="Roll",
                    ),
                    Column(
                        "rebalance_contracts",
                        "float",
                        U.CONTRACTS,
                        "the rebalance in VX contracts (USD 1,000 per point)",
                        title="Rebalance",
                    ),
                    Column(
                        "roll_out_contracts",
                        "float",
                        U.CONTRACTS,
                        "contracts sold out of the front by the roll",
                        title="Rolled out of the front",
                    ),
                    Column(
                        "roll_in_contracts",
                        "float",
                        U.CONTRACTS,
                        "contracts bought in the next month by the roll",
                        title="Rolled into the next month",
                    ),
                    Column(
                        "net_contracts",
                        "float",
                        U.CONTRACTS,
                        "net contracts traded (+ = buy)",
                        title="Net trade",
                    ),
                    Column(
                        "vega_usd_per_vol_pt",
                        "float",
                        U.USD_PER_VOL_POINT,
                        "vega of the rebalance",
                        title="Vega of the rebalance",
                    ),
                    Column(
                        "position_usd",
                        "float",
                        U.USD,
                        "index exposure after the close",
                        title="Exposure after the close",
                    ),
                    Column(
                        "position_contracts",
                        "float",
                        U.CONTRACTS,
                        "VX contracts held after the close",
                        title="Contracts held after the close",
                    ),
                ),
                "per fund, the session's trades",
            ),
            Table(
                "by_contract",
                (
                    _label("contract", "VX contract", title="Contract"),
                    Column("expiry", "date", U.DATE, "final settlement date", title="Expiry"),
                    Column(
                        "settle",
                        "float",
                        U.VOL_POINTS,
                        "settlement of the session",
                        title="Settlement",
                    ),
                    Column(
                        "rebalance_contracts",
                        "float",
                        U.CONTRACTS,
                        "rebalance (+ = buy)",
                        title="Rebalance",
                    ),
                    Column("roll_contracts", "float", U.CONTRACTS, "roll (+ = buy)", title="Roll"),
                    Column(
                        "total_contracts", "float", U.CONTRACTS, "rebalance + roll", title="Total"
                    ),
                    Column(
                        "volume",
                        "float",
                        U.CONTRACTS,
                        "contracts traded that session (NaN: not known)",
                        title="Volume",
                    ),
                    Column(
                        "pct_of_volume",
                        "float",
                        U.PERCENT,
                        "100 x |total| / volume (NaN when the volume is not known)",
                        title="Share of volume",
                    ),
                ),
                "the funds' trades summed per VX contract",
            ),
            Table(
                "scenarios",
                (
                    Column(
                        "move_pct",
                        "float",
                        U.PERCENT,
                        "every VX contract's move into the next close",
                        title="VX move into the close",
                    ),
                    Column(
                        "rebalance_usd",
                        "float",
                        U.USD_FLOW,
                        "every fund's rebalance",
                        title="Rebalance, every fund",
                    ),
                    Column(
                        "long_funds_usd",
                        "float",
                        U.USD_FLOW,
                        "funds with L > 1",
                        title="Long funds",
                    ),
                    Column(
                        "inverse_funds_usd",
                        "float",
                        U.USD_FLOW,
                        "funds with L < 0",
                        title="Inverse funds",
                    ),
                    Column(
                        "rebalance_contracts",
                        "float",
                        U.CONTRACTS,
                        "in VX contracts",
                        title="Rebalance",
                    ),
                    Column(
                        "vega_usd_per_vol_pt",
                        "float",
                        U.USD_PER_VOL_POINT,
                        "its vega",
                        title="Vega",
                    ),
                    Column(
                        "pct_of_volume",
                        "float",
                        U.PERCENT,
                        "percent of the held contracts' volume of the session",
                        title="Share of volume",
                    ),
                ),
                "rebalance for VX moves -40..+40 % into the next close",
            ),
            Table(
                "index",
                (
                    Column("date", "date", U.DATE, "session", title="Date"),
                    _label("front", "front contract held over the session", title="Front contract"),
                    Column(
                        "front_weight",
                        "float",
                        U.FRACTION,
                        "its quantity weight",
                        title="Front weight",
                    ),
                    Column(
                        "front_settle",
                        "float",
                        U.VOL_POINTS,
                        "its settlement",
                        title="Front settlement",
                    ),
                    _label("second", "second contract", title="Second contract"),
                    Column(
                        "second_settle",
                        "float",
                        U.VOL_POINTS,
                        "its settlement",
                        title="Second settlement",
                    ),
                    Column(
                        "index_return",
                        "float",
                        U.FRACTION,
                        "short-term index excess return",
                        title="Short-term index return",
                    ),
                    Column(
                        "index_level",
                        "float",
                        U.INDEX_POINTS,
                        "index level (100 at the first session of the data)",
                        title="Short-term index level",
                    ),
                    Column(
                        "mid_index_return",
                        "float",
                        U.FRACTION,
                        "mid-term index excess return (NaN: a held month has no settlement)",
                        title="Mid-term index return",
                    ),
                ),
                "the short-term (and mid-term) VIX futures index per session (the last [systematic] history_sessions)",
            ),
            Table(
                "excluded",
                (
                    _label("ticker", "fund", title="Fund"),
                    _label("reason", "why it is left out", title="Reason"),
                ),
                "funds left out (no assets, no index return)",
            ),
        ),
        headline=(
            HeadlineKey("date", U.DATE, "session", kind="text", alertable=False),
            HeadlineKey("index_return", U.FRACTION, "short-term index return of the session"),
            HeadlineKey("front", U.LABEL, "front contract", kind="text", alertable=False),
            HeadlineKey("second", U.LABEL, "second contract", kind="text", alertable=False),
            HeadlineKey("front_weight", U.FRACTION, "front weight over the session"),
            HeadlineKey("mid_index_return", U.FRACTION, "mid-term index return"),
            HeadlineKey(
                "rebalance_usd", U.USD_FLOW, "every fund's rebalance at the close (+ = buy)"
            ),
            HeadlineKey("releverage_usd", U.USD_FLOW, "trades on leverage changes"),
            HeadlineKey("roll_usd", U.USD, "rolled from the front into the second month"),
            HeadlineKey("net_usd", U.USD_FLOW, "net trade at the close"),
            HeadlineKey("rebalance_contracts", U.CONTRACTS, "the rebalance in VX contracts"),
            HeadlineKey("net_contracts", U.CONTRACTS, "net VX contracts"),
            HeadlineKey("vega_usd_per_vol_pt", U.USD_PER_VOL_POINT, "vega of the rebalance"),
            HeadlineKey(
                "pct_of_volume",
                U.PERCENT,
                "the trades as percent of the traded contracts' volume (None when the volume is not known)",
            ),
            HeadlineKey(
                "per_1pct_usd", U.USD_PER_1PCT, "rebalance per +1 % VX move into the next close"
            ),
            HeadlineKey("per_1pct_contracts", U.CONTRACTS, "the same in VX contracts"),
            HeadlineKey("funds", U.COUNT, "funds computed"),
            HeadlineKey("excluded", U.COUNT, "funds left out"),
            HeadlineKey(
                "horizon", U.LABEL, "when the flow happens: today", kind="text", alertable=False
            ),
        ),
    )
)
