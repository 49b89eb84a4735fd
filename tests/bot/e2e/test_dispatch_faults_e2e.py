"""Exactly-once under faults (issue 5, section 5): the mock misbehaves, the bot crashes,
and still every player ends with exactly one phase-2 message, none lost.

The mock (its own process) injects, from a fixed seed, 10 % 5xx answers on message create,
half of them *after* storing the message (a retry must find it through its nonce with
``enforce_nonce``, not create a second one), plus 2 % connection resets on every route.
Faults are switched on after the players are queued and the bot has learnt their searching
messages, so the wave's own traffic is what is under test. The verdict is the players' DMs
as the mock shows them; the mock's fault counters prove the faults really happened.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from mockdiscord.harness import MockDiscord
from tests.bot.e2e.dispatch_helpers import (
    MESSAGE_CREATE,
    bot_status,
    check_phase_messages,
    ladderbot_process,
    mock_process,
    queue_players,
    read_dms,
    run_wave,
    split_stack,
    wait_for,
    wait_learnt,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PLAYERS = 100  # 50 matches

FAULTS: dict[str, Any] = {
    "seed": 20261129,
    "errors": {
        "rate": 0.10,
        "statuses": [500, 502, 503],
        "routes": ["POST /channels/{channel_id}/messages"],
        "stored_before_error": 0.5,
    },
    "resets": {"rate": 0.02, "routes": ["*"]},
}


def assert_faults_happened(faults: dict[str, Any]) -> None:
    """The run is only a proof if the mock really failed requests in every way asked."""
    assert faults["errors"] > 0, faults
    assert faults["stored_before_error"] > 0, faults
    assert faults["resets"] > 0, faults


async def test_faulty_mock_every_player_gets_one_details_message(tmp_path: Path) -> None:
    async with split_stack(tmp_path, dispatch="paced") as split:
        users, searching, _ = await queue_players(split.mock, PLAYERS)
        await wait_learnt(split.mock, PLAYERS)
        await split.mock.configure(faults=FAULTS)
        figures = await run_wave(split)
        dms = await read_dms(split.mock, users)
        outbox = split.bot.store.outbox_counts()

    assert check_phase_messages(dms, searching) == []  # one of each, for every player
    assert outbox["failed"] == 0 and outbox["pending"] == 0
    assert_faults_happened(figures.faults)
    print(f"faults: {_fault_counts(figures.faults)}")


async def _creates_accepted(mock: MockDiscord) -> int:
    return sum(
        1
        for e in await mock.ledger()
        if (e["method"], e["route"]) == MESSAGE_CREATE and 200 <= e["status"] < 300
    )


async def test_sigkill_mid_phase_two_then_restart_delivers_each_once(tmp_path: Path) -> None:
    """As above, and the bot (a ``ladderbot run`` process) is SIGKILLed while phase 2 is
    under way, then started again on the same database. To give phase 2 a few seconds to
    be killed in, the mock's global limit for the bot is lowered to 20 per second (the bot
    is told the same with ``--global-limit``): 100 creates take about five seconds."""
    limit = 20
    db, log = tmp_path / "ladder.db", tmp_path / "bot.log"
    flags = ("--dispatch", "paced", "--global-limit", str(limit))
    async with mock_process(tmp_path / "mock.log") as mock:
        await mock.control("PATCH", f"/applications/{mock.application_id}", {"global_limit": limit})
        admin = await mock.create_user("admin")
        async with ladderbot_process(mock, db, admin, log, *flags) as (process, url):
            await mock.set_interactions_url(url + "/interactions")
            users, searching, _ = await queue_players(mock, PLAYERS)
            await wait_learnt(mock, PLAYERS)
            await mock.configure(faults=FAULTS)
            result = await mock.run_command(admin, "admin wave")
            assert result["outcome"] == "deferred", result

            async def mid_phase_two() -> int:
                accepted = await _creates_accepted(mock)
                return accepted if PLAYERS // 5 <= accepted <= PLAYERS // 2 else 0

            before_kill = await wait_for(
                mid_phase_two, within=30.0, every=0.02, what="phase 2 under way"
            )
            process.send_signal(signal.SIGKILL)
            await process.wait()
            assert process.returncode == -signal.SIGKILL

        with Store(db) as store:
            left = store.outbox_counts()["pending"]
        after_kill = await _creates_accepted(mock)
        assert left > 0, "the kill came too late: nothing was left in the outbox"
        assert after_kill < PLAYERS, "phase 2 had finished before the kill"

        async with ladderbot_process(mock, db, admin, log, *flags) as (process, url):
            await mock.set_interactions_url(url + "/interactions")

            async def drained() -> bool:
                status = await bot_status(url)
                return status["outbox"]["pending"] == 0 and not status["dispatch"]["current_waves"]

            await wait_for(drained, within=60.0, every=0.1, what="the restarted bot's outbox")
            outbox = (await bot_status(url))["outbox"]
            dms = await read_dms(mock, users)
            stats = await mock.stats()
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0

    print(
        f"killed after {before_kill} accepted creates ({after_kill} by the time it died), "
        f"{left} outbox items pending; faults: {_fault_counts(stats['faults'])}"
    )
    assert check_phase_messages(dms, searching) == []
    assert outbox["failed"] == 0
    assert_faults_happened(stats["faults"])
    assert stats["interactions"]["failed"] == 0


def _fault_counts(faults: dict[str, Any]) -> dict[str, Any]:
    return {k: faults[k] for k in ("errors", "stored_before_error", "resets")}
