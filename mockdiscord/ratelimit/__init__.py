"""The mock's rate-limit engine: per-route buckets, the global limit and Cloudflare bans.

Pure Python with an injected clock (no aiohttp here): the HTTP layer asks
`RateLimitEngine.check()` once per request and reports every final status back through
`record_status()`. The interface is described in `notes/ENGINE_API.md`; each module's
docstring explains the model it implements.
"""

from mockdiscord.ratelimit.engine import (
    RateLimitedResponse,
    RateLimitEngine,
    RateLimitRequest,
    Scope,
    Verdict,
)
from mockdiscord.ratelimit.fixed import FixedWindowBucket
from mockdiscord.ratelimit.gcra import GcraBucket
from mockdiscord.ratelimit.global_limit import (
    FixedWindowGlobalLimiter,
    GcraGlobalLimiter,
    GlobalLimiter,
    SlidingLogGlobalLimiter,
    make_global_limiter,
)
from mockdiscord.ratelimit.invalid import InvalidRequestTracker

__all__ = [
    "FixedWindowBucket",
    "FixedWindowGlobalLimiter",
    "GcraBucket",
    "GcraGlobalLimiter",
    "GlobalLimiter",
    "InvalidRequestTracker",
    "RateLimitEngine",
    "RateLimitRequest",
    "RateLimitedResponse",
    "Scope",
    "SlidingLogGlobalLimiter",
    "Verdict",
    "make_global_limiter",
]
