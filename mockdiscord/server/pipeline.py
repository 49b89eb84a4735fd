"""The path of every `/api/...` request: resolve, rate-limit, authenticate, handle, record.

This is the one place the HTTP layer meets the rate-limit engine, and its order is the
contract of `notes/ENGINE_API.md`:

1. Resolve the path against the REST route table (templates of `notes/ROUTES.md`). An
   unknown path still costs global budget, as on Discord, under the route name
   `UNKNOWN_ROUTE`.
2. `engine.check()` once, with the route template, its parameters, the client IP and the
   application behind the bot token (only a known token is passed on; an unknown token is
   limited per IP, then refused with 401). A refusal is sent exactly as the engine built it
   (a 429, or the 403 code 40003 of opening DMs too fast).
3. Authenticate (routes with the token in the URL need no header), then run the handler.
   Handlers raise `DiscordError` for Discord-shaped errors. Any other exception is a bug:
   it is logged and answered with Discord's own 500 body (the fuzz tests prove no input
   reaches that branch).
4. The allowed verdict's bucket headers go on the final response whatever its status, then
   the ledger, the stats and `engine.record_status` see the final status.

Injected faults (`mockdiscord.faults`, configured live) sit between 2 and 3, so a request
the engine refuses always gets its 429, and an injected fault still spends rate-limit
budget as a real failed request does: added latency delays the handler; a 5xx replaces
the response (for a message create with `stored_before_error`, after the handler has
stored the message); a reset closes the connection with no response (ledger status 0).
The ledger entry names the fault. The event hub counts every response for its tick and
gets a `rate_limited` event per 429; both are O(1) and never wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from mockdiscord.events import rate_limited_event
from mockdiscord.faults import NO_FAULT, FaultDecision, error_body
from mockdiscord.ledger import LedgerEntry
from mockdiscord.ratelimit import RateLimitRequest, Verdict
from mockdiscord.server.responses import JSON_CONTENT_TYPE, VIA, DiscordError, json_response
from mockdiscord.server.routing import Match
from mockdiscord.server.state import STATE_KEY, MockState
from mockdiscord.snowflake import is_snowflake, snowflake_time
from mockdiscord.tokens import interaction_id_from_token
from mockdiscord.world import Application, World

__all__ = ["API_PREFIX", "UNKNOWN_ROUTE", "ApiCall", "UploadedFile", "handle_api"]

API_PREFIX = "/api/v10"
UNKNOWN_ROUTE = "/<unknown>"
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    content: bytes


@dataclass(slots=True)
class ApiCall:
    """What a REST handler gets: the request, the state, path parameters, the caller."""

    request: web.Request
    state: MockState
    params: dict[str, str]
    application: Application | None
    files: list[UploadedFile] = field(default_factory=list)
    _body: Any = _UNSET

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def app(self) -> Application:
        """The authenticated application (the pipeline guarantees it on `auth` routes)."""
        if self.application is None:
            raise DiscordError.unauthorized()
        return self.application

    def query(self, name: str) -> str | None:
        return self.request.query.get(name)

    @property
    def base_url(self) -> str:
        return f"{self.request.scheme}://{self.request.host}"

    async def json(self) -> Any:
        """The decoded body: JSON, or the `payload_json` of a multipart upload (files go to
        `self.files`). An empty body is `{}`. Malformed input raises Discord's errors."""
        if self._body is not _UNSET:
            return self._body
        if self.request.content_type == "multipart/form-data":
            self._body = await self._multipart()
            return self._body
        try:
            raw = await self.request.read()
        except web.HTTPRequestEntityTooLarge:
            raise DiscordError.too_large() from None
        self._body = decode_json(raw)
        return self._body

    async def _multipart(self) -> Any:
        limit = self.state.config.max_body_bytes
        payload: Any = {}
        total = 0
        try:
            reader = await self.request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    raise ValueError("nested multipart")
                data = await part.read(decode=False)
                total += len(data)
                if total > limit:
                    raise DiscordError.too_large()
                if part.name == "payload_json":
                    payload = decode_json(data)
                elif part.filename is not None:
                    self.files.append(
                        UploadedFile(
                            field=part.name or "",
                            filename=part.filename,
                            content_type=part.headers.get(
                                "Content-Type", "application/octet-stream"
                            ),
                            content=bytes(data),
                        )
                    )
        except DiscordError:
            raise
        except Exception:  # aiohttp's multipart parser raises many types on malformed input
            raise DiscordError.form(
                {"_errors": [{"code": "MULTIPART_INVALID", "message": "Invalid multipart body"}]}
            ) from None
        return payload


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise DiscordError.invalid_json() from None


