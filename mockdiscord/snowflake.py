"""Discord snowflakes: 64-bit ids that embed their creation time.

A snowflake is `(ms since 2015-01-01) << 22 | worker << 17 | process << 12 | increment`.
Clients depend on the shape, not only on uniqueness: discord.js finds major parameters in a
path with a 17-19 digit pattern, and libraries derive `created_at` from the top bits. So the
mock mints real snowflakes from the injected clock's wall time; an id minted now has 19
digits. Ids are strictly increasing even if two are minted in the same millisecond or the
wall clock steps back (the increment then carries into the timestamp bits), so "newest
first" ordering by id is always the creation order.
"""

from __future__ import annotations

from mockdiscord.clock import Clock

__all__ = [
    "DISCORD_EPOCH_MS",
    "SnowflakeGenerator",
    "is_snowflake",
    "snowflake_time",
]

DISCORD_EPOCH_MS = 1_420_070_400_000
_MAX_SNOWFLAKE = (1 << 64) - 1


class SnowflakeGenerator:
    """Mints strictly increasing snowflakes from `clock.wall()`."""

    def __init__(self, clock: Clock, worker_id: int = 1, process_id: int = 0) -> None:
        if not 0 <= worker_id < 32 or not 0 <= process_id < 32:
            raise ValueError("worker_id and process_id must be in 0..31")
        self._clock = clock
        self._low_bits = (worker_id << 17) | (process_id << 12)
        self._last = 0

    def next_int(self) -> int:
        ms = max(0, int(self._clock.wall() * 1000) - DISCORD_EPOCH_MS)
        candidate = (ms << 22) | self._low_bits
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate

    def next(self) -> str:
        """A new snowflake, as the decimal string Discord sends in JSON."""
        return str(self.next_int())


def snowflake_time(snowflake: str | int) -> float:
    """The wall-clock time (epoch seconds) a snowflake was minted at."""
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000


def is_snowflake(value: object) -> bool:
    """True for an int or a decimal string that fits a snowflake (what Discord accepts)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= _MAX_SNOWFLAKE
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value) <= _MAX_SNOWFLAKE
    return False
