"""Fake players: seeded traits, and a player's view built only from what they see.

The view logic is tested with a fake control plane (no network): messages are shown to a
player exactly as the event stream shows them (content + flattened components), and the
clicks the player makes are recorded.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from sandbox.behaviour import Behaviour, draw_profile
from sandbox.players import Crowd, Player, flatten_components, parse_headline

MAPS = ("Fighting Spirit", "Circuit Breaker", "Polypoid", "Eclipse", "Neo Sylphid")


class FakeControl:
    """Records clicks and commands; answers like the mock when the bot responded."""

    def __init__(self) -> None:
        self.clicks: list[tuple[str, str, str, list[str] | None]] = []
        self.commands: list[tuple[str, str, dict[str, Any]]] = []

    async def click(self, user_id: str, message_id: str, custom_id: str, values: Any = None):
        self.clicks.append((user_id, message_id, custom_id, values))
        return {"outcome": "responded", "response_type": 7}

    async def run_command(self, user_id: str, name: str, options: Any = None):
        self.commands.append((user_id, name, dict(options or {})))
        return {"outcome": "deferred", "message_id": "900"}


def _player(crowd: Crowd, uid: str, **behaviour: Any) -> Player:
    profile = draw_profile(random.Random(1), Behaviour.from_mapping(behaviour), races="bw")
    player = Player(uid, f"p{uid}", profile, channel_id=f"c{uid}")
    crowd.players[uid] = player
    return player


def _buttons(match_id: int, *, disabled: bool = False) -> list[dict[str, Any]]:
    return [
        {"custom_id": f"match:{match_id}:confirm", "disabled": disabled},
        {"custom_id": f"match:{match_id}:abort", "disabled": disabled},
    ]


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_headlines_are_read_like_a_person_reads_them() -> None:
    assert parse_headline("**Match #12 found** — details follow.") == ("phase1", 12, None)
    assert parse_headline("Match #12 — found") == ("details", 12, "found")
    assert parse_headline("Match #3 — conflict") == ("details", 3, "conflict")
    assert parse_headline("**Searching for a match…**\nYou queue as BW Zerg.")[0] == "searching"
    assert parse_headline("You left the queue.")[0] == "left"
    assert parse_headline("You are no longer in the queue: banned.")[0] == "left"
    assert parse_headline("Season 3 starts on Friday") == ("other", None, None)


def test_components_are_flattened_from_action_rows() -> None:
    rows = [
        {"type": 1, "components": [{"type": 2, "custom_id": "a"}, {"type": 2, "url": "x"}]},
        {"type": 1, "components": [{"type": 3, "custom_id": "b", "disabled": True}]},
    ]
    assert flatten_components(rows) == [
        {"custom_id": "a", "disabled": False},
        {"custom_id": "b", "disabled": True},
    ]


def test_same_seed_same_crowd_and_traits_follow_the_distribution() -> None:
    behaviour = Behaviour.from_mapping({"no_confirm": 0.5, "confirm_delay": [0.1, 0.2]})
    first = [draw_profile(random.Random(9), behaviour, maps=MAPS) for _ in range(3)]
    again = [draw_profile(random.Random(9), behaviour, maps=MAPS) for _ in range(3)]
    assert first == again
    rng = random.Random(4)
    crowd = [draw_profile(rng, behaviour, maps=MAPS, rating_sd=300) for _ in range(400)]
    share = sum(not p.traits.confirms for p in crowd) / len(crowd)
    assert 0.4 < share < 0.6
    assert all(0.1 <= p.traits.confirm_delay <= 0.2 for p in crowd)
    assert all(len(p.vetoes) <= 2 and set(p.vetoes) <= set(MAPS) for p in crowd)
    kinds = {(p.bw_race is not None, p.sc2_race is not None) for p in crowd}
    assert kinds == {(True, False), (False, True), (True, True)}
    ratings = [r for p in crowd for r in p.ratings.values()]
    mean = sum(ratings) / len(ratings)
    assert 1440 < mean < 1560
    assert max(ratings) - min(ratings) > 900  # sd 300, not a constant


def test_behaviour_rejects_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown behaviour keys: nap"):
        Behaviour.from_mapping({"nap": 1})
    with pytest.raises(ValueError, match="probability"):
        Behaviour.from_mapping({"abort": 2})
    with pytest.raises(ValueError, match="confirm_delay"):
        Behaviour.from_mapping({"confirm_delay": (2.0, 1.0)})
    with pytest.raises(ValueError, match="races"):
        draw_profile(random.Random(1), Behaviour(), races="zerg")


async def test_a_player_confirms_what_they_see_then_reports_when_told() -> None:
    control = FakeControl()
    crowd = Crowd(control, admin_id="1", seed=1)  # type: ignore[arg-type]
    player = _player(crowd, "7", confirm_delay=0.0)
    crowd.see(player, "m1", "**Searching for a match…**", [])
    assert player.state == "queueing"
    crowd.see(player, "m1", "**Match #4 found** — details follow.", [])
    assert (player.state, player.match_id, player.phase1_seen) == ("in_match", 4, True)
    crowd.see(player, "m2", "Match #4 — found", _buttons(4))
    await _settle()
    assert control.clicks == [("7", "m2", "match:4:confirm", None)]
    # The type-7 update disables the buttons: nothing more is clicked.
    crowd.see(player, "m2", "Match #4 — found", _buttons(4, disabled=True))
    await _settle()
    assert len(control.clicks) == 1
    # Both confirmed: the select appears; the player waits until told how the game went.
    select = [{"custom_id": "match:4:report", "disabled": False}]
    crowd.see(player, "m2", "Match #4 — confirmed", select)
    await _settle()
    assert len(control.clicks) == 1
    player.plan = "win"
    crowd.see(player, "m2", "Match #4 — confirmed", select)
    await _settle()
    assert control.clicks[-1] == ("7", "m2", "match:4:report", ["win"])
    crowd.see(player, "m2", "Match #4 — completed", [])
    assert player.state == "idle" and player.results["completed"] == 1
    # A late edit of an ended match never puts the player back into it.
    crowd.see(player, "m2", "Match #4 — confirmed", select)
    assert player.state == "idle"


async def test_traits_decide_the_reaction() -> None:
    control = FakeControl()
    crowd = Crowd(control, admin_id="1", seed=1)  # type: ignore[arg-type]
    lazy = _player(crowd, "1", no_confirm=1.0, confirm_delay=0.0)
    aborter = _player(crowd, "2", abort=1.0, confirm_delay=0.0)
    gone = _player(crowd, "3", confirm_delay=0.0)
    gone.active = False
    for player, match_id in ((lazy, 1), (aborter, 2), (gone, 3)):
        crowd.see(player, f"d{match_id}", f"Match #{match_id} — found", _buttons(match_id))
    await _settle()
    assert control.clicks == [("2", "d2", "match:2:abort", None)]
    # The disconnected player's match times out: they are told, and are back.
    crowd.see(gone, "d3", "Match #3 — aborted", [])
    assert gone.state == "idle" and gone.active


async def test_complete_and_conflict_plan_both_players_of_a_match() -> None:
    control = FakeControl()
    crowd = Crowd(control, admin_id="1", seed=3)  # type: ignore[arg-type]
    players = [_player(crowd, str(i), confirm_delay=0.0) for i in range(4)]
    for i, player in enumerate(players):
        crowd.see(player, f"d{i}", f"Match #{1 + i // 2} — found", _buttons(1 + i // 2))
    await _settle()
    assert await crowd.complete(1) == 1
    assert sorted(p.plan for p in players[:2]) == ["loss", "win"]
    assert await crowd.conflict() == 1
    assert [p.plan for p in players[2:]] == ["win", "win"]
    assert await crowd.complete() == 0  # nothing left to tell


async def test_selected_matches_only_are_completed_or_aborted() -> None:
    control = FakeControl()
    crowd = Crowd(control, admin_id="1", seed=3)  # type: ignore[arg-type]
    players = [_player(crowd, str(i), confirm_delay=0.0) for i in range(6)]
    for i, player in enumerate(players):
        crowd.see(player, f"d{i}", f"Match #{1 + i // 2} — found", _buttons(1 + i // 2))
    await _settle()
    assert await crowd.complete(match_ids=["2", 9]) == 1  # match 9 is not open: skipped
    assert [p.plan is not None for p in players] == [False, False, True, True, False, False]
    control.clicks.clear()
    for i, player in enumerate(players):  # the confirms went through: abort is enabled again
        crowd.see(player, f"d{i}", f"Match #{1 + i // 2} — found", _buttons(1 + i // 2))
        player.acted.discard("abort")
    assert await crowd.abort(match_ids=[3]) == 1
    (click,) = control.clicks
    assert click[0] in ("4", "5") and click[2] == "match:3:abort"
    assert await crowd.abort(5, match_ids=[]) == 0


async def test_reactions_due_while_paused_are_deferred_not_lost() -> None:
    control = FakeControl()
    crowd = Crowd(control, admin_id="1", seed=1)  # type: ignore[arg-type]
    slow = _player(crowd, "1", confirm_delay=0.05)
    seen_later = _player(crowd, "2", confirm_delay=0.0)
    crowd.see(slow, "d1", "Match #1 — found", _buttons(1))  # the click is scheduled
    crowd.pause()
    crowd.see(seen_later, "d2", "Match #2 — found", _buttons(2))  # seen while paused
    assert seen_later.state == "in_match"  # players still see their DMs
    await asyncio.sleep(0.1)  # the slow player's delay passes while paused
    await _settle()
    assert control.clicks == []
    assert crowd.resume() == 2
    await _settle()
    assert sorted(control.clicks) == [
        ("1", "d1", "match:1:confirm", None),
        ("2", "d2", "match:2:confirm", None),
    ]
    # A deferred click whose control went away meanwhile is not sent.
    third = _player(crowd, "3", confirm_delay=0.0)
    crowd.pause()
    crowd.see(third, "d3", "Match #3 — found", _buttons(3))
    crowd.see(third, "d3", "Match #3 — aborted", [])
    assert crowd.resume() == 1
    await _settle()
    assert len(control.clicks) == 2
