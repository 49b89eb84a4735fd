"""Delivering a signed interaction to a bot's Interactions Endpoint URL, as Discord does.

One delivery is one HTTP POST of the JSON payload, signed with the application's key
(`signing.py`), racing a deadline (3 s by default, configurable). The interaction is
acknowledged by whichever comes first:

- the HTTP response: a 2xx whose JSON body is a valid response (`{"type": 4, "data": ...}`)
  is handed to `respond`, the same code path the callback route uses;
- a `POST /interactions/{id}/{token}/callback` that the bot makes while the POST is still
  open (the callback route acknowledges the interaction; delivery watches an `AckView`).

The outcome reported to the control plane:

- `responded`: acknowledged in time with a non-deferred type (1, 4, 7, 9);
- `deferred`: acknowledged in time with type 5 or 6 (the bot promised to follow up);
- `rejected`: the bot refused the request (a non-2xx status, for example 401 from a bot
  whose signature check is wrong) or could not be reached, and had not acknowledged;
- `failed`: nothing valid arrived by the deadline ("This interaction failed"). The
  interaction is then expired, so a late callback gets 10062.

The deadline runs from the moment the interaction is created, so an injected delivery delay
(`delay_s`) eats into the bot's three seconds, as network trouble would. A dropped delivery
(`drop=True`) is never sent and fails at the deadline.

`handshake` is what Discord does when an interactions URL is saved: a signed PING that must
be answered `{"type": 1}`, and optionally (`verify_probe`) a badly signed request that must
be answered 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from mockdiscord.clock import Clock
from mockdiscord.interactions.ack import DEFERRED_TYPES, AckView
from mockdiscord.interactions.payloads import build_ping
from mockdiscord.interactions.signing import InteractionSigner

__all__ = [
    "DEFAULT_DEADLINE_S",
    "DeliveryResult",
    "HandshakeResult",
    "InteractionDelivery",
    "Responder",
]

DEFAULT_DEADLINE_S = 3.0
USER_AGENT = "Discord-Interactions/1.0 (+https://discord.com)"
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
LATE_GRACE_S = 1.0

# `respond(body)` applies an HTTP-response body exactly as the callback route would; it
# returns None when the response was accepted, or a short reason when it was refused.
Responder = Callable[[Mapping[str, Any]], "str | None"]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """How one interaction delivery ended, as returned by the "act as a user" routes."""

    interaction_id: str
    outcome: str
    response_type: int | None
    latency_ms: float
    http_status: int | None
    detail: str = ""
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "interaction_id": self.interaction_id,
            "outcome": self.outcome,
            "response_type": self.response_type,
            "latency_ms": round(self.latency_ms, 3),
            "http_status": self.http_status,
            "detail": self.detail,
            "fault": self.fault,
        }


@dataclass(frozen=True, slots=True)
class HandshakeResult:
    ok: bool
    detail: str
    http_status: int | None = None


@dataclass(frozen=True, slots=True)
class _HttpReply:
    status: int | None
    body: bytes
    error: str | None = None


class InteractionDelivery:
    """Posts signed interactions with one shared aiohttp client session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        clock: Clock,
        deadline_s: float = DEFAULT_DEADLINE_S,
    ) -> None:
        if deadline_s <= 0:
            raise ValueError("the interaction deadline must be positive")
        self._session = session
        self._clock = clock
        self.deadline_s = deadline_s

    def _timestamp(self) -> str:
        return str(int(self._clock.wall()))

    async def _post(
        self, url: str, body: bytes, headers: Mapping[str, str], limit_s: float
    ) -> _HttpReply:
        try:
            async with self._session.post(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    **headers,
                },
                timeout=aiohttp.ClientTimeout(total=max(limit_s, 0.001)),
                allow_redirects=False,
            ) as response:
                content = await response.content.read(MAX_RESPONSE_BYTES)
                return _HttpReply(response.status, content)
        except TimeoutError:
            return _HttpReply(None, b"", "timeout")
        except aiohttp.ClientError as exc:
            return _HttpReply(None, b"", f"unreachable: {type(exc).__name__}")

    async def deliver(
        self,
        *,
        url: str,
        payload: Mapping[str, Any],
        signer: InteractionSigner,
        ack: AckView,
        respond: Responder,
        delay_s: float = 0.0,
        drop: bool = False,
    ) -> DeliveryResult:
        """Deliver one interaction and wait for its acknowledgement or its deadline."""
        loop = asyncio.get_running_loop()
        started = self._clock.monotonic()
        deadline = loop.time() + self.deadline_s
        interaction_id = str(payload.get("id", ""))
        fault = "dropped" if drop else ("delayed" if delay_s > 0 else None)
        http_status: int | None = None
        detail = ""
        rejected = False
        http_task: asyncio.Task[_HttpReply] | None = None
        ack_task = asyncio.ensure_future(ack.wait())
        try:
            if delay_s > 0 and not drop:
                await asyncio.sleep(delay_s)
            if not drop:
                body = json.dumps(payload, separators=(",", ":")).encode()
                headers = signer.headers(self._timestamp(), body)
                # A delivery delayed past the deadline is still sent (the bot sees it late,
                # and its late callback gets 10062); it gets a short grace to answer.
                limit = deadline - loop.time()
                http_task = asyncio.ensure_future(
                    self._post(url, body, headers, limit if limit > 0 else LATE_GRACE_S)
                )
            waiting: set[asyncio.Future[Any]] = {ack_task}
            if http_task is not None:
                waiting.add(http_task)
            while ack.pending and http_task in waiting:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                done, _ = await asyncio.wait(
                    waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                waiting -= done
                if http_task in done:
                    reply = http_task.result()
                    http_status = reply.status
                    verdict = self._read_reply(reply, ack, respond)
                    if verdict is not None:
                        detail, rejected = verdict
                if rejected or not done:
                    break
            if ack.pending and not rejected:
                # Still pending: the HTTP reply is in but was not a response; a callback
                # may yet arrive before the deadline.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        asyncio.shield(ack_task), max(deadline - loop.time(), 0.0)
                    )
            if ack.pending:
                ack.expire()
                if not detail:
                    detail = "no response before the deadline"
            if http_task is not None and http_task in waiting:
                # Acknowledged through the callback route (or failed): the POST itself ends
                # by its own timeout; wait for it to report the bot's HTTP status.
                reply = await http_task
                if http_status is None:
                    http_status = reply.status
        finally:
            ack_task.cancel()
            if http_task is not None and not http_task.done():
                http_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await http_task
        latency_ms = (
            (ack.acknowledged_at if ack.acknowledged_at is not None else self._clock.monotonic())
            - started
        ) * 1000.0
        if ack.acknowledged:
            outcome = "deferred" if ack.response_type in DEFERRED_TYPES else "responded"
            detail = detail if not detail.startswith("no response") else ""
        else:
            outcome = "rejected" if rejected else "failed"
        return DeliveryResult(
            interaction_id=interaction_id,
            outcome=outcome,
            response_type=ack.response_type,
            latency_ms=max(latency_ms, 0.0),
            http_status=http_status,
            detail=detail,
            fault=fault,
        )

    @staticmethod
    def _read_reply(reply: _HttpReply, ack: AckView, respond: Responder) -> tuple[str, bool] | None:
        """Handle the bot's HTTP response: None when it acknowledged, else (detail, rejected)."""
        if reply.status is None:
            if reply.error == "timeout":
                return "no response before the deadline", False
            return f"bot {reply.error}", True
        if not 200 <= reply.status < 300:
            if ack.pending:
                return f"bot answered HTTP {reply.status}", True
            return None
        if not ack.pending:
            return None
        try:
            body = json.loads(reply.body)
        except (ValueError, UnicodeDecodeError):
            return f"bot answered HTTP {reply.status} without a JSON response body", False
        if not isinstance(body, Mapping) or not isinstance(body.get("type"), int):
            return f"bot answered HTTP {reply.status} without a response type", False
        refused = respond(body)
        if refused is not None:
            return f"response refused: {refused}", False
        return None

    async def handshake(
        self,
        *,
        url: str,
        signer: InteractionSigner,
        application_id: str,
        interaction_id: str,
        token: str,
        verify_probe: bool = False,
    ) -> HandshakeResult:
        """Discord's check of a new interactions URL: PING must PONG; probe must get 401."""
        payload = build_ping(
            interaction_id=interaction_id, application_id=application_id, token=token
        )
        body = json.dumps(payload, separators=(",", ":")).encode()
        reply = await self._post(
            url, body, signer.headers(self._timestamp(), body), self.deadline_s
        )
        if reply.status is None:
            return HandshakeResult(False, f"the PING to {url} got no answer ({reply.error})")
        if not 200 <= reply.status < 300:
            return HandshakeResult(
                False, f"the PING was answered with HTTP {reply.status}, not a PONG", reply.status
            )
        try:
            answer = json.loads(reply.body)
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, Mapping) or answer.get("type") != 1:
            return HandshakeResult(
                False, 'the PING was not answered with {"type": 1} (PONG)', reply.status
            )
        if verify_probe:
            probe = await self._post(
                url, body, signer.bad_signature_headers(self._timestamp(), body), self.deadline_s
            )
            if probe.status != 401:
                got = f"HTTP {probe.status}" if probe.status is not None else probe.error
                return HandshakeResult(
                    False,
                    f"a badly signed request was answered with {got}; the bot must verify "
                    "X-Signature-Ed25519 and answer 401",
                    probe.status,
                )
        return HandshakeResult(True, "PING answered with PONG", reply.status)
