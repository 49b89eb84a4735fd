"""The client-breaking details of DISCORD_RATE_LIMITS.md §1-§3, checked on real responses."""

from __future__ import annotations

import base64
import math
import re

from mockdiscord.tokens import bot_id_from_token

from .conftest import Mock

BUCKET_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Reset-After",
    "X-RateLimit-Bucket",
    "X-RateLimit-Scope",
)
THREE_DECIMALS = re.compile(r"^\d+\.\d{3}$")


async def _fill_bucket(mock: Mock, channel_id: str) -> list:
    responses = []
    for i in range(6):
        responses.append(
            await mock.api("POST", f"/channels/{channel_id}/messages", json={"content": str(i)})
        )
    return responses


async def test_via_and_exact_content_type_on_200_4xx_and_429(mock: Mock) -> None:
    channel = await mock.new_dm()
    ok = await mock.api("GET", "/users/@me")
    not_found = await mock.api("GET", "/channels/1176543210987654321")
    unauthorized = await mock.api("GET", "/users/@me", token=None)
    limited = (await _fill_bucket(mock, channel))[-1]
    assert [r.status for r in (ok, not_found, unauthorized, limited)] == [200, 404, 401, 429]
    for response in (ok, not_found, unauthorized, limited):
        assert response.headers["Via"] == "1.1 google"
        assert response.headers["Content-Type"] == "application/json"
    no_body = await mock.api(
        "DELETE", f"/channels/{channel}/messages/{await _any_message(mock, channel)}"
    )
    assert no_body.status == 204 and no_body.headers["Via"] == "1.1 google"


async def _any_message(mock: Mock, channel: str) -> str:
    messages = await (await mock.api("GET", f"/channels/{channel}/messages")).json()
    return messages[0]["id"]


async def test_bucket_headers_formats_and_consistency_with_the_wall_clock(mock: Mock) -> None:
    channel = await mock.new_dm()
    responses = await _fill_bucket(mock, channel)
    wall = mock.clock.wall()
    for response in responses:
        headers = response.headers
        for name in BUCKET_HEADERS:
            assert name in headers, name
        assert headers["X-RateLimit-Scope"] == "user"
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-RateLimit-Bucket"])
        assert THREE_DECIMALS.match(headers["X-RateLimit-Reset"])
        assert THREE_DECIMALS.match(headers["X-RateLimit-Reset-After"])
        reset, after = (
            float(headers["X-RateLimit-Reset"]),
            float(headers["X-RateLimit-Reset-After"]),
        )
        assert abs(reset - (wall + after)) <= 0.002  # ManualClock: no time passes
        assert "X-RateLimit-Global" not in headers
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["4", "3", "2", "1", "0", "0"]
    limited = responses[-1]
    assert limited.status == 429
    assert limited.headers["Retry-After"].isdigit() and int(limited.headers["Retry-After"]) >= 1
    body = await limited.json()
    assert body["global"] is False and body["message"] == "You are being rate limited."
    assert math.ceil(body["retry_after"]) == int(limited.headers["Retry-After"])


async def test_bucket_headers_also_on_4xx_of_a_bucketed_route(mock: Mock) -> None:
    channel = await mock.new_dm()
    response = await mock.api("POST", f"/channels/{channel}/messages", json={"content": ""})
    assert response.status == 400 and (await response.json())["code"] == 50006
    assert response.headers["X-RateLimit-Scope"] == "user"
    assert response.headers["X-RateLimit-Remaining"] == "4"


async def test_unbucketed_route_sends_no_bucket_headers(mock: Mock) -> None:
    response = await mock.api("GET", "/users/@me")
    assert not any(name in response.headers for name in BUCKET_HEADERS)


async def test_global_429_shape(mock: Mock) -> None:
    patched = await mock.control("PATCH", f"/applications/{mock.app_id}", json={"global_limit": 2})
    assert patched.status == 200
    statuses = [(await mock.api("GET", "/users/@me")) for _ in range(3)]
    assert [r.status for r in statuses] == [200, 200, 429]
    limited = statuses[-1]
    assert limited.headers["X-RateLimit-Global"] == "true"
    assert limited.headers["X-RateLimit-Scope"] == "global"
    assert limited.headers["Via"] == "1.1 google"
    assert limited.headers["Content-Type"] == "application/json"
    assert int(limited.headers["Retry-After"]) >= 1
    assert "X-RateLimit-Bucket" not in limited.headers
    assert (await limited.json())["global"] is True
    mock.clock.advance(1.0)
    assert (await mock.api("GET", "/users/@me")).status == 200


async def test_callback_has_no_bucket_headers(mock: Mock) -> None:
    world = mock.state.world
    user = world.create_user("cb")
    interaction = world.create_interaction(world.default_application, user, world.text_channel)
    response = await mock.api(
        "POST",
        f"/interactions/{interaction.id}/{interaction.token}/callback",
        json={"type": 4, "data": {"content": "hi"}},
        token=None,
    )
    assert response.status == 204
    assert not any(name.lower().startswith("x-ratelimit") for name in response.headers)
    assert response.headers["Via"] == "1.1 google"


async def test_snowflakes_and_token_shape_in_responses(mock: Mock) -> None:
    me = await (await mock.api("GET", "/users/@me")).json()
    channel = await mock.new_dm()
    message = await (
        await mock.api("POST", f"/channels/{channel}/messages", json={"content": "x"})
    ).json()
    for value in (me["id"], channel, message["id"], message["author"]["id"], mock.app_id):
        assert value.isdigit() and 17 <= len(value) <= 19
    head = mock.token.split(".")[0]
    assert mock.token.count(".") == 2
    assert base64.b64decode(head + "=" * (-len(head) % 4)).decode() == me["id"]
    assert bot_id_from_token(mock.token) == me["id"]
