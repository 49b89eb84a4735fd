"""Settings precedence and one-line errors; `ladderbot run` refuses bad setups with exit 2."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from bot.app import StartupError, register_commands
from bot.cli import main
from bot.clock import ManualClock
from bot.commands_spec import command_definitions
from bot.config import ConfigError, load_settings
from bot.discord import DiscordClient
from bot.ladder import LadderConfig
from tests.bot.app.conftest import APP_ID, PUBLIC_KEY

REQUIRED = {"token": "t", "application_id": APP_ID, "public_key": PUBLIC_KEY}


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(
        'token = "from-file"\n'
        f'application_id = "{APP_ID}"\n'
        f'public_key = "{PUBLIC_KEY}"\n'
        "wave_interval = 30\n"
        "confirm_timeout = 20\n"
        'listen = "0.0.0.0:9000"\n'
        "admin_ids = [1, 2]\n"
    )
    env = {"LADDERBOT_TOKEN": "from-env", "LADDERBOT_WAVE_INTERVAL": "15"}
    settings = load_settings({"wave_interval": "0"}, env, config)
    assert settings.token == "from-env"
    assert settings.wave_interval == 0 and settings.ladder.wave_interval_s == 0
    assert settings.confirm_timeout == 20 and settings.ladder.confirm_timeout_s == 20
    assert (settings.listen_host, settings.listen_port) == ("0.0.0.0", 9000)
    assert settings.admin_ids == frozenset({1, 2})
    env_config = {**env, "LADDERBOT_CONFIG": str(config)}
    assert load_settings({}, env_config).wave_interval == 15


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"token": None}, "missing setting: the bot token"),
        ({"public_key": "abc"}, "--public-key must be 64 hex digits"),
        ({"application_id": "app"}, "--application-id must be a Discord id"),
        ({"listen": "8080"}, "--listen must be HOST:PORT"),
        ({"listen": "localhost:99999"}, "--listen must end with a port number"),
        ({"wave_interval": "-1"}, "--wave-interval must be >= 0"),
        ({"wave_interval": "soon"}, "--wave-interval must be a number"),
        ({"dispatch": "yolo"}, "--dispatch must be one of naive, sequential, batched, paced"),
        ({"api_base": "discord.com"}, "--api-base must be an http(s) URL"),
        ({"admin_ids": "1,two"}, "--admin-ids must be a Discord id"),
        ({"confirm_timeout": "0"}, "--confirm-timeout must be > 0"),
    ],
)
def test_invalid_settings_are_one_line_errors(flags: dict, message: str) -> None:
    values = {**REQUIRED, **flags}
    if flags.get("token", "x") is None:
        values.pop("token")
    with pytest.raises(ConfigError) as caught:
        load_settings(values, {})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_config_files(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('tokn = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'tokn'"):
        load_settings({}, {}, unknown)
    broken = tmp_path / "broken.toml"
    broken.write_text("token = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({}, {}, broken)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({}, {}, tmp_path / "missing.toml")


def test_env_values_are_checked_and_named(tmp_path: Path) -> None:
    env = {"LADDERBOT_TOKEN": "t", "LADDERBOT_APPLICATION_ID": APP_ID}
    env["LADDERBOT_PUBLIC_KEY"] = "nope"
    with pytest.raises(ConfigError, match="LADDERBOT_PUBLIC_KEY must be 64 hex digits"):
        load_settings({}, env)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["run", *args])
    err = capsys.readouterr().err
    return code, err


def base_args(tmp_path: Path) -> list[str]:
    return [
        "--api-base", "http://127.0.0.1:9/api/v10",
        "--token", "t",
        "--application-id", APP_ID,
        "--public-key", PUBLIC_KEY,
        "--db", str(tmp_path / "ladder.db"),
    ]  # fmt: skip


def test_cli_missing_setting_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TOKEN", "APPLICATION_ID", "PUBLIC_KEY", "CONFIG"):
        monkeypatch.delenv(f"LADDERBOT_{name}", raising=False)
    code, err = run_cli(capsys, "--application-id", APP_ID)
    assert code == 2
    assert err == "ladderbot: error: missing setting: the bot token (--token or LADDERBOT_TOKEN)\n"


def test_cli_unknown_flag_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", "--tokn", "x"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --tokn" in err


def test_cli_port_in_use_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_cli(capsys, *base_args(tmp_path), "--listen", f"127.0.0.1:{port}")
    assert code == 2
    assert err.startswith(f"ladderbot: error: cannot listen on 127.0.0.1:{port}")
    assert err.count("\n") == 1


def test_cli_unusable_database_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("this is not a database " * 100)
    args = [*base_args(tmp_path), "--db", str(bad), "--listen", "127.0.0.1:0"]
    code, err = run_cli(capsys, *args)
    assert code == 2
    assert "is not a usable SQLite database" in err and err.count("\n") == 1


async def test_a_refused_token_is_a_one_line_startup_error(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": "401: Unauthorized", "code": 0})

    settings = load_settings({**REQUIRED, "api_base": "http://discord.test/api/v10"}, {})
    async with DiscordClient(
        "t", settings.api_base, clock=ManualClock(), transport=httpx.MockTransport(refuse)
    ) as client:
        with pytest.raises(StartupError) as caught:
            await register_commands(client, settings)
    assert str(caught.value) == (
        "http://discord.test/api/v10 refused the bot token (401): check --token"
    )


def test_command_definitions_cover_every_command() -> None:
    commands = {c["name"]: c for c in command_definitions(LadderConfig())}
    assert set(commands) == {"queue", "leave", "leaderboard", "profile", "setup", "replay", "admin"}
    admin = {o["name"] for o in commands["admin"]["options"]}
    assert admin == {
        "wave",
        "resolve",
        "adjust_mmr",
        "ban",
        "unban",
        "clear_queue",
        "announce",
        "dispatch",
    }
    queue = {o["name"]: o for o in commands["queue"]["options"]}
    assert [c["value"] for c in queue["bw_race"]["choices"]] == [
        "bw_terran",
        "bw_zerg",
        "bw_protoss",
    ]
    assert {"veto1", "veto2", "veto3", "veto4"} <= set(queue)
    assert commands["replay"]["options"][0]["type"] == 11
