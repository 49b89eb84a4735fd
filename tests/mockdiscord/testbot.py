"""A tiny HTTP-interactions bot for the mock's tests: plain aiohttp + PyNaCl, nothing shared.

It is deliberately written from Discord's documentation only, the way an outside bot
developer would write one, so that the mock is tested against an independent reading of the
protocol: verify `X-Signature-Ed25519` over `timestamp + raw body`, answer 401 when it
fails, PONG the PING, and hand every other interaction to a handler chosen by the test.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

Handler = Callable[[dict[str, Any]], Awaitable[web.StreamResponse]]


def reply(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


async def message_handler(payload: dict[str, Any]) -> web.StreamResponse:
    return reply({"type": 4, "data": {"content": f"hello {payload['user']['username']}"}})


class SignedTestBot:
    """Serves POST /interactions on 127.0.0.1; `handler` decides each answer."""

    def __init__(self, public_key_hex: str, handler: Handler = message_handler) -> None:
        self.verify_key = VerifyKey(bytes.fromhex(public_key_hex))
        self.handler = handler
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.pings = 0
        app = web.Application()
        app.router.add_post("/interactions", self._interactions)
        self._server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        return str(self._server.make_url("/interactions"))

    async def start(self) -> SignedTestBot:
        await self._server.start_server()
        return self

    async def close(self) -> None:
        await self._server.close()

    async def __aenter__(self) -> SignedTestBot:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _interactions(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        signature = request.headers.get("X-Signature-Ed25519", "")
        timestamp = request.headers.get("X-Signature-Timestamp", "")
        try:
            self.verify_key.verify(timestamp.encode() + body, bytes.fromhex(signature))
        except (BadSignatureError, ValueError):
            self.bad_signatures += 1
            return web.Response(status=401, text="invalid request signature")
        payload = json.loads(body)
        if payload["type"] == 1:
            self.pings += 1
            return reply({"type": 1})
        self.received.append(payload)
        return await self.handler(payload)
