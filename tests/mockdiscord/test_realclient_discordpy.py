"""discord.py 2.7, unchanged except for `Route.BASE`, against the mock (issue 2, §5).

Every figure asserted here is the mock's: ledger entries, stored messages, `/_mock/stats`.
The 12-send cases use the real 5 per 5 s bucket of the spec's §9 table (about 10-11 s each)
because the point is to reproduce that table, figure for figure.
"""

from __future__ import annotations

import pytest

from tests.mockdiscord.realclients import (
    DiscordPyDriver,
    burst_many_channels,
    burst_one_channel,
    discord,
    discordpy_client,
    make_profile,
    serve_mock,
)

pytestmark = pytest.mark.realclient


async def test_login_dm_send_edit_delete_and_base_url_restored() -> None:
    original_base = discord.http.Route.BASE
    async with serve_mock() as mock:
        (user_id,) = await mock.create_users(1)
        async with discordpy_client(mock.api_base, mock.bot_token) as client:
            assert mock.api_base == discord.http.Route.BASE
            assert client.user is not None
            assert str(client.user.id) == mock.state.world.default_application.bot.id

            user = await client.fetch_user(int(user_id))
            dm = await user.create_dm()
            assert isinstance(dm, discord.DMChannel)
            channel_id = str(dm.id)

            message = await dm.send("hello from discord.py")
            stored = await mock.messages(channel_id)
            assert [m["content"] for m in stored] == ["hello from discord.py"]
            assert stored[0]["id"] == str(message.id)

            edited = await message.edit(content="edited by discord.py")
            assert edited.content == "edited by discord.py"
            assert [m["content"] for m in await mock.messages(channel_id)] == [
                "edited by discord.py"
            ]

            await message.delete()
            assert await mock.messages(channel_id) == []

            # The high-level objects and the raw HTTPClient reach the same mock state.
            raw = await client.http.send_message(int(channel_id), params=_params("raw"))
            assert [m["id"] for m in await mock.messages(channel_id)] == [raw["id"]]
        assert original_base == discord.http.Route.BASE

        ledger = await mock.ledger()
        routes = [(e["method"], e["route"], e["status"]) for e in ledger]
        assert ("POST", "/users/@me/channels", 200) in routes
        assert ("PATCH", "/channels/{channel_id}/messages/{message_id}", 200) in routes
        assert ("DELETE", "/channels/{channel_id}/messages/{message_id}", 204) in routes
        assert all(status < 400 for _, _, status in routes), routes


def _params(content: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=content)


async def test_twelve_sends_sliding_bucket_reproduce_the_spec_table() -> None:
    """Spec §9: discord.py thinks in fixed windows, so a sliding 5/5 s bucket refuses it
    (measured there: 7 x 429, 11.0 s); every message still arrives."""
    async with (
        serve_mock(make_profile(message_algorithm="sliding")) as mock,
        discordpy_client(mock.api_base, mock.bot_token) as client,
    ):
        report = await burst_one_channel(mock, DiscordPyDriver(client), 12)
    assert report.failed == 0
    assert report.delivered == 12
    assert report.rate_limited["user"] > 0  # the spec measured 7
    assert report.rate_limited["global"] == 0
    assert report.requests == 12 + report.total_429
    # GCRA 5 per 5 s: 12 sends need at least (12 - 5) * 1 s after the first one.
    assert 7.0 - 0.05 <= report.span < 20.0


async def test_twelve_sends_fixed_window_bucket_get_no_429() -> None:
    """Spec §9: on a fixed-window server discord.py's model is right: 0 x 429, 10.0 s."""
    async with (
        serve_mock(make_profile(message_algorithm="fixed")) as mock,
        discordpy_client(mock.api_base, mock.bot_token) as client,
    ):
        report = await burst_one_channel(mock, DiscordPyDriver(client), 12)
    assert report.failed == 0
    assert report.delivered == 12
    assert report.total_429 == 0
    assert report.requests == 12
    # Fixed 5-per-5 s windows from the first request: the 11th send opens the third window.
    assert 10.0 - 0.05 <= report.span < 20.0


async def test_sixty_channel_burst_hits_the_global_limit_and_recovers() -> None:
    async with serve_mock(make_profile(global_algorithm="sliding")) as mock:
        async with discordpy_client(mock.api_base, mock.bot_token) as client:
            report = await burst_many_channels(mock, DiscordPyDriver(client), 60)
        stats = await mock.stats()
    assert report.rate_limited["global"] > 0
    assert report.rate_limited["user"] == 0
    assert report.failed == 0
    assert report.delivered == 60
    assert report.peak_1s <= 50
    assert stats["rate_limited"]["global"] == report.rate_limited["global"]
    # 60 sends cannot all fit in one sliding second of 50: the last lands a second later.
    assert 1.0 - 0.05 <= report.span < 10.0
