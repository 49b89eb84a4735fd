"""Faults on a real mock: counted exactly, and nonce + enforce_nonce never duplicates."""

import asyncio
import contextlib
import time

import aiohttp
import pytest

from mockdiscord.harness import ControlPlaneError, run_mock
from tests.mockdiscord.testbot import SignedTestBot

CREATE = "POST /channels/{channel_id}/messages"


async def guild_channel(mock) -> str:
    channels = (await mock.control("GET", "/channels"))["channels"]
    return next(c["id"] for c in channels if c.get("guild_id"))


async def test_ten_percent_5xx_counted_exactly_and_nonce_retries_never_duplicate() -> None:
    async with run_mock(seed=1) as mock:
        await mock.configure(
            global_limit=1_000_000,
            routes={"message_create": {"limit": 10_000, "period": 1}},
            faults={
                "seed": 42,
                "errors": {"rate": 0.1, "routes": [CREATE], "stored_before_error": 0.5},
            },
        )
        channel = await guild_channel(mock)
        headers = {"Authorization": f"Bot {mock.bot_token}"}
        seen_5xx: dict[int, int] = {}
        notes = 300
        async with aiohttp.ClientSession() as http:
            for i in range(notes):
                body = {"content": f"note {i}", "nonce": f"n{i}", "enforce_nonce": True}
                for _attempt in range(30):
                    async with http.post(
                        f"{mock.api_base}/channels/{channel}/messages", json=body, headers=headers
                    ) as response:
                        if response.status == 200:
                            assert (await response.json())["nonce"] == f"n{i}"
                            break
                        assert response.status in (500, 502, 503)
                        error = await response.json()
                        assert error["code"] == 0
                        assert error["message"].startswith(str(response.status))
                        assert response.headers["Content-Type"] == "application/json"
                        seen_5xx[response.status] = seen_5xx.get(response.status, 0) + 1
                else:
                    pytest.fail("30 failed attempts in a row at a 10% fault rate")
        injected = sum(seen_5xx.values())
        assert 15 <= injected <= 60  # about 10% of ~330 attempts
        stats = await mock.stats()
        faults = stats["faults"]
        assert faults["errors"] == injected
        assert faults["errors_by_status"] == {str(k): v for k, v in sorted(seen_5xx.items())}
        assert faults["stored_before_error"] > 0  # the interesting case happened
        ledger = await mock.ledger()
        labelled = [e for e in ledger if (e["fault"] or "").startswith("error_")]
        assert len(labelled) == injected
        assert (
            sum(1 for e in labelled if e["fault"].endswith("_stored"))
            == (faults["stored_before_error"])
        )
        assert all(e["status"] == int(e["fault"].split("_")[1]) for e in labelled)
        assert stats["responses_by_status"]["200"] == notes
        # Exactly one message per nonce, even when a failed create had stored it.
        messages = (await mock.control("GET", f"/channels/{channel}/messages"))["messages"]
        assert sorted(m["nonce"] for m in messages) == sorted(f"n{i}" for i in range(notes))


async def test_connection_resets_are_counted_and_in_the_ledger() -> None:
    async with run_mock(seed=1) as mock:
        await mock.configure(faults={"resets": {"rate": 1.0, "routes": ["GET /users/@me"]}})
        port = int(mock.base_url.rsplit(":", 1)[1])
        # A bare connection: client libraries may silently retry an idempotent GET.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /api/v10/users/@me HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bot {mock.bot_token}\r\n\r\n".encode()
        )
        try:
            received = await asyncio.wait_for(reader.read(), 5.0)
        except ConnectionResetError:
            received = b""
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        assert received == b""  # no response at all
        assert (await mock.stats())["faults"]["resets"] == 1
        (entry,) = await mock.ledger()
        assert entry["fault"] == "reset"
        assert entry["status"] == 0


async def test_added_latency_applies_per_route() -> None:
    async with run_mock(seed=1) as mock:
        await mock.configure(
            faults={"latency": [{"route": "GET /users/@me", "fixed_ms": 150, "jitter_ms": 50}]}
        )
        headers = {"Authorization": f"Bot {mock.bot_token}"}
        async with aiohttp.ClientSession() as http:
            started = time.perf_counter()
            async with http.get(f"{mock.api_base}/users/@me", headers=headers) as response:
                assert response.status == 200
            slow = time.perf_counter() - started
            async with http.get(f"{mock.api_base}/gateway/bot", headers=headers) as response:
                assert response.status == 200
        assert slow >= 0.15
        slow_entry, fast_entry = await mock.ledger()
        assert slow_entry["fault"] == "latency"
        assert slow_entry["latency_ms"] >= 150
        assert fast_entry["fault"] is None
        assert (await mock.stats())["faults"]["latency"] == 1


async def test_dropped_and_delayed_interaction_deliveries() -> None:
    async with run_mock(seed=1) as mock:
        async with (
            aiohttp.ClientSession() as http,
            http.put(
                f"{mock.api_base}/applications/{mock.application_id}/commands",
                json=[{"name": "ping", "description": "p"}],
                headers={"Authorization": f"Bot {mock.bot_token}"},
            ) as response,
        ):
            assert response.status == 200
        async with SignedTestBot(mock.public_key) as bot:
            await mock.set_interactions_url(bot.url)
            player = await mock.create_user()
            await mock.configure(
                interaction_deadline=0.5, faults={"interactions": {"drop_rate": 1.0}}
            )
            dropped = await mock.run_command(player, "ping")
            await mock.configure(faults={"interactions": {"delay_rate": 1.0, "delay_ms": 100}})
            delayed = await mock.run_command(player, "ping")
        assert (dropped["outcome"], dropped["fault"]) == ("failed", "dropped")
        assert (delayed["outcome"], delayed["fault"]) == ("responded", "delayed")
        assert delayed["latency_ms"] >= 100
        assert len(bot.received) == 1
        faults = (await mock.stats())["faults"]
        assert (faults["interactions_dropped"], faults["interactions_delayed"]) == (1, 1)
        assert (await mock.stats())["interactions"]["failed"] == 1


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"faults": {"errors": {"rate": 2}}}, "faults.errors.rate"),
        (
            {"faults": {"latency": [{"route": "GET /nope", "fixed_ms": 1}]}},
            "faults.latency[0].route",
        ),
        ({"faults": []}, "faults"),
        ({"interaction_deadline": 0}, "interaction_deadline"),
    ],
)
async def test_bad_fault_config_names_the_field(settings, field) -> None:
    async with run_mock(seed=1) as mock:
        with pytest.raises(ControlPlaneError) as info:
            await mock.configure(**settings)
        assert info.value.status == 400
        assert info.value.field == field
        assert (await mock.stats())["faults"]["config"]["errors"]["rate"] == 0.0
