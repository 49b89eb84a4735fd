"""The TUI's panels; each renders a view model from sandbox.tui.views."""

from sandbox.tui.widgets.buckets import BucketsTable
from sandbox.tui.widgets.chart import RateChart
from sandbox.tui.widgets.dispatch import DispatchPanel
from sandbox.tui.widgets.eventlog import EventLog
from sandbox.tui.widgets.header import HeaderBar, StatusLine
from sandbox.tui.widgets.players import PlayersPanel
from sandbox.tui.widgets.rate import RatePanel

__all__ = [
    "BucketsTable",
    "DispatchPanel",
    "EventLog",
    "HeaderBar",
    "PlayersPanel",
    "RateChart",
    "RatePanel",
    "StatusLine",
]
