"""View models: what each panel shows, computed from plain data (no Textual).

The panels are thin: they render a value object built here from the feed (`FeedUpdate`) and
from the last poll of the core (`Snapshot`: mock stats, bot status, the players' view). Every
figure the operator reads is therefore computable and testable without a terminal, and a
panel never parses JSON itself.

Sources, and why:
- the chart and the "now" rate come from the mock's event stream (ticks, 4 Hz);
- `peak_1s`, exempt totals, 429 totals, invalid requests and bans come from the mock's stats
  (the referee's running totals), merged with what the stream saw since the last poll so a
  counter moves as soon as a 429 happens;
- the dispatcher panel reads the bot's `GET /status` (`dispatch.current_waves`,
  `dispatch.recent_waves`, `WaveMetrics.to_dict()` in bot/notify/metrics.py);
- players and matches come from the player simulator's view.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.tui.feed import SCOPES, FeedUpdate

__all__ = [
    "DEFAULT_BAN_THRESHOLD",
    "PLAYER_STATES",
    "BucketRow",
    "DispatchView",
    "MatchRow",
    "PlayersView",
    "RateView",
    "WaveProgress",
    "WaveRow",
    "bucket_rows",
    "dispatch_view",
    "players_view",
    "rate_view",
]

#: Cloudflare's invalid-request ban threshold (mockdiscord's `discord` profile default), for
#: a mock whose stats do not report its own (``invalid_request_threshold``).
DEFAULT_BAN_THRESHOLD = 10_000
PLAYER_STATES = ("idle", "queueing", "in match")


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


# -- global rate -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateView:
    series: tuple[int, ...] = ()
    limit: int = 50
    counted_1s: int = 0
    exempt_1s: int = 0
    peak_1s: int = 0
    counted_total: int = 0
    exempt_total: int = 0
    rate_limited: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(SCOPES, 0))
    moving: frozenset[str] = frozenset()
    invalid: int = 0
    ban_threshold: int = DEFAULT_BAN_THRESHOLD
    bans: int = 0


def rate_view(
    feed: FeedUpdate | None,
    stats: Mapping[str, Any],
    application_id: str | None,
    *,
    ban_threshold: int = DEFAULT_BAN_THRESHOLD,
) -> RateView:
    apps = stats.get("applications") or {}
    app: Mapping[str, Any] = {}
    if application_id and isinstance(apps.get(application_id), Mapping):
        app = apps[application_id]
    elif apps:
        candidates = [v for k, v in apps.items() if not str(k).startswith("ip:")]
        if candidates:
            app = max(candidates, key=lambda v: _int(v.get("counted")))
    polled = stats.get("rate_limited") or {}
    streamed = feed.rate_limited if feed else {}
    limited = {s: max(_int(polled.get(s)), _int(streamed.get(s))) for s in SCOPES}
    return RateView(
        series=feed.series if feed else (),
        limit=_int(app.get("global_limit"), 50) or 50,
        counted_1s=feed.counted_1s if feed else 0,
        exempt_1s=feed.exempt_1s if feed else 0,
        peak_1s=_int(app.get("peak_1s")),
        counted_total=_int(app.get("counted")),
        exempt_total=_int(app.get("exempt")),
        rate_limited=limited,
        moving=feed.moving if feed else frozenset(),
        invalid=_int(stats.get("invalid_requests")),
        ban_threshold=_int(stats.get("invalid_request_threshold"), ban_threshold),
        bans=_int(stats.get("bans")),
    )


# -- buckets ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BucketRow:
    key: str
    route: str
    limit: int
    remaining: int
    reset_after: float
    rate_limited: int


def bucket_rows(buckets: Sequence[Mapping[str, Any]], top: int = 12) -> list[BucketRow]:
    """The hottest buckets, fullest first (least remaining, then most 429s)."""
    rows = [
        BucketRow(
            key=str(b.get("key", "?")),
            route=str(b.get("route", "")),
            limit=_int(b.get("limit")),
            remaining=_int(b.get("remaining")),
            reset_after=_float(b.get("reset_after")) or 0.0,
            rate_limited=_int(b.get("rate_limited")),
        )
        for b in buckets
        if isinstance(b, Mapping)
    ]
    rows.sort(key=lambda r: (r.remaining - r.limit, -r.rate_limited, r.key))
    return rows[:top]


# -- dispatcher ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaveProgress:
    wave_id: int
    matches: int
    phase1: tuple[int, int]  # delivered, items
    phase2: tuple[int, int]
    elapsed_s: float
    lower_bound_s: float
    eta_s: float | None  # remaining time at the current phase-2 rate


@dataclass(frozen=True, slots=True)
class WaveRow:
    wave_id: int
    strategy: str
    matches: int
    phase1_spread_s: float | None
    makespan_s: float | None
    ratio: float | None
    rate_limited: int


@dataclass(frozen=True, slots=True)
class DispatchView:
    strategy: str = "?"
    current: WaveProgress | None = None
    recent: tuple[WaveRow, ...] = ()
    outbox_pending: int = 0


def _phase(wave: Mapping[str, Any], n: int) -> Mapping[str, Any]:
    phase = wave.get(f"phase{n}")
    return phase if isinstance(phase, Mapping) else {}


def _limited(wave: Mapping[str, Any]) -> int:
    limited = wave.get("rate_limited")
    if isinstance(limited, Mapping):
        return sum(_int(v) for v in limited.values())
    return _int(limited)


def _progress(wave: Mapping[str, Any], now_wall: float) -> WaveProgress:
    p1, p2 = _phase(wave, 1), _phase(wave, 2)
    elapsed = max(0.0, now_wall - (_float(wave.get("started_at")) or now_wall))
    done2, items2 = _int(p2.get("delivered")), _int(p2.get("items"))
    eta: float | None = None
    if items2 and done2 >= items2:
        eta = 0.0
    elif done2 > 0 and elapsed > 0:
        first = _float(p2.get("first")) or 0.0
        rate = done2 / max(elapsed - first, 1e-3)
        eta = (items2 - done2) / rate
    bound = _float(wave.get("lower_bound")) or _float(wave.get("lower_bound_s")) or 0.0
    return WaveProgress(
        wave_id=_int(wave.get("wave_id")),
        matches=_int(wave.get("matches")),
        phase1=(_int(p1.get("delivered")), _int(p1.get("items"))),
        phase2=(done2, items2),
        elapsed_s=elapsed,
        lower_bound_s=bound,
        eta_s=eta,
    )


def _row(wave: Mapping[str, Any]) -> WaveRow:
    p1 = _phase(wave, 1)
    first, last = _float(p1.get("first")), _float(p1.get("last"))
    return WaveRow(
        wave_id=_int(wave.get("wave_id")),
        strategy=str(wave.get("strategy") or ""),
        matches=_int(wave.get("matches")),
        phase1_spread_s=None if first is None or last is None else last - first,
        makespan_s=_float(wave.get("makespan")),
        ratio=_float(wave.get("ratio")),
        rate_limited=_limited(wave),
    )


def dispatch_view(bot_status: Mapping[str, Any], now_wall: float) -> DispatchView:
    dispatch = bot_status.get("dispatch") or {}
    if not isinstance(dispatch, Mapping):
        dispatch = {}
    current = [w for w in dispatch.get("current_waves") or [] if isinstance(w, Mapping)]
    recent = [w for w in dispatch.get("recent_waves") or [] if isinstance(w, Mapping)]
    outbox = dispatch.get("outbox") or bot_status.get("outbox") or {}
    return DispatchView(
        strategy=str(dispatch.get("strategy") or "?"),
        current=_progress(current[-1], now_wall) if current else None,
        recent=tuple(_row(w) for w in recent[:8]),
        outbox_pending=_int(outbox.get("pending")) if isinstance(outbox, Mapping) else 0,
    )


# -- players and matches ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchRow:
    match_id: str
    players: tuple[str, ...]
    state: str
    age_s: float | None


@dataclass(frozen=True, slots=True)
class PlayersView:
    counts: Mapping[str, int] = field(default_factory=dict)
    total: int = 0
    queued_at_bot: int | None = None
    open_matches_at_bot: int | None = None
    matches: tuple[MatchRow, ...] = ()
    paused: bool = False


def _bucket_state(state: str) -> str:
    s = state.lower().replace("_", " ")
    if s in ("idle", "new", "registered", "done", "finished"):
        return "idle"
    if s.startswith("queue") or s in ("searching", "waiting"):
        return "queueing"
    if s in ("disconnected", "dms closed", "stopped"):
        return s
    return "in match"


def players_view(
    players: Mapping[str, Mapping[str, Any]],
    bot_status: Mapping[str, Any],
    now_wall: float,
    *,
    paused: bool = False,
    first_seen: Mapping[str, float] | None = None,
) -> PlayersView:
    """Counts by state and one row per open match, from the simulator's view of players.

    A player's view is read leniently: `state`, and `match_id` (+ `match_state`,
    `matched_at`) while in a match; a match's age is from `matched_at`, else from
    `first_seen` (when the TUI first saw it). Names come from `name`, else the id.
    Only players who are not idle count towards a match (an idle player's `match_id` is
    their last, finished match).
    """
    counts: Counter[str] = Counter(dict.fromkeys(PLAYER_STATES, 0))
    by_match: dict[str, list[Mapping[str, Any]]] = {}
    for pid, view in players.items():
        if not isinstance(view, Mapping):
            continue
        state = _bucket_state(str(view.get("state") or "idle"))
        counts[state] += 1
        match_id = view.get("match_id")
        if match_id is not None and state == "in match":
            by_match.setdefault(str(match_id), []).append({"id": pid, **view})
    matches: list[MatchRow] = []
    for match_id, members in by_match.items():
        started = [_float(m.get("matched_at")) for m in members]
        began = min((s for s in started if s is not None), default=None)
        if began is None and first_seen is not None:
            began = first_seen.get(match_id)
        state = str(members[0].get("match_state") or members[0].get("state") or "?")
        matches.append(
            MatchRow(
                match_id=match_id,
                players=tuple(str(m.get("name") or m["id"]) for m in members),
                state=state,
                age_s=None if began is None else max(0.0, now_wall - began),
            )
        )
    matches.sort(key=lambda m: _int_or_str(m.match_id))
    queue = bot_status.get("queue")
    return PlayersView(
        counts=dict(counts),
        total=sum(counts.values()),
        queued_at_bot=_int(queue.get("total")) if isinstance(queue, Mapping) else None,
        open_matches_at_bot=(
            _int(bot_status.get("open_matches")) if "open_matches" in bot_status else None
        ),
        matches=tuple(matches),
        paused=paused,
    )


def _int_or_str(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (1 << 62, value)
