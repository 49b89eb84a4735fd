"""What to tell whom, and in which order: the notification kinds.

The domain never renders a message. A state change returns `Notification` values: a kind,
the player (or the admin channel when `player_id` is None), the match, and a JSON-safe
payload of facts. The store writes them to the outbox in the same transaction as the state
change; the dispatcher renders and delivers them.

Exactly-once, in-order delivery rests on three properties defined here:

- `phase`: the outbox is drained in (phase, id) order. Phase 1 is the urgent "match found"
  edit of the searching message (it may use the fresh interaction token, which does not
  count toward the global limit), phase 2 everything else about matches and the queue,
  phase 3 background bulk traffic (announcements).
- `order`: a kind's place in one player's story of one match. A player's notifications for a
  match are numbered 1, 2, 3... (`seq`) by the store as they are written, and because the
  lifecycle only moves forward, `seq` order is also `order` order. A notification is
  deliverable only when all lower-`seq` notifications of the same (match, player) are
  settled: an edit of the details message cannot overtake the create that makes it.
- `action`: which message it touches, so the dispatcher knows the target without a lookup
  table of kinds: the searching message (webhook while the token is fresh), a new DM, the
  details message (edit by id, known once MATCH_DETAILS is delivered), or the admin channel.

`make_nonce` is the deterministic nonce of a notification (Discord's `nonce` is at most 25
characters, so the natural key "match:player:kind" is hashed to 25 hex digits).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Action", "Notification", "NotificationKind", "make_nonce"]


class Action(StrEnum):
    EDIT_SEARCHING = "edit_searching"  # the player's /queue "Searching..." message
    CREATE_DM = "create_dm"  # a new message in the player's DM channel
    EDIT_DETAILS = "edit_details"  # the MATCH_DETAILS message created earlier
    CREATE_ADMIN = "create_admin"  # a new message in the admin channel


class NotificationKind(StrEnum):
    """Kinds with (phase, order, action, repeatable). See the module docstring."""

    # value, phase, order, action, repeatable (may occur more than once per match and player)
    MATCH_FOUND = ("match_found", 1, 10, Action.EDIT_SEARCHING, False)
    MATCH_DETAILS = ("match_details", 2, 20, Action.CREATE_DM, False)
    CONFIRMED = ("confirmed", 2, 30, Action.EDIT_DETAILS, False)
    REPLAY_RECEIVED = ("replay_received", 2, 40, Action.EDIT_DETAILS, True)
    RESULT = ("result", 2, 50, Action.EDIT_DETAILS, False)
    ABORTED = ("aborted", 2, 50, Action.EDIT_DETAILS, False)
    CONFLICT = ("conflict", 2, 50, Action.EDIT_DETAILS, False)
    CONFLICT_RESOLVED = ("conflict_resolved", 2, 60, Action.EDIT_DETAILS, False)
    ADMIN_RESULT = ("admin_result", 2, 70, Action.CREATE_ADMIN, False)
    ADMIN_CONFLICT = ("admin_conflict", 2, 70, Action.CREATE_ADMIN, False)
    QUEUE_REMOVED = ("queue_removed", 2, 10, Action.EDIT_SEARCHING, False)
    ANNOUNCEMENT = ("announcement", 3, 10, Action.CREATE_DM, False)

    phase: int
    order: int
    action: Action
    repeatable: bool

    def __new__(
        cls, value: str, phase: int, order: int, action: Action, repeatable: bool
    ) -> NotificationKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.phase = phase
        member.order = order
        member.action = action
        member.repeatable = repeatable
        return member


@dataclass(frozen=True, slots=True)
class Notification:
    kind: NotificationKind
    player_id: int | None  # None: the admin channel
    match_id: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


def make_nonce(scope: str, player_id: int | None, kind: NotificationKind, seq: int = 0) -> str:
    """Deterministic 25-character nonce for (scope, player, kind).

    `scope` names the cause: "m<match id>", "a<announcement id>", "q<queue entry id>".
    `seq` is mixed in only for repeatable kinds, so a retried write of the same fact gets the
    same nonce while a second replay upload gets a new one.
    """
    who = "admin" if player_id is None else str(player_id)
    key = f"{scope}:{who}:{kind.value}"
    if kind.repeatable:
        key += f":{seq}"
    return hashlib.sha256(key.encode()).hexdigest()[:25]
