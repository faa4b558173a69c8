"""``flowdesk letf UNIVERSE_FILE [--move SYMBOL=PCT ...] [--nav FILE ...] [--aum FILE] [--json]``.

Reads a universe file (public-dataset layout with ``aum``, or the curated layout with an
``aum_usd`` column), gives every fund its leverage reset period (:mod:`flows.letf_reset`: curated
table, ``[letf] reset_overrides``, name and family rules), maps blank index underlyings to their
hedge proxy (``[letf].index_proxies``, defaults when no configuration can be read), and prints
USD per 1% move per underlying of the **daily-reset** funds and, for the ``--move`` given
(percent, e.g. ``--move NVDA=-17``), the trade into the close.  Moves are given per underlying as
the output names it (``QQQ``, ``SPY``, ``SOXX``, ``NVDA``); an index ticker (``SPX``, ``NDX``) is
mapped the same way.  A move must lie within -100..+100 % and name an underlying of the
universe (else exit 2, naming the known ones).  ``--nav`` (ProShares NAV history, repeatable)
and ``--aum`` (drop-file layout ``ticker, aum_usd``) override the universe file's assets, in that
order.

JSON keys: ``as_of`` (the file's newest ``updated_at``, else its modification time, UTC),
``per_1pct_usd`` (equity total, USD per +1% move of every underlying, + = buy),
``rebalance_usd`` (total for the given moves), ``by_underlying`` (list of ``underlying``,
``funds``, ``aum_usd``, ``per_1pct_usd``, ``rebalance_usd`` (null where no move was given)),
``excluded`` (list of ``ticker``, ``reason``; import-skipped rows included), ``groups``
(crypto/commodity totals), ``excluded_aum`` (list of ``category``, ``funds``, ``aum_usd``,
``share_pct``: assets left out of every daily figure), ``universe_aum_usd``,
``included_aum_usd``, ``excluded_aum_usd`` (USD), ``by_reset`` (list of ``reset``, ``funds``,
``aum_usd``) and ``quality`` (:meth:`flows.quality.Quality.to_dict`: ``skipped_rows``,
``skipped_share``, ``warnings``, ...).  A malformed file, a value outside its plausibility limit
or a skipped share above ``[quality]`` (family ``letf``) exits with status 2 and names the file,
line and column or the reason.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pandas as pd

from flows.errors import InputError
from flows.limits import check_range
from flows.quality import Quality, enforce
from jobs.commands._common import (
    emit,
    exit_on_input_error,
    plain,
    settings_or_default,
    writer,
)

JSON_KEYS = (
    "as_of",
    "per_1pct_usd",
    "rebalance_usd",
    "by_underlying",
    "excluded",
    "groups",
    "excluded_aum",
    "universe_aum_usd",
    "included_aum_usd",
    "excluded_aum_usd",
    "by_reset",
    "quality",
)
MAX_LISTED_SYMBOLS = 60


def parse_moves(
    items: tuple[str, ...],
    proxies: dict[str, str],
    known: set[str] | None = None,
    *,
    source: str = "universe",
) -> dict[str, float]:
    """``("NVDA=-17", "SPX=-2")`` -> ``{"NVDA": -17.0, "SPY": -2.0}`` (percent; index tickers mapped).

    Each move must be finite and within ``scenario.move_pct`` (-100..+100 %,
    :data:`flows.limits.LIMITS`); with ``known`` given, its (mapped) symbol must be one of them.
    Raises :class:`InputError` (field ``--move``) naming the move, or the unknown symbol and the
    known ones.
    """
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
        check_range([value], "scenario.move_pct", "--move", rows=[item], field=item)
        key = sym.strip().upper()
        mapped = upper.get(key, key)
        if mapped in out:
            raise InputError(
                "--move", item, f"{key} is moved twice (as {mapped}): give one move per symbol"
            )
        if known is not None and mapped not in known:
            names = sorted(known)
            shown = ", ".join(names[:MAX_LISTED_SYMBOLS]) + (
                f", ... ({len(names) - MAX_LISTED_SYMBOLS} more)"
                if len(names) > MAX_LISTED_SYMBOLS
                else ""
            )
            raise InputError(
                "--move",
                item,
                f"unknown symbol {key!r}: not an underlying of {source}; known ({len(names)}): {shown}",
            )
        out[mapped] = value
    return out


def _nav_assets(paths: tuple[Path, ...], threshold: float, quality: Quality) -> dict[str, float]:
    """Latest assets per fund from ProShares NAV files (each enforced on its own)."""
    from flows.sources import proshares

    assets: dict[str, float] = {}
    for path in paths:
        nav = proshares.parse(_read(path), str(path))
        enforce(nav.quality, threshold)
        last = proshares.latest(nav)
        assets[str(last["ticker"])] = float(last["aum_usd"])
        _carry(nav.quality, quality)
    return assets


def _drop_assets(path: Path | None, threshold: float, quality: Quality) -> dict[str, float]:
    from flows.sources import aum_drop

    if path is None:
        return {}
    drop = aum_drop.parse_aum(_read(path), str(path))
    enforce(drop.quality, threshold)
    _carry(drop.quality, quality)
    return dict(zip(drop.frame["ticker"], drop.frame["aum_usd"].astype(float), strict=True))


def _carry(other: Quality, quality: Quality) -> None:
    """A secondary input's skips and warnings, as warnings of the main (universe) quality."""
    if other.skipped_rows:
        quality.warn(f"{other.source}: {other.summary()}")
    for w in other.warnings:
        quality.warn(f"{other.source}: {w}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read the file: {exc.strerror or exc}") from None


