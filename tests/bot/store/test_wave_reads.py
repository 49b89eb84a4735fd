"""The store's reads for a wave's dispatch: lazily parsed phase rows, and the ids (with DM
channels) of the items deliverable now."""

from __future__ import annotations

from pathlib import Path

from bot.clock import ManualClock
from bot.store import Store
from tests.bot.notify.helpers import LADDER, dm_of, seed_wave


def test_iter_pending_yields_what_pending_returns_even_across_writes(tmp_path: Path) -> None:
    clock = ManualClock()
    with Store(tmp_path / "s.db", LADDER) as store:
        result = seed_wave(store, clock, 3)
        expected = store.pending(phase=1, wave_id=result.wave_id)
        rows = store.iter_pending(1, wave_id=result.wave_id)
        first = next(rows)
        # A commit while the caller is still iterating (the dispatcher marks deliveries
        # between two items): the rows were fetched up front, so nothing is lost or added.
        store.mark_delivered(first.id, None, clock.wall())
        assert [first, *rows] == expected
        assert len(expected) == 6 and {i.phase for i in expected} == {1}
        assert list(store.iter_pending(2, wave_id=result.wave_id + 1)) == []


def test_deliverable_targets_lists_ready_items_with_their_current_dm_channel(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    with Store(tmp_path / "s.db", LADDER) as store:
        result = seed_wave(store, clock, 2, known_dm=False)
        wave = result.wave_id
        assert store.deliverable_targets(2, wave_id=wave) == {}  # phase 1 still pending
        found = {i.player_id: i for i in store.pending(phase=1, wave_id=wave)}
        store.mark_delivered(found[1].id, None, clock.wall())
        store.mark_failed(found[2].id, "gone", permanent=True)
        store.mark_failed(found[3].id, "later")  # transient: still pending
        store.set_dm_channel(2, dm_of(2))
        targets = store.deliverable_targets(2, wave_id=wave)
        ready = store.deliverable(phase=2, wave_id=wave)
        assert list(targets) == [i.id for i in ready]
        assert {i.player_id for i in ready} == {1, 2}
        assert {i.player_id: targets[i.id] for i in ready} == {1: None, 2: dm_of(2)}


def test_checkpoint_moves_the_write_ahead_log_into_the_database_file(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "s.db"
    with Store(path, LADDER) as store:
        seed_wave(store, clock, 20)  # well under the 1,000 pages of SQLite's own checkpoint
        before = path.stat().st_size
        store.checkpoint()
        after = path.stat().st_size
        store.checkpoint()  # nothing left to copy: harmless
        assert after > before
        assert path.stat().st_size == after
        assert len(store.pending(wave_id=1)) == 80
