"""What a handler hands back to the endpoint, and the two ways of answering Discord.

A `Reply` is either an HTTP body (the interaction response, answered in the POST's own
response: the common case) or ``None`` when the handler already answered through
``POST /interactions/{id}/{token}/callback`` (see `CallbackResponder`); ``after`` is slow
work to run once the answer is out (a deferred /replay download, an announcement), which
ends by filling in the deferred message with `edit_original`.

Why clicks on a match answer through the callback route: Discord applies an HTTP answer at
some unknown moment after the bot wrote it, but it has applied a callback once the call
returns. The service holds the match's lock until then, so a later notification edit of
the same message is always applied after the click's own update (see `bot.service`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.discord import (
    DiscordClient,
    DiscordError,
    InteractionAlreadyAcknowledged,
    NotFound,
    UnknownInteraction,
)
from bot.handlers.interaction import Interaction
from bot.views import MessageView

__all__ = [
    "CallbackResponder",
    "Reply",
    "deferred",
    "edit_original",
    "error",
    "message",
    "update",
]

_log = logging.getLogger("bot.handlers")

CHANNEL_MESSAGE = 4
DEFERRED_MESSAGE = 5
DEFERRED_UPDATE = 6
UPDATE_MESSAGE = 7
EPHEMERAL = 1 << 6

After = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Reply:
    body: dict[str, Any] | None
    """The HTTP response body, or None: already answered through the callback route."""
    after: After | None = None


def message(view: MessageView, *, ephemeral: bool = False) -> Reply:
    return Reply({"type": CHANNEL_MESSAGE, "data": view.data(ephemeral=ephemeral)})


def error(text: str) -> Reply:
    """An ephemeral one-line refusal; nothing changed."""
    return message(MessageView(content=text), ephemeral=True)


def update(view: MessageView) -> Reply:
    return Reply({"type": UPDATE_MESSAGE, "data": view.data()})


def deferred(after: After, *, ephemeral: bool = True) -> Reply:
    """ "Thinking…" now; ``after`` does the work and fills the message in."""
    data = {"flags": EPHEMERAL} if ephemeral else {}
    return Reply({"type": DEFERRED_MESSAGE, "data": data}, after)


class CallbackResponder:
    """Answers one interaction through the callback route, and remembers how it went."""

    def __init__(self, client: DiscordClient, interaction: Interaction) -> None:
        self.client = client
        self.interaction = interaction
        self.sent = False
        self.fallback: dict[str, Any] | None = None

    async def send(self, response_type: int, data: dict[str, Any] | None) -> None:
        try:
            await self.client.create_interaction_response(
                self.interaction.id, self.interaction.token, response_type, data
            )
        except (InteractionAlreadyAcknowledged, UnknownInteraction) as exc:
            # Answered already, or too late: nothing more can be sent for this interaction.
            _log.warning("event=callback_refused interaction=%d error=%r", self.interaction.id, exc)
            self.sent = True
        except DiscordError as exc:
            _log.warning("event=callback_failed interaction=%d error=%r", self.interaction.id, exc)
            self.fallback = {"type": response_type, **({"data": data} if data else {})}
        else:
            self.sent = True

    def reply(self) -> Reply:
        """After `send`: nothing more to say (202), or the answer as the HTTP body."""
        return Reply(None if self.sent or self.fallback is None else self.fallback)


async def edit_original(
    client: DiscordClient,
    application_id: str,
    interaction: Interaction,
    view: MessageView,
    *,
    attempts: int = 5,
    delay: float = 0.05,
) -> None:
    """Fill in a deferred response. Discord creates the "thinking" message once it has read
    our HTTP answer, which may be a moment after we wrote it: an unknown message is retried
    briefly (bounded), everything else is logged."""
    data = view.data()
    for attempt in range(1, attempts + 1):
        try:
            await client.edit_original_response(
                application_id,
                interaction.token,
                content=data["content"],
                embeds=data["embeds"],
                components=data["components"],
            )
            return
        except NotFound:
            if attempt == attempts:
                raise
            await asyncio.sleep(delay)
            delay *= 2
