"""The match message in a player's DM, for every state, and the admin channel's summaries.

One function, `match_message`, draws a player's match message from the domain's
`match_view` payload (the facts one player sees). It is used for the phase-2 create, for
every later edit the dispatcher sends, and for the type-7 update that answers a click, so
a state always looks the same whichever way it reached the player:

- FOUND: the details and [Confirm] / [Abort (k left)]; disabled once this player confirmed;
- CONFIRMED: "play the game", with the result select (disabled once this player reported);
- COMPLETED: the result and the rating change; ABORTED / CONFLICT: why; no components.

Every payload is a complete view, so a redelivered edit after a restart draws the same
message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.commands_spec import race_label
from bot.ladder.races import Race
from bot.views import custom_ids
from bot.views.components import DANGER, SUCCESS, button, row, string_select
from bot.views.message import MessageView, relative_time

__all__ = ["REPORT_CHOICES", "admin_message", "match_message"]

REPORT_CHOICES: tuple[tuple[str, str], ...] = (
    ("win", "I won"),
    ("loss", "I lost"),
    ("draw", "Draw"),
)
_REPORT_TEXT = {"win": "you won", "loss": "you lost", "draw": "a draw"}
_COLOURS = {
    "found": 0x5865F2,
    "confirmed": 0xFEE75C,
    "completed": 0x57F287,
    "aborted": 0x99AAB5,
    "conflict": 0xED4245,
}


def _race(value: Any) -> str:
    try:
        return race_label(Race(str(value)))
    except ValueError:
        return str(value)


def _player_line(player: Mapping[str, Any], *, mention: bool) -> str:
    who = f"<@{player['player_id']}> · " if mention else ""
    return f"{who}{_race(player['race'])} · {player['mmr']} MMR"


def _status(view: Mapping[str, Any]) -> str:
    state = view["state"]
    you = view["you"]
    match_id = view["match_id"]
    if state == "found":
        deadline = view.get("deadline")
        when = f" {relative_time(deadline)}" if deadline else ""
        if you.get("confirmed"):
            return "You confirmed. Waiting for your opponent to confirm" + (
                f" (deadline{when})." if when else "."
            )
        return f"Confirm{when} or the match is aborted."
    if state == "confirmed":
        if you.get("report"):
            return f"You reported {_REPORT_TEXT[you['report']]}. Waiting for your opponent."
        return "Both players confirmed. Play the game, then report the result below."
    if state == "completed":
        outcome = view.get("outcome")
        text = {"win": "You won!", "loss": "You lost.", "draw": "Draw."}.get(outcome, "Completed.")
        if "mmr_before" in view and "mmr_after" in view:
            before, after = view["mmr_before"], view["mmr_after"]
            text += f" Rating {before} → {after} ({after - before:+d})."
        if view.get("end_reason") == "admin_resolved":
            text += " (resolved by an admin)"
        return text
    if state == "aborted":
        reason = view.get("end_reason")
        if reason == "player_abort":
            by_you = view.get("aborted_by") == you["player_id"]
            return "You aborted the match." if by_you else "Your opponent aborted the match."
        return {
            "confirm_timeout": "Not confirmed in time: the match is aborted. Nobody lost an abort.",
            "report_timeout": "No result was reported in time: the match is aborted.",
            "admin_voided": "An admin voided the match: no rating change.",
        }.get(str(reason), f"Match #{match_id} was aborted.")
    if state == "conflict":
        return "The reports disagree. An admin will resolve the match; you are free to queue."
    return str(state)


def _components(view: Mapping[str, Any], remaining_aborts: int | None) -> tuple[dict, ...]:
    state = view["state"]
    you = view["you"]
    match_id = int(view["match_id"])
    if state == "found":
        done = bool(you.get("confirmed"))
        abort_label = "Abort" if remaining_aborts is None else f"Abort ({remaining_aborts} left)"
        return (
            row(
                button(
                    "Confirm",
                    custom_ids.match_action(match_id, "confirm"),
                    style=SUCCESS,
                    disabled=done,
                ),
                button(
                    abort_label,
                    custom_ids.match_action(match_id, "abort"),
                    style=DANGER,
                    disabled=done or remaining_aborts == 0,
                ),
            ),
        )
    if state == "confirmed":
        return (
            row(
                string_select(
                    custom_ids.match_action(match_id, "report"),
                    REPORT_CHOICES,
                    placeholder="Report the result",
                    disabled=bool(you.get("report")),
                )
            ),
        )
    return ()


def match_message(
    view: Mapping[str, Any],
    *,
    remaining_aborts: int | None = None,
    replay: Mapping[str, Any] | None = None,
) -> MessageView:
    """A player's match message for the state in ``view`` (a `match_view` payload)."""
    you, opponent = view["you"], view["opponent"]
    state = str(view["state"])
    fields = [
        {"name": "You", "value": _player_line(you, mention=False), "inline": True},
        {"name": "Opponent", "value": _player_line(opponent, mention=True), "inline": True},
        {"name": "Map", "value": str(view["map"]), "inline": True},
        {"name": "Server", "value": str(view["server"]), "inline": True},
    ]
    replay = replay if replay is not None else view.get("replay")
    if replay:
        fields.append(
            {
                "name": "Replay received",
                "value": f"{replay.get('name')} ({replay.get('size')} bytes)",
                "inline": False,
            }
        )
    embed = {
        "title": f"Match #{view['match_id']}: {_race(you['race'])} vs {_race(opponent['race'])}",
        "description": _status(view),
        "color": _COLOURS.get(state, 0x99AAB5),
        "fields": fields,
    }
    headline = f"Match #{view['match_id']} — {state}"
    return MessageView(
        content=headline,
        embeds=(embed,),
        components=_components(view, remaining_aborts),
    )


def admin_message(kind: str, view: Mapping[str, Any]) -> MessageView:
    """The admin channel's summary of a finished match (a result or a conflict)."""
    p1, p2 = view["p1"], view["p2"]
    players = (
        f"<@{p1['player_id']}> ({_race(p1['race'])}, {p1['mmr']}) vs "
        f"<@{p2['player_id']}> ({_race(p2['race'])}, {p2['mmr']})"
    )
    match_id = view["match_id"]
    if kind == "admin_conflict":
        reports = f"reports: {p1.get('report') or '-'} / {p2.get('report') or '-'}"
        text = (
            f"**Conflict in match #{match_id}**: {players}; {reports}. "
            f"Resolve with `/admin resolve match:{match_id}`."
        )
    else:
        outcome = view.get("outcome")
        if outcome is None:
            text = f"**Match #{match_id} voided**: {players}."
        else:
            result = {"p1_win": "player 1 won", "p2_win": "player 2 won", "draw": "draw"}.get(
                str(outcome), str(outcome)
            )
            text = f"**Match #{match_id}**: {players}: {result}."
            if "p1_mmr_after" in view:
                text += f" New ratings {view['p1_mmr_after']} / {view['p2_mmr_after']}."
    return MessageView(content=text)
