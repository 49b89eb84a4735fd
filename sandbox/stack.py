"""The stack: one mock Discord and one ladder bot, started, wired together and torn down.

Why this module exists: every sandbox front (scenario runner, benchmark, audit, TUI) needs
the same two programs running and talking to each other exactly as Discord and a bot do,
and needs them gone afterwards. Getting that right once matters more than it looks:

- **Two modes.** By default both programs run as child processes (`mockdiscord serve`
  and `ladderbot run`, the console scripts next to this Python), so the bot can be
  SIGKILLed mid-wave and the mock's timings are not disturbed by the sandbox's own work.
  In-process mode runs both aiohttp apps in the caller's event loop (fast tests).
- **Ports without races.** Children are started on port 0 and report the port they bound
  on their one "ready" line; nothing probes for a free port and hopes it stays free.
  A restarted bot reuses its port, so the mock's interactions URL stays valid.
- **Wiring** is done through public surfaces only: the mock's ready line gives the API
  base, token and key; an admin user is created on the control plane before the bot starts
  (its id becomes the bot's ``--admin-ids``); the application's interactions URL is set
  with ``PATCH /_mock/applications/{id}``, which makes the mock run the PING handshake.
- **Readiness** is the ready line plus a health poll, bounded by `StackConfig.ready_timeout`.
  A child that dies or hangs gives a one-line `StackError` quoting its last stderr line.
- **Teardown** on exit, error or Ctrl-C (cancellation): each child runs in its own session
  (process group); it gets SIGTERM, then SIGKILL after `StackConfig.grace` seconds, and
  the group is killed too, so no grandchild survives. Nothing is left listening. If the
  sandbox process itself dies without a teardown (SIGKILL), the kernel kills the children
  too (Linux, `sandbox.deathsig`).
- **A data folder per run** (``data/runs/<timestamp>-<n>``): the bot's SQLite database and
  the children's logs. The bot's state is only ever changed through its commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import aiohttp

from sandbox.control import BotClient, ControlError, MockControl
from sandbox.deathsig import die_with_parent

__all__ = [
    "ADMIN_NAME",
    "Stack",
    "StackConfig",
    "StackError",
    "make_run_dir",
    "run_stack",
]

ADMIN_NAME = "ladder-admin"
_READY_MOCK = "mockdiscord ready"
_READY_BOT = "ladderbot ready"
_PAIR = re.compile(r"(\w+)=(\S+)")

Mode = Literal["subprocess", "inprocess"]


class StackError(Exception):
    """The stack cannot start (or stop); ``str()`` is one line for a person."""


@dataclass(frozen=True)
class StackConfig:
    """How to start one stack. Every field has a default that works on a laptop."""

    mode: Mode = "subprocess"
    runs_dir: Path = Path("data/runs")
    """Parent of the per-run data folders (``<runs_dir>/<timestamp>-<n>``)."""
    data_dir: Path | None = None
    """Use exactly this folder instead (tests: a tmp dir)."""
    host: str = "127.0.0.1"
    mock_port: int = 0
    bot_port: int = 0
    profile: str = "discord"
    seed: int | None = None
    strategy: str | None = None
    wave_interval: float = 0.0
    """Seconds between automatic waves (0: only ``/admin wave``)."""
    heartbeat_interval: float | None = None
    confirm_timeout: float | None = None
    sweep_interval: float | None = 0.25
    global_limit: int | None = None
    """The global limit the bot paces to (default: the bot's, 50)."""
    bot_settings: Mapping[str, Any] = field(default_factory=dict)
    """Any other ``ladderbot`` setting, by its file key (e.g. ``report_timeout``)."""
    ready_timeout: float = 20.0
    grace: float = 5.0
    bin_dir: Path | None = None
    """Where the ``mockdiscord`` and ``ladderbot`` scripts are (default: next to Python)."""
    log_level: str = "INFO"


def make_run_dir(runs_dir: Path, *, now: float | None = None) -> Path:
    """A new, empty ``<runs_dir>/<YYYYmmdd-HHMMSS>-<n>`` folder."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StackError(f"cannot create {runs_dir}: {error.strerror or error}") from None
    for n in range(1, 10_000):
        path = runs_dir / f"{stamp}-{n}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as error:
            raise StackError(f"cannot create {path}: {error.strerror or error}") from None
        return path
    raise StackError(f"too many runs in {runs_dir} this second")


def _ready_fields(line: str) -> dict[str, str]:
    return dict(_PAIR.findall(line))


# ------------------------------------------------------------------------------ children


class _Child:
    """One child program in its own process group, with its output drained and kept.

    stdout is read for the ready line (then drained); stderr goes to a log file and its
    last lines are kept for error messages. Both pipes are always drained, so a chatty
    child can never block on a full pipe.
    """

    def __init__(self, name: str, argv: Sequence[str], log_path: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self.tail: deque[str] = deque(maxlen=20)
        self._ready: asyncio.Future[str] | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._log: TextIO | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def start(self, ready_prefix: str, timeout: float) -> str:  # noqa: ASYNC109
        env = {k: v for k, v in os.environ.items() if not k.startswith("LADDERBOT_")}
        env["PYTHONUNBUFFERED"] = "1"
        try:
            self._log = self.log_path.open("a", encoding="utf-8")
        except OSError as error:
            raise StackError(f"cannot write {self.log_path}: {error.strerror or error}") from None
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        except FileNotFoundError:
            self._close_log()
            raise StackError(
                f"cannot start {self.name}: {self.argv[0]} not found "
                "(install the package: `make` or `pip install -e .`)"
            ) from None
        except PermissionError:
            self._close_log()
            raise StackError(
                f"cannot start {self.name}: {self.argv[0]} is not executable"
            ) from None
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            asyncio.create_task(self._read_stdout(self.process.stdout, ready_prefix)),
            asyncio.create_task(self._read_stderr(self.process.stderr)),
        ]
        exited = asyncio.ensure_future(self.process.wait())
        try:
            done, _ = await asyncio.wait(
                {self._ready, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if not exited.done():
                exited.cancel()
        if self._ready in done:
            return self._ready.result()
        if exited in done:
            await asyncio.sleep(0)  # let the readers take the last lines
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self._readers), 2.0)
            raise StackError(
                f"{self.name} exited with status {self.process.returncode} before it was "
                f"ready: {self.last_error()}"
            )
        raise StackError(f"{self.name} was not ready within {timeout:g}s: {self.last_error()}")

    def last_error(self) -> str:
        lines = [line for line in self.tail if line.strip()]
        return lines[-1].strip() if lines else "(no output)"

    async def _read_stdout(self, stream: asyncio.StreamReader, prefix: str) -> None:
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\n")
            self._write(f"[stdout] {text}")
            if text.startswith(prefix) and self._ready is not None and not self._ready.done():
                self._ready.set_result(text)

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(text)
            self._write(text)

    def _write(self, text: str) -> None:
        if self._log is not None:
            self._log.write(text + "\n")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    async def stop(self, grace: float, *, kill: bool = False) -> None:
        """SIGTERM (or SIGKILL at once with ``kill``), SIGKILL after ``grace``; the whole group."""
        process = self.process
        if process is None:
            self._close_log()
            return
        try:
            if process.returncode is None:
                self._signal_group(signal.SIGKILL if kill else signal.SIGTERM)
                try:
                    await asyncio.wait_for(asyncio.shield(process.wait()), grace)
                except TimeoutError:
                    self._signal_group(signal.SIGKILL)
                    await process.wait()
            self._signal_group(signal.SIGKILL)  # anything the child left in its group
        finally:
            for reader in self._readers:
                reader.cancel()
            await asyncio.gather(*self._readers, return_exceptions=True)
            self._readers = []
            if process.returncode is None:  # cancelled while waiting: never leave it behind
                self._signal_group(signal.SIGKILL)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.wait(), 5.0)
            self._close_log()


# ---------------------------------------------------------------------------------- stack


class Endpoints:
    """Where a running mock and bot answer, and clients for both (a started `Stack`, or
    `sandbox.tui.live`'s view of programs that were already running)."""

    mock_url: str
    bot_url: str
    session: aiohttp.ClientSession
    application: dict[str, Any]

    @property
    def application_id(self) -> str:
        return str(self.application.get("id", ""))

    @property
    def control(self) -> MockControl:
        return MockControl(self.mock_url, self.session)

    @property
    def bot(self) -> BotClient:
        return BotClient(self.bot_url, self.session)


class Stack(Endpoints):
    """A running mock + bot. Use `run_stack(config)` (an async context manager)."""

    def __init__(self, config: StackConfig, data_dir: Path, session: aiohttp.ClientSession) -> None:
        self.config = config
        self.data_dir = data_dir
        self.session = session
        self.mock_url = ""
        self.application: dict[str, Any] = {}
        self.admin_id = ""
        self.admin_channel_id: str | None = None
        self.bot_url = ""
        self.bot_port = config.bot_port
        self._mock_child: _Child | None = None
        self._bot_child: _Child | None = None
        self._inproc = contextlib.AsyncExitStack()
        self._bot_ctx: contextlib.AsyncExitStack | None = None
        self.bot_starts = 0

    # -- facts ---------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self.config.mode

    @property
    def api_base(self) -> str:
        return self.mock_url + "/api/v10"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "ladder.db"

    def pids(self) -> dict[str, int]:
        """The children's process ids (subprocess mode)."""
        found = {}
        for child in (self._mock_child, self._bot_child):
            if child is not None and child.pid is not None:
                found[child.name] = child.pid
        return found

    def ports(self) -> dict[str, int]:
        ports = {}
        for name, url in (("mock", self.mock_url), ("bot", self.bot_url)):
            if url:
                ports[name] = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        return ports

    # -- start ---------------------------------------------------------------------------

    def _script(self, name: str) -> str:
        bin_dir = self.config.bin_dir or Path(sys.executable).parent
        return str(bin_dir / name)

    async def _start_mock(self) -> None:
        cfg = self.config
        if cfg.mode == "inprocess":
            from mockdiscord.harness import run_mock  # only in-process mode needs it

            try:
                mock = await self._inproc.enter_async_context(
                    run_mock(profile=cfg.profile, seed=cfg.seed, host=cfg.host)
                )
            except Exception as error:
                raise StackError(f"cannot start the mock in-process: {error}") from None
            self.mock_url = mock.base_url
        else:
            argv = [
                self._script("mockdiscord"),
                "serve",
                "--host",
                cfg.host,
                "--port",
                str(cfg.mock_port),
                "--profile",
                cfg.profile,
            ]
            if cfg.seed is not None:
                argv += ["--seed", str(cfg.seed)]
            self._mock_child = _Child("mockdiscord", argv, self.data_dir / "mock.log")
            line = await self._mock_child.start(_READY_MOCK, cfg.ready_timeout)
            api = _ready_fields(line).get("api", "")
            self.mock_url = api.removesuffix("/api/v10")
        await self._until_ready("the mock", self._mock_ready, self._mock_child)
        self.application = await self.control.default_application()

    async def _mock_ready(self) -> bool:
        try:
            await self.control.config()
        except ControlError:
            return False
        return True

    async def _until_ready(self, what: str, probe: Any, child: _Child | None) -> None:
        deadline = time.monotonic() + self.config.ready_timeout
        while not await probe():
            process = child.process if child is not None else None
            if child is not None and process is not None and process.returncode is not None:
                raise StackError(
                    f"{what} exited with status {process.returncode}: {child.last_error()}"
                )
            if time.monotonic() > deadline:
                last = f": {child.last_error()}" if child is not None else ""
                raise StackError(
                    f"{what} did not answer within {self.config.ready_timeout:g}s{last}"
                )
            await asyncio.sleep(0.05)

    def _bot_values(self, port: int) -> dict[str, Any]:
        cfg = self.config
        values: dict[str, Any] = {
            "api_base": self.api_base,
            "token": str(self.application["bot_token"]),
            "application_id": self.application_id,
            "public_key": str(self.application["public_key"]),
            "listen": f"{cfg.host}:{port}",
            "db": str(self.db_path),
            "admin_ids": self.admin_id,
            "wave_interval": cfg.wave_interval,
            "log_level": cfg.log_level,
        }
        if self.admin_channel_id is not None:
            values["admin_channel_id"] = self.admin_channel_id
        optional = {
            "dispatch": cfg.strategy,
            "heartbeat_interval": cfg.heartbeat_interval,
            "confirm_timeout": cfg.confirm_timeout,
            "sweep_interval": cfg.sweep_interval,
            "global_limit": cfg.global_limit,
        }
        values.update({k: v for k, v in optional.items() if v is not None})
        values.update(cfg.bot_settings)
        return values

    async def _start_bot(self, port: int) -> None:
        values = self._bot_values(port)
        if self.config.mode == "inprocess":
            from bot.app import StartupError, serve_bot
            from bot.config import ConfigError, load_settings

            ctx = contextlib.AsyncExitStack()
            try:
                settings = load_settings({k: str(v) for k, v in values.items()}, {})
                running = await ctx.enter_async_context(serve_bot(settings))
            except (ConfigError, StartupError) as error:
                await ctx.aclose()
                raise StackError(f"cannot start the bot: {error}") from None
            except BaseException:
                await ctx.aclose()
                raise
            self._bot_ctx = ctx
            self.bot_url = running.url
        else:
            argv = [self._script("ladderbot"), "run"]
            for key, value in values.items():
                argv += ["--" + key.replace("_", "-"), str(value)]
            self._bot_child = _Child("ladderbot", argv, self.data_dir / "bot.log")
            line = await self._bot_child.start(_READY_BOT, self.config.ready_timeout)
            self.bot_url = _ready_fields(line).get("url", "")
        self.bot_port = self.ports()["bot"]
        await self._until_ready("the bot", self.bot.healthz, self._bot_child)
        self.bot_starts += 1

    async def start(self) -> None:
        await self._start_mock()
        control = self.control
        (self.admin_id,) = await control.create_users(names=[ADMIN_NAME])
        self.admin_channel_id = await control.guild_text_channel()
        await self._start_bot(self.config.bot_port)
        bot_interactions = self.bot_url + "/interactions"
        try:
            await control.set_interactions_url(self.application_id, bot_interactions)
        except ControlError as error:
            raise StackError(f"the mock refused the bot's interactions URL: {error}") from None

    # -- restart and stop ----------------------------------------------------------------

    async def stop_bot(self, *, kill: bool = False) -> None:
        if self._bot_child is not None:
            child, self._bot_child = self._bot_child, None
            await child.stop(self.config.grace, kill=kill)
        if self._bot_ctx is not None:
            ctx, self._bot_ctx = self._bot_ctx, None
            await ctx.aclose()

    async def restart_bot(self, *, kill: bool = True) -> None:
        """Stop the bot (SIGKILL with ``kill``; in-process: a clean stop) and start it
        again on the same database and port."""
        port = self.bot_port
        await self.stop_bot(kill=kill)
        await self._start_bot(port)

    async def stop(self) -> None:
        errors: list[str] = []
        for step in (self.stop_bot, self._stop_mock):
            try:
                await step()
            except Exception as error:  # keep stopping the rest
                errors.append(f"{type(error).__name__}: {error}")
        if errors:
            raise StackError("teardown: " + "; ".join(errors))

    async def _stop_mock(self) -> None:
        if self._mock_child is not None:
            child, self._mock_child = self._mock_child, None
            await child.stop(self.config.grace)
        await self._inproc.aclose()


@contextlib.asynccontextmanager
async def run_stack(config: StackConfig | None = None) -> AsyncIterator[Stack]:
    """Start a stack for the duration of the ``async with``; always torn down."""
    config = config or StackConfig()
    data_dir = config.data_dir
    if data_dir is None:
        data_dir = make_run_dir(config.runs_dir)
    else:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StackError(f"cannot create {data_dir}: {error.strerror or error}") from None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        stack = Stack(config, data_dir, session)
        try:
            await stack.start()
            yield stack
        finally:
            await stack.stop()
