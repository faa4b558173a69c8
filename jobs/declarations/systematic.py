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


def _label(name: str, what: str) -> Column:
    return Column(name, "str", U.LABEL, what)


CALIBRATION = Table(
    "calibration",
    (
        _label("method", "configured / flow over window / position on date"),
        Column("aum_usd", "float", U.USD, "AUM in force"),
        Column(
            "published_usd", "float", U.USD_FLOW, "published figure matched (NaN when configured)"
        ),
        Column(
            "model_per_usd",
            "float",
            U.DIMENSIONLESS,
            "model quantity per USD of AUM over the window",
        ),
        _label("start", "window start (ISO date; empty when configured)"),
        _label("end", "window end (ISO date; empty when configured)"),
        _label("source", "who published the figure / where the AUM is set"),
        _label("label", "one line for people"),
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
                    Column("date", "date", U.DATE, "session date"),
                    Column("close", "float", U.INDEX_POINTS, "index close"),
                    Column("log_return", "float", U.FRACTION, "daily log return"),
                    Column(
                        "sigma",
                        "float",
                        U.FRACTION_PER_YEAR,
                        "realised volatility the rule reads (max of the estimators, annualised)",
                    ),
                    Column(
                        "exposure",
                        "float",
                        U.FRACTION_OF_AUM,
                        "exposure min(cap, target / sigma lagged)",
                    ),
                    Column("notional_usd", "float", U.USD, "AUM x exposure"),
                    Column(
                        "flow_usd",
                        "float",
                        U.USD_FLOW,
                        "AUM x change of exposure at the close (+ = buy index futures)",
                    ),
                ),
                "exposure and flow per session (the last [systematic] history_sessions sessions)",
            ),
            Table(
                "forward",
                (
                    Column("session", "int", U.SESSIONS, "sessions after the as-of close"),
                    Column(
                        "exposure", "float", U.FRACTION_OF_AUM, "exposure with unchanged prices"
                    ),
                    Column(
                        "flow_usd", "float", U.USD_FLOW, "flow at that session's close (+ = buy)"
                    ),
                    Column(
                        "cumulative_flow_usd",
                        "float",
                        U.USD_FLOW,
                        "flow summed from the first session",
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
                    ),
                    Column("sessions", "int", U.SESSIONS, "sessions of the tape"),
                    Column(
                        "flow_usd", "float", U.USD_FLOW, "flow summed over the sessions (+ = buy)"
                    ),
                    Column(
                        "exposure_end",
                        "float",
                        U.FRACTION_OF_AUM,
                        "exposure after the last session",
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
                    ),
                    Column("flow_1d_usd", "float", U.USD_FLOW, "cumulative flow over 1 session"),
                    Column("flow_1w_usd", "float", U.USD_FLOW, "cumulative flow over 5 sessions"),
                    Column("flow_2w_usd", "float", U.USD_FLOW, "cumulative flow over 10 sessions"),
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
                    Column("date", "date", U.DATE, "session date"),
                    Column("close", "float", U.INDEX_POINTS, "index close"),
                    Column(
                        "signal_mean", "float", U.DIMENSIONLESS, "mean of the rules' signs (-1..+1)"
                    ),
                    Column(
                        "sigma",
                        "float",
                        U.FRACTION_PER_YEAR,
                        "EWMA volatility (annualised, unlagged)",
                    ),
                    Column("position", "float", U.FRACTION_OF_AUM, "position (+ = long)"),
                    Column("position_usd", "float", U.USD, "index futures held (+ = long)"),
                    Column("flow_usd", "float", U.USD_FLOW, "flow at the close (+ = buy)"),
                ),
                "position and flow per session (the last [systematic] history_sessions sessions)",
            ),
            Table(
                "triggers",
                (
                    _label("lookback", "rule"),
                    _label("spec", "rule as configured (return:21, ma:20/120)"),
                    Column("signal", "float", U.DIMENSIONLESS, "the rule's sign today (-1/0/+1)"),
                    Column(
                        "level",
                        "float",
                        U.INDEX_POINTS,
                        "close at which the rule flips at the next session",
                    ),
                    Column(
                        "distance_pct",
                        "float",
                        U.PERCENT,
                        "distance of that level from today's close",
                    ),
                    Column(
                        "days_to_flip",
                        "float",
                        U.SESSIONS,
                        "sessions until the rule flips if every close equals today's (NaN: never)",
                    ),
                ),
                "trigger levels per rule",
            ),
            Table(
                "scenarios",
                (
                    _label("tape", "flat / up / down"),
                    _label("horizon", "1w / 1m"),
                    Column("sessions", "int", U.SESSIONS, "sessions of the tape"),
                    Column("move_pct", "float", U.PERCENT, "index move over the horizon"),
                    Column("flow_usd", "float", U.USD_FLOW, "flow over the horizon (+ = buy)"),
                    Column("flow_signal_usd", "float", U.USD_FLOW, "of which from signal changes"),
                    Column("flow_vol_usd", "float", U.USD_FLOW, "of which from volatility changes"),
                    Column("position_end", "float", U.FRACTION_OF_AUM, "position at the end"),
                ),
                "tapes of +/- 2 sigma",
            ),
            Table(
                "shock_grid",
                (
                    Column("shock_pct", "float", U.PERCENT, "index move on the next session"),
                    Column("position", "float", U.FRACTION_OF_AUM, "position after that close"),
                    Column("flow_usd", "float", U.USD_FLOW, "flow at that close (+ = buy)"),
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
                    _label("ticker", "fund"),
                    _label("name", "fund name"),
                    _label("index", "short_term / mid_term"),
                    Column(
                        "leverage",
                        "float",
                        U.DIMENSIONLESS,
                        "signed daily leverage over the session",
                    ),
                    Column(
                        "leverage_next", "float", U.DIMENSIONLESS, "leverage from the next session"
                    ),
                    Column("aum_prev_usd", "float", U.USD, "prior-close net assets"),
                    Column(
                        "index_return", "float", U.FRACTION, "index excess return of the session"
                    ),
                    Column(
                        "rebalance_usd", "float", U.USD_FLOW, "A (L^2 - L) R (+ = buy VX futures)"
                    ),
                    Column("releverage_usd", "float", U.USD_FLOW, "trade on a leverage change"),
                    Column("creations_usd", "float", U.USD_FLOW, "net creations"),
                    Column("net_usd", "float", U.USD_FLOW, "rebalance + re-leverage + creations"),
                    Column(
                        "roll_usd",
                        "float",
                        U.USD,
                        "moved from the front into the second month (signed as the exposure)",
                    ),
                    Column(
                        "rebalance_contracts",
                        "float",
                        U.CONTRACTS,
                        "the rebalance in VX contracts (USD 1,000 per point)",
                    ),
                    Column(
                        "roll_out_contracts",
                        "float",
                        U.CONTRACTS,
                        "contracts sold out of the front by the roll",
                    ),
                    Column(
                        "roll_in_contracts",
                        "float",
                        U.CONTRACTS,
                        "contracts bought in the next month by the roll",
                    ),
                    Column("net_contracts", "float", U.CONTRACTS, "net contracts traded (+ = buy)"),
                    Column(
                        "vega_usd_per_vol_pt", "float", U.USD_PER_VOL_POINT, "vega of the rebalance"
                    ),
                    Column("position_usd", "float", U.USD, "index exposure after the close"),
                    Column(
                        "position_contracts",
                        "float",
                        U.CONTRACTS,
                        "VX contracts held after the close",
                    ),
                ),
                "per fund, the session's trades",
            ),
            Table(
                "by_contract",
                (
                    _label("contract", "VX contract"),
                    Column("expiry", "date", U.DATE, "final settlement date"),
                    Column("settle", "float", U.VOL_POINTS, "settlement of the session"),
                    Column("rebalance_contracts", "float", U.CONTRACTS, "rebalance (+ = buy)"),
                    Column("roll_contracts", "float", U.CONTRACTS, "roll (+ = buy)"),
                    Column("total_contracts", "float", U.CONTRACTS, "rebalance + roll"),
                    Column(
                        "volume",
                        "float",
                        U.CONTRACTS,
                        "contracts traded that session (NaN: not known)",
                    ),
                    Column(
                        "pct_of_volume",
                        "float",
                        U.PERCENT,
                        "100 x |total| / volume (NaN when the volume is not known)",
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
                    ),
                    Column("rebalance_usd", "float", U.USD_FLOW, "every fund's rebalance"),
                    Column("long_funds_usd", "float", U.USD_FLOW, "funds with L > 1"),
                    Column("inverse_funds_usd", "float", U.USD_FLOW, "funds with L < 0"),
                    Column("rebalance_contracts", "float", U.CONTRACTS, "in VX contracts"),
                    Column("vega_usd_per_vol_pt", "float", U.USD_PER_VOL_POINT, "its vega"),
                    Column(
                        "pct_of_volume",
                        "float",
                        U.PERCENT,
                        "percent of the held contracts' volume of the session",
                    ),
                ),
                "rebalance for VX moves -40..+40 % into the next close",
            ),
            Table(
                "index",
                (
                    Column("date", "date", U.DATE, "session"),
                    _label("front", "front contract held over the session"),
                    Column("front_weight", "float", U.FRACTION, "its quantity weight"),
                    Column("front_settle", "float", U.VOL_POINTS, "its settlement"),
                    _label("second", "second contract"),
                    Column("second_settle", "float", U.VOL_POINTS, "its settlement"),
                    Column("index_return", "float", U.FRACTION, "short-term index excess return"),
                    Column(
                        "index_level",
                        "float",
                        U.INDEX_POINTS,
                        "index level (100 at the first session of the data)",
                    ),
                    Column(
                        "mid_index_return",
                        "float",
                        U.FRACTION,
                        "mid-term index excess return (NaN: a held month has no settlement)",
                    ),
                ),
                "the short-term (and mid-term) VIX futures index per session (the last [systematic] history_sessions)",
            ),
            Table(
                "excluded",
                (_label("ticker", "fund"), _label("reason", "why it is left out")),
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
