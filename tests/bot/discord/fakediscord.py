"""A tiny Discord stand-in for the limiter tests (an httpx MockTransport handler).

Test-only and deliberately independent of `mockdiscord` (the bot and the mock share no
code). It judges every request at its ARRIVAL on the injected manual clock, like Discord:
a sliding-log global limit and per-route buckets, GCRA (sliding) or fixed windows, with the
headers real Discord sends. Optional latencies (virtual seconds) delay arrivals
(``latency``) and responses (``return_latency``); ``stamp_skew`` shifts each response's
bucket-header stamp from the judging clock (a server whose headers come from another clock).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.clock import ManualClock
from tests.bot.discord.vtime import VirtualTime

MESSAGE_HASH = "a" * 32
WEBHOOK_HASH = "b" * 32


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
class Arrival:
    at: float
    method: str
    path: str
    counted: bool
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
    arrivals: list[Arrival] = field(default_factory=list)
    _buckets: dict[tuple[str, str], _Gcra | _Fixed] = field(default_factory=dict)
    _global_log: list[float] = field(default_factory=list)
    _next_id: int = 100_000_000_000_000_000

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def statuses(self) -> list[int]:
        return [a.status for a in self.arrivals]

    def counted_arrivals(self) -> list[float]:
        return [a.at for a in self.arrivals if a.counted]

    def _bucket(self, counter: str, major: str, limit: int, period: float) -> _Gcra | _Fixed:
        key = (counter, major)
        if key not in self._buckets:
            cls = _Gcra if self.sliding else _Fixed
            self._buckets[key] = cls(limit, period)
        return self._buckets[key]

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Via": "1.1 google", "Content-Type": "application/json"}
        headers.update(extra or {})
        return headers

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if self.latency is not None:
            await self.vt.sleep(self.latency())
        now = self.clock.monotonic()
        path = request.url.path.removeprefix("/api/v10")
        method = request.method
        body = json.loads(request.content) if request.content else None
        exempt = path.startswith(("/interactions/", "/webhooks/"))
        arrival = Arrival(now, method, path, counted=not exempt, body=body)
        self.arrivals.append(arrival)
        response = self._respond(now, method, path, body, counted=not exempt)
        arrival.status = response.status_code
        if self.return_latency is not None:
            await self.vt.sleep(self.return_latency())
        return response

    def _respond(
        self, now: float, method: str, path: str, body: Any, *, counted: bool
    ) -> httpx.Response:
        if counted:
            self._global_log = [t for t in self._global_log if t > now - 1.0]
            if len(self._global_log) >= self.global_limit:
                retry = round(self._global_log[0] + 1.0 - now, 3)
                return httpx.Response(
                    429,
                    headers=self._headers(
                        {
                            "X-RateLimit-Global": "true",
                            "X-RateLimit-Scope": "global",
                            "Retry-After": str(max(1, math.ceil(retry))),
                        }
                    ),
                    json={"message": "global", "retry_after": retry, "global": True},
                )
            self._global_log.append(now)

        channel = re.match(r"^/channels/(\d+)/messages(?:/(\d+))?$", path)
        webhook = re.match(r"^/webhooks/(\d+)/([^/]+)/messages/@original$", path)
        if channel and method in ("POST", "PATCH"):
            counter = "create" if method == "POST" else "edit"
            bucket = self._bucket(
                counter, channel.group(1), self.message_limit, self.message_period
            )
            payload = {"id": str(self._next_id), "channel_id": channel.group(1)}
            if isinstance(body, dict) and "nonce" in body:
                payload["nonce"] = body["nonce"]
            self._next_id += 1
            return self._bucketed(now, bucket, MESSAGE_HASH, payload)
        if webhook and method == "PATCH":
            bucket = self._bucket("webhook", webhook.group(2), 5, 2.0)
            return self._bucketed(now, bucket, WEBHOOK_HASH, {"id": "1"})
        if path.startswith("/interactions/") and method == "POST":
            return httpx.Response(204, headers={"Via": "1.1 google"})
        if path == "/users/@me":
            return httpx.Response(200, headers=self._headers(), json={"id": "1"})
        return httpx.Response(404, headers=self._headers(), json={"message": "?", "code": 0})

    def _stamp(self) -> float:
        return self.clock.wall() + (0.0 if self.stamp_skew is None else self.stamp_skew())

    def _bucketed(
        self, now: float, bucket: _Gcra | _Fixed, bucket_hash: str, payload: dict[str, Any]
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
        if allowed:
            return httpx.Response(200, headers=headers, json=payload)
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return httpx.Response(
            429,
            headers=headers,
            json={
                "message": "You are being rate limited.",
                "retry_after": round(retry_after, 3),
                "global": False,
            },
        )
