"""One look at the whole sandbox, as plain data, plus pure measurements over the ledger.

The mock is the referee: every figure a scenario asserts about rate limits and delivery
times is computed here from the mock's ledger (one record per API response, with the
arrival time the mock's engine judged) or from what the players see in their DMs. The bot's
own status is carried along for context and for the one thing only the bot knows: when it
started a wave. Nothing here trusts the bot's counts of calls, 429s or delivery times.

The helpers are pure functions over lists of ledger dicts (the JSON lines of
`GET /_mock/ledger`, fields as `mockdiscord.ledger.LedgerEntry`), so the expectations and
the benchmark can share them and tests can feed them hand-built ledgers.

Window semantics match the mock's global limiter and `mockdiscord.stats`: a request that
arrives at `t` occupies the 1-second window `(t - 1, t]`, so a correct sliding-log limiter
at 50/s can never show a peak above 50.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PHASE1_ROUTES",
    "PHASE2_ROUTES",
    "SCOPES",
    "Peak",
    "Snapshot",
    "WaveDelivery",
    "counted_peak",
    "lower_bound_s",
    "makespan",
    "messages_per_player",
    "owner_of",
    "rate_limited_by_scope",
    "successful",
    "wave_delivery",
]

#: 429 scopes as the mock's stats count them ("ban": a 429 from an IP ban).
SCOPES = ("global", "user", "shared", "ban")

#: The edit of a player's searching message: through the interaction webhook while the
#: /queue token is fresh, else by channel and message id with the bot token.
PHASE1_ROUTES = frozenset(
    {
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    }
)
#: The match-details message: a new message in the player's DM channel.
PHASE2_ROUTES = frozenset({("POST", "/channels/{channel_id}/messages")})

_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Snapshot:
    """State and metrics at one instant (see notes/SANDBOX_API.md)."""

    mock_stats: dict[str, Any] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    bot_status: dict[str, Any] = field(default_factory=dict)
    dms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    players: dict[str, dict[str, Any]] = field(default_factory=dict)
    application_id: str = ""

    def waves(self) -> list[dict[str, Any]]:
        """The bot's wave records, oldest first (by `started_at`, then `wave_id`).

        Read from `dispatch.waves` (notes/SANDBOX_API.md) and from the dispatcher's
        `dispatch.current_waves` / `dispatch.recent_waves`; one record per `wave_id`.
        """
        dispatch = self.bot_status.get("dispatch") or {}
        by_id: dict[Any, dict[str, Any]] = {}
        for key in ("waves", "recent_waves", "current_waves"):
            for wave in dispatch.get(key) or []:
                if isinstance(wave, dict):
                    by_id[wave.get("wave_id", id(wave))] = wave
        return sorted(
            by_id.values(),
            key=lambda w: (float(w.get("started_at") or 0.0), _as_int(w.get("wave_id"))),
        )


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True, slots=True)
class Peak:
    count: int
    at: float | None  # at_monotonic of the request that completed the peak window
    owner: str | None  # application id, or "ip:<client ip>" for tokenless requests


def successful(entry: Mapping[str, Any]) -> bool:
    status = entry.get("status")
    return isinstance(status, int) and 200 <= status < 300


def owner_of(entry: Mapping[str, Any]) -> str:
    """Whose global budget a counted request used (as `mockdiscord.stats` groups them)."""
    app = entry.get("application_id")
    return str(app) if app is not None else f"ip:{entry.get('client_ip')}"


def counted_peak(ledger: Iterable[Mapping[str, Any]], window: float = 1.0) -> Peak:
    """The most counted requests of one owner within any `window` seconds."""
    logs: dict[str, deque[float]] = {}
    best = Peak(0, None, None)
    entries = sorted(
        (e for e in ledger if e.get("counted")), key=lambda e: float(e["at_monotonic"])
    )
    for entry in entries:
        owner = owner_of(entry)
        now = float(entry["at_monotonic"])
        log = logs.setdefault(owner, deque())
        edge = now - window + _EPSILON
        while log and log[0] <= edge:
            log.popleft()
        log.append(now)
        if len(log) > best.count:
            best = Peak(len(log), now, owner)
    return best


def rate_limited_by_scope(ledger: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """429 responses in the ledger by scope; a ban's 429 counts as "ban" only."""
    counts = dict.fromkeys(SCOPES, 0)
    for entry in ledger:
        if entry.get("status") != 429:
            continue
        if entry.get("banned"):
            counts["ban"] += 1
        else:
            scope = entry.get("scope")
            if scope in counts:
                counts[scope] += 1
    return counts


