"""A heartbeat backlog (background lane) never delays phase 1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.discord import Lane
from tests.bot.notify.helpers import Rig, seed_wave

HEARTBEAT_BASE = 300_000_000_000_000_000
HEARTBEAT_PREFIX = "/channels/3000000000000"


async def phase_one_end(tmp_path: Path, *, backlog: int, expired: bool) -> tuple[float, Rig]:
    """Heartbeats are queued at t=0; the wave starts at t=0.5. Returns phase 1's last
    accepted arrival, relative to the wave start."""
    rig = Rig(tmp_path)
    start = rig.clock.monotonic()

    async def scenario() -> None:
        beats = [
            asyncio.ensure_future(
                rig.client.edit_message(
                    HEARTBEAT_BASE + i, 1, content="searching...", lane=Lane.BACKGROUND
                )
            )
            for i in range(backlog)
        ]
        await rig.vt.sleep(0.5)
        seed_wave(rig.store, rig.clock, 30, token_age=2000.0 if expired else 1.0)
        dispatcher = rig.dispatcher("paced")
        await dispatcher.start()
        while rig.store.outbox_counts()["pending"]:
            await rig.vt.sleep(0.05)
        await dispatcher.stop()
        await asyncio.gather(*beats)

    try:
        await rig.vt.run(scenario())
    finally:
        await rig.close()
    kinds = ("webhook_edit",) if not expired else ("channel_edit",)
    phase1 = [
        a.at
        for a in rig.server.arrivals
        if a.kind in kinds
        and a.status == 200
        and not a.path.startswith(f"/channels/{HEARTBEAT_BASE // 10**9}")
        and "/channels/3000" not in a.path
    ]
    assert len(phase1) == 60
    return max(phase1) - start - 0.5, rig


@pytest.fixture
def two_dirs(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "alone").mkdir()
    (tmp_path / "busy").mkdir()
    return tmp_path / "alone", tmp_path / "busy"


@pytest.mark.parametrize("expired", [False, True])
async def test_heartbeat_backlog_does_not_delay_phase_one(
    two_dirs: tuple[Path, Path], expired: bool
) -> None:
    alone, _ = await phase_one_end(two_dirs[0], backlog=0, expired=expired)
    busy, rig = await phase_one_end(two_dirs[1], backlog=300, expired=expired)
    assert busy == pytest.approx(alone, abs=1e-6)
    if not expired:
        assert busy == pytest.approx(0.0)  # exempt webhook edits never wait on the budget
    # No heartbeat reached the server between the wave's start and phase 1's end...
    beats = [a.at for a in rig.server.arrivals if a.path.startswith(HEARTBEAT_PREFIX)]
    assert len(beats) == 300
    start = 1000.0 + 0.5
    assert not [t for t in beats if start < t <= start + busy]
    # ...although heartbeats were still queued then (the backlog was real).
    assert max(beats) > start + busy
    assert rig.server.count_429() == 0
