"""Expectations: each `[[expect]]` kind measured on a Snapshot, with an honest figure.

The mock is the referee. Every figure below is measured at the mock (its ledger and its
stats) or from what players see in their DMs, never from what the bot says about itself.
The single exception is the *start* of a wave, which only the bot knows: the wave-based
kinds take `started_at` (and, to know how many deliveries to look for, the wave's player
count) from the bot's wave records, and take every delivery time from the mock's ledger.
docs/scenarios.md defines each computation precisely.

Each kind returns a `Result` whose `detail` states the measured figure against the bound,
so a failing CI run says *how far* it was off. When a figure cannot be measured (no wave
record, no interaction counters), the result fails with `error=True` instead of passing
vacuously: an expectation that checks nothing must never look green.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.ledger_analysis import (
    SCOPES,
    WaveDelivery,
    counted_peak,
    lower_bound_s,
    phase1_edit_times,
    rate_limited_by_scope,
    wave_delivery,
)
from sandbox.scenario.model import Expectation
from sandbox.snapshot import Snapshot

__all__ = ["DEFAULT_ALLOWED_STATES", "DEFAULT_SLACK_S", "Result", "evaluate"]

DEFAULT_ALLOWED_STATES = ("idle", "queueing")
DEFAULT_SLACK_S = 0.5


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    passed: bool
    detail: str
    kind: str = ""
    measured: Any = None
    bound: Any = None
    line: int | None = None
    error: bool = False  # the figure could not be measured (reported as a JUnit <error>)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "passed": self.passed,
            "error": self.error,
            "measured": _json_safe(self.measured),
            "bound": _json_safe(self.bound),
            "detail": self.detail,
            "line": self.line,
        }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Unmeasurable(Exception):
    pass


def _s(seconds: float) -> str:
    return f"{seconds:.3f}s"


# ------------------------------------------------------------------------- rate limits


def _scope_counts(snap: Snapshot) -> dict[str, int]:
    """429s by scope: the ledger's count, or the mock's running stats when those are higher
    (the ledger is bounded and may have dropped its oldest lines)."""
    counts = rate_limited_by_scope(snap.ledger)
    stats = snap.mock_stats.get("rate_limited")
    if isinstance(stats, Mapping):
        for scope in SCOPES:
            value = stats.get(scope)
            if isinstance(value, int):
                counts[scope] = max(counts[scope], value)
    return counts


def _scoped(counts: Mapping[str, int], scope: str) -> int:
    return sum(counts.values()) if scope == "any" else counts[scope]


def _breakdown(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{scope} {counts[scope]}" for scope in SCOPES)


def _no_rate_limits(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    scope = exp.options.get("scope", "any")
    counts = _scope_counts(snap)
    measured = _scoped(counts, scope)
    label = "429s" if scope == "any" else f"{scope} 429s"
    return measured == 0, measured, f"{measured} {label} (want 0; {_breakdown(counts)})"


def _rate_limits_at_least(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    scope = exp.options.get("scope", "any")
    counts = _scope_counts(snap)
    measured = _scoped(counts, scope)
    label = "429s" if scope == "any" else f"{scope} 429s"
    ok = measured >= exp.bound
    return ok, measured, f"{measured} {label} (want >= {exp.bound}; {_breakdown(counts)})"


def _peak_1s_at_most(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    peak = counted_peak(snap.ledger)
    measured, owner, source = peak.count, peak.owner, "ledger"
    apps = snap.mock_stats.get("applications")
    if isinstance(apps, Mapping):
        for key, row in apps.items():
            value = row.get("peak_1s") if isinstance(row, Mapping) else None
            if isinstance(value, int) and value > measured:
                measured, owner, source = value, key, "mock stats"
    ok = measured <= exp.bound
    sign = "<=" if ok else ">"
    who = f" by {owner}" if owner else ""
    return ok, measured, (f"peak {measured} counted calls in 1s{who} ({source}) {sign} {exp.bound}")


# ------------------------------------------------------------------------------- waves


def _wave(exp: Expectation, snap: Snapshot) -> tuple[WaveDelivery, str]:
    waves = snap.waves()
    if not waves:
        raise _Unmeasurable("no wave record in the bot's status (dispatch.waves is empty)")
    wanted = exp.options.get("wave")
    if wanted is None:
        index = len(waves) - 1
    else:
        ids = [w.get("wave_id") for w in waves]
        if wanted not in ids:
            raise _Unmeasurable(f"no wave {wanted} in the bot's status (waves: {ids})")
        index = ids.index(wanted)
    record = waves[index]
    started = record.get("started_at")
    if not isinstance(started, int | float):
        raise _Unmeasurable(f"wave {record.get('wave_id')} has no started_at")
    players = record.get("players")
    if not isinstance(players, int):
        matches = record.get("matches")
        if not isinstance(matches, int):
            raise _Unmeasurable(f"wave {record.get('wave_id')} has no players or matches count")
        players = 2 * matches
    until = None
    if index + 1 < len(waves):
        nxt = waves[index + 1].get("started_at")
        until = float(nxt) if isinstance(nxt, int | float) else None
    delivery = wave_delivery(
        snap.ledger,
        started_at=float(started),
        players=players,
        until=until,
        phase1_times=phase1_edit_times(snap.dms) if snap.dms else None,
    )
    return delivery, f"wave {record.get('wave_id')}"


def _attribution(d: WaveDelivery) -> str:
    """How phase 1 was attributed (sandbox.ledger_analysis), for the detail line."""
    if not d.matched:
        return "phase 1 = first records: no DMs to match"
    n = len(d.left_out)
    return f"{n} record{'' if n == 1 else 's'} left out: no player's edit"


def _missing(d: WaveDelivery) -> str:
    return (
        f"{len(d.phase1)}/{d.players} phase-1 edits and "
        f"{len(d.phase2)}/{d.players} phase-2 messages delivered"
    )


def _all_notified_within(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    d, wave = _wave(exp, snap)
    if d.players == 0:
        return True, 0.0, f"{wave} had no players"
    if not d.complete:
        return False, d.makespan, f"{wave}: only {_missing(d)} (want all within {exp.bound:g}s)"
    span = d.makespan or 0.0
    ok = span <= exp.bound + 1e-9
    sign = "<=" if ok else ">"
    return (
        ok,
        round(span, 6),
        (
            f"{wave}: all {d.players} players notified in {_s(span)} {sign} {exp.bound:g}s "
            f"(phase 1 done at {_s(d.phase1_done or 0.0)}; {_attribution(d)})"
        ),
    )


def _phase1_spread_at_most(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    d, wave = _wave(exp, snap)
    if d.players == 0:
        return True, 0.0, f"{wave} had no players"
    if len(d.phase1) < d.players:
        return (
            False,
            None,
            (
                f"{wave}: only {len(d.phase1)}/{d.players} phase-1 edits delivered "
                f"(want spread <= {exp.bound:g}s)"
            ),
        )
    spread = d.phase1_spread or 0.0
    ok = spread <= exp.bound + 1e-9
    sign = "<=" if ok else ">"
    return (
        ok,
        round(spread, 6),
        (
            f"{wave}: phase-1 spread {_s(spread)} {sign} {exp.bound:g}s "
            f"({d.players} edits, done at {_s(d.phase1_done or 0.0)}; {_attribution(d)})"
        ),
    )


def _global_limit(snap: Snapshot) -> tuple[int, float]:
    apps = snap.mock_stats.get("applications")
    if not isinstance(apps, Mapping) or not apps:
        raise _Unmeasurable("mock stats have no applications (cannot read the global limit)")
    row = apps.get(snap.application_id)
    if row is None:
        rows = [r for k, r in apps.items() if not str(k).startswith("ip:")]
        if len(rows) != 1:
            raise _Unmeasurable(f"application {snap.application_id!r} not in mock stats")
        row = rows[0]
    limit = row.get("global_limit") if isinstance(row, Mapping) else None
    if not isinstance(limit, int) or limit < 1:
        raise _Unmeasurable("mock stats have no global_limit for the bot's application")
    period = row.get("global_period", 1.0)
    return limit, float(period) if isinstance(period, int | float) else 1.0


def _makespan_ratio_at_most(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    d, wave = _wave(exp, snap)
    slack = exp.options.get("slack", DEFAULT_SLACK_S)
    if not d.complete:
        return False, None, f"{wave}: only {_missing(d)}"
    limit, period = _global_limit(snap)
    bound_s = lower_bound_s(d.counted, limit, period)
    span = d.makespan or 0.0
    allowed = exp.bound * bound_s + slack
    ratio = span / bound_s if bound_s > 0 else math.inf
    ok = span <= allowed + 1e-9
    shown = f"{ratio:.2f}" if math.isfinite(ratio) else "n/a (bound 0)"
    sign = "<=" if ok else ">"
    return (
        ok,
        (round(ratio, 4) if math.isfinite(ratio) else None),
        (
            f"{wave}: makespan {_s(span)} {sign} {exp.bound:g} x lower bound {_s(bound_s)} "
            f"+ {slack:g}s = {_s(allowed)}; ratio {shown} "
            f"({d.counted} counted calls at {limit}/{period:g}s)"
        ),
    )


# --------------------------------------------------------------------- players and DMs


def _no_stuck_players(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    allowed = tuple(exp.options.get("allowed", DEFAULT_ALLOWED_STATES))
    if not snap.players:
        raise _Unmeasurable("no players in the snapshot")
    stuck: dict[str, str] = {}
    for pid, view in sorted(snap.players.items()):
        state = view.get("state") if isinstance(view, Mapping) else None
        if state not in allowed:
            stuck[pid] = str(state)
    total = len(snap.players)
    if not stuck:
        return True, 0, f"0 of {total} players stuck (all in {', '.join(allowed)})"
    sample = ", ".join(f"{pid}={state}" for pid, state in list(stuck.items())[:5])
    return (
        False,
        len(stuck),
        (
            f"{len(stuck)} of {total} players stuck (want 0; allowed states "
            f"{', '.join(allowed)}): {sample}"
        ),
    )


def _failed_interactions(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    counters = snap.mock_stats.get("interactions")
    if not isinstance(counters, Mapping) or not isinstance(counters.get("failed"), int):
        raise _Unmeasurable("mock stats have no interactions.failed counter")
    failed = counters["failed"]
    ok = failed <= exp.bound
    sign = "<=" if ok else ">"
    return (
        ok,
        failed,
        (
            f"{failed} failed interactions {sign} {exp.bound} "
            f"(of {counters.get('delivered', '?')} delivered; "
            f"rejected {counters.get('rejected', 0)})"
        ),
    )


def message_text(message: Mapping[str, Any]) -> str:
    """What a player reads in a message: content plus embed titles, descriptions, fields."""
    parts = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:
        if isinstance(embed, Mapping):
            parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
            for f in embed.get("fields") or []:
                if isinstance(f, Mapping):
                    parts += [str(f.get("name") or ""), str(f.get("value") or "")]
    return "\n".join(p for p in parts if p)


def _bot_created(message: Mapping[str, Any]) -> bool:
    author = message.get("author")
    is_bot = isinstance(author, Mapping) and bool(author.get("bot"))
    return is_bot and message.get("webhook_id") is None


def _exactly_once(exp: Expectation, snap: Snapshot) -> tuple[bool, Any, str]:
    if not snap.dms and not snap.players:
        raise _Unmeasurable("no players and no DMs in the snapshot")
    duplicate_nonces = 0
    duplicate_messages = 0
    for messages in snap.dms.values():
        nonces: dict[str, int] = {}
        prints: dict[str, int] = {}
        for message in messages:
            nonce = message.get("nonce")
            if nonce is not None:
                nonces[str(nonce)] = nonces.get(str(nonce), 0) + 1
            if _bot_created(message):
                key = json.dumps([message.get("content"), message.get("embeds")], sort_keys=True)
                prints[key] = prints.get(key, 0) + 1
        duplicate_nonces += sum(n - 1 for n in nonces.values())
        duplicate_messages += sum(n - 1 for n in prints.values())
    problems: list[str] = []
    if duplicate_nonces:
        problems.append(f"{duplicate_nonces} messages repeat a nonce")
    if duplicate_messages:
        problems.append(f"{duplicate_messages} bot messages repeat an earlier one")
    text = exp.options.get("contains")
    summary = f"{sum(len(m) for m in snap.dms.values())} DM messages checked"
    measured = duplicate_nonces + duplicate_messages
    if text is not None:
        targets = [
            pid
            for pid, view in snap.players.items()
            if not (isinstance(view, Mapping) and view.get("dms_closed"))
        ] or list(snap.dms)
        counts = {
            pid: sum(text in message_text(m) for m in snap.dms.get(pid, [])) for pid in targets
        }
        missing = sorted(pid for pid, n in counts.items() if n == 0)
        repeated = sorted(pid for pid, n in counts.items() if n > 1)
        exact = len(targets) - len(missing) - len(repeated)
        summary = (
            f"{exact}/{len(targets)} players got {text!r} exactly once "
            f"({len(missing)} missing, {len(repeated)} more than once)"
        )
        if missing:
            problems.append(f"missing for {', '.join(missing[:5])}")
        if repeated:
            problems.append(f"repeated for {', '.join(repeated[:5])}")
        measured += len(missing) + len(repeated)
    if problems:
        return False, measured, f"{summary}; " + "; ".join(problems)
    return True, 0, f"{summary}; no duplicates"


# ----------------------------------------------------------------------------- dispatch

Check = Callable[[Expectation, Snapshot], tuple[bool, Any, str]]

KINDS: dict[str, Check] = {
    "no_rate_limits": _no_rate_limits,
    "rate_limits_at_least": _rate_limits_at_least,
    "peak_1s_at_most": _peak_1s_at_most,
    "all_notified_within": _all_notified_within,
    "phase1_spread_at_most": _phase1_spread_at_most,
    "no_stuck_players": _no_stuck_players,
    "failed_interactions": _failed_interactions,
    "exactly_once": _exactly_once,
    "makespan_ratio_at_most": _makespan_ratio_at_most,
}


def evaluate(expectation: Expectation, snapshot: Snapshot) -> Result:
    """Measure one expectation on a snapshot."""
    check = KINDS[expectation.kind]
    bound = None if expectation.bound is True else expectation.bound
    base = {"kind": expectation.kind, "bound": bound, "line": expectation.line}
    try:
        passed, measured, detail = check(expectation, snapshot)
    except _Unmeasurable as error:
        return Result(expectation.name, False, f"cannot measure: {error}", error=True, **base)
    return Result(expectation.name, passed, detail, measured=measured, **base)
