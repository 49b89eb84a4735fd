"""The players' slash commands: /queue, /leave, /leaderboard, /profile, /setup, /replay.

Each handler first reads and checks every option (a malformed one raises `BadInteraction`
before anything is written), then makes its one state change through the store or the
service, then answers. Refusals the rules make (`LadderError`: banned, already queued,
bad race combination...) become an ephemeral one-line answer with nothing written.

/queue answers with the searching message itself (type 4). Its token and creation time are
stored with the queue row so phase 1 can edit it through the interaction webhook; the
message id is learnt right after (``GET @original``), as any bot must, for edits after the
token's 15 minutes. /replay downloads the file, which may be slow, so it defers (type 5).
"""

from __future__ import annotations

import logging

from bot.handlers.interaction import BadInteraction, Interaction
from bot.handlers.replies import Reply, deferred, edit_original, error, message
from bot.ladder import (
    Game,
    LadderError,
    Race,
    Transition,
    leaderboard_page,
    make_queue_request,
    replay_received,
)
from bot.ladder.players import Player
from bot.service import LadderService, sha256_hex
from bot.store import InteractionRef
from bot.views import (
    MessageView,
    leaderboard_message,
    left_queue_message,
    profile_message,
    searching_message,
)

__all__ = ["leaderboard", "leave", "profile", "queue", "replay", "setup", "touch_player"]

_log = logging.getLogger("bot.handlers")


def touch_player(service: LadderService, interaction: Interaction) -> Player:
    """The player's profile (made on their first command) and their DM channel."""
    store = service.store
    player = store.ensure_player(interaction.user_id, interaction.user_name, service.clock.wall())
    channel_id = interaction.channel_id
    if interaction.in_dm and channel_id is not None and store.dm_channel(player.id) != channel_id:
        store.set_dm_channel(player.id, channel_id)
    return player


def parse_race(value: str | None, game: Game | None) -> Race | None:
    if value is None:
        return None
    try:
        race = Race(value)
    except ValueError:
        raise BadInteraction(f"unknown race {value!r}") from None
    if game is not None and race.game is not game:
        raise BadInteraction(f"{value!r} is not a {game.value} race")
    return race


async def queue(service: LadderService, interaction: Interaction) -> Reply:
    options = interaction.options
    bw = parse_race(options.string("bw_race"), Game.BW)
    sc2 = parse_race(options.string("sc2_race"), Game.SC2)
    vetoes = [
        v for i in range(1, service.config.max_vetoes + 1) if (v := options.string(f"veto{i}"))
    ]
    try:
        request = make_queue_request([r for r in (bw, sc2) if r], vetoes, service.config)
    except LadderError as refusal:
        return error(str(refusal))
    touch_player(service, interaction)
    ref = InteractionRef(interaction.token, interaction.created_at, interaction.channel_id, None)
    try:
        row = service.store.enqueue(interaction.user_id, request, ref, service.clock.wall())
    except LadderError as refusal:
        return error(str(refusal))
    view = searching_message(
        service.store.queue_counts(),
        service.next_wave_at(),
        bw_race=row.bw_race,
        sc2_race=row.sc2_race,
        vetoes=row.vetoes,
    )
    channel_id = interaction.channel_id

    async def learn() -> None:
        if channel_id is not None:
            await service.learn_searching_message(
                interaction.user_id, interaction.token, channel_id
            )

    return Reply(message(view).body, learn)


async def leave(service: LadderService, interaction: Interaction) -> Reply:
    touch_player(service, interaction)
    row = service.store.queue_entry(interaction.user_id)
    if row is None:
        return error("You are not in the queue.")
    service.heartbeat.forget(interaction.user_id)
    if not service.store.leave_queue(interaction.user_id):
        return error("You are not in the queue.")

    async def tidy() -> None:
        await service.edit_searching(row.interaction, left_queue_message())

    return Reply(error("You left the queue.").body, tidy)


async def leaderboard(service: LadderService, interaction: Interaction) -> Reply:
    options = interaction.options
    race = parse_race(options.string("race"), None)
    page = options.integer("page")
    if page is not None and page < 1:
        raise BadInteraction("page starts at 1")
    index = (page or 1) - 1
    return message(leaderboard_view(service, race, index))


def leaderboard_view(service: LadderService, race: Race | None, page: int) -> MessageView:
    rows = service.store.leaderboard_rows(race)
    return leaderboard_message(leaderboard_page(rows, race, page, service.config))


async def profile(service: LadderService, interaction: Interaction) -> Reply:
    target = interaction.options.user("user")
    me = touch_player(service, interaction)
    player = me if target is None else service.store.get_player(target[0])
    if player is None:
        assert target is not None
        return error(f"{target[1]} has no ladder profile yet.")
    view = profile_message(
        player,
        service.store.ratings(player.id),
        service.store.player_status(player.id),
        service.config.start_mmr,
    )
    return message(view, ephemeral=True)


async def setup(service: LadderService, interaction: Interaction) -> Reply:
    options = interaction.options
    country = options.string("country")
    region = options.string("region")
    if country is None:
        raise BadInteraction("country is required")
    country = country.strip().upper()
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        return error("The country must be a two-letter code, e.g. DE or KR.")
    regions = {r for pair in service.config.servers for r in pair}
    if region is not None and region not in regions:
        return error(f"Unknown region {region!r}; choose one of {', '.join(sorted(regions))}.")
    touch_player(service, interaction)
    player = service.store.set_profile(interaction.user_id, country, region)
    return error(f"Profile saved: country {player.country}, region {player.region or '-'}.")


async def replay(service: LadderService, interaction: Interaction) -> Reply:
    attachment = interaction.options.attachment("file")
    if attachment is None:
        raise BadInteraction("the file option is required")
    touch_player(service, interaction)
    match = service.store.open_match_for(interaction.user_id)
    if match is None:
        return error("You have no match in progress to attach a replay to.")
    if attachment.size > service.max_replay_bytes:
        return error(f"The file is too large (at most {service.max_replay_bytes} bytes).")
    player_id = interaction.user_id

    async def store_replay() -> None:
        try:
            content = await service.download(attachment.url, service.max_replay_bytes)
        except Exception as exc:
            _log.warning("event=replay_download_failed match=%d error=%r", match.id, exc)
            text = "The replay could not be downloaded; please try again."
        else:
            facts = {"name": attachment.filename, "size": len(content)}
            facts["sha256"] = sha256_hex(content)

            def persist(transition: Transition, now: float) -> None:
                service.store.add_replay(
                    player_id,
                    attachment.filename,
                    len(content),
                    str(facts["sha256"]),
                    now,
                    transition,
                )

            try:
                await service.apply_match(
                    match.id,
                    lambda m: replay_received(m, player_id, facts),
                    persist=persist,
                )
            except LadderError as refusal:
                text = str(refusal)
            else:
                text = (
                    f"Replay received for match #{match.id}: {attachment.filename} "
                    f"({len(content)} bytes, sha256 {str(facts['sha256'])[:12]}…)."
                )
        await edit_original(
            service.client, service.settings.application_id, interaction, MessageView(text)
        )

    return deferred(store_replay)
