"""The limiter: one gate every REST request passes, per bot token.

How a request goes out
----------------------
``async with limiter.acquire(route, lane) as permit:`` puts a *ticket* in its lane's queue
and waits until the limiter releases it; the body of the ``with`` sends the request and hands
the response to ``permit.update(status, headers, body)``. Releasing happens in one place,
`Limiter._pump`, which runs whenever something changes (a ticket arrives, a response is
read, a timer fires) and walks the lanes from highest to lowest priority, oldest ticket
first. A ticket is released when all of these hold:

* its ``not_before`` time has passed (a retry waiting out its own ``retry_after``);
* its bucket has room (`bot.discord.buckets`): an unknown bucket allows one request in
  flight, a known one its estimated remaining count; a bucket that is full only holds back
  its own tickets, never tickets of other buckets (no head-of-line blocking);
* for routes that count toward the global limit, the global pacer has room
  (`bot.discord.global_budget`) and the lane is within its share of it (`bot.discord.lanes`).
  Interaction routes skip this check entirely.

When nothing more can be released, the pump computes the earliest instant at which that may
change (a slot leaving the global log, a bucket's reset or next sliding token, a pause
ending, a ticket's ``not_before``) and arms one timer for it. Waiting goes through the
injected ``sleep`` and time through the injected `bot.clock.Clock`, so tests drive the
limiter with a manual clock and never sleep for real.

What a 429 does
---------------
`Permit.update` reads the response and returns a `Feedback` telling the caller how long to
wait before retrying *this* request:

* **user** (``Remaining: 0``): the bucket is refreshed from the headers and paused for
  ``retry_after``; every ticket of that bucket waits.
* **sublimit** (user scope, ``Remaining > 0``, a limit the headers do not show): only this
  request waits; the bucket stays open.
* **shared** (scope ``shared``): only this request waits; the bucket is not poisoned.
* **global** (``X-RateLimit-Global`` or ``"global": true``): every counted request pauses for
  ``retry_after``; interaction routes carry on.
* **ban-shaped** (no ``Via`` header, no ``retry_after`` in a JSON body, or a non-JSON body,
  e.g. Cloudflare's HTML): the limiter stops *all* traffic, logs one CRITICAL line, fails
  every queued ticket and raises `Banned` from then on. It never retries into a ban.

401, 403 and non-shared 429 responses also feed the invalid-request tracker
(`bot.discord.invalid_requests`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import heapq
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import Any

from bot.clock import Clock
from bot.discord.buckets import Bucket, BucketKey, RateLimitHeaders
from bot.discord.errors import Banned, DiscordError
from bot.discord.global_budget import GlobalBudget, GlobalConfig
from bot.discord.invalid_requests import (
    InvalidRequestConfig,
    InvalidRequestTracker,
    counts_as_invalid,
)
from bot.discord.lanes import DEFAULT_LANE_SHARES, Lane
from bot.discord.metrics import Counters
from bot.discord.routes import Route, RouteKey
from bot.discord.server_time import ServerTime, server_stamp

__all__ = [
    "BucketSnapshot",
    "Feedback",
    "LaneSnapshot",
    "Limiter",
    "LimiterConfig",
    "LimiterSnapshot",
    "Permit",
    "Sleeper",
]

_log = logging.getLogger("bot.discord.limiter")

Sleeper = Callable[[float], Awaitable[None]]
"""``await sleep(seconds)``; `asyncio.sleep` in production, virtual time in tests."""

_NO_BUCKET = ""
"""Marker in the route map: this route answered without bucket headers (global limit only)."""


@dataclass(frozen=True)
class LimiterConfig:
    global_budget: GlobalConfig = field(default_factory=GlobalConfig)
    lane_shares: Mapping[Lane, float] = field(default_factory=lambda: dict(DEFAULT_LANE_SHARES))
    """Fraction of the global limit each lane may fill within one window."""
    reset_margin: float = 0.01
    """Seconds added to every bucket reset (3-decimal rounding of Reset-After)."""
    invalid_requests: InvalidRequestConfig = field(default_factory=InvalidRequestConfig)
    bucket_idle_ttl: float = 300.0
    """Idle buckets older than this are forgotten (and relearned on next use)."""

    def __post_init__(self) -> None:
        for lane in Lane:
            share = self.lane_shares.get(lane, 1.0)
            if not 0 < share <= 1:
                raise ValueError(f"lane share for {lane.label} must be in (0, 1], got {share}")


@dataclass(frozen=True)
class Feedback:
    """What one response means for the request that got it."""

    status: int
    rate_limit: str | None = None
    """None, or the 429's kind: "user", "sublimit", "shared", "global"."""
    retry_after: float = 0.0
    """Seconds to wait before retrying this request (0 unless rate limited)."""

    @property
    def rate_limited(self) -> bool:
        return self.rate_limit is not None


