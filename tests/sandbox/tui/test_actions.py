"""Every operator action, driven like a person would: a key (or the palette), then the effect
asserted through the core (a fake core that keeps players, matches and waves)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC
from types import SimpleNamespace

import pytest
from textual.widgets import Input, Static

from sandbox.operator import OperatorError
from sandbox.tui import create_app
from sandbox.tui.actions import ACTIONS
from sandbox.tui.backend import Backend
from sandbox.tui.dialogs import FormDialog, PickDialog
from sandbox.tui.feed import LOG_KINDS
from sandbox.tui.live import LiveCore
from sandbox.tui.widgets import DispatchPanel, EventLog, PlayersPanel
from tests.sandbox.tui.fakes import WALL0, FakeOperator, backend_for

SIZE = (120, 40)


def make_app(op: FakeOperator, **options):
    options = {
        "clock": lambda: 10.0,
        "wall": lambda: WALL0,
        "tz": UTC,
        "animations": False,
        "cursor_blink": False,
        "live": False,
        **options,
    }
    return create_app(backend_for(op), **options)


async def settle(app, pilot) -> None:
    """Let queued key handlers run, then wait for every worker they started."""
    await pilot.pause()
    await app.wait_for_actions()
    await pilot.pause()


async def fill(app, pilot, **values: str) -> None:
    """Fill the open dialog's fields and submit it with Enter."""
    assert isinstance(app.screen, FormDialog)
    for name, value in values.items():
        app.screen.query_one(f"#field-{name}", Input).value = value
    await pilot.press("enter")
    await settle(app, pilot)


async def with_matches(app, pilot, op: FakeOperator, players: int = 8) -> None:
    await op.spawn(players)
    await op.queue(None)
    await op.wave()
    op.calls.clear()
    await app.poll_now()
    await pilot.pause()


async def test_spawn_dialog_then_queue_all_idle():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await fill(app, pilot, count="20", mean="1600", races="sc2", behaviour="abort=0.1")
        assert op.calls[0] == (
            "spawn",
            (
                20,
                {
                    "rating_mean": 1600.0,
                    "rating_sd": 300.0,
                    "races": "sc2",
                    "behaviour": {"abort": 0.1},
                },
            ),
        )
        await pilot.press("q")
        await settle(app, pilot)
        assert ("queue", None) in op.calls
        assert sum(p["state"] == "queueing" for p in op.players.values()) == 20
        await app.poll_now()
        counts = str(app.query_one("#player-counts", Static).render())
        assert "20 players" in counts and "queueing 20" in counts and "queued 20" in counts


async def test_invalid_input_is_shown_inline_and_nothing_happens():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await fill(app, pilot, count="lots")
        assert isinstance(app.screen, FormDialog)  # still open
        assert "count: expected a whole number" in app.screen.error
        app.feed.apply({"type": "hello"})  # the main screen keeps updating under a dialog
        app.refresh_feed()
        await app.poll_now()
        assert app.refreshes == 2 and app.polls == 2
        await fill(app, pilot, count="5", behaviour="abort=7")
        assert "abort: a probability" in app.screen.error
        assert op.names() == []
        await fill(app, pilot, behaviour="")
        assert op.names() == ["spawn"]
        assert not isinstance(app.screen, FormDialog)


async def test_wave_now_shows_phase_progress():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await op.spawn(20)
        await op.queue()
        await pilot.press("w")
        await settle(app, pilot)
        assert op.names()[-1] == "wave"
        await app.poll_now()
        await pilot.pause()
        label = str(app.query_one("#p1-label", Static).render())
        assert "10/20" in label  # the fake's wave is half through phase 1
        assert "wave #1" in str(app.query_one("#eta", Static).render())
        assert any("wave #1 started" in e.text for e in app.feed.take().new_log)


MATCH_ACTIONS = [
    ("C", "2", ("complete", 2)),
    ("alt+c", None, ("complete", None)),
    ("x", "3", ("conflict", 3)),
    ("A", "all", ("abort", None)),
    ("alt+a", None, ("abort", None)),
    ("d", None, ("disconnect", None)),
    ("r", "", ("replays", None)),
    ("l", "", ("leaderboard_spam", 50)),
]


