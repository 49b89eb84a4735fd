"""The REST surface: object shapes, CRUD, validation and every Discord error code."""

from __future__ import annotations

from .conftest import Mock

UNKNOWN = "1176543210987654321"


async def _error(response, status: int, code: int) -> dict:
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


async def test_users_me_has_the_fields_clients_index(mock: Mock) -> None:
    me = await (await mock.api("GET", "/users/@me")).json()
    for key in (
        "id", "username", "discriminator", "global_name", "avatar", "bot",
        "mfa_enabled", "locale", "verified", "flags", "public_flags", "email",
    ):  # fmt: skip
        assert key in me, key
    assert me["discriminator"] == "0" and me["bot"] is True and me["email"] is None


async def test_get_user_and_unknown_user(mock: Mock) -> None:
    user_id = await mock.new_user()
    user = await (await mock.api("GET", f"/users/{user_id}")).json()
    assert user["id"] == user_id and "bot" not in user
    await _error(await mock.api("GET", f"/users/{UNKNOWN}"), 404, 10013)
    body = await _error(await mock.api("GET", "/users/abc"), 400, 50035)
    assert body["errors"]["user_id"]["_errors"][0]["code"] == "NUMBER_TYPE_COERCE"


async def test_application_and_gateway(mock: Mock) -> None:
    app = await (await mock.api("GET", "/oauth2/applications/@me")).json()
    assert app["id"] == mock.app_id
    assert app["verify_key"] == mock.state.world.default_application.public_key
    assert app["owner"]["id"] and app["bot_public"] is True
    gateway = await (await mock.api("GET", "/gateway/bot")).json()
    assert gateway["shards"] == 1 and "discord.gg" not in gateway["url"]


async def test_bad_or_missing_token_is_401_code_0_and_counts_as_invalid(mock: Mock) -> None:
    for token in (None, "nope.nope.nope"):
        body = await _error(await mock.api("GET", "/users/@me", token=token), 401, 0)
        assert body["message"] == "401: Unauthorized"
    raw = await mock.api("GET", "/users/@me", token=None, headers={"Authorization": mock.token})
    await _error(raw, 401, 0)
    stats = await (await mock.control("GET", "/stats")).json()
    assert stats["invalid_requests"] == 3
    assert stats["responses_by_status"]["401"] == 3


async def test_unknown_route_method_and_bad_json(mock: Mock) -> None:
    body = await _error(await mock.api("GET", "/nothing/here"), 404, 0)
    assert body["message"] == "404: Not Found"
    await _error(await mock.api("GET", "/api/v9/users/@me"), 404, 0)
    await _error(await mock.api("DELETE", "/users/@me"), 405, 0)
    channel = await mock.new_dm()
    bad = await mock.api(
        "POST",
        f"/channels/{channel}/messages",
        data=b'{"content": ',
        headers={"Content-Type": "application/json"},
    )
    body = await _error(bad, 400, 50109)
    assert body["message"] == "The request body contains invalid JSON."


async def test_open_dm_returns_a_dm_channel_and_is_idempotent(mock: Mock) -> None:
    user_id = await mock.new_user()
    first = await (
        await mock.api("POST", "/users/@me/channels", json={"recipient_id": user_id})
    ).json()
    again = await (
        await mock.api("POST", "/users/@me/channels", json={"recipient_id": user_id})
    ).json()
    assert first["type"] == 1 and first["recipients"][0]["id"] == user_id
    assert again["id"] == first["id"]
    await _error(
        await mock.api("POST", "/users/@me/channels", json={"recipient_id": UNKNOWN}), 404, 10013
    )
    body = await _error(await mock.api("POST", "/users/@me/channels", json={}), 400, 50035)
    assert "recipient_id" in body["errors"]
    got = await (await mock.api("GET", f"/channels/{first['id']}")).json()
    assert got["id"] == first["id"] and got["type"] == 1


async def test_message_crud(mock: Mock) -> None:
    channel = await mock.new_dm()
    created = await mock.api(
        "POST",
        f"/channels/{channel}/messages",
        json={"content": "hello", "embeds": [{"title": "t"}], "nonce": "abc"},
    )
    message = await created.json()
    for key in (
        "id", "channel_id", "author", "content", "timestamp", "edited_timestamp", "tts",
        "mention_everyone", "mentions", "mention_roles", "attachments", "embeds",
        "components", "pinned", "type", "flags", "nonce",
    ):  # fmt: skip
        assert key in message, key
    assert message["content"] == "hello" and message["edited_timestamp"] is None
    assert message["timestamp"].endswith("+00:00") and message["nonce"] == "abc"
    path = f"/channels/{channel}/messages/{message['id']}"
    assert (await (await mock.api("GET", path)).json())["id"] == message["id"]
    edited = await (await mock.api("PATCH", path, json={"content": "edited"})).json()
    assert edited["content"] == "edited" and edited["edited_timestamp"] is not None
    assert edited["embeds"] == [{"title": "t"}]
    assert (await mock.api("DELETE", path)).status == 204
    await _error(await mock.api("GET", path), 404, 10008)
    await _error(await mock.api("DELETE", path), 404, 10008)


