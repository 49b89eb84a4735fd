"""The dispatcher panel: strategy (switchable), the current wave's two phases, recent waves.

Phase 1 ("match found": the edit of each player's searching message) and phase 2 (the match
details in a new DM) are shown as x/y with a bar each. The ETA is the time phase 2 still
needs at its current delivery rate; beside it, the wave's lower bound (ceil(C/L) - 1 s for
C counted calls under a limit of L per second, bot/notify/metrics.py) and the time elapsed,
so the operator sees how close the strategy runs to perfect while the wave is still going.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, ProgressBar, Select, Static

from sandbox.tui.forms import STRATEGIES
from sandbox.tui.views import DispatchView, WaveProgress, WaveRow

__all__ = ["DispatchPanel", "eta_line", "wave_cells"]


def _s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}s"


def eta_line(wave: WaveProgress | None, pending: int) -> str:
    if wave is None:
        return f"no wave running · outbox pending {pending}"
    eta = "—" if wave.eta_s is None else f"{wave.eta_s:.1f}s"
    left = max(0.0, wave.lower_bound_s - wave.elapsed_s)
    return (
        f"wave #{wave.wave_id} · {wave.matches} matches · elapsed {wave.elapsed_s:.1f}s · "
        f"ETA {eta} · bound {wave.lower_bound_s:.1f}s ({left:.1f}s left)"
    )


def wave_cells(row: WaveRow) -> tuple[str, ...]:
    ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
    limited = f"[b red]{row.rate_limited}[/]" if row.rate_limited else "0"
    return (
        f"#{row.wave_id}",
        row.strategy,
        str(row.matches),
        _s(row.phase1_spread_s, 3),
        _s(row.makespan_s),
        ratio,
        limited,
    )


class DispatchPanel(Vertical):
    """The bot's dispatcher as its GET /status shows it."""

    DEFAULT_CSS = """
    DispatchPanel { height: auto; }
    DispatchPanel > #strategy-row { height: 3; }
    DispatchPanel #strategy-label { padding: 1 1 0 0; width: auto; }
    DispatchPanel #strategy { width: 20; }
    DispatchPanel .phase { height: 1; }
    DispatchPanel .phase Label { width: 16; }
    DispatchPanel .phase ProgressBar { width: 1fr; }
    DispatchPanel .phase Bar { width: 1fr; }
    DispatchPanel #eta { height: 1; }
    DispatchPanel #waves { height: 6; }
    """

    class StrategyChosen(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._strategy = "?"

    def compose(self) -> ComposeResult:
        with Horizontal(id="strategy-row"):
            yield Label("strategy", id="strategy-label")
            yield Select(
                [(s, s) for s in STRATEGIES],
                allow_blank=True,
                id="strategy",
                prompt="?",
                tooltip="The bot's dispatch strategy (t): naive, sequential, batched, paced",
            )
            yield Static(id="outbox")
        with Horizontal(classes="phase"):
            yield Label("phase 1  0/0", id="p1-label")
            yield ProgressBar(id="p1", show_eta=False, total=1)
        with Horizontal(classes="phase"):
            yield Label("phase 2  0/0", id="p2-label")
            yield ProgressBar(id="p2", show_eta=False, total=1)
        yield Static(id="eta")
        yield DataTable(id="waves", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.border_title = "Dispatcher"
        table = self.query_one("#waves", DataTable)
        for label in ("Wave", "Strategy", "Match", "P1 spread", "Makespan", "Ratio", "429"):
            table.add_column(label, key=label.lower())
        self.show(DispatchView())

    @property
    def strategy(self) -> str:
        return self._strategy

    def show(self, view: DispatchView) -> None:
        self._strategy = view.strategy
        select = self.query_one("#strategy", Select)
        if view.strategy in STRATEGIES and select.value != view.strategy:
            select.value = view.strategy
        wave = view.current
        for n, (done, items) in (
            (1, wave.phase1 if wave else (0, 0)),
            (2, wave.phase2 if wave else (0, 0)),
        ):
            self.query_one(f"#p{n}-label", Label).update(f"phase {n} {done:>4}/{items:<4}")
            bar = self.query_one(f"#p{n}", ProgressBar)
            bar.update(total=max(items, 1), progress=min(done, max(items, 1)))
        self.query_one("#eta", Static).update(eta_line(wave, view.outbox_pending))
        table = self.query_one("#waves", DataTable)
        table.clear()
        for row in view.recent:
            table.add_row(*wave_cells(row), key=str(row.wave_id))

    @on(Select.Changed, "#strategy")
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        if isinstance(value, str) and value != self._strategy:
            self.post_message(self.StrategyChosen(value))
