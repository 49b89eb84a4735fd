"""The bot's own Discord REST client: httpx, a rate-limit-aware limiter, typed errors.

Start with `DiscordClient`. The limiter (`Limiter`, reachable as ``client.limiter``) is the
part other code builds on: priority lanes (`Lane`), learned per-route buckets, a proactive
global pacer, and `Limiter.snapshot` for status pages. `verify_request` checks the Ed25519
signature of incoming interactions.
"""

from bot.discord.client import MISSING, DiscordClient, new_nonce
from bot.discord.errors import (
    BadRequest,
    Banned,
    DiscordError,
    DMsClosed,
    Forbidden,
    HTTPException,
    InteractionAlreadyAcknowledged,
    InvalidWebhookToken,
    NotFound,
    RateLimitedTooLong,
    ServerError,
    TransportFailure,
    Unauthorized,
    UnknownInteraction,
)
from bot.discord.global_budget import GlobalConfig
from bot.discord.invalid_requests import InvalidRequestConfig
from bot.discord.lanes import Lane
from bot.discord.limiter import Feedback, Limiter, LimiterConfig, LimiterSnapshot, Permit
from bot.discord.rest import Attempt, RetryConfig
from bot.discord.routes import Route
from bot.discord.signature import verify, verify_request

__all__ = [
    "MISSING",
    "Attempt",
    "BadRequest",
    "Banned",
    "DMsClosed",
    "DiscordClient",
    "DiscordError",
    "Feedback",
    "Forbidden",
    "GlobalConfig",
    "HTTPException",
    "InteractionAlreadyAcknowledged",
    "InvalidRequestConfig",
    "InvalidWebhookToken",
    "Lane",
    "Limiter",
    "LimiterConfig",
    "LimiterSnapshot",
    "NotFound",
    "Permit",
    "RateLimitedTooLong",
    "RetryConfig",
    "Route",
    "ServerError",
    "TransportFailure",
    "Unauthorized",
    "UnknownInteraction",
    "new_nonce",
    "verify",
    "verify_request",
]
