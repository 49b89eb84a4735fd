"""One header line: what is running (mock, bot, event stream), the strategy and the uptime."""

from __future__ import annotations

from dataclasses import dataclass

from textual.widgets import Static

__all__ = ["HeaderBar", "StatusLine", "format_uptime"]


def format_uptime(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass(frozen=True, slots=True)
class StatusLine:
    label: str = "embedded"
    mock: str = "starting"  # "up" | "down" | "starting"
    bot: str = "starting"
    stream: str = "starting"
    strategy: str = "?"
    uptime_s: float = 0.0
    paused: bool = False
    busy: int = 0  # actions running

    def markup(self) -> str:
        def dot(state: str) -> str:
            style = {"up": "green", "down": "bold red"}.get(state, "yellow")
            return f"[{style}]●[/] {state}"

        busy = f"  [yellow]⟳ {self.busy}[/]" if self.busy else ""
        paused = "  [b black on yellow] PLAYERS PAUSED [/]" if self.paused else ""
        return (
            f"[b]Discord burst sandbox[/b] ({self.label})  "
            f"mock {dot(self.mock)}  bot {dot(self.bot)}  events {dot(self.stream)}  "
            f"strategy [b]{self.strategy}[/b]  up {format_uptime(self.uptime_s)}{busy}{paused}"
        )


class HeaderBar(Static):
    DEFAULT_CSS = """
    HeaderBar { dock: top; height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def show(self, line: StatusLine) -> None:
        self.update(line.markup())
