"""Per-wave dispatch metrics, and the lower bound a wave's makespan is judged against.

What a wave costs, and why nothing can do better
------------------------------------------------
A wave of M matches tells 2M players two things: phase 1, "match found" (an edit of the
player's searching message), and phase 2, the details (a new DM). Some of those calls count
toward the per-token global limit and some do not:

* a phase-1 edit through the /queue interaction webhook is **exempt** (it has its own
  5 per 2 s bucket per interaction token, of which it uses one);
* a phase-1 edit through the channel route (token expired) is **counted**;
* every phase-2 create is **counted**, and so is a DM open when the channel is not known yet.

Let C be the wave's counted calls (logical calls: a retry is not a new need) and L the global
limit per sliding 1-second window. Any schedule that keeps every 1-second window at or below
L must put the k-th block of L calls at least one second after the first call of the
previous block: calls 1..L may go at t = 0, calls L+1..2L no earlier than t = 1, and so on.
The last call therefore goes no earlier than

    lower_bound = ceil(C / L) - 1   seconds after the first one,

and a wave's makespan (wave start to its last phase-2 delivery) cannot be below it, whatever
the strategy. ``ratio = makespan / lower_bound`` is how far a strategy is from perfect; the
bot's own pacer pays its safety margin (window 1 s + margin, 5 % by default) plus one round
trip per block.

The per-bucket bound
--------------------
A bucket of ``limit`` requests per ``period`` (a sliding window, a GCRA with emission
interval ``T = period / limit``) lets ``limit`` go at once and then one every ``T``; so n
calls to one bucket need at least ``max(0, n - limit) * T`` seconds, and fixed windows
``(ceil(n / limit) - 1) * period``. A match wave sends one create per DM channel (5 per 5 s)
and one edit per interaction token (5 per 2 s): n = 1 everywhere, so the per-bucket bound is
0 and the global bound is the binding one. It binds for announcements only when a channel
receives more than ``limit`` messages, which a ladder never does; `max_calls_per_bucket`
records the largest n seen so a report can show it.

Timings are Unix seconds relative to the wave's ``started_at`` (the store's wave row), so
they survive a restart and match the mock's ledger.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.discord.rest import Attempt

__all__ = ["PhaseTimes", "WaveMetrics", "lower_bound"]


def lower_bound(counted_calls: int, global_limit: int) -> float:
    """Seconds the last of ``counted_calls`` needs after the first, at most L per second."""
    if global_limit < 1:
        raise ValueError("global_limit must be >= 1")
    if counted_calls <= 0:
        return 0.0
    return float(math.ceil(counted_calls / global_limit) - 1)


@dataclass
class PhaseTimes:
    items: int = 0
    delivered: int = 0
    failed: int = 0
    first: float | None = None
    last: float | None = None

    def delivered_at(self, rel: float) -> None:
        self.delivered += 1
        self.first = rel if self.first is None else min(self.first, rel)
        self.last = rel if self.last is None else max(self.last, rel)

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "delivered": self.delivered,
            "failed": self.failed,
            "first": _round(self.first),
            "last": _round(self.last),
        }


@dataclass
class WaveMetrics:
    """Figures of one wave's dispatch, built while it runs (see the module docstring)."""

    wave_id: int
    strategy: str
    started_at: float
    global_limit: int
    matches: int = 0
    players: int = 0
    state: str = "phase1"
    """phase1 -> phase2 -> done (a resumed wave may skip phase 1)."""
    phases: dict[int, PhaseTimes] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    """Attempts by route kind: webhook_edit, channel_edit, message_create, dm_open."""
    calls_counted: int = 0
    calls_exempt: int = 0
    needed_counted: int = 0
    """Logical counted calls (C in the lower bound): retries are not counted again."""
    rate_limited: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    fallbacks: int = 0
    """Phase-1 edits that went by the channel route instead of the webhook."""
    undeliverable: int = 0
    transient_failures: int = 0
    per_bucket: Counter[str] = field(default_factory=Counter)
    _seen: set[str] = field(default_factory=set, repr=False)

    def phase(self, number: int) -> PhaseTimes:
        if number not in self.phases:
            self.phases[number] = PhaseTimes()
        return self.phases[number]

    def observe(self, kind: str, attempt: Attempt) -> None:
        self.calls[kind] += 1
        if attempt.counted:
            self.calls_counted += 1
        else:
            self.calls_exempt += 1
        if attempt.retry:
            self.retries += 1
        if attempt.rate_limit is not None:
            self.rate_limited[attempt.rate_limit] += 1

    def needed(self, counted: bool, bucket: str, key: str) -> None:
        """One logical call ``key`` to ``bucket`` (route kind + major parameter); a key seen
        before (the same item tried again later) is not a new need."""
        if key in self._seen:
            return
        self._seen.add(key)
        if counted:
            self.needed_counted += 1
        self.per_bucket[bucket] += 1

    def to_dict(self) -> dict[str, Any]:
        bound = lower_bound(self.needed_counted, self.global_limit)
        phase2 = self.phases.get(2)
        ends = [p.last for p in self.phases.values() if p.last is not None]
        makespan = (
            phase2.last
            if phase2 is not None and phase2.last is not None
            else max(ends, default=None)
        )
        return {
            "wave_id": self.wave_id,
            "strategy": self.strategy,
            "started_at": self.started_at,
            "state": self.state,
            "matches": self.matches,
            "players": self.players,
            "phase1": self.phase(1).to_dict(),
            "phase2": self.phase(2).to_dict(),
            "calls": dict(self.calls),
            "calls_counted": self.calls_counted,
            "calls_exempt": self.calls_exempt,
            "needed_counted": self.needed_counted,
            "rate_limited": dict(self.rate_limited),
            "retries": self.retries,
            "fallbacks": self.fallbacks,
            "undeliverable": self.undeliverable,
            "transient_failures": self.transient_failures,
            "max_calls_per_bucket": max(self.per_bucket.values(), default=0),
            "global_limit": self.global_limit,
            "lower_bound": bound,
            "makespan": _round(makespan),
            "ratio": _round(makespan / bound) if makespan is not None and bound > 0 else None,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
