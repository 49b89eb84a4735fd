"""Dispatcher (interface skeleton; the delivery engine follows in the next commits)."""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.discord.client import DiscordClient
from bot.notify.types import STRATEGIES, DispatchConfig, Renderer, UndeliverableHook
from bot.store.store import Store

__all__ = ["Dispatcher"]


class Dispatcher:
    def __init__(
        self,
        store: Store,
        client: DiscordClient,
        render: Renderer,
        *,
        clock: Clock,
        config: DispatchConfig | None = None,
        application_id: int | str,
        on_undeliverable: UndeliverableHook | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.render = render
        self.clock = clock
        self.config = config or DispatchConfig()
        self.application_id = application_id
        self.on_undeliverable = on_undeliverable
        self._strategy = self.config.strategy

    @property
    def strategy(self) -> str:
        return self._strategy

    async def start(self) -> None:
        """Start the delivery loop (pending rows of a previous run are resumed)."""

    def wake(self) -> None:
        """New outbox rows exist: look again soon. Cheap and idempotent."""

    async def stop(self) -> None:
        """Stop delivering; undelivered rows stay pending in the outbox."""

    def set_strategy(self, name: str) -> None:
        """Switch strategy at run time (applies from the next wave)."""
        if name not in STRATEGIES:
            raise ValueError(f"unknown dispatch strategy {name!r}; choose one of {STRATEGIES}")
        self._strategy = name

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe: strategy, the current wave's phase progress, recent waves' metrics."""
        return {"strategy": self._strategy, "current_wave": None, "recent_waves": []}
