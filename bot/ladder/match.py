"""The match state machine, as pure transitions.

States and deadlines (every open state has one, so no match is ever stuck):

    FOUND ──both confirm──> CONFIRMED ──reports agree────> COMPLETED   (ratings change)
      │                        │ └──reports disagree──> CONFLICT    (players released;
      │                        │                                       an admin resolves)
      │                        └─deadline: 1 report -> CONFLICT, 0 reports -> ABORTED
      ├─a player's [Abort] (uses one of THEIR aborts) ──> ABORTED
      └─confirm deadline (60 s) ─> ABORTED (reason CONFIRM_TIMEOUT, nobody loses an abort)

    CONFLICT ──admin resolve──> COMPLETED (or ABORTED when voided)

FOUND and CONFIRMED are the *open* states: the players are `in_match`. COMPLETED, ABORTED
and CONFLICT release the players; CONFLICT waits for an admin but holds nobody hostage.
The report deadline (`report_timeout_s`) turns a half-reported match into a CONFLICT (one
player's claim is not enough to move ratings, but it deserves an admin's look) and an
unreported one into ABORTED (nobody played, or nobody cares: no rating change).

Every transition takes the current `Match` and plain `now` (Unix seconds; deadlines are
wall-clock so they survive a restart) and returns a `Transition`: the new match (its
`version` bumped, for optimistic concurrency in the store), the notifications to write to
the outbox, and the side effects on players (`RatingChange`, `AbortUsed`). The app layer
persists the whole `Transition` in one transaction (`Store.apply_transition`) and lets the
dispatcher deliver; it never edits a match by hand.

Player 1 is always the Brood War player and player 2 the StarCraft II player.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.ladder.config import LadderConfig
from bot.ladder.elo import Outcome, updated_ratings
from bot.ladder.errors import (
    AlreadyConfirmed,
    NoAbortsLeft,
    NotAPlayerOfMatch,
    WrongMatchState,
)
from bot.ladder.notifications import Notification, NotificationKind
from bot.ladder.races import Race

__all__ = [
    "AbortUsed",
    "Effect",
    "EndReason",
    "Match",
    "MatchPlayer",
    "MatchState",
    "RatingChange",
    "Report",
    "Transition",
    "abort",
    "confirm",
    "expire",
    "match_view",
    "replay_received",
    "report",
    "resolve",
]


class MatchState(StrEnum):
    FOUND = "found"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    ABORTED = "aborted"
    CONFLICT = "conflict"

    @property
    def is_open(self) -> bool:
        return self in (MatchState.FOUND, MatchState.CONFIRMED)


class EndReason(StrEnum):
    REPORTS_AGREE = "reports_agree"
    REPORTS_DISAGREE = "reports_disagree"
    PLAYER_ABORT = "player_abort"
    CONFIRM_TIMEOUT = "confirm_timeout"
    REPORT_TIMEOUT = "report_timeout"
    ADMIN_RESOLVED = "admin_resolved"
    ADMIN_VOIDED = "admin_voided"


class Report(StrEnum):
    """A player's own claim about the game (the result select)."""

    WIN = "win"
    LOSS = "loss"
    DRAW = "draw"


@dataclass(frozen=True, slots=True)
class MatchPlayer:
    player_id: int
    race: Race
    mmr: int  # the rating at match time: shown to players, and the base of the Elo update
    confirmed: bool = False
    report: Report | None = None


@dataclass(frozen=True, slots=True)
class Match:
    id: int
    wave_id: int | None
    p1: MatchPlayer  # Brood War
    p2: MatchPlayer  # StarCraft II
    map: str
    server: str
    created_at: float
    state: MatchState = MatchState.FOUND
    deadline: float | None = None  # of the current open state; None once final
    version: int = 0
    end_reason: EndReason | None = None
    aborted_by: int | None = None
    outcome: Outcome | None = None
    ended_at: float | None = None

    def side(self, player_id: int) -> int:
        """1 or 2; raises `NotAPlayerOfMatch` for anybody else."""
        if player_id == self.p1.player_id:
            return 1
        if player_id == self.p2.player_id:
            return 2
        raise NotAPlayerOfMatch(f"you are not a player of match #{self.id}")

    def player(self, side: int) -> MatchPlayer:
        return self.p1 if side == 1 else self.p2

    @property
    def player_ids(self) -> tuple[int, int]:
        return (self.p1.player_id, self.p2.player_id)


@dataclass(frozen=True, slots=True)
class RatingChange:
    player_id: int
    race: Race
    before: int
    after: int
    result: Report  # from this player's point of view

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class AbortUsed:
    player_id: int


Effect = RatingChange | AbortUsed


@dataclass(frozen=True, slots=True)
class Transition:
    match: Match
    notifications: tuple[Notification, ...] = ()
    effects: tuple[Effect, ...] = ()

    @property
    def expected_version(self) -> int:
        """The version the stored match must still have for this transition to apply."""
        return self.match.version - 1