async def test_match_actions_by_count():
    """One app, every count action in turn on a fresh set of 4 matches."""
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        for key, dialog, expected in MATCH_ACTIONS:
            op.players.clear()
            await with_matches(app, pilot, op)
            await pilot.press(key)
            await pilot.pause()
            if dialog is not None:
                await fill(app, pilot, **({"count": dialog} if dialog else {}))
            await settle(app, pilot)
            assert op.calls == [expected], key
            if expected[0] in ("complete", "abort"):
                open_matches = {p["match_id"] for p in op.players.values() if "match_id" in p}
                assert len(open_matches) == (4 - expected[1] if expected[1] else 0), key


@pytest.mark.parametrize(("key", "verb"), [("c", "complete_match"), ("a", "abort_match")])
async def test_selected_match_actions(key, verb):
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await with_matches(app, pilot, op)
        table = app.query_one("#matches")
        table.focus()
        await pilot.press("down")  # the second match
        assert app.query_one(PlayersPanel).selected_match() == "2"
        await pilot.press(key)
        await settle(app, pilot)
        assert op.calls == [(verb, ["2"])]
        assert all(p["state"] == "idle" for p in op.players.values() if p.get("match_id") == 2)
        assert len({p["match_id"] for p in op.players.values() if "match_id" in p}) == 3


async def test_selected_action_without_a_selection_asks_for_one():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await settle(app, pilot)
        assert op.names() == []
        assert any("Select a match" in n.message for n in app._notifications)


async def test_announce_strategy_limits_faults():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        await fill(app, pilot, text="Season 3 starts Friday")
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("home", "enter")  # the first strategy: naive
        await settle(app, pilot)
        await pilot.press("g")
        await fill(app, pilot, global_limit="30")
        await pilot.press("f")
        await fill(app, pilot, errors="0.1", resets="0.05")
        assert op.calls[:3] == [
            ("announce", "Season 3 starts Friday"),
            ("set_strategy", "naive"),
            ("configure_mock", {"global_limit": 30}),
        ]
        name, changes = op.calls[-1]
        assert name == "configure_mock"
        assert changes["faults"]["errors"]["rate"] == 0.1
        assert changes["faults"]["resets"]["rate"] == 0.05
        assert op.strategy == "naive" and op.limit == 30
        await app.poll_now()
        assert app.query_one(DispatchPanel).strategy == "naive"


async def test_pause_resume_and_reset():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await op.spawn(4)
        await pilot.press("p")
        await settle(app, pilot)
        assert op.paused and "PLAYERS PAUSED" in str(app.query_one("#header").render())
        await pilot.press("p")
        await settle(app, pilot)
        assert not op.paused
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert op.names()[-3:] == ["pause_players", "resume_players", "reset"] and op.players == {}


async def test_a_failing_or_missing_action_is_reported_not_raised():
    op = FakeOperator()
    op.fail.add("wave")
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        await settle(app, pilot)
        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert any("wave now failed: RuntimeError: wave refused" in m for m in messages)
        del FakeOperator.reset  # a core without reset()
        try:
            await pilot.press("R")
            await pilot.pause()
            await pilot.press("y")
            await settle(app, pilot)
        finally:
            FakeOperator.reset = _reset
        assert any("has no reset()" in n.message for n in app._notifications)
        assert [s.ok for s in app.session.steps] == [False, False]


_reset = FakeOperator.reset


def header(app) -> str:
    return str(app.query_one("#header").render())


def action_log(app) -> list[str]:
    """The event log's "action" lines since the last look."""
    return [e.text for e in app.feed.take(force=True).new_log if e.kind == "action"]


async def restart_dialog(app, pilot, *keys: str) -> None:
    """Press K, check the restart dialog asks first (nothing done yet), then press `keys`."""
    calls = list(app.operator.calls)
    await pilot.press("K")
    await pilot.pause()
    assert isinstance(app.screen, PickDialog)
    assert app.operator.calls == calls
    await pilot.press(*keys)
    await pilot.pause()


