"""Players by state, and the open matches (select a row, then complete or abort it)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from sandbox.tui.views import MatchRow, PlayersView

__all__ = ["PlayersPanel", "counts_line"]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.0f}m"


def counts_line(view: PlayersView) -> str:
    c = view.counts
    line = (
        f"[b]{view.total}[/b] players: idle {c.get('idle', 0)} · queueing "
        f"[b]{c.get('queueing', 0)}[/b] · in match [b]{c.get('in match', 0)}[/b]"
    )
    extra = [f"{k} {v}" for k, v in c.items() if k not in ("idle", "queueing", "in match") and v]
    if extra:
        line += " · " + " · ".join(extra)
    bot = []
    if view.queued_at_bot is not None:
        bot.append(f"queued [b]{view.queued_at_bot}[/b]")
    if view.open_matches_at_bot is not None:
        bot.append(f"open matches [b]{view.open_matches_at_bot}[/b]")
    return line + ("\nbot: " + " · ".join(bot) if bot else "\nbot: —")


class PlayersPanel(Vertical):
    DEFAULT_CSS = """
    PlayersPanel > #player-counts { height: 2; }
    PlayersPanel > #matches { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="player-counts")
        yield DataTable(id="matches", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.border_title = "Players & matches"
        table = self.query_one("#matches", DataTable)
        for label in ("Match", "Players", "State", "Age"):
            table.add_column(label, key=label.lower())
        self.show(PlayersView())

    def show(self, view: PlayersView) -> None:
        self.query_one("#player-counts", Static).update(counts_line(view))
        table = self.query_one("#matches", DataTable)
        selected = self.selected_match()
        keys = [m.match_id for m in view.matches]
        if keys == [str(k.value) for k in table.rows]:
            for m in view.matches:
                table.update_cell(m.match_id, "state", m.state)
                table.update_cell(m.match_id, "age", _age(m.age_s))
            return
        table.clear()
        for m in view.matches:
            table.add_row(*self._cells(m), key=m.match_id)
        if selected in keys:
            table.move_cursor(row=keys.index(selected))

    @staticmethod
    def _cells(m: MatchRow) -> tuple[str, str, str, str]:
        names = " v ".join(m.players)
        names = names if len(names) <= 17 else names[:16] + "…"
        return (f"#{m.match_id}", names, m.state[:9], _age(m.age_s))

    def selected_match(self) -> str | None:
        table = self.query_one("#matches", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return None if key.value is None else str(key.value)
