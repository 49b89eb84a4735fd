"""Interaction callbacks and interaction webhooks (followups, @original)."""

from __future__ import annotations

from mockdiscord.world import Interaction, InteractionType

from .conftest import Mock

UNKNOWN = "1176543210987654321"


def _interaction(mock: Mock, **kwargs) -> Interaction:
    world = mock.state.world
    user = world.create_user("clicker")
    channel = world.open_dm(world.default_application.bot, user)
    return world.create_interaction(world.default_application, user, channel, **kwargs)


async def _callback(mock: Mock, interaction: Interaction, body, **params):
    return await mock.api(
        "POST",
        f"/interactions/{interaction.id}/{interaction.token}/callback",
        json=body,
        token=None,
        params=params or None,
    )


def _webhook(interaction: Interaction, suffix: str = "") -> str:
    return f"/webhooks/{interaction.application_id}/{interaction.token}{suffix}"


async def test_type_4_creates_the_original_message_and_second_callback_is_40060(mock: Mock) -> None:
    interaction = _interaction(mock)
    seen = []
    mock.state.world.add_interaction_listener(seen.append)
    first = await _callback(mock, interaction, {"type": 4, "data": {"content": "queued"}})
    assert first.status == 204 and interaction.acknowledged and seen == [interaction]
    channel = mock.state.world.channels[interaction.channel_id]
    original = channel.messages[interaction.original_message_id]
    assert original.content == "queued" and original.interaction_id == interaction.id
    second = await _callback(mock, interaction, {"type": 4, "data": {"content": "again"}})
    assert second.status == 400
    assert (await second.json()) == {
        "message": "Interaction has already been acknowledged.",
        "code": 40060,
    }
    got = await mock.api("GET", _webhook(interaction, "/messages/@original"), token=None)
    assert (await got.json())["content"] == "queued"


async def test_unknown_interaction_or_wrong_token_or_failed_is_10062(mock: Mock) -> None:
    interaction = _interaction(mock)
    response = await mock.api(
        "POST",
        f"/interactions/{UNKNOWN}/{interaction.token}/callback",
        json={"type": 4},
        token=None,
    )
    assert response.status == 404 and (await response.json())["code"] == 10062
    response = await mock.api(
        "POST", f"/interactions/{interaction.id}/wrongtoken/callback", json={"type": 4}, token=None
    )
    assert response.status == 404 and (await response.json())["code"] == 10062
    interaction.failed = True  # what the 3-second deadline logic will set
    response = await _callback(mock, interaction, {"type": 4, "data": {"content": "late"}})
    assert response.status == 404 and (await response.json())["code"] == 10062


async def test_callback_validation(mock: Mock) -> None:
    interaction = _interaction(mock)
    bad_type = await _callback(mock, interaction, {"type": 99})
    assert bad_type.status == 400 and "type" in (await bad_type.json())["errors"]
    wrong_for_command = await _callback(mock, interaction, {"type": 7, "data": {"content": "x"}})
    assert (await wrong_for_command.json())["code"] == 50035
    empty = await _callback(mock, interaction, {"type": 4, "data": {}})
    assert (await empty.json())["code"] == 50006
    assert not interaction.acknowledged  # refused responses do not acknowledge


async def test_ephemeral_flag_is_stored_and_hidden_from_channel_routes(mock: Mock) -> None:
    interaction = _interaction(mock)
    response = await _callback(
        mock, interaction, {"type": 4, "data": {"content": "secret", "flags": 64}}
    )
    assert response.status == 204 and interaction.ephemeral
    listed = await mock.api("GET", f"/channels/{interaction.channel_id}/messages")
    assert await listed.json() == []
    own = await mock.api("GET", _webhook(interaction, "/messages/@original"), token=None)
    assert (await own.json())["flags"] & 64


async def test_deferred_then_edit_original(mock: Mock) -> None:
    interaction = _interaction(mock)
    response = await _callback(mock, interaction, {"type": 5}, with_response="true")
    body = await response.json()
    assert response.status == 200
    assert body["interaction"]["response_message_loading"] is True
    assert body["resource"]["type"] == 5 and body["resource"]["message"]["flags"] & 128
    edited = await mock.api(
        "PATCH", _webhook(interaction, "/messages/@original"), json={"content": "done"}, token=None
    )
    message = await edited.json()
    assert message["content"] == "done" and not message["flags"] & 128


async def test_deferred_then_first_followup_fills_the_placeholder(mock: Mock) -> None:
    interaction = _interaction(mock)
    await _callback(mock, interaction, {"type": 5, "data": {"flags": 64}})
    first = await (
        await mock.api("POST", _webhook(interaction), json={"content": "one"}, token=None)
    ).json()
    assert first["id"] == interaction.original_message_id and first["flags"] == 64
    second = await (
        await mock.api("POST", _webhook(interaction), json={"content": "two"}, token=None)
    ).json()
    assert second["id"] != first["id"] and interaction.followup_ids == [second["id"]]


