"""`sandbox.control`: the sandbox's door to the mock (the shared client, with one-line
`ControlError`s) and to the bot, against a real mock on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from mockdiscord.harness import MockDiscord, run_mock
from sandbox.control import BotClient, ControlError, MockControl


@pytest.fixture
async def mock() -> AsyncIterator[MockDiscord]:
    async with run_mock(seed=1) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refusal_is_a_one_line_control_error(
    mock: MockDiscord, session: aiohttp.ClientSession
) -> None:
    control = MockControl(mock.base_url, session)
    with pytest.raises(ControlError) as info:
        await control.configure(global_limit=0)
    error = info.value
    assert (error.what, error.status) == ("PUT /_mock/config", 400)
    assert str(error).startswith("PUT /_mock/config: HTTP 400: global_limit must be")
    assert str(error).endswith("(field global_limit)")
    assert "\n" not in str(error)


async def test_no_answer_is_a_one_line_control_error(session: aiohttp.ClientSession) -> None:
    control = MockControl(f"http://127.0.0.1:{closed_port()}", session)
    for action in (control.stats, control.ledger, control.default_application):
        with pytest.raises(ControlError) as info:
            await action()
        assert info.value.status is None
        assert ": no answer: " in str(info.value) and "\n" not in str(info.value)


async def test_the_sandbox_shapes_of_dm_and_interactions_url(
    mock: MockDiscord, session: aiohttp.ClientSession
) -> None:
    control = MockControl(mock.base_url, session)
    app = await control.default_application()
    (user,) = await control.create_users(names=["ana"])
    dm = await control.dm(user)
    assert set(dm) >= {"channel_id", "messages"}
    patched = await control.set_interactions_url(app["id"], None)
    assert patched["id"] == app["id"] and patched["interactions_url"] is None
    assert [e["route"] for e in await control.ledger()] == []  # control calls are not API


async def test_the_crowds_event_stream_asks_for_the_largest_queue(
    mock: MockDiscord, session: aiohttp.ClientSession
) -> None:
    control = MockControl(mock.base_url, session)
    url = control.events_url(("message_created", "message_updated"))
    assert url == (
        f"{mock.base_url}/_mock/events?queue=65536&types=message_created,message_updated"
    )
    async with session.ws_connect(url) as ws:
        hello = await ws.receive_json(timeout=5.0)
    assert hello["max_queue"] == 65536


async def test_the_bot_client_reports_a_missing_bot_without_a_traceback(
    session: aiohttp.ClientSession,
) -> None:
    bot = BotClient(f"http://127.0.0.1:{closed_port()}", session)
    assert await bot.healthz() is False
    with pytest.raises(ControlError) as info:
        await bot.status()
    assert str(info.value).startswith("GET bot /status: no answer: ")
