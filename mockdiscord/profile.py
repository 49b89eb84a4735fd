"""Rate-limit profiles: every limit the mock enforces, read from a TOML file.

Discord tells developers not to hard-code its limits, and a sandbox is only useful if its
operator can change them, so no limit lives in code. A profile is a TOML file (format in
`docs/profiles.md`); `load_profile("discord")` reads the built-in defaults of
`DISCORD_RATE_LIMITS.md` §5 and any other string is a path to a user's file.

Validation is strict because a typo in a limits file must not silently turn a limit off:
unknown keys, wrong types, unknown routes and unreachable rules are all errors. A bad file
raises `ProfileError`, whose `str()` is one line naming the file, the key and what was
expected, e.g. ``profile.toml: routes[3].limit: expected a positive integer, got "five"``.

A `[faults]` table (issue 3 §4) is parsed by `mockdiscord.faults.FaultConfig.from_mapping`
with the same one-line errors; it describes the whole fault setup of a server started with
the profile or swapped to it live (a profile without the table has no faults).
`[dm_open]` and `[channel_write]` turn on the two limits Discord answers with their own
code (403 40003, 429 20028; model in `mockdiscord/ratelimit/coded.py`); both are off when
their table is absent.

The parsed `Profile` is an immutable value: the engine swaps whole profiles (`configure`)
and `with_route_limit` / `with_global` derive modified copies for live changes.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mockdiscord.faults import FaultConfig, FaultConfigError

__all__ = [
    "BUILTIN_PROFILES",
    "DM_OPEN_ROUTE",
    "KNOWN_ROUTES",
    "ChannelWriteLimit",
    "GlobalSettings",
    "InteractionSettings",
    "InvalidRequestSettings",
    "LimitSpec",
    "Profile",
    "ProfileError",
    "RouteRule",
    "SubLimit",
    "load_profile",
    "parse_profile",
]

BUILTIN_PROFILES = ("discord",)

#: Every route template of `notes/ROUTES.md`, as "METHOD /template". A rule may only name
#: these, so a misspelt route is an error instead of a limit that never applies.
KNOWN_ROUTES: frozenset[str] = frozenset(
    {
        "GET /users/@me",
        "GET /users/{user_id}",
        "GET /oauth2/applications/@me",
        "POST /users/@me/channels",
        "GET /channels/{channel_id}",
        "PATCH /channels/{channel_id}",
        "GET /channels/{channel_id}/messages",
        "POST /channels/{channel_id}/messages",
        "GET /channels/{channel_id}/messages/{message_id}",
        "PATCH /channels/{channel_id}/messages/{message_id}",
        "DELETE /channels/{channel_id}/messages/{message_id}",
        "POST /channels/{channel_id}/messages/bulk-delete",
        "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
        "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
        "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
        "PUT /applications/{application_id}/commands",
        "GET /applications/{application_id}/commands",
        "POST /interactions/{interaction_id}/{interaction_token}/callback",
        "POST /webhooks/{webhook_id}/{webhook_token}",
        "GET /webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "GET /gateway/bot",
    }
)

#: The route `[dm_open]` limits (opening a DM channel).
DM_OPEN_ROUTE = "POST /users/@me/channels"
#: The default `[channel_write].routes`: the channel writes that count toward the limit.
CHANNEL_WRITE_ROUTES = ("POST /channels/{channel_id}/messages",)

Algorithm = Literal["sliding", "fixed"]
GlobalAlgorithm = Literal["sliding", "fixed", "gcra"]
BanStyle = Literal["html", "json"]


class ProfileError(Exception):
    """A profile file is missing or wrong. `str()` is one line: file, key, what was expected."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(" ".join(f"{where}{problem}".split()))


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """`limit` requests per `period` seconds, counted as a sliding GCRA or a fixed window."""

    limit: int
    period: float
    algorithm: Algorithm = "sliding"


