"""The Discord adapter: discord.py's client embedded in Hearth's event loop.

Gateway events become engine events; slash commands are generated from the engine's command
registry (`adapters.discord_commands`) and answered with interaction responses; every other
action is a REST call. Decisions worth knowing:

- Places: ``group_id`` is the guild id; ``channel_id`` is the channel a message was posted
  in and, inside a thread (or forum post), ``channel_id`` is the thread's parent channel and
  ``thread_id`` the thread, so a channel's activity includes its threads. Actions go to the
  thread when a place has one.
- Ignored: the bot's own messages, DMs (not group activity), system messages, edits and
  deletes. Other bots and webhooks are passed on with ``Author.is_bot``.
- Privileged intents (Message Content, Server Members) that are not enabled for the bot in
  the developer portal are dropped before connecting, with a warning saying what stops
  working: Discord refuses the whole connection (close code 4014) if a bot asks for them.
- Nothing pings: every message is sent with no allowed mentions, except that a reply may
  notify the member it answers. Text is sent as the engine wrote it (plain text).
- Slash commands are answered by `adapters.discord_commands.Interactions`.
- After every READY and RESUMED, what was posted while Hearth was not connected is read from
  channel history and counted quietly (`adapters.discord_backfill`).
- HTTP errors become `DeliveryFailed` here; retries on rate limits and server errors are
  discord.py's.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import discord

from adapters import discord_commands
from adapters.discord_backfill import Backfill
from adapters.discord_commands import (
    MESSAGE_LIMIT,
    PLATFORM,
    Interactions,
    author_of,
    command_event,
    invoker_role,
    place_of,
)
from adapters.discord_send import NO_PINGS, DiscordSender, snowflake
from adapters.images import ImageFetcher
from bot.clock import Clock
from bot.config import DiscordSettings, Settings
from bot.engine import Engine
from bot.errors import ConfigError, DeliveryFailed, DeliveryProblem
from bot.events import (
    Action,
    Author,
    Event,
    MemberJoined,
    MemberLeft,
    Message,
    ReactionAdded,
    Role,
)
from bot.media import file_kind
from bot.tasks import finish, stop_task

__all__ = ["MESSAGE_LIMIT", "PLATFORM", "DiscordAdapter", "sync_global_commands"]

logger = logging.getLogger(__name__)

DEFER_AFTER = 2.0
DRAIN_TIMEOUT = 5.0
_PORTAL = "https://discord.com/developers/applications → your application → Bot → Privileged"
MESSAGE_CONTENT_WARNING = (
    "Discord: the Message Content intent is not enabled for this bot, so Hearth connects "
    "without it. Activity is still counted, but message text arrives empty: the FAQ cannot "
    "read questions and no message text is stored. Enable it in the developer portal "
    f"({_PORTAL} Gateway Intents → Message Content Intent) and restart Hearth."
)
MEMBERS_WARNING = (
    "Discord: the Server Members intent is not enabled for this bot, so Hearth connects "
    "without it: joins and leaves are not recorded. Enable it in the developer portal "
    f"({_PORTAL} Gateway Intents → Server Members Intent) and restart Hearth."
)
_COUNTED = (discord.MessageType.default, discord.MessageType.reply)


def _intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.guild_messages = True
    intents.message_content = True
    intents.guild_reactions = True
    return intents


def _drop_missing_intents(client: discord.Client) -> None:
    """Stop asking for privileged intents the bot lacks (Discord would refuse to connect)."""
    flags = client.application_flags
    # discord.py has no public setter; IDENTIFY reads this object when connecting.
    intents = client._connection._intents
    if not (flags.gateway_message_content or flags.gateway_message_content_limited):
        intents.message_content = False
        logger.warning(MESSAGE_CONTENT_WARNING)
    if not (flags.gateway_guild_members or flags.gateway_guild_members_limited):
        intents.members = False
        logger.warning(MEMBERS_WARNING)


def _kind(message: discord.Message) -> str:
    """What a message is: a sticker, a poll, its first attachment's kind, or text."""
    if message.stickers:
        return "sticker"
    if message.poll is not None:
        return "poll"
    if message.attachments:
        first = message.attachments[0]
        return file_kind(first.content_type, first.filename, voice=first.is_voice_message())
    return "text"


def _message_event(message: discord.Message, *, backfilled: bool = False) -> Message | None:
    if message.guild is None or message.type not in _COUNTED:
        return None
    kind = _kind(message)
    text = message.content
    if kind == "poll" and message.poll is not None and not text:
        text = message.poll.question or ""
    reference = message.reference
    reply_to = None
    if message.type is discord.MessageType.reply and reference is not None:
        reply_to = None if reference.message_id is None else str(reference.message_id)
    return Message(
        place=place_of(message.guild.id, message.channel, message.channel.id, message.guild.name),
        message_id=str(message.id),
        author=author_of(message.author, webhook=message.webhook_id is not None),
        text=text,
        sent_at=message.created_at,
        reply_to=reply_to,
        mentions=tuple(str(user.id) for user in message.mentions),
        backfilled=backfilled,
        kind=kind,
    )


