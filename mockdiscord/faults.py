"""Injected faults: how the sandbox proves that a bot loses nothing when Discord misbehaves.

A real Discord is sometimes slow, sometimes answers 500/502/503, sometimes drops the
connection, and sometimes delivers an interaction late or never. The mock reproduces each
of these on demand, live (`PUT /_mock/config {"faults": ...}`) or from a `[faults]` table,
with one seeded RNG so that a failing run can be replayed exactly:

- **latency**: rules of `fixed_ms` + uniform `jitter_ms`, each for a route pattern or `*`.
  Every matching rule adds its delay (so a global rule and a route rule stack).
- **errors**: with probability `rate`, a request on a matching route gets a 5xx drawn
  from `statuses` with a Discord-like JSON body. For message create the interesting case
  is when the message **was stored before the error** (the client sees a failure, but the
  message exists): `stored_before_error` is the probability of that (0 = never, 1 = always).
  A client that retries with the same `nonce` and `enforce_nonce` must still end with one
  message; this is what that setting tests.
- **resets**: with probability `rate`, the connection is closed without any response.
- **interactions**: a delivery is `dropped` (never sent; the interaction fails at the
  deadline) with `drop_rate`, or `delayed` by `delay_ms` + uniform `delay_jitter_ms` with
  `delay_rate`.

Rate-limit verdicts come first: a request the engine refuses gets its 429, never a fault.
Every injected fault is counted here (`snapshot()`, merged into `/_mock/stats`) and named
in the ledger entry's `fault` field (`FaultDecision.label`), so both can be compared with
what a bot saw.

Route patterns are `"*"`, a route template as in ROUTES.md (`"POST /channels/{channel_id}/
messages"`), or a shell-style glob over `"METHOD /template"` (`"* /webhooks/*"`); a pattern
without a method matches every method. A pattern that matches no known route is an error,
so a typo cannot silently disable a fault.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

__all__ = [
    "DEFAULT_ERROR_STATUSES",
    "MESSAGE_CREATE",
    "NO_FAULT",
    "ErrorFaults",
    "FaultConfig",
    "FaultConfigError",
    "FaultDecision",
    "FaultInjector",
    "InteractionFault",
    "InteractionFaults",
    "LatencyRule",
    "ResetFaults",
    "error_body",
]

MESSAGE_CREATE = "POST /channels/{channel_id}/messages"
DEFAULT_ERROR_STATUSES = (500, 502, 503)
ALLOWED_ERROR_STATUSES = frozenset({500, 502, 503, 504})
_ERROR_MESSAGES = {
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
}
MAX_LATENCY_MS = 60_000.0


class FaultConfigError(ValueError):
    """Bad fault configuration; `field` is the dotted key, e.g. `faults.errors.rate`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def error_body(status: int) -> bytes:
    """The JSON body of an injected 5xx, shaped like Discord's `{"message", "code"}`."""
    message = _ERROR_MESSAGES.get(status, f"{status}: Server Error")
    return json.dumps({"message": message, "code": 0}, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class LatencyRule:
    pattern: str = "*"
    fixed_ms: float = 0.0
    jitter_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class ErrorFaults:
    rate: float = 0.0
    statuses: tuple[int, ...] = DEFAULT_ERROR_STATUSES
    routes: tuple[str, ...] = ("*",)
    stored_before_error: float = 0.0


@dataclass(frozen=True, slots=True)
class ResetFaults:
    rate: float = 0.0
    routes: tuple[str, ...] = ("*",)


@dataclass(frozen=True, slots=True)
class InteractionFaults:
    drop_rate: float = 0.0
    delay_rate: float = 0.0
    delay_ms: float = 0.0
    delay_jitter_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """The whole fault setup; the default injects nothing."""

    seed: int | None = None
    latency: tuple[LatencyRule, ...] = ()
    errors: ErrorFaults = field(default_factory=ErrorFaults)
    resets: ResetFaults = field(default_factory=ResetFaults)
    interactions: InteractionFaults = field(default_factory=InteractionFaults)

    @property
    def active(self) -> bool:
        return bool(
            self.latency
            or self.errors.rate
            or self.resets.rate
            or self.interactions.drop_rate
            or self.interactions.delay_rate
        )

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        where: str = "faults",
        known_routes: Iterable[str] | None = None,
    ) -> FaultConfig:
        """Parse a `[faults]` TOML table or the `faults` object of `PUT /_mock/config`."""
        return _Parser(where, frozenset(known_routes or ())).config(data)

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "latency": [
                {"route": r.pattern, "fixed_ms": r.fixed_ms, "jitter_ms": r.jitter_ms}
                for r in self.latency
            ],
            "errors": {
                "rate": self.errors.rate,
                "statuses": list(self.errors.statuses),
                "routes": list(self.errors.routes),
                "stored_before_error": self.errors.stored_before_error,
            },
            "resets": {"rate": self.resets.rate, "routes": list(self.resets.routes)},
            "interactions": {
                "drop_rate": self.interactions.drop_rate,
                "delay_rate": self.interactions.delay_rate,
                "delay_ms": self.interactions.delay_ms,
                "delay_jitter_ms": self.interactions.delay_jitter_ms,
            },
        }


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do to one API request. `label` is what the ledger's `fault` field records."""

    latency_s: float = 0.0
    error_status: int | None = None
    store_before_error: bool = False
    reset: bool = False

    @property
    def label(self) -> str | None:
        parts = []
        if self.latency_s > 0:
            parts.append("latency")
        if self.reset:
            parts.append("reset")
        if self.error_status is not None:
            parts.append(
                f"error_{self.error_status}" + ("_stored" if self.store_before_error else "")
            )
        return "+".join(parts) or None

    @property
    def fails(self) -> bool:
        return self.reset or self.error_status is not None


