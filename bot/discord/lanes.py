"""Priority lanes.

Every request waits in one of four lanes, served strictly in this order:

1. ``INTERACTION``: interaction responses (callbacks, ``@original`` edits, followups). They are
   due within 3 s and are exempt from the global limit, so they never wait on it.
2. ``URGENT``: phase 1 of a match notification ("match found").
3. ``NORMAL``: phase 2 details and lifecycle notices.
4. ``BACKGROUND``: heartbeats and announcements.

Whenever the limiter can release a request it looks at the lanes top to bottom and, inside a
lane, oldest first, skipping any request whose own bucket is empty (a blocked bucket never
blocks other buckets). A lower lane therefore only gets the global budget a higher lane could
not use at that instant.

Because the global budget is a sliding window, a burst of background work released while no
urgent work was queued would still delay urgent work that arrives a moment later. Each lane
therefore has a *share*: the fraction of the global limit it may fill within one window. By
default the background lane stops at 80 %, so about a fifth of every second's budget is always
free for urgent and normal work when it arrives.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["DEFAULT_LANE_SHARES", "Lane"]


class Lane(enum.IntEnum):
    """Lower value = higher priority."""

    INTERACTION = 0
    URGENT = 1
    NORMAL = 2
    BACKGROUND = 3

    @property
    def label(self) -> str:
        return self.name.lower()


DEFAULT_LANE_SHARES: Mapping[Lane, float] = MappingProxyType(
    {Lane.INTERACTION: 1.0, Lane.URGENT: 1.0, Lane.NORMAL: 1.0, Lane.BACKGROUND: 0.8}
)
