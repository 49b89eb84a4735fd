"""The dispatcher: drains the outbox through the Discord client, one wave at a time.

The problem
-----------
A wave of M matches must tell 2M players "match found" (phase 1) and then send each the
match details (phase 2). Phase 1 is what a waiting player is staring at, so it must land
first and at once; phase 2 is 2M counted message creates, which the global limit (L per
sliding second, 50 by default) spreads over at least ``ceil(C / L) - 1`` seconds
(`bot.notify.metrics` derives this bound and the per-bucket one). A strategy decides when each
call is handed to the client; the client's limiter (`bot.discord.limiter`) decides when it
actually leaves.

Strategies (``DispatchConfig.strategy``; `Dispatcher.set_strategy` switches at run time, from
the next wave on)
---------------------------------------------------------------------------------------------
``naive``
    Every call of the wave at once, *reactive-only* (``paced=False``: the limiter's proactive
    global pacer and bucket estimates are bypassed; only 429 pauses slow it down). One
    player's calls still go in story order (the details create follows that player's
    "match found" edit). This is the seed's bad pattern, kept to show what it costs.
``sequential``
    One call at a time, each awaited, phase 1 then phase 2.
``batched``
    The seed's proposal. Phase 1 at once; when every phase-1 call has finished, wait
    ``batch_pause``, then hand phase 2 over in batches of ``batch_matches`` matches, the
    k-th batch at ``t0 + k * batch_interval`` (a fixed schedule, not "after the previous
    batch finished").
``paced`` (default)
    Phase 1 at once on the URGENT lane; when it has finished, all of phase 2 on the NORMAL
    lane, released by the limiter exactly as fast as the global budget and the learned
    buckets allow: no fixed sleeps. Lifecycle notices go on NORMAL, announcements on
    BACKGROUND, so neither can starve phase 1.

Except for ``naive``, phase 2 of a wave starts only when every phase-1 call of that wave has
finished (delivered, failed for good, or failed for now and left to the retry path).

Exactly once, in order
----------------------
The outbox (`bot.store`) is the only source of work, and an item leaves it only on a 2xx
(``mark_delivered``; the 2xx read in one turn of the event loop are written in one
transaction, see `Dispatcher._mark_delivered`) or a permanent failure. Creates carry the
store's deterministic nonce with ``enforce_nonce``, so a create resent after a 5xx, a lost
connection or a crash returns the first message instead of a duplicate; edits are idempotent.
Within one dispatcher an item is never handed to the client twice at once (``_in_flight``).
Per-player order comes from `Store.deliverable`, which holds an item back until the earlier
items of its story have settled; a wave's phase 2 is read through it after phase 1. After a
restart, pending items are read again in (phase, id) order: a wave whose items are pending is
run again (phase 1 first), everything else goes through the *stream*.

The stream
----------
Items outside a running wave (lifecycle notices, queue removals, announcements, and wave
items whose first attempt failed transiently) are delivered as they become deliverable, up
to ``max_in_flight`` at once, each on its phase's lane; a transient failure waits
``retry_base * 2**(n-1)`` (capped) before the next try.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

from bot.clock import Clock
from bot.discord.client import DiscordClient
from bot.discord.errors import (
    Banned,
    DiscordError,
    DMsClosed,
    HTTPException,
    InvalidWebhookToken,
    NotFound,
    RateLimitedTooLong,
    ServerError,
    TransportFailure,
    Unauthorized,
)
from bot.discord.lanes import Lane
from bot.discord.rest import Attempt
from bot.discord.routes import Route
from bot.ladder.notifications import Action
from bot.notify.metrics import WaveMetrics
from bot.notify.types import STRATEGIES, DispatchConfig, OutgoingCall, Renderer, UndeliverableHook
from bot.store.records import OutboxItem
from bot.store.store import Store

__all__ = ["Dispatcher"]

_log = logging.getLogger("bot.notify")

_WEBHOOK_ORIGINAL = "/webhooks/{application_id}/{interaction_token}/messages/@original"
_CHANNEL_MESSAGES = "/channels/{channel_id}/messages"
_CHANNEL_MESSAGE = "/channels/{channel_id}/messages/{message_id}"
_LANE_BY_PHASE = {1: Lane.URGENT, 2: Lane.NORMAL, 3: Lane.BACKGROUND}
_CHUNK = 16
"""Calls started (or items prepared) per turn of the event loop within a wave's phase."""

