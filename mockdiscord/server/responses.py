"""Response builders that get Discord's client-breaking details right.

- `Content-Type` is exactly `application/json`: discord.py compares the whole string, so the
  `; charset=utf-8` that `web.json_response` appends makes it read bodies as text. Bodies
  are therefore serialised here and sent as bytes with the header set by hand.
- `Via: 1.1 google` is on every API response: discord.py treats a 429 without it as a
  Cloudflare ban.
- Errors are `{"message", "code"}`; form errors are 400/50035 with a nested `errors` tree
  whose leaves are `{"_errors": [{"code", "message"}]}`.

Handlers raise `DiscordError`; the API pipeline turns it into a response. The control plane
uses `ControlError`, whose body names the offending field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

__all__ = [
    "JSON_CONTENT_TYPE",
    "VIA",
    "ControlError",
    "DiscordError",
    "FieldErrors",
    "control_json",
    "dump_json",
    "field_error",
    "json_response",
    "no_content",
]

JSON_CONTENT_TYPE = "application/json"
VIA = "1.1 google"
FieldErrors = dict[str, Any]


def dump_json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A Discord API response: exact JSON content type and `Via`."""
    merged = {"Content-Type": JSON_CONTENT_TYPE, "Via": VIA}
    if headers:
        merged.update(headers)
    return web.Response(body=dump_json(data), status=status, headers=merged)


def no_content(headers: Mapping[str, str] | None = None) -> web.Response:
    merged = {"Via": VIA}
    if headers:
        merged.update(headers)
    return web.Response(status=204, headers=merged)


def control_json(data: Any, status: int = 200) -> web.Response:
    """A control-plane response: exact JSON content type, no Discord-only headers."""
    return web.Response(
        body=dump_json(data), status=status, headers={"Content-Type": JSON_CONTENT_TYPE}
    )


def field_error(code: str, message: str) -> FieldErrors:
    """One leaf of a 50035 errors tree."""
    return {"_errors": [{"code": code, "message": message}]}


class DiscordError(Exception):
    """An error Discord would answer with; `response()` renders it."""

    def __init__(
        self, status: int, code: int, message: str, errors: FieldErrors | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def response(self) -> web.Response:
        return json_response(self.body(), status=self.status)

    # The errors the REST surface uses, named like Discord's JSON error codes.
    @classmethod
    def unauthorized(cls) -> DiscordError:
        return cls(401, 0, "401: Unauthorized")

    @classmethod
    def route_not_found(cls) -> DiscordError:
        return cls(404, 0, "404: Not Found")

    @classmethod
    def method_not_allowed(cls) -> DiscordError:
        return cls(405, 0, "405: Method Not Allowed")

    @classmethod
    def invalid_json(cls) -> DiscordError:
        return cls(400, 50109, "The request body contains invalid JSON.")

    @classmethod
    def too_large(cls) -> DiscordError:
        return cls(413, 40005, "Request entity too large")

    @classmethod
    def form(cls, errors: FieldErrors) -> DiscordError:
        return cls(400, 50035, "Invalid Form Body", errors)

    @classmethod
    def unknown_application(cls) -> DiscordError:
        return cls(404, 10002, "Unknown Application")

    @classmethod
    def unknown_channel(cls) -> DiscordError:
        return cls(404, 10003, "Unknown Channel")

    @classmethod
    def unknown_message(cls) -> DiscordError:
        return cls(404, 10008, "Unknown Message")

    @classmethod
    def unknown_user(cls) -> DiscordError:
        return cls(404, 10013, "Unknown User")

    @classmethod
    def unknown_webhook(cls) -> DiscordError:
        return cls(404, 10015, "Unknown Webhook")

    @classmethod
    def unknown_interaction(cls) -> DiscordError:
        return cls(404, 10062, "Unknown interaction")

    @classmethod
    def not_application_owner(cls) -> DiscordError:
        return cls(403, 20012, "You are not authorized to perform this action on this application")

    @classmethod
    def already_acknowledged(cls) -> DiscordError:
        return cls(400, 40060, "Interaction has already been acknowledged.")

    @classmethod
    def not_author(cls) -> DiscordError:
        return cls(403, 50005, "Cannot edit a message authored by another user")

    @classmethod
    def empty_message(cls) -> DiscordError:
        return cls(400, 50006, "Cannot send an empty message")

    @classmethod
    def dms_closed(cls) -> DiscordError:
        return cls(403, 50007, "Cannot send messages to this user")

    @classmethod
    def dm_channel_action(cls) -> DiscordError:
        return cls(403, 50003, "Cannot execute action on a DM channel")

    @classmethod
    def invalid_webhook_token(cls) -> DiscordError:
        return cls(401, 50027, "Invalid Webhook Token")


class ControlError(Exception):
    """A bad control-plane request: a 4xx whose JSON body names the field at fault."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

    def response(self) -> web.Response:
        return control_json({"error": self.message, "field": self.field}, status=self.status)
