"""Acting as a user: the control-plane routes that turn a fake player's action into an
interaction delivered to the bot, exactly as Discord would deliver it.

- `POST /_mock/users/{user_id}/commands` `{"name", "options"?, "application_id"?}` runs a
  slash command. Attachments are given as `{"filename", "content_b64"}` option values; the
  mock stores the bytes and serves them from `/_mock/cdn/...`.
- `POST /_mock/users/{user_id}/components` `{"message_id", "custom_id", "values"?}` clicks
  a button or picks select values on a message in the user's DM with the bot.

Both check the request the way a Discord client would (`mockdiscord.interactions`), open
the user's DM with the bot if needed, create the interaction in the world, deliver it
signed to the application's `interactions_url` and answer
`{interaction_id, outcome, response_type, latency_ms, http_status, detail, fault,
message_id}` once the bot has acknowledged or the deadline has passed. The HTTP answer of
the bot goes through `apply_interaction_response`, the same code path as the callback
route, so the one-response rule holds whichever way the bot answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from mockdiscord.events import interaction_event
from mockdiscord.interactions import (
    CommandInvocation,
    InteractionDelivery,
    InteractionInputError,
    InteractionSigner,
    build_command,
    build_component,
    validate_command,
    validate_component,
)
from mockdiscord.server.control import ControlCall
from mockdiscord.server.live import LIVE_KEY, LiveServices
from mockdiscord.server.responses import ControlError, DiscordError, control_json
from mockdiscord.server.rest_interactions import apply_interaction_response
from mockdiscord.server.routing import Router
from mockdiscord.server.serialize import channel_json, command_json, message_json, user_json
from mockdiscord.world import Application, Interaction, InteractionType, User, World

__all__ = ["WorldAck", "register"]


class WorldAck:
    """`AckView` over a world `Interaction` (its flags are what the callback route checks)."""

    def __init__(self, interaction: Interaction) -> None:
        self._interaction = interaction

    @property
    def pending(self) -> bool:
        return not (self._interaction.acknowledged or self._interaction.failed)

    @property
    def acknowledged(self) -> bool:
        return self._interaction.acknowledged

    @property
    def response_type(self) -> int | None:
        return self._interaction.response_type

    @property
    def acknowledged_at(self) -> float | None:
        return self._interaction.responded_mono

    def expire(self) -> bool:
        if not self.pending:
            return False
        self._interaction.failed = True
        return True

    async def wait(self) -> object:
        return await self._interaction.responded.wait()


def _only(body: Mapping[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ControlError(f"unknown field (allowed: {', '.join(sorted(allowed))})", field=key)


def _user(world: World, user_id: str) -> User:
    user = world.users.get(user_id)
    if user is None:
        raise ControlError(f"no such user {user_id}", field="user_id", status=404)
    if user.bot:
        raise ControlError("a bot user cannot run commands or click", field="user_id")
    return user


def _application(world: World, body: Mapping[str, Any]) -> Application:
    app_id = body.get("application_id")
    if app_id is None:
        return world.default_application
    app = world.applications.get(str(app_id)) if isinstance(app_id, str | int) else None
    if app is None:
        raise ControlError(f"no such application {app_id}", field="application_id", status=404)
    return app


def _interactions_url(app: Application) -> str:
    if not app.interactions_url:
        raise ControlError(
            f"application {app.id} has no interactions_url; set it with "
            f"PATCH /_mock/applications/{app.id}",
            field="interactions_url",
            status=409,
        )
    return app.interactions_url


def _input_error(error: InteractionInputError) -> ControlError:
    return ControlError(error.message, field=error.field, status=error.status)


async def _deliver(
    call: ControlCall,
    live: LiveServices,
    app: Application,
    interaction: Interaction,
    payload: dict[str, Any],
    *,
    kind: str,
    name: str,
) -> web.Response:
    state = call.state
    world = state.world
    base_url = f"{call.request.scheme}://{call.request.host}"

    def respond(body: Mapping[str, Any]) -> str | None:
        try:
            apply_interaction_response(world, interaction, dict(body), base_url=base_url)
        except DiscordError as error:
            return f"{error.code} {error.message}"
        return None

    fault = state.faults.decide_interaction()
    delivery = InteractionDelivery(
        live.session(), clock=state.clock, deadline_s=state.profile.interactions.deadline
    )
    result = await delivery.deliver(
        url=_interactions_url(app),
        payload=payload,
        signer=InteractionSigner(app.signing_key),
        ack=WorldAck(interaction),
        respond=respond,
        delay_s=fault.delay_s,
        drop=fault.drop,
    )
    body = result.to_json()
    body["message_id"] = interaction.original_message_id
    live.interactions.record(kind, result.outcome, result.latency_ms)
    if state.events.has_subscribers:
        state.events.publish(
            interaction_event(
                body,
                kind=kind,
                name=name,
                user_id=interaction.user_id,
                channel_id=interaction.channel_id,
                application_id=app.id,
            )
        )
    return control_json(body)


def _live(call: ControlCall) -> LiveServices:
    return call.request.app[LIVE_KEY]


async def run_command(call: ControlCall) -> web.Response:
    body = await call.json()
    _only(body, {"name", "options", "application_id", "locale"})
    world = call.state.world
    user = _user(world, call.params["user_id"])
    app = _application(world, body)
    locale = body.get("locale", "en-US")
    if not isinstance(locale, str) or not 2 <= len(locale) <= 10:
        raise ControlError("locale must be a locale code such as en-US", field="locale")
    try:
        invocation: CommandInvocation = validate_command(
            [command_json(c) for c in app.commands],
            body,
            user_exists=lambda uid: uid in world.users,
            new_id=world.new_id,
        )
    except InteractionInputError as error:
        raise _input_error(error) from None
    _interactions_url(app)
    live = _live(call)
    channel = world.open_dm(app.bot, user)
    base_url = f"{call.request.scheme}://{call.request.host}"
    attachments = [
        world.cdn.put(channel.id, upload.id, upload.filename, upload.content).attachment_object(
            base_url
        )
        for upload in invocation.attachments
    ]
    interaction = world.create_interaction(
        app, user, channel, interaction_type=InteractionType.APPLICATION_COMMAND
    )
    payload = build_command(
        invocation,
        interaction_id=interaction.id,
        application_id=app.id,
        token=interaction.token,
        user=user_json(user),
        channel=channel_json(world, channel),
        resolved_users={uid: user_json(world.users[uid]) for uid in invocation.user_ids},
        resolved_attachments=attachments,
        locale=locale,
    )
    interaction.data = payload["data"]
    return await _deliver(
        call, live, app, interaction, payload, kind="command", name=invocation.name
    )


async def click_component(call: ControlCall) -> web.Response:
    body = await call.json()
    _only(body, {"message_id", "custom_id", "values", "locale"})
    world = call.state.world
    user = _user(world, call.params["user_id"])
    message_id = body.get("message_id")
    if not isinstance(message_id, str | int) or isinstance(message_id, bool):
        raise ControlError("message_id must be a message id", field="message_id")
    message = world.find_message(str(message_id))
    channel = world.channels.get(message.channel_id) if message else None
    if message is None or channel is None or channel.recipient_id != user.id:
        raise ControlError(
            f"no message {message_id} in a DM of user {user.id}", field="message_id", status=404
        )
    app = world.application_by_bot_id(channel.bot_id or "")
    if app is None:
        raise ControlError("the message is not in a DM with a bot", field="message_id")
    shown = message_json(world, message)
    try:
        invocation = validate_component(shown, body, user_exists=lambda uid: uid in world.users)
    except InteractionInputError as error:
        raise _input_error(error) from None
    _interactions_url(app)
    live = _live(call)
    interaction = world.create_interaction(
        app, user, channel, interaction_type=InteractionType.MESSAGE_COMPONENT, message=message
    )
    payload = build_component(
        invocation,
        interaction_id=interaction.id,
        application_id=app.id,
        token=interaction.token,
        user=user_json(user),
        channel=channel_json(world, channel),
        message=shown,
        resolved_users={uid: user_json(world.users[uid]) for uid in invocation.user_ids},
    )
    interaction.data = payload["data"]
    return await _deliver(
        call, live, app, interaction, payload, kind="component", name=invocation.custom_id
    )


def register(router: Router) -> None:
    router.add("POST", "/users/{user_id}/commands", run_command)
    router.add("POST", "/users/{user_id}/components", click_component)
