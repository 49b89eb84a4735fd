"""The real core behind the TUI: an Operator over an embedded stack, or attached to one.

`LiveCore` forwards the Operator API unchanged (the scenario runner's `OperatorLike`, plus
the selected-match ``complete`` / ``abort`` and ``pause_players`` / ``resume_players``) and
adds the few things only the TUI needs, built from public pieces of the core:

- `poll()`: a *light* snapshot for the screen (mock stats, bot status, the players' view).
  `Operator.snapshot()` also downloads the whole ledger and every player's DM; doing that
  once a second would load the mock the screen is measuring. The full snapshot is still
  used for an exported report.
- `events()`: the mock's event stream, following the *current* stack (after a reset the
  stack is a new one, on new ports).
- `reset()`: an embedded stack is torn down and a fresh one started (new mock, new bot
  database, new players): the only reset that cannot leave the bot and the mock disagreeing.
  An attached core cannot reset, nor restart the bot (`restart_bot()`): the TUI did not
  start those programs (``can_reset=False`` says so).

`open_attached` builds an Operator over a mock and bot that are already running: the bot's
URL comes from the application's interactions URL, the admin is the user the stack created
(`sandbox.stack.ADMIN_NAME`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp

from sandbox.control import ControlError
from sandbox.snapshot import Snapshot
from sandbox.stack import Endpoints
from sandbox.tui.backend import Unsupported
from sandbox.tui.feed import websocket_source

__all__ = ["LiveCore", "open_attached"]

Opener = Callable[[], AbstractAsyncContextManager[Any]]

# hello and dropped always come; message_deleted is the one type the screen has no use for.
_STREAM_TYPES = "tick,rate_limited,ban,interaction,message_created,message_updated,fault"


class LiveCore:
    """An Operator (SANDBOX_API) plus the TUI's extras; see the module docstring."""

    def __init__(self, opener: Opener, *, can_reset: bool = True) -> None:
        self._opener = opener
        self._can_reset = can_reset
        self._context: contextlib.AsyncExitStack | None = None
        self.operator: Any = None

    async def open(self) -> None:
        context = contextlib.AsyncExitStack()
        try:
            self.operator = await context.enter_async_context(self._opener())
        except BaseException:
            await context.aclose()
            raise
        self._context = context

    async def close(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            await context.aclose()

    def __getattr__(self, name: str) -> Any:
        operator = self.__dict__.get("operator")
        if operator is None:
            raise AttributeError(name)
        return getattr(operator, name)

    # -- facts ------------------------------------------------------------------------------

    @property
    def mock_url(self) -> str:
        return str(self.operator.stack.mock_url)

    @property
    def application_id(self) -> str:
        return str(self.operator.stack.application_id)

    # -- reading ----------------------------------------------------------------------------

    async def poll(self) -> Snapshot:
        stack = self.operator.stack
        stats = await stack.control.stats()
        try:
            status = await stack.bot.status()
        except ControlError:
            status = {}
        return Snapshot(
            mock_stats=stats,
            bot_status=status,
            players=self.operator.crowd.views(),
            application_id=stack.application_id,
        )

    def events(self) -> AsyncIterator[dict[str, Any]]:
        source = websocket_source(self.mock_url, queue=8192, types=_STREAM_TYPES)
        return source()

    # -- extras -----------------------------------------------------------------------------

    async def reset(self) -> None:
        if not self._can_reset:
            raise Unsupported("an attached stack cannot be reset from here")
        await self.close()
        await self.open()

    async def restart_bot(self, *, kill: bool = True) -> None:
        if not self._can_reset:
            raise Unsupported("an attached bot is not the TUI's to restart: restart it yourself")
        config = getattr(getattr(self.operator, "stack", None), "config", None)
        if kill and getattr(config, "mode", None) == "inprocess":
            # The bot shares this process: it can only be stopped cleanly, never killed.
            raise Unsupported(
                "an in-process bot cannot be killed -9: choose graceful, or run without "
                "--in-process"
            )
        await self.operator.restart_bot(kill=kill)


class _AttachedStack(Endpoints):
    """The part of `sandbox.stack.Stack` the Operator uses, over running programs."""

    def __init__(self, mock_url: str, bot_url: str, session: aiohttp.ClientSession) -> None:
        self.mock_url = mock_url.rstrip("/")
        self.bot_url = bot_url.rstrip("/")
        self.session = session
        self.application: dict[str, Any] = {}
        self.admin_id = ""
        self.data_dir = Path(".")

    async def restart_bot(self, *, kill: bool = True) -> None:
        from sandbox.stack import StackError

        raise StackError("attached to a running bot: restart it yourself")


@contextlib.asynccontextmanager
async def open_attached(
    mock_url: str, *, bot_url: str | None = None, seed: int | None = None
) -> AsyncIterator[Any]:
    """An Operator over a running mock (and the bot its application points at)."""
    from sandbox.operator import operator_over
    from sandbox.stack import ADMIN_NAME, StackError

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        stack = _AttachedStack(mock_url, bot_url or "", session)
        control = stack.control
        try:
            stack.application = await control.default_application()
            users = (await control.call("GET", "/users"))["users"]
        except (ControlError, KeyError, StopIteration) as error:
            raise StackError(f"cannot attach to a mock at {mock_url}: {error}") from None
        admins = [u for u in users if u.get("username") == ADMIN_NAME]
        if not admins:
            raise StackError(f"the mock at {mock_url} has no {ADMIN_NAME!r} user (not a sandbox?)")
        stack.admin_id = str(admins[0]["id"])
        if not stack.bot_url:
            url = str(stack.application.get("interactions_url") or "")
            if not url.endswith("/interactions"):
                raise StackError("the mock has no bot interactions URL; pass --bot URL")
            stack.bot_url = url[: -len("/interactions")]
        async with operator_over(stack, seed=seed) as operator:  # type: ignore[arg-type]
            yield operator
