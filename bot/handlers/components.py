"""Button and select clicks: match confirm / abort / report, leave queue, leaderboard pages.

The custom_id is parsed first (`bot.views.custom_ids`); one the bot did not make is a 400.
A match click runs as one `LadderService.apply_match` step and is answered with a type-7
update through the callback route *inside* the match's lock (see `bot.handlers.replies`
for why); the update is drawn from the same view as the notifications, so the clicking
player sees exactly what the dispatcher would later draw for that state. A click the rules
refuse (too late, not your match, no aborts left) gets an ephemeral line and changes
nothing. Leaderboard and leave-queue clicks are answered with a plain type-7 body.
"""

from __future__ import annotations

from bot.handlers.commands import leaderboard_view, touch_player
from bot.handlers.interaction import BadInteraction, Interaction
from bot.handlers.replies import CallbackResponder, Reply, error, update
from bot.ladder import (
    LadderError,
    Match,
    PlayerState,
    Report,
    Transition,
    abort,
    confirm,
    match_view,
    report,
)
from bot.service import LadderService
from bot.views import MessageView, left_queue_message, match_found_message, match_message
from bot.views.custom_ids import LeaderboardNav, LeaveQueue, MatchAction, parse_custom_id

__all__ = ["click", "view_after"]

UPDATE_MESSAGE = 7


def view_after(transition: Transition, player_id: int, remaining_aborts: int) -> MessageView:
    """The clicking player's match message after a transition: the notification to them if
    the transition made one (same payload, same picture), else the match as they see it."""
    for note in transition.notifications:
        if note.player_id == player_id:
            return match_message(note.payload, remaining_aborts=remaining_aborts)
    return match_message(match_view(transition.match, player_id), remaining_aborts=remaining_aborts)


async def click(service: LadderService, interaction: Interaction) -> Reply:
    try:
        parsed = parse_custom_id(interaction.custom_id)
    except ValueError as exc:
        raise BadInteraction(str(exc)) from None
    if isinstance(parsed, MatchAction):
        return await _match_click(service, interaction, parsed)
    if interaction.values is not None:
        raise BadInteraction("a button click carries no values")
    if isinstance(parsed, LeaderboardNav):
        return update(leaderboard_view(service, parsed.race, max(0, parsed.target)))
    assert isinstance(parsed, LeaveQueue)
    return _leave_click(service, interaction)


def _leave_click(service: LadderService, interaction: Interaction) -> Reply:
    touch_player(service, interaction)
    player_id = interaction.user_id
    service.heartbeat.forget(player_id)
    if service.store.leave_queue(player_id):
        return update(left_queue_message())
    status = service.store.player_status(player_id)
    if status.state is PlayerState.IN_MATCH:
        # Matched already: show what phase 1 shows, never undo "Match found".
        return update(match_found_message({"match_id": status.match_id}))
    return update(MessageView(content="You are not in the queue."))


async def _match_click(
    service: LadderService, interaction: Interaction, action: MatchAction
) -> Reply:
    player_id = interaction.user_id
    claim: Report | None = None
    if action.action == "report":
        values = interaction.values or ()
        if len(values) != 1 or values[0] not in {r.value for r in Report}:
            raise BadInteraction("the result select needs exactly one of win, loss, draw")
        claim = Report(values[0])
    elif interaction.values is not None:
        raise BadInteraction("a button click carries no values")
    touch_player(service, interaction)
    config = service.config
    responder = CallbackResponder(service.client, interaction)

    def compute(match: Match) -> Transition:
        now = service.clock.wall()
        if action.action == "confirm":
            return confirm(match, player_id, now, config)
        if action.action == "abort":
            player = service.store.get_player(player_id)
            return abort(match, player_id, player.remaining_aborts if player else 0, now)
        assert claim is not None
        return report(match, player_id, claim, now, config)

    async def respond(transition: Transition) -> None:
        player = service.store.get_player(player_id)
        aborts = player.remaining_aborts if player else 0
        view = view_after(transition, player_id, aborts)
        await responder.send(UPDATE_MESSAGE, view.data())

    try:
        await service.apply_match(action.match_id, compute, respond=respond)
    except LadderError as refusal:
        return error(str(refusal))
    return responder.reply()
