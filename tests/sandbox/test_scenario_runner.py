"""The runner against a fake operator: order, progress lines, exit codes, failures named."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sandbox.scenario import (
    EXIT_BAD,
    EXIT_FAILED,
    EXIT_OK,
    SetupError,
    arun_scenarios,
    parse_scenario,
    run_scenario,
    run_scenarios,
)
from tests.sandbox.scenario_fakes import (
    FakeFactory,
    FakeOperator,
    dm,
    entry,
    no_sleep,
    snapshot,
    wave_ledger,
)

EVERY_ACTION = """\
[setup]
profile = "my-limits.toml"
strategy = "batched"
seed = 11
players = 4
behaviour = { no_confirm = 1.0 }
limits = { global_limit = 40 }
faults = { resets = { rate = 0.5 } }

[[steps]]
spawn = 20
rating_mean = 1400

[[steps]]
queue = 10

[[steps]]
wave = true

[[steps]]
wait_until = "wave_delivered"
timeout = "5s"

[[steps]]
complete = "all"

[[steps]]
conflict = 2

[[steps]]
abort = 1

[[steps]]
replays = "all"

[[steps]]
disconnect = true

[[steps]]
leaderboard_spam = 50

[[steps]]
announce = "hello"

[[steps]]
strategy = "naive"

[[steps]]
configure = { global_limit = 10, faults = { errors = { rate = 0.2 } } }

[[steps]]
expire_tokens = true

[[steps]]
restart_bot = true
kill = false

[[steps]]
snapshot = "mid"

[[steps]]
wait = "250ms"

[[expect]]
no_rate_limits = true

