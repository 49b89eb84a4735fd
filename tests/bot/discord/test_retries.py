"""5xx and connection errors: bounded retries with backoff, the same nonce every time."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.clock import ManualClock
from bot.discord import DiscordClient, RetryConfig, ServerError, TransportFailure
from tests.bot.discord.scripted import VIA, Scripted
from tests.bot.discord.vtime import VirtualTime

BASE = "https://discord.test/api/v10"
PATH = "/channels/111/messages"


def client_for(
    clock: ManualClock, vt: VirtualTime, script: Scripted, attempts: int = 4
) -> DiscordClient:
    retry = RetryConfig(max_attempts=attempts, backoff_base=0.5, backoff_max=4.0)
    return DiscordClient(
        "t0k", BASE, clock=clock, transport=script.transport(), sleep=vt.sleep, retry=retry
    )


def server_error(status: int = 502) -> httpx.Response:
    return httpx.Response(status, headers=VIA, json={"message": "bad gateway", "code": 0})


def connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection reset", request=request)


@pytest.mark.parametrize("nonce", ["match-42-p2", None], ids=["caller-nonce", "generated"])
async def test_5xx_retries_with_the_same_nonce(
    clock: ManualClock, vt: VirtualTime, nonce: str | None
) -> None:
    script = Scripted(clock)
    script.on(PATH, server_error(500), server_error(502))
    async with client_for(clock, vt, script) as client:
        await vt.run(client.create_message(111, "details", nonce=nonce))
        counters = client.limiter.snapshot().counters
    bodies = [s.body for s in script.sent]
    assert len(bodies) == 3
    assert len({b["nonce"] for b in bodies}) == 1
    assert all(b["enforce_nonce"] is True for b in bodies)
    if nonce is not None:
        assert bodies[0]["nonce"] == nonce
    assert counters["retries"] == {"server_error": 2}
    # Exponential backoff with jitter in [0.5, 1.5): 0.5 s base, then 1 s base.
    gaps = [b.at - a.at for a, b in zip(script.sent, script.sent[1:], strict=False)]
    assert 0.25 <= gaps[0] < 0.75 and 0.5 <= gaps[1] < 1.5


async def test_connection_errors_retry_with_the_same_nonce(
    clock: ManualClock, vt: VirtualTime
) -> None:
    script = Scripted(clock)
    script.on(PATH, connect_error, connect_error)
    async with client_for(clock, vt, script) as client:
        message = await vt.run(client.create_message(111, "x"))
        counters = client.limiter.snapshot().counters
    assert message == {"id": "1"}
    assert len(script.sent) == 3 and len({s.body["nonce"] for s in script.sent}) == 1
    assert counters["retries"] == {"transport": 2}


async def test_5xx_attempts_are_bounded(clock: ManualClock, vt: VirtualTime) -> None:
    script = Scripted(clock)
    script.default = lambda request: server_error(503)
    async with client_for(clock, vt, script, attempts=3) as client:
        with pytest.raises(ServerError) as caught:
            await vt.run(client.create_message(111, "x"))
    assert caught.value.status == 503
    assert len(script.sent) == 3


async def test_connection_error_attempts_are_bounded(clock: ManualClock, vt: VirtualTime) -> None:
    script = Scripted(clock)
    script.default = connect_error
    async with client_for(clock, vt, script, attempts=3) as client:
        with pytest.raises(TransportFailure) as caught:
            await vt.run(client.get_me())
    assert caught.value.attempts == 3
    assert len(script.sent) == 3


async def test_a_retry_backoff_does_not_hold_back_other_requests(
    clock: ManualClock, vt: VirtualTime
) -> None:
    script = Scripted(clock)
    script.on(PATH, server_error(500))
    async with client_for(clock, vt, script) as client:
        t0 = clock.monotonic()

        async def scenario() -> None:
            failing = asyncio.ensure_future(client.create_message(111, "x"))
            await vt.sleep(0.01)
            await client.create_message(222, "y")
            assert clock.monotonic() - t0 < 0.1  # did not wait for the backoff
            await failing

        await vt.run(scenario())
    assert [s.path for s in script.sent] == [PATH, "/channels/222/messages", PATH]
