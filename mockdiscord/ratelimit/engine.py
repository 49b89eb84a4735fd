"""The mock's rate-limit engine: one decision per API request, before it is handled.

The engine is the referee's rulebook. It is pure (no aiohttp, no I/O); time comes from an
injected `Clock`, read once per request, so a test replays any timeline exactly.

Order of checks for a request (`check`):

1. **Ban.** A banned client IP gets a ban-shaped 429 (HTML Cloudflare 1015 page or JSON
   `{"code": 0}`, no `Via`) and nothing else is looked at or counted.
2. **Global.** Unless the route is exempt (the interaction callback, every interaction
   webhook), the request is counted against its application's global limit (or, with no
   token, its client IP's). Refused: a global 429 with no bucket headers.
   *Counted* means exactly this: the request passed the global check and used global
   budget, whatever happens next. A request that then gets a per-route 429 still counted,
   as on Discord, where every request that reaches the API costs global budget.
3. **Per-route bucket.** The first profile rule matching the route (and its conditions:
   interaction webhook or not, message age) names a counter, keyed by owner + bucket hash
   + major parameter (+ the rule name when several rules report the same hash). The
   owner is the application (or token, or client IP without one); for webhook routes the
   webhook token is the credential, so the webhook itself owns its counters whoever calls.
   Then, only if the bucket has room: hidden sub-limits whose fields the request changes
   (user 429 while the headers still show `Remaining > 0`), then the shared limit on
   `shared_resource` (shared 429, code 40062, own bucket headers, the shared resource's
   `Retry-After`). Then the hidden coded limits of `mockdiscord.ratelimit.coded`, which
   also apply to routes with no bucket: opening DMs too fast (403 code 40003, no
   `Retry-After`) and a channel's write limit (user 429 code 20028, short `retry_after`);
   both are off unless the profile has their table. A request refused at any step
   consumes nothing at that step or after.

Routes with no rule (and exempt routes without one, like the callback) send no bucket
headers. `record_status` must be called with every final status so the invalid-request
tracker sees 401/403/429s (shared 429s excluded).

Live changes: `configure(profile)` keeps per-route state whose limit is unchanged and
restarts the rest; it keeps global state unless the global algorithm or period changed.
`set_global_limit` overrides are configuration, not state: `reset()` keeps them.
Memory stays bounded: every 8192 checks, full (idle) buckets with no 429s and emptied
logs are dropped (past 50,000 counters, every full bucket is dropped).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from mockdiscord.clock import Clock
from mockdiscord.profile import LimitSpec, Profile, RouteRule, SubLimit
from mockdiscord.ratelimit.coded import (
    DM_OPEN_CODE,
    WRITE_CODE,
    CodedCheck,
    CodedLimits,
    dm_open_body,
    write_limit_body,
)
from mockdiscord.ratelimit.fixed import FixedWindowBucket
from mockdiscord.ratelimit.gcra import GcraBucket
from mockdiscord.ratelimit.global_limit import GlobalLimiter, make_global_limiter
from mockdiscord.ratelimit.headers import (
    JSON_CONTENT_TYPE,
    MESSAGE_GLOBAL,
    MESSAGE_SHARED,
    MESSAGE_USER,
    SHARED_CODE,
    VIA,
    ban_body,
    bucket_hash,
    bucket_headers,
    rate_limited_body,
    retry_after_header,
)
from mockdiscord.ratelimit.invalid import InvalidRequestTracker

__all__ = [
    "RateLimitEngine",
    "RateLimitRequest",
    "RateLimitedResponse",
    "Scope",
    "Verdict",
]

Scope = Literal["user", "shared", "global"]
Bucket = GcraBucket | FixedWindowBucket

_MAJOR_ORDER = ("channel_id", "guild_id", "webhook_id")
_PRUNE_EVERY = 8192
_MAX_KEPT = 50_000  # past this, full buckets are dropped even if they answered 429s


@dataclass(frozen=True, slots=True)
class RateLimitRequest:
    method: str
    route: str
    params: Mapping[str, str]
    client_ip: str
    token: str | None = None
    application_id: str | None = None
    interaction_webhook: bool = False
    message_age_s: float | None = None
    changed_fields: frozenset[str] = frozenset()
    shared_resource: str | None = None


@dataclass(frozen=True, slots=True)
class RateLimitedResponse:
    """A complete refusal: send `status`, `headers` and `body` exactly as they are."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Verdict:
    allowed: bool
    response: RateLimitedResponse | None = None
    headers: dict[str, str] = field(default_factory=dict)
    scope: Scope | None = None
    counted: bool = False
    exempt: bool = False
    bucket_key: str | None = None
    banned: bool = False
    #: Additions to ENGINE_API.md: seconds to wait when refused; the bucket hash and rule
    #: name when bucketed; the arrival times the engine judged (use them in the ledger).
    retry_after: float | None = None
    bucket: str | None = None
    rule: str | None = None
    at: float = 0.0
    at_wall: float = 0.0
    #: the error code of a coded refusal (40003, 20028), None otherwise; for one, `rule`
    #: names the hidden limit ("dm_open" / "channel_write")
    code: int | None = None


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: RouteRule
    bucket: str
    major: tuple[str, ...]
    resource_owned: bool
    suffix: str


