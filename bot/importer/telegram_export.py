"""Telegram Desktop's JSON export (`result.json`, "Export chat history" → JSON) → events.

Decisions, matching what the live Telegram adapter records:

- The group id is the Bot API chat id: the export gives supergroups and channels without
  their ``-100`` prefix and basic groups without their minus sign.
- ``from_id`` is ``user<id>`` for people and bots, and ``channel<id>`` (or ``chat<id>``) for
  anonymous admins and channels posting in the group; the latter become an account with the
  chat's Bot API id, marked as a bot (live, they come from Telegram's GroupAnonymousBot), so
  they earn no points. Deleted accounts have ``from: null``. Which users are bots: see
  `bot.importer.telegram_bots`.
- Forum topics: the export has no topic field; a message in a topic replies to the topic's
  ``topic_created`` service message (when it replies to nothing else). Such a message gets
  the topic as ``thread_id`` (the live adapter's ``message_thread_id``: the id of that service
  message) and no ``reply_to`` (live ignores that implicit reply too); a reply to a message in
  a topic is in that topic. A reply to a message the export no longer has (or one read more
  than 200,000 topic messages earlier) lands in the General topic (no thread).
- A supergroup upgraded from a basic group: Telegram Desktop exports the basic group's history
  first, with message ids moved down by 1,000,000,000 (negative; replies inside it too), then
  the supergroup's, which starts again at 1. Both land in the supergroup's group and channel,
  as live (where the upgrade moves the group to its new id), and the negative ids keep the two
  histories' message ids apart, so neither drops nor merges the other's messages.
- A reply to a message in another chat (``reply_to_peer_id``) is not a reply here.
- Every ``message`` is a message with its kind (`bot.events.MESSAGE_KINDS`), as live: the
  export's ``media_type`` (``sticker``, ``animation``, ``video_file``, ``voice_message``,
  ``video_message``, ``audio_file``), else ``photo``, ``file`` (a document), ``poll`` (its
  question is the text when there is no other), ``location_information``/``place_name``,
  ``contact_information``, ``dice``; games, invoices, giveaways, paid media and content the
  export does not name are "other" (Telegram Desktop writes dice and stories as a message with
  nothing in it: "other" too). The caption is the text (empty for media without one).
  ``unsupported`` messages (the export writes neither date nor sender) are skipped.
- Ids: current exports write senders as ``user<id>``/``channel<id>``/``chat<id>`` and the
  chat's bare id; exports of 2020 and before write Telegram Desktop's numeric peer ids, where
  a basic group is shifted by 2^32 and a channel or supergroup by 2^33 (users are not). Those
  are un-shifted to the same ids as the live bot's (`peer_id`); the chat's own id only when
  the export's senders are numeric (its vintage), since a current basic group's id can be
  above 2^32 too.
- Service messages: ``invite_members``/``create_group`` are joins of the members named,
  ``join_group_by_link``/``join_group_by_request`` a join of the actor, ``remove_members``
  leaves. The export names invited or removed members without their id, so a name is matched
  to an account seen in the export (the actor, a sender); a name not yet seen waits for its
  first message, and one never seen is counted as skipped.
- Reactions: each reactor listed in ``recent``; the rest of ``count`` has no reactor and is
  skipped. A reaction's time is its own ``date`` when the export gives one: local time
  without a zone, as the message's ``date``, so it is moved to UTC by the offset between the
  message's ``date`` and ``date_unixtime`` (an hour off for a reaction on the other side of
  a daylight-saving change from its message), and never before the message. Without a
  ``date``, the message's time.
- Telegram's placeholder accounts (GroupAnonymousBot, Channel_Bot, "Telegram" 777000) are
  never a member: a message from one is the chat's own, as live.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.events import Author, MemberJoined, MemberLeft, Message, Place, ReactionAdded
from bot.importer.stream import (
    ExportError,
    ExportHeader,
    MessageReader,
    Skipped,
    Timed,
    reaction_count,
)
from bot.importer.telegram_bots import BotRule
from bot.media import file_kind
from bot.recent import Recent

__all__ = [
    "PLATFORM",
    "TelegramExport",
    "bot_api_chat_id",
    "message_kind",
    "message_text",
    "peer_id",
]

PLATFORM = "telegram"
#: Top-level keys of a whole-account export (not one chat): never built in memory.
ACCOUNT_KEYS = frozenset({"chats", "left_chats", "contacts", "frequent_contacts"})
_SUPERGROUPS = frozenset(
    {"private_supergroup", "public_supergroup", "private_channel", "public_channel"}
)
_JOINS = frozenset({"invite_members", "create_group"})
_SELF_JOINS = frozenset({"join_group_by_link", "join_group_by_request"})
DELETED = "Deleted Account"
_NAMES_KEPT = 200_000
_PENDING_KEPT = 100_000
_TOPIC_MESSAGES_KEPT = 200_000
_TOPIC_CREATED = "topic_created"
#: Telegram Desktop's peer-id shifts in exports of 2020 and before (users are not shifted).
CHAT_SHIFT = 1 << 32
CHANNEL_SHIFT = 1 << 33
_SHIFTED_END = 1 << 34
#: Telegram's placeholder senders, shared by every chat (see `adapters.telegram_updates`).
PLACEHOLDER_USERS = frozenset({"777000", "136817688", "1087968824"})
#: Messages read to tell the vintage of an export's ids (the first with a sender decides).
_VINTAGE_PEEK = 1_000
_MEDIA_TYPES = {
    "sticker": "sticker",
    "animation": "animation",
    "video_file": "video",
    "voice_message": "voice",
    "video_message": "video_note",
    "audio_file": "audio",
}
#: Fields of a message without ``media_type`` → its kind, first match wins.
_MEDIA_FIELDS = (
    ("photo", "photo"),
    ("poll", "poll"),
    ("location_information", "location"),
    ("place_name", "location"),
    ("contact_information", "contact"),
    ("dice", "dice"),
)


def bot_api_chat_id(kind: str, export_id: object, *, shifted: bool = False) -> str:
    """The Bot API chat id of an exported chat (``-100<id>`` or ``-<id>``); `shifted`: the
    export writes numeric peer ids (2020 and before), whose chat id is shifted too.

    Raises:
        ExportError: the export is not of a group or channel.
    """
    raw = str(export_id)
    if not raw.removeprefix("-").isdigit():
        raise ExportError(f"the export's chat id {export_id!r} is not a number")
    if raw.startswith("-"):  # already a Bot API id
        return raw
    number = int(raw)
    if kind in _SUPERGROUPS:
        if shifted and CHANNEL_SHIFT <= number < _SHIFTED_END:
            number -= CHANNEL_SHIFT
        return f"-100{number}"
    if kind == "private_group":
        if shifted and CHAT_SHIFT <= number < CHANNEL_SHIFT:
            number -= CHAT_SHIFT
        return f"-{number}"
    raise ExportError(f"this is a {kind!r} export; only groups and channels can be imported")


def message_text(text: object) -> str:
    """The plain text of an export's ``text``: a string, or a list of strings and entities."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in text
            if isinstance(part, str | dict)
        )
    return ""


