"""Reading scenario files: TOML in, a validated `Scenario` out, or ONE precise error.

A QA engineer edits these files by hand, and CI runs them unattended, so a mistake must
never be silently ignored (a misspelt `expect` key that checks nothing would turn a red run
green). The loader is therefore strict: unknown keys, wrong types, durations without a
unit and unknown actions are all errors. Each error is one line:

    scenarios/peak-wave.toml:14: steps[3].spawn: expected a positive integer, got "many"

`tomllib` reports syntax errors with a line number. Semantic errors are found after
parsing, when the TOML structure no longer knows where a value came from, so `_Locator`
scans the source once and records the line of every table header (`[setup]`, the n-th
`[[steps]]`) and of every `key =`, including keys inside inline tables. A path such as
("steps", 2, "spawn") is then mapped to the nearest recorded line.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mockdiscord.faults import FaultConfig, FaultConfigError
from sandbox.scenario.durations import DURATION_FORM, parse_duration
from sandbox.scenario.model import STRATEGIES, Expectation, Scenario, ScenarioError, Setup, Step

__all__ = [
    "ACTIONS",
    "EXPECT_KINDS",
    "WAIT_CONDITIONS",
    "load_scenario",
    "parse_scenario",
]

WAIT_CONDITIONS = ("wave_delivered", "all_idle", "outbox_empty")
RACES = ("mix", "bw", "sc2", "both")
SCOPES = ("any", "global", "user", "shared", "ban")

Path_ = tuple[str | int, ...]


class _Invalid(Exception):
    def __init__(self, path: Path_, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


# ------------------------------------------------------------------------ value checkers

Checker = Callable[[Any, Path_], Any]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)


def _positive_int(value: Any, path: Path_) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(path, f"expected a positive integer, got {_show(value)}")
    return value


def _non_negative_int(value: Any, path: Path_) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Invalid(path, f"expected an integer >= 0, got {_show(value)}")
    return value


def _int(value: Any, path: Path_) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(path, f"expected an integer, got {_show(value)}")
    return value


def _number(value: Any, path: Path_) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Invalid(path, f"expected a number, got {_show(value)}")
    return float(value)


def _positive_number(value: Any, path: Path_) -> float:
    number = _number(value, path)
    if number <= 0:
        raise _Invalid(path, f"expected a number > 0, got {_show(value)}")
    return number


def _probability(value: Any, path: Path_) -> float:
    number = _number(value, path)
    if not 0.0 <= number <= 1.0:
        raise _Invalid(path, f"expected a probability between 0 and 1, got {_show(value)}")
    return number


def _true(value: Any, path: Path_) -> bool:
    if value is not True:
        raise _Invalid(path, f"expected true, got {_show(value)}")
    return True


def _bool(value: Any, path: Path_) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(path, f"expected true or false, got {_show(value)}")
    return value


def _text(value: Any, path: Path_) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(path, f"expected a non-empty string, got {_show(value)}")
    return value


def _duration(value: Any, path: Path_) -> float:
    try:
        return parse_duration(value)
    except ValueError:
        raise _Invalid(path, f"expected {DURATION_FORM}, got {_show(value)}") from None


def _one_of(*choices: str) -> Checker:
    def check(value: Any, path: Path_) -> str:
        if value not in choices:
            shown = ", ".join(f'"{c}"' for c in choices)
            raise _Invalid(path, f"expected one of {shown}, got {_show(value)}")
        return value

    return check


def _count_or_all(value: Any, path: Path_) -> int | None:
    """`"all"` (None for the operator) or a positive count."""
    if value == "all":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(path, f'expected "all" or a positive integer, got {_show(value)}')
    return value


def _table(spec: Mapping[str, Checker]) -> Checker:
    def check(value: Any, path: Path_) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Invalid(path, f"expected a table, got {_show(value)}")
        return _check_keys(value, path, spec)

    return check


def _check_keys(data: Mapping[str, Any], path: Path_, spec: Mapping[str, Checker]) -> dict:
    for key in data:
        if key not in spec:
            raise _Invalid(
                (*path, key), f'unknown key "{key}" (expected one of: {", ".join(spec)})'
            )
    return {key: spec[key](value, (*path, key)) for key, value in data.items()}


def _confirm_delay(value: Any, path: Path_) -> float | tuple[float, float]:
    if isinstance(value, list):
        if len(value) != 2:
            raise _Invalid(path, f"expected [min, max] durations, got {len(value)} values")
        low, high = (_duration(v, (*path, i)) for i, v in enumerate(value))
        if low > high:
            raise _Invalid(path, "expected [min, max] with min <= max")
        return (low, high)
    return _duration(value, path)


BEHAVIOUR: dict[str, Checker] = {
    "confirm_delay": _confirm_delay,
    "no_confirm": _probability,
    "abort": _probability,
    "wrong_result": _probability,
    "replay": _probability,
    "dms_closed": _probability,
}


def _route_limits(value: Any, path: Path_) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise _Invalid(path, f"expected a table of rule name = {{limit, period}}, got {value!r}")
    spec = {
        "limit": _positive_int,
        "period": _duration,
        "algorithm": _one_of("sliding", "fixed"),
    }
    return {name: _table(spec)(rule, (*path, name)) for name, rule in value.items()}


LIMITS: dict[str, Checker] = {
    "global_limit": _positive_int,
    "global_period": _duration,
    "global_algorithm": _one_of("sliding", "fixed", "gcra"),
    "ip_limit": _positive_int,
    "interaction_token_lifetime": _duration,
    "routes": _route_limits,
}


def _faults(value: Any, path: Path_) -> dict[str, Any]:
    """Checked by the mock's own parser, so a scenario accepts exactly what the mock does."""
    if not isinstance(value, dict):
        raise _Invalid(path, f"expected a table, got {_show(value)}")
    try:
        FaultConfig.from_mapping(value, where="faults")
    except FaultConfigError as error:
        parts: list[str | int] = []
        for part in error.field.split(".")[1:]:
            name, _, rest = part.partition("[")
            parts.append(name)
            if rest:
                parts.append(int(rest.rstrip("]")))
        raise _Invalid((*path, *parts), error.message) from None
    return value


