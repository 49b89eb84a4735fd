"""Fake players: a crowd that sees only its DMs and acts only through the mock.

Why players follow the event stream: a real player learns everything from the messages in
their DM with the bot (the searching message, "Match #N found", the details with
[Confirm] / [Abort], the result select, the final result) and acts by clicking what they
see. The simulator does exactly that and nothing more. It subscribes to the mock's
``/_mock/events`` WebSocket (``message_created`` / ``message_updated`` carry the content
and the components with their custom_ids and disabled flags), keeps each player's view of
their own DM channel, and clicks through ``POST /_mock/users/{id}/components``. It never
reads the bot's state, so a bot bug that leaves a player without a message shows up as a
player stuck in the state they last *saw*.

A player's state, as they see it:

- ``idle``: not queued, no open match (also after a match ended, whatever the ending);
- ``queueing``: their searching message is showing;
- ``in_match``: they saw "Match #N found" or the details of match N, and not yet its end.

Reactions (each player's traits from `sandbox.behaviour`): on the details of a new match,
after their confirm delay, they press [Confirm] (or [Abort] if they are an aborter, or
nothing if they never confirm); once the match is confirmed, an uploader runs ``/replay``;
a player told by the operator how the game went (`complete` / `conflict`) reports through
the result select as soon as it is enabled. A disconnected player does nothing until their
match ends.

If the stream reports dropped events, every player's view is rebuilt from their DM
(``GET /_mock/users/{id}/dm``): the same messages a person would scroll back through.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from sandbox.behaviour import Behaviour, Profile, draw_profile
from sandbox.control import ControlError, MockControl

__all__ = [
    "ACTED",
    "Crowd",
    "Player",
    "flatten_components",
    "parse_headline",
    "queue_options",
]

_log = logging.getLogger("sandbox.players")

IDLE = "idle"
QUEUEING = "queueing"
IN_MATCH = "in_match"
ACTED = ("responded", "deferred")
"""Interaction outcomes that mean the bot answered in time."""

_PHASE1 = re.compile(r"^\*\*Match #(\d+) found\*\*")
_DETAILS = re.compile(r"^Match #(\d+) — (found|confirmed|completed|aborted|conflict)\b")
_SEARCHING = "**Searching for a match"
_LEFT = ("You left the queue", "You are no longer in the queue")
_COUNTRIES = ("DE", "FR", "KR", "US", "SE", "PL", "BR", "GB", "NL", "CA")
_START_MMR = 1500
_CONCURRENCY = 32


def parse_headline(content: str) -> tuple[str, int | None, str | None]:
    """What a message means to a player: (kind, match id, match state).

    kinds: ``phase1`` ("Match #N found"), ``details`` (the match message in some state),
    ``searching``, ``left`` (removed from the queue), ``other``.
    """
    if m := _PHASE1.match(content):
        return "phase1", int(m[1]), None
    if m := _DETAILS.match(content):
        return "details", int(m[1]), m[2]
    if content.startswith(_SEARCHING):
        return "searching", None, None
    if content.startswith(_LEFT):
        return "left", None, None
    return "other", None, None


def queue_options(player: Player) -> dict[str, Any]:
    """The ``/queue`` options a player picks: their races and map vetoes."""
    profile = player.profile
    options: dict[str, Any] = {}
    if profile.bw_race:
        options["bw_race"] = profile.bw_race
    if profile.sc2_race:
        options["sc2_race"] = profile.sc2_race
    for i, veto in enumerate(profile.vetoes, start=1):
        options[f"veto{i}"] = veto
    return options


def flatten_components(components: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Action rows flattened to their interactive components (custom_id, disabled)."""
    found: list[dict[str, Any]] = []
    stack = list(components)[::-1]
    while stack:
        item = stack.pop()
        if not isinstance(item, Mapping):
            continue
        if item.get("custom_id"):
            found.append({"custom_id": item["custom_id"], "disabled": bool(item.get("disabled"))})
        stack.extend(list(item.get("components") or [])[::-1])
    return found


