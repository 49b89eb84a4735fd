"""The Operator on a real (in-process) stack: players act only through the mock and react to
what they see; every figure checked here is what a player sees or what the mock recorded."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from sandbox.operator import Operator, OperatorError, open_operator
from sandbox.players import Player
from sandbox.stack import StackConfig

pytestmark = pytest.mark.e2e

_RATING = re.compile(r"Rating (\d+) → (\d+)")


@pytest_asyncio.fixture
async def operator(tmp_path: Path) -> AsyncIterator[Operator]:
    config = StackConfig(mode="inprocess", data_dir=tmp_path, log_level="WARNING")
    async with open_operator(config, seed=11) as op:
        yield op


async def _spawn_pairs(op: Operator, pairs: int, **behaviour: object) -> list[str]:
    options = {"rating_sd": 20, "behaviour": behaviour}
    return await op.spawn(pairs, races="bw", **options) + await op.spawn(
        pairs, races="sc2", **options
    )


def _final_text(dm: list[dict]) -> str:
    details = [m for m in dm if m["content"].startswith("Match #") and m["embeds"]]
    return details[-1]["embeds"][0]["description"]


async def test_twenty_players_play_a_wave_and_their_ratings_change(operator: Operator) -> None:
    op = operator
    ids = await _spawn_pairs(op, 10, confirm_delay=[0.05, 0.3])
    assert len(ids) == 20
    assert await op.queue() == 20
    assert all(p.state == "queueing" for p in op.crowd.players.values())
    await op.wave()
    assert await op.wait_until("wave_delivered", 20)
    matches = op.crowd.matches()
    assert len(matches) == 10 and all(len(ps) == 2 for ps in matches.values())
    # Nobody was told to click: they confirm because they saw [Confirm].
    assert await op.complete() == 10
    assert await op.wait_until("all_idle", 30)
    snap = await op.snapshot()
    assert all(
        v["state"] == "idle" and v["results"] == {"completed": 1} for v in snap.players.values()
    )
    assert snap.mock_stats["interactions"]["failed"] == 0
    assert snap.mock_stats["interactions"]["by_kind"]["component"] >= 40  # confirms + reports
    # Every player sees their rating move in their final match message...
    changes = []
    for pid in ids:
        before, after = map(int, _RATING.search(_final_text(snap.dms[pid])).groups())
        changes.append(after - before)
    assert all(c != 0 for c in changes)
    assert sum(c > 0 for c in changes) == 10  # one winner per match
    # ... and in /profile, as the player sees its (ephemeral) answer.
    winner: Player = next(
        op.crowd.players[pid] for pid, c in zip(ids, changes, strict=True) if c > 0
    )
    result = await op.crowd.command(winner.id, "profile")
    dm = (await op.stack.control.dm(winner.id))["messages"]
    (answer,) = [m for m in dm if m["id"] == result["message_id"]]
    text = str(answer["embeds"]) + answer["content"]
    (race,) = winner.profile.races
    seeded = winner.profile.ratings[race]
    assert str(seeded) not in text  # the seeded rating changed after the win
    assert "1" in text and ("W" in text or "win" in text.lower())
    assert await op.wait_until("outbox_empty", 10)


async def test_abort_conflict_disconnect_and_replays(operator: Operator, tmp_path: Path) -> None:
    op = operator
    await _spawn_pairs(op, 4, no_confirm=1.0)
    assert await op.queue() == 8
    await op.wave()
    assert await op.wait_until("wave_delivered", 20)
    assert len(op.crowd.matches()) == 4
    assert await op.replays(2) == 2
    assert await op.abort(2) == 2

    def aborted() -> int:
        return sum(p.results["aborted"] for p in op.crowd.players.values())

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # a bounded poll of the players' views
        if aborted() >= 4:
            break
        await asyncio.sleep(0.05)
    assert aborted() == 4  # both players of both aborted matches were told, once each
    assert len(op.crowd.matches()) == 2
    assert await op.disconnect() == 4
    assert all(not p.active for p in op.crowd.players.values() if p.state == "in_match")
    assert await op.abort() == 0  # disconnected players do nothing
    snap = await op.snapshot()
    assert snap.application_id == op.stack.application_id
    replays = [m for dm in snap.dms.values() for m in dm if "Replay received" in str(m)]
    assert replays
    # A refused configuration is a one-line OperatorError.
    with pytest.raises(OperatorError, match="global_limit"):
        await op.configure_mock(global_limit=0)


async def test_conflict_and_strategy_switch(operator: Operator) -> None:
    op = operator
    await op.set_strategy("batched")
    assert (await op.stack.bot.status())["dispatch"]["strategy"] == "batched"
    await _spawn_pairs(op, 2, confirm_delay=0.0)
    assert await op.queue() == 4
    await op.wave()
    assert await op.wait_until("wave_delivered", 20)
    assert await op.conflict(1) == 1
    assert await op.complete(1) == 1
    assert await op.wait_until("all_idle", 20)
    results = [v["results"] for v in op.crowd.views().values()]
    assert sorted(r.popitem()[0] for r in results) == ["completed"] * 2 + ["conflict"] * 2


async def test_expire_tokens_makes_phase_one_use_the_bot_token(operator: Operator) -> None:
    op = operator
    await _spawn_pairs(op, 3, no_confirm=1.0)
    assert await op.queue() == 6
    await op.expire_tokens()
    await op.wave()
    assert await op.wait_until("wave_delivered", 20)
    ledger = (await op.snapshot()).ledger
    edits = [
        e
        for e in ledger
        if e["method"] == "PATCH" and e["route"] == "/channels/{channel_id}/messages/{message_id}"
    ]
    assert len([e for e in edits if 200 <= e["status"] < 300 and e["counted"]]) >= 6
    assert all(p.phase1_seen and p.details_seen for p in op.crowd.players.values())


async def test_unknown_condition_and_leaderboard_spam(operator: Operator) -> None:
    op = operator
    await op.spawn(3)
    assert await op.leaderboard_spam(5) == 5
    with pytest.raises(OperatorError, match="unknown condition"):
        await op.wait_until("sunrise", 1)
    assert await op.wait_until("all_idle", 1)


async def _until(condition: object, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:  # a bounded poll of the players' views
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return bool(condition())  # type: ignore[operator]


async def test_selected_matches_and_paused_players(operator: Operator) -> None:
    op = operator
    await _spawn_pairs(op, 3, confirm_delay=0.0)
    assert await op.queue() == 6
    await op.pause_players()
    assert op.players_paused
    await op.wave()
    assert await op.wait_until("wave_delivered", 20)
    first, second, third = sorted(op.crowd.matches())
    stats = (await op.snapshot()).mock_stats
    assert stats["interactions"]["by_kind"].get("component", 0) == 0  # nobody confirmed yet
    assert await op.abort(match_ids=[first]) == 1  # the operator still acts while paused
    assert await op.complete(match_ids=[str(second)]) == 1
    assert await op.complete(match_ids=[first]) == 0  # no longer open
    assert await op.resume_players() == 6  # every player saw their details while paused

    def results(match_id: int) -> list[str]:
        return [
            how
            for p in op.crowd.players.values()
            for how, n in p.results.items()
            if n and p.match_id == match_id
        ]

    assert await _until(lambda: results(first) == ["aborted"] * 2)
    assert await _until(lambda: results(second) == ["completed"] * 2)
    # The third match was confirmed (deferred confirms carried out) and is still open.
    players = op.crowd.matches()[third]
    assert await _until(lambda: all(p.match_state == "confirmed" for p in players))
