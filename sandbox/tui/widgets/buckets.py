"""The hottest buckets (from the mock's ticks), updated in place.

Rows are keyed by bucket key. When the same buckets are still the hottest, only their cells
change (`update_cell`), so the cursor and scroll position stay put; when the set changes,
the table is rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from sandbox.tui.views import BucketRow

__all__ = ["BucketsTable", "bucket_label"]

_COLUMNS = (("key", "Bucket"), ("limit", "Lim"), ("rem", "Rem"), ("reset", "Reset"), ("rl", "429"))
_WIDTH = 15


def bucket_label(row: BucketRow) -> str:
    """The route's rule name and the bucket's major parameter, in at most 15 cells."""
    parts = row.key.split(":", 2)
    major = parts[2] if len(parts) == 3 else ""
    name = row.route or (parts[1] if len(parts) >= 2 else row.key)
    if major and major != "-":
        room = max(4, _WIDTH - len(name) - 1)
        major = major if len(major) <= room else "…" + major[-(room - 1) :]
        text = f"{name} {major}"
    else:
        text = name
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


def _cells(row: BucketRow) -> tuple[str, str, str, str, str]:
    return (
        bucket_label(row),
        str(row.limit),
        str(row.remaining),
        f"{row.reset_after:.1f}s" if row.reset_after < 100 else f"{row.reset_after:.0f}s",
        str(row.rate_limited),
    )


class BucketsTable(DataTable[str]):
    DEFAULT_CSS = """
    BucketsTable { height: 1fr; }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label in _COLUMNS:
            self.add_column(label, key=key)

    def show(self, rows: Sequence[BucketRow]) -> None:
        keys = [r.key for r in rows]
        current = [str(k.value) for k in self.rows]
        if keys == current:
            for row in rows:
                for (col, _), value in zip(_COLUMNS, _cells(row), strict=True):
                    self.update_cell(row.key, col, value)
            return
        self.clear()
        for row in rows:
            self.add_row(*_cells(row), key=row.key)