def _mentions(text: object) -> tuple[str, ...]:
    if not isinstance(text, list):
        return ()
    found: list[str] = []
    for part in text:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "mention_name" and part.get("user_id") is not None:
            found.append(str(part["user_id"]))
        elif part.get("type") == "mention":
            found.append(str(part.get("text", "")).removeprefix("@"))
    return tuple(dict.fromkeys(found))


def peer_id(sender_id: object) -> str | None:
    """An export's sender id in today's form (``user<id>``, ``chat<id>``, ``channel<id>``).

    Exports of 2020 and before write a number: Telegram Desktop's peer id, a user's id as
    is, a basic group's shifted by 2^32 and a channel's (or supergroup's) by 2^33.
    """
    if isinstance(sender_id, str):
        return sender_id
    if not isinstance(sender_id, int) or isinstance(sender_id, bool) or sender_id <= 0:
        return None
    if CHANNEL_SHIFT <= sender_id < _SHIFTED_END:
        return f"channel{sender_id - CHANNEL_SHIFT}"
    if CHAT_SHIFT <= sender_id < CHANNEL_SHIFT:
        return f"chat{sender_id - CHAT_SHIFT}"
    return f"user{sender_id}"


def _author(
    sender_id: object, name: object, bots: BotRule, raw: dict[str, Any] | None = None
) -> Author | None:
    peer = peer_id(sender_id)
    if peer is None:
        return None
    display = name if isinstance(name, str) and name else DELETED
    if peer.startswith("user") and peer[4:].isdigit():
        user = peer[4:]
        return Author(user, display, bots.is_bot(user, display, raw))
    # A channel or an anonymous admin posting as the group: the chat, as live.
    if peer.startswith("channel") and peer[7:].isdigit():
        return Author(f"-100{peer[7:]}", display, is_bot=True)
    if peer.startswith("chat") and peer[4:].isdigit():
        return Author(f"-{peer[4:]}", display, is_bot=True)
    return None


