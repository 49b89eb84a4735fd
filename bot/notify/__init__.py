"""The match-notification dispatcher: delivers the store's outbox through the Discord client.

Interface for the app layer (stable; agreed with the app/views/service owner)
-----------------------------------------------------------------------------
::

    from bot.notify import Dispatcher, DispatchConfig, OutgoingCall

    dispatcher = Dispatcher(
        store,                      # bot.store.Store (the outbox lives there)
        client,                     # bot.discord.DiscordClient (its limiter paces everything)
        render,                     # (OutboxItem) -> OutgoingCall, sync, no I/O
        clock=clock,                # bot.clock.Clock
        config=DispatchConfig(strategy="paced", admin_channel_id=...),
        application_id=app_id,      # for PATCH /webhooks/{app}/{token}/messages/@original
        on_undeliverable=hook,      # optional: (item, error) -> None | Awaitable[None]
    )
    await dispatcher.start()        # spawns the delivery loop; resumes pending rows
    dispatcher.wake()               # new outbox rows exist (cheap, idempotent, sync)
    dispatcher.set_strategy("batched")   # /admin dispatch <strategy>; ValueError if unknown
    dispatcher.snapshot()           # JSON-safe dict for GET /status (see `Dispatcher.snapshot`)
    await dispatcher.stop()         # graceful: in-flight calls finish or are abandoned,
                                    # undelivered rows stay pending in the outbox

The renderer returns only the message *body* (`OutgoingCall`: content / embeds /
components). Routing is the dispatcher's, from the item's `Action`:

- ``EDIT_SEARCHING`` (phase 1 "match found", and queue removals): ``PATCH
  /webhooks/{app}/{token}/messages/@original`` while the /queue token is younger than
  ``token_lifetime - token_margin`` (exempt from the global limit); otherwise, or if the
  webhook answers 401/50027, ``PATCH /channels/{target_channel_id or dm}/messages/
  {target_message_id}`` with the bot token (counted; a *fallback* in the metrics).
- ``CREATE_DM``: ``POST /channels/{dm}/messages`` with the store's deterministic ``nonce``
  and ``enforce_nonce: true``. If the player has no DM channel yet, it is opened first
  (``POST /users/@me/channels``) and saved with ``store.set_dm_channel``.
- ``EDIT_DETAILS``: ``PATCH /channels/{dm}/messages/{details message id}``.
- ``CREATE_ADMIN``: ``POST /channels/{config.admin_channel_id}/messages`` with the nonce.

A 2xx marks the item delivered (with the message id for creates). 403 code 50007 (DMs
closed) settles it as failed, is never retried, and calls ``on_undeliverable(item, error)``
once, so the app can release the match. Other permanent 4xx settle it as failed too (and are
logged). 5xx, connection errors and 429s past the client's own retries leave it pending; it
is retried later with backoff, and creates keep their nonce, so nothing is duplicated.

See `bot.notify.dispatcher` for the strategies and the rate-limit model (lower bounds).
"""

from bot.notify.dispatcher import Dispatcher
from bot.notify.types import STRATEGIES, DispatchConfig, OutgoingCall, Renderer, UndeliverableHook

__all__ = [
    "STRATEGIES",
    "DispatchConfig",
    "Dispatcher",
    "OutgoingCall",
    "Renderer",
    "UndeliverableHook",
]
