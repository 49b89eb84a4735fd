"""Delivery: a signed POST to a real (loopback) bot, raced against the deadline."""

import asyncio
import socket

import aiohttp
import pytest
from aiohttp import web

from mockdiscord.clock import SystemClock
from mockdiscord.interactions import (
    Acknowledgement,
    AckResult,
    InteractionDelivery,
    InteractionSigner,
)
from tests.mockdiscord.testbot import SignedTestBot, reply

CLOCK = SystemClock()
PAYLOAD = {
    "id": "500000000000000001",
    "application_id": "600000000000000001",
    "type": 2,
    "token": "tok",
    "version": 1,
    "user": {"id": "1", "username": "ana"},
    "data": {"id": "9", "name": "queue", "type": 1},
}


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def signer():
    return InteractionSigner.generate()


def responder(ack, applied):
    def respond(body):
        result = ack.acknowledge(body["type"], via="http", now=CLOCK.monotonic())
        if result is not AckResult.OK:
            return result.value
        applied.append(body)
        return None

    return respond


async def deliver(session, signer, bot_url, ack, applied, deadline=3.0, **kw):
    delivery = InteractionDelivery(session, clock=CLOCK, deadline_s=deadline)
    return await delivery.deliver(
        url=bot_url, payload=PAYLOAD, signer=signer, ack=ack, respond=responder(ack, applied), **kw
    )


async def test_message_response_over_http_is_applied_and_reported(session, signer) -> None:
    ack, applied = Acknowledgement(2), []
    async with SignedTestBot(signer.public_key_hex) as bot:
        result = await deliver(session, signer, bot.url, ack, applied)
    assert bot.received == [PAYLOAD]
    assert bot.bad_signatures == 0
    assert result.outcome == "responded"
    assert result.response_type == 4
    assert result.http_status == 200
    assert result.interaction_id == PAYLOAD["id"]
    assert 0 <= result.latency_ms < 3000
    assert applied[0]["data"]["content"] == "hello ana"
    assert ack.acknowledged


async def test_deferred_response(session, signer) -> None:
    async def defer(payload):
        return reply({"type": 5})

    ack, applied = Acknowledgement(2), []
    async with SignedTestBot(signer.public_key_hex, defer) as bot:
        result = await deliver(session, signer, bot.url, ack, applied)
    assert (result.outcome, result.response_type) == ("deferred", 5)


async def test_slow_bot_fails_and_expires_the_interaction(session, signer) -> None:
    release = asyncio.Event()

    async def slow(payload):
        await release.wait()
        return reply({"type": 4, "data": {"content": "too late"}})

    ack, applied = Acknowledgement(2), []
    async with SignedTestBot(signer.public_key_hex, slow) as bot:
        result = await deliver(session, signer, bot.url, ack, applied, deadline=0.3)
        release.set()
    assert result.outcome == "failed"
    assert result.response_type is None
    assert result.http_status is None
    assert 300 <= result.latency_ms < 2000
    assert applied == []
    # A late callback now gets "Unknown interaction" (10062).
    assert ack.acknowledge(4, via="callback", now=CLOCK.monotonic()) is AckResult.EXPIRED


async def test_callback_acknowledgement_wins_and_http_status_is_still_reported(
    session, signer
) -> None:
    ack, applied = Acknowledgement(3), []

    async def via_callback(payload):
        # What the mock's callback route does when the bot POSTs .../callback.
        assert ack.acknowledge(7, via="callback", now=CLOCK.monotonic()) is AckResult.OK
        await asyncio.sleep(0.05)
        return web.Response(status=202)

    async with SignedTestBot(signer.public_key_hex, via_callback) as bot:
        result = await deliver(session, signer, bot.url, ack, applied)
    assert (result.outcome, result.response_type, result.http_status) == ("responded", 7, 202)
    assert applied == []


async def test_http_body_after_a_callback_is_refused_as_second_response(session, signer) -> None:
    ack, applied = Acknowledgement(2), []

    async def both(payload):
        ack.acknowledge(5, via="callback", now=CLOCK.monotonic())
        return reply({"type": 4, "data": {"content": "second"}})

    async with SignedTestBot(signer.public_key_hex, both) as bot:
        result = await deliver(session, signer, bot.url, ack, applied)
    assert (result.outcome, result.response_type) == ("deferred", 5)
    assert applied == []


async def test_a_non_json_200_waits_for_a_callback_then_fails(session, signer) -> None:
    async def empty(payload):
        return web.Response(status=200, text="ok")

    ack, applied = Acknowledgement(2), []
    async with SignedTestBot(signer.public_key_hex, empty) as bot:
        result = await deliver(session, signer, bot.url, ack, applied, deadline=0.3)
    assert result.outcome == "failed"
    assert result.http_status == 200
    assert "JSON" in result.detail
    assert result.latency_ms >= 300


