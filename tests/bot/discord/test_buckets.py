"""The bucket model, pure: learning, fixed vs sliding, out-of-order responses."""

from __future__ import annotations

from bot.discord.buckets import Bucket, RateLimitHeaders

WALL = 1_700_000_000.0


def headers(remaining: int, reset_after: float, now: float, limit: int = 5) -> RateLimitHeaders:
    return RateLimitHeaders(
        bucket="h", limit=limit, remaining=remaining, reset_after=reset_after,
        reset=WALL + now + reset_after, scope="user",
    )  # fmt: skip


def test_parse_is_case_insensitive_and_lenient() -> None:
    parsed = RateLimitHeaders.parse(
        {"x-ratelimit-limit": "5", "X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "1.5",
         "X-RateLimit-Bucket": "abc", "X-RateLimit-Reset": "oops", "X-RateLimit-Global": "true"}
    )  # fmt: skip
    assert (parsed.limit, parsed.remaining, parsed.reset_after) == (5, 4, 1.5)
    assert parsed.reset is None and parsed.is_global and parsed.describes_bucket
    assert not RateLimitHeaders.parse({}).describes_bucket


def test_unknown_bucket_allows_one_in_flight() -> None:
    bucket = Bucket(("k",))
    assert bucket.available(0.0) == 1
    bucket.on_grant(0.0)
    assert bucket.available(0.0) == 0
    assert bucket.next_change_at(0.0) is None  # only a response can teach it


def test_fixed_bucket_refills_all_at_once_at_reset() -> None:
    bucket = Bucket(("k",), reset_margin=0.0)
    for i in range(3):  # three requests, same Reset each time: a fixed window
        bucket.on_grant(0.0)
        bucket.on_done()
        bucket.on_headers(0.0, headers(4 - i, 5.0, 0.0), rejected=False)
    assert bucket.sliding is False
    assert bucket.available(4.99) == 2
    assert bucket.available(5.0) == 5


def test_sliding_bucket_refills_gradually_and_never_above_the_server() -> None:
    bucket = Bucket(("k",), reset_margin=0.0)
    # GCRA, 5 per 5 s: five requests at t=0 push Reset 1 s later each time.
    for i in range(5):
        bucket.on_grant(0.0)
        bucket.on_done()
        bucket.on_headers(0.0, headers(4 - i, float(i + 1), 0.0), rejected=False)
    assert bucket.sliding is True
    assert bucket.available(0.5) == 0
    assert bucket.available(1.0) == 1  # one token per second comes back
    assert bucket.available(2.5) == 2
    assert bucket.next_change_at(2.5) is not None
    assert 3.0 <= bucket.next_change_at(2.5) <= 3.001  # type: ignore[operator]


def test_stale_response_read_late_does_not_inflate_remaining() -> None:
    bucket = Bucket(("k",), reset_margin=0.0)
    bucket.on_grant(0.0)
    bucket.on_done()
    bucket.on_headers(0.0, headers(4, 5.0, 0.0), rejected=False)
    for _ in range(4):
        bucket.on_grant(0.0)
    assert bucket.available(0.0) == 0
    # The LAST request's response arrives first (Remaining 0), then an older one (Remaining 3).
    bucket.on_done()
    bucket.on_headers(0.0, headers(0, 5.0, 0.0), rejected=False)
    bucket.on_done()
    bucket.on_headers(0.0, headers(3, 5.0, 0.0), rejected=False)
    assert bucket.available(0.0) == 0


def test_in_flight_requests_are_not_forgotten_when_a_response_arrives() -> None:
    bucket = Bucket(("k",), reset_margin=0.0)
    bucket.on_grant(0.0)
    bucket.on_done()
    bucket.on_headers(0.0, headers(4, 5.0, 0.0), rejected=False)
    for _ in range(3):
        bucket.on_grant(0.0)
    bucket.on_done()
    bucket.on_headers(0.0, headers(3, 5.0, 0.0), rejected=False)
    # Two are still in flight; the server has seen at least one of them... or not: assume not.
    assert bucket.available(0.0) == 1
