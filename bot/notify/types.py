"""The dispatcher's contract with the app layer: what it is given and what it hands back.

The app layer (commands, views, lifecycle) writes notifications to the store's outbox and
owns how a message *looks*; the dispatcher owns *when* and *where* it is sent. They meet at
three small values:

- `OutgoingCall`: what a renderer returns for one outbox item, the message body only
  (content / embeds / components). The renderer never chooses a route, a nonce or a lane:
  whether the item is an edit or a create, and through which route, follows from the item's
  `Action` (see `bot.ladder.notifications`) and is decided here.
- `Renderer`: ``render(item) -> OutgoingCall``, a plain synchronous function (no I/O).
- `UndeliverableHook`: ``on_undeliverable(item, error)``, called once when an item can never
  be delivered (DMs closed, code 50007), so the app can release the match. It may be a plain
  function or a coroutine function.

`DispatchConfig` holds every tunable of the dispatcher; nothing is hard-coded elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.discord.errors import DiscordError
from bot.store.records import OutboxItem

__all__ = [
    "STRATEGIES",
    "DispatchConfig",
    "OutgoingCall",
    "Renderer",
    "UndeliverableHook",
]

STRATEGIES: tuple[str, ...] = ("naive", "sequential", "batched", "paced")
"""Strategy names, in the order the sandbox shows them."""


@dataclass(frozen=True)
class OutgoingCall:
    """The body of one Discord message call, as rendered for one outbox item.

    For edits, a field left as None is not sent (the message keeps it); pass an empty list
    to clear embeds or components. For creates, at least one of content/embeds must be set.
    """

    content: str | None = None
    embeds: Sequence[Mapping[str, Any]] | None = None
    components: Sequence[Mapping[str, Any]] | None = None

    def body(self) -> dict[str, Any]:
        """The JSON fields this call sends (nonce and routing are added by the dispatcher)."""
        out: dict[str, Any] = {}
        if self.content is not None:
            out["content"] = self.content
        if self.embeds is not None:
            out["embeds"] = [dict(e) for e in self.embeds]
        if self.components is not None:
            out["components"] = [dict(c) for c in self.components]
        return out


Renderer = Callable[[OutboxItem], OutgoingCall]
UndeliverableHook = Callable[[OutboxItem, DiscordError], Awaitable[None] | None]


@dataclass(frozen=True)
class DispatchConfig:
    strategy: str = "paced"
    """One of `STRATEGIES`; switchable at run time with `Dispatcher.set_strategy`."""
    batch_matches: int = 10
    """batched: matches per phase-2 batch."""
    batch_interval: float = 1.0
    """batched: seconds between the starts of two phase-2 batches."""
    batch_pause: float = 0.1
    """batched: seconds between the end of phase 1 and the first phase-2 batch."""
    token_lifetime: float = 900.0
    """How long an interaction token is valid (Discord: 15 minutes)."""
    token_margin: float = 60.0
    """Phase 1 uses the interaction webhook only while the token is younger than
    ``token_lifetime - token_margin`` (the call may queue before it is sent)."""
    admin_channel_id: int | None = None
    """Where CREATE_ADMIN items go; None: they settle as failed ("no admin channel")."""
    max_in_flight: int = 500
    """Most outbox items handed to the client at once outside a wave run (announcements)."""
    retry_base: float = 1.0
    """After a call fails for good (retries inside the client spent), the item stays pending
    and is tried again after ``retry_base * 2**(n-1)`` seconds, capped by `retry_max`."""
    retry_max: float = 30.0
    scan_interval: float = 0.05
    """Outside waves, finished deliveries re-read the outbox at most this often (seconds);
    `Dispatcher.wake` always reads it at once."""
    recent_waves: int = 10
    """How many finished waves' metrics `snapshot()` keeps."""

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            choices = ", ".join(STRATEGIES)
            raise ValueError(
                f"unknown dispatch strategy {self.strategy!r}; choose one of {choices}"
            )
        if self.batch_matches < 1:
            raise ValueError("batch_matches must be at least 1")
        if self.batch_interval < 0 or self.batch_pause < 0:
            raise ValueError("batch_interval and batch_pause must be >= 0")
        if not 0 <= self.token_margin < self.token_lifetime:
            raise ValueError("token_margin must be in [0, token_lifetime)")
        if self.scan_interval < 0:
            raise ValueError("scan_interval must be >= 0")
        if self.max_in_flight < 1 or self.recent_waves < 0:
            raise ValueError("max_in_flight must be >= 1 and recent_waves >= 0")
        if self.retry_base <= 0 or self.retry_max < self.retry_base:
            raise ValueError("retry_base must be > 0 and retry_max >= retry_base")
