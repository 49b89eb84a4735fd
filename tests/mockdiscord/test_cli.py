"""`mockdiscord serve`: the ready line, clean shutdown, and one-line errors (exit 2)."""

from __future__ import annotations

import asyncio
import random
import signal
import socket
import sys

import aiohttp
import pytest

from mockdiscord.cli import main
from mockdiscord.tokens import make_bot_token

LAUNCH = "import sys; from mockdiscord.cli import main; sys.exit(main())"


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAUNCH,
        "serve",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
    assert line.startswith("mockdiscord ready "), line
    fields = dict(part.split("=", 1) for part in line.split()[2:])
    return process, fields


async def _stop(process: asyncio.subprocess.Process, signum: int) -> tuple[int, str]:
    process.send_signal(signum)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    return process.returncode or 0, stderr.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_serve_prints_one_ready_line_serves_and_exits_cleanly(signum: int) -> None:
    token = make_bot_token("1176543210987654321", random.Random(5))
    process, fields = await _start("--token", token, "--seed", "3")
    try:
        assert set(fields) == {"api", "application_id", "bot_token", "public_key"}
        assert fields["api"].startswith("http://127.0.0.1:") and fields["api"].endswith("/api/v10")
        assert fields["bot_token"] == token and len(fields["public_key"]) == 64
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bot {token}"}
            async with session.get(fields["api"] + "/users/@me", headers=headers) as response:
                assert response.status == 200
                assert (await response.json())["id"] == "1176543210987654321"
    finally:
        returncode, stderr = await _stop(process, signum)
    assert returncode == 0 and "Traceback" not in stderr


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_port_in_use_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert f"127.0.0.1:{port}" in _one_line_error(capsys)


def test_bad_profile_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["serve", "--profile", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml" in _one_line_error(capsys)
    broken = tmp_path / "broken.toml"
    broken.write_text("[global]\nlimit = 'five'\n")
    assert main(["serve", "--profile", str(broken)]) == 2
    assert "global.limit" in _one_line_error(capsys)


@pytest.mark.parametrize(
    "argv",
    [["serve", "--bogus"], ["serve", "--port", "x"], [], ["launch"], ["serve", "--port", "70000"]],
)
def test_bad_flags_are_one_line_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    assert _one_line_error(capsys).startswith("mockdiscord")


def test_malformed_token_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--token", "not-a-token"]) == 2
    assert "--token" in _one_line_error(capsys)
