"""Interaction responses: the callback route and the interaction webhook routes.

`apply_interaction_response` is the one code path for an interaction's initial response,
whether it arrives as `POST /interactions/{id}/{token}/callback` or (later, from the
delivery code) as the HTTP answer to the mock's signed POST. It enforces:

- one response per interaction (second: 400/40060); an interaction marked `failed` by
  the deadline logic, or an unknown id/token, is 404/10062;
- the types Discord allows per interaction type (PING: 1; command: 4, 5, 9; component and
  modal submit: also 6, 7; autocomplete: 8);
- 4 creates the original message in the interaction's channel; 5 creates it as a loading
  placeholder that the first `@original` edit or followup fills in; 6 and 7 make the
  component's message the original, 7 edits it; the EPHEMERAL flag (64) is stored.

Interaction webhooks (`/webhooks/{application_id}/{interaction_token}/...`) authenticate
by the token: unknown is 404/10015, older than the profile's token lifetime 401/50027.
A followup before the initial response is 10015 too (the webhook does not exist yet).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mockdiscord.server.pipeline import ApiCall, UploadedFile
from mockdiscord.server.responses import DiscordError, json_response, no_content
from mockdiscord.server.rest_channels import CREATE_FLAGS, apply_edit, attachments_for
from mockdiscord.server.routing import Router
from mockdiscord.server.serialize import message_json
from mockdiscord.server.validation import (
    EPHEMERAL,
    SUPPRESS_EMBEDS,
    Errors,
    parse_snowflake,
    validate_callback,
    validate_message,
    validate_modal,
)
from mockdiscord.world import (
    Application,
    Channel,
    Interaction,
    InteractionType,
    Message,
    MessageFlags,
    World,
)

__all__ = ["ALLOWED_RESPONSES", "CallbackOutcome", "apply_interaction_response", "register"]

ALLOWED_RESPONSES: dict[int, frozenset[int]] = {
    InteractionType.PING: frozenset({1}),
    InteractionType.APPLICATION_COMMAND: frozenset({4, 5, 9}),
    InteractionType.MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9}),
    InteractionType.AUTOCOMPLETE: frozenset({8}),
    InteractionType.MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}
RESPONSE_FLAGS = CREATE_FLAGS | EPHEMERAL


class CallbackOutcome:
    """What an accepted initial response did (for `with_response` and for delivery)."""

    def __init__(self, response_type: int, message: Message | None) -> None:
        self.response_type = response_type
        self.message = message


def apply_interaction_response(
    world: World,
    interaction: Interaction,
    body: Any,
    *,
    base_url: str = "",
    files: list[UploadedFile] | None = None,
) -> CallbackOutcome:
    """Validate and apply an initial response; raises `DiscordError` when refused."""
    if interaction.failed:
        raise DiscordError.unknown_interaction()
    kind, data = validate_callback(body)
    if interaction.acknowledged:
        raise DiscordError.already_acknowledged()
    if kind not in ALLOWED_RESPONSES.get(interaction.type, frozenset()):
        errors = Errors()
        errors.add(
            ("type",),
            "INTERACTION_RESPONSE_TYPE_INVALID",
            f"Response type {kind} is not valid for interaction type {interaction.type}.",
        )
        errors.raise_if_any()
    channel = world.channels.get(interaction.channel_id)
    app = world.applications.get(interaction.application_id)
    if channel is None or app is None:
        raise DiscordError.unknown_interaction()
    message: Message | None = None
    ephemeral = False
    if kind == 4:
        fields = validate_message(
            data, partial=False, allowed_flags=RESPONSE_FLAGS, has_files=bool(files)
        )
        ephemeral = bool(fields["flags"] & EPHEMERAL)
        attachments = attachments_for(world, base_url, channel, files or [], fields["attachments"])
        message_type = 20 if interaction.type == InteractionType.APPLICATION_COMMAND else 0
        message = _app_message(
            world, channel, app, interaction, fields, attachments, message_type=message_type
        )
    elif kind == 5:
        flags = data.get("flags", 0)
        ephemeral = isinstance(flags, int) and bool(flags & EPHEMERAL)
        message, _ = world.create_message(
            channel,
            app.bot,
            flags=MessageFlags.LOADING | (EPHEMERAL if ephemeral else 0),
            message_type=20 if interaction.type == InteractionType.APPLICATION_COMMAND else 0,
            application_id=app.id,
            interaction_id=interaction.id,
        )
    elif kind in (6, 7):
        message = channel.messages.get(interaction.message_id or "")
        if message is None:
            raise DiscordError.unknown_message()
        if kind == 7:
            fields = validate_message(data, partial=True, allowed_flags=SUPPRESS_EMBEDS)
            apply_edit(world, message, fields)
    elif kind == 9:
        validate_modal(data)
    if message is not None:
        interaction.original_message_id = message.id
    world.acknowledge(interaction, kind, ephemeral=ephemeral)
    return CallbackOutcome(kind, message if kind in (4, 5, 7) else None)


def _app_message(
    world: World,
    channel: Channel,
    app: Application,
    interaction: Interaction,
    fields: dict[str, Any],
    attachments: list[dict[str, Any]],
    *,
    message_type: int = 0,
) -> Message:
    """Store the message the app's bot posts for an interaction (a response or a followup),
    from validated message fields."""
    message, _ = world.create_message(
        channel,
        app.bot,
        content=fields["content"],
        embeds=fields["embeds"],
        components=fields["components"],
        attachments=attachments,
        flags=fields["flags"],
        tts=fields.get("tts", False),
        message_type=message_type,
        application_id=app.id,
        interaction_id=interaction.id,
    )
    return message


def callback_body(world: World, interaction: Interaction, outcome: CallbackOutcome) -> dict:
    """The `?with_response=true` body (an interaction callback response object)."""
    summary: dict[str, Any] = {"id": interaction.id, "type": interaction.type}
    if outcome.message is not None:
        summary["response_message_id"] = outcome.message.id
        summary["response_message_loading"] = outcome.response_type == 5
        summary["response_message_ephemeral"] = interaction.ephemeral
    resource: dict[str, Any] = {"type": outcome.response_type}
    if outcome.message is not None:
        resource["message"] = message_json(world, outcome.message)
    return {"interaction": summary, "resource": resource}


async def interaction_callback(call: ApiCall) -> web.Response:
    interaction = call.world.interactions.get(call.params["interaction_id"])
    if interaction is None or interaction.token != call.params["interaction_token"]:
        raise DiscordError.unknown_interaction()
    body = await call.json()
    outcome = apply_interaction_response(
        call.world, interaction, body, base_url=call.base_url, files=call.files
    )
    if (call.query("with_response") or "").lower() in ("1", "true"):
        return json_response(callback_body(call.world, interaction, outcome))
    return no_content()


def _webhook_interaction(call: ApiCall) -> Interaction:
    interaction = call.world.interaction_by_token(call.params["webhook_token"])
    if interaction is None or interaction.application_id != call.params["webhook_id"]:
        raise DiscordError.unknown_webhook()
    if call.world.interaction_token_expired(interaction):
        raise DiscordError.invalid_webhook_token()
    return interaction


def _owned_message(call: ApiCall, interaction: Interaction) -> Message:
    """`@original` or a followup of this interaction; anything else is Unknown Message."""
    message_id = call.params.get("message_id", "@original")
    if message_id == "@original":
        message_id = interaction.original_message_id or ""
    else:
        errors = Errors()
        parse_snowflake(errors, "message_id", message_id)
        errors.raise_if_any()
        if message_id not in interaction.followup_ids and message_id != (
            interaction.original_message_id
        ):
            raise DiscordError.unknown_message()
    message = call.world.find_message(message_id) if message_id else None
    if message is None:
        raise DiscordError.unknown_message()
    return message


async def create_followup(call: ApiCall) -> web.Response:
    interaction = _webhook_interaction(call)
    fields = validate_message(
        await call.json(), partial=False, allowed_flags=RESPONSE_FLAGS, has_files=bool(call.files)
    )
    if not interaction.acknowledged:
        raise DiscordError.unknown_webhook()
    world = call.world
    channel = world.channels.get(interaction.channel_id)
    app = world.applications.get(interaction.application_id)
    if channel is None or app is None:
        raise DiscordError.unknown_webhook()
    attachments = attachments_for(world, call.base_url, channel, call.files, fields["attachments"])
    original = world.find_message(interaction.original_message_id or "")
    if original is not None and original.flags & MessageFlags.LOADING:
        # After a deferral the first followup fills in the "thinking..." message.
        fields["flags"] = original.flags & EPHEMERAL
        fields["attachments"] = attachments
        world.edit_message(original, fields)
        original.edited_wall = None
        return json_response(message_json(world, original))
    message = _app_message(world, channel, app, interaction, fields, attachments)
    interaction.followup_ids.append(message.id)
    return json_response(message_json(world, message))


async def get_webhook_message(call: ApiCall) -> web.Response:
    interaction = _webhook_interaction(call)
    return json_response(message_json(call.world, _owned_message(call, interaction)))


async def edit_webhook_message(call: ApiCall) -> web.Response:
    interaction = _webhook_interaction(call)
    fields = validate_message(await call.json(), partial=True, allowed_flags=SUPPRESS_EMBEDS)
    message = _owned_message(call, interaction)
    loading = bool(message.flags & MessageFlags.LOADING)
    fields.pop("flags", None)  # an edit cannot change ephemerality
    apply_edit(call.world, message, fields)
    if loading:  # filling in a deferred response is not an "edit"
        message.flags &= ~MessageFlags.LOADING
        message.edited_wall = None
    return json_response(message_json(call.world, message))


async def delete_webhook_message(call: ApiCall) -> web.Response:
    interaction = _webhook_interaction(call)
    message = _owned_message(call, interaction)
    call.world.delete_message(message)
    return no_content()


def register(router: Router) -> None:
    router.add(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        interaction_callback,
        auth=False,
    )
    base = "/webhooks/{webhook_id}/{webhook_token}"
    router.add("POST", base, create_followup, auth=False)
    for suffix in ("/messages/@original", "/messages/{message_id}"):
        router.add("GET", base + suffix, get_webhook_message, auth=False)
        router.add("PATCH", base + suffix, edit_webhook_message, auth=False)
        router.add("DELETE", base + suffix, delete_webhook_message, auth=False)
