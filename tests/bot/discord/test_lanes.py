"""Priority lanes: higher lanes first, no head-of-line blocking across buckets."""

from __future__ import annotations

import asyncio
import dataclasses

from bot.clock import ManualClock
from bot.discord import GlobalConfig, Lane, Limiter, LimiterConfig, Route
from tests.bot.discord.scripted import VIA, bucket_headers
from tests.bot.discord.vtime import VirtualTime


def message_route(channel: int) -> Route:
    return Route("POST", "/channels/{channel_id}/messages", {"channel_id": channel})


def limiter_for(clock: ManualClock, vt: VirtualTime, limit: int = 5) -> Limiter:
    config = LimiterConfig(global_budget=GlobalConfig(limit=limit, margin=0.0))
    return Limiter(clock=clock, config=config, sleep=vt.sleep)


async def send(
    limiter: Limiter, route: Route, lane: Lane, log: list[tuple[str, float]], name: str,
    headers: dict[str, str] | None = None,
) -> None:  # fmt: skip
    async with limiter.acquire(route, lane) as permit:
        log.append((name, limiter.clock.monotonic()))
        permit.update(200, headers or dict(VIA))


async def test_urgent_goes_before_background_while_it_has_budget(
    clock: ManualClock, vt: VirtualTime
) -> None:
    limiter = limiter_for(clock, vt, limit=5)
    log: list[tuple[str, float]] = []
    t0 = clock.monotonic()

    async def scenario() -> None:
        # Fill the first window, then queue background work BEFORE urgent work.
        fill = [send(limiter, message_route(i), Lane.NORMAL, log, "fill") for i in range(5)]
        background = [
            send(limiter, message_route(100 + i), Lane.BACKGROUND, log, "bg") for i in range(8)
        ]
        urgent = [
            send(limiter, message_route(200 + i), Lane.URGENT, log, "urgent") for i in range(8)
        ]
        await asyncio.gather(*fill, *background, *urgent)

    await vt.run(scenario())
    await limiter.aclose()
    order = [name for name, _ in log]
    assert order[:5] == ["fill"] * 5
    assert order[5:13] == ["urgent"] * 8  # every urgent request before any background one
    assert order[13:] == ["bg"] * 8
    urgent_times = [round(t - t0, 6) for name, t in log if name == "urgent"]
    assert urgent_times == [1.0] * 5 + [2.0] * 3  # as fast as the budget allows
    bg_times = [round(t - t0, 6) for name, t in log if name == "bg"]
    assert bg_times[0] == 2.0  # background fills the two slots urgent left in that window


async def test_bucket_blocked_urgent_request_does_not_block_another_bucket(
    clock: ManualClock, vt: VirtualTime
) -> None:
    limiter = limiter_for(clock, vt, limit=50)
    log: list[tuple[str, float]] = []
    t0 = clock.monotonic()

    async def scenario() -> None:
        # Channel 1's bucket answers "0 remaining for 5 s".
        await send(limiter, message_route(1), Lane.URGENT, log, "teach", bucket_headers(0, 5.0))
        await asyncio.gather(
            send(limiter, message_route(1), Lane.URGENT, log, "blocked"),
            send(limiter, message_route(2), Lane.URGENT, log, "free"),
            send(limiter, message_route(3), Lane.BACKGROUND, log, "bg-free"),
        )

    await vt.run(scenario())
    await limiter.aclose()
    when = {name: round(t - t0, 3) for name, t in log}
    assert when["free"] == 0.0 and when["bg-free"] == 0.0
    assert 5.0 <= when["blocked"] <= 5.02


async def test_background_share_keeps_room_for_urgent_work_arriving_later(
    clock: ManualClock, vt: VirtualTime
) -> None:
    limiter = limiter_for(clock, vt, limit=10)  # background may use 80 %: 8 per window
    log: list[tuple[str, float]] = []
    t0 = clock.monotonic()

    async def scenario() -> None:
        background = [
            asyncio.ensure_future(send(limiter, message_route(i), Lane.BACKGROUND, log, "bg"))
            for i in range(30)
        ]
        await vt.sleep(0.1)
        await asyncio.gather(
            *(send(limiter, message_route(100 + i), Lane.URGENT, log, "urgent") for i in range(2))
        )
        await asyncio.gather(*background)

    await vt.run(scenario())
    await limiter.aclose()
    assert [round(t - t0, 3) for name, t in log if name == "urgent"] == [0.1, 0.1]
    assert sum(1 for name, t in log if name == "bg" and t - t0 < 1.0) == 8


async def test_snapshot_shows_lanes_buckets_and_global_use(
    clock: ManualClock, vt: VirtualTime
) -> None:
    limiter = limiter_for(clock, vt, limit=3)
    granted = asyncio.Event()
    release = asyncio.Event()

    async def hold(channel: int, lane: Lane) -> None:
        async with limiter.acquire(message_route(channel), lane) as permit:
            granted.set()
            await release.wait()
            permit.update(200, {**VIA, **bucket_headers(4, 5.0)})

    tasks = [asyncio.ensure_future(hold(i, Lane.URGENT)) for i in range(5)]
    tasks.append(asyncio.ensure_future(hold(99, Lane.BACKGROUND)))
    await vt.settle()
    snap = limiter.snapshot()
    lanes = {lane.lane: lane for lane in snap.lanes}
    assert (lanes["urgent"].in_flight, lanes["urgent"].queued) == (3, 2)
    assert lanes["background"].queued == 1
    assert snap.global_used_last_second == 3 and snap.global_limit == 3
    assert snap.in_flight == 3
    assert snap.to_dict()["lanes"][1]["lane"] == "urgent"
    assert snap.to_dict() == dataclasses.asdict(snap)  # the hand-built dict, same value
    release.set()
    await vt.run(asyncio.gather(*tasks))
    snap = limiter.snapshot()
    assert snap.counters["requests_by_lane"] == {"urgent": 5, "background": 1}
    assert any(b.bucket_hash == "c" * 32 and b.limit == 5 for b in snap.buckets)
    assert snap.to_dict() == dataclasses.asdict(snap)
    # The busiest buckets first, at most max_buckets of them.
    assert [b.major for b in limiter.snapshot(max_buckets=1).buckets] == [snap.buckets[0].major]
    await limiter.aclose()


async def test_cancelled_waiter_leaves_the_queue(clock: ManualClock, vt: VirtualTime) -> None:
    limiter = limiter_for(clock, vt, limit=1)
    log: list[tuple[str, float]] = []
    await send(limiter, message_route(1), Lane.NORMAL, log, "first")
    waiting = asyncio.ensure_future(send(limiter, message_route(2), Lane.NORMAL, log, "cancel"))
    later = asyncio.ensure_future(send(limiter, message_route(3), Lane.NORMAL, log, "later"))
    await vt.settle()
    waiting.cancel()
    await vt.run(later)
    assert [name for name, _ in log] == ["first", "later"]
    assert limiter.snapshot().lanes[Lane.NORMAL].queued == 0
    await limiter.aclose()