def _configure(value: Any, path: Path_) -> dict[str, Any]:
    spec = {**LIMITS, "profile": _text, "faults": _faults}
    changes = _table(spec)(value, path)
    if not changes:
        raise _Invalid(path, "expected at least one change (e.g. { global_limit = 40 })")
    return changes


SETUP: dict[str, Checker] = {
    "profile": _text,
    "strategy": _one_of(*STRATEGIES),
    "wave_interval": _duration,
    "limits": _table(LIMITS),
    "faults": _faults,
    "seed": _int,
    "players": _non_negative_int,
    "behaviour": _table(BEHAVIOUR),
}


def _snapshot_label(value: Any, path: Path_) -> str:
    if value is True:
        return ""
    return _text(value, path)


# action -> (value checker, options)
ACTIONS: dict[str, tuple[Checker, dict[str, Checker]]] = {
    "spawn": (
        _positive_int,
        {
            "rating_mean": _number,
            "rating_sd": _number,
            "races": _one_of(*RACES),
            "behaviour": _table(BEHAVIOUR),
        },
    ),
    "queue": (_count_or_all, {}),
    "wave": (_true, {}),
    "complete": (_count_or_all, {}),
    "conflict": (_count_or_all, {}),
    "abort": (_count_or_all, {}),
    "disconnect": (_true, {}),
    "replays": (_count_or_all, {}),
    "leaderboard_spam": (_positive_int, {}),
    "announce": (_text, {}),
    "strategy": (_one_of(*STRATEGIES), {}),
    "configure": (_configure, {}),
    "expire_tokens": (_true, {}),
    "restart_bot": (_true, {"kill": _bool}),
    "snapshot": (_snapshot_label, {}),
    "wait": (_duration, {}),
    "wait_until": (_one_of(*WAIT_CONDITIONS), {"timeout": _duration}),
}

_COMMON_EXPECT: dict[str, Checker] = {"name": _text, "snapshot": _text}
_WAVE = {"wave": _int}

