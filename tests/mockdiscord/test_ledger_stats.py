"""The referee's records: a bounded ledger and incremental stats (peak_1s above all)."""

import json

import pytest

from mockdiscord.clock import ManualClock
from mockdiscord.ledger import Ledger, LedgerEntry
from mockdiscord.profile import load_profile
from mockdiscord.ratelimit import RateLimitEngine, RateLimitRequest
from mockdiscord.stats import Stats

APP = "111111111111111111"


def entry(t=0.0, status=200, scope=None, counted=True, exempt=False, app=APP, **kw):
    return LedgerEntry(
        at_wall=1_700_000_000.0 + t,
        at_monotonic=t,
        application_id=app,
        method=kw.pop("method", "GET"),
        route=kw.pop("route", "/users/@me"),
        bucket_key=kw.pop("bucket_key", None),
        status=status,
        scope=scope,
        counted=counted,
        exempt=exempt,
        client_ip=kw.pop("client_ip", "10.0.0.1"),
        **kw,
    )


def test_ledger_json_lines_are_compact_objects_with_every_field():
    ledger = Ledger()
    ledger.record(entry(1.5, status=429, scope="user", bucket_key="k", latency_ms=0.25))
    ledger.record(entry(2.0, fault="reset"))
    lines = list(ledger.json_lines())
    assert len(lines) == 2 and all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    first = json.loads(lines[0])
    assert first == {
        "at_wall": 1_700_000_001.5,
        "at_monotonic": 1.5,
        "application_id": APP,
        "method": "GET",
        "route": "/users/@me",
        "bucket_key": "k",
        "status": 429,
        "scope": "user",
        "counted": True,
        "exempt": False,
        "client_ip": "10.0.0.1",
        "banned": False,
        "fault": None,
        "latency_ms": 0.25,
    }
    assert " " not in lines[0].replace("/users/@me", "")
    assert json.loads(lines[1])["fault"] == "reset"


def test_ledger_is_bounded_and_counts_what_it_dropped():
    ledger = Ledger(cap=3)
    for i in range(10):
        ledger.record(entry(float(i)))
    assert len(ledger) == 3
    assert ledger.dropped == 7
    assert ledger.total == 10
    assert [e.at_monotonic for e in ledger.entries()] == [7.0, 8.0, 9.0]
    # tailing by absolute index
    assert [e.at_monotonic for e in ledger.entries(after=8)] == [8.0, 9.0]
    assert [json.loads(x)["at_monotonic"] for x in ledger.json_lines(after=9)] == [9.0]
    assert ledger.entries(after=100) == []
    ledger.clear()
    assert len(ledger) == 0 and ledger.dropped == 0
    with pytest.raises(ValueError):
        Ledger(cap=0)


def test_ledger_can_grow_while_a_reader_streams():
    ledger = Ledger()
    for i in range(5):
        ledger.record(entry(float(i)))
    lines = ledger.json_lines()
    next(lines)
    ledger.record(entry(99.0))  # no "deque mutated during iteration"
    assert len(list(lines)) == 4


def test_stats_counts_statuses_scopes_and_invalid_requests():
    s = Stats()
    for e in [
        entry(status=200),
        entry(status=429, scope="user"),
        entry(status=429, scope="global", counted=False),
        entry(status=429, scope="shared"),
        entry(status=401, counted=False),
        entry(status=403),
        entry(status=404),
        entry(status=429, counted=False, banned=True),
    ]:
        s.record(e)
    snap = s.snapshot()
    assert snap["requests"] == 8
    assert snap["responses_by_status"] == {"200": 1, "401": 1, "403": 1, "404": 1, "429": 4}
    assert snap["rate_limited"] == {"global": 1, "user": 1, "shared": 1, "ban": 1}
    # 401, 403, user 429, global 429; not shared, not ban-shaped, not 404
    assert snap["invalid_requests"] == 4
    json.dumps(snap)  # JSON-ready


def test_peak_1s_is_the_most_counted_in_any_sliding_second():
    s = Stats()
    # 30 every 1/64 s from 0, then 30 every 1/64 s from 0.90625 (binary fractions: exact)
    times = [i / 64 for i in range(30)] + [0.90625 + i / 64 for i in range(30)]
    for t in times:
        s.record(entry(t))
    expected = max(sum(1 for u in times if t - 1.0 < u <= t) for t in times)
    app = s.application(APP)
    assert app["peak_1s"] == expected
    assert app["counted"] == 60
    # the second run starts 6/64 s short of a second after the first: any window ending on
    # its k-th arrival holds k + 1 of it plus the first run's last 35 - k (k >= 5)
    assert expected == 36


def test_peak_1s_ignores_uncounted_and_exempt_and_uses_the_limiters_edge():
    s = Stats()
    for i in range(50):
        s.record(entry(0.0 + i * 0.001))
    for _ in range(100):
        s.record(entry(0.5, counted=False, exempt=True))
    s.record(entry(1.0))  # the first (at 0.0) left exactly at 1.0, as in the limiter
    app = s.application(APP)
    assert app["peak_1s"] == 50
    assert app["exempt"] == 100
    s.record(entry(1.0005))  # (0.0005, 1.0005]: 0.001..0.049 (49) + 2 = 51
    assert s.application(APP)["peak_1s"] == 51


def test_tokenless_entries_are_grouped_by_ip():
    s = Stats()
    s.record(entry(app=None, client_ip="10.0.0.9"))
    assert s.application("ip:10.0.0.9")["counted"] == 1


def test_top_buckets_by_429s():
    s = Stats()
    for _ in range(5):
        s.record(entry(bucket_key="a"))
    for status in (200, 429, 429):
        s.record(entry(status=status, scope="user", bucket_key="b"))
    top = s.top_buckets(2)
    assert top == [
        {"key": "b", "requests": 3, "rate_limited": 2},
        {"key": "a", "requests": 5, "rate_limited": 0},
    ]


@pytest.mark.parametrize(("algorithm", "expected_peak"), [("sliding", 50), ("fixed", 99)])
def test_a_correct_limiter_never_shows_peak_above_limit(algorithm, expected_peak):
    """End to end through the engine: one request opens a window, a burst lands just before
    it ends and another just after. A sliding log keeps every sliding second at 50; a fixed
    window lets one sliding second see 99, and peak_1s shows it."""
    clock = ManualClock()
    engine = RateLimitEngine(load_profile("discord").with_global(algorithm=algorithm), clock)
    stats = Stats()
    request = RateLimitRequest("GET", "/users/@me", {}, "10.0.0.1", "t", APP)

    def send(n):
        for _ in range(n):
            v = engine.check(request)
            e = LedgerEntry(
                v.at_wall,
                v.at,
                APP,
                "GET",
                "/users/@me",
                v.bucket_key,
                200 if v.allowed else 429,
                v.scope,
                v.counted,
                v.exempt,
                "10.0.0.1",
            )
            stats.record(e)

    for _ in range(3):
        send(1)
        clock.advance(0.99)
        send(60)
        clock.advance(0.01)
        send(60)
        clock.advance(0.5)
        send(60)
        clock.advance(1.5)
    assert stats.application(APP)["peak_1s"] == expected_peak
    snap = stats.snapshot(engine)
    counted = stats.application(APP)["counted"]
    assert snap["rate_limited"]["global"] == 3 * 181 - counted
    assert snap["applications"][APP]["global_limit"] == 50
    assert snap["bans"] == 0
    assert "buckets" in snap


def test_reset_clears_stats():
    s = Stats()
    s.record(entry())
    s.reset()
    assert s.snapshot()["requests"] == 0 and s.snapshot()["applications"] == {}
