"""Wires interaction delivery, the event stream, faults and the CDN into a mock server.

`install(app, state)` is a `MockConfig` extension (see `mockdiscord.server.state`). It:

- creates the `LiveServices` (event hub, fault injector, CDN store, counters) under
  `LIVE_KEY`;
- registers the "act as a user" control routes (`mockdiscord.acting`);
- serves `GET /_mock/events` (WebSocket) and `GET /_mock/cdn/attachments/...`;
- opens one aiohttp client session for POSTs to bots and runs the 250 ms tick, both for
  the app's lifetime (`cleanup_ctx`), and closes every event subscription on shutdown;
- adds the PING handshake (and the optional bad-signature probe) as an interactions-URL
  hook, so a URL whose bot does not PONG is refused;
- listens to every API response: counts it for the tick, and publishes `rate_limited` and
  `ban` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from mockdiscord import acting
from mockdiscord.events import EventHub, ban_event, rate_limited_event
from mockdiscord.events_ws import events_websocket
from mockdiscord.faults import FaultInjector
from mockdiscord.interactions import CDN_PREFIX, InteractionDelivery, InteractionSigner
from mockdiscord.ledger import LedgerEntry
from mockdiscord.live import LIVE_KEY, LiveServices
from mockdiscord.server.responses import ControlError, control_json
from mockdiscord.server.state import MockState
from mockdiscord.tokens import make_interaction_token
from mockdiscord.world import Application

__all__ = ["install"]


def install(app: web.Application, state: MockState) -> None:
    if LIVE_KEY in app:  # already installed (installing twice would double every listener)
        return
    live = LiveServices(
        hub=EventHub(state.clock, hot_buckets=state.engine.bucket_snapshot),
        faults=FaultInjector(),
    )
    app[LIVE_KEY] = live
    acting.register(state.control)
    app.router.add_get("/_mock/events", _events)
    app.router.add_get(CDN_PREFIX + "/{channel_id}/{attachment_id}/{filename}", _cdn)
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_close_streams)

    async def handshake(state: MockState, application: Application, url: str) -> None:
        await _handshake(live, state, application, url)

    def on_response(entry: LedgerEntry) -> None:
        _on_response(live, state, entry)

    state.interactions_url_hooks.append(handshake)
    state.response_listeners.append(on_response)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    live = app[LIVE_KEY]
    live.client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    ticker = asyncio.create_task(live.hub.run())
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await live.client.close()


async def _close_streams(app: web.Application) -> None:
    app[LIVE_KEY].hub.close()


async def _events(request: web.Request) -> web.StreamResponse:
    return await events_websocket(request, request.app[LIVE_KEY].hub)


async def _cdn(request: web.Request) -> web.StreamResponse:
    stored = request.app[LIVE_KEY].cdn.get(
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
        verify_probe=live.verify_probe.get(app.id, False),
    )
    if not result.ok:
        raise ControlError(f"interactions_url refused: {result.detail}", field="interactions_url")


def _on_response(live: LiveServices, state: MockState, entry: LedgerEntry) -> None:
    hub = live.hub
    hub.record_request(
        entry.application_id,
        counted=entry.counted,
        exempt=entry.exempt,
        status=entry.status,
        scope=entry.scope,
        banned=entry.banned,
    )
    bans = state.engine.ban_count
    if bans != live.bans_seen:
        live.bans_seen = bans
        hub.publish(
            ban_event(client_ip=entry.client_ip, duration_s=state.profile.invalid_requests.ban)
        )
    if entry.status == 429 and hub.has_subscribers:
        hub.publish(
            rate_limited_event(
                method=entry.method,
                route=entry.route,
                scope="ban" if entry.banned else entry.scope,
                bucket=entry.bucket_key,
                retry_after=None,
                application_id=entry.application_id,
            )
        )
