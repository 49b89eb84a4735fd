"""Reactive-only requests (``paced=False``) and the per-attempt observer."""

from __future__ import annotations

import asyncio

from bot.clock import ManualClock
from bot.discord import Attempt, DiscordClient, GlobalConfig, LimiterConfig, Route
from tests.bot.discord.fakediscord import FakeDiscord
from tests.bot.discord.vtime import VirtualTime

BASE = "https://discord.test/api/v10"


def make(clock: ManualClock, vt: VirtualTime, fake: FakeDiscord) -> DiscordClient:
    return DiscordClient(
        "t0k",
        BASE,
        clock=clock,
        transport=fake.transport(),
        sleep=vt.sleep,
        limiter_config=LimiterConfig(global_budget=GlobalConfig(limit=10, margin=0.05)),
    )


async def test_unpaced_requests_ignore_estimates_and_wait_only_for_429_pauses(
    clock: ManualClock, vt: VirtualTime
) -> None:
    fake = FakeDiscord(clock, vt, global_limit=10, latency=lambda: 0.01)
    start = clock.monotonic()
    async with make(clock, vt, fake) as client:
        calls = [
            client.request(
                Route("POST", "/channels/{channel_id}/messages", {"channel_id": 100 + i}),
                json={"content": "x"},
                paced=False,
            )
            for i in range(15)
        ]
        await vt.run(asyncio.gather(*calls))
        counters = client.limiter.snapshot().counters
    first = [a for a in fake.arrivals if a.at - start < 0.02]
    assert len(first) == 15  # all left at once: no proactive pacing
    assert sum(1 for a in fake.arrivals if a.status == 429) == 5
    assert counters["rate_limited"] == {"global": 5}
    retried = [a.at - start for a in fake.arrivals[15:]]
    assert len(retried) == 5 and min(retried) >= 1.0  # they waited out the global pause
    assert fake.statuses().count(200) == 15


async def test_paced_requests_of_the_same_burst_never_429(
    clock: ManualClock, vt: VirtualTime
) -> None:
    fake = FakeDiscord(clock, vt, global_limit=10, latency=lambda: 0.01)
    async with make(clock, vt, fake) as client:
        await vt.run(asyncio.gather(*(client.create_message(100 + i, "x") for i in range(15))))
    assert fake.statuses() == [200] * 15


async def test_observer_sees_every_attempt_with_its_outcome(
    clock: ManualClock, vt: VirtualTime
) -> None:
    fake = FakeDiscord(clock, vt, global_limit=10)
    seen: list[Attempt] = []

    async with make(clock, vt, fake) as client:
        route = Route("POST", "/channels/{channel_id}/messages", {"channel_id": 7})
        calls = [
            client.request(route, json={"content": "x"}, paced=False, observe=seen.append)
            for _ in range(6)
        ]
        await vt.run(asyncio.gather(*calls))
    assert len(seen) == len(fake.arrivals) == 7  # 6 calls, one retried after a user 429
    assert [a.status for a in seen].count(429) == 1
    (limited,) = [a for a in seen if a.status == 429]
    assert limited.rate_limit == "user" and limited.counted and not limited.retry
    assert sum(1 for a in seen if a.retry) == 1
