"""DiscordChatExporter's JSON export (one channel per file) → events.

Decisions, matching what the live Discord adapter records:

- The group is the guild; in a thread (``channel.type`` ``Guild*Thread``) the place's channel
  is the parent (the export's ``categoryId``) and the thread is ``thread_id``.
- ``Default`` and ``Reply`` messages are messages (also without text: live counts attachments
  too), with their kind as live: ``sticker`` when it has stickers, ``poll`` for a poll (its
  question is the text when there is no other), else its first attachment's kind from the
  file name (`bot.media.file_kind`: the export has no content type; Discord names a recorded
  voice message ``voice-message.ogg``), else ``text``; ``GuildMemberJoin`` is a join of its
  author; other system kinds (``ThreadCreated``,
  ``ChannelPinnedMessage``, …) and unknown kinds are counted and skipped.
- Reactions: each user listed in ``users`` (exports made with reactions' users); without
  users, the count is skipped. A reaction's time is the message's. Custom emoji are written
  as Discord writes them (``<:name:id>``), like the live adapter.
- Several files are merged in time order, so points rules (cooldown, daily cap) see one
  timeline per member across channels.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.events import Author, MemberJoined, Message, Place, ReactionAdded
from bot.importer.stream import (
    ExportError,
    ExportHeader,
    MessageReader,
    Skipped,
    Timed,
    reaction_count,
)
from bot.media import file_kind

__all__ = ["PLATFORM", "DiscordExport", "merged", "message_kind"]

PLATFORM = "discord"
#: The file name Discord gives a recorded voice message.
_VOICE_FILE = "voice-message.ogg"
_MESSAGES = frozenset({"Default", "Reply"})
_THREADS = frozenset({"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread"})
_SYSTEM = frozenset(
    {
        "RecipientAdd",
        "RecipientRemove",
        "Call",
        "ChannelNameChange",
        "ChannelIconChange",
        "ChannelPinnedMessage",
        "GuildBoost",
        "GuildBoostTier1",
        "GuildBoostTier2",
        "GuildBoostTier3",
        "ChannelFollowAdd",
        "ThreadCreated",
        "ThreadStarterMessage",
        "ChatInputCommand",
        "ContextMenuCommand",
        "AutoModerationAction",
        "PollResult",
    }
)


def _author(raw: object) -> Author | None:
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    name = raw.get("nickname") or raw.get("name") or str(raw["id"])
    return Author(str(raw["id"]), str(name), is_bot=bool(raw.get("isBot")))


def _poll_question(poll: dict[str, Any]) -> str:
    question = poll.get("question")
    if isinstance(question, dict):
        question = question.get("text")
    return question if isinstance(question, str) else ""


def message_kind(raw: dict[str, Any]) -> str:
    """The kind of an exported message (one of `bot.events.MESSAGE_KINDS`), as live."""
    if raw.get("stickers"):
        return "sticker"
    if isinstance(raw.get("poll"), dict):
        return "poll"
    attachments = raw.get("attachments")
    first = attachments[0] if isinstance(attachments, list) and attachments else None
    if isinstance(first, dict):
        name = str(first.get("fileName") or first.get("url") or "")
        content_type = first.get("contentType")
        voice = name.lower() == _VOICE_FILE
        return file_kind(content_type if isinstance(content_type, str) else None, name, voice=voice)
    return "text"


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if moment.tzinfo is None else moment.astimezone(UTC)


def _emoji(raw: object) -> str | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    if raw.get("id"):
        animated = "a" if raw.get("isAnimated") else ""
        return f"<{animated}:{raw['name']}:{raw['id']}>"
    return str(raw["name"])


class DiscordExport:
    """One DiscordChatExporter file, read as a stream of timed import items."""

    def __init__(self, path: Path) -> None:
        self.reader = MessageReader(path)
        fields = self.reader.header(wanted=("guild", "channel"))
        guild, channel = fields.get("guild"), fields.get("channel")
        if not isinstance(guild, dict) or not isinstance(channel, dict) or not channel.get("id"):
            raise ExportError(
                f"{path}: no 'guild' and 'channel'; is this a DiscordChatExporter JSON?"
            )
        if str(guild.get("id") or "0") == "0":
            raise ExportError(f"{path}: a direct-message export; only server channels are imported")
        guild_id = str(guild["id"])
        channel_id, thread = str(channel["id"]), None
        if channel.get("type") in _THREADS and channel.get("categoryId"):
            channel_id, thread = str(channel["categoryId"]), str(channel["id"])
        self.header = ExportHeader(PLATFORM, guild_id, str(guild.get("name") or guild_id), path)
        self.place = Place(PLATFORM, guild_id, channel_id, thread)
        self._at = datetime(1970, 1, 1, tzinfo=UTC)

    def items(self) -> Iterator[Timed]:
        """Every message, join, reaction and skip, in file order."""
        for raw in self.reader.messages():
            at = _time(raw.get("timestamp"))
            if at is None:
                yield self._at, Skipped("no date")
                continue
            self._at = at
            kind = str(raw.get("type"))
            author = _author(raw.get("author"))
            if author is None:
                yield at, Skipped("no author")
            elif kind in _MESSAGES:
                yield from self._message(raw, author, at)
            elif kind == "GuildMemberJoin":
                yield at, MemberJoined(PLATFORM, self.place.group_id, author, at)
            elif kind in _SYSTEM:
                yield at, Skipped(f"system: {kind}")
            else:
                yield at, Skipped(f"unknown kind: {kind}")

    def _message(self, raw: dict[str, Any], author: Author, at: datetime) -> Iterator[Timed]:
        message_id = str(raw.get("id"))
        reference = raw.get("reference")
        reply_to = None
        if raw.get("type") == "Reply" and isinstance(reference, dict):
            reply_to = None if reference.get("messageId") is None else str(reference["messageId"])
        mentions = tuple(
            str(m["id"]) for m in raw.get("mentions") or () if isinstance(m, dict) and m.get("id")
        )
        kind, text = message_kind(raw), str(raw.get("content") or "")
        if kind == "poll" and not text:
            text = _poll_question(raw["poll"])
        yield (
            at,
            Message(
                place=self.place,
                message_id=message_id,
                author=author,
                text=text,
                sent_at=at,
                reply_to=reply_to,
                mentions=mentions,
                kind=kind,
            ),
        )
        for reaction in raw.get("reactions") or ():
            if not isinstance(reaction, dict):
                yield at, Skipped("reaction: malformed")
                continue
            emoji = _emoji(reaction.get("emoji"))
            listed = reaction.get("users")
            users = [u for u in map(_author, listed if isinstance(listed, list) else ()) if u]
            count = reaction_count(reaction.get("count"), len(users))
            if emoji is None:
                yield at, Skipped("reaction: no emoji", count)
                continue
            for user in users:
                yield at, ReactionAdded(self.place, message_id, user, emoji, at, author.user_id)
            if count > len(users):
                yield at, Skipped("reaction without reactor", count - len(users))


def merged(exports: Sequence[DiscordExport]) -> Iterator[Timed]:
    """The items of several exports in time order (each file is in time order already)."""
    return heapq.merge(*(export.items() for export in exports), key=lambda item: item[0])
