"""The mock's live event stream: what `GET /_mock/events` sends to the TUI, scenarios and CI.

Two kinds of events flow through one `EventHub`:

- **notable events**, published as they happen: `rate_limited` (one per 429), `ban`,
  `message_created` / `message_updated` / `message_deleted`, `interaction` (an outcome);
- **ticks**, built every 250 ms from counters: per application the counted / exempt
  requests of the last tick and of the last second (the last four ticks), 429s by scope
  for the same two spans, and the hottest buckets.

Backpressure, the rule that matters: **the stream never slows a request.**

- `publish` and `record_request` are synchronous and O(1) per subscriber: a filter check,
  a length check and a deque append (or a counter increment). Nothing is serialised and
  nothing is awaited on the request path; JSON encoding happens in each subscriber's own
  writer task.
- Each subscriber has a bounded queue (`max_queue` events). When it is full, the new event
  is dropped and counted for that subscriber; the writer then sends
  `{"type": "dropped", "count": n, "total": N}` before its next events, so a consumer knows
  exactly how much it missed. Memory per subscriber is bounded by `max_queue`.
- Ticks bypass the queue: each subscriber has one tick slot. A tick that arrives while the
  previous one is still unsent replaces it (counted as `ticks_coalesced`), so even a slow
  consumer always gets the freshest tick and ticks never push events out.

Filters are applied at publish time, so a subscriber's queue holds only what it asked for:
`types` keeps only those event types; `channels` keeps only events about those channels
(events without a `channel_id`, such as ticks and bans, are not channel-filtered).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mockdiscord.clock import Clock

__all__ = [
    "DEFAULT_MAX_QUEUE",
    "EVENT_TYPES",
    "TICK_INTERVAL_S",
    "EventHub",
    "Subscription",
    "ban_event",
    "interaction_event",
    "message_event",
    "rate_limited_event",
]

TICK_INTERVAL_S = 0.25
TICKS_PER_SECOND = 4
DEFAULT_MAX_QUEUE = 4096
SUMMARY_CHARS = 120
EVENT_TYPES = frozenset(
    {
        "tick",
        "rate_limited",
        "ban",
        "message_created",
        "message_updated",
        "message_deleted",
        "interaction",
        "fault",
    }
)
SCOPES = ("user", "shared", "global", "ban")

Event = dict[str, Any]
HotBuckets = Callable[[int], list[dict[str, Any]]]


class Subscription:
    """One consumer's bounded view of the stream."""

    def __init__(
        self,
        hub: EventHub,
        *,
        types: frozenset[str] | None,
        channels: frozenset[str] | None,
        max_queue: int,
    ) -> None:
        self._hub = hub
        self.types = types
        self.channels = channels
        self.max_queue = max_queue
        self.wants_ticks = types is None or "tick" in types
        self._queue: deque[Event] = deque()
        self._tick: Event | None = None
        self._wake = asyncio.Event()
        self.closed = False
        self.delivered = 0
        self.dropped = 0
        self.ticks_coalesced = 0
        self._dropped_reported = 0

    def accepts(self, event: Mapping[str, Any]) -> bool:
        if self.types is not None and event["type"] not in self.types:
            return False
        if self.channels is not None:
            channel = event.get("channel_id")
            if channel is not None and channel not in self.channels:
                return False
        return True

    def offer(self, event: Event) -> None:
        """Queue an event if there is room; otherwise count it as dropped. Never blocks."""
        if len(self._queue) >= self.max_queue:
            self.dropped += 1
            return
        self._queue.append(event)
        self._wake.set()

    def offer_tick(self, tick: Event) -> None:
        if self._tick is not None:
            self.ticks_coalesced += 1
        self._tick = tick
        self._wake.set()

    @property
    def queued(self) -> int:
        return len(self._queue) + (self._tick is not None)

    def take(self, limit: int = 256) -> list[Event]:
        """Everything ready now (up to `limit` queued events), without waiting."""
        batch: list[Event] = []
        if self.dropped > self._dropped_reported:
            batch.append(
                {
                    "type": "dropped",
                    "count": self.dropped - self._dropped_reported,
                    "total": self.dropped,
                }
            )
            self._dropped_reported = self.dropped
        queue = self._queue
        for _ in range(min(limit, len(queue))):
            batch.append(queue.popleft())
        if self._tick is not None and not queue:
            batch.append(self._tick)
            self._tick = None
        if not queue and self._tick is None:
            self._wake.clear()
        self.delivered += len(batch)
        return batch

    async def next_batch(self, limit: int = 256) -> list[Event]:
        """Wait for events; an empty list means the subscription was closed."""
        while not self.closed:
            batch = self.take(limit)
            if batch:
                return batch
            await self._wake.wait()
        return []

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._remove(self)
            self._wake.set()

    def stats(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "dropped": self.dropped,
            "ticks_coalesced": self.ticks_coalesced,
            "queued": self.queued,
        }


