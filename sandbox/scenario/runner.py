"""Running scenarios: setup, steps in order, a final snapshot, expectations, reports.

The runner owns no stack. It is handed an `operator_factory`: a callable that takes the
scenario's `Setup` and returns an async context manager yielding an Operator (see
notes/SANDBOX_API.md). The real factory starts mock + bot + players and tears them down on
exit; tests pass a fake. This keeps the runner headless, fast to test and independent of
how the stack is started.

Exit codes, per run of several files: 0 when every expectation held, 1 when any failed
(including a step that raised or a `wait_until` that timed out), 2 when a file is bad or a
stack could not be set up or torn down. Bad files are all reported (one line each) before
anything runs, so CI never spends minutes on a run that could not have been valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sandbox.scenario.expectations import Result, evaluate
from sandbox.scenario.loader import load_scenario
from sandbox.scenario.model import Scenario, ScenarioError, Setup, Step
from sandbox.scenario.report import json_report, junit_xml, summary_table
from sandbox.scenario.steps import OperatorLike, apply_setup, execute_step
from sandbox.snapshot import Snapshot

__all__ = [
    "EXIT_BAD",
    "EXIT_FAILED",
    "EXIT_OK",
    "OperatorFactory",
    "ScenarioOutcome",
    "SetupError",
    "StepRecord",
    "arun_scenarios",
    "run_scenario",
    "run_scenarios",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD = 2

OperatorFactory = Callable[[Setup], AbstractAsyncContextManager[OperatorLike]]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class SetupError(Exception):
    """The stack could not be set up (or torn down): exit code 2, a one-line message."""


@dataclass(frozen=True, slots=True)
class StepRecord:
    index: int
    line: int
    action: str
    description: str
    ok: bool
    detail: str
    duration_s: float
    error: bool = False  # the operator raised

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(slots=True)
class ScenarioOutcome:
    name: str
    path: str
    seed: int | None = None
    steps: list[StepRecord] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    error: str | None = None  # bad file, failed setup or teardown
    duration_s: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_BAD
        return EXIT_OK if all(r.passed for r in self.results) else EXIT_FAILED

    @property
    def status(self) -> str:
        return {EXIT_OK: "passed", EXIT_FAILED: "failed"}.get(self.exit_code, "error")


def _say(err: TextIO, name: str, text: str) -> None:
    print(f"[{name}] {text}", file=err, flush=True)


def _crash(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


async def run_scenario(
    scenario: Scenario,
    operator_factory: OperatorFactory,
    *,
    seed: int | None = None,
    err: TextIO | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
) -> ScenarioOutcome:
    """Run one scenario. Raises `SetupError` when the stack cannot be set up; a teardown
    failure is recorded in `outcome.error` (exit code 2) with the results kept."""
    err = err if err is not None else sys.stderr
    setup = scenario.setup
    if seed is not None:
        setup = dataclasses.replace(setup, seed=seed)
    outcome = ScenarioOutcome(scenario.name, scenario.path, seed=setup.seed)
    began = clock()
    stack = contextlib.AsyncExitStack()
    try:
        operator = await stack.enter_async_context(operator_factory(setup))
        done = await apply_setup(operator, setup)
    except Exception as error:
        with contextlib.suppress(Exception):
            await stack.aclose()
        raise SetupError(f"{scenario.path}: setup failed: {_crash(error)}") from error
    _say(err, scenario.name, "setup: " + ("; ".join(done) or "defaults"))
    try:
        await _run_body(scenario, operator, outcome, err=err, sleep=sleep, clock=clock)
    finally:
        try:
            await stack.aclose()
        except Exception as error:
            outcome.error = f"{scenario.path}: teardown failed: {_crash(error)}"
            _say(err, scenario.name, outcome.error)
    outcome.duration_s = clock() - began
    return outcome


async def _run_body(
    scenario: Scenario,
    operator: OperatorLike,
    outcome: ScenarioOutcome,
    *,
    err: TextIO,
    sleep: Sleep,
    clock: Clock,
) -> None:
    snapshots: dict[str, Snapshot] = {}
    total = len(scenario.steps)
    crashed: str | None = None
    for step in scenario.steps:
        started = clock()
        try:
            result = await execute_step(operator, step, sleep=sleep)
        except Exception as error:
            crashed = f"step {step.index} ({step.action}, line {step.line}) raised {_crash(error)}"
            record = _record(step, False, crashed, clock() - started, error=True)
            outcome.steps.append(record)
            _progress(err, scenario.name, total, record)
            break
        record = _record(step, result.ok, result.detail, clock() - started)
        outcome.steps.append(record)
        _progress(err, scenario.name, total, record)
        if result.snapshot is not None and step.value:
            snapshots[step.value] = result.snapshot
        if not result.ok:
            outcome.results.append(
                Result(
                    f"step {step.index}: {step.describe()}",
                    False,
                    result.detail,
                    kind="step",
                    line=step.line,
                )
            )
    if crashed is not None:
        outcome.results.append(
            Result(f"step {outcome.steps[-1].index}", False, crashed, kind="step", error=True)
        )
        for exp in scenario.expectations:
            outcome.results.append(
                Result(exp.name, False, f"not evaluated: {crashed}", kind=exp.kind,
                       line=exp.line, error=True)
            )  # fmt: skip
        return
    try:
        final = await operator.snapshot()
    except Exception as error:
        crashed = f"final snapshot raised {_crash(error)}"
        outcome.results.extend(
            Result(e.name, False, f"not evaluated: {crashed}", kind=e.kind, line=e.line, error=True)
            for e in scenario.expectations
        )
        return
    for exp in scenario.expectations:
        label = exp.options.get("snapshot")
        snap = snapshots[label] if label else final
        try:
            result = evaluate(exp, snap)
        except Exception as error:  # malformed snapshot data: never a silent pass
            result = Result(
                exp.name,
                False,
                f"cannot measure: {_crash(error)}",
                kind=exp.kind,
                line=exp.line,
                error=True,
            )
        outcome.results.append(result)
    held = sum(r.passed for r in outcome.results)
    _say(err, scenario.name, f"{held}/{len(outcome.results)} expectations held")


def _record(step: Step, ok: bool, detail: str, duration: float, *, error: bool = False) -> Any:
    return StepRecord(
        step.index, step.line, step.action, step.describe(), ok, detail, duration, error
    )


def _progress(err: TextIO, name: str, total: int, record: StepRecord) -> None:
    mark = "ok" if record.ok else ("ERROR" if record.error else "FAILED")
    _say(
        err,
        name,
        f"step {record.index}/{total} line {record.line}: {record.description} -> "
        f"{mark}: {record.detail} ({record.duration_s:.2f}s)",
    )


def _load_all(
    paths: Sequence[str | Path], err: TextIO
) -> tuple[list[Scenario], list[ScenarioOutcome]]:
    scenarios: list[Scenario] = []
    bad: list[ScenarioOutcome] = []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as error:
            print(str(error), file=err, flush=True)
            bad.append(ScenarioOutcome(Path(path).stem, str(path), error=str(error)))
    return scenarios, bad


async def _run_all(
    scenarios: Sequence[Scenario],
    operator_factory: OperatorFactory,
    *,
    seed: int | None,
    err: TextIO,
    sleep: Sleep,
    clock: Clock,
) -> list[ScenarioOutcome]:
    outcomes: list[ScenarioOutcome] = []
    for scenario in scenarios:
        try:
            outcome = await run_scenario(
                scenario, operator_factory, seed=seed, err=err, sleep=sleep, clock=clock
            )
        except SetupError as error:
            print(str(error), file=err, flush=True)
            outcome = ScenarioOutcome(scenario.name, scenario.path, seed=seed, error=str(error))
        outcomes.append(outcome)
    return outcomes


def _finish(
    outcomes: Sequence[ScenarioOutcome],
    *,
    out: TextIO,
    err: TextIO,
    json_path: str | Path | None,
    junit_path: str | Path | None,
) -> int:
    code = max((o.exit_code for o in outcomes), default=EXIT_OK)
    print(summary_table(outcomes), file=out, flush=True)
    try:
        if json_path is not None:
            Path(json_path).write_text(json_report(outcomes, code), encoding="utf-8")
        if junit_path is not None:
            Path(junit_path).write_text(junit_xml(outcomes), encoding="utf-8")
    except OSError as error:
        print(f"cannot write the report: {error}", file=err, flush=True)
        return EXIT_BAD
    return code


async def arun_scenarios(
    paths: Sequence[str | Path],
    operator_factory: OperatorFactory,
    *,
    json_path: str | Path | None = None,
    junit_path: str | Path | None = None,
    seed: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
) -> int:
    """Load every file (all bad files are reported and nothing runs), run them in order,
    print the summary table, write the reports; returns the exit code."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if not paths:
        print("no scenario files given", file=err, flush=True)
        return EXIT_BAD
    scenarios, outcomes = await asyncio.to_thread(_load_all, paths, err)
    if not outcomes:
        outcomes = await _run_all(
            scenarios, operator_factory, seed=seed, err=err, sleep=sleep, clock=clock
        )
    return await asyncio.to_thread(
        _finish, outcomes, out=out, err=err, json_path=json_path, junit_path=junit_path
    )


def run_scenarios(
    paths: Sequence[str | Path],
    operator_factory: OperatorFactory,
    *,
    json_path: str | Path | None = None,
    junit_path: str | Path | None = None,
    seed: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The CLI's entry point (`sandbox run FILE... [--json] [--junit] [--seed]`)."""
    return asyncio.run(
        arun_scenarios(
            paths,
            operator_factory,
            json_path=json_path,
            junit_path=junit_path,
            seed=seed,
            out=out,
            err=err,
        )
    )
