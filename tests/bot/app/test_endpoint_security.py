"""The endpoint refuses bad input with 401/400 and changes nothing: no row written, no
REST call made."""

from __future__ import annotations

import json

from nacl.signing import SigningKey

from tests.bot.app.conftest import Harness, option, sign

STRING, INTEGER = 3, 4


async def assert_refused(h: Harness, status: int, expected: int) -> None:
    assert status == expected
    assert h.discord.calls == []
    assert h.dispatcher.wakes == 0


async def test_ping_is_answered_with_pong(harness: Harness) -> None:
    status, body = await harness.post({"type": 1, "id": "1", "token": "t", "application_id": "1"})
    assert (status, body) == (200, {"type": 1})


async def test_a_valid_queue_command_changes_state(harness: Harness) -> None:
    """The control case for the refusals below: the same request, well-formed, is accepted."""
    before = harness.state()
    status, body = await harness.post(
        harness.command(11, "queue", [option("bw_race", STRING, "bw_zerg")])
    )
    assert status == 200 and body["type"] == 4
    assert harness.state() != before
    assert [row.player_id for row in harness.store.queue_rows()] == [11]


async def test_bad_signature_with_a_forged_user_is_401_and_writes_nothing(
    harness: Harness,
) -> None:
    before = harness.state()
    forged = harness.command(424242, "queue", [option("bw_race", STRING, "bw_zerg")])
    body = json.dumps(forged).encode()
    ts = str(int(harness.clock.wall()))
    other_key = SigningKey(bytes(32))
    status, answer = await harness.post(forged, raw=body, signature=sign(body, ts, other_key))
    await assert_refused(harness, status, 401)
    assert answer == {"error": "invalid request signature"}
    assert harness.state() == before
    assert harness.store.get_player(424242) is None


async def test_tampered_body_is_401(harness: Harness) -> None:
    before = harness.state()
    payload = harness.command(12, "queue", [option("bw_race", STRING, "bw_zerg")])
    body = json.dumps(payload).encode()
    ts = str(int(harness.clock.wall()))
    signature = sign(body, ts)
    tampered = body.replace(b'"12"', b'"13"')
    assert tampered != body
    status, _ = await harness.post(None, raw=tampered, timestamp=ts, signature=signature)
    await assert_refused(harness, status, 401)
    assert harness.state() == before


async def test_stale_timestamp_is_401_even_when_signed(harness: Harness) -> None:
    before = harness.state()
    payload = harness.command(14, "queue", [option("bw_race", STRING, "bw_zerg")])
    stale = str(int(harness.clock.wall()) - 301)
    status, _ = await harness.post(payload, timestamp=stale)
    await assert_refused(harness, status, 401)
    fresh_enough = str(int(harness.clock.wall()) - 299)
    assert harness.state() == before
    status, _ = await harness.post(payload, timestamp=fresh_enough)
    assert status == 200


async def test_missing_signature_headers_are_401(harness: Harness) -> None:
    response = await harness.http.post("/interactions", data=b'{"type": 1}')
    assert response.status == 401


async def test_garbage_json_is_400_and_writes_nothing(harness: Harness) -> None:
    before = harness.state()
    for raw in (b"{not json", b"\xff\xfe", b"[1, 2, 3]", b'"queue"', b"{}"):
        status, _ = await harness.post(None, raw=raw)
        await assert_refused(harness, status, 400)
    assert harness.state() == before


async def test_unknown_custom_id_is_400_and_writes_nothing(harness: Harness) -> None:
    before = harness.state()
    for custom_id in ("match:1:explode", "match:x:confirm", "nope", "lb:bw_ogre:0:next", "x" * 90):
        status, body = await harness.post(harness.component(15, custom_id))
        await assert_refused(harness, status, 400)
        assert "custom_id" in body["error"] or "race" in body["error"]
    assert harness.state() == before


async def test_unknown_command_is_400(harness: Harness) -> None:
    before = harness.state()
    status, _ = await harness.post(harness.command(16, "selfdestruct"))
    await assert_refused(harness, status, 400)
    assert harness.state() == before


async def test_option_of_the_wrong_type_is_400_and_writes_nothing(harness: Harness) -> None:
    before = harness.state()
    cases = [
        ("queue", [option("bw_race", INTEGER, 3)]),  # declared INTEGER, expected STRING
        ("queue", [option("bw_race", STRING, 3)]),  # declared STRING, value an int
        ("queue", [option("bw_race", STRING, "sc2_zerg")]),  # a race of the wrong game
        ("leaderboard", [option("page", INTEGER, "2")]),
        ("leaderboard", [option("page", INTEGER, True)]),
        ("profile", [option("user", 6, "not-a-snowflake")]),
        ("setup", [option("country", INTEGER, 49)]),
    ]
    for name, options in cases:
        status, body = await harness.post(harness.command(17, name, options))
        await assert_refused(harness, status, 400)
        assert body["error"]
    assert harness.state() == before
    assert harness.store.get_player(17) is None


async def test_malformed_payloads_are_400(harness: Harness) -> None:
    before = harness.state()
    good = harness.command(18, "leave")
    broken = [
        {**good, "type": 99},
        {**good, "id": "abc"},
        {**good, "application_id": "1"},  # another application
        {**good, "user": None},
        {**good, "data": []},
        {**harness.component(18, "queue:leave"), "data": {"custom_id": 5}},
        harness.component(18, "match:1:report", values=["win", "loss"]),
        harness.component(18, "match:1:report", values=["forfeit"]),
        harness.component(18, "match:1:confirm", values=["x"]),
    ]
    for payload in broken:
        status, _ = await harness.post(payload)
        await assert_refused(harness, status, 400)
    assert harness.state() == before


async def test_healthz_and_status(harness: Harness) -> None:
    response = await harness.http.get("/healthz")
    assert response.status == 200 and await response.json() == {"ok": True}
    response = await harness.http.get("/status")
    status = await response.json()
    assert response.status == 200
    lanes = {lane["lane"]: lane for lane in status["limiter"]["lanes"]}
    assert set(lanes) == {"interaction", "urgent", "normal", "background"}
    assert {"queued", "in_flight"} <= set(lanes["urgent"])
    assert "buckets" in status["limiter"] and "in_flight" in status["limiter"]
    assert status["dispatch"]["strategy"] == "paced"
    assert "recent_waves" in status["dispatch"]
    assert status["queue"]["total"] == 0
    assert status["outbox"] == {"pending": 0, "delivered": 0, "failed": 0}
