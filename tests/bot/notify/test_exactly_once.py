"""Exactly once, in order: 5xx (some stored before the error), lost connections, restarts,
a crash between Discord's 2xx and the outbox commit, and closed DMs (50007)."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from pathlib import Path

from bot.discord import RetryConfig
from bot.ladder import NotificationKind
from bot.store import Store
from tests.bot.notify.helpers import LADDER, Rig, dm_of, seed_wave


def details_per_channel(rig: Rig) -> Counter[int]:
    return Counter(m.channel_id for m in rig.server.all_messages())


async def test_5xx_half_stored_and_connection_resets_leave_one_message_per_player(
    tmp_path: Path,
) -> None:
    rig = Rig(
        tmp_path,
        server_kwargs={"create_5xx_rate": 0.10, "stored_before_error": 0.5, "reset_rate": 0.02},
    )
    rng = random.Random(2)
    rig.server.latency = lambda: rng.uniform(0.0, 0.03)
    try:
        seed_wave(rig.store, rig.clock, 50)
        dispatcher = rig.dispatcher("paced")
        await rig.drain(dispatcher)
        metrics = dispatcher.snapshot()["recent_waves"][0]
        await dispatcher.stop()
        assert rig.store.outbox_counts() == {"pending": 0, "delivered": 200, "failed": 0}
        delivered = [i for i in rig.store.pending()]
        assert delivered == []
    finally:
        await rig.close()
    faults = rig.server.faults
    assert faults.get("5xx_stored", 0) > 0  # the dangerous case really happened...
    assert faults.get("reset_after", 0) + faults.get("reset_before", 0) > 0
    per_channel = details_per_channel(rig)
    assert len(per_channel) == 100 and set(per_channel.values()) == {1}  # ...and no duplicate
    assert metrics["retries"] > 0


async def test_a_create_whose_outbox_commit_was_lost_is_not_duplicated(tmp_path: Path) -> None:
    # Discord stored the message and answered 2xx, but the bot died before mark_delivered
    # committed. The next run sends the create again with the same nonce and gets the first
    # message back (enforce_nonce), so the player still has exactly one.
    rig = Rig(tmp_path)
    seed_wave(rig.store, rig.clock, 5)
    first = rig.dispatcher("paced")
    await rig.drain(first)
    await first.stop()
    before = {m.channel_id: m.id for m in rig.server.all_messages()}
    db = sqlite3.connect(tmp_path / "ladder.sqlite3")
    with db:
        db.execute(
            "UPDATE outbox SET status = 'pending', discord_message_id = NULL,"
            " delivered_at = NULL WHERE kind = 'match_details'"
        )
    db.close()
    second = rig.dispatcher("paced")
    await rig.drain(second)
    await rig.close(second)
    resent = [a for a in rig.server.arrivals if a.kind == "message_create"]
    assert len(resent) == 20  # every create was sent twice...
    assert {m.channel_id: m.id for m in rig.server.all_messages()} == before  # ...one message
    store = Store(tmp_path / "ladder.sqlite3", LADDER)
    ids = {
        i.dm_channel_id: i.discord_message_id
        for pid in range(1, 11)
        for i in store.story(f"m{(pid + 1) // 2}", pid)
        if i.kind is NotificationKind.MATCH_DETAILS
    }
    store.close()
    assert ids == before


async def test_restart_mid_wave_resumes_in_phase_order_without_duplicates(
    tmp_path: Path,
) -> None:
    # Phase 1 is counted (expired tokens) and the limit small, so the first dispatcher is
    # stopped while phase 1 is still going; a second one on a fresh Store must finish phase
    # 1 before any phase-2 create, and nobody gets a second message.
    rig = Rig(tmp_path, global_limit=10)
    rng = random.Random(4)
    rig.server.latency = lambda: rng.uniform(0.0, 0.03)
    seed_wave(rig.store, rig.clock, 20, token_age=2000.0)
    first = rig.dispatcher("paced")
    await rig.drain(first, until=lambda: rig.store.outbox_counts()["delivered"] >= 15)
    await first.stop()
    rig.store.close()
    cut = len(rig.server.arrivals)
    check = Store(tmp_path / "ladder.sqlite3", LADDER)
    assert 15 <= check.outbox_counts()["delivered"] < 40  # stopped inside phase 1
    check.close()

    rig.store = Store(tmp_path / "ladder.sqlite3", LADDER)
    rig.client = rig.new_client()
    second = rig.dispatcher("paced")
    await rig.drain(second)
    await rig.close(second)
    after = rig.server.arrivals[cut:]
    edits = [a.at for a in after if a.kind == "channel_edit" and a.status == 200]
    creates = [a.at for a in after if a.kind == "message_create"]
    assert edits and creates and max(edits) < min(creates)
    per_channel = details_per_channel(rig)
    assert len(per_channel) == 40 and set(per_channel.values()) == {1}
    edited = Counter(key for key, bodies in rig.server.channel_edits.items() for _ in bodies)
    assert len(edited) == 40  # every searching message was edited (an edit may repeat: idempotent)


async def test_restart_mid_phase_two_resumes_without_duplicates(tmp_path: Path) -> None:
    rig = Rig(tmp_path, global_limit=10, server_kwargs={"reset_rate": 0.05})
    rng = random.Random(8)
    rig.server.latency = lambda: rng.uniform(0.0, 0.03)
    seed_wave(rig.store, rig.clock, 20)
    first = rig.dispatcher("paced")
    await rig.drain(first, until=lambda: rig.store.outbox_counts()["delivered"] >= 55)
    await first.stop()
    rig.store.close()
    rig.store = Store(tmp_path / "ladder.sqlite3", LADDER)
    rig.client = rig.new_client()
    second = rig.dispatcher("paced")
    await rig.drain(second)
    assert rig.store.outbox_counts() == {"pending": 0, "delivered": 80, "failed": 0}
    await rig.close(second)
    per_channel = details_per_channel(rig)
    assert len(per_channel) == 40 and set(per_channel.values()) == {1}


async def test_closed_dms_are_recorded_not_retried_and_reported_once(rig: Rig) -> None:
    rig.server.closed_dm_channels.update({dm_of(3), dm_of(8)})
    seed_wave(rig.store, rig.clock, 5)
    dispatcher = rig.dispatcher("paced")
    await rig.drain(dispatcher)
    metrics = dispatcher.snapshot()["recent_waves"][0]
    await dispatcher.stop()
    assert rig.store.outbox_counts() == {"pending": 0, "delivered": 18, "failed": 2}
    tried = Counter(a.path for a in rig.server.arrivals if a.kind == "message_create")
    assert tried[f"/channels/{dm_of(3)}/messages"] == 1  # never retried
    assert tried[f"/channels/{dm_of(8)}/messages"] == 1
    failed = [
        i for i in (rig.store.outbox_item(n) for n in range(1, 21)) if i and i.status == "failed"
    ]
    assert sorted(i.player_id for i in failed) == [3, 8]
    assert all("DMsClosed" in (i.last_error or "") for i in failed)
    assert sorted(rig.undeliverable) == sorted((i.id, "DMsClosed") for i in failed)
    assert metrics["undeliverable"] == 2 and metrics["phase2"]["failed"] == 2
    assert len(details_per_channel(rig)) == 8


async def test_a_transient_failure_is_retried_later_with_the_same_nonce(tmp_path: Path) -> None:
    # Every attempt inside the client fails (5xx), so the item stays pending and the
    # dispatcher tries again after its own backoff, with the same nonce each time.
    rig = Rig(
        tmp_path,
        retry=RetryConfig(max_attempts=2, backoff_base=0.1),
        server_kwargs={"create_5xx_rate": 1.0, "stored_before_error": 0.0},
    )
    seed_wave(rig.store, rig.clock, 1)
    dispatcher = rig.dispatcher("paced", retry_base=2.0)
    started = rig.clock.monotonic()
    await rig.drain(
        dispatcher, until=lambda: dispatcher.snapshot()["totals"].get("transient_failures", 0) >= 4
    )
    assert rig.store.outbox_counts()["pending"] == 2
    assert rig.clock.monotonic() - started >= 2.0  # the dispatcher's own backoff
    rig.server.create_5xx_rate = 0.0
    await rig.drain(dispatcher)
    metrics = dispatcher.snapshot()["recent_waves"][0]
    await rig.close(dispatcher)
    creates = [a for a in rig.server.arrivals if a.kind == "message_create"]
    assert len({a.body["nonce"] for a in creates}) == 2  # one nonce per player, reused
    assert len(creates) > 4
    assert set(details_per_channel(rig).values()) == {1}
    assert metrics["transient_failures"] >= 4 and metrics["phase2"]["delivered"] == 2


async def test_deliveries_are_marked_in_batches_and_only_after_their_2xx(tmp_path: Path) -> None:
    # A wave's 2xx responses are written in a few transactions, not one per item, and every
    # row a batch marks delivered had its message accepted by the server (a mark never runs
    # ahead of its 2xx); the rows of each batch are exactly the ones the server holds.
    rig = Rig(tmp_path)
    batches: list[list[int]] = []
    original = rig.store.mark_delivered_many

    def recording(deliveries: list[tuple[int, int | None, float]]) -> list[bool]:
        ids = [outbox_id for outbox_id, _, _ in deliveries]
        details = {i.id for i in (rig.store.outbox_item(o) for o in ids) if i and i.phase == 2}
        accepted = {m.channel_id for m in rig.server.all_messages()}
        for outbox_id in details:
            item = rig.store.outbox_item(outbox_id)
            assert item is not None and item.player_id is not None
            assert dm_of(item.player_id) in accepted  # the create was stored before its mark
        batches.append(ids)
        return original(deliveries)

    rig.store.mark_delivered_many = recording  # type: ignore[method-assign]
    try:
        seed_wave(rig.store, rig.clock, 50)
        dispatcher = rig.dispatcher("paced")
        await rig.drain(dispatcher)
        await dispatcher.stop()
        assert rig.store.outbox_counts() == {"pending": 0, "delivered": 200, "failed": 0}
    finally:
        await rig.close()
    marked = [outbox_id for batch in batches for outbox_id in batch]
    assert sorted(marked) == sorted(set(marked)) and len(marked) == 200  # each row once
    assert len(batches) < 50  # 200 rows, far fewer transactions
    assert set(details_per_channel(rig).values()) == {1}
