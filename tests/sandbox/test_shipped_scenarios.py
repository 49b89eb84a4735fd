"""Every scenario shipped in scenarios/ runs headless, end to end, and all its expectations hold.

Each file runs exactly as CI and people run it (`sandbox run FILE`): the mock and the bot as
child processes on loopback, fake players driven through the mock, the referee's figures
from the mock's ledger. A failure prints the report's failing rows (measured figure vs
bound), so a regression in the bot, the mock or the sandbox names itself.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sandbox.operator import scenario_factory
from sandbox.scenario import run_scenarios

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SCENARIOS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.toml"))


def test_scenarios_are_shipped() -> None:
    names = {p.stem for p in SCENARIOS}
    required = {
        "quiet-evening",
        "peak-wave",
        "naive-burst",
        "expired-tokens",
        "mass-abort",
        "faults",
        "announce",
        "restart",
    }
    assert required <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_passes(path: Path, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    report = tmp_path / "report.json"
    code = run_scenarios(
        [path],
        scenario_factory(mode="subprocess", runs_dir=tmp_path / "runs"),
        json_path=report,
        out=out,
        err=err,
    )
    data = json.loads(report.read_text(encoding="utf-8"))
    (scenario,) = data["scenarios"]
    failed = [f"{r['name']}: {r['detail']}" for r in scenario["expectations"] if not r["passed"]]
    assert code == 0, f"{path.name}: exit {code}\n" + "\n".join(failed) + "\n" + err.getvalue()
    assert scenario["expectations"] and not failed