class DiscordAdapter:
    """Connects Hearth to Discord through discord.py."""

    name = PLATFORM

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        defer_after: float = DEFER_AFTER,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        """Build the adapter; nothing connects until `run`.

        Args:
            settings: Hearth's settings (``discord.*`` is read).
            clock: the time for events Discord does not timestamp (leaves, reactions).
            defer_after: seconds the engine may take before a slash command is deferred.
            client_options: extra keyword arguments for the discord.py client (tests pass
                ``guild_ready_timeout``).
        """
        if not settings.discord.token:
            raise ConfigError("discord.token: not set (or set HEARTH_DISCORD_TOKEN)")
        self.settings: DiscordSettings = settings.discord
        self.clock = clock
        self.client_options = dict(client_options or {})
        self.client: discord.Client | None = None
        #: Set once the gateway is ready (all guilds received).
        self.ready = asyncio.Event()
        self._engine: Engine | None = None
        self.interactions = Interactions(
            ephemeral_replies=settings.discord.ephemeral_replies, defer_after=defer_after
        )
        images = ImageFetcher.from_settings(settings.schedule)
        self.sender = DiscordSender(self.interactions, clock, images)
        self._synced: set[int] = set()
        self._inflight: set[asyncio.Task[Any]] = set()
        #: discord.py runs each gateway event in a task of its own; the engine takes them one
        #: at a time, in the order they arrived (its state is per member, awaited on first
        #: use), and backfilled messages between them. Actions go out concurrently.
        self._in_order = asyncio.Lock()
        self.backfill = Backfill(settings.discord)
        #: Backfills finished since start (each READY or RESUMED asks for one).
        self.backfills = 0
        self._backfill_task: asyncio.Task[None] | None = None
        self._backfill_until: datetime | None = None

    # ------------------------------------------------------------------ lifecycle

    def _build_client(self) -> discord.Client:
        discord_commands.quiet_voice_warnings()
        options: dict[str, Any] = {
            "intents": _intents(),
            "allowed_mentions": NO_PINGS,
            "chunk_guilds_at_startup": False,  # members are fetched when needed
            "max_messages": None,  # edits and deletes are not used: no message cache
            **self.client_options,
        }
        client: discord.Client
        if self.settings.shard_count is not None:
            client = discord.AutoShardedClient(
                shard_count=self.settings.shard_count,
                shard_ids=list(self.settings.shard_ids) or None,  # type: ignore[arg-type]
                **options,
            )
        else:
            client = discord.Client(**options)
        handlers = {
            "on_ready": self._on_ready,
            "on_resumed": self._on_resumed,
            "on_shard_ready": self._on_shard_ready,
            "on_guild_available": self._on_guild,
            "on_guild_join": self._on_guild,
            "on_message": self._on_message,
            "on_member_join": self._on_member_join,
            "on_raw_member_remove": self._on_member_remove,
            "on_raw_reaction_add": self._on_reaction,
            "on_interaction": self._on_interaction,
        }
        for event, handler in handlers.items():
            setattr(client, event, handler)
        return client

    async def run(self, engine: Engine) -> None:
        """Log in, connect to the gateway and feed events to `engine` until cancelled.

        Raises:
            ConfigError: Discord rejected the token.
        """
        self._engine = engine
        client = self._build_client()
        self.client = client
        try:
            async with client:
                try:
                    await client.login(self.settings.token)
                    _drop_missing_intents(client)
                    await client.connect()
                finally:
                    await stop_task(self._backfill_task)
                    self._backfill_task = None
                    await self._drain()
        except discord.LoginFailure:
            raise ConfigError("discord.token: Discord rejected the token") from None
        finally:
            self.client = None
            self._engine = None

    async def _drain(self) -> None:
        """Let events being handled finish (briefly) while the client can still answer."""
        tasks = {task for task in self._inflight if task is not asyncio.current_task()}
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def _feed(self, event: Event) -> None:
        engine = self._engine
        task = asyncio.current_task()
        if engine is None or task is None:
            return
        self._inflight.add(task)
        try:
            async with self._in_order:
                actions = await engine.handle(event)
            await engine.services.dispatcher.dispatch(actions)
        finally:
            self._inflight.discard(task)

    # ------------------------------------------------------------------ gateway events

    async def _on_ready(self) -> None:
        client = self.client
        if client is not None and client.user is not None:
            logger.info("discord: ready as %s in %d guilds", client.user, len(client.guilds))
        self.ready.set()
        self._request_backfill()

    async def _on_resumed(self) -> None:
        self._request_backfill()

    async def _on_shard_ready(self, shard_id: int) -> None:
        # One shard identified again after start (sharded clients send no new on_ready then).
        if self.ready.is_set():
            self._request_backfill()

    # ------------------------------------------------------------------ backfill

    def _request_backfill(self) -> None:
        """Backfill up to now, after the running backfill if there is one (not blocking the
        gateway: it runs as a task)."""
        if not self.backfill.enabled:
            return
        self._backfill_until = self.clock.now()
        if self._backfill_task is None or self._backfill_task.done():
            self._backfill_task = asyncio.create_task(self._backfills(), name="discord-backfill")

    async def _backfills(self) -> None:
        while (until := self._backfill_until) is not None:
            self._backfill_until = None
            client, engine = self.client, self._engine
            if client is None or engine is None:
                return
            try:
                await self.backfill.run(client, engine, self._backfill_message, until=until)
            except Exception:
                logger.exception("discord: backfill failed")
            self.backfills += 1

    async def _backfill_message(self, message: discord.Message) -> bool:
        """Hand a history message to the engine (which returns no actions for it)."""
        client, engine = self.client, self._engine
        if client is None or engine is None or client.user is None:
            return False
        if message.author.id == client.user.id:
            return False
        event = _message_event(message, backfilled=True)
        if event is None:
            return False
        # A stop lets the message finish: cut between its activity row and its XP, the row
        # would be written without the XP, and the next backfill starts after that row.
        async with self._in_order:
            await finish(engine.handle(event))
        return True

    async def _on_guild(self, guild: discord.Guild) -> None:
        client, engine = self.client, self._engine
        if client is None or engine is None or not self.settings.sync_commands_at_start:
            return
        if guild.id not in self._synced:
            self._synced.add(guild.id)
            await discord_commands.sync_guild_commands(client, guild.id, engine.registry)

    async def _on_message(self, message: discord.Message) -> None:
        client = self.client
        if client is None or client.user is None or message.author.id == client.user.id:
            return
        event = _message_event(message)
        if event is not None:
            await self._feed(event)

    async def _on_member_join(self, member: discord.Member) -> None:
        client = self.client
        if client is None or client.user is None or member.id == client.user.id:
            return
        at = member.joined_at or self.clock.now()
        await self._feed(MemberJoined(PLATFORM, str(member.guild.id), author_of(member), at))

    async def _on_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        client = self.client
        if client is None or client.user is None or payload.user.id == client.user.id:
            return
        author = author_of(payload.user)
        await self._feed(MemberLeft(PLATFORM, str(payload.guild_id), author, self.clock.now()))

    async def _on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        client = self.client
        if client is None or client.user is None or payload.guild_id is None:
            return
        if payload.user_id == client.user.id:
            return
        guild = client.get_guild(payload.guild_id)
        channel = guild.get_channel_or_thread(payload.channel_id) if guild else None
        user = payload.member or client.get_user(payload.user_id)
        reactor = author_of(user) if user else Author(str(payload.user_id), str(payload.user_id))
        author_id = payload.message_author_id
        await self._feed(
            ReactionAdded(
                place=place_of(
                    payload.guild_id, channel, payload.channel_id, guild.name if guild else None
                ),
                message_id=str(payload.message_id),
                reactor=reactor,
                emoji=str(payload.emoji),
                at=self.clock.now(),
                message_author_id=None if author_id is None else str(author_id),
            )
        )

    # ------------------------------------------------------------------ slash commands

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        engine = self._engine
        if engine is None:
            return
        event = command_event(interaction, engine.registry, self.settings)
        if event is not None:
            await self.interactions.handle(interaction, self._feed(event))

    async def member_role(self, group_id: str, user_id: str) -> Role | None:
        """The member's role from their guild permissions and roles now (a member who left
        is a plain member); None when Discord cannot be asked."""
        client = self.client
        guild = None if client is None else client.get_guild(snowflake(group_id))
        if guild is None:
            return None
        try:
            member = guild.get_member(snowflake(user_id)) or await guild.fetch_member(
                snowflake(user_id)
            )
        except discord.NotFound:
            return Role.MEMBER
        except (discord.HTTPException, ValueError):
            logger.warning("discord: fetching member %s of guild %s failed", user_id, group_id)
            return None
        roles = [(str(role.id), role.name) for role in member.roles]
        return invoker_role(member.guild_permissions.value, roles, self.settings)

    # ------------------------------------------------------------------ actions

    async def perform(self, action: Action) -> str | None:
        """Carry out one action on Discord; returns the id of the (first) message sent.

        Raises:
            DeliveryFailed: Discord refused it (DM_CLOSED for closed DMs, FORBIDDEN for a
                missing permission or a role above the bot's, NOT_FOUND for something gone,
                FAILED otherwise) or Hearth is not connected.
        """
        client = self.client
        if client is None or client.is_closed() or client.user is None:
            raise DeliveryFailed(action, DeliveryProblem.FAILED, "not connected to Discord")
        return await self.sender.perform(client, action)


async def sync_global_commands(settings: Settings, engine: Engine) -> int:
    """Register the engine's commands globally (``hearth discord sync``); returns how many.

    Global commands reach every guild, but Discord may take a while to show changes; guild
    commands (``discord.sync_commands_at_start``) show at once. Use one or the other, or
    members see each command twice.

    Raises:
        ConfigError: no token, or Discord rejected it.
        HearthError: Discord refused the command list.
    """
    if not settings.discord.token:
        raise ConfigError("discord.token: not set (or set HEARTH_DISCORD_TOKEN)")
    return await discord_commands.sync_global_commands(settings.discord.token, engine.registry)
