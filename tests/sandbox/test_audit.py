"""`sandbox audit`: the verdict on synthetic figures, the flow figures on a hand-built ledger,
and the whole seed-scale matrix measured on real stacks (as `make test` runs it)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sandbox.audit import (
    AT_RISK,
    FLOWS,
    SAFE,
    SEED_ROWS,
    AuditPlan,
    format_markdown,
    measure_flow,
    run_audit,
    verdict,
)
from sandbox.cli import main

NONE = {"global": 0, "user": 0, "shared": 0, "ban": 0}


@pytest.mark.parametrize(
    ("peak", "limited", "expected"),
    [
        (0, NONE, SAFE),
        (40, NONE, SAFE),  # exactly 80% is not above it
        (41, NONE, AT_RISK),
        (50, NONE, AT_RISK),  # a paced flow using the whole budget presses the limit
        (3, {**NONE, "user": 1}, AT_RISK),  # any 429, whatever the peak
        (3, {**NONE, "ban": 2}, AT_RISK),
    ],
)
def test_verdict(peak: int, limited: dict, expected: str) -> None:
    assert verdict(peak, 50, limited) == expected


def test_verdict_follows_the_limit() -> None:
    assert verdict(9, 10, NONE) == AT_RISK
    assert verdict(9, 50, NONE) == SAFE


def _e(
    at: float, *, counted: bool, status: int = 200, scope: str | None = None, app: str = "1"
) -> dict:
    return {
        "at_wall": 100.0 + at,
        "at_monotonic": at,
        "application_id": app,
        "method": "POST",
        "route": "/channels/{channel_id}/messages",
        "status": status,
        "scope": scope,
        "counted": counted,
        "exempt": not counted,
        "banned": False,
    }


def test_measure_flow_counts_what_the_mock_saw() -> None:
    ledger = [_e(0.01 * i, counted=True) for i in range(45)]
    ledger += [_e(0.5, counted=True, status=429, scope="global")]
    ledger += [_e(0.6, counted=False), _e(0.7, counted=True, app="other")]
    row = measure_flow(
        ledger, seed=SEED_ROWS[0], flow="wave", limit=50, application_id="1", interactions=1
    )
    assert (row.calls, row.counted, row.exempt) == (47, 46, 1)
    assert row.peak_1s == 46 and row.rate_limited["global"] == 1
    assert row.verdict == AT_RISK and row.interactions == 1
    assert row.to_json()["seed_api_calls"] == "60+ calls"


def test_seed_rows_are_the_seeds_matrix_in_its_order() -> None:
    seed = Path(__file__).parents[2].parent / "shared" / "seed" / "API_BURST_AUDIT.md"
    features = [r.feature for r in SEED_ROWS]
    assert features[:7] == [
        "Match Notifications",
        "Match Completions",
        "Match Aborts",
        "Leaderboard",
        "Queue Join/Leave",
        "Replay Uploads",
        "Admin Commands",
    ]
    if seed.exists():  # quoted figures are the seed's own words
        text = seed.read_text(encoding="utf-8", errors="replace")
        for row in SEED_ROWS[:7]:
            assert row.api_calls in text


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_audit_at_seed_scale_prints_the_full_matrix(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    report = tmp_path / "audit.json"
    markdown = tmp_path / "audit.md"
    began = time.monotonic()
    code = main(
        [
            "audit",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--json",
            str(report),
            "--markdown",
            str(markdown),
        ]
    )
    out = capsys.readouterr().out
    print(out, f"\naudit runtime {time.monotonic() - began:.1f}s")
    assert code == 0
    lines = out.splitlines()
    positions = [
        next(i for i, line in enumerate(lines) if line.startswith(r.feature)) for r in SEED_ROWS
    ]
    assert positions == sorted(positions), "rows are not in the seed's order"
    data = json.loads(report.read_text())
    rows = data["rows"]
    assert [r["key"] for r in rows] == sorted((r["key"] for r in rows), key=FLOWS.index)
    assert {r["key"] for r in rows} == set(FLOWS)
    by_flow = {r["flow"]: r for r in rows}
    # Measured, not assumed: each flow shows the traffic it really made.
    wave = next(r for f, r in by_flow.items() if "fresh /queue tokens" in f)
    assert wave["counted"] == 30 and wave["exempt"] >= 30  # 15 matches: 30 creates, 30 edits
    expired = next(r for f, r in by_flow.items() if "older than 15 min" in f and "wave" in f)
    assert expired["counted"] >= 60  # the edits count too once the tokens are old
    leaderboard = next(r for r in rows if r["key"] == "leaderboard")
    assert leaderboard["interactions"] == 50
    announce = next(r for r in rows if r["key"] == "announce")
    assert announce["counted"] >= 200
    for row in rows:
        assert row["verdict"] in (SAFE, AT_RISK)
        assert row["peak_1s"] <= row["global_limit"]  # the referee never lets more through
        assert row["calls"] + row["interactions"] > 0, f"{row['flow']} measured nothing"
    assert markdown.read_text().count("\n| ") == len(rows) + 1


@pytest.mark.e2e
@pytest.mark.timeout(240)
async def test_the_wave_under_naive_is_flagged_at_risk(tmp_path: Path) -> None:
    """At the seed's 15 matches with tokens older than 15 min, naive fires 60 counted calls
    at once: the mock answers 429s and the audit says so."""
    # confirm_timeout 2 s: the first wave's unconfirmed matches end sooner (not measured)
    plan = AuditPlan(
        strategy="naive", flows=("match_found",), runs_dir=tmp_path, confirm_timeout=2.0
    )
    rows = await run_audit(plan)
    expired = next(r for r in rows if "older than 15 min" in r.flow)
    assert expired.rate_limited["global"] > 0
    assert expired.verdict == AT_RISK
    assert "naive" in format_markdown(rows, strategy="naive", scale="seed")
