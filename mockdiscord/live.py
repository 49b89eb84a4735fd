"""The live services the HTTP layer shares with interaction delivery, events and faults.

One `LiveServices` per mock server, stored on the aiohttp app under `LIVE_KEY` by the
extension in `mockdiscord.extension`. It holds no global state: two mocks in one process
have their own hub, faults, CDN and client session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from mockdiscord.events import EventHub
from mockdiscord.faults import FaultInjector
from mockdiscord.interactions import CdnStore

__all__ = ["LIVE_KEY", "OUTCOMES", "InteractionCounters", "LiveServices"]

OUTCOMES = ("responded", "deferred", "failed", "rejected")


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
    hub: EventHub
    faults: FaultInjector
    cdn: CdnStore = field(default_factory=CdnStore)
    interactions: InteractionCounters = field(default_factory=InteractionCounters)
    #: application id -> whether saving its interactions URL also sends a bad-signature probe
    verify_probe: dict[str, bool] = field(default_factory=dict)
    bans_seen: int = 0
    client: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The client session for POSTs to bots (opened with the app, closed on cleanup)."""
        if self.client is None or self.client.closed:
            raise RuntimeError("the mock's client session is not running")
        return self.client

    def snapshot(self) -> dict[str, Any]:
        return {
            "interactions": self.interactions.snapshot(),
            "faults": self.faults.snapshot(),
            "events": {
                "subscribers": self.hub.subscriber_count,
                "published": self.hub.published,
            },
        }


LIVE_KEY = web.AppKey("mockdiscord_live", LiveServices)
