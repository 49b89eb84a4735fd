"""How many rate-limit decisions per second the engine (plus ledger and stats) sustains.

The mock must judge thousands of requests per second without becoming the bottleneck it
is measuring, so `engine.check` + `Ledger.record` + `Stats.record` should cost a few
microseconds. Time is a manual clock advanced 0.5 ms per request (2,000 requests/s of
simulated traffic spread over 200 channels), so the mix exercises allowed requests,
per-route 429s and global 429s; the figures are wall-clock throughput of the Python code.
"""

from __future__ import annotations

import dataclasses
import time

from mockdiscord.clock import ManualClock
from mockdiscord.ledger import Ledger, LedgerEntry
from mockdiscord.profile import load_profile
from mockdiscord.ratelimit import RateLimitEngine, RateLimitRequest
from mockdiscord.stats import Stats

N = 200_000
APP = "111111111111111111"


def _requests() -> list[RateLimitRequest]:
    out = []
    for i in range(200):
        channel = str(10**17 + i)
        out.append(
            RateLimitRequest(
                "POST",
                "/channels/{channel_id}/messages",
                {"channel_id": channel},
                "127.0.0.1",
                "tok",
                APP,
            )
        )
        out.append(RateLimitRequest("GET", "/users/@me", {}, "127.0.0.1", "tok", APP))
        out.append(
            RateLimitRequest(
                "POST",
                "/webhooks/{webhook_id}/{webhook_token}",
                {"webhook_id": APP, "webhook_token": f"itok{i}"},
                "127.0.0.1",
                interaction_webhook=True,
            )
        )
    return out


def _run(record: bool) -> tuple[float, dict[str, int]]:
    clock = ManualClock()
    profile = load_profile("discord")
    # No bans in the benchmark: it measures the decisions, not a banned client's replies.
    invalid = dataclasses.replace(profile.invalid_requests, threshold=10**9)
    engine = RateLimitEngine(dataclasses.replace(profile, invalid_requests=invalid), clock)
    engine.set_global_limit(APP, 1000)
    ledger, stats = Ledger(cap=100_000), Stats()
    requests = _requests()
    outcomes = {"allowed": 0, "user": 0, "shared": 0, "global": 0}
    started = time.perf_counter()
    for i in range(N):
        request = requests[i % len(requests)]
        v = engine.check(request)
        if v.allowed:
            outcomes["allowed"] += 1
            status = 200
        else:
            outcomes[v.scope or "user"] += 1
            status = 429
        if record:
            entry = LedgerEntry(
                v.at_wall,
                v.at,
                request.application_id,
                request.method,
                request.route,
                v.bucket_key,
                status,
                v.scope,
                v.counted,
                v.exempt,
                request.client_ip,
            )
            ledger.record(entry)
            stats.record(entry)
            engine.record_status(request.client_ip, status, v.scope)
        clock.advance(0.0005)
    return time.perf_counter() - started, outcomes


def main() -> None:
    for record in (False, True):
        elapsed, outcomes = _run(record)
        label = "check + ledger + stats + record_status" if record else "check only"
        print(
            f"{label:40s} {N / elapsed:>10,.0f} checks/s  {elapsed / N * 1e6:6.2f} us/check  "
            f"{outcomes}"
        )


if __name__ == "__main__":
    main()
