"""From a `[[steps]]` entry to one Operator call (or a wait).

The runner never talks to the mock or the bot directly: every action goes through the
Operator API of notes/SANDBOX_API.md, so a scenario drives exactly what the TUI and the
benchmark drive. `OperatorLike` is that API as a structural type, which lets tests hand the
runner a fake operator and lets the real `sandbox.operator.Operator` plug in unchanged.

Waits use an injected `sleep`, so tests never wait on a real timer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.scenario.model import Setup, Step
from sandbox.snapshot import Snapshot

__all__ = [
    "DEFAULT_WAIT_UNTIL_TIMEOUT",
    "OperatorLike",
    "StepOutcome",
    "apply_setup",
    "execute_step",
]

DEFAULT_WAIT_UNTIL_TIMEOUT = 60.0

Sleep = Callable[[float], Awaitable[None]]


class OperatorLike(Protocol):
    """The Operator methods a scenario uses (see notes/SANDBOX_API.md)."""

    async def spawn(self, count: int, **options: Any) -> list[str]: ...
    async def queue(self, n: int | None = None) -> int: ...
    async def wave(self) -> None: ...
    async def complete(self, n: int | None = None) -> int: ...
    async def conflict(self, n: int | None = None) -> int: ...
    async def abort(self, n: int | None = None) -> int: ...
    async def disconnect(self) -> int: ...
    async def replays(self, n: int | None = None) -> int: ...
    async def leaderboard_spam(self, n: int) -> int: ...
    async def announce(self, text: str) -> None: ...
    async def set_strategy(self, name: str) -> None: ...
    async def configure_mock(self, **changes: Any) -> None: ...
    async def expire_tokens(self) -> None: ...
    async def restart_bot(self, *, kill: bool = True) -> None: ...
    async def snapshot(self) -> Snapshot: ...
    async def wait_until(self, condition: str, timeout: float) -> bool: ...  # noqa: ASYNC109


@dataclass(frozen=True, slots=True)
class StepOutcome:
    ok: bool
    detail: str
    snapshot: Snapshot | None = None


def _some(n: int | None) -> str:
    return "all" if n is None else str(n)


async def execute_step(operator: OperatorLike, step: Step, *, sleep: Sleep) -> StepOutcome:
    """Run one step. `ok=False` only for a `wait_until` that timed out; operator errors
    propagate to the runner."""
    action, value, options = step.action, step.value, step.options
    match action:
        case "spawn":
            ids = await operator.spawn(value, **options)
            return StepOutcome(True, f"spawned {len(ids)} players")
        case "queue" | "complete" | "conflict" | "abort" | "replays":
            done = await getattr(operator, action)(value)
            return StepOutcome(True, f"{action} {_some(value)}: {done}")
        case "wave":
            await operator.wave()
            return StepOutcome(True, "wave forced")
        case "disconnect":
            done = await operator.disconnect()
            return StepOutcome(True, f"{done} players stopped acting")
        case "leaderboard_spam":
            done = await operator.leaderboard_spam(value)
            return StepOutcome(True, f"{done} /leaderboard calls")
        case "announce":
            await operator.announce(value)
            return StepOutcome(True, f"announced {value!r}")
        case "strategy":
            await operator.set_strategy(value)
            return StepOutcome(True, f"strategy {value}")
        case "configure":
            await operator.configure_mock(**value)
            return StepOutcome(True, "mock configured: " + ", ".join(value))
        case "expire_tokens":
            await operator.expire_tokens()
            return StepOutcome(True, "interaction tokens expired")
        case "restart_bot":
            kill = options.get("kill", True)
            await operator.restart_bot(kill=kill)
            return StepOutcome(True, "bot killed and restarted" if kill else "bot restarted")
        case "snapshot":
            snap = await operator.snapshot()
            label = f" {value!r}" if value else ""
            return StepOutcome(True, f"snapshot{label}: {len(snap.ledger)} ledger lines", snap)
        case "wait":
            await sleep(value)
            return StepOutcome(True, f"waited {value:g}s")
        case "wait_until":
            timeout = options.get("timeout", DEFAULT_WAIT_UNTIL_TIMEOUT)
            reached = await operator.wait_until(value, timeout)
            if reached:
                return StepOutcome(True, f"{value} reached")
            return StepOutcome(False, f"{value} not reached within {timeout:g}s")
    raise ValueError(f"unknown action {action!r}")  # the loader makes this unreachable


async def apply_setup(operator: OperatorLike, setup: Setup) -> list[str]:
    """Apply `[setup]` through the Operator (also valid live); returns what was done."""
    done: list[str] = []
    changes: dict[str, Any] = {}
    if setup.profile != "discord":
        changes["profile"] = setup.profile
    changes.update(setup.limits)
    if setup.faults:
        changes["faults"] = setup.faults
    if changes:
        await operator.configure_mock(**changes)
        done.append("mock configured: " + ", ".join(changes))
    if setup.strategy is not None:
        await operator.set_strategy(setup.strategy)
        done.append(f"strategy {setup.strategy}")
    if setup.players:
        options = {"behaviour": setup.behaviour} if setup.behaviour else {}
        ids = await operator.spawn(setup.players, **options)
        done.append(f"spawned {len(ids)} players")
    return done
