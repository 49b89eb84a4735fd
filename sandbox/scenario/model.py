"""The scenario data model: what a TOML scenario file means, once validated.

A scenario is a setup (how the stack starts), an ordered list of steps (operator actions
and waits) and a list of expectations checked on the final snapshot (or on a named one).
Every value object remembers the line it came from, so a failure in a report points back at
the file the way a compiler error does. All values are immutable and already converted
(durations are seconds as floats), so the runner never re-parses anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "STRATEGIES",
    "Expectation",
    "Scenario",
    "ScenarioError",
    "Setup",
    "Step",
]

STRATEGIES = ("naive", "sequential", "batched", "paced")


class ScenarioError(Exception):
    """A bad scenario file: one line, naming the file, the line and the expected form."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Setup:
    """`[setup]`: how the stack starts. `limits` and `faults` are passed to the mock as
    given (the keys of `PUT /_mock/config`), `behaviour` to the player simulator."""

    profile: str = "discord"
    strategy: str | None = None
    wave_interval: float | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    players: int = 0
    behaviour: dict[str, Any] = field(default_factory=dict)
    line: int = 1


@dataclass(frozen=True, slots=True)
class Step:
    """One `[[steps]]` entry: exactly one action plus its options."""

    index: int  # 1-based position in the file
    action: str
    value: Any
    options: dict[str, Any] = field(default_factory=dict)
    line: int = 1

    def describe(self) -> str:
        value = self.value
        if value is True:
            text = self.action
        elif isinstance(value, float):
            text = f"{self.action} {value:g}s"
        elif isinstance(value, dict):
            inner = ", ".join(f"{k}={v}" for k, v in value.items())
            text = f"{self.action} {{{inner}}}"
        else:
            text = f"{self.action} {value}"
        if self.options:
            text += " (" + ", ".join(f"{k}={v}" for k, v in self.options.items()) + ")"
        return text


@dataclass(frozen=True, slots=True)
class Expectation:
    """One `[[expect]]` entry: a kind, its bound and options."""

    kind: str
    bound: Any
    options: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    line: int = 1


@dataclass(frozen=True, slots=True)
class Scenario:
    path: str
    name: str
    description: str
    setup: Setup
    steps: tuple[Step, ...]
    expectations: tuple[Expectation, ...]
