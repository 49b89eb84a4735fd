"""The app factory: `create_app(MockConfig()) -> web.Application`.

The CLI, the tests and the sandbox build the server the same way. The factory:

- loads the profile (`ProfileError` propagates: the caller reports it in one line);
- builds the world (one default application), the engine, the ledger and the stats, and
  stores them as one typed `MockState` under `STATE_KEY`;
- fills the REST and control route tables from lists of registration functions, so a later
  feature adds routes by adding a function (`MockConfig.rest_routes` / `control_routes`);
- runs `MockConfig.extensions` (aiohttp routes such as a WebSocket, `cleanup_ctx` tasks)
  before adding the two catch-all handlers, so extension routes take precedence;
- installs a last-resort middleware: an unexpected exception anywhere becomes a logged,
  Discord-shaped JSON error instead of aiohttp's text page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from mockdiscord.ledger import Ledger
from mockdiscord.profile import Profile, load_profile
from mockdiscord.ratelimit import RateLimitEngine
from mockdiscord.server import (
    control,
    rest_applications,
    rest_channels,
    rest_interactions,
    rest_users,
)
from mockdiscord.server.pipeline import handle_api
from mockdiscord.server.responses import json_response
from mockdiscord.server.routing import Router
from mockdiscord.server.state import STATE_KEY, MockConfig, MockState, RouteRegistrar
from mockdiscord.stats import Stats
from mockdiscord.world import World, WorldConfig

__all__ = ["CONTROL_ROUTES", "REST_ROUTES", "STATE_KEY", "MockConfig", "MockState", "create_app"]

REST_ROUTES: tuple[RouteRegistrar, ...] = (
    rest_users.register,
    rest_channels.register,
    rest_applications.register,
    rest_interactions.register,
)
CONTROL_ROUTES: tuple[RouteRegistrar, ...] = (control.register,)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def last_resort(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        # aiohttp's own refusals (unknown path outside /api and /_mock, body too large...)
        return json_response({"message": f"{exc.status}: {exc.reason}", "code": 0}, exc.status)
    except Exception:
        request.app[STATE_KEY].log.exception("event=unhandled path=%s", request.path)
        return json_response({"message": "500: Internal Server Error", "code": 0}, status=500)


def create_app(config: MockConfig | None = None) -> web.Application:
    config = config or MockConfig()
    profile = (
        config.profile if isinstance(config.profile, Profile) else load_profile(config.profile)
    )
    world = World(
        config.clock,
        config=WorldConfig(
            interaction_lifetime_s=profile.interactions.token_lifetime,
            nonce_window_s=config.nonce_window_s,
        ),
        seed=config.seed,
        default_token=config.bot_token,
    )
    state = MockState(
        config=config,
        clock=config.clock,
        profile=profile,
        world=world,
        engine=RateLimitEngine(profile, config.clock),
        ledger=Ledger(config.ledger_cap),
        stats=Stats(),
        rest=Router(),
        control=Router(),
        log=logging.getLogger("mockdiscord.server"),
    )
    for register in config.rest_routes if config.rest_routes is not None else REST_ROUTES:
        register(state.rest)
    for register in config.control_routes if config.control_routes is not None else CONTROL_ROUTES:
        register(state.control)

    app = web.Application(middlewares=[last_resort], client_max_size=config.max_body_bytes)
    app[STATE_KEY] = state
    for extension in config.extensions:
        extension(app, state)
    app.router.add_route("*", "/api/{tail:.*}", handle_api)
    app.router.add_route("*", "/api", handle_api)
    app.router.add_route("*", control.CONTROL_PREFIX + "/{tail:.*}", control.handle_control)
    return app
