"""The leaderboard: ranked rows, rank letters by percentile, pages.

A row is one (player, race) rating. Players with no games in that race are *unranked* and
hidden (a fresh 1500 says nothing), as are banned players. Rows are ordered by MMR (then
games, then name), and tied MMRs share a rank (competition ranking: 1, 2, 2, 4).

Rank letters go by the share of ranked rows strictly above a row: with `above` rows better
and `total` ranked rows, the letter is the first tier whose cumulative share exceeds
`above / total`. The default tiers are S 1%, A 7%, B/C/D/E 21% each and F 8%, so in a board
of 100 the best is S, the next 7 are A, and so on. The comparison is done in integers
(parts per million) so that boundaries like 8/100 do not fall on the wrong side of a float.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.ladder.config import LadderConfig
from bot.ladder.races import Race

__all__ = ["LeaderboardLine", "LeaderboardPage", "RatingRow", "leaderboard_page", "rank_letter"]

_PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class RatingRow:
    player_id: int
    name: str
    race: Race
    mmr: int
    games: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0
    country: str | None = None
    banned: bool = False


@dataclass(frozen=True, slots=True)
class LeaderboardLine:
    rank: int  # 1-based, ties share a rank
    letter: str
    row: RatingRow


@dataclass(frozen=True, slots=True)
class LeaderboardPage:
    race: Race | None  # the filter; None = every race
    page: int  # 0-based, clamped into range
    page_count: int  # at least 1, even when empty
    total: int  # ranked rows across all pages
    lines: tuple[LeaderboardLine, ...]

    @property
    def has_prev(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.page_count


def rank_letter(above: int, total: int, tiers: Iterable[tuple[str, float]]) -> str:
    """The letter of a row with `above` rows strictly better among `total` ranked rows."""
    if total <= 0 or not 0 <= above < total:
        raise ValueError("need 0 <= above < total")
    cumulative = 0
    letter = ""
    for letter, share in tiers:
        cumulative += round(share * _PPM)
        if above * _PPM < cumulative * total:
            return letter
    return letter  # rounding slack: the last tier


def leaderboard_page(
    rows: Iterable[RatingRow], race: Race | None, page: int, config: LadderConfig
) -> LeaderboardPage:
    ranked = sorted(
        (r for r in rows if r.games > 0 and not r.banned and (race is None or r.race is race)),
        key=lambda r: (-r.mmr, -r.games, r.name.casefold(), r.player_id, r.race.value),
    )
    total = len(ranked)
    size = config.leaderboard_page_size
    page_count = max(1, -(-total // size))
    page = min(max(page, 0), page_count - 1)
    start = page * size
    lines: list[LeaderboardLine] = []
    above = start
    # The rank of the first row on the page: walk back over equal MMRs before it.
    while above > 0 and ranked[above - 1].mmr == ranked[start].mmr:
        above -= 1
    for i in range(start, min(start + size, total)):
        if i > start and ranked[i].mmr != ranked[i - 1].mmr:
            above = i
        row = ranked[i]
        lines.append(LeaderboardLine(above + 1, rank_letter(above, total, config.rank_tiers), row))
    return LeaderboardPage(race, page, page_count, total, tuple(lines))
