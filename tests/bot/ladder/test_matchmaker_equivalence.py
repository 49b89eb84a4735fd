"""The fast matchmaker against a quadratic reference that lists every allowed pair.

Random queues with heavy ties (narrow rating spreads, few wait values), many wait values
(beyond `MAX_WAIT_CLASSES`, so the walking lookup runs), varied windows, wait weights and
refinement passes. Both best-partner strategies are checked directly on int lists, and the
whole of `find_pairings` (balance, trim, greedy, refinement, pair order) is checked too.
"""

import dataclasses
import random

import pytest

from bot.ladder import LadderConfig, balance_sides, find_pairings
from bot.ladder.greedy import MAX_WAIT_CLASSES, greedy_pairs, refine_pairs

from .helpers import both, bw, sc2

CONFIG = LadderConfig()


def allowed(gap, wait_a, wait_b, config):
    return gap <= config.window(wait_a) or gap <= config.window(wait_b)


def reference_greedy(leaders, followers, config):
    """Leaders/followers: lists of (mmr, wait, id). Every allowed pair, sorted, walked.

    Tie order: (score, gap, leader (mmr, id), follower (mmr, -wait, id)).
    """
    lead_order = sorted(range(len(leaders)), key=lambda i: (leaders[i][0], leaders[i][2]))
    follow_order = sorted(
        range(len(followers)),
        key=lambda i: (followers[i][0], -followers[i][1], followers[i][2]),
    )
    edges = []
    for lr, li in enumerate(lead_order):
        a_mmr, a_wait, _ = leaders[li]
        for fr, fi in enumerate(follow_order):
            b_mmr, b_wait, _ = followers[fi]
            gap = abs(a_mmr - b_mmr)
            if allowed(gap, a_wait, b_wait, config):
                score = gap * gap - config.wait_weight * (a_wait + b_wait)
                edges.append((score, gap, lr, fr, li, fi))
    edges.sort()
    used_l, used_f, pairs = set(), set(), []
    for *_, li, fi in edges:
        if li not in used_l and fi not in used_f:
            used_l.add(li)
            used_f.add(fi)
            pairs.append((li, fi))
    return pairs


def reference_refine(pairs, leaders, followers, config):
    """The refinement spelled out plainly, on (leader index, follower index) pairs."""
    pairs = sorted(pairs, key=lambda p: (leaders[p[0]][0], leaders[p[0]][2]))

    def gap(li, fi):
        return abs(leaders[li][0] - followers[fi][0])

    def ok(li, fi):
        return allowed(gap(li, fi), leaders[li][1], followers[fi][1], config)

    for _ in range(config.refine_passes):
        swapped = False
        for i in range(len(pairs) - 1):
            (a1, b1), (a2, b2) = pairs[i], pairs[i + 1]
            if (
                gap(a1, b2) ** 2 + gap(a2, b1) ** 2 < gap(a1, b1) ** 2 + gap(a2, b2) ** 2
                and ok(a1, b2)
                and ok(a2, b1)
            ):
                pairs[i], pairs[i + 1] = (a1, b2), (a2, b1)
                swapped = True
        if not swapped:
            break
    return pairs


def random_config(rng):
    return dataclasses.replace(
        CONFIG,
        window_base=rng.choice([0, 30, 100]),
        window_per_wait=rng.choice([0, 10, 50, 300]),
        wait_weight=rng.choice([1, 20, 20, 500]),
        refine_passes=rng.choice([0, 1, 2, 3]),
    )


def random_side(rng, n, first_id, spread, waits):
    return [
        (1500 + rng.randint(-spread, spread), rng.choice(waits), first_id + i) for i in range(n)
    ]


def random_case(rng):
    spread = rng.choice([0, 3, 20, 100, 400])
    waits = rng.choice(
        [[0], [0, 1], [0, 0, 0, 1, 2, 4, 8], list(range(6)), list(range(3 * MAX_WAIT_CLASSES))]
    )
    size = rng.choice([1, 2, 7, 40, 150, 300])
    leaders = random_side(rng, rng.randint(1, size), 0, spread, waits)
    followers = random_side(rng, rng.randint(1, size), 100_000, spread, waits)
    return leaders, followers


def columns(side):
    return [p[0] for p in side], [p[1] for p in side], [p[2] for p in side]


