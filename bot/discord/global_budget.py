"""The proactive global pacer: at most N counted requests per second, judged at ARRIVAL.

Discord allows 50 requests per second per bot token, across all routes except the
interaction ones. It does not document how it counts, so the bot assumes the strictest
reasonable rule, the one the sandbox's mock applies by default: *at most N arrivals in any
1-second sliding window*.

The limiter only knows when it *sends*; the server judges when requests *arrive*. If the
one-way latency varies between ``d_min`` and ``d_max``, two sends ``s1 < s2`` arrive at least
``(s2 - s1) - (d_max - d_min)`` apart. So if any N+1 consecutive sends are spread over at
least ``window + margin`` seconds with ``margin >= d_max - d_min``, any N+1 consecutive
arrivals are spread over at least ``window`` seconds, and no 1-second window at the server
ever holds more than N. The pacer therefore keeps a *sliding log* of its own send times and
releases the next counted request only when fewer than N sends lie within the last
``window + margin`` seconds. Optionally ``headroom`` lowers N itself (``effective limit =
limit - headroom``), for traffic from the same token that the limiter does not see.

Cost: a burst of ``k * N`` requests takes about ``(k - 1) * (window + margin)`` seconds instead
of ``(k - 1) * window``; with the 50 ms default that is 5 %.

A global 429 means the server disagreed anyway (another process on the token, or jitter beyond
the margin): every counted request pauses for ``retry_after``. Interaction routes never enter
this log and never wait on the pause.

All methods take ``now`` (monotonic seconds); the class never reads a clock.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

__all__ = ["GlobalBudget", "GlobalConfig"]


@dataclass(frozen=True)
class GlobalConfig:
    limit: int = 50
    """The server's per-token limit per window."""
    window: float = 1.0
    """The server's window, seconds."""
    margin: float = 0.05
    """Extra seconds added to the window on our side, to absorb latency jitter."""
    headroom: int = 0
    """Requests per window left unused on purpose (effective limit = limit - headroom)."""

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0 or self.margin < 0 or self.headroom < 0:
            raise ValueError("global limit/window must be positive, margin/headroom >= 0")
        if self.headroom >= self.limit:
            raise ValueError("global headroom must be smaller than the limit")

    @property
    def effective_limit(self) -> int:
        return self.limit - self.headroom

    @property
    def span(self) -> float:
        return self.window + self.margin


class GlobalBudget:
    """A sliding log of counted send times plus an optional pause (after a global 429)."""

    def __init__(self, config: GlobalConfig) -> None:
        self.config = config
        self._log: collections.deque[float] = collections.deque()
        self.paused_until = float("-inf")

    def _expire(self, now: float) -> None:
        span = self.config.span
        # ``sent + span <= now`` (not ``sent <= now - span``): the same arithmetic as
        # `next_room_at`, so waking exactly at the computed time always finds room.
        while self._log and self._log[0] + span <= now:
            self._log.popleft()

    def used(self, now: float) -> int:
        """Counted sends inside the (widened) window ending now."""
        self._expire(now)
        return len(self._log)

    def used_last(self, now: float, seconds: float) -> int:
        """Counted sends in the last ``seconds`` (for introspection)."""
        self._expire(now)
        return sum(1 for sent in self._log if sent > now - seconds)

    def room(self, now: float, cap: int | None = None) -> int:
        """How many counted requests may be sent now without exceeding ``cap`` (default N)."""
        if now < self.paused_until:
            return 0
        limit = self.config.effective_limit if cap is None else cap
        return max(0, limit - self.used(now))

    def record(self, now: float) -> None:
        self._log.append(now)

    def next_room_at(self, now: float, cap: int | None = None) -> float:
        """The earliest time at which ``room(t, cap) > 0``."""
        limit = self.config.effective_limit if cap is None else cap
        self._expire(now)
        at = now
        excess = len(self._log) - limit
        if excess >= 0 and limit > 0:
            at = self._log[excess] + self.config.span
        elif limit <= 0:
            at = float("inf")
        return max(at, self.paused_until)

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)
