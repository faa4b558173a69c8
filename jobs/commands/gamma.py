"""``flowdesk gamma FILE``: dealer gamma from a local CBOE quote-table CSV or options JSON file.

The file type is detected from its content (after the decoding rule of
:func:`flows.sources.textio.decode_text`, JSON starts with ``{`` or ``[``; anything else is read as
the quote-table CSV).  Parameters not given on the command line come from ``[gamma]`` in the
configuration (rate, dividend yield and dealer convention per underlying, hedge moves,
deliverables of adjusted series, consistency factor), or the defaults when no configuration can be
read.  The input quality (rows skipped and their share of open interest, repairs, warnings) is
printed (``quality`` in ``--json``) and enforced against ``[quality]``: a file that lost more
than the threshold is refused.  Exit status 2 on a bad or refused file, naming the file and the
field.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import pandas as pd

from jobs.commands._common import (
    emit,
    exit_on_input_error,
    plain,
    settings_or_default,
    writer,
)

RESULT = "gamma.<UNDERLYING>"
"""The declared result whose units the summary writes the figures in (:mod:`jobs.declarations.gamma`)."""

JSON_KEYS = (
    "underlying",
    "spot",
    "as_of",
    "contracts",
    "expired_dropped",
    "net_gex_usd_per_1pct",
    "call_gex_usd_per_1pct",
    "put_gex_usd_per_1pct",
    "model_gex_at_spot_usd_per_1pct",
    "flip",
    "flips",
    "call_wall",
    "put_wall",
    "abs_gamma_strike",
    "regime",
    "zero_dte_share",
    "modelled_gamma_contracts",
    "modelled_gamma_share",
    "excluded_contracts",
    "excluded_oi",
    "unsolved_dropped",
    "forwards",
    "by_expiry",
    "hedge_flow",
    "quality",
)
"""Keys of ``flowdesk gamma --json`` (the issue's contract), in output order."""


def read_chain(path: Path, underlying: str | None = None) -> Any:
    """Parse ``path`` as CBOE options JSON or quote-table CSV (by content); errors name the file."""
    from flows.errors import InputError
    from flows.sources import cboe, cboe_csv
    from flows.sources.textio import decode_text

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = decode_text(raw, str(path)).text
        if not text.strip():  # no bytes, only blanks or only a byte-order mark
            raise InputError(
                str(path), None, "empty file (expected CBOE options JSON or a CBOE quote-table CSV)"
            )
        if text.lstrip()[:1] in ("{", "["):
            chain = cboe.parse(raw, source=str(path), symbol=underlying)
            if underlying:
                chain.underlying = underlying.upper().lstrip("_")
            return chain
        return cboe_csv.parse(raw, source=str(path), underlying=underlying)
    except InputError as exc:
        if str(path) in str(exc):
            raise
        raise InputError(str(path), exc.field, str(exc)) from None


def gamma_json(report: Any) -> dict[str, Any]:
    """The ``--json`` document: headline keys plus ``by_expiry`` and ``hedge_flow`` lists."""
    h = report.headline
    out: dict[str, Any] = {
        k: plain(h.get(k))
        for k in JSON_KEYS
        if k not in ("by_expiry", "hedge_flow", "quality", "forwards")
    }
    out["flips"] = [plain(f) for f in (h.get("flips") or [])]
    out["forwards"] = [{k: plain(v) for k, v in f.items()} for f in (h.get("forwards") or [])]
    q = getattr(report, "quality", None)
    out["quality"] = q.to_dict() if q is not None else None
    be = report.by_expiry
    out["by_expiry"] = [
        {"expiry": pd.Timestamp(e).date().isoformat(), "net_gex_usd_per_1pct": plain(float(v))}
        for e, v in zip(be["expiry"], be["net_gex_usd_per_1pct"], strict=True)
    ]
    hf = report.hedge_flow
    out["hedge_flow"] = [
        {"move_pct": plain(float(m)), "dealer_trade_usd": plain(float(v))}
        for m, v in zip(hf["move_pct"], hf["dealer_trade_usd"], strict=True)
    ]
    return {k: out[k] for k in JSON_KEYS}


def summary_text(report: Any, doc: dict[str, Any]) -> str:
    """Human summary of a report (units spelled out; figures written by the units declared for
    ``gamma.<UNDERLYING>``: :func:`jobs.commands._common.writer`)."""
    h = report.headline
    w = writer(RESULT)
    flow = writer(RESULT, "hedge_flow")
    by_expiry = writer(RESULT, "by_expiry")

    def level(key: str, x: Any) -> str:
        return (
            "none in window"
            if x is None or (isinstance(x, float) and not math.isfinite(x))
            else w(key, x)
        )

    from flows.formatting import code_label

    code = h.get("convention", "calls_long_puts_short")
    conv = f"{code_label(code)} ({code})"  # the words, and the value [gamma] convention takes
    lines = [
        f"{doc['underlying']}  spot {w('spot', doc['spot'])}  as of {doc['as_of']}  source {h.get('source', '')}",
        f"contracts {w('contracts', doc['contracts'])}  expired dropped {w('expired_dropped', doc['expired_dropped'])}  dealer convention: {conv}",
        f"net GEX   {w('net_gex_usd_per_1pct', doc['net_gex_usd_per_1pct'])} per 1% move  (calls {w('call_gex_usd_per_1pct', doc['call_gex_usd_per_1pct'])}, puts {w('put_gex_usd_per_1pct', doc['put_gex_usd_per_1pct'])})",
        f"model GEX at spot {w('model_gex_at_spot_usd_per_1pct', doc['model_gex_at_spot_usd_per_1pct'])} per 1% move  regime: {h.get('regime', 'n/a')}",
        f"flip      {level('flip', doc['flip'])}  (all crossings: {', '.join(level('flip', f) for f in doc['flips']) or 'none'})",
        f"walls     call {level('call_wall', doc['call_wall'])}  put {level('put_wall', doc['put_wall'])}  abs-gamma strike {level('abs_gamma_strike', doc['abs_gamma_strike'])}",
        f"0DTE      {w('zero_dte_share', doc['zero_dte_share'])} of gross GEX settles in the snapshot's session",
        "hedge flow (USD dealers trade to stay delta-hedged; + = buy):",
    ]
    lines += [
        f"  {flow('move_pct', row['move_pct'], signed=True):>7}  {flow('dealer_trade_usd', row['dealer_trade_usd'])}"
        for row in doc["hedge_flow"]
    ]
    if h.get("modelled_gamma_contracts"):
        lines.append(
            f"gamma modelled for {h['modelled_gamma_contracts']:,} contracts ({100 * float(h.get('modelled_gamma_share') or 0):.1f} % of |GEX|): the source gave no gamma, 0, or a non-standard deliverable"
        )
    if h.get("unsolved_dropped"):
        lines.append(
            f"left out: {int(h['unsolved_dropped']):,} contract{'' if int(h['unsolved_dropped']) == 1 else 's'} without a usable gamma or IV ({float(h.get('unsolved_dropped_oi') or 0):,.0f} contracts of open interest):"
        )
        lines += dropped_lines(report.dropped, ("unsolved", "unreadable"))
    if h.get("excluded_contracts"):
        lines.append(
            f"excluded: {h['excluded_contracts']:,} contracts of non-standard series or other underlyings ({h.get('excluded_oi', 0):,.0f} contracts of open interest):"
        )
        lines += dropped_lines(report.dropped, ("non-standard", "other underlying"))
    for f in h.get("forwards") or []:
        lines.append(f"forward {f['expiry']}: {f['forward']:,.4g} ({f['method']})")
    lines.append("by expiry (net GEX, USD per 1% move):")
    lines += [
        f"  {row['expiry']}  {by_expiry('net_gex_usd_per_1pct', row['net_gex_usd_per_1pct'])}"
        for row in doc["by_expiry"][:12]
    ]
    if len(doc["by_expiry"]) > 12:
        lines.append(f"  ... {len(doc['by_expiry']) - 12} more expiries")
    return "\n".join(lines)


DROPPED_SHOWN = 10
"""Dropped contracts of one kind the text summary lists (the dashboard's dropped table has them
all)."""


def dropped_lines(dropped: pd.DataFrame, kinds: tuple[str, ...]) -> list[str]:
    """The contracts dropped as one of ``kinds`` (:data:`flows.gamma.DROPPED_KINDS`), largest
    open interest first: symbol, open interest (contracts) and the reason (at most
    :data:`DROPPED_SHOWN`)."""
    ex = dropped[dropped["kind"].isin(kinds)]
    ex = ex.sort_values("open_interest", ascending=False, kind="stable")
    out = [
        f"  {sym}  OI {oi:,.0f} contracts  {reason}"
        for sym, oi, reason in zip(
            ex["symbol"].head(DROPPED_SHOWN),
            ex["open_interest"].head(DROPPED_SHOWN),
            ex["reason"].head(DROPPED_SHOWN),
            strict=True,
        )
    ]
    if len(ex) > DROPPED_SHOWN:
        out.append(f"  ... {len(ex) - DROPPED_SHOWN:,} more (the dashboard's dropped table)")
    return out


@click.command("gamma")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON (keys listed in the docs)."
)
@click.option(
    "--time-basis",
    type=click.Choice(["calendar", "busdays262"]),
    default=None,
    help="Time to expiry: calendar year fraction (default) or business days / 262.",
)
@click.option(
    "--window",
    type=click.FloatRange(0.01, 0.9),
    default=None,
    help="Profile half-width, fraction of spot (default 0.2).",
)
@click.option(
    "--underlying", default=None, help="Underlying name when the file does not say (e.g. SPX)."
)
def gamma(
    file: Path, as_json: bool, time_basis: str | None, window: float | None, underlying: str | None
) -> None:
    """Dealer gamma exposure of a local CBOE quote-table CSV or options JSON FILE."""
    from flows.gamma import analyze
    from flows.quality import enforce
    from jobs.tasks.gamma import gamma_params

    with exit_on_input_error():
        chain = read_chain(file, underlying)
        settings = settings_or_default()
        params = gamma_params(settings, chain.underlying, pd.Timestamp(chain.as_of))
        if time_basis:
            params.time_basis = time_basis
        if window:
            params.window = window
        report = analyze(chain, params)
        enforce(report.quality, settings.quality.threshold("gamma"))
    doc = gamma_json(report)
    emit(doc, as_json, lambda: summary_text(report, doc), report.quality)


COMMANDS = [gamma]
