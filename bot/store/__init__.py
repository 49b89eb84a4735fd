"""The bot's SQLite store: players, ratings, queue, matches, replays, waves and the outbox.

See `bot.store.store` for why the outbox is written in the same transaction as the state
change that causes it, and for the delivery-order guarantees.
"""

from bot.store.records import (
    InteractionRef,
    OutboxItem,
    QueueCounts,
    QueueRow,
    ReplayRecord,
    WaveRow,
)
from bot.store.schema import SCHEMA_VERSION
from bot.store.store import StaleMatch, StaleWave, Store, StoreError

__all__ = [
    "SCHEMA_VERSION",
    "InteractionRef",
    "OutboxItem",
    "QueueCounts",
    "QueueRow",
    "ReplayRecord",
    "StaleMatch",
    "StaleWave",
    "Store",
    "StoreError",
    "WaveRow",
]
