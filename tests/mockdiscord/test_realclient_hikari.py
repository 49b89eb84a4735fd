"""hikari 2.7, unchanged except for `RESTApp(url=...)`, against the mock (issue 2, §5).

hikari models sliding windows (and detects fixed ones from `X-RateLimit-Reset`), so on the
spec's §9 table it gets no 429 on either kind of bucket. Every figure asserted is the mock's.
"""

from __future__ import annotations

import hikari
import pytest

from tests.mockdiscord.realclients import (
    HikariDriver,
    burst_many_channels,
    burst_one_channel,
    hikari_client,
    make_profile,
    serve_mock,
)

pytestmark = pytest.mark.realclient


async def test_dm_send_edit_delete() -> None:
    async with serve_mock() as mock:
        (user_id,) = await mock.create_users(1)
        async with hikari_client(mock.api_base, mock.bot_token) as rest:
            me = await rest.fetch_my_user()
            assert str(me.id) == mock.state.world.default_application.bot.id

            user = await rest.fetch_user(int(user_id))
            dm = await rest.create_dm_channel(user)
            assert isinstance(dm, hikari.DMChannel)
            channel_id = str(dm.id)

            message = await rest.create_message(dm, "hello from hikari")
            stored = await mock.messages(channel_id)
            assert [m["content"] for m in stored] == ["hello from hikari"]
            assert stored[0]["id"] == str(message.id)

            edited = await rest.edit_message(dm, message, "edited by hikari")
            assert edited.content == "edited by hikari"
            assert [m["content"] for m in await mock.messages(channel_id)] == ["edited by hikari"]

            await rest.delete_message(dm, message)
            assert await mock.messages(channel_id) == []

        ledger = await mock.ledger()
        routes = [(e["method"], e["route"], e["status"]) for e in ledger]
        assert ("POST", "/users/@me/channels", 200) in routes
        assert ("PATCH", "/channels/{channel_id}/messages/{message_id}", 200) in routes
        assert ("DELETE", "/channels/{channel_id}/messages/{message_id}", 204) in routes
        assert all(status < 400 for _, _, status in routes), routes


async def test_twelve_sends_sliding_bucket_no_429() -> None:
    """Spec §9: hikari, sliding 5/5 s server: 0 x 429, 7.0 s."""
    async with (
        serve_mock(make_profile(message_algorithm="sliding")) as mock,
        hikari_client(mock.api_base, mock.bot_token) as rest,
    ):
        report = await burst_one_channel(mock, HikariDriver(rest), 12)
    assert report.total_429 == 0
    assert report.requests == 12
    assert report.failed == 0
    assert report.delivered == 12
    # The GCRA lower bound is 7 s; hikari's sliding model reaches it without a refusal.
    assert 7.0 - 0.05 <= report.span < 12.0


async def test_twelve_sends_fixed_window_bucket_no_429() -> None:
    """Spec §9: hikari, fixed-window server: 0 x 429, 10.0 s (it reads the fixed window
    from `X-RateLimit-Reset`)."""
    async with (
        serve_mock(make_profile(message_algorithm="fixed")) as mock,
        hikari_client(mock.api_base, mock.bot_token) as rest,
    ):
        report = await burst_one_channel(mock, HikariDriver(rest), 12)
    assert report.total_429 == 0
    assert report.requests == 12
    assert report.failed == 0
    assert report.delivered == 12
    assert 10.0 - 0.05 <= report.span < 20.0


async def test_sixty_channel_burst_all_delivered_under_the_global_limit() -> None:
    """hikari has no proactive global limiter: it gets global 429s (many: see
    docs/real-clients.md) but delivers everything, and the mock never lets 51 through."""
    async with (
        serve_mock(make_profile(global_algorithm="sliding")) as mock,
        hikari_client(mock.api_base, mock.bot_token) as rest,
    ):
        report = await burst_many_channels(mock, HikariDriver(rest), 60)
    assert report.rate_limited["global"] > 0
    assert report.rate_limited["user"] == 0
    assert report.failed == 0
    assert report.delivered == 60
    assert report.peak_1s <= 50
    assert 1.0 - 0.05 <= report.span < 10.0
