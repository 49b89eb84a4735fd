"""Harness for the app-layer unit tests: a signed-request helper, a scripted Discord REST
(`httpx.MockTransport`) that records every call, a stand-in dispatcher, and the bot's
endpoint on an in-process aiohttp `TestServer`."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from nacl.signing import SigningKey

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings, load_settings
from bot.discord import DiscordClient, RetryConfig
from bot.service import LadderService
from bot.store import Store

APP_ID = "900000000000000001"
ADMIN_ID = 700000000000000001
SIGNING_KEY = SigningKey(bytes(range(32)))
PUBLIC_KEY = SIGNING_KEY.verify_key.encode().hex()
DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(unix: float, increment: int = 0) -> int:
    return (int(unix * 1000) - DISCORD_EPOCH_MS) << 22 | increment


def sign(body: bytes, timestamp: str, key: SigningKey = SIGNING_KEY) -> str:
    return key.sign(timestamp.encode() + body).signature.hex()


@dataclass
class Call:
    method: str
    path: str
    body: Any


@dataclass
class FakeDiscord:
    """Answers like Discord for the routes the bot uses; `calls` records every request."""

    calls: list[Call] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(5_000_000_000))
    files: dict[str, bytes] = field(default_factory=dict)
    overrides: list[tuple[Callable[[httpx.Request], bool], Callable[..., Any]]] = field(
        default_factory=list
    )

    def on(self, match: Callable[[httpx.Request], bool], reply: Callable[..., Any]) -> None:
        """First matching override answers (``reply(request)`` may be async)."""
        self.overrides.append((match, reply))

    def paths(self, method: str | None = None) -> list[str]:
        return [c.path for c in self.calls if method is None or c.method == method]

    async def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        if request.url.host == "cdn.test":
            if path not in self.files:
                return httpx.Response(404, text="no such file")
            return httpx.Response(200, content=self.files[path])
        self.calls.append(Call(request.method, path, body))
        for match, reply in self.overrides:
            if match(request):
                result = reply(request)
                if asyncio.iscoroutine(result):
                    result = await result
                return result
        if path.endswith("/callback"):
            return httpx.Response(204)
        if request.method == "PUT" and path.endswith("/commands"):
            return httpx.Response(200, json=[dict(c, id=str(next(self.ids))) for c in body])
        if (request.method in ("GET", "PATCH", "POST") and "/messages" in path) or (
            request.method == "POST" and path.startswith("/api/v10/webhooks/")
        ):
            return httpx.Response(200, json={"id": str(next(self.ids)), **(body or {})})
        if path == "/api/v10/users/@me/channels":
            return httpx.Response(200, json={"id": str(next(self.ids)), "type": 1})
        return httpx.Response(404, json={"message": "404: Not Found", "code": 0})


class FakeDispatcher:
    """Stands in for `bot.notify.Dispatcher`: counts wakes, keeps the strategy."""

    def __init__(self) -> None:
        self.wakes = 0
        self.started = False
        self.stopped = False
        self._strategy = "paced"

    @property
    def strategy(self) -> str:
        return self._strategy

    async def start(self) -> None:
        self.started = True

    def wake(self) -> None:
        self.wakes += 1

    async def stop(self) -> None:
        self.stopped = True

    def set_strategy(self, name: str) -> None:
        if name not in ("naive", "sequential", "batched", "paced"):
            raise ValueError(f"unknown dispatch strategy {name!r}")
        self._strategy = name

    def snapshot(self) -> dict[str, Any]:
        return {"strategy": self._strategy, "current_wave": None, "recent_waves": []}


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "api_base": "http://discord.test/api/v10",
        "token": "bot-token",
        "application_id": APP_ID,
        "public_key": PUBLIC_KEY,
        "listen": "127.0.0.1:0",
        "db": str(tmp_path / "ladder.db"),
        "admin_ids": str(ADMIN_ID),
        "wave_interval": 0,
        "heartbeat_interval": 0,
    }
    values.update(overrides)
    return load_settings(values, {})


@dataclass
class Harness:
    clock: ManualClock
    discord: FakeDiscord
    store: Store
    service: LadderService
    dispatcher: FakeDispatcher
    http: TestClient
    next_id: itertools.count = field(default_factory=lambda: itertools.count(1))

    def snowflake(self) -> int:
        return snowflake_at(self.clock.wall(), next(self.next_id))

    def payload(self, user_id: int, kind: int, data: dict[str, Any], **extra: Any) -> dict:
        body = {
            "id": str(self.snowflake()),
            "application_id": APP_ID,
            "type": kind,
            "token": f"tok-{next(self.next_id)}",
            "version": 1,
            "user": {"id": str(user_id), "username": f"user{user_id % 1000}"},
            "channel": {"id": str(dm_channel(user_id)), "type": 1},
            "channel_id": str(dm_channel(user_id)),
            "data": data,
        }
        body.update(extra)
        return body

    def command(self, user_id: int, name: str, options: list[dict] | None = None, **data: Any):
        return self.payload(user_id, 2, {"id": "1", "name": name, "options": options or [], **data})

    def component(
        self, user_id: int, custom_id: str, values: list[str] | None = None, message_id: int = 1
    ) -> dict:
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 3 if values else 2}
        if values is not None:
            data["values"] = values
        return self.payload(user_id, 3, data, message={"id": str(message_id)})

    async def post(
        self,
        payload: Any,
        *,
        raw: bytes | None = None,
        timestamp: str | None = None,
        signature: str | None = None,
    ) -> tuple[int, Any]:
        body = raw if raw is not None else json.dumps(payload).encode()
        ts = timestamp if timestamp is not None else str(int(self.clock.wall()))
        headers = {
            "X-Signature-Ed25519": signature if signature is not None else sign(body, ts),
            "X-Signature-Timestamp": ts,
            "Content-Type": "application/json",
        }
        response = await self.http.post("/interactions", data=body, headers=headers)
        text = await response.text()
        return response.status, (json.loads(text) if text else None)

    def state(self) -> tuple[Any, ...]:
        """Everything a request could change, for "nothing changed" checks."""
        return (
            self.store.all_players(),
            self.store.queue_rows(),
            self.store.outbox_counts(),
            self.store.open_matches(),
            self.store.recent_waves(),
        )


def dm_channel(user_id: int) -> int:
    return user_id + 1


def option(name: str, kind: int, value: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1000.0, wall_start=1_700_000_010.0)


@pytest_asyncio.fixture
async def harness(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path, clock) as h:
        yield h


def make_harness(tmp_path: Path, clock: ManualClock, **overrides: Any):
    import contextlib

    @contextlib.asynccontextmanager
    async def build() -> AsyncIterator[Harness]:
        settings = make_settings(tmp_path, **overrides)
        discord = FakeDiscord()
        store = Store(settings.db_path, settings.ladder)
        client = DiscordClient(
            settings.token,
            settings.api_base,
            clock=clock,
            transport=httpx.MockTransport(discord.handler),
            retry=RetryConfig(max_attempts=1, max_rate_limit_retries=0),
        )
        http = httpx.AsyncClient(transport=httpx.MockTransport(discord.handler))
        dispatcher = FakeDispatcher()
        service = LadderService(
            settings, store, client, clock, dispatcher=dispatcher, http=http, sleep=_no_sleep
        )
        server = TestServer(create_app(service, manage_service=False))
        test_client = TestClient(server)
        await test_client.start_server()
        try:
            yield Harness(clock, discord, store, service, dispatcher, test_client)
        finally:
            await service.drain()
            await service.stop()
            await test_client.close()
            await client.aclose()
            await http.aclose()
            store.close()

    return build()


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)
