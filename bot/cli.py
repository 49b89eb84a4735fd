"""`ladderbot run`: the ladder bot as a program.

Settings come from flags, then ``LADDERBOT_*`` environment variables, then a TOML file
(``--config``), then defaults (`bot.config`). Once the socket is bound and the commands are
registered it prints exactly one line on stdout:

    ladderbot ready url=http://127.0.0.1:8080 interactions=http://127.0.0.1:8080/interactions

Any mistake a person can make (a missing or invalid setting, an unusable database file, a
port in use, a token Discord refuses) is one line on stderr and exit status 2, never a
traceback. SIGINT and SIGTERM stop the bot cleanly (status 0); a SIGKILL loses nothing,
because the state and the outbox are on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from bot.app import StartupError, serve_bot
from bot.config import ConfigError, Settings, load_settings
from bot.store import StoreError

__all__ = ["main"]

EXIT_USAGE = 2


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


_FLAGS: tuple[tuple[str, str], ...] = (
    ("api-base", "Discord API base URL (default https://discord.com/api/v10)"),
    ("token", "bot token"),
    ("application-id", "application id"),
    ("public-key", "the application's Ed25519 public key (hex)"),
    ("listen", "HOST:PORT for the interactions endpoint (default 127.0.0.1:8080)"),
    ("db", "SQLite database file (default ladderbot.db)"),
    ("admin-ids", "comma-separated user ids allowed to use /admin"),
    ("admin-channel-id", "channel for match results and conflicts"),
    ("guild-id", "register the commands in this guild only"),
    ("dispatch", "notification strategy: naive, sequential, batched, paced (default)"),
    ("wave-interval", "seconds between waves, aligned to Unix time; 0 = manual (default 45)"),
    ("heartbeat-interval", "seconds between searching-message refreshes; 0 = off (22.5)"),
    ("sweep-interval", "longest pause of the deadline sweeper, seconds (default 1)"),
    ("confirm-timeout", "seconds to confirm a match (default 60)"),
    ("report-timeout", "seconds to report a result (default 3600)"),
    ("global-limit", "REST requests per second to pace to (default 50)"),
    ("token-lifetime", "interaction token lifetime, seconds (default 900)"),
    ("register-commands", "true/false: register the commands at start-up (default true)"),
    ("log-level", "DEBUG, INFO, WARNING or ERROR (default INFO)"),
)


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="ladderbot", description="The 1v1 ladder bot (HTTP interactions).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    run = commands.add_parser(
        "run",
        help="run the bot until Ctrl-C",
        description="Every flag also reads LADDERBOT_<NAME> (e.g. LADDERBOT_TOKEN).",
    )
    run.add_argument("--config", default=None, help="TOML file with the same keys (snake_case)")
    for flag, text in _FLAGS:
        run.add_argument(f"--{flag}", default=None, help=text)
    return parser


class _KeyValueFormatter(logging.Formatter):
    """One line per event: ``ts level logger message`` (messages are key=value already)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")


def _setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def _run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with serve_bot(settings) as bot:
            print(f"ladderbot ready url={bot.url} interactions={bot.interactions_url}", flush=True)
            await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    flags = {flag.replace("-", "_"): getattr(args, flag.replace("-", "_")) for flag, _ in _FLAGS}
    try:
        settings = load_settings(flags, os.environ, args.config)
    except ConfigError as exc:
        print(f"ladderbot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _setup_logging(settings.log_level)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(settings))
    except (StartupError, StoreError) as exc:
        print(f"ladderbot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