@pytest.mark.parametrize("seed", range(150))
def test_both_strategies_equal_the_reference_greedy_and_refinement(seed):
    rng = random.Random(seed)
    config = random_config(rng)
    leaders, followers = random_case(rng)
    expected = reference_greedy(leaders, followers, config)
    args = (*columns(leaders), *columns(followers), config)
    for by_wait_class in (True, False, None):
        got = greedy_pairs(*args, by_wait_class=by_wait_class)
        assert sorted(got) == sorted(expected), by_wait_class
    refined = refine_pairs(expected, *args[:5], config)
    assert refined == reference_refine(expected, leaders, followers, config)


def test_the_default_strategy_switches_on_the_number_of_wait_values():
    # Many distinct wait values (the walk) and few (per class) still agree with the reference.
    rng = random.Random(7)
    for waits in (list(range(MAX_WAIT_CLASSES + 5)), [0, 3]):
        leaders = random_side(rng, 200, 0, 50, waits)
        followers = random_side(rng, 200, 1000, 50, waits)
        args = (*columns(leaders), *columns(followers), CONFIG)
        assert sorted(greedy_pairs(*args)) == sorted(reference_greedy(leaders, followers, CONFIG))


@pytest.mark.parametrize("seed", range(30))
def test_strategies_agree_with_no_wait_weight(seed):
    # With wait_weight 0, same-MMR leaders tie; the fast path lets the longest waiter of an
    # MMR value go first (the reference would take the lowest id): both strategies agree.
    rng = random.Random(1000 + seed)
    config = dataclasses.replace(random_config(rng), wait_weight=0)
    leaders, followers = random_case(rng)
    args = (*columns(leaders), *columns(followers), config)
    assert greedy_pairs(*args, by_wait_class=True) == greedy_pairs(*args, by_wait_class=False)


def reference_find_pairings(queue, config):
    """Steps 1-6 with the quadratic greedy: the (bw id, sc2 id) pairs in output order."""
    bw_only = [c for c in queue if c.plays_bw and not c.plays_sc2]
    sc2_only = [c for c in queue if c.plays_sc2 and not c.plays_bw]
    both_games = [c for c in queue if c.plays_bw and c.plays_sc2]
    bw_side, sc2_side = balance_sides(bw_only, sc2_only, both_games, config)
    bw_leads = len(bw_side) <= len(sc2_side)
    lead, follow = (bw_side, sc2_side) if bw_leads else (sc2_side, bw_side)
    follow = sorted(follow, key=lambda c: (-c.wait_cycles, c.queued_at, c.player_id))
    follow = follow[: len(lead)]

    def row(c, bw_game):
        return (c.bw_mmr if bw_game else c.sc2_mmr, c.wait_cycles, c.player_id)

    leaders = [row(c, bw_leads) for c in lead]
    followers = [row(c, not bw_leads) for c in follow]
    pairs = reference_refine(
        reference_greedy(leaders, followers, config), leaders, followers, config
    )
    out = []
    for li, fi in pairs:
        a, b = lead[li].player_id, follow[fi].player_id
        out.append((a, b) if bw_leads else (b, a))
    return out


@pytest.mark.parametrize("seed", range(60))
def test_find_pairings_equals_the_reference_pipeline(seed):
    rng = random.Random(5000 + seed)
    config = random_config(rng)
    spread = rng.choice([0, 10, 80, 300])
    waits = rng.choice([[0], [0, 0, 1, 2, 5], list(range(2 * MAX_WAIT_CLASSES))])
    queue = []
    for pid in range(rng.choice([2, 10, 60, 250])):
        kind = rng.random()
        mmr = 1500 + rng.randint(-spread, spread)
        other = 1500 + rng.randint(-spread, spread)
        extra = {"wait": rng.choice(waits), "queued_at": float(rng.randint(0, 3))}
        if kind < 0.45:
            queue.append(bw(pid, mmr, **extra))
        elif kind < 0.8:
            queue.append(sc2(pid, mmr, **extra))
        else:
            queue.append(both(pid, mmr, other, **extra))
    result = find_pairings(queue, config, seed=seed)
    assert result.skipped_no_map == ()  # no vetoes: every pair gets a map
    got = [(p.bw.player_id, p.sc2.player_id) for p in result.pairings]
    assert got == reference_find_pairings(queue, config)
    matched = {pid for pair in got for pid in pair}
    assert set(result.unmatched) == {c.player_id for c in queue} - matched
