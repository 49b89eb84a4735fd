"""A small router over Discord route templates.

aiohttp's router would work, but the rate-limit engine must be told the route *template*
(`/channels/{channel_id}/messages`) and its parameters before any handler runs, and unknown
routes and methods must get Discord-shaped errors. Owning the table makes both trivial.
Literal segments beat parameters (`/users/@me` before `/users/{user_id}`), and parameters
are matched against raw path segments that are then percent-decoded one by one, so an
encoded `/` inside an emoji never splits a segment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

__all__ = ["Match", "Route", "Router"]

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool = True  # needs `Authorization: Bot <token>` (false: the token is in the URL)
    segments: tuple[str, ...] = field(default=())

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, raw in zip(self.segments, parts, strict=True):
            if pattern.startswith("{"):
                value = unquote(raw, errors="replace")
                if not value:
                    return None
                params[pattern[1:-1]] = value
            elif raw != pattern:
                return None
        return params

    @property
    def specificity(self) -> tuple[bool, ...]:
        return tuple(not s.startswith("{") for s in self.segments)


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    params: dict[str, str]


class Router:
    """Maps (method, path below the prefix) to a `Route` and its parameters."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        # (segment count, first segment) -> routes: a request is compared with a handful of
        # candidates, not the whole table (this is on every API request's path).
        self._index: dict[tuple[int, str], list[Route]] = {}

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        segments = tuple(template.strip("/").split("/"))
        if segments[0].startswith("{"):
            raise ValueError(f"a route template must start with a literal segment: {template}")
        route = Route(method.upper(), template, handler, auth, segments)
        self._routes.append(route)
        self._index.setdefault((len(segments), segments[0]), []).append(route)

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    def resolve(self, method: str, raw_path: str) -> Match | str | None:
        """A `Match`; `"method"` if the path exists under other methods; None if unknown."""
        parts = raw_path.strip("/").split("/") if raw_path.strip("/") else []
        best: Match | None = None
        path_exists = False
        candidates = self._index.get((len(parts), parts[0]), []) if parts else []
        for route in candidates:
            params = route.match(parts)
            if params is None:
                continue
            path_exists = True
            if route.method != method.upper():
                continue
            if best is None or route.specificity > best.route.specificity:
                best = Match(route, params)
        if best is None and path_exists:
            return "method"
        return best
