"""A sliding per-route bucket, modelled as a GCRA (generic cell rate algorithm).

Since late 2022 most Discord buckets behave as sliding windows: capacity comes back a
little at a time instead of all at once. The GCRA expresses that with one number per
bucket, the theoretical arrival time `TAT`, instead of a log of past requests:

- the emission interval is `T = period / limit`: one request's worth of capacity returns
  every `T` seconds;
- a request at `now` is allowed when `max(TAT, now) + T - now <= period`, i.e. when the
  backlog it would leave is no more than one period; it then sets `TAT = max(TAT, now) + T`;
- the headers follow from `TAT`: `Reset-After = TAT - now` (when the bucket would be full
  again), `Remaining = floor((period - Reset-After) / T)`;
- a refused request must wait `retry_after = max(TAT, now) + T - period - now`.

These are the figures DISCORD_RATE_LIMITS.md §5 fixes and hikari's sliding model expects.
An idle bucket (`TAT <= now`) is full: `limit` requests may go at once, after which one
returns every `T`. A refused request does not move `TAT` (it consumed nothing).

Every method takes `now` (monotonic seconds) so the bucket is a pure value object that a
test drives with a manual clock. `EPSILON` absorbs float noise such as 1000.4 + 0.6.
"""

from __future__ import annotations

import math

__all__ = ["EPSILON", "GcraBucket"]

EPSILON = 1e-9


class GcraBucket:
    __slots__ = ("interval", "label", "limit", "period", "rate_limited", "tat")

    algorithm = "sliding"

    def __init__(self, limit: int, period: float, label: str = "") -> None:
        self.label = label
        self.limit = limit
        self.period = period
        self.interval = period / limit
        self.tat = -math.inf
        self.rate_limited = 0

    def retry_after(self, now: float) -> float:
        """0.0 if a request at `now` is allowed, else the seconds to wait."""
        base = self.tat if self.tat > now else now
        wait = base + self.interval - self.period - now
        return wait if wait > EPSILON else 0.0

    def consume(self, now: float) -> None:
        base = self.tat if self.tat > now else now
        self.tat = base + self.interval

    def reset_after(self, now: float) -> float:
        return self.tat - now if self.tat > now else 0.0

    def remaining(self, now: float) -> int:
        left = math.floor((self.period - self.reset_after(now)) / self.interval + EPSILON)
        return max(0, min(self.limit, left))

    def idle(self, now: float) -> bool:
        """True when the bucket is full again (its state can be dropped)."""
        return self.tat <= now
