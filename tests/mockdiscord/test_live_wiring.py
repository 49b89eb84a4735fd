"""The live features as wired into the real server: probe, message/interaction/ban events,
the CDN, and reset."""

import dataclasses

import aiohttp
import pytest
from aiohttp import web

from mockdiscord.harness import ControlPlaneError, run_mock
from mockdiscord.profile import load_profile
from tests.mockdiscord.testbot import SignedTestBot, reply

BUTTON_ROW = [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "go"}]}]


async def register(mock, commands) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.put(
            f"{mock.api_base}/applications/{mock.application_id}/commands",
            json=commands,
            headers={"Authorization": f"Bot {mock.bot_token}"},
        ) as response,
    ):
        assert response.status == 200


async def test_verify_probe_needs_a_401_for_a_bad_signature() -> None:
    async def trusting(request: web.Request) -> web.Response:
        return web.json_response({"type": 1})  # never checks the signature

    async with run_mock(seed=1) as mock, SignedTestBot(mock.public_key) as good:
        app = await mock.set_interactions_url(good.url, verify_probe=True)
        assert app["verify_probe"] is True
        assert (good.pings, good.bad_signatures) == (1, 1)

        careless = web.Application()
        careless.router.add_post("/i", trusting)
        runner = web.AppRunner(careless)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/i"
            with pytest.raises(ControlPlaneError) as info:
                await mock.set_interactions_url(url, verify_probe=True)
            assert info.value.field == "interactions_url"
            assert "401" in info.value.error
            apps = (await mock.control("GET", "/applications"))["applications"]
            assert apps[0]["interactions_url"] == good.url  # unchanged
            without_probe = await mock.set_interactions_url(url)  # the PING alone passes
            assert without_probe["interactions_url"] == url
        finally:
            await runner.cleanup()


async def test_message_and_interaction_events_follow_a_players_dm() -> None:
    async def handler(payload):
        if payload["type"] == 2:
            return reply({"type": 4, "data": {"content": "Match found", "components": BUTTON_ROW}})
        return reply({"type": 7, "data": {"content": "Accepted", "components": []}})

    async with run_mock(seed=1) as mock, SignedTestBot(mock.public_key, handler) as bot:
        await register(mock, [{"name": "queue", "description": "q"}])
        await mock.set_interactions_url(bot.url)
        player = await mock.create_user()
        warmup = await mock.run_command(player, "queue")  # opens the DM: learn its id
        channel = bot.received[0]["channel_id"]
        async with mock.events(
            types=["message_created", "message_updated", "interaction"], channel=channel
        ) as stream:
            first = await mock.run_command(player, "queue")
            created = await stream.next("message_created")
            command = await stream.next("interaction")
            await mock.click(player, first["message_id"], "go")
            updated = await stream.next("message_updated")
            click = await stream.next("interaction")
        assert warmup["outcome"] == "responded"
        assert created["channel_id"] == channel
        assert created["message_id"] == first["message_id"]
        assert created["summary"] == "Match found"
        assert created["components"] == [{"type": 2, "custom_id": "go"}]
        assert created["author_id"] == mock.bot_user_id
        assert (command["kind"], command["name"], command["outcome"]) == (
            "command",
            "queue",
            "responded",
        )
        assert (updated["summary"], updated["components"]) == ("Accepted", [])
        assert (click["kind"], click["name"], click["response_type"]) == ("component", "go", 7)


async def test_a_ban_is_an_event() -> None:
    profile = load_profile("discord")
    quick_ban = dataclasses.replace(profile.invalid_requests, threshold=3, window=60.0, ban=30.0)
    async with (
        run_mock(seed=1, profile=dataclasses.replace(profile, invalid_requests=quick_ban)) as mock,
        mock.events(types=["ban"]) as stream,
        aiohttp.ClientSession() as http,
    ):
        for _ in range(4):
            async with http.get(f"{mock.api_base}/users/@me") as response:  # 401: no token
                await response.read()
        ban = await stream.next("ban")
        assert ban["client_ip"] == "127.0.0.1"
        assert ban["duration_s"] == 30.0


async def test_cdn_answers_404_for_unknown_files_and_reset_clears_counters() -> None:
    async with run_mock(seed=1) as mock:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{mock.base_url}/_mock/cdn/attachments/1/2/x.txt") as response,
        ):
            assert response.status == 404
            assert (await response.json())["field"] == "attachment_id"
        await mock.configure(faults={"errors": {"rate": 1.0, "routes": ["GET /gateway/bot"]}})
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{mock.api_base}/gateway/bot", headers={"Authorization": f"Bot {mock.bot_token}"}
            ) as response,
        ):
            assert response.status in (500, 502, 503)
        assert (await mock.stats())["faults"]["errors"] == 1
        await mock.reset()
        stats = await mock.stats()
        assert stats["faults"]["errors"] == 0
        assert stats["interactions"]["delivered"] == 0
        assert stats["faults"]["config"]["errors"]["rate"] == 1.0  # the setup itself stays


async def test_files_the_bot_uploads_are_served_by_the_cdn() -> None:
    async with run_mock(seed=1) as mock, aiohttp.ClientSession() as http:
        player = await mock.create_user()
        headers = {"Authorization": f"Bot {mock.bot_token}"}
        async with http.post(
            f"{mock.api_base}/users/@me/channels", json={"recipient_id": player}, headers=headers
        ) as response:
            channel = (await response.json())["id"]
        form = aiohttp.FormData()
        form.add_field("payload_json", '{"content": "your replay"}')
        form.add_field("files[0]", b"REPLAY-BYTES", filename="game.rep")
        async with http.post(
            f"{mock.api_base}/channels/{channel}/messages", data=form, headers=headers
        ) as response:
            assert response.status == 200, await response.text()
            (attachment,) = (await response.json())["attachments"]
        async with http.get(attachment["url"]) as response:
            assert response.status == 200
            assert await response.read() == b"REPLAY-BYTES"
        assert (await mock.dm(player))[0]["attachments"][0]["url"] == attachment["url"]