async def test_list_messages_limit_before_after(mock: Mock) -> None:
    channel = await mock.new_dm()
    ids = []
    for i in range(4):
        mock.clock.advance(5)  # stay under the 5 per 5 s bucket
        response = await mock.api("POST", f"/channels/{channel}/messages", json={"content": str(i)})
        ids.append((await response.json())["id"])
    listed = await (
        await mock.api("GET", f"/channels/{channel}/messages", params={"limit": "2"})
    ).json()
    assert [m["id"] for m in listed] == [ids[3], ids[2]]
    after = await (
        await mock.api("GET", f"/channels/{channel}/messages", params={"after": ids[1]})
    ).json()
    assert [m["id"] for m in after] == [ids[3], ids[2]]
    before = await (
        await mock.api("GET", f"/channels/{channel}/messages", params={"before": ids[1]})
    ).json()
    assert [m["id"] for m in before] == [ids[0]]
    body = await _error(
        await mock.api("GET", f"/channels/{channel}/messages", params={"limit": "101"}), 400, 50035
    )
    assert body["errors"]["limit"]["_errors"][0]["code"] == "NUMBER_TYPE_MAX"


async def test_nonce_with_enforce_nonce_returns_the_first_message(mock: Mock) -> None:
    channel = await mock.new_dm()
    payload = {"content": "once", "nonce": "match-1", "enforce_nonce": True}
    first = await (await mock.api("POST", f"/channels/{channel}/messages", json=payload)).json()
    second = await (await mock.api("POST", f"/channels/{channel}/messages", json=payload)).json()
    assert second["id"] == first["id"]
    listed = await (await mock.api("GET", f"/channels/{channel}/messages")).json()
    assert len(listed) == 1
    loose = await (
        await mock.api(
            "POST", f"/channels/{channel}/messages", json={**payload, "enforce_nonce": False}
        )
    ).json()
    assert loose["id"] != first["id"]


