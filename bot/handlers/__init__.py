"""What the bot does for each slash command and each click.

`handle(service, interaction)` runs one parsed `Interaction` and returns a `Reply` for the
endpoint. Handlers check all input first (`BadInteraction`: the endpoint answers 400 and
nothing is written), make one state change through `bot.service.LadderService`, and answer
within Discord's 3 seconds, deferring work that may be slow.
"""

from bot.handlers.interaction import BadInteraction, Interaction, parse_interaction
from bot.handlers.replies import Reply
from bot.handlers.router import handle

__all__ = ["BadInteraction", "Interaction", "Reply", "handle", "parse_interaction"]
