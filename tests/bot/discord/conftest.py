from __future__ import annotations

import pytest

from bot.clock import ManualClock
from tests.bot.discord.vtime import VirtualTime


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def vt(clock: ManualClock) -> VirtualTime:
    return VirtualTime(clock)
