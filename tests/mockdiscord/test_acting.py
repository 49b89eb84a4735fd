"""Acting as users against a real signed-interactions bot (plain aiohttp + PyNaCl).

The bot is `tests/mockdiscord/testbot.py`: it knows nothing of the mock's code. Each test
gives it a handler, makes a fake player act through the control plane, and checks what the
player would see (their DM) and what the control plane reports.
"""

import asyncio
import base64

import aiohttp
import pytest

from mockdiscord.clock import ManualClock
from tests.mockdiscord.testbot import SignedTestBot, reply

QUEUE = {
    "name": "queue",
    "description": "join the ladder queue",
    "options": [
        {
            "name": "race",
            "description": "your race",
            "type": 3,
            "required": True,
            "choices": [{"name": "Zerg", "value": "z"}, {"name": "Terran", "value": "t"}],
        }
    ],
}
REPLAY = {
    "name": "replay",
    "description": "upload a replay",
    "options": [
        {"name": "file", "description": "the replay", "type": 11, "required": True},
        {"name": "opponent", "description": "who", "type": 6},
    ],
}
BUTTONS = [
    {
        "type": 1,
        "components": [
            {"type": 2, "style": 3, "label": "Accept", "custom_id": "accept"},
            {"type": 2, "style": 4, "label": "Decline", "custom_id": "decline"},
        ],
    }
]


class Harness:
    def __init__(self, mock, bot, session):
        self.mock = mock
        self.bot = bot
        self.session = session

    @property
    def base(self):
        return str(self.mock.client.make_url("")).rstrip("/")

    async def callback(self, payload, body):
        url = f"{self.base}/api/v10/interactions/{payload['id']}/{payload['token']}/callback"
        async with self.session.post(url, json=body) as response:
            return response.status, await response.json(content_type=None)

    async def webhook(self, method, payload, suffix="", body=None):
        url = f"{self.base}/api/v10/webhooks/{payload['application_id']}/{payload['token']}{suffix}"
        async with self.session.request(method, url, json=body) as response:
            return response.status, await response.json(content_type=None)

    async def act(self, user_id, kind, body):
        response = await self.mock.control("POST", f"/users/{user_id}/{kind}", json=body)
        return response.status, await response.json()

    async def dm(self, user_id):
        response = await self.mock.control("GET", f"/users/{user_id}/dm")
        return (await response.json())["messages"]


@pytest.fixture
async def harness(make_mock):
    mock = await make_mock(interactions_handshake=True, clock=ManualClock())
    app = mock.state.world.default_application
    async with aiohttp.ClientSession() as session:
        bot = SignedTestBot(app.public_key)
        await bot.start()
        try:
            response = await mock.api(
                "PUT", f"/applications/{app.id}/commands", json=[QUEUE, REPLAY]
            )
            assert response.status == 200
            response = await mock.control(
                "PATCH", f"/applications/{app.id}", json={"interactions_url": bot.url}
            )
            assert response.status == 200, await response.text()
            yield Harness(mock, bot, session)
        finally:
            await bot.close()


async def test_saving_the_url_pings_the_bot_and_a_bot_without_pong_is_refused(harness) -> None:
    assert harness.bot.pings == 1
    app_id = harness.mock.app_id
    response = await harness.mock.control(
        "PATCH", f"/applications/{app_id}", json={"interactions_url": harness.base + "/nothing"}
    )
    assert response.status == 400
    body = await response.json()
    assert body["field"] == "interactions_url"
    assert "PING" in body["error"]
    assert harness.mock.state.world.default_application.interactions_url == harness.bot.url


async def test_type_4_creates_the_message_in_the_users_dm(harness) -> None:
    user = await harness.mock.new_user()
    status, result = await harness.act(
        user, "commands", {"name": "queue", "options": {"race": "z"}}
    )
    assert status == 200, result
    assert result["outcome"] == "responded"
    assert result["response_type"] == 4
    assert result["http_status"] == 200
    (payload,) = harness.bot.received
    assert payload["type"] == 2
    assert payload["data"]["options"] == [{"name": "race", "type": 3, "value": "z"}]
    assert payload["user"]["id"] == user
    assert payload["channel"]["type"] == 1
    assert payload["channel_id"] == payload["channel"]["id"]
    messages = await harness.dm(user)
    assert [m["content"] for m in messages] == [f"hello {payload['user']['username']}"]
    assert messages[0]["id"] == result["message_id"]


