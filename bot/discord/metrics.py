"""Counters the limiter keeps for metrics and the bot's GET /status.

Plain integers in a dataclass, owned by one limiter (no module-level state). The dispatcher
and the bench read them through `Limiter.snapshot()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Counters"]


@dataclass
class Counters:
    requests_by_lane: dict[str, int] = field(default_factory=dict)
    """Requests released (every attempt), by lane label."""
    counted: int = 0
    """Released requests that spent the global budget."""
    exempt: int = 0
    """Released requests on interaction routes (no global budget)."""
    rate_limited: dict[str, int] = field(default_factory=dict)
    """429s seen, by kind: user, sublimit, shared, global, ban."""
    retries: dict[str, int] = field(default_factory=dict)
    """Retries, by reason: rate_limit, server_error, transport."""
    responses_by_class: dict[str, int] = field(default_factory=dict)
    """Responses by status class: 2xx, 4xx, 5xx..."""

    @staticmethod
    def _bump(table: dict[str, int], key: str, by: int = 1) -> None:
        table[key] = table.get(key, 0) + by

    def released(self, lane: str, counted: bool) -> None:
        self._bump(self.requests_by_lane, lane)
        if counted:
            self.counted += 1
        else:
            self.exempt += 1

    def rate_limit(self, kind: str) -> None:
        self._bump(self.rate_limited, kind)

    def retry(self, reason: str) -> None:
        self._bump(self.retries, reason)

    def response(self, status: int) -> None:
        self._bump(self.responses_by_class, f"{status // 100}xx")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
