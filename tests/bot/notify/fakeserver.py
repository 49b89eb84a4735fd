"""A Discord stand-in for dispatcher tests: judges ARRIVALS on a manual clock, keeps messages.

Test-only and independent of `mockdiscord` (the bot and the mock share no code). It knows
just what the dispatcher sends:

- the global limit, a sliding log of counted arrivals per 1 s (interaction webhooks exempt);
- per-channel message create and edit buckets (GCRA, 5 per 5 s by default) and per-token
  webhook buckets (5 per 2 s), with Discord's headers and the three 429 shapes it needs;
- message creates with ``nonce`` + ``enforce_nonce``: a second create with the same nonce in
  the same channel returns the first message, as Discord does;
- ``PATCH /webhooks/{app}/{token}/messages/@original`` (401 code 50027 for expired tokens),
  ``PATCH /channels/{c}/messages/{m}``, ``POST /users/@me/channels``;
- faults, seeded: 5xx on creates (optionally after storing the message), connection errors
  before the request arrives or after it was processed (the response is lost), closed DMs
  (403 code 50007), and a one-way latency.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.clock import ManualClock
from tests.bot.discord.fakediscord import _Gcra
from tests.bot.discord.vtime import VirtualTime

MESSAGE_HASH = "c" * 32
WEBHOOK_HASH = "d" * 32
DM_BASE = 700_000_000_000_000_000


@dataclass
class Message:
    id: int
    channel_id: int
    body: dict[str, Any]
    nonce: str | None
    created_at: float
    edits: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Arrival:
    at: float
    method: str
    path: str
    counted: bool
    kind: str
    status: int = 0
    body: Any = None


@dataclass
class FakeServer:
    clock: ManualClock
    vt: VirtualTime
    global_limit: int = 50
    message_limit: int = 5
    message_period: float = 5.0
    latency: Callable[[], float] | None = None
    seed: int = 0
    create_5xx_rate: float = 0.0
    stored_before_error: float = 0.5
    reset_rate: float = 0.0
    closed_dm_channels: set[int] = field(default_factory=set)
    expired_tokens: set[str] = field(default_factory=set)
    arrivals: list[Arrival] = field(default_factory=list)
    messages: dict[int, list[Message]] = field(default_factory=dict)
    webhook_edits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    channel_edits: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    _buckets: dict[tuple[str, str], _Gcra] = field(default_factory=dict)
    _global_log: list[float] = field(default_factory=list)
    _next_id: int = 900_000_000_000_000_000
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    # -- views for assertions ------------------------------------------------------------------

    def statuses(self) -> list[int]:
        return [a.status for a in self.arrivals]

    def counted_arrivals(self) -> list[float]:
        return [a.at for a in self.arrivals if a.counted]

    def accepted(self, kind: str) -> list[Arrival]:
        return [a for a in self.arrivals if a.kind == kind and 200 <= a.status < 300]

    def all_messages(self) -> list[Message]:
        return [m for msgs in self.messages.values() for m in msgs]

    def count_429(self) -> int:
        return sum(1 for a in self.arrivals if a.status == 429)

    # -- the server ----------------------------------------------------------------------------

    def _fault(self, name: str) -> None:
        self.faults[name] = self.faults.get(name, 0) + 1

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if self.latency is not None:
            await self.vt.sleep(self.latency())
        if self.reset_rate and self._rng.random() < self.reset_rate / 2:
            self._fault("reset_before")
            raise httpx.ConnectError("connection reset (before arrival)", request=request)
        now = self.clock.monotonic()
        path = request.url.path.removeprefix("/api/v10")
        body = json.loads(request.content) if request.content else None
        exempt = path.startswith(("/interactions/", "/webhooks/"))
        arrival = Arrival(now, request.method, path, not exempt, "?", body=body)
        self.arrivals.append(arrival)
        response = self._respond(now, request.method, path, body, arrival)
        arrival.status = response.status_code
        if self.reset_rate and self._rng.random() < self.reset_rate / 2:
            self._fault("reset_after")
            raise httpx.ReadError("connection reset (response lost)", request=request)
        return response

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Via": "1.1 google", "Content-Type": "application/json", **(extra or {})}

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> Any:
        return httpx.Response(status, headers=headers or self._headers(), json=payload)

    def _global(self, now: float) -> httpx.Response | None:
        self._global_log = [t for t in self._global_log if t > now - 1.0]
        if len(self._global_log) < self.global_limit:
            self._global_log.append(now)
            return None
        retry = round(self._global_log[0] + 1.0 - now, 3)
        headers = self._headers(
            {
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
                "Retry-After": str(max(1, math.ceil(retry))),
            }
        )
        return self._json(429, {"message": "global", "retry_after": retry, "global": True}, headers)

    def _respond(
        self, now: float, method: str, path: str, body: Any, arrival: Arrival
    ) -> httpx.Response:
        if arrival.counted:
            limited = self._global(now)
            if limited is not None:
                arrival.kind = "global_429"
                return limited
        webhook = re.fullmatch(r"/webhooks/(\d+)/([^/]+)/messages/@original", path)
        create = re.fullmatch(r"/channels/(\d+)/messages", path)
        edit = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)
        if webhook and method == "PATCH":
            arrival.kind = "webhook_edit"
            token = webhook.group(2)
            if token in self.expired_tokens:
                return self._json(401, {"message": "Invalid Webhook Token", "code": 50027})
            bucket = self._bucket("webhook", token, 5, 2.0)
            return self._bucketed(
                now, bucket, WEBHOOK_HASH, lambda: self._webhook_edit(token, body)
            )
        if create and method == "POST":
            arrival.kind = "message_create"
            channel = int(create.group(1))
            if channel in self.closed_dm_channels:
                return self._json(
                    403, {"message": "Cannot send messages to this user", "code": 50007}
                )
            bucket = self._bucket("create", str(channel), self.message_limit, self.message_period)
            return self._bucketed(now, bucket, MESSAGE_HASH, lambda: self._create(channel, body))
        if edit and method == "PATCH":
            arrival.kind = "channel_edit"
            key = (int(edit.group(1)), int(edit.group(2)))
            bucket = self._bucket("edit", edit.group(1), self.message_limit, self.message_period)
            return self._bucketed(now, bucket, MESSAGE_HASH, lambda: self._channel_edit(key, body))
        if path == "/users/@me/channels" and method == "POST":
            arrival.kind = "dm_open"
            user = int(body["recipient_id"])
            return self._json(200, {"id": str(DM_BASE + user), "type": 1})
        arrival.kind = "unknown"
        return self._json(404, {"message": "404: Not Found", "code": 0})

    def _bucket(self, counter: str, major: str, limit: int, period: float) -> _Gcra:
        key = (counter, major)
        if key not in self._buckets:
            self._buckets[key] = _Gcra(limit, period)
        return self._buckets[key]

    def _bucketed(
        self,
        now: float,
        bucket: _Gcra,
        bucket_hash: str,
        act: Callable[[], tuple[int, dict[str, Any]]],
    ) -> httpx.Response:
        allowed, remaining, reset_after, retry_after = bucket.take(now)
        headers = self._headers(
            {
                "X-RateLimit-Limit": str(bucket.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Reset": f"{self.clock.wall() + reset_after:.3f}",
                "X-RateLimit-Bucket": bucket_hash,
                "X-RateLimit-Scope": "user",
            }
        )
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
            payload = {
                "message": "You are being rate limited.",
                "retry_after": round(retry_after, 3),
                "global": False,
            }
            return self._json(429, payload, headers)
        status, payload = act()
        return self._json(status, payload, headers)

    def _create(self, channel: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        nonce = body.get("nonce") if body.get("enforce_nonce") else None
        existing = self.messages.setdefault(channel, [])
        if nonce is not None:
            for message in existing:
                if message.nonce == nonce:
                    return 200, self._message_json(message)
        stored = False
        if self.create_5xx_rate and self._rng.random() < self.create_5xx_rate:
            self._fault("5xx")
            if self._rng.random() < self.stored_before_error:
                stored = True
                self._fault("5xx_stored")
                self._store(channel, body, nonce)
            return 500, {"message": "500: Internal Server Error", "code": 0, "stored": stored}
        return 200, self._message_json(self._store(channel, body, nonce))

    def _store(self, channel: int, body: dict[str, Any], nonce: str | None) -> Message:
        message = Message(self._next_id, channel, dict(body), nonce, self.clock.monotonic())
        self._next_id += 1
        self.messages.setdefault(channel, []).append(message)
        return message

    def _message_json(self, message: Message) -> dict[str, Any]:
        return {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "nonce": message.nonce,
            **{k: v for k, v in message.body.items() if k in ("content", "embeds", "components")},
        }

    def _webhook_edit(self, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.webhook_edits.setdefault(token, []).append(dict(body))
        return 200, {"id": "1", **body}

    def _channel_edit(
        self, key: tuple[int, int], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        self.channel_edits.setdefault(key, []).append(dict(body))
        for message in self.messages.get(key[0], []):
            if message.id == key[1]:
                message.edits.append(dict(body))
        return 200, {"id": str(key[1]), **body}
