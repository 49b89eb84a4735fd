"""When did the server count a request? An upper bound, on our clock, from its headers.

The global pacer (`bot.discord.global_budget`) frees a counted request's slot one window
after the request *arrived* at the server. The limiter never sees the arrival; it sees the
release (before) and the response (after). Holding the slot from the response is always
safe, but it charges every slot the response's return trip: under a burst, the time the
server's replies spend queued behind each other on their way back. With blocks of 50
counted calls that cost is paid at every block boundary of a wave.

Discord's bucket headers carry the server's own clock. ``X-RateLimit-Reset`` is the Unix
time at which the bucket resets and ``X-RateLimit-Reset-After`` the seconds until then,
both computed when the server counted the request, so their difference is that instant on
the server's clock:

    stamp = reset - reset_after

The two clocks differ by an unknown offset ``theta = server - local`` (our monotonic
clock has no epoch at all). Every response bounds it from below: the request arrived
before its response came back, so ``stamp - received <= theta``. The largest recent such
sample, ``floor``, is a lower bound for ``theta``, as tight as the quickest reply seen. A
request stamped ``s`` then arrived, on our clock, at ``s - theta <= s - floor``: that is
the bound this module returns, never later than the response itself.

Why this is safe: let a slot free at ``a + window`` with ``a = s - floor`` as above. A
request released on our clock at ``r >= a + window`` arrives at the server no earlier than
``r + theta`` on the server's clock, and ``r + theta >= s - floor + theta + window >= s +
window``, since ``theta >= floor``. Its arrival is a whole window after the earlier one's:
the proof of `bot.discord.global_budget` holds unchanged, whatever the latencies.

What it assumes, and what guards it:

- The headers are stamped by the clock that judges the global window, when it counts the
  request, with millisecond precision (Discord's three decimals). The pacer's margin
  absorbs that rounding and a few milliseconds of difference between the two instants
  (the mock stamps and counts at the same instant).
- The two clocks tick at the same rate. Samples expire after ``horizon`` seconds, so a
  drift of even 100 ppm moves the offset by a few milliseconds at most before it is
  measured again; the margin absorbs that too.
- If the server disagrees anyway (a global 429), `distrust` turns the estimate off and
  the pacer falls back to the response times, which need no assumption at all.

Like every rate-limit module of the bot, this one never reads a clock: times are passed in.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping

__all__ = ["ServerTime", "server_stamp"]


def server_stamp(reset: float | None, reset_after: float | None) -> float | None:
    """The server's clock when it counted the request, from a response's bucket headers
    (``None`` without both of them)."""
    if reset is None or reset_after is None or reset_after < 0:
        return None
    return reset - reset_after


class ServerTime:
    """A sliding lower bound on the offset between the server's clock and ours."""

    def __init__(self, *, horizon: float = 30.0, enabled: bool = True) -> None:
        if horizon <= 0:
            raise ValueError("the sample horizon must be positive")
        self.horizon = horizon
        self.enabled = enabled
        self.distrusted_because: str | None = None
        # (received, stamp - received), received ascending, offsets strictly descending:
        # the head is the largest offset among samples younger than the horizon.
        self._samples: collections.deque[tuple[float, float]] = collections.deque()

    def observe(self, received: float, stamp: float) -> None:
        """A response received at ``received`` (our clock) was stamped ``stamp`` (theirs).
        Any stamped response is a sample, counted or not: a wave's exempt phase-1 edits
        calibrate the bound just before its counted phase 2 needs it."""
        if not self.enabled:
            return
        offset = stamp - received
        samples = self._samples
        while samples and samples[-1][1] <= offset:
            samples.pop()
        samples.append((received, offset))

    def offset_floor(self, now: float) -> float | None:
        """The largest ``stamp - received`` seen within the horizon (``None`` if none)."""
        samples = self._samples
        while samples and samples[0][0] < now - self.horizon:
            samples.popleft()
        return samples[0][1] if samples else None

    def arrived_by(self, received: float, stamp: float | None) -> float:
        """The latest our-clock time at which a request answered at ``received`` and
        stamped ``stamp`` can have arrived: ``received`` itself when the stamp is missing or
        the estimate is off, never later than it. The response is a sample too."""
        if stamp is None or not self.enabled:
            return received
        self.observe(received, stamp)
        floor = self.offset_floor(received)
        assert floor is not None  # the sample just observed is within the horizon
        return min(received, stamp - floor)

    def distrust(self, reason: str) -> None:
        """The server disagreed with a bound (a global 429): stop using the stamps."""
        if self.enabled:
            self.enabled = False
            self.distrusted_because = reason
            self._samples.clear()

    def snapshot(self, now: float) -> Mapping[str, object]:
        return {
            "enabled": self.enabled,
            "offset_floor": self.offset_floor(now),
            "samples": len(self._samples),
            "distrusted_because": self.distrusted_because,
        }
