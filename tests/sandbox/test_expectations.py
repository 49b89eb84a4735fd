"""Every expectation kind, passing AND failing, on hand-built snapshots.

Each failing case proves the kind can fail and that its Result names it and shows the
measured figure against the bound. The bot's status in these snapshots makes rosy claims
(0 calls, 0 429s, a huge lower bound); the measurements must ignore them.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.ledger_analysis import (
    counted_peak,
    lower_bound_s,
    rate_limited_by_scope,
    wave_delivery,
)
from sandbox.scenario import Expectation, evaluate
from sandbox.snapshot import Snapshot
from tests.sandbox.scenario_fakes import (
    APP,
    CHANNEL_EDIT,
    CREATE,
    WALL0,
    WEBHOOK_EDIT,
    bot_status,
    dm,
    entry,
    snapshot,
    wave_ledger,
)


def expect(kind: str, bound: Any = True, **options: Any) -> Expectation:
    return Expectation(kind, bound, options, name=f"my {kind}", line=9)


def check(exp: Expectation, snap: Snapshot, *, passed: bool) -> str:
    result = evaluate(exp, snap)
    assert result.passed is passed, result.detail
    assert result.name == f"my {exp.kind}" and result.kind == exp.kind and result.line == 9
    return result.detail


# ------------------------------------------------------------------------- rate limits


def test_no_rate_limits_passes_on_a_clean_ledger_and_fails_on_one_429() -> None:
    clean = snapshot(ledger=wave_ledger(4))
    assert "0 429s" in check(expect("no_rate_limits"), clean, passed=True)
    dirty = snapshot(ledger=[*wave_ledger(4), entry(0.5, status=429, scope="user")])
    detail = check(expect("no_rate_limits"), dirty, passed=False)
    assert detail.startswith("1 429s (want 0; global 0, user 1")


def test_no_rate_limits_by_scope_only_counts_that_scope() -> None:
    snap = snapshot(ledger=[entry(0.1, status=429, scope="shared")])
    check(expect("no_rate_limits", scope="global"), snap, passed=True)
    assert "1 shared 429s" in check(expect("no_rate_limits", scope="shared"), snap, passed=False)


def test_no_rate_limits_trusts_the_mocks_running_stats_over_a_truncated_ledger() -> None:
    stats = {"rate_limited": {"global": 3, "user": 0, "shared": 0, "ban": 0}}
    snap = snapshot(ledger=[], stats=stats)  # the ledger dropped its oldest lines
    assert "3 global 429s" in check(expect("no_rate_limits", scope="global"), snap, passed=False)


def test_a_ban_429_counts_as_a_ban_not_as_its_scope() -> None:
    snap = snapshot(ledger=[entry(0.1, status=429, scope="global", banned=True)])
    check(expect("no_rate_limits", scope="global"), snap, passed=True)
    check(expect("no_rate_limits", scope="ban"), snap, passed=False)
    check(expect("no_rate_limits"), snap, passed=False)


def test_rate_limits_at_least_fails_when_the_mock_did_not_bite() -> None:
    bitten = snapshot(ledger=[entry(i / 10, status=429, scope="global") for i in range(5)])
    assert "5 global 429s (want >= 1" in check(
        expect("rate_limits_at_least", 1, scope="global"), bitten, passed=True
    )
    clean = snapshot(ledger=wave_ledger(4))
    assert "0 global 429s (want >= 1" in check(
        expect("rate_limits_at_least", 1, scope="global"), clean, passed=False
    )
    check(expect("rate_limits_at_least", 6), bitten, passed=False)


def test_peak_1s_at_most_uses_the_sliding_window_of_the_mock() -> None:
    # 50 calls in (0, 1) then 50 more from t = 1.0: no window of 1 s holds more than 50.
    ledger = [entry(i * 0.02) for i in range(50)] + [entry(1.0 + i * 0.02) for i in range(50)]
    assert "peak 50 counted calls in 1s" in check(
        expect("peak_1s_at_most", 50), snapshot(ledger=ledger), passed=True
    )
    ledger.append(entry(0.99))  # 51 in (-0.01, 0.99]
    detail = check(expect("peak_1s_at_most", 50), snapshot(ledger=ledger), passed=False)
    assert "peak 51 counted calls in 1s" in detail and "> 50" in detail


def test_peak_1s_ignores_exempt_calls_and_separates_owners() -> None:
    ledger = [entry(i * 0.01, WEBHOOK_EDIT, counted=False) for i in range(80)]
    ledger += [entry(i * 0.01, app="other") for i in range(30)]
    ledger += [entry(i * 0.01) for i in range(30)]
    check(expect("peak_1s_at_most", 30), snapshot(ledger=ledger), passed=True)
    check(expect("peak_1s_at_most", 29), snapshot(ledger=ledger), passed=False)


def test_peak_1s_takes_the_mock_stats_figure_when_higher() -> None:
    stats = {"applications": {APP: {"peak_1s": 61, "global_limit": 50}}}
    detail = check(expect("peak_1s_at_most", 50), snapshot(stats=stats), passed=False)
    assert "peak 61" in detail and "mock stats" in detail


# ------------------------------------------------------------------------------- waves


def test_all_notified_within_measures_the_last_delivery_in_the_ledger() -> None:
    snap = snapshot(ledger=wave_ledger(10, phase2_gap=0.2), players=10)  # last at 1.9 s
    detail = check(expect("all_notified_within", 2.0), snap, passed=True)
    assert "all 10 players notified in 1.900s <= 2s" in detail
    detail = check(expect("all_notified_within", 1.5), snap, passed=False)
    assert "1.900s > 1.5s" in detail


def test_all_notified_within_fails_when_a_delivery_is_missing() -> None:
    ledger = wave_ledger(10)[:-1]  # one phase-2 message never arrived
    detail = check(expect("all_notified_within", 60.0), snapshot(ledger=ledger, players=10),
                   passed=False)  # fmt: skip
    assert "9/10 phase-2 messages" in detail


def test_failed_requests_are_not_deliveries() -> None:
    ledger = wave_ledger(4)
    ledger[-1] = {**ledger[-1], "status": 503}
    check(expect("all_notified_within", 60.0), snapshot(ledger=ledger, players=4), passed=False)
    ledger.append(entry(3.0))  # the retry succeeds at 3 s
    detail = check(expect("all_notified_within", 60.0), snapshot(ledger=ledger, players=4),
                   passed=True)  # fmt: skip
    assert "3.000s" in detail


def test_traffic_before_the_wave_start_or_after_the_next_wave_is_not_counted() -> None:
    status = bot_status(4)
    status["dispatch"]["waves"].append({"wave_id": 2, "players": 4, "started_at": WALL0 + 5})
    ledger = [entry(-1.0, WEBHOOK_EDIT), *wave_ledger(4)]
    ledger += [entry(6.0 + i, CREATE) for i in range(4)]  # wave 2's messages
    snap = snapshot(ledger=ledger, status=status)
    detail = check(expect("all_notified_within", 1.0, wave=1), snap, passed=True)
    assert "wave 1" in detail
    check(expect("all_notified_within", 1.0, wave=2), snap, passed=False)  # no phase 1
    check(expect("all_notified_within", 1.0, wave=3), snap, passed=False)


def test_phase1_spread_at_most() -> None:
    snap = snapshot(ledger=wave_ledger(200, phase1_gap=0.002), players=200)  # 0.398 s
    assert "phase-1 spread 0.398s <= 0.5s" in check(
        expect("phase1_spread_at_most", 0.5), snap, passed=True
    )
    slow = snapshot(ledger=wave_ledger(200, phase1_gap=0.01), players=200)  # 1.99 s
    assert "phase-1 spread 1.990s > 0.5s" in check(
        expect("phase1_spread_at_most", 0.5), slow, passed=False
    )


def test_phase1_spread_counts_channel_edits_when_tokens_expired() -> None:
    ledger = [entry(i * 0.04, CHANNEL_EDIT) for i in range(50)]
    ledger += [entry(2.0 + i * 0.02, CREATE) for i in range(50)]
    snap = snapshot(ledger=ledger, players=50)
    check(expect("phase1_spread_at_most", 2.0), snap, passed=True)
    check(expect("phase1_spread_at_most", 1.0), snap, passed=False)


def test_phase1_spread_fails_when_phase1_is_incomplete() -> None:
    ledger = wave_ledger(10)[1:]
    detail = check(expect("phase1_spread_at_most", 5.0), snapshot(ledger=ledger, players=10),
                   passed=False)  # fmt: skip
    assert "only 9/10 phase-1 edits" in detail


def test_makespan_ratio_against_the_lower_bound_from_the_mocks_limit() -> None:
    # 200 counted creates at 50/s: lower bound (200/50 - 1) x 1 s = 3 s.
    at_bound = wave_ledger(200, phase2_gap=0.0155)  # last create at 0.1 + 199 x 0.0155 = 3.18
    snap = snapshot(ledger=at_bound, players=200, limit=50)
    detail = check(expect("makespan_ratio_at_most", 1.10), snap, passed=True)
    assert "lower bound 3.000s" in detail and "200 counted calls at 50/1s" in detail
    slow = wave_ledger(200, phase2_gap=0.03)  # last at 6.07 s > 1.1 x 3 + 0.5
    detail = check(expect("makespan_ratio_at_most", 1.10), snapshot(ledger=slow, players=200),
                   passed=False)  # fmt: skip
    assert "makespan 6.070s > 1.1 x lower bound 3.000s + 0.5s = 3.800s" in detail


def test_makespan_ratio_slack_and_a_zero_bound() -> None:
    # 20 counted calls fit in one second at 50/s: the bound is 0, only the slack allows time.
    snap = snapshot(ledger=wave_ledger(20, phase2_gap=0.02), players=20)  # last at 0.48 s
    detail = check(expect("makespan_ratio_at_most", 1.10), snap, passed=True)
    assert "ratio n/a (bound 0)" in detail
    check(expect("makespan_ratio_at_most", 1.10, slack=0.1), snap, passed=False)


def test_makespan_ratio_needs_the_global_limit_from_the_mock() -> None:
    snap = snapshot(ledger=wave_ledger(4), players=4, stats={"applications": {}})
    result = evaluate(expect("makespan_ratio_at_most", 1.1), snap)
    assert not result.passed and result.error
    assert result.detail.startswith("cannot measure:")


def test_wave_kinds_fail_without_a_wave_record() -> None:
    snap = snapshot(ledger=wave_ledger(4), status={})
    for kind, bound in [
        ("all_notified_within", 5.0),
        ("phase1_spread_at_most", 0.5),
        ("makespan_ratio_at_most", 1.1),
    ]:
        result = evaluate(expect(kind, bound), snap)
        assert not result.passed and result.error
        assert "no wave record" in result.detail


# --------------------------------------------------------------------- players and DMs


def test_no_stuck_players() -> None:
    views = {"1": {"state": "idle"}, "2": {"state": "queueing"}}
    check(expect("no_stuck_players"), snapshot(player_views=views), passed=True)
    views["3"] = {"state": "in_match"}
    detail = check(expect("no_stuck_players"), snapshot(player_views=views), passed=False)
    assert "1 of 3 players stuck" in detail and "3=in_match" in detail
    allowed = expect("no_stuck_players", allowed=["idle", "queueing", "in_match"])
    check(allowed, snapshot(player_views=views), passed=True)


def test_no_stuck_players_fails_with_no_players() -> None:
    result = evaluate(expect("no_stuck_players"), snapshot())
    assert not result.passed and result.error


def test_failed_interactions() -> None:
    check(expect("failed_interactions", 0), snapshot(), passed=True)
    stats = {"interactions": {"delivered": 10, "failed": 2, "rejected": 0}}
    detail = check(expect("failed_interactions", 0), snapshot(stats=stats), passed=False)
    assert detail.startswith("2 failed interactions > 0")
    check(expect("failed_interactions", 2), snapshot(stats=stats), passed=True)
    assert evaluate(expect("failed_interactions", 0), snapshot(stats={"interactions": {}})).error


def test_exactly_once_catches_a_repeated_nonce() -> None:
    dms = {"1": [dm("Match #1 found", webhook=True), dm("Details", nonce="n1")]}
    check(expect("exactly_once"), snapshot(dms=dms), passed=True)
    dms["1"].append(dm("Details again", nonce="n1"))
    assert "1 messages repeat a nonce" in check(
        expect("exactly_once"), snapshot(dms=dms), passed=False
    )


def test_exactly_once_catches_a_resend_with_a_new_nonce() -> None:
    dms = {"1": [dm("Match #7: you vs B", nonce="a"), dm("Match #7: you vs B", nonce="b")]}
    detail = check(expect("exactly_once"), snapshot(dms=dms), passed=False)
    assert "1 bot messages repeat an earlier one" in detail


def test_exactly_once_with_contains_checks_every_player() -> None:
    views = {p: {"state": "idle"} for p in "123"}
    views["4"] = {"state": "idle", "dms_closed": True}  # cannot receive: not a target
    dms = {p: [dm("Season 3 starts Friday", nonce=f"s{p}")] for p in "123"}
    exp = expect("exactly_once", contains="Season 3")
    assert "3/3 players got 'Season 3' exactly once" in check(
        exp, snapshot(dms=dms, player_views=views), passed=True
    )
    dms["2"] = []
    dms["3"].append(dm("Season 3 starts Friday", nonce="other"))
    detail = check(exp, snapshot(dms=dms, player_views=views), passed=False)
    assert "1/3 players" in detail and "missing for 2" in detail and "repeated for 3" in detail


def test_exactly_once_reads_embeds_too() -> None:
    message = dm("", nonce="x")
    message["embeds"] = [{"title": "Announcement", "description": "Season 3 starts Friday"}]
    views = {"1": {"state": "idle"}}
    exp = expect("exactly_once", contains="Season 3")
    check(exp, snapshot(dms={"1": [message]}, player_views=views), passed=True)


# ------------------------------------------------------------------- pure ledger helpers


def test_helpers() -> None:
    ledger = [entry(0.0), entry(0.5, status=429, scope="global"), entry(0.9), entry(2.0)]
    assert counted_peak(ledger).count == 3
    assert rate_limited_by_scope(ledger) == {"global": 1, "user": 0, "shared": 0, "ban": 0}
    assert lower_bound_s(0, 50) == 0.0
    assert lower_bound_s(50, 50) == 0.0
    assert lower_bound_s(51, 50) == 1.0
    assert lower_bound_s(400, 50, 1.0) == 7.0
    d = wave_delivery(wave_ledger(3), started_at=WALL0, players=3)
    assert d.complete and d.counted == 3
    assert d.phase1_spread == pytest.approx(0.002, abs=1e-6)
    assert d.makespan == pytest.approx(0.14, abs=1e-6)


def test_waves_are_read_from_the_dispatchers_current_and_recent_lists() -> None:
    older = {"wave_id": 1, "players": 4, "started_at": WALL0 - 100}
    newer = {"wave_id": 2, "players": 4, "started_at": WALL0}
    status = {"dispatch": {"recent_waves": [older], "current_waves": [newer]}}
    snap = snapshot(ledger=wave_ledger(4), status=status)
    assert [w["wave_id"] for w in snap.waves()] == [1, 2]
    assert "wave 2" in check(expect("all_notified_within", 1.0), snap, passed=True)


def test_a_wave_record_without_started_at_cannot_be_measured() -> None:
    status = {"dispatch": {"recent_waves": [{"wave_id": 1, "players": 4}]}}
    result = evaluate(expect("phase1_spread_at_most", 0.5), snapshot(status=status))
    assert not result.passed and result.error and "has no started_at" in result.detail
