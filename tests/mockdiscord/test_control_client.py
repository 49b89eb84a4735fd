"""The shared control-plane client (`mockdiscord.control_client`) against a real mock on
loopback: refusals carry the mock's field, a dead address is a one-line error, the ledger
tails from an absolute index, and the requests it builds are the documented ones."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mockdiscord.control_client import ControlClient, ControlPlaneError, describe
from mockdiscord.harness import MockDiscord, run_mock


@pytest.fixture
async def mock() -> AsyncIterator[MockDiscord]:
    async with run_mock(seed=1) as running:
        yield running


@pytest.fixture
async def client(mock: MockDiscord) -> AsyncIterator[ControlClient]:
    async with aiohttp.ClientSession() as session:
        yield ControlClient(mock.base_url + "/", session)  # a trailing slash is forgiven


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def api_get(mock: MockDiscord, path: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(mock.api_base + path, headers={"Authorization": f"Bot {mock.bot_token}"}) as r,
    ):
        await r.read()
        return r.status


async def test_a_refusal_carries_status_field_and_the_mocks_reason(client: ControlClient) -> None:
    with pytest.raises(ControlPlaneError) as info:
        await client.configure(global_limit=0)
    error = info.value
    assert (error.status, error.field, error.what) == (400, "global_limit", "PUT /_mock/config")
    assert "global_limit must be" in error.error
    assert "\n" not in str(error)
    assert str(error).startswith("mock control plane answered 400 to PUT /_mock/config: ")
    assert str(error).endswith("(field global_limit)")
    # nothing changed: a refused request is all-or-nothing
    assert (await client.config())["global_limit"] == 50


async def test_an_unknown_id_is_a_404_naming_the_path_parameter(client: ControlClient) -> None:
    with pytest.raises(ControlPlaneError) as info:
        await client.run_command("123", "queue")
    assert (info.value.status, info.value.field) == (404, "user_id")


async def test_connection_refused_is_one_line_with_no_status() -> None:
    async with aiohttp.ClientSession() as session:
        client = ControlClient(f"http://127.0.0.1:{closed_port()}", session)
        with pytest.raises(ControlPlaneError) as info:
            await client.stats()
        with pytest.raises(ControlPlaneError) as ws_info:
            async with client.events(["tick"]):
                pytest.fail("connected to a closed port")
    error = info.value
    assert error.status is None and error.what == "GET /_mock/stats"
    assert str(error).startswith("mock control plane gave no answer to GET /_mock/stats: ")
    assert "\n" not in str(error)
    assert ws_info.value.status is None and ws_info.value.what == "GET /_mock/events"


async def test_the_ledger_tails_from_an_absolute_index(
    mock: MockDiscord, client: ControlClient
) -> None:
    assert await api_get(mock, "/users/@me") == 200
    start = await client.ledger_tail()
    assert start.total == len(start.entries) == 1
    assert await api_get(mock, "/gateway/bot") == 200
    assert await api_get(mock, "/users/404") == 404
    tail = await client.ledger_tail(start.total)
    assert [(e["route"], e["status"]) for e in tail.entries] == [
        ("/gateway/bot", 200),
        ("/users/{user_id}", 404),
    ]
    assert tail.total == 3
    assert await client.ledger(after=1) == tail.entries
    assert await client.ledger() == start.entries + tail.entries
    assert (await client.ledger_tail(tail.total)).entries == []
    with pytest.raises(ControlPlaneError) as info:
        await client.call("GET", "/ledger?after=-1")
    assert info.value.field == "after"


async def test_users_commands_and_dms_round_trip(mock: MockDiscord, client: ControlClient) -> None:
    default = await client.default_application()
    assert default["id"] == mock.application_id
    named = await client.create_user("ana")
    crowd = await client.create_users(3, prefix="p-")
    closed = await client.create_user(dms_closed=True)
    users = {u["id"]: u for u in (await client.call("GET", "/users"))["users"]}
    assert users[named]["username"] == "ana"
    crowd_names = {users[i]["username"] for i in crowd}
    assert len(crowd_names) == 3 and all(n.startswith("p-") for n in crowd_names)
    assert users[closed]["dms_closed"] is True
    await client.set_dms_closed(closed, False)
    users = {u["id"]: u for u in (await client.call("GET", "/users"))["users"]}
    assert users[closed]["dms_closed"] is False
    # the application registered no commands: the mock refuses, naming the field
    with pytest.raises(ControlPlaneError) as info:
        await client.run_command(named, "queue")
    assert (info.value.status, info.value.field) == (400, "name")
    dm = await client.dm_channel(named)
    assert dm["messages"] == [] and "channel_id" in dm
    assert await client.guild_text_channel() is not None
    patched = await client.patch_application(default["id"], global_limit=7)
    assert patched["global_limit"] == 7


async def test_the_events_url_carries_the_filters_and_the_queue() -> None:
    async with aiohttp.ClientSession() as session:
        client = ControlClient("http://127.0.0.1:1/", session)
        assert client.events_url() == "http://127.0.0.1:1/_mock/events"
        assert client.events_url(["tick", "ban"], channel="42", queue=8) == (
            "http://127.0.0.1:1/_mock/events?queue=8&types=tick,ban&channel=42"
        )


async def test_the_event_stream_says_hello_and_delivers(mock: MockDiscord) -> None:
    async with mock.events(types=["tick"]) as stream:
        assert stream.hello["types"] == ["tick"]
        assert (await stream.next("tick"))["type"] == "tick"


async def test_a_mock_listing_no_default_application_is_an_error_not_a_crash() -> None:
    async def applications(request: web.Request) -> web.Response:
        return web.json_response({"applications": [{"id": "1", "default": False}]})

    app = web.Application()
    app.router.add_get("/_mock/applications", applications)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        client = ControlClient(str(server.make_url("")), session)
        with pytest.raises(ControlPlaneError) as info:
            await client.default_application()
    assert "no default application" in str(info.value)


def test_describe_is_one_line() -> None:
    assert describe({"error": "bad", "field": "x"}) == "bad (field x)"
    assert describe({"error": "bad", "field": None}) == "bad"
    assert describe("line one\nline two") == "line one line two"
    assert len(describe("x" * 1000)) == 200
