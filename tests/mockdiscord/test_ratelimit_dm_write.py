"""Coded hidden limits: opening DMs too fast (403 40003), channel write limit (429 20028)."""

import dataclasses
import json
import textwrap

import pytest

from mockdiscord.clock import ManualClock
from mockdiscord.profile import ChannelWriteLimit, LimitSpec, ProfileError, load_profile
from mockdiscord.ratelimit import RateLimitEngine, RateLimitRequest
from tests.mockdiscord.conftest import Mock, MockFactory

APP_A = "111111111111111111"
APP_B = "222222222222222222"
APP_C = "333333333333333333"
IP = "10.0.0.1"
C1 = "123456789012345678"
C2 = "223456789012345678"
DM = "/users/@me/channels"
MSG = "/channels/{channel_id}/messages"
ONE = "/channels/{channel_id}/messages/{message_id}"

DISCORD = load_profile("discord")
WITH_DM = dataclasses.replace(DISCORD, dm_open=LimitSpec(3, 9.0))
WITH_WRITE = dataclasses.replace(DISCORD, channel_write=ChannelWriteLimit(LimitSpec(10, 3.0)))


def req(method, route, app=APP_A, channel=C1):
    params = {"channel_id": channel, "message_id": "9" * 18} if "channel_id" in route else {}
    return RateLimitRequest(method, route, params, IP, token="t" + app, application_id=app)


# ------------------------------------------------------------------------- the profile


def test_both_are_off_in_the_builtin_profile_and_nothing_is_refused():
    assert DISCORD.dm_open is None and DISCORD.channel_write is None
    clock = ManualClock()
    eng = RateLimitEngine(DISCORD, clock)
    for _ in range(200):  # 200 DM opens at 20/s: only the global limit could refuse them
        assert eng.check(req("POST", DM)).allowed
        clock.advance(0.05)
    # 40 apps writing 5 messages each to one channel in the same instant
    for app in range(40):
        for _ in range(5):
            assert eng.check(req("POST", MSG, app=str(10**17 + app))).allowed


def test_tables_parse_with_defaults_and_bad_keys_are_one_line_errors(tmp_path):
    good = tmp_path / "coded.toml"
    good.write_text(
        "[dm_open]\nlimit = 20\nperiod = 10\n\n[channel_write]\nlimit = 10\nperiod = 3\n"
    )
    p = load_profile(good)
    assert p.dm_open == LimitSpec(20, 10.0, "sliding")
    assert p.channel_write == ChannelWriteLimit(
        LimitSpec(10, 3.0), ("POST /channels/{channel_id}/messages",)
    )
    bad_cases = {
        "[dm_open]\nlimit = 0\nperiod = 1\n": "dm_open.limit: expected a positive integer",
        "[dm_open]\nlimit = 2\n": "dm_open.period: missing (required)",
        "[channel_write]\nlimit = 2\nperiod = 1\nroutes = ['GET /gateway/bot']\n": (
            'channel_write.routes[0]: expected a route with a {channel_id}, got "GET /gateway/bot"'
        ),
        "[channel_write]\nlimit = 2\nperiod = 1\nretry = 0.3\n": "channel_write.retry: unknown key",
    }
    for text, expected in bad_cases.items():
        path = tmp_path / "bad.toml"
        path.write_text(textwrap.dedent(text))
        with pytest.raises(ProfileError) as caught:
            load_profile(path)
        assert str(caught.value).startswith(f"{path}: {expected}"), str(caught.value)
        assert "\n" not in str(caught.value)


# ------------------------------------------------------------------------- DM opening


