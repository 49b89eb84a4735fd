"""End-to-end harness: a real mockdiscord and the real bot, each on its own loopback port.

The mock is started in-process (`mockdiscord.harness.run_mock`, a real aiohttp server on a
free port); the bot is started in-process with `bot.app.serve_bot` (its own server on
another free port) or as a `ladderbot run` subprocess. They talk over HTTP only, exactly
as the bot and Discord do: signed interaction POSTs one way, REST calls the other. Waits
poll the mock's control plane with generous bounds (real time, loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot.app import RunningBot, serve_bot
from bot.config import Settings, load_settings
from mockdiscord.harness import MockDiscord, run_mock


def bot_settings(mock: MockDiscord, db: Path, admin: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "api_base": mock.api_base,
        "token": mock.bot_token,
        "application_id": mock.application_id,
        "public_key": mock.public_key,
        "listen": "127.0.0.1:0",
        "db": str(db),
        "admin_ids": admin,
        "wave_interval": 0,
        "heartbeat_interval": 0,
        "sweep_interval": 0.2,
    }
    values.update(overrides)
    return load_settings(values, {})


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 15.0, every: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {within}s (last: {last!r})")


def buttons(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


@dataclass
class Stack:
    mock: MockDiscord
    bot: RunningBot
    admin: str
    outcomes: list[dict[str, Any]]

    async def command(self, user: str, name: str, options: dict[str, Any] | None = None) -> dict:
        result = await self.mock.run_command(user, name, options or {})
        self.outcomes.append(result)
        return result

    async def click(
        self, user: str, message_id: str, custom_id: str, values: list[str] | None = None
    ) -> dict:
        result = await self.mock.click(user, message_id, custom_id, values)
        self.outcomes.append(result)
        return result

    def failed_outcomes(self) -> list[dict[str, Any]]:
        return [o for o in self.outcomes if o["outcome"] not in ("responded", "deferred")]


StackFactory = Callable[..., Awaitable[Stack]]


@pytest_asyncio.fixture
async def stack_factory(tmp_path: Path) -> AsyncIterator[StackFactory]:
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Stack:
            mock = await stack.enter_async_context(run_mock())
            admin = await mock.create_user("admin")
            settings = bot_settings(mock, tmp_path / "ladder.db", admin, **overrides)
            bot = await stack.enter_async_context(serve_bot(settings))
            # Like Discord: a PING must be PONGed and a badly signed probe answered 401.
            await mock.set_interactions_url(bot.interactions_url, verify_probe=True)
            return Stack(mock, bot, admin, [])

        yield start


@pytest_asyncio.fixture
async def stack(stack_factory: StackFactory) -> Stack:
    return await stack_factory()
