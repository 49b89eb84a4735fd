"""The one error type of the interactions package: a refusal that names the offending field.

When a fake player asks the control plane to do something a real Discord client would not
let a user do (run an unregistered command, pass a string to an integer option, click a
button that is not on the message), the mock refuses with a 400 whose JSON names the field,
so the person writing the scenario sees at once which input to fix.
"""

from __future__ import annotations

from typing import Any

__all__ = ["InteractionInputError"]


class InteractionInputError(ValueError):
    """Bad input to "act as a user": `field` is a dotted path such as `options.bw_race`."""

    def __init__(self, field: str, message: str, *, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status

    def to_json(self) -> dict[str, Any]:
        """The control plane's error body: a message, Discord's form-error code and the field."""
        return {
            "message": f"{self.field}: {self.message}",
            "code": 50035,
            "field": self.field,
            "errors": {self.field: {"_errors": [{"code": "INVALID", "message": self.message}]}},
        }
