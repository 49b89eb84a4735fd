"""One wave of matchmaking: who plays whom, on which map and server.

The rules (LADDER_RULES.md, "Matching, one wave"), step by step:

1. Split the queue into BW-only, SC2-only and both-games players.
2. Balance the sides with the both-games players. They are ordered by how much stronger they
   are in BW (`bw_mmr - sc2_mmr`); the most BW-leaning `k` go to BW and the rest to SC2,
   with `k` chosen to make the head counts as equal as possible (when two `k` tie, the one
   that sends the boundary player to the side they are stronger in). So everybody plays the
   game they are stronger in as far as the head counts allow. Then, if the sides' average
   MMR differs by more than `balance_threshold`, one *neutral* player (the both-games player
   with the smallest |bw_mmr - sc2_mmr| on either side) is moved across, choosing the move
   that narrows the average gap most, and only if it narrows it.
3. The smaller side leads (BW on a tie). The larger side is trimmed to the same size,
   keeping its longest waiters (most wait cycles, then earliest queued).
4. A pair is allowed when its gap is within *either* player's window,
   `window_base + window_per_wait * wait_cycles`.
5. Allowed pairs are scored `gap**2 - wait_weight * (wait_a + wait_b)` (lower is better) and
   picked greedily by score.
6. Refinement: up to `refine_passes` passes over the pairs ordered by the leader's MMR, each
   swapping opponents between neighbouring pairs when both new pairs are allowed and the
   swap lowers the sum of squared gaps.
7. Map: a seeded random choice from the pool minus both players' vetoes (one random stream
   per wave seed, pairs in a fixed order); a pair with no map left is skipped (both stay
   queued). Server: from the two regions (`LadderConfig`).

Why the greedy step is not quadratic
------------------------------------
The obvious implementation lists every allowed (leader, follower) pair, sorts the list and
walks it. With 10,000 queued players that is up to 25 million pairs: quadratic in time and
memory, and *restricting candidates to the largest possible window does not save it*,
because a fresh ladder has everybody near 1500, inside everybody's window.

Instead the followers are sorted by MMR once and grouped by MMR value (at one value only the
free follower with the most wait cycles can be anyone's best partner), and each leader keeps
only its *single best* partner, found by walking outwards from its own MMR (bisect) in
order of increasing gap. In one direction a value is skipped when its representative waited
no longer than one already seen (farther, and no bigger bonus), and the walk stops as soon
as nothing farther can beat the best: a follower at gap `g` scores at least
`g**2 - wait_weight * (wait_leader + max_wait_in_range)`, which only grows with `g` (the
range maximum comes from a static sparse table, an upper bound as followers are taken).
Taken values are skipped in near-constant time with path-compressed "next free to the
left/right" pointers. Leaders are grouped by MMR value the same way, and each group's best
pair sits in a heap; popping the global minimum gives the next greedy pair, and a group
whose best partner was taken meanwhile is re-evaluated and pushed back. This is exactly the
greedy result (a leader's best score can only get worse as followers are taken, so an entry
whose partner is still free is still that leader's best and the global minimum; the tests
compare it with the quadratic reference), in O(n log n) time for realistic rating spreads
and O(n log n) memory (the sparse table). The refinement pass is O(n).
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.ladder.config import LadderConfig
from bot.ladder.players import Candidate
from bot.ladder.races import Race

__all__ = ["Pairing", "WavePairings", "balance_sides", "find_pairings"]


@dataclass(frozen=True, slots=True)
class Pairing:
    """Two players who will play: `bw` plays its BW race, `sc2` its SC2 race."""

    bw: Candidate
    sc2: Candidate
    map: str
    server: str

    @property
    def bw_race(self) -> Race:
        assert self.bw.bw_race is not None
        return self.bw.bw_race

    @property
    def sc2_race(self) -> Race:
        assert self.sc2.sc2_race is not None
        return self.sc2.sc2_race

    @property
    def gap(self) -> int:
        return abs(self.bw.bw_mmr - self.sc2.sc2_mmr)


@dataclass(frozen=True, slots=True)
class WavePairings:
    pairings: tuple[Pairing, ...]
    skipped_no_map: tuple[tuple[int, int], ...]  # (bw player, sc2 player) with no map left
    unmatched: tuple[int, ...]  # player ids that stay queued (skipped pairs included)
    bw_side: int  # head counts after balancing, before trimming
    sc2_side: int


def balance_sides(
    bw_only: Sequence[Candidate],
    sc2_only: Sequence[Candidate],
    both: Sequence[Candidate],
    config: LadderConfig,
) -> tuple[list[Candidate], list[Candidate]]:
    """Steps 1-2: the BW side and the SC2 side (see the module docstring)."""
    leaning = sorted(both, key=lambda c: (-(c.bw_mmr - c.sc2_mmr), c.player_id))
    n = len(leaning)
    # Head counts |len(bw_only) + k - (len(sc2_only) + n - k)| are smallest at k = ideal.
    ideal = (len(sc2_only) + n - len(bw_only)) / 2
    k = min(max(int(ideal), 0), n)  # floor of ideal, clamped
    if ideal != int(ideal) and k < n and ideal >= 0:
        # Two k tie (floor and ceil): send the boundary player where they are stronger.
        boundary = leaning[k]
        if boundary.bw_mmr - boundary.sc2_mmr > 0:
            k += 1
    bw = [*bw_only, *leaning[:k]]
    sc2 = [*sc2_only, *leaning[k:]]
    _move_one_neutral(bw, sc2, set(c.player_id for c in leaning), config)
    return bw, sc2


def find_pairings(
    candidates: Sequence[Candidate], config: LadderConfig, seed: int = 0
) -> WavePairings:
    """Run steps 1-7 over the queue. Deterministic for a given input, config and `seed`."""
    bw_only = [c for c in candidates if c.plays_bw and not c.plays_sc2]
    sc2_only = [c for c in candidates if c.plays_sc2 and not c.plays_bw]
    both = [c for c in candidates if c.plays_bw and c.plays_sc2]
    bw, sc2 = balance_sides(bw_only, sc2_only, both, config)
    bw_leads = len(bw) <= len(sc2)
    leaders, followers = (bw, sc2) if bw_leads else (sc2, bw)
    followers = _longest_waiters(followers, len(leaders))
    lead_mmr = _bw_mmr if bw_leads else _sc2_mmr
    follow_mmr = _sc2_mmr if bw_leads else _bw_mmr

    pairs = _greedy(leaders, followers, lead_mmr, follow_mmr, config)
    pairs = _refine(pairs, lead_mmr, follow_mmr, config)

    chosen: list[Pairing] = []
    skipped: list[tuple[int, int]] = []
    rng = random.Random(f"{config.map_seed}:{seed}")  # one stream per wave, pairs in order
    for lead, follow in pairs:
        bw_player, sc2_player = (lead, follow) if bw_leads else (follow, lead)
        vetoed = set(bw_player.vetoes) | set(sc2_player.vetoes)
        pool = [m for m in config.maps if m not in vetoed]
        if not pool:
            skipped.append((bw_player.player_id, sc2_player.player_id))
            continue
        chosen.append(
            Pairing(
                bw_player,
                sc2_player,
                rng.choice(pool),
                config.server_for(bw_player.region, sc2_player.region),
            )
        )
    matched = {p.bw.player_id for p in chosen} | {p.sc2.player_id for p in chosen}
    unmatched = tuple(c.player_id for c in candidates if c.player_id not in matched)
    return WavePairings(tuple(chosen), tuple(skipped), unmatched, len(bw), len(sc2))


# --- internals ----------------------------------------------------------------------------


_MmrOf = Callable[[Candidate], int]


def _bw_mmr(c: Candidate) -> int:
    return c.bw_mmr


def _sc2_mmr(c: Candidate) -> int:
    return c.sc2_mmr


def _average(values: Sequence[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _move_one_neutral(
    bw: list[Candidate], sc2: list[Candidate], both_ids: set[int], config: LadderConfig
) -> None:
    bw_sum, sc2_sum = sum(c.bw_mmr for c in bw), sum(c.sc2_mmr for c in sc2)
    if not bw or not sc2:
        return
    gap = abs(bw_sum / len(bw) - sc2_sum / len(sc2))
    if gap <= config.balance_threshold:
        return
    best: tuple[float, bool, Candidate] | None = None  # (new gap, from_bw, player)
    for from_bw, side in ((True, bw), (False, sc2)):
        movable = [c for c in side if c.player_id in both_ids]
        if not movable or len(side) == 1:
            continue
        neutral = min(movable, key=lambda c: (abs(c.bw_mmr - c.sc2_mmr), c.player_id))
        if from_bw:
            new_bw = (bw_sum - neutral.bw_mmr) / (len(bw) - 1)
            new_sc2 = (sc2_sum + neutral.sc2_mmr) / (len(sc2) + 1)
        else:
            new_bw = (bw_sum + neutral.bw_mmr) / (len(bw) + 1)
            new_sc2 = (sc2_sum - neutral.sc2_mmr) / (len(sc2) - 1)
        new_gap = abs(new_bw - new_sc2)
        if new_gap < gap and (best is None or new_gap < best[0]):
            best = (new_gap, from_bw, neutral)
    if best is None:
        return
    _, from_bw, neutral = best
    source, target = (bw, sc2) if from_bw else (sc2, bw)
    source.remove(neutral)
    target.append(neutral)


def _longest_waiters(side: list[Candidate], size: int) -> list[Candidate]:
    if len(side) <= size:
        return list(side)
    ranked = sorted(side, key=lambda c: (-c.wait_cycles, c.queued_at, c.player_id))
    return ranked[:size]


class _FreeSlots:
    """Indices 0..n-1 that can be taken; next free at or left/right of i in ~O(1) amortised."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._right = list(range(n + 1))  # _right[i]: next free >= i (n = none)
        self._left = list(range(n + 1))  # _left[i + 1]: next free <= i (0 = none)

    def right(self, i: int) -> int:
        parent = self._right
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def left(self, i: int) -> int:
        parent = self._left
        j = i + 1
        root = j
        while parent[root] != root:
            root = parent[root]
        while parent[j] != root:
            parent[j], j = root, parent[j]
        return root - 1

    def take(self, i: int) -> None:
        self._right[i] = i + 1
        self._left[i + 1] = i