async def test_type_7_updates_the_clicked_message(harness) -> None:
    async def handler(payload):
        if payload["type"] == 2:
            return reply({"type": 4, "data": {"content": "Match found", "components": BUTTONS}})
        assert payload["message"]["content"] == "Match found"
        who = payload["data"]["custom_id"]
        return reply({"type": 7, "data": {"content": f"You chose {who}", "components": []}})

    harness.bot.handler = handler
    user = await harness.mock.new_user()
    _, first = await harness.act(user, "commands", {"name": "queue", "options": {"race": "t"}})
    status, click = await harness.act(
        user, "components", {"message_id": first["message_id"], "custom_id": "accept"}
    )
    assert status == 200, click
    assert (click["outcome"], click["response_type"]) == ("responded", 7)
    (message,) = await harness.dm(user)
    assert message["content"] == "You chose accept"
    assert message["components"] == []
    assert message["id"] == first["message_id"]
    assert harness.bot.received[1]["data"] == {"custom_id": "accept", "component_type": 2}


async def test_deferred_then_original_edit(harness) -> None:
    edits = []

    async def handler(payload):
        async def later():
            await asyncio.sleep(0.05)
            edits.append(
                await harness.webhook(
                    "PATCH", payload, "/messages/@original", {"content": "done thinking"}
                )
            )

        harness.later = asyncio.create_task(later())
        return reply({"type": 5})

    harness.bot.handler = handler
    user = await harness.mock.new_user()
    _, result = await harness.act(user, "commands", {"name": "queue", "options": {"race": "z"}})
    assert (result["outcome"], result["response_type"]) == ("deferred", 5)
    await harness.later
    assert edits[0][0] == 200
    (message,) = await harness.dm(user)
    assert message["content"] == "done thinking"


async def test_a_slow_bot_fails_and_its_late_callback_gets_10062(harness) -> None:
    await harness.mock.control("PUT", "/config", json={"interaction_deadline": 0.3})
    payloads = []
    release = asyncio.Event()

    async def slow(payload):
        payloads.append(payload)
        await release.wait()
        return reply({"type": 4, "data": {"content": "late"}})

    harness.bot.handler = slow
    user = await harness.mock.new_user()
    _, result = await harness.act(user, "commands", {"name": "queue", "options": {"race": "z"}})
    release.set()
    assert result["outcome"] == "failed"
    assert result["response_type"] is None
    status, body = await harness.callback(payloads[0], {"type": 4, "data": {"content": "x"}})
    assert (status, body["code"]) == (404, 10062)
    assert await harness.dm(user) == []
    stats = await (await harness.mock.control("GET", "/stats")).json()
    assert stats["interactions"]["failed"] == 1


async def test_a_second_callback_gets_40060(harness) -> None:
    seconds = []

    async def both(payload):
        first = await harness.callback(payload, {"type": 5})
        seconds.append(await harness.callback(payload, {"type": 4, "data": {"content": "x"}}))
        assert first[0] == 204
        return reply({"type": 4, "data": {"content": "third"}})

    harness.bot.handler = both
    user = await harness.mock.new_user()
    _, result = await harness.act(user, "commands", {"name": "queue", "options": {"race": "z"}})
    assert (result["outcome"], result["response_type"]) == ("deferred", 5)
    status, body = seconds[0]
    assert (status, body["code"]) == (400, 40060)
    assert "already been acknowledged" in body["message"]


async def test_webhook_edit_after_token_expiry_gets_50027(harness) -> None:
    await harness.mock.control("PUT", "/config", json={"interaction_token_lifetime": 5})
    user = await harness.mock.new_user()
    await harness.act(user, "commands", {"name": "queue", "options": {"race": "z"}})
    payload = harness.bot.received[0]
    status, _ = await harness.webhook("PATCH", payload, "/messages/@original", {"content": "ok"})
    assert status == 200
    harness.mock.clock.advance(6)
    status, body = await harness.webhook(
        "PATCH", payload, "/messages/@original", {"content": "too late"}
    )
    assert (status, body["code"]) == (401, 50027)


