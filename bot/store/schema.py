"""The SQLite schema, created or migrated when a `Store` opens a file.

Versions are numbered; `MIGRATIONS[n]` takes a database from version n-1 to n and runs in
the same transaction as the version bump, so a crash mid-migration leaves the old version.
A file written by a newer bot is refused rather than misread.

Design notes:
- A player's state is not a column: it is derived from the queue row and open matches.
- The outbox id is AUTOINCREMENT, so ids are monotonic and never reused, even after rows
  are deleted: (phase, id) is a stable delivery order.
- `outbox.nonce` is UNIQUE: the same fact cannot be enqueued twice.
- Deadlines and timestamps are Unix seconds (wall clock), so they survive a restart.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_V1 = """
CREATE TABLE players (
    id               INTEGER PRIMARY KEY,          -- Discord user id
    name             TEXT    NOT NULL,
    country          TEXT,
    region           TEXT,
    remaining_aborts INTEGER NOT NULL,
    banned           INTEGER NOT NULL DEFAULT 0,
    dm_channel_id    INTEGER,
    created_at       REAL    NOT NULL
);

CREATE TABLE ratings (
    player_id INTEGER NOT NULL REFERENCES players(id),
    race      TEXT    NOT NULL,
    mmr       INTEGER NOT NULL,
    games     INTEGER NOT NULL DEFAULT 0,
    wins      INTEGER NOT NULL DEFAULT 0,
    losses    INTEGER NOT NULL DEFAULT 0,
    draws     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (player_id, race)
);

CREATE TABLE queue (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,  -- queue entry id (scope "q<id>")
    player_id         INTEGER NOT NULL UNIQUE REFERENCES players(id),
    bw_race           TEXT,
    sc2_race          TEXT,
    vetoes            TEXT    NOT NULL,                   -- JSON list of map names
    wait_cycles       INTEGER NOT NULL DEFAULT 0,
    queued_at         REAL    NOT NULL,
    interaction_token TEXT,                               -- the /queue interaction's token
    token_created_at  REAL,
    channel_id        INTEGER,                            -- the searching message
    message_id        INTEGER
);

CREATE TABLE waves (
    id             INTEGER PRIMARY KEY,
    started_at     REAL    NOT NULL,
    queued         INTEGER NOT NULL,
    matches        INTEGER NOT NULL,
    skipped_no_map INTEGER NOT NULL,
    metrics        TEXT    NOT NULL DEFAULT '{}'          -- JSON, written by the dispatcher
);

CREATE TABLE matches (
    id           INTEGER PRIMARY KEY,
    wave_id      INTEGER,
    state        TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    p1_id        INTEGER NOT NULL REFERENCES players(id),
    p1_race      TEXT    NOT NULL,
    p1_mmr       INTEGER NOT NULL,
    p1_confirmed INTEGER NOT NULL DEFAULT 0,
    p1_report    TEXT,
    p2_id        INTEGER NOT NULL REFERENCES players(id),
    p2_race      TEXT    NOT NULL,
    p2_mmr       INTEGER NOT NULL,
    p2_confirmed INTEGER NOT NULL DEFAULT 0,
    p2_report    TEXT,
    map          TEXT    NOT NULL,
    server       TEXT    NOT NULL,
    created_at   REAL    NOT NULL,
    deadline     REAL,
    end_reason   TEXT,
    aborted_by   INTEGER,
    outcome      TEXT,
    ended_at     REAL
);
CREATE INDEX matches_open_deadline ON matches(deadline) WHERE deadline IS NOT NULL;
CREATE INDEX matches_p1 ON matches(p1_id, state);
CREATE INDEX matches_p2 ON matches(p2_id, state);

CREATE TABLE replays (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    match_id   INTEGER NOT NULL REFERENCES matches(id),
    player_id  INTEGER NOT NULL REFERENCES players(id),
    name       TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT    NOT NULL,
    created_at REAL    NOT NULL
);

CREATE TABLE announcements (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    text       TEXT    NOT NULL,
    created_at REAL    NOT NULL
);

CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    wave_id            INTEGER,
    match_id           INTEGER,
    scope              TEXT    NOT NULL,      -- "m<match>", "q<queue entry>", "a<announcement>"
    player_id          INTEGER,               -- NULL: the admin channel
    kind               TEXT    NOT NULL,
    phase              INTEGER NOT NULL,
    seq                INTEGER NOT NULL,      -- 1, 2, 3... per (scope, player)
    action             TEXT    NOT NULL,
    payload            TEXT    NOT NULL,      -- JSON
    nonce              TEXT    NOT NULL UNIQUE,
    status             TEXT    NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    attempts           INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    created_at         REAL    NOT NULL,
    delivered_at       REAL,
    discord_message_id INTEGER,
    interaction_token  TEXT,                  -- EDIT_SEARCHING targets, copied from the queue
    token_created_at   REAL,
    target_channel_id  INTEGER,
    target_message_id  INTEGER
);
CREATE INDEX outbox_pending ON outbox(phase, id) WHERE status = 'pending';
CREATE INDEX outbox_story ON outbox(scope, player_id, seq);
CREATE INDEX outbox_wave ON outbox(wave_id);
"""

MIGRATIONS: dict[int, str] = {1: _V1}
SCHEMA_VERSION = max(MIGRATIONS)
