"""`sandbox bench`: what each dispatch strategy costs, next to what real client libraries do.

The question a bot developer asks is "for my wave sizes, which strategy gets every player
notified soonest without a single 429?". This module answers it by running the ladder bot
against the mock, one fresh stack per (strategy, wave size) and per repeat, and reading
every figure from the referee: the mock's ledger (one record per API response, stamped with
the arrival time the mock's rate-limit engine judged). Nothing is taken from the bot's own
account of its waves; the bot is asked only *when to look* (its outbox is drained).

One measured wave
-----------------
- ``2M`` players (half Brood War only, half StarCraft II only, all rated 1500, so the
  matchmaker pairs every one into ``M`` matches) spawn and run ``/queue``; nobody confirms
  during the measurement; heartbeats are off and the confirmation timeout is long, so the
  bot sends nothing else.
- The bench waits until the bot has learnt every searching message (one ``GET @original``
  per player) and the mock's ledger has been quiet for longer than the global window, so
  the wave starts on an empty 1-second budget. ``start`` is the wall-clock time just before
  ``/admin wave`` is sent: the earliest honest start, so it can only make the makespan
  longer.
- The window is every ledger record of the bot's application after that mark, until the
  bot's outbox is drained and the mock has answered ``2M`` phase-1 edits and ``2M`` phase-2
  creates. Phase 1 is the searching-message edit (``PATCH .../messages/@original`` with the
  fresh /queue token: exempt from the global limit); phase 2 is the details message
  (``POST /channels/{id}/messages``: counted). The wave's records are attributed by
  `sandbox.ledger_analysis.wave_delivery`, the same function the scenario expectations
  use: phase-1 records are matched to each player's searching-message edit in their DM,
  so the ``/admin wave`` command's own reply is left out of every figure.

Peers (`sandbox.peers`) send the same phase-2 calls through discord.py's and hikari's own
rate limiters and are judged by the same functions.

The figures (docs/bench.md defines the public ``--json`` row)
--------------------------------------------------------------
- ``counted_calls`` / ``exempt_calls``: 2xx responses in the window that did / did not use
  the global budget; a 429 is not a call done, it is in ``rate_limited`` (by scope);
- ``phase1_done_s``: start to the last phase-1 edit; ``phase1_spread_s``: first to last;
- ``makespan_s``: start to the last phase-1 or phase-2 delivery; ``phase2_s``: phase 1
  done to that last delivery (for a peer: the whole burst);
- ``lower_bound_s``: ``(ceil(C / L) - 1) * period`` for ``C = counted_calls`` under the
  mock's active global limit ``L`` per ``period`` (`sandbox.ledger_analysis.lower_bound_s`);
- ``ratio``: makespan over that bound (``null`` when the bound is 0: nothing to pace).

Repeats are reduced to medians field by field (`median_row`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sandbox.control import ControlError, MockControl
from sandbox.ledger_analysis import (
    counted_peak,
    delivery_counts,
    learnt_count,
    lower_bound_s,
    phase1_edit_times,
    rate_limited_by_scope,
    successful,
    wave_delivery,
)

__all__ = [
    "DEFAULT_MATCHES",
    "DEFAULT_STRATEGIES",
    "PEERS",
    "STRATEGIES",
    "BenchError",
    "BenchRow",
    "check_targets",
    "compare_runs",
    "configure",
    "format_table",
    "ledger_after",
    "measure_window",
    "median_row",
    "run",
    "run_bench",
    "run_bot_wave",
    "wait_quiet",
]

STRATEGIES = ("naive", "sequential", "batched", "paced")
DEFAULT_STRATEGIES = STRATEGIES
DEFAULT_MATCHES = (15, 50, 200)
PEERS = ("discord.py", "hikari")
RATE_SCOPES = ("global", "user", "shared")

#: Longer than the global window: a quiet ledger for this long means an empty budget.
QUIET_S = 1.1
_POLL_S = 0.05
_EPS = 1e-9


class BenchError(Exception):
    """A benchmark run could not be measured; ``str()`` is one line."""


# ---------------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class BenchRow:
    """One (strategy or peer, wave size) measurement; ``to_json`` is the public row."""

    strategy: str
    matches: int
    counted_calls: int
    exempt_calls: int
    rate_limited: dict[str, int]
    phase1_done_s: float | None
    phase1_spread_s: float | None
    makespan_s: float | None
    lower_bound_s: float
    ratio: float | None
    kind: str = "bot"
    """``bot`` (the ladder bot's dispatcher) or ``peer`` (a client library's limiter)."""
    peak_1s: int = 0
    complete: bool = True
    """Every player got exactly what the wave owed them (see `measure_window`)."""
    runs: int = 1
    phase2_s: float | None = None
    """Phase 1 done (the start, for a peer) to the last delivery: the time spent on the
    phase-2 calls alone, the part a peer's row is directly comparable with."""

    @property
    def total_429(self) -> int:
        return sum(self.rate_limited.values())

    def to_json(self) -> dict[str, Any]:
        def num(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "strategy": self.strategy,
            "matches": self.matches,
            "counted_calls": self.counted_calls,
            "exempt_calls": self.exempt_calls,
            "rate_limited": {s: int(self.rate_limited.get(s, 0)) for s in RATE_SCOPES},
            "phase1_done_s": num(self.phase1_done_s),
            "phase1_spread_s": num(self.phase1_spread_s),
            "makespan_s": num(self.makespan_s),
            "lower_bound_s": num(self.lower_bound_s),
            "ratio": num(self.ratio),
            "kind": self.kind,
            "peak_1s": self.peak_1s,
            "complete": self.complete,
            "runs": self.runs,
            "phase2_s": num(self.phase2_s),
        }


