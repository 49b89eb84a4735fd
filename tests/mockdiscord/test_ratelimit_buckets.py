"""The per-route bucket models on their own: GCRA figures step by step, fixed windows."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockdiscord.ratelimit import FixedWindowBucket, GcraBucket


def take(bucket, now):
    """Try one request; return (allowed, remaining, reset_after, retry_after)."""
    wait = bucket.retry_after(now)
    if not wait:
        bucket.consume(now)
    return (not wait, bucket.remaining(now), bucket.reset_after(now), wait)


def test_gcra_5_per_5s_step_by_step():
    b = GcraBucket(5, 5.0)
    t0 = 1000.0
    assert b.interval == 1.0  # T = period / limit
    # A burst of 5 at t0: TAT climbs by T each time; Remaining = floor((5 - RA) / 1).
    for i in range(1, 6):
        allowed, remaining, reset_after, _ = take(b, t0)
        assert allowed
        assert reset_after == pytest.approx(i)
        assert remaining == 5 - i
        assert b.tat == pytest.approx(t0 + i)
    # 6th at t0: max(TAT, now) + T - now = 6 > 5 -> refused; retry_after = 5 + 1 - 5 - 0 = 1.
    allowed, remaining, reset_after, wait = take(b, t0)
    assert not allowed
    assert wait == pytest.approx(1.0)
    assert remaining == 0
    assert reset_after == pytest.approx(5.0)
    assert b.tat == pytest.approx(t0 + 5)  # a refusal consumes nothing
    # At t0 + 0.4: still refused, retry_after = 5 + 1 - 5 - 0.4 = 0.6; Reset-After = 4.6.
    allowed, remaining, reset_after, wait = take(b, t0 + 0.4)
    assert not allowed
    assert wait == pytest.approx(0.6)
    assert reset_after == pytest.approx(4.6)
    assert remaining == 0  # floor(0.4 / 1)
    # At t0 + 1.0 exactly: 5 - 1 + 1 = 5 <= 5 -> allowed; TAT = t0 + 6, RA = 5, Remaining 0.
    allowed, remaining, reset_after, _ = take(b, t0 + 1.0)
    assert allowed
    assert reset_after == pytest.approx(5.0)
    assert remaining == 0
    # At t0 + 3.5: RA = 2.5, Remaining = floor(2.5 / 1) = 2, and two more fit.
    assert b.reset_after(t0 + 3.5) == pytest.approx(2.5)
    assert b.remaining(t0 + 3.5) == 2
    assert take(b, t0 + 3.5)[0]
    assert take(b, t0 + 3.5)[0]
    allowed, _, _, wait = take(b, t0 + 3.5)
    assert not allowed
    assert wait == pytest.approx(0.5)  # TAT = t0 + 8: 8 + 1 - 5 - 3.5
    # Idle for a full period: the bucket is full again.
    assert b.idle(t0 + 8.0)
    assert b.remaining(t0 + 8.0) == 5


def test_gcra_float_noise_does_not_refuse_an_exact_retry():
    b = GcraBucket(3, 0.333)
    now = 1000.4
    for _ in range(3):
        assert take(b, now)[0]
    wait = b.retry_after(now)
    assert wait == pytest.approx(0.111)
    assert take(b, now + wait)[0]  # waiting exactly retry_after is enough


def test_gcra_sustained_rate_is_one_per_interval():
    b = GcraBucket(5, 5.0)
    now = 0.0
    allowed = 0
    while now < 60.0:  # try every 10 ms for a minute
        allowed += take(b, now)[0]
        now += 0.01
    # burst of 5 then 1 per second: at most 5 + 60
    assert 60 <= allowed <= 65


def test_fixed_window_refills_all_at_once_at_window_end():
    b = FixedWindowBucket(10, 10.0)
    t0 = 500.0
    for i in range(10):
        allowed, remaining, reset_after, _ = take(b, t0 + i * 0.1)
        assert allowed
        assert remaining == 9 - i
        # the window opened at t0: its end does not move
        assert reset_after == pytest.approx(10.0 - i * 0.1)
    allowed, remaining, reset_after, wait = take(b, t0 + 4.0)
    assert not allowed
    assert remaining == 0
    assert wait == pytest.approx(6.0)
    assert reset_after == pytest.approx(6.0)
    # just before the end: still refused; at the end: a fresh window with all 10
    assert not take(b, t0 + 9.999)[0]
    allowed, remaining, reset_after, _ = take(b, t0 + 10.0)
    assert allowed
    assert remaining == 9
    assert reset_after == pytest.approx(10.0)


def test_fixed_window_absolute_reset_is_constant_within_a_window():
    b = FixedWindowBucket(3, 2.0)
    resets = set()
    for now in (10.0, 10.5, 11.9):
        take(b, now)
        resets.add(round(now + b.reset_after(now), 6))
    assert resets == {12.0}


def test_fixed_versus_sliding_on_the_same_burst():
    """12 sends, 5 per 5 s: a GCRA lets one through per second after the burst, a fixed
    window makes the sixth wait for the whole window."""
    sliding, fixed = GcraBucket(5, 5.0), FixedWindowBucket(5, 5.0)
    for _ in range(5):
        assert take(sliding, 0.0)[0] and take(fixed, 0.0)[0]
    assert sliding.retry_after(0.0) == pytest.approx(1.0)
    assert fixed.retry_after(0.0) == pytest.approx(5.0)
    assert math.isclose(take(sliding, 1.0)[2], 5.0)
    assert not take(fixed, 1.0)[0]


arrivals = st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=1, max_size=200).map(sorted)


@settings(max_examples=200, deadline=None)
@given(times=arrivals, limit=st.integers(1, 10), period=st.sampled_from([0.25, 1.0, 5.0]))
def test_gcra_never_exceeds_burst_plus_rate(times, limit, period):
    """Over any interval [a, b]: allowed <= limit + (b - a) / T, and a refusal's
    retry_after is exactly enough."""
    b = GcraBucket(limit, period)
    allowed = []
    for t in times:
        wait = b.retry_after(t)
        if wait:
            probe = GcraBucket(limit, period)
            probe.tat = b.tat
            assert probe.retry_after(t + wait) == 0.0
            assert probe.retry_after(t + wait * 0.99 - 1e-6) > 0.0 or wait < 1e-6
        else:
            b.consume(t)
            allowed.append(t)
    interval = period / limit
    for i in range(len(allowed)):
        for j in range(i, len(allowed)):
            assert j - i + 1 <= limit + (allowed[j] - allowed[i]) / interval + 1e-6


@settings(max_examples=200, deadline=None)
@given(times=arrivals, limit=st.integers(1, 10), period=st.sampled_from([0.25, 1.0, 5.0]))
def test_fixed_window_never_exceeds_limit_per_window(times, limit, period):
    b = FixedWindowBucket(limit, period)
    windows: dict[float, int] = {}
    for t in times:
        if not b.retry_after(t):
            b.consume(t)
            windows[b.window_end] = windows.get(b.window_end, 0) + 1
    assert all(n <= limit for n in windows.values())
