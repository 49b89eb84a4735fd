"""`mockdiscord.harness`: run a real mock Discord in-process and drive it from code.

`async with run_mock() as mock:` starts a real server on a free loopback port (the bot
talks to it over HTTP, exactly as to Discord: `api_base`, `bot_token`, `public_key`) and
stops it afterwards. `MockDiscord`'s helpers go through the mock's public control plane
(`/_mock/...`), so what a test does here it can also do with curl; `MockDiscord.state` is
there for white-box checks. The pytest plugin `mockdiscord.testing` wraps this in fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from mockdiscord.clock import Clock, SystemClock
from mockdiscord.profile import Profile
from mockdiscord.server import STATE_KEY, MockConfig, MockState, create_app

__all__ = [
    "ControlPlaneError",
    "EventStream",
    "MockDiscord",
    "run_mock",
]


class ControlPlaneError(AssertionError):
    """A control-plane call was refused; `status`, `field` and `error` say why."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.field = body.get("field") if isinstance(body, dict) else None
        self.error = body.get("error") if isinstance(body, dict) else str(body)
        super().__init__(f"mock control plane answered {status}: {self.error} (field {self.field})")


@dataclass
class EventStream:
    """An open `/_mock/events` WebSocket; `next()` returns the next (matching) event."""

    ws: aiohttp.ClientWebSocketResponse
    hello: dict[str, Any]

    async def next(self, kind: str | None = None, *, within: float = 5.0) -> dict[str, Any]:
        """The next event (of type `kind`, skipping others) within `within` seconds."""
        async with asyncio.timeout(within):
            while True:
                message = await self.ws.receive()
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"the event stream closed ({message.type.name})")
                event: dict[str, Any] = json.loads(message.data)
                if kind is None or event["type"] == kind:
                    return event


@dataclass
class MockDiscord:
    """A running mock and helpers to drive it as the players and the referee."""

    base_url: str
    session: aiohttp.ClientSession
    state: MockState
    application: dict[str, Any] = field(default_factory=dict)

    # credentials -----------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """What a client library uses as its API base, e.g. `http://127.0.0.1:PORT/api/v10`."""
        return self.base_url + "/api/v10"

    @property
    def application_id(self) -> str:
        return str(self.application["id"])

    @property
    def bot_token(self) -> str:
        return str(self.application["bot_token"])

    @property
    def public_key(self) -> str:
        return str(self.application["public_key"])

    @property
    def bot_user_id(self) -> str:
        return str(self.application["bot_user_id"])

    # the control plane -------------------------------------------------------------------

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call `/_mock{path}`; raise `ControlPlaneError` on a 4xx/5xx."""
        async with self.session.request(method, f"{self.base_url}/_mock{path}", json=body) as r:
            text = await r.text()
            data = json.loads(text) if text and r.content_type == "application/json" else text
            if r.status >= 400:
                raise ControlPlaneError(r.status, data)
            return data

    async def create_user(self, name: str | None = None, *, dms_closed: bool = False) -> str:
        """A new fake player; returns their user id."""
        body: dict[str, Any] = {"dms_closed": dms_closed}
        if name is None:
            body["count"] = 1
        else:
            body["names"] = [name]
        return str((await self.control("POST", "/users", body))["ids"][0])

    async def create_users(
        self, count: int, *, prefix: str = "player", dms_closed: bool = False
    ) -> list[str]:
        body = {"count": count, "prefix": prefix, "dms_closed": dms_closed}
        return [str(i) for i in (await self.control("POST", "/users", body))["ids"]]

    async def set_interactions_url(
        self, url: str | None, *, verify_probe: bool = False, application_id: str | None = None
    ) -> dict[str, Any]:
        """Point the application at a bot's interactions endpoint (the mock PINGs it)."""
        body: dict[str, Any] = {"interactions_url": url, "verify_probe": verify_probe}
        return dict(
            await self.control(
                "PATCH", f"/applications/{application_id or self.application_id}", body
            )
        )

    async def run_command(
        self,
        user_id: str,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        application_id: str | None = None,
    ) -> dict[str, Any]:
        """Make a user run a slash command; returns the delivery outcome."""
        body: dict[str, Any] = {"name": name, "options": dict(options or {})}
        if application_id is not None:
            body["application_id"] = application_id
        return dict(await self.control("POST", f"/users/{user_id}/commands", body))

    async def click(
        self,
        user_id: str,
        message_id: str,
        custom_id: str,
        values: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """Make a user press a button (or pick select `values`) on a message in their DM."""
        body: dict[str, Any] = {"message_id": message_id, "custom_id": custom_id}
        if values is not None:
            body["values"] = list(values)
        return dict(await self.control("POST", f"/users/{user_id}/components", body))

    async def dm(self, user_id: str) -> list[dict[str, Any]]:
        """The messages in the user's DM with the bot, oldest first, as the user sees them."""
        return list((await self.control("GET", f"/users/{user_id}/dm"))["messages"])

    async def stats(self) -> dict[str, Any]:
        return dict(await self.control("GET", "/stats"))

    async def ledger(self) -> list[dict[str, Any]]:
        text = await self.control("GET", "/ledger")
        if isinstance(text, str):
            return [json.loads(line) for line in text.splitlines() if line]
        return [text]

    async def configure(self, **settings: Any) -> dict[str, Any]:
        """Change limits and faults live (`PUT /_mock/config`), for example
        `configure(global_limit=10, routes={"message_create": {"limit": 2}},
        faults={"errors": {"rate": 0.1}}, interaction_deadline=1.0)`."""
        return dict(await self.control("PUT", "/config", settings))

    async def reset(self) -> None:
        await self.control("POST", "/reset")
        await self._load_application()

    @contextlib.asynccontextmanager
    async def events(
        self, types: Iterable[str] | None = None, channel: str | None = None
    ) -> AsyncIterator[EventStream]:
        """Subscribe to the live event stream for the duration of the `async with`."""
        params = {}
        if types is not None:
            params["types"] = ",".join(types)
        if channel is not None:
            params["channel"] = channel
        async with self.session.ws_connect(f"{self.base_url}/_mock/events", params=params) as ws:
            hello = json.loads((await ws.receive(timeout=5.0)).data)
            yield EventStream(ws, hello)

    async def _load_application(self) -> None:
        apps = (await self.control("GET", "/applications"))["applications"]
        self.application = next(a for a in apps if a["default"])


@contextlib.asynccontextmanager
async def run_mock(
    *,
    profile: str | Path | Profile = "discord",
    seed: int | None = None,
    bot_token: str | None = None,
    clock: Clock | None = None,
    host: str = "127.0.0.1",
) -> AsyncIterator[MockDiscord]:
    """Start a mock on a free port of `host` for the duration of the `async with`."""
    config = MockConfig(
        clock=clock or SystemClock(),
        profile=profile,
        seed=seed,
        bot_token=bot_token,
    )
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            mock = MockDiscord(f"http://{host}:{port}", session, app[STATE_KEY])
            await mock._load_application()
            yield mock
    finally:
        await runner.cleanup()
