"""Interaction deadline during a burst (issue 5, section 5): while a 200-match wave (400
players) is dispatching under ``paced``, 50 players run ``/leaderboard`` at once and every
one is answered within Discord's 3 seconds; the mock counts no failed interaction.

The commands are fired when the mock has already accepted the first phase-2 creates, and
the test proves from the mock's clock that phase 2 was still going when the last answer
came (the mock accepted more creates after it). Latencies are the mock's own measure,
from sending the signed interaction to the bot's acknowledgement.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from mockdiscord.snowflake import snowflake_time
from tests.bot.e2e.dispatch_helpers import (
    MESSAGE_CREATE,
    check_phase_messages,
    queue_players,
    read_dms,
    split_stack,
    wait_for,
    wait_learnt,
    wait_wave_done,
    wave_figures,
    wave_start,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

PLAYERS = 400  # 200 matches
ASKERS = 50
DEADLINE_MS = 3000.0


async def test_leaderboard_answered_in_time_during_a_200_match_wave(tmp_path: Path) -> None:
    async with split_stack(tmp_path, dispatch="paced") as split:
        mock = split.mock
        users, searching, _ = await queue_players(mock, PLAYERS, concurrency=20)
        await wait_learnt(mock, PLAYERS, within=60.0)
        wave = await mock.run_command(split.admin, "admin wave")
        assert wave["outcome"] == "deferred", wave

        async def phase_two_started() -> int:
            return sum(
                1
                for e in await mock.ledger()
                if (e["method"], e["route"]) == MESSAGE_CREATE and 200 <= e["status"] < 300
            )

        await wait_for(phase_two_started, within=60.0, every=0.02, what="phase 2 started")
        asked_at = time.monotonic()
        answers = await asyncio.gather(
            *(mock.run_command(u, "leaderboard") for u in users[:ASKERS])
        )
        asked_for = time.monotonic() - asked_at

        await wait_wave_done(split.bot.url, within=90.0)
        (row, *_) = split.bot.store.recent_waves()
        figures = await wave_figures(mock, wave_start(wave["interaction_id"], row.started_at))
        stats = await mock.stats()
        dms = await read_dms(mock, users)

    latencies = sorted(a["latency_ms"] for a in answers)
    # When each answer was acknowledged, on the mock's clock.
    acked = [snowflake_time(a["interaction_id"]) + a["latency_ms"] / 1000 for a in answers]
    print(
        f"\n{figures.summary()}\n/leaderboard x{ASKERS} in {asked_for:.2f}s: latency ms "
        f"median {latencies[ASKERS // 2]:.0f} max {latencies[-1]:.0f}; "
        f"interactions {stats['interactions']}"
    )
    assert [a["outcome"] for a in answers] == ["responded"] * ASKERS, answers
    assert {a["response_type"] for a in answers} == {4}
    assert latencies[-1] < DEADLINE_MS
    # The burst was really on: phase 2 went on after the last answer.
    assert figures.last_create is not None and figures.last_create > max(acked)
    assert stats["interactions"]["failed"] == 0
    assert stats["interactions"]["rejected"] == 0
    answered = [a["message_id"] for a in answers]  # the leaderboard pages in the DMs
    assert check_phase_messages(dms, searching, ignore=answered) == []
