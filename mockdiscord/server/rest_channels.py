"""REST routes under `/channels/{channel_id}` (messages, reactions) and the guild role route.

The bot sees guild channels and its own DM channels; other bots' DMs are "Unknown Channel".
Ephemeral messages belong to their interaction: channel routes never show them (the
interaction webhook routes do). Writing into the DM of a user whose DMs are closed is
403/50007, as on Discord when a user blocks the bot or turns off server DMs.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mockdiscord.server.pipeline import ApiCall, UploadedFile
from mockdiscord.server.responses import DiscordError, json_response, no_content
from mockdiscord.server.routing import Router
from mockdiscord.server.serialize import channel_json, message_json
from mockdiscord.server.validation import (
    IS_COMPONENTS_V2,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    Errors,
    parse_snowflake,
    require_object,
    validate_message,
)
from mockdiscord.world import Channel, ChannelType, Message, MessageFlags, World

__all__ = ["attachments_for", "register"]

CREATE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2


def _snowflakes(*names_values: tuple[str, str]) -> None:
    errors = Errors()
    for name, value in names_values:
        parse_snowflake(errors, name, value)
    errors.raise_if_any()


def channel_for(call: ApiCall) -> Channel:
    channel_id = call.params["channel_id"]
    channel = call.world.channels.get(channel_id)
    if channel is None:
        _snowflakes(("channel_id", channel_id))  # a malformed id is a form error, not 10003
    if channel is None or not call.world.channel_visible_to_bot(channel, call.app.bot):
        raise DiscordError.unknown_channel()
    return channel


def message_for(call: ApiCall, channel: Channel) -> Message:
    message_id = call.params["message_id"]
    _snowflakes(("message_id", message_id))
    message = channel.messages.get(message_id)
    if message is None or message.flags & MessageFlags.EPHEMERAL:
        raise DiscordError.unknown_message()
    return message


def attachments_for(
    world: World, base_url: str, channel: Channel, files: list[UploadedFile], payload: list[Any]
) -> list[dict[str, Any]]:
    """Attachment objects for uploaded files; the bytes go to the world's CDN store."""
    described = {str(a.get("id")): a for a in payload if isinstance(a, dict)}
    out = []
    for index, upload in enumerate(files):
        attachment_id = world.new_id()
        meta = described.get(str(index), {})
        filename = str(meta.get("filename") or upload.filename)
        world.cdn.put(channel.id, attachment_id, filename, upload.content)
        url = f"{base_url}/_mock/cdn/attachments/{channel.id}/{attachment_id}/{filename}"
        out.append(
            {
                "id": attachment_id,
                "filename": filename,
                "size": len(upload.content),
                "url": url,
                "proxy_url": url,
                "content_type": upload.content_type,
            }
        )
    return out


def check_dm_open(world: World, channel: Channel) -> None:
    if channel.type == ChannelType.DM:
        recipient = world.users.get(channel.recipient_id or "")
        if recipient is None or recipient.dms_closed:
            raise DiscordError.dms_closed()


async def get_channel(call: ApiCall) -> web.Response:
    return json_response(channel_json(call.world, channel_for(call)))


