"""A fake core for the TUI tests: a small, deterministic model of players, matches and waves.

It implements the Operator API (notes/SANDBOX_API.md) over plain dicts, so a Pilot test can
press a key and then assert what the core was asked to do *and* what state it is in, and
the snapshot tests can render fixed, recorded figures. `scene()` builds the three states the
snapshots show: idle, a wave in flight, and the aftermath of a naive wave that hit 429s.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sandbox.snapshot import Snapshot
from sandbox.tui.backend import Backend, replay_source

APP = "1176000000000000001"
WALL0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


class FakeOperator:
    """Records every call; keeps players, matches and waves the way the real core reports."""

    def __init__(self, *, limit: int = 50, wall: float = WALL0) -> None:
        self.calls: list[tuple[str, Any]] = []  # every Operator call but snapshot()
        self.snapshots = 0
        self.limit = limit
        self.wall = wall
        self.players: dict[str, dict[str, Any]] = {}
        self.users = 0
        self.strategy = "paced"
        self.config: dict[str, Any] = {}
        self.paused = False
        self.current: list[dict[str, Any]] = []
        self.recent: list[dict[str, Any]] = []
        self.stats: dict[str, Any] = {
            "requests": 0,
            "rate_limited": {"global": 0, "user": 0, "shared": 0, "ban": 0},
            "invalid_requests": 0,
            "bans": 0,
            "applications": {APP: {"counted": 0, "exempt": 0, "peak_1s": 0, "global_limit": limit}},
        }
        self.gate: asyncio.Event | None = None  # set: calls wait for it (slow core)
        self.fail: set[str] = set()
        self.errors: dict[str, Exception] = {}  # name -> what that call raises
        self.bot_up = True  # False while restart_bot() runs: the bot answers no /status
        self._match = 0
        self._wave = 0

    async def _call(self, name: str, args: Any) -> None:
        self.calls.append((name, args))
        if self.gate is not None:
            await self.gate.wait()
        if name in self.fail:
            raise RuntimeError(f"{name} refused by the fake core")
        if name in self.errors:
            raise self.errors[name]

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    # -- the Operator API ------------------------------------------------------------------

    async def spawn(self, count: int, **options: Any) -> list[str]:
        await self._call("spawn", (count, options))
        ids = []
        for _ in range(count):
            self.users += 1
            pid = str(1000 + self.users)
            self.players[pid] = {"name": f"player{self.users}", "state": "idle"}
            ids.append(pid)
        return ids

    async def queue(self, n: int | None = None) -> int:
        await self._call("queue", n)
        idle = [p for p in self.players.values() if p["state"] == "idle"]
        for p in idle[: n if n is not None else len(idle)]:
            p["state"] = "queueing"
        return len(idle[: n if n is not None else len(idle)])

    async def wave(self) -> None:
        await self._call("wave", None)
        queued = [pid for pid, p in self.players.items() if p["state"] == "queueing"]
        self._wave += 1
        pairs = [queued[i : i + 2] for i in range(0, len(queued) - 1, 2)]
        for pair in pairs:
            self._match += 1
            for pid in pair:
                self.players[pid].update(
                    state="in_match",
                    match_id=self._match,
                    match_state="confirming",
                    matched_at=self.wall,
                )
        players = 2 * len(pairs)
        self.current = [
            wave_record(
                self._wave,
                len(pairs),
                self.strategy,
                p1=players // 2,
                p2=players // 4,
                started_at=self.wall - 1.0,
                limit=self.limit,
            )
        ]
        app = self.stats["applications"][APP]
        app["counted"] += players // 4
        app["exempt"] += players // 2
        app["peak_1s"] = max(app["peak_1s"], min(self.limit, players // 4))

    def _open_matches(self) -> list[int]:
        return sorted({p["match_id"] for p in self.players.values() if "match_id" in p})

    def _end(self, match_ids: list[int], state: str) -> int:
        for p in self.players.values():
            if p.get("match_id") in match_ids:
                p.clear()
                p.update(state="idle")
        return len(match_ids)

    def _chosen(self, n: int | None, match_ids: Any) -> list[int]:
        open_ = self._open_matches()
        if match_ids is not None:
            open_ = [m for m in open_ if m in {int(i) for i in match_ids}]
        return open_[:n]

    async def complete(self, n: int | None = None, *, match_ids: Any = None) -> int:
        if match_ids is None:
            await self._call("complete", n)
        else:
            await self._call("complete_match", list(match_ids))
        return self._end(self._chosen(n, match_ids), "done")

    async def conflict(self, n: int | None = None) -> int:
        await self._call("conflict", n)
        return len(self._open_matches()[:n])

    async def abort(self, n: int | None = None, *, match_ids: Any = None) -> int:
        if match_ids is None:
            await self._call("abort", n)
        else:
            await self._call("abort_match", list(match_ids))
        return self._end(self._chosen(n, match_ids), "aborted")

    async def disconnect(self) -> int:
        await self._call("disconnect", None)
        return sum(1 for p in self.players.values() if "match_id" in p)

    async def replays(self, n: int | None = None) -> int:
        await self._call("replays", n)
        return len(self._open_matches()[:n])

    async def leaderboard_spam(self, n: int) -> int:
        await self._call("leaderboard_spam", n)
        return n

    async def announce(self, text: str) -> None:
        await self._call("announce", text)

    async def set_strategy(self, name: str) -> None:
        await self._call("set_strategy", name)
        self.strategy = name

    async def configure_mock(self, **changes: Any) -> None:
        await self._call("configure_mock", changes)
        self.config.update(changes)
        if "global_limit" in changes:
            self.limit = changes["global_limit"]
            self.stats["applications"][APP]["global_limit"] = self.limit

    async def expire_tokens(self) -> None:
        await self._call("expire_tokens", None)

    async def restart_bot(self, *, kill: bool = True) -> None:
        self.bot_up = False  # stopped first; up again only if the restart succeeds
        await self._call("restart_bot", kill)
        self.bot_up = True

    async def wait_until(self, condition: str, timeout: float) -> bool:  # noqa: ASYNC109
        await self._call("wait_until", (condition, timeout))
        return True

    async def pause_players(self) -> None:
        await self._call("pause_players", None)
        self.paused = True

    async def resume_players(self) -> int:
        await self._call("resume_players", None)
        self.paused = False
        return 0

    async def reset(self) -> None:
        await self._call("reset", None)
        self.players.clear()
        self.current, self.recent = [], []

    async def snapshot(self) -> Snapshot:
        self.snapshots += 1
        queued = sum(1 for p in self.players.values() if p["state"] == "queueing")
        return Snapshot(
            mock_stats=self.stats,
            ledger=[],
            bot_status={
                "queue": {"total": queued},
                "open_matches": len(self._open_matches()),
                "dispatch": {
                    "strategy": self.strategy,
                    "current_waves": self.current,
                    "recent_waves": self.recent,
                    "outbox": {"pending": 0},
                },
            }
            if self.bot_up
            else {},  # what the real core's snapshot shows when GET /status has no answer
            players={k: dict(v) for k, v in self.players.items()},
            application_id=APP,
        )


def wave_record(
    wave_id: int,
    matches: int,
    strategy: str,
    *,
    p1: int,
    p2: int,
    started_at: float,
    limit: int = 50,
    done: bool = False,
    makespan: float | None = None,
    rate_limited: dict[str, int] | None = None,
    spread: float = 0.05,
) -> dict[str, Any]:
    """One wave as `WaveMetrics.to_dict()` (bot/notify/metrics.py) shows it."""
    players = 2 * matches
    counted = players
    bound = float(max(0, -(-counted // limit) - 1))
    return {
        "wave_id": wave_id,
        "strategy": strategy,
        "state": "done" if done else ("phase2" if p1 >= players else "phase1"),
        "matches": matches,
        "players": players,
        "started_at": started_at,
        "phase1": {
            "items": players,
            "delivered": p1,
            "failed": 0,
            "first": 0.02 if p1 else None,
            "last": 0.02 + spread if p1 else None,
        },
        "phase2": {
            "items": players,
            "delivered": p2,
            "failed": 0,
            "first": 0.1 if p2 else None,
            "last": makespan,
        },
        "calls_counted": counted,
        "calls_exempt": players,
        "needed_counted": counted,
        "rate_limited": rate_limited or {},
        "lower_bound": bound,
        "makespan": makespan,
        "ratio": round(makespan / bound, 4) if makespan and bound else None,
        "global_limit": limit,
    }


def tick(
    n: int,
    counted_1s: int,
    exempt_1s: int = 0,
    *,
    limited: dict[str, int] | None = None,
    buckets: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    limited = limited or {}
    return {
        "type": "tick",
        "seq": n,
        "t": WALL0 - 60 + n * 0.25,
        "tick": n,
        "interval_s": 0.25,
        "applications": {
            APP: {
                "counted": counted_1s // 4,
                "exempt": exempt_1s // 4,
                "requests": (counted_1s + exempt_1s) // 4,
                "rate_limited": sum(limited.values()),
                "last_1s": {
                    "counted": counted_1s,
                    "exempt": exempt_1s,
                    "requests": counted_1s + exempt_1s,
                    "rate_limited": sum(limited.values()),
                },
            }
        },
        "rate_limited": limited,
        "rate_limited_1s": limited,
        "hot_buckets": buckets or [],
        "subscribers": 1,
    }


def hot_buckets(count: int, *, limited: int = 0, route: str = "POST /channels/{id}/messages"):
    return [
        {
            "key": f"{APP}:create:{9000 + i}",
            "route": route,
            "limit": 5,
            "remaining": max(0, 4 - (i % 5)),
            "reset_after": round(4.8 - i * 0.3, 2),
            "rate_limited": limited if i < 3 else 0,
        }
        for i in range(count)
    ]


# -- scenes for the snapshot tests -----------------------------------------------------------


def _hello() -> dict[str, Any]:
    return {
        "type": "hello",
        "seq": 0,
        "t": WALL0 - 61,
        "tick_interval_s": 0.25,
        "max_queue": 4096,
        "types": None,
        "channels": None,
    }


def _ramp(seconds: list[int], exempt: list[int] | None = None, **last: Any) -> list[dict]:
    """Ticks for consecutive seconds, four per second, the last tick of each carrying the
    second's count; `last` goes to the final tick (429s, buckets)."""
    events = []
    exempt = exempt or [0] * len(seconds)
    n = 0
    for i, (c, e) in enumerate(zip(seconds, exempt, strict=True)):
        for q in range(4):
            final = i == len(seconds) - 1 and q == 3
            events.append(tick(n, c, e, **(last if final else {})))
            n += 1
    return events


