"""Discord message components as plain JSON: action rows, buttons, string selects.

Small builders so the views read as layouts, not as nested dictionaries. Styles follow
Discord's numbering (1 primary, 2 secondary, 3 success, 4 danger).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "DANGER",
    "PRIMARY",
    "SECONDARY",
    "SUCCESS",
    "button",
    "row",
    "string_select",
]

ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3

PRIMARY = 1
SECONDARY = 2
SUCCESS = 3
DANGER = 4

JSON = dict[str, Any]


def row(*components: JSON) -> JSON:
    return {"type": ACTION_ROW, "components": list(components)}


def button(label: str, custom_id: str, *, style: int = PRIMARY, disabled: bool = False) -> JSON:
    return {
        "type": BUTTON,
        "style": style,
        "label": label[:80],
        "custom_id": custom_id,
        "disabled": disabled,
    }


def string_select(
    custom_id: str,
    options: Sequence[tuple[str, str]],
    *,
    placeholder: str | None = None,
    disabled: bool = False,
) -> JSON:
    """A one-value select; ``options`` are (value, label) pairs."""
    select: JSON = {
        "type": STRING_SELECT,
        "custom_id": custom_id,
        "options": [{"label": label, "value": value} for value, label in options],
        "min_values": 1,
        "max_values": 1,
        "disabled": disabled,
    }
    if placeholder:
        select["placeholder"] = placeholder
    return select
