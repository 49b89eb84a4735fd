"""Each strategy's ordering and timing, judged at the fake server's arrivals (virtual time)."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path

import pytest

from bot.notify.metrics import lower_bound
from tests.bot.discord.fakediscord import max_in_window
from tests.bot.notify.helpers import Rig, dm_of, seed_wave


def one_message_per_player(rig: Rig, players: int) -> None:
    messages = rig.server.all_messages()
    per_channel = Counter(m.channel_id for m in messages)
    assert len(per_channel) == players
    assert set(per_channel.values()) == {1}
    assert all(m.body["content"].startswith("match_details") for m in messages)


def phase_times(rig: Rig) -> tuple[list[float], list[float]]:
    """Arrival times of accepted phase-1 edits and accepted phase-2 creates."""
    edits = rig.server.accepted("webhook_edit") + rig.server.accepted("channel_edit")
    creates = rig.server.accepted("message_create")
    return [a.at for a in edits], [a.at for a in creates]


async def test_paced_wave_of_50_matches_is_clean_and_near_the_bound(rig: Rig) -> None:
    rng = random.Random(1)
    rig.server.latency = lambda: rng.uniform(0.0, 0.04)
    start = rig.clock.monotonic()
    seed_wave(rig.store, rig.clock, 50)
    dispatcher = rig.dispatcher("paced")
    await rig.drain(dispatcher)
    metrics = dispatcher.snapshot()["recent_waves"][0]
    await dispatcher.stop()

    assert rig.server.count_429() == 0
    one_message_per_player(rig, 100)
    assert len(rig.server.webhook_edits) == 100  # phase 1 through the exempt webhook
    assert max_in_window(rig.server.counted_arrivals()) <= 50
    phase1, phase2 = phase_times(rig)
    assert max(phase1) < min(phase2)
    bound = lower_bound(100, 50)
    assert bound == 1.0
    assert max(phase2) - start <= 1.10 * bound + 0.5
    assert metrics["makespan"] == pytest.approx(max(phase2) - start, abs=1e-3)
    assert metrics["rate_limited"] == {} and metrics["retries"] == 0


@pytest.mark.parametrize(
    ("matches", "limit", "expired"),
    [(200, 50, False), (200, 50, True), (60, 7, True), (25, 13, False)],
)
async def test_paced_never_sends_more_than_the_limit_in_any_second(
    tmp_path: Path, matches: int, limit: int, expired: bool
) -> None:
    rng = random.Random(matches + limit)
    rig = Rig(tmp_path, global_limit=limit)
    rig.server.latency = lambda: rng.uniform(0.0, 0.04)
    try:
        seed_wave(rig.store, rig.clock, matches, token_age=900.0 if expired else 5.0)
        dispatcher = rig.dispatcher("paced")
        await rig.drain(dispatcher)
        await dispatcher.stop()
    finally:
        await rig.close()
    counted = rig.server.counted_arrivals()
    assert len(counted) == 2 * matches * (2 if expired else 1)
    assert max_in_window(counted) <= limit
    assert rig.server.count_429() == 0
    one_message_per_player(rig, 2 * matches)


@pytest.mark.parametrize("strategy", ["paced", "batched", "sequential"])
@pytest.mark.parametrize("expired", [False, True])
async def test_phase_one_finishes_before_any_phase_two_call(
    tmp_path: Path, strategy: str, expired: bool
) -> None:
    rng = random.Random(5)
    rig = Rig(tmp_path, global_limit=20)
    rig.server.latency = lambda: rng.uniform(0.005, 0.03)
    try:
        seed_wave(rig.store, rig.clock, 30, token_age=1000.0 if expired else 1.0)
        dispatcher = rig.dispatcher(strategy)
        await rig.drain(dispatcher)
        await dispatcher.stop()
    finally:
        await rig.close()
    phase1, phase2 = phase_times(rig)
    assert len(phase1) == 60 and len(phase2) == 60
    every_create = [a.at for a in rig.server.arrivals if a.kind == "message_create"]
    assert max(phase1) < min(every_create)
    one_message_per_player(rig, 60)


async def test_batched_releases_exactly_ten_matches_per_second(rig: Rig) -> None:
    start = rig.clock.monotonic()
    seed_wave(rig.store, rig.clock, 35)
    dispatcher = rig.dispatcher("batched")
    await rig.drain(dispatcher)
    await dispatcher.stop()
    creates = rig.server.accepted("message_create")
    by_time = Counter(round(a.at - start, 6) for a in creates)
    # Phase 1 ends at t=0 (no latency); 0.1 s pause; then 10 matches (20 creates) per 1.0 s.
    assert sorted(by_time.items()) == [(0.1, 20), (1.1, 20), (2.1, 20), (3.1, 10)]
    matches_by_batch: dict[float, set[int]] = {}
    for a in creates:
        player = a.body["content"].split(" p")[1]
        match = a.body["content"].split(" m")[1].split(" ")[0]
        matches_by_batch.setdefault(round(a.at - start, 6), set()).add(int(match))
        assert int(player) > 0
    assert [len(v) for _, v in sorted(matches_by_batch.items())] == [10, 10, 10, 5]
    one_message_per_player(rig, 70)


async def test_batched_sizes_and_interval_are_configurable(rig: Rig) -> None:
    start = rig.clock.monotonic()
    seed_wave(rig.store, rig.clock, 9)
    dispatcher = rig.dispatcher("batched", batch_matches=4, batch_interval=0.5, batch_pause=0.25)
    await rig.drain(dispatcher)
    await dispatcher.stop()
    by_time = Counter(round(a.at - start, 6) for a in rig.server.accepted("message_create"))
    assert sorted(by_time.items()) == [(0.25, 8), (0.75, 8), (1.25, 2)]


async def test_sequential_sends_one_call_at_a_time_in_outbox_order(rig: Rig) -> None:
    rig.server.latency = lambda: 0.02
    start = rig.clock.monotonic()
    seed_wave(rig.store, rig.clock, 5)
    dispatcher = rig.dispatcher("sequential")
    await rig.drain(dispatcher)
    await dispatcher.stop()
    arrivals = rig.server.arrivals
    assert [a.kind for a in arrivals] == ["webhook_edit"] * 10 + ["message_create"] * 10
    gaps = [b.at - a.at for a, b in itertools.pairwise(arrivals)]
    assert all(g == pytest.approx(0.02) for g in gaps)  # each awaited before the next left
    assert arrivals[-1].at - start == pytest.approx(20 * 0.02)
    channels = [int(a.path.split("/")[2]) for a in arrivals[10:]]
    assert channels == sorted(channels)  # outbox (id) order


async def test_naive_trips_the_limit_yet_delivers_everything_exactly_once(rig: Rig) -> None:
    rng = random.Random(9)
    rig.server.latency = lambda: rng.uniform(0.02, 0.06)
    start = rig.clock.monotonic()
    seed_wave(rig.store, rig.clock, 50)
    dispatcher = rig.dispatcher("naive")
    await rig.drain(dispatcher)
    metrics = dispatcher.snapshot()["recent_waves"][0]
    await dispatcher.stop()
    creates = [a for a in rig.server.arrivals if a.kind in ("message_create", "global_429")]
    # Everything left at once: the first 100 creates all arrived within one latency spread.
    assert sum(1 for a in creates if a.at - start < 0.15) >= 100
    assert rig.server.count_429() > 0
    assert metrics["rate_limited"].get("global", 0) == rig.server.count_429()
    assert metrics["retries"] >= rig.server.count_429()
    assert (metrics["needed_counted"], metrics["lower_bound"]) == (100, 1.0)  # retries aside
    one_message_per_player(rig, 100)
    assert rig.store.outbox_counts() == {"pending": 0, "delivered": 200, "failed": 0}
    # ...and one player's details never overtook their "match found" edit.
    for pid in range(1, 101):
        edit = next(a.at for a in rig.server.arrivals if f"/tok{pid}/" in a.path)
        create = min(
            a.at for a in rig.server.accepted("message_create") if str(dm_of(pid)) in a.path
        )
        assert edit < create
