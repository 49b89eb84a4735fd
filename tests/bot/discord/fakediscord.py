"""The one in-process Discord stand-in for the bot's unit tests (an httpx MockTransport handler).

Test-only and deliberately independent of `mockdiscord` (the bot and the mock share no
code). It judges every request at its ARRIVAL on the injected manual clock, like Discord,
and knows just what the limiter and dispatcher tests send:

- the global limit: a sliding log of counted arrivals per 1 s (``/interactions/`` and
  ``/webhooks/`` routes are exempt); a global 429 has ``X-RateLimit-Global: true``,
  ``Scope: global``, ``Retry-After`` and no bucket headers;
- per-route buckets, GCRA (``sliding=True``) or fixed windows, with the headers Discord
  sends: per-channel message create and edit (one hash, separate counters, 5 per 5 s by
  default) and per-interaction-token ``@original`` edits (5 per 2 s); a user 429 carries
  every bucket header and ``{"message": "You are being rate limited.", "global": false}``;
- message creates are stored; with ``nonce`` + ``enforce_nonce`` a second create with the
  same nonce in the same channel returns the first message, as Discord does;
- ``PATCH /webhooks/{app}/{token}/messages/@original`` (401 code 50027 for expired tokens),
  ``PATCH /channels/{c}/messages/{m}``, ``POST /users/@me/channels`` (a DM channel id is
  ``DM_BASE + user``), ``POST /interactions/{id}/{token}/callback`` (204, no bucket),
  ``GET /users/@me``; anything else is Discord's 404 ``{"message": "404: Not Found"}``;
- faults, seeded: 5xx on creates (optionally after storing the message), connection errors
  before the request arrives or after it was processed (the response is lost), closed DMs
  (403 code 50007);
- time: ``latency`` delays arrivals and ``return_latency`` responses (virtual seconds);
  ``stamp_skew`` shifts each response's ``X-RateLimit-Reset`` stamp from the judging clock
  (a server whose headers come from another clock).

Every arrival is recorded with its kind (``message_create``, ``channel_edit``,
``webhook_edit``, ``dm_open``, ``interaction_callback``, ``current_user``, ``global_429``,
``unknown``) and final status, for assertions.
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
from bot.discord import DiscordClient, GlobalConfig, LimiterConfig
from tests.bot.discord.vtime import VirtualTime

MESSAGE_HASH = "a" * 32
WEBHOOK_HASH = "b" * 32
DM_BASE = 700_000_000_000_000_000
RATE_LIMITED = "You are being rate limited."


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Most arrivals in any half-open window (x - window, x]."""
    ordered = sorted(times)
    best = 0
    low = 0
    for high, t in enumerate(ordered):
        while ordered[low] <= t - window:
            low += 1
        best = max(best, high - low + 1)
    return best


@dataclass
class _Gcra:
    limit: int
    period: float
    tat: float = float("-inf")

    def take(self, now: float) -> tuple[bool, int, float, float]:
        """(allowed, remaining, reset_after, retry_after)."""
        t = self.period / self.limit
        base = max(self.tat, now)
        if base + t - now <= self.period + 1e-9:
            self.tat = base + t
            reset_after = self.tat - now
            remaining = math.floor((self.period - reset_after) / t + 1e-9)
            return True, remaining, reset_after, 0.0
        reset_after = self.tat - now
        return False, 0, reset_after, base + t - self.period - now


@dataclass
class _Fixed:
    limit: int
    period: float
    start: float = float("-inf")
    used: int = 0

    def take(self, now: float) -> tuple[bool, int, float, float]:
        if now >= self.start + self.period:
            self.start = now
            self.used = 0
        reset_after = self.start + self.period - now
        if self.used < self.limit:
            self.used += 1
            return True, self.limit - self.used, reset_after, 0.0
        return False, 0, reset_after, reset_after


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
    kind: str = "?"
    status: int = 0
    body: Any = None


