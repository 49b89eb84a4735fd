"""The TUI over a real in-process stack (mock + bot + fake players), driven by key presses.

Real time over loopback, with generous bounds: every wait is a bounded poll of a condition.
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input, Static

from sandbox.operator import open_operator
from sandbox.stack import ADMIN_NAME, StackConfig
from sandbox.tui import create_app
from sandbox.tui.backend import Backend
from sandbox.tui.live import LiveCore
from sandbox.tui.widgets import RateChart

pytestmark = pytest.mark.e2e


async def until(pilot, condition, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        await pilot.pause(0.1)
    return condition()


async def test_spawn_queue_wave_against_a_real_stack(tmp_path):
    config = StackConfig(mode="inprocess", data_dir=tmp_path, log_level="WARNING", seed=7)
    core = LiveCore(lambda: open_operator(config, seed=7))
    await core.open()
    try:
        backend = Backend(core, events=core.events, poll=core.poll, label="test")
        app = create_app(backend, animations=False, cursor_blink=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("s")
            await pilot.pause()
            app.screen.query_one("#field-count", Input).value = "20"
            await pilot.press("enter")
            await pilot.pause()
            await app.wait_for_actions()
            await pilot.press("q")
            await pilot.pause()
            await app.wait_for_actions()

            users = (await core.operator.stack.control.call("GET", "/users"))["users"]
            players = [u for u in users if not u.get("bot") and u["username"] != ADMIN_NAME]
            assert len(players) == 20
            status = await core.operator.stack.bot.status()
            assert status["queue"]["total"] == 20
            counts = app.query_one("#player-counts", Static)
            assert await until(pilot, lambda: "queued 20" in str(counts.render()))

            await pilot.press("w")
            await pilot.pause()
            await app.wait_for_actions()
            waves = app.query_one("#waves")
            p1 = app.query_one("#p1-label", Static)
            # a small wave can finish between two polls: then it is in the recent-waves table
            assert await until(pilot, lambda: waves.row_count > 0 or "0/0" not in str(p1.render()))
            chart = app.query_one(RateChart)
            assert await until(pilot, lambda: sum(chart.data) > 0)  # counted requests drawn
            assert app.feed.take(force=True).connected  # type: ignore[union-attr]
            assert app.session.steps and all(s.ok for s in app.session.steps)
    finally:
        await core.close()
