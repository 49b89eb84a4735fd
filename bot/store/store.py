"""The bot's durable state in SQLite, and the outbox that makes notifications exactly-once.

Why an outbox: a state change (a wave's matches, a confirmation, a result) and the messages
that announce it must never drift apart. If the bot wrote the match and then crashed before
sending, a player would never hear of it; if it sent first and crashed before writing, a
player would hear of a match that does not exist. So every method that changes state takes
the notifications the domain produced for that change and writes them in the *same*
transaction (`BEGIN IMMEDIATE ... COMMIT`, rolled back on any exception). The dispatcher
then reads pending items, delivers them (creates carry the deterministic `nonce` with
`enforce_nonce`, so a create retried after a crash is not duplicated by Discord), and marks
them delivered with the Discord message id. After a restart the same pending items are
simply read again.

Ordering: `pending()` lists items by (phase, id); `deliverable()` keeps only those whose
earlier items in the same story (same scope and player, lower `seq`) are settled, so an
edit never overtakes the create of the message it edits.

Concurrency: one connection per `Store`, used from one thread (the event loop's); SQLite in
WAL mode lets readers (e.g. the TUI) read while the bot writes. Match updates use
optimistic versions (`StaleMatch`), and `apply_wave` re-checks that every matched player is
still queued (`StaleWave`), so a wave computed off the loop cannot resurrect a player who
left meanwhile. All times are passed in (Unix seconds); the store never reads a clock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.ladder.admin import (
    adjusted_mmr,
    announcement_notifications,
    queue_removed_notifications,
)
from bot.ladder.config import LadderConfig
from bot.ladder.elo import Outcome
from bot.ladder.errors import NoAbortsLeft
from bot.ladder.leaderboard import RatingRow
from bot.ladder.match import (
    AbortUsed,
    EndReason,
    Match,
    MatchPlayer,
    MatchState,
    RatingChange,
    Report,
    Transition,
)
from bot.ladder.notifications import Action, Notification, NotificationKind, make_nonce
from bot.ladder.players import Candidate, Player, PlayerStatus, QueueRequest, check_can_queue
from bot.ladder.races import Race
from bot.ladder.waves import WaveResult
from bot.store.records import (
    InteractionRef,
    OutboxItem,
    QueueCounts,
    QueueRow,
    ReplayRecord,
    WaveRow,
)
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["StaleMatch", "StaleWave", "Store", "StoreError"]

_OPEN_STATES = (MatchState.FOUND.value, MatchState.CONFIRMED.value)


class StoreError(Exception):
    """The database cannot be used (bad file, newer schema, unknown record)."""


class StaleWave(StoreError):
    """A wave matched a player who is no longer queued; nothing was written."""


class StaleMatch(StoreError):
    """The match changed since it was read (a concurrent click); nothing was written."""


class Store:
    def __init__(self, path: str | Path, config: LadderConfig | None = None) -> None:
        self.config = config or LadderConfig()
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate(path)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(f"{path} is not a usable SQLite database: {exc}") from None
        except BaseException:
            self._db.close()
            raise

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self, path: str | Path) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row["value"]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path} has schema v{version}, newer than this bot's v{SCHEMA_VERSION}"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._tx() as db:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(target),),
                )

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database now (``PASSIVE``: never waits for a
        reader or writer; what cannot be copied yet is left for the next call).

        SQLite otherwise checkpoints inside whichever commit takes the log past 1,000 pages:
        often a wave's, the largest write, which the players are waiting on. Called at quiet
        moments (the service's sweep timer), that commit finds a short log instead."""
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- players and ratings --------------------------------------------------------------

    def ensure_player(self, player_id: int, name: str, now: float) -> Player:
        """The player's profile, created on their first command (name refreshed)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO players (id, name, remaining_aborts, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                (player_id, name, self.config.starting_aborts, now),
            )
        player = self.get_player(player_id)
        assert player is not None
        return player

    def get_player(self, player_id: int) -> Player | None:
        row = self._db.execute("SELECT * FROM players WHERE id = ?", (player_id,)).fetchone()
        return _player(row) if row else None

    def all_players(self) -> list[Player]:
        return [_player(r) for r in self._db.execute("SELECT * FROM players ORDER BY id")]

    def set_profile(self, player_id: int, country: str | None, region: str | None) -> Player:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE players SET country = ?, region = ? WHERE id = ?",
                (country, region, player_id),
            )
            _require(cur.rowcount == 1, f"unknown player {player_id}")
        player = self.get_player(player_id)
        assert player is not None
        return player

    def set_dm_channel(self, player_id: int, channel_id: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE players SET dm_channel_id = ? WHERE id = ?", (channel_id, player_id))

    def dm_channel(self, player_id: int) -> int | None:
        row = self._db.execute(
            "SELECT dm_channel_id FROM players WHERE id = ?", (player_id,)
        ).fetchone()
        return row["dm_channel_id"] if row else None

    def player_status(self, player_id: int) -> PlayerStatus:
        queued = (
            self._db.execute("SELECT 1 FROM queue WHERE player_id = ?", (player_id,)).fetchone()
            is not None
        )
        match = self._open_match_id(player_id)
        return PlayerStatus.derive(queued=queued, open_match_id=match)

    def ratings(self, player_id: int) -> dict[Race, RatingRow]:
        """The player's rated races (races never played are absent: they are start_mmr)."""
        rows = self._db.execute(
            "SELECT r.*, p.name, p.country, p.banned FROM ratings r"
            " JOIN players p ON p.id = r.player_id WHERE r.player_id = ?",
            (player_id,),
        )
        return {Race(r["race"]): _rating_row(r) for r in rows}

    def leaderboard_rows(self, race: Race | None = None) -> list[RatingRow]:
        """Rows for `bot.ladder.leaderboard_page` (which hides the unranked and banned)."""
        sql = (
            "SELECT r.*, p.name, p.country, p.banned FROM ratings r"
            " JOIN players p ON p.id = r.player_id WHERE r.games > 0"
        )
        args: tuple[Any, ...] = ()
        if race is not None:
            sql += " AND r.race = ?"
            args = (race.value,)
        return [_rating_row(r) for r in self._db.execute(sql, args)]

    # --- queue ----------------------------------------------------------------------------

    def enqueue(
        self, player_id: int, request: QueueRequest, interaction: InteractionRef, now: float
    ) -> QueueRow:
        """Queue an idle, unbanned player (raises `Banned`/`NotIdle` inside the transaction)."""
        with self._tx() as db:
            player = self.get_player(player_id)
            _require(player is not None, f"unknown player {player_id}")
            assert player is not None
            check_can_queue(player, self.player_status(player_id))
            db.execute(
                "INSERT INTO queue (player_id, bw_race, sc2_race, vetoes, queued_at,"
                " interaction_token, token_created_at, channel_id, message_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    player_id,
                    request.bw_race.value if request.bw_race else None,
                    request.sc2_race.value if request.sc2_race else None,
                    json.dumps(list(request.vetoes)),
                    now,
                    interaction.token,
                    interaction.created_at,
                    interaction.channel_id,
                    interaction.message_id,
                ),
            )
        row = self.queue_entry(player_id)
        assert row is not None
        return row

    def set_searching_message(self, player_id: int, channel_id: int, message_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE queue SET channel_id = ?, message_id = ? WHERE player_id = ?",
                (channel_id, message_id, player_id),
            )

    def leave_queue(self, player_id: int) -> bool:
        """`/leave` or [Leave queue]: True if the player was queued."""
        with self._tx() as db:
            return db.execute("DELETE FROM queue WHERE player_id = ?", (player_id,)).rowcount == 1

    def queue_entry(self, player_id: int) -> QueueRow | None:
        row = self._db.execute("SELECT * FROM queue WHERE player_id = ?", (player_id,)).fetchone()
        return _queue_row(row) if row else None

    def queue_rows(self) -> list[QueueRow]:
        return [_queue_row(r) for r in self._db.execute("SELECT * FROM queue ORDER BY id")]

    def queue_counts(self) -> QueueCounts:
        row = self._db.execute(
            "SELECT"
            " SUM(bw_race IS NOT NULL AND sc2_race IS NULL) AS bw,"
            " SUM(bw_race IS NULL AND sc2_race IS NOT NULL) AS sc2,"
            " SUM(bw_race IS NOT NULL AND sc2_race IS NOT NULL) AS both_games"
            " FROM queue"
        ).fetchone()
        return QueueCounts(row["bw"] or 0, row["sc2"] or 0, row["both_games"] or 0)

    def queued_candidates(self) -> list[Candidate]:
        """The queue as the matchmaker sees it: ratings joined (start_mmr when unplayed)."""
        start = self.config.start_mmr
        rows = self._db.execute(
            "SELECT q.*, p.region, p.remaining_aborts,"
            " COALESCE(rb.mmr, ?) AS bw_mmr, COALESCE(rs.mmr, ?) AS sc2_mmr"
            " FROM queue q JOIN players p ON p.id = q.player_id"
            " LEFT JOIN ratings rb ON rb.player_id = q.player_id AND rb.race = q.bw_race"
            " LEFT JOIN ratings rs ON rs.player_id = q.player_id AND rs.race = q.sc2_race"
            " ORDER BY q.id",
            (start, start),
        )
        return [
            Candidate(
                player_id=r["player_id"],
                bw_race=Race(r["bw_race"]) if r["bw_race"] else None,
                sc2_race=Race(r["sc2_race"]) if r["sc2_race"] else None,
                bw_mmr=r["bw_mmr"],
                sc2_mmr=r["sc2_mmr"],
                wait_cycles=r["wait_cycles"],
                queued_at=r["queued_at"],
                vetoes=tuple(json.loads(r["vetoes"])),
                region=r["region"],
                remaining_aborts=r["remaining_aborts"],
            )
            for r in rows
        ]

    # --- waves ----------------------------------------------------------------------------

    def next_ids(self) -> tuple[int, int]:
        """(next wave id, next match id) for `run_wave`. `apply_wave` inserts with these ids,
        so a second wave computed from the same ids fails as a whole (primary key)."""
        wave = self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM waves").fetchone()[0]
        match = self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM matches").fetchone()[0]
        return int(wave), int(match)

    def apply_wave(self, result: WaveResult, notifications: Sequence[Notification]) -> None:
        """One transaction: the wave row, its matches, the matched players' queue rows removed,
        the others' wait_cycles + 1, and the outbox. Raises `StaleWave` (nothing written) if
        a matched player is no longer queued."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO waves (id, started_at, queued, matches, skipped_no_map)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    result.wave_id,
                    result.started_at,
                    result.queued,
                    len(result.matches),
                    len(result.skipped_no_map),
                ),
            )
            # Set-wise, not row by row: a wave of hundreds of matches is written while the
            # players wait for "match found", so its cost is on the wave's critical path.
            queued = {r["player_id"]: _queue_row(r) for r in db.execute("SELECT * FROM queue")}
            searching: dict[int, QueueRow] = {}
            for match in result.matches:
                for pid in match.player_ids:
                    row = None if pid in searching else queued.get(pid)
                    if row is None:
                        raise StaleWave(f"player {pid} left the queue before wave {result.wave_id}")
                    searching[pid] = row
            db.executemany(_INSERT_MATCH, [_match_cols(m) for m in result.matches])
            db.executemany("DELETE FROM queue WHERE player_id = ?", [(pid,) for pid in searching])
            db.executemany(
                "UPDATE queue SET wait_cycles = wait_cycles + 1 WHERE player_id = ?",
                [(pid,) for pid in result.still_queued],
            )
            self._write_outbox(
                notifications, result.started_at, wave_id=result.wave_id, searching=searching
            )

    def record_wave_metrics(self, wave_id: int, metrics: dict[str, Any]) -> None:
        """Merge dispatcher figures (calls, 429s, retries...) into the wave's metrics."""
        with self._tx() as db:
            row = db.execute("SELECT metrics FROM waves WHERE id = ?", (wave_id,)).fetchone()
            _require(row is not None, f"unknown wave {wave_id}")
            merged = {**json.loads(row["metrics"]), **metrics}
            db.execute("UPDATE waves SET metrics = ? WHERE id = ?", (json.dumps(merged), wave_id))

    def wave(self, wave_id: int) -> WaveRow | None:
        row = self._db.execute("SELECT * FROM waves WHERE id = ?", (wave_id,)).fetchone()
        return _wave_row(row) if row else None

    def recent_waves(self, limit: int = 10) -> list[WaveRow]:
        rows = self._db.execute("SELECT * FROM waves ORDER BY id DESC LIMIT ?", (limit,))
        return [_wave_row(r) for r in rows]

    def wave_delivery(self, wave_id: int) -> dict[str, Any]:
        """Phase timings of a wave's notifications, from the outbox: per phase the count,
        delivered count, first and last delivery time."""
        rows = self._db.execute(
            "SELECT phase, COUNT(*) AS n, SUM(status = 'delivered') AS delivered,"
            " MIN(delivered_at) AS first, MAX(delivered_at) AS last"
            " FROM outbox WHERE wave_id = ? GROUP BY phase ORDER BY phase",
            (wave_id,),
        )
        return {
            f"phase{r['phase']}": {
                "notifications": r["n"],
                "delivered": r["delivered"] or 0,
                "first_delivery": r["first"],
                "last_delivery": r["last"],
            }
            for r in rows
        }

    # --- matches --------------------------------------------------------------------------

    def get_match(self, match_id: int) -> Match | None:
        row = self._db.execute("SELECT * FROM matches WHERE id = ?", (match_id,)).fetchone()
        return _match(row) if row else None

    def open_match_for(self, player_id: int) -> Match | None:
        match_id = self._open_match_id(player_id)
        return self.get_match(match_id) if match_id is not None else None

    def open_matches(self) -> list[Match]:
        rows = self._db.execute(
            "SELECT * FROM matches WHERE state IN (?, ?) ORDER BY id", _OPEN_STATES
        )
        return [_match(r) for r in rows]

    def open_match_count(self) -> int:
        """``len(open_matches())`` without building the matches (polled by GET /status)."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM matches WHERE state IN (?, ?)", _OPEN_STATES
        ).fetchone()
        return int(row[0])

    def due_matches(self, now: float) -> list[Match]:
        """Open matches whose deadline has passed: feed each to `bot.ladder.expire`."""
        rows = self._db.execute(
            "SELECT * FROM matches WHERE deadline IS NOT NULL AND deadline <= ?"
            " ORDER BY deadline, id",
            (now,),
        )
        return [_match(r) for r in rows]

    def next_deadline(self) -> float | None:
        """The earliest open deadline, for the app's timeout timer."""
        row = self._db.execute("SELECT MIN(deadline) FROM matches").fetchone()
        return row[0]

    def apply_transition(self, transition: Transition, now: float) -> None:
        """One transaction: the match (if still at the expected version), the effects on
        ratings and aborts, and the outbox. Raises `StaleMatch` or `NoAbortsLeft`."""
        with self._tx() as db:
            self._update_match(transition.match, transition.expected_version)
            for effect in transition.effects:
                if isinstance(effect, RatingChange):
                    self._apply_rating(effect)
                elif isinstance(effect, AbortUsed):
                    cur = db.execute(
                        "UPDATE players SET remaining_aborts = remaining_aborts - 1"
                        " WHERE id = ? AND remaining_aborts > 0",
                        (effect.player_id,),
                    )
                    if cur.rowcount != 1:
                        raise NoAbortsLeft("you have no aborts left")
            self._write_outbox(transition.notifications, now, wave_id=None)

    def add_replay(
        self,
        player_id: int,
        name: str,
        size: int,
        sha256: str,
        now: float,
        transition: Transition,
    ) -> ReplayRecord:
        """Store a replay's facts against `transition.match` (from `ladder.replay_received`)
        together with the "replay received" notification."""
        with self._tx() as db:
            self._update_match(transition.match, transition.expected_version)
            cur = db.execute(
                "INSERT INTO replays (match_id, player_id, name, size, sha256, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (transition.match.id, player_id, name, size, sha256, now),
            )
            self._write_outbox(transition.notifications, now, wave_id=None)
            replay_id = cur.lastrowid
        assert replay_id is not None
        return ReplayRecord(replay_id, transition.match.id, player_id, name, size, sha256, now)

    def replays(self, match_id: int) -> list[ReplayRecord]:
        rows = self._db.execute("SELECT * FROM replays WHERE match_id = ? ORDER BY id", (match_id,))
        return [
            ReplayRecord(
                r["id"],
                r["match_id"],
                r["player_id"],
                r["name"],
                r["size"],
                r["sha256"],
                r["created_at"],
            )
            for r in rows
        ]

    # --- admin ----------------------------------------------------------------------------

    def adjust_mmr(self, player_id: int, race: Race, delta: int) -> int:
        """`adjust_mmr user race delta`: the new rating (games are not counted)."""
        with self._tx() as db:
            _require(self.get_player(player_id) is not None, f"unknown player {player_id}")
            self._ensure_rating(player_id, race)
            mmr = db.execute(
                "SELECT mmr FROM ratings WHERE player_id = ? AND race = ?",
                (player_id, race.value),
            ).fetchone()["mmr"]
            new = adjusted_mmr(mmr, delta)
            db.execute(
                "UPDATE ratings SET mmr = ? WHERE player_id = ? AND race = ?",
                (new, player_id, race.value),
            )
        return new

    def set_banned(self, player_id: int, banned: bool, now: float) -> bool:
        """Ban or unban. A banned player is removed from the queue (their searching message
        is edited: QUEUE_REMOVED "banned"); a match in progress runs to its end. Returns
        True if the player was removed from the queue."""
        with self._tx() as db:
            cur = db.execute("UPDATE players SET banned = ? WHERE id = ?", (int(banned), player_id))
            _require(cur.rowcount == 1, f"unknown player {player_id}")
            if not banned:
                return False
            return bool(self._remove_from_queue([player_id], "banned", now))

    def clear_queue(self, now: float) -> list[int]:
        """`clear_queue`: everybody leaves the queue; each searching message is edited."""
        with self._tx() as db:
            ids = [r[0] for r in db.execute("SELECT player_id FROM queue ORDER BY id")]
            return self._remove_from_queue(ids, "cleared", now)

    def announce(self, text: str, now: float) -> list[int]:
        """`announce text`: one background DM per registered player; returns the recipients."""
        with self._tx() as db:
            recipients = [r[0] for r in db.execute("SELECT id FROM players ORDER BY id")]
            notes = announcement_notifications(text, recipients)
            cur = db.execute(
                "INSERT INTO announcements (text, created_at) VALUES (?, ?)", (text, now)
            )
            self._write_outbox(notes, now, wave_id=None, scope=f"a{cur.lastrowid}")
        return recipients

    # --- outbox ---------------------------------------------------------------------------

    def pending(
        self, limit: int | None = None, phase: int | None = None, *, wave_id: int | None = None
    ) -> list[OutboxItem]:
        """Pending items in delivery order: (phase, id); ``wave_id``: only that wave's."""
        sql = _OUTBOX_SELECT + " WHERE o.status = 'pending'"
        args: list[Any] = []
        if wave_id is not None:
            sql += " AND o.wave_id = ?"
            args.append(wave_id)
        return self._outbox_rows(sql, args, phase, limit)

    def deliverable(
        self,
        limit: int | None = None,
        phase: int | None = None,
        *,
        wave_id: int | None = None,
        exclude_waves: Collection[int] = (),
    ) -> list[OutboxItem]:
        """Pending items, in (phase, id) order, whose earlier items in the same story
        (scope, player) are all settled (delivered or failed). Delivering only these keeps
        each player's messages in order while different players proceed in parallel.

        ``wave_id``: only that wave's items; ``exclude_waves``: none of those waves' items
        (the dispatcher's stream skips waves it is running, and never parses their rows)."""
        sql = (
            _OUTBOX_SELECT + " WHERE o.status = 'pending' AND NOT EXISTS ("
            " SELECT 1 FROM outbox e WHERE e.scope = o.scope AND e.player_id IS o.player_id"
            " AND e.seq < o.seq AND e.status = 'pending')"
        )
        args: list[Any] = []
        if wave_id is not None:
            sql += " AND o.wave_id = ?"
            args.append(wave_id)
        if exclude_waves:
            marks = ",".join("?" * len(exclude_waves))
            sql += f" AND (o.wave_id IS NULL OR o.wave_id NOT IN ({marks}))"
            args.extend(exclude_waves)
        return self._outbox_rows(sql, args, phase, limit)

    def iter_pending(self, phase: int, *, wave_id: int) -> Iterator[OutboxItem]:
        """`pending` of one wave's phase, parsed one row at a time as the caller iterates.

        Every row is fetched before this returns (no cursor stays open while the caller
        awaits, writes or commits), but building an `OutboxItem` (the payload's JSON, the
        enums) is most of a read's cost: the dispatcher sends the first items of a phase
        while the later ones are still unparsed."""
        sql = _OUTBOX_SELECT + " WHERE o.status = 'pending' AND o.wave_id = ?"
        rows = self._outbox_cursor(sql, [wave_id], phase, None).fetchall()
        return map(_outbox, rows)

    def deliverable_targets(self, phase: int, *, wave_id: int) -> dict[int, int | None]:
        """Outbox id -> the player's current DM channel, for the items `deliverable` would
        return for that wave and phase, in (phase, id) order, nothing parsed. The dispatcher
        reads a phase's items early, while the phase before it is in flight, and sends
        only those listed here once that phase has settled."""
        sql = (
            "SELECT o.id, p.dm_channel_id FROM outbox o LEFT JOIN players p ON p.id = o.player_id"
            " WHERE o.status = 'pending' AND o.wave_id = ? AND o.phase = ? AND NOT EXISTS ("
            " SELECT 1 FROM outbox e WHERE e.scope = o.scope AND e.player_id IS o.player_id"
            " AND e.seq < o.seq AND e.status = 'pending') ORDER BY o.id"
        )
        return {int(r[0]): r[1] for r in self._db.execute(sql, (wave_id, phase))}

    def _outbox_rows(
        self, sql: str, args: list[Any], phase: int | None, limit: int | None
    ) -> list[OutboxItem]:
        return [_outbox(r) for r in self._outbox_cursor(sql, args, phase, limit)]

    def _outbox_cursor(
        self, sql: str, args: list[Any], phase: int | None, limit: int | None
    ) -> sqlite3.Cursor:
        if phase is not None:
            sql += " AND o.phase = ?"
            args.append(phase)
        sql += " ORDER BY o.phase, o.id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return self._db.execute(sql, args)

    def wave_pending_counts(self, wave_id: int) -> tuple[dict[int, int], int, int]:
        """A wave's pending items counted in SQL, nothing parsed: (items by phase, distinct
        players, distinct matches). The dispatcher sizes a wave with this and then reads
        only the phase it is about to send."""
        by_phase = {
            int(r[0]): int(r[1])
            for r in self._db.execute(
                "SELECT phase, COUNT(*) FROM outbox WHERE status = 'pending' AND wave_id = ?"
                " GROUP BY phase",
                (wave_id,),
            )
        }
        players, matches = self._db.execute(
            "SELECT COUNT(DISTINCT player_id), COUNT(DISTINCT match_id) FROM outbox"
            " WHERE status = 'pending' AND wave_id = ?",
            (wave_id,),
        ).fetchone()
        return by_phase, int(players), int(matches)

    def pending_wave_ids(self) -> set[int]:
        """The waves that still have pending items (cheap: no row is parsed)."""
        rows = self._db.execute(
            "SELECT DISTINCT wave_id FROM outbox WHERE status = 'pending' AND wave_id IS NOT NULL"
        )
        return {int(r[0]) for r in rows}

    def is_deliverable(self, outbox_id: int) -> bool:
        item = self.outbox_item(outbox_id)
        if item is None or item.status != "pending":
            return False
        row = self._db.execute(
            "SELECT 1 FROM outbox WHERE scope = ? AND player_id IS ? AND seq < ?"
            " AND status = 'pending'",
            (item.scope, item.player_id, item.seq),
        ).fetchone()
        return row is None

    def outbox_item(self, outbox_id: int) -> OutboxItem | None:
        row = self._db.execute(_OUTBOX_SELECT + " WHERE o.id = ?", (outbox_id,)).fetchone()
        return _outbox(row) if row else None

    def story(self, scope: str, player_id: int | None) -> list[OutboxItem]:
        """Every item of one player's story (e.g. scope "m12"), in seq order."""
        rows = self._db.execute(
            _OUTBOX_SELECT + " WHERE o.scope = ? AND o.player_id IS ? ORDER BY o.seq",
            (scope, player_id),
        )
        return [_outbox(r) for r in rows]

    def mark_delivered(self, outbox_id: int, message_id: int | None, now: float) -> bool:
        """Idempotent: True the first time; later calls change nothing and return False."""
        return self.mark_delivered_many([(outbox_id, message_id, now)])[0]

    def mark_delivered_many(
        self, deliveries: Sequence[tuple[int, int | None, float]]
    ) -> list[bool]:
        """`mark_delivered` for many ``(outbox id, message id, now)`` in ONE transaction
        (a wave acknowledges hundreds of 2xx within milliseconds; one commit each was most
        of the store's share of a wave). All or nothing: an unknown id raises `StoreError`
        and nothing is marked. Returns, per delivery, whether it was marked just now."""
        if not deliveries:
            return []
        marked: list[bool] = []
        with self._tx() as db:
            for outbox_id, message_id, now in deliveries:
                cur = db.execute(
                    "UPDATE outbox SET status = 'delivered', delivered_at = ?,"
                    " discord_message_id = COALESCE(?, discord_message_id),"
                    " attempts = attempts + 1 WHERE id = ? AND status != 'delivered'",
                    (now, message_id, outbox_id),
                )
                if cur.rowcount == 0:
                    _require(
                        db.execute("SELECT 1 FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
                        is not None,
                        f"unknown outbox item {outbox_id}",
                    )
                marked.append(cur.rowcount == 1)
        return marked

    def mark_failed(self, outbox_id: int, error: str, *, permanent: bool = False) -> None:
        """Count a failed attempt. Transient failures stay pending (to retry); a permanent
        one (e.g. the player's DMs are closed) settles the item as 'failed', which also
        releases the rest of that story."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                " status = CASE WHEN ? THEN 'failed' ELSE status END"
                " WHERE id = ? AND status = 'pending'",
                (error, int(permanent), outbox_id),
            )
            if cur.rowcount == 0:
                _require(
                    db.execute("SELECT 1 FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
                    is not None,
                    f"unknown outbox item {outbox_id}",
                )

    def outbox_counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {"pending": 0, "delivered": 0, "failed": 0} | {r[0]: r[1] for r in rows}

    # --- internals ------------------------------------------------------------------------

    def _open_match_id(self, player_id: int) -> int | None:
        row = self._db.execute(
            "SELECT id FROM matches WHERE (p1_id = ? OR p2_id = ?) AND state IN (?, ?)"
            " ORDER BY id DESC LIMIT 1",
            (player_id, player_id, *_OPEN_STATES),
        ).fetchone()
        return row["id"] if row else None

    def _update_match(self, m: Match, expected_version: int) -> None:
        cur = self._db.execute(
            "UPDATE matches SET state = ?, version = ?, p1_confirmed = ?, p1_report = ?,"
            " p2_confirmed = ?, p2_report = ?, deadline = ?, end_reason = ?, aborted_by = ?,"
            " outcome = ?, ended_at = ? WHERE id = ? AND version = ?",
            (m.state.value, m.version, int(m.p1.confirmed), _val(m.p1.report),
             int(m.p2.confirmed), _val(m.p2.report), m.deadline, _val(m.end_reason),
             m.aborted_by, _val(m.outcome), m.ended_at, m.id, expected_version),
        )  # fmt: skip
        if cur.rowcount != 1:
            raise StaleMatch(f"match #{m.id} changed meanwhile; try again")

    def _ensure_rating(self, player_id: int, race: Race) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO ratings (player_id, race, mmr) VALUES (?, ?, ?)",
            (player_id, race.value, self.config.start_mmr),
        )

    def _apply_rating(self, change: RatingChange) -> None:
        # The delta (not the absolute value) is applied, so an admin adjustment made while
        # the match ran is kept.
        self._ensure_rating(change.player_id, change.race)
        column = {Report.WIN: "wins", Report.LOSS: "losses", Report.DRAW: "draws"}[change.result]
        self._db.execute(
            f"UPDATE ratings SET mmr = MAX(0, mmr + ?), games = games + 1,"
            f" {column} = {column} + 1 WHERE player_id = ? AND race = ?",
            (change.delta, change.player_id, change.race.value),
        )

    def _remove_from_queue(self, player_ids: Iterable[int], reason: str, now: float) -> list[int]:
        removed: list[int] = []
        for pid in player_ids:
            row = self.queue_entry(pid)
            if row is None:
                continue
            self._db.execute("DELETE FROM queue WHERE player_id = ?", (pid,))
            (note,) = queue_removed_notifications([pid], reason)
            self._write_outbox(
                [note], now, wave_id=None, scope=f"q{row.entry_id}", searching={pid: row}
            )
            removed.append(pid)
        return removed

    def _next_seqs(self, scopes: Collection[str]) -> dict[tuple[str, int | None], int]:
        """The next free ``seq`` of every existing story in ``scopes`` (one query per
        `_SCOPE_CHUNK` scopes, not one per story); a story not listed starts at 1."""
        found: dict[tuple[str, int | None], int] = {}
        ordered = sorted(scopes)
        for start in range(0, len(ordered), _SCOPE_CHUNK):
            chunk = ordered[start : start + _SCOPE_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT scope, player_id, MAX(seq) FROM outbox WHERE scope IN ({marks})"
                " GROUP BY scope, player_id",
                chunk,
            )
            for scope, player_id, last in rows:
                found[(scope, player_id)] = int(last) + 1
        return found

    def _write_outbox(
        self,
        notifications: Iterable[Notification],
        now: float,
        *,
        wave_id: int | None,
        scope: str | None = None,
        searching: dict[int, QueueRow] | None = None,
    ) -> None:
        notes = list(notifications)
        scopes: list[str] = []
        for note in notes:
            note_scope = scope or (f"m{note.match_id}" if note.match_id is not None else None)
            if note_scope is None:
                raise ValueError(f"{note.kind.value} notification without a scope")
            scopes.append(note_scope)
        next_seq = self._next_seqs(set(scopes))
        rows = []
        for note, note_scope in zip(notes, scopes, strict=True):
            key = (note_scope, note.player_id)
            seq = next_seq.get(key, 1)
            next_seq[key] = seq + 1
            target = InteractionRef(None, None)
            if note.kind.action is Action.EDIT_SEARCHING and note.player_id is not None:
                row = (searching or {}).get(note.player_id)
                if row is not None:
                    target = row.interaction
            rows.append(
                (
                    wave_id,
                    note.match_id,
                    note_scope,
                    note.player_id,
                    note.kind.value,
                    note.kind.phase,
                    seq,
                    note.kind.action.value,
                    _encode_payload(dict(note.payload)),
                    make_nonce(note_scope, note.player_id, note.kind, seq),
                    now,
                    target.token,
                    target.created_at,
                    target.channel_id,
                    target.message_id,
                )
            )
        self._db.executemany(
            "INSERT INTO outbox (wave_id, match_id, scope, player_id, kind, phase, seq, action,"
            " payload, nonce, created_at, interaction_token, token_created_at,"
            " target_channel_id, target_message_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


_INSERT_MATCH = (
    "INSERT INTO matches (id, wave_id, state, version, p1_id, p1_race, p1_mmr,"
    " p1_confirmed, p1_report, p2_id, p2_race, p2_mmr, p2_confirmed, p2_report, map,"
    " server, created_at, deadline, end_reason, aborted_by, outcome, ended_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_SCOPE_CHUNK = 500
"""Scopes per ``IN (...)`` when reading the last seq of many stories (well under SQLite's
variable limit)."""

_encode_payload = json.JSONEncoder(sort_keys=True).encode
"""``json.dumps(payload, sort_keys=True)`` without building an encoder per call (the same
text: json.dumps builds exactly this encoder for that keyword)."""


def _match_cols(m: Match) -> tuple[Any, ...]:
    return (m.id, m.wave_id, m.state.value, m.version, *_player_cols(m.p1),
            *_player_cols(m.p2), m.map, m.server, m.created_at, m.deadline,
            _val(m.end_reason), m.aborted_by, _val(m.outcome), m.ended_at)  # fmt: skip


# The details message an EDIT_DETAILS item edits is resolved when read: the Discord id of
# the delivered MATCH_DETAILS create of the same match and player.
_OUTBOX_SELECT = (
    "SELECT o.*, p.dm_channel_id AS dm_channel_id,"
    " COALESCE(o.target_message_id, CASE WHEN o.action = 'edit_details' THEN"
    "  (SELECT d.discord_message_id FROM outbox d WHERE d.scope = o.scope"
    "   AND d.player_id IS o.player_id AND d.kind = 'match_details') END) AS resolved_target"
    " FROM outbox o LEFT JOIN players p ON p.id = o.player_id"
)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise StoreError(message)


def _val(value: Any) -> Any:
    return value.value if value is not None else None


def _player_cols(p: MatchPlayer) -> tuple[Any, ...]:
    return (p.player_id, p.race.value, p.mmr, int(p.confirmed), _val(p.report))


def _player(row: sqlite3.Row) -> Player:
    return Player(
        id=row["id"],
        name=row["name"],
        country=row["country"],
        region=row["region"],
        remaining_aborts=row["remaining_aborts"],
        banned=bool(row["banned"]),
    )


def _rating_row(r: sqlite3.Row) -> RatingRow:
    return RatingRow(
        player_id=r["player_id"],
        name=r["name"],
        race=Race(r["race"]),
        mmr=r["mmr"],
        games=r["games"],
        wins=r["wins"],
        losses=r["losses"],
        draws=r["draws"],
        country=r["country"],
        banned=bool(r["banned"]),
    )


def _queue_row(r: sqlite3.Row) -> QueueRow:
    return QueueRow(
        entry_id=r["id"],
        player_id=r["player_id"],
        bw_race=r["bw_race"],
        sc2_race=r["sc2_race"],
        vetoes=tuple(json.loads(r["vetoes"])),
        wait_cycles=r["wait_cycles"],
        queued_at=r["queued_at"],
        interaction=InteractionRef(
            r["interaction_token"], r["token_created_at"], r["channel_id"], r["message_id"]
        ),
    )


def _match_player(r: sqlite3.Row, side: str) -> MatchPlayer:
    report = r[f"{side}_report"]
    return MatchPlayer(
        player_id=r[f"{side}_id"],
        race=Race(r[f"{side}_race"]),
        mmr=r[f"{side}_mmr"],
        confirmed=bool(r[f"{side}_confirmed"]),
        report=Report(report) if report else None,
    )


def _match(r: sqlite3.Row) -> Match:
    return Match(
        id=r["id"],
        wave_id=r["wave_id"],
        p1=_match_player(r, "p1"),
        p2=_match_player(r, "p2"),
        map=r["map"],
        server=r["server"],
        created_at=r["created_at"],
        state=MatchState(r["state"]),
        deadline=r["deadline"],
        version=r["version"],
        end_reason=EndReason(r["end_reason"]) if r["end_reason"] else None,
        aborted_by=r["aborted_by"],
        outcome=Outcome(r["outcome"]) if r["outcome"] else None,
        ended_at=r["ended_at"],
    )


def _wave_row(r: sqlite3.Row) -> WaveRow:
    return WaveRow(
        r["id"], r["started_at"], r["queued"], r["matches"], r["skipped_no_map"],
        json.loads(r["metrics"]),
    )  # fmt: skip


def _outbox(r: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=r["id"],
        wave_id=r["wave_id"],
        match_id=r["match_id"],
        scope=r["scope"],
        player_id=r["player_id"],
        kind=NotificationKind(r["kind"]),
        phase=r["phase"],
        seq=r["seq"],
        action=Action(r["action"]),
        payload=json.loads(r["payload"]),
        nonce=r["nonce"],
        status=r["status"],
        attempts=r["attempts"],
        last_error=r["last_error"],
        created_at=r["created_at"],
        delivered_at=r["delivered_at"],
        discord_message_id=r["discord_message_id"],
        interaction_token=r["interaction_token"],
        token_created_at=r["token_created_at"],
        target_channel_id=r["target_channel_id"],
        target_message_id=r["resolved_target"],
        dm_channel_id=r["dm_channel_id"],
    )
