"""The global limit: sliding log (default), fixed window, GCRA; overrides; exemptions."""

import json

import pytest

from mockdiscord.clock import ManualClock
from mockdiscord.profile import load_profile
from mockdiscord.ratelimit import (
    FixedWindowGlobalLimiter,
    GcraGlobalLimiter,
    RateLimitEngine,
    RateLimitRequest,
    SlidingLogGlobalLimiter,
)

APP = "111111111111111111"
IP = "10.0.0.1"


def engine(algorithm="sliding", **global_changes):
    clock = ManualClock()
    profile = load_profile("discord").with_global(algorithm=algorithm, **global_changes)
    return RateLimitEngine(profile, clock), clock


def me(app=APP, ip=IP, token="tok"):
    return RateLimitRequest(
        "GET",
        "/users/@me",
        {},
        ip,
        token=token if app else None,
        application_id=app,
    )


def callback(ip=IP):
    return RateLimitRequest(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        {"interaction_id": "2" * 18, "interaction_token": "itok"},
        ip,
    )


def followup(token="itok", app=APP, ip=IP):
    return RateLimitRequest(
        "POST",
        "/webhooks/{webhook_id}/{webhook_token}",
        {"webhook_id": app, "webhook_token": token},
        ip,
        interaction_webhook=True,
    )


# ---------------------------------------------------------------- limiter units


def test_sliding_log_51st_in_a_second_refused_until_the_oldest_leaves():
    lim = SlidingLogGlobalLimiter(1.0)
    t0 = 100.0
    for i in range(50):
        assert lim.acquire("a", 50, t0 + i * 0.01) == 0.0  # 50 over 0.49 s
    wait = lim.acquire("a", 50, t0 + 0.7)
    assert wait == pytest.approx(0.3)  # oldest (t0) leaves at t0 + 1.0
    assert lim.used("a", 50, t0 + 0.7) == 50  # the refusal was not logged
    assert lim.acquire("a", 50, t0 + 0.99) == pytest.approx(0.01)
    assert lim.acquire("a", 50, t0 + 1.0) == 0.0  # exactly when the oldest leaves
    # the next one waits for the second oldest (t0 + 0.01)
    assert lim.acquire("a", 50, t0 + 1.0) == pytest.approx(0.01)
    assert lim.acquire("b", 50, t0 + 1.0) == 0.0  # keys are independent


def test_sliding_log_never_allows_more_than_limit_in_any_window():
    lim = SlidingLogGlobalLimiter(1.0)
    accepted = []
    now = 0.0
    for _ in range(5000):  # one attempt every 0.7 ms for 3.5 s
        if lim.acquire("a", 50, now) == 0.0:
            accepted.append(now)
        now += 0.0007
    j = 0
    for i, t in enumerate(accepted):
        while accepted[j] <= t - 1.0 + 1e-9:
            j += 1
        assert i - j + 1 <= 50
    assert len(accepted) >= 150  # and it is not stingy: 50 per second over 3.5 s


def test_fixed_window_global_allows_a_double_burst_across_the_boundary():
    lim = FixedWindowGlobalLimiter(1.0)
    for _ in range(50):
        assert lim.acquire("a", 50, 10.9) == 0.0
    assert lim.acquire("a", 50, 11.0) == pytest.approx(0.9)  # window opened at 10.9
    for _ in range(50):
        assert lim.acquire("a", 50, 11.9) == 0.0  # a new window: 100 within 1 s
    assert lim.used("a", 50, 11.9) == 50


def test_gcra_global_burst_then_one_per_interval():
    lim = GcraGlobalLimiter(1.0)
    for _ in range(50):
        assert lim.acquire("a", 50, 0.0) == 0.0
    assert lim.acquire("a", 50, 0.0) == pytest.approx(0.02)
    assert lim.acquire("a", 50, 0.02) == 0.0
    assert lim.acquire("a", 50, 0.02) == pytest.approx(0.02)


# ---------------------------------------------------------------- through the engine


def test_engine_global_429_shape_and_no_bucket_headers():
    eng, clock = engine()
    for _ in range(50):
        v = eng.check(me())
        assert v.allowed and v.counted and not v.exempt
        clock.advance(0.004)
    v = eng.check(me())
    assert not v.allowed
    assert v.scope == "global"
    assert not v.counted
    r = v.response
    assert r.status == 429
    assert r.headers["X-RateLimit-Global"] == "true"
    assert r.headers["X-RateLimit-Scope"] == "global"
    assert r.headers["Via"] == "1.1 google"
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Retry-After"] == "1"
    assert not any(
        k.startswith("X-RateLimit-") and k not in {"X-RateLimit-Global", "X-RateLimit-Scope"}
        for k in r.headers
    )
    body = json.loads(r.body)
    assert body == {"message": "You are being rate limited.", "retry_after": 0.8, "global": True}
    assert v.retry_after == pytest.approx(0.8)  # oldest at t, now t + 0.2