def _median(values: Sequence[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return float(statistics.median(v for v in values if v is not None))


def median_row(rows: Sequence[BenchRow]) -> BenchRow:
    """Field-by-field medians of repeated runs of one case (counts: the lower median, so
    they stay whole calls). A time that one run could not measure makes the median
    ``None``; ``complete`` holds only if every run was complete."""
    if not rows:
        raise ValueError("median_row needs at least one row")
    first = rows[0]
    if any(
        (r.strategy, r.matches, r.kind) != (first.strategy, first.matches, first.kind) for r in rows
    ):
        raise ValueError("median_row: rows of different cases")

    def low(values: Iterable[int]) -> int:
        return int(statistics.median_low(list(values)))

    return BenchRow(
        strategy=first.strategy,
        matches=first.matches,
        counted_calls=low(r.counted_calls for r in rows),
        exempt_calls=low(r.exempt_calls for r in rows),
        rate_limited={s: low(r.rate_limited.get(s, 0) for r in rows) for s in RATE_SCOPES},
        phase1_done_s=_median([r.phase1_done_s for r in rows]),
        phase1_spread_s=_median([r.phase1_spread_s for r in rows]),
        makespan_s=_median([r.makespan_s for r in rows]),
        lower_bound_s=float(statistics.median(r.lower_bound_s for r in rows)),
        ratio=_median([r.ratio for r in rows]),
        kind=first.kind,
        peak_1s=low(r.peak_1s for r in rows),
        complete=all(r.complete for r in rows),
        runs=len(rows),
        phase2_s=_median([r.phase2_s for r in rows]),
    )


# ------------------------------------------------------------------------ the referee's view


def measure_window(
    window: Sequence[Mapping[str, Any]],
    *,
    strategy: str,
    matches: int,
    start: float,
    global_limit: int,
    global_period: float = 1.0,
    application_id: str | None = None,
    phase1_expected: int | None = None,
    phase2_expected: int | None = None,
    phase1_times: Sequence[float] | None = None,
    kind: str = "bot",
) -> BenchRow:
    """One wave's row from the ledger records of its window (pure; see the module doc).

    ``phase1_expected`` / ``phase2_expected`` default to ``2 * matches`` (a peer expects no
    phase 1: pass 0). ``phase1_times`` are the mock's own times of the players' phase-1
    edits (their searching messages' ``edited_timestamp``): when given, only the phase-1
    route records matched to them are the wave's; any other record on those routes (the
    ``/admin wave`` reply filling in its deferred message) is left out of every figure.
    """
    players = 2 * matches
    want2 = players if phase2_expected is None else phase2_expected
    mine = [
        e
        for e in window
        if application_id is None or str(e.get("application_id")) == str(application_id)
    ]
    wave = wave_delivery(
        mine,
        started_at=start,
        players=want2,
        phase1_times=phase1_times,
        phase1_expected=players if phase1_expected is None else phase1_expected,
    )
    foreign = {id(e) for e in wave.left_out}
    ok = [e for e in mine if successful(e) and id(e) not in foreign]
    limited = rate_limited_by_scope(mine)
    counted = sum(1 for e in ok if e.get("counted"))
    exempt = len(ok) - counted
    bound = lower_bound_s(counted, global_limit, global_period)
    makespan = wave.makespan
    ratio = makespan / bound if makespan is not None and bound > 0 else None
    phase2_s = None
    if makespan is not None and wave.phase2:
        phase2_s = makespan - (wave.phase1_done or 0.0)
    return BenchRow(
        strategy=strategy,
        matches=matches,
        counted_calls=counted,
        exempt_calls=exempt,
        rate_limited={scope: limited[scope] for scope in RATE_SCOPES},
        phase1_done_s=wave.phase1_done,
        phase1_spread_s=wave.phase1_spread,
        makespan_s=makespan,
        lower_bound_s=bound,
        ratio=ratio,
        kind=kind,
        peak_1s=counted_peak(mine).count,
        complete=wave.complete and wave.surplus == 0,
        phase2_s=phase2_s,
    )


# ------------------------------------------------------------------------- ledger helpers


async def ledger_after(control: MockControl, after: int) -> list[dict[str, Any]]:
    """The ledger records with absolute index ``>= after`` (``GET /_mock/ledger?after=``)."""
    text = await control.call("GET", f"/ledger?after={after}")
    if not isinstance(text, str):
        raise BenchError("the mock's ledger is not JSON lines")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def wait_quiet(
    control: MockControl,
    *,
    gap: float = QUIET_S,
    timeout: float = 60.0,  # noqa: ASYNC109
    clock: Callable[[], float] = time.time,
) -> int:
    """Wait until the mock has answered no API request for ``gap`` seconds; return the
    ledger's length then (the index the next record will have). The mock and the sandbox
    share the machine's wall clock, which is what ``at_wall`` is."""
    deadline = time.monotonic() + timeout
    while True:
        ledger = await ledger_after(control, 0)
        last = max((float(e["at_wall"]) for e in ledger), default=0.0)
        idle = clock() - last
        if idle >= gap:
            return len(ledger)
        if time.monotonic() > deadline:
            raise BenchError(f"the mock never went quiet for {gap:g}s within {timeout:g}s")
        await asyncio.sleep(min(gap - idle + 0.01, 0.5))


async def wait_learnt(control: MockControl, count: int, *, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Wait for ``count`` answered ``GET @original``: the bot learning each searching
    message's id after /queue (traffic that must not share the wave's start)."""
    deadline = time.monotonic() + timeout
    while True:
        ledger = await ledger_after(control, 0)
        learnt = learnt_count(ledger)
        if learnt >= count:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"the bot learnt {learnt}/{count} searching messages in {timeout:g}s")
        await asyncio.sleep(_POLL_S)


async def global_limit_of(control: MockControl, application_id: str) -> tuple[int, float]:
    """The mock's active global limit for the application (``/_mock/stats``)."""
    stats = await control.stats()
    row = (stats.get("applications") or {}).get(application_id) or {}
    config = await control.config()
    limit = row.get("global_limit", config.get("global_limit"))
    period = row.get("global_period", config.get("global_period", 1.0))
    if not isinstance(limit, int) or limit < 1:
        raise BenchError("the mock reports no global limit for the bot's application")
    return limit, float(period)


# ---------------------------------------------------------------------------- the bot


async def run_bot_wave(
    strategy: str,
    matches: int,
    *,
    runs_dir: Path,
    seed: int = 1,
    timeout: float = 180.0,  # noqa: ASYNC109
) -> BenchRow:
    """One wave of ``matches`` matches under ``strategy`` on a fresh stack."""
    from sandbox.operator import open_operator
    from sandbox.stack import StackConfig

    config = StackConfig(
        mode="subprocess",
        runs_dir=runs_dir,
        strategy=strategy,
        seed=seed,
        heartbeat_interval=0,
        confirm_timeout=3600,
        log_level="WARNING",
    )
    players = 2 * matches
    async with open_operator(config, seed=seed) as op:
        control = op.stack.control
        app = op.stack.application_id
        quiet = {"no_confirm": 1.0, "replay": 0.0}
        await op.spawn(matches, races="bw", rating_sd=0, behaviour=quiet)
        await op.spawn(matches, races="sc2", rating_sd=0, behaviour=quiet)
        queued = await op.queue()
        if queued != players:
            raise BenchError(f"only {queued}/{players} players could queue")
        await wait_learnt(control, players)
        mark = await wait_quiet(control)
        start = time.time()
        await op.wave()
        deadline = time.monotonic() + timeout
        while True:
            window = await ledger_after(control, mark)
            done1, done2 = delivery_counts(window)
            if done1 >= players and done2 >= players and await op.wait_until("outbox_empty", 0):
                break
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{strategy} x {matches}: {done1} phase-1 and {done2}/{players} phase-2 "
                    f"deliveries after {timeout:g}s"
                )
            await asyncio.sleep(_POLL_S)
        window = await ledger_after(control, mark)
        limit, period = await global_limit_of(control, app)
        phase1_times = phase1_edit_times(await op.crowd.dms())
        return measure_window(
            window,
            strategy=strategy,
            matches=matches,
            start=start,
            global_limit=limit,
            global_period=period,
            application_id=app,
            phase1_times=phase1_times,
        )


# ------------------------------------------------------------------------- the whole bench


@dataclass
class BenchPlan:
    matches: tuple[int, ...] = DEFAULT_MATCHES
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    peers: bool = False
    repeat: int = 1
    runs_dir: Path = Path("data/runs")
    seed: int = 1
    progress: TextIO | None = None
    rows: list[BenchRow] = field(default_factory=list)


async def run_bench(plan: BenchPlan) -> list[BenchRow]:
    """Every case of ``plan``, each ``repeat`` times on fresh stacks; median rows."""
    from sandbox.peers import run_peer_burst

    cases: list[tuple[str, int, str]] = [
        (s, m, "bot") for m in plan.matches for s in plan.strategies
    ]
    if plan.peers:
        cases += [(p, m, "peer") for m in plan.matches for p in PEERS]
    cases.sort(key=lambda c: (c[1], c[2] == "peer"))
    rows: list[BenchRow] = []
    for name, matches, kind in cases:
        runs: list[BenchRow] = []
        for n in range(plan.repeat):
            began = time.monotonic()
            if kind == "bot":
                row = await run_bot_wave(name, matches, runs_dir=plan.runs_dir, seed=plan.seed)
            else:
                row = await run_peer_burst(name, matches, runs_dir=plan.runs_dir)
            runs.append(row)
            if plan.progress is not None:
                print(
                    f"bench: {name} x {matches} matches, run {n + 1}/{plan.repeat}: "
                    f"makespan {_fmt(row.makespan_s)}s, 429s {row.total_429} "
                    f"({time.monotonic() - began:.1f}s)",
                    file=plan.progress,
                    flush=True,
                )
        rows.append(median_row(runs))
    plan.rows = rows
    return rows


# ------------------------------------------------------------------------------ reporting


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


COLUMNS = (
    "strategy",
    "matches",
    "counted",
    "exempt",
    "429 g/u/s",
    "phase1 done",
    "phase1 spread",
    "phase2",
    "makespan",
    "bound",
    "ratio",
    "peak 1s",
)


def format_table(rows: Sequence[BenchRow]) -> str:
    """A plain-text table, one line per row (seconds, two decimals)."""
    body = []
    for r in rows:
        limited = r.rate_limited
        body.append(
            (
                r.strategy + ("" if r.complete else " (INCOMPLETE)"),
                str(r.matches),
                str(r.counted_calls),
                str(r.exempt_calls),
                f"{limited.get('global', 0)}/{limited.get('user', 0)}/{limited.get('shared', 0)}",
                _fmt(r.phase1_done_s),
                _fmt(r.phase1_spread_s),
                _fmt(r.phase2_s),
                _fmt(r.makespan_s),
                _fmt(r.lower_bound_s),
                _fmt(r.ratio),
                str(r.peak_1s),
            )
        )
    widths = [max(len(c), *(len(line[i]) for line in body)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in body]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    met: bool
    detail: str


def check_targets(rows: Sequence[BenchRow]) -> list[Target]:
    """The issue's targets for ``paced``, judged on the rows (nothing is judged for a size
    without a paced row; a comparison without the other row is skipped).

    ``batched`` does the same work as ``paced`` and is compared on the whole wave's
    makespan. A peer sends only the phase-2 calls, so it is compared on those: paced's
    ``phase2_s`` (phase 1 confirmed to the last delivery) against the peer's burst. The
    whole wave cannot be: phase 1 must be confirmed before any phase-2 call leaves, so at a
    size the global limit never slows (15 matches) no wave can end before a burst of half
    its calls sent in one round (docs/bench.md, "Targets")."""
    targets: list[Target] = []
    paced = [r for r in rows if r.strategy == "paced" and r.kind == "bot"]
    for p in paced:
        size = f"{p.matches} matches"
        targets.append(Target(f"paced 0 x 429 at {size}", p.total_429 == 0, f"{p.total_429} x 429"))
        if p.makespan_s is not None:
            allowed = 1.10 * p.lower_bound_s + 0.5
            targets.append(
                Target(
                    f"paced makespan <= 1.10 x bound + 0.5s at {size}",
                    p.makespan_s <= allowed + _EPS,
                    f"{p.makespan_s:.2f}s vs {allowed:.2f}s (bound {p.lower_bound_s:.2f}s)",
                )
            )
        for other in rows:
            if other.matches != p.matches or other is p:
                continue
            if other.strategy not in ("batched", *PEERS):
                continue
            if not other.complete:
                targets.append(
                    Target(
                        f"paced ahead of {other.strategy} on makespan at {size}",
                        p.complete,
                        f"{other.strategy} never notified every player "
                        f"({other.counted_calls} counted calls done of {2 * other.matches})",
                    )
                )
            elif other.kind == "peer":
                if p.phase2_s is not None and other.phase2_s is not None:
                    targets.append(
                        Target(
                            f"paced ahead of {other.strategy} on the phase-2 calls at {size}",
                            p.phase2_s < other.phase2_s,
                            f"{p.phase2_s:.3f}s vs {other.phase2_s:.3f}s "
                            f"(paced's whole wave, phase 1 first: {_fmt(p.makespan_s)}s)",
                        )
                    )
            elif p.makespan_s is not None and other.makespan_s is not None:
                targets.append(
                    Target(
                        f"paced ahead of {other.strategy} on makespan at {size}",
                        p.makespan_s < other.makespan_s,
                        f"{p.makespan_s:.2f}s vs {other.makespan_s:.2f}s",
                    )
                )
            targets.append(
                Target(
                    f"paced no more 429s than {other.strategy} at {size}",
                    p.total_429 <= other.total_429,
                    f"{p.total_429} vs {other.total_429}",
                )
            )
        if p.matches == max(r.matches for r in paced):
            spread = p.phase1_spread_s
            targets.append(
                Target(
                    f"paced phase-1 spread <= 0.5s at {size} (fresh tokens)",
                    spread is not None and spread <= 0.5 + _EPS,
                    f"{_fmt(spread)}s",
                )
            )
    return targets


def compare_runs(
    first: Sequence[BenchRow], second: Sequence[BenchRow], *, tolerance: float = 0.10
) -> list[str]:
    """Why two benchmark runs are not the same table (empty when they are): every case
    must have the same 429 counts by scope, and ratios within ``tolerance`` (relative)."""
    problems: list[str] = []
    index = {(r.strategy, r.matches, r.kind): r for r in second}
    for a in first:
        b = index.get((a.strategy, a.matches, a.kind))
        case = f"{a.strategy} x {a.matches}"
        if b is None:
            problems.append(f"{case}: missing from the second run")
            continue
        if a.rate_limited != b.rate_limited:
            problems.append(f"{case}: 429s {a.rate_limited} then {b.rate_limited}")
        if (a.ratio is None) != (b.ratio is None):
            problems.append(f"{case}: ratio {a.ratio} then {b.ratio}")
        elif (
            a.ratio is not None
            and b.ratio is not None
            and abs(a.ratio - b.ratio) > tolerance * max(a.ratio, b.ratio)
        ):
            problems.append(f"{case}: ratio {a.ratio:.3f} then {b.ratio:.3f}")
    return problems


def write_json(path: Path, rows: Sequence[BenchRow]) -> None:
    path.write_text(
        json.dumps({"rows": [r.to_json() for r in rows]}, indent=2) + "\n", encoding="utf-8"
    )


# ---------------------------------------------------------------------------------- CLI


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 15,50,200, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive whole numbers, got {text!r}")
    return values


def _strategies(text: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [v for v in values if v not in STRATEGIES]
    if not values or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown strategy {', '.join(unknown) or text!r} (choose from {','.join(STRATEGIES)})"
        )
    return values


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--matches",
        type=_int_list,
        default=DEFAULT_MATCHES,
        metavar="N,N,...",
        help="wave sizes in matches (default 15,50,200)",
    )
    parser.add_argument(
        "--strategies",
        type=_strategies,
        default=DEFAULT_STRATEGIES,
        metavar="S,S,...",
        help="dispatch strategies (default naive,sequential,batched,paced)",
    )
    parser.add_argument(
        "--peers", action="store_true", help="add discord.py and hikari rows (same phase-2 calls)"
    )
    parser.add_argument(
        "--repeat", type=_positive, default=1, metavar="N", help="runs per case; medians"
    )
    parser.add_argument("--json", dest="json_path", metavar="PATH", help="write the rows as JSON")
    parser.add_argument(
        "--runs-dir", default="data/runs", metavar="DIR", help="per-run data folders"
    )
    parser.add_argument("--seed", type=int, default=1, help="the crowd's seed (default 1)")


def run(args: argparse.Namespace) -> int:
    from sandbox.peers import PeerError
    from sandbox.stack import StackError

    json_path = Path(args.json_path) if args.json_path else None
    if json_path is not None and not json_path.parent.exists():
        print(f"sandbox bench: no folder {json_path.parent} for --json", file=sys.stderr)
        return 2
    plan = BenchPlan(
        matches=tuple(args.matches),
        strategies=tuple(args.strategies),
        peers=bool(args.peers),
        repeat=int(args.repeat),
        runs_dir=Path(args.runs_dir),
        seed=int(args.seed),
        progress=sys.stderr,
    )
    began = time.monotonic()
    try:
        rows = asyncio.run(run_bench(plan))
    except (BenchError, StackError, ControlError, PeerError) as error:
        print(f"sandbox bench: {error}", file=sys.stderr)
        return 2
    print(format_table(rows))
    print()
    for target in check_targets(rows):
        print(f"[{'met' if target.met else 'MISSED'}] {target.name}: {target.detail}")
    print(
        f"\n{len(rows)} rows, median of {plan.repeat} run(s) each, {time.monotonic() - began:.0f}s"
    )
    if json_path is not None:
        try:
            write_json(json_path, rows)
        except OSError as error:
            print(f"sandbox bench: cannot write {json_path}: {error.strerror}", file=sys.stderr)
            return 2
    return 0
