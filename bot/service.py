"""The running ladder: the state changes the handlers ask for, and the timers nobody asks for.

Why a service object: the interactions endpoint, the timers and the dispatcher all change
the same matches and queue, and three rules must hold across them.

1. **One writer per match at a time.** Every match transition (a click, the deadline
   sweep, a replay, an admin resolve, the release of a match whose player cannot be
   reached) runs through `LadderService.apply_match`, under that match's lock: read,
   compute with the pure domain, persist with its outbox rows in one transaction, and
   (for clicks) answer the click *before* the lock is released. A click's type-7 update
   is therefore applied by Discord before any notification of a later transition of the
   same match is even written, so a stale "waiting for your opponent" can never land on
   top of the "Confirmed" edit.
2. **Phase 1 owns the searching message.** The heartbeat refreshes searching messages on
   the background lane; before a wave (or a queue clear) is written, the heartbeat is
   paused and its unsent edits are cancelled, so a refresh can never overwrite "Match
   found". A player who leaves has their pending refresh cancelled the same way. Each
   refresh re-reads the queue, so it stops by itself for players who left or were matched.
3. **No match is ever stuck.** The deadline sweeper runs once at start-up (a restart
   resumes every open timer, because deadlines are stored as Unix times) and then on a
   timer that wakes at the next deadline (at most `sweep_interval` apart).

Waves fall on Unix multiples of the interval (`bot.ladder.next_wave_at`); 0 = manual only.
The matchmaker is pure, so a large wave is computed in a worker thread while the event
loop keeps answering interactions; the store is only touched from the loop's thread (one
SQLite connection, small transactions). Every loop logs and survives its own errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

import httpx

from bot.clock import Clock
from bot.config import Settings
from bot.discord import DiscordClient, DiscordError, InvalidWebhookToken, Lane, NotFound
from bot.ladder import (
    Candidate,
    LadderConfig,
    LadderError,
    Match,
    Transition,
    WaveResult,
    expire,
    next_wave_at,
    run_wave,
    wave_notifications,
)
from bot.notify import DispatchConfig, Dispatcher
from bot.store import InteractionRef, OutboxItem, QueueRow, StaleWave, Store
from bot.views import MessageView, render, searching_message

__all__ = [
    "DispatcherLike",
    "Heartbeat",
    "KeyedLocks",
    "LadderService",
    "Sleeper",
    "UnknownMatch",
]

_log = logging.getLogger("bot.service")

Sleeper = Callable[[float], Awaitable[None]]
OFFLOAD_WAVE_AT = 500
"""Queues at least this long are matched in a worker thread (the rest inline)."""
MAX_REPLAY_BYTES = 10 * 1024 * 1024


class DispatcherLike(Protocol):
    """What the service needs of `bot.notify.Dispatcher` (tests pass a stand-in)."""

    @property
    def strategy(self) -> str: ...

    async def start(self) -> None: ...

    def wake(self) -> None: ...

    async def stop(self) -> None: ...

    def set_strategy(self, name: str) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...


class UnknownMatch(LadderError):
    """The match number does not exist."""


class KeyedLocks:
    """One `asyncio.Lock` per key, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


def token_is_fresh(created_at: float | None, now: float, lifetime: float, margin: float) -> bool:
    """Whether an interaction token may still be used for a webhook call started now."""
    return created_at is not None and now - created_at < lifetime - margin


