"""The lower bound, the per-wave metrics, the status snapshot and the strategy switch."""

from __future__ import annotations

import pytest

from bot.notify.metrics import lower_bound
from tests.bot.notify.helpers import Rig, seed_wave


@pytest.mark.parametrize(
    ("calls", "limit", "bound"),
    [(0, 50, 0.0), (1, 50, 0.0), (50, 50, 0.0), (51, 50, 1.0), (100, 50, 1.0), (101, 50, 2.0),
     (400, 50, 7.0), (10, 3, 3.0)],
)  # fmt: skip
def test_lower_bound_is_ceil_c_over_l_minus_one(calls: int, limit: int, bound: float) -> None:
    assert lower_bound(calls, limit) == bound


def test_lower_bound_rejects_a_zero_limit() -> None:
    with pytest.raises(ValueError, match="global_limit"):
        lower_bound(10, 0)


async def test_wave_metrics_are_recorded_in_the_store_and_the_snapshot(rig: Rig) -> None:
    wave = seed_wave(rig.store, rig.clock, 30)
    d = rig.dispatcher("paced")
    await rig.drain(d)
    snap = d.snapshot()
    await d.stop()
    (metrics,) = snap["recent_waves"]
    assert snap["strategy"] == "paced" and snap["current_waves"] == []
    assert snap["outbox"] == {"pending": 0, "delivered": 120, "failed": 0}
    assert (metrics["matches"], metrics["players"]) == (30, 60)
    assert metrics["phase1"] == {
        "items": 60,
        "delivered": 60,
        "failed": 0,
        "first": 0.0,
        "last": 0.0,
    }
    assert metrics["phase2"]["delivered"] == 60 and metrics["phase2"]["last"] == pytest.approx(1.05)
    assert (metrics["needed_counted"], metrics["lower_bound"]) == (60, 1.0)
    assert metrics["ratio"] == pytest.approx(1.05)
    assert metrics["max_calls_per_bucket"] == 1
    row = rig.store.wave(wave.wave_id)
    assert row is not None and row.metrics["dispatch"] == metrics
    assert metrics["started_at"] == row.started_at  # the sandbox times waves from it


async def test_snapshot_of_a_wave_announced_but_not_yet_set_up_does_not_fail(rig: Rig) -> None:
    d = rig.dispatcher("paced")
    d._running_waves.add(99)  # a wave id seen by the loop before its metrics exist
    assert d.snapshot()["current_waves"] == []
    await d.stop()


async def test_set_strategy_applies_to_the_next_wave(rig: Rig) -> None:
    d = rig.dispatcher("paced")
    with pytest.raises(ValueError, match="unknown dispatch strategy"):
        d.set_strategy("yolo")
    seed_wave(rig.store, rig.clock, 12)
    await rig.drain(d)
    d.set_strategy("batched")
    assert d.snapshot()["strategy"] == "batched"
    seed_wave(rig.store, rig.clock, 12, first_player=100)
    d.wake()
    await rig.drain(d)
    await d.stop()
    newest, oldest = d.snapshot()["recent_waves"]
    assert (oldest["strategy"], newest["strategy"]) == ("paced", "batched")
    assert newest["phase2"]["last"] == pytest.approx(1.1)  # two batches: 0.1 s and 1.1 s
    assert oldest["phase2"]["last"] == pytest.approx(0.0)


async def test_stop_leaves_undelivered_rows_pending_and_start_resumes(rig: Rig) -> None:
    seed_wave(rig.store, rig.clock, 10)
    d = rig.dispatcher("batched", batch_matches=2)
    await rig.drain(d, until=lambda: rig.store.outbox_counts()["delivered"] >= 24)
    await d.stop()
    assert not d.running
    counts = rig.store.outbox_counts()
    assert counts["pending"] > 0 and counts["delivered"] + counts["pending"] == 40
    await rig.drain(d)
    await d.stop()
    assert rig.store.outbox_counts() == {"pending": 0, "delivered": 40, "failed": 0}
    assert len(rig.server.all_messages()) == 20
