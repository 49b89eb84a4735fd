"""A bar chart of requests per second with the global limit drawn across it.

Textual's `Sparkline` scales to its own maximum, so a limit line cannot be drawn against it
and 49/s under a limit of 50 looks the same as 490/s. This widget fixes the scale to the
limit (plus headroom, or the data's maximum if that is higher), draws one column per second
(newest on the right) with eighth-block precision, colours bars over the limit red, and
draws the limit as a dashed line where no bar covers it. `data` and `limit` are reactive:
assign a new tuple each refresh (mutation does not repaint).
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

__all__ = ["RateChart", "chart_rows"]

_EIGHTHS = " ▁▂▃▄▅▆▇█"
_AXIS = 5  # width of the value labels on the left, including the separator


def _scale_top(data: tuple[int, ...], limit: int) -> int:
    top = max(max(data, default=0), math.ceil(limit * 1.25), 1)
    step = 10 if top > 20 else 1
    return math.ceil(top / step) * step


def chart_rows(data: tuple[int, ...], limit: int, width: int, height: int) -> list[Text]:
    """The chart as `height` lines of `width` cells (pure; used by the widget and tests)."""
    height = max(1, height)
    cols = max(1, width - _AXIS)
    values = list(data[-cols:])
    values = [0] * (cols - len(values)) + values
    top = _scale_top(tuple(values), limit)
    per_row = top / height
    limit_row = min(height - 1, int(limit / per_row)) if limit > 0 else -1
    lines: list[Text] = []
    for r in range(height):
        b = height - 1 - r  # 0 = bottom row
        lo = b * per_row
        line = Text(no_wrap=True, overflow="crop")
        if r == 0:
            label = f"{top:>4}"
        elif b == limit_row:
            label = f"{limit:>4}"
        elif b == 0:
            label = f"{0:>4}"
        else:
            label = "    "
        line.append(label + "┤" if b in (0, limit_row) or r == 0 else label + "│", "dim")
        for v in values:
            over = v > limit
            style = "bold red" if over else "green"
            if v >= lo + per_row:
                line.append("█", style)
            elif v > lo:
                idx = max(1, min(8, int((v - lo) / per_row * 8)))
                line.append(_EIGHTHS[idx], style)
            elif b == limit_row:
                line.append("╌", "yellow")
            else:
                line.append(" ")
        lines.append(line)
    return lines


class RateChart(Widget):
    """Counted requests per second over the last minute, against the limit."""

    DEFAULT_CSS = """
    RateChart { height: 8; width: 1fr; }
    """

    data: reactive[tuple[int, ...]] = reactive(tuple, layout=False)
    limit: reactive[int] = reactive(50)

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        return Text("\n").join(chart_rows(self.data, self.limit, width, height))