def match_view(match: Match, player_id: int) -> dict[str, Any]:
    """The JSON-safe facts one player's match message shows; every match payload carries it.

    Each edit payload is a complete view, so the renderer never needs earlier payloads and
    a redelivered edit after a restart shows the same content.
    """
    side = match.side(player_id)
    you, opp = match.player(side), match.player(3 - side)
    return {
        "match_id": match.id,
        "state": match.state.value,
        "map": match.map,
        "server": match.server,
        "deadline": match.deadline,
        "end_reason": match.end_reason.value if match.end_reason else None,
        "aborted_by": match.aborted_by,
        "outcome": _outcome_for(match.outcome, side),
        "you": _player_json(you),
        "opponent": _player_json(opp),
    }


def admin_view(match: Match) -> dict[str, Any]:
    return {
        "match_id": match.id,
        "state": match.state.value,
        "map": match.map,
        "server": match.server,
        "end_reason": match.end_reason.value if match.end_reason else None,
        "outcome": match.outcome.value if match.outcome else None,
        "p1": _player_json(match.p1),
        "p2": _player_json(match.p2),
    }


def confirm(match: Match, player_id: int, now: float, config: LadderConfig) -> Transition:
    """A player's [Confirm]. The second one moves the match to CONFIRMED (report deadline).

    The first confirmation emits nothing: the click itself is answered by the app with a
    type-7 update that disables that player's buttons.
    """
    side = match.side(player_id)
    _require_open_state(match, MatchState.FOUND, now, "confirmation")
    if match.player(side).confirmed:
        raise AlreadyConfirmed("you already confirmed this match")
    updated = _with_player(match, side, confirmed=True)
    if not updated.player(3 - side).confirmed:
        return Transition(_bump(updated))
    confirmed = _bump(updated, state=MatchState.CONFIRMED, deadline=now + config.report_timeout_s)
    return Transition(confirmed, _to_both(confirmed, NotificationKind.CONFIRMED))


def abort(match: Match, player_id: int, remaining_aborts: int, now: float) -> Transition:
    """A player's [Abort] before confirming: costs that player one abort, no rating change."""
    side = match.side(player_id)
    _require_open_state(match, MatchState.FOUND, now, "confirmation")
    if match.player(side).confirmed:
        raise AlreadyConfirmed("you already confirmed this match")
    if remaining_aborts <= 0:
        raise NoAbortsLeft("you have no aborts left")
    ended = _end(match, MatchState.ABORTED, EndReason.PLAYER_ABORT, now, aborted_by=player_id)
    return Transition(
        ended,
        _to_both(ended, NotificationKind.ABORTED),
        (AbortUsed(player_id),),
    )


def report(
    match: Match, player_id: int, claim: Report, now: float, config: LadderConfig
) -> Transition:
    """A player's result select. The second report completes the match or makes a conflict."""
    side = match.side(player_id)
    _require_open_state(match, MatchState.CONFIRMED, now, "reporting")
    if match.player(side).report is not None:
        raise WrongMatchState("you already reported this match")
    updated = _with_player(match, side, report=claim)
    other = updated.player(3 - side).report
    if other is None:
        return Transition(_bump(updated))
    outcome = _agreed_outcome(updated.p1.report, updated.p2.report)
    if outcome is None:
        return _conflict(updated, EndReason.REPORTS_DISAGREE, now)
    return _complete(updated, outcome, EndReason.REPORTS_AGREE, now, config)


def expire(match: Match, now: float) -> Transition | None:
    """The deadline sweep: the transition for a match whose deadline has passed, else None.

    FOUND -> ABORTED (CONFIRM_TIMEOUT; nobody is charged an abort). CONFIRMED -> CONFLICT if
    exactly one player reported, else ABORTED (REPORT_TIMEOUT). Call it for every match the
    store lists as due (`Store.due_matches(now)`), on a timer and once after a restart.
    """
    if not match.state.is_open or match.deadline is None or now < match.deadline:
        return None
    if match.state is MatchState.FOUND:
        ended = _end(match, MatchState.ABORTED, EndReason.CONFIRM_TIMEOUT, now)
        return Transition(ended, _to_both(ended, NotificationKind.ABORTED))
    if (match.p1.report is None) != (match.p2.report is None):
        return _conflict(match, EndReason.REPORT_TIMEOUT, now)
    ended = _end(match, MatchState.ABORTED, EndReason.REPORT_TIMEOUT, now)
    return Transition(ended, _to_both(ended, NotificationKind.ABORTED))


def resolve(match: Match, outcome: Outcome | None, now: float, config: LadderConfig) -> Transition:
    """Admin `resolve match result`: from CONFLICT (or a stalled CONFIRMED match).

    `outcome` None voids the match (ABORTED, no rating change, nobody charged an abort).
    """
    if match.state not in (MatchState.CONFLICT, MatchState.CONFIRMED):
        raise WrongMatchState(
            f"match #{match.id} is {match.state.value}; only conflicted or confirmed "
            "matches can be resolved"
        )
    kind = (
        NotificationKind.CONFLICT_RESOLVED
        if match.state is MatchState.CONFLICT
        else NotificationKind.RESULT
    )
    if outcome is None:
        ended = _end(match, MatchState.ABORTED, EndReason.ADMIN_VOIDED, now)
        return Transition(ended, (*_to_both(ended, kind), _to_admin(ended)))
    return _complete(match, outcome, EndReason.ADMIN_RESOLVED, now, config, kind=kind)


