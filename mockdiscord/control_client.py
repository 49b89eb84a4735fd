"""`mockdiscord.control_client`: the one typed HTTP client of the mock's control plane.

Why it exists: three programs drive a mock through `/_mock` (docs/control-plane.md): the
in-process harness (`mockdiscord.harness.MockDiscord`), the pytest plugin built on it
(`mockdiscord.testing`) and the sandbox (`sandbox.control.MockControl`). Each used to carry
its own copy of "create users, run a command as a user, read a DM, stats, ledger, config";
two copies drift (the ledger was parsed two ways). This module is the single copy: one
method per control-plane action, one place that turns an HTTP answer into data.

It speaks HTTP only (an `aiohttp.ClientSession` and a base URL), never the server's memory,
so it drives a mock in this process or in another one alike, and it imports nothing from
the server side. It lives in `mockdiscord` because the control plane is the mock's API; the
sandbox may import `mockdiscord`, never the other way round.

Errors: every refusal (a 4xx/5xx, whose JSON body names the `field` at fault) and every
failure to get an answer (connection refused, reset, timeout) goes through one hook,
`ControlClient._error(what, status, body)`, which returns the exception to raise. Here it
is `ControlPlaneError` (an `AssertionError`, so a refused call fails a test with the
mock's own reason); the sandbox overrides the hook to raise its one-line operator error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

__all__ = [
    "ControlClient",
    "ControlPlaneError",
    "EventStream",
    "LedgerTail",
    "describe",
]

_DETAIL_CHARS = 200


def describe(body: Any) -> str:
    """One line saying why the mock refused: `error (field f)` from a JSON error body, else
    the (shortened) text of whatever came back."""
    if isinstance(body, Mapping) and body.get("error") is not None:
        field = body.get("field")
        return f"{body['error']}" + (f" (field {field})" if field else "")
    return " ".join(str(body).split())[:_DETAIL_CHARS]


class ControlPlaneError(AssertionError):
    """A control-plane call was refused; `status`, `field` and `error` say why.

    `status` is `None` when no answer came (connection refused or reset, timeout); `what`
    names the call (`"POST /_mock/users"`), `body` is what the mock answered.
    """

    def __init__(self, status: int | None, body: Any, *, what: str = "") -> None:
        self.status = status
        self.body = body
        self.what = what
        self.field = body.get("field") if isinstance(body, Mapping) else None
        self.error = body.get("error") if isinstance(body, Mapping) else str(body)
        call = f" to {what}" if what else ""
        if status is None:
            message = f"mock control plane gave no answer{call}: {describe(body)}"
        else:
            message = f"mock control plane answered {status}{call}: {describe(body)}"
        super().__init__(message)


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


@dataclass(frozen=True)
class LedgerTail:
    """Ledger records from an absolute index on, and `total`: the index the next record
    will have (the `X-Ledger-Total` header), which is the `after` of the next read. The
    mock keeps only its newest records, so `total` can exceed what was ever listed."""

    entries: list[dict[str, Any]]
    total: int


class ControlClient:
    """The mock's `/_mock` control plane, from a base URL such as `http://127.0.0.1:8787`."""

    events_queue: int | None = None
    """The event-stream queue bound `events_url` asks for by default (`None`: the mock's)."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session

    # the one door ------------------------------------------------------------------------

    def _error(self, what: str, status: int | None, body: Any) -> Exception:
        """The exception a refused (`status`) or unanswered (`None`) call raises."""
        return ControlPlaneError(status, body, what=what)

    async def _send(self, method: str, path: str, body: Any = None) -> tuple[Any, int]:
        """Call `/_mock{path}`; the answer's data (JSON, else text) and its ledger total."""
        what = f"{method} /_mock{path}"
        try:
            async with self.session.request(method, self._url(path), json=body) as response:
                text = await response.text()
                data: Any = text
                if text and response.content_type == "application/json":
                    data = json.loads(text)
                if response.status >= 400:
                    raise self._error(what, response.status, data)
                total = response.headers.get("X-Ledger-Total", "")
                return data, int(total) if total.isdigit() else 0
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise self._error(what, None, str(error) or type(error).__name__) from None

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """Call `/_mock{path}`: JSON (or the ledger's text) back, else the client's error."""
        data, _ = await self._send(method, path, body)
        return data

    def _url(self, path: str) -> str:
        return f"{self.base_url}/_mock{path}"

    # applications --------------------------------------------------------------------------

    async def applications(self) -> list[dict[str, Any]]:
        return list((await self.call("GET", "/applications"))["applications"])

    async def default_application(self) -> dict[str, Any]:
        """The application the mock made at start (its bot is the one under test)."""
        for app in await self.applications():
            if app.get("default"):
                return dict(app)
        raise self._error("GET /_mock/applications", 200, "no default application listed")

    async def patch_application(self, application_id: str, **fields: Any) -> dict[str, Any]:
        """Change an application (`interactions_url`, `global_limit`, `verify_probe`); the
        mock PINGs a new interactions URL before it stores it. Returns the application."""
        return dict(await self.call("PATCH", f"/applications/{application_id}", fields))

    # users and channels --------------------------------------------------------------------

    async def create_users(
        self,
        count: int | None = None,
        *,
        names: Iterable[str] | None = None,
        prefix: str = "player",
        dms_closed: bool = False,
    ) -> list[str]:
        """New fake players, `count` named `{prefix}N` or one per name; their user ids."""
        body: dict[str, Any] = {"dms_closed": dms_closed}
        if names is not None:
            body["names"] = list(names)
        else:
            body.update(count=count, prefix=prefix)
        return [str(i) for i in (await self.call("POST", "/users", body))["ids"]]

    async def create_user(self, name: str | None = None, *, dms_closed: bool = False) -> str:
        """One new fake player; their user id."""
        names = None if name is None else [name]
        return (await self.create_users(1, names=names, dms_closed=dms_closed))[0]

    async def set_dms_closed(self, user_id: str, closed: bool) -> None:
        await self.call("PATCH", f"/users/{user_id}", {"dms_closed": closed})

    async def guild_text_channel(self) -> str | None:
        """The id of the guild's text channel, if the mock has one."""
        for channel in (await self.call("GET", "/channels")).get("channels", []):
            if channel.get("type") == 0 and channel.get("guild_id") is not None:
                return str(channel["id"])
        return None

    async def dm_channel(self, user_id: str) -> dict[str, Any]:
        """The user's DM with the bot: `channel_id` and `messages` (oldest first)."""
        return dict(await self.call("GET", f"/users/{user_id}/dm"))

    # acting as a user ----------------------------------------------------------------------

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
        return dict(await self.call("POST", f"/users/{user_id}/commands", body))

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
        return dict(await self.call("POST", f"/users/{user_id}/components", body))

    # observation and configuration ---------------------------------------------------------

    async def stats(self) -> dict[str, Any]:
        return dict(await self.call("GET", "/stats"))

    async def ledger_tail(self, after: int = 0) -> LedgerTail:
        """The ledger records with absolute index `>= after`, and where the next read starts."""
        path = f"/ledger?after={after}"
        text, total = await self._send("GET", path)
        if not isinstance(text, str):
            raise self._error(f"GET /_mock{path}", 200, "the ledger is not JSON lines")
        try:
            entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as error:
            raise self._error(f"GET /_mock{path}", 200, f"a bad ledger line: {error}") from None
        return LedgerTail(entries, total)

    async def ledger(self, after: int = 0) -> list[dict[str, Any]]:
        """The ledger's records (from absolute index `after`), oldest first."""
        return (await self.ledger_tail(after)).entries

    async def config(self) -> dict[str, Any]:
        return dict(await self.call("GET", "/config"))

    async def configure(self, **settings: Any) -> dict[str, Any]:
        """Change limits and faults live (`PUT /_mock/config`); returns the new config."""
        return dict(await self.call("PUT", "/config", settings))

    async def reset(self) -> None:
        """Forget users, messages and counters (`POST /_mock/reset`)."""
        await self.call("POST", "/reset")

    # the event stream ----------------------------------------------------------------------

    def events_url(
        self,
        types: Iterable[str] | None = None,
        *,
        channel: str | None = None,
        queue: int | None = None,
    ) -> str:
        """The `/_mock/events` WebSocket URL with its filters (docs/events.md)."""
        params: dict[str, str] = {}
        queue = self.events_queue if queue is None else queue
        if queue is not None:
            params["queue"] = str(queue)
        if types is not None:
            params["types"] = ",".join(types)
        if channel is not None:
            params["channel"] = channel
        query = urlencode(params, safe=",")
        return self._url("/events") + (f"?{query}" if query else "")

    @contextlib.asynccontextmanager
    async def events(
        self, types: Iterable[str] | None = None, channel: str | None = None
    ) -> AsyncIterator[EventStream]:
        """Subscribe to the live event stream for the duration of the `async with`."""
        url = self.events_url(types, channel=channel)
        try:
            ws = await self.session.ws_connect(url)
        except aiohttp.ClientError as error:
            raise self._error("GET /_mock/events", None, str(error) or "no WebSocket") from None
        async with ws:
            hello = json.loads((await ws.receive(timeout=5.0)).data)
            yield EventStream(ws, hello)