@dataclass(frozen=True, slots=True)
class SubLimit:
    """A hidden limit inside a route (e.g. channel rename): not shown in the headers."""

    name: str
    fields: frozenset[str]
    spec: LimitSpec


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One counter. `matches` are "METHOD /template" strings that share the counter.

    `hash_group` names the reported `X-RateLimit-Bucket` (rules with the same group report
    the same hash but keep their own counters). `interaction_webhook` / `max_message_age`
    are optional conditions; the first matching rule in file order wins.
    """

    name: str
    matches: tuple[str, ...]
    spec: LimitSpec
    hash_group: str
    interaction_webhook: bool | None = None
    max_message_age: float | None = None
    sublimits: tuple[SubLimit, ...] = ()
    shared: LimitSpec | None = None


@dataclass(frozen=True, slots=True)
class ChannelWriteLimit:
    """A channel's write limit, counted over every writer (`[channel_write]`; 429 20028)."""

    spec: LimitSpec
    routes: tuple[str, ...] = CHANNEL_WRITE_ROUTES


@dataclass(frozen=True, slots=True)
class GlobalSettings:
    """The global limit per application token (and per client IP for tokenless requests)."""

    limit: int = 50
    period: float = 1.0
    algorithm: GlobalAlgorithm = "sliding"
    ip_limit: int = 50
    exempt: frozenset[str] = frozenset(
        {"POST /interactions/{interaction_id}/{interaction_token}/callback"}
    )
    interaction_webhooks_exempt: bool = True


@dataclass(frozen=True, slots=True)
class InvalidRequestSettings:
    """Cloudflare's invalid-request ban: `threshold` 401/403/429s per `window` s per IP."""

    threshold: int = 10_000
    window: float = 600.0
    ban: float = 3600.0
    ban_style: BanStyle = "html"
    statuses: frozenset[int] = frozenset({401, 403, 429})