def replay_received(match: Match, player_id: int, replay: Mapping[str, Any]) -> Transition:
    """`/replay` stored against the match: that player's match message says so.

    `replay` is the JSON-safe description (name, size, sha256) put in the payload. The match
    itself does not change state, but its version is bumped so the edit is ordered with the
    other writes of this match.
    """
    match.side(player_id)
    if match.state is MatchState.ABORTED:
        raise WrongMatchState(f"match #{match.id} was aborted")
    updated = _bump(match)
    payload = {**match_view(updated, player_id), "replay": dict(replay)}
    return Transition(
        updated,
        (Notification(NotificationKind.REPLAY_RECEIVED, player_id, match.id, payload),),
    )


# --- internals ----------------------------------------------------------------------------


def _player_json(p: MatchPlayer) -> dict[str, Any]:
    return {
        "player_id": p.player_id,
        "race": p.race.value,
        "mmr": p.mmr,
        "confirmed": p.confirmed,
        "report": p.report.value if p.report else None,
    }


def _outcome_for(outcome: Outcome | None, side: int) -> str | None:
    if outcome is None:
        return None
    if outcome is Outcome.DRAW:
        return Report.DRAW.value
    won = (outcome is Outcome.P1_WIN) == (side == 1)
    return (Report.WIN if won else Report.LOSS).value


def _require_open_state(match: Match, state: MatchState, now: float, what: str) -> None:
    if match.state is not state:
        raise WrongMatchState(f"match #{match.id} is {match.state.value}")
    if match.deadline is not None and now >= match.deadline:
        raise WrongMatchState(f"the {what} time of match #{match.id} is over")


def _bump(match: Match, **changes: Any) -> Match:
    return dataclasses.replace(match, version=match.version + 1, **changes)


def _with_player(match: Match, side: int, **changes: Any) -> Match:
    player = dataclasses.replace(match.player(side), **changes)
    return dataclasses.replace(match, **{f"p{side}": player})


def _end(
    match: Match,
    state: MatchState,
    reason: EndReason,
    now: float,
    *,
    aborted_by: int | None = None,
    outcome: Outcome | None = None,
) -> Match:
    return _bump(
        match,
        state=state,
        deadline=None,
        end_reason=reason,
        aborted_by=aborted_by,
        outcome=outcome,
        ended_at=now,
    )


def _to_both(match: Match, kind: NotificationKind) -> tuple[Notification, ...]:
    return tuple(
        Notification(kind, pid, match.id, match_view(match, pid)) for pid in match.player_ids
    )


def _to_admin(match: Match, kind: NotificationKind = NotificationKind.ADMIN_RESULT) -> Notification:
    return Notification(kind, None, match.id, admin_view(match))


def _agreed_outcome(r1: Report | None, r2: Report | None) -> Outcome | None:
    pairs = {
        (Report.WIN, Report.LOSS): Outcome.P1_WIN,
        (Report.LOSS, Report.WIN): Outcome.P2_WIN,
        (Report.DRAW, Report.DRAW): Outcome.DRAW,
    }
    if r1 is None or r2 is None:
        return None
    return pairs.get((r1, r2))


def _conflict(match: Match, reason: EndReason, now: float) -> Transition:
    ended = _end(match, MatchState.CONFLICT, reason, now)
    return Transition(
        ended,
        (
            *_to_both(ended, NotificationKind.CONFLICT),
            _to_admin(ended, NotificationKind.ADMIN_CONFLICT),
        ),
    )


def _complete(
    match: Match,
    outcome: Outcome,
    reason: EndReason,
    now: float,
    config: LadderConfig,
    *,
    kind: NotificationKind = NotificationKind.RESULT,
) -> Transition:
    new1, new2 = updated_ratings(
        match.p1.mmr, match.p2.mmr, outcome, config.elo_k, config.elo_divisor
    )
    ended = _end(match, MatchState.COMPLETED, reason, now, outcome=outcome)
    r1 = Report(_outcome_for(outcome, 1))
    r2 = Report(_outcome_for(outcome, 2))
    effects = (
        RatingChange(match.p1.player_id, match.p1.race, match.p1.mmr, new1, r1),
        RatingChange(match.p2.player_id, match.p2.race, match.p2.mmr, new2, r2),
    )
    notes = []
    for change in effects:
        payload = {**match_view(ended, change.player_id), "mmr_before": change.before}
        payload["mmr_after"] = change.after
        notes.append(Notification(kind, change.player_id, match.id, payload))
    admin = dict(admin_view(ended), p1_mmr_after=new1, p2_mmr_after=new2)
    notes.append(Notification(NotificationKind.ADMIN_RESULT, None, match.id, admin))
    return Transition(ended, tuple(notes), effects)
