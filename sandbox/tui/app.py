"""The sandbox TUI: one screen over the headless core, every operator action a key away.

Shape (the posting / harlequin style): `create_app(backend, ...)` builds the app for both
the CLI (`run_tui`) and the tests, so the snapshot tests render exactly what an operator
sees. The app never talks to the mock or the bot itself: it acts through the Operator
(`Backend.operator`), reads slow state with `Backend.read()` (the Operator's snapshot) and
live figures from the mock's event stream (`sandbox.tui.feed`).

The event loop never blocks:
- every Operator call runs in a worker (group "actions"); the screen keeps repainting and
  keys keep working while a spawn of 500 players or a scenario runs;
- the poll of the core runs in its own worker, at most one at a time;
- the event stream is folded by a worker into `FeedState`; a timer (>= 4 Hz) takes one
  coalesced `FeedUpdate` per refresh and repaints once.

An action that fails (the core refuses, the stack is gone) becomes a red notification and
an "action" line in the event log, never a crash. Quitting (ctrl+q) returns from
`run_async`; `run_tui` then tears the whole stack down, and does so on a crash too.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import Footer

from sandbox.snapshot import Snapshot
from sandbox.tui.actions import ACTIONS, bindings
from sandbox.tui.backend import Backend, Unsupported, call_optional
from sandbox.tui.commands import SandboxCommands
from sandbox.tui.dialogs import ConfirmDialog, Field, FilterDialog, FormDialog, PickDialog
from sandbox.tui.feed import LOG_KINDS, FeedState, FeedUpdate, pump
from sandbox.tui.forms import (
    BEHAVIOURS,
    STRATEGIES,
    SpawnForm,
    describe_changes,
    parse_announce,
    parse_count,
    parse_export_path,
    parse_faults,
    parse_limits,
    parse_scenario_path,
    parse_spawn,
)
from sandbox.tui.report import SessionLog, session_report
from sandbox.tui.views import (
    DEFAULT_BAN_THRESHOLD,
    bucket_rows,
    dispatch_view,
    players_view,
    rate_view,
)
from sandbox.tui.widgets import (
    BucketsTable,
    DispatchPanel,
    EventLog,
    HeaderBar,
    PlayersPanel,
    RatePanel,
    StatusLine,
)

__all__ = ["SandboxApp", "create_app"]

NARROW_WIDTH = 110
SHORT_HEIGHT = 32
LOWER_PANELS = ("buckets-panel", "players-panel", "log-panel")

STRATEGY_HELP = {
    "naive": "fire every call of a wave at once; react to 429s only",
    "sequential": "one call at a time, awaited",
    "batched": "phase 1 at once; phase 2 in batches of 10 matches, 1 s apart",
    "paced": "phase 1 at once; phase 2 as fast as the learned limits allow",
}

# The restart dialog: a crash (what the `restart` scenario proves the bot survives), a clean
# stop, or nothing. Cancel is highlighted first, so Enter alone never kills the bot.
RESTART_CHOICES = (
    ("kill", "SIGKILL: a crash mid-wave; no message may be lost"),
    ("graceful", "stop it cleanly, then start it again"),
    ("cancel", "leave the bot running"),
)
RESTART_HOW = {"kill": "kill -9", "graceful": "graceful"}

CSS = """
Screen { layout: vertical; }
#upper { height: 15; }
#upper > RatePanel { width: 1fr; height: 1fr; }
#upper > RatePanel > RateChart { height: 1fr; }
#upper > DispatchPanel { width: 60; height: 1fr; }
#lower { height: 1fr; }
#buckets-panel { width: 40; }
#players-panel { width: 40; }
#log-panel { width: 1fr; }
.panel { border: round $primary 60%; padding: 0 0; }
.panel:focus-within { border: round $accent; }
#eta { height: 2; }
/* a small terminal: lower panels one at a time (v cycles), a compact dispatcher */
.narrow #upper { height: 11; }
.narrow #upper > DispatchPanel { width: 44; }
.narrow #waves { display: none; }
.narrow #outbox { display: none; }
.narrow #strategy-label { display: none; }
.narrow #lower > .panel { display: none; }
.narrow #lower > .panel.current { display: block; width: 1fr; }
"""


class _LineWriter(io.TextIOBase):
    """A text stream that hands each complete line to a callback (the scenario runner's
    progress lines go to the event log)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        super().__init__()
        self._emit = emit
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if line.strip():
                self._emit(line)
        return len(text)


