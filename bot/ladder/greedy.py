"""Steps 5-6 of a wave on plain integers: the exact greedy pairing, then the refinement.

`matchmaker` turns the two sides into parallel lists (MMR, wait cycles, player id) and
calls `greedy_pairs` and `refine_pairs`; both return (leader index, follower index) pairs.
Working on ints in lists, not on `Candidate` objects, keeps the hot loops free of attribute
look-ups: at 10,000 players that is most of the cost.

The greedy rule: among all *allowed* pairs (the gap is within either player's window), take
the pair with the lowest `(score, gap, leader order, follower MMR, follower id)`, drop both
players, repeat. Listing every allowed pair is quadratic (a fresh ladder has everybody near
1500, inside everybody's window), so instead:

- **One heap entry per leader group.** Leaders are grouped by MMR value. Within a value the
  leader with the most wait cycles (then the lowest id) scores better with *every* follower
  and has the larger window, so only that representative has an entry in the heap:
  `(its best score, gap, leader order, ...)`. The next leader of the value gets its entry
  when the representative is matched.
- **Lazy re-evaluation.** Popping the heap gives the global minimum. If its follower was
  taken meanwhile, the group's best partner is looked up again and pushed back. A leader's
  best can only get worse as followers are taken, so an entry whose follower is still free
  is still exact, and the result equals the quadratic reference (the tests check it).
- **Best partner by wait class** (the usual case). Followers are split by wait cycles. In one
  class the wait bonus and the follower window are constants, so the best partner there is
  simply the nearest free follower by MMR on either side (nearer wins, the lower MMR on a
  tie, then the lowest id), allowed iff the gap is within `max(leader window, class
  window)`. A lookup is one bisect plus two "next free value to the left/right" finds per
  class: path-compressed pointers, near O(1) amortised. Classes are tried from the longest
  wait down, and the scan stops once even a gap of 0 in the next class could not beat the
  best found (`-bonus > best score`).
- **Best partner by walking** (many distinct wait values, more than `MAX_WAIT_CLASSES`).
  Followers are grouped by MMR value only, each value represented by its free follower with
  the most wait cycles, and the leader walks outwards from its MMR in order of increasing
  gap. In one direction a value whose representative waited no longer than one already
  seen is dominated and skipped; the walk stops when no farther value can win: a value at
  gap `g` scores at least `g**2 - wait_weight * (wait + max wait in the rest of the
  range)`, which only grows with `g` (the maximum comes from a static sparse table, an upper
  bound as followers are taken).

Cost: O(n log n) for the sorts; then each leader group is evaluated once plus once per time
its chosen partner was taken first. By wait class an evaluation is O(D) near-constant finds
for D distinct follower wait values (a handful: windows grow by 50 per 45-second wave; at
most `MAX_WAIT_CLASSES`), each group's bisect position in each class is computed once, so
the whole step is O(n·D·log n) time and O(n·D) memory. The walking fallback is O(n log n)
memory (sparse table) and visits the values within `sqrt(wait bonus range)` of the leader.
Refinement is O(n) per pass.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from operator import neg

from bot.ladder.config import LadderConfig

__all__ = ["MAX_WAIT_CLASSES", "greedy_pairs", "refine_pairs"]

# Above this many distinct follower wait values the per-class lookup (cost grows with the
# number of classes) gives way to the walk (cost grows with the spread of wait bonuses).
# Measured at 10,000 players with uniform waits: per class stays ahead up to ~80 classes.
MAX_WAIT_CLASSES = 64

# A best partner: (score, gap, follower MMR, -follower wait, follower id, follower index,
# class, value). The first five are the tie-break order; -wait only matters when
# wait_weight is 0 (the followers of one MMR value are then tried longest waiter first).
_Best = tuple[int, int, int, int, int, int, int, int]


def _root(parent: list[int], i: int) -> int:
    """Union-find root of `i` with path compression (the free-slot pointers below)."""
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


class _Values:
    """Followers grouped by MMR value, with "next free value" pointers.

    `members[v]` lists follower indices in preference order (more wait, then lower id);
    `head[v]` is the first one still free. `right[i]` leads to the first value >= i with a
    free follower (`len(vals)` = none); `left[i + 1]` to the last one <= i (0 = none).
    """

    __slots__ = ("head", "left", "members", "right", "vals")

    def __init__(self) -> None:
        self.vals: list[int] = []
        self.members: list[list[int]] = []
        self.head: list[int] = []
        self.right: list[int] = []
        self.left: list[int] = []

    def add(self, mmr: int, index: int) -> None:
        """Append a follower; calls must come in (MMR, preference) order."""
        if self.vals and self.vals[-1] == mmr:
            self.members[-1].append(index)
        else:
            self.vals.append(mmr)
            self.members.append([index])

    def seal(self) -> None:
        n = len(self.vals)
        self.head = [0] * n
        self.right = list(range(n + 1))
        self.left = list(range(n + 1))

    def take(self, v: int) -> None:
        """The head of value `v` is matched."""
        self.head[v] += 1
        if self.head[v] == len(self.members[v]):
            self.right[v] = v + 1
            self.left[v + 1] = v


def greedy_pairs(
    lead_mmr: Sequence[int],
    lead_wait: Sequence[int],
    lead_id: Sequence[int],
    follow_mmr: Sequence[int],
    follow_wait: Sequence[int],
    follow_id: Sequence[int],
    config: LadderConfig,
    *,
    by_wait_class: bool | None = None,
) -> list[tuple[int, int]]:
    """Step 5, exact: (leader index, follower index) pairs in the order they were picked.

    `by_wait_class` forces one best-partner strategy (None: by wait class when there are at
    most `MAX_WAIT_CLASSES` distinct follower wait values). Both give the same pairs.
    """
    if not lead_mmr or not follow_mmr:
        return []
    # Leader order (the tie-break) is by (MMR, id); groups share an MMR value, best first.
    nl = len(lead_mmr)
    rank = [0] * nl
    for r, (_, _, i) in enumerate(sorted(zip(lead_mmr, lead_id, range(nl), strict=True))):
        rank[i] = r
    groups: list[list[int]] = []
    group_mmr: list[int] = []
    by_preference = zip(lead_mmr, map(neg, lead_wait), lead_id, range(nl), strict=True)
    for mmr, _, _, i in sorted(by_preference):
        if group_mmr and group_mmr[-1] == mmr:
            groups[-1].append(i)
        else:
            groups.append([i])
            group_mmr.append(mmr)
    g_head = [0] * len(groups)

    nf = len(follow_mmr)
    by_preference = zip(follow_mmr, map(neg, follow_wait), follow_id, range(nf), strict=True)
    ordered = [(mmr, i) for mmr, _, _, i in sorted(by_preference)]
    waits = sorted(set(follow_wait), reverse=True)
    if by_wait_class is None:
        by_wait_class = len(waits) <= MAX_WAIT_CLASSES
    if by_wait_class:
        slot = {w: ci for ci, w in enumerate(waits)}
        classes = [_Values() for _ in waits]
        adders = [c.add for c in classes]
        for mmr, i in ordered:
            adders[slot[follow_wait[i]]](mmr, i)
        for values in classes:
            values.seal()
        best_partner = _class_lookup(classes, waits, follow_id, group_mmr, config)
    else:
        everyone = _Values()
        for mmr, i in ordered:
            everyone.add(mmr, i)
        everyone.seal()
        classes = [everyone]
        best_partner = _walk_lookup(everyone, follow_wait, follow_id, group_mmr, config)

    # Heap entries: (score, gap, leader rank, follower index, class, value, group). The rank
    # is unique among live entries (one per group), so comparisons never go past it.
    heap: list[tuple[int, int, int, int, int, int, int]] = []
    push = heapq.heappush

    def enter(gi: int) -> None:
        li = groups[gi][g_head[gi]]
        found = best_partner(gi, lead_wait[li])
        if found is not None:
            score, gap, _, _, _, fi, ci, v = found
            push(heap, (score, gap, rank[li], fi, ci, v, gi))

    for gi in range(len(groups)):
        enter(gi)
    taken = bytearray(nf)
    pairs: list[tuple[int, int]] = []
    pop = heapq.heappop
    while heap:
        _, _, _, fi, ci, v, gi = pop(heap)
        if taken[fi]:
            enter(gi)  # the partner was taken meanwhile: look again
            continue
        taken[fi] = 1
        classes[ci].take(v)
        group = groups[gi]
        pairs.append((group[g_head[gi]], fi))
        g_head[gi] += 1
        if g_head[gi] < len(group):
            enter(gi)
    return pairs


def _class_lookup(
    classes: list[_Values],
    waits: list[int],
    follow_id: Sequence[int],
    group_mmr: list[int],
    config: LadderConfig,
) -> Callable[[int, int], _Best | None]:
    """Best partner of leader group `gi` (a leader with `wait` cycles): the best of each wait
    class's nearest free followers. Where a group's MMR falls in each class is computed once.
    """
    base, per, weight = config.window_base, config.window_per_wait, config.wait_weight
    table = [
        (
            ci,
            w,
            base + per * w,
            [bisect_left(c.vals, mmr) for mmr in group_mmr],
            len(c.vals),
            c.vals,
            c.members,
            c.head,
            c.right,
            c.left,
        )
        for ci, (w, c) in enumerate(zip(waits, classes, strict=True))
    ]

    def best_partner(gi: int, wait: int) -> _Best | None:
        mmr = group_mmr[gi]
        own_window = base + per * wait
        best: _Best | None = None
        for ci, w, window, positions, nv, vals, members, head, right, left in table:
            bonus = weight * (wait + w)
            if best is not None and -bonus > best[0]:
                break  # classes go by decreasing wait: nothing further can win
            if own_window > window:
                window = own_window
            pos = positions[gi]
            r = right[pos]
            if right[r] != r:
                r = _root(right, pos)
            gap = vals[r] - mmr if r < nv else window + 1
            j = left[pos]
            if left[j] != j:
                j = _root(left, pos)
            if j and mmr - vals[j - 1] <= gap:  # nearer on the left, or as near: lower MMR
                r = j - 1
                gap = mmr - vals[r]
            if gap > window:
                continue
            fi = members[r][head[r]]
            found = (gap * gap - bonus, gap, vals[r], -w, follow_id[fi], fi, ci, r)
            if best is None or found < best:
                best = found
        return best

    return best_partner


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


def _walk_lookup(
    values: _Values,
    follow_wait: Sequence[int],
    follow_id: Sequence[int],
    group_mmr: list[int],
    config: LadderConfig,
) -> Callable[[int, int], _Best | None]:
    """Best partner of leader group `gi` by walking outwards over MMR values (see the module
    docstring)."""
    base, per, weight = config.window_base, config.window_per_wait, config.wait_weight
    vals, members, head, right, left = (
        values.vals,
        values.members,
        values.head,
        values.right,
        values.left,
    )
    range_max = _RangeMax([follow_wait[m[0]] for m in members]).query
    max_window = base + per * max(follow_wait)

    def best_partner(gi: int, wait: int) -> _Best | None:
        mmr = group_mmr[gi]
        own_window = base + per * wait
        reach = max(own_window, max_window)
        pos = bisect_left(vals, mmr)
        best: _Best | None = None
        for step in (1, -1):
            if step == 1:  # values >= mmr, nearest first
                i = _root(right, pos)
                limit = bisect_right(vals, mmr + reach) - 1
                if i > limit:
                    continue
                top = range_max(i, limit)
            else:  # values < mmr, nearest first
                i = _root(left, pos) - 1
                limit = bisect_left(vals, mmr - reach)
                if i < limit:
                    continue
                top = range_max(limit, i)
            bound = weight * (wait + top)
            seen = -1
            while (i <= limit) if step == 1 else (i >= limit):
                gap = vals[i] - mmr if step == 1 else mmr - vals[i]
                if best is not None and (gap * gap - bound, gap) > best[:2]:
                    break
                fi = members[i][head[i]]
                rep_wait = follow_wait[fi]
                if rep_wait > seen:
                    seen = rep_wait
                    if gap <= own_window or gap <= base + per * rep_wait:
                        score = gap * gap - weight * (wait + rep_wait)
                        found = (score, gap, vals[i], -rep_wait, follow_id[fi], fi, 0, i)
                        if best is None or found < best:
                            best = found
                    if seen >= top:
                        break
                i = _root(right, i + 1) if step == 1 else _root(left, i) - 1
        return best

    return best_partner


def refine_pairs(
    pairs: Sequence[tuple[int, int]],
    lead_mmr: Sequence[int],
    lead_wait: Sequence[int],
    lead_id: Sequence[int],
    follow_mmr: Sequence[int],
    follow_wait: Sequence[int],
    config: LadderConfig,
) -> list[tuple[int, int]]:
    """Step 6: pairs ordered by the leader's (MMR, id), neighbours' opponents swapped.

    Up to `refine_passes` passes; in each, pair i and pair i + 1 swap followers when that
    lowers the sum of their squared gaps and both new pairs are allowed. Stops early after a
    pass without a swap.
    """
    base, per = config.window_base, config.window_per_wait
    ordered = sorted(pairs, key=lambda p: (lead_mmr[p[0]], lead_id[p[0]]))
    a_mmr = [lead_mmr[li] for li, _ in ordered]
    a_win = [base + per * lead_wait[li] for li, _ in ordered]
    b_idx = [fi for _, fi in ordered]
    b_mmr = [follow_mmr[fi] for fi in b_idx]
    b_win = [base + per * follow_wait[fi] for fi in b_idx]
    for _ in range(config.refine_passes):
        swapped = False
        for i in range(len(ordered) - 1):
            a1, a2, b1, b2 = a_mmr[i], a_mmr[i + 1], b_mmr[i], b_mmr[i + 1]
            alt_1, alt_2 = a1 - b2, a2 - b1
            now_1, now_2 = a1 - b1, a2 - b2
            if alt_1 * alt_1 + alt_2 * alt_2 >= now_1 * now_1 + now_2 * now_2:
                continue
            alt_1, alt_2 = abs(alt_1), abs(alt_2)
            if (alt_1 <= a_win[i] or alt_1 <= b_win[i + 1]) and (
                alt_2 <= a_win[i + 1] or alt_2 <= b_win[i]
            ):
                b_mmr[i], b_mmr[i + 1] = b2, b1
                b_win[i], b_win[i + 1] = b_win[i + 1], b_win[i]
                b_idx[i], b_idx[i + 1] = b_idx[i + 1], b_idx[i]
                swapped = True
        if not swapped:
            break
    return [(li, fi) for (li, _), fi in zip(ordered, b_idx, strict=True)]
