"""Start the whole bot inside a running event loop, and stop it cleanly.

`serve_bot(settings)` is shared by the CLI and the end-to-end tests. It acquires, in an
order chosen so that a person's mistake is reported before anything is sent:

1. the SQLite database (`StoreError`: not a database, a newer schema...);
2. the listening socket (`StartupError`: port in use, bad address);
3. the Discord client, then the command registration (``PUT
   /applications/{app}/commands``; a refused token is a `StartupError`);
4. the aiohttp app (`create_app`), whose cleanup context starts the service: the deadline
   sweep, the dispatcher resuming pending outbox rows, the wave timer and the heartbeat.

Leaving the ``async with`` releases everything in reverse order; pending notifications
stay in the outbox for the next start.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from aiohttp import web

from bot.app.server import create_app
from bot.clock import Clock, SystemClock
from bot.commands_spec import command_definitions
from bot.config import Settings
from bot.discord import (
    DiscordClient,
    DiscordError,
    GlobalConfig,
    HTTPException,
    LimiterConfig,
    Unauthorized,
)
from bot.service import LadderService
from bot.store import Store

__all__ = ["RunningBot", "StartupError", "register_commands", "serve_bot"]

_log = logging.getLogger("bot.app")


class StartupError(Exception):
    """The bot cannot start; ``str()`` is one line for a person."""


@dataclass
class RunningBot:
    url: str
    """The base URL, e.g. ``http://127.0.0.1:8080``; interactions at ``url + /interactions``."""
    service: LadderService
    store: Store
    client: DiscordClient

    @property
    def interactions_url(self) -> str:
        return self.url + self.service.settings.interactions_path


async def register_commands(client: DiscordClient, settings: Settings) -> int:
    """Overwrite the application's commands; returns how many are registered."""
    try:
        registered = await client.bulk_overwrite_commands(
            settings.application_id,
            command_definitions(settings.ladder),
            guild_id=settings.guild_id,
        )
    except Unauthorized:
        raise StartupError(
            f"{settings.api_base} refused the bot token (401): check --token"
        ) from None
    except HTTPException as exc:
        raise StartupError(
            f"registering the commands failed: HTTP {exc.status} code {exc.code} {exc.message}"
            " (check --application-id)"
        ) from None
    except DiscordError as exc:
        raise StartupError(f"cannot reach {settings.api_base}: {exc}") from None
    return len(registered)


def _bind(host: str, port: int) -> socket.socket:
    try:
        return socket.create_server((host, port), reuse_port=False)
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@contextlib.asynccontextmanager
async def serve_bot(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[RunningBot]:
    clock = clock or SystemClock()
    store = Store(settings.db_path, settings.ladder)
    try:
        sock = _bind(settings.listen_host, settings.listen_port)
        try:
            client = DiscordClient(
                settings.token,
                settings.api_base,
                clock=clock,
                transport=transport,
                limiter_config=LimiterConfig(
                    global_budget=GlobalConfig(limit=settings.global_limit)
                ),
            )
            try:
                if settings.register_commands:
                    count = await register_commands(client, settings)
                    _log.info("event=commands_registered count=%d", count)
                service = LadderService(settings, store, client, clock)
                runner = web.AppRunner(create_app(service), handle_signals=False, access_log=None)
                await runner.setup()
                try:
                    site = web.SockSite(runner, sock)
                    await site.start()
                    host, port = sock.getsockname()[:2]
                    shown = f"[{host}]" if ":" in host else host
                    yield RunningBot(f"http://{shown}:{port}", service, store, client)
                finally:
                    await runner.cleanup()
            finally:
                await client.aclose()
        finally:
            sock.close()
    finally:
        store.close()