@dataclass
class Player:
    """One fake player and what they believe, from their own DM only."""

    id: str
    name: str
    profile: Profile
    channel_id: str | None = None
    state: str = IDLE
    match_id: int | None = None
    match_state: str | None = None
    details_id: str | None = None
    searching_id: str | None = None
    enabled: dict[str, bool] = field(default_factory=dict)
    active: bool = True
    plan: str | None = None
    acted: set[str] = field(default_factory=set)
    replay_sent: bool = False
    phase1_seen: bool = False
    details_seen: bool = False
    matched_at: float | None = None
    ended: set[int] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    results: Counter[str] = field(default_factory=Counter)

    @property
    def traits(self) -> Any:
        return self.profile.traits

    def enter_match(self, match_id: int, now: float) -> None:
        self.state = IN_MATCH
        self.match_id = match_id
        self.match_state = "found"
        self.details_id = None
        self.enabled = {}
        self.plan = None
        self.acted = set()
        self.replay_sent = False
        self.phase1_seen = False
        self.details_seen = False
        self.matched_at = now

    def end_match(self, match_id: int, how: str) -> None:
        if match_id in self.ended:
            return  # the same ending shown again (the click's update, then the notice)
        self.ended.add(match_id)
        if self.match_id == match_id:
            self.state = IDLE
            self.match_state = how
            self.enabled = {}
            self.plan = None
            self.active = True  # a disconnected player is back once their match is over
            self.results[how] += 1

    def button(self, action: str) -> str | None:
        """The custom_id of an enabled match control (confirm / abort / report)."""
        if self.match_id is None:
            return None
        custom_id = f"match:{self.match_id}:{action}"
        return custom_id if self.enabled.get(custom_id) else None

    def view(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "name": self.name,
            "match_id": self.match_id,
            "match_state": self.match_state,
            "active": self.active,
            "dms_closed": self.traits.dms_closed,
            "races": list(self.profile.races),
            "ratings": dict(self.profile.ratings),
            "vetoes": list(self.profile.vetoes),
            "traits": self.traits.to_json(),
            "results": dict(self.results),
            "phase1_seen": self.phase1_seen,
            "details_seen": self.details_seen,
        }


