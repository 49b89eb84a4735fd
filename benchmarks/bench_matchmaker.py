"""Wall time of one matchmaking wave (`bot.ladder.run_wave`) at 200, 2,000 and 10,000 players.

The queue is a seeded mix: 40% BW-only, 30% SC2-only, 30% both games; ratings ~ N(1500, 250);
wait cycles mostly 0 (five distinct values); up to 4 vetoes each. The target is < 250 ms at
10,000 players. The figure judged is the best of several runs (the least disturbed by a busy
machine); the median is printed beside it. The matchmaker itself is `bot.ladder.matchmaker`
and `bot.ladder.greedy`; `run_wave` adds building the `Match` objects.
"""

import random
import statistics
import time

from bot.ladder import Candidate, Game, LadderConfig, Race, run_wave

SIZES = (200, 2_000, 10_000)
TARGET_MS_AT_10K = 250.0


def make_queue(size: int, seed: int = 1) -> list[Candidate]:
    rng = random.Random(seed)
    config = LadderConfig()
    bw_races = [r for r in Race if r.game is Game.BW]
    sc2_races = [r for r in Race if r.game is Game.SC2]
    queue = []
    for pid in range(size):
        roll = rng.random()
        queue.append(
            Candidate(
                player_id=pid,
                bw_race=rng.choice(bw_races) if roll < 0.7 else None,
                sc2_race=rng.choice(sc2_races) if roll >= 0.4 else None,
                bw_mmr=int(rng.gauss(1500, 250)),
                sc2_mmr=int(rng.gauss(1500, 250)),
                wait_cycles=rng.choice((0, 0, 0, 0, 1, 2, 4, 8)),
                queued_at=float(pid),
                vetoes=tuple(rng.sample(config.maps, rng.randint(0, 4))),
            )
        )
    return queue


def time_wave(size: int, repeats: int) -> tuple[float, float, int]:
    config = LadderConfig()
    queue = make_queue(size)
    times = []
    matches = 0
    for i in range(repeats):
        start = time.perf_counter()
        result = run_wave(queue, config, now=0.0, wave_id=i + 1, first_match_id=1)
        times.append((time.perf_counter() - start) * 1000)
        matches = len(result.matches)
    return min(times), statistics.median(times), matches


def main() -> None:
    for size in SIZES:
        best, median, matches = time_wave(size, repeats=9 if size < 10_000 else 7)
        line = (
            f"players={size:>6}  matches={matches:>5}  best={best:8.1f} ms  median={median:8.1f} ms"
        )
        if size == 10_000:
            verdict = "ok" if best < TARGET_MS_AT_10K else "MISSED"
            line += f"  target<{TARGET_MS_AT_10K:.0f} ms: {verdict}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
