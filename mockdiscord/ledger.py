"""The referee's ledger: one record per API response, in arrival order.

Every claim about staying under Discord's limits is judged from this ledger, never from
a bot's own account, so each entry carries the arrival times the engine judged (wall and
monotonic, from `Verdict.at_wall` / `Verdict.at`) and the engine's verdict (status,
scope, whether it counted toward the global limit, whether the route was exempt).

Memory is bounded: the ledger keeps the newest `cap` entries and counts what it dropped,
so a long soak cannot exhaust memory while `dropped` says honestly that the oldest
entries are gone. Recording is an append to a bounded deque (O(1)); serialising to JSON
happens only when someone reads the ledger.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["DEFAULT_CAP", "Ledger", "LedgerEntry"]

DEFAULT_CAP = 200_000


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    at_wall: float
    at_monotonic: float
    application_id: str | None
    method: str
    route: str
    bucket_key: str | None
    status: int
    scope: str | None
    counted: bool
    exempt: bool
    client_ip: str
    banned: bool = False
    fault: str | None = None
    latency_ms: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _FIELDS}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


_FIELDS = tuple(LedgerEntry.__dataclass_fields__)


class Ledger:
    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        if cap < 1:
            raise ValueError(f"ledger cap must be at least 1, got {cap}")
        self.cap = cap
        self._entries: deque[LedgerEntry] = deque(maxlen=cap)
        self.dropped = 0

    def record(self, entry: LedgerEntry) -> None:
        if len(self._entries) == self.cap:
            self.dropped += 1
        self._entries.append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total(self) -> int:
        """Entries ever recorded (kept + dropped): the index the next entry will have."""
        return self.dropped + len(self._entries)

    def entries(self, after: int = 0) -> list[LedgerEntry]:
        """A copy of the kept entries whose absolute index is at least `after`."""
        skip = max(0, after - self.dropped)
        if skip == 0:
            return list(self._entries)
        return list(self._entries)[skip:]

    def json_lines(self, after: int = 0) -> Iterator[str]:
        """One compact JSON object per line (each ends with a newline), oldest first.

        The entries are copied first, so the ledger may keep growing while a reader
        streams them; `after` (an absolute index, see `total`) lets a reader tail it.
        """
        for entry in self.entries(after):
            yield entry.to_json() + "\n"

    def clear(self) -> None:
        self._entries.clear()
        self.dropped = 0
