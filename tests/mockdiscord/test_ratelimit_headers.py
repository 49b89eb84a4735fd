"""Exact header and body formats (DISCORD_RATE_LIMITS.md §1-3)."""

import json
import re

import pytest

from mockdiscord.clock import ManualClock
from mockdiscord.profile import load_profile
from mockdiscord.ratelimit import RateLimitEngine, RateLimitRequest
from mockdiscord.ratelimit.headers import (
    bucket_hash,
    fmt_seconds,
    rate_limited_body,
    retry_after_header,
)

APP = "111111111111111111"
BUCKET_RE = re.compile(r"[0-9a-f]{32}")
DECIMAL3_RE = re.compile(r"\d+\.\d{3}")
INT_RE = re.compile(r"[1-9]\d*")
BODY_RE = re.compile(
    rb'\{"message":"[^"]+","retry_after":\d+\.\d{3},"global":(true|false)(,"code":\d+)?\}'
)


def msg(channel="3" * 18):
    return RateLimitRequest(
        "POST",
        "/channels/{channel_id}/messages",
        {"channel_id": channel},
        "10.0.0.1",
        token="t",
        application_id=APP,
    )


@pytest.fixture
def setup():
    clock = ManualClock(start=50.0, wall_start=1_596_033_970.5)
    return RateLimitEngine(load_profile("discord"), clock), clock


def check_bucket_headers(h, scope="user"):
    assert re.fullmatch(r"\d+", h["X-RateLimit-Limit"])
    assert re.fullmatch(r"\d+", h["X-RateLimit-Remaining"])
    assert DECIMAL3_RE.fullmatch(h["X-RateLimit-Reset"])
    assert DECIMAL3_RE.fullmatch(h["X-RateLimit-Reset-After"])
    assert BUCKET_RE.fullmatch(h["X-RateLimit-Bucket"])
    assert h["X-RateLimit-Scope"] == scope
    assert "X-RateLimit-Global" not in h


def test_allowed_headers_formats_and_consistency_with_the_wall_clock(setup):
    eng, clock = setup
    clock.advance(0.1234)
    v = eng.check(msg())
    h = v.headers
    check_bucket_headers(h)
    assert h["X-RateLimit-Reset-After"] == "1.000"
    assert float(h["X-RateLimit-Reset"]) == pytest.approx(clock.wall() + 1.0, abs=0.001)
    assert float(h["X-RateLimit-Reset"]) - float(h["X-RateLimit-Reset-After"]) == pytest.approx(
        clock.wall(), abs=0.0011
    )
    assert set(h) == {
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "X-RateLimit-Reset-After",
        "X-RateLimit-Bucket",
        "X-RateLimit-Scope",
    }


def test_user_429_headers_and_body(setup):
    eng, clock = setup
    for _ in range(5):
        eng.check(msg())
    clock.advance(0.25)
    r = eng.check(msg()).response
    h = r.headers
    assert r.status == 429
    assert h["Content-Type"] == "application/json"  # exactly, no charset
    assert h["Via"] == "1.1 google"
    assert INT_RE.fullmatch(h["Retry-After"]) and h["Retry-After"] == "1"  # ceil(0.75)
    check_bucket_headers(h)
    assert h["X-RateLimit-Remaining"] == "0"
    assert h["X-RateLimit-Reset-After"] == "4.750"
    assert BODY_RE.fullmatch(r.body)
    assert r.body == b'{"message":"You are being rate limited.","retry_after":0.750,"global":false}'


def test_bucket_hash_is_stable_opaque_and_per_group():
    assert bucket_hash("channel_messages") == bucket_hash("channel_messages")
    assert BUCKET_RE.fullmatch(bucket_hash("channel_messages"))
    assert bucket_hash("channel_messages") != bucket_hash("reactions")
    assert "channel" not in bucket_hash("channel_messages")
    # pinned: clients may persist hashes between runs
    assert bucket_hash("channel_messages") == "702c1341c00beeaef11148fe35d7a175"


@pytest.mark.parametrize(
    ("seconds", "header"),
    [(0.001, "1"), (0.5, "1"), (1.0, "1"), (1.0000000001, "1"), (1.001, "2"), (299.2, "300")],
)
def test_retry_after_header_is_an_integer_ceiling_at_least_one(seconds, header):
    assert retry_after_header(seconds) == header


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0.000"),
        (1.0, "1.000"),
        (0.333, "0.333"),
        (0.3331, "0.334"),
        (4.6000000001, "4.600"),
        (-0.5, "0.000"),
    ],
)
def test_three_decimal_seconds_round_up(seconds, text):
    assert fmt_seconds(seconds) == text


def test_body_is_compact_deterministic_and_valid_json():
    a = rate_limited_body("The resource is being rate limited.", 2.0, False, 40062)
    b = rate_limited_body("The resource is being rate limited.", 2.0, False, 40062)
    assert a == b
    assert a == (
        b'{"message":"The resource is being rate limited.","retry_after":2.000,'
        b'"global":false,"code":40062}'
    )
    assert json.loads(a)["retry_after"] == 2.0
    tiny = json.loads(rate_limited_body("x", 0.0000001, True))
    assert tiny == {"message": "x", "retry_after": 0.001, "global": True}
    assert json.loads(rate_limited_body('quote " and \\ back', 1, False))["message"] == (
        'quote " and \\ back'
    )


def test_global_429_is_the_only_one_with_x_ratelimit_global(setup):
    eng, _ = setup
    seen = []
    for i in range(60):
        v = eng.check(msg(channel=str(10**17 + i % 3)))
        if v.response is not None:
            seen.append((v.scope, v.response.headers))
        else:
            assert "X-RateLimit-Global" not in v.headers
    scopes = {scope for scope, _ in seen}
    assert scopes == {"user", "global"}
    for scope, headers in seen:
        assert ("X-RateLimit-Global" in headers) == (scope == "global")
        assert headers["X-RateLimit-Scope"] == scope
        assert headers["Via"] == "1.1 google"
        if scope == "global":
            assert headers["X-RateLimit-Global"] == "true"
            assert "X-RateLimit-Bucket" not in headers
