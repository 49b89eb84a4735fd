"""Checking "click this component" requests against the message the component is on.

A user can only press a button or pick select options that exist on a message they can
see. The mock therefore finds the component by `custom_id` on the stored message (looking
inside action rows and Components V2 containers, sections and accessories) and checks what
a Discord client would: link buttons have no `custom_id`, disabled components cannot be
used, buttons take no values, and a select's values must be among its options and within
`min_values`..`max_values`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockdiscord.interactions.errors import InteractionInputError

__all__ = ["ComponentInvocation", "iter_components", "validate_component"]

ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
USER_SELECT = 5
ROLE_SELECT = 6
MENTIONABLE_SELECT = 7
CHANNEL_SELECT = 8
SELECTS = frozenset({STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT})


@dataclass(frozen=True, slots=True)
class ComponentInvocation:
    """A validated click: the component and, for selects, the chosen values."""

    custom_id: str
    component_type: int
    values: tuple[str, ...] | None
    user_ids: tuple[str, ...] = ()

    def data(self) -> dict[str, Any]:
        """The interaction's `data` object (without `resolved`)."""
        out: dict[str, Any] = {"custom_id": self.custom_id, "component_type": self.component_type}
        if self.values is not None:
            out["values"] = list(self.values)
        return out


def iter_components(components: Sequence[Mapping[str, Any]] | None) -> Iterator[Mapping[str, Any]]:
    """Every interactive component in a message's component tree, depth first."""
    for component in components or ():
        if not isinstance(component, Mapping):
            continue
        kind = component.get("type")
        if kind == BUTTON or kind in SELECTS:
            yield component
        yield from iter_components(component.get("components"))
        accessory = component.get("accessory")
        if isinstance(accessory, Mapping):
            yield from iter_components([accessory])


def validate_component(
    message: Mapping[str, Any],
    request: Mapping[str, Any],
    *,
    user_exists: Callable[[str], bool],
) -> ComponentInvocation:
    """Check a click on `message`; raise `InteractionInputError` naming the field."""
    custom_id = request.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise InteractionInputError("custom_id", "must be a non-empty string")
    component = next(
        (c for c in iter_components(message.get("components")) if c.get("custom_id") == custom_id),
        None,
    )
    if component is None:
        present = sorted(
            str(c["custom_id"])
            for c in iter_components(message.get("components"))
            if c.get("custom_id")
        )
        listing = ", ".join(present) if present else "none"
        raise InteractionInputError(
            "custom_id",
            f"message {message.get('id')} has no component {custom_id!r}; it has: {listing}",
        )
    if component.get("disabled"):
        raise InteractionInputError("custom_id", f"component {custom_id!r} is disabled")
    kind = int(component["type"])
    values = request.get("values")
    if kind == BUTTON:
        if values is not None:
            raise InteractionInputError("values", "a button takes no values")
        return ComponentInvocation(custom_id=custom_id, component_type=kind, values=None)
    return _select(component, custom_id, kind, values, user_exists)


def _select(
    component: Mapping[str, Any],
    custom_id: str,
    kind: int,
    values: Any,
    user_exists: Callable[[str], bool],
) -> ComponentInvocation:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InteractionInputError("values", "a select needs a list of string values")
    low = int(component.get("min_values", 1))
    high = int(component.get("max_values", 1))
    if not low <= len(values) <= high:
        raise InteractionInputError("values", f"choose between {low} and {high} values")
    if len(set(values)) != len(values):
        raise InteractionInputError("values", "values must not repeat")
    users: tuple[str, ...] = ()
    if kind == STRING_SELECT:
        allowed = [str(o.get("value")) for o in component.get("options") or []]
        for value in values:
            if value not in allowed:
                raise InteractionInputError(
                    "values", f"{value!r} is not an option; choose from {', '.join(allowed)}"
                )
    elif kind == USER_SELECT:
        for value in values:
            if not value.isdigit() or not user_exists(value):
                raise InteractionInputError("values", f"unknown user {value}")
        users = tuple(values)
    return ComponentInvocation(
        custom_id=custom_id, component_type=kind, values=tuple(values), user_ids=users
    )