def test_opening_dms_too_fast_is_a_403_code_40003_per_application():
    clock = ManualClock()
    eng = RateLimitEngine(WITH_DM, clock)
    assert all(eng.check(req("POST", DM)).allowed for _ in range(3))
    refused = eng.check(req("POST", DM))
    assert not refused.allowed and refused.response is not None
    assert refused.response.status == 403
    assert json.loads(refused.response.body) == {
        "message": "You are opening direct messages too fast.",
        "code": 40003,
    }
    headers = refused.response.headers
    assert headers["Content-Type"] == "application/json" and headers["Via"] == "1.1 google"
    assert "Retry-After" not in headers and "X-RateLimit-Bucket" not in headers
    assert refused.code == 40003 and refused.rule == "dm_open" and refused.scope is None
    assert refused.counted  # it passed the global limit and spent its budget
    assert refused.retry_after == pytest.approx(3.0)
    # per application: another bot opens DMs freely
    assert eng.check(req("POST", DM, app=APP_B)).allowed
    # sliding: one open returns every 9/3 = 3 s; the refusal consumed nothing
    clock.advance(2.999)
    assert not eng.check(req("POST", DM)).allowed
    clock.advance(0.001)
    assert eng.check(req("POST", DM)).allowed
    assert not eng.check(req("POST", DM)).allowed


def test_dm_limit_only_touches_dm_opening_and_a_live_swap_turns_it_off():
    clock = ManualClock()
    eng = RateLimitEngine(WITH_DM, clock)
    for _ in range(3):
        eng.check(req("POST", DM))
    assert eng.check(req("POST", DM)).response.status == 403
    assert eng.check(req("POST", MSG)).allowed
    assert eng.check(req("GET", "/users/@me")).allowed
    eng.configure(DISCORD)
    assert eng.check(req("POST", DM)).allowed


# ------------------------------------------------------------------------- channel writes


