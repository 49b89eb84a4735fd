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

Instead (`bot.ladder.greedy`, on plain int lists) each leader keeps only its *single best*
partner in a heap, one entry per leader MMR value (the longest waiter at a value beats the
others with every follower). Popping the heap gives the next greedy pair; an entry whose
follower was taken meanwhile is re-evaluated and pushed back, which is exact because a
leader's best can only get worse as followers are taken. A leader's best partner is found
without scanning the followers: they are split by wait cycles, and inside one wait class the
bonus and the window are constants, so the best there is just the nearest free follower by
MMR on each side (a bisect plus path-compressed "next free value" pointers). So a lookup
costs O(D log n) for D distinct wait values (a handful: windows grow 50 per 45-second wave)
and the whole step O(n·D·log n) time, O(n) memory. With unusually many wait values
(> `MAX_WAIT_CLASSES`) it walks outwards over MMR values instead, pruned by a wait-bonus
bound. The tests compare every path with the quadratic reference on random cases with heavy
ties. The refinement is O(n) per pass, also on int lists.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from bot.ladder.config import LadderConfig
from bot.ladder.greedy import greedy_pairs, refine_pairs
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
    bw_only: list[Candidate] = []
    sc2_only: list[Candidate] = []
    both: list[Candidate] = []
    for c in candidates:
        if c.bw_race is None:
            if c.sc2_race is not None:
                sc2_only.append(c)
        elif c.sc2_race is None:
            bw_only.append(c)
        else:
            both.append(c)
    bw, sc2 = balance_sides(bw_only, sc2_only, both, config)
    bw_leads = len(bw) <= len(sc2)
    leaders, followers = (bw, sc2) if bw_leads else (sc2, bw)
    followers = _longest_waiters(followers, len(leaders))
    if bw_leads:
        lead_mmr = [c.bw_mmr for c in leaders]
        follow_mmr = [c.sc2_mmr for c in followers]
    else:
        lead_mmr = [c.sc2_mmr for c in leaders]
        follow_mmr = [c.bw_mmr for c in followers]
    lead_wait = [c.wait_cycles for c in leaders]
    lead_id = [c.player_id for c in leaders]
    follow_wait = [c.wait_cycles for c in followers]
    follow_id = [c.player_id for c in followers]
    pairs = greedy_pairs(lead_mmr, lead_wait, lead_id, follow_mmr, follow_wait, follow_id, config)
    pairs = refine_pairs(pairs, lead_mmr, lead_wait, lead_id, follow_mmr, follow_wait, config)

    chosen: list[Pairing] = []
    skipped: list[tuple[int, int]] = []
    matched: set[int] = set()
    rng = random.Random(f"{config.map_seed}:{seed}")  # one stream per wave, pairs in order
    choice = rng.choice
    # Vetoes as bit masks over the pool, cached: a pair's pool depends only on the union.
    masks: dict[tuple[str, ...], int] = {}
    pools: dict[int, list[str]] = {}
    servers: dict[tuple[str | None, str | None], str] = {}
    maps = config.maps
    for li, fi in pairs:
        lead, follow = leaders[li], followers[fi]
        bw_player, sc2_player = (lead, follow) if bw_leads else (follow, lead)
        mask = 0
        for vetoes in (bw_player.vetoes, sc2_player.vetoes):
            bits = masks.get(vetoes)
            if bits is None:
                bits = masks[vetoes] = sum(1 << k for k, m in enumerate(maps) if m in vetoes)
            mask |= bits
        pool = pools.get(mask)
        if pool is None:
            pool = pools[mask] = [m for k, m in enumerate(maps) if not mask >> k & 1]
        if not pool:
            skipped.append((bw_player.player_id, sc2_player.player_id))
            continue
        regions = (bw_player.region, sc2_player.region)
        server = servers.get(regions)
        if server is None:
            server = servers[regions] = config.server_for(*regions)
        chosen.append(Pairing(bw_player, sc2_player, choice(pool), server))
        matched.add(bw_player.player_id)
        matched.add(sc2_player.player_id)
    unmatched = tuple(c.player_id for c in candidates if c.player_id not in matched)
    return WavePairings(tuple(chosen), tuple(skipped), unmatched, len(bw), len(sc2))


# --- internals ----------------------------------------------------------------------------


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