async def test_message_validation_errors(mock: Mock) -> None:
    channel = await mock.new_dm()

    async def post(payload):
        mock.clock.advance(1.0)  # keep the 5 per 5 s bucket out of the way
        return await mock.api("POST", f"/channels/{channel}/messages", json=payload)

    body = await _error(await post({"content": "x" * 2001}), 400, 50035)
    assert body["message"] == "Invalid Form Body"
    assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    body = await _error(await post({"embeds": [{}] * 11}), 400, 50035)
    assert body["errors"]["embeds"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": "a", "custom_id": "a"}]}
    body = await _error(await post({"components": [row] * 6}), 400, 50035)
    assert body["errors"]["components"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    await _error(await post({}), 400, 50006)
    await _error(await post({"content": "   "}), 400, 50006)
    body = await _error(await post(["not", "an", "object"]), 400, 50035)
    assert body["errors"]["_errors"][0]["code"] == "DICT_TYPE_CONVERT"
    body = await _error(await post({"content": 5, "tts": "yes"}), 400, 50035)
    assert set(body["errors"]) == {"content", "tts"}  # every bad field at once
    assert (await post({"components": [row] * 5})).status == 200


async def test_unknown_channel_and_message(mock: Mock) -> None:
    await _error(await mock.api("GET", f"/channels/{UNKNOWN}"), 404, 10003)
    await _error(
        await mock.api("POST", f"/channels/{UNKNOWN}/messages", json={"content": "x"}), 404, 10003
    )
    channel = await mock.new_dm()
    await _error(await mock.api("GET", f"/channels/{channel}/messages/{UNKNOWN}"), 404, 10008)


async def test_another_bots_dm_is_an_unknown_channel(mock: Mock) -> None:
    channel = await mock.new_dm()
    other = await (await mock.control("POST", "/applications", json={"name": "Other"})).json()
    response = await mock.api("GET", f"/channels/{channel}", token=other["bot_token"])
    await _error(response, 404, 10003)


async def test_dms_closed_is_403_50007(mock: Mock) -> None:
    channel = await mock.new_dm(dms_closed=True)
    response = await mock.api("POST", f"/channels/{channel}/messages", json={"content": "hi"})
    body = await _error(response, 403, 50007)
    assert body["message"] == "Cannot send messages to this user"
    stats = await (await mock.control("GET", "/stats")).json()
    assert stats["invalid_requests"] == 1  # 403s count toward the Cloudflare threshold


async def test_editing_someone_elses_message_is_50005(mock: Mock) -> None:
    world = mock.state.world
    user = world.create_user("author")
    message, _ = world.create_message(world.text_channel, user, content="mine")
    path = f"/channels/{world.text_channel.id}/messages/{message.id}"
    await _error(await mock.api("PATCH", path, json={"content": "x"}), 403, 50005)


async def test_patch_channel_and_dm_refusal(mock: Mock) -> None:
    text = mock.state.world.text_channel.id
    renamed = await (await mock.api("PATCH", f"/channels/{text}", json={"name": "lobby"})).json()
    assert renamed["name"] == "lobby"
    body = await _error(await mock.api("PATCH", f"/channels/{text}", json={"name": ""}), 400, 50035)
    assert "name" in body["errors"]
    dm = await mock.new_dm()
    await _error(await mock.api("PATCH", f"/channels/{dm}", json={"name": "x"}), 403, 50003)


async def test_channel_rename_sub_limit_gives_a_user_429_with_remaining_left(mock: Mock) -> None:
    text = mock.state.world.text_channel.id
    statuses = []
    for name in ("a", "b", "c"):
        statuses.append(await mock.api("PATCH", f"/channels/{text}", json={"name": name}))
    assert [r.status for r in statuses] == [200, 200, 429]
    assert int(statuses[-1].headers["X-RateLimit-Remaining"]) > 0
    assert statuses[-1].headers["X-RateLimit-Scope"] == "user"


async def test_reactions_bulk_delete_and_roles(mock: Mock) -> None:
    world = mock.state.world
    text = world.text_channel.id
    made = [
        await (
            await mock.api("POST", f"/channels/{text}/messages", json={"content": str(i)})
        ).json()
        for i in range(2)
    ]
    react = f"/channels/{text}/messages/{made[0]['id']}/reactions/%F0%9F%91%8D/@me"
    assert (await mock.api("PUT", react)).status == 204
    second = await mock.api("PUT", react)
    assert second.status == 429  # one shared reaction counter per channel, 1 per 0.25 s
    ids = [m["id"] for m in made]
    assert (
        await mock.api("POST", f"/channels/{text}/messages/bulk-delete", json={"messages": ids})
    ).status == 204
    assert world.text_channel.messages == {}
    user_id = await mock.new_user()
    role = f"/guilds/{world.guild.id}/members/{user_id}/roles/{UNKNOWN}"
    assert (await mock.api("PUT", role)).status == 204
    await _error(
        await mock.api("PUT", f"/guilds/{UNKNOWN}/members/{user_id}/roles/{UNKNOWN}"), 404, 10004
    )


async def test_application_commands_bulk_overwrite(mock: Mock) -> None:
    path = f"/applications/{mock.app_id}/commands"
    commands = [{"name": "queue", "description": "Join the queue"}, {"name": "Report", "type": 3}]
    first = await (await mock.api("PUT", path, json=commands)).json()
    assert [c["name"] for c in first] == ["queue", "Report"]
    assert all(c["id"].isdigit() and c["application_id"] == mock.app_id for c in first)
    again = await (await mock.api("PUT", path, json=commands)).json()
    assert [c["id"] for c in again] == [c["id"] for c in first]
    listed = await (await mock.api("GET", path)).json()
    assert [c["id"] for c in listed] == [c["id"] for c in first]
    body = await _error(
        await mock.api("PUT", path, json=[{"name": "Bad Name", "description": "d"}]), 400, 50035
    )
    assert body["errors"]["0"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"
    await _error(await mock.api("PUT", path, json={"name": "x"}), 400, 50035)
    other = await (await mock.control("POST", "/applications", json={})).json()
    await _error(await mock.api("GET", f"/applications/{other['id']}/commands"), 403, 20012)
    await _error(await mock.api("GET", f"/applications/{UNKNOWN}/commands"), 404, 10002)


async def test_multipart_upload_with_payload_json(mock: Mock) -> None:
    import aiohttp

    channel = await mock.new_dm()
    form = aiohttp.FormData()
    form.add_field("payload_json", '{"content": "replay"}', content_type="application/json")
    form.add_field(
        "files[0]", b"REPLAYDATA", filename="game.rep", content_type="application/octet-stream"
    )
    response = await mock.api("POST", f"/channels/{channel}/messages", data=form)
    message = await response.json()
    assert response.status == 200 and message["content"] == "replay"
    assert message["attachments"][0]["filename"] == "game.rep"
    assert message["attachments"][0]["size"] == 10