async def test_a_response_type_not_allowed_for_the_interaction_is_refused(session, signer) -> None:
    async def update(payload):
        return reply({"type": 7, "data": {"content": "edit"}})

    ack, applied = Acknowledgement(2), []  # a slash command has no message to update
    async with SignedTestBot(signer.public_key_hex, update) as bot:
        result = await deliver(session, signer, bot.url, ack, applied, deadline=0.3)
    assert result.outcome == "failed"
    assert "invalid_type" in result.detail


async def test_error_status_is_rejected_at_once(session, signer) -> None:
    async def boom(payload):
        return web.Response(status=500)

    ack, applied = Acknowledgement(2), []
    async with SignedTestBot(signer.public_key_hex, boom) as bot:
        result = await deliver(session, signer, bot.url, ack, applied, deadline=2.0)
    assert (result.outcome, result.http_status) == ("rejected", 500)
    assert result.latency_ms < 1500
    assert not ack.pending


async def test_a_bot_with_the_wrong_key_rejects_with_401(session, signer) -> None:
    ack, applied = Acknowledgement(2), []
    async with SignedTestBot(InteractionSigner.generate().public_key_hex) as bot:
        result = await deliver(session, signer, bot.url, ack, applied)
    assert (result.outcome, result.http_status) == ("rejected", 401)
    assert bot.bad_signatures == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_an_unreachable_bot_is_rejected(session, signer) -> None:
    ack, applied = Acknowledgement(2), []
    url = f"http://127.0.0.1:{free_port()}/interactions"
    result = await deliver(session, signer, url, ack, applied)
    assert result.outcome == "rejected"
    assert result.http_status is None
    assert "unreachable" in result.detail


async def test_dropped_delivery_is_never_sent_and_fails(session, signer) -> None:
    ack, applied = Acknowledgement(2), []
    async with SignedTestBot(signer.public_key_hex) as bot:
        result = await deliver(session, signer, bot.url, ack, applied, deadline=0.2, drop=True)
    assert bot.received == []
    assert (result.outcome, result.fault) == ("failed", "dropped")


async def test_delay_eats_into_the_deadline(session, signer) -> None:
    ack, applied = Acknowledgement(2), []
    async with SignedTestBot(signer.public_key_hex) as bot:
        ok = await deliver(session, signer, bot.url, ack, applied, deadline=2.0, delay_s=0.2)
        late_ack = Acknowledgement(2)
        late = await deliver(session, signer, bot.url, late_ack, applied, deadline=0.2, delay_s=0.3)
    assert (ok.outcome, ok.fault) == ("responded", "delayed")
    assert ok.latency_ms >= 200
    # Delivered after the deadline: the bot still sees it, the interaction has failed.
    assert (late.outcome, late.fault) == ("failed", "delayed")
    assert len(bot.received) == 2
    assert len(applied) == 1


async def test_handshake_requires_pong_and_optionally_a_401_for_bad_signatures(
    session, signer
) -> None:
    delivery = InteractionDelivery(session, clock=CLOCK, deadline_s=1.0)
    args = {"signer": signer, "application_id": "1", "interaction_id": "2", "token": "t"}
    async with SignedTestBot(signer.public_key_hex) as bot:
        result = await delivery.handshake(url=bot.url, verify_probe=True, **args)
    assert result.ok, result.detail
    assert (bot.pings, bot.bad_signatures) == (1, 1)


async def test_handshake_fails_for_a_bot_that_does_not_verify(session, signer) -> None:
    async def trusting(request):
        return reply({"type": 1})

    app = web.Application()
    app.router.add_post("/i", trusting)
    delivery = InteractionDelivery(session, clock=CLOCK, deadline_s=1.0)
    args = {"signer": signer, "application_id": "1", "interaction_id": "2", "token": "t"}
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/i"
        assert (await delivery.handshake(url=url, **args)).ok
        probed = await delivery.handshake(url=url, verify_probe=True, **args)
    finally:
        await runner.cleanup()
    assert not probed.ok
    assert "401" in probed.detail
    assert probed.http_status == 200


async def test_handshake_fails_without_pong(session, signer) -> None:
    delivery = InteractionDelivery(session, clock=CLOCK, deadline_s=1.0)
    args = {"signer": signer, "application_id": "1", "interaction_id": "2", "token": "t"}
    wrong = await delivery.handshake(url=f"http://127.0.0.1:{free_port()}/x", **args)
    assert not wrong.ok
    assert "no answer" in wrong.detail


def test_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError):
        InteractionDelivery(None, clock=CLOCK, deadline_s=0)  # type: ignore[arg-type]
