"""`sandbox` CLI: exit codes 0/1/2, one-line errors, and the subcommand registry."""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

import pytest

from sandbox import cli
from sandbox.cli import Subcommand, build_parser, main

SMALL = """
name = "small"
[setup]
strategy = "paced"
wave_interval = "10m"
seed = 3

[[steps]]
spawn = 4
races = "bw"
rating_sd = 10
behaviour = {{ no_confirm = 1.0 }}

[[steps]]
spawn = 4
races = "sc2"
rating_sd = 10
behaviour = {{ no_confirm = 1.0 }}

[[steps]]
queue = "all"

[[steps]]
wave = true

[[steps]]
wait_until = "wave_delivered"
timeout = "20s"

[[expect]]
{expect}
"""


def _write(tmp_path: Path, expect: str) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL.format(expect=expect), encoding="utf-8")
    return path


def test_bad_flag_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "x.toml", "--sede", "3"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --sede" in err


def test_no_subcommand_and_non_integer_seed_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["run", "a.toml", "--seed", "many"], ["run"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_bad_file_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[steps]]\nsapwn = 3\n\n[[expect]]\nexactly_once = true\n", encoding="utf-8")
    assert main(["run", str(bad), "--in-process"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err and "sapwn" in err


def test_scenario_passes_exit_0_with_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "exactly_once = true")
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    code = main(
        ["run", str(path), "--in-process", "--runs-dir", str(tmp_path / "runs"),
         "--json", str(report), "--junit", str(junit), "--seed", "5"]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "PASS" in out.out and "step 5/5" in out.err
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["scenarios"][0]["seed"] == 5
    assert "<testcase" in junit.read_text(encoding="utf-8")
    assert len(list((tmp_path / "runs").iterdir())) == 1  # the run's own data folder


def test_failed_expectation_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, 'rate_limits_at_least = 1\nname = "quiet cannot bite"')
    code = main(["run", str(path), "--in-process", "--runs-dir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert code == 1
    assert "quiet cannot bite" in out and "FAIL" in out


def test_setup_failure_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "exactly_once = true")
    blocker = tmp_path / "runs"
    blocker.write_text("a file where the runs folder should be", encoding="utf-8")
    assert main(["run", str(path), "--runs-dir", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert "setup failed" in err and str(blocker) in err


def test_registry_adds_subcommands_and_skips_missing_modules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = types.ModuleType("sandbox_fake_bench")
    calls: list[argparse.Namespace] = []

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--matches", default="15")

    def run(args: argparse.Namespace) -> int:
        calls.append(args)
        return 0

    module.configure = configure  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sandbox_fake_bench", module)
    registry = (
        *cli.SUBCOMMANDS[:1],
        Subcommand("bench", "bench", "sandbox_fake_bench"),
        Subcommand("audit", "audit", "sandbox_no_such_module_yet"),
    )
    parser = build_parser(registry)
    args = parser.parse_args(["bench", "--matches", "50"])
    assert args.handler(args) == 0 and calls[0].matches == "50"
    with pytest.raises(SystemExit):
        parser.parse_args(["audit"])
