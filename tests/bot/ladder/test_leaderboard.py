import dataclasses
from collections import Counter

import pytest

from bot.ladder import LadderConfig, Race, RatingRow, leaderboard_page, rank_letter

CONFIG = LadderConfig()


def row(pid, mmr, games=5, race=Race.BW_ZERG, **kw):
    return RatingRow(player_id=pid, name=f"p{pid}", race=race, mmr=mmr, games=games, **kw)


def test_rank_letters_follow_the_percentiles():
    letters = Counter(rank_letter(i, 100, CONFIG.rank_tiers) for i in range(100))
    assert letters == {"S": 1, "A": 7, "B": 21, "C": 21, "D": 21, "E": 21, "F": 8}
    assert rank_letter(0, 1, CONFIG.rank_tiers) == "S"
    assert rank_letter(7, 100, CONFIG.rank_tiers) == "A"
    assert rank_letter(8, 100, CONFIG.rank_tiers) == "B"  # exactly on the 8% boundary
    assert rank_letter(99, 100, CONFIG.rank_tiers) == "F"


def test_pages_of_forty_with_ranks_and_unranked_hidden():
    rows = [row(i, 2000 - i) for i in range(100)] + [row(500 + i, 3000, games=0) for i in range(5)]
    first = leaderboard_page(rows, None, 0, CONFIG)
    assert first.total == 100 and first.page_count == 3
    assert len(first.lines) == 40 and not first.has_prev and first.has_next
    assert first.lines[0].rank == 1 and first.lines[0].letter == "S"
    assert all(line.row.games > 0 for line in first.lines)
    last = leaderboard_page(rows, None, 2, CONFIG)
    assert len(last.lines) == 20 and last.lines[0].rank == 81 and last.lines[-1].letter == "F"
    assert leaderboard_page(rows, None, 99, CONFIG).page == 2  # clamped
    empty = leaderboard_page([], None, 0, CONFIG)
    assert (empty.page_count, empty.lines) == (1, ())


def test_ties_share_a_rank_across_a_page_boundary():
    config = dataclasses.replace(CONFIG, leaderboard_page_size=2)
    rows = [row(1, 1600), row(2, 1500), row(3, 1500), row(4, 1400)]
    p0 = leaderboard_page(rows, None, 0, config)
    p1 = leaderboard_page(rows, None, 1, config)
    assert [line.rank for line in p0.lines + p1.lines] == [1, 2, 2, 4]


def test_race_filter_and_banned_players():
    rows = [row(1, 1600), row(2, 1700, race=Race.SC2_ZERG), row(3, 1800, banned=True)]
    page = leaderboard_page(rows, Race.SC2_ZERG, 0, CONFIG)
    assert [line.row.player_id for line in page.lines] == [2]
    assert [line.row.player_id for line in leaderboard_page(rows, None, 0, CONFIG).lines] == [2, 1]


def test_rank_letter_rejects_nonsense():
    with pytest.raises(ValueError):
        rank_letter(5, 5, CONFIG.rank_tiers)
