"""`mockdiscord.harness`: run a real mock Discord in-process and drive it from code.

`async with run_mock() as mock:` starts a real server on a free loopback port (the bot
talks to it over HTTP, exactly as to Discord: `api_base`, `bot_token`, `public_key`) and
stops it afterwards. `MockDiscord`'s helpers go through the mock's public control plane
(`/_mock/...`) by the shared client `mockdiscord.control_client` (the sandbox uses the same
one), so what a test does here it can also do with curl; `MockDiscord.state` is there for
white-box checks. The pytest plugin `mockdiscord.testing` wraps this in fixtures.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from mockdiscord.clock import Clock, SystemClock
from mockdiscord.control_client import ControlClient, ControlPlaneError, EventStream
from mockdiscord.profile import Profile
from mockdiscord.server import STATE_KEY, MockConfig, MockState, create_app

__all__ = [
    "ControlPlaneError",
    "EventStream",
    "MockDiscord",
    "run_mock",
]


@dataclass
class MockDiscord(ControlClient):
    """A running mock and helpers to drive it as the players and the referee.

    The helpers are those of the shared control-plane client (`ControlClient`: users,
    commands, clicks, stats, ledger, config, events), plus the running mock's credentials
    and the shapes a test wants: `dm` lists the messages, `set_interactions_url` defaults to
    the mock's own application, `reset` reloads it.
    """

    base_url: str
    session: aiohttp.ClientSession
    state: MockState
    application: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ControlClient.__init__(self, self.base_url, self.session)

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

    # the control plane, as a test wants it ----------------------------------------------

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call `/_mock{path}`; raise `ControlPlaneError` on a 4xx/5xx or no answer."""
        return await self.call(method, path, body)

    async def set_interactions_url(
        self, url: str | None, *, verify_probe: bool = False, application_id: str | None = None
    ) -> dict[str, Any]:
        """Point the application at a bot's interactions endpoint (the mock PINGs it)."""
        return await self.patch_application(
            application_id or self.application_id, interactions_url=url, verify_probe=verify_probe
        )

    async def dm(self, user_id: str) -> list[dict[str, Any]]:
        """The messages in the user's DM with the bot, oldest first, as the user sees them."""
        return list((await self.dm_channel(user_id))["messages"])

    async def reset(self) -> None:
        """Forget users, messages and counters; the default application stays."""
        await super().reset()
        await self._load_application()

    async def _load_application(self) -> None:
        self.application = await self.default_application()


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
