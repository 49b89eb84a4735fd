"""The ladder end to end: fake players act only through the mock, the bot answers over HTTP.

What a player "sees" is read from the mock's DM view (`GET /_mock/users/{id}/dm`), never
from the bot. The bot's store is read only to know which player is which (white box).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.ladder import MatchState, PlayerState
from tests.bot.e2e.conftest import Stack, StackFactory, buttons, eventually

pytestmark = pytest.mark.e2e

BW = ("bw_terran", "bw_zerg", "bw_protoss")
SC2 = ("sc2_terran", "sc2_zerg", "sc2_protoss")


async def queue_players(stack: Stack, count: int) -> tuple[list[str], dict[str, str]]:
    """``count`` new players, half Brood War and half StarCraft II, all queued at once.
    Returns the ids and each player's searching message id."""
    users = await stack.mock.create_users(count)
    options = [
        {"bw_race": BW[i % 3]} if i < count // 2 else {"sc2_race": SC2[i % 3]} for i in range(count)
    ]
    results = await asyncio.gather(
        *(stack.command(u, "queue", o) for u, o in zip(users, options, strict=True))
    )
    assert [r["response_type"] for r in results] == [4] * count
    return users, {u: r["message_id"] for u, r in zip(users, results, strict=True)}


async def wave(stack: Stack) -> None:
    result = await stack.command(stack.admin, "admin wave")
    assert result["outcome"] == "deferred"


async def details_of(stack: Stack, user: str) -> dict[str, Any] | None:
    """The player's match details message (the newest "Match #" message with an embed)."""
    found = [
        m for m in await stack.mock.dm(user) if m["embeds"] and m["content"].startswith("Match #")
    ]
    return found[-1] if found else None


async def all_see(stack: Stack, users: list[str], predicate: Any) -> dict[str, dict[str, Any]]:
    async def check() -> dict[str, dict[str, Any]] | None:
        seen = {}
        for user in users:
            message = await details_of(stack, user)
            if message is None or not predicate(message):
                return None
            seen[user] = message
        return seen

    return await eventually(check, within=20.0)


def match_id_of(message: dict[str, Any]) -> int:
    return int(message["content"].split("#", 1)[1].split(" ", 1)[0])


async def test_twenty_players_full_flow(stack: Stack) -> None:
    users, searching = await queue_players(stack, 20)
    await wave(stack)

    # Every player: phase 1 edited the searching message, phase 2 created the details.
    details = await all_see(
        stack, users, lambda m: m["embeds"][0]["description"].startswith("Confirm")
    )
    matches = {match_id_of(m) for m in details.values()}
    assert len(matches) == 10
    for user in users:
        dm = await stack.mock.dm(user)
        (search,) = [m for m in dm if m["id"] == searching[user]]
        match_id = match_id_of(details[user])
        assert search["content"] == f"**Match #{match_id} found** — details follow."
        assert search["components"] == []
        assert buttons(details[user]) == [f"match:{match_id}:confirm", f"match:{match_id}:abort"]
        assert len(dm) == 2  # the searching message and the details: nothing else

    # All confirm at once; each click is answered with a type-7 update.
    clicks = await asyncio.gather(
        *(
            stack.click(u, details[u]["id"], f"match:{match_id_of(details[u])}:confirm")
            for u in users
        )
    )
    assert {c["response_type"] for c in clicks} == {7}
    confirmed = await all_see(
        stack, users, lambda m: any(b.endswith(":report") for b in buttons(m))
    )
    for message in confirmed.values():
        (select,) = message["components"][0]["components"]
        assert select["disabled"] is False

    # All report: the Brood War player (player 1) wins every match.
    store = stack.bot.store
    reports = []
    for user in users:
        match_id = match_id_of(confirmed[user])
        match = store.get_match(match_id)
        assert match is not None and match.state is MatchState.CONFIRMED
        won = match.p1.player_id == int(user)
        reports.append(
            stack.click(
                user, confirmed[user]["id"], f"match:{match_id}:report", ["win" if won else "loss"]
            )
        )
    assert {r["response_type"] for r in await asyncio.gather(*reports)} == {7}
    final = await all_see(stack, users, lambda m: m["content"].endswith("completed"))

    for match_id in matches:
        match = store.get_match(match_id)
        assert match is not None and match.state is MatchState.COMPLETED
        p1, p2 = match.p1, match.p2
        assert store.ratings(p1.player_id)[p1.race].mmr == p1.mmr + 20  # equal ratings: +20
        assert store.ratings(p2.player_id)[p2.race].mmr == p2.mmr - 20
        assert "You won!" in final[str(p1.player_id)]["embeds"][0]["description"]
        assert "You lost." in final[str(p2.player_id)]["embeds"][0]["description"]
        assert final[str(p1.player_id)]["components"] == []
    for user in users:
        assert store.player_status(int(user)).state is PlayerState.IDLE
    assert store.open_matches() == []
    assert stack.failed_outcomes() == []
    await assert_no_failed_interactions(stack)


