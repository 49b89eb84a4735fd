"""The bot's HTTP side: the interactions endpoint (`create_app`) and a runner that starts the
whole bot in a running loop (`serve_bot`), shared by the CLI and the end-to-end tests."""

from bot.app.runner import RunningBot, StartupError, register_commands, serve_bot
from bot.app.server import SERVICE_KEY, create_app

__all__ = [
    "SERVICE_KEY",
    "RunningBot",
    "StartupError",
    "create_app",
    "register_commands",
    "serve_bot",
]
