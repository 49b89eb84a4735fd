"""The loader: strict validation, one error naming the file, the line and the form."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.scenario import ScenarioError, load_scenario, parse_scenario
from sandbox.scenario.durations import parse_duration
from sandbox.scenario.loader import ACTIONS, EXPECT_KINDS

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

GOOD = """\
name = "demo"

[setup]
strategy = "paced"
wave_interval = "45s"
seed = 3
limits = { global_limit = 40, global_algorithm = "fixed" }

[setup.faults]
errors = { rate = 0.1 }

[[steps]]
spawn = 20
races = "bw"
behaviour = { confirm_delay = ["250ms", "2s"], abort = 0.1 }

[[steps]]
queue = "all"

[[steps]]
wave = true

[[steps]]
wait_until = "wave_delivered"
timeout = "30s"

[[steps]]
snapshot = "after-wave"

[[steps]]
wait = "1m"

[[expect]]
no_rate_limits = true
scope = "global"

[[expect]]
all_notified_within = "5s"
snapshot = "after-wave"
"""


def error_for(source: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(source, "demo.toml")
    return caught.value


def line_of(text: str) -> int:
    """The 1-based line of GOOD that contains `text` (first match)."""
    return next(i for i, line in enumerate(GOOD.splitlines(), 1) if text in line)


def replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def test_a_good_file_becomes_typed_values_with_lines() -> None:
    scenario = parse_scenario(GOOD, "demo.toml")
    assert scenario.name == "demo"
    assert scenario.setup.strategy == "paced"
    assert scenario.setup.wave_interval == 45.0
    assert scenario.setup.limits == {"global_limit": 40, "global_algorithm": "fixed"}
    assert scenario.setup.faults == {"errors": {"rate": 0.1}}
    assert [s.action for s in scenario.steps] == [
        "spawn",
        "queue",
        "wave",
        "wait_until",
        "snapshot",
        "wait",
    ]
    spawn = scenario.steps[0]
    assert spawn.value == 20 and spawn.line == line_of("spawn = 20") - 1  # its [[steps]]
    assert spawn.options == {
        "races": "bw",
        "behaviour": {"confirm_delay": (0.25, 2.0), "abort": 0.1},
    }
    assert scenario.steps[1].value is None  # "all"
    assert scenario.steps[3].options == {"timeout": 30.0}
    assert scenario.steps[5].value == 60.0
    first, second = scenario.expectations
    assert (first.kind, first.options, first.name, first.line) == (
        "no_rate_limits",
        {"scope": "global"},
        "no_rate_limits [global]",
        line_of("no_rate_limits") - 1,
    )
    assert second.bound == 5.0 and second.options == {"snapshot": "after-wave"}


def test_a_syntax_error_names_file_and_line() -> None:
    error = error_for(replace("[[steps]]\nqueue", "[[steps]\nqueue"))
    assert error.line == 17 == line_of('queue = "all"') - 1
    assert str(error).startswith("demo.toml:17: invalid TOML:")
    assert "\n" not in str(error)


def test_an_unknown_step_key_is_an_error_with_its_line() -> None:
    error = error_for(replace('races = "bw"', 'racez = "bw"'))
    assert error.line == line_of("races")
    assert 'steps[1].racez: unknown key "racez" for spawn' in str(error)
    assert "rating_mean" in str(error)  # the expected form lists the allowed keys


def test_an_unknown_top_level_or_setup_key_is_an_error() -> None:
    assert error_for("tittle = 'x'\n" + GOOD).line == 1
    error = error_for(replace("seed = 3", "sede = 3"))
    assert (error.line, error.message.split(":")[0]) == (6, "setup.sede")


def test_an_unknown_key_inside_an_inline_table_points_at_its_line() -> None:
    error = error_for(replace("abort = 0.1", "abortt = 0.1"))
    assert error.line == line_of("abort = 0.1")
    assert 'steps[1].behaviour.abortt: unknown key "abortt"' in str(error)


def test_an_unknown_action_is_an_error() -> None:
    error = error_for(replace("wave = true", "wavee = true"))
    assert error.line == line_of("wave = true")
    assert 'unknown action "wavee"' in str(error)
    assert "spawn, queue, wave" in str(error)


def test_two_actions_in_one_step_is_an_error() -> None:
    error = error_for(replace("wave = true", "wave = true\nqueue = 3"))
    assert error.line == line_of("wave = true") + 1
    assert "expected exactly one action per table, got wave and queue" in str(error)


def test_a_step_without_an_action_is_an_error() -> None:
    error = error_for(replace('[[steps]]\nqueue = "all"', "[[steps]]\n"))
    assert "steps[2]: expected exactly one action key among: spawn" in str(error)
    assert error.line == line_of('queue = "all"') - 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("spawn = 20", 'spawn = "many"', 'steps[1].spawn: expected a positive integer, got "many"'),
        ("spawn = 20", "spawn = 0", "expected a positive integer, got 0"),
        ('queue = "all"', 'queue = "some"', 'expected "all" or a positive integer'),
        ("wave = true", "wave = 1", "steps[3].wave: expected true, got 1"),
        ('strategy = "paced"', 'strategy = "fast"', 'expected one of "naive", "sequential"'),
        ("seed = 3", "seed = 3.5", "setup.seed: expected an integer, got 3.5"),
        ("global_limit = 40", "global_limit = -1", "setup.limits.global_limit"),
        ("abort = 0.1", "abort = 1.5", "expected a probability between 0 and 1"),
        ('scope = "global"', 'scope = "everything"', "expect[1].scope: expected one of"),
    ],
)
def test_wrong_types_are_errors(old: str, new: str, expected: str) -> None:
    error = error_for(replace(old, new))
    assert error.line == line_of(old)
    assert expected in str(error)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('wave_interval = "45s"', "wave_interval = 45"),  # a bare number: which unit?
        ('wait = "1m"', 'wait = "1 minute"'),
        ('timeout = "30s"', 'timeout = "30"'),
        ('all_notified_within = "5s"', 'all_notified_within = "5h"'),
        ('confirm_delay = ["250ms", "2s"]', 'confirm_delay = ["250ms", 2]'),
    ],
)
def test_bad_durations_are_errors(old: str, new: str) -> None:
    error = error_for(replace(old, new))
    assert error.line == line_of(old)
    assert 'expected a duration string such as "250ms", "2s" or "1m"' in str(error)


def test_faults_are_checked_by_the_mocks_own_parser() -> None:
    error = error_for(replace("errors = { rate = 0.1 }", "errors = { rate = 2 }"))
    assert error.line == 10
    assert "setup.faults.errors.rate: expected a probability 0..1, got 2" in str(error)
    error = error_for(replace("errors = { rate = 0.1 }", "eros = { rate = 0.1 }"))
    assert "setup.faults.eros: unknown key" in str(error) and error.line == 10


def test_an_unknown_expectation_kind_and_option_are_errors() -> None:
    error = error_for(replace("no_rate_limits = true", "no_rate_limit = true"))
    assert error.line == line_of("no_rate_limits") and 'unknown expectation "no_rate_limit"' in str(
        error
    )
    error = error_for(replace('scope = "global"', 'scope = "global"\nwithin = "2s"'))
    assert error.line == line_of("scope") + 1
    assert 'expect[1].within: unknown key "within" for no_rate_limits' in str(error)


def test_an_expectation_on_an_unknown_snapshot_label_is_an_error() -> None:
    error = error_for(
        replace('snapshot = "after-wave"\n\n[[steps]]', 'snapshot = "mid"\n\n[[steps]]')
    )
    assert 'no snapshot step labelled "after-wave" (expected one of: "mid")' in str(error)
    assert error.line == len(GOOD.splitlines())


def test_steps_and_expectations_are_required() -> None:
    error = error_for('[setup]\nstrategy = "paced"\n')
    assert "expected at least one [[steps]] table" in str(error)
    error = error_for("[[steps]]\nwave = true\n")
    assert "expected at least one [[expect]] table" in str(error)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "nope.toml")
    assert str(caught.value).startswith(str(tmp_path / "nope.toml") + ": cannot read the file")


def test_headers_inside_multiline_strings_do_not_shift_lines() -> None:
    source = 'description = """\n[[steps]]\nnot a table\n"""\n' + GOOD.replace(
        'name = "demo"\n', ""
    )
    error = error_for(source.replace("wave = true", "wave = 2"))
    assert error.line == GOOD.splitlines().index("wave = true") + 1 + 3


@pytest.mark.parametrize(
    ("text", "seconds"), [("250ms", 0.25), ("2s", 2.0), ("1.5s", 1.5), ("1m", 60.0)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["2", 2, "2 h", "-1s", "", "s", True])
def test_bad_durations_raise(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_every_shipped_scenario_loads() -> None:
    files = sorted(SCENARIOS.glob("*.toml"))
    names = {f.stem for f in files}
    assert {
        "quiet-evening",
        "peak-wave",
        "naive-burst",
        "expired-tokens",
        "mass-abort",
        "faults",
        "announce",
        "restart",
    } <= names
    for path in files:
        scenario = load_scenario(path)
        assert scenario.name == path.stem
        assert scenario.steps and scenario.expectations


def test_the_shipped_scenarios_say_what_the_issue_asks() -> None:
    peak = load_scenario(SCENARIOS / "peak-wave.toml")
    assert peak.setup.strategy == "paced"
    assert peak.steps[0].value == 200
    assert [s.action for s in peak.steps].count("wave") == 1
    naive = load_scenario(SCENARIOS / "naive-burst.toml")
    assert naive.setup.strategy == "naive" and naive.steps[0].value == 200
    assert any(e.kind == "rate_limits_at_least" for e in naive.expectations)
    assert load_scenario(SCENARIOS / "quiet-evening.toml").steps[0].value == 20
    announce = load_scenario(SCENARIOS / "announce.toml")
    assert announce.steps[0].value == 300
    assert any(s.action == "announce" for s in announce.steps)
    assert any(s.action == "restart_bot" for s in load_scenario(SCENARIOS / "restart.toml").steps)
    assert load_scenario(SCENARIOS / "faults.toml").setup.faults["errors"]["rate"] > 0
    expired = load_scenario(SCENARIOS / "expired-tokens.toml")
    assert any(s.action == "expire_tokens" for s in expired.steps)


def test_the_tables_of_actions_and_kinds_match_the_brief() -> None:
    assert set(ACTIONS) == {
        "spawn", "queue", "wave", "complete", "conflict", "abort", "disconnect", "replays",
        "leaderboard_spam", "announce", "strategy", "configure", "expire_tokens",
        "restart_bot", "snapshot", "wait", "wait_until",
    }  # fmt: skip
    assert set(EXPECT_KINDS) == {
        "no_rate_limits", "rate_limits_at_least", "peak_1s_at_most", "all_notified_within",
        "phase1_spread_at_most", "no_stuck_players", "failed_interactions", "exactly_once",
        "makespan_ratio_at_most",
    }  # fmt: skip


def test_the_docs_name_every_key() -> None:
    from sandbox.scenario.loader import BEHAVIOUR, LIMITS, SETUP, WAIT_CONDITIONS

    docs = (SCENARIOS.parent / "docs" / "scenarios.md").read_text(encoding="utf-8")
    keys = [*ACTIONS, *EXPECT_KINDS, *SETUP, *LIMITS, *BEHAVIOUR, *WAIT_CONDITIONS]
    keys += [opt for _, options in (*ACTIONS.values(), *EXPECT_KINDS.values()) for opt in options]
    missing = sorted({k for k in keys if f"`{k}`" not in docs and f'`"{k}"`' not in docs})
    assert missing == []
