"""The invalid-request tracker: Cloudflare's ban for clients that keep getting errors.

Discord's edge bans an IP that receives too many 401, 403 or 429 responses (10,000 per
10 minutes) for 1 to 24 hours. Shared-scope 429s are not counted: the client could not
have known the shared resource was busy. The model:

- each client IP has a sliding log of the arrival times of its counted responses; an
  entry leaves the window `window` seconds after it was recorded;
- when the log reaches `threshold` entries the IP is banned for `ban` seconds, the ban
  counter goes up, and the log is cleared (the ban is the consequence; after it the IP
  starts afresh);
- responses recorded while the IP is banned (the ban-shaped 429s themselves) are not
  counted: they would only extend a ban the client cannot escape.

The threshold, window and ban length come from the profile so a test can reach a ban in
a few requests. Every method takes `now` (monotonic seconds).
"""

from __future__ import annotations

from collections import deque

from mockdiscord.ratelimit.gcra import EPSILON

__all__ = ["InvalidRequestTracker"]


class InvalidRequestTracker:
    def __init__(
        self,
        threshold: int,
        window: float,
        ban: float,
        statuses: frozenset[int] = frozenset({401, 403, 429}),
    ) -> None:
        self.threshold = threshold
        self.window = window
        self.ban = ban
        self.statuses = statuses
        self.bans_total = 0
        self.counted_total = 0
        self._logs: dict[str, deque[float]] = {}
        self._banned_until: dict[str, float] = {}

    def reconfigure(
        self, threshold: int, window: float, ban: float, statuses: frozenset[int]
    ) -> None:
        """New settings; logs and current bans are kept."""
        self.threshold = threshold
        self.window = window
        self.ban = ban
        self.statuses = statuses

    @property
    def any_bans(self) -> bool:
        """Cheap pre-check for the hot path: is any IP (possibly expired) on the ban list?"""
        return bool(self._banned_until)

    def ban_remaining(self, ip: str, now: float) -> float:
        """Seconds left of `ip`'s ban, 0.0 when it is not banned."""
        until = self._banned_until.get(ip)
        if until is None:
            return 0.0
        if now >= until - EPSILON:
            del self._banned_until[ip]
            return 0.0
        return until - now

    def record(self, ip: str, status: int, scope: str | None, now: float) -> bool:
        """Note one response. Returns True when this response started a ban."""
        if status not in self.statuses or (status == 429 and scope == "shared"):
            return False
        if self.ban_remaining(ip, now) > 0.0:
            return False
        log = self._logs.get(ip)
        if log is None:
            log = self._logs[ip] = deque()
        edge = now - self.window + EPSILON
        while log and log[0] <= edge:
            log.popleft()
        log.append(now)
        self.counted_total += 1
        if len(log) >= self.threshold:
            del self._logs[ip]
            self._banned_until[ip] = now + self.ban
            self.bans_total += 1
            return True
        return False

    def count(self, ip: str, now: float) -> int:
        """Invalid responses of `ip` inside the current window."""
        log = self._logs.get(ip)
        if not log:
            return 0
        edge = now - self.window + EPSILON
        while log and log[0] <= edge:
            log.popleft()
        return len(log)

    def banned_ips(self, now: float) -> dict[str, float]:
        return {ip: until - now for ip, until in self._banned_until.items() if until > now}

    def prune(self, now: float) -> None:
        for ip in [ip for ip, log in self._logs.items() if not log or log[-1] <= now - self.window]:
            del self._logs[ip]
        for ip in [ip for ip, until in self._banned_until.items() if until <= now]:
            del self._banned_until[ip]

    def clear(self) -> None:
        self._logs.clear()
        self._banned_until.clear()
        self.bans_total = 0
        self.counted_total = 0
