"""Elo rating update.

expected(A) = 1 / (1 + 10 ** ((R_B - R_A) / divisor)); new = round(R + K * (S - expected)),
rounded separately for each player, so the two changes need not sum to zero. Rounding is
half away from zero (Python's `round` rounds half to even, which would make a change of
exactly +x.5 depend on parity). K and the divisor come from `LadderConfig` (40 and 500).
"""

from __future__ import annotations

import math
from enum import StrEnum

__all__ = ["Outcome", "expected_score", "round_half_away", "updated_ratings"]


class Outcome(StrEnum):
    """A result from player 1's point of view."""

    P1_WIN = "p1_win"
    P2_WIN = "p2_win"
    DRAW = "draw"

    @property
    def p1_score(self) -> float:
        return {Outcome.P1_WIN: 1.0, Outcome.P2_WIN: 0.0, Outcome.DRAW: 0.5}[self]


def expected_score(rating: float, opponent: float, divisor: float = 500.0) -> float:
    return 1.0 / (1.0 + 10.0 ** ((opponent - rating) / divisor))


def round_half_away(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def updated_ratings(
    r1: int, r2: int, outcome: Outcome, k: float = 40.0, divisor: float = 500.0
) -> tuple[int, int]:
    """The two new ratings after a game between a player rated `r1` and one rated `r2`."""
    s1 = outcome.p1_score
    new1 = round_half_away(r1 + k * (s1 - expected_score(r1, r2, divisor)))
    new2 = round_half_away(r2 + k * ((1.0 - s1) - expected_score(r2, r1, divisor)))
    return new1, new2