[[expect]]
failed_interactions = 0
snapshot = "mid"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def run(paths: list[Path], factory: FakeFactory, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await arun_scenarios(paths, factory, out=out, err=err, sleep=no_sleep, **kwargs)
    return code, out.getvalue(), err.getvalue()


async def test_steps_run_in_order_through_the_operator(tmp_path: Path) -> None:
    operator = FakeOperator()
    factory = FakeFactory(operator)
    code, out, err = await run([write(tmp_path, "every", EVERY_ACTION)], factory)
    assert code == EXIT_OK, out + err
    assert [name for name, _ in operator.calls] == [
        # setup, through the operator as well
        "configure_mock",
        "set_strategy",
        "spawn",
        # steps
        "spawn",
        "queue",
        "wave",
        "wait_until",
        "complete",
        "conflict",
        "abort",
        "replays",
        "disconnect",
        "leaderboard_spam",
        "announce",
        "set_strategy",
        "configure_mock",
        "expire_tokens",
        "restart_bot",
        "snapshot",
        "snapshot",  # the final one
    ]
    calls = operator.calls
    assert calls[0][1] == {
        "profile": "my-limits.toml",
        "global_limit": 40,
        "faults": {"resets": {"rate": 0.5}},
    }
    assert calls[2][1] == (4, {"behaviour": {"no_confirm": 1.0}})
    assert calls[3][1] == (20, {"rating_mean": 1400})
    assert calls[4][1] == 10
    assert calls[6][1] == ("wave_delivered", 5.0)
    assert calls[7][1] is None  # "all"
    assert calls[14][1] == "naive"
    assert calls[15][1] == {"global_limit": 10, "faults": {"errors": {"rate": 0.2}}}
    assert calls[17][1] is False  # kill = false
    assert factory.setups[0].seed == 11 and factory.setups[0].profile == "my-limits.toml"
    assert factory.closed == 1


async def test_one_progress_line_per_step_on_stderr(tmp_path: Path) -> None:
    code, out, err = await run(
        [write(tmp_path, "every", EVERY_ACTION)], FakeFactory(FakeOperator())
    )
    lines = err.splitlines()
    steps = [line for line in lines if " step " in line]
    assert len(steps) == 17
    assert steps[0].startswith("[every] step 1/17 line 10: spawn 20 (rating_mean=1400.0) -> ok")
    assert "step 4/17 line 20: wait_until wave_delivered (timeout=5.0) -> ok" in steps[3]
    assert "step 17/17" in steps[-1] and "waited 0.25s" in steps[-1]
    assert lines[0].startswith("[every] setup: mock configured")
    assert "SCENARIO" not in err and "SCENARIO" in out  # table on stdout only
    assert code == EXIT_OK


async def test_a_failed_expectation_exits_1_and_is_named(tmp_path: Path) -> None:
    snap = snapshot(ledger=[entry(0.1, status=429, scope="global")])
    path = write(tmp_path, "bitten", EVERY_ACTION)
    code, out, _ = await run([path], FakeFactory(FakeOperator(snap)))
    assert code == EXIT_FAILED
    row = next(line for line in out.splitlines() if line.startswith("bitten") and "FAIL" in line)
    assert "no_rate_limits" in row and "1 429s" in row
    assert "1 scenarios: 0 passed, 1 failed, 0 errors; 1/2 expectations held" in out


VIOLATIONS = {
    "no_rate_limits = true": snapshot(ledger=[entry(0.1, status=429, scope="user")]),
    "rate_limits_at_least = 1": snapshot(ledger=wave_ledger(2)),
    "peak_1s_at_most = 50": snapshot(ledger=[entry(i / 100) for i in range(51)]),
    'all_notified_within = "1s"': snapshot(ledger=wave_ledger(4, phase2_gap=1.0), players=4),
    'phase1_spread_at_most = "500ms"': snapshot(ledger=wave_ledger(4, phase1_gap=1), players=4),
    "no_stuck_players = true": snapshot(player_views={"7": {"state": "in_match"}}),
    "failed_interactions = 0": snapshot(stats={"interactions": {"failed": 1, "delivered": 3}}),
    "exactly_once = true": snapshot(dms={"7": [dm("x", nonce="n"), dm("y", nonce="n")]}),
    "makespan_ratio_at_most = 1.1": snapshot(ledger=wave_ledger(200, phase2_gap=0.05), players=200),
}


@pytest.mark.parametrize("kind_line", list(VIOLATIONS))
async def test_each_kind_can_fail_a_scenario(tmp_path: Path, kind_line: str) -> None:
    kind = kind_line.split(" ")[0]
    text = f'[[steps]]\nwave = true\n\n[[expect]]\n{kind_line}\nname = "violated {kind}"\n'
    path = write(tmp_path, "violate", text)
    code, out, _ = await run([path], FakeFactory(FakeOperator(VIOLATIONS[kind_line])))
    assert code == EXIT_FAILED
    failed = [line for line in out.splitlines() if " FAIL " in line or " ERROR " in line]
    assert len(failed) == 1 and f"violated {kind}" in failed[0]


async def test_a_setup_failure_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "s", EVERY_ACTION)
    code, out, err = await run([path], FakeFactory(FakeOperator(), fail_start=True))
    assert code == EXIT_BAD
    message = next(line for line in err.splitlines() if "setup failed" in line)
    assert message == f"{path}: setup failed: OSError: port 8787 is already in use"
    assert "ERROR" in out


async def test_run_scenario_raises_a_typed_setup_error_when_setup_calls_fail() -> None:
    scenario = parse_scenario('[setup]\nstrategy = "naive"\n[[steps]]\nwave = true\n'
                              "[[expect]]\nno_rate_limits = true\n", "x.toml")  # fmt: skip
    operator = FakeOperator(raise_on="set_strategy")
    factory = FakeFactory(operator)
    with pytest.raises(SetupError, match=r"x.toml: setup failed: RuntimeError: set_strategy"):
        await run_scenario(scenario, factory, err=io.StringIO(), sleep=no_sleep)
    assert factory.closed == 1  # torn down even so
    assert "wave" not in [name for name, _ in operator.calls]


async def test_a_bad_file_exits_2_and_nothing_runs(tmp_path: Path) -> None:
    good = write(tmp_path, "good", EVERY_ACTION)
    bad = write(tmp_path, "bad", "[[steps]]\nwaev = true\n[[expect]]\nno_rate_limits = true\n")
    factory = FakeFactory(FakeOperator())
    code, _, err = await run([good, bad], factory)
    assert code == EXIT_BAD
    assert factory.setups == []
    assert f'{bad}:2: steps[1].waev: unknown action "waev"' in err


