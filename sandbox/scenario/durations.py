"""Durations as people write them in scenario files: "250ms", "2s", "1.5s", "1m".

A bare number is refused on purpose: "wait = 2" could mean seconds or milliseconds, and a
scenario that silently waits a thousand times too long (or too short) is worse than one
that does not load.
"""

from __future__ import annotations

import re

__all__ = ["DURATION_FORM", "format_duration", "parse_duration"]

DURATION_FORM = 'a duration string such as "250ms", "2s" or "1m"'

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0}


def parse_duration(value: object) -> float:
    """Seconds for a duration string; ValueError (with the expected form) otherwise."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT[match.group(2)]
    raise ValueError(f"expected {DURATION_FORM}, got {value!r}")


def format_duration(seconds: float) -> str:
    if seconds < 1.0:
        return f"{seconds * 1000:.0f}ms"
    return f"{seconds:.3g}s" if seconds < 60 else f"{seconds:.1f}s"
