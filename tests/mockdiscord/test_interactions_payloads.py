"""Payloads: the JSON a bot receives has Discord's shape, in a DM with the bot."""

import base64
import itertools

import pytest

from mockdiscord.interactions import (
    CdnStore,
    build_command,
    build_component,
    build_ping,
    validate_command,
    validate_component,
)

USER = {"id": "200000000000000001", "username": "ana", "global_name": "Ana", "discriminator": "0"}
OPPONENT = {"id": "200000000000000002", "username": "bo", "global_name": None}
CHANNEL = {"id": "300000000000000001", "type": 1}
COMMANDS = [
    {
        "id": "100000000000000009",
        "name": "report",
        "type": 1,
        "options": [
            {"name": "opponent", "type": 6, "required": True},
            {"name": "replay", "type": 11},
        ],
    }
]
COMMON = {
    "interaction_id": "500000000000000001",
    "application_id": "600000000000000001",
    "token": "tok",
    "user": USER,
    "channel": CHANNEL,
}


def test_ping_is_minimal() -> None:
    ping = build_ping(interaction_id="1", application_id="2", token="t")
    assert ping == {"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1}


def test_command_payload_has_discords_shape_with_resolved_users_and_cdn_attachments() -> None:
    ids = itertools.count(700000000000000000)
    run = validate_command(
        COMMANDS,
        {
            "name": "report",
            "options": {
                "opponent": OPPONENT["id"],
                "replay": {"filename": "g.rep", "content_b64": base64.b64encode(b"RR").decode()},
            },
        },
        user_exists=lambda u: u == OPPONENT["id"],
        new_id=lambda: str(next(ids)),
    )
    cdn = CdnStore()
    (upload,) = run.attachments
    stored = cdn.put(CHANNEL["id"], upload.id, upload.filename, upload.content)
    payload = build_command(
        run,
        resolved_users={OPPONENT["id"]: OPPONENT},
        resolved_attachments=[stored.attachment_object("http://127.0.0.1:9/")],
        **COMMON,
    )
    assert payload["type"] == 2
    assert payload["version"] == 1
    assert payload["user"] == USER
    assert "member" not in payload
    assert payload["channel"] == CHANNEL
    assert payload["channel_id"] == CHANNEL["id"]
    assert payload["context"] == 1
    assert payload["token"] == "tok"
    data = payload["data"]
    assert data["id"] == "100000000000000009"
    assert data["name"] == "report"
    assert data["type"] == 1
    assert data["options"][0] == {"name": "opponent", "type": 6, "value": OPPONENT["id"]}
    assert data["resolved"]["users"] == {OPPONENT["id"]: OPPONENT}
    attachment = data["resolved"]["attachments"][upload.id]
    assert attachment["filename"] == "g.rep"
    assert attachment["size"] == 2
    assert attachment["url"] == (
        f"http://127.0.0.1:9/_mock/cdn/attachments/{CHANNEL['id']}/{upload.id}/g.rep"
    )
    assert data["options"][1]["value"] == upload.id


def test_resolving_needs_every_named_user() -> None:
    run = validate_command(
        COMMANDS,
        {"name": "report", "options": {"opponent": OPPONENT["id"]}},
        user_exists=lambda u: True,
        new_id=lambda: "1",
    )
    with pytest.raises(KeyError):
        build_command(run, resolved_users={}, **COMMON)


def test_component_payload_carries_the_message() -> None:
    message = {
        "id": "800000000000000001",
        "channel_id": CHANNEL["id"],
        "content": "Match found",
        "components": [{"type": 1, "components": [{"type": 2, "custom_id": "ok", "style": 1}]}],
    }
    run = validate_component(message, {"custom_id": "ok"}, user_exists=lambda u: False)
    payload = build_component(run, message=message, **COMMON)
    assert payload["type"] == 3
    assert payload["data"] == {"custom_id": "ok", "component_type": 2}
    assert payload["message"] == message
    assert payload["user"]["id"] == USER["id"]


def test_cdn_evicts_oldest_beyond_its_budget_and_checks_the_filename() -> None:
    cdn = CdnStore(max_total_bytes=10)
    cdn.put("1", "a", "a.txt", b"123456")
    cdn.put("1", "b", "b.txt", b"123456")
    assert cdn.get("1", "a", "a.txt") is None
    stored = cdn.get("1", "b", "b.txt")
    assert stored is not None
    assert stored.content_type == "text/plain"
    assert cdn.get("1", "b", "other.txt") is None
    assert cdn.total_bytes == 6
