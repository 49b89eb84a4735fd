"""The leaderboard page (an embed of up to 40 rows) with [Prev] / [Next] buttons.

The buttons carry the filter and the page shown (`custom_ids.leaderboard_nav`), so a click
is answered with a type-7 update of the same message, drawn from the store again: no
per-message state is kept in the bot.
"""

from __future__ import annotations

from bot.commands_spec import race_label
from bot.ladder.leaderboard import LeaderboardPage
from bot.views import custom_ids
from bot.views.components import SECONDARY, button, row
from bot.views.message import MessageView

__all__ = ["leaderboard_message"]


def leaderboard_message(page: LeaderboardPage) -> MessageView:
    title = "Leaderboard" + (f": {race_label(page.race)}" if page.race else "")
    if page.lines:
        lines = [
            f"`{line.rank:>4}` **{line.letter}** {line.row.name[:24]} · "
            f"{race_label(line.row.race)} · {line.row.mmr} "
            f"({line.row.wins}-{line.row.losses}-{line.row.draws})"
            for line in page.lines
        ]
        description = "\n".join(lines)
    else:
        description = "No ranked players yet: play a match to appear here."
    embed = {
        "title": title,
        "description": description[:4096],
        "footer": {"text": f"Page {page.page + 1}/{page.page_count} · {page.total} ranked"},
    }
    nav = row(
        button(
            "Prev",
            custom_ids.leaderboard_nav(page.race, page.page, "prev"),
            style=SECONDARY,
            disabled=not page.has_prev,
        ),
        button(
            "Next",
            custom_ids.leaderboard_nav(page.race, page.page, "next"),
            style=SECONDARY,
            disabled=not page.has_next,
        ),
    )
    return MessageView(content="", embeds=(embed,), components=(nav,))
