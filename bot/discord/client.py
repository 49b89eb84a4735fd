"""`DiscordClient`: the REST calls the ladder bot makes, over httpx, through the limiter.

Each method builds a `Route` and a JSON body once, then hands them to `RestSender`, which
waits for the limiter, sends, and retries. Each method takes a ``lane``; interaction
callbacks and interaction-webhook calls default to ``Lane.INTERACTION``, everything else to
``Lane.NORMAL``. The dispatcher passes ``Lane.URGENT`` / ``Lane.BACKGROUND`` explicitly.

The transport is injectable (``httpx.MockTransport`` in tests), and ``api_base`` is the only
thing that differs between real Discord and the sandbox's mock: no mock-specific code.

By default requests go over aiohttp directly (`bot.discord.http.AiohttpBackend`): httpx's
own connection pool (httpcore) costs milliseconds of CPU per request once ~100 are in flight
(measured here: 100 concurrent requests took 1.3 s through httpcore, 0.1 s through aiohttp),
and even over an aiohttp transport the ``httpx.AsyncClient`` layer doubles the CPU per
request; a wave is exactly such a burst. An injected ``transport`` (an httpx transport, e.g.
``httpx.MockTransport`` in tests) is called directly instead, with the same requests.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx

from bot.clock import Clock
from bot.discord.http import AiohttpBackend, HttpBackend, HttpxBackend
from bot.discord.lanes import Lane
from bot.discord.limiter import Limiter, LimiterConfig, Sleeper
from bot.discord.rest import AttemptObserver, RestSender, RetryConfig
from bot.discord.routes import Route

__all__ = ["DEFAULT_API_BASE", "MISSING", "DiscordClient", "new_nonce"]

DEFAULT_API_BASE = "https://discord.com/api/v10"
USER_AGENT = "DiscordBot (https://github.com/discord-burst-sandbox, 0.1.0)"

_WEBHOOK = "/webhooks/{application_id}/{interaction_token}"


class _Missing:
    """'Leave this field as it is' in edits (None means 'clear it')."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

JSON = dict[str, Any]


def new_nonce() -> str:
    """A fresh message nonce (24 hex chars; Discord allows up to 25)."""
    return secrets.token_hex(12)


def _message_body(
    *,
    content: Any = MISSING,
    embeds: Any = MISSING,
    components: Any = MISSING,
    flags: Any = MISSING,
) -> JSON:
    fields = {"content": content, "embeds": embeds, "components": components, "flags": flags}
    return {name: value for name, value in fields.items() if value is not MISSING}


def _new_message_body(
    content: str | None,
    embeds: Sequence[JSON] | None,
    components: Sequence[JSON] | None,
    flags: int | None,
) -> JSON:
    """The fields of a new message (channel message or followup): None means "not sent"."""
    return _message_body(
        content=MISSING if content is None else content,
        embeds=MISSING if embeds is None else list(embeds),
        components=MISSING if components is None else list(components),
        flags=MISSING if flags is None else flags,
    )


