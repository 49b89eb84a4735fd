"""The sandbox's Textual front end (the only package that imports textual).

`create_app(backend)` builds the app (the CLI and the tests share it); `run_tui(attach=None)`
starts an embedded stack (or attaches to a running mock and bot), runs the app and tears the
stack down when the app ends, however it ends.

Imports are lazy: `sandbox.cli` imports `sandbox.tui.cli` just to build its parser, and that
must not pay for importing Textual.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Backend", "SandboxApp", "create_app", "run_tui"]


def __getattr__(name: str) -> Any:
    if name in ("SandboxApp", "create_app"):
        from sandbox.tui import app

        return getattr(app, name)
    if name == "Backend":
        from sandbox.tui.backend import Backend

        return Backend
    if name == "run_tui":
        from sandbox.tui.run import run_tui

        return run_tui
    raise AttributeError(name)
