"""The app factory: `create_app(MockConfig()) -> web.Application`.

The CLI, the tests and the sandbox build the server the same way. The factory:

- loads the profile (`ProfileError` propagates: the caller reports it in one line);
- builds the world (one default application), the engine, the ledger and the stats, and
  stores them as one typed `MockState` under `STATE_KEY`;
- fills the REST and control route tables from lists of registration functions, so a later
  feature adds routes by adding a function (`MockConfig.rest_routes` / `control_routes`);
- installs the live features (`mockdiscord.server.live`: interaction delivery, acting as
  users, the event stream, faults, the CDN), then runs `MockConfig.extensions` (aiohttp
  routes such as a WebSocket, `cleanup_ctx` tasks), both before adding the catch-all
  handlers, so their routes take precedence;
- answers any other path with Discord's JSON 404. There is no middleware (it would cost
  every request a layer): `handle_api` and `handle_control` each turn an unexpected
  exception into a logged JSON 500, a last resort that the fuzz tests show is unreachable.
"""

from __future__ import annotations

import logging

from aiohttp import web

from mockdiscord.events import EventHub
from mockdiscord.ledger import Ledger
from mockdiscord.profile import Profile, load_profile
from mockdiscord.ratelimit import RateLimitEngine
from mockdiscord.server import (
    control,
    live,
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


async def not_found(request: web.Request) -> web.StreamResponse:
    """Paths outside `/api` and `/_mock`: Discord's own 404 body."""
    return json_response({"message": "404: Not Found", "code": 0}, status=404)


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
    engine = RateLimitEngine(profile, config.clock)
    state = MockState(
        config=config,
        clock=config.clock,
        profile=profile,
        world=world,
        engine=engine,
        ledger=Ledger(config.ledger_cap),
        stats=Stats(),
        rest=Router(),
        control=Router(),
        log=logging.getLogger("mockdiscord.server"),
        events=EventHub(config.clock, hot_buckets=engine.bucket_snapshot),
    )
    for register in config.rest_routes if config.rest_routes is not None else REST_ROUTES:
        register(state.rest)
    for register in config.control_routes if config.control_routes is not None else CONTROL_ROUTES:
        register(state.control)

    app = web.Application(client_max_size=config.max_body_bytes)
    app[STATE_KEY] = state
    for extension in (live.install, *config.extensions):
        extension(app, state)
    app.router.add_route("*", "/api/{tail:.*}", handle_api)
    app.router.add_route("*", "/api", handle_api)
    app.router.add_route("*", control.CONTROL_PREFIX + "/{tail:.*}", control.handle_control)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
