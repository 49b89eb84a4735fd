"""The Operator: one running stack plus its fake players, behind the API of notes/SANDBOX_API.md.

Why one object: the scenario runner, the benchmark, the audit and the TUI all drive the
same actions (spawn, queue, wave, complete, ...) and read the same snapshot. Keeping them
here means a scenario drives exactly what a person drives in the TUI.

Who does what, so no figure is taken from the wrong side:

- players act only through the mock, as people would (`sandbox.players.Crowd`);
- operator actions that are an admin's job (force a wave, switch the dispatch strategy,
  announce) are ``/admin`` commands run by the admin user the stack created;
- the referee's figures (stats, ledger) come from the mock's control plane; the bot's
  ``GET /status`` is read for context, for wave start times and for ``outbox_empty``;
- `wait_until` polls with a bound; it never sleeps and hopes.

`expire_tokens` uses the mock's live ``interaction_token_lifetime`` knob: it waits until the
bot has learnt every searching message id (the ``GET .../messages/@original`` each /queue
answer triggers, counted in the ledger), then lowers the lifetime below the age of the
youngest /queue token. From then on the mock refuses those tokens (401, code 50027), so
the bot must edit by channel and message id with its bot token, which counts toward the
global limit. Tokens of later interactions live only that short lifetime too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from sandbox.control import ControlError
from sandbox.ledger_analysis import learnt_count
from sandbox.players import IN_MATCH, Crowd
from sandbox.snapshot import Snapshot
from sandbox.stack import Stack, StackConfig, StackError, run_stack

__all__ = [
    "CONDITIONS",
    "Operator",
    "OperatorError",
    "open_operator",
    "operator_over",
    "scenario_factory",
]

CONDITIONS = ("wave_delivered", "all_idle", "outbox_empty")
_POLL_S = 0.05


class OperatorError(Exception):
    """An operator action could not be done; ``str()`` is one line."""


def _ladder_choices() -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """The map pool, regions and veto count the bot's commands offer (the stack starts the
    bot with the default ladder configuration)."""
    from bot.ladder.config import LadderConfig

    config = LadderConfig()
    regions = sorted({r for pair in config.servers for r in pair})
    return tuple(config.maps), tuple(regions), config.max_vetoes


@dataclass(frozen=True, slots=True)
class _Wave:
    called_at: float  # wall clock, just before /admin wave


class Operator:
    """A running stack and its crowd. Make one with `open_operator(config, seed=...)`."""

    def __init__(
        self, stack: Stack, crowd: Crowd, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.stack = stack
        self.crowd = crowd
        self.clock = clock
        self._wave: _Wave | None = None
        self._queued = 0
        self._last_queue_mono: float | None = None

    # -- players ------------------------------------------------------------------------------

    async def spawn(
        self,
        count: int,
        *,
        rating_mean: float = 1500,
        rating_sd: float = 300,
        races: str = "mix",
        behaviour: Mapping[str, Any] | None = None,
    ) -> list[str]:
        try:
            return await self.crowd.spawn(
                count,
                rating_mean=rating_mean,
                rating_sd=rating_sd,
                races=races,
                behaviour=behaviour,
            )
        except ValueError as error:
            raise OperatorError(f"spawn: {error}") from None

    async def queue(self, n: int | None = None) -> int:
        done = await self.crowd.queue(n)
        self._queued += done
        self._last_queue_mono = time.monotonic()
        return done

    async def complete(
        self, n: int | None = None, *, match_ids: Iterable[int | str] | None = None
    ) -> int:
        """Both players of ``n`` open matches (all with None) report an agreeing result once
        confirmed; ``match_ids`` limits the choice to those matches (the TUI's selection).
        Returns how many matches were told."""
        return await self.crowd.complete(n, match_ids=match_ids)

    async def conflict(self, n: int | None = None) -> int:
        return await self.crowd.conflict(n)

    async def abort(
        self, n: int | None = None, *, match_ids: Iterable[int | str] | None = None
    ) -> int:
        """A player of ``n`` open matches (all with None; only among ``match_ids`` when
        given) presses [Abort] now. Returns how many aborts the bot answered."""
        return await self.crowd.abort(n, match_ids=match_ids)

    async def pause_players(self) -> None:
        """Players keep seeing their DMs but stop acting; what falls due meanwhile (a
        confirm after its delay, a result to report, a replay) is deferred, not lost."""
        self.crowd.pause()

    async def resume_players(self) -> int:
        """Players act again, starting with what fell due while paused; returns how many
        deferred reactions and clicks were carried out."""
        return self.crowd.resume()

    @property
    def players_paused(self) -> bool:
        return self.crowd.paused

    async def disconnect(self) -> int:
        return await self.crowd.disconnect()

    async def replays(self, n: int | None = None) -> int:
        return await self.crowd.replays(n)

    async def leaderboard_spam(self, n: int) -> int:
        return await self.crowd.leaderboard_spam(n)

    # -- admin --------------------------------------------------------------------------------

    async def wave(self) -> None:
        self._wave = _Wave(self.clock())
        await self.crowd.admin("wave")

    async def announce(self, text: str) -> None:
        await self.crowd.admin("announce", {"text": text})

    async def set_strategy(self, name: str) -> None:
        await self.crowd.admin("dispatch", {"strategy": name})
        status = await self.stack.bot.status()
        actual = (status.get("dispatch") or {}).get("strategy")
        if actual != name:
            raise OperatorError(f"the bot refused strategy {name!r} (it runs {actual!r})")

    # -- the mock -------------------------------------------------------------------------------

    async def configure_mock(self, **changes: Any) -> None:
        try:
            await self.stack.control.configure(**changes)
        except ControlError as error:
            raise OperatorError(f"the mock refused the configuration: {error}") from None

    async def expire_tokens(self) -> None:
        """Make every /queue token so far older than the mock's token lifetime."""
        await self._until_searching_learnt(timeout=10.0)
        if self._last_queue_mono is None:
            age = 1.0
        else:
            await asyncio.sleep(0.05)  # a measurable age for the youngest token
            age = time.monotonic() - self._last_queue_mono
        await self.configure_mock(interaction_token_lifetime=max(0.01, age / 2))

    async def _until_searching_learnt(self, timeout: float) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while True:
            ledger = await self.stack.control.ledger()
            learnt = learnt_count(ledger)
            if learnt >= self._queued or time.monotonic() > deadline:
                return
            await asyncio.sleep(_POLL_S)

    # -- the bot --------------------------------------------------------------------------------

    async def restart_bot(self, *, kill: bool = True) -> None:
        try:
            await self.stack.restart_bot(kill=kill)
        except StackError as error:
            raise OperatorError(f"restart_bot: {error}") from None

    async def _bot_status(self) -> dict[str, Any]:
        try:
            return await self.stack.bot.status()
        except ControlError:
            return {}

    # -- observation ------------------------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        control = self.stack.control
        stats, ledger, status, dms = await asyncio.gather(
            control.stats(), control.ledger(), self._bot_status(), self.crowd.dms()
        )
        return Snapshot(
            mock_stats=stats,
            ledger=ledger,
            bot_status=status,
            dms=dms,
            players=self.crowd.views(),
            application_id=self.stack.application_id,
        )

    async def wait_until(self, condition: str, timeout: float) -> bool:  # noqa: ASYNC109
        """Poll until ``condition`` holds (True) or ``timeout`` seconds pass (False)."""
        checks = {
            "wave_delivered": self._wave_delivered,
            "all_idle": self._all_idle,
            "outbox_empty": self._outbox_empty,
        }
        check = checks.get(condition)
        if check is None:
            raise OperatorError(f"unknown condition {condition!r} (one of {', '.join(CONDITIONS)})")
        deadline = time.monotonic() + timeout
        while True:
            if await check():
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL_S)

    async def _all_idle(self) -> bool:
        # No player in a match, and none of their clicks still waiting for its answer.
        return not self.crowd.in_state(IN_MATCH) and self.crowd.pending_actions == 0

    @staticmethod
    def _outbox_settled(status: Mapping[str, Any]) -> bool:
        outbox = status.get("outbox") or (status.get("dispatch") or {}).get("outbox")
        if not isinstance(outbox, Mapping):
            return False
        in_flight = (status.get("dispatch") or {}).get("in_flight", 0)
        return outbox.get("pending", 1) == 0 and not in_flight

    async def _outbox_empty(self) -> bool:
        return self._outbox_settled(await self._bot_status())

    async def _wave_delivered(self) -> bool:
        """The last forced wave's players all saw both notifications, and the bot's outbox
        is drained. The players' count comes from the bot's wave record when it has one."""
        status = await self._bot_status()
        if not status or not self._outbox_settled(status):
            return False
        since = self._wave.called_at - 1.0 if self._wave is not None else 0.0
        notified = 0
        matched = 0
        for player in self.crowd.players.values():
            if player.matched_at is None or player.matched_at < since:
                continue
            matched += 1
            closed = player.traits.dms_closed
            if player.phase1_seen and (player.details_seen or closed):
                notified += 1
        waves = [
            w
            for w in Snapshot(bot_status=status).waves()
            if float(w.get("started_at") or 0.0) >= since
        ]
        if waves:
            record = waves[-1]
            players = record.get("players")
            if not isinstance(players, int):
                players = 2 * int(record.get("matches") or 0)
            return notified >= players
        # No wave record (e.g. a restarted bot): every player matched since is notified.
        return matched > 0 and notified == matched


