"""Routes: what the rate limiter needs to know about a REST call before it is sent.

A `Route` is a value: the HTTP method, the path *template* (``/channels/{channel_id}/messages``)
and the parameters that fill it. Discord's per-route buckets are identified by the bucket hash
the server reports for a (method, template) pair plus the route's **major parameter**, the
top-level resource the call touches: ``channel_id``, ``guild_id`` or ``webhook_id`` together
with ``webhook_token``. Two routes with the same template but different major parameters keep
separate counters at the server, so the limiter keys its state on both.

Interaction routes are special: ``POST /interactions/{interaction_id}/{interaction_token}/callback``
and everything under ``/webhooks/{application_id}/{interaction_token}`` do not count toward the
global 50/s limit. The webhook ones still have per-token buckets (their major parameter is the
application id plus the interaction token); the callback has no bucket at all. Templates name
their parameters, so ``/webhooks/{application_id}/{interaction_token}`` (an interaction webhook)
is told apart from ``/webhooks/{webhook_id}/{webhook_token}`` (an ordinary webhook, which counts)
by the template alone, never by guessing from the token's shape.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from urllib.parse import quote

__all__ = ["Route", "RouteKey"]

RouteKey = tuple[str, str]
"""(method, template): what Discord maps to a bucket hash."""

_MAJOR_PARAMETERS: tuple[tuple[str, ...], ...] = (
    ("channel_id",),
    ("guild_id",),
    ("webhook_id", "webhook_token"),
    ("application_id", "interaction_token"),
    ("interaction_id", "interaction_token"),
)
_INTERACTION_CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
_INTERACTION_WEBHOOK_PREFIX = "/webhooks/{application_id}/{interaction_token}"
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _template_fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True)
class Route:
    """One REST call's method, path template and path parameters."""

    method: str
    template: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        method = self.method.upper()
        if method not in _METHODS:
            raise ValueError(f"unsupported HTTP method {self.method!r}")
        if not self.template.startswith("/"):
            raise ValueError(f"route template must start with '/': {self.template!r}")
        missing = [name for name in _template_fields(self.template) if name not in self.params]
        if missing:
            raise ValueError(f"route {self.template!r} is missing parameters {missing}")
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.method, self.template, tuple(sorted(self.params.items()))))

    @cached_property
    def key(self) -> RouteKey:
        """What the server maps to a bucket hash: (method, template)."""
        return (self.method, self.template)

    @cached_property
    def path(self) -> str:
        """The concrete path, parameters percent-encoded."""
        return self.template.format(
            **{name: quote(str(value), safe="@") for name, value in self.params.items()}
        )

    @cached_property
    def major(self) -> str:
        """The top-level resource this call touches, '' if none (e.g. ``/users/@me``)."""
        names = set(_template_fields(self.template))
        for group in _MAJOR_PARAMETERS:
            if all(name in names for name in group):
                return ":".join(f"{name}={self.params[name]}" for name in group)
        return ""

    @cached_property
    def is_interaction(self) -> bool:
        """Interaction callback or interaction webhook: exempt from the global limit."""
        return self.template == _INTERACTION_CALLBACK or (
            self.template == _INTERACTION_WEBHOOK_PREFIX
            or self.template.startswith(_INTERACTION_WEBHOOK_PREFIX + "/")
        )

    @cached_property
    def counts_globally(self) -> bool:
        """Whether this call spends the per-token global budget."""
        return not self.is_interaction

    @cached_property
    def label(self) -> str:
        """A log-safe description: template plus the non-secret parameters (no tokens)."""
        safe = ",".join(
            f"{name}={value}" for name, value in self.params.items() if "token" not in name
        )
        return f"{self.method} {self.template}" + (f" [{safe}]" if safe else "")

    def __str__(self) -> str:
        return self.label
