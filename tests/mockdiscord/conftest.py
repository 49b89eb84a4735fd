"""Fixtures: a mock server on loopback (aiohttp TestServer) driven by a ManualClock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from mockdiscord.clock import ManualClock
from mockdiscord.server import STATE_KEY, MockConfig, MockState, create_app

API = "/api/v10"


@dataclass
class Mock:
    client: TestClient
    state: MockState
    clock: ManualClock

    @property
    def token(self) -> str:
        return self.state.world.default_application.bot_token

    @property
    def app_id(self) -> str:
        return self.state.world.default_application.id

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bot {self.token}"}

    async def api(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        token: str | None = "default",
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> ClientResponse:
        sent = dict(headers or {})
        if token == "default":
            sent.update(self.auth)
        elif token is not None:
            sent["Authorization"] = f"Bot {token}"
        response = await self.client.request(
            method, API + path, json=json, data=data, headers=sent, params=params
        )
        await response.read()
        return response

    async def control(self, method: str, path: str, *, json: Any = None) -> ClientResponse:
        response = await self.client.request(method, "/_mock" + path, json=json)
        await response.read()
        return response

    async def new_user(self, *, dms_closed: bool = False) -> str:
        response = await self.control("POST", "/users", json={"count": 1, "dms_closed": dms_closed})
        assert response.status == 201
        return (await response.json())["ids"][0]

    async def new_dm(self, *, dms_closed: bool = False) -> str:
        user_id = await self.new_user(dms_closed=dms_closed)
        response = await self.api("POST", "/users/@me/channels", json={"recipient_id": user_id})
        assert response.status == 200
        return (await response.json())["id"]


MockFactory = Callable[..., Awaitable[Mock]]


@pytest.fixture
async def make_mock() -> AsyncIterator[MockFactory]:
    clients: list[TestClient] = []

    async def factory(**config: Any) -> Mock:
        clock = config.pop("clock", None) or ManualClock()
        # No bot answers the URLs these tests set: skip the PING handshake unless asked.
        config.setdefault("interactions_handshake", False)
        app = create_app(MockConfig(clock=clock, seed=config.pop("seed", 7), **config))
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return Mock(client, app[STATE_KEY], clock)

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def mock(make_mock: MockFactory) -> Mock:
    return await make_mock()
