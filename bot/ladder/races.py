"""The six races and the two games they belong to.

Every match is one Brood War race against one StarCraft II race, so the game of a race is
the fact the matchmaker and the queue rules lean on; it is derived from the race's value
prefix rather than kept in a second table that could drift.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Game", "Race"]


class Game(StrEnum):
    BW = "bw"
    SC2 = "sc2"


class Race(StrEnum):
    BW_TERRAN = "bw_terran"
    BW_ZERG = "bw_zerg"
    BW_PROTOSS = "bw_protoss"
    SC2_TERRAN = "sc2_terran"
    SC2_ZERG = "sc2_zerg"
    SC2_PROTOSS = "sc2_protoss"

    @property
    def game(self) -> Game:
        return Game.BW if self.value.startswith("bw_") else Game.SC2

    @classmethod
    def parse(cls, value: str) -> Race:
        """`Race("bw_zerg")` with a one-line error naming the valid values."""
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(r.value for r in cls)
            raise ValueError(f"unknown race {value!r} (expected one of: {valid})") from None
