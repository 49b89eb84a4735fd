"""Waves: when they run, and what one wave produces.

Waves fall on multiples of the interval in Unix time. Aligning to Unix time (not to the
bot's start) means every restart and every player's "next wave" timestamp agree without
coordination.

`run_wave` turns the queue into a `WaveResult`: the new matches (ids allocated from
`first_match_id`, in pairing order), the players who stay queued (their `wait_cycles` grow
by one; the window of *this* wave used the value before the increment, so a player's first
wave uses `wait_cycles == 0`), and the pairs skipped for lack of a map.
`wave_notifications` lists what the players must be told, which the app hands to
`Store.apply_wave(result, notifications)` so the matches, the queue removal and the outbox
are written in one transaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.ladder.config import LadderConfig
from bot.ladder.match import Match, MatchPlayer, match_view
from bot.ladder.matchmaker import Pairing, find_pairings
from bot.ladder.notifications import Notification, NotificationKind
from bot.ladder.players import Candidate

__all__ = ["WaveResult", "next_wave_at", "run_wave", "start_match", "wave_notifications"]


def next_wave_at(now_unix: float, interval: float) -> float | None:
    """The first wave time strictly after `now_unix`, or None when `interval` is 0 (manual).

    A wave that is exactly due at `now_unix` is considered run, so a scheduler that wakes at
    the boundary and calls this again gets the *next* boundary, never the same one twice.
    """
    if interval < 0:
        raise ValueError("interval must be >= 0")
    if interval == 0:
        return None
    return (math.floor(now_unix / interval) + 1) * interval


@dataclass(frozen=True, slots=True)
class WaveResult:
    wave_id: int
    started_at: float
    queued: int  # players in the queue when the wave ran
    matches: tuple[Match, ...]
    still_queued: tuple[int, ...]  # player ids whose wait_cycles grow by one
    skipped_no_map: tuple[tuple[int, int], ...]
    remaining_aborts: dict[int, int]  # per matched player, for the details message

    @property
    def matched_players(self) -> tuple[int, ...]:
        return tuple(pid for m in self.matches for pid in m.player_ids)


def start_match(
    match_id: int, wave_id: int | None, pairing: Pairing, now: float, config: LadderConfig
) -> Match:
    """A FOUND match for a pairing, with the confirmation deadline."""
    return Match(
        id=match_id,
        wave_id=wave_id,
        p1=MatchPlayer(pairing.bw.player_id, pairing.bw_race, pairing.bw.bw_mmr),
        p2=MatchPlayer(pairing.sc2.player_id, pairing.sc2_race, pairing.sc2.sc2_mmr),
        map=pairing.map,
        server=pairing.server,
        created_at=now,
        deadline=now + config.confirm_timeout_s,
    )


def run_wave(
    candidates: Sequence[Candidate],
    config: LadderConfig,
    *,
    now: float,
    wave_id: int,
    first_match_id: int,
) -> WaveResult:
    """Match the queue (pure; the map choice is seeded by `wave_id`)."""
    found = find_pairings(candidates, config, seed=wave_id)
    matches = tuple(
        start_match(first_match_id + i, wave_id, pairing, now, config)
        for i, pairing in enumerate(found.pairings)
    )
    aborts = {c.player_id: c.remaining_aborts for p in found.pairings for c in (p.bw, p.sc2)}
    return WaveResult(
        wave_id=wave_id,
        started_at=now,
        queued=len(candidates),
        matches=matches,
        still_queued=found.unmatched,
        skipped_no_map=found.skipped_no_map,
        remaining_aborts=aborts,
    )


def wave_notifications(result: WaveResult) -> list[Notification]:
    """Per matched player: phase-1 MATCH_FOUND, then phase-2 MATCH_DETAILS."""
    found: list[Notification] = []
    details: list[Notification] = []
    for match in result.matches:
        for pid in match.player_ids:
            view = match_view(match, pid)
            found.append(Notification(NotificationKind.MATCH_FOUND, pid, match.id, view))
            payload = {**view, "remaining_aborts": result.remaining_aborts.get(pid, 0)}
            details.append(Notification(NotificationKind.MATCH_DETAILS, pid, match.id, payload))
    return [*found, *details]
