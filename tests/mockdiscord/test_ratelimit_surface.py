"""The engine's public surface is pinned (httpx style) and pure (no aiohttp)."""

import subprocess
import sys

import mockdiscord.ratelimit as rl


def test_public_surface_is_pinned():
    assert sorted(rl.__all__) == [
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
    for name in rl.__all__:
        assert getattr(rl, name) is not None


def test_every_engine_module_explains_its_model():
    import mockdiscord.ledger
    import mockdiscord.profile
    import mockdiscord.stats
    from mockdiscord.ratelimit import engine, fixed, gcra, global_limit, headers, invalid

    for module in (
        engine,
        fixed,
        gcra,
        global_limit,
        headers,
        invalid,
        mockdiscord.ledger,
        mockdiscord.stats,
        mockdiscord.profile,
    ):
        assert module.__doc__ and len(module.__doc__.split()) > 40, module.__name__


def test_engine_is_pure_no_aiohttp():
    code = (
        "import sys, mockdiscord.ratelimit, mockdiscord.profile, mockdiscord.ledger, "
        "mockdiscord.stats; print('aiohttp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
