"""The bot's settings: one immutable value built from flags, environment and a TOML file.

Why one value: every part of the bot (the endpoint, the service timers, the dispatcher,
the ladder rules) reads its numbers from here, and nothing reads the environment or a file
on its own. `load_settings` merges the sources in a fixed order, highest first:

1. command-line flags (`ladderbot run --token ...`);
2. environment variables, `LADDERBOT_<KEY>` (e.g. ``LADDERBOT_TOKEN``);
3. the TOML file given with ``--config`` / ``LADDERBOT_CONFIG`` (flat keys, see `KEYS`);
4. the defaults below (the rules' defaults: 45 s waves, 60 s confirmation, 22.5 s
   heartbeat).

Every mistake a person can make (a missing token, a public key that is not 64 hex digits,
``--listen`` without a port, an unknown key in the file) raises `ConfigError` whose text is
one line that names the setting and says what is expected: the CLI prints it and exits 2.
Nothing here is specific to the mock: pointed at ``https://discord.com/api/v10`` with a
real token, application id and public key, the same settings run the real bot.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.ladder.config import LadderConfig

__all__ = ["ENV_PREFIX", "KEYS", "ConfigError", "Settings", "load_settings", "parse_listen"]

ENV_PREFIX = "LADDERBOT_"
DEFAULT_API_BASE = "https://discord.com/api/v10"
STRATEGIES = ("naive", "sequential", "batched", "paced")

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")


class ConfigError(Exception):
    """A setting is missing or invalid; ``str(error)`` is a one-line message for a person."""


@dataclass(frozen=True)
class Settings:
    token: str
    application_id: str
    public_key: str
    api_base: str = DEFAULT_API_BASE
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    db_path: Path = Path("ladderbot.db")
    admin_ids: frozenset[int] = frozenset()
    admin_channel_id: int | None = None
    guild_id: str | None = None
    """Register the commands in this guild only (instant) instead of globally."""
    register_commands: bool = True
    dispatch: str = "paced"
    wave_interval: float = 45.0
    """Seconds between waves, aligned to Unix time; 0 = waves only through /admin wave."""
    heartbeat_interval: float = 22.5
    """Seconds between refreshes of the searching messages; 0 = no heartbeat."""
    sweep_interval: float = 1.0
    """Longest sleep of the deadline sweeper (it also wakes at the next deadline)."""
    confirm_timeout: float = 60.0
    report_timeout: float = 3600.0
    global_limit: int = 50
    """The REST global limit per second the limiter paces to (Discord: 50)."""
    token_lifetime: float = 900.0
    """Interaction token lifetime (Discord: 15 minutes)."""
    log_level: str = "INFO"
    ladder: LadderConfig = field(default_factory=LadderConfig)

    def __post_init__(self) -> None:
        ladder = dataclasses.replace(
            self.ladder,
            wave_interval_s=self.wave_interval,
            confirm_timeout_s=self.confirm_timeout,
            report_timeout_s=self.report_timeout,
        )
        object.__setattr__(self, "ladder", ladder)

    @property
    def interactions_path(self) -> str:
        return "/interactions"


# --- parsing one value ------------------------------------------------------------------


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {type(value).__name__}")
    return value.strip()


def _nonempty(name: str, value: Any) -> str:
    text = _text(name, value)
    if not text:
        raise ConfigError(f"{name} must not be empty")
    return text


def _snowflake(name: str, value: Any) -> str:
    text = str(value).strip() if isinstance(value, int) and not isinstance(value, bool) else None
    if text is None:
        text = _text(name, value)
    if not _SNOWFLAKE.match(text):
        raise ConfigError(f"{name} must be a Discord id (digits only), got {text!r}")
    return text


def _public_key(name: str, value: Any) -> str:
    text = _text(name, value)
    if not _HEX64.match(text):
        raise ConfigError(f"{name} must be 64 hex digits (the application's public key)")
    return text.lower()


def _api_base(name: str, value: Any) -> str:
    text = _text(name, value).rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL such as {DEFAULT_API_BASE}")
    return text


def _number(name: str, value: Any, *, minimum: float = 0.0, positive: bool = False) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number of seconds")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(number) or number < minimum or (positive and number <= 0):
        bound = "> 0" if positive else f">= {minimum:g}"
        raise ConfigError(f"{name} must be {bound}, got {value!r}")
    return number


def _int(name: str, value: Any, *, minimum: int = 1) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be an integer")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {number}")
    return number


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _admin_ids(name: str, value: Any) -> frozenset[int]:
    items: list[Any]
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    else:
        items = [part for part in _text(name, value).replace(" ", ",").split(",") if part]
    return frozenset(int(_snowflake(name, item)) for item in items)


def parse_listen(name: str, value: Any) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6); port 0 picks a free one."""
    text = _nonempty(name, value)
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{name} must be HOST:PORT, e.g. 127.0.0.1:8080, got {text!r}")
    host = host.strip("[]")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{name} must end with a port number 0-65535, got {text!r}")
    return host, int(port)


