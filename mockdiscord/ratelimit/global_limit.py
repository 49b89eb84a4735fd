"""The global limit: at most N requests per second per application token.

Discord documents the figure (50/s per bot token; tokenless requests are limited per
client IP; large bots get more) but not how the second is counted. Client libraries
assume a fixed 1-s window from the first request, yet their authors still report global
429s, so the mock's *model choice* is the strictest reasonable rule and the others are
selectable (profile `global.algorithm`, live through `RateLimitEngine.configure`):

- `sliding` (default): a sliding log. A request at `now` is allowed when fewer than
  `limit` counted requests arrived in the window `(now - period, now]`; a request that
  arrived at `t` leaves the window at exactly `t + period`. A refused request must wait
  until the oldest logged one leaves: `retry_after = oldest + period - now`. This is the
  same window `Stats.peak_1s` measures, so a correct limiter never shows a peak above
  the limit.
- `fixed`: a window of `period` opens at the first request of an idle key; up to `limit`
  requests inside it; refused requests wait for its end. (Up to 2 x limit can pass in a
  sliding second straddling two windows: that is the point of offering it.)
- `gcra`: the per-route GCRA applied globally (burst of `limit`, then one per
  `period / limit`).

A refused request is not logged: it consumed nothing. Limits are passed per call because
each key (application or IP) may have its own. Every method takes `now`.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

from mockdiscord.ratelimit.gcra import EPSILON

__all__ = [
    "FixedWindowGlobalLimiter",
    "GcraGlobalLimiter",
    "GlobalLimiter",
    "SlidingLogGlobalLimiter",
    "make_global_limiter",
]


class GlobalLimiter(Protocol):
    algorithm: str
    period: float

    def acquire(self, key: str, limit: int, now: float) -> float:
        """Count a request and return 0.0, or return the seconds to wait (nothing counted)."""
        ...

    def used(self, key: str, limit: int, now: float) -> int:
        """Requests counted against `key` in its current window (for gauges)."""
        ...

    def prune(self, now: float) -> None:
        """Forget keys with nothing left in their window (bounded memory)."""
        ...

    def clear(self) -> None: ...


class SlidingLogGlobalLimiter:
    algorithm = "sliding"

    def __init__(self, period: float = 1.0) -> None:
        self.period = period
        self._logs: dict[str, deque[float]] = {}

    def _trim(self, log: deque[float], now: float) -> None:
        edge = now - self.period + EPSILON
        while log and log[0] <= edge:
            log.popleft()

    def acquire(self, key: str, limit: int, now: float) -> float:
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = deque()
        self._trim(log, now)
        if len(log) < limit:
            log.append(now)
            return 0.0
        # Over the limit (also after a live lowering of the limit): wait until enough of the
        # oldest have left that one more fits.
        wait = log[len(log) - limit] + self.period - now
        return wait if wait > EPSILON else EPSILON

    def used(self, key: str, limit: int, now: float) -> int:
        log = self._logs.get(key)
        if not log:
            return 0
        self._trim(log, now)
        return len(log)

    def prune(self, now: float) -> None:
        for key in [k for k, log in self._logs.items() if not log or log[-1] <= now - self.period]:
            del self._logs[key]

    def clear(self) -> None:
        self._logs.clear()


class FixedWindowGlobalLimiter:
    algorithm = "fixed"

    def __init__(self, period: float = 1.0) -> None:
        self.period = period
        self._windows: dict[str, list[float]] = {}  # key -> [window_end, used]

    def acquire(self, key: str, limit: int, now: float) -> float:
        window = self._windows.get(key)
        if window is None or now >= window[0] - EPSILON:
            self._windows[key] = [now + self.period, 1.0]
            return 0.0
        if window[1] < limit:
            window[1] += 1
            return 0.0
        return window[0] - now

    def used(self, key: str, limit: int, now: float) -> int:
        window = self._windows.get(key)
        if window is None or now >= window[0] - EPSILON:
            return 0
        return int(window[1])

    def prune(self, now: float) -> None:
        for key in [k for k, w in self._windows.items() if now >= w[0]]:
            del self._windows[key]

    def clear(self) -> None:
        self._windows.clear()


class GcraGlobalLimiter:
    algorithm = "gcra"

    def __init__(self, period: float = 1.0) -> None:
        self.period = period
        self._tat: dict[str, float] = {}

    def acquire(self, key: str, limit: int, now: float) -> float:
        interval = self.period / limit
        tat = self._tat.get(key, -math.inf)
        base = tat if tat > now else now
        wait = base + interval - self.period - now
        if wait > EPSILON:
            return wait
        self._tat[key] = base + interval
        return 0.0

    def used(self, key: str, limit: int, now: float) -> int:
        """The backlog expressed in requests: how much of the burst is spent."""
        tat = self._tat.get(key, -math.inf)
        if tat <= now:
            return 0
        return min(limit, math.ceil((tat - now) / (self.period / limit) - EPSILON))

    def prune(self, now: float) -> None:
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]

    def clear(self) -> None:
        self._tat.clear()


def make_global_limiter(algorithm: str, period: float) -> GlobalLimiter:
    if algorithm == "sliding":
        return SlidingLogGlobalLimiter(period)
    if algorithm == "fixed":
        return FixedWindowGlobalLimiter(period)
    if algorithm == "gcra":
        return GcraGlobalLimiter(period)
    raise ValueError(f"unknown global algorithm {algorithm!r} (expected sliding|fixed|gcra)")
