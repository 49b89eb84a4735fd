"""Every ladder number in one immutable value, with the rules' defaults.

Nothing in `bot.ladder` hard-codes a timing, a window or a table: it reads this object,
which the app builds once (from its own config file or flags) and passes in. Tests build
variants with `dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["DEFAULT_MAPS", "DEFAULT_RANK_TIERS", "DEFAULT_SERVERS", "LadderConfig"]

DEFAULT_MAPS: tuple[str, ...] = (
    "Fighting Spirit",
    "Circuit Breaker",
    "Polypoid",
    "Eclipse",
    "Neo Sylphid",
    "Radeon",
    "Vermeer",
    "Dominator",
)

# Region pair (either order) -> server. Regions outside the table use `default_server`.
DEFAULT_SERVERS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("NA", "NA"): "US East",
        ("NA", "SA"): "US East",
        ("NA", "EU"): "US East",
        ("NA", "KR"): "US West",
        ("NA", "OCE"): "US West",
        ("SA", "SA"): "Brazil",
        ("SA", "EU"): "US East",
        ("EU", "EU"): "Europe",
        ("EU", "KR"): "Europe",
        ("EU", "OCE"): "Singapore",
        ("KR", "KR"): "Korea",
        ("KR", "OCE"): "Korea",
        ("OCE", "OCE"): "Australia",
    }
)

# Letter -> share of the ranked players, best first. S 1%, A 7%, B-E 21% each, F 8%.
DEFAULT_RANK_TIERS: tuple[tuple[str, float], ...] = (
    ("S", 0.01),
    ("A", 0.07),
    ("B", 0.21),
    ("C", 0.21),
    ("D", 0.21),
    ("E", 0.21),
    ("F", 0.08),
)


@dataclass(frozen=True, slots=True)
class LadderConfig:
    # Players and ratings.
    start_mmr: int = 1500
    elo_k: float = 40.0
    elo_divisor: float = 500.0
    starting_aborts: int = 3
    max_vetoes: int = 4
    # Waves and matchmaking.
    wave_interval_s: float = 45.0  # 0 = waves only when an admin forces one
    window_base: int = 100  # MMR window = window_base + window_per_wait * wait_cycles
    window_per_wait: int = 50
    wait_weight: int = 20  # score = gap**2 - wait_weight * (wait_a + wait_b)
    balance_threshold: float = 50.0  # side-average MMR gap that moves one neutral player
    refine_passes: int = 2
    maps: tuple[str, ...] = DEFAULT_MAPS
    map_seed: int = 0
    servers: Mapping[tuple[str, str], str] = field(default_factory=lambda: DEFAULT_SERVERS)
    default_server: str = "US East"
    # Match lifecycle (seconds of wall time; deadlines are stored as Unix timestamps).
    confirm_timeout_s: float = 60.0
    report_timeout_s: float = 3600.0
    # Leaderboard.
    leaderboard_page_size: int = 40
    rank_tiers: tuple[tuple[str, float], ...] = DEFAULT_RANK_TIERS

    def __post_init__(self) -> None:
        if not self.maps:
            raise ValueError("the map pool is empty")
        if self.wave_interval_s < 0:
            raise ValueError("wave_interval_s must be >= 0 (0 = manual waves only)")
        if self.confirm_timeout_s <= 0 or self.report_timeout_s <= 0:
            raise ValueError("match timeouts must be positive")
        if self.leaderboard_page_size < 1:
            raise ValueError("leaderboard_page_size must be >= 1")
        total = sum(share for _, share in self.rank_tiers)
        if not self.rank_tiers or abs(total - 1.0) > 1e-9:
            raise ValueError(f"rank tier shares must sum to 1 (they sum to {total})")

    def window(self, wait_cycles: int) -> int:
        """A player's MMR window after `wait_cycles` waves without a match."""
        return self.window_base + self.window_per_wait * wait_cycles

    def server_for(self, region_a: str | None, region_b: str | None) -> str:
        if region_a is None or region_b is None:
            return self.default_server
        return (
            self.servers.get((region_a, region_b))
            or self.servers.get((region_b, region_a))
            or self.default_server
        )
