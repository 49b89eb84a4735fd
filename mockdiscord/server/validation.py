"""Request-body validation with Discord's error shapes.

Discord reports every bad field at once, in a 400/50035 body whose `errors` object mirrors
the payload: `{"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", ...}]}}`, with list
indices as string keys (`{"embeds": {"0": {"title": ...}}}`). Clients surface these trees,
so a bot's developer sees exactly which field the mock refused and why.

The functions here are pure: they take decoded JSON and return normalised values or raise
`DiscordError`. Limits are Discord's documented ones.
"""

from __future__ import annotations

import re
from typing import Any

from mockdiscord.server.responses import DiscordError, FieldErrors, field_error
from mockdiscord.snowflake import is_snowflake

__all__ = [
    "CALLBACK_TYPES",
    "MAX_CONTENT",
    "MAX_EMBEDS",
    "MAX_ROWS",
    "Errors",
    "validate_callback",
    "validate_commands",
    "validate_message",
]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_ROWS = 5
MAX_V2_COMPONENTS = 40
MAX_NONCE = 25
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
CALLBACK_TYPES = frozenset({1, 4, 5, 6, 7, 8, 9, 10, 12})
_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
_EMBED_LIMITS = {"title": 256, "description": 4096, "url": 2048}


class Errors:
    """Collects field errors into Discord's nested tree."""

    def __init__(self) -> None:
        self.tree: FieldErrors = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).extend(field_error(code, message)["_errors"])

    def raise_if_any(self) -> None:
        if self.tree:
            raise DiscordError.form(self.tree)


