"""Carrying out engine actions on Discord: messages split at 2,000 characters with mentions
that ping nobody (but the member replied to), uploads, digest cards as embeds, native polls,
role grants, reactions and moderation (deletions, timeouts, bans); Discord's refusals become
`DeliveryFailed` with the ids involved. A linked image is fetched (size-capped, images only,
`adapters.images`) and uploaded, never handed to Discord to fetch unchecked.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import discord

from adapters.chunks import split_message
from adapters.discord_commands import MESSAGE_LIMIT, Interactions
from adapters.images import ImageFetcher, ImageFetchError
from bot.clock import Clock
from bot.errors import DeliveryFailed, DeliveryProblem
from bot.events import (
    Action,
    Card,
    DeleteMessage,
    DirectMessage,
    GrantRole,
    Place,
    Poll,
    Post,
    React,
    Reply,
    Restrict,
    Sanction,
)

__all__ = [
    "MAX_TIMEOUT",
    "NO_PINGS",
    "DiscordSender",
    "attachment",
    "embed_of",
    "refusal",
    "snowflake",
]

logger = logging.getLogger(__name__)

POLL_QUESTION_LIMIT = 300
POLL_ANSWER_LIMIT = 55
POLL_DURATION = timedelta(hours=24)
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
CHART_NAME = "chart.png"
#: Discord refuses a timeout more than 28 days ahead; a minute's margin for clock skew.
MAX_TIMEOUT = timedelta(days=28) - timedelta(minutes=1)
NO_PINGS = discord.AllowedMentions.none()
_REPLY_PING = discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=True)


def snowflake(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a Discord id") from None


def _ids(action: Action) -> str:
    if isinstance(action, Reply | React | DeleteMessage):
        place, message = action.place, action.message_id
        channel = place.thread_id or place.channel_id
        return f"guild {place.group_id}, channel {channel}, message {message}"
    if isinstance(action, Post):
        place = action.target
        return f"guild {place.group_id}, channel {place.thread_id or place.channel_id}"
    if isinstance(action, GrantRole):
        return f"guild {action.group_id}, user {action.user_id}, role {action.role_id}"
    if isinstance(action, Restrict):
        return f"guild {action.group_id}, user {action.user_id}, {action.sanction.value}"
    return f"user {action.user_id}"


def refusal(action: Action, error: discord.HTTPException) -> DeliveryFailed:
    if isinstance(error, discord.Forbidden):
        dm = isinstance(action, DirectMessage)
        problem = DeliveryProblem.DM_CLOSED if dm else DeliveryProblem.FORBIDDEN
    elif isinstance(error, discord.NotFound):
        problem = DeliveryProblem.NOT_FOUND
    else:
        problem = DeliveryProblem.FAILED
    detail = f"HTTP {error.status}, code {error.code}: {error.text}"
    logger.warning("discord refused %s (%s): %s", type(action).__name__, _ids(action), detail)
    return DeliveryFailed(action, problem, detail)


def embed_of(card: Card) -> discord.Embed | None:
    """The card as an embed, each part clipped to Discord's limits; None when the whole
    would still be over Discord's 6,000 characters (the text is sent instead)."""
    embed = discord.Embed(
        title=_clip(card.title, EMBED_TITLE_LIMIT),
        description=_clip(card.description, EMBED_DESCRIPTION_LIMIT),
        colour=card.colour,
    )
    for name, value in card.fields[:EMBED_FIELDS_LIMIT]:
        embed.add_field(
            name=_clip(name, EMBED_FIELD_NAME_LIMIT) or "\u200b",
            value=_clip(value, EMBED_FIELD_VALUE_LIMIT) or "—",
            inline=False,
        )
    if card.footer:
        embed.set_footer(text=_clip(card.footer, EMBED_FOOTER_LIMIT))
    return embed if len(embed) <= EMBED_TOTAL_LIMIT else None


