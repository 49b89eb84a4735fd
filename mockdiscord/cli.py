"""`mockdiscord serve`: run the mock Discord on a local port.

It prints exactly one line once the port is bound, with everything a bot needs:

    mockdiscord ready api=http://127.0.0.1:8787/api/v10 application_id=... bot_token=...
    public_key=...

(one line; `--port 0` picks a free port and the line shows it). Mistakes a person can make
(a bad flag, a port in use, a bad profile, a malformed `--token`) give a one-line message
on stderr and exit status 2, never a traceback. Ctrl-C and SIGTERM stop the server
cleanly with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from aiohttp import web

from mockdiscord.profile import ProfileError, load_profile
from mockdiscord.server import STATE_KEY, MockConfig, create_app
from mockdiscord.tokens import bot_id_from_token

__all__ = ["main"]

EXIT_USAGE = 2


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="mockdiscord", description="A local mock of Discord's REST API.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    serve = commands.add_parser("serve", help="serve the mock until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8787, help="port (default 8787; 0: any free)")
    serve.add_argument("--profile", default="discord", help="rate-limit profile: name or path")
    serve.add_argument("--token", default=None, help="fix the default bot token")
    serve.add_argument("--seed", type=int, default=None, help="seed for tokens and keys")
    return parser


class UsageError(Exception):
    """A mistake the user can fix; `str()` is the one-line message."""


async def serve(host: str, port: int, config: MockConfig) -> None:
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
        bound = runner.addresses[0] if runner.addresses else (host, port)
        shown_host = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
        app_info = app[STATE_KEY].world.default_application
        print(
            f"mockdiscord ready api=http://{shown_host}:{bound[1]}/api/v10"
            f" application_id={app_info.id} bot_token={app_info.bot_token}"
            f" public_key={app_info.public_key}",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        if not 0 <= options.port <= 65535:
            raise UsageError(f"--port must be 0-65535, got {options.port}")
        if options.token is not None and bot_id_from_token(options.token) is None:
            raise UsageError("--token must look like a bot token: base64(<bot user id>).xxx.yyy")
        try:
            profile = load_profile(options.profile)
        except ProfileError as error:
            raise UsageError(f"bad profile: {error}") from None
        config = MockConfig(profile=profile, seed=options.seed, bot_token=options.token)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(options.host, options.port, config))
    except UsageError as error:
        print(f"mockdiscord: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0
