"""Exact header and body formatting for rate-limited responses (DISCORD_RATE_LIMITS.md §1-3).

Real client libraries compare these byte for byte, so formatting lives in one place:

- `Content-Type: application/json` exactly (no charset: discord.py compares the string);
- `Via: 1.1 google` on every normal 429 (without it discord.py assumes a Cloudflare ban);
  ban-shaped 429s deliberately have no `Via`;
- `X-RateLimit-Reset` (epoch seconds) and `X-RateLimit-Reset-After` with 3 decimals;
- `X-RateLimit-Bucket`: 32 lowercase hex characters, opaque and stable per hash group (a
  keyed BLAKE2b of the group name, so it reveals nothing and never changes between runs);
- `Retry-After`: integer seconds, rounded up, at least 1;
- `X-RateLimit-Global: true` only on global 429s (never `false`: discord.js treats the
  header's presence as "global").

Times are rounded *up* to the millisecond: a client that waits exactly the advertised
time must then be allowed. JSON bodies are written by hand so the bytes are compact and
deterministic (key order fixed: message, retry_after, global, code).
"""

from __future__ import annotations

import hashlib
import json
import math

_ceil = math.ceil

__all__ = [
    "BAN_HTML",
    "BAN_JSON_MESSAGE",
    "HTML_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "MESSAGE_GLOBAL",
    "MESSAGE_SHARED",
    "MESSAGE_USER",
    "SHARED_CODE",
    "VIA",
    "ban_body",
    "bucket_hash",
    "bucket_headers",
    "ceil_ms",
    "fmt_seconds",
    "rate_limited_body",
    "retry_after_header",
]

JSON_CONTENT_TYPE = "application/json"
HTML_CONTENT_TYPE = "text/html"
VIA = "1.1 google"
MESSAGE_USER = "You are being rate limited."
MESSAGE_GLOBAL = "You are being rate limited."
MESSAGE_SHARED = "The resource is being rate limited."
SHARED_CODE = 40062
BAN_JSON_MESSAGE = (
    "You are being blocked from accessing our API temporarily due to exceeding our rate "
    "limits frequently. Please read our docs at "
    "https://discord.com/developers/docs/topics/rate-limits to prevent this moving forward."
)
BAN_HTML = (
    "<!DOCTYPE html>\n"
    "<html><head><title>Access denied | discord.com used Cloudflare to restrict access"
    "</title></head>\n<body>\n<h1>Error 1015</h1>\n<h2>You are being rate limited</h2>\n"
    "<p>The owner of this website (discord.com) has banned you temporarily from accessing "
    "this website.</p>\n</body></html>\n"
)


def bucket_hash(group: str) -> str:
    """32 lowercase hex characters, stable for a hash group name."""
    return hashlib.blake2b(group.encode(), digest_size=16, person=b"mockdiscord-bkt").hexdigest()


def ceil_ms(seconds: float) -> float:
    """Round up to the millisecond, ignoring float noise below a microsecond."""
    return math.ceil(seconds * 1000.0 - 1e-3) / 1000.0


def fmt_seconds(seconds: float) -> str:
    """Seconds with exactly 3 decimals, rounded up, never negative."""
    return f"{max(0.0, ceil_ms(seconds)):.3f}"


def retry_after_header(seconds: float) -> str:
    """Integer seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds - 1e-6)))


def bucket_headers(
    limit: int, remaining: int, reset_after: float, wall_now: float, bucket: str, scope: str
) -> dict[str, str]:
    # ceil_ms inlined: this runs on every bucketed response.
    reset_after = _ceil(reset_after * 1000.0 - 1e-3) / 1000.0
    if reset_after < 0.0:
        reset_after = 0.0
    reset = _ceil((wall_now + reset_after) * 1000.0 - 1e-3) / 1000.0
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{reset:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": scope,
    }


def rate_limited_body(
    message: str, retry_after: float, is_global: bool, code: int | None = None
) -> bytes:
    """The 429 JSON body, compact, with `retry_after` to 3 decimals (at least 0.001)."""
    seconds = max(0.001, ceil_ms(retry_after))
    text = (
        f'{{"message":{json.dumps(message)},"retry_after":{seconds:.3f},'
        f'"global":{"true" if is_global else "false"}'
    )
    if code is not None:
        text += f',"code":{code}'
    return (text + "}").encode()


def ban_body(style: str) -> tuple[str, bytes]:
    """(Content-Type, body) of a ban-shaped 429 in the given style ("html" or "json")."""
    if style == "json":
        body = f'{{"code":0,"message":{json.dumps(BAN_JSON_MESSAGE)}}}'
        return JSON_CONTENT_TYPE, body.encode()
    return HTML_CONTENT_TYPE, BAN_HTML.encode()
