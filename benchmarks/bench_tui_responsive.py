"""Is the TUI still responsive while the mock takes ~2,000 requests a second?

The set-up is what `make run` runs: a real stack (mock and bot as child processes), the TUI
attached to it through its real feed over the mock's event stream, polling the core once
a second. A load generator in a *separate* process (aiohttp, loopback only, paced, a fixed
duration, stops by itself) sends bare `GET /api/v10/users/@me` calls with the bot token;
the mock's global limit is raised first so that every call is a cheap, allowed, counted
request (no 429s, no invalid-request count). Meanwhile, in the TUI's process:

- **refreshes/s**: runs of the app's refresh timer (`SandboxApp.refresh_ticks`; each one
  repaints at least the header) and repaints with new feed data (`SandboxApp.refreshes`),
  per second of load;
- **key latency**: a key (`v`, cycle the lower panels) is sent through the driver exactly
  as a terminal key is, and timed until its effect is on screen: at 80x24 only one lower
  panel is shown, so the effect is the next panel getting a non-empty region in the
  compositor's layout.

The machine decides the load it can really reach (the generator, the mock and the TUI share
its cores); the figures printed are the achieved ones, never the target. The test
`tests/sandbox/tui/test_responsive_under_load.py` runs the same measurement with generous
bounds.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGET_RATE = 2000.0
DURATION_S = 5.0
SIZE = (80, 24)  # the small terminal: `v` changes what is on screen
LOWER_PANELS = ("buckets-panel", "players-panel", "log-panel")

# The load generator: paced to RATE req/s over DURATION seconds with a pool of workers,
# never past the deadline; prints one JSON line with what it really did.
LOAD_SCRIPT = r"""
import asyncio, json, sys, time
import aiohttp

URL, TOKEN, RATE, DURATION, WORKERS = (
    sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
assert URL.startswith("http://127.0.0.1:"), "loopback only"

async def main():
    statuses = {}
    sent = 0
    headers = {"Authorization": "Bot " + TOKEN}
    connector = aiohttp.TCPConnector(limit=WORKERS)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        start = time.perf_counter()
        end = start + DURATION

        async def worker():
            nonlocal sent
            while True:
                due = start + sent / RATE
                if due >= end:
                    return
                sent += 1
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    async with session.get(URL) as response:
                        await response.read()
                        key = str(response.status)
                except aiohttp.ClientError as error:
                    key = type(error).__name__
                statuses[key] = statuses.get(key, 0) + 1

        await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(WORKERS))), DURATION + 10)
        elapsed = time.perf_counter() - start
    ok = statuses.get("200", 0)
    print(json.dumps({"sent": sent, "ok": ok, "statuses": statuses,
                      "elapsed": elapsed, "rate": ok / elapsed}), flush=True)

asyncio.run(main())
"""


@dataclass
class Result:
    """What one run measured (rates are per second of load, achieved not targeted)."""

    target_rate: float
    load: dict[str, Any]
    load_rate: float  # 200 OK responses per second, as the generator saw them
    refresh_ticks_per_s: float
    feed_repaints_per_s: float
    worst_second_ticks: int  # the fewest refresh-timer runs in any whole second of load
    key_latencies: list[float] = field(default_factory=list)
    max_counted_on_chart: int = 0  # the highest counted/s the TUI's chart drew
    header: str = ""

    @property
    def key_p50(self) -> float:
        return statistics.median(self.key_latencies)

    @property
    def key_p95(self) -> float:
        ordered = sorted(self.key_latencies)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def lines(self) -> list[str]:
        return [
            f"load: {self.load_rate:.0f} req/s achieved (target {self.target_rate:.0f}), "
            f"{self.load.get('ok', 0)} OK of {self.load.get('sent', 0)} sent in "
            f"{self.load.get('elapsed', 0):.1f} s, statuses {self.load.get('statuses')}",
            f"TUI chart peak: {self.max_counted_on_chart} counted req/s",
            f"refresh timer: {self.refresh_ticks_per_s:.2f}/s (worst whole second: "
            f"{self.worst_second_ticks}); repaints with new feed data: "
            f"{self.feed_repaints_per_s:.2f}/s",
            f"key latency over {len(self.key_latencies)} presses: p50 "
            f"{self.key_p50 * 1000:.0f} ms, p95 {self.key_p95 * 1000:.0f} ms, max "
            f"{max(self.key_latencies) * 1000:.0f} ms",
        ]


async def _until(condition: Any, within: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(step)
    return bool(condition())


async def _press_and_time(app: Any, key: str, effect: Any, within: float = 10.0) -> float:
    """Send `key` through the app's driver (as a terminal does) and time it until `effect()`."""
    from textual import events

    event = events.Key(key, key)
    event.set_sender(app)
    began = time.perf_counter()
    app._driver.send_message(event)
    deadline = began + within
    while not effect():
        if time.perf_counter() > deadline:
            raise AssertionError(f"the {key!r} key had no visible effect within {within:g}s")
        await asyncio.sleep(0.002)
    return time.perf_counter() - began


