"""The proactive global pacer: at most N counted requests per second, judged at ARRIVAL.

Discord allows 50 requests per second per bot token, across all routes except the
interaction ones. It does not document how it counts, so the bot assumes the strictest
reasonable rule, the one the sandbox's mock applies by default: *at most N arrivals in any
1-second sliding window*.

The limiter only knows when it *releases* a request and when its *response* comes back; the
server judges when the request *arrives*, somewhere in between. Release-to-arrival delay is
not bounded by network jitter alone: a busy client (a burst of 100 requests through one
event loop and an HTTP pool) may put the bytes on the wire hundreds of milliseconds after
the release, while a later request goes out at once. Pacing on release times with a small
margin then lets two blocks of N meet within one window at the server.

So a counted request occupies its slot from its release until ``window + margin`` after its
**response** (or failure) came back. Proof sketch: take N+1 requests arriving within one
window [t, t + window) at the server, and the one of them released last, at ``r < t +
window``. Each of the other N was released before ``r`` and arrived at or after ``t``, so
each either had no response yet at ``r`` or got it after ``t > r - window``: all N held a
slot at ``r``, and the pacer would not have released the last one. No 1-second window at
the server ever holds more than N, whatever the latencies. The proof needs no margin at all:
causality alone puts each completion (read on the bot's clock) after the arrival (stamped on
the server's). ``margin`` (10 ms by default) only absorbs what could break that comparison
without breaking causality: a server that stamps arrivals with a coarse clock (whole
milliseconds, so a 10x allowance) and a rate difference between two clocks over one second
(parts per million, i.e. microseconds). It used to be 50 ms, from when slots were held from
the *release* and the margin stood in for send delays; every block boundary of a wave pays
it, so 40 ms more per 50 counted calls bought nothing. The pacer therefore keeps a count of
*open* counted requests plus a *sliding log* of their completion times, and releases the
next counted request only when fewer than N are open or completed within the last ``window
+ margin`` seconds.

A completion can be logged earlier than the response, never later than it: when the
response carries the server's clock (its bucket headers), `bot.discord.server_time` bounds
the arrival itself on our clock, and the slot is logged at that bound. The proof above holds
for any time at or after the arrival; a response time is one such time, the bound a tighter
one. It saves every block boundary the replies' trip back, which under a burst is tens of
milliseconds (`server_time` says what the bound assumes, and falls back to response times
after a global 429).

Optionally ``headroom`` lowers N itself (``effective limit = limit - headroom``), for
traffic from the same token that the limiter does not see.

Cost: a burst of ``k * N`` requests takes about ``(k - 1) * (window + margin + d)`` seconds
instead of ``(k - 1) * window``, where ``d`` is the release-to-arrival delay (with server
stamps; the whole round trip without them): a few per cent.

A global 429 means the server disagreed anyway (another process on the token, or jitter beyond
the margin): every counted request pauses for ``retry_after``. Interaction routes never enter
this log and never wait on the pause.

All methods take ``now`` (monotonic seconds); the class never reads a clock.
"""

from __future__ import annotations

import bisect
import collections
from dataclasses import dataclass

__all__ = ["GlobalBudget", "GlobalConfig"]


@dataclass(frozen=True)
class GlobalConfig:
    limit: int = 50
    """The server's per-token limit per window."""
    window: float = 1.0
    """The server's window, seconds."""
    margin: float = 0.01
    """Extra seconds added to the window on our side, for clock granularity (see above)."""
    headroom: int = 0
    """Requests per window left unused on purpose (effective limit = limit - headroom)."""
    server_time: bool = True
    """Free slots from the arrival bound the server's stamps give (`bot.discord.server_time`)
    rather than from response times."""

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
    """Open counted requests, a sliding log of their completion times, and an optional pause
    (after a global 429). `record` at release, `settle` when the response (or failure) is in.
    """

    def __init__(self, config: GlobalConfig) -> None:
        self.config = config
        self._log: collections.deque[float] = collections.deque()
        self._open = 0
        self.paused_until = float("-inf")

    def _expire(self, now: float) -> None:
        span = self.config.span
        # ``sent + span <= now`` (not ``sent <= now - span``): the same arithmetic as
        # `next_room_at`, so waking exactly at the computed time always finds room.
        while self._log and self._log[0] + span <= now:
            self._log.popleft()

    def used(self, now: float) -> int:
        """Slots held now: open counted requests plus those completed within the (widened)
        window ending now."""
        self._expire(now)
        return len(self._log) + self._open

    def used_last(self, now: float, seconds: float) -> int:
        """Open counted requests plus those completed in the last ``seconds``
        (for introspection)."""
        self._expire(now)
        return self._open + sum(1 for done in self._log if done > now - seconds)

    def room(self, now: float, cap: int | None = None) -> int:
        """How many counted requests may be sent now without exceeding ``cap`` (default N)."""
        if now < self.paused_until:
            return 0
        limit = self.config.effective_limit if cap is None else cap
        return max(0, limit - self.used(now))

    def record(self, now: float) -> None:
        """A counted request was released: it holds a slot until `settle` + the window."""
        self._open += 1

    def settle(self, now: float, arrived_by: float | None = None) -> None:
        """A released counted request is over (response read, failed, or abandoned): its
        slot frees ``window + margin`` after ``arrived_by`` (a bound on when the server
        counted it, see `bot.discord.server_time`), or after now without one."""
        if self._open > 0:
            self._open -= 1
            done = now if arrived_by is None else min(now, arrived_by)
            if not self._log or self._log[-1] <= done:
                self._log.append(done)
            else:
                bisect.insort(self._log, done)

    def next_room_at(self, now: float, cap: int | None = None) -> float:
        """The earliest time at which ``room(t, cap) > 0`` unless an open request settles
        first (infinity when only a settlement can make room; `settle` callers re-check)."""
        limit = self.config.effective_limit if cap is None else cap
        self._expire(now)
        at = now
        excess = len(self._log) + self._open - limit
        if limit <= 0 or excess >= len(self._log):
            at = float("inf")
        elif excess >= 0:
            at = self._log[excess] + self.config.span
        return max(at, self.paused_until)

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)
