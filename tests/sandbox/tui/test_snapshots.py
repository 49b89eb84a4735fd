"""SVG snapshots of the main screen (pytest-textual-snapshot): idle, during a wave, and after a
naive wave that hit 429s, at 120x40, plus the wave at 80x24.

Deterministic by construction: recorded events are folded into the feed before the app
starts (no worker, no timers: `live=False`), clocks are fixed, the time zone is UTC, and
animations and cursor blink are off. Plain sync tests: the plugin runs its own loop.
"""

from __future__ import annotations

from datetime import UTC

import pytest

from sandbox.tui import create_app
from sandbox.tui.feed import FeedState
from tests.sandbox.tui.fakes import WALL0, backend_for, scene


def scene_app(name: str):
    op, events = scene(name)
    feed = FeedState(clock=lambda: 100.0, wall=lambda: WALL0)
    for event in events:
        feed.apply(event)
    return create_app(
        backend_for(op),
        feed=feed,
        clock=lambda: 100.0,
        wall=lambda: WALL0,
        tz=UTC,
        animations=False,
        cursor_blink=False,
        live=False,
    )


async def _settle(pilot) -> None:
    app = pilot.app
    await app.poll_now()
    app.refresh_feed(force=True)
    await pilot.pause()


@pytest.mark.parametrize("name", ["idle", "wave", "naive"])
def test_main_screen(snap_compare, name):
    assert snap_compare(scene_app(name), terminal_size=(120, 40), run_before=_settle)


def test_main_screen_small_terminal(snap_compare):
    assert snap_compare(scene_app("wave"), terminal_size=(80, 24), run_before=_settle)
