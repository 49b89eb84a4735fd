"""Each kind of 429, as the client meets it."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from bot.clock import ManualClock
from bot.discord import (
    Banned,
    DiscordClient,
    InvalidRequestConfig,
    LimiterConfig,
    RateLimitedTooLong,
    RetryConfig,
)
from tests.bot.discord.scripted import VIA, Scripted, bucket_headers, ok
from tests.bot.discord.vtime import VirtualTime

BASE = "https://discord.test/api/v10"


def client_for(
    clock: ManualClock, vt: VirtualTime, script: Scripted, **kwargs: object
) -> DiscordClient:
    return DiscordClient(
        "t0k", BASE, clock=clock, transport=script.transport(), sleep=vt.sleep, **kwargs
    )  # type: ignore[arg-type]


def too_many(
    retry_after: float, headers: dict[str, str], *, code: int | None = None, glob: bool = False
) -> httpx.Response:
    body: dict[str, object] = {"message": "limited", "retry_after": retry_after, "global": glob}
    if code is not None:
        body["code"] = code
    return httpx.Response(429, headers={**VIA, "Retry-After": "1", **headers}, json=body)


def times_for(script: Scripted, path: str) -> list[float]:
    return [s.at for s in script.sent if s.path == path]


async def test_user_429_pauses_its_bucket_then_retries(clock: ManualClock, vt: VirtualTime) -> None:
    script = Scripted(clock)
    script.on("/channels/111/messages", too_many(2.0, bucket_headers(0, 2.0)))
    async with client_for(clock, vt, script) as client:
        t0 = clock.monotonic()
        a = asyncio.ensure_future(client.create_message(111, "a"))
        b = asyncio.ensure_future(client.create_message(111, "b"))
        c = asyncio.ensure_future(client.create_message(222, "c"))
        await vt.run(asyncio.gather(a, b, c))
        counters = client.limiter.snapshot().counters
    same = [t - t0 for t in times_for(script, "/channels/111/messages")]
    other = [t - t0 for t in times_for(script, "/channels/222/messages")]
    assert same[0] == 0.0 and all(t >= 2.0 for t in same[1:]) and len(same) == 3
    assert other == [0.0]  # another bucket is not held back
    assert counters["rate_limited"] == {"user": 1}
    assert counters["retries"] == {"rate_limit": 1}


async def test_shared_429_waits_for_that_request_only(clock: ManualClock, vt: VirtualTime) -> None:
    script = Scripted(clock)
    script.on(
        "/channels/111/messages",
        too_many(3.0, bucket_headers(3, 1.0, scope="shared"), code=40062),
        ok(headers=bucket_headers(2, 2.0)),
        ok(headers=bucket_headers(1, 3.0)),
    )
    async with client_for(clock, vt, script) as client:
        t0 = clock.monotonic()
        first = asyncio.ensure_future(client.create_message(111, "first"))
        others = [asyncio.ensure_future(client.create_message(111, f"o{i}")) for i in range(2)]
        await vt.run(asyncio.gather(first, *others))
        snap = client.limiter.snapshot()
    sent = [(s.at - t0, s.body["content"]) for s in script.sent]
    assert sent[0] == (0.0, "first")
    # The other two go as soon as the 429 has taught the bucket (Remaining 3): not poisoned.
    assert sorted(sent[1:3]) == [(0.0, "o0"), (0.0, "o1")]
    assert sent[3][1] == "first" and sent[3][0] >= 3.0
    assert snap.counters["rate_limited"] == {"shared": 1}
    assert snap.invalid_requests_in_window == 0  # shared 429s are not invalid requests


async def test_sublimit_429_waits_for_that_request_only(
    clock: ManualClock, vt: VirtualTime
) -> None:
    script = Scripted(clock)
    script.on("/channels/111/messages", too_many(0.5, bucket_headers(3, 1.0)))
    async with client_for(clock, vt, script) as client:
        t0 = clock.monotonic()
        first = asyncio.ensure_future(client.create_message(111, "first"))
        second = asyncio.ensure_future(client.create_message(111, "second"))
        await vt.run(asyncio.gather(first, second))
        counters = client.limiter.snapshot().counters
    sent = [(round(s.at - t0, 3), s.body["content"]) for s in script.sent]
    assert sent[:2] == [(0.0, "first"), (0.0, "second")]
    assert sent[2][1] == "first" and sent[2][0] >= 0.5
    assert counters["rate_limited"] == {"sublimit": 1}


async def test_global_429_pauses_counted_routes_but_not_interactions(
    clock: ManualClock, vt: VirtualTime
) -> None:
    script = Scripted(clock)
    script.on(
        "/channels/111/messages",
        too_many(1.5, {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}, glob=True),
    )
    async with client_for(clock, vt, script) as client:
        t0 = clock.monotonic()

        async def scenario() -> None:
            first = asyncio.ensure_future(client.create_message(111, "a"))
            await vt.sleep(0.1)
            await asyncio.gather(
                first,
                client.create_message(222, "b"),
                client.get_me(),
                client.create_interaction_response(9, "itok", 5),
                client.edit_original_response(7, "itok", content="found"),
            )

        await vt.run(scenario())
        counters = client.limiter.snapshot().counters
    when = {s.path: round(s.at - t0, 3) for s in script.sent}
    assert when["/interactions/9/itok/callback"] == 0.1
    assert when["/webhooks/7/itok/messages/@original"] == 0.1
    assert when["/channels/222/messages"] >= 1.5
    assert when["/users/@me"] >= 1.5
    assert times_for(script, "/channels/111/messages")[1] - t0 >= 1.5
    assert counters["rate_limited"] == {"global": 1}


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(
            429,
            headers={"Content-Type": "application/json"},
            json={"message": "limited", "retry_after": 1.0, "global": False},
        ),
        httpx.Response(
            429,
            headers={"Content-Type": "application/json", "Via": "1.1 google"},
            json={"code": 0, "message": "You are being blocked from accessing our API"},
        ),
        httpx.Response(
            429,
            headers={"Content-Type": "text/html"},
            text="<html>Error 1015 You are being rate limited</html>",
        ),
    ],
    ids=["no-via", "no-retry-after", "html"],
)
async def test_ban_shaped_429_stops_all_traffic(
    clock: ManualClock, vt: VirtualTime, reply: httpx.Response, caplog: pytest.LogCaptureFixture
) -> None:
    script = Scripted(clock)
    script.on("/channels/111/messages", reply)
    caplog.set_level(logging.CRITICAL, logger="bot.discord")
    async with client_for(clock, vt, script) as client:
        queued = [asyncio.ensure_future(client.create_message(111, f"q{i}")) for i in range(3)]
        results = await vt.run(asyncio.gather(*queued, return_exceptions=True))
        assert all(isinstance(r, Banned) for r in results), results
        with pytest.raises(Banned):
            await client.get_me()
        with pytest.raises(Banned):
            await client.create_interaction_response(1, "tok", 5)
        assert client.limiter.snapshot().banned is not None
    assert len(script.sent) == 1  # nothing after the ban-shaped answer
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1 and "event=banned" in critical[0].getMessage()


async def test_429_asking_too_long_raises_instead_of_waiting(
    clock: ManualClock, vt: VirtualTime
) -> None:
    script = Scripted(clock)
    script.on("/channels/111/messages", too_many(600.0, bucket_headers(0, 600.0)))
    async with client_for(clock, vt, script, retry=RetryConfig(max_rate_limit_wait=60)) as client:
        with pytest.raises(RateLimitedTooLong):
            await vt.run(client.create_message(111, "x"))
    assert len(script.sent) == 1


async def test_invalid_requests_warn_before_the_ban_threshold(
    clock: ManualClock, vt: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    script = Scripted(clock)
    forbidden = httpx.Response(403, headers=VIA, json={"message": "DMs closed", "code": 50007})
    script.default = forbidden
    config = LimiterConfig(invalid_requests=InvalidRequestConfig(threshold=10, window=600))
    caplog.set_level(logging.WARNING, logger="bot.discord.invalid")
    async with client_for(clock, vt, script, limiter_config=config) as client:
        for i in range(9):
            with pytest.raises(Exception, match="50007"):
                await vt.run(client.create_message(1000 + i, "x"))
        assert client.limiter.snapshot().invalid_requests_in_window == 9
    warnings = [r.getMessage() for r in caplog.records if "invalid_requests_high" in r.getMessage()]
    assert len(warnings) == 2
    assert "count=5 " in warnings[0] and "count=8 " in warnings[1]
