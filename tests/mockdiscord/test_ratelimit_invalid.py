"""Invalid-request tracking per client IP and Cloudflare-style bans, in both styles."""

import dataclasses
import json
import re

import pytest

from mockdiscord.clock import ManualClock
from mockdiscord.profile import InvalidRequestSettings, load_profile
from mockdiscord.ratelimit import InvalidRequestTracker, RateLimitEngine, RateLimitRequest

IP = "10.1.1.1"


def engine(style="html", threshold=5, window=10.0, ban=30.0):
    base = load_profile("discord")
    profile = dataclasses.replace(
        base,
        invalid_requests=InvalidRequestSettings(
            threshold=threshold, window=window, ban=ban, ban_style=style
        ),
    )
    clock = ManualClock()
    return RateLimitEngine(profile, clock), clock


def me(ip=IP):
    return RateLimitRequest("GET", "/users/@me", {}, ip, token="t", application_id="1" * 18)


def test_tracker_counts_401_403_429_but_not_shared_or_others():
    t = InvalidRequestTracker(threshold=100, window=10.0, ban=60.0)
    for status, scope in [(401, None), (403, None), (429, "user"), (429, "global")]:
        t.record(IP, status, scope, 0.0)
    for status, scope in [(429, "shared"), (404, None), (200, None), (400, None), (500, None)]:
        t.record(IP, status, scope, 0.0)
    assert t.count(IP, 0.0) == 4
    assert t.count("10.9.9.9", 0.0) == 0


def test_tracker_window_slides():
    t = InvalidRequestTracker(threshold=100, window=10.0, ban=60.0)
    t.record(IP, 401, None, 0.0)
    t.record(IP, 401, None, 5.0)
    assert t.count(IP, 9.99) == 2
    assert t.count(IP, 10.0) == 1  # the first left exactly 10 s after it arrived
    assert t.count(IP, 15.0) == 0


def test_ban_starts_at_threshold_and_ends_after_its_length():
    t = InvalidRequestTracker(threshold=3, window=10.0, ban=60.0)
    assert not t.record(IP, 401, None, 0.0)
    assert not t.record(IP, 401, None, 1.0)
    assert t.record(IP, 401, None, 2.0)  # the third starts the ban
    assert t.bans_total == 1
    assert t.ban_remaining(IP, 2.0) == pytest.approx(60.0)
    assert t.ban_remaining("10.2.2.2", 2.0) == 0.0  # per IP
    # ban-shaped 429s during the ban do not count and cannot extend it
    for _ in range(10):
        assert not t.record(IP, 429, None, 30.0)
    assert t.ban_remaining(IP, 61.99) > 0
    assert t.ban_remaining(IP, 62.0) == 0.0
    assert t.count(IP, 62.0) == 0  # the log was cleared when the ban began


def test_spread_out_errors_never_ban():
    t = InvalidRequestTracker(threshold=3, window=10.0, ban=60.0)
    for i in range(20):
        assert not t.record(IP, 403, None, i * 5.0)  # at most 2 per 10 s
    assert t.bans_total == 0


def test_shared_429s_never_lead_to_a_ban():
    eng, _ = engine(threshold=3)
    for _ in range(50):
        eng.record_status(IP, 429, "shared")
    assert eng.invalid_count(IP) == 0
    assert eng.check(me()).allowed


@pytest.mark.parametrize("style", ["html", "json"])
def test_banned_ip_gets_ban_shaped_429_without_via(style):
    eng, clock = engine(style=style, threshold=5, ban=30.0)
    for _ in range(4):
        assert not eng.record_status(IP, 401, None)
    assert eng.check(me()).allowed
    assert eng.record_status(IP, 403, None)  # the 5th invalid response bans
    assert eng.ban_count == 1
    assert eng.banned_ips() == {IP: pytest.approx(30.0)}
    clock.advance(1.0)
    v = eng.check(me())
    assert not v.allowed and v.banned
    assert not v.counted and v.scope is None
    r = v.response
    assert r.status == 429
    assert "Via" not in r.headers
    assert not any(k.startswith("X-RateLimit") for k in r.headers)
    assert r.headers["Retry-After"] == "29"
    if style == "html":
        assert r.headers["Content-Type"] == "text/html"
        text = r.body.decode()
        assert "Error 1015" in text and "You are being rate limited" in text
    else:
        assert r.headers["Content-Type"] == "application/json"
        body = json.loads(r.body)
        assert body["code"] == 0
        assert body["message"].startswith(
            "You are being blocked from accessing our API temporarily due to exceeding our "
            "rate limits frequently."
        )
        assert "retry_after" not in body
        assert re.fullmatch(rb'\{"code":0,"message":"[^"]+"\}', r.body)
    # every route is refused during the ban, even exempt ones, and nothing is counted
    cb = RateLimitRequest(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        {"interaction_id": "2" * 18, "interaction_token": "x"},
        IP,
    )
    assert eng.check(cb).banned
    assert eng.global_usage("1" * 18)[0] == 0  # the two banned checks were not logged
    # another IP is unaffected; the ban lifts after its length
    assert eng.check(me(ip="10.1.1.2")).allowed
    clock.advance(29.0)
    assert eng.check(me()).allowed
    assert eng.ban_count == 1


def test_engine_bans_from_its_own_429s():
    """A client hammering a full bucket and reporting each 429 gets banned."""
    eng, _ = engine(threshold=10)
    msg = RateLimitRequest(
        "POST", "/channels/{channel_id}/messages", {"channel_id": "3" * 18}, IP, "t", "1" * 18
    )
    banned_at = None
    for i in range(30):
        v = eng.check(msg)
        status = 200 if v.allowed else v.response.status
        if eng.record_status(IP, status, v.scope):
            banned_at = i
            break
    assert banned_at == 14  # 5 allowed, then the 10th 429
    assert eng.check(msg).banned


def test_reconfigure_keeps_bans():
    eng, _ = engine(threshold=2)
    eng.record_status(IP, 401, None)
    eng.record_status(IP, 401, None)
    eng.configure(load_profile("discord"))
    assert eng.check(me()).banned
    eng.reset()
    assert eng.check(me()).allowed
    assert eng.ban_count == 0
