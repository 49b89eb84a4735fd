import pytest

from bot.ladder import LadderConfig, Outcome, expected_score, next_wave_at, updated_ratings


@pytest.mark.parametrize(
    ("r1", "r2", "outcome", "expected"),
    [
        (1500, 1500, Outcome.P1_WIN, (1520, 1480)),
        (1700, 1500, Outcome.P2_WIN, (1671, 1529)),
        (1600, 1400, Outcome.DRAW, (1591, 1409)),
    ],
)
def test_reference_cases(r1, r2, outcome, expected):
    assert updated_ratings(r1, r2, outcome) == expected


def test_expected_scores_sum_to_one():
    assert expected_score(1700, 1500) + expected_score(1500, 1700) == pytest.approx(1.0)


def test_k_and_divisor_come_from_arguments():
    assert updated_ratings(1500, 1500, Outcome.P1_WIN, k=20) == (1510, 1490)


def test_next_wave_is_aligned_to_multiples_of_the_interval():
    assert next_wave_at(0.0, 45) == 45
    assert next_wave_at(44.9, 45) == 45
    assert next_wave_at(45.0, 45) == 90  # a wave due now counts as run
    assert next_wave_at(1_700_000_001.5, 45) == 1_700_000_010
    assert next_wave_at(1_700_000_001.5, 45) % 45 == 0


def test_interval_zero_means_manual_waves_only():
    assert next_wave_at(123.0, 0) is None
    with pytest.raises(ValueError):
        next_wave_at(1.0, -1)


def test_config_validates_and_looks_up_servers():
    config = LadderConfig()
    assert config.window(0) == 100 and config.window(3) == 250
    assert config.server_for("EU", "NA") == config.server_for("NA", "EU") == "US East"
    assert config.server_for("EU", None) == config.default_server
    assert config.server_for("XX", "YY") == config.default_server
    with pytest.raises(ValueError):
        LadderConfig(maps=())
    with pytest.raises(ValueError):
        LadderConfig(rank_tiers=(("S", 0.5),))