def letf_report(
    path: Path,
    moves: dict[str, float] | tuple[str, ...],
    proxies: dict[str, str],
    *,
    settings: Any = None,
    nav_files: tuple[Path, ...] = (),
    aum_file: Path | None = None,
) -> dict[str, Any]:
    """The ``--json`` document for ``path`` and ``moves``.

    ``moves``: raw ``SYMBOL=PCT`` items (validated against the universe's underlyings) or an
    already parsed mapping (percent per underlying).  Raises :class:`InputError` (and its
    :class:`flows.quality.QualityError`) for bad input; see the module docstring.
    """
    return letf_result(
        path, moves, proxies, settings=settings, nav_files=nav_files, aum_file=aum_file
    )[0]


def letf_result(
    path: Path,
    moves: dict[str, float] | tuple[str, ...],
    proxies: dict[str, str],
    *,
    settings: Any = None,
    nav_files: tuple[Path, ...] = (),
    aum_file: Path | None = None,
) -> tuple[dict[str, Any], Quality]:
    """:func:`letf_report` and the input quality behind it."""
    from flows import letf
    from flows.sources import letf_universe

    settings = settings if settings is not None else settings_or_default()
    threshold = settings.quality.threshold("letf")
    raw_moves = None if isinstance(moves, dict) else tuple(moves)
    if raw_moves is not None:
        moves = parse_moves(raw_moves, proxies)  # syntax and range first: no file needed
    parsed = letf_universe.parse(
        letf_universe.fetch(path), str(path), reset_overrides=settings.letf.reset_overrides
    )
    universe, skipped, quality = parsed.funds, parsed.skipped, parsed.quality
    assets = {
        **_nav_assets(nav_files, threshold, quality),
        **_drop_assets(aum_file, threshold, quality),
    }
    if assets:
        unknown = sorted(set(assets) - set(universe["ticker"]))
        if unknown:
            quality.warn(
                f"assets given for funds not in the universe (ignored): {', '.join(unknown[:10])}"
            )
        universe = letf.override_assets(universe, assets)
    funds = letf.classify(universe, proxies)
    letf.warn_unmapped(funds, quality)
    enforce(quality, threshold)
    if raw_moves is not None:
        known = set(funds["underlying"][funds["underlying"].ne("")])
        moves = parse_moves(raw_moves, proxies, known, source=str(path))
    flows = letf.fund_flows(funds, moves)
    gone = flows[flows["wiped_out"]]
    if len(gone):
        listed = ", ".join(
            f"{t} ({lev:+g}x, {m:+g}%)"
            for t, lev, m in zip(
                gone["ticker"][:10], gone["leverage"][:10], gone["move_pct"][:10], strict=True
            )
        )
        quality.warn(
            f"{len(gone)} fund(s) wiped out by the move (1 + L*r <= 0): their trade is the liquidation of their exposure, not A*(L^2-L)*r: {listed}"
        )
    table = letf.by_underlying(flows)
    if universe["as_of"].notna().any():
        as_of = pd.Timestamp(universe["as_of"].max()).isoformat()
    else:
        as_of = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
    excl = letf.excluded(flows)
    excluded = [
        {"ticker": t, "reason": r} for t, r in zip(excl["ticker"], excl["reason"], strict=True)
    ]
    excluded += [
        {"ticker": t, "reason": f"import, line {n}: {r}"}
        for t, n, r in zip(skipped["ticker"], skipped["line"], skipped["reason"], strict=True)
    ]
    groups = letf.group_totals(flows)
    left_out = letf.excluded_aum(flows, skipped)
    included = letf.included_aum(flows)
    doc = {
        "as_of": as_of,
        "per_1pct_usd": plain(float(table["per_1pct_usd"].sum())),
        "rebalance_usd": plain(float(table["rebalance_usd"].sum(min_count=1))),
        "by_underlying": [
            {
                k: plain(row[k])
                for k in ("underlying", "funds", "aum_usd", "per_1pct_usd", "rebalance_usd")
            }
            for row in table.to_dict("records")
        ],
        "excluded": excluded,
        "groups": [{k: plain(v) for k, v in row.items()} for row in groups.to_dict("records")],
        "excluded_aum": [
            {k: plain(v) for k, v in row.items()} for row in left_out.to_dict("records")
        ],
        "universe_aum_usd": plain(included + float(left_out["aum_usd"].sum())),
        "included_aum_usd": plain(included),
        "excluded_aum_usd": plain(float(left_out["aum_usd"].sum())),
        "by_reset": [
            {k: plain(v) for k, v in row.items()} for row in letf.by_reset(flows).to_dict("records")
        ],
        "quality": quality.to_dict(),
    }
    return doc, quality