def _bot_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "Bot" or not token:
        return None
    return token.strip()


@dataclass(frozen=True, slots=True)
class _Resolved:
    route: str
    match: Match | None
    method_exists: bool
    params: dict[str, str]


def _resolve(state: MockState, method: str, raw_path: str) -> _Resolved:
    if raw_path != API_PREFIX and not raw_path.startswith(API_PREFIX + "/"):
        return _Resolved(UNKNOWN_ROUTE, None, False, {})
    found = state.rest.resolve(method, raw_path[len(API_PREFIX) :])
    if isinstance(found, Match):
        return _Resolved(found.route.template, found, True, found.params)
    return _Resolved(UNKNOWN_ROUTE, None, found == "method", {})


async def _changed_channel_fields(call: ApiCall) -> frozenset[str]:
    """PATCH /channels/{id}: the sub-limited fields (name, topic) the body really changes."""
    try:
        body = await call.json()
    except DiscordError:
        return frozenset()
    channel = call.world.channels.get(call.params.get("channel_id", ""))
    if not isinstance(body, dict) or channel is None:
        return frozenset()
    return frozenset(
        name for name in ("name", "topic") if name in body and body[name] != getattr(channel, name)
    )


def _message_age(state: MockState, message_id: str) -> float | None:
    message = state.world.find_message(message_id)
    if message is not None:
        return state.clock.monotonic() - message.created_mono
    if is_snowflake(message_id):
        return max(0.0, state.clock.wall() - snowflake_time(message_id))
    return None


def _interaction_app(state: MockState, resolved: _Resolved) -> str | None:
    """The application behind an interaction callback or interaction webhook, if known."""
    params = resolved.params
    if "interaction_id" in params:
        interaction = state.world.interactions.get(params["interaction_id"])
        return interaction.application_id if interaction else None
    if "webhook_token" in params:
        interaction = state.world.interaction_by_token(params["webhook_token"])
        return interaction.application_id if interaction else None
    return None


async def handle_api(request: web.Request) -> web.StreamResponse:
    """The single aiohttp handler behind `/api/{tail:.*}`."""
    try:
        return await _handle_api(request)
    except Exception:  # a bug outside the handler (engine, ledger...): still JSON, logged
        request.app[STATE_KEY].log.exception("event=pipeline_crash path=%s", request.path)
        return json_response({"message": "500: Internal Server Error", "code": 0}, status=500)


