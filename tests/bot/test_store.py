"""The SQLite store: transactions, restart resumption, the outbox's order and idempotence."""

import dataclasses
import sqlite3

import pytest

from bot.ladder import (
    AlreadyConfirmed,
    Banned,
    LadderConfig,
    MatchState,
    NoAbortsLeft,
    NotIdle,
    Notification,
    NotificationKind,
    PlayerState,
    Race,
    Report,
    abort,
    confirm,
    expire,
    leaderboard_page,
    make_queue_request,
    replay_received,
    report,
    run_wave,
    wave_notifications,
)
from bot.store import InteractionRef, StaleMatch, StaleWave, Store, StoreError

CONFIG = LadderConfig()
T0 = 1_700_000_000.0


@pytest.fixture
def path(tmp_path):
    return tmp_path / "ladder.sqlite3"


@pytest.fixture
def store(path):
    s = Store(path, CONFIG)
    yield s
    s.close()


def queue_player(store, pid, races, now=T0, vetoes=()):
    store.ensure_player(pid, f"p{pid}", now)
    request = make_queue_request(races, vetoes, CONFIG)
    ref = InteractionRef(f"tok{pid}", now, channel_id=9000 + pid, message_id=8000 + pid)
    return store.enqueue(pid, request, ref, now)


def wave(store, now=T0 + 45):
    wave_id, first = store.next_ids()
    result = run_wave(
        store.queued_candidates(), CONFIG, now=now, wave_id=wave_id, first_match_id=first
    )
    store.apply_wave(result, wave_notifications(result))
    return result


def two_queued(store):
    queue_player(store, 1, [Race.BW_ZERG])
    queue_player(store, 2, [Race.SC2_TERRAN])


def test_enqueue_rules_are_enforced_in_the_store(store):
    two_queued(store)
    assert store.player_status(1).state is PlayerState.QUEUEING
    with pytest.raises(NotIdle):
        queue_player(store, 1, [Race.BW_ZERG])
    store.ensure_player(3, "p3", T0)
    store.set_banned(3, True, T0)
    with pytest.raises(Banned):
        queue_player(store, 3, [Race.BW_ZERG])
    counts = store.queue_counts()
    assert (counts.bw_only, counts.sc2_only, counts.both, counts.total) == (1, 1, 0, 2)
    assert store.leave_queue(1) and not store.leave_queue(1)
    assert store.player_status(1).state is PlayerState.IDLE


def test_apply_wave_writes_matches_queue_and_outbox_together(store):
    two_queued(store)
    queue_player(store, 3, [Race.BW_TERRAN])  # nobody left for them: stays, waits longer
    result = wave(store)
    (match,) = result.matches
    assert store.get_match(match.id) == match
    assert store.player_status(1).state is PlayerState.IN_MATCH
    assert store.player_status(1).match_id == match.id
    assert store.queue_entry(1) is None and store.queue_entry(2) is None
    assert store.queue_entry(3).wait_cycles == 1
    items = store.pending()
    assert [i.kind for i in items] == [NotificationKind.MATCH_FOUND] * 2 + [
        NotificationKind.MATCH_DETAILS
    ] * 2
    found = {i.player_id: i for i in items if i.kind is NotificationKind.MATCH_FOUND}
    # Phase 1 carries the searching message's interaction token and ids from the queue row.
    assert found[1].interaction_token == "tok1" and found[1].token_created_at == T0
    assert (found[1].target_channel_id, found[1].target_message_id) == (9001, 8001)
    assert found[1].payload["opponent"]["player_id"] == 2
    assert store.wave(result.wave_id).matches == 1


def test_an_exception_inside_apply_wave_writes_nothing(store):
    two_queued(store)
    wave_id, first = store.next_ids()
    result = run_wave(
        store.queued_candidates(), CONFIG, now=T0, wave_id=wave_id, first_match_id=first
    )
    notes = wave_notifications(result)
    poisoned = [*notes, Notification(NotificationKind.MATCH_DETAILS, 1, 1, {"x": object()})]
    with pytest.raises(TypeError):
        store.apply_wave(result, poisoned)
    assert store.get_match(result.matches[0].id) is None
    assert store.pending() == []
    assert store.queue_entry(1) is not None and store.queue_entry(2) is not None
    assert store.wave(wave_id) is None
    store.apply_wave(result, notes)  # the same wave applies cleanly afterwards
    assert len(store.pending()) == 4


def test_a_wave_matching_a_player_who_left_is_refused_whole(store):
    two_queued(store)
    wave_id, first = store.next_ids()
    result = run_wave(
        store.queued_candidates(), CONFIG, now=T0, wave_id=wave_id, first_match_id=first
    )
    store.leave_queue(2)
    with pytest.raises(StaleWave):
        store.apply_wave(result, wave_notifications(result))
    assert store.get_match(first) is None and store.pending() == []
    assert store.queue_entry(1) is not None