@dataclass(frozen=True)
class LaneSnapshot:
    lane: str
    queued: int
    in_flight: int
    released: int


@dataclass(frozen=True)
class BucketSnapshot:
    route: str
    bucket_hash: str | None
    major: str
    limit: int | None
    available: int
    in_flight: int
    queued: int
    reset_in: float | None
    sliding: bool | None
    paused_for: float


@dataclass(frozen=True)
class LimiterSnapshot:
    lanes: tuple[LaneSnapshot, ...]
    buckets: tuple[BucketSnapshot, ...]
    buckets_known: int
    global_limit: int
    global_effective_limit: int
    global_used_last_second: int
    global_paused_for: float
    in_flight: int
    banned: str | None
    invalid_requests_in_window: int
    counters: dict[str, Any]
    global_anchor: str = "response"
    """What frees a counted slot: ``server`` (the stamps in the bucket headers, see
    `bot.discord.server_time`) or ``response`` (the response times)."""

    def to_dict(self) -> dict[str, Any]:
        """The same value as ``dataclasses.asdict(self)``, built directly: asdict copies
        field by field, recursively, and GET /status (which includes this) is polled while
        a wave runs, on the event loop that sends the wave."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["lanes"] = tuple(dict(vars(lane)) for lane in self.lanes)
        out["buckets"] = tuple(dict(vars(bucket)) for bucket in self.buckets)
        out["counters"] = copy.deepcopy(self.counters)
        return out


class _Ticket:
    __slots__ = ("future", "lane", "not_before", "paced", "route")

    def __init__(
        self,
        route: Route,
        lane: Lane,
        not_before: float,
        future: asyncio.Future[Permit],
        paced: bool = True,
    ) -> None:
        self.route = route
        self.lane = lane
        self.not_before = not_before
        self.future = future
        self.paced = paced


class Permit:
    """The right to send one request; report its response with `update`."""

    def __init__(
        self,
        limiter: Limiter,
        route: Route,
        lane: Lane,
        bucket_key: BucketKey | None,
        paced: bool = True,
    ) -> None:
        self._limiter = limiter
        self.route = route
        self.lane = lane
        self.counted = route.counts_globally
        self.paced = paced
        self._bucket_key = bucket_key
        self._done = False

    def update(self, status: int, headers: Mapping[str, str], body: Any = None) -> Feedback:
        """Report the response (body: parsed JSON, or text if it was not JSON).

        Raises `Banned` for a ban-shaped 429. Call at most once; leaving the ``async with``
        without calling it records "sent, outcome unknown" (the token stays spent).
        """
        if self._done:
            raise RuntimeError("Permit.update called twice")
        self._done = True
        return self._limiter._complete(self, status, headers, body)

    def _abandon(self) -> None:
        if not self._done:
            self._done = True
            self._limiter._complete_without_response(self)


class _Acquire:
    def __init__(self, limiter: Limiter, ticket: _Ticket) -> None:
        self._limiter = limiter
        self._ticket = ticket
        self._permit: Permit | None = None

    async def __aenter__(self) -> Permit:
        try:
            self._permit = await self._ticket.future
        except asyncio.CancelledError:
            self._limiter._forget(self._ticket)
            raise
        return self._permit

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._permit is not None:
            self._permit._abandon()


class Limiter:
    """Per-token rate limiter: learned buckets, proactive global pacing, priority lanes."""

    def __init__(
        self,
        *,
        clock: Clock,
        config: LimiterConfig | None = None,
        sleep: Sleeper | None = None,
    ) -> None:
        self.config = config or LimiterConfig()
        self.clock = clock
        self.sleep: Sleeper = sleep or asyncio.sleep
        self.counters = Counters()
        self.banned: str | None = None
        self._global = GlobalBudget(self.config.global_budget)
        self._server_time = ServerTime(enabled=self.config.global_budget.server_time)
        self._invalid = InvalidRequestTracker(self.config.invalid_requests)
        self._paced: dict[Lane, deque[_Ticket]] = {lane: deque() for lane in Lane}
        """Per lane, paced tickets of counted routes: they wait for the global pacer."""
        self._free: dict[Lane, deque[_Ticket]] = {lane: deque() for lane in Lane}
        """Per lane, everything else: interaction routes and reactive-only tickets."""
        self._lane_in_flight: dict[Lane, int] = dict.fromkeys(Lane, 0)
        self._lane_released: dict[Lane, int] = dict.fromkeys(Lane, 0)
        self._route_hash: dict[RouteKey, str] = {}
        self._buckets: dict[BucketKey, Bucket] = {}
        self._moved: dict[BucketKey, tuple[BucketKey, int]] = {}
        """Unknown-bucket keys whose in-flight requests a learned bucket took over: the
        learned key and how many of those requests are still in flight."""
        self._timer: asyncio.Task[None] | None = None
        self._timer_at = float("inf")
        self._pumps = 0
        self._closed = False

    # -- public API ---------------------------------------------------------------------------

    def acquire(
        self,
        route: Route,
        lane: Lane = Lane.NORMAL,
        *,
        not_before: float | None = None,
        retry: bool = False,
        paced: bool = True,
    ) -> _Acquire:
        """``async with limiter.acquire(route, lane) as permit:`` waits for a release.

        ``not_before``: a monotonic time before which this ticket is not released (a retry
        waiting out its own ``retry_after``). ``retry``: queue at the front of the lane
        (a retried request keeps its place ahead of newer work). ``paced=False``: a
        *reactive-only* request (the dispatcher's ``naive`` strategy, a demonstration of
        the bad pattern): it skips the proactive global pacer and the bucket estimates and
        waits only for pauses that 429s imposed (global, its bucket, its ``not_before``).
        It is still recorded, so paced traffic sees the budget it spent. Raises `Banned`
        once banned.
        """
        if self.banned is not None:
            raise Banned(self.banned)
        if self._closed:
            raise DiscordError("limiter is closed")
        future: asyncio.Future[Permit] = asyncio.get_running_loop().create_future()
        ticket = _Ticket(route, lane, not_before if not_before is not None else -1.0, future, paced)
        queue = (self._paced if paced and route.counts_globally else self._free)[lane]
        if retry:
            queue.appendleft(ticket)
        else:
            queue.append(ticket)
        self._pump()
        return _Acquire(self, ticket)

    def snapshot(self, *, max_buckets: int = 50) -> LimiterSnapshot:
        """A JSON-friendly picture of the limiter, for GET /status and the TUI."""
        now = self.clock.monotonic()
        queued_by_bucket: dict[BucketKey | None, int] = {}
        for lane in Lane:
            for ticket in self._tickets(lane):
                if not ticket.future.done():
                    key = self._bucket_key(ticket.route)
                    queued_by_bucket[key] = queued_by_bucket.get(key, 0) + 1
        busiest = heapq.nsmallest(
            max_buckets,
            self._buckets.values(),
            key=lambda b: (-(queued_by_bucket.get(b.key, 0) + b.in_flight), -b.last_used),
        )
        buckets = tuple(
            BucketSnapshot(
                route=f"{bucket.key[1]} {bucket.key[2]}",
                bucket_hash=bucket.key[3] if bucket.key[0] == "learned" else None,
                major=bucket.key[-1],
                limit=bucket.limit,
                available=bucket.available(now),
                in_flight=bucket.in_flight,
                queued=queued_by_bucket.get(bucket.key, 0),
                reset_in=bucket.reset_in(now),
                sliding=bucket.sliding,
                paused_for=max(0.0, bucket.paused_until - now),
            )
            for bucket in busiest
        )
        lanes = tuple(
            LaneSnapshot(
                lane=lane.label,
                queued=sum(1 for t in self._tickets(lane) if not t.future.done()),
                in_flight=self._lane_in_flight[lane],
                released=self._lane_released[lane],
            )
            for lane in Lane
        )
        config = self.config.global_budget
        return LimiterSnapshot(
            lanes=lanes,
            buckets=buckets,
            buckets_known=len(self._buckets),
            global_limit=config.limit,
            global_effective_limit=config.effective_limit,
            global_used_last_second=self._global.used_last(now, config.window),
            global_paused_for=max(0.0, self._global.paused_until - now),
            in_flight=sum(self._lane_in_flight.values()),
            banned=self.banned,
            invalid_requests_in_window=self._invalid.count(now),
            counters=self.counters.to_dict(),
            global_anchor="server" if self._server_time.enabled else "response",
        )

    async def aclose(self) -> None:
        """Stop the timer and fail every queued ticket."""
        self._closed = True
        self._fail_all(DiscordError("limiter is closed"))
        await self._cancel_timer()

    # -- releasing ----------------------------------------------------------------------------

    def _bucket_key(self, route: Route) -> BucketKey | None:
        known = self._route_hash.get(route.key)
        if known is None:
            return ("unknown", route.method, route.template, route.major)
        if known == _NO_BUCKET:
            return None
        return ("learned", route.method, route.template, known, route.major)

    def _bucket(self, key: BucketKey) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = Bucket(key, reset_margin=self.config.reset_margin)
            self._buckets[key] = bucket
            if key[0] == "learned":
                self._adopt_unknown(bucket)
        return bucket

    def _adopt_unknown(self, bucket: Bucket) -> None:
        """A learned bucket takes over what its route sent while its hash was unknown.

        The route's hash may be learned from *another* major parameter's response while a
        request of this major is still in flight under the unknown key. The server counts
        that request in this bucket, so the learned bucket must too: without this, its first
        response would set ``outstanding`` from its own in-flight count only, and the
        estimate would run one request ahead of the server (a user 429).
        """
        _, method, template, _, major = bucket.key
        unknown: BucketKey = ("unknown", method, template, major)
        old = self._buckets.pop(unknown, None)
        if old is None:
            return
        bucket.paused_until = max(bucket.paused_until, old.paused_until)
        bucket.last_used = max(bucket.last_used, old.last_used)
        if old.in_flight > 0:
            bucket.in_flight += old.in_flight
            self._moved[unknown] = (bucket.key, old.in_flight)

    def _tickets(self, lane: Lane) -> Iterator[_Ticket]:
        yield from self._paced[lane]
        yield from self._free[lane]

    def _pump(self) -> None:
        """Release every ticket that may go now, then arm the timer for the next change.

        Per lane, paced tickets of counted routes sit in their own queue, oldest first: once
        the global pacer (or the lane's share) has no room, no later ticket of that queue can
        go either, so the walk stops there instead of visiting every waiting ticket (a wave
        queues hundreds; the pump runs on every acquire and every response). The other queue
        (interaction routes, reactive-only tickets) never waits on the pacer and is walked in
        full. Counted and exempt routes never share a bucket, so keeping them apart changes
        no release order that matters.
        """
        if self.banned is not None or self._closed:
            return
        now = self.clock.monotonic()
        limit = self.config.global_budget.effective_limit
        global_room = self._global.room(now)
        global_used = self._global.used(now)
        wake = float("inf")
        room_by_bucket: dict[BucketKey, int] = {}
        for lane in Lane:
            paced = self._paced[lane]
            if paced:
                lane_cap = max(1, int(limit * self.config.lane_shares.get(lane, 1.0)))
                skipped: list[_Ticket] = []
                while paced:
                    ticket = paced[0]
                    if ticket.future.done():
                        paced.popleft()
                        continue
                    if ticket.not_before > now:
                        wake = min(wake, ticket.not_before)
                        skipped.append(paced.popleft())
                        continue
                    if global_room <= 0 or global_used >= lane_cap:
                        wake = min(wake, self._global.next_room_at(now, min(limit, lane_cap)))
                        break
                    key = self._bucket_key(ticket.route)
                    if key is not None:
                        change = self._take_bucket(key, now, room_by_bucket)
                        if change is not None:
                            wake = min(wake, change)
                            skipped.append(paced.popleft())
                            continue
                    paced.popleft()
                    global_room -= 1
                    global_used += 1
                    self._global.record(now)
                    self._release(ticket, key)
                paced.extendleft(reversed(skipped))
            free = self._free[lane]
            if not free:
                continue
            kept: deque[_Ticket] = deque()
            for ticket in free:
                if ticket.future.done():
                    continue
                if ticket.not_before > now:
                    wake = min(wake, ticket.not_before)
                    kept.append(ticket)
                    continue
                counted = ticket.route.counts_globally
                if not ticket.paced:
                    wait_until = self._reactive_wait(ticket, now)
                    if wait_until > now:
                        wake = min(wake, wait_until)
                        kept.append(ticket)
                        continue
                    key = self._bucket_key(ticket.route)
                    if key is not None:
                        self._bucket(key).on_grant(now)
                        room_by_bucket.pop(key, None)
                    if counted:
                        global_room -= 1
                        global_used += 1
                        self._global.record(now)
                    self._release(ticket, key)
                    continue
                key = self._bucket_key(ticket.route)
                if key is not None:
                    change = self._take_bucket(key, now, room_by_bucket)
                    if change is not None:
                        wake = min(wake, change)
                        kept.append(ticket)
                        continue
                self._release(ticket, key)
            self._free[lane] = kept
        self._pumps += 1
        if self._pumps % 256 == 0:
            self._prune(now)
        if wake < float("inf"):
            self._arm_timer(max(wake, now))

    def _take_bucket(
        self, key: BucketKey, now: float, room_by_bucket: dict[BucketKey, int]
    ) -> float | None:
        """Take one request's room in bucket ``key``; None if taken, else when the bucket
        may next have room (infinity if only a response can tell)."""
        room = room_by_bucket.get(key)
        bucket = self._bucket(key)
        if room is None:
            room = bucket.available(now)
        if room <= 0:
            room_by_bucket[key] = 0
            change = bucket.next_change_at(now)
            return float("inf") if change is None else change
        room_by_bucket[key] = room - 1
        bucket.on_grant(now)
        return None

    def _reactive_wait(self, ticket: _Ticket, now: float) -> float:
        """Until when an unpaced ticket must wait: only pauses that 429s imposed."""
        until = now
        if ticket.route.counts_globally:
            until = max(until, self._global.paused_until)
        key = self._bucket_key(ticket.route)
        if key is not None and key in self._buckets:
            until = max(until, self._buckets[key].paused_until)
        return until

    def _release(self, ticket: _Ticket, key: BucketKey | None) -> None:
        lane = ticket.lane
        self._lane_in_flight[lane] += 1
        self._lane_released[lane] += 1
        self.counters.released(lane.label, ticket.route.counts_globally)
        ticket.future.set_result(Permit(self, ticket.route, lane, key, ticket.paced))

    def _forget(self, ticket: _Ticket) -> None:
        """The waiter was cancelled: drop its ticket, or give back a permit it never used."""
        future = ticket.future
        if future.done() and not future.cancelled() and future.exception() is None:
            future.result()._abandon()
        elif not future.done():
            future.cancel()
        self._pump()

    def _prune(self, now: float) -> None:
        horizon = now - self.config.bucket_idle_ttl
        stale = [
            key
            for key, bucket in self._buckets.items()
            if bucket.in_flight == 0
            and bucket.last_used < horizon
            and bucket.paused_until < now
            and bucket.reset_in(now) is None
        ]
        for key in stale:
            del self._buckets[key]

    # -- timer ----------------------------------------------------------------------------------

    def _arm_timer(self, at: float) -> None:
        if self._timer is not None and not self._timer.done() and self._timer_at <= at:
            return
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer_at = at
        self._timer = asyncio.get_running_loop().create_task(self._wake_at(at))

    async def _wake_at(self, at: float) -> None:
        await self.sleep(max(0.0, at - self.clock.monotonic()))
        self._timer = None
        self._timer_at = float("inf")
        self._pump()

    async def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and not timer.done():
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    # -- responses ------------------------------------------------------------------------------

    def _finish_flight(self, permit: Permit) -> Bucket | None:
        self._lane_in_flight[permit.lane] = max(0, self._lane_in_flight[permit.lane] - 1)
        key = permit._bucket_key
        if key is None:
            return None
        moved = self._moved.get(key)
        if moved is not None:
            target, left = moved
            if left <= 1:
                del self._moved[key]
            else:
                self._moved[key] = (target, left - 1)
            key = target
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.on_done()
        return bucket

    def _complete_without_response(self, permit: Permit) -> None:
        self._finish_flight(permit)
        if permit.counted:
            self._global.settle(self.clock.monotonic())
        self._pump()

    def _complete(
        self, permit: Permit, status: int, raw_headers: Mapping[str, str], body: Any
    ) -> Feedback:
        now = self.clock.monotonic()
        self._finish_flight(permit)
        headers = RateLimitHeaders.parse(raw_headers)
        stamp = server_stamp(headers.reset, headers.reset_after)
        if permit.counted:
            self._global.settle(now, arrived_by=self._server_time.arrived_by(now, stamp))
        elif stamp is not None:
            self._server_time.observe(now, stamp)
        self.counters.response(status)
        route = permit.route
        try:
            if status == 429:
                ban = _ban_reason(raw_headers, body)
                if ban is not None:
                    self._ban(ban, route)
                    raise Banned(ban)
            feedback = self._apply(now, permit, status, headers, body)
            if counts_as_invalid(status, headers.scope if status == 429 else None):
                self._invalid.record(now, status, route.label)
            return feedback
        finally:
            self._pump()

    def _apply(
        self, now: float, permit: Permit, status: int, headers: RateLimitHeaders, body: Any
    ) -> Feedback:
        route = permit.route
        if headers.describes_bucket:
            assert headers.bucket is not None
            self._route_hash[route.key] = headers.bucket
            bucket: Bucket | None = self._bucket(
                ("learned", route.method, route.template, headers.bucket, route.major)
            )
        else:
            bucket = None
            if 200 <= status < 300 and route.key not in self._route_hash:
                self._route_hash[route.key] = _NO_BUCKET
        if bucket is not None:
            bucket.on_headers(now, headers, rejected=status == 429)
        if status != 429:
            return Feedback(status)

        payload = body if isinstance(body, dict) else {}
        retry_after = _retry_after(headers, payload)
        if headers.is_global or payload.get("global") is True or headers.scope == "global":
            kind = "global"
            self._global.pause(now, retry_after)
            if permit.paced and self._server_time.enabled:
                self._server_time.distrust("a paced request got a global 429")
                _log.warning(
                    "event=global_anchor_fallback reason='paced request got a global 429' "
                    "action='slots now held from response times'"
                )
        elif headers.scope == "shared":
            kind = "shared"
        elif headers.remaining is not None and headers.remaining > 0:
            kind = "sublimit"
        else:
            kind = "user"
            if bucket is not None:
                bucket.pause(now, retry_after)
        self.counters.rate_limit(kind)
        _log.warning(
            "event=rate_limited kind=%s route=%r lane=%s retry_after=%.3f bucket=%s code=%s",
            kind,
            route.label,
            permit.lane.label,
            retry_after,
            headers.bucket,
            payload.get("code"),
        )
        return Feedback(status, kind, retry_after)

    def _ban(self, reason: str, route: Route) -> None:
        if self.banned is None:
            self.banned = reason
            self.counters.rate_limit("ban")
            _log.critical(
                "event=banned reason=%r route=%r action=all_traffic_stopped "
                "hint='Cloudflare ban suspected; check invalid-request counts before restarting'",
                reason,
                route.label,
            )
        self._fail_all(Banned(reason))
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
            self._timer = None

    def _fail_all(self, error: BaseException) -> None:
        for lane in Lane:
            for ticket in self._tickets(lane):
                if not ticket.future.done():
                    ticket.future.set_exception(error)
            self._paced[lane] = deque()
            self._free[lane] = deque()


def _retry_after(headers: RateLimitHeaders, payload: Mapping[str, Any]) -> float:
    value = payload.get("retry_after")
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if headers.retry_after is not None and headers.retry_after >= 0:
        return headers.retry_after
    return 1.0


def _ban_reason(raw_headers: Mapping[str, str], body: Any) -> str | None:
    """Why a 429 looks like a Cloudflare ban rather than a rate limit, or None."""
    lower = {key.lower() for key in raw_headers}
    if not isinstance(body, dict):
        return "429 without a JSON body"
    if "retry_after" not in body:
        return "429 JSON without retry_after"
    if "via" not in lower:
        return "429 without a Via header"
    return None