async def assert_no_failed_interactions(stack: Stack) -> None:
    """The mock's verdict on every interaction it delivered."""
    interactions = (await stack.mock.stats())["interactions"]
    assert interactions["delivered"] == len(stack.outcomes) > 0
    assert interactions["failed"] == 0 and interactions["rejected"] == 0
    assert stack.failed_outcomes() == []


async def test_abort_path_releases_both_players(stack: Stack) -> None:
    users, _ = await queue_players(stack, 4)
    await wave(stack)
    details = await all_see(stack, users, lambda m: "Confirm" in m["embeds"][0]["description"])
    store = stack.bot.store
    aborter = users[0]
    match_id = match_id_of(details[aborter])
    match = store.get_match(match_id)
    assert match is not None
    other = str(next(p for p in match.player_ids if p != int(aborter)))
    assert "Abort (3 left)" in str(details[aborter]["components"])

    result = await stack.click(aborter, details[aborter]["id"], f"match:{match_id}:abort")
    assert result["response_type"] == 7
    seen = await all_see(stack, [aborter, other], lambda m: m["content"].endswith("aborted"))
    assert "You aborted" in seen[aborter]["embeds"][0]["description"]
    assert "Your opponent aborted" in seen[other]["embeds"][0]["description"]
    assert seen[other]["components"] == []
    assert store.get_player(int(aborter)).remaining_aborts == 2
    assert store.get_player(int(other)).remaining_aborts == 3

    for user in (aborter, other):
        assert store.player_status(int(user)).state is PlayerState.IDLE
        again = await stack.command(user, "queue", {"bw_race": "bw_zerg"})
        assert again["response_type"] == 4
        assert store.player_status(int(user)).state is PlayerState.QUEUEING
    await assert_no_failed_interactions(stack)


async def test_confirmation_timeout_leaves_no_player_stuck(stack_factory: StackFactory) -> None:
    stack = await stack_factory(confirm_timeout=1.5)
    users, _ = await queue_players(stack, 2)
    await wave(stack)
    details = await all_see(stack, users, lambda m: "Confirm" in m["embeds"][0]["description"])
    match_id = match_id_of(details[users[0]])
    # One player confirms, the other never does.
    await stack.click(users[0], details[users[0]]["id"], f"match:{match_id}:confirm")
    seen = await all_see(stack, users, lambda m: m["content"].endswith("aborted"))
    for user in users:
        assert "Not confirmed in time" in seen[user]["embeds"][0]["description"]
        assert seen[user]["components"] == []
        player = stack.bot.store.get_player(int(user))
        assert player is not None and player.remaining_aborts == 3  # nobody is charged
        assert stack.bot.store.player_status(int(user)).state is PlayerState.IDLE
    again = await stack.command(users[1], "queue", {"sc2_race": "sc2_zerg"})
    assert again["response_type"] == 4
    await assert_no_failed_interactions(stack)


async def test_closed_dms_release_the_match(stack: Stack) -> None:
    open_user = (await stack.mock.create_users(1))[0]
    closed_user = (await stack.mock.create_users(1, prefix="closed", dms_closed=True))[0]
    await stack.command(open_user, "queue", {"bw_race": "bw_zerg"})
    await stack.command(closed_user, "queue", {"sc2_race": "sc2_zerg"})
    await wave(stack)
    store = stack.bot.store

    async def released() -> bool:
        return store.open_matches() == [] and len(store.recent_waves()) == 1

    await eventually(released)
    match = store.get_match(1)
    assert match is not None and match.state is MatchState.ABORTED
    seen = await all_see(stack, [open_user], lambda m: m["content"].endswith("aborted"))
    assert "Not confirmed in time" in seen[open_user]["embeds"][0]["description"]
    for user in (open_user, closed_user):
        assert store.player_status(int(user)).state is PlayerState.IDLE
