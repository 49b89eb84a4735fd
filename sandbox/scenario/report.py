"""Three views of one run: a table for people, JSON for tools, JUnit XML for CI.

All three are pure functions of the scenario outcomes, so they always agree.

- `summary_table`: one row per expectation (and per failed step), then a totals line.
- `json_report`: the documented shape (docs/scenarios.md, "JSON report"); `version` changes
  if the shape ever does.
- `junit_xml`: the common JUnit schema CI servers read: `testsuites` > `testsuite` (one per
  scenario file) > `testcase` (one per expectation) with `failure` or `error`. A bad file
  or a failed setup is one testcase with an `error`, so CI shows it rather than an empty
  suite.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.scenario.runner import ScenarioOutcome

__all__ = ["REPORT_VERSION", "json_report", "junit_xml", "summary_table"]

REPORT_VERSION = 1


def _mark(passed: bool, error: bool) -> str:
    return "PASS" if passed else ("ERROR" if error else "FAIL")


def summary_table(outcomes: Sequence[ScenarioOutcome]) -> str:
    rows: list[tuple[str, str, str, str]] = []
    for o in outcomes:
        if o.error is not None and not o.results:
            rows.append((o.name, "(setup)", "ERROR", o.error))
        for r in o.results:
            rows.append((o.name, r.name, _mark(r.passed, r.error), r.detail))
        if o.error is not None and o.results:
            rows.append((o.name, "(teardown)", "ERROR", o.error))
    head = ("SCENARIO", "EXPECTATION", "RESULT", "DETAIL")
    w0 = max([len(head[0])] + [len(r[0]) for r in rows])
    w1 = max([len(head[1])] + [len(r[1]) for r in rows])
    lines = [f"{head[0]:<{w0}}  {head[1]:<{w1}}  {head[2]:<6}  {head[3]}"]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c:<6}  {d}" for a, b, c, d in rows]
    results = [r for o in outcomes for r in o.results]
    held = sum(r.passed for r in results)
    by_status = {s: sum(o.status == s for o in outcomes) for s in ("passed", "failed", "error")}
    lines.append(
        f"{len(outcomes)} scenarios: {by_status['passed']} passed, {by_status['failed']} failed, "
        f"{by_status['error']} errors; {held}/{len(results)} expectations held"
    )
    return "\n".join(lines)


def report_dict(outcomes: Sequence[ScenarioOutcome], exit_code: int) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "exit_code": exit_code,
        "passed": exit_code == 0,
        "scenarios": [
            {
                "name": o.name,
                "file": o.path,
                "status": o.status,
                "seed": o.seed,
                "duration_s": round(o.duration_s, 3),
                "error": o.error,
                "steps": [s.to_json() for s in o.steps],
                "expectations": [r.to_json() for r in o.results],
            }
            for o in outcomes
        ],
    }


def json_report(outcomes: Sequence[ScenarioOutcome], exit_code: int) -> str:
    return json.dumps(report_dict(outcomes, exit_code), indent=2) + "\n"


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"


def junit_xml(outcomes: Sequence[ScenarioOutcome]) -> str:
    root = ET.Element("testsuites", name="sandbox scenarios")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    total_time = 0.0
    for o in outcomes:
        suite = ET.SubElement(root, "testsuite", name=o.name)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="file", value=o.path)
        ET.SubElement(props, "property", name="seed", value="" if o.seed is None else str(o.seed))
        classname = f"scenarios.{o.name}"
        counts = {"tests": 0, "failures": 0, "errors": 0}
        cases: list[tuple[str, float, str | None, str, bool]] = []
        step_time = {f"step {s.index}": s.duration_s for s in o.steps}
        for r in o.results:
            key = r.name.split(":", 1)[0]
            cases.append((r.name, step_time.get(key, 0.0), None if r.passed else r.detail,
                          r.kind or "expectation", r.error))  # fmt: skip
        if o.error is not None:
            name = "teardown" if o.results else "setup"
            cases.append((name, 0.0, o.error, "setup", True))
        for name, seconds, problem, kind, error in cases:
            case = ET.SubElement(
                suite, "testcase", classname=classname, name=name, time=_seconds(seconds)
            )
            counts["tests"] += 1
            if problem is not None:
                tag = "error" if error else "failure"
                counts["errors" if error else "failures"] += 1
                fault = ET.SubElement(case, tag, message=problem, type=kind)
                fault.text = problem
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("skipped", "0")
        suite.set("time", _seconds(o.duration_s))
        total_time += o.duration_s
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(total_time))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
