"""Faults: seeded, counted, validated with errors that name the key."""

import json

import pytest

from mockdiscord.faults import (
    MESSAGE_CREATE,
    FaultConfig,
    FaultConfigError,
    FaultDecision,
    FaultInjector,
    error_body,
)
from mockdiscord.profile import KNOWN_ROUTES

CREATE = ("POST", "/channels/{channel_id}/messages")
GET_ME = ("GET", "/users/@me")


def injector(**faults) -> FaultInjector:
    return FaultInjector(FaultConfig.from_mapping(faults, known_routes=KNOWN_ROUTES))


def test_no_faults_by_default() -> None:
    faults = FaultInjector()
    assert not faults.config.active
    assert all(faults.decide(*CREATE) == FaultDecision() for _ in range(100))
    assert faults.snapshot()["total"] == 0


def test_error_rate_is_seeded_reproducible_and_counted_exactly() -> None:
    spec = {"seed": 7, "errors": {"rate": 0.1, "routes": [MESSAGE_CREATE]}}
    first = injector(**spec)
    second = injector(**spec)
    decisions = [first.decide(*CREATE) for _ in range(2000)]
    assert decisions == [second.decide(*CREATE) for _ in range(2000)]
    failed = [d for d in decisions if d.error_status is not None]
    assert 150 <= len(failed) <= 250  # about 10%
    assert {d.error_status for d in failed} == {500, 502, 503}
    snap = first.snapshot()
    assert snap["errors"] == snap["total"] == len(failed)
    assert sum(snap["errors_by_status"].values()) == len(failed)
    # Other routes are untouched and do not move the counters.
    assert all(first.decide(*GET_ME) == FaultDecision() for _ in range(200))
    assert first.snapshot()["errors"] == len(failed)


def test_stored_before_error_only_for_message_create() -> None:
    faults = injector(seed=1, errors={"rate": 1.0, "stored_before_error": 1.0})
    create = faults.decide(*CREATE)
    assert create.store_before_error
    assert create.label is not None
    assert create.label.endswith("_stored")
    other = faults.decide("PATCH", "/channels/{channel_id}/messages/{message_id}")
    assert other.error_status is not None
    assert not other.store_before_error
    assert faults.snapshot()["stored_before_error"] == 1


def test_latency_rules_stack_and_jitter_stays_in_bounds() -> None:
    faults = injector(
        seed=3,
        latency=[
            {"route": "*", "fixed_ms": 10},
            {"route": "POST /channels/*/messages", "fixed_ms": 5, "jitter_ms": 20},
        ],
    )
    creates = [faults.decide(*CREATE).latency_s for _ in range(500)]
    assert all(0.015 <= s <= 0.035 for s in creates)
    assert max(creates) - min(creates) > 0.01  # the jitter is real
    assert faults.decide(*GET_ME).latency_s == pytest.approx(0.010)
    assert faults.decide(*GET_ME).label == "latency"
    assert faults.snapshot()["latency"] == 502


def test_resets_win_over_errors_and_are_counted() -> None:
    faults = injector(seed=2, resets={"rate": 1.0}, errors={"rate": 1.0})
    decision = faults.decide(*GET_ME)
    assert decision.reset
    assert decision.error_status is None
    assert decision.fails
    assert decision.label == "reset"
    assert faults.snapshot()["resets"] == 1


def test_interaction_faults() -> None:
    dropped = injector(seed=1, interactions={"drop_rate": 1.0})
    assert dropped.decide_interaction().drop
    delayed = injector(seed=1, interactions={"delay_rate": 1.0, "delay_ms": 1500})
    assert delayed.decide_interaction().delay_s == pytest.approx(1.5)
    assert (dropped.counts["interactions_dropped"], delayed.counts["interactions_delayed"]) == (
        1,
        1,
    )
    assert injector().decide_interaction().delay_s == 0


def test_reconfiguring_keeps_counters_and_can_turn_faults_off() -> None:
    faults = injector(errors={"rate": 1.0})
    faults.decide(*GET_ME)
    faults.configure(FaultConfig())
    assert faults.decide(*GET_ME) == FaultDecision()
    assert faults.snapshot()["errors"] == 1
    faults.reset_counts()
    assert faults.snapshot()["errors"] == 0


def test_error_bodies_look_like_discords() -> None:
    for status in (500, 502, 503):
        body = json.loads(error_body(status))
        assert body == {"message": body["message"], "code": 0}
        assert body["message"].startswith(str(status))


def test_config_round_trips_through_json() -> None:
    config = FaultConfig.from_mapping(
        {
            "seed": 5,
            "latency": {"route": "GET /users/@me", "fixed_ms": 1, "jitter_ms": 2},
            "errors": {"rate": 0.5, "statuses": [503], "stored_before_error": True},
            "resets": {"rate": 0.01, "routes": "* /webhooks/*"},
            "interactions": {"drop_rate": 0.1, "delay_rate": 0.2, "delay_ms": 100},
        },
        known_routes=KNOWN_ROUTES,
    )
    assert FaultConfig.from_mapping(config.to_json()) == config
    assert config.errors.stored_before_error == 1.0


@pytest.mark.parametrize(
    ("faults", "field"),
    [
        ({"bogus": 1}, "faults.bogus"),
        ({"seed": "x"}, "faults.seed"),
        ({"errors": {"rate": 1.5}}, "faults.errors.rate"),
        ({"errors": {"rate": "often"}}, "faults.errors.rate"),
        ({"errors": {"statuses": [404]}}, "faults.errors.statuses"),
        ({"errors": {"routes": []}}, "faults.errors.routes"),
        ({"errors": {"routes": ["POST /chanels/*"]}}, "faults.errors.routes[0]"),
        ({"errors": 3}, "faults.errors"),
        ({"latency": [{"route": "*", "fixed_ms": -1}]}, "faults.latency[0].fixed_ms"),
        ({"latency": [{"route": "*", "slow": 1}]}, "faults.latency[0].slow"),
        ({"latency": "slow"}, "faults.latency"),
        ({"resets": {"rate": -0.1}}, "faults.resets.rate"),
        ({"interactions": {"delay_ms": 1e9}}, "faults.interactions.delay_ms"),
        ({"interactions": {"drop": 1}}, "faults.interactions.drop"),
    ],
)
def test_bad_config_names_the_key(faults, field) -> None:
    with pytest.raises(FaultConfigError) as info:
        FaultConfig.from_mapping(faults, known_routes=KNOWN_ROUTES)
    assert info.value.field == field
