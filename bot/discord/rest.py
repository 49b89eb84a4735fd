"""One REST call, start to finish: limiter, send, read, retry, typed error.

The limiter decides *when* a request may go; this module decides *whether to try again*:

* 429: wait the ``retry_after`` the limiter derived (the request re-enters its lane at the
  front with ``not_before``, so the wait is the limiter's, on the injected clock), at most
  ``max_rate_limit_retries`` times, and never for longer than ``max_rate_limit_wait``
  (then `RateLimitedTooLong`). A ban-shaped 429 raises `Banned` from the limiter: no retry.
* 5xx and connection errors (``httpx.TransportError``): exponential backoff with jitter,
  ``base * 2**(n-1)`` scaled by a random factor in [0.5, 1.5), capped, for at most
  ``max_attempts`` attempts in all. The request body is built once per logical call, so a
  message create retries with the *same* nonce and ``enforce_nonce`` makes Discord return
  the first message instead of posting a duplicate.
* Other errors become the typed exceptions of `bot.discord.errors`.

Every attempt is released by the limiter separately, so a retry spends the global budget
again, exactly as the server counts it.
"""

from __future__ import annotations

import json as jsonlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.discord.errors import (
    RateLimitedTooLong,
    TransportFailure,
    error_from_response,
)
from bot.discord.http import HttpBackend, RawResponse
from bot.discord.lanes import Lane
from bot.discord.limiter import Feedback, Limiter
from bot.discord.routes import Route

__all__ = ["Attempt", "AttemptObserver", "RestSender", "RetryConfig"]

_log = logging.getLogger("bot.discord.rest")


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt of a logical call, as seen by an observer (metrics per caller).

    ``status`` is 0 when the connection failed; ``rate_limit`` is the 429's kind ("user",
    "sublimit", "shared", "global") or None; ``retry`` tells whether an earlier attempt of
    the same call came before it.
    """

    route: Route
    lane: Lane
    counted: bool
    status: int
    rate_limit: str | None
    retry: bool


AttemptObserver = Callable[[Attempt], None]


@dataclass(frozen=True)
class RetryConfig:
    max_attempts: int = 5
    """Attempts in all for 5xx and connection errors."""
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_rate_limit_retries: int = 5
    """Retries after 429s for one logical call."""
    max_rate_limit_wait: float = 60.0
    """A 429 asking for a longer wait raises `RateLimitedTooLong` instead of waiting."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_rate_limit_retries < 0:
            raise ValueError("max_attempts must be >= 1 and max_rate_limit_retries >= 0")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.max_rate_limit_wait < 0:
            raise ValueError("backoff and wait limits must be >= 0")

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Delay before the retry that follows the ``failures``-th failure (1-based)."""
        base = min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
        return base * (0.5 + rng.random())


def _read_body(response: RawResponse) -> Any:
    if response.status == 204 or not response.content:
        return None
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            return jsonlib.loads(response.content)
        except ValueError:
            pass
    return response.content.decode("utf-8", errors="replace")


def encode_json(value: Any) -> bytes:
    """The request body for ``value``: compact UTF-8 JSON (what httpx sends for ``json=``)."""
    return jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class RestSender:
    """Sends routes through a limiter over an `HttpBackend`."""

    def __init__(
        self,
        http: HttpBackend,
        limiter: Limiter,
        *,
        retry: RetryConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self.limiter = limiter
        self.retry = retry or RetryConfig()
        self._rng = rng or random.Random()

    async def request(
        self,
        route: Route,
        lane: Lane,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        paced: bool = True,
        observe: AttemptObserver | None = None,
    ) -> Any:
        """Send ``route`` until it succeeds or a retry limit is hit; return the JSON body.

        ``paced=False`` makes every attempt reactive-only (see `Limiter.acquire`);
        ``observe`` is called once per attempt, after its response (or failure) is read.
        """
        clock = self.limiter.clock
        content = None if json is None else encode_json(json)
        failures = 0
        rate_limits = 0
        not_before: float | None = None
        is_retry = False
        attempt = 0
        while True:
            attempt += 1
            error: httpx.TransportError | None = None
            feedback: Feedback | None = None
            response: RawResponse | None = None
            body: Any = None
            async with self.limiter.acquire(
                route, lane, not_before=not_before, retry=is_retry, paced=paced
            ) as permit:
                started = clock.monotonic()
                try:
                    response = await self.http.send(
                        route.method, route.path, body=content, params=params
                    )
                except httpx.TransportError as exc:
                    error = exc
                else:
                    body = _read_body(response)
                    feedback = permit.update(response.status, response.headers, body)
            elapsed_ms = (clock.monotonic() - started) * 1000
            if observe is not None:
                observe(
                    Attempt(
                        route=route,
                        lane=lane,
                        counted=route.counts_globally,
                        status=0 if response is None else response.status,
                        rate_limit=feedback.rate_limit if feedback is not None else None,
                        retry=is_retry,
                    )
                )
            is_retry = True

            if error is not None or (response is not None and response.status >= 500):
                failures += 1
                status = 0 if response is None else response.status
                if failures >= self.retry.max_attempts:
                    _log.error(
                        "event=request_failed route=%r lane=%s status=%d attempts=%d error=%r",
                        route.label,
                        lane.label,
                        status,
                        attempt,
                        error,
                    )
                    if error is not None:
                        raise TransportFailure(route.label, attempt, error) from error
                    raise error_from_response(status, body)
                delay = self.retry.backoff(failures, self._rng)
                reason = "transport" if error is not None else "server_error"
                self.limiter.counters.retry(reason)
                _log.warning(
                    "event=retry reason=%s route=%r lane=%s status=%d attempt=%d delay=%.3f "
                    "error=%r",
                    reason,
                    route.label,
                    lane.label,
                    status,
                    attempt,
                    delay,
                    error,
                )
                not_before = clock.monotonic() + delay
                continue

            assert response is not None and feedback is not None
            status = response.status
            if feedback.rate_limited:
                rate_limits += 1
                if feedback.retry_after > self.retry.max_rate_limit_wait:
                    raise RateLimitedTooLong(
                        route.label, feedback.retry_after, "retry_after above the allowed wait"
                    )
                if rate_limits > self.retry.max_rate_limit_retries:
                    raise RateLimitedTooLong(
                        route.label, feedback.retry_after, f"{rate_limits} 429s in a row"
                    )
                self.limiter.counters.retry("rate_limit")
                not_before = clock.monotonic() + feedback.retry_after
                continue

            _log.debug(
                "event=response route=%r lane=%s status=%d attempt=%d elapsed_ms=%.1f",
                route.label,
                lane.label,
                status,
                attempt,
                elapsed_ms,
            )
            if status >= 400:
                raise error_from_response(status, body)
            return body