async def test_a_timed_out_wait_until_fails_the_scenario(tmp_path: Path) -> None:
    code, out, err = await run(
        [write(tmp_path, "slow", EVERY_ACTION)], FakeFactory(FakeOperator(reached=False))
    )
    assert code == EXIT_FAILED
    assert "-> FAILED: wave_delivered not reached within 5s" in err
    assert "step 4: wait_until wave_delivered (timeout=5.0)" in out


async def test_a_step_that_raises_stops_the_run_and_fails_it(tmp_path: Path) -> None:
    operator = FakeOperator(raise_on="wave")
    factory = FakeFactory(operator)
    code, out, err = await run([write(tmp_path, "boom", EVERY_ACTION)], factory)
    assert code == EXIT_FAILED
    assert "complete" not in [name for name, _ in operator.calls]
    assert "step 3 (wave, line 17) raised RuntimeError: wave blew up" in err
    assert out.count("not evaluated") == 2
    assert factory.closed == 1


async def test_a_teardown_failure_exits_2(tmp_path: Path) -> None:
    factory = FakeFactory(FakeOperator(), fail_stop=True)
    code, _, err = await run([write(tmp_path, "t", EVERY_ACTION)], factory)
    assert code == EXIT_BAD
    assert "teardown failed: RuntimeError: bot did not exit" in err


async def test_seed_override_reaches_the_factory(tmp_path: Path) -> None:
    factory = FakeFactory(FakeOperator())
    path = write(tmp_path, "seeded", EVERY_ACTION)
    json_path = tmp_path / "r.json"
    code, _, _ = await run([path], factory, seed=99, json_path=json_path)
    assert code == EXIT_OK
    assert factory.setups[0].seed == 99
    assert json.loads(json_path.read_text())["scenarios"][0]["seed"] == 99


async def test_an_expectation_reads_its_named_snapshot(tmp_path: Path) -> None:
    class TwoSnapshots(FakeOperator):
        async def snapshot(self):  # type: ignore[override]
            self._call("snapshot", None)
            taken = sum(name == "snapshot" for name, _ in self.calls)
            clean = snapshot()
            dirty = snapshot(ledger=[entry(0.1, status=429, scope="global")])
            return clean if taken == 1 else dirty

    text = (
        "[[steps]]\nsnapshot = 'early'\n\n"
        "[[expect]]\nno_rate_limits = true\nsnapshot = 'early'\nname = 'early'\n\n"
        "[[expect]]\nno_rate_limits = true\nname = 'final'\n"
    )
    code, out, _ = await run([write(tmp_path, "snaps", text)], FakeFactory(TwoSnapshots()))
    assert code == EXIT_FAILED
    assert any(line.split()[1:3] == ["early", "PASS"] for line in out.splitlines())
    assert any(line.split()[1:3] == ["final", "FAIL"] for line in out.splitlines())


def test_the_sync_entry_point_for_the_cli(tmp_path: Path) -> None:
    text = "[[steps]]\nwave = true\n[[expect]]\nno_rate_limits = true\n"
    out, err = io.StringIO(), io.StringIO()
    junit = tmp_path / "junit.xml"
    code = run_scenarios(
        [write(tmp_path, "sync", text)],
        FakeFactory(FakeOperator()),
        junit_path=junit,
        out=out,
        err=err,
    )
    assert code == EXIT_OK
    assert junit.read_text().startswith("<?xml")
    assert "1/1 expectations held" in out.getvalue()


async def test_an_unwritable_report_path_exits_2(tmp_path: Path) -> None:
    text = "[[steps]]\nwave = true\n[[expect]]\nno_rate_limits = true\n"
    code, _, err = await run(
        [write(tmp_path, "w", text)],
        FakeFactory(FakeOperator()),
        json_path=tmp_path / "missing-dir" / "r.json",
    )
    assert code == EXIT_BAD and "cannot write the report" in err
