"""Discord backfill: messages sent while Hearth was not connected, read from channel history.

Discord never redelivers gateway events, so what was posted while Hearth was down (or while
the gateway reconnected) would be lost. After every READY and RESUMED the adapter runs a
`Backfill`: for each text channel and active thread of every guild it reads the history after
the newest message the activity log holds for it (one query per guild), bounded by
``discord.backfill_hours`` and ``discord.backfill_messages``, oldest first, and hands each
message to the engine as an ordinary event marked ``backfilled``. The adapter performs none
of the actions the engine returns for them: no replies, FAQ answers, level-up posts, role
changes or moderation actions (those are logged at debug level).

History is read up to the moment of the READY/RESUMED only: later messages arrive through the
gateway and are answered as usual. A message already logged is not read again (history after
the stored id), and one the engine handled since (a queued row, a redelivery) is dropped by
the engine's recent keys, so nothing counts twice.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import discord

from adapters.discord_commands import PLATFORM
from bot.config import DiscordSettings
from bot.engine import Engine
from storage.activity import latest_message_ids

__all__ = ["PARALLEL_CHANNELS", "Backfill"]

logger = logging.getLogger(__name__)

#: Channels read at the same time (each a paged REST call at a time).
PARALLEL_CHANNELS = 4
Channel = discord.TextChannel | discord.Thread
#: Hands one history message to the engine; True if it became an event.
Handler = Callable[[discord.Message], Awaitable[bool]]


def _key(channel: Channel) -> tuple[str, str | None]:
    """The (channel_id, thread_id) the activity log stores messages of `channel` under."""
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return str(channel.parent_id), str(channel.id)
    return str(channel.id), None


def _readable(channel: Channel) -> bool:
    me = channel.guild.me
    if me is None:
        return True  # unknown: try, a refusal is logged
    permissions = channel.permissions_for(me)
    return permissions.view_channel and permissions.read_message_history


class Backfill:
    """Reads the history Hearth missed and hands it to the engine, quietly."""

    def __init__(self, settings: DiscordSettings, *, parallel: int = PARALLEL_CHANNELS) -> None:
        self.window = timedelta(hours=settings.backfill_hours)
        self.limit = settings.backfill_messages
        self.parallel = parallel

    @property
    def enabled(self) -> bool:
        """False when ``backfill_hours`` or ``backfill_messages`` is 0."""
        return self.window > timedelta(0) and self.limit > 0

    async def run(
        self, client: discord.Client, engine: Engine, handle: Handler, *, until: datetime
    ) -> int:
        """Backfill every guild of `client` up to `until`; returns how many messages were
        handed to the engine.

        Channels are read in parallel (at most `parallel` requests at a time), but their
        messages go to the engine merged in the order they were sent, as they would have
        arrived live: cooldowns and streaks see the same sequence."""
        since = until - self.window
        floor = discord.utils.time_snowflake(since) - 1  # inclusive
        ceiling = discord.utils.time_snowflake(until)
        starts: list[tuple[Channel, int]] = []
        for guild in client.guilds:
            stored = await self._stored(guild, engine, since)
            if stored is None:
                continue
            channels: list[Channel] = [*guild.text_channels, *guild.threads]
            starts += [
                (channel, max(floor, stored.get(_key(channel), 0)))
                for channel in channels
                if _readable(channel)
            ]
        gate = asyncio.Semaphore(self.parallel)
        streams = [
            _Stream(channel, after, self._read(channel, after, ceiling))
            for channel, after in starts
        ]
        heads = await asyncio.gather(*(stream.next(gate) for stream in streams))
        queue = [(message.id, n, message) for n, message in enumerate(heads) if message]
        heapq.heapify(queue)
        total = 0
        while queue:
            _, n, message = heapq.heappop(queue)
            if await handle(message):
                total += 1
            following = await streams[n].next(gate)
            if following is not None:
                heapq.heappush(queue, (following.id, n, following))
        if total:
            logger.info("discord: backfilled %d messages", total)
        return total

    async def _stored(
        self, guild: discord.Guild, engine: Engine, since: datetime
    ) -> dict[tuple[str, str | None], int] | None:
        """The newest logged message id of each channel of `guild` (None: unknown)."""
        try:
            group = await engine.services.directory.group(PLATFORM, str(guild.id), guild.name)
            async with engine.services.database.session() as session:
                return await latest_message_ids(
                    session,
                    community_id=group.community.id,
                    group_id=group.id,
                    platform=PLATFORM,
                    since=since,
                )
        except Exception:
            logger.exception("discord: backfill of guild %s skipped (database)", guild.id)
            return None

    def _read(self, channel: Channel, after: int, before: int) -> AsyncIterator[discord.Message]:
        return channel.history(
            limit=self.limit,
            after=discord.Object(after),
            before=discord.Object(before),
            oldest_first=True,
        )


class _Stream:
    """One channel's history, read a message at a time (discord.py pages 100 per request)."""

    def __init__(self, channel: Channel, after: int, messages: AsyncIterator[discord.Message]):
        self.channel = channel
        self.after = after
        self.messages = messages
        self.read = 0

    async def next(self, gate: asyncio.Semaphore) -> discord.Message | None:
        """The next message after the stored one; None at the end or on a refusal."""
        while True:
            try:
                async with gate:
                    message = await anext(self.messages)
            except StopAsyncIteration:
                return None
            except discord.HTTPException as error:
                logger.warning(
                    "discord: reading the history of channel %s failed after %d messages (%s)",
                    self.channel.id,
                    self.read,
                    error,
                )
                return None
            self.read += 1
            if message.id > self.after:  # never one already logged
                return message