class DiscordClient:
    """A small Discord REST client for one bot token."""

    def __init__(
        self,
        token: str,
        api_base: str = DEFAULT_API_BASE,
        *,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter_config: LimiterConfig | None = None,
        retry: RetryConfig | None = None,
        sleep: Sleeper | None = None,
        rng: random.Random | None = None,
        timeout: float = 15.0,
        max_connections: int = 200,
    ) -> None:
        """``transport``: an httpx transport to call instead of aiohttp (tests).
        ``max_connections``: the aiohttp pool's size; keep it at least the largest burst of
        concurrent requests worth having in flight (a wave's phase 1), so a burst does not
        queue for connections."""
        if not token:
            raise ValueError("a bot token is required")
        self.limiter = Limiter(clock=clock, config=limiter_config, sleep=sleep)
        headers = {"Authorization": f"Bot {token}", "User-Agent": USER_AGENT}
        self._http: HttpBackend
        if transport is None:
            self._http = AiohttpBackend(
                api_base, headers, timeout=timeout, max_connections=max_connections
            )
        else:
            self._http = HttpxBackend(transport, api_base, headers, timeout=timeout)
        self._sender = RestSender(self._http, self.limiter, retry=retry, rng=rng)

    async def __aenter__(self) -> DiscordClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.limiter.aclose()
        await self._http.aclose()

    async def request(
        self,
        route: Route,
        *,
        lane: Lane = Lane.NORMAL,
        json: Any = None,
        paced: bool = True,
        observe: AttemptObserver | None = None,
    ) -> Any:
        """Any route, through the limiter and the retry policy; returns the JSON body.

        ``paced=False``: reactive-only (429s slow it down, nothing else; see
        `Limiter.acquire`). ``observe``: called with an `Attempt` after every HTTP attempt.
        """
        return await self._sender.request(route, lane, json=json, paced=paced, observe=observe)

    # -- users and DMs --------------------------------------------------------------------

    async def get_me(self, *, lane: Lane = Lane.NORMAL) -> JSON:
        return await self.request(Route("GET", "/users/@me"), lane=lane)

    async def create_dm(self, user_id: int | str, *, lane: Lane = Lane.NORMAL) -> JSON:
        """Open (or fetch) the DM channel with a user."""
        return await self.request(
            Route("POST", "/users/@me/channels"), lane=lane, json={"recipient_id": str(user_id)}
        )

    # -- channel messages -------------------------------------------------------------------

    async def create_message(
        self,
        channel_id: int | str,
        content: str | None = None,
        *,
        embeds: Sequence[JSON] | None = None,
        components: Sequence[JSON] | None = None,
        flags: int | None = None,
        nonce: str | int | None = None,
        lane: Lane = Lane.NORMAL,
    ) -> JSON:
        """Post a message. ``nonce`` (generated once if None) + ``enforce_nonce``: safe retries."""
        body: JSON = {
            "nonce": str(nonce) if nonce is not None else new_nonce(),
            "enforce_nonce": True,
            **_new_message_body(content, embeds, components, flags),
        }
        route = Route("POST", "/channels/{channel_id}/messages", {"channel_id": channel_id})
        return await self.request(route, lane=lane, json=body)

    async def edit_message(
        self,
        channel_id: int | str,
        message_id: int | str,
        *,
        content: Any = MISSING,
        embeds: Any = MISSING,
        components: Any = MISSING,
        lane: Lane = Lane.NORMAL,
    ) -> JSON:
        route = Route(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            {"channel_id": channel_id, "message_id": message_id},
        )
        body = _message_body(content=content, embeds=embeds, components=components)
        return await self.request(route, lane=lane, json=body)

    async def get_message(
        self, channel_id: int | str, message_id: int | str, *, lane: Lane = Lane.NORMAL
    ) -> JSON:
        route = Route(
            "GET",
            "/channels/{channel_id}/messages/{message_id}",
            {"channel_id": channel_id, "message_id": message_id},
        )
        return await self.request(route, lane=lane)

    async def delete_message(
        self, channel_id: int | str, message_id: int | str, *, lane: Lane = Lane.NORMAL
    ) -> None:
        route = Route(
            "DELETE",
            "/channels/{channel_id}/messages/{message_id}",
            {"channel_id": channel_id, "message_id": message_id},
        )
        await self.request(route, lane=lane)

    # -- interactions -----------------------------------------------------------------------

    async def create_interaction_response(
        self,
        interaction_id: int | str,
        token: str,
        type: int,
        data: JSON | None = None,
        *,
        lane: Lane = Lane.INTERACTION,
    ) -> None:
        """``POST /interactions/{id}/{token}/callback`` (exempt from the global limit)."""
        route = Route(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            {"interaction_id": interaction_id, "interaction_token": token},
        )
        body: JSON = {"type": type}
        if data is not None:
            body["data"] = data
        await self.request(route, lane=lane, json=body)

    def _webhook(
        self, method: str, suffix: str, application_id: int | str, token: str, **extra: int | str
    ) -> Route:
        params: dict[str, int | str] = {
            "application_id": application_id,
            "interaction_token": token,
            **extra,
        }
        return Route(method, _WEBHOOK + suffix, params)

    async def get_original_response(
        self, application_id: int | str, token: str, *, lane: Lane = Lane.INTERACTION
    ) -> JSON:
        route = self._webhook("GET", "/messages/@original", application_id, token)
        return await self.request(route, lane=lane)

    async def edit_original_response(
        self,
        application_id: int | str,
        token: str,
        *,
        content: Any = MISSING,
        embeds: Any = MISSING,
        components: Any = MISSING,
        lane: Lane = Lane.INTERACTION,
    ) -> JSON:
        """Edit the first response (exempt from the global limit; 5 per 2 s per token)."""
        route = self._webhook("PATCH", "/messages/@original", application_id, token)
        body = _message_body(content=content, embeds=embeds, components=components)
        return await self.request(route, lane=lane, json=body)

    async def delete_original_response(
        self, application_id: int | str, token: str, *, lane: Lane = Lane.INTERACTION
    ) -> None:
        route = self._webhook("DELETE", "/messages/@original", application_id, token)
        await self.request(route, lane=lane)

    async def create_followup(
        self,
        application_id: int | str,
        token: str,
        content: str | None = None,
        *,
        embeds: Sequence[JSON] | None = None,
        components: Sequence[JSON] | None = None,
        flags: int | None = None,
        lane: Lane = Lane.INTERACTION,
    ) -> JSON:
        route = self._webhook("POST", "", application_id, token)
        body = _new_message_body(content, embeds, components, flags)
        return await self.request(route, lane=lane, json=body)

    async def edit_followup(
        self,
        application_id: int | str,
        token: str,
        message_id: int | str,
        *,
        content: Any = MISSING,
        embeds: Any = MISSING,
        components: Any = MISSING,
        lane: Lane = Lane.INTERACTION,
    ) -> JSON:
        route = self._webhook(
            "PATCH", "/messages/{message_id}", application_id, token, message_id=message_id
        )
        body = _message_body(content=content, embeds=embeds, components=components)
        return await self.request(route, lane=lane, json=body)

    async def delete_followup(
        self,
        application_id: int | str,
        token: str,
        message_id: int | str,
        *,
        lane: Lane = Lane.INTERACTION,
    ) -> None:
        route = self._webhook(
            "DELETE", "/messages/{message_id}", application_id, token, message_id=message_id
        )
        await self.request(route, lane=lane)

    # -- application commands ---------------------------------------------------------------

    async def bulk_overwrite_commands(
        self,
        application_id: int | str,
        commands: Sequence[JSON],
        *,
        guild_id: int | str | None = None,
        lane: Lane = Lane.NORMAL,
    ) -> list[JSON]:
        """``PUT`` the full command list, globally or for one guild."""
        if guild_id is None:
            route = Route(
                "PUT",
                "/applications/{application_id}/commands",
                {"application_id": application_id},
            )
        else:
            route = Route(
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                {"application_id": application_id, "guild_id": guild_id},
            )
        return await self.request(route, lane=lane, json=list(commands))