def makespan(ledger: Iterable[Mapping[str, Any]], start_wall: float) -> float | None:
    """Seconds from `start_wall` to the last successful response at or after it."""
    times = [
        float(e["at_wall"])
        for e in ledger
        if successful(e) and float(e["at_wall"]) >= start_wall - _EPSILON
    ]
    return max(times) - start_wall if times else None


def messages_per_player(dms: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, int]:
    """How many messages each player's DM channel holds, as the mock shows it."""
    return {player: len(messages) for player, messages in dms.items()}


@dataclass(frozen=True, slots=True)
class WaveDelivery:
    """One wave's notification traffic as the mock's ledger saw it.

    `phase1` / `phase2` hold the `at_wall` times of the first `players` successful
    phase-1 edits and phase-2 creates at or after the wave's start (and before the next
    wave's start), in arrival order; fewer means some were never delivered in the window.
    `counted` is how many of those deliveries used global budget.
    """

    started_at: float
    players: int
    phase1: tuple[float, ...]
    phase2: tuple[float, ...]
    counted: int

    @property
    def complete(self) -> bool:
        return len(self.phase1) >= self.players and len(self.phase2) >= self.players

    @property
    def phase1_spread(self) -> float | None:
        if not self.phase1:
            return None
        return self.phase1[-1] - self.phase1[0]

    @property
    def phase1_done(self) -> float | None:
        return self.phase1[-1] - self.started_at if self.phase1 else None

    @property
    def makespan(self) -> float | None:
        times = self.phase1 + self.phase2
        return max(times) - self.started_at if times else None


def wave_delivery(
    ledger: Iterable[Mapping[str, Any]],
    *,
    started_at: float,
    players: int,
    until: float | None = None,
) -> WaveDelivery:
    """Attribute ledger traffic to one wave of `players` players starting at `started_at`.

    Every strategy drains phase 1 before (or together with) phase 2, and a player can only
    act on a match after its phase-2 message, so the first `players` successful phase-1
    route responses after the start are that wave's phase-1 edits, and the first `players`
    message creates are its phase-2 messages. `until` (the next wave's start) closes the
    window so a later wave's traffic is never attributed to this one.
    """
    phase1: list[float] = []
    phase2: list[float] = []
    counted = 0
    entries = sorted(
        (e for e in ledger if successful(e)), key=lambda e: float(e.get("at_monotonic", 0.0))
    )
    for entry in entries:
        at = float(entry["at_wall"])
        if at < started_at - _EPSILON or (until is not None and at >= until):
            continue
        key = (str(entry.get("method", "")).upper(), str(entry.get("route", "")))
        if key in PHASE1_ROUTES and len(phase1) < players:
            phase1.append(at)
        elif key in PHASE2_ROUTES and len(phase2) < players:
            phase2.append(at)
        else:
            continue
        counted += bool(entry.get("counted"))
    return WaveDelivery(started_at, players, tuple(phase1), tuple(phase2), counted)


def lower_bound_s(counted_calls: int, limit: int, period: float = 1.0) -> float:
    """The least time `counted_calls` calls can take under a `limit`-per-`period` global
    limit: `limit` go at once, then one more batch of `limit` every `period`."""
    if counted_calls <= 0 or limit <= 0:
        return 0.0
    return (math.ceil(counted_calls / limit) - 1) * period