def test_channel_write_limit_counts_every_writer_and_answers_20028():
    clock = ManualClock()
    eng = RateLimitEngine(WITH_WRITE, clock)
    for app in (APP_A, APP_B):
        assert all(eng.check(req("POST", MSG, app=app)).allowed for _ in range(5))
    refused = eng.check(req("POST", MSG, app=APP_C))  # C's own bucket is untouched
    assert not refused.allowed and refused.response is not None
    assert refused.response.status == 429
    body = json.loads(refused.response.body)
    assert body == {
        "message": "The write action you are performing on the channel has hit the write rate "
        "limit.",
        "retry_after": 0.3,
        "global": False,
        "code": 20028,
    }
    headers = refused.response.headers
    assert headers["Retry-After"] == "1" and headers["Via"] == "1.1 google"
    assert headers["X-RateLimit-Scope"] == "user"
    # the caller's own bucket: full, since the refusal consumed nothing
    assert (headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == ("5", "5")
    assert "X-RateLimit-Global" not in headers
    assert (refused.scope, refused.code, refused.rule) == ("user", 20028, "channel_write")
    # another channel, and a route not in `routes` (edit), are not affected
    assert eng.check(req("POST", MSG, app=APP_C, channel=C2)).allowed
    assert eng.check(req("PATCH", ONE, app=APP_C)).allowed
    clock.advance(0.299)
    assert not eng.check(req("POST", MSG, app=APP_C)).allowed
    clock.advance(0.001)
    allowed = eng.check(req("POST", MSG, app=APP_C))
    assert allowed.allowed and allowed.headers["X-RateLimit-Remaining"] == "4"


def test_own_bucket_refusal_comes_first_and_spends_no_write_budget():
    clock = ManualClock()
    eng = RateLimitEngine(WITH_WRITE, clock)
    assert all(eng.check(req("POST", MSG)).allowed for _ in range(5))
    for _ in range(20):  # A's own bucket refuses: a plain user 429, no code
        own = eng.check(req("POST", MSG))
        assert own.code is None and b'"code"' not in own.response.body
    # 5 of the channel's 10 writes are used, so B gets exactly 5 more
    assert all(eng.check(req("POST", MSG, app=APP_B)).allowed for _ in range(5))
    assert eng.check(req("POST", MSG, app=APP_C)).code == 20028


def test_write_limit_applies_to_a_route_without_a_bucket():
    profile = dataclasses.replace(
        DISCORD,
        routes=(),
        channel_write=ChannelWriteLimit(
            LimitSpec(2, 1.0), ("POST /channels/{channel_id}/messages",)
        ),
    )
    eng = RateLimitEngine(profile, ManualClock())
    first = eng.check(req("POST", MSG))
    assert first.allowed and first.headers == {}
    assert eng.check(req("POST", MSG, app=APP_B)).allowed
    refused = eng.check(req("POST", MSG))
    assert refused.response.status == 429 and refused.code == 20028
    headers = refused.response.headers
    assert headers["X-RateLimit-Scope"] == "user" and "X-RateLimit-Bucket" not in headers
    assert json.loads(refused.response.body)["retry_after"] == 0.5


# ------------------------------------------------------------------------- over HTTP


async def test_http_opening_dms_too_fast(make_mock: MockFactory) -> None:
    mock: Mock = await make_mock(profile=dataclasses.replace(DISCORD, dm_open=LimitSpec(2, 60.0)))
    users = [await mock.new_user() for _ in range(3)]
    statuses = []
    for user in users:
        response = await mock.api("POST", DM, json={"recipient_id": user})
        statuses.append(response.status)
    assert statuses == [200, 200, 403]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Via"] == "1.1 google"
    assert await response.json() == {
        "message": "You are opening direct messages too fast.",
        "code": 40003,
    }
    dm = await (await mock.control("GET", f"/users/{users[2]}/dm")).json()
    assert dm["channel_id"] is None  # refused before the handler: no channel was opened
    stats = await (await mock.control("GET", "/stats")).json()
    assert stats["responses_by_status"]["403"] == 1
    assert stats["invalid_requests"] == 1  # a 403 counts toward the ban threshold
    assert sum(stats["rate_limited"].values()) == 0  # it is not a 429
    mock.clock.advance(30.0)  # sliding: one open back every 30 s
    response = await mock.api("POST", DM, json={"recipient_id": users[2]})
    assert response.status == 200


async def test_http_channel_write_limit(make_mock: MockFactory) -> None:
    profile = dataclasses.replace(DISCORD, channel_write=ChannelWriteLimit(LimitSpec(2, 0.6)))
    mock: Mock = await make_mock(profile=profile)
    channel = await mock.new_dm()
    path = f"/channels/{channel}/messages"
    ok = [await mock.api("POST", path, json={"content": f"m{i}"}) for i in range(2)]
    assert [r.status for r in ok] == [200, 200]
    refused = await mock.api("POST", path, json={"content": "m2"})
    assert refused.status == 429
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-RateLimit-Scope"] == "user"
    assert refused.headers["X-RateLimit-Remaining"] == "3"  # own bucket: 5 - 2
    assert "X-RateLimit-Global" not in refused.headers
    body = await refused.json()
    assert (body["code"], body["retry_after"], body["global"]) == (20028, 0.3, False)
    messages = await (await mock.control("GET", f"/channels/{channel}/messages")).json()
    assert [m["content"] for m in messages["messages"]] == ["m0", "m1"]
    stats = await (await mock.control("GET", "/stats")).json()
    assert stats["rate_limited"]["user"] == 1 and stats["invalid_requests"] == 1
    mock.clock.advance(0.3)
    assert (await mock.api("POST", path, json={"content": "m2"})).status == 200


def test_the_suggested_figures_in_docs_profiles_md_load(tmp_path):
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "profiles.md").read_text()
    section = doc.split("## `[dm_open]` and `[channel_write]`", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "suggested.toml"
    path.write_text(example)
    p = load_profile(path)
    assert p.dm_open == LimitSpec(20, 10.0)
    assert p.channel_write == ChannelWriteLimit(LimitSpec(10, 3.0))
    assert p.channel_write.spec.period / p.channel_write.spec.limit == pytest.approx(0.3)
