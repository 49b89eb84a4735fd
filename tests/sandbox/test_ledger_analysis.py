"""The one wave attribution (`sandbox.ledger_analysis.wave_delivery`), on hand-built ledgers.

The `/admin wave` reply is a `PATCH @original` inside the wave's window. Matched against
the players' own edits (their DMs), it is left out of phase 1; the expectations and the
benchmark see the same figures because they call the same function.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.ledger_analysis import (
    delivery_counts,
    learnt_count,
    phase1_edit_times,
    wave_delivery,
)
from sandbox.scenario import Expectation, evaluate
from tests.sandbox.scenario_fakes import (
    CREATE,
    WALL0,
    WEBHOOK_EDIT,
    entry,
    snapshot,
)


def iso(t: float) -> str:
    return datetime.fromtimestamp(WALL0 + t, tz=UTC).isoformat(timespec="microseconds")


def phase1_dm(match_id: int, edited_at: float | None) -> dict:
    return {
        "id": str(9000 + match_id),
        "content": f"**Match #{match_id} found** — details follow.",
        "edited_timestamp": None if edited_at is None else iso(edited_at),
    }


def admin_reply_wave(players: int = 4) -> tuple[list[dict], dict[str, list[dict]]]:
    """Players' edits at 0.50 .. 0.53 s; the admin reply lands first, at 0.0 s."""
    edits = [0.5 + 0.01 * i for i in range(players)]
    ledger = [entry(0.0, WEBHOOK_EDIT, counted=False)]  # the /admin wave reply
    ledger += [entry(t, WEBHOOK_EDIT, counted=False) for t in edits]
    ledger += [entry(0.6 + 0.02 * i, CREATE) for i in range(players)]
    dms = {
        str(i): [
            {"id": str(i), "content": "hello", "edited_timestamp": None},
            phase1_dm(i // 2 + 1, t + 0.0002),  # the message is stamped a little later
        ]
        for i, t in enumerate(edits)
    }
    return ledger, dms


def test_phase1_edit_times_read_the_found_messages_only() -> None:
    dms = {
        "a": [
            phase1_dm(1, 0.2),
            {"content": "**Searching for a match", "edited_timestamp": iso(9)},
        ],
        "b": [phase1_dm(1, 0.1), phase1_dm(2, None)],
    }
    assert phase1_edit_times(dms) == pytest.approx([WALL0 + 0.1, WALL0 + 0.2])


def test_the_admin_reply_is_left_out_when_matched_to_the_players_edits() -> None:
    ledger, dms = admin_reply_wave()
    d = wave_delivery(ledger, started_at=WALL0, players=4, phase1_times=phase1_edit_times(dms))
    assert d.matched and d.complete and d.surplus == 0
    assert [e["at_wall"] for e in d.left_out] == [WALL0]
    assert d.phase1_spread == pytest.approx(0.03)
    assert d.phase1_done == pytest.approx(0.53)
    assert (d.counted, d.exempt) == (4, 4)  # the reply is in neither


def test_without_edit_times_the_first_records_are_taken_and_say_so() -> None:
    ledger, _ = admin_reply_wave()
    d = wave_delivery(ledger, started_at=WALL0, players=4)
    assert not d.matched and d.left_out == ()
    assert d.phase1_spread == pytest.approx(0.52)  # the reply counted: why DMs are used
    assert d.surplus == 1


def test_edit_times_outside_the_window_belong_to_another_wave() -> None:
    ledger, dms = admin_reply_wave()
    later = [entry(5.0 + 0.01 * i, WEBHOOK_EDIT, counted=False) for i in range(4)]
    times = phase1_edit_times(dms) + [e["at_wall"] for e in later]
    first = wave_delivery([*ledger, *later], started_at=WALL0, players=4, until=WALL0 + 4.0,
                          phase1_times=times)  # fmt: skip
    assert first.complete and first.phase1_spread == pytest.approx(0.03)
    second = wave_delivery([*ledger, *later], started_at=WALL0 + 4.0, players=4,
                           phase1_times=times)  # fmt: skip
    assert len(second.phase1) == 4 and second.phase1_done == pytest.approx(1.03)
    assert len(second.phase2) == 0 and not second.complete


def test_a_missing_edit_leaves_phase_one_incomplete() -> None:
    ledger, dms = admin_reply_wave()
    ledger = [e for e in ledger if e["at_wall"] != WALL0 + 0.53]  # one edit never arrived
    d = wave_delivery(ledger, started_at=WALL0, players=4, phase1_times=phase1_edit_times(dms))
    assert len(d.phase1) == 3 and not d.complete


def test_progress_gauges() -> None:
    ledger, _ = admin_reply_wave()
    learn = ("GET", WEBHOOK_EDIT[1])
    ledger += [entry(0.7, learn), entry(0.8, learn, status=404)]
    assert delivery_counts(ledger) == (5, 4)
    assert learnt_count(ledger) == 1


@pytest.mark.parametrize("kind", ["phase1_spread_at_most", "all_notified_within"])
def test_expectations_use_the_players_edits(kind: str) -> None:
    """With the DMs in the snapshot the reply does not stretch phase 1 (0.03 s, not 0.52 s);
    without them the figure falls back to the first records."""
    ledger, dms = admin_reply_wave()
    bound = 0.1 if kind == "phase1_spread_at_most" else 0.7
    exp = Expectation(kind, bound, {}, name=kind, line=1)
    with_dms = evaluate(exp, snapshot(ledger=ledger, players=4, dms=dms))
    assert with_dms.passed, with_dms.detail
    if kind == "phase1_spread_at_most":
        assert with_dms.measured == pytest.approx(0.03)
        assert "1 record left out" in with_dms.detail
        without = evaluate(exp, snapshot(ledger=ledger, players=4))
        assert not without.passed and without.measured == pytest.approx(0.52)
        assert "first records" in without.detail
