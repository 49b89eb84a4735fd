"""The feed folds events cheaply and hands out at most one update per refresh."""

from __future__ import annotations

import pytest

from sandbox.tui.feed import HISTORY_S, MOVING_S, FeedState, pump
from tests.sandbox.tui.fakes import APP, tick


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_many_events_coalesce_into_one_update_then_nothing():
    feed = FeedState(clock=Clock(), wall=lambda: 0.0)
    for n in range(400):  # 100 s of ticks plus a 429 storm, folded between two refreshes
        feed.apply(tick(n, 40, 10))
    for i in range(1000):
        feed.apply({"type": "rate_limited", "scope": "global", "route": "/x", "t": 1.0 + i})
    update = feed.take()
    assert update is not None
    assert update.rate_limited == {"global": 1000}
    assert update.counted_1s == 40 and update.exempt_1s == 10
    assert len(update.series) == HISTORY_S and set(update.series) == {40}
    assert len(update.new_log) == 500 and update.dropped_log == 500  # bounded, counted
    assert update.events_seen == 1400
    feed.clock.now += MOVING_S + 1  # type: ignore[attr-defined]
    assert feed.take() is None  # nothing new: no repaint


def test_series_is_per_second_from_the_last_tick_of_each_second():
    feed = FeedState(clock=Clock())
    feed.application_id = APP
    for n, counted in enumerate([5, 10, 15, 20, 50, 50, 50, 3]):
        feed.apply(tick(n, counted))
    series = feed.take().series  # type: ignore[union-attr]
    assert series[-2:] == (20, 3)  # second 0 ended at 20/s, second 1 so far 3/s
    assert series[:-2] == (0,) * (HISTORY_S - 2)


def test_a_429_scope_is_moving_for_a_few_seconds_then_not():
    clock = Clock()
    feed = FeedState(clock=clock)
    feed.apply(tick(0, 60, limited={"global": 2}))
    assert feed.take().moving == {"global"}  # type: ignore[union-attr]
    clock.now += MOVING_S + 0.1
    update = feed.take(force=True)
    assert update is not None and update.moving == frozenset()


def test_malformed_events_are_logged_not_raised():
    feed = FeedState()
    feed.apply({"type": "tick", "tick": "x", "interval_s": "nope"})
    feed.apply({"type": "rate_limited", "retry_after": "soon"})
    feed.apply({"no": "type"})
    kinds = [e.kind for e in feed.take().new_log]  # type: ignore[union-attr]
    assert kinds == ["stream", "stream"]


def test_notable_events_become_log_lines_by_kind():
    feed = FeedState()
    feed.apply({"type": "hello", "t": 1.0})
    feed.apply({"type": "ban", "client_ip": "127.0.0.1", "duration_s": 3600, "t": 2.0})
    feed.apply({"type": "interaction", "kind": "command", "name": "queue", "outcome": "failed"})
    feed.apply({"type": "interaction", "kind": "command", "name": "queue", "outcome": "responded"})
    feed.apply({"type": "message_updated", "summary": "[embed] Match #3 aborted"})
    feed.apply({"type": "message_created", "summary": "Match #4 — conflict"})
    feed.apply({"type": "message_created", "summary": "Searching for a match"})
    feed.apply({"type": "fault", "fault": "error_503", "method": "POST", "route": "/x"})
    update = feed.take()
    assert update is not None and update.connected
    assert [e.kind for e in update.new_log] == [
        "stream",
        "ban",
        "interaction",
        "abort",
        "conflict",
        "fault",
    ]


async def test_pump_folds_a_stream_and_reports_the_loss():
    feed = FeedState()
    slept: list[float] = []

    async def source():
        yield {"type": "hello"}
        yield tick(0, 7)
        raise ConnectionResetError("peer went away")

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    await pump(source, feed, retry_s=0.5, sleep=sleep, attempts=2)
    update = feed.take()
    assert update is not None
    assert not update.connected and "peer went away" in (update.error or "")
    assert update.counted_1s == 7
    assert slept == [0.5]  # one reconnect between the two attempts


@pytest.mark.parametrize("refresh_hz", [1.0, 3.9])
def test_the_app_refuses_a_refresh_below_4_hz(refresh_hz):
    from sandbox.tui import create_app
    from tests.sandbox.tui.fakes import FakeOperator, backend_for

    with pytest.raises(ValueError, match="at least 4"):
        create_app(backend_for(FakeOperator()), refresh_hz=refresh_hz)
