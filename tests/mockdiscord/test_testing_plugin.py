"""The pytest plugin, used the way another bot project would use it.

The distribution declares the `pytest11` entry point, so the fixtures are simply there,
as they are for any project that installs it.
"""

import aiohttp
import pytest

from mockdiscord.harness import ControlPlaneError, MockDiscord, run_mock
from tests.mockdiscord.testbot import SignedTestBot, reply

PING_COMMAND = {"name": "ping", "description": "pong?", "options": []}


async def register_commands(mock: MockDiscord, commands) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.put(
            f"{mock.api_base}/applications/{mock.application_id}/commands",
            json=commands,
            headers={"Authorization": f"Bot {mock.bot_token}"},
        ) as response,
    ):
        assert response.status == 200


async def test_credentials_work_with_a_plain_http_client(mockdiscord: MockDiscord) -> None:
    assert mockdiscord.api_base.startswith("http://127.0.0.1:")
    assert len(mockdiscord.public_key) == 64
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{mockdiscord.api_base}/users/@me",
            headers={"Authorization": f"Bot {mockdiscord.bot_token}"},
        ) as response,
    ):
        assert response.status == 200
        assert (await response.json())["id"] == mockdiscord.bot_user_id


async def test_a_player_runs_a_command_and_reads_the_answer(mockdiscord: MockDiscord) -> None:
    async def pong(payload):
        return reply({"type": 4, "data": {"content": "pong"}})

    await register_commands(mockdiscord, [PING_COMMAND])
    async with SignedTestBot(mockdiscord.public_key, pong) as bot:
        await mockdiscord.set_interactions_url(bot.url)
        player = await mockdiscord.create_user("ana")
        result = await mockdiscord.run_command(player, "ping")
        assert result["outcome"] == "responded"
        assert [m["content"] for m in await mockdiscord.dm(player)] == ["pong"]
    assert bot.pings == 1


async def test_refusals_raise_with_the_field(mockdiscord: MockDiscord) -> None:
    player = await mockdiscord.create_user()
    with pytest.raises(ControlPlaneError) as info:
        await mockdiscord.run_command(player, "nope")
    assert info.value.field == "name"
    assert info.value.status == 400


async def test_configure_changes_limits_live(mockdiscord: MockDiscord) -> None:
    config = await mockdiscord.configure(global_limit=7)
    assert config["global_limit"] == 7


async def test_event_stream_ticks(mockdiscord: MockDiscord) -> None:
    async with mockdiscord.events(types=["tick"]) as stream:
        assert stream.hello["types"] == ["tick"]
        tick = await stream.next("tick")
        assert tick["interval_s"] == 0.25


async def test_users_and_stats(mockdiscord: MockDiscord) -> None:
    players = await mockdiscord.create_users(3, prefix="p")
    closed = await mockdiscord.create_user(dms_closed=True)
    assert len(set(players)) == 3
    assert closed not in players
    stats = await mockdiscord.stats()
    assert stats["requests"] == 0  # the control plane is not counted


async def test_factory_and_context_manager_take_options() -> None:
    async with run_mock(seed=3) as first, run_mock(seed=3) as second:
        assert first.public_key == second.public_key
        assert first.base_url != second.base_url


async def test_factory_fixture(mockdiscord_factory) -> None:
    mock = await mockdiscord_factory(seed=11)
    await mock.reset()
    assert mock.application_id


async def test_a_mock_that_is_gone_raises_control_plane_error_not_a_client_error() -> None:
    async with run_mock(seed=1) as gone:
        base_url, state = gone.base_url, gone.state
    async with aiohttp.ClientSession() as http:
        mock = MockDiscord(base_url, http, state)  # as a test drives a mock in a subprocess
        with pytest.raises(ControlPlaneError) as info:
            await mock.stats()
    assert info.value.status is None
    assert info.value.what == "GET /_mock/stats"
    assert "\n" not in str(info.value)


async def test_the_ledger_and_the_dm_through_the_harness(mockdiscord: MockDiscord) -> None:
    player = await mockdiscord.create_user("ana")
    assert await mockdiscord.dm(player) == []  # a list of messages, not the DM object
    await register_commands(mockdiscord, [PING_COMMAND])  # one API request
    (entry,) = await mockdiscord.ledger()
    assert (entry["method"], entry["status"]) == ("PUT", 200)
    assert entry["route"].endswith("/commands")
    assert await mockdiscord.ledger(after=1) == []
