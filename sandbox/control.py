"""HTTP clients for what the sandbox talks to: the mock's control plane and the bot's status.

Why a module of its own: the stack (wiring, readiness), the players (acting as users, the
event stream) and the operator (stats, ledger, snapshots) all speak to the same two HTTP
surfaces, and each should go through one small, typed door with one error type. These are
the *public* surfaces (docs/control-plane.md, docs/events.md, the bot's ``GET /status``):
nothing here reaches into either program's memory, so the same code drives a mock and a
bot running in this process or in child processes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp

__all__ = ["BotClient", "ControlError", "MockControl"]


class ControlError(Exception):
    """A control-plane or bot call failed; ``str()`` is one line naming the call."""

    def __init__(self, what: str, status: int | None, detail: str) -> None:
        self.status = status
        self.detail = detail
        code = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{what}: {code}: {detail}")


def _detail(data: Any) -> str:
    if isinstance(data, Mapping):
        error = data.get("error")
        field = data.get("field")
        if error is not None:
            return f"{error}" + (f" (field {field})" if field else "")
    return str(data)[:200]


class MockControl:
    """The mock's ``/_mock`` control plane, from a base URL such as ``http://127.0.0.1:8787``."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``/_mock{path}``; JSON (or the text of the ledger) back, else `ControlError`."""
        what = f"{method} /_mock{path}"
        url = f"{self.base_url}/_mock{path}"
        try:
            async with self.session.request(method, url, json=body) as response:
                text = await response.text()
                data: Any = text
                if text and response.content_type == "application/json":
                    data = json.loads(text)
                if response.status >= 400:
                    raise ControlError(what, response.status, _detail(data))
                return data
        except aiohttp.ClientError as error:
            raise ControlError(what, None, str(error) or type(error).__name__) from None

    # world -------------------------------------------------------------------------------

    async def default_application(self) -> dict[str, Any]:
        apps = (await self.call("GET", "/applications"))["applications"]
        return dict(next(a for a in apps if a.get("default")))

    async def set_interactions_url(self, application_id: str, url: str | None) -> None:
        await self.call("PATCH", f"/applications/{application_id}", {"interactions_url": url})

    async def create_users(
        self, *, count: int | None = None, names: list[str] | None = None, prefix: str = "player"
    ) -> list[str]:
        body: dict[str, Any] = {"names": names} if names is not None else {"count": count}
        if names is None:
            body["prefix"] = prefix
        return [str(i) for i in (await self.call("POST", "/users", body))["ids"]]

    async def set_dms_closed(self, user_id: str, closed: bool) -> None:
        await self.call("PATCH", f"/users/{user_id}", {"dms_closed": closed})

    async def guild_text_channel(self) -> str | None:
        data = await self.call("GET", "/channels")
        for channel in data.get("channels", []):
            if channel.get("type") == 0 and channel.get("guild_id") is not None:
                return str(channel["id"])
        return None

    async def dm(self, user_id: str) -> dict[str, Any]:
        return dict(await self.call("GET", f"/users/{user_id}/dm"))

    # acting as a user ----------------------------------------------------------------------

    async def run_command(
        self, user_id: str, name: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"name": name, "options": dict(options or {})}
        return dict(await self.call("POST", f"/users/{user_id}/commands", body))

    async def click(
        self,
        user_id: str,
        message_id: str,
        custom_id: str,
        values: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"message_id": message_id, "custom_id": custom_id}
        if values is not None:
            body["values"] = list(values)
        return dict(await self.call("POST", f"/users/{user_id}/components", body))

    # observation and configuration ----------------------------------------------------------

    async def stats(self) -> dict[str, Any]:
        return dict(await self.call("GET", "/stats"))

    async def ledger(self) -> list[dict[str, Any]]:
        text = await self.call("GET", "/ledger")
        if isinstance(text, str):
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return list(text) if isinstance(text, list) else [text]

    async def config(self) -> dict[str, Any]:
        return dict(await self.call("GET", "/config"))

    async def configure(self, **changes: Any) -> dict[str, Any]:
        return dict(await self.call("PUT", "/config", changes))

    def events_url(self, types: Iterable[str] | None = None, queue: int = 65536) -> str:
        url = f"{self.base_url}/_mock/events?queue={queue}"
        if types is not None:
            url += "&types=" + ",".join(types)
        return url


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