_Prepared = tuple[OutboxItem, OutgoingCall | None]
"""An item and its rendered call (None: render at send time)."""


class _NoTarget(DiscordError):
    """The item names no message or channel to send to (nothing to retry)."""


class _Retryable(DiscordError):
    """A local failure worth retrying later (e.g. the renderer raised)."""


class Dispatcher:
    """Delivers the outbox; see the module docstring and `bot.notify` for the interface."""

    def __init__(
        self,
        store: Store,
        client: DiscordClient,
        render: Renderer,
        *,
        clock: Clock,
        config: DispatchConfig | None = None,
        application_id: int | str,
        on_undeliverable: UndeliverableHook | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.render = render
        self.clock = clock
        self.config = config or DispatchConfig()
        self.application_id = application_id
        self.on_undeliverable = on_undeliverable
        self._strategy = self.config.strategy
        self._sleep = client.limiter.sleep
        self._global_limit = client.limiter.config.global_budget.limit
        self._event: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._serial = asyncio.Lock()
        self._in_flight: set[int] = set()
        self._stream_in_flight = 0
        self._retry_at: dict[int, tuple[float, int | None]] = {}
        """Outbox id -> (monotonic time of the next try, its wave) after a transient failure."""
        self._failures: dict[int, int] = {}
        self._waves_seen: set[int] = set()
        self._running_waves: set[int] = set()
        self._metrics: dict[int, WaveMetrics] = {}
        self._recent: deque[int] = deque()
        self._totals: Counter[str] = Counter()
        self._prompt = True
        self._last_scan = float("-inf")
        self._marks: list[tuple[int, int | None, float]] = []
        self._marks_done: asyncio.Future[list[bool]] | None = None
        """2xx deliveries waiting to be written in one transaction (see `_mark_delivered`)."""

    # -- public API ---------------------------------------------------------------------------

    @property
    def strategy(self) -> str:
        return self._strategy

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the delivery loop (pending rows of a previous run are resumed)."""
        if self.running:
            return
        self._event = asyncio.Event()
        self._event.set()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="dispatcher")

    def wake(self) -> None:
        """New outbox rows exist: look again soon. Cheap and idempotent."""
        self._prompt = True
        if self._event is not None:
            self._event.set()

    def _poke(self) -> None:
        """Internal: a delivery finished (coalesced; see `DispatchConfig.scan_interval`)."""
        if self._event is not None:
            self._event.set()

    async def stop(self) -> None:
        """Stop delivering. Calls not yet answered are abandoned; their rows stay pending
        (a create resent after a restart carries the same nonce, so nothing doubles)."""
        task, self._task = self._task, None
        tasks = [t for t in (task, *self._tasks) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()
        self._event = None
        self._flush_marks()  # deliveries already confirmed by a 2xx: write them now

    def set_strategy(self, name: str) -> None:
        """Switch strategy at run time (a wave already running keeps its own)."""
        if name not in STRATEGIES:
            raise ValueError(
                f"unknown dispatch strategy {name!r}; choose one of {', '.join(STRATEGIES)}"
            )
        if name != self._strategy:
            _log.info("event=dispatch_strategy old=%s new=%s", self._strategy, name)
        self._strategy = name

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe picture for GET /status and the TUI.

        ``strategy``; ``running``; ``in_flight`` (items being sent); ``outbox`` (pending /
        delivered / failed counts); ``current_waves`` (metrics of waves being dispatched,
        with their ``state`` phase1/phase2 and per-phase progress); ``recent_waves`` (the
        last finished waves' metrics, newest first); ``totals`` (all deliveries by outcome).
        """
        current = [
            self._metrics[w].to_dict() for w in sorted(self._running_waves) if w in self._metrics
        ]
        recent = [self._metrics[w].to_dict() for w in reversed(self._recent) if w in self._metrics]
        return {
            "strategy": self._strategy,
            "running": self.running,
            "in_flight": len(self._in_flight),
            "outbox": self.store.outbox_counts(),
            "current_waves": current,
            "recent_waves": recent,
            "totals": dict(self._totals),
        }

    def wave_metrics(self, wave_id: int) -> dict[str, Any] | None:
        """The metrics of a wave this dispatcher ran (None if unknown)."""
        metrics = self._metrics.get(wave_id)
        return None if metrics is None else metrics.to_dict()

    # -- the loop -----------------------------------------------------------------------------

    async def _loop(self) -> None:
        assert self._event is not None
        while True:
            if not self._prompt:
                # Woken by finished deliveries only: coalesce them, so a long stream (an
                # announcement to every player) does not re-read the outbox per message.
                rest = self._last_scan + self.config.scan_interval - self.clock.monotonic()
                if rest > 0:
                    await self._sleep(rest)
            self._event.clear()
            self._prompt = False
            self._last_scan = self.clock.monotonic()
            try:
                self._tick()
            except Exception:
                _log.exception("event=dispatch_tick_failed")
                await self._sleep(self.config.retry_base)
                continue
            await self._wait(self._next_retry_in())

    async def _wait(self, seconds: float | None) -> None:
        assert self._event is not None
        if seconds is not None and seconds <= 0:
            return
        waiter = asyncio.ensure_future(self._event.wait())
        sleeper = asyncio.ensure_future(self._sleep(seconds)) if seconds is not None else None
        try:
            await asyncio.wait(
                [t for t in (waiter, sleeper) if t is not None],
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for t in (waiter, sleeper):
                if t is not None and not t.done():
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t

    def _next_retry_in(self) -> float | None:
        now = self.clock.monotonic()
        waits = [
            at
            for oid, (at, wave) in self._retry_at.items()
            if oid not in self._in_flight and wave not in self._running_waves
        ]
        return None if not waits else max(0.0, min(waits) - now)

    def _tick(self) -> None:
        if self.client.limiter.banned is not None:
            return  # every call would raise Banned; rows stay pending for the next run
        new_waves = sorted(self.store.pending_wave_ids() - self._waves_seen)
        for wave_id in new_waves:
            self._waves_seen.add(wave_id)
            self._running_waves.add(wave_id)
            self._spawn(self._run_wave(wave_id, self._strategy))
        # A running wave's items are its runner's: the stream neither reads nor parses them.
        items = self.store.deliverable(exclude_waves=sorted(self._running_waves))
        now = self.clock.monotonic()
        strategy = self._strategy
        room = self.config.max_in_flight - self._stream_in_flight
        if strategy == "sequential":
            room = min(room, 1 - self._stream_in_flight)
        for item in items:
            if room <= 0:
                break
            if item.id in self._in_flight or item.wave_id in self._running_waves:
                continue
            if self._retry_at.get(item.id, (now, None))[0] > now:
                continue
            room -= 1
            self._stream_in_flight += 1
            self._in_flight.add(item.id)
            self._spawn(self._stream_one(item, strategy))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("event=dispatch_task_failed error=%r", task.exception())
        self._poke()

    async def _stream_one(self, item: OutboxItem, strategy: str) -> None:
        try:
            metrics = self._metrics.get(item.wave_id) if item.wave_id is not None else None
            await self._deliver(
                item,
                _LANE_BY_PHASE.get(item.phase, Lane.NORMAL),
                metrics,
                paced=strategy != "naive",
                serial=strategy == "sequential",
                claimed=True,
            )
            if metrics is not None:
                self._record(metrics)
        finally:
            self._stream_in_flight -= 1

    # -- waves --------------------------------------------------------------------------------

    async def _run_wave(self, wave_id: int, strategy: str) -> None:
        row = self.store.wave(wave_id)
        started = row.started_at if row is not None else self.clock.wall()
        metrics = WaveMetrics(wave_id, strategy, started, self._global_limit)
        self._metrics[wave_id] = metrics
        try:
            # Sized in SQL; only the rows about to be sent are read and parsed (phase 1 is
            # what the players are waiting for, so its read is on the critical path).
            by_phase, players, matches = self.store.wave_pending_counts(wave_id)
            metrics.matches = row.matches if row is not None else matches
            metrics.players = players
            for phase, count in sorted(by_phase.items()):
                metrics.phase(phase).items += count
            _log.info(
                "event=wave_dispatch_start wave=%d strategy=%s matches=%d items=%d",
                wave_id,
                strategy,
                metrics.matches,
                sum(by_phase.values()),
            )
            if strategy == "naive":
                await self._naive(self.store.pending(wave_id=wave_id), metrics)
            else:
                await self._two_phases(wave_id, strategy, metrics)
            metrics.state = "done"
        finally:
            self._prompt = True
            self._running_waves.discard(wave_id)
            self._recent.append(wave_id)
            while len(self._recent) > self.config.recent_waves:
                self._metrics.pop(self._recent.popleft(), None)
            self._record(metrics)
            _log.info(
                "event=wave_dispatched wave=%d strategy=%s %s",
                wave_id,
                strategy,
                " ".join(f"{k}={v}" for k, v in metrics.to_dict().items() if k != "wave_id"),
            )

    async def _two_phases(self, wave_id: int, strategy: str, metrics: WaveMetrics) -> None:
        """Phase 1, then phase 2; phase 2 is read and rendered while phase 1 is in flight
        (`_prepare`) and only *sent* once every phase-1 call has finished."""
        serial = strategy == "sequential"
        loop = asyncio.get_running_loop()
        prepare: asyncio.Task[list[_Prepared]] | None = None

        def start_preparing() -> None:
            nonlocal prepare
            prepare = loop.create_task(self._prepare(wave_id, 2))

        try:
            phase1 = ((item, None) for item in self.store.iter_pending(1, wave_id=wave_id))
            await self._phase(phase1, Lane.URGENT, metrics, serial=serial, launched=start_preparing)
            metrics.state = "phase2"
            assert prepare is not None
            phase2 = self._ready(wave_id, 2, await prepare)
            if strategy == "batched":
                await self._batched(phase2, metrics)
            else:
                await self._phase(phase2, Lane.NORMAL, metrics, serial=serial)
        finally:
            if prepare is not None and not prepare.done():
                prepare.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await prepare

    async def _prepare(self, wave_id: int, phase: int) -> list[_Prepared]:
        """A wave's pending items of ``phase``, parsed and rendered ahead of time. Nothing is
        sent or claimed here; a render that fails is left to send time (``call`` None),
        where the failure is handled like any other."""
        prepared: list[_Prepared] = []
        for item in self.store.iter_pending(phase, wave_id=wave_id):
            try:
                call: OutgoingCall | None = self.render(item)
            except Exception:
                call = None
            prepared.append((item, call))
            if len(prepared) % _CHUNK == 0:
                await asyncio.sleep(0)  # the phase in flight reads its responses meanwhile
        return prepared

    def _ready(self, wave_id: int, phase: int, prepared: list[_Prepared]) -> list[_Prepared]:
        """Of the prepared items, those deliverable now (their story's earlier items have
        settled: an item whose phase-1 call failed for now is left to the stream, as
        before), with the player's DM channel as it is now. Rows prepared too early to be
        seen (none, for a wave's rows are written at once) are read here."""
        targets = self.store.deliverable_targets(phase, wave_id=wave_id)
        ready: list[_Prepared] = []
        for item, call in prepared:
            if item.id not in targets:
                continue
            dm_channel = targets.pop(item.id)
            if dm_channel != item.dm_channel_id:
                item = dataclasses.replace(item, dm_channel_id=dm_channel)
            ready.append((item, call))
        if targets:
            late = self.store.deliverable(phase=phase, wave_id=wave_id)
            ready += [(item, None) for item in late if item.id in targets]
            ready.sort(key=lambda pair: pair[0].id)
        return ready

    def _record(self, metrics: WaveMetrics) -> None:
        try:
            self.store.record_wave_metrics(metrics.wave_id, {"dispatch": metrics.to_dict()})
        except Exception:
            _log.exception("event=wave_metrics_not_recorded wave=%d", metrics.wave_id)

    async def _phase(
        self,
        items: Iterable[_Prepared],
        lane: Lane,
        metrics: WaveMetrics,
        *,
        serial: bool,
        launched: Callable[[], None] | None = None,
    ) -> None:
        """Deliver ``items``; ``launched`` is called once every item has been handed over
        (serial: before the first, as they are handed over one by one).

        The calls are started `_CHUNK` at a time with a turn of the event loop in between,
        so the first ones are on the wire while the later ones are still being parsed and
        started (all started in one turn, each stage of every call would wait for that
        stage of all the others)."""
        if serial:
            if launched is not None:
                launched()
            for item, call in items:
                await self._deliver(item, lane, metrics, paced=True, serial=True, call=call)
            return
        loop = asyncio.get_running_loop()
        running: list[asyncio.Task[bool]] = []
        try:
            for item, call in items:
                running.append(loop.create_task(self._deliver(item, lane, metrics, call=call)))
                if len(running) % _CHUNK == 0:
                    await asyncio.sleep(0)
            if launched is not None:
                launched()
            await asyncio.gather(*running)
        finally:
            for task in running:
                task.cancel()

    async def _batched(self, items: list[_Prepared], metrics: WaveMetrics) -> None:
        config = self.config
        if not items:
            return
        by_match: dict[int | None, list[_Prepared]] = {}
        for pair in items:
            by_match.setdefault(pair[0].match_id, []).append(pair)
        groups = list(by_match.values())
        await self._sleep(config.batch_pause)
        t0 = self.clock.monotonic()
        running: list[asyncio.Task[bool]] = []
        try:
            for k in range(0, len(groups), config.batch_matches):
                delay = t0 + (k // config.batch_matches) * config.batch_interval
                delay -= self.clock.monotonic()
                if delay > 0:
                    await self._sleep(delay)
                for group in groups[k : k + config.batch_matches]:
                    for item, call in group:
                        coro = self._deliver(item, Lane.NORMAL, metrics, call=call)
                        running.append(asyncio.get_running_loop().create_task(coro))
            await asyncio.gather(*running)
        finally:
            for task in running:
                task.cancel()

    async def _naive(self, items: list[OutboxItem], metrics: WaveMetrics) -> None:
        stories: dict[tuple[str, int | None], list[OutboxItem]] = {}
        for item in sorted(items, key=lambda i: i.seq):
            stories.setdefault((item.scope, item.player_id), []).append(item)

        async def story(chain: list[OutboxItem]) -> None:
            for item in chain:
                lane = _LANE_BY_PHASE.get(item.phase, Lane.NORMAL)
                if not await self._deliver(item, lane, metrics, paced=False):
                    return  # still pending: the stream retries it, and the rest after it

        await asyncio.gather(*(story(chain) for chain in stories.values()))

    # -- one item -----------------------------------------------------------------------------

    async def _deliver(
        self,
        item: OutboxItem,
        lane: Lane,
        metrics: WaveMetrics | None,
        *,
        paced: bool = True,
        serial: bool = False,
        claimed: bool = False,
        call: OutgoingCall | None = None,
    ) -> bool:
        """Send one item; True when it settled (delivered or failed for good). ``call``: the
        item already rendered (`_prepare`); None renders it now."""
        if not claimed:
            if item.id in self._in_flight:
                return False
            self._in_flight.add(item.id)
        try:
            if serial:
                async with self._serial:
                    return await self._attempt(item, lane, metrics, paced, call)
            return await self._attempt(item, lane, metrics, paced, call)
        finally:
            self._in_flight.discard(item.id)

    async def _attempt(
        self,
        item: OutboxItem,
        lane: Lane,
        metrics: WaveMetrics | None,
        paced: bool,
        call: OutgoingCall | None = None,
    ) -> bool:
        try:
            try:
                if call is None:
                    call = self.render(item)
            except Exception as exc:
                _log.exception("event=render_failed item=%d kind=%s", item.id, item.kind.value)
                raise _Retryable(f"render failed: {exc!r}") from exc
            message_id = await self._send(item, call, lane, metrics, paced)
        except Banned:
            _log.error("event=dispatch_halted reason=banned item=%d", item.id)
            return False
        except DMsClosed as exc:
            await self._settle_failed(item, exc, metrics, undeliverable=True)
            return True
        except (ServerError, TransportFailure, RateLimitedTooLong, _Retryable) as exc:
            self._transient(item, exc, metrics)
            return False
        except (HTTPException, _NoTarget) as exc:
            undeliverable = item.action is Action.CREATE_DM and item.player_id is not None
            await self._settle_failed(item, exc, metrics, undeliverable=undeliverable)
            return True
        except DiscordError as exc:  # the client is closing
            _log.warning("event=deliver_aborted item=%d error=%r", item.id, exc)
            return False
        wall = self.clock.wall()
        if await self._mark_delivered(item.id, message_id, wall):
            self._totals["delivered"] += 1
            if metrics is not None:
                metrics.phase(item.phase).delivered_at(wall - metrics.started_at)
        self._retry_at.pop(item.id, None)
        self._failures.pop(item.id, None)
        return True

    async def _mark_delivered(self, outbox_id: int, message_id: int | None, wall: float) -> bool:
        """`Store.mark_delivered`, batched: every 2xx read in the same turn of the event loop
        is written in one transaction at the end of that turn (`_flush_marks`), and each
        caller resumes once its row is written. Exactly-once holds as before: a row is marked
        only after its 2xx, and a 2xx not yet written when the process dies leaves the row
        pending, to be resent with the same nonce (creates) or as the same edit (idempotent)."""
        if self._marks_done is None:
            loop = asyncio.get_running_loop()
            self._marks_done = loop.create_future()
            loop.call_soon(self._flush_marks)
        index = len(self._marks)
        self._marks.append((outbox_id, message_id, wall))
        return (await asyncio.shield(self._marks_done))[index]

    def _flush_marks(self) -> None:
        marks, done = self._marks, self._marks_done
        self._marks, self._marks_done = [], None
        if not marks:
            return
        try:
            result = self.store.mark_delivered_many(marks)
        except Exception as exc:
            _log.exception("event=mark_delivered_failed items=%d", len(marks))
            if done is not None and not done.done():
                done.set_exception(exc)
                done.exception()  # retrieved here: callers that were cancelled never will
            return
        if done is not None and not done.done():
            done.set_result(result)

    def _transient(self, item: OutboxItem, exc: Exception, metrics: WaveMetrics | None) -> None:
        failures = self._failures.get(item.id, 0) + 1
        self._failures[item.id] = failures
        delay = min(self.config.retry_max, self.config.retry_base * 2 ** (failures - 1))
        self._retry_at[item.id] = (self.clock.monotonic() + delay, item.wave_id)
        self.store.mark_failed(item.id, _describe(exc))
        self._totals["transient_failures"] += 1
        if metrics is not None:
            metrics.transient_failures += 1
        _log.warning(
            "event=deliver_retry_later item=%d kind=%s failures=%d delay=%.3f error=%r",
            item.id,
            item.kind.value,
            failures,
            delay,
            exc,
        )

    async def _settle_failed(
        self,
        item: OutboxItem,
        exc: DiscordError,
        metrics: WaveMetrics | None,
        *,
        undeliverable: bool,
    ) -> None:
        self.store.mark_failed(item.id, _describe(exc), permanent=True)
        self._retry_at.pop(item.id, None)
        self._failures.pop(item.id, None)
        self._totals["failed"] += 1
        if metrics is not None:
            metrics.phase(item.phase).failed += 1
        _log.warning(
            "event=deliver_failed item=%d kind=%s player=%s match=%s undeliverable=%s error=%r",
            item.id,
            item.kind.value,
            item.player_id,
            item.match_id,
            undeliverable,
            exc,
        )
        if not undeliverable:
            return
        self._totals["undeliverable"] += 1
        if metrics is not None:
            metrics.undeliverable += 1
        if self.on_undeliverable is None:
            return
        try:
            result = self.on_undeliverable(item, exc)
            if inspect.isawaitable(result):
                await result
        except Exception:
            _log.exception("event=on_undeliverable_failed item=%d", item.id)

    # -- routing ------------------------------------------------------------------------------

    def _token_fresh(self, item: OutboxItem) -> bool:
        if item.interaction_token is None or item.token_created_at is None:
            return False
        age = self.clock.wall() - item.token_created_at
        return age < self.config.token_lifetime - self.config.token_margin

    async def _send(
        self,
        item: OutboxItem,
        call: OutgoingCall,
        lane: Lane,
        metrics: WaveMetrics | None,
        paced: bool,
    ) -> int | None:
        body = call.body()
        action = item.action
        if action is Action.EDIT_SEARCHING:
            if self._token_fresh(item):
                assert item.interaction_token is not None
                route = Route(
                    "PATCH",
                    _WEBHOOK_ORIGINAL,
                    {
                        "application_id": self.application_id,
                        "interaction_token": item.interaction_token,
                    },
                )
                try:
                    await self._call(
                        route, body, "webhook_edit", lane, metrics, paced, f"{item.id}:webhook_edit"
                    )
                    return None
                except (InvalidWebhookToken, Unauthorized, NotFound) as exc:
                    _log.info("event=webhook_fallback item=%d error=%r", item.id, exc)
            channel = item.target_channel_id or item.dm_channel_id
            if channel is None or item.target_message_id is None:
                raise _NoTarget("no searching message to edit (token expired, no message id)")
            if metrics is not None:
                metrics.fallbacks += 1
            self._totals["fallbacks"] += 1
            route = Route(
                "PATCH",
                _CHANNEL_MESSAGE,
                {"channel_id": channel, "message_id": item.target_message_id},
            )
            await self._call(
                route, body, "channel_edit", lane, metrics, paced, f"{item.id}:channel_edit"
            )
            return None
        if action is Action.EDIT_DETAILS:
            if item.dm_channel_id is None or item.target_message_id is None:
                raise _NoTarget("the details message was never delivered")
            route = Route(
                "PATCH",
                _CHANNEL_MESSAGE,
                {"channel_id": item.dm_channel_id, "message_id": item.target_message_id},
            )
            await self._call(
                route, body, "channel_edit", lane, metrics, paced, f"{item.id}:channel_edit"
            )
            return None
        if action is Action.CREATE_DM:
            channel = item.dm_channel_id
            if channel is None:
                channel = await self._open_dm(item, lane, metrics, paced)
        elif action is Action.CREATE_ADMIN:
            channel = self.config.admin_channel_id
            if channel is None:
                raise _NoTarget("no admin channel configured")
        else:  # pragma: no cover - every Action is handled above
            raise _NoTarget(f"unknown action {action}")
        body = {**body, "nonce": item.nonce, "enforce_nonce": True}
        route = Route("POST", _CHANNEL_MESSAGES, {"channel_id": channel})
        result = await self._call(
            route, body, "message_create", lane, metrics, paced, f"{item.id}:message_create"
        )
        return _message_id(result)

    async def _open_dm(
        self, item: OutboxItem, lane: Lane, metrics: WaveMetrics | None, paced: bool
    ) -> int:
        if item.player_id is None:
            raise _NoTarget("a DM without a player")
        route = Route("POST", "/users/@me/channels")
        body = {"recipient_id": str(item.player_id)}
        result = await self._call(
            route, body, "dm_open", lane, metrics, paced, f"{item.id}:dm_open"
        )
        channel = _message_id(result)
        if channel is None:
            raise _Retryable("DM open answered without a channel id")
        self.store.set_dm_channel(item.player_id, channel)
        return channel

    async def _call(
        self,
        route: Route,
        body: dict[str, Any],
        kind: str,
        lane: Lane,
        metrics: WaveMetrics | None,
        paced: bool,
        key: str,
    ) -> Any:
        """One logical call; ``key`` names it (item and kind) so that a later retry of the
        same item is not counted again as a needed call in the lower bound."""
        if metrics is not None:
            metrics.needed(route.counts_globally, f"{kind}:{route.major}", key)

        def observe(attempt: Attempt) -> None:
            self._totals[f"calls_{kind}"] += 1
            if attempt.rate_limit is not None:
                self._totals[f"rate_limited_{attempt.rate_limit}"] += 1
            if metrics is not None:
                metrics.observe(kind, attempt)

        return await self.client.request(route, lane=lane, json=body, paced=paced, observe=observe)


def _message_id(result: Any) -> int | None:
    if isinstance(result, dict):
        value = result.get("id")
        if isinstance(value, str | int) and str(value).isdigit():
            return int(value)
    return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
