"""The mock's in-memory world: what Discord would hold for the bots that talk to it.

The HTTP layer (`mockdiscord.server`) validates requests and maps them onto this state;
the rate-limit engine never sees it. Everything here is plain data plus the few rules that
are about state rather than about HTTP:

- snowflakes come from the injected clock, so `created_at` derived from an id agrees with
  the timestamps the mock reports and with the clock the engine judges by;
- message creation honours `nonce` + `enforce_nonce` (one message per author and nonce
  within `nonce_window_s`, as Discord documents it: author-scoped, not channel-scoped);
- an interaction token expires `interaction_lifetime_s` after the interaction was created;
- listeners registered with `add_interaction_listener` are called whenever an interaction
  is acknowledged, and `Interaction.responded` is set, so the interaction-delivery code can
  judge the 3-second deadline without polling;
- listeners registered with `add_message_listener` are called with ("created" | "updated" |
  "deleted", message) on every change, which feeds the live event stream.

Randomness (tokens, Ed25519 keys) comes from one seeded `random.Random`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey

from mockdiscord.clock import Clock
from mockdiscord.interactions.cdn import CdnStore
from mockdiscord.snowflake import SnowflakeGenerator
from mockdiscord.tokens import bot_id_from_token, make_bot_token, make_interaction_token

__all__ = [
    "Application",
    "Channel",
    "ChannelType",
    "Command",
    "Guild",
    "Interaction",
    "InteractionType",
    "Message",
    "MessageFlags",
    "User",
    "World",
    "WorldConfig",
]

JSON = dict[str, Any]


class ChannelType:
    GUILD_TEXT = 0
    DM = 1


class InteractionType:
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class MessageFlags:
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7


@dataclass(frozen=True, slots=True)
class WorldConfig:
    interaction_lifetime_s: float = 900.0
    nonce_window_s: float = 300.0
    guild_name: str = "Sandbox"
    channel_name: str = "general"


@dataclass(slots=True)
class User:
    id: str
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_closed: bool = False


@dataclass(slots=True)
class Command:
    id: str
    application_id: str
    name: str
    type: int
    description: str
    version: str
    fields: JSON = field(default_factory=dict)  # options, localizations, contexts...


@dataclass(slots=True)
class Application:
    id: str
    name: str
    bot: User
    bot_token: str
    signing_key: SigningKey
    interactions_url: str | None = None
    verify_probe: bool = False  # saving the URL also sends a badly signed request (want 401)
    global_limit: int | None = None  # None: the profile's default
    commands: list[Command] = field(default_factory=list)

    @property
    def public_key(self) -> str:
        return self.signing_key.verify_key.encode().hex()


@dataclass(slots=True)
class Guild:
    id: str
    name: str
    owner_id: str


@dataclass(slots=True)
class Channel:
    id: str
    type: int
    guild_id: str | None = None
    name: str | None = None
    topic: str | None = None
    recipient_id: str | None = None  # DM: the human user
    bot_id: str | None = None  # DM: the bot user at the other end
    last_message_id: str | None = None
    messages: dict[str, Message] = field(default_factory=dict)


@dataclass(slots=True)
class Message:
    id: str
    channel_id: str
    author_id: str
    content: str
    created_wall: float
    created_mono: float
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    nonce: str | int | None = None
    edited_wall: float | None = None
    flags: int = 0
    tts: bool = False
    type: int = 0
    webhook_id: str | None = None
    application_id: str | None = None
    interaction_id: str | None = None
    message_reference: JSON | None = None


@dataclass(slots=True)
class Interaction:
    id: str
    application_id: str
    token: str
    type: int
    user_id: str
    channel_id: str
    created_mono: float
    created_wall: float
    guild_id: str | None = None
    data: JSON = field(default_factory=dict)
    message_id: str | None = None  # the message a component interaction came from
    acknowledged: bool = False
    response_type: int | None = None
    responded_mono: float | None = None
    original_message_id: str | None = None
    ephemeral: bool = False
    failed: bool = False  # set by the deadline logic: later callbacks get 10062
    followup_ids: list[str] = field(default_factory=list)
    responded: asyncio.Event = field(default_factory=asyncio.Event)


InteractionListener = Callable[[Interaction], None]
MessageListener = Callable[[str, "Message"], None]


class World:
    """All state of one mock Discord, created with one default application."""

    def __init__(
        self,
        clock: Clock,
        *,
        config: WorldConfig | None = None,
        seed: int | None = None,
        default_token: str | None = None,
    ) -> None:
        self.clock = clock
        self.config = config or WorldConfig()
        self.interaction_lifetime_s = self.config.interaction_lifetime_s
        self._rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self._ids = SnowflakeGenerator(clock)
        self._listeners: list[InteractionListener] = []
        self._message_listeners: list[MessageListener] = []
        #: uploaded file bytes, served at /_mock/cdn/attachments/... (Discord's CDN)
        self.cdn = CdnStore()
        self.applications: dict[str, Application] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.interactions: dict[str, Interaction] = {}
        self._apps_by_token: dict[str, Application] = {}
        self._interactions_by_token: dict[str, Interaction] = {}
        self._dms: dict[tuple[str, str], Channel] = {}
        self._nonces: dict[tuple[str, str], tuple[str, float]] = {}
        self.default_application = self.create_application("Sandbox Bot", token=default_token)
        self.guild = Guild(self.new_id(), self.config.guild_name, self.default_application.bot.id)
        self.text_channel = self._add_guild_channel(self.config.channel_name)

    # ids and time ------------------------------------------------------------------------

    def new_id(self) -> str:
        return self._ids.next()

    def _now(self) -> tuple[float, float]:
        return self.clock.wall(), self.clock.monotonic()

    # applications ------------------------------------------------------------------------

    def create_application(self, name: str, *, token: str | None = None) -> Application:
        """A new application with its bot user, bot token and Ed25519 key pair.

        A given `token` must encode its bot id (`bot_id_from_token`); that id becomes the bot
        user's id so that clients decoding the token agree with `/users/@me`.
        """
        if token is not None:
            bot_id = bot_id_from_token(token)
            if bot_id is None or bot_id in self.users:
                raise ValueError("a bot token must look like base64(<new bot user id>).x.y")
        else:
            bot_id = self.new_id()
        bot = User(id=bot_id, username=name.lower().replace(" ", "-")[:32], bot=True)
        app = Application(
            id=self.new_id(),
            name=name,
            bot=bot,
            bot_token=token or make_bot_token(bot_id, self._rng),
            signing_key=SigningKey(self._rng.randbytes(32)),
        )
        self.users[bot.id] = bot
        self.applications[app.id] = app
        self._apps_by_token[app.bot_token] = app
        return app

    def application_by_token(self, token: str) -> Application | None:
        return self._apps_by_token.get(token)

    def application_by_bot_id(self, bot_id: str) -> Application | None:
        return next((a for a in self.applications.values() if a.bot.id == bot_id), None)

    def set_commands(self, app: Application, commands: Iterable[JSON]) -> list[Command]:
        """Bulk overwrite: a command keeps its id when one of the same name and type exists."""
        old = {(c.name, c.type): c for c in app.commands}
        result: list[Command] = []
        for payload in commands:
            name = str(payload["name"])
            ctype = int(payload.get("type", 1))
            extra = {k: v for k, v in payload.items() if k not in ("name", "type", "description")}
            previous = old.get((name, ctype))
            result.append(
                Command(
                    id=previous.id if previous else self.new_id(),
                    application_id=app.id,
                    name=name,
                    type=ctype,
                    description=str(payload.get("description", "")),
                    version=self.new_id(),
                    fields=extra,
                )
            )
        app.commands = result
        return result

    # users and channels --------------------------------------------------------------------

    def create_user(self, username: str, *, dms_closed: bool = False) -> User:
        user = User(id=self.new_id(), username=username, global_name=username)
        user.dms_closed = dms_closed
        self.users[user.id] = user
        return user

    def human_users(self) -> list[User]:
        return [u for u in self.users.values() if not u.bot]

    def _add_guild_channel(self, name: str) -> Channel:
        channel = Channel(id=self.new_id(), type=ChannelType.GUILD_TEXT, guild_id=self.guild.id)
        channel.name = name
        self.channels[channel.id] = channel
        return channel

    def open_dm(self, bot: User, recipient: User) -> Channel:
        """The DM channel between a bot and a user, created on first use (idempotent)."""
        key = (bot.id, recipient.id)
        channel = self._dms.get(key)
        if channel is None:
            channel = Channel(
                id=self.new_id(), type=ChannelType.DM, recipient_id=recipient.id, bot_id=bot.id
            )
            self._dms[key] = channel
            self.channels[channel.id] = channel
        return channel

    def dm_between(self, bot: User, recipient: User) -> Channel | None:
        return self._dms.get((bot.id, recipient.id))

    def channel_visible_to_bot(self, channel: Channel, bot: User) -> bool:
        return channel.type != ChannelType.DM or channel.bot_id == bot.id

    # messages ----------------------------------------------------------------------------

    def find_by_nonce(self, author_id: str, nonce: str | int) -> Message | None:
        entry = self._nonces.get((author_id, str(nonce)))
        if entry is None:
            return None
        message_id, created_mono = entry
        if self.clock.monotonic() - created_mono > self.config.nonce_window_s:
            return None
        return self.find_message(message_id)

    def create_message(
        self,
        channel: Channel,
        author: User,
        *,
        content: str = "",
        embeds: list[JSON] | None = None,
        components: list[JSON] | None = None,
        attachments: list[JSON] | None = None,
        nonce: str | int | None = None,
        enforce_nonce: bool = False,
        flags: int = 0,
        tts: bool = False,
        message_type: int = 0,
        application_id: str | None = None,
        interaction_id: str | None = None,
        message_reference: JSON | None = None,
    ) -> tuple[Message, bool]:
        """Store a message; returns (message, created). With `enforce_nonce`, a nonce the
        same author used within the window returns that first message and `created=False`."""
        if enforce_nonce and nonce is not None:
            first = self.find_by_nonce(author.id, nonce)
            if first is not None:
                return first, False
        wall, mono = self._now()
        message = Message(
            id=self.new_id(),
            channel_id=channel.id,
            author_id=author.id,
            content=content,
            created_wall=wall,
            created_mono=mono,
            embeds=list(embeds or []),
            components=list(components or []),
            attachments=list(attachments or []),
            nonce=nonce,
            flags=flags,
            tts=tts,
            type=message_type,
            webhook_id=application_id if interaction_id else None,
            application_id=application_id,
            interaction_id=interaction_id,
            message_reference=message_reference,
        )
        channel.messages[message.id] = message
        channel.last_message_id = message.id
        if nonce is not None:
            self._nonces[(author.id, str(nonce))] = (message.id, mono)
        self._message_changed("created", message)
        return message, True

    def find_message(self, message_id: str) -> Message | None:
        for channel in self.channels.values():
            message = channel.messages.get(message_id)
            if message is not None:
                return message
        return None

    def edit_message(self, message: Message, changes: JSON) -> Message:
        """Apply already-validated fields (content, embeds, components, attachments, flags)."""
        for name in ("content", "embeds", "components", "attachments", "flags"):
            if name in changes:
                setattr(message, name, changes[name])
        message.edited_wall = self.clock.wall()
        self._message_changed("updated", message)
        return message

    def delete_message(self, message: Message) -> None:
        channel = self.channels.get(message.channel_id)
        if channel is not None and channel.messages.pop(message.id, None) is not None:
            self._message_changed("deleted", message)

    def list_messages(
        self,
        channel: Channel,
        *,
        limit: int = 50,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
        include_ephemeral: bool = True,
    ) -> list[Message]:
        """Newest first, like Discord; `after` walks forward from the oldest above it.
        Bots never see ephemeral messages through channel routes (`include_ephemeral`)."""
        ordered = sorted(
            (
                m
                for m in channel.messages.values()
                if include_ephemeral or not m.flags & MessageFlags.EPHEMERAL
            ),
            key=lambda m: int(m.id),
        )
        if around is not None:
            older = [m for m in ordered if int(m.id) <= around][-((limit + 1) // 2) :]
            newer = [m for m in ordered if int(m.id) > around][: limit - len(older)]
            return list(reversed(older + newer))
        if after is not None:
            picked = [m for m in ordered if int(m.id) > after][:limit]
            return list(reversed(picked))
        if before is not None:
            ordered = [m for m in ordered if int(m.id) < before]
        return list(reversed(ordered[-limit:])) if limit else []

    # interactions ------------------------------------------------------------------------

    def create_interaction(
        self,
        application: Application,
        user: User,
        channel: Channel,
        *,
        interaction_type: int = InteractionType.APPLICATION_COMMAND,
        data: JSON | None = None,
        message: Message | None = None,
    ) -> Interaction:
        """A new interaction with a fresh token; the caller delivers it to the bot."""
        interaction_id = self.new_id()
        wall, mono = self._now()
        interaction = Interaction(
            id=interaction_id,
            application_id=application.id,
            token=make_interaction_token(interaction_id, self._rng),
            type=interaction_type,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            created_mono=mono,
            created_wall=wall,
            data=dict(data or {}),
            message_id=message.id if message else None,
        )
        self.interactions[interaction.id] = interaction
        self._interactions_by_token[interaction.token] = interaction
        return interaction

    def interaction_by_token(self, token: str) -> Interaction | None:
        return self._interactions_by_token.get(token)

    def interaction_token_expired(self, interaction: Interaction) -> bool:
        age = self.clock.monotonic() - interaction.created_mono
        return age > self.interaction_lifetime_s

    def acknowledge(self, interaction: Interaction, response_type: int, *, ephemeral: bool) -> None:
        """Record the one allowed response; the caller has checked it is the first."""
        interaction.acknowledged = True
        interaction.response_type = response_type
        interaction.responded_mono = self.clock.monotonic()
        interaction.ephemeral = ephemeral
        interaction.responded.set()
        for listener in list(self._listeners):
            listener(interaction)

    def add_interaction_listener(self, listener: InteractionListener) -> None:
        """Called synchronously with the interaction each time one is acknowledged."""
        self._listeners.append(listener)

    def remove_interaction_listener(self, listener: InteractionListener) -> None:
        self._listeners.remove(listener)

    def add_message_listener(self, listener: MessageListener) -> None:
        """Called synchronously with ("created" | "updated" | "deleted", message)."""
        self._message_listeners.append(listener)

    def _message_changed(self, kind: str, message: Message) -> None:
        for listener in self._message_listeners:
            listener(kind, message)

    # lifecycle -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything except the default application, the guild and its channel."""
        default = self.default_application
        default.commands = []
        self.applications = {default.id: default}
        self._apps_by_token = {default.bot_token: default}
        self.users = {default.bot.id: default.bot}
        self.text_channel.messages.clear()
        self.text_channel.last_message_id = None
        self.channels = {self.text_channel.id: self.text_channel}
        self.interactions.clear()
        self._interactions_by_token.clear()
        self._dms.clear()
        self._nonces.clear()
        self.cdn.clear()
