"""Dialog input, validated: text in, a value or one line saying what is wrong.

Every dialog in the TUI passes its raw field text through one of these parsers before it
calls the core. A parser returns the value the core wants or raises `FormError` whose
message is shown inline under the form; nothing the operator types can crash the app.
They are pure functions, so the rules are tested without a terminal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockdiscord.faults import FaultConfig, FaultConfigError

__all__ = [
    "BEHAVIOURS",
    "RACE_MIXES",
    "STRATEGIES",
    "FormError",
    "SpawnForm",
    "parse_announce",
    "parse_behaviours",
    "parse_count",
    "parse_export_path",
    "parse_faults",
    "parse_limits",
    "parse_scenario_path",
    "parse_spawn",
]

STRATEGIES = ("naive", "sequential", "batched", "paced")
RACE_MIXES = ("mix", "bw", "sc2", "both")
#: Behaviour knobs the spawn dialog offers (probabilities, except confirm_delay in seconds).
BEHAVIOURS = (
    "confirm_delay",
    "no_confirm",
    "abort",
    "wrong_result",
    "replay",
    "dms_closed",
)
MAX_PLAYERS = 10_000


class FormError(ValueError):
    """One line for the operator: which field, what is expected."""


def _number(text: str, name: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise FormError(f"{name}: expected a number, got {text.strip()!r}") from None
    if not math.isfinite(value):
        raise FormError(f"{name}: expected a finite number")
    return value


def _integer(text: str, name: str, low: int, high: int) -> int:
    raw = text.strip()
    try:
        value = int(raw)
    except ValueError:
        raise FormError(f"{name}: expected a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise FormError(f"{name}: {value} is out of range ({low}..{high})")
    return value


def _rate(text: str, name: str) -> float:
    if not text.strip():
        return 0.0
    value = _number(text, name)
    if not 0.0 <= value <= 1.0:
        raise FormError(f"{name}: a probability from 0 to 1, got {value:g}")
    return value


def parse_count(text: str, *, allow_all: bool = True, high: int = MAX_PLAYERS) -> int | None:
    """A positive count, or None for "all" (blank or the word `all`) when allowed."""
    raw = text.strip().lower()
    if raw in ("", "all"):
        if allow_all:
            return None
        raise FormError("count: a whole number is required")
    return _integer(raw, "count", 1, high)


def parse_behaviours(text: str) -> dict[str, float]:
    """`abort=0.1, replay=0.5, confirm_delay=2` -> a dict; unknown names are errors."""
    result: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.replace(";", ",").split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise FormError(f"behaviours: expected name=value, got {item!r}")
        if name not in BEHAVIOURS:
            raise FormError(
                f"behaviours: unknown {name!r}; expected one of {', '.join(BEHAVIOURS)}"
            )
        if name == "confirm_delay":
            seconds = _number(value, name)
            if seconds < 0:
                raise FormError("confirm_delay: seconds, >= 0")
            result[name] = seconds
        else:
            result[name] = _rate(value, name)
    return result


@dataclass(frozen=True, slots=True)
class SpawnForm:
    count: int
    rating_mean: float
    rating_sd: float
    races: str
    behaviour: dict[str, float]

    def kwargs(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "rating_mean": self.rating_mean,
            "rating_sd": self.rating_sd,
            "races": self.races,
        }
        if self.behaviour:
            options["behaviour"] = dict(self.behaviour)
        return options


def parse_spawn(count: str, mean: str, sd: str, races: str, behaviours: str) -> SpawnForm:
    n = parse_count(count, allow_all=False)
    assert n is not None
    rating_mean = _number(mean or "1500", "rating mean")
    if not 0 <= rating_mean <= 5000:
        raise FormError("rating mean: from 0 to 5000")
    rating_sd = _number(sd or "300", "rating sd")
    if not 0 <= rating_sd <= 2000:
        raise FormError("rating sd: from 0 to 2000")
    mix = (races or "mix").strip().lower()
    if mix not in RACE_MIXES:
        raise FormError(f"race mix: one of {', '.join(RACE_MIXES)}")
    return SpawnForm(n, rating_mean, rating_sd, mix, parse_behaviours(behaviours))


def parse_announce(text: str) -> str:
    value = text.strip()
    if not value:
        raise FormError("announcement: type some text")
    if len(value) > 1800:
        raise FormError(f"announcement: at most 1800 characters ({len(value)} given)")
    return value


def parse_limits(global_limit: str, profile: str) -> dict[str, Any]:
    """`PUT /_mock/config` changes: a global limit and/or a profile (name or TOML path)."""
    changes: dict[str, Any] = {}
    if profile.strip():
        name = profile.strip()
        if ("/" in name or name.endswith(".toml")) and not Path(name).is_file():
            raise FormError(f"profile: no such file {name!r}")
        changes["profile"] = name
    if global_limit.strip():
        changes["global_limit"] = _integer(global_limit, "global limit", 1, 1_000_000)
    if not changes:
        raise FormError("nothing to change: give a global limit or a profile")
    return changes


def parse_faults(
    error_rate: str,
    reset_rate: str,
    latency_ms: str,
    jitter_ms: str,
    drop_rate: str,
    *,
    seed: int | None = None,
) -> dict[str, Any]:
    """The `faults` object of `PUT /_mock/config`; all zero clears every fault.

    Checked with the mock's own parser (`FaultConfig.from_mapping`), so what passes here is
    what the mock accepts.
    """
    latency = _number(latency_ms, "latency ms") if latency_ms.strip() else 0.0
    jitter = _number(jitter_ms, "jitter ms") if jitter_ms.strip() else 0.0
    if latency < 0 or jitter < 0:
        raise FormError("latency: milliseconds, >= 0")
    faults: dict[str, Any] = {
        "errors": {"rate": _rate(error_rate, "5xx rate")},
        "resets": {"rate": _rate(reset_rate, "reset rate")},
        "interactions": {"drop_rate": _rate(drop_rate, "interaction drop rate")},
        "latency": (
            [{"route": "*", "fixed_ms": latency, "jitter_ms": jitter}] if latency or jitter else []
        ),
    }
    if seed is not None:
        faults["seed"] = seed
    try:
        FaultConfig.from_mapping(faults)
    except FaultConfigError as error:
        raise FormError(str(error)) from None
    return faults


def parse_scenario_path(text: str) -> Path:
    """A scenario file that loads (the loader's one-line error otherwise)."""
    from sandbox.scenario import ScenarioError, load_scenario

    raw = text.strip()
    if not raw:
        raise FormError("scenario: give the path of a .toml file")
    path = Path(raw).expanduser()
    if not path.is_file():
        raise FormError(f"scenario: no such file {raw!r}")
    try:
        load_scenario(path)
    except ScenarioError as error:
        raise FormError(str(error)) from None
    return path


def parse_export_path(text: str) -> Path:
    raw = text.strip()
    if not raw:
        raise FormError("report: give a file path, e.g. report.json")
    path = Path(raw).expanduser()
    if path.is_dir():
        raise FormError(f"report: {raw!r} is a folder")
    if not path.parent.exists():
        raise FormError(f"report: folder {str(path.parent)!r} does not exist")
    return path


def describe_changes(changes: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in changes.items())
