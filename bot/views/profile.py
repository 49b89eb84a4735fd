"""A player's profile: country, region, aborts left, and per race the rating and record."""

from __future__ import annotations

from collections.abc import Mapping

from bot.commands_spec import race_label
from bot.ladder.leaderboard import RatingRow
from bot.ladder.players import Player, PlayerStatus
from bot.ladder.races import Race
from bot.views.message import MessageView

__all__ = ["profile_message"]


def profile_message(
    player: Player, ratings: Mapping[Race, RatingRow], status: PlayerStatus, start_mmr: int
) -> MessageView:
    fields = []
    for race in Race:
        rating = ratings.get(race)
        if rating is None:
            value = f"{start_mmr} (unplayed)"
        else:
            value = (
                f"{rating.mmr} · {rating.games} games "
                f"({rating.wins}W {rating.losses}L {rating.draws}D)"
            )
        fields.append({"name": race_label(race), "value": value, "inline": True})
    state = status.state.value.replace("_", " ")
    if status.match_id is not None:
        state += f" (match #{status.match_id})"
    details = [
        f"Country: {player.country or '-'}",
        f"Region: {player.region or '-'}",
        f"Aborts left: {player.remaining_aborts}",
        f"Status: {state}",
    ]
    if player.banned:
        details.append("**Banned**")
    embed = {
        "title": f"Profile: {player.name}",
        "description": "\n".join(details),
        "fields": fields,
    }
    return MessageView(content="", embeds=(embed,))
