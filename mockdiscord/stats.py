"""Running figures over the ledger's entries, kept incrementally.

`Stats.record(entry)` is called after every API response, so it must cost O(1): plain
counters, plus, per application, a sliding log of counted arrivals that yields
`peak_1s`, the most counted requests seen in any 1-second window.

`peak_1s` uses exactly the global limiter's window semantics (see
`mockdiscord.ratelimit.global_limit`): a request arriving at `t` leaves the window at
`t + 1`. Counting the same way means a correct sliding-log limiter can never show
`peak_1s` above its limit, while a fixed-window global (or a buggy limiter) can, which is
what the figure is for. Each arrival is appended once and popped once, so the work is
O(1) amortised. Tokenless requests are grouped under `ip:<client ip>`.

Per-bucket figures (requests, 429s) are kept for `top_buckets`. `bans` is read from the
engine, which is the one that decides them.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from mockdiscord.ledger import LedgerEntry
from mockdiscord.ratelimit.gcra import EPSILON

__all__ = ["Stats"]

_WINDOW = 1.0


class _AppStats:
    __slots__ = ("counted", "exempt", "log", "peak_1s", "peak_at", "rate_limited")

    def __init__(self) -> None:
        self.counted = 0
        self.exempt = 0
        self.rate_limited = 0
        self.peak_1s = 0
        self.peak_at: float | None = None
        self.log: deque[float] = deque()


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.responses_by_status: dict[int, int] = {}
        self.rate_limited = {"global": 0, "user": 0, "shared": 0, "ban": 0}
        self.invalid_requests = 0
        self._apps: dict[str, _AppStats] = {}
        self._buckets: dict[str, list[int]] = {}  # key -> [requests, 429s]

    def record(self, entry: LedgerEntry) -> None:
        self.requests += 1
        status = entry.status
        by_status = self.responses_by_status
        by_status[status] = by_status.get(status, 0) + 1
        scope = entry.scope
        if status == 429:
            if entry.banned:
                self.rate_limited["ban"] += 1
            elif scope in self.rate_limited:
                self.rate_limited[scope] += 1
        if (
            (status == 401 or status == 403 or status == 429)
            and scope != "shared"
            and not entry.banned
        ):
            self.invalid_requests += 1

        key = entry.application_id if entry.application_id is not None else "ip:" + entry.client_ip
        app = self._apps.get(key)
        if app is None:
            app = self._apps[key] = _AppStats()
        if status == 429:
            app.rate_limited += 1
        if entry.exempt:
            app.exempt += 1
        if entry.counted:
            app.counted += 1
            now = entry.at_monotonic
            log = app.log
            edge = now - _WINDOW + EPSILON
            while log and log[0] <= edge:
                log.popleft()
            log.append(now)
            if len(log) > app.peak_1s:
                app.peak_1s = len(log)
                app.peak_at = now

        if entry.bucket_key is not None:
            row = self._buckets.get(entry.bucket_key)
            if row is None:
                row = self._buckets[entry.bucket_key] = [0, 0]
            row[0] += 1
            if status == 429:
                row[1] += 1

    def application(self, key: str) -> dict[str, Any]:
        app = self._apps.get(key)
        if app is None:
            return {"counted": 0, "exempt": 0, "peak_1s": 0, "rate_limited": 0}
        return {
            "counted": app.counted,
            "exempt": app.exempt,
            "peak_1s": app.peak_1s,
            "peak_at": app.peak_at,
            "rate_limited": app.rate_limited,
        }

    def top_buckets(self, top: int = 10) -> list[dict[str, Any]]:
        rows = sorted(self._buckets.items(), key=lambda kv: (kv[1][1], kv[1][0]), reverse=True)
        return [
            {"key": key, "requests": requests, "rate_limited": limited}
            for key, (requests, limited) in rows[: max(0, top)]
        ]

    def snapshot(self, engine: Any = None, top: int = 10) -> dict[str, Any]:
        """A JSON-ready dict. With an engine, adds bans, global limits and live buckets."""
        applications = {key: self.application(key) for key in self._apps}
        snap: dict[str, Any] = {
            "requests": self.requests,
            "responses_by_status": {str(k): v for k, v in sorted(self.responses_by_status.items())},
            "rate_limited": dict(self.rate_limited),
            "invalid_requests": self.invalid_requests,
            "bans": 0,
            "applications": applications,
            "top_buckets": self.top_buckets(top),
        }
        if engine is not None:
            snap["bans"] = engine.ban_count
            invalid = engine.profile.invalid_requests
            snap["invalid_request_threshold"] = invalid.threshold
            snap["invalid_request_window"] = invalid.window
            for key, row in applications.items():
                used, limit = engine.global_usage(key)
                row["global_limit"] = limit
                row["global_used"] = used
            snap["buckets"] = engine.bucket_snapshot(top)
        return snap