class Crowd:
    """All fake players of one stack, following the mock's event stream.

    ``admin_id`` is the user whose ``/admin`` commands seed ratings. ``maps`` and
    ``regions`` are the choices the bot's commands offer (players pick vetoes and a region
    from them). ``seed`` makes the crowd and every operator choice reproducible.
    """

    def __init__(
        self,
        control: MockControl,
        *,
        admin_id: str,
        seed: int | None = None,
        maps: Sequence[str] = (),
        regions: Sequence[str] = (),
        max_vetoes: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.control = control
        self.admin_id = admin_id
        self.rng = random.Random(seed)
        self.maps = tuple(maps)
        self.regions = tuple(regions)
        self.max_vetoes = max_vetoes
        self.clock = clock
        self.players: dict[str, Player] = {}
        self._by_channel: dict[str, Player] = {}
        self.outcomes: Counter[str] = Counter()
        self.errors: list[str] = []
        self.events_seen = 0
        self.dropped = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._waiters: dict[str, asyncio.Event] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._resync: asyncio.Task[None] | None = None
        self._sem = asyncio.Semaphore(_CONCURRENCY)
        self._spawned = 0
        self.paused = False
        self._deferred_players: dict[str, Player] = {}
        self._deferred_clicks: list[tuple[Player, int | None, str, list[str] | None]] = []

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the event stream (before any player exists, so nothing is missed)."""
        url = self.control.events_url(("message_created", "message_updated"))
        self._ws = await self.control.session.ws_connect(url, heartbeat=None)
        hello = await self._ws.receive(timeout=10.0)
        if hello.type != aiohttp.WSMsgType.TEXT:
            raise ControlError("GET /_mock/events", None, f"no hello ({hello.type.name})")
        self._reader = asyncio.create_task(self._read(), name="crowd-events")

    async def close(self) -> None:
        tasks = [t for t in (self._reader, self._resync, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            try:
                self._on_event(json.loads(message.data))
            except Exception as error:  # a bad event must not kill the crowd
                self._error(f"event handling failed: {error!r}")
        _log.info("event=crowd_stream_closed")

    def _error(self, text: str) -> None:
        if len(self.errors) < 100:
            self.errors.append(text)
        _log.warning("event=crowd_error detail=%r", text)

    # -- seeing -----------------------------------------------------------------------------

    def _on_event(self, event: Mapping[str, Any]) -> None:
        self.events_seen += 1
        kind = event.get("type")
        if kind == "dropped":
            self.dropped += int(event.get("count") or 0)
            if self._resync is None or self._resync.done():
                self._resync = asyncio.create_task(self.resync(), name="crowd-resync")
            return
        player = self._by_channel.get(str(event.get("channel_id")))
        if player is None:
            return
        self.see(
            player,
            str(event.get("message_id")),
            str(event.get("summary") or ""),
            event.get("components") or [],
        )

    def see(
        self,
        player: Player,
        message_id: str,
        content: str,
        components: Sequence[Mapping[str, Any]],
    ) -> None:
        """A player looks at one (new or edited) message and reacts like a person."""
        player.seen.add(message_id)
        kind, match_id, match_state = parse_headline(content)
        now = self.clock()
        if kind == "phase1" and match_id is not None:
            if match_id not in player.ended:
                if player.match_id != match_id or player.state != IN_MATCH:
                    player.enter_match(match_id, now)
                player.phase1_seen = True
        elif kind == "details" and match_id is not None and match_state is not None:
            if match_state in ("completed", "aborted", "conflict"):
                if player.match_id == match_id and player.state == IN_MATCH:
                    player.details_seen = True
                player.end_match(match_id, match_state)
            elif match_id not in player.ended:
                if player.match_id != match_id or player.state != IN_MATCH:
                    player.enter_match(match_id, now)
                player.details_id = message_id
                player.details_seen = True
                player.match_state = match_state
                player.enabled = {
                    c["custom_id"]: not c.get("disabled") for c in components if c.get("custom_id")
                }
                self._react(player)
        elif kind == "searching":
            if player.state != IN_MATCH:
                player.state = QUEUEING
                player.searching_id = message_id
        elif kind == "left" and player.state == QUEUEING:
            player.state = IDLE
        waiter = self._waiters.pop(message_id, None)
        if waiter is not None:
            waiter.set()

    async def resync(self) -> None:
        """Rebuild every view from the DMs (after the stream dropped events)."""

        async def one(player: Player) -> None:
            async with self._sem:
                dm = await self.control.dm(player.id)
            for message in dm.get("messages", []):
                self.see(
                    player,
                    str(message["id"]),
                    str(message.get("content") or ""),
                    flatten_components(message.get("components") or []),
                )

        await asyncio.gather(*(one(p) for p in list(self.players.values())))

    async def _wait_seen(self, player: Player, message_id: str, within: float = 5.0) -> bool:
        if message_id in player.seen:
            return True
        event = self._waiters.setdefault(message_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), within)
        except TimeoutError:
            return message_id in player.seen
        return True

    # -- acting -----------------------------------------------------------------------------

    def _spawn_task(self, coro: Awaitable[Any], name: str) -> None:
        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._error(f"{name}: {error}")

        task = asyncio.create_task(run(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _record(self, result: Mapping[str, Any]) -> bool:
        outcome = str(result.get("outcome"))
        self.outcomes[outcome] += 1
        return outcome in ACTED

    async def command(
        self, user_id: str, name: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        async with self._sem:
            result = await self.control.run_command(user_id, name, options)
        self._record(result)
        return result

    async def _click(self, player: Player, custom_id: str, values: list[str] | None = None) -> bool:
        if player.details_id is None:
            return False
        async with self._sem:
            result = await self.control.click(player.id, player.details_id, custom_id, values)
        return self._record(result)

    def _react(self, player: Player) -> None:
        if not player.active:
            return
        if self.paused:  # looked at, not acted on: `resume` reacts to it
            self._deferred_players[player.id] = player
            return
        if player.match_state == "found" and not player.acted & {"confirm", "abort"}:
            traits = player.traits
            abort = player.button("abort")
            confirm = player.button("confirm")
            if traits.aborts and abort:
                player.acted.add("abort")
                self._later(player, traits.confirm_delay, abort)
            elif traits.confirms and confirm:
                player.acted.add("confirm")
                self._later(player, traits.confirm_delay, confirm)
        elif player.match_state == "confirmed":
            report = player.button("report")
            if player.plan is not None and report and "report" not in player.acted:
                player.acted.add("report")
                self._later(player, 0.0, report, [player.plan])
            if player.traits.uploads_replay and not player.replay_sent:
                player.replay_sent = True
                self._spawn_task(self._upload(player), f"replay-{player.id}")

    def _later(
        self, player: Player, delay: float, custom_id: str, values: list[str] | None = None
    ) -> None:
        match_id = player.match_id

        async def act() -> None:
            if delay > 0:
                await asyncio.sleep(delay)
            if self.paused:  # due while paused: clicked on `resume`
                self._deferred_clicks.append((player, match_id, custom_id, values))
                return
            await self._click_if_valid(player, match_id, custom_id, values)

        self._spawn_task(act(), f"click-{player.id}-{custom_id}")

    async def _click_if_valid(
        self, player: Player, match_id: int | None, custom_id: str, values: list[str] | None
    ) -> bool:
        """Click only if the player still sees that control enabled on that match."""
        if not player.active or player.match_id != match_id or player.state != IN_MATCH:
            return False
        if not player.enabled.get(custom_id):
            return False
        return await self._click(player, custom_id, values)

    # -- pausing ------------------------------------------------------------------------------

    def pause(self) -> None:
        """Players keep seeing their DMs but stop acting: a reaction or a click that falls
        due is kept, not lost, until `resume`."""
        self.paused = True

    def resume(self) -> int:
        """Carry out what fell due while paused (clicks whose delay passed are sent now, if
        the control is still there; players who saw something react to it); returns how
        many deferred reactions and clicks there were."""
        self.paused = False
        clicks, self._deferred_clicks = self._deferred_clicks, []
        players, self._deferred_players = self._deferred_players, {}
        for player, match_id, custom_id, values in clicks:
            self._spawn_task(
                self._click_if_valid(player, match_id, custom_id, values),
                f"click-{player.id}-{custom_id}",
            )
        for player in players.values():
            self._react(player)
        return len(clicks) + len(players)

    async def _upload(self, player: Player) -> bool:
        body = self.rng.randbytes(64)
        attachment = {
            "filename": f"match{player.match_id}-{player.name}.rep",
            "content_b64": base64.b64encode(body).decode("ascii"),
        }
        result = await self.command(player.id, "replay", {"file": attachment})
        return str(result.get("outcome")) in ACTED

    # -- spawning ---------------------------------------------------------------------------

    async def spawn(
        self,
        count: int,
        *,
        rating_mean: float = 1500.0,
        rating_sd: float = 300.0,
        races: str = "mix",
        behaviour: Mapping[str, Any] | Behaviour | None = None,
    ) -> list[str]:
        """Create ``count`` players on the mock, register them with the bot (``/setup``) and
        seed their ratings through ``/admin adjust_mmr``, as an admin would."""
        if count < 1:
            raise ValueError(f"spawn needs a positive count, got {count}")
        if not isinstance(behaviour, Behaviour):
            behaviour = Behaviour.from_mapping(behaviour)
        profiles = [
            draw_profile(
                self.rng,
                behaviour,
                rating_mean=rating_mean,
                rating_sd=rating_sd,
                races=races,
                maps=self.maps,
                regions=self.regions,
                max_vetoes=self.max_vetoes,
            )
            for _ in range(count)
        ]
        countries = [self.rng.choice(_COUNTRIES) for _ in range(count)]
        self._spawned += 1
        ids = await self.control.create_users(count=count, prefix=f"p{self._spawned}-")
        players = [
            Player(uid, f"p{self._spawned}-{i + 1}", profile)
            for i, (uid, profile) in enumerate(zip(ids, profiles, strict=True))
        ]
        await asyncio.gather(
            *(self._register(p, country) for p, country in zip(players, countries, strict=True))
        )
        return ids

    async def _register(self, player: Player, country: str) -> None:
        options: dict[str, Any] = {"country": country}
        if player.profile.region is not None:
            options["region"] = player.profile.region
        result = await self.command(player.id, "setup", options)
        if str(result.get("outcome")) not in ACTED:
            raise ControlError("/setup", None, f"player {player.id}: {result.get('outcome')}")
        async with self._sem:
            dm = await self.control.dm(player.id)
        if dm.get("channel_id"):
            player.channel_id = str(dm["channel_id"])
            self._by_channel[player.channel_id] = player
        self.players[player.id] = player
        for race, rating in player.profile.ratings.items():
            if rating != _START_MMR:
                await self.admin(
                    "adjust_mmr", {"user": player.id, "race": race, "delta": rating - _START_MMR}
                )
        if player.traits.dms_closed:
            async with self._sem:
                await self.control.set_dms_closed(player.id, True)

    async def admin(self, sub: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run ``/admin <sub>`` as the admin user; raises if the bot did not answer."""
        result = await self.command(self.admin_id, f"admin {sub}", options)
        if str(result.get("outcome")) not in ACTED:
            raise ControlError(
                f"/admin {sub}", result.get("http_status"), str(result.get("detail") or result)
            )
        return result

    # -- operator actions -------------------------------------------------------------------

    def in_state(self, state: str) -> list[Player]:
        return [p for p in self.players.values() if p.state == state]

    def matches(self) -> dict[int, list[Player]]:
        """Open matches as the players see them: match id -> its players in the crowd."""
        found: dict[int, list[Player]] = {}
        for player in self.players.values():
            if player.state == IN_MATCH and player.match_id is not None:
                found.setdefault(player.match_id, []).append(player)
        return dict(sorted(found.items()))

    async def queue(self, n: int | None = None) -> int:
        """``n`` idle players (all with None) run ``/queue``; returns how many now queue."""
        idle = self.in_state(IDLE)
        chosen = idle if n is None else idle[:n]

        async def one(player: Player) -> bool:
            result = await self.command(player.id, "queue", queue_options(player))
            message_id = result.get("message_id")
            if str(result.get("outcome")) not in ACTED or not message_id:
                return False
            await self._wait_seen(player, str(message_id))
            return player.state == QUEUEING

        done = await asyncio.gather(*(one(p) for p in chosen))
        return sum(done)

    def _will_confirm(self, player: Player) -> bool:
        if player.match_state == "confirmed" or "confirm" in player.acted:
            return True
        return bool(player.traits.confirms and not player.traits.aborts)

    def _selected(self, match_ids: Iterable[int | str] | None) -> dict[int, list[Player]]:
        """Open matches, only those in ``match_ids`` when given (ids as ints or strings)."""
        found = self.matches()
        if match_ids is None:
            return found
        wanted = {int(m) for m in match_ids}
        return {m: players for m, players in found.items() if m in wanted}

    def _plan(self, n: int | None, agree: bool, match_ids: Iterable[int | str] | None) -> int:
        eligible = [
            players
            for players in self._selected(match_ids).values()
            if len(players) == 2
            and all(p.active and p.plan is None and self._will_confirm(p) for p in players)
        ]
        chosen = eligible if n is None else eligible[:n]
        for players in chosen:
            winner = self.rng.randrange(2)
            for i, player in enumerate(players):
                claim = "win" if (i == winner or not agree) else "loss"
                if player.traits.wrong_result:
                    claim = {"win": "loss", "loss": "win"}[claim]
                player.plan = claim
                self._react(player)
        return len(chosen)

    async def complete(
        self, n: int | None = None, *, match_ids: Iterable[int | str] | None = None
    ) -> int:
        """Both players of ``n`` matches (all with None; only among ``match_ids`` when
        given) will report an agreeing result (unless one of them is a wrong-result
        reporter); they report once the match is confirmed. Returns how many matches were
        told."""
        return self._plan(n, agree=True, match_ids=match_ids)

    async def conflict(self, n: int | None = None) -> int:
        """Both players of ``n`` matches will claim the win."""
        return self._plan(n, agree=False, match_ids=None)

    async def abort(
        self, n: int | None = None, *, match_ids: Iterable[int | str] | None = None
    ) -> int:
        """One player of ``n`` matches (all with None; only among ``match_ids`` when given)
        presses [Abort] now."""
        targets: list[tuple[Player, str]] = []
        for players in self._selected(match_ids).values():
            able = [
                (p, b)
                for p in players
                if p.active and "abort" not in p.acted and (b := p.button("abort"))
            ]
            if able:
                targets.append(able[self.rng.randrange(len(able))])
        chosen = targets if n is None else targets[:n]
        for player, _ in chosen:
            player.acted.add("abort")
        done = await asyncio.gather(*(self._click(p, b) for p, b in chosen))
        return sum(done)

    async def disconnect(self) -> int:
        """Every player in a match stops acting (until that match ends)."""
        players = self.in_state(IN_MATCH)
        for player in players:
            player.active = False
        return len(players)

    async def replays(self, n: int | None = None) -> int:
        """``n`` players in a match (all with None) upload a small replay with ``/replay``."""
        players = [p for p in self.in_state(IN_MATCH) if p.active]
        chosen = players if n is None else players[:n]
        for player in chosen:
            player.replay_sent = True
        done = await asyncio.gather(*(self._upload(p) for p in chosen))
        return sum(done)

    async def leaderboard_spam(self, n: int) -> int:
        """``n`` players (cycling through the crowd) run ``/leaderboard`` at once."""
        players = list(self.players.values())
        if not players:
            return 0
        chosen = [players[i % len(players)] for i in range(n)]
        results = await asyncio.gather(*(self.command(p.id, "leaderboard") for p in chosen))
        return sum(str(r.get("outcome")) in ACTED for r in results)

    async def dms(self) -> dict[str, list[dict[str, Any]]]:
        """Every player's DM as the mock shows it to them."""

        async def one(player: Player) -> tuple[str, list[dict[str, Any]]]:
            async with self._sem:
                dm = await self.control.dm(player.id)
            return player.id, list(dm.get("messages", []))

        return dict(await asyncio.gather(*(one(p) for p in self.players.values())))

    def views(self) -> dict[str, dict[str, Any]]:
        return {pid: p.view() for pid, p in self.players.items()}

    @property
    def pending_actions(self) -> int:
        return len(self._tasks)
