"""Routes (path, major parameter, interaction exemption) and typed errors."""

from __future__ import annotations

import pytest

from bot.discord import (
    BadRequest,
    DMsClosed,
    Forbidden,
    HTTPException,
    InteractionAlreadyAcknowledged,
    InvalidWebhookToken,
    NotFound,
    Route,
    ServerError,
    Unauthorized,
    UnknownInteraction,
)
from bot.discord.errors import error_from_response


def test_channel_route_path_and_major() -> None:
    route = Route("post", "/channels/{channel_id}/messages", {"channel_id": 123})
    assert route.method == "POST"
    assert route.path == "/channels/123/messages"
    assert route.major == "channel_id=123"
    assert route.key == ("POST", "/channels/{channel_id}/messages")
    assert route.counts_globally and not route.is_interaction


def test_guild_and_webhook_majors() -> None:
    guild = Route("PUT", "/guilds/{guild_id}/members/{user_id}", {"guild_id": 5, "user_id": 6})
    assert guild.major == "guild_id=5"
    hook = Route("POST", "/webhooks/{webhook_id}/{webhook_token}", {"webhook_id": 7,
                 "webhook_token": "abc"})  # fmt: skip
    assert hook.major == "webhook_id=7:webhook_token=abc"
    assert hook.counts_globally  # an ordinary webhook counts
    assert Route("GET", "/users/@me").major == ""


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"),
        ("PATCH", "/webhooks/{application_id}/{interaction_token}/messages/@original"),
        ("POST", "/webhooks/{application_id}/{interaction_token}"),
        ("PATCH", "/webhooks/{application_id}/{interaction_token}/messages/{message_id}"),
    ],
)
def test_interaction_routes_are_exempt(method: str, template: str) -> None:
    params = {"interaction_id": 1, "interaction_token": "SECRET", "application_id": 2,
              "message_id": 3}  # fmt: skip
    needed = {k: v for k, v in params.items() if "{" + k + "}" in template}
    route = Route(method, template, needed)
    assert route.is_interaction and not route.counts_globally
    assert "SECRET" in route.major
    assert "SECRET" not in route.label  # tokens never reach the logs


def test_route_validation() -> None:
    with pytest.raises(ValueError, match="missing"):
        Route("GET", "/channels/{channel_id}")
    with pytest.raises(ValueError, match="method"):
        Route("FETCH", "/users/@me")


def test_path_parameters_are_escaped() -> None:
    route = Route("GET", "/channels/{channel_id}", {"channel_id": "1/../2"})
    assert route.path == "/channels/1%2F..%2F2"


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (403, {"message": "Cannot send messages to this user", "code": 50007}, DMsClosed),
        (400, {"message": "already acknowledged", "code": 40060}, InteractionAlreadyAcknowledged),
        (401, {"message": "Invalid Webhook Token", "code": 50027}, InvalidWebhookToken),
        (404, {"message": "Unknown interaction", "code": 10062}, UnknownInteraction),
        (404, {"message": "Unknown Channel", "code": 10003}, NotFound),
        (403, {"message": "internal network error", "code": 40333}, Forbidden),
        (401, {"message": "401: Unauthorized", "code": 0}, Unauthorized),
        (400, {"message": "Invalid Form Body", "code": 50035}, BadRequest),
        (502, "<html>bad gateway</html>", ServerError),
        (418, None, HTTPException),
    ],
)
def test_errors_are_typed(status: int, body: object, cls: type[HTTPException]) -> None:
    error = error_from_response(status, body)
    assert type(error) is cls
    assert error.status == status
    if isinstance(body, dict):
        assert error.code == body["code"]


def test_specific_errors_are_caught_by_their_family() -> None:
    assert issubclass(DMsClosed, Forbidden)
    assert issubclass(InvalidWebhookToken, Unauthorized)
    assert issubclass(UnknownInteraction, NotFound)
