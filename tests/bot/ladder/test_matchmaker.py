import dataclasses
import random

import pytest

from bot.ladder import Game, LadderConfig, Race, balance_sides, find_pairings, run_wave

from .helpers import both, bw, cand, sc2

CONFIG = LadderConfig()


def pairs_of(result):
    return {(p.bw.player_id, p.sc2.player_id) for p in result.pairings}


def test_a_pair_refused_at_wait_zero_is_allowed_after_enough_waves():
    queue = [bw(1, 1500), sc2(2, 1750)]  # gap 250 needs a window of 100 + 50 * 3
    waves = 0
    while True:
        result = run_wave(queue, CONFIG, now=waves * 45.0, wave_id=waves + 1, first_match_id=1)
        if result.matches:
            break
        assert set(result.still_queued) == {1, 2}
        queue = [dataclasses.replace(c, wait_cycles=c.wait_cycles + 1) for c in queue]
        waves += 1
    assert waves == 3
    assert [c.wait_cycles for c in queue] == [3, 3]


def test_one_side_window_is_enough():
    # Player 1 waited 3 waves (window 250); player 2 is fresh (window 100): gap 240 allowed.
    assert pairs_of(find_pairings([bw(1, 1500, wait=3), sc2(2, 1740)], CONFIG)) == {(1, 2)}
    assert pairs_of(find_pairings([bw(1, 1500, wait=2), sc2(2, 1740)], CONFIG)) == set()


def test_never_bw_against_bw():
    assert find_pairings([bw(i) for i in range(10)], CONFIG).pairings == ()
    assert find_pairings([sc2(i) for i in range(10)], CONFIG).pairings == ()
    rng = random.Random(5)
    queue = []
    for pid in range(300):
        kind = rng.choice("bsx")
        mmr = rng.randint(1200, 1800)
        queue.append(
            bw(pid, mmr)
            if kind == "b"
            else sc2(pid, mmr)
            if kind == "s"
            else both(pid, mmr, rng.randint(1200, 1800))
        )
    result = find_pairings(queue, CONFIG)
    assert result.pairings
    for p in result.pairings:
        assert p.bw_race.game is Game.BW and p.sc2_race.game is Game.SC2


def test_both_games_players_fill_the_short_side():
    queue = [bw(1), bw(2), bw(3), bw(4), both(5, 1500, 1500), both(6, 1700, 1500)]
    bw_side, sc2_side = balance_sides(queue[:4], [], queue[4:], CONFIG)
    assert len(bw_side) == 4 and {c.player_id for c in sc2_side} == {5, 6}
    result = find_pairings(queue, CONFIG)
    assert {p.sc2.player_id for p in result.pairings} == {5, 6}


def test_both_games_players_go_where_they_are_stronger():
    bw_strong = both(5, 1600, 1400)
    sc2_strong = both(6, 1400, 1600)
    bw_side, sc2_side = balance_sides(
        [bw(1, 1500)], [sc2(2, 1500)], [sc2_strong, bw_strong], CONFIG
    )
    assert bw_strong in bw_side and sc2_strong in sc2_side


def test_odd_count_sends_the_boundary_player_to_the_stronger_side():
    # Sides 1 vs 1 plus one both-games player: either side works for the head count.
    bw_side, sc2_side = balance_sides([bw(1)], [sc2(2)], [both(3, 1450, 1520)], CONFIG)
    assert [c.player_id for c in sc2_side] == [2, 3]
    bw_side, sc2_side = balance_sides([bw(1)], [sc2(2)], [both(3, 1520, 1450)], CONFIG)
    assert [c.player_id for c in bw_side] == [1, 3]


def test_average_gap_over_threshold_moves_one_neutral_player():
    # BW side averages far above SC2 side; the most neutral both-player moves BW -> SC2.
    bw_only = [bw(1, 2000), bw(2, 2000)]
    sc2_only = [sc2(3, 1400), sc2(4, 1400), sc2(5, 1400)]
    neutral = both(6, 1810, 1800)
    leaning = both(7, 2100, 1500)
    bw_side, sc2_side = balance_sides(bw_only, sc2_only, [neutral, leaning], CONFIG)
    assert neutral in sc2_side and leaning in bw_side
    # Below the threshold nothing moves.
    calm = dataclasses.replace(CONFIG, balance_threshold=10_000)
    bw_side, sc2_side = balance_sides(bw_only, sc2_only, [neutral, leaning], calm)
    assert neutral in bw_side


def test_smaller_side_leads_and_larger_side_keeps_longest_waiters():
    queue = [sc2(1, 1500), bw(10, 1500, wait=0), bw(11, 1500, wait=4), bw(12, 1500, wait=1)]
    result = find_pairings(queue, CONFIG)
    assert pairs_of(result) == {(11, 1)}
    assert set(result.unmatched) == {10, 12}


def test_vetoes_leaving_no_map_skip_the_pair_and_both_stay_queued():
    config = dataclasses.replace(CONFIG, maps=("A", "B"))
    queue = [bw(1, vetoes=("A",)), sc2(2, vetoes=("B",))]
    result = run_wave(queue, config, now=0.0, wave_id=1, first_match_id=1)
    assert result.matches == ()
    assert result.skipped_no_map == ((1, 2),)
    assert set(result.still_queued) == {1, 2}


def test_map_avoids_vetoes_and_is_seeded():
    config = dataclasses.replace(CONFIG, maps=("A", "B", "C"))
    queue = [bw(1, vetoes=("A",)), sc2(2, vetoes=("B",))]
    assert find_pairings(queue, config, seed=3).pairings[0].map == "C"
    queue = [bw(1), sc2(2)]
    maps = {find_pairings(queue, config, seed=s).pairings[0].map for s in range(30)}
    assert maps == {"A", "B", "C"}
    assert find_pairings(queue, config, seed=7) == find_pairings(queue, config, seed=7)


