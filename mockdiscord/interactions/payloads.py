"""Interaction payloads in Discord's shape, as the mock POSTs them to a bot.

Every interaction a fake player causes happens in the player's DM with the bot (context
BOT_DM), so the payload carries a top-level `user` (no `member`), the DM `channel` object
and its `channel_id`, plus `id`, `application_id`, `token`, `version: 1` and `locale`.

- PING (type 1): sent once when an interactions URL is configured; the bot must PONG.
- APPLICATION_COMMAND (type 2): `data` has the command's `id`, `name`, `type`, the typed
  `options` and, when options name users or files, `resolved.users` / `resolved.attachments`
  (attachment URLs point at the mock's CDN).
- MESSAGE_COMPONENT (type 3): `data` has `custom_id`, `component_type` and `values` for
  selects; `message` is the message the component is on, as the bot would fetch it.

The builders are pure functions of their inputs; ids and tokens are made by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockdiscord.interactions.commands import CommandInvocation
from mockdiscord.interactions.components import ComponentInvocation

__all__ = [
    "APPLICATION_COMMAND",
    "MESSAGE_COMPONENT",
    "PING",
    "build_command",
    "build_component",
    "build_ping",
]

PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
BOT_DM = 1
DM_CHANNEL = 1
# VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY |
# USE_EXTERNAL_EMOJIS | ADD_REACTIONS: what a bot may do in a DM.
DM_APP_PERMISSIONS = str((1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 18) | 64)


def build_ping(*, interaction_id: str, application_id: str, token: str) -> dict[str, Any]:
    """The PING Discord sends to check a newly configured interactions URL."""
    return {
        "id": interaction_id,
        "application_id": application_id,
        "type": PING,
        "token": token,
        "version": 1,
    }


def _interaction(
    kind: int,
    data: dict[str, Any],
    resolved: dict[str, Any],
    interaction_id: str,
    application_id: str,
    token: str,
    user: Mapping[str, Any],
    channel: Mapping[str, Any],
    locale: str,
) -> dict[str, Any]:
    """The fields every DM interaction shares, with `data` (plus `resolved` when not empty)."""
    if resolved:
        data["resolved"] = resolved
    return {
        "id": interaction_id,
        "application_id": application_id,
        "type": kind,
        "token": token,
        "version": 1,
        "user": dict(user),
        "channel": dict(channel),
        "channel_id": str(channel["id"]),
        "locale": locale,
        "app_permissions": DM_APP_PERMISSIONS,
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": BOT_DM,
        "data": data,
    }


def build_command(
    invocation: CommandInvocation,
    *,
    interaction_id: str,
    application_id: str,
    token: str,
    user: Mapping[str, Any],
    channel: Mapping[str, Any],
    resolved_users: Mapping[str, Mapping[str, Any]] | None = None,
    resolved_attachments: Sequence[Mapping[str, Any]] = (),
    locale: str = "en-US",
) -> dict[str, Any]:
    """An APPLICATION_COMMAND interaction for a validated invocation."""
    data: dict[str, Any] = {
        "id": invocation.command_id,
        "name": invocation.name,
        "type": int(invocation.command.get("type", 1)),
    }
    if invocation.options:
        data["options"] = invocation.options
    resolved = _resolved(invocation.user_ids, resolved_users, resolved_attachments)
    return _interaction(
        APPLICATION_COMMAND,
        data,
        resolved,
        interaction_id,
        application_id,
        token,
        user,
        channel,
        locale,
    )


def build_component(
    invocation: ComponentInvocation,
    *,
    interaction_id: str,
    application_id: str,
    token: str,
    user: Mapping[str, Any],
    channel: Mapping[str, Any],
    message: Mapping[str, Any],
    resolved_users: Mapping[str, Mapping[str, Any]] | None = None,
    locale: str = "en-US",
) -> dict[str, Any]:
    """A MESSAGE_COMPONENT interaction carrying the message the component is on."""
    data = invocation.data()
    resolved = _resolved(invocation.user_ids, resolved_users, ())
    payload = _interaction(
        MESSAGE_COMPONENT,
        data,
        resolved,
        interaction_id,
        application_id,
        token,
        user,
        channel,
        locale,
    )
    payload["message"] = dict(message)
    return payload


def _resolved(
    user_ids: Sequence[str],
    users: Mapping[str, Mapping[str, Any]] | None,
    attachments: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    if user_ids:
        known = users or {}
        missing = [u for u in user_ids if u not in known]
        if missing:
            raise KeyError(f"resolved_users lacks {', '.join(missing)}")
        resolved["users"] = {u: dict(known[u]) for u in user_ids}
    if attachments:
        resolved["attachments"] = {str(a["id"]): dict(a) for a in attachments}
    return resolved
