"""Judging a dispatched wave from the referee's side: the mock's ledger and stats.

Every figure the dispatch end-to-end tests assert comes from the mock (DESIGN: "any figure
about staying under limits comes from the mock's ledger, never from the bot's own
account"). The bot is asked for one thing only, an *upper* bound on when its wave began
(see `wave_start`), and only ever to make the judged makespan longer, never shorter.

The figures
-----------
* **429s by scope**: ``stats["rate_limited"]`` (global / user / shared / ban) and
  ``stats["responses_by_status"]["429"]``, the mock's own counters.
* **peak_1s**: ``stats["applications"][app]["peak_1s"]``, the most counted requests the
  mock saw from the bot's token in any sliding 1-second window, over the whole run.
* **counted calls C**: ledger entries of the bot's application with ``counted`` true and
  arrival at or after the wave start. Everything the bot sends in that window belongs to
  the wave in these tests (heartbeats are off, no admin channel is configured, no other
  command runs), so C is exactly what the global limiter had to admit for the wave.
* **lower bound**: with a sliding 1-second window of L requests, C calls need at least
  ``ceil(C / L) - 1`` seconds from the first to the last (calls 1..L may go at t = 0,
  calls L+1..2L no earlier than t = 1, ...). L is the mock's active global limit.
* **makespan**: wave start to the arrival (``at_wall``) of the last 2xx message create in
  the ledger, i.e. the last phase-2 delivery the mock accepted.

Which wave start
----------------
Two honest timestamps exist, and we take the **earlier** one, because an earlier start
makes the judged makespan longer (harder to pass), never shorter:

1. the mock's own time of the ``/admin wave`` interaction: the mock does not write
   interaction deliveries into its ledger (the ledger holds API responses only), but it
   mints the interaction's snowflake id from its clock the moment it creates the
   interaction, before signing and POSTing it to the bot. `snowflake_time` of the id the
   mock returns (``interaction_id``) is that moment, truncated to the millisecond;
2. the bot's recorded wave start (``started_at`` of the store's wave row, Unix time),
   which is necessarily later: the bot writes it after it received that interaction.

Both are Unix wall-clock seconds, comparable with the ledger's ``at_wall`` because the
mock and the bot run on the same machine and read the same system clock.

Where the referee runs
----------------------
`mock_process` runs the mock as its own ``mockdiscord serve`` process, as Discord is another
machine: the referee's arrival stamps are then taken on its own event loop, not on the loop
that is also busy sending the bot's burst. `MockDiscord` is used over the control plane
only (its white-box ``state`` is not available there). `ladderbot_process` runs the bot as
a ``ladderbot run`` process (for SIGKILL); `serve_bot` runs it in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import aiohttp

from bot.app import RunningBot, serve_bot
from mockdiscord.harness import MockDiscord
from mockdiscord.server import MockState
from mockdiscord.snowflake import snowflake_time
from tests.bot.e2e.conftest import bot_settings

__all__ = [
    "MESSAGE_CREATE",
    "Split",
    "WaveFigures",
    "bot_status",
    "bounded_gather",
    "check_phase_messages",
    "ladderbot_process",
    "lower_bound",
    "mock_process",
    "queue_players",
    "read_dms",
    "run_wave",
    "split_stack",
    "wait_for",
    "wait_learnt",
    "wait_ledger_quiet",
    "wait_wave_done",
    "wave_figures",
    "wave_start",
]

MESSAGE_CREATE = ("POST", "/channels/{channel_id}/messages")
CHANNEL_EDIT = ("PATCH", "/channels/{channel_id}/messages/{message_id}")
WEBHOOK_EDIT_SUFFIX = "/messages/@original"

BW = ("bw_terran", "bw_zerg", "bw_protoss")
SC2 = ("sc2_terran", "sc2_zerg", "sc2_protoss")

T = TypeVar("T")


async def bounded_gather(factories: Iterable[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run the coroutines made by ``factories`` concurrently, at most ``limit`` at a time;
    results in input order."""
    semaphore = asyncio.Semaphore(limit)

    async def one(factory: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await factory()

    return list(await asyncio.gather(*(one(f) for f in factories)))


async def queue_players(
    mock: MockDiscord, count: int, *, concurrency: int = 20
) -> tuple[list[str], dict[str, str], list[dict[str, Any]]]:
    """``count`` new players, half Brood War and half StarCraft II (so the matchmaker pairs
    every one), each running ``/queue`` through the mock, ``concurrency`` at a time.

    Returns the ids, each player's searching message id, and the interaction outcomes."""
    users = await mock.create_users(count)
    options = [
        {"bw_race": BW[i % 3]} if i < count // 2 else {"sc2_race": SC2[i % 3]} for i in range(count)
    ]

    def make(user: str, option: dict[str, str]) -> Callable[[], Awaitable[dict[str, Any]]]:
        return lambda: mock.run_command(user, "queue", option)

    outcomes = await bounded_gather(
        (make(u, o) for u, o in zip(users, options, strict=True)), concurrency
    )
    bad = [o for o in outcomes if o["outcome"] != "responded" or o["response_type"] != 4]
    assert not bad, f"{len(bad)} /queue interactions were not answered with type 4: {bad[:3]}"
    return users, {u: o["message_id"] for u, o in zip(users, outcomes, strict=True)}, outcomes


async def read_dms(
    mock: MockDiscord, users: Sequence[str], *, concurrency: int = 20
) -> dict[str, list[dict[str, Any]]]:
    """Every player's DM as the player sees it (the mock's view)."""

    def make(user: str) -> Callable[[], Awaitable[list[dict[str, Any]]]]:
        return lambda: mock.dm(user)

    dms = await bounded_gather((make(u) for u in users), concurrency)
    return dict(zip(users, dms, strict=True))


def check_phase_messages(
    dms: Mapping[str, list[dict[str, Any]]],
    searching: Mapping[str, str],
    ignore: Iterable[str] = (),
) -> list[str]:
    """What is wrong with the players' DMs after one wave; empty when every player has
    exactly their two messages: the searching message edited to "Match #N found" (phase 1)
    and exactly one match-details message for that same match (phase 2), nothing else
    (except the messages whose ids are in ``ignore``, e.g. answers to other commands)."""
    problems: list[str] = []
    skip = set(ignore)
    for user, all_messages in dms.items():
        dm = [m for m in all_messages if m["id"] not in skip]
        found = [m for m in dm if m["id"] == searching[user]]
        details = [m for m in dm if m["embeds"] and m["content"].startswith("Match #")]
        if len(found) != 1 or not found[0]["content"].startswith("**Match #"):
            problems.append(f"{user}: phase-1 edit missing ({[m['content'] for m in found]})")
            continue
        if len(details) != 1:
            problems.append(f"{user}: {len(details)} phase-2 details messages, not 1")
            continue
        match = found[0]["content"].split("#", 1)[1].split(" ", 1)[0].rstrip("*")
        if not details[0]["content"].startswith(f"Match #{match} "):
            problems.append(f"{user}: details {details[0]['content']!r} not for match {match}")
        if len(dm) != 2:
            problems.append(f"{user}: {len(dm)} messages in the DM, not 2")
    return problems


def lower_bound(counted_calls: int, limit: int) -> float:
    """``ceil(C / L) - 1`` seconds: the least time C calls need under L per sliding second."""
    if counted_calls <= 0:
        return 0.0
    return float(math.ceil(counted_calls / limit) - 1)


def wave_start(admin_interaction_id: str, bot_started_at: float | None) -> float:
    """The earlier of the mock's time of the ``/admin wave`` interaction and the bot's
    recorded wave start (see the module docstring for why the earlier one)."""
    mock_time = snowflake_time(admin_interaction_id)
    return mock_time if bot_started_at is None else min(mock_time, bot_started_at)


@dataclass(frozen=True)
class WaveFigures:
    """One wave, as the mock saw it."""

    start: float
    counted: int
    """C: the bot's counted calls that arrived at or after ``start`` (429s included)."""
    limit: int
    creates_ok: int
    """2xx message creates (phase-2 deliveries) after ``start``."""
    channel_edits: int
    """Counted phase-1 edits (bot token, channel route) answered 2xx."""
    webhook_edits: int
    """Exempt phase-1 edits (interaction webhook ``@original``) answered 2xx."""
    last_create: float | None
    rate_limited: dict[str, int]
    responses_429: int
    peak_1s: int
    faults: dict[str, Any]

    @property
    def lower_bound(self) -> float:
        return lower_bound(self.counted, self.limit)

    @property
    def makespan(self) -> float:
        assert self.last_create is not None, "the mock saw no phase-2 delivery"
        return self.last_create - self.start

    def summary(self) -> str:
        return (
            f"C={self.counted} L={self.limit} bound={self.lower_bound:.2f}s "
            f"makespan={self.makespan:.3f}s peak_1s={self.peak_1s} 429={self.responses_429} "
            f"{self.rate_limited} creates={self.creates_ok} channel_edits={self.channel_edits} "
            f"webhook_edits={self.webhook_edits}"
        )


def _is(entry: Mapping[str, Any], method_route: tuple[str, str]) -> bool:
    return (entry["method"], entry["route"]) == method_route


async def wave_figures(mock: MockDiscord, start: float) -> WaveFigures:
    """Read the mock's ledger and stats and compute the wave's figures from ``start`` on."""
    app = mock.application_id
    ledger = [
        e for e in await mock.ledger() if e["application_id"] == app and e["at_wall"] >= start
    ]
    stats = await mock.stats()
    ok = [e for e in ledger if 200 <= e["status"] < 300]
    creates = [e["at_wall"] for e in ok if _is(e, MESSAGE_CREATE)]
    return WaveFigures(
        start=start,
        counted=sum(1 for e in ledger if e["counted"]),
        limit=int(stats["applications"][app]["global_limit"]),
        creates_ok=len(creates),
        channel_edits=sum(1 for e in ok if _is(e, CHANNEL_EDIT)),
        webhook_edits=sum(
            1 for e in ok if e["method"] == "PATCH" and e["route"].endswith(WEBHOOK_EDIT_SUFFIX)
        ),
        last_create=max(creates, default=None),
        rate_limited=dict(stats["rate_limited"]),
        responses_429=int(stats["responses_by_status"].get("429", 0)),
        peak_1s=int(stats["applications"][app]["peak_1s"]),
        faults=dict(stats.get("faults", {})),
    )


# -- processes and waiting -------------------------------------------------------------------


async def wait_for(
    check: Callable[[], Awaitable[T | None]], *, within: float, every: float = 0.05, what: str
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"{what}: not within {within}s (last: {last!r})")


def _venv_script(name: str, module: str) -> list[str]:
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


async def _ready_line(process: asyncio.subprocess.Process, prefix: str, log: Path) -> str:
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
    assert line.startswith(prefix), f"no ready line ({line!r}); see {log}"
    return line


@contextlib.asynccontextmanager
async def mock_process(log: Path) -> AsyncIterator[MockDiscord]:
    """A ``mockdiscord serve`` child process on a free loopback port, driven through its
    control plane; SIGTERMed (and waited for) on exit."""
    with log.open("ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            *_venv_script("mockdiscord", "mockdiscord.cli"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
    try:
        line = await _ready_line(process, "mockdiscord ready api=", log)
        base_url = line.split("api=", 1)[1].split()[0].removesuffix("/api/v10")
        async with aiohttp.ClientSession() as session:
            # Control plane only: the white-box state lives in the other process.
            mock = MockDiscord(base_url, session, cast(MockState, None))
            await mock.reset()  # loads the default application
            yield mock
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def ladderbot_process(
    mock: MockDiscord, db: Path, admin: str, log: Path, *flags: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """``ladderbot run`` as a child process; yields (process, base url) once it is ready.
    Killed (if still running) and waited for on exit."""
    env = dict(os.environ, LADDERBOT_TOKEN=mock.bot_token)
    args = [
        *_venv_script("ladderbot", "bot.cli"),
        "run",
        "--api-base", mock.api_base,
        "--application-id", mock.application_id,
        "--public-key", mock.public_key,
        "--listen", "127.0.0.1:0",
        "--db", str(db),
        "--admin-ids", admin,
        "--wave-interval", "0",
        "--heartbeat-interval", "0",
        *flags,
    ]  # fmt: skip
    with log.open("ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=log_file
        )
    try:
        line = await _ready_line(process, "ladderbot ready url=", log)
        yield process, line.split("url=", 1)[1].split()[0]
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def bot_status(url: str) -> dict[str, Any]:
    """The bot's ``GET /status`` (used only to know when to look, never as a figure)."""
    async with aiohttp.ClientSession() as session, session.get(url + "/status") as response:
        assert response.status == 200
        return dict(await response.json())


async def wait_wave_done(url: str, *, within: float) -> dict[str, Any]:
    """Wait until the bot's outbox is empty and a wave is among its finished waves; returns
    that status. (When to look is the bot's word; what happened is the mock's.)"""

    async def done() -> dict[str, Any] | None:
        status = await bot_status(url)
        finished = status["dispatch"]["recent_waves"]
        quiet = status["outbox"]["pending"] == 0 and not status["dispatch"]["current_waves"]
        return status if finished and quiet else None

    return await wait_for(done, within=within, every=0.1, what="the wave's outbox drained")


async def wait_learnt(mock: MockDiscord, players: int, *, within: float = 30.0) -> None:
    """Wait until the mock has answered one ``GET @original`` per queued player: the bot
    learns each searching message's id that way after ``/queue``, and a wave measured from
    a quiet bot must not share its start with that catch-up traffic."""

    async def learnt() -> bool:
        ledger = await mock.ledger()
        return (
            sum(
                1
                for e in ledger
                if e["method"] == "GET"
                and e["route"].endswith(WEBHOOK_EDIT_SUFFIX)
                and 200 <= e["status"] < 300
            )
            >= players
        )

    await wait_for(learnt, within=within, every=0.1, what="the bot learnt every searching message")


@dataclass
class Split:
    """A mock process and an in-process bot (see `split_stack`)."""

    mock: MockDiscord
    bot: RunningBot
    admin: str


@contextlib.asynccontextmanager
async def split_stack(tmp_path: Path, **settings: Any) -> AsyncIterator[Split]:
    """The mock in its own process, the bot in-process (`serve_bot`, settings as in the
    e2e conftest plus ``settings``), wired like Discord and a bot: the mock PINGs the
    bot's endpoint and probes it with a bad signature before storing the URL."""
    async with mock_process(tmp_path / "mock.log") as mock:
        admin = await mock.create_user("admin")
        config = bot_settings(mock, tmp_path / "ladder.db", admin, **settings)
        async with serve_bot(config) as bot:
            await mock.set_interactions_url(bot.interactions_url, verify_probe=True)
            yield Split(mock, bot, admin)


QUIET_S = 1.1
"""Longer than the 1-second global window: a ledger with no counted call for this long means
the bot's global budget is empty (as `sandbox bench` starts its measurement)."""


async def wait_ledger_quiet(
    mock: MockDiscord, *, gap: float = QUIET_S, within: float = 30.0
) -> float:
    """Wait until the mock has seen no counted request of the bot's application for ``gap``
    seconds (by the shared wall clock, which the ledger's ``at_wall`` is); returns the
    ledger-quiet time measured. A wave started then begins on an empty global budget, so
    no earlier call (e.g. the start-up command registration) holds one of its slots."""

    async def quiet() -> float | None:
        app = mock.application_id
        ledger = await mock.ledger()
        last = max(
            (float(e["at_wall"]) for e in ledger if e["application_id"] == app and e["counted"]),
            default=0.0,
        )
        idle = time.time() - last
        return idle if idle >= gap else None

    return await wait_for(quiet, within=within, every=0.05, what=f"{gap}s without a counted call")


async def run_wave(split: Split, *, within: float = 60.0) -> WaveFigures:
    """Wait for a quiet ledger (`wait_ledger_quiet`), then ``/admin wave``, wait for the bot
    to finish it, and read the mock's figures."""
    await wait_ledger_quiet(split.mock)
    result = await split.mock.run_command(split.admin, "admin wave")
    assert result["outcome"] == "deferred", result
    await wait_wave_done(split.bot.url, within=within)
    (wave, *_) = split.bot.store.recent_waves()
    start = wave_start(result["interaction_id"], wave.started_at)
    figures = await wave_figures(split.mock, start)
    metrics = split.bot.service.dispatcher.wave_metrics(wave.id) or {}
    own = {k: metrics.get(k) for k in ("phase1", "phase2", "makespan", "rate_limited")}
    print(f"\nwave of {wave.matches} matches: {figures.summary()}\n  the bot's own account: {own}")
    return figures