async def measure(
    data_dir: Path,
    *,
    rate: float = TARGET_RATE,
    duration: float = DURATION_S,
    workers: int = 64,
) -> Result:
    """Start a subprocess stack, open the TUI on it, load the mock, measure the TUI."""
    from sandbox.operator import open_operator
    from sandbox.stack import StackConfig
    from sandbox.tui import create_app
    from sandbox.tui.backend import Backend
    from sandbox.tui.live import LiveCore
    from sandbox.tui.widgets import HeaderBar, RateChart

    config = StackConfig(mode="subprocess", data_dir=data_dir, log_level="WARNING", seed=3)
    core = LiveCore(lambda: open_operator(config, seed=3))
    await core.open()
    try:
        stack = core.operator.stack
        await stack.control.configure(global_limit=1_000_000)
        token = str(stack.application["bot_token"])
        backend = Backend(core, events=core.events, poll=core.poll, label="bench")
        app = create_app(backend, animations=False, cursor_blink=False)
        async with app.run_test(size=SIZE) as pilot:
            header = app.query_one(HeaderBar)
            ready = await _until(
                lambda: app.feed.connected and app.feed.application_id and app.polls > 0, 30
            )
            if not ready:
                raise AssertionError("the TUI never connected to the stack's event stream")
            await pilot.pause()

            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                LOAD_SCRIPT,
                stack.api_base + "/users/@me",
                token,
                str(rate),
                str(duration),
                str(workers),
                stdout=asyncio.subprocess.PIPE,
            )
            try:
                ticks0, repaints0 = app.refresh_ticks, app.refreshes
                began = time.perf_counter()
                per_second: list[int] = []
                latencies: list[float] = []
                mark_t, mark_ticks = began, ticks0
                panel = app._panel
                # keys while the generator runs (it stops by itself after `duration`)
                while process.returncode is None and time.perf_counter() - began < duration:
                    panel = (panel + 1) % len(LOWER_PANELS)
                    target = app.main_screen.query_one(f"#{LOWER_PANELS[panel]}")
                    latencies.append(
                        await _press_and_time(app, "v", lambda t=target: t.region.width > 0)
                    )
                    await asyncio.sleep(0.25)
                    now = time.perf_counter()
                    if now - mark_t >= 1.0:
                        per_second.append(app.refresh_ticks - mark_ticks)
                        mark_t, mark_ticks = now, app.refresh_ticks
                elapsed = time.perf_counter() - began
                ticks, repaints = app.refresh_ticks - ticks0, app.refreshes - repaints0
                out, _ = await asyncio.wait_for(process.communicate(), duration + 20)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            load = json.loads(out.decode().strip().splitlines()[-1])
            await pilot.pause(0.6)  # the tick covering the last second of load
            chart = app.query_one(RateChart)
            result = Result(
                target_rate=rate,
                load=load,
                load_rate=float(load["rate"]),
                refresh_ticks_per_s=ticks / elapsed,
                feed_repaints_per_s=repaints / elapsed,
                worst_second_ticks=min(per_second) if per_second else 0,
                key_latencies=latencies,
                max_counted_on_chart=max(chart.data, default=0),
                header=str(header.render()),
            )
            await pilot.press("ctrl+q")
        return result
    finally:
        await core.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        result = asyncio.run(measure(Path(tmp)))
    print(f"TUI at {SIZE[0]}x{SIZE[1]} on a subprocess stack, {DURATION_S:g} s of load:")
    for line in result.lines():
        print(line)
    print("goal: refresh >= 4/s and keys handled promptly at 2,000 req/s")


if __name__ == "__main__":
    main()
