"""Our own count of invalid requests, to stay far from a Cloudflare ban.

Discord bans an IP for 1 to 24 hours after 10,000 responses with status 401, 403 or 429 in
10 minutes (shared-scope 429s excepted). A ladder bot can drift there without any single
bad request: closed DMs (403 50007) and expired interaction tokens (401 50027) are normal
outcomes. The tracker keeps a sliding log of those responses and logs one warning each time
the count first crosses a warning fraction of the threshold (50 % and 80 % by default), and
again after it has dropped back below it. It never blocks traffic: the decision to slow down
belongs to the caller, the numbers belong in metrics.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["InvalidRequestConfig", "InvalidRequestTracker"]

_log = logging.getLogger("bot.discord.invalid")


@dataclass(frozen=True)
class InvalidRequestConfig:
    threshold: int = 10_000
    window: float = 600.0
    warn_at: Sequence[float] = (0.5, 0.8)

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.window <= 0:
            raise ValueError("invalid-request threshold and window must be positive")
        if any(not 0 < fraction <= 1 for fraction in self.warn_at):
            raise ValueError("invalid-request warning fractions must be in (0, 1]")


def counts_as_invalid(status: int, scope: str | None) -> bool:
    """401, 403 and 429 count, except shared-scope 429s."""
    return status in (401, 403) or (status == 429 and scope != "shared")


class InvalidRequestTracker:
    def __init__(self, config: InvalidRequestConfig) -> None:
        self.config = config
        self._log: collections.deque[float] = collections.deque()
        self._levels = sorted(int(config.threshold * f) for f in config.warn_at)
        self._armed = [True] * len(self._levels)
        self.total = 0

    def _expire(self, now: float) -> None:
        while self._log and self._log[0] + self.config.window <= now:
            self._log.popleft()

    def count(self, now: float) -> int:
        self._expire(now)
        return len(self._log)

    def record(self, now: float, status: int, route: str) -> None:
        self._log.append(now)
        self.total += 1
        count = self.count(now)
        for index, level in enumerate(self._levels):
            if count < level:
                self._armed[index] = True
            elif self._armed[index]:
                self._armed[index] = False
                _log.warning(
                    "event=invalid_requests_high count=%d threshold=%d window_s=%.0f "
                    "last_status=%d last_route=%r",
                    count,
                    self.config.threshold,
                    self.config.window,
                    status,
                    route,
                )
