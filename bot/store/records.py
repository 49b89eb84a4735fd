"""Plain values the store returns (rows the domain has no type for)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.ladder.notifications import Action, NotificationKind

__all__ = ["InteractionRef", "OutboxItem", "QueueCounts", "QueueRow", "ReplayRecord", "WaveRow"]


@dataclass(frozen=True, slots=True)
class InteractionRef:
    """The /queue interaction: phase 1 edits its original response through the webhook
    while `token` is fresh, then the same message by channel and id with the bot token."""

    token: str | None
    created_at: float | None
    channel_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    entry_id: int
    player_id: int
    bw_race: str | None
    sc2_race: str | None
    vetoes: tuple[str, ...]
    wait_cycles: int
    queued_at: float
    interaction: InteractionRef


@dataclass(frozen=True, slots=True)
class QueueCounts:
    bw_only: int
    sc2_only: int
    both: int

    @property
    def total(self) -> int:
        return self.bw_only + self.sc2_only + self.both


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    wave_id: int | None
    match_id: int | None
    scope: str
    player_id: int | None  # None: the admin channel
    kind: NotificationKind
    phase: int
    seq: int
    action: Action
    payload: dict[str, Any]
    nonce: str
    status: str  # pending | delivered | failed
    attempts: int
    last_error: str | None
    created_at: float
    delivered_at: float | None
    discord_message_id: int | None
    # Where to deliver: EDIT_SEARCHING uses the interaction token (while fresh) or the
    # channel/message; EDIT_DETAILS uses `target_message_id` (the delivered MATCH_DETAILS
    # message, resolved when read) in `dm_channel_id`; CREATE_DM uses `dm_channel_id`.
    interaction_token: str | None
    token_created_at: float | None
    target_channel_id: int | None
    target_message_id: int | None
    dm_channel_id: int | None


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    id: int
    match_id: int
    player_id: int
    name: str
    size: int
    sha256: str
    created_at: float


@dataclass(frozen=True, slots=True)
class WaveRow:
    id: int
    started_at: float
    queued: int
    matches: int
    skipped_no_map: int
    metrics: dict[str, Any]
