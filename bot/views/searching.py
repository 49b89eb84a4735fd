"""The searching message: the /queue answer that the heartbeat keeps fresh.

It shows the queue's head counts, the player's own races, the next wave as a Discord
relative timestamp (each client renders "in 12 seconds" in its own clock, so the text need
not change every second) and a [Leave queue] button. Phase 1 later turns the same message
into "Match #N found" and removes the button; a removal by an admin or /leave does too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.commands_spec import race_label
from bot.ladder.races import Race
from bot.store.records import QueueCounts
from bot.views import custom_ids
from bot.views.components import DANGER, button, row
from bot.views.message import MessageView, relative_time

__all__ = [
    "left_queue_message",
    "match_found_message",
    "queue_removed_message",
    "searching_message",
]

_REMOVAL_REASONS = {
    "cleared": "an admin cleared the queue",
    "banned": "you are banned from the ladder",
}


def _races(bw_race: str | None, sc2_race: str | None) -> str:
    names = [race_label(Race(r)) for r in (bw_race, sc2_race) if r]
    return " + ".join(names) if names else "no race"


def searching_message(
    counts: QueueCounts,
    next_wave: float | None,
    *,
    bw_race: str | None,
    sc2_race: str | None,
    vetoes: tuple[str, ...] = (),
) -> MessageView:
    when = relative_time(next_wave) if next_wave is not None else "when an admin starts one"
    lines = [
        "**Searching for a match…**",
        f"You queue as {_races(bw_race, sc2_race)}.",
        f"In the queue: {counts.total} players "
        f"({counts.bw_only} Brood War, {counts.sc2_only} StarCraft II, {counts.both} both).",
        f"Next wave: {when}.",
    ]
    if vetoes:
        lines.append("Vetoed maps: " + ", ".join(vetoes) + ".")
    return MessageView(
        content="\n".join(lines),
        components=(row(button("Leave queue", custom_ids.leave_queue(), style=DANGER)),),
    )


def match_found_message(payload: Mapping[str, Any]) -> MessageView:
    """Phase 1: the searching message becomes the headline of the match."""
    return MessageView(content=f"**Match #{payload['match_id']} found** — details follow.")


def queue_removed_message(payload: Mapping[str, Any]) -> MessageView:
    reason = str(payload.get("reason", ""))
    why = _REMOVAL_REASONS.get(reason, reason or "removed by an admin")
    return MessageView(content=f"You are no longer in the queue: {why}.")


def left_queue_message() -> MessageView:
    return MessageView(content="You left the queue.")
