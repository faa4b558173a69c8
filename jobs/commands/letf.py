"""``flowdesk letf UNIVERSE_FILE [--move SYMBOL=PCT ...] [--json]``: leveraged-ETF rebalance flows.

Reads a universe file (public-dataset layout with ``aum``, or the curated layout with an
``aum_usd`` column), maps blank index underlyings to their hedge proxy (``[letf].index_proxies``,
defaults when no configuration can be read), and prints USD per 1% move per underlying and, for
the ``--move`` given (percent, e.g. ``--move NVDA=-17``), the trade into the close.  Moves are
given per underlying as the output names it (``QQQ``, ``SPY``, ``SOXX``, ``NVDA``); ``--move``
for an index ticker (``SPX``, ``NDX``) is mapped the same way.

JSON keys: ``as_of`` (the file's newest ``updated_at``, else its modification time, UTC),
``per_1pct_usd`` (equity total, USD per +1% move of every underlying, + = buy),
``rebalance_usd`` (total for the given moves), ``by_underlying`` (list of ``underlying``,
``funds``, ``aum_usd``, ``per_1pct_usd``, ``rebalance_usd`` (null where no move was given)),
``excluded`` (list of ``ticker``, ``reason``; import-skipped rows included), ``groups``
(crypto/commodity totals).  A malformed file exits with status 2 and names file, line, column.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pandas as pd

from flows.errors import InputError
from jobs.commands._common import exit_on_input_error, plain

JSON_KEYS = ("as_of", "per_1pct_usd", "rebalance_usd", "by_underlying", "excluded", "groups")


def _proxies() -> dict[str, str]:
    from jobs.config import ConfigError, LetfSettings, load_settings

    try:
        return dict(load_settings().letf.index_proxies)
    except ConfigError:
        return dict(LetfSettings().index_proxies)


def parse_moves(items: tuple[str, ...], proxies: dict[str, str]) -> dict[str, float]:
    """``("NVDA=-17", "SPX=-2")`` -> ``{"NVDA": -17.0, "SPY": -2.0}`` (percent; index tickers mapped)."""
    out: dict[str, float] = {}
    upper = {k.upper(): v for k, v in proxies.items()}
    for item in items:
        sym, sep, pct = item.partition("=")
        try:
            value = float(pct.strip().rstrip("%"))
        except ValueError:
            value = math.nan
        if not sep or not sym.strip() or not math.isfinite(value):
            raise InputError("--move", item, "expected SYMBOL=PCT, e.g. NVDA=-17 (percent)")
        key = sym.strip().upper()
        out[upper.get(key, key)] = value
    return out


def letf_report(path: Path, moves: dict[str, float], proxies: dict[str, str]) -> dict[str, Any]:
    """The ``--json`` document for ``path`` and ``moves`` (percent per underlying)."""
    from flows import letf
    from flows.sources import letf_universe

    universe, skipped = letf_universe.parse(letf_universe.fetch(path), str(path))
    flows = letf.fund_flows(letf.classify(universe, proxies), moves)
    table = letf.by_underlying(flows)
    if universe["as_of"].notna().any():
        as_of = pd.Timestamp(universe["as_of"].max()).isoformat()
    else:
        as_of = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
    excl = letf.excluded(flows)
    excluded = [{"ticker": t, "reason": r} for t, r in zip(excl["ticker"], excl["reason"], strict=True)]
    excluded += [{"ticker": t, "reason": f"import, line {n}: {r}"} for t, n, r in zip(skipped["ticker"], skipped["line"], skipped["reason"], strict=True)]
    groups = letf.group_totals(flows)
    return {
        "as_of": as_of,
        "per_1pct_usd": plain(float(table["per_1pct_usd"].sum())),
        "rebalance_usd": plain(float(table["rebalance_usd"].sum(min_count=1))),
        "by_underlying": [
            {k: plain(row[k]) for k in ("underlying", "funds", "aum_usd", "per_1pct_usd", "rebalance_usd")}
            for row in table.to_dict("records")
        ],
        "excluded": excluded,
        "groups": [{k: plain(v) for k, v in row.items()} for row in groups.to_dict("records")],
    }


def _money(x: Any, *, signed: bool = True) -> str:
    if x is None:
        return "n/a"
    x = float(x)
    sign = "-" if x < 0 else ("+" if signed else "")
    for div, suffix in ((1e9, "bn"), (1e6, "mn"), (1e3, "k")):
        if abs(x) >= div:
            return f"{sign}${abs(x) / div:,.2f} {suffix}"
    return f"{sign}${abs(x):,.0f}"


def summary_text(doc: dict[str, Any], top: int = 25) -> str:
    lines = [
        f"as of {doc['as_of']}  equity total {_money(doc['per_1pct_usd'])} per +1% move (+ = buy; long and inverse funds add up)",
        f"trade for the given moves: {_money(doc['rebalance_usd'])}",
        f"{'underlying':<12}{'funds':>6}{'AUM':>16}{'per +1%':>16}{'trade':>16}",
    ]
    for row in doc["by_underlying"][:top]:
        lines.append(f"{row['underlying']:<12}{row['funds']:>6}{_money(row['aum_usd'], signed=False):>16}{_money(row['per_1pct_usd']):>16}{_money(row['rebalance_usd']):>16}")
    if len(doc["by_underlying"]) > top:
        lines.append(f"... {len(doc['by_underlying']) - top} more underlyings (--json for all)")
    lines.append(f"excluded from the equity totals: {len(doc['excluded'])} funds (--json lists each with its reason)")
    return "\n".join(lines)


@click.command("letf")
@click.argument("universe_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--move", "moves", multiple=True, metavar="SYMBOL=PCT", help="Underlying move in percent since the prior close, e.g. NVDA=-17 (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as_of, per_1pct_usd, by_underlying, excluded, ...).")
def letf_command(universe_file: Path, moves: tuple[str, ...], as_json: bool) -> None:
    """Leveraged/inverse ETF rebalance flows (USD per 1% move, trade for --move) of UNIVERSE_FILE."""
    with exit_on_input_error():
        proxies = _proxies()
        doc = letf_report(universe_file, parse_moves(moves, proxies), proxies)
    click.echo(json.dumps(doc, indent=2) if as_json else summary_text(doc))


letf = letf_command
COMMANDS = [letf]
