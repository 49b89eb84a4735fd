"""Typed errors for Discord REST calls.

Callers branch on *what happened*, not on status numbers: a closed DM (403 code 50007) is a
normal outcome for a ladder bot and is caught as `DMsClosed`; an expired interaction token
(401 code 50027) tells the caller to fall back to the bot token and channel routes. Every
`HTTPException` carries the HTTP status, Discord's JSON error code (0 when absent) and the
message, so logs and metrics can name the exact failure. Errors that are not HTTP responses
(`Banned`, `RateLimitedTooLong`, `TransportFailure`) share the `DiscordError` base.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadRequest",
    "Banned",
    "DMsClosed",
    "DiscordError",
    "Forbidden",
    "HTTPException",
    "InteractionAlreadyAcknowledged",
    "InvalidWebhookToken",
    "NotFound",
    "RateLimitedTooLong",
    "ServerError",
    "TransportFailure",
    "Unauthorized",
    "UnknownInteraction",
    "error_from_response",
]


class DiscordError(Exception):
    """Base of every error raised by `bot.discord`."""


class HTTPException(DiscordError):
    """Discord answered with an error status."""

    def __init__(self, status: int, code: int = 0, message: str = "", body: Any = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        super().__init__(f"{status} (code {code}): {message}" if message else f"{status}")


class BadRequest(HTTPException):
    """400: the request itself is wrong (form errors are code 50035)."""


class Unauthorized(HTTPException):
    """401: bad bot token, or an interaction token Discord no longer accepts."""


class Forbidden(HTTPException):
    """403: missing permission, DMs closed, or a Cloudflare block (code 40333)."""


class NotFound(HTTPException):
    """404: unknown channel, message, webhook, interaction..."""


class ServerError(HTTPException):
    """5xx after every retry was spent."""


class DMsClosed(Forbidden):
    """403 code 50007: the user does not accept DMs from the bot."""


class InteractionAlreadyAcknowledged(BadRequest):
    """400 code 40060: a second response to one interaction."""


class InvalidWebhookToken(Unauthorized):
    """401 code 50027: the interaction token expired (older than 15 minutes) or is wrong."""


class UnknownInteraction(NotFound):
    """404 code 10062: the interaction is unknown (or answered too late)."""


class RateLimitedTooLong(DiscordError):
    """A 429 asked for a longer wait than allowed, or 429s kept coming past the retry limit."""

    def __init__(self, route: str, retry_after: float, reason: str) -> None:
        self.route = route
        self.retry_after = retry_after
        self.reason = reason
        super().__init__(f"{route}: {reason} (retry_after={retry_after:.3f}s)")


class Banned(DiscordError):
    """A ban-shaped 429 (Cloudflare block): all traffic is stopped; nothing more is sent."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"Discord (Cloudflare) ban suspected: {detail}; all traffic stopped")


class TransportFailure(DiscordError):
    """The connection failed on every attempt (httpx.TransportError)."""

    def __init__(self, route: str, attempts: int, cause: BaseException) -> None:
        self.route = route
        self.attempts = attempts
        super().__init__(f"{route}: connection failed after {attempts} attempts: {cause!r}")


_BY_CODE: dict[int, type[HTTPException]] = {
    50007: DMsClosed,
    40060: InteractionAlreadyAcknowledged,
    50027: InvalidWebhookToken,
    10062: UnknownInteraction,
}
_BY_STATUS: dict[int, type[HTTPException]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
}


def error_from_response(status: int, body: Any) -> HTTPException:
    """Build the most specific exception for an error response (body: parsed JSON or text)."""
    code = 0
    message = ""
    if isinstance(body, dict):
        raw_code = body.get("code", 0)
        code = raw_code if isinstance(raw_code, int) else 0
        message = str(body.get("message", ""))
    elif isinstance(body, str):
        message = body[:200]
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = ServerError if status >= 500 else _BY_STATUS.get(status, HTTPException)
    return cls(status, code, message, body)