@pytest.mark.parametrize(
    ("keys", "kill", "logged"),
    [
        (("home", "enter"), True, "restart bot (kill -9): bot restarted (killed)"),
        (
            ("home", "down", "enter"),
            False,
            "restart bot (graceful): bot restarted (stopped gracefully)",
        ),
    ],
)
async def test_restart_bot_asks_then_restarts_it_and_logs_the_outcome(keys, kill, logged):
    op = FakeOperator()
    op.gate = asyncio.Event()  # the restart takes a while: the bot is down meanwhile
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_now()
        assert "bot ● up" in header(app)
        await restart_dialog(app, pilot, *keys)
        assert op.calls == [("restart_bot", kill)]
        await app.poll_now()
        assert "bot ● down" in header(app) and "⟳ 1" in header(app)
        op.gate.set()
        await settle(app, pilot)
        await app.poll_now()
        assert "bot ● up" in header(app) and "⟳" not in header(app)
        assert action_log(app) == [logged]
        step = app.session.steps[-1]
        assert (step.action, step.ok, step.detail) == ("restart_bot", True, logged.split(": ")[1])


async def test_restart_bot_cancel_does_nothing():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await restart_dialog(app, pilot, "enter")  # Cancel is highlighted first
        await restart_dialog(app, pilot, "escape")
        await pilot.press("ctrl+p")  # the palette opens the same dialog
        await pilot.pause()
        await pilot.press(*"restart the bot")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PickDialog)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, PickDialog)
        assert op.calls == [] and app.session.steps == [] and action_log(app) == []


class _NoRestart(FakeOperator):
    restart_bot = None  # a core without restart_bot()


@contextlib.asynccontextmanager
async def _opened(op: FakeOperator):
    yield op


