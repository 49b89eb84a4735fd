"""Pure measurements over the mock's ledger: the one place wave traffic is attributed.

The mock is the referee. Every figure the sandbox reports about rate limits and delivery
times (scenario expectations, `sandbox bench`, `sandbox audit`, the TUI's exported report)
is computed here from the mock's ledger (one record per API response, with the arrival
time the mock's engine judged; fields as `mockdiscord.ledger.LedgerEntry`) and, for
phase 1, from what the players see in their DMs. The helpers are pure functions over lists
of ledger dicts, so hand-built ledgers test them.

Window semantics match the mock's global limiter and `mockdiscord.stats`: a request that
arrives at `t` occupies the 1-second window `(t - 1, t]`, so a correct sliding-log limiter
at 50/s can never show a peak above 50.

Attributing a wave (`wave_delivery`)
------------------------------------
A wave owes each of its players two deliveries: phase 1, the edit of their searching
message into "Match #N found" (``PATCH .../messages/@original`` with the fresh /queue
token, exempt; or ``PATCH /channels/{id}/messages/{id}`` with the bot token once that
token has expired, counted), and phase 2, the match-details message (``POST
/channels/{id}/messages``, counted). The ledger does not say whose message a record is
for, and the ``/admin wave`` command's own reply (filling in its deferred message) is a
``PATCH @original`` too, inside the wave's window. Counting "the first N phase-1 route
records" would take that reply as a player's edit and skew phase-1 spread.

So phase-1 records are *matched* to the players' edits: the mock stamps a ledger record
when its engine judges the request and the message's ``edited_timestamp`` when the edit is
applied (within milliseconds), so both run in the same order. An order-preserving pairing
(dynamic programming over the two sorted lists, like an edit distance: a pair costs its
distance, at most ``within``, and an unpaired item on either side costs half of that)
keeps one record per edit, and the records paired with no edit (the admin reply) are
``left_out`` of every figure. The edit times come from the players' DMs
(`phase1_edit_times`): every message showing "Match #N found" was a searching message
edited by a wave, and is never edited again. Without DMs (a hand-built ledger, a light
snapshot) there is nothing to match against: the first phase-1 records are taken, and the
result says so (``matched=False``).
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "LEARN_ROUTE",
    "PHASE1_ROUTES",
    "PHASE2_ROUTES",
    "SCOPES",
    "Peak",
    "WaveDelivery",
    "counted_peak",
    "delivery_counts",
    "learnt_count",
    "lower_bound_s",
    "match_times",
    "owner_of",
    "phase1_edit_times",
    "rate_limited_by_scope",
    "route_key",
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
#: The bot reading back a /queue answer to learn its searching message's id.
LEARN_ROUTE = ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")

#: How a phase-1 edit reads in a player's DM (bot/views/searching.py).
_PHASE1_TEXT = re.compile(r"^\*\*Match #\d+ found\*\*")
_EPSILON = 1e-9


def successful(entry: Mapping[str, Any]) -> bool:
    status = entry.get("status")
    return isinstance(status, int) and 200 <= status < 300


def route_key(entry: Mapping[str, Any]) -> tuple[str, str]:
    """``(METHOD, route template)`` of a ledger record."""
    return str(entry.get("method", "")).upper(), str(entry.get("route", ""))


def owner_of(entry: Mapping[str, Any]) -> str:
    """Whose global budget a counted request used (as `mockdiscord.stats` groups them)."""
    app = entry.get("application_id")
    return str(app) if app is not None else f"ip:{entry.get('client_ip')}"


def _mono(entry: Mapping[str, Any]) -> float:
    return float(entry.get("at_monotonic", entry.get("at_wall", 0.0)))


# ------------------------------------------------------------------------- rate limits


@dataclass(frozen=True, slots=True)
class Peak:
    count: int
    at: float | None  # at_monotonic of the request that completed the peak window
    owner: str | None  # application id, or "ip:<client ip>" for tokenless requests


def counted_peak(ledger: Iterable[Mapping[str, Any]], window: float = 1.0) -> Peak:
    """The most counted requests of one owner within any `window` seconds."""
    logs: dict[str, deque[float]] = {}
    best = Peak(0, None, None)
    for entry in sorted((e for e in ledger if e.get("counted")), key=_mono):
        owner = owner_of(entry)
        now = _mono(entry)
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


def lower_bound_s(counted_calls: int, limit: int, period: float = 1.0) -> float:
    """The least time `counted_calls` calls can take under a `limit`-per-`period` global
    limit: `limit` go at once, then one more batch of `limit` every `period`."""
    if counted_calls <= 0 or limit <= 0:
        return 0.0
    return (math.ceil(counted_calls / limit) - 1) * period


# ------------------------------------------------------------------------- progress


def learnt_count(ledger: Iterable[Mapping[str, Any]]) -> int:
    """Searching messages the bot has learnt (successful ``GET @original`` reads)."""
    return sum(1 for e in ledger if successful(e) and route_key(e) == LEARN_ROUTE)


def delivery_counts(ledger: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """Successful (phase-1 route, phase-2 route) records: a cheap *progress* gauge for a
    wait loop (the ``/admin wave`` reply is among the phase-1 ones); figures come from
    `wave_delivery`."""
    one = two = 0
    for entry in ledger:
        if successful(entry):
            key = route_key(entry)
            one += key in PHASE1_ROUTES
            two += key in PHASE2_ROUTES
    return one, two


# ------------------------------------------------------------------------- attribution


def _iso_epoch(text: object) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def phase1_edit_times(dms: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[float]:
    """The mock's time of every phase-1 edit the players can see: the ``edited_timestamp``
    of each DM message that reads "Match #N found" (sorted)."""
    times: list[float] = []
    for messages in dms.values():
        for message in messages:
            if _PHASE1_TEXT.match(str(message.get("content") or "")):
                at = _iso_epoch(message.get("edited_timestamp"))
                if at is not None:
                    times.append(at)
    return sorted(times)


def _pair(times: Sequence[float], arrivals: Sequence[float], within: float) -> list[int]:
    """Indices into ``arrivals`` paired with ``times`` (both sorted), increasing: the
    order-preserving pairing of least total cost, where a pair costs its distance (at most
    ``within``) and leaving an item of either side unpaired costs ``within / 2``. So a pair
    is made only when it is closer than leaving both out, and one surplus record (the
    admin reply) never shifts every later pair by one."""
    n, m = len(times), len(arrivals)
    skip = within / 2
    inf = float("inf")
    cost = [[j * skip for j in range(m + 1)]] + [[inf] * (m + 1) for _ in range(n)]
    for i in range(1, n + 1):
        row, prev, t = cost[i], cost[i - 1], times[i - 1]
        row[0] = i * skip
        for j in range(1, m + 1):
            best = prev[j] + skip
            if row[j - 1] + skip < best:
                best = row[j - 1] + skip
            gap = abs(t - arrivals[j - 1])
            if gap <= within and prev[j - 1] + gap < best:
                best = prev[j - 1] + gap
            row[j] = best
    paired: list[int] = []
    i, j = n, m
    while i > 0 and j > 0:
        gap = abs(times[i - 1] - arrivals[j - 1])
        if gap <= within and cost[i][j] == cost[i - 1][j - 1] + gap:
            paired.append(j - 1)
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + skip:
            i -= 1
        else:
            j -= 1
    return paired[::-1]


def match_times(
    entries: Sequence[Mapping[str, Any]], times: Sequence[float], within: float = 0.5
) -> list[Mapping[str, Any]]:
    """The entries paired one-to-one, in order, with ``times`` (see `_pair` and the module
    docstring), sorted by arrival; every other entry stays out."""
    wanted = sorted(times)
    if not wanted:
        return []
    low, high = wanted[0] - within, wanted[-1] + within
    free = sorted(
        (e for e in entries if low <= float(e["at_wall"]) <= high),
        key=lambda e: float(e["at_wall"]),
    )
    return [free[j] for j in _pair(wanted, [float(e["at_wall"]) for e in free], within)]


@dataclass(frozen=True, slots=True)
class WaveDelivery:
    """One wave's notification traffic as the mock's ledger saw it.

    ``phase1`` / ``phase2`` are the ``at_wall`` times of the wave's successful phase-1
    edits and phase-2 creates, in arrival order, at most ``phase1_expected`` /
    ``players`` of each (fewer: some were never delivered in the window); ``surplus``
    counts the deliveries beyond those (a duplicate). ``counted`` / ``exempt`` are how many
    of the kept deliveries did / did not use global budget. ``left_out`` are the phase-1
    route records matched to no player's edit (the ``/admin wave`` reply); ``matched`` is
    False when no edit times were given, so phase 1 is the first records in the window.
    """

    started_at: float
    players: int
    phase1: tuple[float, ...]
    phase2: tuple[float, ...]
    counted: int
    exempt: int = 0
    phase1_expected: int | None = None
    surplus: int = 0
    left_out: tuple[Mapping[str, Any], ...] = ()
    matched: bool = False

    @property
    def want1(self) -> int:
        return self.players if self.phase1_expected is None else self.phase1_expected

    @property
    def complete(self) -> bool:
        return len(self.phase1) >= self.want1 and len(self.phase2) >= self.players

    @property
    def phase1_spread(self) -> float | None:
        if not self.phase1 or not self.want1:
            return None
        return self.phase1[-1] - self.phase1[0]

    @property
    def phase1_done(self) -> float | None:
        return self.phase1[-1] - self.started_at if self.phase1 and self.want1 else None

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
    phase1_times: Sequence[float] | None = None,
    phase1_expected: int | None = None,
    application_id: str | None = None,
) -> WaveDelivery:
    """Attribute ledger traffic to one wave of ``players`` players starting at
    ``started_at`` (wall clock) and ending before ``until`` (the next wave's start).

    ``phase1_times`` are the players' phase-1 edit times (`phase1_edit_times`); only those
    inside the window are matched. ``phase1_expected`` defaults to ``players`` (a peer
    that sends phase 2 only passes 0). ``application_id`` keeps one application's records.
    Phase-2 creates are taken in arrival order: a player can only act on a match after its
    details message, so the first ``players`` creates in the window are the wave's.
    """
    want1 = players if phase1_expected is None else phase1_expected
    window = sorted(
        (
            e
            for e in ledger
            if successful(e)
            and float(e["at_wall"]) >= started_at - _EPSILON
            and (until is None or float(e["at_wall"]) < until)
            and (application_id is None or str(e.get("application_id")) == str(application_id))
        ),
        key=_mono,
    )
    phase1 = [e for e in window if route_key(e) in PHASE1_ROUTES]
    phase2 = [e for e in window if route_key(e) in PHASE2_ROUTES]
    left_out: list[Mapping[str, Any]] = []
    if phase1_times is not None:
        times = [
            t
            for t in phase1_times
            if t >= started_at - _EPSILON and (until is None or t < until + _EPSILON)
        ]
        kept = match_times(phase1, times)
        kept_ids = {id(e) for e in kept}
        left_out = [e for e in phase1 if id(e) not in kept_ids]
        phase1 = kept
    surplus = max(0, len(phase1) - want1) + max(0, len(phase2) - players)
    chosen = phase1[:want1] + phase2[:players]
    counted = sum(1 for e in chosen if e.get("counted"))
    return WaveDelivery(
        started_at=started_at,
        players=players,
        phase1=tuple(float(e["at_wall"]) for e in phase1[:want1]),
        phase2=tuple(float(e["at_wall"]) for e in phase2[:players]),
        counted=counted,
        exempt=len(chosen) - counted,
        phase1_expected=phase1_expected,
        surplus=surplus,
        left_out=tuple(left_out),
        matched=phase1_times is not None,
    )
