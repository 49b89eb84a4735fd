"""The service's timers and lifecycle, on a manual clock (no real waiting)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from bot.clock import ManualClock
from bot.discord import DMsClosed, Lane
from bot.ladder import MatchState, NotificationKind, PlayerState
from tests.bot.app.conftest import APP_ID, Harness, make_harness, option

STRING = 3


class SteppedSleep:
    """An injected ``sleep`` that moves the manual clock instead of waiting, and lets the
    test stop a loop after a number of sleeps."""

    def __init__(self, clock: ManualClock, stop_after: int) -> None:
        self.clock = clock
        self.delays: list[float] = []
        self.stop_after = stop_after
        self.done = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        if len(self.delays) >= self.stop_after:
            self.done.set()
            await asyncio.Event().wait()  # park until cancelled
        self.delays.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


async def queue(h: Harness, user: int, race: str) -> dict:
    name = "bw_race" if race.startswith("bw") else "sc2_race"
    payload = h.command(user, "queue", [option(name, STRING, race)])
    status, _ = await h.post(payload)
    assert status == 200
    return payload


async def test_waves_fall_on_unix_multiples_of_the_interval(tmp_path: Path) -> None:
    clock = ManualClock(start=1000.0, wall_start=1_700_000_012.5)
    async with make_harness(tmp_path, clock, wave_interval=45) as h:
        sleep = SteppedSleep(clock, stop_after=3)
        h.service._sleep = sleep
        await queue(h, 1, "bw_zerg")
        await queue(h, 2, "sc2_zerg")
        loop = asyncio.create_task(h.service._wave_loop())
        await sleep.done.wait()
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        waves = sorted(h.store.recent_waves(), key=lambda w: w.id)
        assert [w.started_at for w in waves] == [1_700_000_055.0, 1_700_000_100.0, 1_700_000_145.0]
        assert all(w.started_at % 45 == 0 for w in waves)
        assert sleep.delays[0] == 1_700_000_055.0 - 1_700_000_012.5
        assert waves[0].matches == 1 and waves[1].matches == 0


async def test_manual_waves_only_when_the_interval_is_zero(harness: Harness) -> None:
    await harness.service.start()
    names = {t.get_name() for t in harness.service._loops}
    assert names == {"sweeper"}  # no wave timer, and heartbeat_interval is 0 here
    assert harness.service.next_wave_at() is None
    assert harness.dispatcher.started


async def test_sweeper_expires_overdue_matches_at_start_up(tmp_path: Path) -> None:
    clock = ManualClock(start=1000.0, wall_start=1_700_000_000.0)
    async with make_harness(tmp_path, clock, confirm_timeout=60) as h:
        await queue(h, 1, "bw_zerg")
        await queue(h, 2, "sc2_zerg")
        (match,) = (await h.service.run_wave()).matches
        assert await h.service.sweep() == 0
        clock.advance(61)  # as if the bot had been down past the deadline
        await h.service.start()
        stored = h.store.get_match(match.id)
        assert stored is not None and stored.state is MatchState.ABORTED
        assert stored.end_reason.value == "confirm_timeout"
        for player in (1, 2):
            assert h.store.player_status(player).state is PlayerState.IDLE
            assert h.store.get_player(player).remaining_aborts == 3
        aborted = [i for i in h.store.pending() if i.kind is NotificationKind.ABORTED]
        assert sorted(i.player_id for i in aborted) == [1, 2]


async def test_sweeper_loop_wakes_at_the_next_deadline(tmp_path: Path) -> None:
    clock = ManualClock(start=1000.0, wall_start=1_700_000_000.0)
    async with make_harness(tmp_path, clock, confirm_timeout=2.5, sweep_interval=10) as h:
        await queue(h, 1, "bw_zerg")
        await queue(h, 2, "sc2_zerg")
        (match,) = (await h.service.run_wave()).matches
        sleep = SteppedSleep(clock, stop_after=2)
        h.service._sleep = sleep
        loop = asyncio.create_task(h.service._sweep_loop())
        await sleep.done.wait()
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        assert sleep.delays[0] == 2.5  # not the 10 s sweep interval
        assert h.store.get_match(match.id).state is MatchState.ABORTED


async def test_heartbeat_refreshes_queued_players_on_the_background_lane(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with make_harness(tmp_path, clock, heartbeat_interval=22.5, wave_interval=45) as h:
        tokens = {user: (await queue(h, user, race))["token"] for user, race in
                  ((1, "bw_zerg"), (2, "sc2_zerg"), (3, "bw_terran"))}  # fmt: skip
        await h.service.drain()
        h.discord.calls.clear()
        assert h.service.heartbeat.beat() == 3
        await asyncio.gather(*h.service.heartbeat._inflight.values())
        edited = sorted(c.path for c in h.discord.calls)
        expected = sorted(
            f"/api/v10/webhooks/{APP_ID}/{token}/messages/@original" for token in tokens.values()
        )
        assert edited == expected
        assert all("Searching for a match" in c.body["content"] for c in h.discord.calls)
        lanes = {lane.lane: lane.released for lane in h.service.client.limiter.snapshot().lanes}
        assert lanes["background"] == 3

        # Player 2 leaves and 1 and 3 are matched: the heartbeat stops for all of them.
        status, _ = await h.post(h.command(2, "leave"))
        assert status == 200
        await queue(h, 4, "sc2_terran")
        await h.service.run_wave()
        await h.service.drain()
        h.discord.calls.clear()
        remaining = [r.player_id for r in h.store.queue_rows()]
        assert h.service.heartbeat.beat() == len(remaining)
        await asyncio.gather(*h.service.heartbeat._inflight.values())
        assert len(h.discord.calls) == len(remaining) == 1
        assert h.service.heartbeat.counters["edits"] == 4


async def test_heartbeat_survives_errors_and_falls_back_after_the_token_expires(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with make_harness(tmp_path, clock, heartbeat_interval=22.5, token_lifetime=900) as h:
        await queue(h, 1, "bw_zerg")
        await h.service.drain()
        row = h.store.queue_entry(1)
        assert row is not None and row.interaction.message_id is not None
        h.discord.on(
            lambda r: r.method == "PATCH",
            lambda r: httpx.Response(404, json={"message": "Unknown Message", "code": 10008}),
        )
        h.service.heartbeat.beat()
        await asyncio.gather(*h.service.heartbeat._inflight.values())
        assert h.service.heartbeat.counters["errors"] == 1
        h.discord.overrides.clear()
        clock.advance(900)  # the /queue token is too old now: use the bot token
        h.discord.calls.clear()
        h.service.heartbeat.beat()
        await asyncio.gather(*h.service.heartbeat._inflight.values())
        (call,) = h.discord.calls
        channel, message = row.interaction.channel_id, row.interaction.message_id
        assert call.path == f"/api/v10/channels/{channel}/messages/{message}"
        assert h.service.heartbeat.counters["edits"] == 1


async def test_heartbeat_run_loop_keeps_going(tmp_path: Path, clock: ManualClock) -> None:
    async with make_harness(tmp_path, clock, heartbeat_interval=22.5) as h:
        await queue(h, 1, "bw_zerg")
        sleep = SteppedSleep(clock, stop_after=3)
        h.service.heartbeat._sleep = sleep
        original = h.service.heartbeat.beat
        calls = 0

        def flaky_beat() -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("database hiccup")
            return original()

        h.service.heartbeat.beat = flaky_beat  # type: ignore[method-assign]
        loop = asyncio.create_task(h.service.heartbeat.run())
        await sleep.done.wait()
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        assert sleep.delays == [22.5, 22.5, 22.5]
        assert calls == 3 and h.service.heartbeat.counters["cycles"] == 2


async def test_a_wave_cancels_unsent_heartbeat_edits(tmp_path: Path, clock: ManualClock) -> None:
    async with make_harness(tmp_path, clock, heartbeat_interval=22.5) as h:
        await queue(h, 1, "bw_zerg")
        await queue(h, 2, "sc2_zerg")
        await h.service.drain()
        never = asyncio.Event()

        async def hang(request: httpx.Request) -> httpx.Response:
            await never.wait()
            return httpx.Response(200, json={"id": "1"})

        h.discord.on(lambda r: r.method == "PATCH", hang)
        assert h.service.heartbeat.beat() == 2
        await asyncio.sleep(0)
        result = await h.service.run_wave()
        assert len(result.matches) == 1
        assert h.service.heartbeat.in_flight == 0
        assert h.service.heartbeat.counters["cancelled"] == 2
        assert h.service.heartbeat.beat() == 0  # nobody is queued any more


async def test_undeliverable_details_release_the_match(harness: Harness) -> None:
    await queue(harness, 1, "bw_zerg")
    await queue(harness, 2, "sc2_zerg")
    (match,) = (await harness.service.run_wave()).matches
    (item,) = [
        i
        for i in harness.store.pending()
        if i.kind is NotificationKind.MATCH_DETAILS and i.player_id == 2
    ]
    await harness.service.on_undeliverable(
        item, DMsClosed(403, 50007, "Cannot send messages to this user")
    )
    stored = harness.store.get_match(match.id)
    assert stored is not None and stored.state is MatchState.ABORTED
    assert stored.end_reason.value == "confirm_timeout"
    assert harness.store.player_status(1).state is PlayerState.IDLE
    assert harness.store.get_player(2).remaining_aborts == 3
    # A second report for the same match changes nothing.
    await harness.service.on_undeliverable(item, DMsClosed(403, 50007, "again"))
    assert harness.store.get_match(match.id).version == stored.version


async def test_status_reports_lanes_and_timers(harness: Harness) -> None:
    response = await harness.http.get("/status")
    body = await response.json()
    json.dumps(body)
    assert body["heartbeat"]["interval"] == 0
    assert body["waves"]["next_wave_at"] is None
    assert {lane["lane"] for lane in body["limiter"]["lanes"]} == {lane.label for lane in Lane}