def test_restart_resumes_queue_matches_and_outbox(path):
    with Store(path, CONFIG) as s:
        two_queued(s)
        queue_player(s, 3, [Race.SC2_ZERG], vetoes=CONFIG.maps[:2])
        result = wave(s)
        match_id = result.matches[0].id
        first = s.pending()[0]
        s.mark_delivered(first.id, 555, T0 + 46)
    with Store(path, CONFIG) as s:
        assert s.queue_entry(3).vetoes == CONFIG.maps[:2]
        assert s.player_status(3).state is PlayerState.QUEUEING
        match = s.get_match(match_id)
        assert match.state is MatchState.FOUND
        assert match.deadline == T0 + 45 + CONFIG.confirm_timeout_s
        assert s.due_matches(T0 + 45 + 59) == [] and s.due_matches(T0 + 45 + 60) == [match]
        assert len(s.pending()) == 3 and first.id not in {i.id for i in s.pending()}


def test_outbox_is_ordered_by_phase_then_id_and_edits_wait_for_their_create(store):
    two_queued(store)
    match = wave(store).matches[0]
    t = confirm(match, 1, T0 + 50, CONFIG)
    store.apply_transition(t, T0 + 50)
    t = confirm(t.match, 2, T0 + 51, CONFIG)
    store.apply_transition(t, T0 + 51)
    pending = store.pending()
    assert [(i.phase, i.kind) for i in pending] == [
        (1, NotificationKind.MATCH_FOUND),
        (1, NotificationKind.MATCH_FOUND),
        (2, NotificationKind.MATCH_DETAILS),
        (2, NotificationKind.MATCH_DETAILS),
        (2, NotificationKind.CONFIRMED),
        (2, NotificationKind.CONFIRMED),
    ]
    ids = [i.id for i in pending]
    assert ids[:2] == sorted(ids[:2]) and ids[2:] == sorted(ids[2:])
    # Only each player's first item is deliverable; the rest wait for their predecessors.
    assert {i.kind for i in store.deliverable()} == {NotificationKind.MATCH_FOUND}
    for item in store.deliverable():
        store.mark_delivered(item.id, None, T0 + 52)
    assert {i.kind for i in store.deliverable()} == {NotificationKind.MATCH_DETAILS}
    details = {i.player_id: i for i in store.deliverable()}
    store.mark_delivered(details[1].id, 7001, T0 + 53)
    ready = store.deliverable()
    assert {(i.player_id, i.kind) for i in ready} == {
        (1, NotificationKind.CONFIRMED),
        (2, NotificationKind.MATCH_DETAILS),
    }
    confirmed = next(i for i in ready if i.kind is NotificationKind.CONFIRMED)
    assert confirmed.target_message_id == 7001  # edits the details message just created
    assert [i.seq for i in store.story(f"m{match.id}", 1)] == [1, 2, 3]


def test_mark_delivered_is_idempotent_and_mark_failed_retries_or_settles(store):
    two_queued(store)
    wave(store)
    first, second = store.pending()[:2]
    assert store.mark_delivered(first.id, 42, T0 + 46) is True
    assert store.mark_delivered(first.id, 99, T0 + 47) is False
    item = store.outbox_item(first.id)
    assert (item.status, item.discord_message_id, item.delivered_at) == ("delivered", 42, T0 + 46)
    store.mark_failed(second.id, "503")
    item = store.outbox_item(second.id)
    assert (item.status, item.attempts, item.last_error) == ("pending", 1, "503")
    store.mark_failed(second.id, "DMs closed", permanent=True)
    assert store.outbox_item(second.id).status == "failed"
    assert store.outbox_counts() == {"pending": 2, "delivered": 1, "failed": 1}
    with pytest.raises(StoreError):
        store.mark_delivered(12345, 1, T0)


def test_mark_delivered_many_is_one_all_or_nothing_batch(store):
    two_queued(store)
    wave(store)
    a, b, c, d = store.pending()
    assert store.mark_delivered(a.id, 7, T0 + 46) is True
    # An unknown id anywhere in the batch: nothing of the batch is marked.
    with pytest.raises(StoreError, match="unknown outbox item"):
        store.mark_delivered_many([(b.id, 1, T0 + 47), (12345, 2, T0 + 47)])
    assert store.outbox_item(b.id).status == "pending"
    # Already delivered and repeated ids are reported as not marked now, and keep their data.
    marked = store.mark_delivered_many(
        [(a.id, 99, T0 + 48), (b.id, 11, T0 + 48), (c.id, None, T0 + 48), (b.id, 12, T0 + 49)]
    )
    assert marked == [False, True, True, False]
    rows = {i: store.outbox_item(i) for i in (a.id, b.id, c.id, d.id)}
    assert (rows[a.id].discord_message_id, rows[a.id].delivered_at) == (7, T0 + 46)
    assert (rows[b.id].discord_message_id, rows[b.id].delivered_at) == (11, T0 + 48)
    assert (rows[c.id].status, rows[c.id].attempts) == ("delivered", 1)
    assert rows[d.id].status == "pending"
    assert store.mark_delivered_many([]) == []


