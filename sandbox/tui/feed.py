"""The live feed: the mock's event stream, coalesced for a screen that repaints at ~5 Hz.

Why coalesce
------------
The mock publishes a `tick` every 250 ms and one event per 429, per message created or
edited, per interaction. Under a wave at 2,000 requests/s that is thousands of events a
second. Repainting widgets once per event would keep Textual's message loop busy painting
and key presses would queue behind the paint work. So the work is split in two:

* a **worker** reads the WebSocket and *folds* each event into `FeedState.apply` (a few
  dict and deque operations; no widget is touched, nothing is awaited);
* the app's **refresh timer** (at least 4 Hz) calls `FeedState.take()`, which returns one
  `FeedUpdate` with everything that changed since the last call, or `None` when nothing
  did. The screen repaints at most once per refresh, whatever the event rate.

This is the same idea as toolong's `can_replace()`: a newer figure replaces an older one
still waiting to be shown. Ticks replace ticks (the mock already coalesces them per
subscriber); log lines are kept in a bounded deque (the oldest are dropped and counted).

The chart series
----------------
A tick carries, per application, `last_1s.counted`: the counted requests in the last four
ticks (one second). The sample from the *last* tick seen within a whole second is that
second's count, so `history[second]` is simply overwritten by every tick of that second.
A skipped tick (a slow consumer) loses nothing that matters: the next one covers it.

Nothing here imports Textual: `FeedState` is plain data and is tested without an app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

__all__ = [
    "LOG_KINDS",
    "SCOPES",
    "EventSource",
    "FeedState",
    "FeedUpdate",
    "LogEntry",
    "pump",
    "websocket_source",
]

#: 429 scopes as the mock counts them ("ban": a 429 from an IP ban).
SCOPES = ("global", "user", "shared", "ban")

#: Event-log kinds, in the order the filter dialog lists them.
LOG_KINDS = (
    "wave",
    "429",
    "ban",
    "interaction",
    "abort",
    "conflict",
    "fault",
    "action",
    "scenario",
    "stream",
)

HISTORY_S = 60
MOVING_S = 3.0  # a 429 counter stays red this long after it last moved
MAX_PENDING_LOG = 500

EventSource = Callable[[], AsyncIterator[dict[str, Any]]]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: float  # wall-clock epoch seconds
    kind: str  # one of LOG_KINDS
    text: str


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """Everything the screen needs from the stream, at one refresh."""

    connected: bool
    error: str | None
    series: tuple[int, ...]  # counted requests per second, oldest first, HISTORY_S long
    counted_1s: int
    exempt_1s: int
    tick: Mapping[str, Any] | None
    hot_buckets: tuple[Mapping[str, Any], ...]
    rate_limited: Mapping[str, int]  # 429s by scope seen on the stream since connect
    moving: frozenset[str]  # scopes whose 429 count rose in the last MOVING_S seconds
    new_log: tuple[LogEntry, ...]
    dropped_log: int  # log lines dropped because the screen fell behind
    dropped_events: int  # events the mock dropped for this subscriber (its `dropped` total)
    events_seen: int


@dataclass
class FeedState:
    """Folds events as they come (cheap), hands out one `FeedUpdate` per refresh."""

    clock: Clock = time.monotonic
    wall: Clock = time.time
    application_id: str | None = None
    connected: bool = False
    error: str | None = None
    events_seen: int = 0
    dropped_events: int = 0
    dropped_log: int = 0
    _dirty: bool = True
    _tick: dict[str, Any] | None = None
    _history: dict[int, int] = field(default_factory=dict)
    _second: int = 0
    _exempt_1s: int = 0
    _counted_1s: int = 0
    _rate_limited: Counter[str] = field(default_factory=Counter)
    _moved_at: dict[str, float] = field(default_factory=dict)
    _log: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_LOG))

    # -- folding ---------------------------------------------------------------------------

    def apply(self, event: Mapping[str, Any]) -> None:
        """Fold one event from the stream. Never raises on a malformed event."""
        self.events_seen += 1
        self._dirty = True
        kind = event.get("type")
        try:
            handler = _HANDLERS.get(str(kind))
            if handler is not None:
                handler(self, event)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            self.log("stream", f"malformed {kind} event: {error}", at=_wall(event))

    def log(self, kind: str, text: str, *, at: float | None = None) -> None:
        """Add a line to the event log (also used by the app for actions and waves)."""
        if len(self._log) == self._log.maxlen:
            self.dropped_log += 1
        self._log.append(LogEntry(self.wall() if at is None else at, kind, text))
        self._dirty = True

    def disconnected(self, reason: str) -> None:
        if self.connected or reason != self.error:
            self.log("stream", f"event stream lost: {reason}")
        self.connected = False
        self.error = reason
        self._dirty = True

    def _hello(self, event: Mapping[str, Any]) -> None:
        self.connected = True
        self.error = None
        self.log("stream", "event stream connected", at=_wall(event))

    def _on_tick(self, event: Mapping[str, Any]) -> None:
        self._tick = dict(event)
        interval = float(event.get("interval_s") or 0.25)
        per_second = max(1, round(1.0 / interval)) if interval > 0 else 4
        second = int(event.get("tick", 0)) // per_second
        counts = self._app_counts(event.get("applications") or {})
        self._counted_1s = int(counts.get("counted", 0))
        self._exempt_1s = int(counts.get("exempt", 0))
        self._history[second] = self._counted_1s
        self._second = max(self._second, second)
        for old in [s for s in self._history if s <= self._second - HISTORY_S]:
            del self._history[old]
        for scope, n in (event.get("rate_limited") or {}).items():
            if n and scope in SCOPES:  # a 429 this tick, even if its own event was dropped
                self._moved_at[scope] = self.clock()

    def _app_counts(self, applications: Mapping[str, Any]) -> Mapping[str, Any]:
        if self.application_id and self.application_id in applications:
            return applications[self.application_id].get("last_1s") or {}
        total: Counter[str] = Counter()
        for key, row in applications.items():
            if key != "anonymous" and isinstance(row, Mapping):
                for name, value in (row.get("last_1s") or {}).items():
                    if isinstance(value, int):
                        total[name] += value
        return total

    def _on_rate_limited(self, event: Mapping[str, Any]) -> None:
        scope = str(event.get("scope") or "user")
        scope = scope if scope in SCOPES else "user"
        self._rate_limited[scope] += 1
        self._moved_at[scope] = self.clock()
        self.log(
            "429",
            f"429 {scope} {event.get('method', '')} {event.get('route', '')} "
            f"retry_after={float(event.get('retry_after') or 0):.2f}s",
            at=_wall(event),
        )

    def _on_ban(self, event: Mapping[str, Any]) -> None:
        self._moved_at["ban"] = self.clock()
        self.log(
            "ban",
            f"IP {event.get('client_ip')} banned for {float(event.get('duration_s') or 0):g}s",
            at=_wall(event),
        )

    def _on_interaction(self, event: Mapping[str, Any]) -> None:
        outcome = event.get("outcome")
        if outcome in ("failed", "rejected"):
            fault = f" (fault {event['fault']})" if event.get("fault") else ""
            self.log(
                "interaction",
                f"interaction {event.get('kind')} {event.get('name')} {outcome}{fault}",
                at=_wall(event),
            )

    def _on_message(self, event: Mapping[str, Any]) -> None:
        summary = str(event.get("summary") or "")
        lowered = summary.lower()
        for kind in ("conflict", "abort"):
            if kind in lowered:
                self.log(
                    kind, f"{summary[:80]} (channel {event.get('channel_id')})", at=_wall(event)
                )
                return

    def _on_fault(self, event: Mapping[str, Any]) -> None:
        self.log(
            "fault",
            f"fault {event.get('fault')} on {event.get('method', '')} {event.get('route', '')}",
            at=_wall(event),
        )

    def _on_dropped(self, event: Mapping[str, Any]) -> None:
        self.dropped_events = int(event.get("total") or self.dropped_events)

    # -- taking ----------------------------------------------------------------------------

    def series(self) -> tuple[int, ...]:
        start = self._second - HISTORY_S + 1
        return tuple(self._history.get(s, 0) for s in range(start, self._second + 1))

    def moving(self) -> frozenset[str]:
        now = self.clock()
        return frozenset(s for s, at in self._moved_at.items() if now - at < MOVING_S)

    def take(self, *, force: bool = False) -> FeedUpdate | None:
        """What changed since the last call, or None if nothing did (and not `force`)."""
        moving = self.moving()
        if not (self._dirty or force or moving):
            return None
        self._dirty = False
        new_log = tuple(self._log)
        self._log.clear()
        tick = self._tick
        return FeedUpdate(
            connected=self.connected,
            error=self.error,
            series=self.series(),
            counted_1s=self._counted_1s,
            exempt_1s=self._exempt_1s,
            tick=tick,
            hot_buckets=tuple((tick or {}).get("hot_buckets") or ()),
            rate_limited=dict(self._rate_limited),
            moving=moving,
            new_log=new_log,
            dropped_log=self.dropped_log,
            dropped_events=self.dropped_events,
            events_seen=self.events_seen,
        )


def _wall(event: Mapping[str, Any]) -> float:
    t = event.get("t")
    return float(t) if isinstance(t, int | float) else time.time()


_HANDLERS: dict[str, Callable[[FeedState, Mapping[str, Any]], None]] = {
    "hello": FeedState._hello,
    "tick": FeedState._on_tick,
    "rate_limited": FeedState._on_rate_limited,
    "ban": FeedState._on_ban,
    "interaction": FeedState._on_interaction,
    "message_created": FeedState._on_message,
    "message_updated": FeedState._on_message,
    "fault": FeedState._on_fault,
    "dropped": FeedState._on_dropped,
}


# -- the stream -----------------------------------------------------------------------------


def websocket_source(base_url: str, *, queue: int = 4096, types: str | None = None) -> EventSource:
    """An `EventSource` reading `GET {base_url}/_mock/events` (one session per connection)."""
    url = base_url.rstrip("/") + f"/_mock/events?queue={queue}"
    if types:
        url += f"&types={types}"

    async def events() -> AsyncIterator[dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, heartbeat=None) as ws,
        ):
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                event = json.loads(message.data)
                if isinstance(event, dict):
                    yield event

    return events


async def pump(
    source: EventSource,
    state: FeedState,
    *,
    retry_s: float = 1.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    attempts: int | None = None,
) -> None:
    """Fold `source` into `state` until cancelled; reconnect after `retry_s` on loss.

    `attempts` bounds the number of connections (tests); None means until cancelled.
    """
    made = 0
    while attempts is None or made < attempts:
        made += 1
        try:
            stream = source()
            try:
                async for event in stream:
                    state.apply(event)
            finally:
                with contextlib.suppress(Exception):
                    await stream.aclose()  # type: ignore[attr-defined]
        except (OSError, aiohttp.ClientError, ConnectionError, ValueError) as error:
            state.disconnected(str(error) or type(error).__name__)
        else:
            state.disconnected("the event stream closed")
        if attempts is None or made < attempts:
            await sleep(retry_s)
