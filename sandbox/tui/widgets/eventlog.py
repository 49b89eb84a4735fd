"""The event log: waves, 429s, bans, failed interactions, aborts, conflicts, faults, actions.

Entries are kept (bounded) so that changing the filter re-renders what is already known.
Lines arrive in batches, one batch per refresh (see sandbox.tui.feed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, tzinfo

from rich.text import Text
from textual.widgets import RichLog

from sandbox.tui.feed import LOG_KINDS, LogEntry

__all__ = ["EventLog"]

_STYLES = {
    "wave": "bold cyan",
    "429": "bold red",
    "ban": "bold white on red",
    "interaction": "magenta",
    "abort": "yellow",
    "conflict": "bold yellow",
    "fault": "red",
    "action": "green",
    "scenario": "blue",
    "stream": "dim",
}
KEEP = 2000


class EventLog(RichLog):
    DEFAULT_CSS = """
    EventLog { height: 1fr; }
    """

    def __init__(
        self,
        *,
        tz: tzinfo | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            id=id,
            classes=classes,
            max_lines=KEEP,
            min_width=20,
            wrap=True,
            markup=False,
            auto_scroll=True,
        )
        self._entries: deque[LogEntry] = deque(maxlen=KEEP)
        self._kinds: frozenset[str] = frozenset(LOG_KINDS)
        self._tz = tz

    def on_mount(self) -> None:
        self._retitle()

    @property
    def kinds(self) -> frozenset[str]:
        return self._kinds

    def set_kinds(self, kinds: Iterable[str]) -> None:
        self._kinds = frozenset(kinds) & frozenset(LOG_KINDS)
        self.clear()
        for entry in self._entries:
            if entry.kind in self._kinds:
                self.write(self._line(entry))
        self._retitle()

    def add(self, entries: Iterable[LogEntry]) -> None:
        for entry in entries:
            self._entries.append(entry)
            if entry.kind in self._kinds:
                self.write(self._line(entry))

    def visible(self) -> list[LogEntry]:
        return [e for e in self._entries if e.kind in self._kinds]

    def _line(self, entry: LogEntry) -> Text:
        stamp = datetime.fromtimestamp(entry.at, tz=self._tz).strftime("%H:%M:%S")
        line = Text()
        line.append(stamp + " ", "dim")
        line.append(f"{entry.kind:<6} ", _STYLES.get(entry.kind, ""))
        line.append(entry.text)
        return line

    def _retitle(self) -> None:
        if self._kinds == frozenset(LOG_KINDS):
            self.border_title = "Events · all kinds (/ to filter)"
        else:
            shown = ", ".join(k for k in LOG_KINDS if k in self._kinds) or "none"
            self.border_title = f"Events · {shown}"
