"""Admin operations that need a rule or a notification (the store applies them).

`/admin wave` is `run_wave` on demand, and `resolve match result` is `match.resolve`; the
rest are here: the notifications for players removed from the queue (clear_queue, ban), the
checked MMR adjustment, and the announcement's recipients.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.ladder.notifications import Notification, NotificationKind
from bot.ladder.players import Player

__all__ = [
    "adjusted_mmr",
    "announcement_notifications",
    "announcement_recipients",
    "queue_removed_notifications",
]


def adjusted_mmr(mmr: int, delta: int) -> int:
    """`adjust_mmr user race delta`: the new rating, never below zero."""
    return max(0, mmr + delta)


def queue_removed_notifications(player_ids: Iterable[int], reason: str) -> list[Notification]:
    """Edits of the searching messages of players an admin removed ("cleared", "banned")."""
    return [
        Notification(NotificationKind.QUEUE_REMOVED, pid, None, {"reason": reason})
        for pid in player_ids
    ]


def announcement_recipients(players: Iterable[Player]) -> list[int]:
    """`announce text` goes to every registered player (banned ones too: it is news)."""
    return sorted(p.id for p in players)


def announcement_notifications(text: str, recipients: Sequence[int]) -> list[Notification]:
    """One background-phase DM per recipient (phase 3: paced like other bulk traffic)."""
    if not text.strip():
        raise ValueError("an announcement needs some text")
    return [
        Notification(NotificationKind.ANNOUNCEMENT, pid, None, {"text": text}) for pid in recipients
    ]
