"""`sandbox` for real in a pseudo-terminal (tmux) at 80x24: keys in, screen out.

This is what `make run` does: the console script with no arguments starts an embedded stack
(mock and bot as child processes) and opens the TUI. The test spawns 20 players, queues
them, forces a wave, reads the captured screen, quits with ctrl+q and checks that the
program exited 0 and that its child processes are gone. Real time, bounded polls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
SANDBOX = Path(sys.executable).parent / "sandbox"


def _tmux(*args: str) -> str:
    assert TMUX is not None
    done = subprocess.run([TMUX, *args], capture_output=True, text=True, timeout=10, check=True)
    return done.stdout


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install -y tmux)")
def test_sandbox_runs_in_80x24_with_keys_only(tmp_path):
    session = f"sandbox-smoke-{uuid.uuid4().hex[:8]}"
    done_file = tmp_path / "exit-code"
    # no arguments: what `make run` does (its run folders go under tmp_path/data/runs)
    command = f"cd {tmp_path} && {SANDBOX} ; echo $? > {done_file}"
    env_keys = ["-e", f"PATH={os.environ.get('PATH', '')}", "-e", "TERM=xterm-256color"]
    _tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", *env_keys, command)

    def screen() -> str:
        return _tmux("capture-pane", "-p", "-t", session)

    def wait_for(text: str, within: float = 60.0) -> str:
        deadline = time.monotonic() + within
        shown = ""
        while time.monotonic() < deadline:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{shown}")

    try:
        wait_for("mock ● up")
        shell_pid = int(_tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())
        app_pids = _children(shell_pid)
        stack_pids = {c for p in app_pids for c in _children(p)}
        assert stack_pids, "the embedded stack runs as child processes of sandbox"
        _tmux("send-keys", "-t", session, "s")
        wait_for("Spawn players")
        _tmux("send-keys", "-t", session, "Enter")  # the default: 20 players
        wait_for("spawn 20: 20 players")
        _tmux("send-keys", "-t", session, "q")
        wait_for("queued")
        _tmux("send-keys", "-t", session, "w")
        shown = wait_for("wave #1")
        assert "Global rate" in shown and "Dispatcher" in shown
        assert "Spawn" in shown.splitlines()[-1]  # the footer shows the bindings
        _tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 30
        while not done_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert done_file.read_text().strip() == "0"
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in stack_pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in stack_pids if _alive(p)], "orphan stack processes after quit"
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, timeout=10)
