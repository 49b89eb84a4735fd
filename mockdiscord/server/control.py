"""The control plane under `/_mock`: how the sandbox and tests drive and observe the mock.

It is not part of Discord's API, so it is not rate-limited, recorded in the ledger or
counted in the stats. Responses are JSON with the exact `application/json` content type
(the ledger is JSON lines). A bad request is a 4xx whose body names the field at fault:
`{"error": "global_limit must be a positive integer or null", "field": "global_limit"}`.
Every endpoint is documented in `docs/control-plane.md`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from mockdiscord.profile import Profile, ProfileError, load_profile
from mockdiscord.server.responses import ControlError, control_json
from mockdiscord.server.routing import Match, Router
from mockdiscord.server.serialize import channel_json, message_json
from mockdiscord.server.state import STATE_KEY, MockState
from mockdiscord.world import Application, Channel, User

__all__ = ["CONTROL_PREFIX", "ControlCall", "handle_control", "register"]

CONTROL_PREFIX = "/_mock"
MAX_USERS_PER_CALL = 10_000
_MISSING: Any = object()


@dataclass(slots=True)
class ControlCall:
    request: web.Request
    state: MockState
    params: dict[str, str]

    async def json(self) -> dict[str, Any]:
        raw = await self.request.read()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ControlError("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object")
        return body


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ControlError(f"unknown field (allowed: {', '.join(sorted(allowed))})", field=key)


def _positive_int_or_null(body: dict[str, Any], name: str, maximum: int) -> int | None:
    value = body[name]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ControlError(f"{name} must be an integer from 1 to {maximum}, or null", field=name)
    return value


def _bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise ControlError(f"{name} must be true or false", field=name)
    return value


def _positive_number(body: dict[str, Any], name: str) -> float:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise ControlError(f"{name} must be a positive number of seconds", field=name)
    return float(value)


# -------------------------------------------------------------------------- applications


def application_info(state: MockState, app: Application) -> dict[str, Any]:
    return {
        "id": app.id,
        "name": app.name,
        "bot_user_id": app.bot.id,
        "bot_token": app.bot_token,
        "public_key": app.public_key,
        "interactions_url": app.interactions_url,
        "verify_probe": app.verify_probe,
        "global_limit": state.engine.global_limit(app.id),
        "global_limit_override": app.global_limit,
        "default": app is state.world.default_application,
    }


def _application(call: ControlCall) -> Application:
    app = call.state.world.applications.get(call.params["application_id"])
    if app is None:
        raise ControlError("no such application", field="application_id", status=404)
    return app


async def list_applications(call: ControlCall) -> web.Response:
    apps = [application_info(call.state, a) for a in call.state.world.applications.values()]
    return control_json({"applications": apps})


async def create_application(call: ControlCall) -> web.Response:
    body = await call.json()
    _only(body, {"name"})
    name = body.get("name", "Another Bot")
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        raise ControlError("name must be a string of 1 to 32 characters", field="name")
    app = call.state.world.create_application(name)
    return control_json(application_info(call.state, app), status=201)


def _interactions_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 2048:
        raise ControlError(
            "interactions_url must be an http(s) URL or null", field="interactions_url"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ControlError(
            "interactions_url must be an http(s) URL or null", field="interactions_url"
        )
    return value


async def patch_application(call: ControlCall) -> web.Response:
    app = _application(call)
    body = await call.json()
    _only(body, {"interactions_url", "global_limit", "verify_probe"})
    url = _interactions_url(body["interactions_url"]) if "interactions_url" in body else _MISSING
    probe = _bool(body, "verify_probe", app.verify_probe)
    limit = (
        _positive_int_or_null(body, "global_limit", 1_000_000)
        if "global_limit" in body
        else _MISSING
    )
    previous_probe, app.verify_probe = app.verify_probe, probe
    if url is not _MISSING and url is not None:
        try:
            for hook in call.state.interactions_url_hooks:  # e.g. the PING handshake
                await hook(call.state, app, url)
        except ControlError:
            app.verify_probe = previous_probe  # a refused PATCH changes nothing
            raise
    if url is not _MISSING:
        app.interactions_url = url
    if limit is not _MISSING:
        app.global_limit = limit
        call.state.engine.set_global_limit(app.id, limit)
    return control_json(application_info(call.state, app))


# -------------------------------------------------------------------------------- users


def user_info(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "global_name": user.global_name,
        "bot": user.bot,
        "dms_closed": user.dms_closed,
    }


async def create_users(call: ControlCall) -> web.Response:
    body = await call.json()
    _only(body, {"count", "names", "dms_closed", "prefix"})
    dms_closed = _bool(body, "dms_closed", False)
    if ("count" in body) == ("names" in body):
        raise ControlError("give exactly one of count or names", field="count")
    if "names" in body:
        names = body["names"]
        if (
            not isinstance(names, list)
            or not 1 <= len(names) <= MAX_USERS_PER_CALL
            or not all(isinstance(n, str) and 1 <= len(n) <= 32 for n in names)
        ):
            raise ControlError(
                f"names must be a list of 1 to {MAX_USERS_PER_CALL} strings of 1-32 characters",
                field="names",
            )
    else:
        count = _positive_int_or_null(body, "count", MAX_USERS_PER_CALL)
        if count is None:
            raise ControlError("count must be a positive integer", field="count")
        prefix = body.get("prefix", "player")
        if not isinstance(prefix, str) or not 1 <= len(prefix) <= 24:
            raise ControlError("prefix must be a string of 1 to 24 characters", field="prefix")
        start = len(call.state.world.human_users())
        names = [f"{prefix}{start + i + 1}" for i in range(count)]
    world = call.state.world
    users = [world.create_user(name, dms_closed=dms_closed) for name in names]
    return control_json(
        {"ids": [u.id for u in users], "users": [user_info(u) for u in users]}, status=201
    )


async def list_users(call: ControlCall) -> web.Response:
    return control_json({"users": [user_info(u) for u in call.state.world.users.values()]})


def _user(call: ControlCall) -> User:
    user = call.state.world.users.get(call.params["user_id"])
    if user is None:
        raise ControlError("no such user", field="user_id", status=404)
    return user


async def patch_user(call: ControlCall) -> web.Response:
    user = _user(call)
    body = await call.json()
    _only(body, {"dms_closed"})
    user.dms_closed = _bool(body, "dms_closed", user.dms_closed)
    return control_json(user_info(user))


def _messages_json(state: MockState, channel: Channel | None) -> list[dict[str, Any]]:
    if channel is None:
        return []
    ordered = sorted(channel.messages.values(), key=lambda m: int(m.id))
    return [message_json(state.world, m) for m in ordered]


async def user_dm(call: ControlCall) -> web.Response:
    """The user's DM with a bot (default application unless `?application_id=`), oldest
    message first, as the user sees it."""
    user = _user(call)
    state = call.state
    app_id = call.request.query.get("application_id", state.world.default_application.id)
    app = state.world.applications.get(app_id)
    if app is None:
        raise ControlError("no such application", field="application_id", status=404)
    channel = state.world.dm_between(app.bot, user)
    return control_json(
        {
            "user_id": user.id,
            "application_id": app.id,
            "channel_id": channel.id if channel else None,
            "messages": _messages_json(state, channel),
        }
    )


# ----------------------------------------------------------------------------- channels


async def list_channels(call: ControlCall) -> web.Response:
    world = call.state.world
    return control_json(
        {
            "guild": {"id": world.guild.id, "name": world.guild.name},
            "channels": [channel_json(world, c) for c in world.channels.values()],
        }
    )


async def channel_messages(call: ControlCall) -> web.Response:
    channel = call.state.world.channels.get(call.params["channel_id"])
    if channel is None:
        raise ControlError("no such channel", field="channel_id", status=404)
    return control_json(
        {
            "channel": channel_json(call.state.world, channel),
            "messages": _messages_json(call.state, channel),
        }
    )


# ------------------------------------------------------------------- stats and ledger


async def get_stats(call: ControlCall) -> web.Response:
    snapshot = call.state.stats.snapshot(call.state.engine)
    for view in call.state.stats_views:
        snapshot.update(view(call.state))
    return control_json(snapshot)


async def get_ledger(call: ControlCall) -> web.Response:
    raw_after = call.request.query.get("after", "0")
    if not raw_after.isascii() or not raw_after.isdigit() or len(raw_after) > 15:
        raise ControlError("after must be a non-negative integer", field="after")
    ledger = call.state.ledger
    body = "".join(ledger.json_lines(int(raw_after))).encode()
    return web.Response(
        body=body,
        headers={"Content-Type": "application/x-ndjson", "X-Ledger-Total": str(ledger.total)},
    )


# ------------------------------------------------------------------------------ config


def config_info(state: MockState) -> dict[str, Any]:
    profile = state.profile
    g = profile.global_
    info: dict[str, Any] = {
        "profile": {"name": profile.name, "source": profile.source},
        "global_limit": g.limit,
        "global_period": g.period,
        "global_algorithm": g.algorithm,
        "ip_limit": g.ip_limit,
        "interaction_token_lifetime": profile.interactions.token_lifetime,
        "interaction_deadline": profile.interactions.deadline,
        "routes": {
            r.name: {
                "limit": r.spec.limit,
                "period": r.spec.period,
                "algorithm": r.spec.algorithm,
            }
            for r in profile.routes
        },
    }
    for view in state.config_views:
        info.update(view(state))
    return info


def _configured_profile(state: MockState, body: dict[str, Any]) -> Profile:
    profile = state.profile
    if "profile" in body:
        source = body["profile"]
        if not isinstance(source, str) or not source:
            raise ControlError("profile must be a built-in name or a file path", field="profile")
        try:
            profile = load_profile(source)
        except ProfileError as error:
            raise ControlError(str(error), field="profile") from None
    changes: dict[str, Any] = {}
    for key, name in (("global_limit", "limit"), ("ip_limit", "ip_limit")):
        if key in body:
            value = _positive_int_or_null(body, key, 1_000_000)
            if value is None:
                raise ControlError(f"{key} must be a positive integer", field=key)
            changes[name] = value
    if "global_period" in body:
        changes["period"] = _positive_number(body, "global_period")
    if "global_algorithm" in body:
        if body["global_algorithm"] not in ("sliding", "fixed", "gcra"):
            raise ControlError(
                "global_algorithm must be sliding, fixed or gcra", field="global_algorithm"
            )
        changes["algorithm"] = body["global_algorithm"]
    try:
        if changes:
            profile = profile.with_global(**changes)
        routes = body.get("routes", {})
        if not isinstance(routes, dict):
            raise ControlError(
                "routes must map rule names to {limit, period, algorithm}", field="routes"
            )
        for name, spec in routes.items():
            field = f"routes.{name}"
            if not isinstance(spec, dict) or not set(spec) <= {"limit", "period", "algorithm"}:
                raise ControlError("expected {limit?, period?, algorithm?}", field=field)
            try:
                profile.rule(name)
            except KeyError:
                raise ControlError("no rule of that name in the profile", field=field) from None
            if "limit" in spec and _positive_int_or_null(spec, "limit", 1_000_000) is None:
                raise ControlError("limit must be a positive integer", field=field)
            if "period" in spec:
                _positive_number(spec, "period")
            if spec.get("algorithm", "sliding") not in ("sliding", "fixed"):
                raise ControlError("algorithm must be sliding or fixed", field=field)
            profile = profile.with_route_limit(
                name,
                limit=spec.get("limit"),
                period=float(spec["period"]) if "period" in spec else None,
                algorithm=spec.get("algorithm"),
            )
    except ProfileError as error:
        raise ControlError(str(error), field=error.key or None) from None
    if "interaction_token_lifetime" in body:
        lifetime = _positive_number(body, "interaction_token_lifetime")
        profile = dataclasses.replace(
            profile,
            interactions=dataclasses.replace(profile.interactions, token_lifetime=lifetime),
        )
    return profile


async def get_config(call: ControlCall) -> web.Response:
    return control_json(config_info(call.state))


async def put_config(call: ControlCall) -> web.Response:
    body = await call.json()
    _only(
        body,
        {
            "profile",
            "global_limit",
            "global_period",
            "global_algorithm",
            "ip_limit",
            "interaction_token_lifetime",
            "routes",
            *call.state.config_fields,
        },
    )
    profile = _configured_profile(call.state, body)
    appliers = [
        validate(call.state, body[name])
        for name, validate in call.state.config_fields.items()
        if name in body
    ]
    call.state.set_profile(profile)  # everything was validated first: a PUT is atomic
    if "profile" in body:
        # A swapped-in profile brings its whole fault setup (none without a `[faults]`
        # table); a `faults` field in the same PUT is applied after it, so it wins.
        call.state.faults.configure(profile.faults)
    for apply in appliers:
        apply()
    return control_json(config_info(call.state))


async def reset(call: ControlCall) -> web.Response:
    state = call.state
    for app_id in list(state.world.applications):
        if app_id != state.world.default_application.id:
            state.engine.set_global_limit(app_id, None)
    state.world.reset()
    state.engine.reset()
    state.ledger.clear()
    state.stats.reset()
    for listener in state.reset_listeners:
        listener()
    return control_json({"ok": True, "application_id": state.world.default_application.id})


# ------------------------------------------------------------------------- dispatching


def register(router: Router) -> None:
    router.add("GET", "/applications", list_applications)
    router.add("POST", "/applications", create_application)
    router.add("PATCH", "/applications/{application_id}", patch_application)
    router.add("GET", "/users", list_users)
    router.add("POST", "/users", create_users)
    router.add("PATCH", "/users/{user_id}", patch_user)
    router.add("GET", "/users/{user_id}/dm", user_dm)
    router.add("GET", "/channels", list_channels)
    router.add("GET", "/channels/{channel_id}/messages", channel_messages)
    router.add("GET", "/stats", get_stats)
    router.add("GET", "/ledger", get_ledger)
    router.add("GET", "/config", get_config)
    router.add("PUT", "/config", put_config)
    router.add("POST", "/reset", reset)


async def handle_control(request: web.Request) -> web.StreamResponse:
    """The single aiohttp handler behind `/_mock/{tail:.*}` (not for WebSocket routes,
    which extensions register on the aiohttp router directly)."""
    state = request.app[STATE_KEY]
    found = state.control.resolve(request.method, request.rel_url.raw_path[len(CONTROL_PREFIX) :])
    if not isinstance(found, Match):
        if found == "method":
            return control_json({"error": "method not allowed", "field": None}, status=405)
        return control_json({"error": "no such control endpoint", "field": None}, status=404)
    try:
        return await found.route.handler(ControlCall(request, state, found.params))
    except ControlError as error:
        return error.response()
    except web.HTTPRequestEntityTooLarge:
        return control_json({"error": "the body is too large", "field": None}, status=413)
    except Exception:  # a bug: logged, still JSON (the fuzz tests show it is unreachable)
        state.log.exception("event=control_crash path=%s", request.path)
        return control_json({"error": "internal error", "field": None}, status=500)
