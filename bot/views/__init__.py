"""How the bot's messages look: pure functions from domain facts to Discord message bodies.

`render` is the dispatcher's renderer (outbox item -> `OutgoingCall`); the handlers use the
same views for their interaction responses, so a state looks the same however it reaches a
player. `custom_ids` builds and parses the ids of every button and select.
"""

from bot.views.leaderboard import leaderboard_message
from bot.views.match import admin_message, match_message
from bot.views.message import EPHEMERAL, MessageView, relative_time
from bot.views.profile import profile_message
from bot.views.render import render, render_view
from bot.views.searching import (
    left_queue_message,
    match_found_message,
    queue_removed_message,
    searching_message,
)

__all__ = [
    "EPHEMERAL",
    "MessageView",
    "admin_message",
    "leaderboard_message",
    "left_queue_message",
    "match_found_message",
    "match_message",
    "profile_message",
    "queue_removed_message",
    "relative_time",
    "render",
    "render_view",
    "searching_message",
]
