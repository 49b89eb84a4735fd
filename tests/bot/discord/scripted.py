"""A scripted httpx handler: per-path queues of canned responses, arrivals timed on a clock."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.clock import ManualClock

VIA = {"Via": "1.1 google", "Content-Type": "application/json"}
Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


def ok(payload: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, headers={**VIA, **(headers or {})}, json=payload or {"id": "1"})


def bucket_headers(
    remaining: int, reset_after: float, *, limit: int = 5, wall: float = 1_700_000_000.0,
    bucket: str = "c" * 32, scope: str = "user",
) -> dict[str, str]:  # fmt: skip
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Reset": f"{wall + reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": scope,
    }


@dataclass
class Sent:
    at: float
    method: str
    path: str
    body: Any


@dataclass
class Scripted:
    clock: ManualClock
    default: Reply = field(default_factory=lambda: lambda request: ok())
    sent: list[Sent] = field(default_factory=list)
    _queues: dict[str, deque[Reply]] = field(default_factory=dict)

    def on(self, path: str, *replies: Reply) -> None:
        """Queue replies for requests whose path ends with ``path``."""
        self._queues.setdefault(path, deque()).extend(replies)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def paths(self) -> list[str]:
        return [s.path for s in self.sent]

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v10")
        body = json.loads(request.content) if request.content else None
        self.sent.append(Sent(self.clock.monotonic(), request.method, path, body))
        reply: Reply = self.default
        for suffix, queue in self._queues.items():
            if path.endswith(suffix) and queue:
                reply = queue.popleft()
                break
        return reply(request) if callable(reply) else reply
