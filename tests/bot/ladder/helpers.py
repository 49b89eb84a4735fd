"""Builders shared by the ladder tests."""

from bot.ladder import Candidate, Race


def cand(pid, bw=None, sc2=None, *, bw_mmr=1500, sc2_mmr=1500, wait=0, vetoes=(), **kw):
    return Candidate(
        player_id=pid,
        bw_race=bw,
        sc2_race=sc2,
        bw_mmr=bw_mmr,
        sc2_mmr=sc2_mmr,
        wait_cycles=wait,
        vetoes=tuple(vetoes),
        **kw,
    )


def bw(pid, mmr=1500, **kw):
    return cand(pid, Race.BW_TERRAN, None, bw_mmr=mmr, **kw)


def sc2(pid, mmr=1500, **kw):
    return cand(pid, None, Race.SC2_ZERG, sc2_mmr=mmr, **kw)


def both(pid, bw_mmr, sc2_mmr, **kw):
    return cand(pid, Race.BW_PROTOSS, Race.SC2_PROTOSS, bw_mmr=bw_mmr, sc2_mmr=sc2_mmr, **kw)