async def attachment(action: Post | DirectMessage, images: ImageFetcher) -> dict[str, Any]:
    """`send` keywords for the action's card, image or file: a local file or a fetched link
    is uploaded (inside the card's embed when there is one, as a digest's chart is)."""
    embed = None if action.card is None else embed_of(action.card)
    if not action.image or (isinstance(action, DirectMessage) and action.file):
        return _local_upload(action, embed)
    if urlparse(action.image).scheme.lower() not in ("http", "https"):
        return _local_upload(action, embed)
    try:
        fetched = await images.fetch(action.image)
    except ImageFetchError as error:
        raise DeliveryFailed(action, DeliveryProblem.FAILED, str(error)) from error
    upload = discord.File(io.BytesIO(fetched.data), filename=fetched.filename)
    return _with_embed(upload, fetched.filename, embed)


def _local_upload(action: Post | DirectMessage, embed: discord.Embed | None) -> dict[str, Any]:
    if isinstance(action, DirectMessage) and action.file:
        document = Path(action.file)
        if not document.is_file():
            raise DeliveryFailed(action, DeliveryProblem.FAILED, f"no file {document}")
        return {"file": discord.File(document)}
    if not action.image:
        return {} if embed is None else {"embed": embed}
    path = Path(action.image)
    if not path.is_file():
        raise DeliveryFailed(action, DeliveryProblem.FAILED, f"no image file {path}")
    name = CHART_NAME if embed is not None else path.name
    return _with_embed(discord.File(path, filename=name), name, embed)


def _with_embed(upload: discord.File, name: str, embed: discord.Embed | None) -> dict[str, Any]:
    if embed is None:
        return {"file": upload}
    # The image shows inside the embed: an attachment named in the embed's image URL.
    embed.set_image(url=f"attachment://{name}")
    return {"embed": embed, "file": upload}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _native_poll(poll: Poll) -> discord.Poll:
    native = discord.Poll(_clip(poll.question, POLL_QUESTION_LIMIT), duration=POLL_DURATION)
    for option in poll.options:
        native.add_answer(text=_clip(option, POLL_ANSWER_LIMIT))
    return native


