"""Clicks on a match: answered through the callback route inside the match's lock."""

from __future__ import annotations

import asyncio
import json

import httpx

from bot.ladder import MatchState, NotificationKind
from tests.bot.app.conftest import Harness, option

STRING = 3


async def matched_pair(h: Harness, bw: int = 61, sc2: int = 62) -> int:
    await h.post(h.command(bw, "queue", [option("bw_race", STRING, "bw_zerg")]))
    await h.post(h.command(sc2, "queue", [option("sc2_race", STRING, "sc2_zerg")]))
    (match,) = (await h.service.run_wave()).matches
    await h.service.drain()
    h.discord.calls.clear()
    return match.id


def later_items(h: Harness) -> list:
    """Pending outbox items written after the wave (the wave's own are not delivered here)."""
    wave_kinds = (NotificationKind.MATCH_FOUND, NotificationKind.MATCH_DETAILS)
    return [i for i in h.store.pending() if i.kind not in wave_kinds]


def callbacks(h: Harness) -> list[dict]:
    return [c.body for c in h.discord.calls if c.path.endswith("/callback")]


def components(body: dict) -> list[dict]:
    return [c for row in body["data"]["components"] for c in row["components"]]


async def test_confirm_clicks_are_type7_updates_through_the_callback(harness: Harness) -> None:
    match_id = await matched_pair(harness)
    status, body = await harness.post(harness.component(61, f"match:{match_id}:confirm"))
    assert (status, body) == (202, None)  # answered through the callback route
    (first,) = callbacks(harness)
    assert first["type"] == 7
    assert [c["disabled"] for c in components(first)] == [True, True]
    assert "Waiting for your opponent" in first["data"]["embeds"][0]["description"]
    assert later_items(harness) == []  # the first confirmation tells nobody anything

    status, _ = await harness.post(harness.component(62, f"match:{match_id}:confirm"))
    assert status == 202
    second = callbacks(harness)[1]
    (select,) = components(second)
    assert select["custom_id"] == f"match:{match_id}:report" and select["disabled"] is False
    match = harness.store.get_match(match_id)
    assert match is not None and match.state is MatchState.CONFIRMED
    confirmed = [i for i in harness.store.pending() if i.kind is NotificationKind.CONFIRMED]
    assert sorted(i.player_id for i in confirmed) == [61, 62]
    # The clicking player's update draws exactly what the notification will draw.
    from bot.views import render_view

    mine = next(i for i in confirmed if i.player_id == 62)
    assert render_view(mine).data() == second["data"]


async def test_refused_clicks_are_ephemeral_and_change_nothing(harness: Harness) -> None:
    match_id = await matched_pair(harness)
    before = harness.state()
    status, body = await harness.post(harness.component(99, f"match:{match_id}:confirm"))
    assert status == 200 and body["data"]["flags"] == 64
    assert "not a player" in body["data"]["content"]
    status, body = await harness.post(harness.component(61, f"match:{match_id}:report", ["win"]))
    assert "is found" in body["data"]["content"]  # cannot report before confirming
    status, body = await harness.post(harness.component(61, "match:999:confirm"))
    assert "no match #999" in body["data"]["content"]
    assert callbacks(harness) == []
    assert harness.state()[1:] == before[1:]
    assert harness.store.get_player(99) is not None  # only the stranger's profile is new


async def test_reports_complete_the_match_and_update_ratings(harness: Harness) -> None:
    match_id = await matched_pair(harness)
    for user in (61, 62):
        await harness.post(harness.component(user, f"match:{match_id}:confirm"))
    await harness.post(harness.component(61, f"match:{match_id}:report", ["win"]))
    status, _ = await harness.post(harness.component(62, f"match:{match_id}:report", ["loss"]))
    assert status == 202
    last = callbacks(harness)[-1]
    assert components(last) == []
    assert "You lost. Rating 1500 → 1480 (-20)." in last["data"]["embeds"][0]["description"]
    match = harness.store.get_match(match_id)
    assert match is not None and match.state is MatchState.COMPLETED
    assert [r.mmr for r in harness.store.ratings(61).values()] == [1520]
    assert [r.mmr for r in harness.store.ratings(62).values()] == [1480]
    kinds = sorted(i.kind.value for i in later_items(harness))
    assert kinds.count("result") == 2 and "admin_result" in kinds


async def test_abort_uses_one_of_the_players_aborts(harness: Harness) -> None:
    match_id = await matched_pair(harness)
    status, _ = await harness.post(harness.component(62, f"match:{match_id}:abort"))
    assert status == 202
    assert "You aborted the match." in callbacks(harness)[0]["data"]["embeds"][0]["description"]
    assert harness.store.get_player(62).remaining_aborts == 2
    assert harness.store.get_player(61).remaining_aborts == 3
    aborted = [i for i in harness.store.pending() if i.kind is NotificationKind.ABORTED]
    assert sorted(i.player_id for i in aborted) == [61, 62]


async def test_a_transition_waits_until_the_click_answer_is_applied(harness: Harness) -> None:
    """While the first confirmation's callback is in flight, the second confirmation (which
    writes the CONFIRMED edit of the first player's message) must wait for it."""
    match_id = await matched_pair(harness)
    release = asyncio.Event()
    started = asyncio.Event()
    order: list[str] = []

    async def slow_callback(request: httpx.Request) -> httpx.Response:
        user = json.loads(request.content)["data"]["embeds"][0]["description"]
        if "Waiting for your opponent" in user:
            order.append("first callback started")
            started.set()
            await release.wait()
            order.append("first callback applied")
        return httpx.Response(204)

    harness.discord.on(lambda r: r.url.path.endswith("/callback"), slow_callback)
    first = asyncio.create_task(harness.post(harness.component(61, f"match:{match_id}:confirm")))
    await started.wait()
    second = asyncio.create_task(harness.post(harness.component(62, f"match:{match_id}:confirm")))
    for _ in range(50):
        await asyncio.sleep(0)
    assert harness.store.get_match(match_id).state is MatchState.FOUND  # second is waiting
    assert later_items(harness) == []
    release.set()
    assert (await first)[0] == 202 and (await second)[0] == 202
    assert order == ["first callback started", "first callback applied"]
    assert harness.store.get_match(match_id).state is MatchState.CONFIRMED


async def test_leave_button_updates_the_searching_message(harness: Harness) -> None:
    await harness.post(harness.command(63, "queue", [option("bw_race", STRING, "bw_zerg")]))
    status, body = await harness.post(harness.component(63, "queue:leave"))
    assert status == 200 and body["type"] == 7
    assert body["data"] == {"content": "You left the queue.", "embeds": [], "components": []}
    assert harness.store.queue_entry(63) is None
    status, body = await harness.post(harness.component(63, "queue:leave"))
    assert body["data"]["content"] == "You are not in the queue."


async def test_leave_button_after_being_matched_keeps_match_found(harness: Harness) -> None:
    match_id = await matched_pair(harness, 64, 65)
    status, body = await harness.post(harness.component(64, "queue:leave"))
    assert status == 200 and body["type"] == 7
    assert body["data"]["content"] == f"**Match #{match_id} found** — details follow."
    assert harness.store.get_match(match_id).state is MatchState.FOUND
