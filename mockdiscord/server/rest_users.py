"""REST routes about the caller and other users: `/users`, `/oauth2`, `/gateway/bot`."""

from __future__ import annotations

from aiohttp import web

from mockdiscord.server.pipeline import ApiCall
from mockdiscord.server.responses import DiscordError, json_response
from mockdiscord.server.routing import Router
from mockdiscord.server.serialize import application_json, channel_json, my_user_json, user_json
from mockdiscord.server.validation import Errors, parse_snowflake, require_object

__all__ = ["register"]


async def get_me(call: ApiCall) -> web.Response:
    return json_response(my_user_json(call.app.bot))


async def get_user(call: ApiCall) -> web.Response:
    errors = Errors()
    parse_snowflake(errors, "user_id", call.params["user_id"])
    errors.raise_if_any()
    user = call.world.users.get(call.params["user_id"])
    if user is None:
        raise DiscordError.unknown_user()
    return json_response(user_json(user))


async def get_application(call: ApiCall) -> web.Response:
    return json_response(application_json(call.app))


async def get_gateway_bot(call: ApiCall) -> web.Response:
    # The mock has no gateway: the URL points at this server, never at the real Discord.
    return json_response(
        {
            "url": f"ws://{call.request.host}/gateway",
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }
    )


async def open_dm(call: ApiCall) -> web.Response:
    body = require_object(await call.json())
    errors = Errors()
    if "recipient_id" not in body:
        errors.add(("recipient_id",), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        raw = body["recipient_id"]
        parse_snowflake(errors, "recipient_id", raw if isinstance(raw, str) else str(raw))
    errors.raise_if_any()
    user = call.world.users.get(str(body["recipient_id"]))
    if user is None:
        raise DiscordError.unknown_user()
    if user.bot:
        raise DiscordError.dms_closed()
    channel = call.world.open_dm(call.app.bot, user)
    return json_response(channel_json(call.world, channel))


def register(router: Router) -> None:
    router.add("GET", "/users/@me", get_me)
    router.add("GET", "/users/{user_id}", get_user)
    router.add("GET", "/oauth2/applications/@me", get_application)
    router.add("GET", "/gateway/bot", get_gateway_bot)
    router.add("POST", "/users/@me/channels", open_dm)