@dataclass(slots=True)
class _AppCounts:
    counted: int = 0
    exempt: int = 0
    requests: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "counted": self.counted,
            "exempt": self.exempt,
            "requests": self.requests,
            "rate_limited": self.rate_limited,
        }


class EventHub:
    """Fans events out to subscribers and builds the periodic tick."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        tick_interval_s: float = TICK_INTERVAL_S,
        hot_buckets: HotBuckets | None = None,
        hot_top: int = 5,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self._clock = clock
        self.max_queue = max_queue
        self.tick_interval_s = tick_interval_s
        self._hot_buckets = hot_buckets
        self._hot_top = hot_top
        self._subscribers: list[Subscription] = []
        self._seq = 0
        self._tick_seq = 0
        self._apps: dict[str, _AppCounts] = {}
        self._scopes: dict[str, int] = dict.fromkeys(SCOPES, 0)
        self._history: deque[tuple[dict[str, _AppCounts], dict[str, int]]] = deque(
            maxlen=TICKS_PER_SECOND
        )
        self.published = 0

    # subscribers -----------------------------------------------------------------------

    def subscribe(
        self,
        *,
        types: Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
        max_queue: int | None = None,
    ) -> Subscription:
        wanted = frozenset(types) if types is not None else None
        if wanted is not None and not wanted <= EVENT_TYPES:
            unknown = ", ".join(sorted(wanted - EVENT_TYPES))
            raise ValueError(f"unknown event type(s): {unknown}")
        subscription = Subscription(
            self,
            types=wanted,
            channels=frozenset(channels) if channels is not None else None,
            max_queue=max_queue or self.max_queue,
        )
        self._subscribers.append(subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def close(self) -> None:
        for subscription in list(self._subscribers):
            subscription.close()

    # publishing ------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Hand an event to every interested subscriber. Synchronous; never blocks."""
        self._seq += 1
        self.published += 1
        if not self._subscribers:
            return
        event["seq"] = self._seq
        event.setdefault("t", round(self._clock.wall(), 3))
        for subscription in self._subscribers:
            if subscription.accepts(event):
                subscription.offer(event)

    @property
    def has_subscribers(self) -> bool:
        """Callers may skip building an event when nobody listens."""
        return bool(self._subscribers)

    def record_request(
        self,
        application_id: str | None,
        *,
        counted: bool,
        exempt: bool,
        status: int,
        scope: str | None,
        banned: bool = False,
    ) -> None:
        """Count one API response for the next tick. O(1)."""
        key = application_id if application_id is not None else "anonymous"
        counts = self._apps.get(key)
        if counts is None:
            counts = self._apps[key] = _AppCounts()
        counts.requests += 1
        if counted:
            counts.counted += 1
        if exempt:
            counts.exempt += 1
        if status == 429:
            counts.rate_limited += 1
            label = "ban" if banned else scope
            if label in self._scopes:
                self._scopes[label] += 1

    # ticks -------------------------------------------------------------------------------

    def tick(self) -> Event:
        """Close the current tick: build its event, publish it to subscribers, reset counters."""
        apps, scopes = self._apps, self._scopes
        self._apps = {}
        self._scopes = dict.fromkeys(SCOPES, 0)
        self._history.append((apps, scopes))
        self._tick_seq += 1
        rolling: dict[str, _AppCounts] = {}
        rolling_scopes = dict.fromkeys(SCOPES, 0)
        for old_apps, old_scopes in self._history:
            for key, counts in old_apps.items():
                total = rolling.get(key)
                if total is None:
                    total = rolling[key] = _AppCounts()
                total.counted += counts.counted
                total.exempt += counts.exempt
                total.requests += counts.requests
                total.rate_limited += counts.rate_limited
            for scope, n in old_scopes.items():
                rolling_scopes[scope] += n
        applications = {
            key: {**apps.get(key, _AppCounts()).as_dict(), "last_1s": total.as_dict()}
            for key, total in rolling.items()
        }
        tick: Event = {
            "type": "tick",
            "tick": self._tick_seq,
            "t": round(self._clock.wall(), 3),
            "interval_s": self.tick_interval_s,
            "applications": applications,
            "rate_limited": dict(scopes),
            "rate_limited_1s": rolling_scopes,
            "hot_buckets": [],
            "subscribers": len(self._subscribers),
        }
        wants = [s for s in self._subscribers if s.wants_ticks]
        if wants:
            if self._hot_buckets is not None:
                tick["hot_buckets"] = self._hot_buckets(self._hot_top)
            for subscription in wants:
                subscription.offer_tick(tick)
        return tick

    async def run(self) -> None:
        """Tick forever at `tick_interval_s` (run as a background task; cancel to stop)."""
        loop = asyncio.get_running_loop()
        next_at = loop.time() + self.tick_interval_s
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            self.tick()
            next_at += self.tick_interval_s
            if next_at < loop.time():  # fell behind (a stalled loop): skip, do not burst
                next_at = loop.time() + self.tick_interval_s


