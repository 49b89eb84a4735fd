"""Drive real Discord client libraries (discord.py, hikari) against a live mock.

The mock is judged by real clients: a library that works against Discord must work against
the mock with nothing changed but its base URL. This module holds what the real-client
tests and `benchmarks/bench_real_clients.py` share, so the figures in the tests and in
`docs/real-clients.md` come from one code path:

- `serve_mock(profile)`: the mock on a free 127.0.0.1 port, in this event loop (aiohttp
  `AppRunner` + `TCPSite`), with helpers that read the referee's figures through the public
  control plane (`/_mock/stats`, `/_mock/ledger`) and the delivered messages from its state;
- `make_profile(...)`: the built-in `discord` profile with the global algorithm and the
  message-create bucket changed (the knobs the spec's tables vary);
- `discordpy_client` / `hikari_client`: each library, unchanged except for its base URL,
  with its session closed on exit (pytest runs with warnings as errors);
- `Driver`: one interface over both libraries (who am I, open a DM, send, edit, delete) so
  the scenarios (`burst_one_channel`, `burst_many_channels`) and the tests are written once;
  `driver(library, mock)` builds one for a name in `LIBRARIES`;
- `BurstReport`: what the mock saw during a scenario, computed from ledger entries only,
  never from what the client believes.

Nothing here imports pytest: the benchmark uses it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import hikari
from aiohttp import web

from mockdiscord.profile import GlobalAlgorithm, Profile, load_profile
from mockdiscord.server import STATE_KEY, MockConfig, MockState, create_app
from sandbox.peers import quiet_client_loggers

with warnings.catch_warnings():
    # discord.py 2.7 imports the stdlib `audioop` (voice support) at import time, which is
    # deprecated since Python 3.11. We never touch voice; this is the only warning hidden.
    warnings.filterwarnings("ignore", r"'audioop' is deprecated", DeprecationWarning)
    import discord
    import discord.http

__all__ = [
    "LIBRARIES",
    "BurstReport",
    "DiscordPyDriver",
    "Driver",
    "HikariDriver",
    "RunningMock",
    "burst_many_channels",
    "burst_one_channel",
    "discordpy_client",
    "driver",
    "hikari_client",
    "make_profile",
    "measure",
    "prepare_many_channels",
    "quiet_client_loggers",
    "serve_mock",
]


def make_profile(
    *,
    global_algorithm: GlobalAlgorithm = "sliding",
    message_algorithm: str = "sliding",
    message_limit: int = 5,
    message_period: float = 5.0,
) -> Profile:
    """The `discord` profile with the global algorithm and message-create bucket set."""
    profile = load_profile("discord").with_global(algorithm=global_algorithm)
    return profile.with_route_limit(
        "message_create",
        limit=message_limit,
        period=message_period,
        algorithm="fixed" if message_algorithm == "fixed" else "sliding",
    )


# ------------------------------------------------------------------------------ the mock


@dataclass
class RunningMock:
    """A mock serving on loopback, and a session for its control plane."""

    base_url: str
    state: MockState
    session: aiohttp.ClientSession

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def bot_token(self) -> str:
        return self.state.world.default_application.bot_token

    @property
    def application_id(self) -> str:
        return self.state.world.default_application.id

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.base_url}/_mock{path}", json=body) as r:
            text = await r.text()
            if r.status >= 400:
                raise AssertionError(f"control plane {method} {path}: {r.status} {text}")
            return json.loads(text) if r.content_type == "application/json" else text

    async def create_users(self, count: int) -> list[str]:
        return [str(i) for i in (await self.control("POST", "/users", {"count": count}))["ids"]]

    async def stats(self) -> dict[str, Any]:
        return dict(await self.control("GET", "/stats"))

    async def app_stats(self) -> dict[str, Any]:
        return dict((await self.stats())["applications"][self.application_id])

    async def ledger_total(self) -> int:
        async with self.session.get(f"{self.base_url}/_mock/ledger?after=0") as r:
            await r.read()
            return int(r.headers["X-Ledger-Total"])

    async def ledger(self, after: int = 0) -> list[dict[str, Any]]:
        text = await self.control("GET", f"/ledger?after={after}")
        return [json.loads(line) for line in text.splitlines() if line]

    async def messages(self, channel_id: str) -> list[dict[str, Any]]:
        return list((await self.control("GET", f"/channels/{channel_id}/messages"))["messages"])

    def open_dms(self, user_ids: Sequence[str]) -> list[str]:
        """Open the bot's DMs with these users in the mock's state (setup without traffic,
        so a burst's ledger holds the burst only). Returns the channel ids."""
        world = self.state.world
        bot = world.default_application.bot
        return [world.open_dm(bot, world.users[uid]).id for uid in user_ids]


@contextlib.asynccontextmanager
async def serve_mock(profile: Profile | str = "discord") -> AsyncIterator[RunningMock]:
    """Start a mock on a free 127.0.0.1 port for the duration of the `async with`."""
    app = create_app(MockConfig(profile=profile))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            yield RunningMock(f"http://127.0.0.1:{port}", app[STATE_KEY], session)
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- the clients


@contextlib.asynccontextmanager
async def discordpy_client(api_base: str, token: str) -> AsyncIterator[discord.Client]:
    """A logged-in `discord.Client` (REST only, no gateway) talking to `api_base`.

    discord.py reads its base URL from the class attribute `Route.BASE`; it is restored on
    exit so that no other test sees the mock's URL."""
    previous = discord.http.Route.BASE
    discord.http.Route.BASE = api_base
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
        yield client
    finally:
        await client.close()
        discord.http.Route.BASE = previous


@contextlib.asynccontextmanager
async def hikari_client(api_base: str, token: str) -> AsyncIterator[hikari.impl.RESTClientImpl]:
    """A hikari REST client for a bot token, from `RESTApp(url=api_base)`.

    hikari 2.7's `RESTApp` is started and closed explicitly (it is not an async context
    manager); the acquired client is one and closes its own session on exit."""
    rest_app = hikari.RESTApp(url=api_base)
    await rest_app.start()
    try:
        async with rest_app.acquire(token, token_type=hikari.TokenType.BOT) as rest:
            yield rest
    finally:
        await rest_app.close()


LIBRARIES = ("discord.py", "hikari")


class Driver(Protocol):
    """The few REST calls the scenarios need, in one library's own API."""

    name: str

    async def me(self) -> str:
        """The bot user's id, as the library learnt it from the mock."""
        ...

    async def open_dm(self, user_id: str) -> str: ...

    async def send(self, channel_id: str, content: str) -> str: ...

    async def edit(self, channel_id: str, message_id: str, content: str) -> str: ...

    async def delete(self, channel_id: str, message_id: str) -> None: ...


class DiscordPyDriver:
    """discord.py's high-level objects: `User.create_dm()`, `Messageable.send()`..."""

    name = "discord.py"

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def me(self) -> str:
        if self.client.user is None:  # `login` fills it from GET /users/@me
            raise RuntimeError("discord.py has no bot user after login")
        return str(self.client.user.id)

    async def open_dm(self, user_id: str) -> str:
        user = await self.client.fetch_user(int(user_id))
        dm = await user.create_dm()
        if not isinstance(dm, discord.DMChannel):
            raise TypeError(f"discord.py made a {type(dm).__name__} of a DM")
        return str(dm.id)

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(
            int(channel_id), type=discord.ChannelType.private
        )

    async def send(self, channel_id: str, content: str) -> str:
        return str((await self._channel(channel_id).send(content)).id)

    async def edit(self, channel_id: str, message_id: str, content: str) -> str:
        message = self._channel(channel_id).get_partial_message(int(message_id))
        return (await message.edit(content=content)).content

    async def delete(self, channel_id: str, message_id: str) -> None:
        await self._channel(channel_id).get_partial_message(int(message_id)).delete()


class HikariDriver:
    """hikari's `RESTClient`: `create_dm_channel`, `create_message`..."""

    name = "hikari"

    def __init__(self, rest: hikari.api.RESTClient) -> None:
        self.rest = rest

    async def me(self) -> str:
        return str((await self.rest.fetch_my_user()).id)

    async def open_dm(self, user_id: str) -> str:
        user = await self.rest.fetch_user(int(user_id))
        dm = await self.rest.create_dm_channel(user)
        if not isinstance(dm, hikari.DMChannel):
            raise TypeError(f"hikari made a {type(dm).__name__} of a DM")
        return str(dm.id)

    async def send(self, channel_id: str, content: str) -> str:
        return str((await self.rest.create_message(int(channel_id), content)).id)

    async def edit(self, channel_id: str, message_id: str, content: str) -> str:
        message = await self.rest.edit_message(int(channel_id), int(message_id), content)
        return message.content or ""

    async def delete(self, channel_id: str, message_id: str) -> None:
        await self.rest.delete_message(int(channel_id), int(message_id))


@contextlib.asynccontextmanager
async def driver(library: str, mock: RunningMock) -> AsyncIterator[Driver]:
    """A driver for `library` (one of `LIBRARIES`) logged in to `mock`."""
    if library == "discord.py":
        async with discordpy_client(mock.api_base, mock.bot_token) as client:
            yield DiscordPyDriver(client)
    elif library == "hikari":
        async with hikari_client(mock.api_base, mock.bot_token) as rest:
            yield HikariDriver(rest)
    else:
        raise ValueError(f"unknown library {library!r}: expected discord.py or hikari")


# ----------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class BurstReport:
    """What the mock saw while a scenario ran: its ledger entries for message routes after
    the scenario's start, its stored messages and its `peak_1s` (never the client's view)."""

    requests: int
    rate_limited: dict[str, int]  # 429s by scope: user / shared / global
    delivered: int
    expected: int
    failed: int  # sends on which the client raised (e.g. gave up after its retries)
    seconds: float  # wall time of the whole burst, as the caller waited for it
    span: float  # ledger: first arrival to last successful arrival
    peak_1s: int  # the application's peak_1s from /_mock/stats after the burst

    @property
    def total_429(self) -> int:
        return sum(self.rate_limited.values())


async def measure(
    mock: RunningMock,
    channel_ids: Sequence[str],
    expected: int,
    fire: Callable[[], Awaitable[Sequence[object]]],
) -> BurstReport:
    """Run `fire()` (which returns one outcome per send, an exception for a failed send)
    and report what the mock saw from the moment it started."""
    mark = await mock.ledger_total()
    started = time.monotonic()
    outcomes = await fire()
    seconds = time.monotonic() - started
    entries = [e for e in await mock.ledger(after=mark) if e["route"].endswith("/messages")]
    limited = {"user": 0, "shared": 0, "global": 0}
    for entry in entries:
        if entry["status"] == 429:
            limited[entry["scope"]] += 1
    ok = [e["at_monotonic"] for e in entries if 200 <= e["status"] < 300]
    span = max(ok) - entries[0]["at_monotonic"] if ok else 0.0
    delivered = 0
    for channel_id in dict.fromkeys(channel_ids):
        delivered += len(await mock.messages(channel_id))
    failed = sum(isinstance(outcome, BaseException) for outcome in outcomes)
    peak = int((await mock.app_stats())["peak_1s"])
    return BurstReport(len(entries), limited, delivered, expected, failed, seconds, span, peak)


async def burst_one_channel(mock: RunningMock, client: Driver, count: int = 12) -> BurstReport:
    """`count` concurrent sends to one fresh DM channel (the spec's §9 table)."""
    (user_id,) = await mock.create_users(1)
    (channel_id,) = mock.open_dms([user_id])

    async def fire() -> Sequence[object]:
        sends = (client.send(channel_id, f"burst {i}") for i in range(count))
        return await asyncio.gather(*sends, return_exceptions=True)

    return await measure(mock, [channel_id], count, fire)


async def prepare_many_channels(mock: RunningMock, count: int) -> tuple[str, list[str]]:
    """A warm-up DM and `count` other users' DMs, opened in the mock's state."""
    warm_user, *user_ids = await mock.create_users(count + 1)
    (warm_channel,) = mock.open_dms([warm_user])
    return warm_channel, mock.open_dms(user_ids)


async def burst_many_channels(mock: RunningMock, client: Driver, count: int = 60) -> BurstReport:
    """One concurrent send to each of `count` users' DMs: only the global limit binds.

    The client first sends one message to another DM, as a running bot would have: until
    hikari has seen the route's `X-RateLimit-Bucket` once, it queues every request of that
    route behind one "unknown" bucket (whatever the major parameter), which would serialise
    the burst at 5 per 5 s and never test the global limit. Every client gets the same
    warm-up so the rows start alike; it happens before the measured part."""
    warm_channel, channel_ids = await prepare_many_channels(mock, count)
    await client.send(warm_channel, "warm-up")

    async def fire() -> Sequence[object]:
        sends = (client.send(c, f"hello {i}") for i, c in enumerate(channel_ids))
        return await asyncio.gather(*sends, return_exceptions=True)

    return await measure(mock, channel_ids, count, fire)
