"""The custom_ids of the bot's buttons and selects: built in one place, parsed in one place.

Why: a click comes back to the bot with nothing but the custom_id and the clicking user, so
the id must carry what the handler needs (the match number, the leaderboard page) and be
checked strictly on the way back. Anything that does not parse is not from one of our
messages and is refused with a 400, before any state is read. Ids stay well under
Discord's 100-character limit.

Shapes:

- ``queue:leave``: the [Leave queue] button of the searching message;
- ``match:<id>:confirm`` / ``match:<id>:abort``: the details message's buttons;
- ``match:<id>:report``: the result select (values ``win`` / ``loss`` / ``draw``);
- ``lb:<race|all>:<page>:prev`` / ``lb:<race|all>:<page>:next``: leaderboard paging, where
  ``page`` is the 0-based page the message shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ladder.races import Race

__all__ = [
    "LeaderboardNav",
    "LeaveQueue",
    "MatchAction",
    "ParsedCustomId",
    "leaderboard_nav",
    "leave_queue",
    "match_action",
    "parse_custom_id",
]

MATCH_ACTIONS = ("confirm", "abort", "report")
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class LeaveQueue:
    pass


@dataclass(frozen=True, slots=True)
class MatchAction:
    match_id: int
    action: str  # one of MATCH_ACTIONS


@dataclass(frozen=True, slots=True)
class LeaderboardNav:
    race: Race | None
    page: int  # the page the message shows
    direction: int  # -1 (prev) or +1 (next)

    @property
    def target(self) -> int:
        return self.page + self.direction


ParsedCustomId = LeaveQueue | MatchAction | LeaderboardNav


def leave_queue() -> str:
    return "queue:leave"


def match_action(match_id: int, action: str) -> str:
    if action not in MATCH_ACTIONS:
        raise ValueError(f"unknown match action {action!r}")
    return f"match:{match_id}:{action}"


def leaderboard_nav(race: Race | None, page: int, direction: str) -> str:
    if direction not in ("prev", "next"):
        raise ValueError(f"unknown direction {direction!r}")
    return f"lb:{race.value if race else 'all'}:{page}:{direction}"


def _number(text: str, maximum: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise ValueError(f"{text!r} is not a number")
    value = int(text)
    if value > maximum:
        raise ValueError(f"{value} is out of range")
    return value


def parse_custom_id(custom_id: str) -> ParsedCustomId:
    """Parse a custom_id the bot made; raises ValueError for anything else."""
    try:
        return _parse(custom_id)
    except ValueError as exc:
        raise ValueError(f"unknown custom_id {custom_id[:100]!r}: {exc}") from None


def _parse(custom_id: str) -> ParsedCustomId:
    parts = custom_id.split(":")
    if parts == ["queue", "leave"]:
        return LeaveQueue()
    if len(parts) == 3 and parts[0] == "match" and parts[2] in MATCH_ACTIONS:
        match_id = _number(parts[1], 2**63 - 1)
        if match_id < 1:
            raise ValueError("match ids start at 1")
        return MatchAction(match_id, parts[2])
    if len(parts) == 4 and parts[0] == "lb" and parts[3] in ("prev", "next"):
        race = None if parts[1] == "all" else Race(parts[1])
        return LeaderboardNav(race, _number(parts[2], MAX_PAGE), -1 if parts[3] == "prev" else 1)
    raise ValueError("not one of the bot's component ids")
