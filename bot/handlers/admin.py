"""``/admin``: wave, resolve, adjust_mmr, ban, unban, clear_queue, announce, dispatch.

Only the configured admin user ids may use it; anybody else gets an ephemeral refusal and
nothing happens. Work that can take long on a big ladder is deferred (type 5) and finished
in the background, then the "thinking" message is filled in: ``wave`` (the matchmaker over
the whole queue) and ``announce`` (one outbox row per registered player, delivered on the
background lane by the dispatcher, paced like any other burst). The rest is a few rows and
is answered at once.
"""

from __future__ import annotations

import logging

from bot.handlers.commands import parse_race
from bot.handlers.interaction import BadInteraction, Interaction
from bot.handlers.replies import Reply, deferred, edit_original, error
from bot.ladder import LadderError, Outcome, resolve
from bot.service import LadderService
from bot.store import StoreError
from bot.views import MessageView

__all__ = ["admin"]

_log = logging.getLogger("bot.handlers")


async def admin(service: LadderService, interaction: Interaction) -> Reply:
    if interaction.user_id not in service.settings.admin_ids:
        return error("Only ladder admins can use /admin.")
    sub = interaction.command.removeprefix("admin").strip()
    handler = _SUBCOMMANDS.get(sub)
    if handler is None:
        raise BadInteraction(f"unknown /admin subcommand {sub!r}")
    return await handler(service, interaction)


async def _wave(service: LadderService, interaction: Interaction) -> Reply:
    async def run() -> None:
        try:
            result = await service.run_wave()
        except Exception as exc:
            _log.exception("event=admin_wave_failed")
            text = f"The wave failed: {exc}"
        else:
            text = (
                f"Wave #{result.wave_id}: {result.queued} queued, {len(result.matches)} matches, "
                f"{len(result.still_queued)} still queued, "
                f"{len(result.skipped_no_map)} pairs skipped for lack of a map."
            )
        await edit_original(
            service.client, service.settings.application_id, interaction, MessageView(text)
        )

    return deferred(run)


_RESULTS = {o.value: o for o in Outcome}


async def _resolve(service: LadderService, interaction: Interaction) -> Reply:
    options = interaction.options
    match_id = options.integer("match")
    result = options.string("result")
    if match_id is None or result is None:
        raise BadInteraction("match and result are required")
    if result != "void" and result not in _RESULTS:
        raise BadInteraction(f"unknown result {result!r}")
    outcome = _RESULTS.get(result)
    try:
        await service.apply_match(
            match_id, lambda m: resolve(m, outcome, service.clock.wall(), service.config)
        )
    except LadderError as refusal:
        return error(str(refusal))
    return error(f"Match #{match_id} resolved: {result}.")


async def _adjust_mmr(service: LadderService, interaction: Interaction) -> Reply:
    options = interaction.options
    user = options.user("user")
    race = parse_race(options.string("race"), None)
    delta = options.integer("delta")
    if user is None or race is None or delta is None:
        raise BadInteraction("user, race and delta are required")
    try:
        new = service.store.adjust_mmr(user[0], race, delta)
    except StoreError:
        return error(f"{user[1]} has no ladder profile.")
    return error(f"{user[1]}'s {race.value} rating is now {new}.")


async def _ban(service: LadderService, interaction: Interaction, banned: bool) -> Reply:
    user = interaction.options.user("user")
    if user is None:
        raise BadInteraction("user is required")
    if banned:
        service.heartbeat.forget(user[0])
    try:
        removed = service.store.set_banned(user[0], banned, service.clock.wall())
    except StoreError:
        return error(f"{user[1]} has no ladder profile.")
    if removed:
        service.dispatcher.wake()
    what = "banned" if banned else "unbanned"
    extra = " and removed from the queue" if removed else ""
    return error(f"{user[1]} is {what}{extra}.")


async def _ban_user(service: LadderService, interaction: Interaction) -> Reply:
    return await _ban(service, interaction, True)


async def _unban_user(service: LadderService, interaction: Interaction) -> Reply:
    return await _ban(service, interaction, False)


async def _clear_queue(service: LadderService, interaction: Interaction) -> Reply:
    async with service.heartbeat.paused():
        removed = service.store.clear_queue(service.clock.wall())
    service.dispatcher.wake()
    return error(f"The queue is cleared: {len(removed)} players removed.")


async def _announce(service: LadderService, interaction: Interaction) -> Reply:
    text = interaction.options.string("text")
    if text is None or not text.strip():
        raise BadInteraction("text is required")

    async def send() -> None:
        recipients = service.store.announce(text, service.clock.wall())
        service.dispatcher.wake()
        await edit_original(
            service.client,
            service.settings.application_id,
            interaction,
            MessageView(f"Announcement queued for {len(recipients)} players."),
        )

    return deferred(send)


async def _dispatch(service: LadderService, interaction: Interaction) -> Reply:
    strategy = interaction.options.string("strategy")
    if strategy is None:
        raise BadInteraction("strategy is required")
    try:
        service.dispatcher.set_strategy(strategy)
    except ValueError as exc:
        return error(str(exc))
    return error(f"Dispatch strategy is now {strategy}.")


_SUBCOMMANDS = {
    "wave": _wave,
    "resolve": _resolve,
    "adjust_mmr": _adjust_mmr,
    "ban": _ban_user,
    "unban": _unban_user,
    "clear_queue": _clear_queue,
    "announce": _announce,
    "dispatch": _dispatch,
}
