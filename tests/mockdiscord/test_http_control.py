"""The control plane under /_mock: shapes, effects and errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path

import mockdiscord
from mockdiscord.server.responses import ControlError

from .conftest import Mock


async def _bad(response, field: str | None, status: int = 400) -> None:
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json"
    body = await response.json()
    assert body["field"] == field and body["error"]


async def test_applications_list_and_patch(mock: Mock) -> None:
    listed = await mock.control("GET", "/applications")
    assert listed.headers["Content-Type"] == "application/json"
    [app] = (await listed.json())["applications"]
    assert app["id"] == mock.app_id and app["bot_token"] == mock.token
    assert len(app["public_key"]) == 64 and app["global_limit"] == 50
    assert app["interactions_url"] is None
    patched = await mock.control(
        "PATCH",
        f"/applications/{mock.app_id}",
        json={"interactions_url": "http://127.0.0.1:9999/interactions", "global_limit": 200},
    )
    body = await patched.json()
    assert body["interactions_url"] == "http://127.0.0.1:9999/interactions"
    assert body["global_limit"] == 200
    reset = await mock.control("PATCH", f"/applications/{mock.app_id}", json={"global_limit": None})
    assert (await reset.json())["global_limit"] == 50


async def test_application_patch_errors(mock: Mock) -> None:
    path = f"/applications/{mock.app_id}"
    await _bad(await mock.control("PATCH", path, json={"global_limit": 0}), "global_limit")
    await _bad(await mock.control("PATCH", path, json={"global_limit": "5"}), "global_limit")
    await _bad(
        await mock.control("PATCH", path, json={"interactions_url": "ftp://x"}), "interactions_url"
    )
    await _bad(await mock.control("PATCH", path, json={"colour": 1}), "colour")
    await _bad(await mock.control("PATCH", "/applications/123", json={}), "application_id", 404)
    raw = await mock.client.patch("/_mock" + path, data=b"{nope")
    await _bad(raw, None)


async def test_interactions_url_hook_can_refuse_the_url(mock: Mock) -> None:
    calls = []

    async def handshake(state, app, url):
        calls.append(url)
        if "bad" in url:
            raise ControlError("the PING handshake failed", field="interactions_url")

    mock.state.interactions_url_hooks.append(handshake)
    path = f"/applications/{mock.app_id}"
    ok = await mock.control("PATCH", path, json={"interactions_url": "http://127.0.0.1:1/ok"})
    assert ok.status == 200
    await _bad(
        await mock.control("PATCH", path, json={"interactions_url": "http://bad/"}),
        "interactions_url",
    )
    assert calls == ["http://127.0.0.1:1/ok", "http://bad/"]
    assert mock.state.world.default_application.interactions_url == "http://127.0.0.1:1/ok"


async def test_users_create_list_patch_and_errors(mock: Mock) -> None:
    made = await (await mock.control("POST", "/users", json={"count": 3})).json()
    assert len(made["ids"]) == 3 and all(len(i) == 19 for i in made["ids"])
    named = await mock.control("POST", "/users", json={"names": ["ann", "bob"], "dms_closed": True})
    assert [u["username"] for u in (await named.json())["users"]] == ["ann", "bob"]
    listed = (await (await mock.control("GET", "/users")).json())["users"]
    humans = [u for u in listed if not u["bot"]]
    assert len(humans) == 5 and sum(u["dms_closed"] for u in humans) == 2
    target = made["ids"][0]
    patched = await mock.control("PATCH", f"/users/{target}", json={"dms_closed": True})
    assert (await patched.json())["dms_closed"] is True
    await _bad(await mock.control("POST", "/users", json={"count": 0}), "count")
    await _bad(await mock.control("POST", "/users", json={}), "count")
    await _bad(await mock.control("POST", "/users", json={"names": [""]}), "names")
    await _bad(
        await mock.control("POST", "/users", json={"count": 1, "dms_closed": "no"}), "dms_closed"
    )
    await _bad(await mock.control("POST", "/users", json=[1]), None)


async def test_channel_messages_and_user_dm_views(mock: Mock) -> None:
    user_id = await mock.new_user()
    empty = await (await mock.control("GET", f"/users/{user_id}/dm")).json()
    assert empty["channel_id"] is None and empty["messages"] == []
    dm = (
        await (await mock.api("POST", "/users/@me/channels", json={"recipient_id": user_id})).json()
    )["id"]
    for text in ("one", "two"):
        await mock.api("POST", f"/channels/{dm}/messages", json={"content": text})
    view = await (await mock.control("GET", f"/users/{user_id}/dm")).json()
    assert view["channel_id"] == dm and [m["content"] for m in view["messages"]] == ["one", "two"]
    channel = await (await mock.control("GET", f"/channels/{dm}/messages")).json()
    assert channel["channel"]["id"] == dm and len(channel["messages"]) == 2
    await _bad(await mock.control("GET", "/channels/1/messages"), "channel_id", 404)
    await _bad(await mock.control("GET", "/users/1/dm"), "user_id", 404)
    channels = await (await mock.control("GET", "/channels")).json()
    assert mock.state.world.text_channel.id in [c["id"] for c in channels["channels"]]


async def test_stats_and_ledger(mock: Mock, tmp_path: Path) -> None:
    await mock.api("GET", "/users/@me")
    await mock.api("GET", "/users/@me", token=None)
    stats = await (await mock.control("GET", "/stats")).json()
    assert stats["requests"] == 2 and stats["responses_by_status"] == {"200": 1, "401": 1}
    assert stats["applications"][mock.app_id]["counted"] == 1
    assert set(stats["rate_limited"]) >= {"global", "user", "shared"}
    assert (stats["invalid_request_threshold"], stats["invalid_request_window"]) == (10_000, 600)
    # The threshold is the active profile's: a swapped-in profile changes it.
    builtin = Path(mockdiscord.__file__).parent / "profiles" / "discord.toml"
    custom = tmp_path / "low-ban.toml"
    custom.write_text(builtin.read_text().replace("threshold = 10000", "threshold = 250", 1))
    changed = await mock.control("PUT", "/config", json={"profile": str(custom)})
    assert changed.status == 200
    stats = await (await mock.control("GET", "/stats")).json()
    assert stats["invalid_request_threshold"] == 250
    ledger = await mock.control("GET", "/ledger")
    assert ledger.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in (await ledger.text()).splitlines()]
    assert [(e["route"], e["status"]) for e in lines] == [("/users/@me", 200), ("/users/@me", 401)]
    tail = await (await mock.control("GET", "/ledger?after=1")).text()
    assert len(tail.splitlines()) == 1
    await _bad(await mock.control("GET", "/ledger?after=-1"), "after")


async def test_config_live_changes_and_errors(mock: Mock, tmp_path) -> None:
    config = await (await mock.control("GET", "/config")).json()
    assert config["profile"]["name"] == "discord" and config["global_algorithm"] == "sliding"
    changed = await mock.control(
        "PUT",
        "/config",
        json={
            "global_limit": 3,
            "global_algorithm": "fixed",
            "routes": {"message_create": {"limit": 1}},
        },
    )
    body = await changed.json()
    assert body["global_limit"] == 3 and body["routes"]["message_create"]["limit"] == 1
    dm = await mock.new_dm()
    first = await mock.api("POST", f"/channels/{dm}/messages", json={"content": "a"})
    second = await mock.api("POST", f"/channels/{dm}/messages", json={"content": "b"})
    assert (first.status, second.status) == (200, 429)
    await _bad(await mock.control("PUT", "/config", json={"profile": "/no/such.toml"}), "profile")
    broken = tmp_path / "broken.toml"
    broken.write_text("[global]\nlimit = 'five'\n")
    await _bad(await mock.control("PUT", "/config", json={"profile": str(broken)}), "profile")
    await _bad(
        await mock.control("PUT", "/config", json={"global_algorithm": "magic"}), "global_algorithm"
    )
    await _bad(
        await mock.control("PUT", "/config", json={"routes": {"nope": {"limit": 1}}}), "routes.nope"
    )
    await _bad(
        await mock.control("PUT", "/config", json={"global_limit": 3, "limits": 1}), "limits"
    )
    unchanged = await (await mock.control("GET", "/config")).json()
    assert unchanged["global_limit"] == 3  # a refused PUT changes nothing
    back = await mock.control("PUT", "/config", json={"profile": "discord"})
    assert (await back.json())["global_limit"] == 50


async def test_reset_keeps_the_default_application(mock: Mock) -> None:
    await mock.new_dm()
    await mock.control("POST", "/applications", json={"name": "Second"})
    await mock.api("GET", "/users/@me")
    reset = await (await mock.control("POST", "/reset")).json()
    assert reset["application_id"] == mock.app_id
    apps = (await (await mock.control("GET", "/applications")).json())["applications"]
    assert [a["id"] for a in apps] == [mock.app_id]
    users = (await (await mock.control("GET", "/users")).json())["users"]
    assert all(u["bot"] for u in users)
    stats = await (await mock.control("GET", "/stats")).json()
    assert stats["requests"] == 0
    assert (await mock.api("GET", "/users/@me")).status == 200  # same token still works


async def test_unknown_control_endpoint_and_method(mock: Mock) -> None:
    await _bad(await mock.control("GET", "/nothing"), None, 404)
    await _bad(await mock.control("DELETE", "/stats"), None, 405)


async def test_config_and_stats_extension_points(mock: Mock) -> None:
    applied = []

    def faults(state, value):
        if not isinstance(value, dict):
            raise ControlError("faults must be an object", field="faults")
        return lambda: applied.append(value)

    mock.state.config_fields["faults"] = faults
    mock.state.config_views.append(lambda state: {"faults": applied[-1] if applied else None})
    mock.state.stats_views.append(lambda state: {"faults_seen": len(applied)})
    await _bad(
        await mock.control("PUT", "/config", json={"faults": 1, "global_limit": 7}), "faults"
    )
    assert (await (await mock.control("GET", "/config")).json())["global_limit"] == 50  # atomic
    ok = await (await mock.control("PUT", "/config", json={"faults": {"rate": 0.1}})).json()
    assert ok["faults"] == {"rate": 0.1} and applied == [{"rate": 0.1}]
    assert (await (await mock.control("GET", "/stats")).json())["faults_seen"] == 1