def test_open_match_count_counts_open_matches(store):
    assert store.open_match_count() == 0
    two_queued(store)
    wave(store)
    assert store.open_match_count() == len(store.open_matches()) == 1


def test_outbox_reads_filtered_by_wave(store):
    two_queued(store)
    w1 = wave(store)
    queue_player(store, 3, [Race.BW_ZERG], now=T0 + 50)
    queue_player(store, 4, [Race.SC2_TERRAN], now=T0 + 50)
    w2 = wave(store, now=T0 + 90)
    store.announce("hello", T0 + 91)
    assert store.pending_wave_ids() == {w1.wave_id, w2.wave_id}
    assert {i.wave_id for i in store.pending(wave_id=w2.wave_id)} == {w2.wave_id}
    assert len(store.pending(wave_id=w2.wave_id)) == 4
    only_w1 = store.deliverable(phase=1, wave_id=w1.wave_id)
    assert [i.player_id for i in only_w1] == [1, 2]
    stream = store.deliverable(exclude_waves=[w1.wave_id, w2.wave_id])
    assert stream and all(i.wave_id is None for i in stream)  # the announcement only
    every = store.deliverable(exclude_waves=[w1.wave_id])
    assert {i.wave_id for i in every} == {None, w2.wave_id}
    assert store.wave_pending_counts(w2.wave_id) == ({1: 2, 2: 2}, 2, 1)
    first = store.pending(phase=1, wave_id=w1.wave_id)[0]
    store.mark_delivered(first.id, None, T0 + 92)  # counts are of pending rows only
    assert store.wave_pending_counts(w1.wave_id) == ({1: 1, 2: 2}, 2, 1)
    for item in store.pending(wave_id=w1.wave_id):
        store.mark_delivered(item.id, None, T0 + 92)
    assert store.pending_wave_ids() == {w2.wave_id}
    assert store.wave_pending_counts(w1.wave_id) == ({}, 0, 0)


def test_nonces_are_deterministic_and_unique(store, path):
    two_queued(store)
    wave(store)
    nonces = [i.nonce for i in store.pending()]
    assert len(set(nonces)) == 4 and all(len(n) == 25 for n in nonces)
    raw = sqlite3.connect(path)  # the same fact cannot be enqueued twice
    try:
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute(
                "INSERT INTO outbox (scope, kind, phase, seq, action, payload, nonce, created_at)"
                " VALUES ('x', 'k', 1, 1, 'a', '{}', ?, 0)",
                (nonces[0],),
            )
    finally:
        raw.close()


def test_completed_match_updates_ratings_and_releases_players(store):
    two_queued(store)
    m = wave(store).matches[0]
    for t in (T0 + 50, T0 + 51):
        pid = 1 if t == T0 + 50 else 2
        tr = confirm(m, pid, t, CONFIG)
        store.apply_transition(tr, t)
        m = tr.match
    tr = report(m, 1, Report.WIN, T0 + 600, CONFIG)
    store.apply_transition(tr, T0 + 600)
    tr = report(tr.match, 2, Report.LOSS, T0 + 601, CONFIG)
    store.apply_transition(tr, T0 + 601)
    assert store.get_match(m.id).state is MatchState.COMPLETED
    assert store.ratings(1)[Race.BW_ZERG].mmr == 1520
    assert store.ratings(2)[Race.SC2_TERRAN].mmr == 1480
    assert (store.ratings(1)[Race.BW_ZERG].wins, store.ratings(2)[Race.SC2_TERRAN].losses) == (1, 1)
    assert store.player_status(1).state is PlayerState.IDLE
    page = leaderboard_page(store.leaderboard_rows(), None, 0, CONFIG)
    assert [line.row.player_id for line in page.lines] == [1, 2]
    assert store.next_deadline() is None


def test_abort_uses_only_the_aborting_players_abort(store):
    two_queued(store)
    m = wave(store).matches[0]
    tr = abort(m, 1, store.get_player(1).remaining_aborts, T0 + 50)
    store.apply_transition(tr, T0 + 50)
    assert store.get_player(1).remaining_aborts == CONFIG.starting_aborts - 1
    assert store.get_player(2).remaining_aborts == CONFIG.starting_aborts
    assert store.get_match(m.id).state is MatchState.ABORTED
    assert not store.ratings(1)  # no rating row touched


