"""Where each item goes: webhook vs channel route for phase 1, DMs, details edits, admin."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.ladder import Report, confirm, report
from bot.notify import DispatchConfig
from tests.bot.notify.helpers import APP_ID, LADDER, Rig, dm_of, seed_wave


async def test_fresh_token_uses_the_exempt_webhook(rig: Rig) -> None:
    seed_wave(rig.store, rig.clock, 1, token_age=10.0)
    d = rig.dispatcher()
    await rig.drain(d)
    metrics = d.snapshot()["recent_waves"][0]
    await d.stop()
    edits = [a for a in rig.server.arrivals if a.kind == "webhook_edit"]
    assert sorted(a.path for a in edits) == [
        f"/webhooks/{APP_ID}/tok1/messages/@original",
        f"/webhooks/{APP_ID}/tok2/messages/@original",
    ]
    assert edits[0].body == {"content": f"match_found m1 p{edits[0].path.split('/tok')[1][0]}"}
    assert metrics["calls"] == {"webhook_edit": 2, "message_create": 2}
    assert (metrics["calls_exempt"], metrics["calls_counted"], metrics["fallbacks"]) == (2, 2, 0)


@pytest.mark.parametrize("age", [LADDER_AGE := 900.0 - 60.0, 3600.0])
async def test_an_old_token_uses_the_counted_channel_edit(rig: Rig, age: float) -> None:
    # Younger than the lifetime but inside the margin counts as expired too.
    seed_wave(rig.store, rig.clock, 1, token_age=age)
    d = rig.dispatcher()
    await rig.drain(d)
    metrics = d.snapshot()["recent_waves"][0]
    await d.stop()
    assert not [a for a in rig.server.arrivals if a.kind == "webhook_edit"]
    assert sorted(rig.server.channel_edits) == [(dm_of(1), 50_000_001), (dm_of(2), 50_000_002)]
    assert metrics["calls"] == {"channel_edit": 2, "message_create": 2}
    assert (metrics["calls_counted"], metrics["needed_counted"], metrics["fallbacks"]) == (4, 4, 2)
    assert LADDER_AGE == 840.0


async def test_a_rejected_webhook_token_falls_back_to_the_channel_route(rig: Rig) -> None:
    rig.server.expired_tokens.add("tok2")
    seed_wave(rig.store, rig.clock, 1)
    d = rig.dispatcher()
    await rig.drain(d)
    metrics = d.snapshot()["recent_waves"][0]
    await d.stop()
    statuses = Counter((a.kind, a.status) for a in rig.server.arrivals)
    assert statuses[("webhook_edit", 401)] == 1 and statuses[("webhook_edit", 200)] == 1
    assert list(rig.server.channel_edits) == [(dm_of(2), 50_000_002)]
    assert metrics["fallbacks"] == 1
    assert rig.store.outbox_counts()["delivered"] == 4


async def test_unknown_dm_channel_is_opened_once_and_saved(rig: Rig) -> None:
    seed_wave(rig.store, rig.clock, 1, known_dm=False)
    d = rig.dispatcher()
    await rig.drain(d)
    metrics = d.snapshot()["recent_waves"][0]
    await d.stop()
    assert [a.kind for a in rig.server.arrivals].count("dm_open") == 2
    assert rig.store.dm_channel(1) == dm_of(1) and rig.store.dm_channel(2) == dm_of(2)
    assert sorted(rig.server.messages) == [dm_of(1), dm_of(2)]
    assert metrics["needed_counted"] == 4  # the DM opens count toward the bound


async def test_creates_carry_the_store_nonce_and_lifecycle_edits_target_the_details(
    rig: Rig,
) -> None:
    wave = seed_wave(rig.store, rig.clock, 1)
    d = rig.dispatcher()
    await rig.drain(d)
    creates = rig.server.accepted("message_create")
    nonces = {i.nonce for i in rig.store.story("m1", 1) + rig.store.story("m1", 2)}
    assert {a.body["nonce"] for a in creates} <= nonces
    assert all(a.body["enforce_nonce"] is True for a in creates)

    match = rig.store.get_match(wave.matches[0].id)
    assert match is not None
    now = rig.clock.wall()
    first = confirm(match, match.p1.player_id, now, LADDER)
    rig.store.apply_transition(first, now)
    match = rig.store.get_match(match.id)
    assert match is not None
    rig.store.apply_transition(confirm(match, match.p2.player_id, now, LADDER), now)
    d.wake()
    await rig.drain(d)
    await d.stop()
    details = {m.channel_id: m.id for m in rig.server.all_messages()}
    assert sorted(rig.server.channel_edits) == sorted(details.items())
    assert all(
        bodies == [{"content": f"confirmed m1 p{ch - dm_of(0)}"}]
        for (ch, _), bodies in rig.server.channel_edits.items()
    )


async def test_announcements_go_to_each_dm(rig: Rig) -> None:
    rig.store.ensure_player(5, "p5", rig.clock.wall())
    rig.store.set_dm_channel(5, dm_of(5))
    rig.store.announce("maintenance at 20:00", rig.clock.wall())
    d = rig.dispatcher()
    await rig.drain(d)
    await d.stop()
    (message,) = rig.server.messages[dm_of(5)]
    assert message.body["content"] == "announcement mNone p5"
    assert [a.kind for a in rig.server.arrivals] == ["message_create"]


async def test_admin_results_go_to_the_configured_admin_channel(rig: Rig) -> None:
    wave = seed_wave(rig.store, rig.clock, 1)
    now = rig.clock.wall()
    for step in (
        lambda m: confirm(m, m.p1.player_id, now, LADDER),
        lambda m: confirm(m, m.p2.player_id, now, LADDER),
        lambda m: report(m, m.p1.player_id, Report.WIN, now, LADDER),
        lambda m: report(m, m.p2.player_id, Report.LOSS, now, LADDER),
    ):
        match = rig.store.get_match(wave.matches[0].id)
        assert match is not None
        rig.store.apply_transition(step(match), now)
    d = rig.dispatcher(admin_channel_id=4242)
    await rig.drain(d)
    await d.stop()
    (summary,) = rig.server.messages[4242]
    assert summary.body["content"] == "admin_result m1 pNone"
    assert summary.nonce is not None
    assert rig.store.outbox_counts()["failed"] == 0


def test_config_rejects_bad_values_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="unknown dispatch strategy 'fast'"):
        DispatchConfig(strategy="fast")
    with pytest.raises(ValueError, match="batch_matches"):
        DispatchConfig(batch_matches=0)
    with pytest.raises(ValueError, match="token_margin"):
        DispatchConfig(token_margin=900.0)
