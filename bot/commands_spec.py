"""The application commands the bot registers at start-up (``PUT /applications/{app}/commands``).

Why a spec module: Discord's client (and the mock, which checks commands the same way)
enforces what is declared here (option types, ``required``, ``choices``, bounds) before a
user can send anything, so the declarations are the first line of input validation. The
handlers still check every option again, because the endpoint is public and a signed
payload is not proof that its options are well-formed.

The race and map choices come from the ladder configuration, so a changed map pool is
registered with the next start. Names and option names are the ones the handlers read.
"""

from __future__ import annotations

from typing import Any

from bot.ladder.config import LadderConfig
from bot.ladder.elo import Outcome
from bot.ladder.races import Game, Race

__all__ = [
    "ADMIN_SUBCOMMANDS",
    "ATTACHMENT",
    "INTEGER",
    "RESULT_CHOICES",
    "STRING",
    "SUB_COMMAND",
    "USER",
    "command_definitions",
]

SUB_COMMAND = 1
STRING = 3
INTEGER = 4
USER = 6
ATTACHMENT = 11
CHAT_INPUT = 1

_RACE_NAMES = {
    Race.BW_TERRAN: "BW Terran",
    Race.BW_ZERG: "BW Zerg",
    Race.BW_PROTOSS: "BW Protoss",
    Race.SC2_TERRAN: "SC2 Terran",
    Race.SC2_ZERG: "SC2 Zerg",
    Race.SC2_PROTOSS: "SC2 Protoss",
}
RESULT_CHOICES: dict[str, str] = {
    Outcome.P1_WIN.value: "Player 1 (Brood War) won",
    Outcome.P2_WIN.value: "Player 2 (StarCraft II) won",
    Outcome.DRAW.value: "Draw",
    "void": "Void (no rating change)",
}
STRATEGY_CHOICES = ("naive", "sequential", "batched", "paced")
ADMIN_SUBCOMMANDS = (
    "wave",
    "resolve",
    "adjust_mmr",
    "ban",
    "unban",
    "clear_queue",
    "announce",
    "dispatch",
)


def race_label(race: Race) -> str:
    return _RACE_NAMES[race]


def _choices(values: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for value, name in values]


def _race_choices(game: Game | None) -> list[dict[str, str]]:
    return _choices([(r.value, _RACE_NAMES[r]) for r in Race if game is None or r.game is game])


def _option(
    kind: int, name: str, description: str, *, required: bool = False, **extra: Any
) -> dict[str, Any]:
    option: dict[str, Any] = {
        "type": kind,
        "name": name,
        "description": description,
        "required": required,
    }
    option.update(extra)
    return option


def _sub(name: str, description: str, options: list[dict[str, Any]] | None = None) -> dict:
    return {
        "type": SUB_COMMAND,
        "name": name,
        "description": description,
        "options": options or [],
    }


def command_definitions(config: LadderConfig) -> list[dict[str, Any]]:
    """The full command list, as the JSON body of the bulk overwrite."""
    maps = _choices([(m, m) for m in config.maps[:25]])
    vetoes = [
        _option(STRING, f"veto{i}", f"A map you do not want to play ({i})", choices=maps)
        for i in range(1, config.max_vetoes + 1)
    ]
    user_option = _option(USER, "user", "The player", required=True)
    commands: list[dict[str, Any]] = [
        {
            "name": "queue",
            "description": "Join the 1v1 ladder queue (Brood War vs StarCraft II)",
            "options": [
                _option(STRING, "bw_race", "Your Brood War race", choices=_race_choices(Game.BW)),
                _option(
                    STRING, "sc2_race", "Your StarCraft II race", choices=_race_choices(Game.SC2)
                ),
                *vetoes,
            ],
        },
        {"name": "leave", "description": "Leave the queue"},
        {
            "name": "leaderboard",
            "description": "The ladder's leaderboard",
            "options": [
                _option(STRING, "race", "Only this race", choices=_race_choices(None)),
                _option(INTEGER, "page", "Page number (1 = the top)", min_value=1),
            ],
        },
        {
            "name": "profile",
            "description": "Ratings and record of a player",
            "options": [_option(USER, "user", "Whose profile (default: yours)")],
        },
        {
            "name": "setup",
            "description": "Set your country and region",
            "options": [
                _option(
                    STRING,
                    "country",
                    "Your country (two-letter code)",
                    required=True,
                    min_length=2,
                    max_length=2,
                ),
                _option(
                    STRING,
                    "region",
                    "Your region (chooses servers)",
                    choices=_choices([(r, r) for r in _regions(config)]),
                ),
            ],
        },
        {
            "name": "replay",
            "description": "Upload the replay of your current or last match",
            "options": [_option(ATTACHMENT, "file", "The replay file", required=True)],
        },
        {
            "name": "admin",
            "description": "Ladder administration (admins only)",
            "options": [
                _sub("wave", "Run a matchmaking wave now"),
                _sub(
                    "resolve",
                    "Resolve a conflicted match",
                    [
                        _option(INTEGER, "match", "Match number", required=True, min_value=1),
                        _option(
                            STRING,
                            "result",
                            "The result",
                            required=True,
                            choices=_choices(list(RESULT_CHOICES.items())),
                        ),
                    ],
                ),
                _sub(
                    "adjust_mmr",
                    "Change a player's rating",
                    [
                        user_option,
                        _option(STRING, "race", "Race", required=True, choices=_race_choices(None)),
                        _option(
                            INTEGER, "delta", "Points to add (negative: remove)", required=True
                        ),
                    ],
                ),
                _sub("ban", "Ban a player from the ladder", [user_option]),
                _sub("unban", "Lift a ban", [user_option]),
                _sub("clear_queue", "Remove everybody from the queue"),
                _sub(
                    "announce",
                    "Send a DM to every registered player",
                    [
                        _option(
                            STRING,
                            "text",
                            "The announcement",
                            required=True,
                            min_length=1,
                            max_length=1800,
                        )
                    ],
                ),
                _sub(
                    "dispatch",
                    "Switch the notification dispatch strategy",
                    [
                        _option(
                            STRING,
                            "strategy",
                            "Strategy",
                            required=True,
                            choices=_choices([(s, s) for s in STRATEGY_CHOICES]),
                        )
                    ],
                ),
            ],
        },
    ]
    for command in commands:
        command.setdefault("options", [])
        command["type"] = CHAT_INPUT
        command["contexts"] = [0, 1]  # usable in a server and in the bot's DMs
        command["integration_types"] = [0]
    return commands


def _regions(config: LadderConfig) -> list[str]:
    regions = sorted({region for pair in config.servers for region in pair})
    return regions[:25]