def message_kind(raw: dict[str, Any]) -> str:
    """The kind of an exported ``message`` (one of `bot.events.MESSAGE_KINDS`)."""
    media = raw.get("media_type")
    if isinstance(media, str):
        known = _MEDIA_TYPES.get(media)
        mime = raw.get("mime_type")
        name = raw.get("file_name") or raw.get("file")
        return known or file_kind(str(mime or ""), str(name or ""))
    for field_name, kind in _MEDIA_FIELDS:
        if field_name in raw:
            return kind
    if "file" in raw:
        return "document"  # a file sent as a file, as the Bot API's `document`
    if message_text(raw.get("text")):
        return "text"
    return "other"  # a game, an invoice, a giveaway, paid media, or content not named


def _local_offset(raw: dict[str, Any]) -> timedelta:
    """How far the export's local times (``date``) are from UTC at this message."""
    try:
        local = datetime.fromisoformat(str(raw["date"]))
        utc = datetime.fromtimestamp(int(raw["date_unixtime"]), UTC).replace(tzinfo=None)
    except (KeyError, TypeError, ValueError, OverflowError):
        return timedelta(0)
    return local - utc


def _reaction_time(entry: dict[str, Any], message: dict[str, Any], at: datetime) -> datetime:
    """When a listed reaction was made: its own date, else its message's time."""
    try:
        moment = datetime.fromtimestamp(int(entry["date_unixtime"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        try:
            local = datetime.fromisoformat(str(entry["date"]))
        except (KeyError, ValueError):
            return at
        if local.tzinfo is not None:
            moment = local.astimezone(UTC)
        else:
            moment = (local - _local_offset(message)).replace(tzinfo=UTC)
    return max(moment, at)


def _emoji(reaction: dict[str, Any]) -> str | None:
    kind = reaction.get("type")
    if kind == "emoji" and reaction.get("emoji"):
        return str(reaction["emoji"])
    if kind == "custom_emoji" and reaction.get("document_id"):
        return f"custom:{reaction['document_id']}"
    return None


def _numeric_ids(path: Path) -> bool:
    """Whether an export writes numeric peer ids (2020 and before): its first sender decides."""
    try:
        for index, raw in enumerate(MessageReader(path).messages()):
            sender = raw.get("from_id", raw.get("actor_id"))
            if sender is not None:
                return isinstance(sender, int) and not isinstance(sender, bool)
            if index >= _VINTAGE_PEEK:
                break
    except ExportError:
        pass  # a broken file: reading it says where, with what was read before
    return False


class TelegramExport:
    """One Telegram export file, read as a stream of timed import items."""

    def __init__(self, path: Path, *, bots: Iterable[str] = ()) -> None:
        self.reader = MessageReader(path)
        fields = self.reader.header(wanted=("id", "type"), stop=ACCOUNT_KEYS)
        if ACCOUNT_KEYS & fields.keys() or "id" not in fields:
            raise ExportError(
                f"{path}: not a single-chat export (export one group with Telegram Desktop: "
                "the group's menu → Export chat history → JSON)"
            )
        kind, shifted = str(fields.get("type", "")), _numeric_ids(path)
        group_id = bot_api_chat_id(kind, fields["id"], shifted=shifted)
        name = str(fields.get("name") or group_id)
        self.header = ExportHeader(PLATFORM, group_id, name, path)
        self.place = Place(PLATFORM, group_id, group_id)
        #: The chat as an author: posts from Telegram's placeholder accounts are its own.
        self.chat = Author(group_id, name, is_bot=True)
        self.bots = BotRule(bots)
        self._topics: dict[int, Place] = {}  # topic_created message id → the topic's place
        self._topic_of: Recent[int, int] = Recent(_TOPIC_MESSAGES_KEPT)
        self._senders: Recent[tuple[object, object], Author] = Recent(_NAMES_KEPT)
        self._names: OrderedDict[str, Author] = OrderedDict()
        self._pending: OrderedDict[str, list[tuple[bool, datetime]]] = OrderedDict()
        self._at = datetime(1970, 1, 1, tzinfo=UTC)

    def items(self) -> Iterator[Timed]:
        """Every message, join, leave, reaction and skip, in file order."""
        for raw in self.reader.messages():
            if raw.get("type") == "unsupported":  # media this Telegram Desktop cannot write
                yield self._at, Skipped("unsupported message (no date or sender in the export)")
                continue
            at = self._time(raw)
            if at is None:
                yield self._at, Skipped("no date")
                continue
            self._at = at
            kind = raw.get("type")
            if kind == "message":
                yield from self._message(raw, at)
            elif kind == "service":
                yield from self._service(raw, at)
            else:
                yield at, Skipped(f"unknown kind: {kind}")
        unresolved = sum(len(times) for times in self._pending.values())
        if unresolved:
            yield self._at, Skipped("join/leave of a name never seen (no id)", unresolved)

    @staticmethod
    def _time(raw: dict[str, Any]) -> datetime | None:
        try:
            return datetime.fromtimestamp(int(raw["date_unixtime"]), UTC)
        except (KeyError, TypeError, ValueError, OverflowError):
            pass
        # Exports before Telegram Desktop 3.x have only `date`, in the exporting computer's
        # local time with no zone: read as UTC (a few hours off at most).
        try:
            return datetime.fromisoformat(str(raw["date"])).replace(tzinfo=UTC)
        except (KeyError, ValueError):
            return None

    def _sender(self, raw: dict[str, Any]) -> Author | None:
        """The message's author; one `Author` per account and name, rebuilt when a message
        may show that the account is a bot (inline buttons)."""
        key = (raw.get("from_id"), raw.get("from"))
        author = self._senders.get(key)
        if author is None or ("inline_bot_buttons" in raw and not author.is_bot):
            author = self._author(key[0], key[1], raw)
            if author is not None:
                self._senders.put(key, author)
        return author

    def _author(
        self, sender_id: object, name: object, raw: dict[str, Any] | None = None
    ) -> Author | None:
        author = _author(sender_id, name, self.bots, raw)
        if author is not None and author.user_id in PLACEHOLDER_USERS:
            return self.chat
        return author

    def _message(self, raw: dict[str, Any], at: datetime) -> Iterator[Timed]:
        author = self._sender(raw)
        if author is None:
            yield at, Skipped("no author")
            return
        yield from self._learn(author)
        text = message_text(raw.get("text"))
        message_id = str(raw.get("id"))
        reply = raw.get("reply_to_message_id")
        place = self.place
        if reply is not None:
            if "reply_to_peer_id" in raw:
                reply = None  # a reply to a message in another chat
            elif self._topics:
                place, reply = self._topic(raw.get("id"), reply)
        kind = message_kind(raw)
        poll = raw.get("poll")
        if kind == "poll" and not text and isinstance(poll, dict):
            text = str(poll.get("question") or "")
        yield (
            at,
            Message(
                place=place,
                message_id=message_id,
                author=author,
                text=text,
                sent_at=at,
                reply_to=None if reply is None else str(reply),
                mentions=_mentions(raw.get("text")),
                kind=kind,
            ),
        )
        for reaction in raw.get("reactions") or ():
            if isinstance(reaction, dict):
                yield from self._reactions(reaction, raw, author, at)
            else:
                yield at, Skipped("reaction: malformed")

    def _topic(self, message_id: object, reply: object) -> tuple[Place, object]:
        """The place of a message replying to `reply` in a forum, and its real reply."""
        if not isinstance(reply, int) or not isinstance(message_id, int):
            return self.place, reply
        topic = self._topics.get(reply)
        if topic is not None:  # the implicit reply to the topic's creation: not a reply
            self._topic_of.put(message_id, reply)
            return topic, None
        root = self._topic_of.get(reply)
        if root is None:
            return self.place, reply
        self._topic_of.put(message_id, root)
        return self._topics[root], reply

    def _reactions(
        self, reaction: dict[str, Any], raw: dict[str, Any], author: Author, at: datetime
    ) -> Iterator[Timed]:
        message_id = str(raw.get("id"))
        emoji = _emoji(reaction)
        listed = reaction.get("recent")
        recent = [r for r in (listed if isinstance(listed, list) else ()) if isinstance(r, dict)]
        count = reaction_count(reaction.get("count"), len(recent))
        if emoji is None:
            yield at, Skipped(f"reaction: {reaction.get('type')}", count)
            return
        known = 0
        for entry in recent:
            reactor = self._author(entry.get("from_id"), entry.get("from"))
            if reactor is not None:
                known += 1
                when = _reaction_time(entry, raw, at)
                # Timed by the message, so the stream stays in file (time) order.
                yield (
                    at,
                    ReactionAdded(self.place, message_id, reactor, emoji, when, author.user_id),
                )
        if count > known:
            yield at, Skipped("reaction without reactor", count - known)

    def _service(self, raw: dict[str, Any], at: datetime) -> Iterator[Timed]:
        action = str(raw.get("action"))
        actor = self._author(raw.get("actor_id"), raw.get("actor"))
        if actor is not None:
            yield from self._learn(actor)
        if action == _TOPIC_CREATED and isinstance(raw.get("id"), int):
            topic = raw["id"]
            self._topics[topic] = Place(
                PLATFORM, self.place.group_id, self.place.channel_id, str(topic)
            )
            yield at, Skipped(f"service: {action}")
        elif action in _SELF_JOINS and actor is not None:
            yield at, MemberJoined(PLATFORM, self.header.group_id, actor, at)
        elif action in _JOINS or action == "remove_members":
            joined = action != "remove_members"
            for name in raw.get("members") or ():
                yield from self._member_event(str(name), joined, at, actor)
        else:
            yield at, Skipped(f"service: {action}")

    def _member_event(
        self, name: str, joined: bool, at: datetime, actor: Author | None
    ) -> Iterator[Timed]:
        known = actor if actor is not None and actor.name == name else self._names.get(name)
        if known is not None:
            yield at, self._event(known, joined, at)
            return
        self._pending.setdefault(name, []).append((joined, at))
        if len(self._pending) > _PENDING_KEPT:
            _, dropped = self._pending.popitem(last=False)
            yield at, Skipped("join/leave of a name never seen (no id)", len(dropped))

    def _event(self, author: Author, joined: bool, at: datetime) -> MemberJoined | MemberLeft:
        group = self.header.group_id
        if joined:
            return MemberJoined(PLATFORM, group, author, at)
        return MemberLeft(PLATFORM, group, author, at)

    def _learn(self, author: Author) -> Iterator[Timed]:
        """Remember a name's account; release the joins and leaves that waited for it."""
        if author.name == DELETED:
            return
        if author.name in self._names:
            self._names.move_to_end(author.name)
            return
        self._names[author.name] = author
        if len(self._names) > _NAMES_KEPT:
            self._names.popitem(last=False)
        for joined, at in self._pending.pop(author.name, ()):
            yield at, self._event(author, joined, at)