class SandboxApp(App[int]):
    """The operator's screen. Build it with `create_app`."""

    TITLE = "Discord burst sandbox"
    AUTO_FOCUS = "#matches"
    CSS = CSS
    BINDINGS = bindings()
    COMMANDS = App.COMMANDS | {SandboxCommands}

    def __init__(
        self,
        backend: Backend,
        *,
        feed: FeedState | None = None,
        refresh_hz: float = 5.0,
        poll_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        animations: bool = True,
        cursor_blink: bool = True,
        ban_threshold: int = DEFAULT_BAN_THRESHOLD,
        live: bool = True,
    ) -> None:
        super().__init__()
        if refresh_hz < 4:
            raise ValueError("refresh_hz must be at least 4 (the screen is a live gauge)")
        self.backend = backend
        self.feed = feed if feed is not None else FeedState(clock=clock, wall=wall)
        self.session = SessionLog()
        self.refresh_hz = refresh_hz
        self.poll_s = poll_s
        self._clock = clock
        self._wall = wall
        self._tz = tz
        self._cursor_blink = cursor_blink
        self._ban_threshold = ban_threshold
        self._live = live
        self._started = clock()
        self._snapshot = Snapshot()
        self._last_update: FeedUpdate | None = None
        self._polling = False
        self._poll_error: str | None = None
        self._busy = 0
        self._paused = False
        self._waves_seen: set[int] = set()
        self._waves_done: set[int] = set()
        self._match_seen: dict[str, float] = {}
        self.main_screen: Any = None
        self._panel = 2  # the event log is shown first on a small terminal
        self.refreshes = 0  # screen repaints from the feed (tests read it)
        self.refresh_ticks = 0  # refresh-timer runs, each repaints at least the header
        self.polls = 0
        if not animations:
            self.animation_level = "none"

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        with Horizontal(id="upper"):
            yield RatePanel(id="rate", classes="panel")
            yield DispatchPanel(id="dispatch")
        with Horizontal(id="lower"):
            with Vertical(id="buckets-panel", classes="panel"):
                yield BucketsTable(id="buckets")
            yield PlayersPanel(id="players-panel", classes="panel")
            yield EventLog(id="log-panel", classes="panel current", tz=self._tz)
        yield Footer()

    def on_mount(self) -> None:
        # Keep the main screen's widgets: `App.query_one` searches the *active* screen, which
        # is a dialog while one is open, and the screen must keep updating underneath it.
        self.main_screen = self.screen
        self.query_one("#dispatch").add_class("panel")
        self.query_one("#buckets-panel").border_title = "Hot buckets"
        self._fit(self.size.width, self.size.height)
        if self.backend.events is not None:
            self.run_worker(
                pump(self.backend.events, self.feed),
                group="feed",
                name="event stream",
                exit_on_error=False,
            )
        if self._live:
            self.set_interval(1.0 / self.refresh_hz, self.refresh_feed, name="refresh")
            self.set_interval(self.poll_s, self.schedule_poll, name="poll")
        self.schedule_poll()
        self.refresh_feed(force=True)

    def on_resize(self, event: Any) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        screen = self.main_screen or self.screen
        screen.set_class(width < NARROW_WIDTH or height < SHORT_HEIGHT, "narrow")

    # -- refresh: one repaint per tick of the refresh timer -----------------------------------

    def refresh_feed(self, force: bool = False) -> None:
        # A timer can still fire while the app is closing and its widgets are gone.
        with contextlib.suppress(NoMatches):
            self._refresh_feed(force)

    def _refresh_feed(self, force: bool) -> None:
        self.refresh_ticks += 1
        update = self.feed.take(force=force)
        if update is not None:
            self._last_update = update
            self.refreshes += 1
            self._show_rate()
            self.main_screen.query_one(BucketsTable).show(bucket_rows(update.hot_buckets))
            if update.new_log:
                self.main_screen.query_one(EventLog).add(update.new_log)
        self._show_header()

    def _show_rate(self) -> None:
        view = rate_view(
            self._last_update,
            self._snapshot.mock_stats,
            self._snapshot.application_id or None,
            ban_threshold=self._ban_threshold,
        )
        self.main_screen.query_one(RatePanel).show(view)

    def _show_header(self) -> None:
        snap = self._snapshot
        failed = self._poll_error is not None
        update = self._last_update

        def state(present: bool) -> str:
            if failed:
                return "down"
            return "up" if present else ("starting" if self.polls == 0 else "down")

        if update is not None and update.connected:
            stream = "up"
        elif update is not None and update.error:
            stream = "down"
        else:
            stream = "none" if self.backend.events is None else "starting"
        self.main_screen.query_one(HeaderBar).show(
            StatusLine(
                label=self.backend.label,
                mock=state(bool(snap.mock_stats)),
                bot=state(bool(snap.bot_status)),
                stream=stream,
                strategy=self.main_screen.query_one(DispatchPanel).strategy,
                uptime_s=self._clock() - self._started,
                paused=self._paused,
                busy=self._busy,
            )
        )

    # -- polling the core ---------------------------------------------------------------------

    def schedule_poll(self) -> None:
        if not self._polling:
            self._polling = True
            self.run_worker(self.poll_now(), group="poll", name="poll", exit_on_error=False)

    async def poll_now(self) -> Snapshot:
        """Read the core once and repaint the slow panels (also awaited by tests)."""
        self._polling = True
        try:
            snap = await self.backend.read()
        except Exception as error:
            if self._poll_error is None:
                self.feed.log("stream", f"cannot read the core: {_one_line(error)}")
            self._poll_error = _one_line(error)
            return self._snapshot
        finally:
            self._polling = False
        self._poll_error = None
        self.polls += 1
        with contextlib.suppress(NoMatches):  # the app closed while the core was read
            self.apply_snapshot(snap)
        return snap

    def apply_snapshot(self, snap: Snapshot) -> None:
        self._snapshot = snap
        if snap.application_id:
            self.feed.application_id = snap.application_id
        now = self._wall()
        dispatch = dispatch_view(snap.bot_status, now)
        self.main_screen.query_one(DispatchPanel).show(dispatch)
        self._log_waves(snap.bot_status)
        for view in snap.players.values():
            match_id = view.get("match_id") if isinstance(view, dict) else None
            if match_id is not None and view.get("state") != "idle":
                self._match_seen.setdefault(str(match_id), now)
        self.main_screen.query_one(PlayersPanel).show(
            players_view(
                snap.players, snap.bot_status, now, paused=self._paused, first_seen=self._match_seen
            )
        )
        self._show_rate()
        self._show_header()

    def _log_waves(self, bot_status: dict[str, Any]) -> None:
        dispatch = bot_status.get("dispatch") or {}
        for wave in dispatch.get("current_waves") or []:
            wid = wave.get("wave_id")
            if isinstance(wid, int) and wid not in self._waves_seen:
                self._waves_seen.add(wid)
                self.feed.log(
                    "wave",
                    f"wave #{wid} started: {wave.get('matches', 0)} matches, "
                    f"{wave.get('players', 0)} players, {wave.get('strategy', '?')}",
                )
        for wave in dispatch.get("recent_waves") or []:
            wid = wave.get("wave_id")
            if isinstance(wid, int) and wid not in self._waves_done:
                self._waves_seen.add(wid)
                self._waves_done.add(wid)
                limited = sum((wave.get("rate_limited") or {}).values())
                self.feed.log(
                    "wave",
                    f"wave #{wid} done: {wave.get('matches', 0)} matches, makespan "
                    f"{_num(wave.get('makespan'))}s, bound {_num(wave.get('lower_bound'))}s, "
                    f"ratio {_num(wave.get('ratio'))}, 429s {limited}",
                )

    # -- running actions ----------------------------------------------------------------------

    def act(
        self,
        name: str,
        description: str,
        call: Callable[[], Awaitable[Any]],
        done: Callable[[Any], str] | None = None,
    ) -> None:
        """Run one Operator call in a worker; report the outcome, never raise."""
        self.run_worker(
            self._act(name, description, call, done),
            group="actions",
            name=name,
            exit_on_error=False,
        )

    async def _act(
        self,
        name: str,
        description: str,
        call: Callable[[], Awaitable[Any]],
        done: Callable[[Any], str] | None,
    ) -> None:
        self._busy += 1
        began = self._clock()
        self._show_header()
        try:
            result = await call()
        except Unsupported as error:
            self.notify(f"{description}: {error}", severity="warning", title="Not available")
            self.feed.log("action", f"{description}: not available ({error})")
            self.session.record(
                name, description, False, str(error), self._clock() - began, error=True
            )
        except Exception as error:
            text = _one_line(error)
            self.notify(f"{description} failed: {text}", severity="error", title="Action failed")
            self.feed.log("action", f"{description} FAILED: {text}")
            self.session.record(name, description, False, text, self._clock() - began, error=True)
        else:
            detail = done(result) if done is not None else "done"
            self.notify(f"{description}: {detail}", title="Done", timeout=3)
            self.feed.log("action", f"{description}: {detail}")
            self.session.record(name, description, True, detail, self._clock() - began)
        finally:
            self._busy -= 1
            self.schedule_poll()
            self._show_header()

    async def wait_for_actions(self) -> None:
        """Wait until every running operator action has finished (tests, scripts)."""
        while running := [w for w in self.workers if w.group == "actions" and not w.is_finished]:
            await self.workers.wait_for_complete(running)

    @property
    def operator(self) -> Any:
        return self.backend.operator

    # the actions, in ACTIONS order ---------------------------------------------------------

    def action_spawn(self) -> None:
        dialog = FormDialog[SpawnForm](
            "Spawn players",
            [
                Field("count", "Count", "20", "1..10000"),
                Field("mean", "Rating mean", "1500", "e.g. 1500"),
                Field("sd", "Rating sd", "300", "e.g. 300"),
                Field("races", "Race mix", "mix", "mix | bw | sc2 | both"),
                Field(
                    "behaviour",
                    "Behaviours",
                    "",
                    "e.g. abort=0.1, replay=0.5",
                    tooltip="name=value, comma separated: " + ", ".join(BEHAVIOURS),
                ),
            ],
            parse_spawn,
            help_text="Ratings are drawn from a normal distribution (seeded).",
            cursor_blink=self._cursor_blink,
        )

        def spawn(form: SpawnForm | None) -> None:
            if form is not None:
                self.act(
                    "spawn",
                    f"spawn {form.count}",
                    lambda: self.operator.spawn(form.count, **form.kwargs()),
                    lambda ids: f"{len(ids)} players",
                )

        self.push_screen(dialog, spawn)

    def action_queue_idle(self) -> None:
        self.act("queue", "queue all idle", lambda: self.operator.queue(None), _n("queued"))

    def action_wave(self) -> None:
        self.act("wave", "wave now", lambda: self.operator.wave(), lambda _: "forced")

    def _on_selected(self, verb: str) -> None:
        match_id = self.main_screen.query_one(PlayersPanel).selected_match()
        if match_id is None:
            self.notify("Select a match in the matches table first", severity="warning")
            return

        async def call() -> Any:
            done = await getattr(self.operator, verb)(None, match_ids=[match_id])
            if not done:
                raise Unsupported(f"match #{match_id} cannot be {verb}d now")
            return done

        self.act(verb, f"{verb} match #{match_id}", call, lambda _: "done")

    def _on_count(self, verb: str, title: str) -> None:
        def run(n: int | None) -> None:
            self.act(
                verb, f"{verb} {_all(n)}", lambda: getattr(self.operator, verb)(n), _n("matches")
            )

        self._ask_count(title, run)

    def _ask_count(
        self,
        title: str,
        then: Callable[[int | None], None],
        *,
        allow_all: bool = True,
        default: str = "",
    ) -> None:
        hint = "a number, or blank / all for all" if allow_all else "a number"
        dialog = FormDialog[int | None](
            title,
            [Field("count", "How many", default, hint)],
            lambda text: _Count(parse_count(text, allow_all=allow_all)),
            cursor_blink=self._cursor_blink,
        )

        def chosen(value: Any) -> None:
            if isinstance(value, _Count):
                then(value.n)

        self.push_screen(dialog, chosen)

    def action_complete_selected(self) -> None:
        self._on_selected("complete")

    def action_complete_n(self) -> None:
        self._on_count("complete", "Complete N matches (both players agree)")

    def action_complete_all(self) -> None:
        self.act("complete", "complete all", lambda: self.operator.complete(None), _n("matches"))

    def action_conflict_n(self) -> None:
        self._on_count("conflict", "Make N matches conflict")

    def action_abort_selected(self) -> None:
        self._on_selected("abort")

    def action_abort_n(self) -> None:
        self._on_count("abort", "Abort N matches")

    def action_abort_all(self) -> None:
        self.act("abort", "abort all", lambda: self.operator.abort(None), _n("matches"))

    def action_disconnect(self) -> None:
        self.act(
            "disconnect",
            "mass disconnect",
            lambda: self.operator.disconnect(),
            _n("players stopped acting"),
        )

    def action_replays(self) -> None:
        self._on_count("replays", "Upload replays for N matches")

    def action_leaderboard_spam(self) -> None:
        def run(n: int | None) -> None:
            count = n or 50
            self.act(
                "leaderboard_spam",
                f"leaderboard spam {count}",
                lambda: self.operator.leaderboard_spam(count),
                _n("/leaderboard calls"),
            )

        self._ask_count(
            "Leaderboard spam: N players run /leaderboard at once",
            run,
            allow_all=False,
            default="50",
        )

    def action_announce(self) -> None:
        dialog = FormDialog[str](
            "Announce (a DM to every registered player)",
            [Field("text", "Text", "", "Season 3 starts on Friday")],
            parse_announce,
            cursor_blink=self._cursor_blink,
        )

        def run(text: str | None) -> None:
            if text is not None:
                self.act(
                    "announce",
                    f"announce {text[:30]!r}",
                    lambda: self.operator.announce(text),
                    lambda _: "queued",
                )

        self.push_screen(dialog, run)

    def action_strategy(self) -> None:
        current = self.main_screen.query_one(DispatchPanel).strategy
        self.push_screen(
            PickDialog("Dispatch strategy", STRATEGY_HELP.items(), current), self.switch_strategy
        )

    def switch_strategy(self, name: str | None) -> None:
        if name is not None and name in STRATEGIES:
            self.act(
                "strategy",
                f"strategy {name}",
                lambda: self.operator.set_strategy(name),
                lambda _: "switched",
            )

    @on(DispatchPanel.StrategyChosen)
    def _strategy_chosen(self, event: DispatchPanel.StrategyChosen) -> None:
        self.switch_strategy(event.name)

    def action_limits(self) -> None:
        dialog = FormDialog[dict](
            "Global limit / profile",
            [
                Field("global_limit", "Global limit", "", "requests per second, e.g. 50"),
                Field("profile", "Profile", "", "discord, or a path to a .toml profile"),
            ],
            parse_limits,
            help_text="Blank fields are left as they are.",
            cursor_blink=self._cursor_blink,
        )

        def run(changes: dict | None) -> None:
            if changes:
                self.act(
                    "configure",
                    f"configure {describe_changes(changes)}",
                    lambda: self.operator.configure_mock(**changes),
                    lambda _: "applied",
                )

        self.push_screen(dialog, run)

    def action_faults(self) -> None:
        dialog = FormDialog[dict](
            "Faults (all zero clears them)",
            [
                Field("errors", "5xx rate", "0", "0..1"),
                Field("resets", "Reset rate", "0", "0..1"),
                Field("latency", "Latency ms", "0", "fixed milliseconds"),
                Field("jitter", "Jitter ms", "0", "uniform extra milliseconds"),
                Field("drops", "Drop interact.", "0", "0..1: interactions never delivered"),
            ],
            parse_faults,
            cursor_blink=self._cursor_blink,
        )

        def run(faults: dict | None) -> None:
            if faults is not None:
                self.act(
                    "faults",
                    "faults " + _faults_text(faults),
                    lambda: self.operator.configure_mock(faults=faults),
                    lambda _: "applied",
                )

        self.push_screen(dialog, run)

    def action_pause(self) -> None:
        pausing = not self._paused

        async def call() -> None:
            if pausing:
                await self.operator.pause_players()
            else:
                await self.operator.resume_players()
            self._paused = pausing

        self.act(
            "pause" if pausing else "resume",
            "pause players" if pausing else "resume players",
            call,
            lambda _: "paused" if pausing else "resumed",
        )

    def action_reset(self) -> None:
        def run(yes: bool | None) -> None:
            if yes:
                self._waves_seen.clear()
                self._waves_done.clear()
                self.act(
                    "reset",
                    "reset",
                    lambda: call_optional(self.operator, ("reset",)),
                    lambda _: "players, matches and limits state forgotten",
                )

        self.push_screen(
            ConfirmDialog("Reset: forget every player, match, message and rate-limit state?"), run
        )

    def action_restart_bot(self) -> None:
        def run(choice: str | None) -> None:
            if choice not in RESTART_HOW:
                return  # Cancel, or Escape
            kill = choice == "kill"
            how = RESTART_HOW[choice]
            self.act(
                "restart_bot",
                f"restart bot ({how})",
                lambda: call_optional(self.operator, ("restart_bot",), kill=kill),
                lambda _: f"bot restarted ({'killed' if kill else 'stopped gracefully'})",
            )

        self.push_screen(
            PickDialog("Restart the bot (same port, same database)", RESTART_CHOICES, "cancel"),
            run,
        )

    def action_scenario(self) -> None:
        dialog = FormDialog[Path](
            "Run a scenario file against this stack",
            [Field("path", "File", "", "scenarios/peak-wave.toml")],
            parse_scenario_path,
            help_text="Steps run live here; progress goes to the event log (kind: scenario).",
            cursor_blink=self._cursor_blink,
        )

        def run(path: Path | None) -> None:
            if path is not None:
                self.act(
                    "scenario",
                    f"scenario {path.name}",
                    lambda: self.run_scenario(path),
                    lambda status: status,
                )

        self.push_screen(dialog, run)

    async def run_scenario(self, path: Path) -> str:
        """Run a scenario file on this stack (its setup applied live); returns its status."""
        from sandbox.scenario import load_scenario, run_scenario

        scenario = await asyncio.to_thread(load_scenario, path)

        @contextlib.asynccontextmanager
        async def this_stack(setup: Any) -> AsyncIterator[Any]:
            yield self.operator

        writer = _LineWriter(lambda line: self.feed.log("scenario", line))
        outcome = await run_scenario(scenario, this_stack, err=writer)  # type: ignore[arg-type]
        self.session.scenarios.append(outcome)
        for result in outcome.results:
            mark = "PASS" if result.passed else ("ERROR" if result.error else "FAIL")
            self.feed.log("scenario", f"{mark} {result.name}: {result.detail}")
        held = sum(r.passed for r in outcome.results)
        return f"{outcome.status} ({held}/{len(outcome.results)} expectations held)"

    def action_export(self) -> None:
        dialog = FormDialog[Path](
            "Export a report (the JSON of `sandbox run --json`)",
            [Field("path", "File", "sandbox-report.json", "report.json")],
            parse_export_path,
            cursor_blink=self._cursor_blink,
        )

        def run(path: Path | None) -> None:
            if path is not None:
                self.act(
                    "export",
                    f"export {path}",
                    lambda: self.export_report(path),
                    lambda status: status,
                )

        self.push_screen(dialog, run)

    async def export_report(self, path: Path) -> str:
        snap = await self.operator.snapshot()  # the full one: the report measures the ledger
        text, outcomes = session_report(self.session, snap, self._clock() - self._started)
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        return f"{len(outcomes)} entries written to {path}"

    def action_log_filter(self) -> None:
        log = self.main_screen.query_one(EventLog)

        def run(kinds: frozenset[str] | None) -> None:
            if kinds is not None:
                log.set_kinds(kinds)

        self.push_screen(FilterDialog(LOG_KINDS, log.kinds), run)

    def action_cycle_panel(self) -> None:
        self._panel = (self._panel + 1) % len(LOWER_PANELS)
        for i, name in enumerate(LOWER_PANELS):
            self.main_screen.query_one(f"#{name}").set_class(i == self._panel, "current")


