"""The global-rate panel: the chart, the current and peak rate, 429s by scope, invalid requests.

A 429 counter turns red for a few seconds after it moves (`RateView.moving`), so a burst of
429s is visible even when the totals are already large. The invalid-request count is shown
against Cloudflare's ban threshold, because crossing it bans the bot's IP for an hour.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from sandbox.tui.feed import SCOPES
from sandbox.tui.views import RateView
from sandbox.tui.widgets.chart import RateChart

__all__ = ["RatePanel", "rate_lines"]


def rate_lines(view: RateView) -> tuple[str, str, str]:
    """Three lines of Content markup under the chart."""
    over = view.peak_1s > view.limit
    peak_style = "bold red" if over else ("yellow" if view.peak_1s >= view.limit * 0.8 else "green")
    now = (
        f"now [b]{view.counted_1s}[/b]/s · peak_1s [{peak_style}]{view.peak_1s}[/]/{view.limit}"
        f" · exempt [b]{view.exempt_1s}[/b]/s"
    )
    parts = []
    for scope in SCOPES:
        n = view.rate_limited.get(scope, 0)
        style = "bold white on red" if scope in view.moving else ("red" if n else "dim")
        parts.append(f"{scope} [{style}] {n} [/]")
    limited = "429s " + " ".join(parts)
    ratio = view.invalid / view.ban_threshold if view.ban_threshold else 0.0
    inv_style = "bold red" if ratio >= 0.8 else ("yellow" if ratio >= 0.5 else "dim")
    bans = f"[bold red]{view.bans}[/]" if view.bans else "0"
    totals = (
        f"invalid [{inv_style}]{view.invalid}[/]/{view.ban_threshold} · bans {bans}"
        f" · total counted {view.counted_total}, exempt {view.exempt_total}"
    )
    return now, limited, totals


class RatePanel(Vertical):
    """Counted requests per second vs the global limit (the referee's figures)."""

    DEFAULT_CSS = """
    RatePanel { height: auto; }
    RatePanel > Static { height: 1; }
    """

    def compose(self) -> ComposeResult:
        yield RateChart(id="rate-chart")
        yield Static(id="rate-now")
        yield Static(id="rate-429")
        yield Static(id="rate-totals")

    def on_mount(self) -> None:
        self.border_title = "Global rate · counted req/s, last 60 s"
        self.show(RateView())

    def show(self, view: RateView) -> None:
        chart = self.query_one(RateChart)
        chart.data = tuple(view.series)
        chart.limit = view.limit
        now, limited, totals = rate_lines(view)
        self.query_one("#rate-now", Static).update(now)
        self.query_one("#rate-429", Static).update(limited)
        self.query_one("#rate-totals", Static).update(totals)
