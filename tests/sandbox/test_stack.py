"""The stack: children start, are wired and ready, and leave nothing behind.

These tests start real programs (`mockdiscord serve`, `ladderbot run`) on loopback. The
teardown proof is direct: after the stack is gone, every child pid no longer exists and
every port it listened on refuses connections.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from sandbox.stack import Stack, StackConfig, StackError, make_run_dir, run_stack

pytestmark = pytest.mark.e2e


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2.0)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError as error:
            return error.errno == errno.ECONNREFUSED
    return False


def _config(tmp_path: Path, **changes: object) -> StackConfig:
    values: dict = {"data_dir": tmp_path / "run", "log_level": "WARNING", "grace": 3.0}
    values.update(changes)
    return StackConfig(**values)


def _assert_gone(pids: dict[str, int], ports: dict[str, int]) -> None:
    assert pids and ports
    for name, pid in pids.items():
        assert not _alive(pid), f"{name} (pid {pid}) survived the teardown"
    for name, port in ports.items():
        assert _refused(port), f"{name}'s port {port} still accepts connections"


async def test_subprocess_stack_is_wired_and_leaves_nothing_behind(tmp_path: Path) -> None:
    async with run_stack(_config(tmp_path)) as stack:
        pids, ports = stack.pids(), stack.ports()
        assert set(pids) == {"mockdiscord", "ladderbot"}
        assert all(_alive(pid) for pid in pids.values())
        # Wired: the application's interactions URL is the bot's endpoint (the mock PINGed it).
        app = await stack.control.default_application()
        assert app["interactions_url"] == stack.bot_url + "/interactions"
        assert await stack.bot.healthz()
        status = await stack.bot.status()
        assert "dispatch" in status
        # Each run has its own data folder: the bot's database and the children's logs.
        assert stack.db_path.parent == tmp_path / "run"
        assert stack.db_path.exists()
        assert (tmp_path / "run" / "mock.log").exists()
    _assert_gone(pids, ports)


async def test_teardown_after_an_error_inside(tmp_path: Path) -> None:
    seen: dict[str, dict[str, int]] = {}
    with pytest.raises(RuntimeError, match="boom"):
        async with run_stack(_config(tmp_path)) as stack:
            seen["pids"], seen["ports"] = stack.pids(), stack.ports()
            raise RuntimeError("boom")
    _assert_gone(seen["pids"], seen["ports"])


async def test_teardown_on_cancellation_like_ctrl_c(tmp_path: Path) -> None:
    started: asyncio.Future[Stack] = asyncio.get_running_loop().create_future()

    async def hold() -> None:
        async with run_stack(_config(tmp_path)) as stack:
            started.set_result(stack)
            await asyncio.Event().wait()

    task = asyncio.create_task(hold())
    stack = await asyncio.wait_for(started, 30)
    pids, ports = stack.pids(), stack.ports()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    _assert_gone(pids, ports)


async def test_restart_bot_kills_and_reuses_port_and_database(tmp_path: Path) -> None:
    async with run_stack(_config(tmp_path)) as stack:
        old_pid = stack.pids()["ladderbot"]
        port = stack.ports()["bot"]
        await stack.restart_bot(kill=True)
        new_pid = stack.pids()["ladderbot"]
        assert new_pid != old_pid
        assert not _alive(old_pid)
        assert stack.ports()["bot"] == port
        assert await stack.bot.healthz()
        assert stack.bot_starts == 2
        pids, ports = stack.pids(), stack.ports()
    _assert_gone(pids, ports)


async def test_port_in_use_is_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StackError) as caught:
            async with run_stack(_config(tmp_path, mock_port=port)):
                pass
    message = str(caught.value)
    assert "\n" not in message
    assert f"127.0.0.1:{port}" in message and "mockdiscord" in message


async def test_missing_executable_is_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    with pytest.raises(StackError) as caught:
        async with run_stack(_config(tmp_path, bin_dir=empty)):
            pass
    message = str(caught.value)
    assert "\n" not in message
    assert "not found" in message and str(empty / "mockdiscord") in message


async def test_in_process_stack_is_wired(tmp_path: Path) -> None:
    async with run_stack(_config(tmp_path, mode="inprocess")) as stack:
        assert stack.pids() == {}
        app = await stack.control.default_application()
        assert app["interactions_url"] == stack.bot_url + "/interactions"
        assert await stack.bot.healthz()
        port = stack.ports()["bot"]
        await stack.restart_bot()
        assert stack.ports()["bot"] == port and await stack.bot.healthz()
        ports = stack.ports()
    assert all(_refused(p) for p in ports.values())


def test_run_dirs_are_unique_per_run(tmp_path: Path) -> None:
    first = make_run_dir(tmp_path, now=0.0)
    second = make_run_dir(tmp_path, now=0.0)
    assert first != second
    assert first.parent == second.parent == tmp_path
    assert first.name.endswith("-1") and second.name.endswith("-2")


# A small parent: starts a subprocess stack, prints its children's pids and ports, then
# waits to be killed. It never gets to run its teardown.
_PARENT = """
import asyncio, json, sys
from pathlib import Path
from sandbox.stack import StackConfig, run_stack

async def main() -> None:
    config = StackConfig(data_dir=Path(sys.argv[1]), log_level="WARNING")
    async with run_stack(config) as stack:
        print(json.dumps({"pids": stack.pids(), "ports": stack.ports()}), flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


_REPO = Path(__file__).resolve().parents[2]


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody has reaped yet (it holds no port)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
async def test_children_die_with_a_sigkilled_parent(tmp_path: Path) -> None:
    parent = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _PARENT,
        str(tmp_path / "run"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=_REPO,
    )
    try:
        assert parent.stdout is not None
        line = await asyncio.wait_for(parent.stdout.readline(), 30)
        started = json.loads(line)
        pids, ports = started["pids"], started["ports"]
        assert set(pids) == {"mockdiscord", "ladderbot"}
        assert all(not _gone(pid) for pid in pids.values())
    finally:
        parent.kill()  # SIGKILL: no teardown runs in the parent
        await parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # bounded: the kernel's signal is near-instant
        if all(_gone(p) for p in pids.values()):
            break
        await asyncio.sleep(0.05)
    for name, pid in pids.items():
        assert _gone(pid), f"{name} (pid {pid}) outlived its SIGKILLed parent"
    for name, port in ports.items():
        assert _refused(port), f"{name}'s port {port} still accepts connections"