@contextlib.asynccontextmanager
async def operator_over(stack: Stack, *, seed: int | None = None) -> AsyncIterator[Operator]:
    """An Operator over a running stack: its crowd follows the mock's events until the
    ``async with`` ends (the stack itself is left running)."""
    maps, regions, max_vetoes = _ladder_choices()
    crowd = Crowd(
        stack.control,
        admin_id=stack.admin_id,
        seed=seed,
        maps=maps,
        regions=regions,
        max_vetoes=min(2, max_vetoes),
    )
    await crowd.start()
    try:
        yield Operator(stack, crowd)
    finally:
        await crowd.close()


@contextlib.asynccontextmanager
async def open_operator(
    config: StackConfig | None = None, *, seed: int | None = None
) -> AsyncIterator[Operator]:
    """Start a stack and its crowd; both are torn down when the ``async with`` ends."""
    async with run_stack(config) as stack, operator_over(stack, seed=seed) as operator:
        yield operator


def scenario_factory(
    *,
    mode: Literal["subprocess", "inprocess"] = "subprocess",
    runs_dir: Path = Path("data/runs"),
    base: StackConfig | None = None,
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[Operator]]:
    """The `operator_factory` for `sandbox.scenario.run_scenarios`: a scenario's `Setup`
    becomes a `StackConfig` (profile, strategy, wave interval, seed, the bot's pacing
    limit when the scenario sets ``global_limit``)."""

    def factory(setup: Any) -> contextlib.AbstractAsyncContextManager[Operator]:
        config = base or StackConfig()
        limit = setup.limits.get("global_limit")
        config = replace(
            config,
            mode=mode,
            runs_dir=runs_dir,
            profile=setup.profile,
            seed=setup.seed,
            strategy=setup.strategy,
            wave_interval=setup.wave_interval if setup.wave_interval is not None else 45.0,
            global_limit=limit if isinstance(limit, int) else config.global_limit,
        )
        return open_operator(config, seed=setup.seed)

    return factory
