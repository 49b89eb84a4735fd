"""Per-route behaviour of the engine with the built-in `discord` profile."""

import json

import pytest

from mockdiscord.clock import ManualClock
from mockdiscord.profile import load_profile
from mockdiscord.ratelimit import RateLimitEngine, RateLimitRequest

APP = "111111111111111111"
IP = "10.0.0.1"
C1 = "123456789012345678"
C2 = "223456789012345678"
MSG = "/channels/{channel_id}/messages"
ONE = "/channels/{channel_id}/messages/{message_id}"
REACT = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me"
HOOK = "/webhooks/{webhook_id}/{webhook_token}"


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def eng(clock):
    return RateLimitEngine(load_profile("discord"), clock)


def req(method, route, app=APP, ip=IP, **kw):
    params = kw.pop("params", None)
    if params is None:
        params = {"channel_id": C1, "message_id": "9" * 18, "emoji": "%F0%9F%91%8D"}
    return RateLimitRequest(method, route, params, ip, token="tok", application_id=app, **kw)


def run(eng, request, n):
    return [eng.check(request) for _ in range(n)]


def test_allowed_verdict_carries_bucket_headers_and_key(eng, clock):
    v = eng.check(req("POST", MSG))
    assert v.allowed and v.response is None and v.scope is None
    assert v.counted and not v.exempt and not v.banned
    assert v.rule == "message_create"
    assert v.bucket_key == f"{APP}:{v.bucket}:{C1}:message_create"
    assert v.headers["X-RateLimit-Bucket"] == v.bucket
    assert v.at == clock.monotonic() and v.at_wall == clock.wall()


def test_major_parameter_separates_counters_but_not_the_hash(eng):
    a = run(eng, req("POST", MSG), 6)
    b = eng.check(req("POST", MSG, params={"channel_id": C2}))
    assert not a[-1].allowed and b.allowed
    assert a[0].headers["X-RateLimit-Bucket"] == b.headers["X-RateLimit-Bucket"]
    assert a[0].bucket_key != b.bucket_key


def test_tokens_have_separate_counters(eng):
    run(eng, req("POST", MSG), 5)
    assert not eng.check(req("POST", MSG)).allowed
    assert eng.check(req("POST", MSG, app="222222222222222222")).allowed


def test_message_create_and_edit_same_hash_separate_counters(eng):
    creates = run(eng, req("POST", MSG), 5)
    assert not eng.check(req("POST", MSG)).allowed
    edit = eng.check(req("PATCH", ONE))
    assert edit.allowed
    assert edit.headers["X-RateLimit-Remaining"] == "4"  # its own counter
    assert edit.headers["X-RateLimit-Bucket"] == creates[0].headers["X-RateLimit-Bucket"]
    assert edit.bucket_key != creates[0].bucket_key


def test_reaction_put_and_delete_share_one_counter_per_channel(eng, clock):
    put = eng.check(req("PUT", REACT))
    assert put.allowed and put.headers["X-RateLimit-Limit"] == "1"
    delete = eng.check(req("DELETE", REACT))
    assert not delete.allowed and delete.scope == "user"
    assert delete.bucket_key == put.bucket_key
    assert delete.retry_after == pytest.approx(0.25)
    other_message = eng.check(
        req("DELETE", REACT, params={"channel_id": C1, "message_id": "8" * 18, "emoji": "x"})
    )
    assert not other_message.allowed  # same channel, other message: same counter
    assert eng.check(req("PUT", REACT, params={"channel_id": C2, "emoji": "x"})).allowed
    clock.advance(0.25)
    assert eng.check(req("DELETE", REACT)).allowed


@pytest.mark.parametrize(
    ("age", "rule", "limit", "period"),
    [
        (0.5, "message_delete_new", 5, 1.0),
        (9.99, "message_delete_new", 5, 1.0),
        (10.0, "message_delete_recent", 3, 0.333),
        (86400.0, "message_delete_recent", 3, 0.333),
        (1209600.0, "message_delete_old", 30, 4.0),
        (None, "message_delete_old", 30, 4.0),
    ],
)
def test_message_delete_picks_its_bucket_by_age(eng, age, rule, limit, period):
    verdicts = run(eng, req("DELETE", ONE, message_age_s=age), limit + 1)
    assert verdicts[0].rule == rule
    assert verdicts[0].headers["X-RateLimit-Limit"] == str(limit)
    assert all(v.allowed for v in verdicts[:limit])
    assert not verdicts[-1].allowed
    assert verdicts[-1].retry_after == pytest.approx(period / limit)


