"""Fake players' behaviours: seeded distributions turned into each player's fixed traits.

Why traits are drawn once, at spawn: a scenario must be reproducible, and a player who
"sometimes forgets to confirm" is modelled as a crowd in which a given share of players
never confirm. Drawing every trait from one `random.Random(seed)` in a fixed order makes
the same seed give the same crowd (the same ratings, races, vetoes and traits), whatever
the timing of the run. Timing-dependent choices (which match an operator action picks) use
the same generator in the order the actions happen.

A behaviour is the table of docs/scenarios.md (`confirm_delay` as seconds or a
``(min, max)`` range, and the probabilities `no_confirm`, `abort`, `wrong_result`,
`replay`, `dms_closed`). Ratings are drawn from a normal distribution (mean 1500, sd 300 by
default) and clipped to a plausible range; races from a mix of Brood War only, StarCraft II
only and both games.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BW_RACES",
    "DEFAULT_CONFIRM_DELAY",
    "RACE_MIXES",
    "SC2_RACES",
    "Behaviour",
    "Profile",
    "Traits",
    "draw_profile",
]

BW_RACES = ("bw_terran", "bw_zerg", "bw_protoss")
SC2_RACES = ("sc2_terran", "sc2_zerg", "sc2_protoss")
RACE_MIXES = ("mix", "bw", "sc2", "both")
DEFAULT_CONFIRM_DELAY = (0.2, 1.5)
_MIX_WEIGHTS = (0.4, 0.4, 0.2)  # BW only, SC2 only, both
_RATING_RANGE = (100, 3500)


def _delay(value: Any) -> tuple[float, float]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"confirm_delay must be >= 0, got {value}")
        return float(value), float(value)
    if isinstance(value, Sequence) and len(value) == 2:
        low, high = (float(v) for v in value)
        if not 0 <= low <= high:
            raise ValueError(f"confirm_delay range must be 0 <= min <= max, got {value}")
        return low, high
    raise ValueError(f"confirm_delay must be seconds or a (min, max) pair, got {value!r}")


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability 0..1, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """The distributions a group of players is drawn from."""

    confirm_delay: tuple[float, float] = DEFAULT_CONFIRM_DELAY
    no_confirm: float = 0.0
    abort: float = 0.0
    wrong_result: float = 0.0
    replay: float = 0.0
    dms_closed: float = 0.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Behaviour:
        """From a scenario's `behaviour` table; unknown keys are errors."""
        data = dict(data or {})
        values: dict[str, Any] = {}
        if "confirm_delay" in data:
            values["confirm_delay"] = _delay(data.pop("confirm_delay"))
        for name in ("no_confirm", "abort", "wrong_result", "replay", "dms_closed"):
            if name in data:
                values[name] = _probability(name, data.pop(name))
        if data:
            raise ValueError(f"unknown behaviour keys: {', '.join(sorted(data))}")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Traits:
    """One player's drawn behaviour."""

    confirm_delay: float
    confirms: bool
    aborts: bool
    wrong_result: bool
    uploads_replay: bool
    dms_closed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "confirm_delay": round(self.confirm_delay, 3),
            "confirms": self.confirms,
            "aborts": self.aborts,
            "wrong_result": self.wrong_result,
            "uploads_replay": self.uploads_replay,
            "dms_closed": self.dms_closed,
        }


@dataclass(frozen=True, slots=True)
class Profile:
    """Who a player is: races, ratings per race, vetoes and traits."""

    bw_race: str | None
    sc2_race: str | None
    ratings: dict[str, int]
    vetoes: tuple[str, ...]
    region: str | None
    traits: Traits

    @property
    def races(self) -> tuple[str, ...]:
        return tuple(r for r in (self.bw_race, self.sc2_race) if r)


def _rating(rng: random.Random, mean: float, sd: float) -> int:
    value = round(rng.gauss(mean, sd)) if sd > 0 else round(mean)
    return max(_RATING_RANGE[0], min(_RATING_RANGE[1], value))


def draw_profile(
    rng: random.Random,
    behaviour: Behaviour,
    *,
    rating_mean: float = 1500.0,
    rating_sd: float = 300.0,
    races: str = "mix",
    maps: Sequence[str] = (),
    regions: Sequence[str] = (),
    max_vetoes: int = 2,
) -> Profile:
    """Draw one player. The order of draws is fixed: the same seed, the same crowd."""
    if races not in RACE_MIXES:
        raise ValueError(f"races must be one of {', '.join(RACE_MIXES)}, got {races!r}")
    kind = races
    if races == "mix":
        kind = rng.choices(("bw", "sc2", "both"), weights=_MIX_WEIGHTS)[0]
    bw = rng.choice(BW_RACES) if kind in ("bw", "both") else None
    sc2 = rng.choice(SC2_RACES) if kind in ("sc2", "both") else None
    base = _rating(rng, rating_mean, rating_sd)
    ratings: dict[str, int] = {}
    for race in (bw, sc2):
        if race is not None:
            # A both-games player is about as strong in each game, not identical.
            spread = rating_sd / 6 if kind == "both" and rating_sd > 0 else 0.0
            ratings[race] = _rating(rng, base, spread) if spread else base
    count = rng.randint(0, min(max_vetoes, max(0, len(maps) - 2)))
    vetoes = tuple(rng.sample(list(maps), count)) if count else ()
    region = rng.choice(list(regions)) if regions else None
    low, high = behaviour.confirm_delay
    traits = Traits(
        confirm_delay=rng.uniform(low, high),
        confirms=rng.random() >= behaviour.no_confirm,
        aborts=rng.random() < behaviour.abort,
        wrong_result=rng.random() < behaviour.wrong_result,
        uploads_replay=rng.random() < behaviour.replay,
        dms_closed=rng.random() < behaviour.dms_closed,
    )
    return Profile(bw, sc2, ratings, vetoes, region, traits)
