import pytest

from bot.ladder import (
    Banned,
    InvalidQueueEntry,
    LadderConfig,
    NotIdle,
    Player,
    PlayerState,
    PlayerStatus,
    Race,
    check_can_queue,
    make_queue_request,
)

CONFIG = LadderConfig()


def test_one_race_per_game_at_least_one_race():
    req = make_queue_request([Race.BW_ZERG, Race.SC2_TERRAN], [], CONFIG)
    assert (req.bw_race, req.sc2_race) == (Race.BW_ZERG, Race.SC2_TERRAN)
    assert make_queue_request([Race.SC2_ZERG], [], CONFIG).bw_race is None
    with pytest.raises(InvalidQueueEntry):
        make_queue_request([Race.BW_ZERG, Race.BW_TERRAN], [], CONFIG)
    with pytest.raises(InvalidQueueEntry):
        make_queue_request([Race.SC2_ZERG, Race.SC2_PROTOSS], [], CONFIG)
    with pytest.raises(InvalidQueueEntry):
        make_queue_request([], [], CONFIG)


def test_up_to_four_known_vetoes():
    maps = CONFIG.maps
    assert make_queue_request([Race.BW_ZERG], maps[:4], CONFIG).vetoes == maps[:4]
    with pytest.raises(InvalidQueueEntry):
        make_queue_request([Race.BW_ZERG], maps[:5], CONFIG)
    with pytest.raises(InvalidQueueEntry, match="unknown map"):
        make_queue_request([Race.BW_ZERG], ["Nowhere"], CONFIG)


def test_only_idle_unbanned_players_may_queue():
    player = Player(1, "a")
    check_can_queue(player, PlayerStatus.derive(queued=False, open_match_id=None))
    with pytest.raises(Banned):
        check_can_queue(Player(1, "a", banned=True), PlayerStatus(PlayerState.IDLE))
    with pytest.raises(NotIdle):
        check_can_queue(player, PlayerStatus.derive(queued=True, open_match_id=None))
    in_match = PlayerStatus.derive(queued=False, open_match_id=7)
    assert in_match == PlayerStatus(PlayerState.IN_MATCH, 7)
    with pytest.raises(NotIdle, match="#7"):
        check_can_queue(player, in_match)


def test_race_parse_names_the_valid_values():
    assert Race.parse("bw_zerg") is Race.BW_ZERG
    with pytest.raises(ValueError, match="sc2_protoss"):
        Race.parse("zerg")