async def _handle_api(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    started = time.perf_counter()
    method = request.method.upper()
    resolved = _resolve(state, method, request.rel_url.raw_path)
    token = _bot_token(request)
    application = state.world.application_by_token(token) if token else None
    call = ApiCall(request, state, resolved.params, application)
    client_ip = request.remote or "unknown"

    route = resolved.route
    webhook_token = resolved.params.get("webhook_token")
    interaction_webhook = bool(
        webhook_token
        and route.startswith("/webhooks/")
        and interaction_id_from_token(webhook_token)
    )
    message_age: float | None = None
    if method == "DELETE" and route == "/channels/{channel_id}/messages/{message_id}":
        message_age = _message_age(state, unquote(resolved.params["message_id"]))
    changed: frozenset[str] = frozenset()
    if method == "PATCH" and route == "/channels/{channel_id}":
        changed = await _changed_channel_fields(call)
    app_id = application.id if application else _interaction_app(state, resolved)
    verdict = state.engine.check(
        RateLimitRequest(
            method=method,
            route=route,
            params=resolved.params,
            client_ip=client_ip,
            token=application.bot_token if application else None,
            application_id=application.id if application else None,
            interaction_webhook=interaction_webhook,
            message_age_s=message_age,
            changed_fields=changed,
        )
    )
    fault: FaultDecision = NO_FAULT
    if not verdict.allowed and verdict.response is not None:
        refusal = verdict.response
        response: web.StreamResponse = web.Response(
            status=refusal.status, headers=refusal.headers, body=refusal.body
        )
        # A 429 is a `rate_limited` event; the engine's other refusal (opening DMs too
        # fast, a 403 code 40003) is only in the ledger and the stats.
        if refusal.status == 429 and state.events.has_subscribers:
            state.events.publish(
                rate_limited_event(
                    method=method,
                    route=route,
                    scope="ban" if verdict.banned else verdict.scope,
                    bucket=verdict.bucket_key,
                    retry_after=verdict.retry_after,
                    application_id=app_id,
                    channel_id=resolved.params.get("channel_id"),
                    code=verdict.code,
                )
            )
    else:
        if resolved.match is not None:
            fault = state.faults.decide(method, route)
            if fault is not NO_FAULT and state.events.has_subscribers:
                state.events.publish(
                    {"type": "fault", "method": method, "route": route, "fault": fault.label}
                )
            if fault.latency_s > 0:
                await asyncio.sleep(fault.latency_s)
        if fault.fails:
            failed = await _failure(state, call, resolved, fault)
            if failed is None:  # connection reset: nothing is sent
                _record(state, verdict, method, route, app_id, client_ip, 0, started, fault)
                return web.Response(status=500)  # never written: the transport is gone
            response = failed
        else:
            response = await _run_handler(state, call, resolved)
            response.headers.update(verdict.headers)
            response.headers["Via"] = VIA
    _record(state, verdict, method, route, app_id, client_ip, response.status, started, fault)
    return response


async def _failure(
    state: MockState, call: ApiCall, resolved: _Resolved, fault: FaultDecision
) -> web.Response | None:
    """An injected 5xx (the handler runs first if the request was "stored before the
    error"), or None after resetting the connection."""
    if fault.reset:
        _reset_connection(call.request)
        return None
    status = fault.error_status or 500
    if fault.store_before_error:
        await _run_handler(state, call, resolved)  # stored; the client sees only the error
    return web.Response(
        status=status,
        body=error_body(status),
        headers={"Content-Type": JSON_CONTENT_TYPE, "Via": VIA},
    )


def _reset_connection(request: web.Request) -> None:
    """Abort the TCP connection with an RST, as a crashing proxy would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _run_handler(state: MockState, call: ApiCall, resolved: _Resolved) -> web.Response:
    try:
        if resolved.match is None:
            if resolved.method_exists:
                raise DiscordError.method_not_allowed()
            raise DiscordError.route_not_found()
        if resolved.match.route.auth and call.application is None:
            raise DiscordError.unauthorized()
        return await resolved.match.route.handler(call)
    except DiscordError as error:
        return error.response()
    except Exception:
        state.log.exception(
            "event=handler_crash method=%s path=%s", call.request.method, call.request.path
        )
        return json_response({"message": "500: Internal Server Error", "code": 0}, status=500)


def _record(
    state: MockState,
    verdict: Verdict,
    method: str,
    route: str,
    application_id: str | None,
    client_ip: str,
    status: int,
    started: float,
    fault: FaultDecision = NO_FAULT,
) -> None:
    entry = LedgerEntry(
        at_wall=verdict.at_wall,
        at_monotonic=verdict.at,
        application_id=application_id,
        method=method,
        route=route,
        bucket_key=verdict.bucket_key,
        status=status,
        scope=verdict.scope,
        counted=verdict.counted,
        exempt=verdict.exempt,
        client_ip=client_ip,
        banned=verdict.banned,
        fault=fault.label,
        latency_ms=round((time.perf_counter() - started) * 1000.0, 3),
    )
    state.ledger.record(entry)
    state.stats.record(entry)
    state.engine.record_status(client_ip, status, verdict.scope)
    state.events.record_request(
        application_id,
        counted=verdict.counted,
        exempt=verdict.exempt,
        status=status,
        scope=verdict.scope,
        banned=verdict.banned,
    )
    for listener in state.response_listeners:
        listener(entry)