def test_delete_sub_buckets_report_different_hashes_and_keep_separate_counters(eng):
    young = run(eng, req("DELETE", ONE, message_age_s=1.0), 5)
    old = eng.check(req("DELETE", ONE, message_age_s=5_000_000.0))
    recent = eng.check(req("DELETE", ONE, message_age_s=60.0))
    assert old.allowed and recent.allowed
    hashes = {young[0].bucket, old.bucket, recent.bucket}
    assert len(hashes) == 3


def test_channel_rename_sub_limit_answers_user_429_with_remaining_above_zero(eng, clock):
    rename = req("PATCH", "/channels/{channel_id}", changed_fields=frozenset({"name"}))
    first, second = run(eng, rename, 2)
    assert first.allowed and second.allowed
    assert second.headers["X-RateLimit-Limit"] == "10"
    third = eng.check(rename)
    assert not third.allowed
    assert third.scope == "user"
    h = third.response.headers
    assert int(h["X-RateLimit-Remaining"]) == 8  # the headers cannot show the sub-limit
    assert h["X-RateLimit-Scope"] == "user"
    body = json.loads(third.response.body)
    assert body["global"] is False and body["message"] == "You are being rate limited."
    # 2 per 600 s sliding: T = 300 s, TAT = t0 + 600; retry = 600 + 300 - 600 = 300 s
    assert body["retry_after"] == pytest.approx(300.0)
    assert h["Retry-After"] == "300"
    # a topic change hits the same sub-limit; other fields do not
    assert not eng.check(
        req("PATCH", "/channels/{channel_id}", changed_fields=frozenset({"topic"}))
    ).allowed
    assert eng.check(
        req("PATCH", "/channels/{channel_id}", changed_fields=frozenset({"nsfw"}))
    ).allowed
    clock.advance(300.0)
    assert eng.check(rename).allowed


def test_sub_limit_refusal_spends_nothing_of_the_main_bucket(eng):
    rename = req("PATCH", "/channels/{channel_id}", changed_fields=frozenset({"name"}))
    run(eng, rename, 2)
    for _ in range(5):
        assert not eng.check(rename).allowed
    v = eng.check(req("PATCH", "/channels/{channel_id}", changed_fields=frozenset({"bitrate"})))
    assert v.headers["X-RateLimit-Remaining"] == "7"  # 2 renames + this one


def test_webhook_execute_shared_limit_per_channel(eng, clock):
    """30 per 60 s per channel across webhooks; each webhook 5 per 2 s on its own."""
    hooks = [("4" * 17 + str(i), f"wtok{i}") for i in range(7)]
    verdicts = []
    for wid, wtok in hooks:  # 7 webhooks x 5 = 35 attempts at once
        for _ in range(5):
            verdicts.append(
                eng.check(
                    req(
                        "POST",
                        HOOK,
                        app=None,
                        params={"webhook_id": wid, "webhook_token": wtok},
                        shared_resource=C1,
                    )
                )
            )
    assert sum(v.allowed for v in verdicts) == 30
    refused = [v for v in verdicts if not v.allowed]
    assert all(v.scope == "shared" for v in refused)
    shared = refused[0]
    h = shared.response.headers
    body = json.loads(shared.response.body)
    assert body["code"] == 40062
    assert body["message"] == "The resource is being rate limited."
    assert body["global"] is False
    assert h["X-RateLimit-Scope"] == "shared"
    assert h["Via"] == "1.1 google"
    # bucket headers describe the caller's own (fresh) webhook bucket ...
    assert h["X-RateLimit-Limit"] == "5"
    assert h["X-RateLimit-Remaining"] == "5"
    # ... Retry-After the shared resource: 30/60 s, T = 2 s -> 2 s wait
    assert body["retry_after"] == pytest.approx(2.0)
    assert h["Retry-After"] == "2"
    # another channel's webhooks are not affected
    other = eng.check(
        req(
            "POST",
            HOOK,
            app=None,
            params={"webhook_id": "5" * 18, "webhook_token": "z"},
            shared_resource=C2,
        )
    )
    assert other.allowed


def test_webhook_own_bucket_is_checked_before_the_shared_one(eng):
    hook = req(
        "POST",
        HOOK,
        app=None,
        params={"webhook_id": "4" * 18, "webhook_token": "w"},
        shared_resource=C1,
    )
    verdicts = run(eng, hook, 6)
    assert verdicts[-1].scope == "user"  # own 5 per 2 s, not the shared limit


def test_webhook_buckets_belong_to_the_webhook_not_the_caller(eng):
    params = {"webhook_id": "4" * 18, "webhook_token": "w"}
    run(eng, req("POST", HOOK, app=None, params=params), 5)
    v = eng.check(req("POST", HOOK, app=APP, ip="10.0.0.2", params=params))
    assert not v.allowed and v.scope == "user"


