"""Injected time for the mock.

The rate-limit engine never reads the system clock itself: it is handed a `Clock`. The
server uses `SystemClock`; unit tests use `ManualClock` and move time by hand, so a test
of "5 per 5 s" takes microseconds and cannot flake. `monotonic()` orders events and sizes
windows; `wall()` is only for the absolute `X-RateLimit-Reset` header and timestamps that a
client compares with its own wall clock.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def wall(self) -> float: ...


class SystemClock:
    """The real clock: `time.monotonic()` and `time.time()`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to; wall time keeps a fixed offset from monotonic."""

    def __init__(self, start: float = 1000.0, wall_start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_start - start

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