class _Count:
    """A dialog's count (None = all), boxed so that None can also mean "cancelled"."""

    __slots__ = ("n",)

    def __init__(self, n: int | None) -> None:
        self.n = n


def _n(what: str) -> Callable[[Any], str]:
    return lambda result: f"{result} {what}"


def _all(n: int | None) -> str:
    return "all" if n is None else str(n)


def _num(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "—"


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _faults_text(faults: dict[str, Any]) -> str:
    parts = []
    if faults["errors"]["rate"]:
        parts.append(f"5xx {faults['errors']['rate']:g}")
    if faults["resets"]["rate"]:
        parts.append(f"resets {faults['resets']['rate']:g}")
    if faults["latency"]:
        rule = faults["latency"][0]
        parts.append(f"latency {rule['fixed_ms']:g}+{rule['jitter_ms']:g}ms")
    if faults["interactions"]["drop_rate"]:
        parts.append(f"drops {faults['interactions']['drop_rate']:g}")
    return ", ".join(parts) or "cleared"


def create_app(backend: Backend, **options: Any) -> SandboxApp:
    """The app factory shared by the CLI (`run_tui`) and the tests (see `SandboxApp`)."""
    return SandboxApp(backend, **options)


def install_signal_exit(app: SandboxApp) -> None:
    """SIGTERM/SIGHUP end the app cleanly (so `run_tui` tears the stack down)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, app.exit, 1)


_ACTION_NAMES = frozenset(a.name for a in ACTIONS)