@dataclass
class FakeDiscord:
    clock: ManualClock
    vt: VirtualTime
    global_limit: int = 50
    sliding: bool = True
    message_limit: int = 5
    message_period: float = 5.0
    latency: Callable[[], float] | None = None
    return_latency: Callable[[], float] | None = None
    stamp_skew: Callable[[], float] | None = None
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
    _buckets: dict[tuple[str, str], _Gcra | _Fixed] = field(default_factory=dict)
    _global_log: list[float] = field(default_factory=list)
    _next_id: int = 900_000_000_000_000_000
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def client(self, global_config: GlobalConfig | None = None) -> DiscordClient:
        """A `DiscordClient` talking to this fake, on its clock and virtual time."""
        return DiscordClient(
            "t0k",
            "https://discord.test/api/v10",
            clock=self.clock,
            transport=self.transport(),
            sleep=self.vt.sleep,
            limiter_config=LimiterConfig(global_budget=global_config or GlobalConfig()),
        )

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
        arrival = Arrival(now, request.method, path, not exempt, body=body)
        self.arrivals.append(arrival)
        response = self._respond(now, request.method, path, body, arrival)
        arrival.status = response.status_code
        if self.return_latency is not None:
            await self.vt.sleep(self.return_latency())
        if self.reset_rate and self._rng.random() < self.reset_rate / 2:
            self._fault("reset_after")
            raise httpx.ReadError("connection reset (response lost)", request=request)
        return response

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Via": "1.1 google", "Content-Type": "application/json", **(extra or {})}

    def _json(
        self, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> httpx.Response:
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
        payload = {"message": RATE_LIMITED, "retry_after": retry, "global": True}
        return self._json(429, payload, headers)

    def _respond(
        self, now: float, method: str, path: str, body: Any, arrival: Arrival
    ) -> httpx.Response:
        if arrival.counted:
            limited = self._global(now)
            if limited is not None:
                arrival.kind = "global_429"
                return limited
        fields = body if isinstance(body, dict) else {}
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
                now, bucket, WEBHOOK_HASH, lambda: self._webhook_edit(token, fields)
            )
        if create and method == "POST":
            arrival.kind = "message_create"
            channel = int(create.group(1))
            if channel in self.closed_dm_channels:
                return self._json(
                    403, {"message": "Cannot send messages to this user", "code": 50007}
                )
            bucket = self._bucket("create", str(channel), self.message_limit, self.message_period)
            return self._bucketed(now, bucket, MESSAGE_HASH, lambda: self._create(channel, fields))
        if edit and method == "PATCH":
            arrival.kind = "channel_edit"
            key = (int(edit.group(1)), int(edit.group(2)))
            bucket = self._bucket("edit", edit.group(1), self.message_limit, self.message_period)
            return self._bucketed(
                now, bucket, MESSAGE_HASH, lambda: self._channel_edit(key, fields)
            )
        if path == "/users/@me/channels" and method == "POST":
            arrival.kind = "dm_open"
            user = int(fields["recipient_id"])
            return self._json(200, {"id": str(DM_BASE + user), "type": 1})
        if path.startswith("/interactions/") and method == "POST":
            arrival.kind = "interaction_callback"
            return httpx.Response(204, headers={"Via": "1.1 google"})
        if path == "/users/@me" and method == "GET":
            arrival.kind = "current_user"
            return self._json(200, {"id": "1"})
        arrival.kind = "unknown"
        return self._json(404, {"message": "404: Not Found", "code": 0})

    def _bucket(self, counter: str, major: str, limit: int, period: float) -> _Gcra | _Fixed:
        key = (counter, major)
        if key not in self._buckets:
            cls = _Gcra if self.sliding else _Fixed
            self._buckets[key] = cls(limit, period)
        return self._buckets[key]

    def _stamp(self) -> float:
        return self.clock.wall() + (0.0 if self.stamp_skew is None else self.stamp_skew())

    def _bucketed(
        self,
        now: float,
        bucket: _Gcra | _Fixed,
        bucket_hash: str,
        act: Callable[[], tuple[int, dict[str, Any]]],
    ) -> httpx.Response:
        allowed, remaining, reset_after, retry_after = bucket.take(now)
        headers = self._headers(
            {
                "X-RateLimit-Limit": str(bucket.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Reset": f"{self._stamp() + reset_after:.3f}",
                "X-RateLimit-Bucket": bucket_hash,
                "X-RateLimit-Scope": "user",
            }
        )
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
            payload = {
                "message": RATE_LIMITED,
                "retry_after": round(retry_after, 3),
                "global": False,
            }
            return self._json(429, payload, headers)
        status, payload = act()
        return self._json(status, payload, headers)

    def _create(self, channel: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        nonce = body.get("nonce")
        nonce = None if nonce is None else str(nonce)
        existing = self.messages.setdefault(channel, [])
        if nonce is not None and body.get("enforce_nonce"):
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
        payload: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.nonce is not None:
            payload["nonce"] = message.nonce
        fields = ("content", "embeds", "components")
        return payload | {k: v for k, v in message.body.items() if k in fields}

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
