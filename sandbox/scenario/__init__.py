"""Headless scenarios: TOML files of steps and expectations, run against an Operator.

`load_scenario` validates a file (one precise error for a bad one), `run_scenarios` runs
files against stacks made by an injected operator factory and writes the human, JSON and
JUnit reports. The CLI (`sandbox run`) is a thin front over `run_scenarios`.
"""

from sandbox.scenario.expectations import Result, evaluate
from sandbox.scenario.loader import load_scenario, parse_scenario
from sandbox.scenario.model import Expectation, Scenario, ScenarioError, Setup, Step
from sandbox.scenario.runner import (
    EXIT_BAD,
    EXIT_FAILED,
    EXIT_OK,
    OperatorFactory,
    ScenarioOutcome,
    SetupError,
    arun_scenarios,
    run_scenario,
    run_scenarios,
)
from sandbox.scenario.steps import OperatorLike

__all__ = [
    "EXIT_BAD",
    "EXIT_FAILED",
    "EXIT_OK",
    "Expectation",
    "OperatorFactory",
    "OperatorLike",
    "Result",
    "Scenario",
    "ScenarioError",
    "ScenarioOutcome",
    "Setup",
    "SetupError",
    "Step",
    "arun_scenarios",
    "evaluate",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
    "run_scenarios",
]
