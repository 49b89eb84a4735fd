"""The limiter against a server that judges arrivals: buckets learned, no 429s, fast."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import ManualClock
from bot.discord import DiscordClient
from tests.bot.discord.fakediscord import FakeDiscord
from tests.bot.discord.vtime import VirtualTime

BASE = "https://discord.test/api/v10"


def make_client(clock: ManualClock, vt: VirtualTime, fake: FakeDiscord) -> DiscordClient:
    return DiscordClient("t0k", BASE, clock=clock, transport=fake.transport(), sleep=vt.sleep)


@pytest.mark.parametrize(
    ("sliding", "expected_makespan"),
    [(True, 7.0), (False, 10.0)],
    ids=["sliding", "fixed"],
)
async def test_twelve_sends_to_one_channel_never_429_and_match_the_best_client(
    clock: ManualClock, vt: VirtualTime, sliding: bool, expected_makespan: float
) -> None:
    # DISCORD_RATE_LIMITS.md §9: hikari 0 x 429 in 7.0 s (sliding) / 10.0 s (fixed).
    fake = FakeDiscord(clock, vt, sliding=sliding)
    start = clock.monotonic()
    async with make_client(clock, vt, fake) as client:
        await vt.run(
            asyncio.gather(*(client.create_message(123456789012345678, f"m{i}") for i in range(12)))
        )
        bucket = client.limiter.snapshot().buckets[0]
        assert bucket.sliding is sliding
    assert fake.statuses() == [200] * 12
    makespan = fake.arrivals[-1].at - start
    assert expected_makespan <= makespan <= expected_makespan + 0.1


async def test_two_channels_with_the_same_hash_keep_separate_counters(
    clock: ManualClock, vt: VirtualTime
) -> None:
    fake = FakeDiscord(clock, vt)
    async with make_client(clock, vt, fake) as client:
        sends = [client.create_message(channel, "x") for channel in (111, 222) for _ in range(5)]
        await vt.run(asyncio.gather(*sends))
        snap = client.limiter.snapshot()
    assert fake.statuses() == [200] * 10
    # Ten messages, five per channel: all fit at once, because the counters are separate.
    assert max(a.at for a in fake.arrivals) - min(a.at for a in fake.arrivals) < 0.01
    learned = {(b.major, b.bucket_hash) for b in snap.buckets if b.bucket_hash}
    assert {major for major, _ in learned} == {"channel_id=111", "channel_id=222"}
    assert len({h for _, h in learned}) == 1


async def test_create_and_edit_with_the_same_hash_keep_separate_counters(
    clock: ManualClock, vt: VirtualTime
) -> None:
    fake = FakeDiscord(clock, vt)
    async with make_client(clock, vt, fake) as client:
        creates = [client.create_message(111, "x") for _ in range(5)]
        edits = [client.edit_message(111, 999, content="y") for _ in range(5)]
        await vt.run(asyncio.gather(*creates, *edits))
        hashes = {b.route: b.bucket_hash for b in client.limiter.snapshot().buckets}
    assert fake.statuses() == [200] * 10
    assert max(a.at for a in fake.arrivals) - min(a.at for a in fake.arrivals) < 0.01
    assert (
        hashes["POST /channels/{channel_id}/messages"]
        == hashes["PATCH /channels/{channel_id}/messages/{message_id}"]
    )


async def test_unknown_bucket_allows_one_in_flight_until_learned(
    clock: ManualClock, vt: VirtualTime
) -> None:
    fake = FakeDiscord(clock, vt, latency=lambda: 0.1)
    async with make_client(clock, vt, fake) as client:
        await vt.run(asyncio.gather(*(client.create_message(111, "x") for _ in range(5))))
    first, *rest = [a.at - fake.arrivals[0].at for a in fake.arrivals]
    # The first request goes alone; the four others wait for its response (the fake's
    # round trip is its 0.1 s request latency), then go together.
    assert first == 0.0
    assert all(0.1 <= t < 0.11 for t in rest), rest
    assert fake.statuses() == [200] * 5


async def test_interaction_callbacks_learn_they_have_no_bucket(
    clock: ManualClock, vt: VirtualTime
) -> None:
    fake = FakeDiscord(clock, vt, latency=lambda: 0.05)
    async with make_client(clock, vt, fake) as client:
        await vt.run(client.create_interaction_response(1, "tok1", 5))
        t0 = clock.monotonic()
        calls = [client.create_interaction_response(i, f"tok{i}", 5) for i in range(2, 80)]
        await vt.run(asyncio.gather(*calls))
        snap = client.limiter.snapshot()
    # 78 callbacks at once: no bucket, no global budget, so all leave at the same instant.
    assert all(a.at == t0 + 0.05 for a in fake.arrivals[1:])
    assert snap.counters["exempt"] == 79 and snap.counters["counted"] == 0
    assert snap.counters["requests_by_lane"] == {"interaction": 79}