def test_interaction_token_buckets_cover_followups_and_original_edits(eng, clock):
    params = {"webhook_id": APP, "webhook_token": "interaction-token-1", "message_id": "7" * 18}
    routes = [
        ("POST", HOOK),
        ("PATCH", HOOK + "/messages/@original"),
        ("GET", HOOK + "/messages/@original"),
        ("PATCH", HOOK + "/messages/{message_id}"),
        ("DELETE", HOOK + "/messages/{message_id}"),
    ]
    verdicts = [
        eng.check(req(m, r, app=None, params=params, interaction_webhook=True)) for m, r in routes
    ]
    assert all(v.allowed and v.exempt and not v.counted for v in verdicts)
    assert {v.rule for v in verdicts} == {"interaction_webhook"}
    assert [v.headers["X-RateLimit-Remaining"] for v in verdicts] == ["4", "3", "2", "1", "0"]
    sixth = eng.check(
        req(
            "PATCH", HOOK + "/messages/@original", app=None, params=params, interaction_webhook=True
        )
    )
    assert not sixth.allowed and sixth.scope == "user" and not sixth.counted
    clock.advance(0.4)
    assert eng.check(req("POST", HOOK, app=None, params=params, interaction_webhook=True)).allowed


def test_fixed_window_route_member_roles(eng, clock):
    route = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"
    r = req("PUT", route, params={"guild_id": "6" * 18, "user_id": "1" * 18, "role_id": "2" * 18})
    first = eng.check(r)
    reset = first.headers["X-RateLimit-Reset"]
    clock.advance(3.0)
    rest = run(eng, r, 10)
    assert [v.allowed for v in rest] == [True] * 9 + [False]
    assert {v.headers["X-RateLimit-Reset"] for v in rest[:9]} == {reset}  # fixed end
    assert rest[-1].retry_after == pytest.approx(7.0)
    clock.advance(7.0)
    assert eng.check(r).headers["X-RateLimit-Remaining"] == "9"


def test_unbucketed_route_sends_no_bucket_headers(eng):
    v = eng.check(req("GET", "/users/@me", params={}))
    assert v.allowed and v.headers == {} and v.bucket_key is None and v.counted


def test_reset_clears_buckets_logs_and_bans(eng):
    run(eng, req("POST", MSG), 6)
    assert not eng.check(req("POST", MSG)).allowed
    eng.reset()
    assert eng.check(req("POST", MSG)).headers["X-RateLimit-Remaining"] == "4"
    assert eng.global_usage(APP) == (1, 50)


def test_configure_changes_a_route_limit_live(eng, clock):
    run(eng, req("POST", MSG), 5)
    assert not eng.check(req("POST", MSG)).allowed
    eng.configure(load_profile("discord").with_route_limit("message_create", limit=2, period=10.0))
    v = run(eng, req("POST", MSG), 3)
    assert [x.allowed for x in v] == [True, True, False]
    assert v[0].headers["X-RateLimit-Limit"] == "2"
    # an unchanged rule keeps its state across configure
    run(eng, req("PATCH", ONE), 5)
    eng.configure(load_profile("discord"))
    assert not eng.check(req("PATCH", ONE)).allowed


def test_bucket_snapshot_lists_hot_buckets_first(eng):
    run(eng, req("POST", MSG), 8)
    eng.check(req("POST", MSG, params={"channel_id": C2}))
    snap = eng.bucket_snapshot(top=5)
    assert snap[0]["route"] == "message_create"
    assert snap[0]["rate_limited"] == 3
    assert snap[0]["remaining"] == 0 and snap[0]["limit"] == 5
    assert snap[0]["reset_after"] == pytest.approx(5.0)
    assert snap[1]["rate_limited"] == 0
    assert len(eng.bucket_snapshot(top=1)) == 1


def test_prune_drops_full_buckets_but_keeps_ones_with_429s(eng, clock):
    eng.set_global_limit(APP, 1000)
    for i in range(100):
        eng.check(req("POST", MSG, params={"channel_id": str(10**17 + i)}))
    run(eng, req("POST", MSG), 6)
    assert len(eng) == 101
    clock.advance(5.0)
    eng.prune()
    assert len(eng) == 1
    assert eng.bucket_snapshot(1)[0]["rate_limited"] == 1


def test_memory_is_bounded_under_many_interaction_tokens(eng, clock):
    for i in range(20_000):
        eng.check(
            req(
                "POST",
                HOOK,
                app=None,
                interaction_webhook=True,
                params={"webhook_id": APP, "webhook_token": f"t{i}"},
            )
        )
        clock.advance(0.001)  # 20 s in all: early tokens' buckets are full again
    # automatic pruning every 8192 checks: what remains is the 3,616 tokens used since the
    # last prune (check 16,384) plus the ~400 used in the 0.4 s (one T) before it
    assert 3_900 < len(eng) < 4_100
