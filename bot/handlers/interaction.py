"""An incoming interaction, parsed and checked before any handler sees it.

Why strict: the endpoint is public. A valid signature proves the request came from
Discord, not that every field has the shape a handler assumes, and a handler must never
fail half-way through a state change because an option was an integer instead of a
string. So everything a handler reads is checked here first, and any surprise raises
`BadInteraction` (the endpoint answers 400 and nothing is written).

Options are read through `Options`, which checks each option's declared type and its
value's JSON type: ``options.string("bw_race")`` returns a ``str`` or None, or raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.commands_spec import ATTACHMENT, INTEGER, STRING, SUB_COMMAND, USER

__all__ = [
    "APPLICATION_COMMAND",
    "MESSAGE_COMPONENT",
    "PING",
    "Attachment",
    "BadInteraction",
    "Interaction",
    "Options",
    "parse_interaction",
]

PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
DM_CHANNEL = 1
DISCORD_EPOCH_MS = 1_420_070_400_000


class BadInteraction(Exception):
    """The payload is malformed; the endpoint answers 400 and changes nothing."""


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str
    filename: str
    size: int
    url: str


def _snowflake(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadInteraction(f"{where} must be a snowflake")
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        raise BadInteraction(f"{where} must be a snowflake")
    return int(text)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadInteraction(f"{where} must be an object")
    return value


def snowflake_time(snowflake: int) -> float:
    """Unix seconds at which a snowflake was made (its top 42 bits)."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


@dataclass(frozen=True)
class Options:
    """The typed options of a command (or of its chosen subcommand)."""

    values: Mapping[str, tuple[int, Any]] = field(default_factory=dict)
    resolved: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any, resolved: Mapping[str, Any], where: str) -> Options:
        if raw is None:
            return cls({}, resolved)
        if not isinstance(raw, list):
            raise BadInteraction(f"{where} must be a list")
        values: dict[str, tuple[int, Any]] = {}
        for index, option in enumerate(raw):
            option = _mapping(option, f"{where}[{index}]")
            name, kind = option.get("name"), option.get("type")
            if not isinstance(name, str) or isinstance(kind, bool) or not isinstance(kind, int):
                raise BadInteraction(f"{where}[{index}] needs a name and a type")
            values[name] = (kind, option.get("value"))
        return cls(values, resolved)

    def _get(self, name: str, kind: int, types: tuple[type, ...]) -> Any:
        if name not in self.values:
            return None
        declared, value = self.values[name]
        if declared != kind:
            raise BadInteraction(f"option {name!r} has type {declared}, expected {kind}")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, types):
            raise BadInteraction(f"option {name!r} has a value of the wrong type")
        return value

    def string(self, name: str) -> str | None:
        return self._get(name, STRING, (str,))

    def integer(self, name: str) -> int | None:
        value = self._get(name, INTEGER, (int,))
        if value is not None and not -(2**53) <= value <= 2**53:
            raise BadInteraction(f"option {name!r} is out of range")
        return value

    def user(self, name: str) -> tuple[int, str] | None:
        """(user id, display name from ``resolved.users``)."""
        value = self._get(name, USER, (str, int))
        if value is None:
            return None
        user_id = _snowflake(value, f"option {name!r}")
        users = self.resolved.get("users") or {}
        user = users.get(str(user_id)) if isinstance(users, Mapping) else None
        display = str(user_id)
        if isinstance(user, Mapping):
            display = str(user.get("global_name") or user.get("username") or display)
        return user_id, display

    def attachment(self, name: str) -> Attachment | None:
        value = self._get(name, ATTACHMENT, (str, int))
        if value is None:
            return None
        attachment_id = str(_snowflake(value, f"option {name!r}"))
        files = self.resolved.get("attachments") or {}
        data = files.get(attachment_id) if isinstance(files, Mapping) else None
        if not isinstance(data, Mapping):
            raise BadInteraction(f"attachment {attachment_id} is not in resolved.attachments")
        url, filename, size = data.get("url"), data.get("filename"), data.get("size", 0)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise BadInteraction("the attachment has no usable url")
        if not isinstance(filename, str) or not filename:
            raise BadInteraction("the attachment has no file name")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise BadInteraction("the attachment size is not a number")
        return Attachment(attachment_id, filename, size, url)


