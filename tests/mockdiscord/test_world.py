"""World state, snowflakes and token shapes, without HTTP."""

from __future__ import annotations

import base64
import random

import pytest

from mockdiscord.clock import ManualClock
from mockdiscord.snowflake import SnowflakeGenerator, is_snowflake, snowflake_time
from mockdiscord.tokens import (
    bot_id_from_token,
    interaction_id_from_token,
    make_bot_token,
    make_interaction_token,
)
from mockdiscord.world import InteractionType, MessageFlags, World


def test_snowflakes_are_19_digits_increasing_and_carry_the_clock_time() -> None:
    clock = ManualClock(wall_start=1_700_000_000.0)
    ids = SnowflakeGenerator(clock)
    first, second = ids.next(), ids.next()  # same millisecond: still strictly increasing
    assert len(first) == 19 and int(second) > int(first)
    assert snowflake_time(first) == pytest.approx(1_700_000_000.0, abs=0.001)
    clock.advance(2.5)
    assert snowflake_time(ids.next()) == pytest.approx(1_700_000_002.5, abs=0.001)


def test_is_snowflake_rejects_non_ids() -> None:
    assert is_snowflake("1176543210987654321") and is_snowflake(5)
    for bad in ("", "12a", "-5", "1" * 21, True, 1.5, None, "٣"):
        assert not is_snowflake(bad)


def test_bot_token_decodes_to_the_bot_id_like_hikari_does() -> None:
    token = make_bot_token("1176543210987654321", random.Random(1))
    head, middle, last = token.split(".")
    assert middle and last
    # hikari: base64.b64decode(first segment + padding)
    assert base64.b64decode(head + "=" * (-len(head) % 4)) == b"1176543210987654321"
    assert bot_id_from_token(token) == "1176543210987654321"
    assert bot_id_from_token("abc") is None and bot_id_from_token("!!.x.y") is None


def test_interaction_token_shape() -> None:
    token = make_interaction_token("1176543210987654321", random.Random(2))
    assert len(token) >= 64
    assert base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).startswith(
        b"interaction:1176543210987654321:"
    )
    assert interaction_id_from_token(token) == "1176543210987654321"
    assert interaction_id_from_token(make_bot_token("1176543210987654321", random.Random())) is None


def test_seed_makes_credentials_reproducible() -> None:
    a = World(ManualClock(), seed=3).default_application
    b = World(ManualClock(), seed=3).default_application
    c = World(ManualClock(), seed=4).default_application
    assert a.public_key == b.public_key and len(a.public_key) == 64
    assert a.public_key != c.public_key


def test_given_token_sets_the_bot_user_id() -> None:
    token = make_bot_token("1176543210987654321", random.Random())
    world = World(ManualClock(), default_token=token)
    assert world.default_application.bot.id == "1176543210987654321"
    assert world.application_by_token(token) is world.default_application
    with pytest.raises(ValueError):
        World(ManualClock(), default_token="not-a-token")


def test_nonce_dedup_is_per_author_and_expires() -> None:
    clock = ManualClock()
    world = World(clock, seed=1)
    bot = world.default_application.bot
    user = world.create_user("ann")
    channel = world.open_dm(bot, user)
    first, created = world.create_message(channel, bot, content="a", nonce="n", enforce_nonce=True)
    again, created_again = world.create_message(
        channel, bot, content="b", nonce="n", enforce_nonce=True
    )
    assert created and not created_again and again is first
    unenforced, created3 = world.create_message(channel, bot, content="c", nonce="n")
    assert created3 and unenforced is not first
    clock.advance(world.config.nonce_window_s + 1)
    late, created4 = world.create_message(channel, bot, content="d", nonce="n", enforce_nonce=True)
    assert created4 and late.content == "d"
    assert [m.content for m in channel.messages.values()] == ["a", "c", "d"]
    other_author = world.create_application("Other").bot
    _, created5 = world.create_message(channel, other_author, nonce="n", enforce_nonce=True)
    assert created5


def test_list_messages_newest_first_with_cursors() -> None:
    world = World(ManualClock(), seed=1)
    bot = world.default_application.bot
    ids = [world.create_message(world.text_channel, bot, content=str(i))[0].id for i in range(5)]
    newest = world.list_messages(world.text_channel, limit=2)
    assert [m.id for m in newest] == [ids[4], ids[3]]
    after = world.list_messages(world.text_channel, limit=2, after=int(ids[0]))
    assert [m.id for m in after] == [ids[2], ids[1]]
    before = world.list_messages(world.text_channel, limit=10, before=int(ids[2]))
    assert [m.id for m in before] == [ids[1], ids[0]]


def test_interactions_expire_and_notify_listeners() -> None:
    clock = ManualClock()
    world = World(clock, seed=1)
    app = world.default_application
    user = world.create_user("bob")
    seen = []
    world.add_interaction_listener(seen.append)
    interaction = world.create_interaction(app, user, world.text_channel)
    assert interaction.type == InteractionType.APPLICATION_COMMAND
    assert world.interaction_by_token(interaction.token) is interaction
    world.acknowledge(interaction, 4, ephemeral=True)
    assert seen == [interaction] and interaction.responded.is_set() and interaction.ephemeral
    clock.advance(world.interaction_lifetime_s - 1)
    assert not world.interaction_token_expired(interaction)
    clock.advance(2)
    assert world.interaction_token_expired(interaction)


def test_set_commands_keeps_ids_of_same_name_and_type() -> None:
    world = World(ManualClock(), seed=1)
    app = world.default_application
    first = world.set_commands(app, [{"name": "queue", "description": "q"}])
    second = world.set_commands(
        app, [{"name": "queue", "description": "q2"}, {"name": "leave", "description": "l"}]
    )
    assert second[0].id == first[0].id and second[1].id != first[0].id
    assert second[0].description == "q2"


def test_reset_keeps_only_the_default_application() -> None:
    world = World(ManualClock(), seed=1)
    default = world.default_application
    other = world.create_application("Other")
    user = world.create_user("x")
    channel = world.open_dm(default.bot, user)
    world.create_message(channel, default.bot, content="hi", flags=MessageFlags.EPHEMERAL)
    world.reset()
    assert list(world.applications) == [default.id]
    assert world.application_by_token(other.bot_token) is None
    assert world.human_users() == [] and channel.id not in world.channels
    assert world.text_channel.id in world.channels
