"""Hidden limits that Discord answers with their own error code instead of a plain 429.

Two of Discord's limits are not per-route buckets and are not shown in any header
(DISCORD_RATE_LIMITS.md §3):

- **Opening DMs too fast** (`POST /users/@me/channels`) is answered with a **403, code
  40003** ("You are opening direct messages too fast."), not a 429: there is no
  `Retry-After` and no `retry_after`, so a client cannot know how long to wait.
- **A channel's write limit** is answered with a **429, code 20028** and a short
  `retry_after` (about 0.3 s). It counts the writes of *everyone* in the channel, so a bot
  can hit it while its own bucket still shows `Remaining > 0`.

Discord publishes neither figure, so both are *model choices*, each configured by an
optional profile table and **off** when the table is absent (the built-in `discord`
profile leaves both off, so real clients and the bot are not disturbed unless a profile
asks; `docs/profiles.md` suggests figures):

- `[dm_open]`: `limit` DM opens per `period` **per application** (per token, or per client
  IP without one). Every call counts, including one that returns an existing DM channel:
  the engine does not know the world, and a bot that re-opens a DM it already has is
  doing something a careful bot avoids.
- `[channel_write]`: `limit` writes per `period` **per channel, over every application**,
  on the `routes` listed (default: message create). With a sliding (GCRA) limit the wait
  after a burst is `period / limit`, so `limit = 10, period = 3.0` gives Discord's 0.3 s.
  The 429 has scope `user` (like a sub-limit: headers show the caller's own bucket, whose
  `Remaining` may be > 0) and counts toward the invalid-request limit; only code 40062
  shared 429s are exempt from that. The guild-wide variant (20029) is not modelled.

These checks run after the caller's own bucket has room (and after sub-limits and shared
limits), and a refused request consumes nothing, as for every other refusal. This module
only decides which hidden counters a request touches and how a refusal looks; the engine
keeps the counters (`GcraBucket` / `FixedWindowBucket`, pruned like the others).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from mockdiscord.profile import DM_OPEN_ROUTE, LimitSpec, Profile
from mockdiscord.ratelimit.headers import rate_limited_body

__all__ = [
    "DM_OPEN_CODE",
    "DM_OPEN_MESSAGE",
    "WRITE_CODE",
    "WRITE_MESSAGE",
    "CodedCheck",
    "CodedLimits",
    "dm_open_body",
    "write_limit_body",
]

DM_OPEN_CODE = 40003
DM_OPEN_MESSAGE = "You are opening direct messages too fast."
WRITE_CODE = 20028
WRITE_MESSAGE = "The write action you are performing on the channel has hit the write rate limit."

Kind = Literal["dm_open", "channel_write"]


@dataclass(frozen=True, slots=True)
class CodedCheck:
    """One hidden counter a request must pass: its kind, its key and its limit."""

    kind: Kind
    key: str
    spec: LimitSpec


def dm_open_body() -> bytes:
    return ('{"message":"' + DM_OPEN_MESSAGE + f'","code":{DM_OPEN_CODE}}}').encode()


def write_limit_body(retry_after: float) -> bytes:
    return rate_limited_body(WRITE_MESSAGE, retry_after, False, WRITE_CODE)


class CodedLimits:
    """The hidden coded limits of one profile, compiled for a fast per-request lookup."""

    def __init__(self, profile: Profile) -> None:
        self._dm_open = profile.dm_open
        dm_method, dm_route = DM_OPEN_ROUTE.split(" ", 1)
        self._dm_route = (dm_method, dm_route)
        write = profile.channel_write
        self._write_spec = write.spec if write is not None else None
        self._write_routes = (
            frozenset(tuple(r.split(" ", 1)) for r in write.routes)
            if write is not None
            else frozenset()
        )
        self.active = self._dm_open is not None or self._write_spec is not None

    def checks(
        self, method: str, route: str, params: Mapping[str, str], owner: str
    ) -> tuple[CodedCheck, ...]:
        """The hidden counters this request touches (usually none)."""
        if self._dm_open is not None and (method, route) == self._dm_route:
            return (CodedCheck("dm_open", f"dm_open:{owner}", self._dm_open),)
        if self._write_spec is not None and (method, route) in self._write_routes:
            channel = params.get("channel_id")
            if channel is not None:
                return (CodedCheck("channel_write", f"write:{channel}", self._write_spec),)
        return ()