@dataclass(frozen=True)
class Interaction:
    id: int
    type: int
    token: str
    application_id: str
    user_id: int
    user_name: str
    channel_id: int | None
    in_dm: bool
    created_at: float
    """Unix seconds, from the interaction id (when Discord made it)."""
    command: str = ""
    """Command name; for /admin the subcommand too, e.g. ``"admin wave"``."""
    options: Options = field(default_factory=Options)
    custom_id: str = ""
    values: tuple[str, ...] | None = None
    message_id: int | None = None


def _user(payload: Mapping[str, Any]) -> tuple[int, str]:
    user = payload.get("user")
    if user is None and isinstance(payload.get("member"), Mapping):
        user = payload["member"].get("user")
    user = _mapping(user, "user")
    name = user.get("global_name") or user.get("username")
    if not isinstance(name, str) or not name:
        raise BadInteraction("user.username is missing")
    return _snowflake(user.get("id"), "user.id"), name[:100]


def parse_interaction(payload: Any, *, application_id: str, now: float) -> Interaction:
    """Check and parse a non-PING interaction; raises `BadInteraction`."""
    payload = _mapping(payload, "the body")
    kind = payload.get("type")
    if kind not in (APPLICATION_COMMAND, MESSAGE_COMPONENT) or isinstance(kind, bool):
        raise BadInteraction(f"unsupported interaction type {kind!r}")
    interaction_id = _snowflake(payload.get("id"), "id")
    token = payload.get("token")
    if not isinstance(token, str) or not token or len(token) > 500:
        raise BadInteraction("token is missing")
    app_id = str(payload.get("application_id", ""))
    if app_id != application_id:
        raise BadInteraction("the interaction is for another application")
    user_id, user_name = _user(payload)
    channel = payload.get("channel")
    channel_id: int | None = None
    in_dm = False
    if payload.get("channel_id") is not None:
        channel_id = _snowflake(payload["channel_id"], "channel_id")
    if isinstance(channel, Mapping):
        channel_id = channel_id or _snowflake(channel.get("id"), "channel.id")
        in_dm = channel.get("type") == DM_CHANNEL
    created_at = min(snowflake_time(interaction_id), now)
    data = _mapping(payload.get("data"), "data")
    common: dict[str, Any] = {
        "id": interaction_id,
        "type": kind,
        "token": token,
        "application_id": app_id,
        "user_id": user_id,
        "user_name": user_name,
        "channel_id": channel_id,
        "in_dm": in_dm,
        "created_at": created_at,
    }
    if kind == APPLICATION_COMMAND:
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise BadInteraction("data.name is missing")
        resolved = data.get("resolved") or {}
        if not isinstance(resolved, Mapping):
            raise BadInteraction("data.resolved must be an object")
        raw = data.get("options")
        if isinstance(raw, list) and raw and isinstance(raw[0], Mapping):
            first = raw[0]
            if first.get("type") == SUB_COMMAND:
                sub = first.get("name")
                if not isinstance(sub, str) or not sub:
                    raise BadInteraction("the subcommand has no name")
                name = f"{name} {sub}"
                raw = first.get("options")
        options = Options.parse(raw, resolved, "data.options")
        return Interaction(**common, command=name, options=options)
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id or len(custom_id) > 100:
        raise BadInteraction("data.custom_id is missing")
    values = data.get("values")
    if values is not None:
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadInteraction("data.values must be a list of strings")
        values = tuple(values)
    message = payload.get("message")
    message_id = None
    if isinstance(message, Mapping) and message.get("id") is not None:
        message_id = _snowflake(message["id"], "message.id")
    return Interaction(**common, custom_id=custom_id, values=values, message_id=message_id)
