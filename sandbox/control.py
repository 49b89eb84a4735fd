"""HTTP clients for what the sandbox talks to: the mock's control plane and the bot's status.

Why a module of its own: the stack (wiring, readiness), the players (acting as users, the
event stream) and the operator (stats, ledger, snapshots) all speak to the same two HTTP
surfaces, and each should go through one small, typed door with one error type. These are
the *public* surfaces (docs/control-plane.md, docs/events.md, the bot's ``GET /status``):
nothing here reaches into either program's memory, so the same code drives a mock and a
bot running in this process or in child processes. The control-plane client itself is the
mock's own (``mockdiscord.control_client``, shared with the test harness); this module only
turns its refusals into the sandbox's one-line `ControlError`.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from mockdiscord.control_client import ControlClient, describe

__all__ = ["BotClient", "ControlError", "MockControl"]


class ControlError(Exception):
    """A control-plane or bot call failed; ``str()`` is one line naming the call."""

    def __init__(self, what: str, status: int | None, detail: str) -> None:
        self.what = what
        self.status = status
        self.detail = detail
        code = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{what}: {code}: {detail}")


class MockControl(ControlClient):
    """The mock's ``/_mock`` control plane, from a base URL such as ``http://127.0.0.1:8787``.

    The mock's shared client (``mockdiscord.control_client``), with three differences for
    the sandbox: refusals and lost connections raise `ControlError` one-liners for the
    operator instead of test assertions; the event stream asks for the largest queue (a
    crowd of players must not lose a DM event); ``dm`` is the whole DM (``channel_id`` and
    ``messages``) and ``set_interactions_url`` names the application first.
    """

    events_queue = 65536

    def _error(self, what: str, status: int | None, body: Any) -> ControlError:
        return ControlError(what, status, describe(body))

    async def set_interactions_url(self, application_id: str, url: str | None) -> dict[str, Any]:
        """Point ``application_id`` at a bot's interactions endpoint (the mock PINGs it)."""
        return await self.patch_application(application_id, interactions_url=url)

    async def dm(self, user_id: str) -> dict[str, Any]:
        """The user's DM with the bot: ``channel_id`` and ``messages`` (oldest first)."""
        return await self.dm_channel(user_id)


class BotClient:
    """The bot's own HTTP surface: ``GET /healthz`` and ``GET /status``."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session

    async def _get(self, path: str) -> dict[str, Any]:
        what = f"GET bot {path}"
        try:
            async with self.session.get(f"{self.base_url}{path}") as response:
                text = await response.text()
                if response.status >= 400:
                    raise ControlError(what, response.status, text[:200])
                return dict(json.loads(text))
        except aiohttp.ClientError as error:
            raise ControlError(what, None, str(error) or type(error).__name__) from None

    async def healthz(self) -> bool:
        try:
            return bool((await self._get("/healthz")).get("ok"))
        except ControlError:
            return False

    async def status(self) -> dict[str, Any]:
        return await self._get("/status")