def _major_params(route: str) -> tuple[str, ...]:
    for name in _MAJOR_ORDER:
        if "{" + name + "}" in route:
            if name == "webhook_id" and "{webhook_token}" in route:
                return ("webhook_id", "webhook_token")
            return (name,)
    return ()


@functools.lru_cache(maxsize=8192)
def _short(secret: str) -> str:
    """A short digest of a token, so secrets never appear in bucket keys or the ledger."""
    return hashlib.blake2b(secret.encode(), digest_size=6).hexdigest()


def _new_bucket(spec: LimitSpec, label: str) -> Bucket:
    if spec.algorithm == "fixed":
        return FixedWindowBucket(spec.limit, spec.period, label)
    return GcraBucket(spec.limit, spec.period, label)


def _matches_spec(bucket: Bucket, spec: LimitSpec) -> bool:
    """False when a live `configure` changed this counter's limit: it restarts."""
    return (
        bucket.limit == spec.limit
        and bucket.period == spec.period
        and bucket.algorithm == spec.algorithm
    )


class RateLimitEngine:
    def __init__(self, profile: Profile, clock: Clock) -> None:
        self._clock = clock
        self._overrides: dict[str, int] = {}
        self._buckets: dict[str, Bucket] = {}
        self._aux: dict[str, Bucket] = {}  # sub-limits and shared limits
        self._checks = 0
        inv = profile.invalid_requests
        self._invalid = InvalidRequestTracker(inv.threshold, inv.window, inv.ban, inv.statuses)
        self._global: GlobalLimiter = make_global_limiter(
            profile.global_.algorithm, profile.global_.period
        )
        self.profile = profile
        self._compile(profile)

    # ------------------------------------------------------------------ configuration

    def _compile(self, profile: Profile) -> None:
        index: dict[tuple[str, str], list[_Compiled]] = {}
        hash_users: dict[str, int] = {}
        for rule in profile.routes:
            hash_users[rule.hash_group] = hash_users.get(rule.hash_group, 0) + 1
        for rule in profile.routes:
            shared_hash = hash_users[rule.hash_group] > 1
            for match in rule.matches:
                method, route = match.split(" ", 1)
                major = _major_params(route)
                index.setdefault((method, route), []).append(
                    _Compiled(
                        rule=rule,
                        bucket=bucket_hash(rule.hash_group),
                        major=major,
                        resource_owned="webhook_token" in major,
                        suffix=f":{rule.name}" if shared_hash else "",
                    )
                )
        self._index = {key: tuple(rules) for key, rules in index.items()}
        self._exempt = frozenset(tuple(r.split(" ", 1)) for r in profile.global_.exempt)
        self._webhooks_exempt = profile.global_.interaction_webhooks_exempt
        self._global_limit = profile.global_.limit
        self._ip_limit = profile.global_.ip_limit
        self._coded = CodedLimits(profile)

    def configure(self, profile: Profile) -> None:
        """Swap the profile live (see the module docstring for what state is kept)."""
        g = profile.global_
        if g.algorithm != self._global.algorithm or g.period != self._global.period:
            self._global = make_global_limiter(g.algorithm, g.period)
        inv = profile.invalid_requests
        self._invalid.reconfigure(inv.threshold, inv.window, inv.ban, inv.statuses)
        self.profile = profile
        self._compile(profile)

    def set_global_limit(self, application_id: str, limit: int | None) -> None:
        """Override one application's global limit; `None` returns it to the profile's."""
        if limit is None:
            self._overrides.pop(application_id, None)
            return
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"global limit must be a positive integer, got {limit!r}")
        self._overrides[application_id] = limit

    def global_limit(self, application_id: str) -> int:
        return self._overrides.get(application_id, self._global_limit)

    def reset(self) -> None:
        """Forget every counter, log and ban (per-application overrides are kept)."""
        self._buckets.clear()
        self._aux.clear()
        self._global.clear()
        self._invalid.clear()
        self._checks = 0

    # ------------------------------------------------------------------ the decision

    def _pick(self, request: RateLimitRequest) -> _Compiled | None:
        candidates = self._index.get((request.method, request.route))
        if not candidates:
            return None
        for c in candidates:
            rule = c.rule
            if (
                rule.interaction_webhook is not None
                and rule.interaction_webhook != request.interaction_webhook
            ):
                continue
            if rule.max_message_age is not None and (
                request.message_age_s is None or request.message_age_s >= rule.max_message_age
            ):
                continue
            return c
        return None

    def _owner(self, request: RateLimitRequest) -> str:
        if request.application_id is not None:
            return request.application_id
        if request.token is not None:
            return "t" + _short(request.token)
        return "ip:" + request.client_ip

    def _major(self, compiled: _Compiled, params: Mapping[str, str]) -> str:
        names = compiled.major
        if not names:
            return "-"
        if compiled.resource_owned:
            return f"{params.get('webhook_id', '-')}:{_short(params.get('webhook_token', '-'))}"
        return params.get(names[0], "-")

    def check(self, request: RateLimitRequest) -> Verdict:
        """Judge one request. Call exactly once per API request, before handling it."""
        now = self._clock.monotonic()
        wall = self._clock.wall()
        self._checks += 1
        if not self._checks % _PRUNE_EVERY:
            self.prune(now)

        if self._invalid.any_bans:
            ban_left = self._invalid.ban_remaining(request.client_ip, now)
            if ban_left > 0.0:
                return self._ban_verdict(ban_left, now, wall)

        compiled = self._pick(request)
        exempt = (request.method, request.route) in self._exempt or (
            request.interaction_webhook and self._webhooks_exempt
        )
        counted = False
        owner = None
        if not exempt:
            owner = self._owner(request)
            limit = self._overrides.get(owner)
            if limit is None:
                limit = self._ip_limit if owner.startswith("ip:") else self._global_limit
            wait = self._global.acquire(owner, limit, now)
            if wait:
                return self._global_verdict(wait, now, wall)
            counted = True

        coded: tuple[CodedCheck, ...] = ()
        if self._coded.active:
            if owner is None:
                owner = self._owner(request)
            coded = self._coded.checks(request.method, request.route, request.params, owner)

        if compiled is None:
            if coded:
                refused = self._check_coded(coded, None, None, None, counted, exempt, now, wall)
                if refused is not None:
                    return refused
            return Verdict(
                True, None, {}, None, counted, exempt, None, False, None, None, None, now, wall
            )

        rule = compiled.rule
        if compiled.resource_owned:
            owner = "webhook"
        elif owner is None:
            owner = self._owner(request)
        key = f"{owner}:{compiled.bucket}:{self._major(compiled, request.params)}{compiled.suffix}"
        bucket = self._buckets.get(key)
        spec = rule.spec
        if (
            bucket is None
            or bucket.limit != spec.limit
            or bucket.period != spec.period
            or bucket.algorithm != spec.algorithm
        ):
            bucket = self._buckets[key] = _new_bucket(spec, rule.name)

        wait = bucket.retry_after(now)
        if wait:
            return self._refuse(
                request, compiled, bucket, key, wait, "user", counted, exempt, now, wall
            )

        extra: list[Bucket] | None = None
        if rule.sublimits or rule.shared is not None:
            for aux, scope in self._aux_buckets(compiled, key, request):
                wait = aux.retry_after(now)
                if wait:
                    aux.rate_limited += 1
                    return self._refuse(
                        request, compiled, bucket, key, wait, scope, counted, exempt, now, wall
                    )
                extra = extra or []
                extra.append(aux)
        if coded:
            refused = self._check_coded(coded, compiled, bucket, key, counted, exempt, now, wall)
            if refused is not None:
                return refused

        bucket.consume(now)
        if extra:
            for other in extra:
                other.consume(now)
        headers = _bucket_headers(compiled, bucket, "user", now, wall)
        return Verdict(
            True,
            None,
            headers,
            None,
            counted,
            exempt,
            key,
            False,
            None,
            compiled.bucket,
            rule.name,
            now,
            wall,
        )

    def _refuse(
        self,
        request: RateLimitRequest,
        compiled: _Compiled,
        bucket: Bucket,
        key: str,
        wait: float,
        scope: Scope,
        counted: bool,
        exempt: bool,
        now: float,
        wall: float,
    ) -> Verdict:
        bucket.rate_limited += 1
        headers = {
            "Content-Type": JSON_CONTENT_TYPE,
            "Via": VIA,
            "Retry-After": retry_after_header(wait),
        }
        headers.update(_bucket_headers(compiled, bucket, scope, now, wall))
        if scope == "shared":
            body = rate_limited_body(MESSAGE_SHARED, wait, False, SHARED_CODE)
        else:
            body = rate_limited_body(MESSAGE_USER, wait, False)
        return Verdict(
            allowed=False,
            response=RateLimitedResponse(429, headers, body),
            scope=scope,
            counted=counted,
            exempt=exempt,
            bucket_key=key,
            retry_after=wait,
            bucket=compiled.bucket,
            rule=compiled.rule.name,
            at=now,
            at_wall=wall,
        )

    def _aux_buckets(
        self, compiled: _Compiled, key: str, request: RateLimitRequest
    ) -> Iterator[tuple[Bucket, Scope]]:
        """The extra buckets a request spends from besides its route bucket, in checking order.

        Each field sublimit whose fields the request changes, then the shared-resource bucket.
        A generator, so a bucket is only made once every one before it had room."""
        rule = compiled.rule
        if request.changed_fields:
            for sub in rule.sublimits:
                if not sub.fields.isdisjoint(request.changed_fields):
                    yield self._aux_bucket(f"{key}|{sub.name}", sub.spec, sub), "user"
        if rule.shared is not None and request.shared_resource is not None:
            shared_key = f"shared:{compiled.bucket}:{request.shared_resource}"
            yield self._aux_bucket(shared_key, rule.shared, None), "shared"

    def _aux_bucket(
        self, key: str, spec: LimitSpec, sub: SubLimit | None, label: str = "shared"
    ) -> Bucket:
        bucket = self._aux.get(key)
        if bucket is None or not _matches_spec(bucket, spec):
            bucket = self._aux[key] = _new_bucket(spec, sub.name if sub else label)
        return bucket

    def _check_coded(
        self,
        coded: tuple[CodedCheck, ...],
        compiled: _Compiled | None,
        bucket: Bucket | None,
        key: str | None,
        counted: bool,
        exempt: bool,
        now: float,
        wall: float,
    ) -> Verdict | None:
        """Check the hidden coded counters; consume them all only if every one has room.

        The caller consumes its own bucket afterwards; a refusal consumes nothing."""
        passed: list[Bucket] = []
        for check in coded:
            hidden = self._aux_bucket(check.key, check.spec, None, check.kind)
            wait = hidden.retry_after(now)
            if wait:
                hidden.rate_limited += 1
                return self._coded_verdict(
                    check, wait, compiled, bucket, key, counted, exempt, now, wall
                )
            passed.append(hidden)
        for hidden in passed:
            hidden.consume(now)
        return None

    def _coded_verdict(
        self,
        check: CodedCheck,
        wait: float,
        compiled: _Compiled | None,
        bucket: Bucket | None,
        key: str | None,
        counted: bool,
        exempt: bool,
        now: float,
        wall: float,
    ) -> Verdict:
        headers = {"Content-Type": JSON_CONTENT_TYPE, "Via": VIA}
        if compiled is not None and bucket is not None:
            headers.update(_bucket_headers(compiled, bucket, "user", now, wall))
        scope: Scope | None
        if check.kind == "dm_open":  # a 403: no Retry-After, no retry_after
            status, body, scope, code = 403, dm_open_body(), None, DM_OPEN_CODE
        else:
            headers["Retry-After"] = retry_after_header(wait)
            headers.setdefault("X-RateLimit-Scope", "user")  # every 429 names its scope
            status, body, scope, code = 429, write_limit_body(wait), "user", WRITE_CODE
        return Verdict(
            allowed=False,
            response=RateLimitedResponse(status, headers, body),
            scope=scope,
            counted=counted,
            exempt=exempt,
            bucket_key=key,
            retry_after=wait,
            bucket=compiled.bucket if compiled is not None else None,
            rule=check.kind,
            at=now,
            at_wall=wall,
            code=code,
        )

    def _global_verdict(self, wait: float, now: float, wall: float) -> Verdict:
        headers = {
            "Content-Type": JSON_CONTENT_TYPE,
            "Via": VIA,
            "Retry-After": retry_after_header(wait),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
        }
        return Verdict(
            allowed=False,
            response=RateLimitedResponse(
                429, headers, rate_limited_body(MESSAGE_GLOBAL, wait, True)
            ),
            scope="global",
            retry_after=wait,
            at=now,
            at_wall=wall,
        )

    def _ban_verdict(self, ban_left: float, now: float, wall: float) -> Verdict:
        content_type, body = ban_body(self.profile.invalid_requests.ban_style)
        # No `Via`: that is how clients recognise a Cloudflare ban. Retry-After (the ban's
        # remaining length) is sent because every 429 carries one (spec §1.4).
        headers = {"Content-Type": content_type, "Retry-After": retry_after_header(ban_left)}
        return Verdict(
            allowed=False,
            response=RateLimitedResponse(429, headers, body),
            banned=True,
            retry_after=ban_left,
            at=now,
            at_wall=wall,
        )

    # ------------------------------------------------------------------ after the response

    def record_status(self, client_ip: str, status: int, scope: str | None) -> bool:
        """Feed the invalid-request tracker. Returns True when this response began a ban."""
        return self._invalid.record(client_ip, status, scope, self._clock.monotonic())

    # ------------------------------------------------------------------ observation

    @property
    def ban_count(self) -> int:
        return self._invalid.bans_total

    def banned_ips(self) -> dict[str, float]:
        """Client IPs banned now, with the seconds left."""
        return self._invalid.banned_ips(self._clock.monotonic())

    def invalid_count(self, client_ip: str) -> int:
        return self._invalid.count(client_ip, self._clock.monotonic())

    def global_usage(self, key: str) -> tuple[int, int]:
        """(requests counted in the current window, limit) for an application id or `ip:<ip>`."""
        limit = self._overrides.get(key)
        if limit is None:
            limit = self._ip_limit if key.startswith("ip:") else self._global_limit
        return self._global.used(key, limit, self._clock.monotonic()), limit

    def bucket_snapshot(self, top: int = 10) -> list[dict[str, object]]:
        """The `top` per-route buckets, most 429s first, then the busiest."""
        now = self._clock.monotonic()
        rows = sorted(
            self._buckets.items(),
            key=lambda kv: (kv[1].rate_limited, kv[1].reset_after(now)),
            reverse=True,
        )[: max(0, top)]
        return [
            {
                "key": key,
                "route": bucket.label,
                "algorithm": bucket.algorithm,
                "limit": bucket.limit,
                "remaining": bucket.remaining(now),
                "reset_after": round(bucket.reset_after(now), 3),
                "rate_limited": bucket.rate_limited,
            }
            for key, bucket in rows
        ]

    def prune(self, now: float | None = None) -> None:
        """Drop full buckets that never answered a 429, and emptied logs (bounded memory)."""
        if now is None:
            now = self._clock.monotonic()
        for store in (self._buckets, self._aux):
            crowded = len(store) > _MAX_KEPT
            for key in [
                k for k, b in store.items() if b.idle(now) and (crowded or not b.rate_limited)
            ]:
                del store[key]
        self._global.prune(now)
        self._invalid.prune(now)

    def __len__(self) -> int:
        """Number of live per-route, sub-limit and shared counters."""
        return len(self._buckets) + len(self._aux)


def _bucket_headers(
    compiled: _Compiled, bucket: Bucket, scope: Scope, now: float, wall: float
) -> dict[str, str]:
    """The X-RateLimit-* headers describing ``bucket`` as it stands at ``now``."""
    return bucket_headers(
        bucket.limit, bucket.remaining(now), bucket.reset_after(now), wall, compiled.bucket, scope
    )
