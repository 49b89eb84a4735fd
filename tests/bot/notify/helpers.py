"""Builders for dispatcher tests: a store with a wave in it, a client on the fake server, a
dispatcher with a trivial renderer, and a driver that runs until the outbox is drained."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import ManualClock
from bot.discord import DiscordClient, GlobalConfig, LimiterConfig, RetryConfig
from bot.ladder import LadderConfig, Race, make_queue_request, run_wave, wave_notifications
from bot.ladder.waves import WaveResult
from bot.notify import DispatchConfig, Dispatcher, OutgoingCall
from bot.store import InteractionRef, OutboxItem, Store
from tests.bot.discord.fakediscord import DM_BASE, FakeDiscord
from tests.bot.discord.vtime import VirtualTime

BASE = "https://discord.test/api/v10"
APP_ID = 111_111_111_111_111_111
LADDER = LadderConfig()


def dm_of(player_id: int) -> int:
    return DM_BASE + player_id


def render(item: OutboxItem) -> OutgoingCall:
    return OutgoingCall(content=f"{item.kind.value} m{item.match_id} p{item.player_id}")


def seed_wave(
    store: Store,
    clock: ManualClock,
    matches: int,
    *,
    first_player: int = 1,
    token_age: float = 10.0,
    known_dm: bool = True,
) -> WaveResult:
    """Queue ``2 * matches`` players (BW-only and SC2-only at equal MMR) and run a wave now."""
    now = clock.wall()
    for i in range(2 * matches):
        pid = first_player + i
        store.ensure_player(pid, f"p{pid}", now - 60)
        race = Race.BW_ZERG if i % 2 == 0 else Race.SC2_TERRAN
        ref = InteractionRef(
            token=f"tok{pid}",
            created_at=now - token_age,
            channel_id=dm_of(pid),
            message_id=50_000_000 + pid,
        )
        store.enqueue(pid, make_queue_request([race], (), LADDER), ref, now - 30)
        if known_dm:
            store.set_dm_channel(pid, dm_of(pid))
    wave_id, first_match = store.next_ids()
    result = run_wave(
        store.queued_candidates(), LADDER, now=now, wave_id=wave_id, first_match_id=first_match
    )
    assert len(result.matches) == matches
    store.apply_wave(result, wave_notifications(result))
    return result


@dataclass
class Rig:
    """One test's world: clock, virtual time, fake Discord, store, client, dispatcher."""

    tmp: Path
    clock: ManualClock = field(default_factory=ManualClock)
    global_limit: int = 50
    margin: float = 0.05
    retry: RetryConfig = field(default_factory=RetryConfig)
    server_kwargs: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vt = VirtualTime(self.clock)
        self.server = FakeDiscord(
            self.clock, self.vt, global_limit=self.global_limit, **self.server_kwargs
        )
        self.store = Store(self.tmp / "ladder.sqlite3", LADDER)
        self.client = self.new_client()
        self.undeliverable: list[tuple[int, str]] = []

    def new_client(self) -> DiscordClient:
        return DiscordClient(
            "Ym90.tok.en",
            BASE,
            clock=self.clock,
            transport=self.server.transport(),
            sleep=self.vt.sleep,
            rng=random.Random(3),
            retry=self.retry,
            limiter_config=LimiterConfig(
                global_budget=GlobalConfig(limit=self.global_limit, margin=self.margin)
            ),
        )

    def dispatcher(self, strategy: str = "paced", **config: object) -> Dispatcher:
        def hook(item: OutboxItem, error: Exception) -> None:
            self.undeliverable.append((item.id, type(error).__name__))

        return Dispatcher(
            self.store,
            self.client,
            render,
            clock=self.clock,
            config=DispatchConfig(strategy=strategy, **config),  # type: ignore[arg-type]
            application_id=APP_ID,
            on_undeliverable=hook,
        )

    async def drain(
        self,
        dispatcher: Dispatcher,
        *,
        until: Callable[[], bool] | None = None,
        poll: float = 0.1,
        limit: float = 600.0,
    ) -> None:
        """Start the dispatcher and run virtual time until nothing is pending and no wave is
        running (or until ``until()``)."""

        def done() -> bool:
            if until is not None:
                return until()
            snap = dispatcher.snapshot()
            return snap["outbox"]["pending"] == 0 and not snap["current_waves"]

        async def scenario() -> None:
            await dispatcher.start()
            dispatcher.wake()
            while not done():
                await self.vt.sleep(poll)

        await self.vt.run(scenario(), limit=limit)

    async def close(self, *dispatchers: Dispatcher) -> None:
        for d in dispatchers:
            await d.stop()
        await self.client.aclose()
        self.store.close()
