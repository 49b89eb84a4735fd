"""Slots freed from the server's stamps: tighter than response times, never unsafe."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.discord import GlobalConfig
from bot.discord.server_time import ServerTime, server_stamp
from tests.bot.discord.fakediscord import FakeDiscord, max_in_window
from tests.bot.discord.vtime import VirtualTime

# ------------------------------------------------------------------------------- the estimate


def test_the_stamp_is_reset_minus_reset_after() -> None:
    assert server_stamp(1_700_000_010.250, 5.0) == pytest.approx(1_700_000_005.250)
    assert server_stamp(None, 5.0) is None
    assert server_stamp(1_700_000_010.0, None) is None
    assert server_stamp(1_700_000_010.0, -1.0) is None


def test_without_a_stamp_or_when_off_the_bound_is_the_response_time() -> None:
    estimate = ServerTime()
    assert estimate.arrived_by(10.0, None) == 10.0
    off = ServerTime(enabled=False)
    assert off.arrived_by(10.0, 5_000.0) == 10.0
    assert off.offset_floor(10.0) is None


def test_the_quickest_reply_sets_the_offset_and_slow_replies_are_placed_by_it() -> None:
    # Server clock = ours + 5000. A reply that came straight back (stamped 0.001 s before we
    # read it) fixes the offset; one that spent 0.2 s on its way back is then placed 0.2 s
    # before its response, within the 1 ms the quick reply left uncertain.
    estimate = ServerTime()
    assert estimate.arrived_by(1.001, 5_001.000) == pytest.approx(1.001)
    assert estimate.offset_floor(1.001) == pytest.approx(4_999.999)
    assert estimate.arrived_by(2.300, 5_002.100) == pytest.approx(2.101)


def test_the_bound_is_never_later_than_the_response() -> None:
    estimate = ServerTime()
    estimate.observe(1.0, 5_001.0)  # offset 5000
    # A stamp that claims the request was counted after we read the reply raises the floor
    # instead: the bound is the response time.
    assert estimate.arrived_by(2.0, 5_002.5) == 2.0
    assert estimate.offset_floor(2.0) == pytest.approx(5_000.5)


def test_samples_older_than_the_horizon_no_longer_bound_the_offset() -> None:
    estimate = ServerTime(horizon=30.0)
    estimate.observe(0.0, 5_000.0)  # offset 5000 (a quick reply)
    estimate.observe(20.0, 5_019.9)  # offset 4999.9 (a slow one)
    assert estimate.offset_floor(29.0) == pytest.approx(5_000.0)
    assert estimate.offset_floor(31.0) == pytest.approx(4_999.9)
    assert estimate.offset_floor(51.0) is None


def test_distrust_turns_the_stamps_off_for_good() -> None:
    estimate = ServerTime()
    estimate.observe(1.0, 5_001.0)
    estimate.distrust("a paced request got a global 429")
    assert estimate.arrived_by(2.3, 5_002.1) == 2.3
    assert estimate.snapshot(2.3)["distrusted_because"] == "a paced request got a global 429"


@pytest.mark.parametrize("horizon", [0.0, -1.0])
def test_a_horizon_must_be_positive(horizon: float) -> None:
    with pytest.raises(ValueError, match="horizon"):
        ServerTime(horizon=horizon)


# ----------------------------------------------------------------------- against a judging server


async def _burst(
    clock: ManualClock, vt: VirtualTime, fake: FakeDiscord, config: GlobalConfig, count: int
) -> tuple[list[float], str]:
    start = clock.monotonic()
    async with fake.client(config) as client:
        await vt.run(
            asyncio.gather(*(client.create_message(10_000 + i, "x") for i in range(count)))
        )
        anchor = client.limiter.snapshot().global_anchor
    return sorted(a.at - start for a in fake.arrivals), anchor


async def test_slow_replies_no_longer_delay_the_next_block(
    clock: ManualClock, vt: VirtualTime
) -> None:
    # Requests arrive at once; the first reply comes straight back, every other one takes
    # 0.2 s (queued behind it). Held from the response, the second block of 50 arrives at
    # 0.2 + 1.0 + margin; held from the server's stamp, at 1.0 + margin (plus at most 1 ms
    # of stamp rounding): the quick reply pinned the offset between the clocks.
    config = GlobalConfig(limit=50, margin=0.01)
    replies = iter([0.0])
    fake = FakeDiscord(clock, vt, global_limit=50, return_latency=lambda: next(replies, 0.2))
    times, anchor = await _burst(clock, vt, fake, config, 100)
    assert fake.statuses() == [200] * 100
    assert anchor == "server"
    assert times[:50] == [0.0] * 50
    assert all(1.009 <= t <= 1.012 for t in times[50:]), times[50:]
    assert max_in_window(times) == 50


async def test_held_from_responses_the_same_burst_pays_the_replies_trip(vt: VirtualTime) -> None:
    clock = vt.clock
    config = GlobalConfig(limit=50, margin=0.01, server_time=False)
    replies = iter([0.0])
    fake = FakeDiscord(clock, vt, global_limit=50, return_latency=lambda: next(replies, 0.2))
    times, anchor = await _burst(clock, vt, fake, config, 100)
    assert fake.statuses() == [200] * 100
    assert anchor == "response"
    assert times[50] == pytest.approx(1.01)  # the slot of the quick reply
    assert all(t == pytest.approx(1.21) for t in times[51:])


async def test_stamps_from_a_clock_that_wanders_trip_the_server_once_then_fall_back(
    clock: ManualClock, vt: VirtualTime
) -> None:
    # A server whose header stamps wander up to 0.3 s from the clock that judges the window:
    # the bound is wrong, a paced request gets a global 429, and the limiter stops trusting
    # the stamps (responses again). Everything is still delivered.
    rng = random.Random(3)
    fake = FakeDiscord(
        clock,
        vt,
        global_limit=50,
        return_latency=lambda: rng.uniform(0.0, 0.3),
        stamp_skew=lambda: -rng.uniform(0.0, 0.3),
    )
    _, anchor = await _burst(clock, vt, fake, GlobalConfig(limit=50), 300)
    assert 429 in fake.statuses()
    assert anchor == "response"
    assert fake.statuses().count(200) == 300


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limit=st.integers(min_value=3, max_value=30),
    count=st.integers(min_value=1, max_value=120),
    send=st.floats(min_value=0.0, max_value=0.3),
    back=st.floats(min_value=0.0, max_value=0.3),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_no_latency_pattern_puts_more_than_the_limit_in_any_window(
    limit: int, count: int, send: float, back: float, seed: int
) -> None:
    # Random delays both ways, on every request independently: the stamp bound holds with
    # the default margin, so the server never sees more than the limit in a window and
    # never answers 429.
    async def scenario() -> tuple[FakeDiscord, str]:
        clock = ManualClock()
        vt = VirtualTime(clock)
        rng = random.Random(seed)
        fake = FakeDiscord(
            clock,
            vt,
            global_limit=limit,
            latency=lambda: rng.uniform(0.0, send),
            return_latency=lambda: rng.uniform(0.0, back),
        )
        _, anchor = await _burst(clock, vt, fake, GlobalConfig(limit=limit), count)
        return fake, anchor

    fake, anchor = asyncio.run(scenario())
    assert fake.statuses() == [200] * count
    assert anchor == "server"
    assert max_in_window(fake.counted_arrivals()) <= limit
