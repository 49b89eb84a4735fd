"""`run_tui`: start (or attach to) a stack, run the app, tear the stack down however it ends.

The stack lives in an `AsyncExitStack` around `App.run_async()`: quitting returns from the
app, a crash raises out of it, SIGTERM/SIGHUP make the app exit; in every case the exit
stack closes the crowd and the stack (children get SIGTERM, then SIGKILL; see
`sandbox.stack`). A stack that cannot start is one line on stderr and exit code 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any, Literal

__all__ = ["run_tui"]

EXIT_SETUP = 2


async def _run(
    attach: str | None,
    *,
    bot_url: str | None,
    mode: Literal["subprocess", "inprocess"],
    seed: int | None,
    runs_dir: Path,
    strategy: str | None,
    app_options: dict[str, Any],
) -> int:
    from sandbox.operator import open_operator
    from sandbox.stack import StackConfig
    from sandbox.tui.app import create_app, install_signal_exit
    from sandbox.tui.backend import Backend
    from sandbox.tui.live import LiveCore, open_attached

    if attach is not None:
        core = LiveCore(lambda: open_attached(attach, bot_url=bot_url, seed=seed), can_reset=False)
        label = f"attached {attach}"
    else:
        config = StackConfig(mode=mode, runs_dir=runs_dir, seed=seed, strategy=strategy)
        core = LiveCore(lambda: open_operator(config, seed=seed))
        label = "embedded" if mode == "subprocess" else "in-process"
    async with contextlib.AsyncExitStack() as stack:
        await core.open()
        stack.push_async_callback(core.close)
        backend = Backend(core, events=core.events, poll=core.poll, label=label)
        app = create_app(backend, **app_options)
        install_signal_exit(app)
        await app.run_async()
        return int(app.return_code or 0)
    return 0  # pragma: no cover (the with block always returns)


def run_tui(
    attach: str | None = None,
    *,
    bot_url: str | None = None,
    in_process: bool = False,
    seed: int | None = None,
    runs_dir: str | Path = "data/runs",
    strategy: str | None = None,
    **app_options: Any,
) -> int:
    """Open the TUI over a new embedded stack, or over the mock at `attach`; exit code."""
    from sandbox.control import ControlError
    from sandbox.operator import OperatorError
    from sandbox.stack import StackError

    try:
        return asyncio.run(
            _run(
                attach,
                bot_url=bot_url,
                mode="inprocess" if in_process else "subprocess",
                seed=seed,
                runs_dir=Path(runs_dir),
                strategy=strategy,
                app_options=app_options,
            )
        )
    except (StackError, OperatorError, ControlError, OSError) as error:
        print(f"sandbox tui: {error}", file=sys.stderr)
        return EXIT_SETUP