class _RangeMax:
    """Static range-maximum queries in O(1) (a sparse table, O(n log n) to build)."""

    def __init__(self, values: list[int]) -> None:
        self._table = [values]
        width = 1
        while 2 * width <= len(values):
            prev = self._table[-1]
            self._table.append(
                [max(prev[i], prev[i + width]) for i in range(len(values) - 2 * width + 1)]
            )
            width *= 2

    def query(self, lo: int, hi: int) -> int:
        """max(values[lo..hi]), both ends included; lo <= hi."""
        level = (hi - lo + 1).bit_length() - 1
        row = self._table[level]
        return max(row[lo], row[hi - (1 << level) + 1])


def _greedy(
    leaders: list[Candidate],
    followers: list[Candidate],
    lead_mmr: _MmrOf,
    follow_mmr: _MmrOf,
    config: LadderConfig,
) -> list[tuple[Candidate, Candidate]]:
    """Step 5, exact, without listing all pairs (see the module docstring).

    Followers are grouped by MMR value: at one value only the free follower with the most
    wait cycles (then the lowest id) can be anyone's best partner, so each value has one
    *representative*. A leader walks outwards over values in each direction, and in one
    direction a value whose representative waited no longer than one already seen is
    dominated (farther and no bonus more) and skipped; the walk in a direction stops when
    no farther value can beat the best: when the representative seen has the range's
    maximum wait (a static sparse-table maximum, an upper bound as followers get taken) or
    when `gap**2 - wait_weight * (wait + that maximum)` exceeds the best score.
    Ties break on (score, gap, leader order, follower MMR, follower id), in both this
    function and the reference the tests compare it with.
    """
    if not leaders or not followers:
        return []
    weight = config.wait_weight
    leaders = sorted(leaders, key=lambda c: (lead_mmr(c), c.player_id))
    ordered = sorted(followers, key=lambda c: (follow_mmr(c), -c.wait_cycles, c.player_id))
    v_mmr: list[int] = []  # distinct follower MMR values, ascending
    v_members: list[list[Candidate]] = []  # per value: followers by (-wait, id)
    for f in ordered:
        mmr = follow_mmr(f)
        if not v_mmr or v_mmr[-1] != mmr:
            v_mmr.append(mmr)
            v_members.append([])
        v_members[-1].append(f)
    nv = len(v_mmr)
    v_next = [0] * nv  # per value: index of its representative in v_members
    range_max = _RangeMax([members[0].wait_cycles for members in v_members])
    max_window = config.window(max(f.wait_cycles for f in followers))
    free = _FreeSlots(nv)

    def best_partner(lead: Candidate) -> tuple[int, int, int, int, int] | None:
        """(score, gap, follower mmr, follower id, value index) of the best, or None."""
        mmr = lead_mmr(lead)
        wait = lead.wait_cycles
        window = config.window(wait)
        reach = max(window, max_window)
        pos = bisect_left(v_mmr, mmr)
        best: tuple[int, int, int, int, int] | None = None
        for step in (1, -1):
            if step == 1:
                i = free.right(pos)
                limit = bisect_right(v_mmr, mmr + reach) - 1
                if i > limit:
                    continue
                top = range_max.query(i, limit)
            else:
                i = free.left(pos - 1)
                limit = bisect_left(v_mmr, mmr - reach)
                if i < limit:
                    continue
                top = range_max.query(limit, i)
            bound_bonus = weight * (wait + top)
            seen = -1
            while (i <= limit) if step == 1 else (i >= limit):
                gap = abs(v_mmr[i] - mmr)
                if best is not None and (gap * gap - bound_bonus, gap) > best[:2]:
                    break
                rep = v_members[i][v_next[i]]
                rep_wait = rep.wait_cycles
                if rep_wait > seen:
                    seen = rep_wait
                    if gap <= window or gap <= config.window(rep_wait):
                        found = (
                            gap * gap - weight * (wait + rep_wait),
                            gap,
                            v_mmr[i],
                            rep.player_id,
                            i,
                        )
                        if best is None or found < best:
                            best = found
                    if seen >= top:
                        break
                i = free.right(i + 1) if step == 1 else free.left(i - 1)
        return best

    # Leaders are grouped by MMR value too: within a value the one with the most wait cycles
    # (then the lowest id) always scores best with any follower, so only that representative
    # needs a heap entry; the next one gets its entry when the representative is matched.
    order = {c.player_id: li for li, c in enumerate(leaders)}
    groups: list[list[Candidate]] = []
    for lead in sorted(leaders, key=lambda c: (lead_mmr(c), -c.wait_cycles, c.player_id)):
        if groups and lead_mmr(groups[-1][0]) == lead_mmr(lead):
            groups[-1].append(lead)
        else:
            groups.append([lead])
    g_next = [0] * len(groups)

    # Heap entries: (score, gap, leader order, follower mmr, follower id, value, group).
    heap: list[tuple[int, int, int, int, int, int, int]] = []

    def push(gi: int) -> None:
        lead = groups[gi][g_next[gi]]
        found = best_partner(lead)
        if found is not None:
            score, gap, f_mmr, fid, vi = found
            heapq.heappush(heap, (score, gap, order[lead.player_id], f_mmr, fid, vi, gi))

    for gi in range(len(groups)):
        push(gi)
    pairs: list[tuple[Candidate, Candidate]] = []
    while heap:
        _, _, _, _, fid, vi, gi = heapq.heappop(heap)
        members = v_members[vi]
        if v_next[vi] >= len(members) or members[v_next[vi]].player_id != fid:
            push(gi)  # the partner was taken meanwhile: look again
            continue
        pairs.append((groups[gi][g_next[gi]], members[v_next[vi]]))
        v_next[vi] += 1
        if v_next[vi] == len(members):
            free.take(vi)
        g_next[gi] += 1
        if g_next[gi] < len(groups[gi]):
            push(gi)
    return pairs


def _refine(
    pairs: list[tuple[Candidate, Candidate]],
    lead_mmr: _MmrOf,
    follow_mmr: _MmrOf,
    config: LadderConfig,
) -> list[tuple[Candidate, Candidate]]:
    get_lead, get_follow = lead_mmr, follow_mmr

    def gap(a: Candidate, b: Candidate) -> int:
        return abs(get_lead(a) - get_follow(b))

    def allowed(a: Candidate, b: Candidate) -> bool:
        g = gap(a, b)
        return g <= config.window(a.wait_cycles) or g <= config.window(b.wait_cycles)

    pairs = sorted(pairs, key=lambda p: (get_lead(p[0]), p[0].player_id))
    for _ in range(config.refine_passes):
        swapped = False
        for i in range(len(pairs) - 1):
            (a1, b1), (a2, b2) = pairs[i], pairs[i + 1]
            now = gap(a1, b1) ** 2 + gap(a2, b2) ** 2
            alt = gap(a1, b2) ** 2 + gap(a2, b1) ** 2
            if alt < now and allowed(a1, b2) and allowed(a2, b1):
                pairs[i], pairs[i + 1] = (a1, b2), (a2, b1)
                swapped = True
        if not swapped:
            break
    return pairs