def test_global_refusal_on_a_bucketed_route_has_no_bucket_headers_and_spends_no_bucket():
    eng, clock = engine()
    for _ in range(50):
        assert eng.check(me()).allowed
    msg = RateLimitRequest(
        "POST", "/channels/{channel_id}/messages", {"channel_id": "3" * 18}, IP, "tok", APP
    )
    v = eng.check(msg)
    assert v.scope == "global"
    assert "X-RateLimit-Bucket" not in v.response.headers
    clock.advance(1.0)
    v = eng.check(msg)
    assert v.allowed and v.headers["X-RateLimit-Remaining"] == "4"


def test_bucket_429_still_counts_toward_global():
    eng, _ = engine()
    msg = RateLimitRequest(
        "POST", "/channels/{channel_id}/messages", {"channel_id": "3" * 18}, IP, "tok", APP
    )
    verdicts = [eng.check(msg) for _ in range(8)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 3
    assert all(v.counted for v in verdicts)
    assert eng.global_usage(APP) == (8, 50)


@pytest.mark.parametrize("algorithm", ["fixed", "gcra"])
def test_engine_selectable_global_algorithms(algorithm):
    eng, clock = engine(algorithm)
    for _ in range(50):
        assert eng.check(me()).allowed
    v = eng.check(me())
    assert v.scope == "global"
    clock.advance(0.5)
    if algorithm == "fixed":
        assert not eng.check(me()).allowed  # the window (1 s from the first) is still open
        clock.advance(0.5)
        assert sum(eng.check(me()).allowed for _ in range(60)) == 50
    else:
        assert sum(eng.check(me()).allowed for _ in range(60)) == 25  # 0.5 s / 20 ms


def test_configure_switches_the_global_algorithm_live():
    eng, _ = engine()
    for _ in range(50):
        eng.check(me())
    assert not eng.check(me()).allowed
    eng.configure(load_profile("discord").with_global(algorithm="fixed", limit=10))
    assert eng.profile.global_.algorithm == "fixed"
    assert sum(eng.check(me()).allowed for _ in range(20)) == 10  # fresh state, new limit


def test_lowering_the_limit_live_keeps_the_sliding_log():
    eng, clock = engine()
    for _ in range(30):
        eng.check(me())
    eng.configure(load_profile("discord").with_global(limit=20))
    v = eng.check(me())
    assert not v.allowed  # 30 already in the window
    clock.advance(1.0)
    assert eng.check(me()).allowed


def test_per_application_override():
    eng, _ = engine()
    other = "222222222222222222"
    eng.set_global_limit(other, 100)
    assert eng.global_limit(other) == 100
    assert sum(eng.check(me(app=other)).allowed for _ in range(120)) == 100
    assert sum(eng.check(me()).allowed for _ in range(120)) == 50  # others keep 50
    eng.set_global_limit(other, None)
    assert eng.global_limit(other) == 50
    with pytest.raises(ValueError):
        eng.set_global_limit(other, 0)


def test_override_survives_reset():
    eng, _ = engine()
    eng.set_global_limit(APP, 3)
    eng.reset()
    assert sum(eng.check(me()).allowed for _ in range(5)) == 3


def test_tokenless_requests_are_limited_per_ip():
    eng, _ = engine(ip_limit=5)
    assert sum(eng.check(me(app=None, ip="10.0.0.7")).allowed for _ in range(8)) == 5
    assert sum(eng.check(me(app=None, ip="10.0.0.8")).allowed for _ in range(8)) == 5
    # an application from the same IP has its own budget
    assert sum(eng.check(me(ip="10.0.0.7")).allowed for _ in range(8)) == 8
    assert eng.global_usage("ip:10.0.0.7") == (5, 5)


def test_token_without_application_id_is_keyed_by_token():
    eng, _ = engine()
    a = RateLimitRequest("GET", "/users/@me", {}, IP, token="aaa")
    b = RateLimitRequest("GET", "/users/@me", {}, IP, token="bbb")
    assert sum(eng.check(a).allowed for _ in range(60)) == 50
    assert eng.check(b).allowed


def test_callback_is_exempt_uncounted_and_has_no_bucket_headers():
    eng, _ = engine()
    for _ in range(50):
        eng.check(me(ip="10.9.9.9", app=None))  # exhaust the IP's tokenless budget
    for _ in range(200):
        v = eng.check(callback(ip="10.9.9.9"))
        assert v.allowed
        assert v.exempt and not v.counted
        assert v.headers == {}
        assert v.bucket_key is None


def test_interaction_webhooks_are_exempt_but_keep_their_5_per_2s_bucket():
    eng, clock = engine()
    for _ in range(50):
        eng.check(me())  # the application's global budget is spent
    assert not eng.check(me()).allowed
    verdicts = [eng.check(followup()) for _ in range(6)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False]
    assert all(v.exempt and not v.counted for v in verdicts)
    assert verdicts[0].headers["X-RateLimit-Limit"] == "5"
    assert verdicts[-1].scope == "user"
    assert json.loads(verdicts[-1].response.body)["retry_after"] == pytest.approx(0.4)
    # another interaction token is another resource
    assert eng.check(followup(token="other")).allowed
    clock.advance(0.4)
    assert eng.check(followup()).allowed


def test_exemption_of_interaction_webhooks_can_be_turned_off():
    eng, _ = engine(interaction_webhooks_exempt=False)
    v = eng.check(followup())
    assert v.counted and not v.exempt
