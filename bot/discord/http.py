"""Moving bytes: the one HTTP exchange `bot.discord.rest` needs, over aiohttp or an httpx
transport.

Why not ``httpx.AsyncClient``
-----------------------------
During a wave the bot's event loop is the bottleneck, not the network: hundreds of requests
leave at once and every millisecond of CPU per request delays the last one. The client
layer of httpx (URL merging and re-parsing, cookie extraction, auth and redirect hooks)
costs more than the transport underneath it. Measured here with 400 concurrent requests
on loopback: ``httpx.AsyncClient`` over httpx-aiohttp's transport ~1.0 ms of CPU per
request, the same transport called directly ~0.75 ms, aiohttp directly ~0.5 ms. The REST
layer needs none of the client's features (no cookies, no redirects, fixed headers), so
it talks to a small backend instead:

* `AiohttpBackend` (the default): one ``aiohttp.ClientSession`` whose connector keeps
  enough keep-alive connections for a burst, and keeps them long enough to be warm for the
  next wave (opening a connection costs both sides CPU at the worst moment).
* `HttpxBackend`: any ``httpx.AsyncBaseTransport`` called directly (tests inject
  ``httpx.MockTransport``), with the same request shape as the aiohttp one.

Both send the same headers (authorization, user agent, ``Content-Type: application/json``
with a body), return a `RawResponse`, and raise ``httpx.TransportError`` subclasses for
connection-level failures and timeouts, so the retry policy sees one kind of error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx
from yarl import URL

__all__ = ["AiohttpBackend", "HttpBackend", "HttpxBackend", "RawResponse"]


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]
    """Case-insensitive, as the backend received them."""
    content: bytes


def _fixed_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The headers of a request without a body, and of one with a (JSON) body."""
    plain = dict(headers)
    return plain, {**plain, "Content-Type": "application/json"}


class HttpBackend(Protocol):
    async def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """One request to ``base + path`` (``path`` already percent-encoded); a body is JSON."""
        ...

    async def aclose(self) -> None: ...


class AiohttpBackend:
    """The default backend: aiohttp, one session per client, opened on first use."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float,
        max_connections: int = 200,
        keepalive: float = 60.0,
    ) -> None:
        if max_connections < 1 or keepalive < 0:
            raise ValueError("max_connections must be >= 1 and keepalive >= 0")
        self._base = base_url.rstrip("/")
        self._headers, self._json_headers = _fixed_headers(headers)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_connections = max_connections
        self._keepalive = keepalive
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise httpx.ConnectError("the HTTP backend is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=self._keepalive
            )
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> RawResponse:
        session = self._open()
        # Route paths are percent-encoded already: tell yarl not to parse them again.
        url = URL(self._base + path, encoded=True)
        headers = self._headers if body is None else self._json_headers
        try:
            async with session.request(
                method, url, data=body, params=params, headers=headers, allow_redirects=False
            ) as response:
                content = await response.read()
                return RawResponse(response.status, response.headers, content)
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
            # aiohttp closes transports on the next loop turn; let it, so that no socket is
            # reported as unclosed when the loop ends right after.
            await asyncio.sleep(0)


class HttpxBackend:
    """Any httpx transport, called directly (no ``AsyncClient`` layer)."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float,
    ) -> None:
        self._transport = transport
        self._base = base_url.rstrip("/")
        self._headers, self._json_headers = _fixed_headers(headers)
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> RawResponse:
        request = httpx.Request(
            method,
            self._base + path,
            params=params,
            headers=self._headers if body is None else self._json_headers,
            content=body,
            extensions=self._extensions,
        )
        response = await self._transport.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return RawResponse(response.status_code, response.headers, content)

    async def aclose(self) -> None:
        await self._transport.aclose()
