"""`sandbox`: the operator's command line (``sandbox run FILE...``, and more to come).

Why a registry of subcommands: ``run`` lives here; ``bench``, ``audit`` and ``tui`` are
written by other people in their own modules. Each is one entry in `SUBCOMMANDS`: a name,
a one-line help and the module that implements it. The module provides two functions:

    def configure(parser: argparse.ArgumentParser) -> None   # add its flags
    def run(args: argparse.Namespace) -> int                  # do it; the exit code

A module is imported only to build the parser, so it must not import heavy things (the
TUI's textual) at module level. An entry whose module is not installed yet is skipped, so
the registry can list planned subcommands before they land.

Exit codes: 0 all good, 1 some expectation failed, 2 a person's mistake (bad flag, bad
file, port in use, a stack that could not start): one line on stderr, never a traceback.
Ctrl-C tears the stack down (children included) and exits 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NoReturn

__all__ = ["EXIT_INTERRUPTED", "EXIT_USAGE", "SUBCOMMANDS", "Subcommand", "build_parser", "main"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    help: str
    module: str
    """Importable module with ``configure(parser)`` and ``run(args) -> int``."""


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("run", "run scenario files headless and report", "sandbox.cli"),
    Subcommand("bench", "the dispatch benchmark", "sandbox.bench"),
    Subcommand("audit", "the seed's burst audit, measured", "sandbox.audit"),
    Subcommand("tui", "the interactive sandbox", "sandbox.tui.cli"),
)


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


# -- `sandbox run` ------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario TOML files")
    parser.add_argument("--json", dest="json_path", metavar="PATH", help="write a JSON report")
    parser.add_argument("--junit", dest="junit_path", metavar="PATH", help="write JUnit XML")
    parser.add_argument("--seed", type=int, default=None, help="override every [setup] seed")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the mock and the bot inside this process (default: child processes)",
    )
    parser.add_argument(
        "--runs-dir",
        default="data/runs",
        metavar="DIR",
        help="where each run's data folder is made (default data/runs)",
    )


def run(args: argparse.Namespace) -> int:
    from sandbox.operator import scenario_factory
    from sandbox.scenario import run_scenarios

    factory = scenario_factory(
        mode="inprocess" if args.in_process else "subprocess", runs_dir=Path(args.runs_dir)
    )
    return run_scenarios(
        args.files,
        factory,
        json_path=args.json_path,
        junit_path=args.junit_path,
        seed=args.seed,
    )


# -- the front ----------------------------------------------------------------------------------


def _load(entry: Subcommand) -> ModuleType | None:
    if entry.module == __name__:
        return sys.modules[__name__]
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as error:
        if error.name is not None and entry.module.startswith(error.name):
            return None  # not landed yet
        raise
    if not (hasattr(module, "configure") and hasattr(module, "run")):
        return None
    return module


def build_parser(
    subcommands: Sequence[Subcommand] = SUBCOMMANDS,
) -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="sandbox", description="The Discord burst sandbox: scenarios, benchmark, audit."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    for entry in subcommands:
        module = _load(entry)
        if module is None:
            continue
        sub = commands.add_parser(entry.name, help=entry.help, description=entry.help)
        module.configure(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and not sys.argv[1:]:
        argv = ["tui"]  # `sandbox` alone (the console script) opens the TUI
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("sandbox: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
