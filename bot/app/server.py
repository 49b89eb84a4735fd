"""The bot's HTTP server: the interactions endpoint, ``GET /healthz`` and ``GET /status``.

``POST /interactions`` is what Discord calls for every slash command and click. The order
of checks is the security model:

1. the Ed25519 signature over ``timestamp + raw body`` and the timestamp's age (at most
   5 minutes either way) are checked on the raw bytes *before anything else*: a request
   that fails gets 401 and touches no state (Discord probes this with bad signatures);
2. the body must be JSON (else 400); a PING is answered with a PONG;
3. the payload is parsed strictly (`bot.handlers.parse_interaction`), and the handler
   checks its options before writing anything: malformed input is a 400, nothing written;
4. the handler's `Reply` is the HTTP answer (or 202 when it already answered through the
   callback route). Slow work is deferred: the answer is written and flushed first, and
   the work continues as a background task of the service.

``GET /status`` is JSON for people and the sandbox: the limiter's lanes, queue depths,
in-flight requests and learned buckets (`Limiter.snapshot`), the dispatcher's snapshot
with recent waves' metrics, the queue, the outbox and the timers.

``PUT /status/dispatch`` ``{"strategy": "paced"}`` switches the dispatch strategy at run
time, as ``/admin dispatch`` does. The endpoint is public (Discord must reach
``/interactions``), so this one control answers only loopback clients: an operator on the
bot's host, or the sandbox; anyone else gets 403.

`create_app` is the factory the CLI and the tests share; the service lives in the app
under a typed `web.AppKey` and is started and stopped by a ``cleanup_ctx``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from bot.discord import verify_request
from bot.handlers import BadInteraction, handle, parse_interaction
from bot.handlers.replies import error
from bot.service import LadderService

__all__ = ["MAX_BODY_BYTES", "SERVICE_KEY", "create_app"]

_log = logging.getLogger("bot.app")

SERVICE_KEY: web.AppKey[LadderService] = web.AppKey("service", LadderService)
MAX_BODY_BYTES = 1024 * 1024
PING = 1
PONG = {"type": 1}


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def interactions(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE_KEY]
    started = time.perf_counter()
    raw = await request.read()
    if not verify_request(
        service.settings.public_key,
        request.headers.get("X-Signature-Ed25519"),
        request.headers.get("X-Signature-Timestamp"),
        raw,
        service.clock,
    ):
        _log.warning("event=interaction_rejected reason=signature")
        return _problem(401, "invalid request signature")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "the body is not JSON")
    if isinstance(payload, dict) and payload.get("type") == PING:
        return web.json_response(PONG)
    try:
        interaction = parse_interaction(
            payload,
            application_id=service.settings.application_id,
            now=service.clock.wall(),
        )
    except BadInteraction as exc:
        _log.warning("event=interaction_rejected reason=bad_payload detail=%r", str(exc))
        return _problem(400, str(exc))
    try:
        reply = await handle(service, interaction)
    except BadInteraction as exc:
        _log.warning("event=interaction_rejected reason=bad_input detail=%r", str(exc))
        return _problem(400, str(exc))
    except Exception:
        _log.exception("event=interaction_crashed")
        reply = error("Something went wrong on our side; nothing was changed. Please retry.")
    name = interaction.command or interaction.custom_id
    _log.info(
        "event=interaction kind=%s name=%r user=%d response=%s elapsed_ms=%.1f",
        "command" if interaction.command else "component",
        name,
        interaction.user_id,
        reply.body.get("type") if reply.body else "callback",
        (time.perf_counter() - started) * 1000,
    )
    if reply.body is None:
        response: web.StreamResponse = web.Response(status=202)
    else:
        response = web.json_response(reply.body)
    if reply.after is not None:
        # Flush the answer first, so Discord has it before the slow work starts.
        await response.prepare(request)
        await response.write_eof()
        service.spawn(reply.after(), name=f"after-{name}")
    return response


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def status(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICE_KEY].status())


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


async def set_dispatch_strategy(request: web.Request) -> web.Response:
    if not _is_loopback(request.remote):
        return web.json_response(
            {"error": "only loopback clients may change the strategy"}, status=403
        )
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "the body must be JSON"}, status=400)
    strategy = body.get("strategy") if isinstance(body, dict) else None
    if not isinstance(strategy, str):
        return web.json_response({"error": 'expected {"strategy": NAME}'}, status=400)
    service = request.app[SERVICE_KEY]
    try:
        service.dispatcher.set_strategy(strategy)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"strategy": service.dispatcher.strategy})


async def _service_lifecycle(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE_KEY]
    await service.start()
    try:
        yield
    finally:
        await service.stop()


def create_app(service: LadderService, *, manage_service: bool = True) -> web.Application:
    """The aiohttp application; with ``manage_service`` the service starts and stops with it."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SERVICE_KEY] = service
    app.router.add_post(service.settings.interactions_path, interactions)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
    app.router.add_put("/status/dispatch", set_dispatch_strategy)
    if manage_service:
        app.cleanup_ctx.append(_service_lifecycle)
    return app
