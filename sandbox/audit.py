"""`sandbox audit`: the seed's hand-made burst audit, turned into a measurement.

The seed document (seed/API_BURST_AUDIT.md) estimates, flow by flow, how many API calls
each ladder feature makes, assumes which of them count toward the global 50/s, and
concludes that only match notifications need batching. Every one of those numbers was a
guess. This module drives each flow of the seed's matrix against the real bot and the mock,
at the seed's own sizes, and reads what actually happened from the referee's ledger:

- **interactions**: interactions the mock delivered to the bot (a slash command or click
  answered in the HTTP response is no API request, so it is never in the ledger);
- **calls**: every API request the mock saw from the bot's token in the flow's window
  (429s and other refusals included: they are requests too);
- **counted / exempt**: how many of them the mock charged to the global budget, and how
  many were exempt (interaction callbacks and interaction-webhook calls);
- **peak 1 s**: the most counted requests in any sliding 1-second window;
- **429s by scope** (global / user / shared, and ban);
- **verdict**: ``at risk`` when the peak is above 80% of the global limit or any 429 was
  seen, else ``safe`` (`verdict`). "At risk" says the flow presses the limit, so it needs
  pacing; it does not say that the bot failed (a paced bot uses the whole budget on
  purpose and shows 0 x 429 beside it).

Two flows get a second row because the seed's assumption depends on it: phase-1 edits and
heartbeats go through the player's /queue interaction token while it is younger than 15
minutes (exempt), and through the bot token after that (counted). The mock is made to
expire the tokens (``Operator.expire_tokens``) for the second row.

Isolating flows in one stack
----------------------------
Starting a stack and registering players costs more than most flows, so flows share a
stack. A flow's window is isolated by *time in the ledger*: before it starts, the ledger
must have been quiet for longer than the global window (so its peak cannot include another
flow's requests), and it ends when the bot's outbox is drained, the players' clicks are
answered and the ledger is quiet again (or, for a wave, when every notification was
delivered). Matches left open by a flow are ended (confirmation timeouts) before the next
one starts. Flows that need different bot settings use a second stack: the heartbeat flow
needs heartbeats on (they would leak into every other window), and the announcement runs
there too, on the same registered players. The two stacks share nothing, so they run at
the same time.

Players are split into groups that never overlap, and each group is queued by the audit
itself (the crowd's ``queue`` takes *any* idle player).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.bench import (
    STRATEGIES,
    BenchError,
    global_limit_of,
    ledger_after,
    wait_quiet,
)
from sandbox.control import ControlError
from sandbox.ledger_analysis import (
    counted_peak,
    delivery_counts,
    learnt_count,
    rate_limited_by_scope,
)
from sandbox.players import queue_options

__all__ = [
    "FLOWS",
    "SCALES",
    "SEED_ROWS",
    "AuditRow",
    "Scale",
    "SeedRow",
    "configure",
    "format_markdown",
    "format_table",
    "measure_flow",
    "run",
    "run_audit",
    "verdict",
]

RISK_SHARE = 0.8
SAFE = "safe"
AT_RISK = "at risk"
_POLL_S = 0.05
_LIFETIME = 900.0


# ------------------------------------------------------------------------- the seed's rows


@dataclass(frozen=True, slots=True)
class SeedRow:
    """One row of the seed's "Burst Risk Matrix", quoted."""

    key: str
    feature: str
    max_concurrent: str
    api_calls: str
    burst_risk: str


