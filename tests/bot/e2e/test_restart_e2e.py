"""Crash safety: SIGKILL the bot (a real ``ladderbot run`` process) while a wave's
notifications are still in its outbox, start it again, and every player ends with exactly
one copy of each message, as the mock's DM view shows.

The mock and the bot are paced to 4 counted requests per second so phase 2 of a 10-match
wave takes about five seconds: the kill lands in the middle of it. Nothing but the SQLite
file survives the kill; the second process resumes from it.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bot.store import Store
from mockdiscord.harness import run_mock
from tests.bot.e2e.conftest import buttons, eventually
from tests.bot.e2e.dispatch_helpers import bot_status, ladderbot_process, read_dms

pytestmark = pytest.mark.e2e

PLAYERS = 20
LIMIT = 4


def delivered_details(dms: dict[str, list[dict]]) -> int:
    return sum(1 for dm in dms.values() if any(m["embeds"] for m in dm))


async def test_sigkill_mid_wave_then_restart_delivers_each_message_once(tmp_path: Path) -> None:
    db = tmp_path / "ladder.db"
    log = tmp_path / "bot.log"
    async with run_mock() as mock:
        await mock.control("PATCH", f"/applications/{mock.application_id}", {"global_limit": LIMIT})
        admin = await mock.create_user("admin")
        users = await mock.create_users(PLAYERS)
        async with ladderbot_process(mock, db, admin, log, "--global-limit", str(LIMIT)) as (
            process,
            url,
        ):
            await mock.set_interactions_url(url + "/interactions")
            for i, user in enumerate(users):
                option = {"bw_race": "bw_zerg"} if i % 2 == 0 else {"sc2_race": "sc2_protoss"}
                result = await mock.run_command(user, "queue", option)
                assert result["response_type"] == 4
            assert (await mock.run_command(admin, "admin wave"))["outcome"] == "deferred"

            async def partly_delivered() -> int:
                count = delivered_details(await read_dms(mock, users))
                return count if 2 <= count < PLAYERS else 0

            before_kill = await eventually(partly_delivered, within=20.0, every=0.02)
            process.send_signal(signal.SIGKILL)
            await process.wait()
            assert process.returncode == -signal.SIGKILL

        with Store(db) as store:
            pending = store.outbox_counts()["pending"]
        assert pending > 0, "the kill came too late: nothing was left in the outbox"
        assert before_kill < PLAYERS

        async with ladderbot_process(mock, db, admin, log, "--global-limit", str(LIMIT)) as (
            process,
            url,
        ):
            await mock.set_interactions_url(url + "/interactions")

            async def all_delivered() -> bool:
                status = await bot_status(url)
                return status["outbox"]["pending"] == 0

            await eventually(all_delivered, within=30.0, every=0.1)
            dms = await read_dms(mock, users)
            for user, dm in dms.items():
                found = [m for m in dm if m["content"].startswith("**Match #")]
                details = [m for m in dm if m["embeds"]]
                assert len(found) == 1, (user, dm)  # the searching message, edited once
                assert len(details) == 1, (user, dm)  # one phase-2 message, no duplicate
                assert len(dm) == 2, (user, dm)
                match_id = found[0]["content"].split("#")[1].split(" ")[0]
                assert buttons(details[0]) == [
                    f"match:{match_id}:confirm",
                    f"match:{match_id}:abort",
                ]

            # The restarted bot carries on: everybody confirms and sees the result select.
            for user, dm in dms.items():
                (details,) = [m for m in dm if m["embeds"]]
                custom_id = buttons(details)[0]
                assert (await mock.click(user, details["id"], custom_id))["response_type"] == 7

            async def all_confirmed() -> bool:
                fresh = await read_dms(mock, users)
                return all(
                    any(b.endswith(":report") for m in dm for b in buttons(m))
                    for dm in fresh.values()
                )

            await eventually(all_confirmed, within=30.0, every=0.1)
            final = await read_dms(mock, users)
            assert all(len(dm) == 2 for dm in final.values())
            interactions = (await mock.stats())["interactions"]
            assert interactions["failed"] == 0 and interactions["rejected"] == 0
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 20) == 0
