"""Dialog parsers (inline errors) and view models (what the panels show), without a screen."""

from __future__ import annotations

import pytest

from sandbox.tui.forms import (
    FormError,
    parse_behaviours,
    parse_count,
    parse_faults,
    parse_limits,
    parse_scenario_path,
    parse_spawn,
)
from sandbox.tui.views import bucket_rows, dispatch_view, players_view, rate_view
from sandbox.tui.widgets.chart import chart_rows
from tests.sandbox.tui.fakes import WALL0, wave_record


def test_spawn_form_parses_and_names_the_bad_field():
    form = parse_spawn("20", "1600", "250", "bw", "abort=0.1, confirm_delay=2")
    assert form.count == 20 and form.races == "bw"
    assert form.kwargs()["behaviour"] == {"abort": 0.1, "confirm_delay": 2.0}
    for args, field in [
        (("0", "", "", "", ""), "count"),
        (("x", "", "", "", ""), "count"),
        (("5", "abc", "", "", ""), "rating mean"),
        (("5", "", "", "zerg", ""), "race mix"),
        (("5", "", "", "", "abort=2"), "abort"),
        (("5", "", "", "", "teleport=0.5"), "unknown"),
    ]:
        with pytest.raises(FormError, match=field):
            parse_spawn(*args)


def test_counts_limits_faults_and_files():
    assert parse_count("") is None and parse_count(" all ") is None and parse_count("7") == 7
    with pytest.raises(FormError):
        parse_count("", allow_all=False)
    assert parse_limits("30", "") == {"global_limit": 30}
    with pytest.raises(FormError, match="nothing to change"):
        parse_limits("", "")
    with pytest.raises(FormError, match="no such file"):
        parse_limits("", "/nope/profile.toml")
    faults = parse_faults("0.1", "", "20", "5", "0")
    assert faults["errors"]["rate"] == 0.1
    assert faults["latency"] == [{"route": "*", "fixed_ms": 20.0, "jitter_ms": 5.0}]
    with pytest.raises(FormError, match="5xx rate"):
        parse_faults("1.5", "", "", "", "")
    assert parse_behaviours("") == {}
    with pytest.raises(FormError, match="no such file"):
        parse_scenario_path("/nope.toml")
    assert parse_scenario_path("scenarios/peak-wave.toml").name == "peak-wave.toml"


def test_scenario_path_shows_the_loaders_one_line_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[steps]]\nfly = 3\n[[expect]]\nno_rate_limits = true\n')
    with pytest.raises(FormError, match=r"bad\.toml:\d+"):
        parse_scenario_path(str(bad))


def test_dispatch_view_progress_eta_and_recent_rows():
    status = {
        "dispatch": {
            "strategy": "paced",
            "current_waves": [wave_record(3, 100, "paced", p1=200, p2=100, started_at=WALL0 - 2)],
            "recent_waves": [
                wave_record(
                    2,
                    100,
                    "naive",
                    p1=200,
                    p2=200,
                    started_at=WALL0 - 30,
                    done=True,
                    makespan=6.0,
                    rate_limited={"global": 40, "user": 2},
                )
            ],
        }
    }
    view = dispatch_view(status, WALL0)
    assert view.current is not None
    assert view.current.phase1 == (200, 200) and view.current.phase2 == (100, 200)
    assert view.current.lower_bound_s == 3.0  # ceil(200 counted / 50) - 1
    assert view.current.eta_s == pytest.approx(1.9)  # 100 left at 100 per 1.9 s
    (row,) = view.recent
    assert (row.strategy, row.rate_limited, row.makespan_s) == ("naive", 42, 6.0)
    assert row.ratio == pytest.approx(6.0 / 3.0)


def test_players_view_counts_states_and_lists_open_matches_only():
    players = {
        "1": {"state": "in_match", "match_id": 4, "match_state": "confirmed", "name": "a"},
        "2": {"state": "in_match", "match_id": 4, "match_state": "confirmed", "name": "b"},
        "3": {"state": "queueing"},
        "4": {"state": "idle", "match_id": 2, "match_state": "completed"},
    }
    view = players_view(
        players, {"queue": {"total": 1}, "open_matches": 1}, WALL0, first_seen={"4": WALL0 - 30}
    )
    assert view.counts == {"idle": 1, "queueing": 1, "in match": 2}
    (match,) = view.matches
    assert (match.match_id, match.players, match.state) == ("4", ("a", "b"), "confirmed")
    assert match.age_s == 30
    assert view.queued_at_bot == 1


def test_hottest_buckets_first_and_chart_draws_the_limit_line():
    rows = bucket_rows(
        [
            {"key": "a", "limit": 5, "remaining": 5, "reset_after": 0, "rate_limited": 0},
            {"key": "b", "limit": 5, "remaining": 0, "reset_after": 4.2, "rate_limited": 3},
        ]
    )
    assert [r.key for r in rows] == ["b", "a"]
    lines = [line.plain for line in chart_rows((10, 60, 50), 50, 12, 6)]
    assert len(lines) == 6 and all(len(line) == 12 for line in lines)
    limit_line = next(line for line in lines if line.startswith("  50"))
    assert "╌" in limit_line  # the limit, where no bar covers it
    assert " " not in lines[-1][-3:]  # all three seconds have requests
    assert lines[0][-2] != " " and lines[0][-1] == " "  # only 60/s reaches the top row


def test_the_ban_gauge_uses_the_mocks_own_threshold():
    stats = {"invalid_requests": 155, "bans": 0, "invalid_request_threshold": 250}
    view = rate_view(None, stats, None)
    assert (view.invalid, view.ban_threshold) == (155, 250)
    assert rate_view(None, {"invalid_requests": 155}, None).ban_threshold == 10_000
