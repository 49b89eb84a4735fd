"""The TUI stays responsive while the mock takes ~2,000 requests a second (issue 7, §3).

A real subprocess stack, the TUI on it through its real feed, and a paced load generator in
a separate process for 5 s (`benchmarks.bench_tui_responsive.measure`, which the benchmark
also runs and prints). Real time over loopback, so the bounds are generous: the speed goal
itself is the benchmark's business. On a machine that cannot reach 2,000 req/s (the
generator, the mock and the TUI share its cores) the test still requires a real load:
at least LOAD_FLOOR requests/s achieved, and at least that many counted in one second on
the TUI's own chart.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_tui_responsive import measure

pytestmark = pytest.mark.e2e

LOAD_FLOOR = 1000.0  # req/s; the target is 2,000 (a 2-core machine reached ~1,700 over 6 s)
KEY_P95_BOUND = 0.5  # seconds from a key sent by the driver to its effect on screen


async def test_refresh_and_keys_while_the_mock_takes_2000_requests_a_second(tmp_path):
    result = await measure(tmp_path, rate=2000.0, duration=5.0)
    report = "\n".join(result.lines())

    # the load was real, allowed and seen by the TUI through the mock's event stream
    assert result.load["statuses"] == {"200": result.load["sent"]}, report
    assert result.load_rate >= LOAD_FLOOR, report
    assert result.max_counted_on_chart >= LOAD_FLOOR, report
    assert "mock ● up" in result.header and "bot ● up" in result.header, result.header

    # (a) the screen kept refreshing at least 4 times a second
    assert result.refresh_ticks_per_s >= 4.0, report
    # new feed data is painted as it comes: the mock ticks at 4 Hz, so ~4/s at most
    assert result.feed_repaints_per_s >= 3.0, report

    # (b) key presses were handled promptly, every one of them
    assert len(result.key_latencies) >= 8, report
    assert result.key_p95 < KEY_P95_BOUND, report
    assert max(result.key_latencies) < 2 * KEY_P95_BOUND, report
