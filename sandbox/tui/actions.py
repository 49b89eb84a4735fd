"""Every operator action, once: its key, its id, its footer label and its tooltip.

The app's key bindings and the command palette are both generated from `ACTIONS`, so an
action cannot have a key without a palette entry (or the reverse), and every binding has an
id and a tooltip (the posting style). `ActionSpec.name` is the Textual action name: the app
implements `action_<name>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

__all__ = ["ACTIONS", "ActionSpec", "bindings"]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str  # Textual action name and binding id suffix
    key: str
    label: str  # footer text
    title: str  # command palette text
    tooltip: str
    footer: bool = False

    @property
    def binding_id(self) -> str:
        return f"sandbox.{self.name}"


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "spawn",
        "s",
        "Spawn",
        "Spawn players…",
        "Spawn fake players: count, rating distribution, race mix, behaviours",
        True,
    ),
    ActionSpec(
        "queue_idle", "q", "Queue", "Queue all idle players", "Every idle player runs /queue", True
    ),
    ActionSpec("wave", "w", "Wave", "Wave now", "Force a matchmaking wave now (/admin wave)", True),
    ActionSpec(
        "complete_selected",
        "c",
        "Complete",
        "Complete selected match",
        "Both players of the selected match report an agreeing result",
        True,
    ),
    ActionSpec(
        "complete_n", "C", "Complete N", "Complete N matches…", "Complete N open matches (or all)"
    ),
    ActionSpec(
        "complete_all", "alt+c", "Complete all", "Complete all matches", "Complete every open match"
    ),
    ActionSpec(
        "conflict_n",
        "x",
        "Conflict",
        "Conflict N matches…",
        "N matches get opposite result reports (a conflict)",
    ),
    ActionSpec(
        "abort_selected",
        "a",
        "Abort",
        "Abort selected match",
        "A player of the selected match aborts it",
        True,
    ),
    ActionSpec("abort_n", "A", "Abort N", "Abort N matches…", "Abort N open matches (or all)"),
    ActionSpec("abort_all", "alt+a", "Abort all", "Abort all matches", "Abort every open match"),
    ActionSpec(
        "disconnect",
        "d",
        "Disconnect",
        "Mass disconnect",
        "Every player in a match stops acting, so the match timeouts fire",
    ),
    ActionSpec(
        "replays",
        "r",
        "Replays",
        "Upload replays…",
        "Players of N (or all) matches upload a replay",
    ),
    ActionSpec(
        "leaderboard_spam",
        "l",
        "Leaderboard",
        "Leaderboard spam…",
        "N players run /leaderboard at once",
    ),
    ActionSpec(
        "announce",
        "m",
        "Announce",
        "Announce…",
        "Admin announcement: a DM to every registered player",
    ),
    ActionSpec(
        "strategy",
        "t",
        "Strategy",
        "Switch dispatch strategy…",
        "naive, sequential, batched or paced",
        True,
    ),
    ActionSpec(
        "limits",
        "g",
        "Limits",
        "Edit global limit / profile…",
        "Change the mock's global limit or load a rate-limit profile",
    ),
    ActionSpec(
        "faults",
        "f",
        "Faults",
        "Faults…",
        "Inject 5xx errors, connection resets, latency, dropped interactions",
        True,
    ),
    ActionSpec(
        "pause",
        "p",
        "Pause",
        "Pause / resume players",
        "Players stop (or resume) reacting to their DMs",
    ),
    ActionSpec(
        "reset",
        "R",
        "Reset",
        "Reset…",
        "Forget players, matches, messages and rate-limit state (asks first)",
    ),
    ActionSpec(
        "restart_bot",
        "K",
        "Restart bot",
        "Restart the bot (kill -9)…",
        "SIGKILL the bot (or stop it gracefully) and start it again on the same port and "
        "database (asks first)",
    ),
    ActionSpec(
        "scenario",
        "o",
        "Scenario",
        "Run a scenario file…",
        "Run a TOML scenario against this stack and watch it",
    ),
    ActionSpec(
        "export",
        "e",
        "Export",
        "Export a report…",
        "Write the session report: the same JSON as `sandbox run --json`",
    ),
    ActionSpec(
        "log_filter",
        "slash",
        "Filter",
        "Filter the event log…",
        "Choose which kinds of events the log shows",
    ),
    ActionSpec(
        "cycle_panel",
        "v",
        "Panel",
        "Next lower panel",
        "On a small terminal: show buckets, players or the event log",
    ),
)


def bindings() -> list[Binding]:
    return [
        Binding(a.key, a.name, a.label, show=a.footer, tooltip=a.tooltip, id=a.binding_id)
        for a in ACTIONS
    ]