def _max_length(errors: Errors, path: tuple[str | int, ...], limit: int) -> None:
    errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def require_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        errors = Errors()
        errors.add((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        errors.raise_if_any()
    assert isinstance(data, dict)
    return data


def _check_string(
    errors: Errors, path: tuple[str | int, ...], value: object, limit: int
) -> str | None:
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_STRING", "Could not interpret the value as string.")
        return None
    if len(value) > limit:
        _max_length(errors, path, limit)
        return None
    return value


def _check_list(errors: Errors, path: tuple[str | int, ...], value: object) -> list[Any] | None:
    if not isinstance(value, list):
        errors.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        return None
    return value


def _check_embeds(errors: Errors, value: object) -> list[dict[str, Any]]:
    embeds = _check_list(errors, ("embeds",), value)
    if embeds is None:
        return []
    if len(embeds) > MAX_EMBEDS:
        _max_length(errors, ("embeds",), MAX_EMBEDS)
        return []
    for index, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            errors.add(
                ("embeds", index), "MODEL_TYPE_CONVERT", "Only dictionaries may be used here"
            )
            continue
        for key, limit in _EMBED_LIMITS.items():
            if embed.get(key) is not None:
                _check_string(errors, ("embeds", index, key), embed[key], limit)
        if embed.get("fields") is not None:
            fields = _check_list(errors, ("embeds", index, "fields"), embed["fields"])
            if fields is not None and len(fields) > 25:
                _max_length(errors, ("embeds", index, "fields"), 25)
    return [e for e in embeds if isinstance(e, dict)]


def _check_components(errors: Errors, value: object, flags: int) -> list[dict[str, Any]]:
    rows = _check_list(errors, ("components",), value)
    if rows is None:
        return []
    limit = MAX_V2_COMPONENTS if flags & IS_COMPONENTS_V2 else MAX_ROWS
    if len(rows) > limit:
        _max_length(errors, ("components",), limit)
        return []
    for index, row in enumerate(rows):
        path: tuple[str | int, ...] = ("components", index)
        if not isinstance(row, dict):
            errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used here")
            continue
        if not _is_int(row.get("type")):
            errors.add((*path, "type"), "BASE_TYPE_REQUIRED", "This field is required")
            continue
        if row["type"] == 1:
            children = _check_list(errors, (*path, "components"), row.get("components"))
            if children is not None and not 1 <= len(children) <= 5:
                _max_length(errors, (*path, "components"), 5)
            for child_index, child in enumerate(children or []):
                child_path = (*path, "components", child_index)
                if not isinstance(child, dict) or not _is_int(child.get("type")):
                    errors.add(child_path, "MODEL_TYPE_CONVERT", "Invalid component")
                elif child.get("custom_id") is not None:
                    _check_string(errors, (*child_path, "custom_id"), child["custom_id"], 100)
    return [r for r in rows if isinstance(r, dict)]


def validate_message(
    data: Any, *, partial: bool, allowed_flags: int, has_files: bool = False
) -> dict[str, Any]:
    """A message create (`partial=False`) or edit payload, normalised.

    Returns only the fields the payload set (for edits) or all of them (for creates).
    Flags outside `allowed_flags` are dropped, as Discord ignores flags a route cannot set.
    """
    body = require_object(data)
    errors = Errors()
    out: dict[str, Any] = {}
    flags = 0
    if body.get("flags") is not None:
        if _is_int(body["flags"]) and 0 <= body["flags"] < 1 << 53:
            flags = body["flags"] & allowed_flags
            out["flags"] = flags
        else:
            errors.add(("flags",), "NUMBER_TYPE_COERCE", "Value is not int.")
    if "content" in body:
        if body["content"] is None:
            out["content"] = ""
        else:
            content = _check_string(errors, ("content",), body["content"], MAX_CONTENT)
            if content is not None:
                out["content"] = content
    if "embeds" in body:
        out["embeds"] = [] if body["embeds"] is None else _check_embeds(errors, body["embeds"])
    if "components" in body:
        out["components"] = (
            []
            if body["components"] is None
            else _check_components(errors, body["components"], flags)
        )
    if body.get("attachments") is not None:
        attachments = _check_list(errors, ("attachments",), body["attachments"])
        if attachments is not None:
            out["attachments"] = [a for a in attachments if isinstance(a, dict)]
    if body.get("nonce") is not None:
        nonce = body["nonce"]
        if isinstance(nonce, str):
            if len(nonce) > MAX_NONCE:
                _max_length(errors, ("nonce",), MAX_NONCE)
            else:
                out["nonce"] = nonce
        elif _is_int(nonce) and -(1 << 63) <= nonce < 1 << 63:
            out["nonce"] = nonce
        else:
            errors.add(("nonce",), "NONCE_TYPE_INVALID", "Nonce must be an integer or a string.")
    for name in ("enforce_nonce", "tts"):
        if body.get(name) is not None:
            if isinstance(body[name], bool):
                out[name] = body[name]
            else:
                errors.add((name,), "BASE_TYPE_BOOLEAN", "Must be either true or false.")
    if body.get("message_reference") is not None:
        if isinstance(body["message_reference"], dict):
            out["message_reference"] = body["message_reference"]
        else:
            errors.add(("message_reference",), "MODEL_TYPE_CONVERT", "Only dictionaries allowed")
    errors.raise_if_any()
    if not partial:
        out.setdefault("content", "")
        out.setdefault("embeds", [])
        out.setdefault("components", [])
        out.setdefault("attachments", [])
        out.setdefault("flags", 0)
        has_sticker = bool(body.get("sticker_ids")) or body.get("poll") is not None
        if not (
            out["content"].strip()
            or out["embeds"]
            or out["components"]
            or out["attachments"]
            or has_files
            or has_sticker
        ):
            raise DiscordError.empty_message()
    return out


def validate_callback(data: Any) -> tuple[int, dict[str, Any]]:
    """`POST /interactions/{id}/{token}/callback`: the response type and its data object."""
    body = require_object(data)
    errors = Errors()
    kind = body.get("type")
    if not _is_int(kind):
        errors.add(("type",), "BASE_TYPE_REQUIRED", "This field is required")
    elif kind not in CALLBACK_TYPES:
        errors.add(("type",), "ENUM_TYPE_COERCE", f'Value "{kind}" is not a valid enum value.')
    payload = body.get("data")
    if payload is not None and not isinstance(payload, dict):
        errors.add(("data",), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    errors.raise_if_any()
    assert isinstance(kind, int)
    return kind, payload or {}


def validate_modal(data: dict[str, Any]) -> None:
    errors = Errors()
    for name, limit in (("custom_id", 100), ("title", 45)):
        value = data.get(name)
        if value is None:
            errors.add(("data", name), "BASE_TYPE_REQUIRED", "This field is required")
        else:
            _check_string(errors, ("data", name), value, limit)
    components = data.get("components")
    if components is None:
        errors.add(("data", "components"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        rows = _check_list(errors, ("data", "components"), components)
        if rows is not None and not 1 <= len(rows) <= 5:
            _max_length(errors, ("data", "components"), 5)
    errors.raise_if_any()


def validate_commands(data: Any) -> list[dict[str, Any]]:
    """`PUT /applications/{id}/commands`: a list of command objects."""
    errors = Errors()
    commands = _check_list(errors, (), data)
    errors.raise_if_any()
    assert commands is not None
    if len(commands) > 200:
        _max_length(errors, (), 200)
        errors.raise_if_any()
    seen: set[tuple[str, int]] = set()
    for index, command in enumerate(commands):
        if not isinstance(command, dict):
            errors.add((index,), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        kind = command.get("type", 1)
        if not _is_int(kind) or kind not in (1, 2, 3, 4):
            errors.add((index, "type"), "ENUM_TYPE_COERCE", "Value is not a valid enum value.")
            continue
        name = command.get("name")
        if not isinstance(name, str) or not name:
            errors.add((index, "name"), "BASE_TYPE_REQUIRED", "This field is required")
        elif kind == 1 and (not _COMMAND_NAME.match(name) or name != name.lower()):
            errors.add(
                (index, "name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            )
        elif len(name) > 32:
            _max_length(errors, (index, "name"), 32)
        elif (name, kind) in seen:
            errors.add(
                (index, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        else:
            seen.add((name, kind))
        description = command.get("description")
        if kind == 1:
            if not isinstance(description, str) or not description:
                errors.add((index, "description"), "BASE_TYPE_REQUIRED", "This field is required")
            elif len(description) > 100:
                _max_length(errors, (index, "description"), 100)
        elif description not in (None, ""):
            errors.add(
                (index, "description"),
                "APPLICATION_COMMAND_INVALID_DESCRIPTION",
                "Context menu commands cannot have description",
            )
        if command.get("options") is not None:
            options = _check_list(errors, (index, "options"), command["options"])
            if options is not None and len(options) > 25:
                _max_length(errors, (index, "options"), 25)
    errors.raise_if_any()
    return commands


def parse_snowflake(errors: Errors, name: str, value: str | None) -> int | None:
    """A query/body snowflake: None when absent, an error when malformed."""
    if value is None:
        return None
    if value.isdigit() and len(value) < 20:  # the common case, without the general check
        return int(value)
    if not is_snowflake(value):
        errors.add((name,), "NUMBER_TYPE_COERCE", f'Value "{value[:64]}" is not snowflake.')
        return None
    return int(value)
