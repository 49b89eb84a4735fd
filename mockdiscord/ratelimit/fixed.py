"""A fixed-window per-route bucket.

A few Discord buckets (e.g. `PUT /guilds/{g}/members/{u}/roles/{r}`) still refill all at
once. The model: the first request into an idle bucket opens a window of `period`
seconds; up to `limit` requests are allowed inside it; when the window ends the count
starts again from zero at the next request. The headers describe the open window:
`Remaining = limit - used`, `Reset-After = window_end - now`, so the absolute
`X-RateLimit-Reset` stays constant for the whole window, which is how hikari tells a
fixed window from a sliding one. A refused request waits until the window ends.

Same interface as `GcraBucket`; every method takes `now` (monotonic seconds).
"""

from __future__ import annotations

import math

from mockdiscord.ratelimit.gcra import EPSILON

__all__ = ["FixedWindowBucket"]


class FixedWindowBucket:
    __slots__ = ("label", "limit", "period", "rate_limited", "used", "window_end")

    algorithm = "fixed"

    def __init__(self, limit: int, period: float, label: str = "") -> None:
        self.label = label
        self.limit = limit
        self.period = period
        self.window_end = -math.inf
        self.used = 0
        self.rate_limited = 0

    def _roll(self, now: float) -> None:
        if now >= self.window_end - EPSILON:
            self.used = 0
            self.window_end = -math.inf

    def retry_after(self, now: float) -> float:
        self._roll(now)
        if self.used < self.limit:
            return 0.0
        return self.window_end - now

    def consume(self, now: float) -> None:
        self._roll(now)
        if self.used == 0:
            self.window_end = now + self.period
        self.used += 1

    def reset_after(self, now: float) -> float:
        self._roll(now)
        return self.window_end - now if self.used else 0.0

    def remaining(self, now: float) -> int:
        self._roll(now)
        return self.limit - self.used

    def idle(self, now: float) -> bool:
        return now >= self.window_end - EPSILON