NO_FAULT = FaultDecision()


@dataclass(frozen=True, slots=True)
class InteractionFault:
    drop: bool = False
    delay_s: float = 0.0


def pattern_matches(pattern: str, method: str, route: str) -> bool:
    if pattern == "*":
        return True
    head, space, tail = pattern.partition(" ")
    if space:
        return fnmatchcase(method, head.upper()) and fnmatchcase(route, tail)
    return fnmatchcase(route, pattern)


class FaultInjector:
    """Decides faults per request with a seeded RNG and counts every one it injects."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.reset_counts()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        """Install a new setup (live); the RNG restarts from its seed, counters are kept."""
        self.config = config
        self._rng = random.Random(config.seed)
        self._match_cache: dict[tuple[str, str], tuple[tuple[LatencyRule, ...], bool, bool]] = {}

    def reset_counts(self) -> None:
        self.counts: dict[str, int] = {
            "total": 0,
            "latency": 0,
            "errors": 0,
            "stored_before_error": 0,
            "resets": 0,
            "interactions_dropped": 0,
            "interactions_delayed": 0,
        }
        self.errors_by_status: dict[int, int] = {}
        self.latency_ms_total = 0.0

    def _matching(self, method: str, route: str) -> tuple[tuple[LatencyRule, ...], bool, bool]:
        key = (method, route)
        cached = self._match_cache.get(key)
        if cached is None:
            cfg = self.config
            cached = (
                tuple(r for r in cfg.latency if pattern_matches(r.pattern, method, route)),
                any(pattern_matches(p, method, route) for p in cfg.errors.routes),
                any(pattern_matches(p, method, route) for p in cfg.resets.routes),
            )
            self._match_cache[key] = cached
        return cached

    def decide(self, method: str, route: str) -> FaultDecision:
        """The faults for one request (`route` is its template, e.g. from ROUTES.md)."""
        cfg = self.config
        if not cfg.active:
            return NO_FAULT
        rules, errors_apply, resets_apply = self._matching(method, route)
        rng = self._rng
        latency_ms = 0.0
        for rule in rules:
            latency_ms += rule.fixed_ms + (rng.uniform(0, rule.jitter_ms) if rule.jitter_ms else 0)
        reset = bool(resets_apply and cfg.resets.rate and rng.random() < cfg.resets.rate)
        status: int | None = None
        stored = False
        if not reset and errors_apply and cfg.errors.rate and rng.random() < cfg.errors.rate:
            status = rng.choice(cfg.errors.statuses)
            if f"{method} {route}" == MESSAGE_CREATE and cfg.errors.stored_before_error:
                stored = rng.random() < cfg.errors.stored_before_error
        decision = FaultDecision(
            latency_s=latency_ms / 1000.0,
            error_status=status,
            store_before_error=stored,
            reset=reset,
        )
        if decision.label is not None:
            self._count(decision, latency_ms)
        return decision

    def _count(self, decision: FaultDecision, latency_ms: float) -> None:
        counts = self.counts
        counts["total"] += 1
        if latency_ms > 0:
            counts["latency"] += 1
            self.latency_ms_total += latency_ms
        if decision.reset:
            counts["resets"] += 1
        if decision.error_status is not None:
            counts["errors"] += 1
            status = decision.error_status
            self.errors_by_status[status] = self.errors_by_status.get(status, 0) + 1
            if decision.store_before_error:
                counts["stored_before_error"] += 1

    def decide_interaction(self) -> InteractionFault:
        """The fault for one interaction delivery: dropped, delayed, or none."""
        cfg = self.config.interactions
        if not (cfg.drop_rate or cfg.delay_rate):
            return InteractionFault()
        rng = self._rng
        if cfg.drop_rate and rng.random() < cfg.drop_rate:
            self.counts["total"] += 1
            self.counts["interactions_dropped"] += 1
            return InteractionFault(drop=True)
        if cfg.delay_rate and rng.random() < cfg.delay_rate:
            delay_ms = cfg.delay_ms + (
                rng.uniform(0, cfg.delay_jitter_ms) if cfg.delay_jitter_ms else 0
            )
            self.counts["total"] += 1
            self.counts["interactions_delayed"] += 1
            return InteractionFault(delay_s=delay_ms / 1000.0)
        return InteractionFault()

    def snapshot(self) -> dict[str, Any]:
        """Counters for `/_mock/stats` (`faults`), plus the configuration in force."""
        return {
            **self.counts,
            "errors_by_status": {str(k): v for k, v in sorted(self.errors_by_status.items())},
            "latency_ms_total": round(self.latency_ms_total, 3),
            "config": self.config.to_json(),
        }


class _Parser:
    def __init__(self, where: str, known_routes: frozenset[str]) -> None:
        self.where = where
        self.known_routes = known_routes

    def _keys(self, data: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            raise FaultConfigError(where, "expected an object/table")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise FaultConfigError(
                f"{where}.{unknown[0]}",
                f"unknown key; expected one of {', '.join(sorted(allowed))}",
            )
        return data

    def _rate(self, data: Mapping[str, Any], where: str, key: str) -> float:
        value = data.get(key, 0.0)
        if isinstance(value, bool):
            value = 1.0 if value else 0.0
        if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            raise FaultConfigError(f"{where}.{key}", f"expected a probability 0..1, got {value!r}")
        return float(value)

    def _ms(self, data: Mapping[str, Any], where: str, key: str) -> float:
        value = data.get(key, 0.0)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= MAX_LATENCY_MS
        ):
            raise FaultConfigError(
                f"{where}.{key}", f"expected milliseconds 0..{MAX_LATENCY_MS:g}, got {value!r}"
            )
        return float(value)

    def _pattern(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise FaultConfigError(
                where,
                'expected a route pattern such as "*" or "POST /channels/{channel_id}/messages"',
            )
        pattern = " ".join(value.split())
        if self.known_routes and pattern != "*":
            matched = any(
                pattern_matches(pattern, *known.split(" ", 1)) for known in self.known_routes
            )
            if not matched:
                raise FaultConfigError(where, f"{value!r} matches no route of the mock")
        return pattern

    def _routes(self, data: Mapping[str, Any], where: str) -> tuple[str, ...]:
        value = data.get("routes", ["*"])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise FaultConfigError(f"{where}.routes", "expected a non-empty list of patterns")
        return tuple(self._pattern(p, f"{where}.routes[{i}]") for i, p in enumerate(value))

    def config(self, data: Any) -> FaultConfig:
        w = self.where
        data = self._keys(data, w, {"seed", "latency", "errors", "resets", "interactions"})
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FaultConfigError(f"{w}.seed", "expected an integer")
        return FaultConfig(
            seed=seed,
            latency=self._latency(data.get("latency", []), f"{w}.latency"),
            errors=self._errors(data.get("errors", {}), f"{w}.errors"),
            resets=self._resets(data.get("resets", {}), f"{w}.resets"),
            interactions=self._interactions(data.get("interactions", {}), f"{w}.interactions"),
        )

    def _latency(self, value: Any, where: str) -> tuple[LatencyRule, ...]:
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list):
            raise FaultConfigError(where, "expected a list of {route, fixed_ms, jitter_ms}")
        rules = []
        for i, item in enumerate(value):
            at = f"{where}[{i}]"
            item = self._keys(item, at, {"route", "fixed_ms", "jitter_ms"})
            rules.append(
                LatencyRule(
                    pattern=self._pattern(item.get("route", "*"), f"{at}.route"),
                    fixed_ms=self._ms(item, at, "fixed_ms"),
                    jitter_ms=self._ms(item, at, "jitter_ms"),
                )
            )
        return tuple(rules)

    def _errors(self, value: Any, where: str) -> ErrorFaults:
        data = self._keys(value, where, {"rate", "statuses", "routes", "stored_before_error"})
        statuses = data.get("statuses", list(DEFAULT_ERROR_STATUSES))
        if (
            not isinstance(statuses, list)
            or not statuses
            or any(s not in ALLOWED_ERROR_STATUSES or isinstance(s, bool) for s in statuses)
        ):
            raise FaultConfigError(
                f"{where}.statuses",
                f"expected a non-empty list from {sorted(ALLOWED_ERROR_STATUSES)}",
            )
        return ErrorFaults(
            rate=self._rate(data, where, "rate"),
            statuses=tuple(int(s) for s in statuses),
            routes=self._routes(data, where),
            stored_before_error=self._rate(data, where, "stored_before_error"),
        )

    def _resets(self, value: Any, where: str) -> ResetFaults:
        data = self._keys(value, where, {"rate", "routes"})
        return ResetFaults(rate=self._rate(data, where, "rate"), routes=self._routes(data, where))

    def _interactions(self, value: Any, where: str) -> InteractionFaults:
        data = self._keys(value, where, {"drop_rate", "delay_rate", "delay_ms", "delay_jitter_ms"})
        return InteractionFaults(
            drop_rate=self._rate(data, where, "drop_rate"),
            delay_rate=self._rate(data, where, "delay_rate"),
            delay_ms=self._ms(data, where, "delay_ms"),
            delay_jitter_ms=self._ms(data, where, "delay_jitter_ms"),
        )