def test_server_comes_from_both_regions():
    queue = [bw(1, region="EU"), sc2(2, region="KR")]
    assert find_pairings(queue, CONFIG).pairings[0].server == "Europe"


def test_greedy_picks_smallest_gap_first():
    queue = [bw(1, 1500), bw(2, 1580), sc2(3, 1510), sc2(4, 1600)]
    assert pairs_of(find_pairings(queue, CONFIG)) == {(1, 3), (2, 4)}


def test_wait_bonus_beats_a_slightly_smaller_gap():
    # Follower 3: gap 0, fresh (score 0). Follower 4: gap 10, waited 6 (100 - 120 = -20).
    queue = [bw(1, 1500), sc2(3, 1500), sc2(4, 1510, wait=6)]
    assert pairs_of(find_pairings(queue, CONFIG)) == {(1, 4)}


def test_refinement_uncrosses_greedy_pairs():
    # Greedy first takes (A2, B1) (gap 10), leaving (A1, B2) at gap 200 (allowed by A1's
    # wait-2 window). Swapping gives gaps 90 and 100: squared sum 18,100 < 40,100.
    queue = [bw(1, 1000, wait=2), bw(2, 1100), sc2(3, 1090), sc2(4, 1200)]
    no_refine = dataclasses.replace(CONFIG, refine_passes=0)
    assert pairs_of(find_pairings(queue, no_refine)) == {(2, 3), (1, 4)}
    assert pairs_of(find_pairings(queue, CONFIG)) == {(1, 3), (2, 4)}


def test_refinement_never_creates_a_pair_outside_the_windows():
    # Same shape, but the swap would put A2 (1100) against B2 (1250): gap 150, not allowed.
    queue = [bw(1, 1000, wait=3), bw(2, 1100), sc2(3, 1090), sc2(4, 1250)]
    assert pairs_of(find_pairings(queue, CONFIG)) == {(2, 3), (1, 4)}


def brute_greedy(leaders, followers, config):
    """The quadratic reference: list every allowed pair, sort, walk."""
    leaders = sorted(leaders, key=lambda c: (c.bw_mmr, c.player_id))
    followers = sorted(followers, key=lambda c: (c.sc2_mmr, -c.wait_cycles, c.player_id))
    allowed = []
    for li, a in enumerate(leaders):
        for fi, b in enumerate(followers):
            gap = abs(a.bw_mmr - b.sc2_mmr)
            if gap <= config.window(a.wait_cycles) or gap <= config.window(b.wait_cycles):
                score = gap * gap - config.wait_weight * (a.wait_cycles + b.wait_cycles)
                allowed.append((score, gap, li, fi))
    allowed.sort()
    used_l, used_f, pairs = set(), set(), set()
    for _, _, li, fi in allowed:
        if li not in used_l and fi not in used_f:
            used_l.add(li)
            used_f.add(fi)
            pairs.add((leaders[li].player_id, followers[fi].player_id))
    return pairs


@pytest.mark.parametrize("seed", range(25))
def test_fast_greedy_equals_the_quadratic_reference(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    spread = rng.choice([30, 200, 600])
    leaders = [bw(i, 1500 + rng.randint(-spread, spread), wait=rng.randint(0, 5)) for i in range(n)]
    followers = [
        sc2(1000 + i, 1500 + rng.randint(-spread, spread), wait=rng.randint(0, 5)) for i in range(n)
    ]
    config = dataclasses.replace(CONFIG, refine_passes=0)
    assert pairs_of(find_pairings(leaders + followers, config)) == brute_greedy(
        leaders, followers, config
    )


def test_ten_thousand_player_wave_is_valid():
    rng = random.Random(42)
    queue = []
    races_bw = [r for r in Race if r.game is Game.BW]
    races_sc2 = [r for r in Race if r.game is Game.SC2]
    for pid in range(10_000):
        kind = rng.random()
        b = rng.choice(races_bw) if kind < 0.7 else None
        s = rng.choice(races_sc2) if kind > 0.3 else None
        queue.append(
            cand(
                pid,
                b,
                s,
                bw_mmr=int(rng.gauss(1500, 250)),
                sc2_mmr=int(rng.gauss(1500, 250)),
                wait=rng.choice([0, 0, 0, 1, 2, 5]),
                vetoes=rng.sample(CONFIG.maps, rng.randint(0, 4)),
            )
        )
    by_id = {c.player_id: c for c in queue}
    result = run_wave(queue, CONFIG, now=0.0, wave_id=1, first_match_id=1)
    seen = set()
    for match in result.matches:
        a, b = by_id[match.p1.player_id], by_id[match.p2.player_id]
        assert match.p1.race.game is Game.BW and match.p2.race.game is Game.SC2
        assert match.p1.race == a.bw_race and match.p2.race == b.sc2_race
        gap = abs(a.bw_mmr - b.sc2_mmr)
        assert gap <= CONFIG.window(a.wait_cycles) or gap <= CONFIG.window(b.wait_cycles)
        assert match.map not in a.vetoes and match.map not in b.vetoes
        assert a.player_id not in seen and b.player_id not in seen
        seen.update((a.player_id, b.player_id))
    assert seen.isdisjoint(result.still_queued)
    assert len(seen) + len(result.still_queued) == len(queue)
    assert len(result.matches) > 4000  # dense ratings: nearly everybody finds an opponent
    assert [m.id for m in result.matches] == list(range(1, len(result.matches) + 1))
