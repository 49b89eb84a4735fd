"""`MessageView`: one rendered message body, usable as a create, an edit or a response.

Why one type: the same picture of a match is sent three ways (the phase-2 create, the
dispatcher's later edits, and the type-7 update that answers a click), and all three must
show the same thing for the same state. A view always carries all three fields, so an edit
replaces the whole message (Discord keeps fields an edit leaves out: a stale button would
survive an edit that only sent new content).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.notify.types import OutgoingCall

__all__ = ["EPHEMERAL", "MessageView", "relative_time"]

EPHEMERAL = 1 << 6
MAX_CONTENT = 2000


def relative_time(unix: float) -> str:
    """Discord's relative timestamp markup, e.g. ``<t:1700000045:R>`` ("in 30 seconds")."""
    return f"<t:{int(unix)}:R>"


@dataclass(frozen=True)
class MessageView:
    content: str = ""
    embeds: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    components: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if len(self.content) > MAX_CONTENT:
            object.__setattr__(self, "content", self.content[: MAX_CONTENT - 1] + "…")

    def data(self, *, ephemeral: bool = False) -> dict[str, Any]:
        """The message fields of an interaction response (types 4 and 7) or an edit."""
        out: dict[str, Any] = {
            "content": self.content,
            "embeds": [dict(e) for e in self.embeds],
            "components": [dict(c) for c in self.components],
        }
        if ephemeral:
            out["flags"] = EPHEMERAL
        return out

    def outgoing(self) -> OutgoingCall:
        """The body the dispatcher sends for an outbox item."""
        return OutgoingCall(
            content=self.content,
            embeds=[dict(e) for e in self.embeds],
            components=[dict(c) for c in self.components],
        )
