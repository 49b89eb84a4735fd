"""The event stream on a real mock under load: ticks keep coming and add up exactly."""

import asyncio
import time

import aiohttp

from mockdiscord.harness import run_mock


async def test_ticks_arrive_during_load_and_count_every_request_once() -> None:
    async with run_mock(seed=1) as mock:
        await mock.configure(global_limit=1_000_000)
        headers = {"Authorization": f"Bot {mock.bot_token}"}
        total = 1500
        sent = 0
        async with (
            mock.events(types=["tick"]) as stream,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as http,
        ):
            ticks = []

            async def collect() -> None:
                while True:
                    ticks.append(await stream.next("tick"))

            collector = asyncio.create_task(collect())
            started = time.time()

            async def worker() -> None:
                nonlocal sent
                while sent < total:
                    sent += 1
                    async with http.get(f"{mock.api_base}/users/@me", headers=headers) as r:
                        assert r.status == 200
                        await r.read()

            await asyncio.gather(*(worker() for _ in range(16)))
            finished = time.time()
            await asyncio.sleep(0.6)  # let the last tick close over the final requests
            collector.cancel()
            await asyncio.gather(collector, return_exceptions=True)
        during = [t for t in ticks if started <= t["t"] <= finished]
        assert len(during) >= max(1, int((finished - started) / 0.25) - 2)
        counted = sum(
            t["applications"].get(mock.application_id, {}).get("counted", 0) for t in ticks
        )
        assert counted == total
        assert (
            max(
                t["applications"].get(mock.application_id, {}).get("last_1s", {}).get("counted", 0)
                for t in ticks
            )
            > 0
        )


async def test_rate_limited_events_carry_scope_and_bucket() -> None:
    async with run_mock(seed=1) as mock:
        channels = await mock.control("GET", "/channels")
        channel = next(c["id"] for c in channels["channels"] if c.get("guild_id"))
        headers = {"Authorization": f"Bot {mock.bot_token}"}
        async with (
            mock.events(types=["rate_limited", "message_created"], channel=channel) as stream,
            aiohttp.ClientSession() as http,
        ):
            statuses = []
            for i in range(6):
                async with http.post(
                    f"{mock.api_base}/channels/{channel}/messages",
                    json={"content": f"m{i}"},
                    headers=headers,
                ) as response:
                    statuses.append(response.status)
            assert statuses == [200] * 5 + [429]
            limited = await stream.next("rate_limited")
        assert limited["scope"] == "user"
        assert limited["route"] == "/channels/{channel_id}/messages"
        assert limited["bucket"]
        assert limited["application_id"] == mock.application_id
