"""Views: custom_ids round-trip, every outbox kind renders within Discord's limits."""

from __future__ import annotations

import dataclasses

import pytest

from bot.ladder import (
    LadderConfig,
    Match,
    MatchPlayer,
    NotificationKind,
    Outcome,
    Race,
    Report,
    abort,
    confirm,
    expire,
    report,
)
from bot.ladder.match import admin_view, match_view
from bot.store import OutboxItem
from bot.store.records import QueueCounts
from bot.views import render, render_view, searching_message
from bot.views.custom_ids import (
    LeaderboardNav,
    LeaveQueue,
    MatchAction,
    leaderboard_nav,
    leave_queue,
    match_action,
    parse_custom_id,
)

CONFIG = LadderConfig()
NOW = 1_700_000_000.0


def test_custom_ids_round_trip() -> None:
    assert parse_custom_id(leave_queue()) == LeaveQueue()
    for action in ("confirm", "abort", "report"):
        assert parse_custom_id(match_action(123, action)) == MatchAction(123, action)
    nav = parse_custom_id(leaderboard_nav(Race.SC2_ZERG, 3, "prev"))
    assert nav == LeaderboardNav(Race.SC2_ZERG, 3, -1) and nav.target == 2
    assert parse_custom_id(leaderboard_nav(None, 0, "next")) == LeaderboardNav(None, 0, 1)
    assert len(match_action(2**62, "confirm")) <= 100


@pytest.mark.parametrize(
    "bad",
    ["", "queue", "queue:leave:now", "match:0:confirm", "match:-1:confirm", "match:1:win",
     "match:\uff11:confirm", "lb:all:x:next", "lb:ogre:0:next", "lb:all:0:up", "match:1:confirm:x"],
)  # fmt: skip
def test_foreign_custom_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown custom_id"):
        parse_custom_id(bad)


def _match() -> Match:
    return Match(
        id=7,
        wave_id=1,
        p1=MatchPlayer(11, Race.BW_ZERG, 1500),
        p2=MatchPlayer(22, Race.SC2_TERRAN, 1520),
        map="Polypoid",
        server="Europe",
        created_at=NOW,
        deadline=NOW + 60,
    )


def _item(kind: NotificationKind, player: int | None, payload: dict) -> OutboxItem:
    return OutboxItem(
        id=1, wave_id=1, match_id=7, scope="m7", player_id=player, kind=kind,
        phase=kind.phase, seq=1, action=kind.action, payload=payload, nonce="n",
        status="pending", attempts=0, last_error=None, created_at=NOW, delivered_at=None,
        discord_message_id=None, interaction_token=None, token_created_at=None,
        target_channel_id=None, target_message_id=None, dm_channel_id=None,
    )  # fmt: skip


def _all_states() -> list[tuple[NotificationKind, int | None, dict]]:
    match = _match()
    found_view = {**match_view(match, 11), "remaining_aborts": 2}
    one = confirm(match, 11, NOW, CONFIG).match
    both = confirm(one, 22, NOW, CONFIG)
    reported = report(both.match, 11, Report.WIN, NOW, CONFIG).match
    done = report(reported, 22, Report.LOSS, NOW, CONFIG)
    conflict = report(reported, 22, Report.WIN, NOW, CONFIG)
    aborted = abort(match, 22, 3, NOW)
    timed_out = expire(match, NOW + 61)
    assert timed_out is not None
    out: list[tuple[NotificationKind, int | None, dict]] = [
        (NotificationKind.MATCH_FOUND, 11, match_view(match, 11)),
        (NotificationKind.MATCH_DETAILS, 11, found_view),
        (NotificationKind.QUEUE_REMOVED, 11, {"reason": "cleared"}),
        (NotificationKind.ANNOUNCEMENT, 11, {"text": "Maintenance at 20:00"}),
        (NotificationKind.REPLAY_RECEIVED, 11, {**match_view(both.match, 11),
         "replay": {"name": "a.rep", "size": 10, "sha256": "ab"}}),
    ]  # fmt: skip
    for transition in (both, done, conflict, aborted, timed_out):
        out += [(n.kind, n.player_id, dict(n.payload)) for n in transition.notifications]
    resolved = dataclasses.replace(conflict.match, outcome=Outcome.DRAW)
    out.append((NotificationKind.ADMIN_RESULT, None, admin_view(resolved)))
    return out


def test_every_kind_renders_a_complete_valid_body() -> None:
    kinds = set()
    for kind, player, payload in _all_states():
        body = render(_item(kind, player, payload)).body()
        kinds.add(kind)
        assert set(body) == {"content", "embeds", "components"}  # edits replace everything
        assert body["content"] or body["embeds"]
        assert len(body["content"]) <= 2000 and len(body["embeds"]) <= 10
        for row in body["components"]:
            for component in row["components"]:
                assert len(component["custom_id"]) <= 100
                parse_custom_id(component["custom_id"])
    assert kinds == set(NotificationKind) - {NotificationKind.CONFLICT_RESOLVED}


def test_match_message_by_state() -> None:
    states = {(k, p): render_view(_item(k, p, v)) for k, p, v in _all_states()}
    details = states[(NotificationKind.MATCH_DETAILS, 11)]
    labels = [c["label"] for c in details.components[0]["components"]]
    assert labels == ["Confirm", "Abort (2 left)"]
    assert "<@22>" in str(details.embeds[0]["fields"]) and "<t:" in details.embeds[0]["description"]
    confirmed = states[(NotificationKind.CONFIRMED, 22)]
    (select,) = confirmed.components[0]["components"]
    assert [o["value"] for o in select["options"]] == ["win", "loss", "draw"]
    result = states[(NotificationKind.RESULT, 22)]
    assert result.components == ()
    assert "You lost. Rating 1520 → 1499 (-21)." in result.embeds[0]["description"]
    aborted = states[(NotificationKind.ABORTED, 11)]
    assert aborted.components == ()
    assert render_view(_item(NotificationKind.MATCH_FOUND, 11, {"match_id": 7})).content.startswith(
        "**Match #7 found**"
    )


def test_searching_message_shows_counts_next_wave_and_leave_button() -> None:
    view = searching_message(
        QueueCounts(3, 2, 1), 1_700_000_045.0, bw_race="bw_zerg", sc2_race=None
    )
    assert "6 players (3 Brood War, 2 StarCraft II, 1 both)" in view.content
    assert "<t:1700000045:R>" in view.content and "BW Zerg" in view.content
    assert view.components[0]["components"][0]["custom_id"] == "queue:leave"
    manual = searching_message(QueueCounts(0, 0, 0), None, bw_race=None, sc2_race="sc2_zerg")
    assert "when an admin starts one" in manual.content
