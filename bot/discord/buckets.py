"""Per-route buckets, learned from response headers.

The model
---------
Discord limits most routes per *bucket*: the bot token, plus an opaque bucket hash the server
reports in ``X-RateLimit-Bucket`` for a (method, path template) pair, plus the route's major
parameter (channel, guild, webhook+token). The client cannot know a bucket before the server
describes it, so it learns in two steps:

1. **route -> hash.** The first response on a (method, template) either carries bucket
   headers (the route is bucketed; remember its hash) or carries none (only the global
   limit applies; remember that too).
2. **(route, hash, major) -> state.** Each bucket keeps the last figures the server gave:
   ``Limit``, ``Remaining``, ``Reset-After`` (and the absolute ``Reset``). Message create and
   message edit report the same hash yet are counted separately by the server, so the route
   is part of the key as well; keying on the hash alone would halve their throughput.

Unknown buckets
---------------
Until a bucket has answered once, it allows **one request in flight**. The first response
teaches the limit and the remaining count, and the queued requests then go out together. It
costs one round trip per new bucket, and it is the only rule that cannot 429 on a bucket whose
state the server kept from before the bot started.

The route's hash is often learned from *another* major parameter's response while a request
of this major is still in flight under the unknown key. The server counts that request in
this major's bucket, so when the learned bucket is created it adopts the unknown bucket's
in-flight requests (`Limiter._adopt_unknown`); otherwise its first response would let one
request too many go.

Fixed and sliding windows
-------------------------
After a response saying ``Remaining = R`` and ``Reset-After = RA``, two things are true on
both kinds of server: no more than ``R`` further requests fit before ``now + RA``, and at
``now + RA`` the bucket is full again (a fixed window restarts; a sliding window, a GCRA, has
drained its theoretical arrival time). Treating every bucket that way never 429s, but on a
sliding server it wastes the gradual refill: with 5 per 5 s, tokens come back one per second,
not five at the end.

The limiter tells the two apart from the absolute ``Reset``. In a fixed window, successive
responses of one window report the same ``Reset`` while ``Remaining`` falls. In a GCRA every
accepted request pushes the theoretical arrival time, so ``Reset`` moves later as
``Remaining`` falls. Once a bucket is known to slide, its capacity between responses is the
straight line from ``R`` (at the response) to ``Limit`` (at ``now + RA``), rounded down. With
``T = period / limit`` the server's own refill line passes through at least ``R`` at the
response and reaches ``Limit`` no later than ``now + RA``, so this line never lies above the
server's: the estimate is pessimistic and cannot cause a 429.

Concurrency and stale headers
-----------------------------
Several requests of one bucket may be in flight, and their responses may be read out of
order. The limiter keeps an *anchor* (the newest server figures) and an ``outstanding``
count: requests sent that the anchor may not reflect. A response is newer than the anchor
when its ``Reset`` is later, or equal with a lower ``Remaining`` (both windows only move
forward). A newer response re-anchors and sets ``outstanding`` to the requests still in flight
(some of them may have been counted already: pessimistic again). An older response was
already counted by the anchor, so it just lowers ``outstanding``. A request that ends without
headers (connection error, 5xx) keeps its token spent until the next anchor or reset.

Every method takes ``now`` (monotonic seconds); nothing here reads a clock or sleeps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Bucket", "BucketKey", "RateLimitHeaders"]

BucketKey = tuple[str, ...]
"""("learned", method, template, hash, major) or ("unknown", method, template, major)."""

_SAME_RESET = 0.002
"""Two ``Reset`` values closer than this (seconds) are the same instant (3-decimal headers)."""


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        result = float(value)
    except ValueError:
        return None
    return result if math.isfinite(result) else None


def _int(value: str | None) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


@dataclass(frozen=True)
class RateLimitHeaders:
    """The rate-limit headers of one response, parsed leniently (bad values become None)."""

    bucket: str | None = None
    limit: int | None = None
    remaining: int | None = None
    reset_after: float | None = None
    reset: float | None = None
    scope: str | None = None
    is_global: bool = False
    retry_after: float | None = None

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RateLimitHeaders:
        lower = {key.lower(): value for key, value in headers.items()}
        return cls(
            bucket=lower.get("x-ratelimit-bucket"),
            limit=_int(lower.get("x-ratelimit-limit")),
            remaining=_int(lower.get("x-ratelimit-remaining")),
            reset_after=_float(lower.get("x-ratelimit-reset-after")),
            reset=_float(lower.get("x-ratelimit-reset")),
            scope=lower.get("x-ratelimit-scope"),
            is_global=lower.get("x-ratelimit-global", "").lower() == "true",
            retry_after=_float(lower.get("retry-after")),
        )

    @property
    def describes_bucket(self) -> bool:
        return (
            self.bucket is not None
            and self.limit is not None
            and self.limit > 0
            and self.remaining is not None
            and self.reset_after is not None
        )


class Bucket:
    """What the limiter believes about one server-side bucket."""

    def __init__(self, key: BucketKey, *, reset_margin: float = 0.01) -> None:
        self.key = key
        self.reset_margin = reset_margin
        self.limit: int | None = None
        self.sliding: bool | None = None
        self.in_flight = 0
        self.outstanding = 0
        self.paused_until = float("-inf")
        self.last_used = float("-inf")
        self._remaining = 0
        self._anchor_at = 0.0
        self._reset_at: float | None = None
        self._anchor_reset_wall: float | None = None
        self._anchor_remaining_header = 0

    # -- capacity ---------------------------------------------------------------------------

    @property
    def learned(self) -> bool:
        return self.limit is not None

    def available(self, now: float) -> int:
        """Requests that may start now."""
        if now < self.paused_until:
            return 0
        if self.limit is None:
            return max(0, 1 - self.in_flight)
        self._roll(now)
        return max(0, self._tokens(now) - self.outstanding)

    def next_change_at(self, now: float) -> float | None:
        """When `available` may grow without any response arriving (None: only a response)."""
        if now < self.paused_until:
            return self.paused_until
        if self.limit is None:
            return None
        self._roll(now)
        if self._reset_at is None:
            return None
        need = self._tokens(now) + 1
        span = self._reset_at - self._anchor_at
        if not self.sliding or need >= self.limit or span <= 0:
            return self._reset_at
        slope = (self.limit - self._remaining) / span
        # Solve limit - (reset_at - t) * slope >= need for t; a microsecond late beats a
        # wake-up that finds nothing to do because of float rounding.
        return min(self._reset_at, self._reset_at - (self.limit - need) / slope + 1e-6)

    def reset_in(self, now: float) -> float | None:
        self._roll(now)
        return None if self._reset_at is None else max(0.0, self._reset_at - now)

    def _tokens(self, now: float) -> int:
        assert self.limit is not None
        if self._reset_at is None or not self.sliding:
            return self._remaining
        span = self._reset_at - self._anchor_at
        if span <= 0:
            return self._remaining
        slope = (self.limit - self._remaining) / span
        estimate = math.floor(self.limit - (self._reset_at - now) * slope + 1e-7)
        return max(self._remaining, min(self.limit, estimate))

    def _roll(self, now: float) -> None:
        """Past the reset, the bucket is full on both fixed and sliding servers."""
        if self.limit is not None and self._reset_at is not None and now >= self._reset_at:
            self._remaining = self.limit
            self._reset_at = None
            self._anchor_reset_wall = None
            self.outstanding = self.in_flight

    # -- events -----------------------------------------------------------------------------

    def on_grant(self, now: float) -> None:
        self.in_flight += 1
        self.last_used = now
        if self.limit is not None:
            self.outstanding += 1

    def on_done(self) -> None:
        """A granted request finished (with or without a response)."""
        self.in_flight = max(0, self.in_flight - 1)

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)

    def on_headers(self, now: float, headers: RateLimitHeaders, *, rejected: bool) -> None:
        """Apply a response's bucket headers; call after `on_done` for that request.

        ``rejected``: the response was a 429, so the request spent no token.
        """
        if not headers.describes_bucket:
            return
        assert headers.limit is not None and headers.remaining is not None
        assert headers.reset_after is not None
        self._roll(now)
        if self.limit is None or rejected or self._is_newer(headers):
            self._detect_algorithm(headers)
            self.limit = headers.limit
            self._remaining = max(0, min(headers.limit, headers.remaining))
            self._anchor_at = now
            self._reset_at = now + max(0.0, headers.reset_after) + self.reset_margin
            self._anchor_reset_wall = headers.reset
            self._anchor_remaining_header = headers.remaining
            self.outstanding = self.in_flight
        else:
            self.outstanding = max(0, self.outstanding - 1)

    def _is_newer(self, headers: RateLimitHeaders) -> bool:
        if headers.reset is None or self._anchor_reset_wall is None:
            return True
        delta = headers.reset - self._anchor_reset_wall
        if abs(delta) <= _SAME_RESET:
            assert headers.remaining is not None
            return headers.remaining < self._anchor_remaining_header
        return delta > 0

    def _detect_algorithm(self, headers: RateLimitHeaders) -> None:
        previous = self._anchor_reset_wall
        if previous is None or headers.reset is None or headers.reset_after is None:
            return
        assert headers.remaining is not None
        server_now = headers.reset - headers.reset_after
        if previous <= server_now or headers.remaining >= self._anchor_remaining_header:
            return  # the previous window had ended, or nothing was spent: no evidence
        if headers.reset - previous > _SAME_RESET:
            self.sliding = True
        elif abs(headers.reset - previous) <= _SAME_RESET:
            self.sliding = False