class Heartbeat:
    """Refreshes every searching message on the background lane, every `interval` seconds.

    Each cycle reads the queue afresh and starts one edit per queued player whose previous
    edit has finished; edits use the interaction webhook while the /queue token is fresh
    (exempt from the global limit) and the bot-token channel edit after that. A failed
    edit is logged and counted and the next cycle tries again: the heartbeat never dies on
    an error.
    """

    def __init__(
        self,
        store: Store,
        client: DiscordClient,
        clock: Clock,
        *,
        application_id: str,
        interval: float,
        token_lifetime: float,
        token_margin: float,
        next_wave: Callable[[], float | None],
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.application_id = application_id
        self.interval = interval
        self.token_lifetime = token_lifetime
        self.token_margin = token_margin
        self._next_wave = next_wave
        self._sleep = sleep
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._paused = 0
        self.counters = {"cycles": 0, "edits": 0, "errors": 0, "skipped": 0, "cancelled": 0}

    async def run(self) -> None:
        """The timer loop (cancel to stop)."""
        while True:
            await self._sleep(self.interval)
            try:
                self.beat()
            except Exception:
                self.counters["errors"] += 1
                _log.exception("event=heartbeat_cycle_failed")

    def beat(self) -> int:
        """One cycle: start an edit for every queued player; returns how many started."""
        if self._paused:
            return 0
        self.counters["cycles"] += 1
        counts = self.store.queue_counts()
        next_wave = self._next_wave()
        started = 0
        for row in self.store.queue_rows():
            if row.player_id in self._inflight:
                self.counters["skipped"] += 1
                continue
            view = searching_message(
                counts,
                next_wave,
                bw_race=row.bw_race,
                sc2_race=row.sc2_race,
                vetoes=row.vetoes,
            )
            task = asyncio.create_task(self._edit(row, view), name=f"heartbeat-{row.player_id}")
            self._inflight[row.player_id] = task
            task.add_done_callback(lambda t, pid=row.player_id: self._done(pid, t))
            started += 1
        return started

    def _done(self, player_id: int, task: asyncio.Task[None]) -> None:
        if self._inflight.get(player_id) is task:
            del self._inflight[player_id]

    async def _edit(self, row: QueueRow, view: MessageView) -> None:
        try:
            sent = await edit_searching_message(
                self.client,
                self.application_id,
                row.interaction,
                view,
                now=self.clock.wall(),
                lifetime=self.token_lifetime,
                margin=self.token_margin,
                lane=Lane.BACKGROUND,
            )
        except asyncio.CancelledError:
            self.counters["cancelled"] += 1
            raise
        except DiscordError as error:
            self.counters["errors"] += 1
            _log.warning("event=heartbeat_edit_failed player=%d error=%r", row.player_id, error)
        except Exception:
            self.counters["errors"] += 1
            _log.exception("event=heartbeat_edit_crashed player=%d", row.player_id)
        else:
            self.counters["edits" if sent else "skipped"] += 1

    def forget(self, player_id: int) -> None:
        """The player left or was removed: cancel their unsent refresh."""
        task = self._inflight.pop(player_id, None)
        if task is not None:
            task.cancel()

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """No refresh starts inside; the ones in flight are cancelled and awaited first."""
        self._paused += 1
        try:
            tasks = list(self._inflight.values())
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            yield
        finally:
            self._paused -= 1

    async def stop(self) -> None:
        async with self.paused():
            pass

    @property
    def in_flight(self) -> int:
        return len(self._inflight)


async def edit_searching_message(
    client: DiscordClient,
    application_id: str,
    ref: InteractionRef,
    view: MessageView,
    *,
    now: float,
    lifetime: float,
    margin: float,
    lane: Lane,
) -> bool:
    """Edit a searching message: webhook while the token is fresh, else by channel and id.

    Returns False when neither route is possible (an old token and an unknown message id).
    """
    data = view.data()
    if ref.token and token_is_fresh(ref.created_at, now, lifetime, margin):
        try:
            await client.edit_original_response(
                application_id,
                ref.token,
                content=data["content"],
                embeds=data["embeds"],
                components=data["components"],
                lane=lane,
            )
            return True
        except InvalidWebhookToken:
            pass  # older than Discord thinks we think: fall back to the bot token
    if ref.channel_id is None or ref.message_id is None:
        return False
    await client.edit_message(
        ref.channel_id,
        ref.message_id,
        content=data["content"],
        embeds=data["embeds"],
        components=data["components"],
        lane=lane,
    )
    return True


class LadderService:
    """The ladder's running state: store, Discord client, dispatcher, timers."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: DiscordClient,
        clock: Clock,
        *,
        sleep: Sleeper = asyncio.sleep,
        http: httpx.AsyncClient | None = None,
        dispatcher: DispatcherLike | None = None,
    ) -> None:
        self.settings = settings
        self.config = settings.ladder
        self.store = store
        self.client = client
        self.clock = clock
        self._sleep = sleep
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=20.0, follow_redirects=True)
        lifetime = settings.token_lifetime
        self.token_margin = min(60.0, lifetime / 4)
        self.dispatcher: DispatcherLike = dispatcher or Dispatcher(
            store,
            client,
            render,
            clock=clock,
            config=DispatchConfig(
                strategy=settings.dispatch,
                admin_channel_id=settings.admin_channel_id,
                token_lifetime=lifetime,
                token_margin=self.token_margin,
            ),
            application_id=settings.application_id,
            on_undeliverable=self.on_undeliverable,
        )
        self.heartbeat = Heartbeat(
            store,
            client,
            clock,
            application_id=settings.application_id,
            interval=settings.heartbeat_interval,
            token_lifetime=lifetime,
            token_margin=self.token_margin,
            next_wave=self.next_wave_at,
            sleep=sleep,
        )
        self.max_replay_bytes = MAX_REPLAY_BYTES
        self.match_locks = KeyedLocks()
        self._wave_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._last_wave_slot: float | None = None
        self.counters = {"waves": 0, "wave_errors": 0, "swept": 0, "sweep_errors": 0}

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume: expire what is overdue, deliver what is pending, start the timers."""
        await self.sweep()
        await self.dispatcher.start()
        self._loops.append(asyncio.create_task(self._sweep_loop(), name="sweeper"))
        if self.config.wave_interval_s > 0:
            self._loops.append(asyncio.create_task(self._wave_loop(), name="waves"))
        if self.settings.heartbeat_interval > 0:
            self._loops.append(asyncio.create_task(self.heartbeat.run(), name="heartbeat"))
        _log.info(
            "event=service_started wave_interval=%s heartbeat=%s strategy=%s",
            self.config.wave_interval_s,
            self.settings.heartbeat_interval,
            self.dispatcher.strategy,
        )

    async def stop(self) -> None:
        """Stop the timers and background work, then the dispatcher (pending rows stay)."""
        loops, self._loops = self._loops, []
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await self.heartbeat.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.dispatcher.stop()
        if self._own_http:
            await self.http.aclose()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run background work (a deferred follow-up); its errors are logged, not lost."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error(
                "event=background_task_failed task=%s error=%r", task.get_name(), task.exception()
            )

    async def drain(self) -> None:
        """Wait for the background work started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- waves -----------------------------------------------------------------------------

    def next_wave_at(self) -> float | None:
        return next_wave_at(self.clock.wall(), self.config.wave_interval_s)

    async def run_wave(self) -> WaveResult:
        """Match the queue now and write the wave (matches, queue, outbox) in one go."""
        async with self._wave_lock, self.heartbeat.paused():
            for attempt in range(3):
                candidates = self.store.queued_candidates()
                wave_id, first_match_id = self.store.next_ids()
                now = self.clock.wall()
                if len(candidates) >= OFFLOAD_WAVE_AT:
                    result = await asyncio.to_thread(
                        _run_wave, candidates, self.config, now, wave_id, first_match_id
                    )
                else:
                    result = _run_wave(candidates, self.config, now, wave_id, first_match_id)
                try:
                    self.store.apply_wave(result, wave_notifications(result))
                    break
                except StaleWave as stale:
                    _log.info("event=wave_retry attempt=%d reason=%r", attempt + 1, str(stale))
            else:
                raise RuntimeError("the queue kept changing during the wave; try again")
        self.counters["waves"] += 1
        _log.info(
            "event=wave wave_id=%d queued=%d matches=%d skipped_no_map=%d",
            result.wave_id,
            result.queued,
            len(result.matches),
            len(result.skipped_no_map),
        )
        self.dispatcher.wake()
        return result

    async def _wave_loop(self) -> None:
        interval = self.config.wave_interval_s
        while True:
            now = self.clock.wall()
            slot = next_wave_at(max(now, self._last_wave_slot or now), interval)
            assert slot is not None
            await self._sleep(max(0.0, slot - now))
            self._last_wave_slot = slot
            try:
                await self.run_wave()
            except Exception:
                self.counters["wave_errors"] += 1
                _log.exception("event=wave_failed slot=%s", slot)

    # --- match transitions -----------------------------------------------------------------

    async def apply_match(
        self,
        match_id: int,
        compute: Callable[[Match], Transition | None],
        *,
        persist: Callable[[Transition, float], object] | None = None,
        respond: Callable[[Transition], Awaitable[None]] | None = None,
    ) -> Transition | None:
        """Read, compute, persist and (optionally) answer, under the match's lock.

        ``compute`` may raise `LadderError` (nothing is written); ``persist`` defaults to
        `Store.apply_transition`; ``respond`` runs before the lock is released.
        """
        async with self.match_locks.hold(match_id):
            match = self.store.get_match(match_id)
            if match is None:
                raise UnknownMatch(f"there is no match #{match_id}")
            transition = compute(match)
            if transition is None:
                return None
            now = self.clock.wall()
            if persist is None:
                self.store.apply_transition(transition, now)
            else:
                persist(transition, now)
            if respond is not None:
                await respond(transition)
        if transition.notifications:
            self.dispatcher.wake()
        return transition

    async def sweep(self) -> int:
        """Expire every match whose deadline has passed; returns how many changed."""
        changed = 0
        for match in self.store.due_matches(self.clock.wall()):
            try:
                done = await self.apply_match(match.id, lambda m: expire(m, self.clock.wall()))
            except LadderError:
                continue
            except Exception:
                self.counters["sweep_errors"] += 1
                _log.exception("event=expire_failed match=%d", match.id)
                continue
            if done is not None:
                changed += 1
                _log.info(
                    "event=match_expired match=%d state=%s reason=%s",
                    match.id,
                    done.match.state.value,
                    done.match.end_reason.value if done.match.end_reason else None,
                )
        self.counters["swept"] += changed
        return changed

    async def _sweep_loop(self) -> None:
        interval = self.settings.sweep_interval
        while True:
            delay = interval
            deadline = self.store.next_deadline()
            if deadline is not None:
                delay = min(interval, max(0.0, deadline - self.clock.wall()))
            await self._sleep(delay)
            try:
                await self.sweep()
            except Exception:
                self.counters["sweep_errors"] += 1
                _log.exception("event=sweep_failed")
            try:
                self.store.checkpoint()  # off the next wave's commit (see Store.checkpoint)
            except Exception:
                _log.exception("event=checkpoint_failed")

    async def on_undeliverable(self, item: OutboxItem, error: DiscordError) -> None:
        """A player cannot be reached (DMs closed): end their open match now, as a
        confirmation timeout would (nobody is charged an abort), so nobody waits for them."""
        _log.warning(
            "event=undeliverable item=%d kind=%s player=%s match=%s error=%r",
            item.id,
            item.kind.value,
            item.player_id,
            item.match_id,
            error,
        )
        if item.match_id is None:
            return

        def release(match: Match) -> Transition | None:
            if not match.state.is_open:
                return None
            now = self.clock.wall()
            return expire(dataclasses.replace(match, deadline=now), now)

        with contextlib.suppress(LadderError):
            released = await self.apply_match(item.match_id, release)
            if released is not None:
                _log.info("event=match_released match=%d", item.match_id)

    # --- the searching message -------------------------------------------------------------

    async def learn_searching_message(self, player_id: int, token: str, channel_id: int) -> None:
        """Find the id of the /queue response (GET @original), for edits after the token's
        15 minutes. Retried briefly: Discord creates the message once it reads our answer."""
        delay = 0.05
        attempts = 6
        for _ in range(attempts):
            try:
                message = await self.client.get_original_response(
                    self.settings.application_id, token
                )
            except NotFound:
                await self._sleep(delay)
                delay *= 2
                continue
            except DiscordError as error:
                _log.warning("event=searching_message_unknown player=%d error=%r", player_id, error)
                return
            row = self.store.queue_entry(player_id)
            if row is not None and row.interaction.token == token:
                self.store.set_searching_message(player_id, channel_id, int(message["id"]))
            return
        _log.warning("event=searching_message_unknown player=%d attempts=%d", player_id, attempts)

    async def edit_searching(self, ref: InteractionRef, view: MessageView) -> None:
        """A one-off edit of a searching message (after /leave), logged if it fails."""
        try:
            await edit_searching_message(
                self.client,
                self.settings.application_id,
                ref,
                view,
                now=self.clock.wall(),
                lifetime=self.settings.token_lifetime,
                margin=self.token_margin,
                lane=Lane.NORMAL,
            )
        except DiscordError as error:
            _log.warning("event=searching_edit_failed error=%r", error)

    # --- replays ---------------------------------------------------------------------------

    async def download(self, url: str, max_bytes: int = MAX_REPLAY_BYTES) -> bytes:
        """Fetch an attachment (streamed, refused past ``max_bytes``)."""
        async with self.http.stream("GET", url) as response:
            response.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ValueError(f"the file is larger than {max_bytes} bytes")
                chunks.append(chunk)
        return b"".join(chunks)

    # --- status ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        counts = self.store.queue_counts()
        return {
            "queue": {
                "total": counts.total,
                "bw_only": counts.bw_only,
                "sc2_only": counts.sc2_only,
                "both": counts.both,
            },
            "open_matches": self.store.open_match_count(),
            "outbox": self.store.outbox_counts(),
            "limiter": self.client.limiter.snapshot().to_dict(),
            "dispatch": self.dispatcher.snapshot(),
            "heartbeat": {
                "interval": self.settings.heartbeat_interval,
                "in_flight": self.heartbeat.in_flight,
                **self.heartbeat.counters,
            },
            "waves": {
                "interval": self.config.wave_interval_s,
                "next_wave_at": self.next_wave_at(),
                **self.counters,
            },
            "background_tasks": len(self._tasks),
        }


def _run_wave(
    candidates: Sequence[Candidate],
    config: LadderConfig,
    now: float,
    wave_id: int,
    first_match_id: int,
) -> WaveResult:
    return run_wave(candidates, config, now=now, wave_id=wave_id, first_match_id=first_match_id)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
