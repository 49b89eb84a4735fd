"""Slash commands through the real endpoint: what each answers and what it writes."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from bot.clock import ManualClock
from bot.ladder import NotificationKind, Race
from tests.bot.app.conftest import ADMIN_ID, APP_ID, Harness, dm_channel, make_harness, option

SUB, STRING, INTEGER, USER, ATTACHMENT = 1, 3, 4, 6, 11


def buttons(body: dict) -> list[str]:
    return [c["custom_id"] for row in body["data"]["components"] for c in row["components"]]


async def queue(h: Harness, user: int, **races: str) -> dict:
    options = [option(name, STRING, value) for name, value in races.items()]
    status, body = await h.post(h.command(user, "queue", options))
    assert status == 200, body
    return body


async def test_queue_answers_with_the_searching_message_and_keeps_the_token(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with make_harness(tmp_path, clock, wave_interval=45) as h:
        await queue(h, 21, bw_race="bw_zerg")
        payload = h.command(22, "queue", [option("sc2_race", STRING, "sc2_terran")])
        status, body = await h.post(payload)
        assert status == 200 and body["type"] == 4
        assert "flags" not in body["data"]  # not ephemeral: the bot edits it later
        content = body["data"]["content"]
        next_wave = (math.floor(clock.wall() / 45) + 1) * 45
        assert f"<t:{next_wave}:R>" in content
        assert "2 players (1 Brood War, 1 StarCraft II, 0 both)" in content
        assert buttons(body) == ["queue:leave"]
        row = h.store.queue_entry(22)
        assert row is not None
        assert row.interaction.token == payload["token"]
        assert row.interaction.created_at == clock.wall()  # from the interaction's snowflake
        assert row.interaction.channel_id == dm_channel(22)
        await h.service.drain()
        # The message id is learnt the way any bot can: GET @original with the token.
        original = f"/api/v10/webhooks/{APP_ID}/{payload['token']}/messages/@original"
        assert original in h.discord.paths("GET")
        row = h.store.queue_entry(22)
        assert row is not None and row.interaction.message_id is not None
        assert h.store.dm_channel(22) == dm_channel(22)


async def test_queue_refusals_are_ephemeral_and_write_nothing_more(harness: Harness) -> None:
    await queue(harness, 23, bw_race="bw_zerg")
    rows = harness.store.queue_rows()
    body = await queue(harness, 23, bw_race="bw_terran")
    assert body["type"] == 4 and body["data"]["flags"] == 64
    assert "already in the queue" in body["data"]["content"]
    body = await queue(harness, 24)  # no race at all
    assert body["data"]["flags"] == 64 and "at least one race" in body["data"]["content"]
    assert harness.store.queue_rows() == rows


async def test_leave_removes_the_player_and_edits_the_searching_message(
    harness: Harness,
) -> None:
    first = harness.command(25, "queue", [option("bw_race", STRING, "bw_zerg")])
    await harness.post(first)
    await harness.service.drain()
    status, body = await harness.post(harness.command(25, "leave"))
    assert status == 200 and body["data"]["flags"] == 64
    assert body["data"]["content"] == "You left the queue."
    assert harness.store.queue_entry(25) is None
    await harness.service.drain()
    edit = harness.discord.calls[-1]
    assert edit.method == "PATCH"
    assert edit.path == f"/api/v10/webhooks/{APP_ID}/{first['token']}/messages/@original"
    assert edit.body["content"] == "You left the queue." and edit.body["components"] == []
    status, body = await harness.post(harness.command(25, "leave"))
    assert body["data"]["content"] == "You are not in the queue."


async def test_admin_is_refused_to_non_admins(harness: Harness) -> None:
    await queue(harness, 26, bw_race="bw_zerg")
    await queue(harness, 27, sc2_race="sc2_zerg")
    before = harness.state()
    wave = [{"name": "wave", "type": SUB, "options": []}]
    status, body = await harness.post(harness.command(26, "admin", wave))
    assert status == 200 and body["data"]["flags"] == 64
    assert "Only ladder admins" in body["data"]["content"]
    assert harness.state() == before


async def test_admin_wave_defers_then_reports_the_wave(harness: Harness) -> None:
    await queue(harness, 28, bw_race="bw_zerg")
    await queue(harness, 29, sc2_race="sc2_zerg")
    payload = harness.command(ADMIN_ID, "admin", [{"name": "wave", "type": SUB, "options": []}])
    status, body = await harness.post(payload)
    assert status == 200 and body == {"type": 5, "data": {"flags": 64}}
    await harness.service.drain()
    (wave,) = harness.store.recent_waves()
    assert (wave.queued, wave.matches) == (2, 1)
    assert harness.dispatcher.wakes == 1
    kinds = [i.kind for i in harness.store.pending()]
    assert kinds.count(NotificationKind.MATCH_FOUND) == 2
    assert kinds.count(NotificationKind.MATCH_DETAILS) == 2
    edit = harness.discord.calls[-1]
    assert edit.path == f"/api/v10/webhooks/{APP_ID}/{payload['token']}/messages/@original"
    assert edit.body["content"].startswith("Wave #1: 2 queued, 1 matches")


async def test_admin_dispatch_switches_the_strategy(harness: Harness) -> None:
    sub = [{"name": "dispatch", "type": SUB, "options": [option("strategy", STRING, "batched")]}]
    status, body = await harness.post(harness.command(ADMIN_ID, "admin", sub))
    assert status == 200 and "batched" in body["data"]["content"]
    assert harness.dispatcher.strategy == "batched"


async def test_admin_announce_defers_and_queues_one_dm_per_player(harness: Harness) -> None:
    for user in (30, 31, 32):
        await queue(harness, user, bw_race="bw_zerg")
    sub = [{"name": "announce", "type": SUB, "options": [option("text", STRING, "GG all")]}]
    status, body = await harness.post(harness.command(ADMIN_ID, "admin", sub))
    assert status == 200 and body["type"] == 5
    await harness.service.drain()
    announcements = [i for i in harness.store.pending() if i.kind is NotificationKind.ANNOUNCEMENT]
    assert sorted(i.player_id for i in announcements) == [30, 31, 32]
    assert {i.phase for i in announcements} == {3}  # the background phase
    assert harness.discord.calls[-1].body["content"] == "Announcement queued for 3 players."


async def test_admin_ban_removes_from_queue_and_clear_queue_empties_it(harness: Harness) -> None:
    for user in (33, 34, 35):
        await queue(harness, user, bw_race="bw_zerg")
    ban = [{"name": "ban", "type": SUB, "options": [option("user", USER, "33")]}]
    _status, body = await harness.post(harness.command(ADMIN_ID, "admin", ban))
    assert "banned and removed from the queue" in body["data"]["content"]
    assert harness.store.get_player(33).banned
    body = await queue(harness, 33, bw_race="bw_zerg")
    assert "banned" in body["data"]["content"]
    clear = [{"name": "clear_queue", "type": SUB, "options": []}]
    _, body = await harness.post(harness.command(ADMIN_ID, "admin", clear))
    assert "2 players removed" in body["data"]["content"]
    assert harness.store.queue_rows() == []
    removed = [i for i in harness.store.pending() if i.kind is NotificationKind.QUEUE_REMOVED]
    assert sorted((i.player_id, i.payload["reason"]) for i in removed) == [
        (33, "banned"),
        (34, "cleared"),
        (35, "cleared"),
    ]


async def test_leaderboard_pages_with_type7_updates(harness: Harness) -> None:
    for user in range(100, 145):
        harness.store.ensure_player(user, f"p{user}", harness.clock.wall())
        harness.store.adjust_mmr(user, Race.BW_ZERG, user - 100)
    # Only played races are ranked: give them games through the store's rating API.
    with harness.store._tx() as db:
        db.execute("UPDATE ratings SET games = 1, wins = 1")
    status, body = await harness.post(harness.command(200, "leaderboard"))
    assert status == 200 and body["type"] == 4
    embed = body["data"]["embeds"][0]
    assert embed["footer"]["text"] == "Page 1/2 · 45 ranked"
    assert embed["description"].count("\n") == 39  # 40 rows
    assert buttons(body) == ["lb:all:0:prev", "lb:all:0:next"]
    status, body = await harness.post(harness.component(200, "lb:all:0:next"))
    assert status == 200 and body["type"] == 7
    assert body["data"]["embeds"][0]["footer"]["text"] == "Page 2/2 · 45 ranked"
    assert buttons(body) == ["lb:all:1:prev", "lb:all:1:next"]
    next_disabled = body["data"]["components"][0]["components"][1]["disabled"]
    assert next_disabled is True
    status, body = await harness.post(
        harness.command(200, "leaderboard", [option("race", STRING, "sc2_zerg")])
    )
    assert "No ranked players" in body["data"]["embeds"][0]["description"]


async def test_setup_and_profile(harness: Harness) -> None:
    sub = [option("country", STRING, "de"), option("region", STRING, "EU")]
    _status, body = await harness.post(harness.command(40, "setup", sub))
    assert "country DE, region EU" in body["data"]["content"]
    player = harness.store.get_player(40)
    assert (player.country, player.region) == ("DE", "EU")
    _status, body = await harness.post(
        harness.command(
            40, "setup", [option("country", STRING, "DE"), option("region", STRING, "MARS")]
        )
    )
    assert "Unknown region" in body["data"]["content"]
    assert harness.store.get_player(40).region == "EU"
    _status, body = await harness.post(harness.command(41, "profile"))
    assert body["data"]["embeds"][0]["title"] == "Profile: user41"
    _status, body = await harness.post(
        harness.command(41, "profile", [option("user", USER, "40")], resolved={})
    )
    assert "Country: DE" in body["data"]["embeds"][0]["description"]
    _, body = await harness.post(harness.command(41, "profile", [option("user", USER, "99")]))
    assert "no ladder profile" in body["data"]["content"]


async def test_replay_is_downloaded_hashed_and_stored_against_the_match(
    harness: Harness,
) -> None:
    await queue(harness, 50, bw_race="bw_zerg")
    await queue(harness, 51, sc2_race="sc2_zerg")
    result = await harness.service.run_wave()
    (match,) = result.matches
    content = b"\x00replay bytes" * 100
    harness.discord.files["/att/game.rep"] = content
    attachment = {
        "id": "777",
        "filename": "game.rep",
        "size": len(content),
        "url": "https://cdn.test/att/game.rep",
    }
    payload = harness.command(
        50,
        "replay",
        [option("file", ATTACHMENT, "777")],
        resolved={"attachments": {"777": attachment}},
    )
    status, body = await harness.post(payload)
    assert status == 200 and body["type"] == 5
    await harness.service.drain()
    (replay,) = harness.store.replays(match.id)
    assert (replay.name, replay.size) == ("game.rep", len(content))
    assert replay.sha256 == hashlib.sha256(content).hexdigest()
    notes = [i for i in harness.store.pending() if i.kind is NotificationKind.REPLAY_RECEIVED]
    assert [n.player_id for n in notes] == [50]
    assert "Replay received for match" in harness.discord.calls[-1].body["content"]
    # Nobody else's match: a player without one is told so, nothing is stored.
    status, body = await harness.post(
        harness.command(
            52,
            "replay",
            [option("file", ATTACHMENT, "777")],
            resolved={"attachments": {"777": attachment}},
        )
    )
    assert "no match in progress" in body["data"]["content"]


async def test_replay_download_failure_is_reported_and_stores_nothing(harness: Harness) -> None:
    await queue(harness, 53, bw_race="bw_zerg")
    await queue(harness, 54, sc2_race="sc2_zerg")
    (match,) = (await harness.service.run_wave()).matches
    attachment = {"id": "9", "filename": "x.rep", "size": 1, "url": "https://cdn.test/att/x.rep"}
    payload = harness.command(
        53, "replay", [option("file", ATTACHMENT, "9")], resolved={"attachments": {"9": attachment}}
    )
    _, body = await harness.post(payload)
    assert body["type"] == 5
    await harness.service.drain()
    assert harness.store.replays(match.id) == []
    assert "could not be downloaded" in harness.discord.calls[-1].body["content"]
