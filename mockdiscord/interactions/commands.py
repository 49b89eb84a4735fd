"""Checking "run /command" requests against the commands the application registered.

A real Discord client only lets a user run a command that the application registered with
`PUT /applications/{app}/commands`, and its command box enforces every option's type,
`required` flag, `choices` and bounds before anything is sent. The mock refuses the same
inputs at the control plane, with a 400 naming the field, so a scenario can never send the
bot an interaction that Discord would not.

Requests use a compact form that reads like the command line a user types:

    {"name": "queue", "options": {"bw_race": "bw_zerg"}}
    {"name": "ladder report", "options": {"result": "win"}}           # subcommand by path
    {"name": "ladder", "options": {"report": {"result": "win"}}}      # or nested
    {"name": "replay", "options": {"file": {"filename": "a.rep", "content_b64": "..."}}}

The result, `CommandInvocation`, holds Discord-shaped option objects
(`{"name", "type", "value"}`, nested under subcommands) plus what the payload must resolve:
the users named by USER options and the uploaded attachments.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from mockdiscord.interactions.errors import InteractionInputError

__all__ = [
    "AttachmentUpload",
    "CommandInvocation",
    "OptionType",
    "validate_command",
]

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


class OptionType(IntEnum):
    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    NUMBER = 10
    ATTACHMENT = 11


SUPPORTED_VALUE_TYPES = frozenset(
    {
        OptionType.STRING,
        OptionType.INTEGER,
        OptionType.BOOLEAN,
        OptionType.USER,
        OptionType.NUMBER,
        OptionType.ATTACHMENT,
    }
)
CHAT_INPUT = 1


@dataclass(frozen=True, slots=True)
class AttachmentUpload:
    """A file given for an ATTACHMENT option; `id` is the attachment's new snowflake."""

    id: str
    option: str
    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class CommandInvocation:
    """A validated command run: the registered definition and Discord-shaped options."""

    command: Mapping[str, Any]
    options: list[dict[str, Any]]
    user_ids: tuple[str, ...]
    attachments: tuple[AttachmentUpload, ...]

    @property
    def name(self) -> str:
        return str(self.command["name"])

    @property
    def command_id(self) -> str:
        return str(self.command.get("id", ""))


def validate_command(
    registered: Sequence[Mapping[str, Any]],
    request: Mapping[str, Any],
    *,
    user_exists: Callable[[str], bool],
    new_id: Callable[[], str],
) -> CommandInvocation:
    """Check `request` against the registered commands; raise `InteractionInputError`."""
    raw_name = request.get("name")
    if not isinstance(raw_name, str) or not raw_name.strip():
        raise InteractionInputError("name", "must be the command's name, a non-empty string")
    path = raw_name.strip().lstrip("/").split()
    raw_options = request.get("options", {})
    if raw_options is None:
        raw_options = {}
    if not isinstance(raw_options, Mapping):
        raise InteractionInputError("options", "must be an object of option name to value")

    command = _find_command(registered, path[0])
    checker = _Checker(user_exists=user_exists, new_id=new_id)
    options = checker.options(command.get("options") or [], path[1:], raw_options, "options")
    return CommandInvocation(
        command=command,
        options=options,
        user_ids=tuple(checker.user_ids),
        attachments=tuple(checker.attachments),
    )