#: The seed's matrix in its own row order, then §9 (announcements) and §10 (scheduled jobs),
#: which the matrix leaves out; their "estimates" are the seed's own words.
SEED_ROWS: tuple[SeedRow, ...] = (
    SeedRow("match_found", "Match Notifications", "15+ matches", "60+ calls", "HIGH"),
    SeedRow("completions", "Match Completions", "10 matches", "20-40 calls (sequential)", "Low"),
    SeedRow("aborts", "Match Aborts", "10 matches", "20-40 calls (sequential)", "Low"),
    SeedRow("leaderboard", "Leaderboard", "50 users", "50 calls (separate routes)", "Low"),
    SeedRow("queue", "Queue Join/Leave", "30 users", "30 calls (ephemeral)", "Low"),
    SeedRow("replays", "Replay Uploads", "20 players", "20 calls (staggered)", "Low"),
    SeedRow("admin", "Admin Commands", "1 admin", "1-2 calls", "None"),
    SeedRow("announce", "System Announcements", "-", "N/A: feature doesn't exist", "N/A"),
    SeedRow("heartbeat", "Scheduled Jobs", "-", "no scheduled API calls", "Safe"),
)

FLOWS = tuple(row.key for row in SEED_ROWS)


@dataclass(frozen=True, slots=True)
class Scale:
    wave: int  # matches in the match-found wave
    completions: int  # matches completing at once
    aborts: int  # matches aborted at once (mass disconnect)
    leaderboard: int  # /leaderboard at once
    queue: int  # /queue in the same second (at most 2 * wave)
    replays: int  # /replay uploads at once (at most 2 * completions)
    announce: int  # registered players an announcement goes to
    heartbeat: int  # queued players the heartbeat refreshes

    def __post_init__(self) -> None:
        if self.queue > 2 * self.wave or self.replays > 2 * self.completions:
            raise ValueError("queue <= 2 * wave and replays <= 2 * completions")


SCALES: dict[str, Scale] = {
    "small": Scale(5, 4, 4, 10, 10, 8, 30, 30),
    "seed": Scale(15, 10, 10, 50, 30, 20, 200, 200),
    "large": Scale(100, 50, 50, 200, 100, 100, 500, 500),
}


# --------------------------------------------------------------------------- measurement


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One measured flow beside the seed's estimate for its feature."""

    seed: SeedRow
    flow: str
    calls: int
    counted: int
    exempt: int
    peak_1s: int
    rate_limited: dict[str, int]
    limit: int
    window_s: float
    verdict: str
    interactions: int = 0
    """Interactions the mock delivered to the bot in the window (``stats.interactions``):
    answered in the HTTP response, they are not API requests and never in the ledger."""

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.seed.feature,
            "key": self.seed.key,
            "seed_max_concurrent": self.seed.max_concurrent,
            "seed_api_calls": self.seed.api_calls,
            "seed_burst_risk": self.seed.burst_risk,
            "flow": self.flow,
            "calls": self.calls,
            "counted": self.counted,
            "exempt": self.exempt,
            "peak_1s": self.peak_1s,
            "rate_limited": dict(self.rate_limited),
            "global_limit": self.limit,
            "window_s": round(self.window_s, 3),
            "verdict": self.verdict,
            "interactions": self.interactions,
        }


def verdict(peak_1s: int, limit: int, rate_limited: Mapping[str, int]) -> str:
    """``at risk`` when the peak is above 80% of the limit or any 429 was seen."""
    if any(int(n) > 0 for n in rate_limited.values()):
        return AT_RISK
    return AT_RISK if peak_1s > RISK_SHARE * limit else SAFE


def measure_flow(
    window: Sequence[Mapping[str, Any]],
    *,
    seed: SeedRow,
    flow: str,
    limit: int,
    application_id: str | None = None,
    interactions: int = 0,
) -> AuditRow:
    """A flow's figures from the ledger records of its window (pure)."""
    mine = [
        e
        for e in window
        if application_id is None or str(e.get("application_id")) == str(application_id)
    ]
    times = [float(e["at_wall"]) for e in mine]
    limited = rate_limited_by_scope(mine)
    peak = counted_peak(mine).count
    return AuditRow(
        seed=seed,
        flow=flow,
        calls=len(mine),
        counted=sum(1 for e in mine if e.get("counted")),
        exempt=sum(1 for e in mine if e.get("exempt")),
        peak_1s=peak,
        rate_limited=limited,
        limit=limit,
        window_s=(max(times) - min(times)) if times else 0.0,
        verdict=verdict(peak, limit, limited),
        interactions=interactions,
    )