async def patch_channel(call: ApiCall) -> web.Response:
    channel = channel_for(call)
    body = require_object(await call.json())
    if channel.type == ChannelType.DM:
        raise DiscordError.dm_channel_action()
    errors = Errors()
    name = body.get("name", channel.name)
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        errors.add(("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    topic = body.get("topic", channel.topic)
    if topic is not None and (not isinstance(topic, str) or len(topic) > 1024):
        errors.add(("topic",), "BASE_TYPE_MAX_LENGTH", "Must be 1024 or fewer in length.")
    errors.raise_if_any()
    channel.name = name
    channel.topic = topic
    return json_response(channel_json(call.world, channel))


def _limit(call: ApiCall, errors: Errors) -> int:
    raw = call.query("limit")
    if raw is None:
        return 50
    if not raw.isascii() or not raw.strip().lstrip("-").isdigit() or len(raw) > 12:
        errors.add(("limit",), "NUMBER_TYPE_COERCE", f'Value "{raw[:32]}" is not int.')
        return 50
    value = int(raw)
    if value < 1:
        errors.add(("limit",), "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1.")
    elif value > 100:
        errors.add(("limit",), "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")
    return value


async def list_messages(call: ApiCall) -> web.Response:
    channel = channel_for(call)
    errors = Errors()
    limit = _limit(call, errors)
    around = parse_snowflake(errors, "around", call.query("around"))
    before = parse_snowflake(errors, "before", call.query("before"))
    after = parse_snowflake(errors, "after", call.query("after"))
    errors.raise_if_any()
    found = call.world.list_messages(
        channel, limit=limit, before=before, after=after, around=around, include_ephemeral=False
    )
    return json_response([message_json(call.world, m) for m in found])


async def create_message(call: ApiCall) -> web.Response:
    channel = channel_for(call)
    body = await call.json()
    fields = validate_message(
        body, partial=False, allowed_flags=CREATE_FLAGS, has_files=bool(call.files)
    )
    check_dm_open(call.world, channel)
    attachments = (
        attachments_for(call.world, call.base_url, channel, call.files, fields["attachments"])
        if call.files
        else []
    )
    message, _created = call.world.create_message(
        channel,
        call.app.bot,
        content=fields["content"],
        embeds=fields["embeds"],
        components=fields["components"],
        attachments=attachments,
        nonce=fields.get("nonce"),
        enforce_nonce=fields.get("enforce_nonce", False),
        flags=fields["flags"],
        tts=fields.get("tts", False),
        message_reference=fields.get("message_reference"),
    )
    return json_response(message_json(call.world, message))


async def get_message(call: ApiCall) -> web.Response:
    channel = channel_for(call)
    return json_response(message_json(call.world, message_for(call, channel)))


def apply_edit(world: World, message: Message, fields: dict[str, Any]) -> Message:
    """Edit a message with validated fields; an edit may not leave it empty (50006)."""
    changes = dict(fields)
    if "flags" in changes:  # only SUPPRESS_EMBEDS can be toggled on an existing message
        changes["flags"] = (message.flags & ~SUPPRESS_EMBEDS) | (changes["flags"] & SUPPRESS_EMBEDS)
    if "attachments" in changes:  # keep only the existing attachments the edit names
        keep = {str(a.get("id")) for a in changes["attachments"]}
        changes["attachments"] = [a for a in message.attachments if a["id"] in keep]
    content = changes.get("content", message.content)
    if not (
        content.strip()
        or changes.get("embeds", message.embeds)
        or changes.get("components", message.components)
        or changes.get("attachments", message.attachments)
    ):
        raise DiscordError.empty_message()
    return world.edit_message(message, changes)


async def edit_message(call: ApiCall) -> web.Response:
    channel = channel_for(call)
    message = message_for(call, channel)
    fields = validate_message(await call.json(), partial=True, allowed_flags=SUPPRESS_EMBEDS)
    if message.author_id != call.app.bot.id:
        raise DiscordError.not_author()
    apply_edit(call.world, message, fields)
    return json_response(message_json(call.world, message))


async def delete_message(call: ApiCall) -> web.Response:
    channel = channel_for(call)
    message = message_for(call, channel)
    if channel.type == ChannelType.DM and message.author_id != call.app.bot.id:
        raise DiscordError.dm_channel_action()
    call.world.delete_message(message)
    return no_content()


async def bulk_delete(call: ApiCall) -> web.Response:
    channel = channel_for(call)
    body = require_object(await call.json())
    errors = Errors()
    ids = body.get("messages")
    if not isinstance(ids, list):
        errors.add(("messages",), "BASE_TYPE_REQUIRED", "This field is required")
    elif not 2 <= len(ids) <= 100:
        errors.add(("messages",), "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
    else:
        for index, value in enumerate(ids):
            parse_snowflake(errors, f"messages.{index}", str(value))
    errors.raise_if_any()
    if channel.type == ChannelType.DM:
        raise DiscordError.dm_channel_action()
    for message_id in ids or []:
        message = channel.messages.get(str(message_id))
        if message is not None:
            call.world.delete_message(message)
    return no_content()


async def reaction(call: ApiCall) -> web.Response:
    """Reactions are accepted and not stored: the routes exist for their shared bucket."""
    channel = channel_for(call)
    message_for(call, channel)
    if not call.params["emoji"].strip():
        raise DiscordError(400, 10014, "Unknown Emoji")
    return no_content()


async def add_member_role(call: ApiCall) -> web.Response:
    """Roles are not modelled: a known guild and user is enough (for the fixed-window bucket)."""
    params = call.params
    _snowflakes(
        ("guild_id", params["guild_id"]),
        ("user_id", params["user_id"]),
        ("role_id", params["role_id"]),
    )
    if params["guild_id"] != call.world.guild.id:
        raise DiscordError(404, 10004, "Unknown Guild")
    user = call.world.users.get(params["user_id"])
    if user is None:
        raise DiscordError(404, 10007, "Unknown Member")
    return no_content()


def register(router: Router) -> None:
    router.add("GET", "/channels/{channel_id}", get_channel)
    router.add("PATCH", "/channels/{channel_id}", patch_channel)
    router.add("GET", "/channels/{channel_id}/messages", list_messages)
    router.add("POST", "/channels/{channel_id}/messages", create_message)
    router.add("GET", "/channels/{channel_id}/messages/{message_id}", get_message)
    router.add("PATCH", "/channels/{channel_id}/messages/{message_id}", edit_message)
    router.add("DELETE", "/channels/{channel_id}/messages/{message_id}", delete_message)
    router.add("POST", "/channels/{channel_id}/messages/bulk-delete", bulk_delete)
    reaction_route = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me"
    router.add("PUT", reaction_route, reaction)
    router.add("DELETE", reaction_route, reaction)
    router.add("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", add_member_role)