class DiscordSender:
    """Performs actions through a connected discord.py client."""

    def __init__(
        self, interactions: Interactions, clock: Clock, images: ImageFetcher | None = None
    ) -> None:
        self.interactions = interactions
        self.clock = clock
        self.images = images or ImageFetcher()

    async def perform(self, client: discord.Client, action: Action) -> str | None:
        """Carry out one action; returns the id of the (first) message sent.

        Raises:
            DeliveryFailed: Discord refused it (DM_CLOSED for closed DMs, FORBIDDEN for a
                missing permission or a role above the bot's, NOT_FOUND for something gone,
                FAILED otherwise).
        """
        try:
            if isinstance(action, Reply):
                return await self.reply(client, action)
            if isinstance(action, Post):
                return await self.post(client, action)
            if isinstance(action, DirectMessage):
                dm = await client.create_dm(discord.Object(snowflake(action.user_id)))
                return await self.send(dm, action.text, **await attachment(action, self.images))
            if isinstance(action, GrantRole):
                await self.grant(client, action)
            elif isinstance(action, DeleteMessage):
                await self.delete(client, action)
            elif isinstance(action, Restrict):
                await self.restrict(client, action)
            else:
                await self.react(client, action)
            return None
        except discord.HTTPException as error:
            raise refusal(action, error) from error
        except ValueError as error:
            raise DeliveryFailed(action, DeliveryProblem.FAILED, str(error)) from error

    @staticmethod
    def channel(client: discord.Client, place: Place) -> discord.PartialMessageable:
        channel = snowflake(place.thread_id or place.channel_id)
        return client.get_partial_messageable(channel, guild_id=snowflake(place.group_id))

    async def send(
        self,
        channel: discord.abc.Messageable,
        text: str,
        *,
        reference: discord.MessageReference | None = None,
        **extras: Any,
    ) -> str | None:
        """Send `text` in pieces of at most 2,000 characters; extras go with the last one.
        With an embed the embed replaces the text (it carries the same content). Returns the
        id of the first message sent."""
        if "embed" in extras and extras["embed"].title:
            text = ""
        pieces: list[str | None] = list(split_message(text, MESSAGE_LIMIT)) or [None]
        first: str | None = None
        try:
            for index, piece in enumerate(pieces):
                options: dict[str, Any] = {"allowed_mentions": NO_PINGS}
                if index == 0 and reference is not None:
                    options = {"reference": reference, "allowed_mentions": _REPLY_PING}
                if index == len(pieces) - 1:
                    options.update(extras)
                if piece is not None or extras:
                    sent = await channel.send(piece, **options)
                    first = first or str(sent.id)
            return first
        finally:
            upload = extras.get("file")
            if isinstance(upload, discord.File):
                upload.close()  # discord.py closes it after sending; not if never sent

    async def reply(self, client: discord.Client, reply: Reply) -> str | None:
        if await self.interactions.answer(reply):
            return None
        # Discord has no private replies outside interactions: a message reply is public.
        channel = self.channel(client, reply.place)
        reference = None
        if reply.message_id and reply.message_id.isdigit():
            reference = discord.MessageReference(
                message_id=int(reply.message_id),
                channel_id=channel.id,
                guild_id=snowflake(reply.place.group_id),
                fail_if_not_exists=False,
            )
        return await self.send(channel, reply.text, reference=reference)

    async def post(self, client: discord.Client, post: Post) -> str | None:
        extras = await attachment(post, self.images)
        if post.poll is not None:
            extras["poll"] = _native_poll(post.poll)
        return await self.send(self.channel(client, post.target), post.text, **extras)

    @staticmethod
    async def member(client: discord.Client, group_id: str, user_id: str) -> discord.Member:
        guild = await DiscordSender.guild(client, group_id)
        member_id = snowflake(user_id)
        return guild.get_member(member_id) or await guild.fetch_member(member_id)

    @staticmethod
    async def guild(client: discord.Client, group_id: str) -> discord.Guild:
        guild_id = snowflake(group_id)
        return client.get_guild(guild_id) or await client.fetch_guild(guild_id)

    async def grant(self, client: discord.Client, grant: GrantRole) -> None:
        member = await self.member(client, grant.group_id, grant.user_id)
        reason = grant.reason or None
        if grant.role_id:  # empty: only remove (a level lost below every level role)
            await member.add_roles(discord.Object(snowflake(grant.role_id)), reason=reason)
        stale = [discord.Object(snowflake(r)) for r in grant.revoke if r != grant.role_id]
        if stale:
            await member.remove_roles(*stale, reason=reason)

    async def react(self, client: discord.Client, react: React) -> None:
        message = self.channel(client, react.place).get_partial_message(snowflake(react.message_id))
        await message.add_reaction(react.emoji)

    async def delete(self, client: discord.Client, delete: DeleteMessage) -> None:
        # PartialMessage.delete() takes no reason; the endpoint does (it shows in the audit log).
        channel = self.channel(client, delete.place)
        message_id = snowflake(delete.message_id)
        await client.http.delete_message(channel.id, message_id, reason=delete.reason or None)

    async def restrict(self, client: discord.Client, restrict: Restrict) -> None:
        reason = restrict.reason or None
        if restrict.sanction in (Sanction.BAN, Sanction.UNBAN):
            guild = await self.guild(client, restrict.group_id)
            user = discord.Object(snowflake(restrict.user_id))
            if restrict.sanction is Sanction.BAN:
                await guild.ban(user, reason=reason, delete_message_seconds=0)
            else:
                await guild.unban(user, reason=reason)
            return
        member = await self.member(client, restrict.group_id, restrict.user_id)
        until = None
        if restrict.sanction is Sanction.MUTE:
            limit = self.clock.now() + MAX_TIMEOUT
            until = limit if restrict.until is None else min(restrict.until, limit)
        await member.timeout(until, reason=reason)
