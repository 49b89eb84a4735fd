"""Virtual time for limiter tests: a sleeper that advances a ManualClock, never real time.

`VirtualTime.sleep(d)` parks the caller until virtual time reaches ``now + d``. `run(coro)`
drives a coroutine: it lets every runnable task settle, then jumps the clock to the earliest
parked deadline and wakes it, and so on until the coroutine finishes. Nothing ever waits on
a real timer, so a 10-second scenario runs in milliseconds, deterministically.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.clock import ManualClock

T = TypeVar("T")


class Deadlock(AssertionError):
    pass


class VirtualTime:
    def __init__(self, clock: ManualClock, settle_rounds: int = 40) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._settle_rounds = settle_rounds

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self.clock.monotonic() + delay, next(self._seq), future))
        await future

    async def settle(self) -> None:
        for _ in range(self._settle_rounds):
            await asyncio.sleep(0)

    async def run(self, coro: Coroutine[Any, Any, T], *, limit: float = 3600.0) -> T:
        task = asyncio.ensure_future(coro)
        start = self.clock.monotonic()
        try:
            while True:
                await self.settle()
                if task.done():
                    return task.result()
                while self._heap and self._heap[0][2].done():
                    heapq.heappop(self._heap)
                if not self._heap:
                    raise Deadlock("no task is runnable and nothing sleeps")
                deadline = self._heap[0][0]
                if deadline - start > limit:
                    raise Deadlock(f"virtual time passed {limit}s")
                self.clock.advance(max(0.0, deadline - self.clock.monotonic()))
                while self._heap and self._heap[0][0] <= deadline:
                    _, _, future = heapq.heappop(self._heap)
                    if not future.done():
                        future.set_result(None)
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
