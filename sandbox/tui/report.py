"""Export a report from the TUI: the same JSON as `sandbox run --json`.

A TUI session is reported as one more "scenario" in the documented report shape
(docs/scenarios.md, `sandbox.scenario.report.json_report`): its steps are the operator's
actions in order (with what each returned), and its expectations are the two that hold for
any session, measured on a fresh snapshot by the scenario runner's own code:

- `peak_1s_at_most` the active global limit (the mock's referee figure);
- `no_rate_limits` (any scope).

Scenario files run from the TUI are added as their own entries, exactly as `sandbox run`
reports them. The exit code in the report is the worst of all entries, as in `sandbox run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sandbox.scenario import Expectation, ScenarioOutcome, evaluate
from sandbox.scenario.report import json_report
from sandbox.scenario.runner import StepRecord
from sandbox.snapshot import Snapshot

__all__ = ["SESSION_NAME", "SessionLog", "session_report"]

SESSION_NAME = "tui-session"


@dataclass
class SessionLog:
    """The operator's actions in this session, as scenario step records."""

    steps: list[StepRecord] = field(default_factory=list)
    scenarios: list[ScenarioOutcome] = field(default_factory=list)

    def record(
        self,
        action: str,
        description: str,
        ok: bool,
        detail: str,
        duration_s: float,
        *,
        error: bool = False,
    ) -> None:
        index = len(self.steps) + 1
        self.steps.append(
            StepRecord(index, 0, action, description, ok, detail, round(duration_s, 4), error)
        )


def _limit(snap: Snapshot) -> int:
    apps = snap.mock_stats.get("applications") or {}
    row = apps.get(snap.application_id) if isinstance(apps, dict) else None
    if not isinstance(row, dict):
        rows = [r for k, r in apps.items() if not str(k).startswith("ip:")]
        row = rows[0] if rows else {}
    limit = row.get("global_limit") if isinstance(row, dict) else None
    return limit if isinstance(limit, int) and limit > 0 else 50


def session_outcome(log: SessionLog, snap: Snapshot, duration_s: float) -> ScenarioOutcome:
    outcome = ScenarioOutcome(SESSION_NAME, "(tui)", steps=list(log.steps))
    limit = _limit(snap)
    checks = (
        Expectation("peak_1s_at_most", limit, name=f"peak_1s_at_most {limit}", line=0),
        Expectation("no_rate_limits", True, name="no_rate_limits", line=0),
    )
    outcome.results = [evaluate(exp, snap) for exp in checks]
    outcome.duration_s = duration_s
    return outcome


def session_report(
    log: SessionLog, snap: Snapshot, duration_s: float
) -> tuple[str, Sequence[ScenarioOutcome]]:
    """The JSON text (as `sandbox run --json` writes it) and the outcomes it covers."""
    outcomes = [*log.scenarios, session_outcome(log, snap, duration_s)]
    code = max(o.exit_code for o in outcomes)
    return json_report(outcomes, code), outcomes
