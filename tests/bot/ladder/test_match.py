import pytest

from bot.ladder import (
    AbortUsed,
    AlreadyConfirmed,
    EndReason,
    LadderConfig,
    MatchState,
    NoAbortsLeft,
    NotAPlayerOfMatch,
    NotificationKind,
    Outcome,
    RatingChange,
    Report,
    WrongMatchState,
    abort,
    confirm,
    expire,
    find_pairings,
    replay_received,
    report,
    resolve,
    start_match,
)

from .helpers import bw, sc2

CONFIG = LadderConfig()
T0 = 1_700_000_000.0


@pytest.fixture
def found():
    (pairing,) = find_pairings([bw(1, 1500), sc2(2, 1500)], CONFIG).pairings
    return start_match(7, 1, pairing, T0, CONFIG)


def confirmed(match, now=T0 + 10):
    return confirm(confirm(match, 1, now, CONFIG).match, 2, now, CONFIG).match


def kinds(transition):
    return [(n.kind, n.player_id) for n in transition.notifications]


def test_new_match_waits_for_confirmation_with_a_deadline(found):
    assert found.state is MatchState.FOUND and found.deadline == T0 + 60
    assert found.p1.race.value.startswith("bw_") and found.p2.race.value.startswith("sc2_")


def test_both_confirm_moves_to_confirmed_and_tells_both(found):
    first = confirm(found, 1, T0 + 5, CONFIG)
    assert first.match.state is MatchState.FOUND and first.notifications == ()
    second = confirm(first.match, 2, T0 + 6, CONFIG)
    assert second.match.state is MatchState.CONFIRMED
    assert second.match.deadline == T0 + 6 + CONFIG.report_timeout_s
    assert kinds(second) == [(NotificationKind.CONFIRMED, 1), (NotificationKind.CONFIRMED, 2)]
    assert second.match.version == found.version + 2
    with pytest.raises(AlreadyConfirmed):
        confirm(first.match, 1, T0 + 6, CONFIG)
    with pytest.raises(NotAPlayerOfMatch):
        confirm(found, 99, T0, CONFIG)


def test_confirmation_timeout_aborts_without_charging_aborts(found):
    half = confirm(found, 1, T0 + 5, CONFIG).match
    assert expire(half, T0 + 59.9) is None
    t = expire(half, T0 + 60)
    assert t.match.state is MatchState.ABORTED
    assert t.match.end_reason is EndReason.CONFIRM_TIMEOUT
    assert t.effects == ()
    assert kinds(t) == [(NotificationKind.ABORTED, 1), (NotificationKind.ABORTED, 2)]
    with pytest.raises(WrongMatchState):
        confirm(half, 2, T0 + 60, CONFIG)  # a click after the deadline is refused


def test_abort_charges_only_the_aborting_player(found):
    t = abort(found, 2, remaining_aborts=3, now=T0 + 5)
    assert t.match.state is MatchState.ABORTED and t.match.aborted_by == 2
    assert t.effects == (AbortUsed(2),)
    assert kinds(t) == [(NotificationKind.ABORTED, 1), (NotificationKind.ABORTED, 2)]
    assert t.notifications[0].payload["aborted_by"] == 2
    with pytest.raises(NoAbortsLeft):
        abort(found, 2, remaining_aborts=0, now=T0 + 5)
    with pytest.raises(AlreadyConfirmed):
        abort(confirm(found, 1, T0 + 1, CONFIG).match, 1, 3, T0 + 2)
    with pytest.raises(WrongMatchState):
        abort(confirmed(found), 1, 3, T0 + 20)


