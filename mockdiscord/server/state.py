"""Configuration and shared state of one mock server.

`MockConfig` is everything a caller chooses (clock, profile, seed, token, route tables,
extensions); `MockState` is what the running app holds, reachable from any handler as
`request.app[STATE_KEY]`. Nothing is global: two mocks in one process are independent.

Extension points for later features (interaction delivery, the events WebSocket, faults):
- `MockConfig.rest_routes` / `control_routes`: functions that add routes to a `Router`;
- `MockConfig.extensions`: functions called with the aiohttp app and the state at build
  time (add aiohttp routes, `cleanup_ctx` tasks, listeners);
- `MockState.interactions_url_hooks`: awaited when an application's interactions URL is
  set through the control plane, before it is stored; raising `ControlError` refuses the
  URL (Discord's portal refuses a URL whose PING handshake fails);
- `MockState.response_listeners`: called with every API ledger entry after it is recorded;
- `MockState.reset_listeners`: called by `POST /_mock/reset` after the core state is reset;
- `MockState.config_fields`: extra `PUT /_mock/config` fields (e.g. `faults`). Each maps a
  field name to a validator called with (state, value); it raises `ControlError` for bad
  input or returns a function that applies the change. All validators run before
  anything is applied, so a refused PUT changes nothing. `MockState.config_views` add
  keys to `GET /_mock/config`, `stats_views` add keys to `GET /_mock/stats`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mockdiscord.clock import Clock, SystemClock
from mockdiscord.events import EventHub
from mockdiscord.faults import FaultInjector
from mockdiscord.ledger import DEFAULT_CAP, Ledger, LedgerEntry
from mockdiscord.profile import Profile
from mockdiscord.ratelimit import RateLimitEngine
from mockdiscord.stats import Stats
from mockdiscord.world import Application, World

if TYPE_CHECKING:
    from mockdiscord.server.routing import Router

__all__ = [
    "STATE_KEY",
    "ConfigField",
    "Extension",
    "InteractionsUrlHook",
    "MockConfig",
    "MockState",
    "RouteRegistrar",
]

RouteRegistrar = Callable[["Router"], None]
InteractionsUrlHook = Callable[["MockState", Application, str], Awaitable[None]]
ResponseListener = Callable[[LedgerEntry], None]
ConfigApplier = Callable[[], None]
ConfigField = Callable[["MockState", Any], ConfigApplier]
View = Callable[["MockState"], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class MockConfig:
    """What a mock server is built from. Every field has a sensible default."""

    clock: Clock = field(default_factory=SystemClock)
    profile: str | Path | Profile = "discord"
    seed: int | None = None
    bot_token: str | None = None
    ledger_cap: int = DEFAULT_CAP
    nonce_window_s: float = 300.0
    max_body_bytes: int = 26 * 1024 * 1024
    #: None: the defaults of `mockdiscord.server.app` (REST_ROUTES / CONTROL_ROUTES).
    rest_routes: Sequence[RouteRegistrar] | None = None
    control_routes: Sequence[RouteRegistrar] | None = None
    extensions: Sequence[Extension] = ()
    #: PING a new interactions URL (and probe it when asked) before saving it, as Discord
    #: does. Off only for tests that set URLs with no bot behind them.
    interactions_handshake: bool = True


@dataclass(slots=True)
class MockState:
    config: MockConfig
    clock: Clock
    profile: Profile
    world: World
    engine: RateLimitEngine
    ledger: Ledger
    stats: Stats
    rest: Router
    control: Router
    log: logging.Logger
    #: the live event stream (`GET /_mock/events`) and the injected faults
    events: EventHub
    faults: FaultInjector = field(default_factory=FaultInjector)
    interactions_url_hooks: list[InteractionsUrlHook] = field(default_factory=list)
    response_listeners: list[ResponseListener] = field(default_factory=list)
    config_fields: dict[str, ConfigField] = field(default_factory=dict)
    config_views: list[View] = field(default_factory=list)
    stats_views: list[View] = field(default_factory=list)
    reset_listeners: list[Callable[[], None]] = field(default_factory=list)

    def set_profile(self, profile: Profile) -> None:
        """Swap the active profile live: engine limits and the interaction token lifetime."""
        self.profile = profile
        self.engine.configure(profile)
        self.world.interaction_lifetime_s = profile.interactions.token_lifetime


Extension = Callable[[web.Application, MockState], None]

STATE_KEY = web.AppKey("mockdiscord_state", MockState)