def _strategy(name: str, value: Any) -> str:
    text = _text(name, value)
    if text not in STRATEGIES:
        raise ConfigError(f"{name} must be one of {', '.join(STRATEGIES)}, got {text!r}")
    return text


def _log_level(name: str, value: Any) -> str:
    text = _text(name, value).upper()
    if text not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{name} must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return text


# key -> (Settings fields it sets, parser). "listen" sets two fields.
KEYS: dict[str, Callable[[str, Any], dict[str, Any]]] = {
    "token": lambda n, v: {"token": _nonempty(n, v)},
    "application_id": lambda n, v: {"application_id": _snowflake(n, v)},
    "public_key": lambda n, v: {"public_key": _public_key(n, v)},
    "api_base": lambda n, v: {"api_base": _api_base(n, v)},
    "listen": lambda n, v: dict(
        zip(("listen_host", "listen_port"), parse_listen(n, v), strict=True)
    ),
    "db": lambda n, v: {"db_path": Path(_nonempty(n, v))},
    "admin_ids": lambda n, v: {"admin_ids": _admin_ids(n, v)},
    "admin_channel_id": lambda n, v: {"admin_channel_id": int(_snowflake(n, v))},
    "guild_id": lambda n, v: {"guild_id": _snowflake(n, v)},
    "register_commands": lambda n, v: {"register_commands": _bool(n, v)},
    "dispatch": lambda n, v: {"dispatch": _strategy(n, v)},
    "wave_interval": lambda n, v: {"wave_interval": _number(n, v)},
    "heartbeat_interval": lambda n, v: {"heartbeat_interval": _number(n, v)},
    "sweep_interval": lambda n, v: {"sweep_interval": _number(n, v, positive=True)},
    "confirm_timeout": lambda n, v: {"confirm_timeout": _number(n, v, positive=True)},
    "report_timeout": lambda n, v: {"report_timeout": _number(n, v, positive=True)},
    "global_limit": lambda n, v: {"global_limit": _int(n, v)},
    "token_lifetime": lambda n, v: {"token_lifetime": _number(n, v, positive=True)},
    "log_level": lambda n, v: {"log_level": _log_level(n, v)},
}
"""Every setting, by its file key; the flag is ``--key-with-dashes``, the environment
variable ``LADDERBOT_KEY``."""

_REQUIRED = {
    "token": "the bot token (--token or LADDERBOT_TOKEN)",
    "application_id": "the application id (--application-id or LADDERBOT_APPLICATION_ID)",
    "public_key": "the application's public key (--public-key or LADDERBOT_PUBLIC_KEY)",
}


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    for key in data:
        if key not in KEYS:
            raise ConfigError(
                f"config file {path}: unknown key {key!r} (known: {', '.join(sorted(KEYS))})"
            )
    return data


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Settings:
    """Merge flags > environment > file > defaults; raises `ConfigError` (one line)."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = env or {}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if path:
        layers.append(("file", _read_file(Path(path))))
    layers.append(
        ("env", {k: env[ENV_PREFIX + k.upper()] for k in KEYS if ENV_PREFIX + k.upper() in env})
    )
    layers.append(("flag", flags))
    values: dict[str, Any] = {}
    for source, layer in layers:
        for key, raw in layer.items():
            if key not in KEYS:
                raise ConfigError(f"unknown setting {key!r}")
            name = {
                "file": key,
                "env": ENV_PREFIX + key.upper(),
                "flag": "--" + key.replace("_", "-"),
            }[source]
            values.update(KEYS[key](name, raw))
    missing = [what for key, what in _REQUIRED.items() if key not in values]
    if missing:
        raise ConfigError(f"missing setting: {missing[0]}")
    try:
        return Settings(**values)
    except ValueError as exc:
        raise ConfigError(f"invalid settings: {exc}") from None
