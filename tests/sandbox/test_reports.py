"""The JSON report's documented shape and JUnit XML's schema-required structure."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from sandbox.scenario import arun_scenarios
from sandbox.scenario.report import REPORT_VERSION
from tests.sandbox.scenario_fakes import FakeFactory, FakeOperator, entry, no_sleep, snapshot

SCENARIO = """\
[setup]
seed = 4

[[steps]]
wave = true

[[steps]]
wait_until = "wave_delivered"

[[expect]]
no_rate_limits = true

[[expect]]
peak_1s_at_most = 50

[[expect]]
failed_interactions = 0
"""


async def reports(
    tmp_path: Path, operator: FakeOperator, **factory: bool
) -> tuple[int, dict, ET.Element]:
    paths = []
    for name in ("alpha", "beta"):
        path = tmp_path / f"{name}.toml"
        path.write_text(SCENARIO, encoding="utf-8")
        paths.append(path)
    json_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    code = await arun_scenarios(
        paths,
        FakeFactory(operator, **factory),
        json_path=json_path,
        junit_path=junit_path,
        out=io.StringIO(),
        err=io.StringIO(),
        sleep=no_sleep,
    )
    return code, json.loads(json_path.read_text()), ET.parse(junit_path).getroot()


def failing_operator() -> FakeOperator:
    snap = snapshot(
        ledger=[entry(0.1, status=429, scope="global")],
        stats={"interactions": {}},  # failed_interactions cannot be measured: an error
    )
    return FakeOperator(snap)


async def test_json_report_shape(tmp_path: Path) -> None:
    code, report, _ = await reports(tmp_path, failing_operator())
    assert code == 1
    assert set(report) == {"version", "exit_code", "passed", "scenarios"}
    assert (report["version"], report["exit_code"], report["passed"]) == (REPORT_VERSION, 1, False)
    alpha = report["scenarios"][0]
    assert set(alpha) == {
        "name", "file", "status", "seed", "duration_s", "error", "steps", "expectations",
    }  # fmt: skip
    assert (alpha["name"], alpha["status"], alpha["seed"], alpha["error"]) == (
        "alpha",
        "failed",
        4,
        None,
    )
    assert alpha["file"].endswith("alpha.toml")
    step = alpha["steps"][0]
    assert set(step) == {
        "index", "line", "action", "description", "ok", "detail", "duration_s", "error",
    }  # fmt: skip
    assert (step["index"], step["line"], step["action"], step["ok"]) == (1, 4, "wave", True)
    rate, peak, failed = alpha["expectations"]
    assert set(rate) == {"name", "kind", "passed", "error", "measured", "bound", "detail", "line"}
    assert (rate["kind"], rate["passed"], rate["measured"], rate["bound"]) == (
        "no_rate_limits",
        False,
        1,
        None,
    )
    assert (peak["passed"], peak["measured"], peak["bound"], peak["line"]) == (True, 1, 50, 13)
    assert (failed["passed"], failed["error"]) == (False, True)


async def test_json_report_of_a_passing_run(tmp_path: Path) -> None:
    code, report, _ = await reports(tmp_path, FakeOperator())
    assert code == 0 and report["passed"] is True
    assert [s["status"] for s in report["scenarios"]] == ["passed", "passed"]


async def test_junit_structure_follows_the_common_schema(tmp_path: Path) -> None:
    _, _, root = await reports(tmp_path, failing_operator())
    assert root.tag == "testsuites"
    for attr in ("name", "tests", "failures", "errors", "time"):
        assert attr in root.attrib
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "2")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["alpha", "beta"]
    for suite in suites:
        for attr in ("name", "tests", "failures", "errors", "time"):
            assert attr in suite.attrib, attr
        float(suite.get("time"))  # a number
        cases = suite.findall("testcase")
        assert len(cases) == int(suite.get("tests")) == 3  # one per expectation
        for case in cases:
            assert case.get("classname") == f"scenarios.{suite.get('name')}"
            assert case.get("name") and float(case.get("time")) >= 0
        rate, peak, failed = cases
        failure = rate.find("failure")
        assert failure is not None and "1 429s" in failure.get("message")
        assert peak.find("failure") is None and peak.find("error") is None
        error = failed.find("error")
        assert error is not None and error.get("message").startswith("cannot measure")
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        assert props["seed"] == "4" and props["file"].endswith(".toml")
        assert (suite.get("failures"), suite.get("errors")) == ("1", "1")


async def test_junit_for_a_failed_setup_has_an_error_case(tmp_path: Path) -> None:
    code, report, root = await reports(tmp_path, FakeOperator(), fail_start=True)
    assert code == 2
    assert report["scenarios"][0]["status"] == "error"
    assert "setup failed" in report["scenarios"][0]["error"]
    for suite in root.findall("testsuite"):
        (case,) = suite.findall("testcase")
        assert case.get("name") == "setup"
        assert "port 8787" in case.find("error").get("message")
    assert (root.get("tests"), root.get("errors")) == ("2", "2")


async def test_junit_escapes_markup_in_details(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(
        '[[steps]]\nwave = true\n[[expect]]\nexactly_once = true\ncontains = "<b>&\\""\n'
    )
    junit = tmp_path / "x.xml"
    code = await arun_scenarios(
        [path], FakeFactory(FakeOperator(snapshot(dms={"1": []}))), junit_path=junit,
        out=io.StringIO(), err=io.StringIO(), sleep=no_sleep,
    )  # fmt: skip
    assert code == 1
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert '<b>&"' in case.get("name") and '<b>&"' in case.find("failure").get("message")
