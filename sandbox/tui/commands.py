"""The command palette: every operator action by name (generated from `ACTIONS`)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from sandbox.tui.actions import ACTIONS

__all__ = ["SandboxCommands"]


class SandboxCommands(Provider):
    """Lists every action with its key; runs the same action the key runs."""

    async def _run(self, name: str) -> None:
        await self.app.run_action(name)

    async def discover(self) -> Hits:
        for spec in ACTIONS:
            yield DiscoveryHit(
                f"{spec.title}  ({spec.key})", partial(self._run, spec.name), help=spec.tooltip
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec in ACTIONS:
            score = matcher.match(spec.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(spec.title),
                    partial(self._run, spec.name),
                    help=f"{spec.tooltip}  ({spec.key})",
                )