async def test_component_update_and_deferred_update(mock: Mock) -> None:
    world = mock.state.world
    user = world.create_user("p")
    channel = world.open_dm(world.default_application.bot, user)
    message, _ = world.create_message(channel, world.default_application.bot, content="Accept?")
    click = world.create_interaction(
        world.default_application,
        user,
        channel,
        interaction_type=InteractionType.MESSAGE_COMPONENT,
        message=message,
    )
    response = await _callback(mock, click, {"type": 7, "data": {"content": "Accepted"}})
    assert response.status == 204 and message.content == "Accepted"
    assert click.original_message_id == message.id
    other = world.create_interaction(
        world.default_application,
        user,
        channel,
        interaction_type=InteractionType.MESSAGE_COMPONENT,
        message=message,
    )
    assert (await _callback(mock, other, {"type": 6})).status == 204
    assert other.response_type == 6 and message.content == "Accepted"


async def test_modal_and_pong(mock: Mock) -> None:
    interaction = _interaction(mock)
    bad = await _callback(mock, interaction, {"type": 9, "data": {"title": "t"}})
    assert bad.status == 400 and "custom_id" in (await bad.json())["errors"]["data"]
    modal = {
        "custom_id": "report",
        "title": "Report",
        "components": [{"type": 1, "components": [{"type": 4, "custom_id": "score"}]}],
    }
    assert (await _callback(mock, interaction, {"type": 9, "data": modal})).status == 204
    ping = _interaction(mock, interaction_type=InteractionType.PING)
    assert (await _callback(mock, ping, {"type": 1})).status == 204


async def test_followups_get_edit_delete(mock: Mock) -> None:
    interaction = _interaction(mock)
    before_ack = await mock.api("POST", _webhook(interaction), json={"content": "x"}, token=None)
    assert before_ack.status == 404 and (await before_ack.json())["code"] == 10015
    await _callback(mock, interaction, {"type": 4, "data": {"content": "hi"}})
    followup = await (
        await mock.api("POST", _webhook(interaction), json={"content": "f1"}, token=None)
    ).json()
    path = _webhook(interaction, f"/messages/{followup['id']}")
    assert (await (await mock.api("GET", path, token=None)).json())["content"] == "f1"
    edited = await mock.api("PATCH", path, json={"content": "f2"}, token=None)
    assert (await edited.json())["content"] == "f2"
    assert (await mock.api("DELETE", path, token=None)).status == 204
    mock.clock.advance(2.0)  # the interaction token's bucket: 5 per 2 s
    gone = await mock.api("GET", path, token=None)
    assert gone.status == 404 and (await gone.json())["code"] == 10008
    stranger = _webhook(interaction, f"/messages/{UNKNOWN}")
    assert (await (await mock.api("GET", stranger, token=None)).json())["code"] == 10008
    original = _webhook(interaction, "/messages/@original")
    assert (await mock.api("DELETE", original, token=None)).status == 204


async def test_unknown_webhook_and_expired_token(mock: Mock) -> None:
    config = await mock.control("PUT", "/config", json={"interaction_token_lifetime": 5})
    assert config.status == 200
    interaction = _interaction(mock)
    await _callback(mock, interaction, {"type": 4, "data": {"content": "hi"}})
    unknown = await mock.api("GET", f"/webhooks/{UNKNOWN}/abc/messages/@original", token=None)
    assert unknown.status == 404 and (await unknown.json())["code"] == 10015
    wrong_app = await mock.api(
        "GET", f"/webhooks/{UNKNOWN}/{interaction.token}/messages/@original", token=None
    )
    assert (await wrong_app.json())["code"] == 10015
    mock.clock.advance(4.9)
    fresh = await mock.api("GET", _webhook(interaction, "/messages/@original"), token=None)
    assert fresh.status == 200
    mock.clock.advance(0.2)
    expired = await mock.api(
        "PATCH", _webhook(interaction, "/messages/@original"), json={"content": "late"}, token=None
    )
    assert expired.status == 401
    assert (await expired.json()) == {"message": "Invalid Webhook Token", "code": 50027}


async def test_interaction_routes_are_exempt_from_the_global_limit(mock: Mock) -> None:
    await mock.control("PATCH", f"/applications/{mock.app_id}", json={"global_limit": 1})
    interaction = _interaction(mock)
    await _callback(mock, interaction, {"type": 4, "data": {"content": "hi"}})
    for i in range(3):
        response = await mock.api(
            "POST", _webhook(interaction), json={"content": str(i)}, token=None
        )
        assert response.status == 200
        assert response.headers["X-RateLimit-Scope"] == "user"  # per-token bucket still applies
    ledger = (await (await mock.control("GET", "/ledger")).text()).splitlines()
    assert len(ledger) == 4
    import json

    entries = [json.loads(line) for line in ledger]
    assert all(e["exempt"] and not e["counted"] for e in entries)
    assert all(e["application_id"] == mock.app_id for e in entries)