def test_store_refuses_an_abort_when_none_are_left(store, path):
    two_queued(store)
    m = wave(store).matches[0]
    tr = abort(m, 1, 3, T0 + 50)  # computed from a stale count
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE players SET remaining_aborts = 0 WHERE id = 1")
    raw.close()
    with pytest.raises(NoAbortsLeft):
        store.apply_transition(tr, T0 + 50)
    assert store.get_match(m.id).state is MatchState.FOUND
    assert store.pending()[-1].kind is NotificationKind.MATCH_DETAILS  # no ABORTED written


def test_concurrent_transitions_on_one_match_are_stale(store):
    two_queued(store)
    m = wave(store).matches[0]
    first = confirm(m, 1, T0 + 50, CONFIG)
    second = confirm(m, 2, T0 + 50, CONFIG)  # computed from the same old version
    store.apply_transition(first, T0 + 50)
    with pytest.raises(StaleMatch):
        store.apply_transition(second, T0 + 50)
    fresh = store.get_match(m.id)
    with pytest.raises(AlreadyConfirmed):
        confirm(fresh, 1, T0 + 51, CONFIG)
    store.apply_transition(confirm(fresh, 2, T0 + 51, CONFIG), T0 + 51)
    assert store.get_match(m.id).state is MatchState.CONFIRMED


def test_confirmation_timeout_via_due_matches(store):
    two_queued(store)
    m = wave(store).matches[0]
    now = m.deadline
    for due in store.due_matches(now):
        store.apply_transition(expire(due, now), now)
    assert store.get_match(m.id).state is MatchState.ABORTED
    assert store.due_matches(now + 1000) == []
    assert store.get_player(1).remaining_aborts == store.get_player(2).remaining_aborts == 3


def test_replay_is_stored_with_its_notification(store):
    two_queued(store)
    m = wave(store).matches[0]
    facts = {"name": "g.rep", "size": 10, "sha256": "ab" * 32}
    record = store.add_replay(1, "g.rep", 10, "ab" * 32, T0 + 60, replay_received(m, 1, facts))
    assert store.replays(m.id) == [record]
    assert store.pending()[-1].kind is NotificationKind.REPLAY_RECEIVED


def test_admin_operations(store):
    two_queued(store)
    queue_player(store, 3, [Race.BW_TERRAN, Race.SC2_ZERG])
    assert store.adjust_mmr(1, Race.BW_ZERG, -40) == 1460
    assert store.queued_candidates()[0].bw_mmr == 1460
    assert store.set_banned(3, True, T0) is True
    assert store.get_player(3).banned and store.queue_entry(3) is None
    assert store.clear_queue(T0 + 1) == [1, 2]
    removed = store.pending()
    assert [(i.kind, i.player_id) for i in removed] == [
        (NotificationKind.QUEUE_REMOVED, 3),
        (NotificationKind.QUEUE_REMOVED, 1),
        (NotificationKind.QUEUE_REMOVED, 2),
    ]
    assert removed[1].interaction_token == "tok1" and removed[1].payload == {"reason": "cleared"}
    store.set_banned(3, False, T0)
    assert not store.get_player(3).banned
    assert store.announce("hello", T0 + 2) == [1, 2, 3]
    announced = store.pending(phase=3)
    assert [i.player_id for i in announced] == [1, 2, 3]
    assert {i.payload["text"] for i in announced} == {"hello"}


def test_wave_metrics_are_merged_and_delivery_summarised(store):
    two_queued(store)
    result = wave(store)
    store.record_wave_metrics(result.wave_id, {"calls": 4, "http_429": 0})
    store.record_wave_metrics(result.wave_id, {"retries": 1})
    assert store.wave(result.wave_id).metrics == {"calls": 4, "http_429": 0, "retries": 1}
    for item in store.pending(phase=1):
        store.mark_delivered(item.id, None, T0 + 45.5)
    summary = store.wave_delivery(result.wave_id)
    assert summary["phase1"]["delivered"] == 2 and summary["phase1"]["last_delivery"] == T0 + 45.5
    assert summary["phase2"]["delivered"] == 0


def test_a_newer_schema_or_a_bad_file_is_refused(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store(bad)
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as raw:
        raw.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        raw.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    raw.close()
    with pytest.raises(StoreError, match="v99"):
        Store(newer)


def test_config_start_mmr_is_used(path):
    with Store(path, dataclasses.replace(CONFIG, start_mmr=1000)) as s:
        queue_player(s, 1, [Race.BW_ZERG])
        assert s.queued_candidates()[0].bw_mmr == 1000
