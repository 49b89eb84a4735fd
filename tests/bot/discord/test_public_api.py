"""Pin the public surface of bot.discord (httpx style): changing it must be deliberate."""

from __future__ import annotations

import bot.discord

EXPECTED = {
    "MISSING", "Attempt", "BadRequest", "Banned", "DMsClosed", "DiscordClient", "DiscordError",
    "Feedback", "Forbidden", "GlobalConfig", "HTTPException", "InteractionAlreadyAcknowledged",
    "InvalidRequestConfig", "InvalidWebhookToken", "Lane", "Limiter", "LimiterConfig",
    "LimiterSnapshot", "NotFound", "Permit", "RateLimitedTooLong", "RetryConfig", "Route",
    "ServerError", "TransportFailure", "Unauthorized", "UnknownInteraction", "new_nonce",
    "verify", "verify_request",
}  # fmt: skip


def test_public_surface_is_pinned() -> None:
    assert set(bot.discord.__all__) == EXPECTED


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in bot.discord.__all__:
        value = getattr(bot.discord, name)
        if callable(value):
            assert value.__doc__, name


def test_lanes_are_ordered_first_to_last() -> None:
    lanes = list(bot.discord.Lane)
    assert [lane.label for lane in lanes] == ["interaction", "urgent", "normal", "background"]
    assert lanes == sorted(lanes)
