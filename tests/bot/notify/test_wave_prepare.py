"""Phase 2 of a wave is read and rendered while phase 1 is in flight, and sent only after it.

Judged at the fake server (virtual time): when each item was rendered, when each call
arrived, and which calls were made at all."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from bot.discord import RetryConfig
from bot.notify import Dispatcher, OutgoingCall
from bot.store import OutboxItem
from tests.bot.notify.helpers import APP_ID, Rig, dm_of, render, seed_wave


def spying_dispatcher(rig: Rig, strategy: str, log: list[tuple[str, int, int]]) -> Dispatcher:
    """A dispatcher whose renderer records (kind, player, phase-1 edits accepted so far)."""

    def spy(item: OutboxItem) -> OutgoingCall:
        done = len(rig.server.accepted("webhook_edit"))
        log.append((item.kind.value, item.player_id or 0, done))
        return render(item)

    return Dispatcher(rig.store, rig.client, spy, clock=rig.clock, application_id=APP_ID)


@pytest.mark.parametrize("strategy", ["paced", "batched", "sequential"])
async def test_phase_two_is_rendered_during_phase_one_and_sent_after_it(
    tmp_path: Path, strategy: str
) -> None:
    rng = random.Random(7)
    rig = Rig(tmp_path)
    rig.server.latency = lambda: rng.uniform(0.01, 0.05)
    log: list[tuple[str, int, int]] = []
    try:
        seed_wave(rig.store, rig.clock, 20)
        dispatcher = spying_dispatcher(rig, strategy, log)
        dispatcher.set_strategy(strategy)
        await rig.drain(dispatcher)
        await dispatcher.stop()
    finally:
        await rig.close()
    details = [(player, done) for kind, player, done in log if kind == "match_details"]
    assert sorted(player for player, _ in details) == list(range(1, 41))  # once each
    assert all(done < 40 for _, done in details)  # all while phase 1 was still in flight
    phase1 = [a.at for a in rig.server.accepted("webhook_edit")]
    creates = [a.at for a in rig.server.arrivals if a.kind == "message_create"]
    assert len(phase1) == 40 and len(creates) == 40
    assert max(phase1) < min(creates)  # none sent before every phase-1 edit completed


async def test_an_item_whose_phase_one_failed_is_not_sent_with_the_prepared_phase_two(
    tmp_path: Path,
) -> None:
    # Player 3's "match found" edit fails once (5xx, no retry inside the client), so it is
    # left pending to the stream; its prepared details must wait until that edit lands.
    rig = Rig(tmp_path, retry=RetryConfig(max_attempts=1))
    original = rig.server._webhook_edit
    failed: list[str] = []

    def flaky(token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if token == "tok3" and not failed:
            failed.append(token)
            return 500, {"message": "boom", "code": 0}
        return original(token, body)

    rig.server._webhook_edit = flaky  # type: ignore[method-assign]
    try:
        seed_wave(rig.store, rig.clock, 5)
        dispatcher = rig.dispatcher("paced", retry_base=0.5)
        await rig.drain(dispatcher)
        await dispatcher.stop()
        assert rig.store.outbox_counts() == {"pending": 0, "delivered": 20, "failed": 0}
    finally:
        await rig.close()
    assert failed == ["tok3"]
    edits = [a for a in rig.server.accepted("webhook_edit") if "/tok3/" in a.path]
    creates = [
        a for a in rig.server.accepted("message_create") if a.path.endswith(f"/{dm_of(3)}/messages")
    ]
    assert len(edits) == 1 and len(creates) == 1
    assert creates[0].at > edits[0].at
    others = [a.at for a in rig.server.accepted("message_create") if a is not creates[0]]
    assert len(others) == 9 and creates[0].at > min(others)  # the rest did not wait for it


async def test_a_dm_channel_learnt_during_phase_one_is_used_by_the_prepared_items(
    tmp_path: Path,
) -> None:
    # No DM channel is known when phase 2 is read; each becomes known while phase 1 runs
    # (as when another delivery opened it). The prepared items must not open it again.
    rig = Rig(tmp_path)
    rig.server.latency = lambda: 0.02
    original = rig.server._webhook_edit

    def learning(token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        player = int(token.removeprefix("tok"))
        rig.store.set_dm_channel(player, dm_of(player))
        return original(token, body)

    rig.server._webhook_edit = learning  # type: ignore[method-assign]
    try:
        seed_wave(rig.store, rig.clock, 10, known_dm=False)
        dispatcher = rig.dispatcher("paced")
        await rig.drain(dispatcher)
        await dispatcher.stop()
    finally:
        await rig.close()
    assert [a for a in rig.server.arrivals if a.kind == "dm_open"] == []
    channels = sorted(m.channel_id for m in rig.server.all_messages())
    assert channels == [dm_of(p) for p in range(1, 21)]
