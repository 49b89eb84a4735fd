"""From a parsed interaction to its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.handlers import commands
from bot.handlers.admin import admin
from bot.handlers.components import click
from bot.handlers.interaction import MESSAGE_COMPONENT, BadInteraction, Interaction
from bot.handlers.replies import Reply
from bot.service import LadderService

__all__ = ["handle"]

Handler = Callable[[LadderService, Interaction], Awaitable[Reply]]

_COMMANDS: dict[str, Handler] = {
    "queue": commands.queue,
    "leave": commands.leave,
    "leaderboard": commands.leaderboard,
    "profile": commands.profile,
    "setup": commands.setup,
    "replay": commands.replay,
    "admin": admin,
}


async def handle(service: LadderService, interaction: Interaction) -> Reply:
    """Run the handler for a command or a click; `BadInteraction` for anything unknown."""
    if interaction.type == MESSAGE_COMPONENT:
        return await click(service, interaction)
    handler = _COMMANDS.get(interaction.command.split(" ", 1)[0])
    if handler is None:
        raise BadInteraction(f"unknown command {interaction.command!r}")
    return await handler(service, interaction)
