"""Application command registration: `PUT`/`GET /applications/{application_id}/commands`.

A bulk overwrite replaces the application's global commands; a command keeps its id when
one with the same name and type existed (as Discord does), so bots that re-register on
every start do not churn ids. A bot may only manage its own application's commands.
"""

from __future__ import annotations

from aiohttp import web

from mockdiscord.server.pipeline import ApiCall
from mockdiscord.server.responses import DiscordError, json_response
from mockdiscord.server.routing import Router
from mockdiscord.server.serialize import command_json
from mockdiscord.server.validation import Errors, parse_snowflake, validate_commands
from mockdiscord.world import Application

__all__ = ["register"]


def _own_application(call: ApiCall) -> Application:
    application_id = call.params["application_id"]
    errors = Errors()
    parse_snowflake(errors, "application_id", application_id)
    errors.raise_if_any()
    if application_id not in call.world.applications:
        raise DiscordError.unknown_application()
    if application_id != call.app.id:
        raise DiscordError.not_application_owner()
    return call.app


async def get_commands(call: ApiCall) -> web.Response:
    app = _own_application(call)
    return json_response([command_json(c) for c in app.commands])


async def put_commands(call: ApiCall) -> web.Response:
    app = _own_application(call)
    commands = validate_commands(await call.json())
    stored = call.world.set_commands(app, commands)
    return json_response([command_json(c) for c in stored])


def register(router: Router) -> None:
    router.add("GET", "/applications/{application_id}/commands", get_commands)
    router.add("PUT", "/applications/{application_id}/commands", put_commands)
