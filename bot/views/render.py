"""`render(item)`: the renderer the dispatcher calls for each outbox item.

It maps a notification kind to its view and returns only the message body
(`OutgoingCall`); the dispatcher picks the route, the nonce and the lane from the item's
action. Pure and synchronous: the payload the domain wrote holds every fact the message
shows, so rendering needs no lookup and a redelivered item draws the same message.
"""

from __future__ import annotations

from bot.ladder.notifications import NotificationKind
from bot.notify.types import OutgoingCall
from bot.store.records import OutboxItem
from bot.views.match import admin_message, match_message
from bot.views.message import MessageView
from bot.views.searching import match_found_message, queue_removed_message

__all__ = ["render", "render_view"]

_MATCH_EDITS = frozenset(
    {
        NotificationKind.CONFIRMED,
        NotificationKind.REPLAY_RECEIVED,
        NotificationKind.RESULT,
        NotificationKind.ABORTED,
        NotificationKind.CONFLICT,
        NotificationKind.CONFLICT_RESOLVED,
    }
)


def render_view(item: OutboxItem) -> MessageView:
    kind = item.kind
    payload = item.payload
    if kind is NotificationKind.MATCH_FOUND:
        return match_found_message(payload)
    if kind is NotificationKind.QUEUE_REMOVED:
        return queue_removed_message(payload)
    if kind is NotificationKind.MATCH_DETAILS:
        aborts = payload.get("remaining_aborts")
        return match_message(payload, remaining_aborts=int(aborts) if aborts is not None else None)
    if kind in _MATCH_EDITS:
        return match_message(payload)
    if kind in (NotificationKind.ADMIN_RESULT, NotificationKind.ADMIN_CONFLICT):
        return admin_message(kind.value, payload)
    if kind is NotificationKind.ANNOUNCEMENT:
        return MessageView(content=f"**Announcement**\n{payload.get('text', '')}")
    raise ValueError(f"no view for notification kind {kind.value!r}")


def render(item: OutboxItem) -> OutgoingCall:
    return render_view(item).outgoing()