# event builders --------------------------------------------------------------------------


def message_event(kind: str, message: Mapping[str, Any]) -> Event:
    """`message_created|updated|deleted` from a Discord message object (or a deleted id)."""
    if kind not in ("created", "updated", "deleted"):
        raise ValueError(f"unknown message event kind {kind!r}")
    event: Event = {
        "type": f"message_{kind}",
        "channel_id": str(message.get("channel_id")),
        "message_id": str(message.get("id")),
    }
    if kind == "deleted":
        return event
    author = message.get("author") or {}
    event["author_id"] = str(author.get("id")) if author else message.get("author_id")
    event["summary"] = _summary(message)
    event["components"] = _component_summary(message.get("components") or [])
    if message.get("interaction_metadata") or message.get("interaction_id"):
        event["interaction"] = True
    return event


def _summary(message: Mapping[str, Any]) -> str:
    content = str(message.get("content") or "")
    if content:
        return content if len(content) <= SUMMARY_CHARS else content[: SUMMARY_CHARS - 1] + "…"
    for embed in message.get("embeds") or []:
        title = embed.get("title") or embed.get("description")
        if title:
            return f"[embed] {str(title)[:SUMMARY_CHARS]}"
    attachments = message.get("attachments") or []
    if attachments:
        return f"[{len(attachments)} attachment(s)]"
    return ""


def _component_summary(components: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = list(components)[::-1]
    while stack:
        component = stack.pop()
        if not isinstance(component, Mapping):
            continue
        if component.get("custom_id"):
            item: dict[str, Any] = {
                "type": component.get("type"),
                "custom_id": component["custom_id"],
            }
            if component.get("label"):
                item["label"] = component["label"]
            if component.get("disabled"):
                item["disabled"] = True
            found.append(item)
        children = list(component.get("components") or [])
        accessory = component.get("accessory")
        if isinstance(accessory, Mapping):
            children.append(accessory)
        stack.extend(reversed(children))
    return found


def rate_limited_event(
    *,
    method: str,
    route: str,
    scope: str | None,
    bucket: str | None,
    retry_after: float | None,
    application_id: str | None,
    channel_id: str | None = None,
    code: int | None = None,
) -> Event:
    event: Event = {
        "type": "rate_limited",
        "method": method,
        "route": route,
        "scope": scope,
        "bucket": bucket,
        "retry_after": retry_after,
        "application_id": application_id,
    }
    if channel_id is not None:
        event["channel_id"] = channel_id
    if code is not None:
        event["code"] = code
    return event


def ban_event(*, client_ip: str, duration_s: float | None) -> Event:
    return {"type": "ban", "client_ip": client_ip, "duration_s": duration_s}


def interaction_event(
    result: Mapping[str, Any],
    *,
    kind: str,
    name: str,
    user_id: str,
    channel_id: str,
    application_id: str,
) -> Event:
    """`interaction` from a delivery result's JSON (`DeliveryResult.to_json()`)."""
    return {
        "type": "interaction",
        "interaction_id": result.get("interaction_id"),
        "kind": kind,
        "name": name,
        "user_id": user_id,
        "channel_id": channel_id,
        "application_id": application_id,
        "outcome": result.get("outcome"),
        "response_type": result.get("response_type"),
        "latency_ms": result.get("latency_ms"),
        "fault": result.get("fault"),
    }
