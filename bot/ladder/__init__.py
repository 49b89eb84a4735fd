"""The ladder's pure domain: rules with no I/O, no asyncio and no clock reads.

Time comes in as plain `now` values (Unix seconds, e.g. `bot.clock.Clock.wall()`), and every
state change comes out as a value: a `WaveResult` or a `Transition` (the new match, the
notifications to write to the outbox, the effects on ratings and aborts). The app layer
persists those values with `bot.store.Store` in one transaction each and lets the
dispatcher deliver the outbox. Keeping the rules pure makes them testable with explicit
times and keeps the store and the Discord client free of ladder logic.

Modules: `races`, `config` (every number), `elo`, `players` (state and queue rules),
`matchmaker`, `waves` (timing, one wave's result), `match` (the state machine),
`notifications` (kinds, phases, order, nonces), `leaderboard`, `admin`, `errors`.
"""

from bot.ladder.admin import (
    adjusted_mmr,
    announcement_notifications,
    announcement_recipients,
    queue_removed_notifications,
)
from bot.ladder.config import LadderConfig
from bot.ladder.elo import Outcome, expected_score, updated_ratings
from bot.ladder.errors import (
    AlreadyConfirmed,
    Banned,
    InvalidQueueEntry,
    LadderError,
    NoAbortsLeft,
    NotAPlayerOfMatch,
    NotIdle,
    WrongMatchState,
)
from bot.ladder.leaderboard import (
    LeaderboardLine,
    LeaderboardPage,
    RatingRow,
    leaderboard_page,
    rank_letter,
)
from bot.ladder.match import (
    AbortUsed,
    Effect,
    EndReason,
    Match,
    MatchPlayer,
    MatchState,
    RatingChange,
    Report,
    Transition,
    abort,
    confirm,
    expire,
    match_view,
    replay_received,
    report,
    resolve,
)
from bot.ladder.matchmaker import Pairing, WavePairings, balance_sides, find_pairings
from bot.ladder.notifications import Action, Notification, NotificationKind, make_nonce
from bot.ladder.players import (
    Candidate,
    Player,
    PlayerState,
    PlayerStatus,
    QueueRequest,
    check_can_queue,
    make_queue_request,
)
from bot.ladder.races import Game, Race
from bot.ladder.waves import WaveResult, next_wave_at, run_wave, start_match, wave_notifications

__all__ = [
    "AbortUsed",
    "Action",
    "AlreadyConfirmed",
    "Banned",
    "Candidate",
    "Effect",
    "EndReason",
    "Game",
    "InvalidQueueEntry",
    "LadderConfig",
    "LadderError",
    "LeaderboardLine",
    "LeaderboardPage",
    "Match",
    "MatchPlayer",
    "MatchState",
    "NoAbortsLeft",
    "NotAPlayerOfMatch",
    "NotIdle",
    "Notification",
    "NotificationKind",
    "Outcome",
    "Pairing",
    "Player",
    "PlayerState",
    "PlayerStatus",
    "QueueRequest",
    "Race",
    "RatingChange",
    "RatingRow",
    "Report",
    "Transition",
    "WavePairings",
    "WaveResult",
    "WrongMatchState",
    "abort",
    "adjusted_mmr",
    "announcement_notifications",
    "announcement_recipients",
    "balance_sides",
    "check_can_queue",
    "confirm",
    "expected_score",
    "expire",
    "find_pairings",
    "leaderboard_page",
    "make_nonce",
    "make_queue_request",
    "match_view",
    "next_wave_at",
    "queue_removed_notifications",
    "rank_letter",
    "replay_received",
    "report",
    "resolve",
    "run_wave",
    "start_match",
    "updated_ratings",
    "wave_notifications",
]