def test_agreeing_reports_complete_with_elo(found):
    m = confirmed(found)
    first = report(m, 2, Report.LOSS, T0 + 100, CONFIG)
    assert first.notifications == () and first.match.state is MatchState.CONFIRMED
    t = report(first.match, 1, Report.WIN, T0 + 101, CONFIG)
    assert t.match.state is MatchState.COMPLETED and t.match.outcome is Outcome.P1_WIN
    assert t.effects == (
        RatingChange(1, m.p1.race, 1500, 1520, Report.WIN),
        RatingChange(2, m.p2.race, 1500, 1480, Report.LOSS),
    )
    assert kinds(t) == [
        (NotificationKind.RESULT, 1),
        (NotificationKind.RESULT, 2),
        (NotificationKind.ADMIN_RESULT, None),
    ]
    assert t.notifications[1].payload["outcome"] == "loss"
    assert t.notifications[1].payload["mmr_after"] == 1480
    with pytest.raises(WrongMatchState):
        report(first.match, 2, Report.WIN, T0 + 101, CONFIG)  # already reported


def test_draw_reports_agree(found):
    m = report(confirmed(found), 1, Report.DRAW, T0 + 100, CONFIG).match
    t = report(m, 2, Report.DRAW, T0 + 100, CONFIG)
    assert t.match.outcome is Outcome.DRAW
    assert [e.after for e in t.effects] == [1500, 1500]


def test_disagreeing_reports_conflict_and_an_admin_resolves(found):
    m = report(confirmed(found), 1, Report.WIN, T0 + 100, CONFIG).match
    t = report(m, 2, Report.WIN, T0 + 101, CONFIG)
    assert t.match.state is MatchState.CONFLICT and t.effects == ()
    assert t.match.deadline is None  # players released; nothing times out any more
    assert kinds(t) == [
        (NotificationKind.CONFLICT, 1),
        (NotificationKind.CONFLICT, 2),
        (NotificationKind.ADMIN_CONFLICT, None),
    ]
    r = resolve(t.match, Outcome.P2_WIN, T0 + 500, CONFIG)
    assert r.match.state is MatchState.COMPLETED
    assert r.match.end_reason is EndReason.ADMIN_RESOLVED
    assert [e.after for e in r.effects] == [1480, 1520]
    assert kinds(r)[:2] == [
        (NotificationKind.CONFLICT_RESOLVED, 1),
        (NotificationKind.CONFLICT_RESOLVED, 2),
    ]
    void = resolve(t.match, None, T0 + 500, CONFIG)
    assert void.match.state is MatchState.ABORTED and void.effects == ()
    with pytest.raises(WrongMatchState):
        resolve(r.match, Outcome.DRAW, T0 + 600, CONFIG)


def test_report_deadline_conflicts_half_reported_and_aborts_unreported(found):
    m = confirmed(found, now=T0)
    deadline = T0 + CONFIG.report_timeout_s
    assert expire(m, deadline - 1) is None
    silent = expire(m, deadline)
    assert silent.match.state is MatchState.ABORTED
    assert silent.match.end_reason is EndReason.REPORT_TIMEOUT
    half = report(m, 1, Report.WIN, T0 + 100, CONFIG).match
    t = expire(half, deadline)
    assert t.match.state is MatchState.CONFLICT and t.match.end_reason is EndReason.REPORT_TIMEOUT
    assert expire(t.match, deadline + 10_000) is None  # final states never expire


def test_replay_received_edits_only_the_uploaders_message(found):
    t = replay_received(found, 2, {"name": "a.rep", "size": 3, "sha256": "x"})
    assert kinds(t) == [(NotificationKind.REPLAY_RECEIVED, 2)]
    assert t.notifications[0].payload["replay"]["name"] == "a.rep"
    assert t.match.state is MatchState.FOUND and t.match.version == found.version + 1


def test_notification_kinds_have_phases_and_orders():
    order = [
        NotificationKind.MATCH_FOUND,
        NotificationKind.MATCH_DETAILS,
        NotificationKind.CONFIRMED,
        NotificationKind.REPLAY_RECEIVED,
        NotificationKind.RESULT,
    ]
    assert [k.order for k in order] == sorted(k.order for k in order)
    assert NotificationKind.MATCH_FOUND.phase == 1
    assert {k.phase for k in order[1:]} == {2}
    assert NotificationKind.ANNOUNCEMENT.phase == 3
    assert NotificationKind.ABORTED.order == NotificationKind.CONFLICT.order == 50
