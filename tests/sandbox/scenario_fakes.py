"""Hand-built snapshots and a fake Operator for the scenario tests (no stack needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sandbox.snapshot import Snapshot

APP = "100000000000000001"
WALL0 = 1_700_000_000.0
MONO0 = 1_000.0
WEBHOOK_EDIT = ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
CHANNEL_EDIT = ("PATCH", "/channels/{channel_id}/messages/{message_id}")
CREATE = ("POST", "/channels/{channel_id}/messages")


def entry(
    t: float,
    call: tuple[str, str] = CREATE,
    *,
    status: int = 200,
    scope: str | None = None,
    counted: bool = True,
    app: str | None = APP,
    banned: bool = False,
) -> dict[str, Any]:
    """One ledger line, `t` seconds after the wave start."""
    return {
        "at_wall": WALL0 + t,
        "at_monotonic": MONO0 + t,
        "application_id": app,
        "method": call[0],
        "route": call[1],
        "bucket_key": None,
        "status": status,
        "scope": scope,
        "counted": counted,
        "exempt": not counted,
        "client_ip": "127.0.0.1",
        "banned": banned,
        "fault": None,
        "latency_ms": 1.0,
    }


def wave_ledger(
    players: int, *, phase1_gap: float = 0.001, phase2_gap: float = 0.02, phase2_at: float = 0.1
) -> list[dict[str, Any]]:
    """A wave: `players` exempt webhook edits, then `players` counted DM creates."""
    ledger = [entry(i * phase1_gap, WEBHOOK_EDIT, counted=False) for i in range(players)]
    ledger += [entry(phase2_at + i * phase2_gap, CREATE) for i in range(players)]
    return ledger


def bot_status(players: int, *, started_at: float = WALL0, wave_id: int = 1) -> dict[str, Any]:
    return {
        "dispatch": {
            "strategy": "paced",
            "waves": [
                {
                    "wave_id": wave_id,
                    "matches": players // 2,
                    "players": players,
                    "started_at": started_at,
                    # The bot's own claims: deliberately rosy, the expectations ignore them.
                    "counted_calls": 0,
                    "rate_limited": {"global": 0, "user": 0, "shared": 0},
                    "phase1_first_s": 0.0,
                    "phase1_last_s": 0.0,
                    "lower_bound_s": 999.0,
                }
            ],
        }
    }


def dm(content: str, *, nonce: str | None = None, bot: bool = True, webhook: bool = False) -> dict:
    message: dict[str, Any] = {
        "id": str(abs(hash((content, nonce))) % 10**18),
        "content": content,
        "embeds": [],
        "author": {"id": APP, "bot": bot},
    }
    if nonce is not None:
        message["nonce"] = nonce
    if webhook:
        message["webhook_id"] = APP
    return message


def snapshot(
    *,
    ledger: list[dict[str, Any]] | None = None,
    players: int = 0,
    stats: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    dms: dict[str, list[dict[str, Any]]] | None = None,
    player_views: dict[str, dict[str, Any]] | None = None,
    limit: int = 50,
) -> Snapshot:
    base_stats: dict[str, Any] = {
        "rate_limited": {"global": 0, "user": 0, "shared": 0, "ban": 0},
        "applications": {APP: {"counted": 0, "peak_1s": 0, "global_limit": limit}},
        "interactions": {"delivered": 10, "responded": 10, "failed": 0, "rejected": 0},
    }
    base_stats.update(stats or {})
    return Snapshot(
        mock_stats=base_stats,
        ledger=ledger if ledger is not None else [],
        bot_status=status if status is not None else bot_status(players),
        dms=dms or {},
        players=player_views or {},
        application_id=APP,
    )


class FakeOperator:
    """Records every call in order; answers with canned values."""

    def __init__(
        self,
        snap: Snapshot | None = None,
        *,
        reached: bool = True,
        raise_on: str | None = None,
    ) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.snap = snap or snapshot()
        self.reached = reached
        self.raise_on = raise_on

    def _call(self, name: str, args: Any) -> None:
        self.calls.append((name, args))
        if name == self.raise_on:
            raise RuntimeError(f"{name} blew up")

    async def spawn(self, count: int, **options: Any) -> list[str]:
        self._call("spawn", (count, options))
        return [str(i) for i in range(count)]

    async def queue(self, n: int | None = None) -> int:
        self._call("queue", n)
        return n or 20

    async def wave(self) -> None:
        self._call("wave", None)

    async def complete(self, n: int | None = None) -> int:
        self._call("complete", n)
        return n or 10

    async def conflict(self, n: int | None = None) -> int:
        self._call("conflict", n)
        return n or 10

    async def abort(self, n: int | None = None) -> int:
        self._call("abort", n)
        return n or 10

    async def disconnect(self) -> int:
        self._call("disconnect", None)
        return 20

    async def replays(self, n: int | None = None) -> int:
        self._call("replays", n)
        return n or 10

    async def leaderboard_spam(self, n: int) -> int:
        self._call("leaderboard_spam", n)
        return n

    async def announce(self, text: str) -> None:
        self._call("announce", text)

    async def set_strategy(self, name: str) -> None:
        self._call("set_strategy", name)

    async def configure_mock(self, **changes: Any) -> None:
        self._call("configure_mock", changes)

    async def expire_tokens(self) -> None:
        self._call("expire_tokens", None)

    async def restart_bot(self, *, kill: bool = True) -> None:
        self._call("restart_bot", kill)

    async def snapshot(self) -> Snapshot:
        self._call("snapshot", None)
        return self.snap

    async def wait_until(self, condition: str, timeout: float) -> bool:  # noqa: ASYNC109
        self._call("wait_until", (condition, timeout))
        return self.reached


class FakeFactory:
    """An operator factory: records the setups it was given, can fail to start or stop."""

    def __init__(
        self, operator: FakeOperator, *, fail_start: bool = False, fail_stop: bool = False
    ) -> None:
        self.operator = operator
        self.setups: list[Any] = []
        self.fail_start = fail_start
        self.fail_stop = fail_stop
        self.closed = 0

    @asynccontextmanager
    async def __call__(self, setup: Any) -> AsyncIterator[FakeOperator]:
        self.setups.append(setup)
        if self.fail_start:
            raise OSError("port 8787 is already in use")
        try:
            yield self.operator
        finally:
            self.closed += 1
        if self.fail_stop:
            raise RuntimeError("bot did not exit")


async def no_sleep(seconds: float) -> None:
    """A sleep that records nothing and waits for nothing."""
