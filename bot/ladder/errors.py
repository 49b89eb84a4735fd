"""Refusals a player or admin can cause, as one exception family.

The app layer turns a `LadderError` into an ephemeral one-line reply (`str(error)`), so every
message here is written for a person; anything else escaping the domain is a bug.
"""

from __future__ import annotations

__all__ = [
    "AlreadyConfirmed",
    "Banned",
    "InvalidQueueEntry",
    "LadderError",
    "NoAbortsLeft",
    "NotAPlayerOfMatch",
    "NotIdle",
    "WrongMatchState",
]


class LadderError(Exception):
    """Base class: a request the rules refuse."""


class Banned(LadderError):
    """The player is banned from the ladder."""


class NotIdle(LadderError):
    """The player is already queueing or in a match."""


class InvalidQueueEntry(LadderError):
    """Bad race combination or too many vetoes."""


class NotAPlayerOfMatch(LadderError):
    """The user acting on a match is not one of its two players."""


class WrongMatchState(LadderError):
    """The action does not apply to the match's current state (e.g. a late click)."""


class AlreadyConfirmed(LadderError):
    """The player already confirmed (their buttons are disabled)."""


class NoAbortsLeft(LadderError):
    """The player has no aborts left."""
