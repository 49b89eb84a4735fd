"""Each REST method: method, path, body, auth header, default lane."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.clock import ManualClock
from bot.discord import MISSING, DiscordClient, Lane
from tests.bot.discord.scripted import VIA
from tests.bot.discord.vtime import VirtualTime

BASE = "https://discord.test/api/v10"


async def call(clock: ManualClock, vt: VirtualTime, method: str, *args: Any, **kwargs: Any):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "DELETE" or request.url.path.endswith("/callback"):
            return httpx.Response(204, headers={"Via": "1.1 google"})
        return httpx.Response(200, headers=VIA, json={"id": "9"})

    transport = httpx.MockTransport(handler)
    async with DiscordClient("T.o.k", BASE, clock=clock, transport=transport, sleep=vt.sleep) as c:
        result = await vt.run(getattr(c, method)(*args, **kwargs))
        lanes = c.limiter.snapshot().counters["requests_by_lane"]
    (request,) = seen
    body = httpx.Response(200, content=request.content).json() if request.content else None
    return request, body, result, lanes


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "http", "path", "body", "lane"),
    [
        ("get_me", (), {}, "GET", "/users/@me", None, "normal"),
        ("create_dm", (42,), {}, "POST", "/users/@me/channels", {"recipient_id": "42"}, "normal"),
        ("edit_message", (1, 2), {"content": "x", "lane": Lane.URGENT}, "PATCH",
         "/channels/1/messages/2", {"content": "x"}, "urgent"),
        ("edit_message", (1, 2), {"components": []}, "PATCH", "/channels/1/messages/2",
         {"components": []}, "normal"),
        ("get_message", (1, 2), {}, "GET", "/channels/1/messages/2", None, "normal"),
        ("delete_message", (1, 2), {}, "DELETE", "/channels/1/messages/2", None, "normal"),
        ("create_interaction_response", (5, "itok", 4, {"content": "hi"}), {}, "POST",
         "/interactions/5/itok/callback", {"type": 4, "data": {"content": "hi"}}, "interaction"),
        ("edit_original_response", (7, "itok"), {"content": None}, "PATCH",
         "/webhooks/7/itok/messages/@original", {"content": None}, "interaction"),
        ("get_original_response", (7, "itok"), {}, "GET",
         "/webhooks/7/itok/messages/@original", None, "interaction"),
        ("delete_original_response", (7, "itok"), {}, "DELETE",
         "/webhooks/7/itok/messages/@original", None, "interaction"),
        ("create_followup", (7, "itok", "hey"), {"flags": 64}, "POST", "/webhooks/7/itok",
         {"content": "hey", "flags": 64}, "interaction"),
        ("edit_followup", (7, "itok", 3), {"content": "e"}, "PATCH",
         "/webhooks/7/itok/messages/3", {"content": "e"}, "interaction"),
        ("delete_followup", (7, "itok", 3), {}, "DELETE", "/webhooks/7/itok/messages/3", None,
         "interaction"),
        ("bulk_overwrite_commands", (7, [{"name": "queue"}]), {}, "PUT",
         "/applications/7/commands", [{"name": "queue"}], "normal"),
        ("bulk_overwrite_commands", (7, []), {"guild_id": 8}, "PUT",
         "/applications/7/guilds/8/commands", [], "normal"),
    ],
)  # fmt: skip
async def test_methods_send_the_right_request(
    clock: ManualClock, vt: VirtualTime, method: str, args: tuple[Any, ...],
    kwargs: dict[str, Any], http: str, path: str, body: Any, lane: str,
) -> None:  # fmt: skip
    request, sent_body, _, lanes = await call(clock, vt, method, *args, **kwargs)
    assert request.method == http
    assert request.url.path == "/api/v10" + path
    assert request.headers["Authorization"] == "Bot T.o.k"
    assert request.headers["User-Agent"].startswith("DiscordBot (")
    assert sent_body == body
    assert lanes == {lane: 1}


async def test_create_message_body(clock: ManualClock, vt: VirtualTime) -> None:
    embed = {"title": "Match #1"}
    button = {"type": 1, "components": []}
    _, body, result, _ = await call(
        clock, vt, "create_message", 1, "hi", embeds=[embed], components=[button], nonce=77
    )
    assert body == {"nonce": "77", "enforce_nonce": True, "content": "hi", "embeds": [embed],
                    "components": [button]}  # fmt: skip
    assert result == {"id": "9"}


def test_missing_is_falsy_and_singleton() -> None:
    assert not MISSING and repr(MISSING) == "MISSING"
    assert type(MISSING)() is MISSING


def test_a_token_is_required(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="token"):
        DiscordClient("", BASE, clock=clock)
