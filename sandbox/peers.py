"""Peers for `sandbox bench`: the same phase-2 calls, sent by real client libraries.

Why: a table that only compares our own strategies answers "which of ours is best", not
"is ours better than what a typical bot gets for free". So the bench also sends a wave's
phase-2 traffic (one DM message create per player, with a body the size of the ladder
bot's match-details message) the way a typical bot on each library would: every send at
once with ``asyncio.gather``, each library's own rate limiter deciding when a request
leaves and how a 429 is retried.

- **discord.py** 2.7: `discord.http.HTTPClient`, the layer under `Messageable.send`; its
  base URL is the class attribute ``Route.BASE`` (set for the run, restored afterwards).
- **hikari** 2.7: `hikari.RESTApp(url=...)`, a bot-token client from ``acquire``.

Each run gets a fresh stack (the mock in its own process, the bot idle) and uses the
application's own bot token, so the global budget is the one the bot would use. DM channels
are opened before the measurement (paced well under the global limit) and each client
sends one warm-up message first, as a running bot would have: hikari serialises a route it
has never seen a bucket for (docs/real-clients.md). The measurement starts when the
ledger has been quiet for longer than the global window, and is judged by exactly the same
function as the bot's waves (`sandbox.bench.measure_window`), from the mock's ledger only.

discord.py and hikari are development dependencies: they are imported only when a peer
runs, and a missing one is a one-line `PeerError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from sandbox.bench import (
    PEERS,
    BenchRow,
    global_limit_of,
    ledger_after,
    measure_window,
    wait_quiet,
)

__all__ = [
    "CLIENT_LOGGERS",
    "DETAILS_CHARS",
    "PEERS",
    "PeerError",
    "quiet_client_loggers",
    "run_peer_burst",
    "sender",
]


#: Characters in a peer's message: about the size of the ladder bot's match-details
#: message (its content plus the embed's text: opponent, races, MMRs, map, server,
#: deadline). Rate limits do not depend on size; this keeps the bodies comparable.
DETAILS_CHARS = 420

_OPEN_PER_S = 25
#: The loggers discord.py and hikari report every 429 they handle on.
CLIENT_LOGGERS = ("discord", "hikari")


class PeerError(Exception):
    """A peer cannot run (library missing, mock refused a setup call); one line."""


class Sender(Protocol):
    name: str

    async def send(self, channel_id: str, content: str) -> None: ...


# ------------------------------------------------------------------------------ senders


class _DiscordPySender:
    name = "discord.py"

    def __init__(self, http: Any, params: Any) -> None:
        self._http = http
        self._params = params

    async def send(self, channel_id: str, content: str) -> None:
        with self._params(content=content) as params:
            await self._http.send_message(int(channel_id), params=params)


class _HikariSender:
    name = "hikari"

    def __init__(self, rest: Any) -> None:
        self._rest = rest

    async def send(self, channel_id: str, content: str) -> None:
        await self._rest.create_message(int(channel_id), content)


def _import_discord() -> Any:
    with warnings.catch_warnings():
        # discord.py imports the stdlib `audioop` (voice), deprecated since 3.11; we never
        # touch voice. Only that warning is hidden.
        warnings.filterwarnings("ignore", r"'audioop' is deprecated", DeprecationWarning)
        try:
            import discord.http
        except ImportError:
            raise PeerError("discord.py is not installed (pip install -e '.[dev]')") from None
    return discord.http


@contextlib.asynccontextmanager
async def _discordpy(api_base: str, token: str) -> AsyncIterator[Sender]:
    http_module = _import_discord()
    previous = http_module.Route.BASE
    http_module.Route.BASE = api_base
    http = http_module.HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(token)
        yield _DiscordPySender(http, http_module.handle_message_parameters)
    finally:
        await http.close()
        http_module.Route.BASE = previous


@contextlib.asynccontextmanager
async def _hikari(api_base: str, token: str) -> AsyncIterator[Sender]:
    try:
        import hikari
    except ImportError:
        raise PeerError("hikari is not installed (pip install -e '.[dev]')") from None
    app = hikari.RESTApp(url=api_base)
    await app.start()
    try:
        async with app.acquire(token, token_type=hikari.TokenType.BOT) as rest:
            yield _HikariSender(rest)
    finally:
        await app.close()


@contextlib.asynccontextmanager
async def sender(library: str, api_base: str, token: str) -> AsyncIterator[Sender]:
    """A logged-in sender for ``library`` (``discord.py`` or ``hikari``)."""
    if library == "discord.py":
        async with _discordpy(api_base, token) as s:
            yield s
    elif library == "hikari":
        async with _hikari(api_base, token) as s:
            yield s
    else:
        raise PeerError(f"unknown peer {library!r} (choose from {', '.join(PEERS)})")


@contextlib.contextmanager
def quiet_client_loggers() -> Iterator[None]:
    """The libraries log every 429 they handle; the bench prints its own table."""
    loggers = [logging.getLogger(name) for name in CLIENT_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


# ------------------------------------------------------------------------------- setup


async def open_dms(
    session: aiohttp.ClientSession, api_base: str, token: str, user_ids: Sequence[str]
) -> list[str]:
    """Open the bot's DM with each user (``POST /users/@me/channels``), ``_OPEN_PER_S``
    a second: setup traffic, well under the global limit, before any measurement."""
    headers = {"Authorization": f"Bot {token}"}
    channels: list[str] = []

    async def one(user_id: str) -> str:
        async with session.post(
            f"{api_base}/users/@me/channels", json={"recipient_id": user_id}, headers=headers
        ) as response:
            body = await response.json(content_type=None)
            if response.status != 200 or not isinstance(body, dict):
                raise PeerError(f"the mock refused to open a DM: HTTP {response.status} {body}")
            return str(body["id"])

    for i in range(0, len(user_ids), _OPEN_PER_S):
        began = time.monotonic()
        channels += await asyncio.gather(*(one(u) for u in user_ids[i : i + _OPEN_PER_S]))
        if i + _OPEN_PER_S < len(user_ids):
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
    return channels


# -------------------------------------------------------------------------------- a run


async def run_peer_burst(
    library: str,
    matches: int,
    *,
    runs_dir: Path,
    content_chars: int = DETAILS_CHARS,
) -> BenchRow:
    """One burst of ``2 * matches`` DM creates by ``library`` on a fresh stack."""
    from sandbox.stack import StackConfig, run_stack

    config = StackConfig(
        mode="subprocess", runs_dir=runs_dir, heartbeat_interval=0, log_level="WARNING"
    )
    players = 2 * matches
    content = ("match details " * (content_chars // 14 + 1))[:content_chars]
    async with run_stack(config) as stack:
        control = stack.control
        app = stack.application_id
        token = str(stack.application["bot_token"])
        users = await control.create_users(count=players + 1, prefix="peer-")
        warm, *channels = await open_dms(stack.session, stack.api_base, token, users)
        with quiet_client_loggers():
            async with sender(library, stack.api_base, token) as client:
                await client.send(warm, content)
                mark = await wait_quiet(control)
                start = time.time()
                outcomes = await asyncio.gather(
                    *(client.send(c, content) for c in channels), return_exceptions=True
                )
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        for error in failed:
            if not isinstance(error, Exception):
                raise error
        window = await ledger_after(control, mark)
        limit, period = await global_limit_of(control, app)
    return measure_window(
        window,
        strategy=library,
        matches=matches,
        start=start,
        global_limit=limit,
        global_period=period,
        application_id=app,
        phase1_expected=0,
        kind="peer",
    )
