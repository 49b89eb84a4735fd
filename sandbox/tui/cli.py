"""`sandbox tui [--attach URL]`: the subcommand entry for `sandbox.cli`'s registry.

Kept free of Textual imports: `sandbox.cli` imports this module to build its parser.
"""

from __future__ import annotations

import argparse

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attach",
        metavar="URL",
        default=None,
        help="attach to a running mock (e.g. http://127.0.0.1:8787) instead of starting one",
    )
    parser.add_argument(
        "--bot",
        metavar="URL",
        default=None,
        help="the bot's URL when attaching (default: from the application's interactions URL)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for the fake players")
    parser.add_argument(
        "--strategy",
        choices=("naive", "sequential", "batched", "paced"),
        default=None,
        help="the bot's dispatch strategy at start",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the mock and the bot inside this process (default: child processes)",
    )
    parser.add_argument(
        "--runs-dir",
        default="data/runs",
        metavar="DIR",
        help="where the run's data folder is made (default data/runs)",
    )


def run(args: argparse.Namespace) -> int:
    from sandbox.tui.run import run_tui

    return run_tui(
        args.attach,
        bot_url=args.bot,
        in_process=args.in_process,
        seed=args.seed,
        runs_dir=args.runs_dir,
        strategy=args.strategy,
    )
