"""Players, their state, and what a queue entry may contain.

A player's state is `idle` -> `queueing` -> `in_match(id)` -> `idle`. The store does not
keep a separate state column that could drift from the truth: the state is *derived* from
whether the player has a queue row or an open match (`PlayerStatus`). This module holds the
rules that read that status: who may queue, and which race/veto combinations are valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.ladder.config import LadderConfig
from bot.ladder.errors import Banned, InvalidQueueEntry, NotIdle
from bot.ladder.races import Game, Race

__all__ = [
    "Candidate",
    "Player",
    "PlayerState",
    "PlayerStatus",
    "QueueRequest",
    "check_can_queue",
    "make_queue_request",
]


@dataclass(frozen=True, slots=True)
class Player:
    id: int  # the Discord user id
    name: str
    country: str | None = None
    region: str | None = None
    remaining_aborts: int = 3
    banned: bool = False


class PlayerState(StrEnum):
    IDLE = "idle"
    QUEUEING = "queueing"
    IN_MATCH = "in_match"


@dataclass(frozen=True, slots=True)
class PlayerStatus:
    state: PlayerState
    match_id: int | None = None  # set only for IN_MATCH

    @classmethod
    def derive(cls, *, queued: bool, open_match_id: int | None) -> PlayerStatus:
        if open_match_id is not None:
            return cls(PlayerState.IN_MATCH, open_match_id)
        return cls(PlayerState.QUEUEING if queued else PlayerState.IDLE)


@dataclass(frozen=True, slots=True)
class QueueRequest:
    """A validated `/queue`: at most one race per game, at least one race, few vetoes."""

    bw_race: Race | None
    sc2_race: Race | None
    vetoes: tuple[str, ...] = ()


def make_queue_request(
    races: Iterable[Race], vetoes: Iterable[str], config: LadderConfig
) -> QueueRequest:
    """Validate the races and vetoes of a `/queue`; raises `InvalidQueueEntry`."""
    bw: Race | None = None
    sc2: Race | None = None
    for race in races:
        if race.game is Game.BW:
            if bw is not None and bw is not race:
                raise InvalidQueueEntry("pick at most one Brood War race")
            bw = race
        else:
            if sc2 is not None and sc2 is not race:
                raise InvalidQueueEntry("pick at most one StarCraft II race")
            sc2 = race
    if bw is None and sc2 is None:
        raise InvalidQueueEntry("pick at least one race")
    unique = tuple(dict.fromkeys(vetoes))
    if len(unique) > config.max_vetoes:
        raise InvalidQueueEntry(f"at most {config.max_vetoes} map vetoes")
    unknown = [m for m in unique if m not in config.maps]
    if unknown:
        raise InvalidQueueEntry(f"unknown map {unknown[0]!r}")
    return QueueRequest(bw, sc2, unique)


def check_can_queue(player: Player, status: PlayerStatus) -> None:
    """Only an idle, not-banned player may queue; raises `Banned` or `NotIdle`."""
    if player.banned:
        raise Banned("you are banned from the ladder")
    if status.state is PlayerState.QUEUEING:
        raise NotIdle("you are already in the queue")
    if status.state is PlayerState.IN_MATCH:
        raise NotIdle(f"you are in match #{status.match_id}")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A queued player as the matchmaker sees them (one row of the queue, ratings joined)."""

    player_id: int
    bw_race: Race | None
    sc2_race: Race | None
    bw_mmr: int
    sc2_mmr: int
    wait_cycles: int = 0
    queued_at: float = 0.0
    vetoes: tuple[str, ...] = ()
    region: str | None = None
    remaining_aborts: int = 3  # shown on the [Abort (k left)] button of the details message

    @property
    def plays_bw(self) -> bool:
        return self.bw_race is not None

    @property
    def plays_sc2(self) -> bool:
        return self.sc2_race is not None
