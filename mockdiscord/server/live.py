"""Interaction delivery, the event stream, faults and the CDN, wired into the server.

`install(app, state)` runs for every app `create_app` builds (before the caller's own
extensions). It:

- creates the `LiveServices` (interaction counters, the client session for POSTs to
  bots) under `LIVE_KEY`;
- registers the "act as a user" control routes (`mockdiscord.server.acting`);
- serves `GET /_mock/events` (WebSocket, `mockdiscord.server.events_ws`) and
  `GET /_mock/cdn/attachments/...`;
- opens the client session and runs the 250 ms tick for the app's lifetime
  (`cleanup_ctx`), and closes every event subscription on shutdown;
- adds the PING handshake (plus the bad-signature probe when the application has
  `verify_probe`) as an interactions-URL hook, so a URL whose bot does not PONG is refused
  (`MockConfig.interactions_handshake=False` turns it off for tests without a bot);
- installs the profile's `[faults]` table (swapping the profile live through
  `PUT /_mock/config` installs the new profile's; see `control.put_config`);
- adds the `faults` and `interaction_deadline` fields to `PUT /_mock/config`, and
  `interactions`, `faults` and `events` to `GET /_mock/stats`;
- publishes `message_created` / `message_updated` / `message_deleted` from the world, and
  `ban` events when the engine bans an IP; resets its counters on `POST /_mock/reset`.

Request counting for the ticks, `rate_limited` events and the faults themselves happen in
the API pipeline (`mockdiscord.server.pipeline`), which owns the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from mockdiscord.events import ban_event, message_event
from mockdiscord.faults import FaultConfig, FaultConfigError
from mockdiscord.interactions import (
    CDN_PREFIX,
    InteractionDelivery,
    InteractionSigner,
)
from mockdiscord.ledger import LedgerEntry
from mockdiscord.profile import KNOWN_ROUTES
from mockdiscord.server.events_ws import events_websocket
from mockdiscord.server.responses import ControlError, control_json
from mockdiscord.server.state import STATE_KEY, ConfigApplier, MockState
from mockdiscord.tokens import make_interaction_token
from mockdiscord.world import Application, Message

__all__ = ["LIVE_KEY", "OUTCOMES", "InteractionCounters", "LiveServices", "install"]

OUTCOMES = ("responded", "deferred", "failed", "rejected")
MAX_DEADLINE_S = 60.0


class InteractionCounters:
    """Outcomes of delivered interactions, for `/_mock/stats` (`interactions`)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.delivered = 0
        self.outcomes: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self.by_kind: dict[str, int] = {"command": 0, "component": 0}
        self.latency_ms_max = 0.0

    def record(self, kind: str, outcome: str, latency_ms: float) -> None:
        self.delivered += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        if outcome in ("responded", "deferred"):
            self.latency_ms_max = max(self.latency_ms_max, latency_ms)

    def snapshot(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            **self.outcomes,
            "by_kind": dict(self.by_kind),
            "acknowledged_latency_ms_max": round(self.latency_ms_max, 3),
        }