async def test_interaction_routes_are_exempt_but_each_token_has_its_own_bucket(harness) -> None:
    user = await harness.mock.new_user()
    await harness.act(user, "commands", {"name": "queue", "options": {"race": "z"}})
    await harness.act(user, "commands", {"name": "queue", "options": {"race": "t"}})
    one, two = harness.bot.received
    statuses = [
        (await harness.webhook("POST", one, body={"content": f"f{i}"}))[0] for i in range(6)
    ]
    assert statuses == [200] * 5 + [429]  # 5 per 2 s per interaction token (no time passes)
    other, _ = await harness.webhook("POST", two, body={"content": "other token"})
    assert other == 200
    stats = await (await harness.mock.control("GET", "/stats")).json()
    app = stats["applications"][harness.mock.app_id]
    assert app["counted"] == 1  # only PUT commands counted toward the global limit
    assert app["exempt"] == 7
    assert stats["rate_limited"]["user"] == 1
    assert stats["interactions"]["responded"] == 2
    assert any(b["rate_limited"] == 1 for b in stats["buckets"])


async def test_attachments_are_resolved_and_served_from_the_mock_cdn(harness) -> None:
    downloaded = []

    async def fetch(payload):
        attachment = next(iter(payload["data"]["resolved"]["attachments"].values()))
        async with harness.session.get(attachment["url"]) as response:
            downloaded.append((response.status, await response.read()))
        return reply({"type": 4, "data": {"content": "got it"}})

    harness.bot.handler = fetch
    user = await harness.mock.new_user()
    opponent = await harness.mock.new_user()
    content = bytes(range(256)) * 4
    status, result = await harness.act(
        user,
        "commands",
        {
            "name": "replay",
            "options": {
                "file": {"filename": "game.rep", "content_b64": base64.b64encode(content).decode()},
                "opponent": opponent,
            },
        },
    )
    assert status == 200, result
    assert downloaded == [(200, content)]
    resolved = harness.bot.received[0]["data"]["resolved"]
    assert list(resolved["users"]) == [opponent]


@pytest.mark.parametrize(
    ("kind", "body", "status", "field"),
    [
        ("commands", {"name": "dance"}, 400, "name"),
        ("commands", {"name": "queue", "options": {"race": "protoss"}}, 400, "options.race"),
        ("commands", {"name": "queue", "options": {"race": 1}}, 400, "options.race"),
        ("commands", {"name": "queue", "options": {}}, 400, "options.race"),
        ("commands", {"name": "queue", "colour": "red"}, 400, "colour"),
        ("commands", {"name": "queue", "application_id": "1"}, 404, "application_id"),
        ("components", {"message_id": "1", "custom_id": "accept"}, 404, "message_id"),
    ],
)
async def test_bad_control_plane_input_names_the_field(harness, kind, body, status, field) -> None:
    user = await harness.mock.new_user()
    got, error = await harness.act(user, kind, body)
    assert (got, error["field"]) == (status, field), error
    assert harness.bot.received == []


async def test_unknown_user_and_missing_custom_id_name_the_field(harness) -> None:
    got, error = await harness.act("123456789012345678", "commands", {"name": "queue"})
    assert (got, error["field"]) == (404, "user_id")

    async def with_buttons(payload):
        return reply({"type": 4, "data": {"content": "pick", "components": BUTTONS}})

    harness.bot.handler = with_buttons
    user = await harness.mock.new_user()
    _, result = await harness.act(user, "commands", {"name": "queue", "options": {"race": "z"}})
    got, error = await harness.act(
        user, "components", {"message_id": result["message_id"], "custom_id": "nope"}
    )
    assert (got, error["field"]) == (400, "custom_id")
    assert "accept, decline" in error["error"]
    stranger = await harness.mock.new_user()
    got, error = await harness.act(
        stranger, "components", {"message_id": result["message_id"], "custom_id": "accept"}
    )
    assert (got, error["field"]) == (404, "message_id")


async def test_dms_closed_user_cannot_be_written_to_by_the_bot(harness) -> None:
    user = await harness.mock.new_user(dms_closed=True)
    _, result = await harness.act(user, "commands", {"name": "queue", "options": {"race": "z"}})
    assert result["outcome"] == "responded"  # the user can still use the bot's commands
    channel_id = harness.bot.received[0]["channel_id"]
    response = await harness.mock.api(
        "POST", f"/channels/{channel_id}/messages", json={"content": "hi"}
    )
    assert response.status == 403
    assert (await response.json())["code"] == 50007
