"""Modal dialogs: forms validated inline, pickers, a confirmation.

`FormDialog` is the one form: labelled inputs, an error line, OK/Cancel. On submit (Enter
in any field, or OK) it passes the raw texts to a pure parser from `sandbox.tui.forms`; a
`FormError` is shown in red under the fields and the dialog stays open, anything else the
parser raises is shown the same way (a parser bug must not take the app down). A valid form
dismisses with the parsed value; Escape dismisses with None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from sandbox.tui.forms import FormError

__all__ = [
    "ConfirmDialog",
    "Field",
    "FilterDialog",
    "FormDialog",
    "PickDialog",
]

T = TypeVar("T")

_MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; width: 1fr; padding: 0 0 1 0; }}
{name} .help {{ color: $text-muted; width: 1fr; }}
{name} .row {{ height: 1; margin-bottom: 1; }}
{name} .row Label {{ width: 16; padding: 0 1 0 0; }}
{name} .row Input {{ width: 1fr; height: 1; border: none; padding: 0 1; background: $boost; }}
{name} .row Input:focus {{ background: $primary 30%; }}
{name} #error {{ color: $error; text-style: bold; height: auto; width: 1fr; }}
{name} .buttons {{ height: 3; align-horizontal: right; }}
{name} .buttons Button {{ margin-left: 1; min-width: 10; }}
"""


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    tooltip: str = ""


class FormDialog(ModalScreen[T | None], Generic[T]):
    DEFAULT_CSS = _MODAL_CSS.format(name="FormDialog")
    AUTO_FOCUS = "Input"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without changes", id="dialog.cancel")
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        parse: Callable[..., T],
        *,
        help_text: str = "",
        cursor_blink: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._title = title
        self._fields = tuple(fields)
        self._parse = parse
        self._help = help_text
        self._blink = cursor_blink

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title")
            if self._help:
                yield Static(self._help, classes="help")
            for f in self._fields:
                with Horizontal(classes="row"):
                    yield Label(f.label)
                    field = Input(
                        f.value,
                        placeholder=f.placeholder,
                        id=f"field-{f.name}",
                        tooltip=f.tooltip or None,
                        select_on_focus=False,
                    )
                    field.cursor_blink = self._blink
                    yield field
            yield Static("", id="error")
            with Horizontal(classes="buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def values(self) -> list[str]:
        return [self.query_one(f"#field-{f.name}", Input).value for f in self._fields]

    def set_value(self, name: str, value: str) -> None:
        self.query_one(f"#field-{name}", Input).value = value

    @property
    def error(self) -> str:
        return str(self.query_one("#error", Static).render())

    def submit(self) -> None:
        try:
            value = self._parse(*self.values())
        except FormError as error:
            self._show_error(str(error))
            return
        except Exception as error:  # a parser bug: show it, never crash
            self._show_error(f"{type(error).__name__}: {error}")
            return
        self.dismiss(value)

    def _show_error(self, text: str) -> None:
        self.query_one("#error", Static).update(text)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._show_error("")

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class PickDialog(ModalScreen[str | None]):
    """Pick one of a few names (e.g. a strategy)."""

    DEFAULT_CSS = _MODAL_CSS.format(name="PickDialog") + "PickDialog OptionList { height: auto; }"
    AUTO_FOCUS = "OptionList"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without changes", id="dialog.cancel")
    ]

    def __init__(self, title: str, choices: Iterable[tuple[str, str]], current: str | None) -> None:
        super().__init__()
        self._title = title
        self._choices = tuple(choices)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title")
            yield OptionList(
                *(Option(f"{name:<11} {text}", id=name) for name, text in self._choices)
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [name for name, _ in self._choices]
        if self._current in names:
            options.highlighted = names.index(self._current)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FilterDialog(ModalScreen[frozenset[str] | None]):
    """Choose which event kinds the log shows (space toggles, Enter applies)."""

    DEFAULT_CSS = (
        _MODAL_CSS.format(name="FilterDialog") + "FilterDialog SelectionList { height: auto; }"
    )
    AUTO_FOCUS = "SelectionList"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without changes", id="dialog.cancel"),
        Binding(
            "enter",
            "apply",
            "Apply",
            tooltip="Show the chosen kinds",
            id="dialog.apply",
            priority=True,
        ),
    ]

    def __init__(self, kinds: Sequence[str], shown: frozenset[str]) -> None:
        super().__init__()
        self._kinds = tuple(kinds)
        self._shown = shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Event log: kinds to show (space toggles, enter applies)", classes="title")
            yield SelectionList[str](*((k, k, k in self._shown) for k in self._kinds))
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def action_apply(self) -> None:
        self.dismiss(frozenset(self.query_one(SelectionList).selected))

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    DEFAULT_CSS = _MODAL_CSS.format(name="ConfirmDialog")
    BINDINGS = [
        Binding("escape", "no", "No", tooltip="Do nothing", id="dialog.no"),
        Binding("y", "yes", "Yes", tooltip="Go ahead", id="dialog.yes"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question, classes="title")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (esc)", id="no")

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)


def describe(value: Any) -> str:
    return "all" if value is None else str(value)