def _find_command(registered: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for command in registered:
        if command.get("name") == name and int(command.get("type", CHAT_INPUT)) == CHAT_INPUT:
            return command
    known = sorted(
        str(c.get("name"))
        for c in registered
        if int(c.get("type", CHAT_INPUT)) == CHAT_INPUT and c.get("name")
    )
    listing = ", ".join(known) if known else "none"
    raise InteractionInputError(
        "name", f"unknown command {name!r}; the application registered: {listing}"
    )


class _Checker:
    """Walks a command's option tree, collecting users and attachments to resolve."""

    def __init__(self, *, user_exists: Callable[[str], bool], new_id: Callable[[], str]) -> None:
        self._user_exists = user_exists
        self._new_id = new_id
        self.user_ids: list[str] = []
        self.attachments: list[AttachmentUpload] = []

    def options(
        self,
        definitions: Sequence[Mapping[str, Any]],
        path: list[str],
        given: Mapping[str, Any],
        where: str,
    ) -> list[dict[str, Any]]:
        groups = [
            d
            for d in definitions
            if int(d.get("type", 0)) in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP)
        ]
        if groups:
            return [self._subcommand(groups, path, given, where)]
        if path:
            raise InteractionInputError(
                "name", f"{path[0]!r} is not a subcommand: this command takes no subcommands"
            )
        return self._values(definitions, given, where)

    def _subcommand(
        self,
        groups: Sequence[Mapping[str, Any]],
        path: list[str],
        given: Mapping[str, Any],
        where: str,
    ) -> dict[str, Any]:
        names = sorted(str(g.get("name")) for g in groups)
        if path:
            chosen, rest, inner = path[0], path[1:], given
            field = "name"
        else:
            nested = [k for k, v in given.items() if isinstance(v, Mapping)]
            if len(nested) != 1 or len(given) != 1:
                raise InteractionInputError(
                    where, f"choose exactly one subcommand: one of {', '.join(names)}"
                )
            chosen, rest, inner = nested[0], [], given[nested[0]]
            field = f"{where}.{chosen}"
        definition = next((g for g in groups if g.get("name") == chosen), None)
        if definition is None:
            raise InteractionInputError(
                field, f"unknown subcommand {chosen!r}; expected one of {', '.join(names)}"
            )
        kind = int(definition["type"])
        if kind == OptionType.SUB_COMMAND_GROUP and not rest and path:
            subs = sorted(str(s.get("name")) for s in definition.get("options") or [])
            raise InteractionInputError(
                "name", f"{chosen!r} is a group: add one of {', '.join(subs)}"
            )
        inner_where = where if path else f"{where}.{chosen}"
        return {
            "name": chosen,
            "type": kind,
            "options": self.options(definition.get("options") or [], rest, inner, inner_where),
        }

    def _values(
        self, definitions: Sequence[Mapping[str, Any]], given: Mapping[str, Any], where: str
    ) -> list[dict[str, Any]]:
        by_name = {str(d.get("name")): d for d in definitions}
        for name in given:
            if name not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                raise InteractionInputError(
                    f"{where}.{name}", f"unknown option; this command takes: {known}"
                )
        out: list[dict[str, Any]] = []
        for name, definition in by_name.items():
            field = f"{where}.{name}"
            if name not in given or given[name] is None:
                if definition.get("required"):
                    raise InteractionInputError(field, "this option is required")
                continue
            kind = int(definition.get("type", 0))
            if kind not in SUPPORTED_VALUE_TYPES:
                raise InteractionInputError(field, f"option type {kind} is not supported")
            value = self._value(OptionType(kind), definition, given[name], field)
            out.append({"name": name, "type": kind, "value": value})
        return out

    def _value(
        self, kind: OptionType, definition: Mapping[str, Any], value: Any, field: str
    ) -> Any:
        if kind is OptionType.STRING:
            if not isinstance(value, str):
                raise InteractionInputError(field, "expected a string")
            _check_length(definition, value, field)
        elif kind is OptionType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InteractionInputError(field, "expected an integer")
            _check_range(definition, value, field)
        elif kind is OptionType.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InteractionInputError(field, "expected a number")
            _check_range(definition, value, field)
        elif kind is OptionType.BOOLEAN:
            if not isinstance(value, bool):
                raise InteractionInputError(field, "expected true or false")
        elif kind is OptionType.USER:
            return self._user(value, field)
        else:
            return self._attachment(value, field)
        choices = definition.get("choices")
        if choices:
            allowed = [c.get("value") for c in choices]
            if value not in allowed:
                listing = ", ".join(repr(a) for a in allowed)
                raise InteractionInputError(field, f"{value!r} is not a choice; choose {listing}")
        return value

    def _user(self, value: Any, field: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InteractionInputError(field, "expected a user id")
        user_id = str(value)
        if not user_id.isdigit() or not self._user_exists(user_id):
            raise InteractionInputError(field, f"unknown user {user_id}")
        if user_id not in self.user_ids:
            self.user_ids.append(user_id)
        return user_id

    def _attachment(self, value: Any, field: str) -> str:
        if not isinstance(value, Mapping):
            raise InteractionInputError(field, 'expected {"filename": ..., "content_b64": ...}')
        filename = value.get("filename")
        if not isinstance(filename, str) or not filename or "/" in filename:
            raise InteractionInputError(f"{field}.filename", "expected a file name without slashes")
        encoded = value.get("content_b64")
        if not isinstance(encoded, str):
            raise InteractionInputError(f"{field}.content_b64", "expected base64 text")
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InteractionInputError(f"{field}.content_b64", "is not valid base64") from exc
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise InteractionInputError(
                f"{field}.content_b64", f"file is larger than {MAX_ATTACHMENT_BYTES} bytes"
            )
        upload = AttachmentUpload(
            id=self._new_id(), option=field, filename=filename, content=content
        )
        self.attachments.append(upload)
        return upload.id


def _check_length(definition: Mapping[str, Any], value: str, field: str) -> None:
    low = definition.get("min_length")
    high = definition.get("max_length")
    if low is not None and len(value) < int(low):
        raise InteractionInputError(field, f"must be at least {low} characters")
    if high is not None and len(value) > int(high):
        raise InteractionInputError(field, f"must be at most {high} characters")


def _check_range(definition: Mapping[str, Any], value: float, field: str) -> None:
    low = definition.get("min_value")
    high = definition.get("max_value")
    if low is not None and value < low:
        raise InteractionInputError(field, f"must be at least {low}")
    if high is not None and value > high:
        raise InteractionInputError(field, f"must be at most {high}")
