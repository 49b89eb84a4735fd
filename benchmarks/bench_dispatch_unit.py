"""Dispatch strategies in virtual time: makespan against the lower bound, per wave size.

For each strategy and a wave of 15, 50 and 200 matches, one wave is dispatched by the real
`bot.notify.Dispatcher` and `bot.discord` client against the test suite's fake Discord
(`tests.bot.notify.fakeserver`: a 50/s sliding global window judged at arrival, 5 per 5 s
channel buckets, nonce dedup) on a manual clock, with a seeded one-way latency of 20-60 ms.
Phase 1 goes through fresh interaction tokens (exempt), so C = 2M counted creates and the
bound is ceil(C / 50) - 1 seconds (see `bot.notify.metrics`).

These are *unit* figures: no sockets, no real clock, a model server. The sandbox's bench
measures the same strategies against the real mock; compare shapes, not digits. Columns:
calls (HTTP attempts), 429s, phase-1 spread (first to last "match found"), makespan (wave
start to last details message), bound, and makespan / bound.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

from tests.bot.notify.helpers import Rig, seed_wave

STRATEGIES = ("naive", "sequential", "batched", "paced")
SIZES = (15, 50, 200)


async def one(strategy: str, matches: int, folder: Path) -> dict[str, object]:
    rig = Rig(folder)
    rng = random.Random(matches)
    rig.server.latency = lambda: rng.uniform(0.02, 0.06)
    try:
        seed_wave(rig.store, rig.clock, matches)
        dispatcher = rig.dispatcher(strategy)
        await rig.drain(dispatcher, limit=3600.0)
        metrics = dispatcher.snapshot()["recent_waves"][0]
        await dispatcher.stop()
    finally:
        await rig.close()
    per_channel = {}
    for message in rig.server.all_messages():
        per_channel[message.channel_id] = per_channel.get(message.channel_id, 0) + 1
    assert len(per_channel) == 2 * matches and set(per_channel.values()) == {1}
    phase1 = metrics["phase1"]
    return {
        "calls": len(rig.server.arrivals),
        "429": rig.server.count_429(),
        "spread": phase1["last"] - phase1["first"],
        "makespan": metrics["makespan"],
        "bound": metrics["lower_bound"],
    }


def main() -> None:
    header = (
        f"{'strategy':<11}{'matches':>8}{'calls':>7}{'429s':>6}{'p1 spread':>11}"
        f"{'makespan':>10}{'bound':>7}{'ratio':>8}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for strategy in STRATEGIES:
            for size in SIZES:
                folder = Path(tmp) / f"{strategy}-{size}"
                folder.mkdir()
                row = asyncio.run(one(strategy, size, folder))
                bound = float(row["bound"])  # type: ignore[arg-type]
                makespan = float(row["makespan"])  # type: ignore[arg-type]
                ratio = f"{makespan / bound:.2f}" if bound > 0 else "-"
                print(
                    f"{strategy:<11}{size:>8}{row['calls']:>7}{row['429']:>6}"
                    f"{float(row['spread']):>10.3f}s{makespan:>9.3f}s{bound:>6.1f}s{ratio:>8}",  # type: ignore[arg-type]
                    flush=True,
                )


if __name__ == "__main__":
    main()
