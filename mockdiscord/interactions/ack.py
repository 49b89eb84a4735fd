"""The one-response rule of an interaction, and its 3-second deadline.

Discord accepts exactly one initial response per interaction, due within 3 seconds of
delivery. It may come either as the HTTP response to Discord's POST or as a
`POST /interactions/{id}/{token}/callback`, whichever arrives first:

- a second response is refused with 400 code 40060 ("already acknowledged");
- with no response by the deadline the user sees "This interaction failed", and any later
  callback is refused with 404 code 10062 ("Unknown interaction");
- which response types are allowed depends on the interaction: PING takes only PONG (1);
  a slash command takes 4, 5 or 9; a component also takes 6 and 7 (they act on its message).

`Acknowledgement` is that state machine for one interaction. Delivery and the callback
route share it; because both run on the one event loop and `acknowledge` is synchronous,
"whichever arrives first" needs no lock.
"""

from __future__ import annotations

import asyncio
import enum
from typing import Protocol

__all__ = [
    "AckResult",
    "AckState",
    "AckView",
    "Acknowledgement",
    "allowed_response_types",
]

_ALLOWED = {
    1: frozenset({1}),
    2: frozenset({4, 5, 9}),
    3: frozenset({4, 5, 6, 7, 9}),
    4: frozenset({8}),
    5: frozenset({4, 5, 6, 7}),
}
DEFERRED_TYPES = frozenset({5, 6})


def allowed_response_types(interaction_type: int) -> frozenset[int]:
    """The initial response types Discord accepts for an interaction of this type."""
    return _ALLOWED.get(interaction_type, frozenset())


class AckView(Protocol):
    """What delivery needs to watch an interaction's acknowledgement.

    `Acknowledgement` below implements it; the server adapts its world's interactions to it.
    """

    @property
    def pending(self) -> bool: ...

    @property
    def acknowledged(self) -> bool: ...

    @property
    def response_type(self) -> int | None: ...

    @property
    def acknowledged_at(self) -> float | None: ...

    def expire(self) -> bool: ...

    async def wait(self) -> object: ...


class AckState(enum.Enum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    EXPIRED = "expired"


class AckResult(enum.Enum):
    OK = "ok"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"  # 400, code 40060
    EXPIRED = "expired"  # 404, code 10062
    INVALID_TYPE = "invalid_type"  # 400, code 50035


class Acknowledgement:
    """Pending until the first valid response, or expired at the deadline."""

    def __init__(self, interaction_type: int) -> None:
        self.interaction_type = interaction_type
        self.state = AckState.PENDING
        self.response_type: int | None = None
        self.via: str | None = None
        self.acknowledged_at: float | None = None
        self._event = asyncio.Event()

    @property
    def pending(self) -> bool:
        return self.state is AckState.PENDING

    @property
    def acknowledged(self) -> bool:
        return self.state is AckState.ACKNOWLEDGED

    def check(self, response_type: int) -> AckResult:
        """What `acknowledge` would answer, without changing anything."""
        if self.state is AckState.ACKNOWLEDGED:
            return AckResult.ALREADY_ACKNOWLEDGED
        if self.state is AckState.EXPIRED:
            return AckResult.EXPIRED
        if response_type not in allowed_response_types(self.interaction_type):
            return AckResult.INVALID_TYPE
        return AckResult.OK

    def acknowledge(self, response_type: int, *, via: str, now: float) -> AckResult:
        """Record the first response; `via` is "http" or "callback", `now` a monotonic time."""
        result = self.check(response_type)
        if result is AckResult.OK:
            self.state = AckState.ACKNOWLEDGED
            self.response_type = response_type
            self.via = via
            self.acknowledged_at = now
            self._event.set()
        return result

    def expire(self) -> bool:
        """Mark the interaction failed (deadline passed); True if it was still pending."""
        if self.state is not AckState.PENDING:
            return False
        self.state = AckState.EXPIRED
        self._event.set()
        return True

    async def wait(self) -> AckState:
        """Wait until the interaction is acknowledged or expired."""
        await self._event.wait()
        return self.state