def summary_text(doc: dict[str, Any], top: int = 25) -> str:
    """Human summary (figures written by the units declared for ``letf.flows``)."""
    w = writer("letf.flows")
    u = writer("letf.flows", "by_underlying")
    lines = [
        f"as of {doc['as_of']}  equity total {w('per_1pct_usd', doc['per_1pct_usd'])} per +1% move of the daily-reset funds (+ = buy; long and inverse funds add up)",
        f"trade for the given moves: {w('rebalance_usd', doc['rebalance_usd'])}",
        f"{'underlying':<12}{'funds':>6}{'AUM':>16}{'per +1%':>16}{'trade':>16}",
    ]
    for row in doc["by_underlying"][:top]:
        lines.append(
            f"{row['underlying']:<12}{row['funds']:>6}{u('aum_usd', row['aum_usd']):>16}{u('per_1pct_usd', row['per_1pct_usd']):>16}{u('rebalance_usd', row['rebalance_usd']):>16}"
        )
    if len(doc["by_underlying"]) > top:
        lines.append(f"... {len(doc['by_underlying']) - top} more underlyings (--json for all)")
    lines.append(
        f"excluded from the equity totals: {_funds(len(doc['excluded']))} (--json lists each with its reason)"
    )
    universe = doc["universe_aum_usd"] or 0.0
    share = 100.0 * (doc["excluded_aum_usd"] or 0.0) / universe if universe else 0.0
    lines.append(
        f"assets left out of every daily figure: {w('excluded_aum_usd', doc['excluded_aum_usd'])} of {w('universe_aum_usd', universe)} ({share:.1f} %):"
    )
    left = writer("letf.flows", "excluded_aum")
    for row in doc["excluded_aum"]:
        lines.append(
            f"  {row['category']:<34}{_funds(int(row['funds'])):>11} {left('aum_usd', row['aum_usd']):>14}"
        )
    return "\n".join(lines)


@click.command("letf")
@click.argument("universe_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--move",
    "moves",
    multiple=True,
    metavar="SYMBOL=PCT",
    help="Underlying move in percent since the prior close, -100..100, e.g. NVDA=-17 (repeatable).",
)
@click.option(
    "--nav",
    "nav_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="ProShares NAV history CSV: its latest assets replace the fund's (repeatable).",
)
@click.option(
    "--aum",
    "aum_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Assets file (ticker, aum_usd): replaces the funds' assets (wins over --nav).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (as_of, per_1pct_usd, by_underlying, excluded, excluded_aum, quality, ...).",
)
def letf_command(
    universe_file: Path,
    moves: tuple[str, ...],
    nav_files: tuple[Path, ...],
    aum_file: Path | None,
    as_json: bool,
) -> None:
    """Leveraged/inverse ETF rebalance flows (USD per 1% move, trade for --move) of UNIVERSE_FILE."""
    with exit_on_input_error():
        settings = settings_or_default()
        proxies = dict(settings.letf.index_proxies)
        doc, quality = letf_result(
            universe_file, moves, proxies, settings=settings, nav_files=nav_files, aum_file=aum_file
        )
    emit(doc, as_json, lambda: summary_text(doc), quality)


letf = letf_command
COMMANDS = [letf]


def _funds(n: int) -> str:
    """``1 fund``, ``2 funds``."""
    return f"{n} fund" + ("" if n == 1 else "s")
