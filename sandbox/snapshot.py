"""One look at the whole sandbox, as plain data.

A `Snapshot` is what the scenario expectations, the TUI's exported report and the tests
judge: the mock's stats and ledger (the referee), the bot's status (context, and the one
thing only the bot knows: when it started a wave), the players' DMs and the simulator's
view of each player. Every measurement over it lives in `sandbox.ledger_analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Snapshot"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """State and metrics at one instant (see notes/SANDBOX_API.md)."""

    mock_stats: dict[str, Any] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    bot_status: dict[str, Any] = field(default_factory=dict)
    dms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    players: dict[str, dict[str, Any]] = field(default_factory=dict)
    application_id: str = ""

    def waves(self) -> list[dict[str, Any]]:
        """The bot's wave records, oldest first (by `started_at`, then `wave_id`).

        Read from `dispatch.waves` (notes/SANDBOX_API.md) and from the dispatcher's
        `dispatch.current_waves` / `dispatch.recent_waves`; one record per `wave_id`.
        """
        dispatch = self.bot_status.get("dispatch") or {}
        by_id: dict[Any, dict[str, Any]] = {}
        for key in ("waves", "recent_waves", "current_waves"):
            for wave in dispatch.get(key) or []:
                if isinstance(wave, dict):
                    by_id[wave.get("wave_id", id(wave))] = wave
        return sorted(
            by_id.values(),
            key=lambda w: (float(w.get("started_at") or 0.0), _as_int(w.get("wave_id"))),
        )


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