# kind -> (bound checker, options)
EXPECT_KINDS: dict[str, tuple[Checker, dict[str, Checker]]] = {
    "no_rate_limits": (_true, {"scope": _one_of(*SCOPES)}),
    "rate_limits_at_least": (_positive_int, {"scope": _one_of(*SCOPES)}),
    "peak_1s_at_most": (_positive_int, {}),
    "all_notified_within": (_duration, dict(_WAVE)),
    "phase1_spread_at_most": (_duration, dict(_WAVE)),
    "no_stuck_players": (_true, {"allowed": lambda v, p: _string_list(v, p)}),
    "failed_interactions": (_non_negative_int, {}),
    "exactly_once": (_true, {"contains": _text}),
    "makespan_ratio_at_most": (_positive_number, {**_WAVE, "slack": _duration}),
}


def _string_list(value: Any, path: Path_) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _Invalid(path, f"expected a non-empty array of strings, got {_show(value)}")
    return tuple(value)


# ----------------------------------------------------------------------------- locator


_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\](?:\s*#.*)?$")
_ARRAY_HEADER = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\](?:\s*#.*)?$")
_KEY = re.compile(
    r"""^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_INLINE_KEY = re.compile(r"""[{,]\s*([A-Za-z0-9_-]+|"[^"]*")\s*=""")


def _key_parts(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


class _Locator:
    """Lines of table headers and keys in a TOML source, by path."""

    def __init__(self, source: str) -> None:
        self.lines: dict[Path_, int] = {}
        arrays: dict[tuple[str, ...], int] = {}
        current: Path_ = ()
        fence: str | None = None
        for number, raw in enumerate(source.splitlines(), 1):
            line = raw.strip()
            if fence is not None:
                if fence in line:
                    fence = None
                continue
            if not line or line.startswith("#"):
                continue
            array = _ARRAY_HEADER.match(line)
            header = None if array else _HEADER.match(line)
            if array:
                name = _key_parts(array.group(1))
                index = arrays.get(name, 0)
                arrays[name] = index + 1
                current = (*name, index)
                self.lines.setdefault(current, number)
                continue
            if header:
                current = _key_parts(header.group(1))
                self.lines.setdefault(current, number)
                continue
            key = _KEY.match(line)
            if key is None:
                continue
            path = (*current, *_key_parts(key.group(1)))
            self.lines.setdefault(path, number)
            rest = line[key.end() :]
            for inner in _INLINE_KEY.finditer(rest):
                self.lines.setdefault((*path, inner.group(1).strip("\"'")), number)
            for delimiter in ('"""', "'''"):
                if rest.count(delimiter) % 2 == 1:
                    fence = delimiter

    def line(self, path: Path_) -> int | None:
        for cut in range(len(path), 0, -1):
            prefix = path[:cut]
            if prefix in self.lines:
                return self.lines[prefix]
            if cut < len(path) and (*prefix, path[-1]) in self.lines:
                return self.lines[(*prefix, path[-1])]
        return None


def _describe(path: Path_) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + part
    return text


# ------------------------------------------------------------------------------ parsing

TOP_LEVEL = ("name", "description", "setup", "steps", "expect")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file; `ScenarioError` on any problem."""
    try:
        source = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(path, None, f"cannot read the file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(path, None, "not a UTF-8 text file") from None
    return parse_scenario(source, path)


_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_scenario(source: str, path: str | Path = "<scenario>") -> Scenario:
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        text = str(error)
        found = _TOML_LINE.search(text)
        line = int(found.group(1)) if found else None
        message = _TOML_LINE.sub("", text).strip() if found else text
        raise ScenarioError(
            path, line, f"invalid TOML: {message} (expected TOML, see docs/scenarios.md)"
        ) from None
    locator = _Locator(source)
    try:
        return _scenario(data, path, locator)
    except _Invalid as error:
        line = locator.line(error.path)
        where = _describe(error.path)
        message = f"{where}: {error.message}" if where else error.message
        raise ScenarioError(path, line, message) from None


def _scenario(data: dict[str, Any], path: str | Path, locator: _Locator) -> Scenario:
    for key in data:
        if key not in TOP_LEVEL:
            raise _Invalid(
                (key,),
                f'unknown key "{key}" (expected [setup], [[steps]], [[expect]], name, description)',
            )
    name = _text(data["name"], ("name",)) if "name" in data else Path(path).stem
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _Invalid(("description",), f"expected a string, got {_show(description)}")
    setup = _setup(data.get("setup", {}))
    steps = _array(data, "steps", "[[steps]]")
    expects = _array(data, "expect", "[[expect]]")
    parsed_steps = tuple(
        _step(i, raw, locator.line(("steps", i)) or 1) for i, raw in enumerate(steps)
    )
    labels = {s.value for s in parsed_steps if s.action == "snapshot" and s.value}
    parsed_expects = tuple(
        _expectation(i, raw, labels, locator.line(("expect", i)) or 1)
        for i, raw in enumerate(expects)
    )
    setup = dataclasses.replace(setup, line=locator.line(("setup",)) or 1)
    return Scenario(str(path), name, description, setup, parsed_steps, parsed_expects)


def _array(data: dict[str, Any], key: str, form: str) -> list[dict[str, Any]]:
    if key not in data:
        raise _Invalid((), f"expected at least one {form} table")
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Invalid((key,), f"expected {form} tables, got {_show(value)}")
    if not value:
        raise _Invalid((key,), f"expected at least one {form} table")
    return value


def _setup(raw: Any) -> Setup:
    if not isinstance(raw, dict):
        raise _Invalid(("setup",), f"expected a [setup] table, got {_show(raw)}")
    values = _check_keys(raw, ("setup",), SETUP)
    return Setup(
        profile=values.get("profile", "discord"),
        strategy=values.get("strategy"),
        wave_interval=values.get("wave_interval"),
        limits=values.get("limits", {}),
        faults=values.get("faults", {}),
        seed=values.get("seed"),
        players=values.get("players", 0),
        behaviour=values.get("behaviour", {}),
    )


def _split_kind(
    raw: dict[str, Any],
    path: Path_,
    table: Mapping[str, tuple[Checker, dict[str, Checker]]],
    what: str,
    extra: Mapping[str, Checker],
) -> tuple[str, Any, dict[str, Any]]:
    kinds = [key for key in raw if key in table]
    if len(kinds) != 1:
        choices = ", ".join(table)
        if not kinds:
            unknown = next((k for k in raw if k not in extra), None)
            if unknown is not None:
                raise _Invalid(
                    (*path, unknown), f'unknown {what} "{unknown}" (expected one of: {choices})'
                )
            raise _Invalid(path, f"expected exactly one {what} key among: {choices}")
        raise _Invalid(
            (*path, kinds[1]),
            f"expected exactly one {what} per table, got {' and '.join(kinds)}",
        )
    kind = kinds[0]
    checker, options = table[kind]
    allowed = {**options, **extra}
    bound = checker(raw[kind], (*path, kind))
    rest = {k: v for k, v in raw.items() if k != kind}
    for key in rest:
        if key not in allowed:
            expected = ", ".join(allowed) if allowed else "no options"
            raise _Invalid((*path, key), f'unknown key "{key}" for {kind} (expected: {expected})')
    return kind, bound, {k: allowed[k](v, (*path, k)) for k, v in rest.items()}


def _step(index: int, raw: dict[str, Any], line: int) -> Step:
    path: Path_ = ("steps", index)
    action, value, options = _split_kind(raw, path, ACTIONS, "action", {})
    return Step(index + 1, action, value, options, line)


def _expectation(index: int, raw: dict[str, Any], labels: set[str], line: int) -> Expectation:
    path: Path_ = ("expect", index)
    kind, bound, options = _split_kind(raw, path, EXPECT_KINDS, "expectation", _COMMON_EXPECT)
    label = options.get("snapshot")
    if label is not None and label not in labels:
        known = ", ".join(f'"{x}"' for x in sorted(labels)) or "none"
        raise _Invalid(
            (*path, "snapshot"),
            f'no snapshot step labelled "{label}" (expected one of: {known})',
        )
    name = options.pop("name", None) or _default_name(kind, bound, options)
    return Expectation(kind, bound, options, name, line)


def _default_name(kind: str, bound: Any, options: Mapping[str, Any]) -> str:
    scope = options.get("scope")
    if bound is True:
        name = kind
        if "contains" in options:
            name += f" {options['contains']!r}"
    elif isinstance(bound, float) and kind.endswith(("within", "spread_at_most")):
        name = f"{kind} {bound:g}s"
    else:
        name = f"{kind} {bound:g}" if isinstance(bound, float) else f"{kind} {bound}"
    return f"{name} [{scope}]" if scope and scope != "any" else name