@dataclass(slots=True)
class LiveServices:
    interactions: InteractionCounters = field(default_factory=InteractionCounters)
    bans_seen: int = 0
    client: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The client session for POSTs to bots (opened with the app, closed on cleanup)."""
        if self.client is None or self.client.closed:
            raise RuntimeError("the mock's client session is not running")
        return self.client


LIVE_KEY = web.AppKey("mockdiscord_live", LiveServices)


def install(app: web.Application, state: MockState) -> None:
    if LIVE_KEY in app:  # already installed (installing twice would double every listener)
        return
    from mockdiscord.server import acting  # acting needs LIVE_KEY from this module

    live = LiveServices()
    app[LIVE_KEY] = live
    state.faults.configure(state.profile.faults)  # the profile's `[faults]` table, if any
    acting.register(state.control)
    app.router.add_get("/_mock/events", _events)
    app.router.add_get(CDN_PREFIX + "/{channel_id}/{attachment_id}/{filename}", _cdn)
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_close_streams)

    async def handshake(state: MockState, application: Application, url: str) -> None:
        if state.config.interactions_handshake:
            await _handshake(live, state, application, url)

    def on_response(entry: LedgerEntry) -> None:
        bans = state.engine.ban_count
        if bans != live.bans_seen:
            live.bans_seen = bans
            state.events.publish(
                ban_event(client_ip=entry.client_ip, duration_s=state.profile.invalid_requests.ban)
            )

    def on_message(kind: str, message: Message) -> None:
        if state.events.has_subscribers:
            state.events.publish(message_event(kind, _message_summary(message)))

    def on_reset() -> None:
        live.interactions.reset()
        state.faults.reset_counts()
        live.bans_seen = state.engine.ban_count

    state.interactions_url_hooks.append(handshake)
    state.response_listeners.append(on_response)
    state.world.add_message_listener(on_message)
    state.reset_listeners.append(on_reset)
    state.config_fields["faults"] = _faults_field
    state.config_fields["interaction_deadline"] = _deadline_field
    state.config_views.append(lambda s: {"faults": s.faults.config.to_json()})
    state.stats_views.append(
        lambda s: {
            "interactions": live.interactions.snapshot(),
            "faults": s.faults.snapshot(),
            "events": {"subscribers": s.events.subscriber_count, "published": s.events.published},
        }
    )


def _message_summary(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "channel_id": message.channel_id,
        "author": {"id": message.author_id},
        "content": message.content,
        "embeds": message.embeds,
        "components": message.components,
        "attachments": message.attachments,
        "interaction_id": message.interaction_id,
    }


def _faults_field(state: MockState, value: Any) -> ConfigApplier:
    try:
        config = FaultConfig.from_mapping(value, known_routes=KNOWN_ROUTES)
    except FaultConfigError as error:
        raise ControlError(error.message, field=error.field) from None
    return lambda: state.faults.configure(config)


def _deadline_field(state: MockState, value: Any) -> ConfigApplier:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= MAX_DEADLINE_S
    ):
        raise ControlError(
            f"interaction_deadline must be seconds, above 0 and at most {MAX_DEADLINE_S:g}",
            field="interaction_deadline",
        )

    def apply() -> None:
        profile = state.profile
        interactions = dataclasses.replace(profile.interactions, deadline=float(value))
        state.set_profile(dataclasses.replace(profile, interactions=interactions))

    return apply


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    live = app[LIVE_KEY]
    live.client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    ticker = asyncio.create_task(app[STATE_KEY].events.run())
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await live.client.close()


async def _close_streams(app: web.Application) -> None:
    app[STATE_KEY].events.close()


async def _events(request: web.Request) -> web.StreamResponse:
    return await events_websocket(request, request.app[STATE_KEY].events)


async def _cdn(request: web.Request) -> web.StreamResponse:
    stored = request.app[STATE_KEY].world.cdn.get(
        request.match_info["channel_id"],
        request.match_info["attachment_id"],
        request.match_info["filename"],
    )
    if stored is None:
        return control_json({"error": "no such file", "field": "attachment_id"}, status=404)
    return web.Response(body=stored.content, headers={"Content-Type": stored.content_type})


async def _handshake(live: LiveServices, state: MockState, app: Application, url: str) -> None:
    """Discord's check when an interactions URL is saved; raising refuses the URL."""
    interaction_id = state.world.new_id()
    delivery = InteractionDelivery(
        live.session(), clock=state.clock, deadline_s=state.profile.interactions.deadline
    )
    result = await delivery.handshake(
        url=url,
        signer=InteractionSigner(app.signing_key),
        application_id=app.id,
        interaction_id=interaction_id,
        token=make_interaction_token(interaction_id, random.Random()),
        verify_probe=app.verify_probe,
    )
    if not result.ok:
        raise ControlError(f"interactions_url refused: {result.detail}", field="interactions_url")