@pytest.mark.parametrize("core", ["attached", "no restart_bot"])
async def test_restart_bot_where_it_is_not_supported_is_one_line_and_does_nothing(core):
    if core == "attached":  # what `run_tui(attach=URL)` builds, over the fake core
        op = FakeOperator()
        live = LiveCore(lambda: _opened(op), can_reset=False)
        await live.open()
        backend = Backend(live, label="attached")
        reason = "an attached bot is not the TUI's to restart: restart it yourself"
    else:
        op = _NoRestart()
        backend = backend_for(op)
        reason = "this core has no restart_bot()"
    app = create_app(backend, clock=lambda: 10.0, wall=lambda: WALL0, animations=False, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await restart_dialog(app, pilot, "home", "enter")
        await settle(app, pilot)
        assert app.is_running and op.calls == []
        (note,) = [n for n in app._notifications if n.title == "Not available"]
        assert note.severity == "warning" and note.message == f"restart bot (kill -9): {reason}"
        assert action_log(app) == [f"restart bot (kill -9): not available ({reason})"]
        assert [(s.ok, s.error) for s in app.session.steps] == [(False, True)]
    if isinstance(backend.operator, LiveCore):
        await backend.operator.close()


async def test_restart_bot_embedded_core_passes_through():
    """The guard above is the attach flag, nothing else: an embedded LiveCore restarts."""
    op = FakeOperator()
    live = LiveCore(lambda: _opened(op))
    await live.open()
    app = create_app(Backend(live), clock=lambda: 10.0, animations=False, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await restart_dialog(app, pilot, "home", "down", "enter")
        await settle(app, pilot)
        assert op.calls == [("restart_bot", False)]
        assert app.session.steps[-1].ok
    await live.close()


async def test_restart_bot_cannot_kill_an_in_process_bot_but_restarts_it_gracefully():
    """An in-process bot shares the TUI's process: "kill -9" would be a lie, so it is refused
    in one line; graceful goes through."""
    op = FakeOperator()
    op.stack = SimpleNamespace(config=SimpleNamespace(mode="inprocess"))
    live = LiveCore(lambda: _opened(op))
    await live.open()
    app = create_app(Backend(live), clock=lambda: 10.0, animations=False, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await restart_dialog(app, pilot, "home", "enter")
        await settle(app, pilot)
        assert op.calls == []
        (note,) = [n for n in app._notifications if n.title == "Not available"]
        assert "in-process bot cannot be killed -9" in note.message
        await restart_dialog(app, pilot, "home", "down", "enter")
        await settle(app, pilot)
        assert op.calls == [("restart_bot", False)]
    await live.close()


async def test_restart_bot_operator_error_is_one_line():
    op = FakeOperator()
    op.errors["restart_bot"] = OperatorError(
        "restart_bot: ladderbot did not answer /healthz within 10 s\nlast log line: boom"
    )
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await restart_dialog(app, pilot, "home", "enter")
        await settle(app, pilot)
        assert app.is_running and op.calls == [("restart_bot", True)]
        text = "OperatorError: restart_bot: ladderbot did not answer /healthz within 10 s"
        (note,) = [n for n in app._notifications if n.severity == "error"]
        assert note.message == f"restart bot (kill -9) failed: {text}"
        assert action_log(app) == [f"restart bot (kill -9) FAILED: {text}"]
        assert [(s.ok, s.error) for s in app.session.steps] == [(False, True)]
        await app.poll_now()
        assert "bot ● down" in header(app)  # the restart failed: the bot stays down


async def test_the_screen_keeps_working_while_the_core_is_slow():
    op = FakeOperator()
    op.gate = asyncio.Event()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")  # blocks in the core until the gate opens
        await pilot.pause()
        assert op.names() == ["wave"]
        before = app.refreshes
        app.feed.apply({"type": "hello"})
        app.refresh_feed()
        await pilot.press("v")  # keys still handled
        await pilot.pause()
        assert app.refreshes == before + 1
        assert app.query_one("#buckets-panel").has_class("current")
        assert "⟳ 1" in str(app.query_one("#header").render())
        op.gate.set()
        await settle(app, pilot)
        assert app.session.steps[-1].action == "wave"


async def test_scenario_file_runs_live_and_export_writes_the_run_report(tmp_path):
    scenario = tmp_path / "mini.toml"
    scenario.write_text(
        'name = "mini"\n[setup]\nstrategy = "batched"\n\n[[steps]]\nspawn = 6\n\n'
        '[[steps]]\nqueue = "all"\n\n[[steps]]\nwave = true\n\n'
        "[[expect]]\nno_rate_limits = true\n"
    )
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await fill(app, pilot, path=str(scenario))
        assert op.names() == ["set_strategy", "spawn", "queue", "wave"]
        assert app.session.scenarios[0].status == "passed"
        log = app.query_one(EventLog)
        app.refresh_feed()
        assert any(e.kind == "scenario" and "step 3/3" in e.text for e in log.visible())
        report = tmp_path / "report.json"
        await pilot.press("e")
        await fill(app, pilot, path=str(report))
        data = json.loads(report.read_text())
        assert data["version"] == 1 and data["exit_code"] == 0
        names = [s["name"] for s in data["scenarios"]]
        assert names == ["mini", "tui-session"]
        session = data["scenarios"][1]
        assert [s["action"] for s in session["steps"]] == ["scenario"]
        assert {e["kind"] for e in session["expectations"]} == {"peak_1s_at_most", "no_rate_limits"}


async def test_log_filter_and_panel_cycle():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=(80, 24)) as pilot:
        app.feed.apply({"type": "rate_limited", "scope": "user", "route": "/r", "t": WALL0})
        app.feed.apply({"type": "fault", "fault": "reset", "route": "/r", "t": WALL0})
        app.refresh_feed()
        log = app.query_one(EventLog)
        assert [e.kind for e in log.visible()] == ["429", "fault"]
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press("home", "down", "space", "enter")  # untick "429", the second kind
        await pilot.pause()
        assert "429" not in log.kinds and set(log.kinds) == set(LOG_KINDS) - {"429"}
        assert [e.kind for e in log.visible()] == ["fault"]
        assert app.screen.has_class("narrow")
        assert log.has_class("current")
        await pilot.press("v")
        assert app.query_one("#buckets-panel").has_class("current")
        assert not log.has_class("current")


async def test_palette_lists_every_action_and_runs_them():
    op = FakeOperator()
    app = make_app(op)
    async with app.run_test(size=SIZE) as pilot:
        await op.spawn(4)
        for query in ("queue all idle", "wave now"):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*query)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await settle(app, pilot)
        assert op.names()[-2:] == ["queue", "wave"]
        from sandbox.tui.commands import SandboxCommands

        provider = SandboxCommands(app.screen)
        titles = [str(hit.display) async for hit in provider.discover()]
        assert len(titles) == len(ACTIONS)
        for spec in ACTIONS:
            assert any(t.startswith(spec.title) for t in titles)


def test_every_binding_has_an_id_a_tooltip_and_an_action():
    from sandbox.tui.app import SandboxApp

    bindings = SandboxApp.BINDINGS
    assert len(bindings) == len(ACTIONS)
    assert len({b.key for b in bindings}) == len(bindings)
    for binding in bindings:
        assert binding.id and binding.id.startswith("sandbox.")
        assert binding.tooltip and binding.description
        assert callable(getattr(SandboxApp, f"action_{binding.action}"))