def scene(name: str) -> tuple[FakeOperator, list[dict[str, Any]]]:
    """(operator, recorded events) for "idle", "wave" or "naive"."""
    op = FakeOperator()
    events: list[dict[str, Any]] = [_hello()]
    app = op.stats["applications"][APP]
    if name == "idle":
        op.users = 0
        events += _ramp([0] * 60)
        return op, events
    # 200 players spawned; 100 matches in the wave
    for i in range(200):
        op.players[str(1001 + i)] = {"name": f"player{i + 1}", "state": "idle"}
    op.users = 200
    if name == "wave":
        for i in range(200):
            p = op.players[str(1001 + i)]
            if i < 160:
                p.update(
                    state="in_match",
                    match_id=i // 2 + 1,
                    match_state="confirming",
                    matched_at=WALL0 - 2.5,
                )
            else:
                p["state"] = "queueing"
        op.current = [wave_record(1, 80, "paced", p1=160, p2=96, started_at=WALL0 - 2.4)]
        quiet = [0, 0, 1, 0, 0, 2, 0, 0, 0, 1] * 5 + [0] * 7
        events += _ramp([*quiet, 48, 47, 46], [0] * 57 + [160, 0, 0], buckets=hot_buckets(10))
        app.update(counted=96, exempt=200, peak_1s=48)
        op.stats["requests"] = 296
        return op, events
    if name == "naive":
        op.strategy = "naive"
        for i in range(200):
            op.players[str(1001 + i)]["state"] = "idle" if i < 150 else "queueing"
        op.recent = [
            wave_record(
                2,
                100,
                "naive",
                p1=200,
                p2=200,
                started_at=WALL0 - 20.0,
                done=True,
                makespan=6.91,
                rate_limited={"global": 143, "user": 12},
                spread=0.41,
            ),
            wave_record(
                1,
                100,
                "paced",
                p1=200,
                p2=200,
                started_at=WALL0 - 60.0,
                done=True,
                makespan=3.12,
                spread=0.03,
            ),
        ]
        paced = [0] * 10 + [50, 50, 50, 50, 2] + [0] * 21
        naive = [200, 61, 50, 50, 50, 39] + [0] * 14
        rl = {"global": 143, "user": 12, "shared": 0, "ban": 0}
        events += _ramp(paced + naive, buckets=hot_buckets(8, limited=4), limited={"global": 3})
        for k, v in rl.items():
            op.stats["rate_limited"][k] = v
        op.stats["invalid_requests"] = 155
        app.update(counted=600, exempt=400, peak_1s=200)
        events += [
            {
                "type": "rate_limited",
                "seq": 900 + i,
                "t": WALL0 - 19.5 + i * 0.01,
                "method": "POST",
                "route": "/channels/{channel_id}/messages",
                "scope": "global",
                "bucket": None,
                "retry_after": 0.73 - i * 0.01,
                "application_id": APP,
            }
            for i in range(3)
        ]
        events.append(
            {
                "type": "message_updated",
                "seq": 950,
                "t": WALL0 - 5,
                "channel_id": "42",
                "message_id": "43",
                "author_id": APP,
                "summary": "[embed] Match #7 aborted",
                "components": [],
            }
        )
        return op, events
    raise ValueError(name)


def backend_for(op: FakeOperator, events: list[dict[str, Any]] | None = None) -> Backend:
    return Backend(op, events=replay_source(events) if events is not None else None, label="fake")
