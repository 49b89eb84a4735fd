"""World objects rendered as Discord's JSON shapes.

The shapes follow Discord's documentation closely enough for discord.py 2.7's and hikari
2.7's deserialisers, which index some keys directly (`edited_timestamp`, `pinned`, `flags`,
`approximate_user_install_count`...): a missing key there is a client crash, so every key a
client may index is present, with Discord's null/empty defaults.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mockdiscord.world import (
    Application,
    Channel,
    ChannelType,
    Command,
    Interaction,
    Message,
    User,
    World,
)

__all__ = [
    "application_json",
    "channel_json",
    "command_json",
    "iso8601",
    "message_json",
    "my_user_json",
    "user_json",
]

JSON = dict[str, Any]


def iso8601(epoch_seconds: float) -> str:
    """Discord's timestamp format: `2024-05-01T12:00:00.123000+00:00`."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).isoformat(timespec="microseconds")


def user_json(user: User) -> JSON:
    data: JSON = {
        "id": user.id,
        "username": user.username,
        "discriminator": "0",
        "global_name": user.global_name,
        "avatar": None,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "public_flags": 0,
        "flags": 0,
    }
    if user.bot:
        data["bot"] = True
    return data


def my_user_json(user: User) -> JSON:
    """`GET /users/@me`: the public user plus the private fields of one's own account."""
    return {
        **user_json(user),
        "bot": user.bot,
        "system": False,
        "mfa_enabled": False,
        "locale": "en-US",
        "verified": True,
        "email": None,
        "premium_type": 0,
        "bio": "",
    }


def application_json(app: Application) -> JSON:
    return {
        "id": app.id,
        "name": app.name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": app.public_key,
        "flags": 0,
        "owner": user_json(app.bot),
        "team": None,
        "bot": user_json(app.bot),
        "rpc_origins": [],
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": app.interactions_url,
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "integration_types_config": {},
    }


def channel_json(world: World, channel: Channel) -> JSON:
    if channel.type == ChannelType.DM:
        recipient = world.users.get(channel.recipient_id or "")
        return {
            "id": channel.id,
            "type": ChannelType.DM,
            "last_message_id": channel.last_message_id,
            "flags": 0,
            "recipients": [user_json(recipient)] if recipient else [],
        }
    return {
        "id": channel.id,
        "type": channel.type,
        "guild_id": channel.guild_id,
        "name": channel.name,
        "topic": channel.topic,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "last_message_id": channel.last_message_id,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def message_json(world: World, message: Message) -> JSON:
    author = world.users.get(message.author_id)
    channel = world.channels.get(message.channel_id)
    data: JSON = {
        "id": message.id,
        "channel_id": message.channel_id,
        "type": message.type,
        "author": user_json(author) if author else None,
        "content": message.content,
        "timestamp": iso8601(message.created_wall),
        "edited_timestamp": (
            iso8601(message.edited_wall) if message.edited_wall is not None else None
        ),
        "tts": message.tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": message.attachments,
        "embeds": message.embeds,
        "components": message.components,
        "reactions": [],
        "pinned": False,
        "flags": message.flags,
    }
    if channel is not None and channel.guild_id is not None:
        data["guild_id"] = channel.guild_id
    if message.nonce is not None:
        data["nonce"] = message.nonce
    if message.webhook_id is not None:
        data["webhook_id"] = message.webhook_id
    if message.application_id is not None:
        data["application_id"] = message.application_id
    if message.message_reference is not None:
        data["message_reference"] = message.message_reference
    interaction = world.interactions.get(message.interaction_id or "")
    if interaction is not None:
        data["interaction_metadata"] = interaction_metadata_json(world, interaction)
    return data


def interaction_metadata_json(world: World, interaction: Interaction) -> JSON:
    user = world.users.get(interaction.user_id)
    data: JSON = {
        "id": interaction.id,
        "type": interaction.type,
        "user": user_json(user) if user else None,
        "authorizing_integration_owners": {"0": interaction.guild_id}
        if interaction.guild_id
        else {"1": interaction.user_id},
    }
    if interaction.message_id is not None:
        data["interacted_message_id"] = interaction.message_id
    return data


def command_json(command: Command) -> JSON:
    data: JSON = {
        "id": command.id,
        "application_id": command.application_id,
        "version": command.version,
        "default_member_permissions": None,
        "type": command.type,
        "name": command.name,
        "name_localizations": None,
        "description": command.description,
        "description_localizations": None,
        "dm_permission": True,
        "contexts": None,
        "integration_types": [0],
        "nsfw": False,
    }
    data.update(command.fields)
    return data
