"""`sandbox tui --attach URL`: the TUI over a mock and bot it did not start (issue 7, §3).

A stack is started here as child processes (`sandbox.stack.run_stack`), then the app is
built in attach mode exactly as `sandbox.tui.run` builds it (`LiveCore` over
`open_attached(URL)`, no reset). The header must show the mock and the bot up, an action
must reach the bot through the attached Operator, and quitting the TUI and closing its core
(what `run_tui` does on exit) must leave the stack it did not start running.
Real time over loopback with generous, bounded polls.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from textual.widgets import Static

from sandbox.stack import StackConfig, run_stack
from sandbox.tui import create_app
from sandbox.tui.backend import Backend
from sandbox.tui.live import LiveCore, open_attached
from sandbox.tui.widgets import HeaderBar

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
SANDBOX = Path(sys.executable).parent / "sandbox"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def until(pilot, condition, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


async def test_attach_shows_the_stack_acts_on_it_and_leaves_it_running(tmp_path):
    config = StackConfig(mode="subprocess", data_dir=tmp_path, log_level="WARNING", seed=11)
    async with run_stack(config) as stack:
        pids = stack.pids()
        assert set(pids) == {"mockdiscord", "ladderbot"}

        # what `run_tui(attach=URL)` builds
        core = LiveCore(lambda: open_attached(stack.mock_url, seed=11), can_reset=False)
        await core.open()
        try:
            assert core.operator.stack.bot_url == stack.bot_url  # found from the mock alone
            backend = Backend(
                core, events=core.events, poll=core.poll, label=f"attached {stack.mock_url}"
            )
            app = create_app(backend, animations=False, cursor_blink=False)
            async with app.run_test(size=(120, 40)) as pilot:
                header = app.query_one(HeaderBar)

                def shown() -> str:
                    return str(header.render())

                assert await until(
                    pilot, lambda: "mock ● up" in shown() and "bot ● up" in shown()
                ), shown()
                assert f"attached {stack.mock_url}" in shown()
                assert await until(pilot, lambda: "events ● up" in shown()), shown()

                ids = await core.operator.spawn(6)  # the attached Operator's own players
                assert len(ids) == 6
                await pilot.press("q")  # queue all idle, through the TUI
                await pilot.pause()
                await app.wait_for_actions()
                assert app.session.steps and app.session.steps[-1].ok
                status = await stack.bot.status()  # the stack's bot, asked directly
                assert status["queue"]["total"] == 6
                counts = app.query_one("#player-counts", Static)
                assert await until(pilot, lambda: "queued 6" in str(counts.render()))

                await pilot.press("ctrl+q")
                await pilot.pause()
            assert app.return_code == 0
        finally:
            await core.close()  # what `run_tui` does after the app returns

        # the stack the TUI did not start is still there and still works
        assert all(_alive(pid) for pid in pids.values()), pids
        assert stack.pids() == pids
        assert await stack.bot.healthz()
        stats = await stack.control.stats()
        assert stats  # the mock answers its control plane
        status = await stack.bot.status()
        assert status["queue"]["total"] == 6  # and the bot kept its state
    assert not any(_alive(pid) for pid in pids.values()), "run_stack tears its own stack down"


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install -y tmux)")
async def test_the_attach_command_in_a_terminal_leaves_the_stack_running(tmp_path):
    """`sandbox tui --attach URL` for real (tmux, 80x24): keys in, then ctrl+q; exit 0, the
    attached stack still runs and kept what the TUI did to it."""
    config = StackConfig(mode="subprocess", data_dir=tmp_path / "stack", log_level="WARNING")
    async with run_stack(config) as stack:
        pids = stack.pids()
        session = f"sandbox-attach-{uuid.uuid4().hex[:8]}"
        done_file = tmp_path / "exit-code"
        command = (
            f"cd {tmp_path} && {SANDBOX} tui --attach {stack.mock_url} ; echo $? > {done_file}"
        )
        env = ["-e", f"PATH={os.environ.get('PATH', '')}", "-e", "TERM=xterm-256color"]

        async def tmux(*args: str) -> str:
            assert TMUX is not None
            done = await asyncio.to_thread(
                subprocess.run, [TMUX, *args], capture_output=True, text=True, timeout=10
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        async def wait_for(text: str, within: float = 60.0) -> str:
            deadline = time.monotonic() + within
            shown = ""
            while time.monotonic() < deadline:
                shown = await tmux("capture-pane", "-p", "-t", session)
                if text in shown:
                    return shown
                await asyncio.sleep(0.05)
            raise AssertionError(f"{text!r} never appeared; the screen was:\n{shown}")

        await tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", *env, command)
        try:
            shown = await wait_for("bot ● up")
            assert "mock ● up" in shown and "attached" in shown
            await tmux("send-keys", "-t", session, "s")
            await wait_for("Spawn players")
            await tmux("send-keys", "-t", session, "Enter")  # the default: 20 players
            await wait_for("spawn 20: 20 players")
            await tmux("send-keys", "-t", session, "q")
            await wait_for("queue all idle: 20 queued")
            await tmux("send-keys", "-t", session, "C-q")
            for _ in range(600):  # up to 30 s for the program to exit
                if done_file.exists():
                    break
                await asyncio.sleep(0.05)
            assert done_file.read_text().strip() == "0"
        finally:
            await asyncio.to_thread(
                subprocess.run, [TMUX, "kill-session", "-t", session], capture_output=True
            )
        assert all(_alive(pid) for pid in pids.values()), pids
        assert await stack.bot.healthz()
        assert (await stack.bot.status())["queue"]["total"] == 20
        assert await stack.control.stats()