@dataclass(frozen=True, slots=True)
class InteractionSettings:
    """Read by the HTTP layer: interaction token lifetime and first-response deadline."""

    token_lifetime: float = 900.0
    deadline: float = 3.0


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    source: str
    routes: tuple[RouteRule, ...]
    global_: GlobalSettings = field(default_factory=GlobalSettings)
    invalid_requests: InvalidRequestSettings = field(default_factory=InvalidRequestSettings)
    interactions: InteractionSettings = field(default_factory=InteractionSettings)
    description: str = ""
    #: the `[faults]` table; the default injects nothing
    faults: FaultConfig = field(default_factory=FaultConfig)
    #: `[dm_open]`: opening DMs too fast (403 code 40003), per application; None: off
    dm_open: LimitSpec | None = None
    #: `[channel_write]`: a channel's write limit (429 code 20028); None: off
    channel_write: ChannelWriteLimit | None = None

    def rule(self, name: str) -> RouteRule:
        for rule in self.routes:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def with_route_limit(
        self,
        name: str,
        *,
        limit: int | None = None,
        period: float | None = None,
        algorithm: Algorithm | None = None,
    ) -> Profile:
        """A copy with one rule's limit changed (for live changes from the control plane)."""
        old = self.rule(name)
        spec = LimitSpec(
            limit=old.spec.limit if limit is None else limit,
            period=old.spec.period if period is None else period,
            algorithm=old.spec.algorithm if algorithm is None else algorithm,
        )
        _check_spec(self.source, f"routes.{name}", spec)
        routes = tuple(
            dataclasses.replace(r, spec=spec) if r.name == name else r for r in self.routes
        )
        return dataclasses.replace(self, routes=routes)

    def with_global(self, **changes: Any) -> Profile:
        """A copy with `GlobalSettings` fields changed, e.g. `with_global(algorithm="fixed")`."""
        settings = dataclasses.replace(self.global_, **changes)
        if settings.algorithm not in ("sliding", "fixed", "gcra"):
            raise ProfileError(self.source, "global.algorithm", "expected sliding|fixed|gcra")
        for key in ("limit", "ip_limit"):
            value = getattr(settings, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ProfileError(self.source, f"global.{key}", "expected a positive integer")
        return dataclasses.replace(self, global_=settings)


# --------------------------------------------------------------------------- loading


def load_profile(name_or_path: str | Path) -> Profile:
    """`"discord"` (a built-in name) or a path to a TOML profile. Raises `ProfileError`."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_PROFILES:
        resource = importlib.resources.files("mockdiscord") / "profiles" / f"{name_or_path}.toml"
        source = f"{name_or_path}.toml"
        try:
            text = resource.read_text(encoding="utf-8")
        except OSError as exc:  # pragma: no cover - a broken installation
            raise ProfileError(source, "", f"cannot read built-in profile: {exc}") from None
    else:
        path = Path(name_or_path)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProfileError(source, "", "no such file (give a path or `discord`)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(source, "", f"cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, "", f"invalid TOML: {exc}") from None
    return parse_profile(data, source)


def parse_profile(data: Mapping[str, Any], source: str = "<profile>") -> Profile:
    """Build a `Profile` from already-parsed TOML data (also used by the control plane)."""
    p = _Parser(source)
    p.keys(
        data,
        "",
        {
            "name",
            "description",
            "global",
            "invalid_requests",
            "interactions",
            "routes",
            "faults",
            "dm_open",
            "channel_write",
        },
    )
    name = p.string(data, "", "name", default=Path(source).stem)
    description = p.string(data, "", "description", default="")
    global_ = p.global_settings(p.table(data, "", "global"))
    invalid = p.invalid_settings(p.table(data, "", "invalid_requests"))
    interactions = p.interaction_settings(p.table(data, "", "interactions"))
    routes_raw = data.get("routes", [])
    if not isinstance(routes_raw, list):
        raise ProfileError(
            source, "routes", f"expected an array of tables, got {_show(routes_raw)}"
        )
    routes = tuple(p.route(item, f"routes[{i}]") for i, item in enumerate(routes_raw))
    p.check_routes(routes)
    faults = p.faults(p.table(data, "", "faults"))
    dm_open = p.dm_open(p.table(data, "", "dm_open")) if "dm_open" in data else None
    channel_write = (
        p.channel_write(p.table(data, "", "channel_write")) if "channel_write" in data else None
    )
    return Profile(
        name=name,
        source=source,
        routes=routes,
        global_=global_,
        invalid_requests=invalid,
        interactions=interactions,
        description=description,
        faults=faults,
        dm_open=dm_open,
        channel_write=channel_write,
    )


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _check_spec(source: str, where: str, spec: LimitSpec) -> None:
    if isinstance(spec.limit, bool) or not isinstance(spec.limit, int) or spec.limit < 1:
        raise ProfileError(source, f"{where}.limit", "expected a positive integer")
    if not math.isfinite(spec.period) or spec.period <= 0:
        raise ProfileError(source, f"{where}.period", "expected a positive number of seconds")
    if spec.algorithm not in ("sliding", "fixed"):
        raise ProfileError(source, f"{where}.algorithm", 'expected "sliding" or "fixed"')


class _Parser:
    """Typed getters that raise `ProfileError` naming the exact key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, expected: str, value: Any) -> ProfileError:
        return ProfileError(self.source, key, f"expected {expected}, got {_show(value)}")

    def keys(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                options = ", ".join(sorted(allowed))
                raise ProfileError(
                    self.source, _join(where, key), f"unknown key (expected one of: {options})"
                )

    def table(self, data: Mapping[str, Any], where: str, key: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(_join(where, key), "a table", value)
        return value

    def string(self, data: Mapping[str, Any], where: str, key: str, *, default: str) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.fail(_join(where, key), "a string", value)
        return value

    def positive_int(self, data: Mapping[str, Any], where: str, key: str, default: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(_join(where, key), "a positive integer", value)
        return value

    def seconds(self, data: Mapping[str, Any], where: str, key: str, default: float) -> float:
        value = data.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self.fail(_join(where, key), "a positive number of seconds", value)
        return float(value)

    def choice(
        self, data: Mapping[str, Any], where: str, key: str, options: tuple[str, ...], default: str
    ) -> Any:
        value = data.get(key, default)
        if value not in options:
            quoted = [f'"{o}"' for o in options]
            expected = " or ".join(quoted) if len(quoted) == 2 else "one of " + ", ".join(quoted)
            raise self.fail(_join(where, key), expected, value)
        return value

    def route_list(self, data: Mapping[str, Any], where: str, key: str, default: Any) -> list[str]:
        value = data.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(_join(where, key), 'an array of "METHOD /route" strings', value)
        for i, item in enumerate(value):
            normal = " ".join(item.split())
            if normal not in KNOWN_ROUTES:
                raise ProfileError(
                    self.source,
                    f"{_join(where, key)}[{i}]",
                    f'expected a route of ROUTES.md such as "POST /channels/{{channel_id}}/'
                    f'messages", got {_show(item)}',
                )
        return [" ".join(v.split()) for v in value]

    def global_settings(self, data: Mapping[str, Any]) -> GlobalSettings:
        w = "global"
        d = GlobalSettings()
        self.keys(
            data,
            w,
            {"limit", "period", "algorithm", "ip_limit", "exempt", "interaction_webhooks_exempt"},
        )
        limit = self.positive_int(data, w, "limit", d.limit)
        exempt_webhooks = data.get("interaction_webhooks_exempt", d.interaction_webhooks_exempt)
        if not isinstance(exempt_webhooks, bool):
            raise self.fail(f"{w}.interaction_webhooks_exempt", "true or false", exempt_webhooks)
        return GlobalSettings(
            limit=limit,
            period=self.seconds(data, w, "period", d.period),
            algorithm=self.choice(data, w, "algorithm", ("sliding", "fixed", "gcra"), "sliding"),
            ip_limit=self.positive_int(data, w, "ip_limit", limit),
            exempt=frozenset(self.route_list(data, w, "exempt", sorted(d.exempt))),
            interaction_webhooks_exempt=exempt_webhooks,
        )

    def invalid_settings(self, data: Mapping[str, Any]) -> InvalidRequestSettings:
        w = "invalid_requests"
        d = InvalidRequestSettings()
        self.keys(data, w, {"threshold", "window", "ban", "ban_style", "statuses"})
        statuses = data.get("statuses", sorted(d.statuses))
        if (
            not isinstance(statuses, list)
            or not statuses
            or not all(
                isinstance(s, int) and not isinstance(s, bool) and 400 <= s <= 599 for s in statuses
            )
        ):
            raise self.fail(f"{w}.statuses", "a non-empty array of 4xx/5xx statuses", statuses)
        return InvalidRequestSettings(
            threshold=self.positive_int(data, w, "threshold", d.threshold),
            window=self.seconds(data, w, "window", d.window),
            ban=self.seconds(data, w, "ban", d.ban),
            ban_style=self.choice(data, w, "ban_style", ("html", "json"), d.ban_style),
            statuses=frozenset(statuses),
        )

    def interaction_settings(self, data: Mapping[str, Any]) -> InteractionSettings:
        w = "interactions"
        d = InteractionSettings()
        self.keys(data, w, {"token_lifetime", "deadline"})
        return InteractionSettings(
            token_lifetime=self.seconds(data, w, "token_lifetime", d.token_lifetime),
            deadline=self.seconds(data, w, "deadline", d.deadline),
        )

    def faults(self, data: Mapping[str, Any]) -> FaultConfig:
        try:
            return FaultConfig.from_mapping(data, where="faults", known_routes=KNOWN_ROUTES)
        except FaultConfigError as error:
            raise ProfileError(self.source, error.field, error.message) from None

    def dm_open(self, data: Mapping[str, Any]) -> LimitSpec:
        self.keys(data, "dm_open", {"limit", "period", "algorithm"})
        return self.spec(data, "dm_open")

    def channel_write(self, data: Mapping[str, Any]) -> ChannelWriteLimit:
        w = "channel_write"
        self.keys(data, w, {"limit", "period", "algorithm", "routes"})
        routes = self.route_list(data, w, "routes", list(CHANNEL_WRITE_ROUTES))
        if not routes:
            raise self.fail(f"{w}.routes", "at least one route", [])
        for i, route in enumerate(routes):
            if "{channel_id}" not in route:
                raise ProfileError(
                    self.source,
                    f"{w}.routes[{i}]",
                    f"expected a route with a {{channel_id}}, got {_show(route)}",
                )
        return ChannelWriteLimit(spec=self.spec(data, w), routes=tuple(routes))

    def spec(self, data: Mapping[str, Any], where: str) -> LimitSpec:
        for key in ("limit", "period"):
            if key not in data:
                raise ProfileError(self.source, _join(where, key), "missing (required)")
        return LimitSpec(
            limit=self.positive_int(data, where, "limit", 0),
            period=self.seconds(data, where, "period", 0.0),
            algorithm=self.choice(data, where, "algorithm", ("sliding", "fixed"), "sliding"),
        )

    def route(self, data: Any, where: str) -> RouteRule:
        if not isinstance(data, dict):
            raise self.fail(where, "a table", data)
        self.keys(
            data,
            where,
            {
                "name",
                "hash",
                "match",
                "limit",
                "period",
                "algorithm",
                "interaction_webhook",
                "max_message_age",
                "sublimits",
                "shared",
            },
        )
        if "name" not in data:
            raise ProfileError(self.source, f"{where}.name", "missing (required)")
        name = self.string(data, where, "name", default="")
        if not name:
            raise self.fail(f"{where}.name", "a non-empty string", name)
        if "match" not in data:
            raise ProfileError(self.source, f"{where}.match", "missing (required)")
        matches = self.route_list(data, where, "match", [])
        if not matches:
            raise self.fail(f"{where}.match", "at least one route", [])
        iw = data.get("interaction_webhook")
        if iw is not None and not isinstance(iw, bool):
            raise self.fail(f"{where}.interaction_webhook", "true or false", iw)
        max_age = None
        if "max_message_age" in data:
            max_age = self.seconds(data, where, "max_message_age", 0.0)
        sublimits_raw = data.get("sublimits", [])
        if not isinstance(sublimits_raw, list):
            raise self.fail(f"{where}.sublimits", "an array of tables", sublimits_raw)
        sublimits = tuple(
            self.sublimit(s, f"{where}.sublimits[{i}]") for i, s in enumerate(sublimits_raw)
        )
        shared = None
        if "shared" in data:
            raw = data["shared"]
            if not isinstance(raw, dict):
                raise self.fail(f"{where}.shared", "a table", raw)
            self.keys(raw, f"{where}.shared", {"limit", "period", "algorithm"})
            shared = self.spec(raw, f"{where}.shared")
        return RouteRule(
            name=name,
            matches=tuple(matches),
            spec=self.spec(data, where),
            hash_group=self.string(data, where, "hash", default=name) or name,
            interaction_webhook=iw,
            max_message_age=max_age,
            sublimits=sublimits,
            shared=shared,
        )

    def sublimit(self, data: Any, where: str) -> SubLimit:
        if not isinstance(data, dict):
            raise self.fail(where, "a table", data)
        self.keys(data, where, {"name", "fields", "limit", "period", "algorithm"})
        name = self.string(data, where, "name", default="")
        if not name:
            raise ProfileError(self.source, f"{where}.name", "missing (required)")
        fields = data.get("fields")
        if (
            not isinstance(fields, list)
            or not fields
            or not all(isinstance(f, str) for f in fields)
        ):
            raise self.fail(f"{where}.fields", "a non-empty array of field names", fields)
        return SubLimit(name=name, fields=frozenset(fields), spec=self.spec(data, where))

    def check_routes(self, routes: tuple[RouteRule, ...]) -> None:
        names: set[str] = set()
        earlier: dict[str, list[tuple[int, RouteRule]]] = {}
        for i, rule in enumerate(routes):
            if rule.name in names:
                raise ProfileError(
                    self.source,
                    f"routes[{i}].name",
                    f'expected a unique name, "{rule.name}" repeats',
                )
            names.add(rule.name)
            for route in rule.matches:
                for j, other in earlier.get(route, []):
                    if _shadows(other, rule):
                        raise ProfileError(
                            self.source,
                            f"routes[{i}].match",
                            f"{route} is already matched by routes[{j}] for every request this "
                            "rule would match (the first matching rule wins; reorder or add a "
                            "condition)",
                        )
                earlier.setdefault(route, []).append((i, rule))


def _shadows(first: RouteRule, later: RouteRule) -> bool:
    """True when every request `later` matches is already taken by `first`."""
    if (
        first.interaction_webhook is not None
        and first.interaction_webhook != later.interaction_webhook
    ):
        return False
    if first.max_message_age is None:
        return True
    return later.max_message_age is not None and later.max_message_age <= first.max_message_age
