"""What the TUI drives: an Operator, the mock's event stream, and a way to tear it all down.

The TUI is a thin front over the headless core (notes/SANDBOX_API.md). A `Backend` bundles:

- `operator`: the Operator API (spawn, queue, wave, ...), the only way the TUI acts;
- `events`: an `EventSource` over the mock's `/_mock/events` (None: no live stream);
- `poll`: how to read the slower state (mock stats, bot status, players); by default the
  operator's `snapshot()`;
- `close`: tears the stack down (the embedded stack, or nothing when attached).

Tests hand the app a Backend over a fake operator and a recorded event list; `run_tui` builds
one over the real stack. Optional operator abilities (pause/resume, reset, acting on one
selected match) are looked up by name, so a core without them gives a one-line notice, not a
crash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.scenario.steps import OperatorLike
from sandbox.snapshot import Snapshot
from sandbox.tui.feed import EventSource

__all__ = ["Backend", "Unsupported", "call_optional", "replay_source"]


class Unsupported(Exception):
    """The core does not offer this action."""


async def _nothing() -> None:
    return None


@dataclass
class Backend:
    operator: OperatorLike
    events: EventSource | None = None
    poll: Callable[[], Awaitable[Snapshot]] | None = None
    close: Callable[[], Awaitable[None]] = _nothing
    label: str = "embedded"
    mock_url: str | None = None
    bot_url: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    async def read(self) -> Snapshot:
        if self.poll is not None:
            return await self.poll()
        return await self.operator.snapshot()


async def call_optional(operator: Any, names: tuple[str, ...], *args: Any, **kwargs: Any) -> Any:
    """Call the first of `names` the operator has; `Unsupported` if it has none."""
    for name in names:
        method = getattr(operator, name, None)
        if callable(method):
            return await method(*args, **kwargs)
    raise Unsupported(f"this core has no {names[0]}()")


def replay_source(events: list[dict[str, Any]], *, hold: bool = True) -> EventSource:
    """An `EventSource` that yields recorded events, then (if `hold`) stays open.

    Used by the snapshot tests and the demo screenshot: deterministic, no network.
    """
    import asyncio

    async def source() -> AsyncIterator[dict[str, Any]]:
        for event in events:
            yield event
        if hold:
            await asyncio.Event().wait()

    return source
