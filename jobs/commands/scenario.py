"""``flowdesk scenario``: mechanical flow for a move, from the cached results (no fetching)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import click
import numpy as np
import redis

from flows import scenarios
from flows.errors import FlowdeskError, InputError
from flows.formatting import format_time
from flows.limits import check_range
from jobs.commands._common import writer
from jobs.config import ConfigError
from jobs.store import ResultStore
from jobs.tasks.board import explicit_scenario, hours_to_close, load_inputs
from jobs.validate import load_settings

_MOVE = re.compile(r"^\s*([A-Za-z0-9._^]+)\s*=\s*([+-]?\d+(?:\.\d+)?)\s*%?\s*$")


def parse_move(text: str) -> tuple[str, float]:
    """``SPX=-3%`` -> ``("SPX", -3.0)`` (percent, within -100..+100: ``scenario.move_pct``)."""
    m = _MOVE.match(text)
    if not m:
        raise click.BadParameter(f"{text!r}: expected SYMBOL=PCT, e.g. SPX=-3% or NDX=2.5")
    value = float(m.group(2))
    try:
        check_range([value], "scenario.move_pct", "--move", rows=[text], field=text)
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None
    return m.group(1).upper(), value


def known_symbols(settings: Any, inp: Any) -> set[str]:
    """Symbols a scenario move may name: the board index, the configured betas, the gamma
    underlyings and the underlyings of the cached leveraged-ETF funds."""
    known = {
        str(settings.board.index).upper(),
        *(str(k).upper() for k in settings.board.betas),
        *(str(u).upper() for u in settings.gamma.underlyings),
    }
    if inp.letf_funds is not None and "underlying" in inp.letf_funds:
        known |= {str(u).upper() for u in inp.letf_funds["underlying"] if str(u)}
    return known


def check_symbols(moves: dict[str, float], known: set[str]) -> None:
    """:class:`InputError` naming the first move whose symbol is not known, and the known ones."""
    for sym in moves:
        if sym not in known:
            names = sorted(known)
            shown = ", ".join(names[:60]) + (
                f", ... ({len(names) - 60} more)" if len(names) > 60 else ""
            )
            raise InputError(
                "--move", sym, f"unknown symbol {sym!r}; known ({len(names)}): {shown}"
            )


def move_label(settings: Any, moves: dict[str, float]) -> str:
    """The move of a scenario in words: ``NDX -3% (index-equivalent NDX -3%)`` for one move
    mapped by beta, ``SPX -3%, NVDA -17%`` for explicit moves."""
    given = ", ".join(f"{k} {v:+g}%" for k, v in moves.items())
    if len(moves) != 1:
        return given
    ((sym, pct),) = moves.items()
    beta = float(settings.board.betas.get(sym, settings.board.default_beta))
    index = settings.board.index
    return (
        given
        if sym == index or beta == 0
        else f"{given} (index-equivalent {index} {pct / beta:+.3g}%)"
    )


def _f(x: Any) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def scenario_report(
    settings: Any,
    store: ResultStore,
    moves: dict[str, float],
    *,
    iv_shock_pts: float,
    hours: float | None,
    now: datetime,
) -> dict[str, Any]:
    """The JSON report of one scenario (keys: move, total_usd, components, by_underlying, flags, inputs)."""
    inp = load_inputs(settings, store, now)
    check_symbols(moves, known_symbols(settings, inp))
    if not inp.books and inp.letf_funds is None:
        problems = "; ".join(f"{i['name']}: {i['note']}" for i in inp.inputs)
        raise FlowdeskError(
            f"no usable cached result to compute a scenario from ({problems}); run `flowdesk refresh`"
        )
    h = hours_to_close(now, settings.board.hours_to_close if hours is None else hours)
    grid = explicit_scenario(settings, inp, moves, iv_shock_pts=iv_shock_pts, hours=h)
    grid = grid[grid["total_usd"].abs() > 0].sort_values("total_usd", key=np.abs, ascending=False)
    comps = {c: float(grid[c].sum()) for c in scenarios.COMPONENTS}
    # every row of this scenario is the move given: the flags name it (never "an index move of +0%")
    label = move_label(settings, moves)
    flags = scenarios.regime_flags(
        grid.assign(index_move_pct=0.0),
        {u: inp.gamma_headlines[u] for u in inp.books},
        index_move_pct=0.0,
        flip_proximity_pct=settings.board.flip_proximity_pct,
        letf_adv_threshold_pct=settings.board.letf_adv_threshold_pct,
        move_label=label,
    )
    flag_list = flags.to_dict("records") + [
        {
            "kind": "stale_input",
            "underlying": i["name"],
            "severity": "warning",
            "message": f"{i['name']} left out of the totals: {i['note']}",
        }
        for i in inp.inputs
        if not i["included"]
    ]
    return {
        "move": {k: v for k, v in moves.items()},
        "iv_shock_pts": iv_shock_pts,
        "hours_to_close": round(h, 3),
        "total_usd": float(grid["total_usd"].sum()),
        "components": comps,
        "by_underlying": [
            {
                "underlying": r.underlying,
                "move_pct": float(r.move_pct),
                "total_usd": float(r.total_usd),
                "pct_adv": _f(r.total_pct_adv),
                **{c: float(getattr(r, c)) for c in scenarios.COMPONENTS},
            }
            for r in grid.itertuples()
        ],
        "flags": flag_list,
        "inputs": [
            {
                "name": i["name"],
                "as_of": i["as_of"],
                "source": i["source"],
                "stale": bool(i["stale"]),
                "note": i["note"],
            }
            for i in inp.inputs
        ],
        "sample": inp.sample,
        "units": "USD of underlying traded; + = buy; moves in percent; pct_adv in percent of average daily dollar volume",
    }


@click.command("scenario")
@click.option(
    "--move",
    "moves",
    multiple=True,
    required=True,
    help="SYMBOL=PCT, e.g. SPX=-3%. One move is mapped to the others by the [board] betas; several move only those.",
)
@click.option(
    "--iv-shock", type=float, default=0.0, show_default=True, help="IV shock in volatility points."
)
@click.option(
    "--hours-to-close",
    type=float,
    default=None,
    help="Charm horizon in hours (default: to the next session close of scheduler.calendar, early closes included).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scenario(
    moves: tuple[str, ...], iv_shock: float, hours_to_close: float | None, as_json: bool
) -> None:
    """Mechanical flow (dealer hedging + leveraged ETFs) for a move, from the cached results."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2) from None
    pairs = [parse_move(m) for m in moves]
    parsed = dict(pairs)
    if len(parsed) < len(pairs):
        twice = sorted({sym for sym, _ in pairs if sum(s == sym for s, _ in pairs) > 1})
        raise click.BadParameter(
            f"{', '.join(twice)} moved twice: give one move per symbol", param_hint="--move"
        )
    from jobs.cli.state import store_or_exit

    store = store_or_exit(settings)  # README: 2 without a Redis URL, 3 when it cannot be reached
    try:
        report = scenario_report(
            settings,
            store,
            parsed,
            iv_shock_pts=iv_shock,
            hours=hours_to_close,
            now=datetime.now(UTC),
        )
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except redis.RedisError as exc:  # README: 3 = Redis unreachable
        click.echo(
            f"flowdesk scenario: cannot read the cached results from Redis: {type(exc).__name__}: {exc}",
            err=True,
        )
        raise SystemExit(3) from None
    except (FlowdeskError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    w = writer(
        "board.scenarios", "grid"
    )  # figures written by the units declared for the board's grid
    bn = {"scale": "bn", "style": "code"}
    moves_txt = ", ".join(f"{k} {v:+g}%" for k, v in parsed.items())
    click.echo(
        f"Scenario: {moves_txt}, IV shock {iv_shock:+g} vol pts, {report['hours_to_close']:.1f} h to the close"
        + ("  [SAMPLE DATA]" if report["sample"] else "")
    )
    click.echo(
        f"Mechanical flow: {w('total_usd', report['total_usd'], **bn)} (+ = buying), of which"
    )
    for name, value in report["components"].items():
        click.echo(f"  {name:<18} {w(name, value, **bn):>16}")
    click.echo(f"{'underlying':<10} {'move':>8} {'total':>16} {'of ADV':>8}")
    for row in report["by_underlying"][:15]:
        click.echo(
            f"{row['underlying']:<10} {w('move_pct', row['move_pct'], signed=True):>8} {w('total_usd', row['total_usd'], scale='bn', style='code', digits=3):>16} {w('total_pct_adv', row['pct_adv']):>8}"
        )
    for flag in report["flags"]:
        click.echo(f"! {flag['message']}")
    for i in report["inputs"]:
        click.echo(
            f"  input {i['name']}: as of {format_time(i['as_of'], settings.service.timezone)} ({i['source']}){' STALE: ' + i['note'] if i['stale'] else ''}"
        )


COMMANDS = [scenario]