# ------------------------------------------------------------------------------ driving


async def _until(
    check: Callable[[], Awaitable[bool]],
    what: str,
    timeout: float = 90.0,  # noqa: ASYNC109
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise BenchError(f"audit: {what} not within {timeout:g}s")
        await asyncio.sleep(_POLL_S)


class _Run:
    """One stack being audited: flow windows, groups of players, the rows so far."""

    def __init__(self, op: Any, rows: list[AuditRow], progress: Any) -> None:
        self.op = op
        self.control = op.stack.control
        self.app = op.stack.application_id
        self.rows = rows
        self.progress = progress
        self.limit = 50

    async def start(self) -> None:
        self.limit, _ = await global_limit_of(self.control, self.app)

    def _say(self, text: str) -> None:
        if self.progress is not None:
            print(f"audit: {text}", file=self.progress, flush=True)

    async def settled(self) -> bool:
        return self.op.crowd.pending_actions == 0 and await self.op.wait_until("outbox_empty", 0)

    async def quiet(self) -> int:
        await _until(self.settled, "the bot's outbox drained")
        return await wait_quiet(self.control)

    async def measure(
        self,
        key: str,
        flow: str,
        action: Callable[[], Awaitable[Any]],
        done: Callable[[int], Awaitable[bool]] | None = None,
    ) -> AuditRow:
        """Run ``action`` in a window of its own; the window closes when ``done(mark)``
        holds (default: everything settled and the ledger quiet again)."""
        mark = await self.quiet()
        before = await self._interactions()
        began = time.monotonic()
        await action()
        if done is None:
            end = await self.quiet()
            window = (await ledger_after(self.control, mark))[: end - mark]
        else:
            await _until(lambda: done(mark), f"{flow}: done")
            window = await ledger_after(self.control, mark)
        seed = next(r for r in SEED_ROWS if r.key == key)
        row = measure_flow(
            window,
            seed=seed,
            flow=flow,
            limit=self.limit,
            application_id=self.app,
            interactions=await self._interactions() - before,
        )
        self.rows.append(row)
        self._say(
            f"{seed.feature}: {flow}: {row.calls} calls, peak {row.peak_1s}, "
            f"{sum(row.rate_limited.values())} x 429 -> {row.verdict} "
            f"({time.monotonic() - began:.1f}s)"
        )
        return row

    async def _interactions(self) -> int:
        stats = await self.control.stats()
        return int((stats.get("interactions") or {}).get("delivered") or 0)

    async def group(self, size: int, *, races: str = "split", **behaviour: Any) -> list[Any]:
        """``size`` new registered players (half BW only, half SC2 only with ``split``, so
        a wave pairs every one), all rated 1500 (no rating traffic)."""
        crowd = self.op.crowd
        if races == "split":
            ids = await self.op.spawn(size // 2, races="bw", rating_sd=0, behaviour=behaviour)
            ids += await self.op.spawn(
                size - size // 2, races="sc2", rating_sd=0, behaviour=behaviour
            )
        else:
            ids = await self.op.spawn(size, races=races, rating_sd=0, behaviour=behaviour)
        return [crowd.players[i] for i in ids]

    async def queue(self, players: Sequence[Any]) -> None:
        """Exactly these players run ``/queue`` at once (with their own races and vetoes)."""
        crowd = self.op.crowd

        async def one(player: Any) -> bool:
            result = await crowd.command(player.id, "queue", queue_options(player))
            return str(result.get("outcome")) in ("responded", "deferred")

        done = await asyncio.gather(*(one(p) for p in players))
        if not all(done):
            raise BenchError(f"audit: {len(done) - sum(done)}/{len(done)} /queue failed")

    async def queue_and_learn(self, players: Sequence[Any]) -> None:
        """Queue these players, then wait until the bot has learnt each searching message
        (one ``GET @original`` per player): that catch-up traffic is not the next flow's."""
        mark = len(await ledger_after(self.control, 0))
        await self.queue(players)
        check = self.learnt(len(players))
        await _until(lambda: check(mark), "the bot learnt the searching messages")

    def learnt(self, count: int) -> Callable[[int], Awaitable[bool]]:
        async def check(mark: int) -> bool:
            window = await ledger_after(self.control, mark)
            return learnt_count(window) >= count

        return check

    def delivered(self, players: int) -> Callable[[int], Awaitable[bool]]:
        async def check(mark: int) -> bool:
            one, two = delivery_counts(await ledger_after(self.control, mark))
            return one >= players and two >= players and await self.settled()

        return check

    async def all_idle(self, players: Sequence[Any]) -> None:
        async def idle() -> bool:
            return all(p.state == "idle" for p in players) and await self.settled()

        await _until(idle, "every match ended", timeout=120.0)


async def _stack_matches(run: _Run, scale: Scale, flows: Sequence[str]) -> None:
    """Queue joins, both match-found waves, replays, completions, aborts, leaderboard and
    the admin command, on one stack (heartbeats off, short confirmation timeout)."""
    op = run.op
    if "queue" in flows or "match_found" in flows:
        wave = await run.group(2 * scale.wave, no_confirm=1.0)
        first, rest = wave[: scale.queue], wave[scale.queue :]
        if "queue" not in flows:
            first, rest = [], wave
        if first:
            await run.measure(
                "queue", f"{len(first)} /queue in the same second", lambda: run.queue(first)
            )
        if rest:
            await run.queue_and_learn(rest)
        if "match_found" in flows:
            await run.measure(
                "match_found",
                f"wave of {scale.wave} matches, fresh /queue tokens",
                op.wave,
                done=run.delivered(2 * scale.wave),
            )
        else:
            await op.wave()
        await run.all_idle(wave)  # nobody confirms: the confirmation timeout ends them

    if "match_found" in flows:
        late = await run.group(2 * scale.wave, no_confirm=1.0)
        await run.queue_and_learn(late)
        await run.quiet()
        await op.expire_tokens()
        try:
            await run.measure(
                "match_found",
                f"wave of {scale.wave} matches, /queue tokens older than 15 min",
                op.wave,
                done=run.delivered(2 * scale.wave),
            )
        finally:
            await op.configure_mock(interaction_token_lifetime=_LIFETIME)
        if set(flows) - {"queue", "match_found"}:  # a later flow needs these matches over
            await run.all_idle(late)

    if {"replays", "completions"} & set(flows):
        done_group = await run.group(
            2 * scale.completions, confirm_delay=[0.0, 0.1], replay=0.0, abort=0.0
        )
        await run.queue_and_learn(done_group)
        await run.quiet()
        await op.wave()

        async def confirmed() -> bool:
            return all(p.match_state == "confirmed" for p in done_group) and await run.settled()

        await _until(confirmed, "every match confirmed")
        if "replays" in flows:
            await run.measure(
                "replays",
                f"{scale.replays} /replay uploads at once",
                lambda: op.replays(scale.replays),
            )
        await run.measure(
            "completions",
            f"{scale.completions} matches completed at once",
            lambda: op.complete(scale.completions),
            done=None,
        )
        await run.all_idle(done_group)

    if "aborts" in flows:
        gone = await run.group(2 * scale.aborts, no_confirm=1.0)
        await run.queue_and_learn(gone)
        mark = await run.quiet()
        await op.wave()
        wave_done = run.delivered(2 * scale.aborts)
        await _until(lambda: wave_done(mark), "the abort group's wave")

        async def disconnect_and_wait() -> None:
            await op.disconnect()
            await run.all_idle(gone)

        await run.measure(
            "aborts",
            f"mass disconnect: {scale.aborts} matches time out at once",
            disconnect_and_wait,
        )

    if "leaderboard" in flows:
        if not op.crowd.players:
            await run.group(2)
        await run.measure(
            "leaderboard",
            f"{scale.leaderboard} /leaderboard at once",
            lambda: op.leaderboard_spam(scale.leaderboard),
        )

    if "admin" in flows:
        target = next(iter(op.crowd.players.values()), None) or (await run.group(2))[0]
        race = next(iter(target.profile.ratings), "bw_terran")

        async def adjust() -> None:
            await op.crowd.admin("adjust_mmr", {"user": target.id, "race": race, "delta": 1})

        await run.measure("admin", "one /admin adjust_mmr", adjust)


async def _stack_background(run: _Run, scale: Scale, flows: Sequence[str]) -> None:
    """The announcement and the heartbeat, on a stack with heartbeats on."""
    op = run.op
    size = max(scale.announce if "announce" in flows else 0, scale.heartbeat)
    players = await run.group(size, races="mix", no_confirm=1.0)
    if "announce" in flows:
        await run.measure(
            "announce",
            f"announcement to {scale.announce} players",
            lambda: op.announce("Server maintenance tonight at 22:00 UTC."),
        )
    if "heartbeat" not in flows:
        return
    queued = players[: scale.heartbeat]
    await run.queue_and_learn(queued)

    async def one_cycle() -> None:
        status = await op.stack.bot.status()
        cycles = int(((status.get("heartbeat") or {}).get("cycles")) or 0)

        async def next_cycle_done() -> bool:
            beat = (await op.stack.bot.status()).get("heartbeat") or {}
            return int(beat.get("cycles") or 0) > cycles and not beat.get("in_flight")

        await _until(next_cycle_done, "a heartbeat cycle", timeout=60.0)

    await run.measure("heartbeat", f"one cycle, {len(queued)} queued, fresh tokens", one_cycle)
    await op.expire_tokens()
    await run.measure(
        "heartbeat", f"one cycle, {len(queued)} queued, tokens older than 15 min", one_cycle
    )


@dataclass
class AuditPlan:
    strategy: str | None = None
    scale: str = "seed"
    flows: tuple[str, ...] = FLOWS
    runs_dir: Path = Path("data/runs")
    heartbeat_interval: float = 6.0
    confirm_timeout: float = 4.0
    seed: int = 7
    progress: Any = None
    runtime_s: float = field(default=0.0)


async def run_audit(plan: AuditPlan) -> list[AuditRow]:
    """Every flow of ``plan``; rows in the seed's row order."""
    from sandbox.operator import open_operator
    from sandbox.stack import StackConfig

    scale = SCALES[plan.scale]
    began = time.monotonic()
    rows: list[AuditRow] = []
    base = StackConfig(
        mode="subprocess",
        runs_dir=plan.runs_dir,
        strategy=plan.strategy,
        seed=plan.seed,
        log_level="WARNING",
    )
    matches_flows = [f for f in plan.flows if f not in ("announce", "heartbeat")]
    background = [f for f in plan.flows if f in ("announce", "heartbeat")]

    async def matches_stack() -> None:
        config = _with(base, heartbeat_interval=0, confirm_timeout=plan.confirm_timeout)
        async with open_operator(config, seed=plan.seed) as op:
            run = _Run(op, rows, plan.progress)
            await run.start()
            await _stack_matches(run, scale, matches_flows)

    async def background_stack() -> None:
        config = _with(base, heartbeat_interval=plan.heartbeat_interval, confirm_timeout=3600)
        async with open_operator(config, seed=plan.seed + 1) as op:
            run = _Run(op, rows, plan.progress)
            await run.start()
            await _stack_background(run, scale, background)

    # The two stacks share nothing (own mock, own ledger, own bot): they run side by side,
    # and every figure is read from each one's own ledger. A failure in one cancels the
    # other, whose stack is torn down as usual.
    try:
        async with asyncio.TaskGroup() as group:
            if matches_flows:
                group.create_task(matches_stack())
            if background:
                group.create_task(background_stack())
    except BaseExceptionGroup as failed:  # the first error, one line as before
        raise failed.exceptions[0] from None
    plan.runtime_s = time.monotonic() - began
    order = {key: i for i, key in enumerate(FLOWS)}
    return sorted(rows, key=lambda r: order[r.seed.key])  # stable: flows keep their order


def _with(config: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(config, **changes)


# ------------------------------------------------------------------------------ reporting

HEADERS = (
    "Feature",
    "Seed: API Calls",
    "Seed: Burst Risk",
    "Measured flow",
    "Interactions",
    "Calls",
    "Counted",
    "Exempt",
    "Peak 1s",
    "429 g/u/s/ban",
    "Verdict",
)


def _cells(row: AuditRow) -> tuple[str, ...]:
    limited = row.rate_limited
    scopes = "/".join(str(limited.get(s, 0)) for s in ("global", "user", "shared", "ban"))
    return (
        row.seed.feature,
        row.seed.api_calls,
        row.seed.burst_risk,
        row.flow,
        str(row.interactions),
        str(row.calls),
        str(row.counted),
        str(row.exempt),
        f"{row.peak_1s}/{row.limit}",
        scopes,
        row.verdict,
    )


def format_table(rows: Sequence[AuditRow]) -> str:
    body = [_cells(r) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in body]
    return "\n".join(lines)


def format_markdown(rows: Sequence[AuditRow], *, strategy: str, scale: str) -> str:
    lines = [
        f"# Burst audit, measured (strategy {strategy}, scale {scale})",
        "",
        "Seed columns are quoted from seed/API_BURST_AUDIT.md; every other figure is the "
        "mock's ledger. Verdict: at risk when the peak is above 80% of the global limit or "
        "any 429 was seen.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- CLI


def _flows(text: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [v for v in values if v not in FLOWS]
    if not values or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown flow {', '.join(unknown) or text!r} (choose from {','.join(FLOWS)})"
        )
    return values


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=None,
        help="dispatch strategy (default: the bot's)",
    )
    parser.add_argument(
        "--scale", choices=tuple(SCALES), default="seed", help="flow sizes (default: the seed's)"
    )
    parser.add_argument(
        "--flows", type=_flows, default=FLOWS, metavar="F,F,...", help="only these flows"
    )
    parser.add_argument("--markdown", metavar="PATH", help="write the table as Markdown")
    parser.add_argument("--json", dest="json_path", metavar="PATH", help="write the rows as JSON")
    parser.add_argument("--runs-dir", default="data/runs", metavar="DIR", help="per-run data")


def run(args: argparse.Namespace) -> int:
    from sandbox.stack import StackError

    outputs = [Path(p) for p in (args.markdown, args.json_path) if p]
    for path in outputs:
        if not path.parent.exists():
            print(f"sandbox audit: no folder {path.parent} for {path.name}", file=sys.stderr)
            return 2
    plan = AuditPlan(
        strategy=args.strategy,
        scale=args.scale,
        flows=tuple(args.flows),
        runs_dir=Path(args.runs_dir),
        progress=sys.stderr,
    )
    try:
        rows = asyncio.run(run_audit(plan))
    except (BenchError, StackError, ControlError) as error:
        print(f"sandbox audit: {error}", file=sys.stderr)
        return 2
    strategy = args.strategy or "bot default"
    print(format_table(rows))
    at_risk = [r for r in rows if r.verdict == AT_RISK]
    print(
        f"\n{len(rows)} flows measured ({len(at_risk)} at risk), strategy {strategy}, "
        f"scale {args.scale}, {plan.runtime_s:.0f}s"
    )
    try:
        if args.markdown:
            Path(args.markdown).write_text(
                format_markdown(rows, strategy=strategy, scale=args.scale), encoding="utf-8"
            )
        if args.json_path:
            data = {
                "strategy": strategy,
                "scale": args.scale,
                "runtime_s": round(plan.runtime_s, 1),
                "rows": [r.to_json() for r in rows],
            }
            Path(args.json_path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        print(f"sandbox audit: cannot write: {error.strerror}", file=sys.stderr)
        return 2
    return 0
