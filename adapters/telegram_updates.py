"""Telegram updates → engine events (pure functions over python-telegram-bot objects).

A Telegram group is one `Place` channel (its chat id); a forum topic is its `thread_id`.

Every member message is activity, with its kind (`bot.events.MESSAGE_KINDS`): text, or the
media it carries, whose caption (a poll's question) is its text. A message sent on behalf of a
chat (``sender_chat``: a linked channel's post forwarded into its discussion group, an
anonymous admin posting as the group, a member posting as their channel) belongs to that chat,
as a bot account: it counts as a message of the group, never as a person's.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
    Chat,
    ChatMember,
    ChatMemberUpdated,
    MessageEntity,
    MessageReactionUpdated,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    User,
)
from telegram import (
    Message as TgMessage,
)

from bot.events import Author, Event, MemberJoined, MemberLeft, Message, Place, ReactionAdded

__all__ = [
    "GROUP_CHATS",
    "PLATFORM",
    "CommandText",
    "author_of",
    "member_events",
    "message_events",
    "message_kind",
    "parse_command",
    "place_of",
    "reaction_events",
    "sender_of",
]

PLATFORM = "telegram"
GROUP_CHATS = frozenset({"group", "supergroup"})
_PRESENT = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER})
#: Telegram's placeholder senders, shared by every chat: "Telegram" (777000, linked-channel
#: posts), Channel_Bot (136817688, posts as a channel) and GroupAnonymousBot (1087968824,
#: anonymous admins). The real sender is the message's ``sender_chat``.
PLACEHOLDER_USERS = frozenset({777000, 136817688, 1087968824})
#: Message content → kind, in this order: a GIF also has ``document`` set (animation wins),
#: a venue also has ``location``. Content Hearth has no kind for is "other".
_CONTENT_KINDS = (
    ("animation", "animation"),
    ("sticker", "sticker"),
    ("photo", "photo"),
    ("live_photo", "photo"),
    ("video", "video"),
    ("video_note", "video_note"),
    ("voice", "voice"),
    ("audio", "audio"),
    ("document", "document"),
    ("poll", "poll"),
    ("venue", "location"),
    ("location", "location"),
    ("contact", "contact"),
    ("dice", "dice"),
    ("story", "other"),
    ("game", "other"),
    ("paid_media", "other"),
    ("invoice", "other"),
    ("checklist", "other"),
    ("giveaway", "other"),
    ("giveaway_winners", "other"),
)


@dataclass(frozen=True, slots=True)
class CommandText:
    """A command found at the start of a message: `/name@bot args`."""

    name: str
    args: str


def author_of(user: User) -> Author:
    """The engine's view of a Telegram user."""
    name = user.full_name or user.username or str(user.id)
    return Author(user_id=str(user.id), name=name, is_bot=user.is_bot)


def _chat_author(chat: Chat) -> Author:
    name = chat.effective_name or chat.username or str(chat.id)
    return Author(user_id=str(chat.id), name=name, is_bot=True)


def sender_of(message: TgMessage) -> Author | None:
    """Who sent a message: its ``sender_chat`` when it was sent on behalf of a chat (never
    Telegram's placeholder account), else its user; None for a message without a sender."""
    if message.sender_chat is not None:
        return _chat_author(message.sender_chat)
    user = message.from_user
    if user is None:
        return None
    if user.id in PLACEHOLDER_USERS:
        # Sent on behalf of a chat without naming it (older updates): the group's own.
        return _chat_author(message.chat)
    return author_of(user)


def message_kind(message: TgMessage) -> str | None:
    """What a message is (one of `bot.events.MESSAGE_KINDS`), or None for a message with
    neither text nor member content (a service message: pins, title changes, topics)."""
    for attribute, kind in _CONTENT_KINDS:
        if getattr(message, attribute, None):
            return kind
    return "text" if message.text else None


def place_of(message: TgMessage) -> Place:
    """Where a message is: the chat, and its forum topic when it has one."""
    thread = str(message.message_thread_id) if message.is_topic_message else None
    chat = str(message.chat.id)
    return Place(PLATFORM, chat, chat, thread, group_name=message.chat.title)


def _text_and_entities(message: TgMessage) -> tuple[str, tuple[MessageEntity, ...]]:
    if message.text is not None:
        return message.text, message.entities
    if message.caption is not None:
        return message.caption, message.caption_entities
    return "", ()


def parse_command(message: TgMessage, bot_username: str) -> CommandText | None:
    """The command a message starts with, or None (also for a command to another bot)."""
    text, entities = _text_and_entities(message)
    first = entities[0] if entities else None
    if first is None or first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    word = text[1 : first.length]
    name, _, target = word.partition("@")
    if target and target.lower() != bot_username.lower():
        return None
    return CommandText(name=name.lower(), args=text[first.length :].strip())


def _reply_to(message: TgMessage) -> str | None:
    replied = message.reply_to_message
    # In a forum topic every message "replies" to the topic's creation message.
    if replied is None or replied.forum_topic_created is not None:
        return None
    return str(replied.message_id)


def _covered(text: str, entity: MessageEntity) -> str | None:
    """The text an entity covers (Telegram counts UTF-16 code units), or None when it reaches
    outside the text or splits a character (half of an emoji's surrogate pair)."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    start, end = entity.offset * 2, (entity.offset + entity.length) * 2
    if entity.offset < 0 or entity.length <= 0 or end > len(encoded):
        return None
    try:
        return encoded[start:end].decode("utf-16-le")
    except UnicodeDecodeError:
        return None


def _mentions(message: TgMessage) -> tuple[str, ...]:
    """Who a message mentions; an entity Telegram (or a client) got wrong is ignored, the
    message is still counted."""
    text, entities = _text_and_entities(message)
    found: list[str] = []
    for entity in entities:
        value = _covered(text, entity)
        if value is None:
            continue
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
            found.append(str(entity.user.id))
        elif entity.type == MessageEntity.MENTION:
            found.append(value.removeprefix("@"))
    return tuple(dict.fromkeys(found))


def message_events(message: TgMessage) -> list[Event]:
    """Events in a group message: joins, a leave, or the message itself (not commands)."""
    if message.chat.type not in GROUP_CHATS:
        return []
    at = message.date
    group = str(message.chat.id)
    if message.new_chat_members:
        return [
            MemberJoined(PLATFORM, group, author_of(user), at) for user in message.new_chat_members
        ]
    if message.left_chat_member is not None:
        return [MemberLeft(PLATFORM, group, author_of(message.left_chat_member), at)]
    kind, author = message_kind(message), sender_of(message)
    if kind is None or author is None:
        return []  # service messages (pins, title changes, topics) are not activity
    text, _ = _text_and_entities(message)
    if kind == "poll" and message.poll is not None and not text:
        text = message.poll.question
    return [
        Message(
            place=place_of(message),
            message_id=str(message.message_id),
            author=author,
            text=text,
            sent_at=at,
            reply_to=_reply_to(message),
            mentions=_mentions(message),
            kind=kind,
        )
    ]


def _present(member: ChatMember) -> bool:
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in _PRESENT


def member_events(update: ChatMemberUpdated) -> list[Event]:
    """A `chat_member` update as a join or a leave (status changes in between are ignored)."""
    if update.chat.type not in GROUP_CHATS:
        return []
    before, after = _present(update.old_chat_member), _present(update.new_chat_member)
    author = author_of(update.new_chat_member.user)
    group = str(update.chat.id)
    if after and not before:
        return [MemberJoined(PLATFORM, group, author, update.date)]
    if before and not after:
        return [MemberLeft(PLATFORM, group, author, update.date)]
    return []


def _emoji(reaction: object) -> str | None:
    if isinstance(reaction, ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, ReactionTypeCustomEmoji):
        return f"custom:{reaction.custom_emoji_id}"
    return None  # paid reactions


def reaction_events(update: MessageReactionUpdated) -> list[Event]:
    """Each newly added emoji of a (non-anonymous) member's reaction update."""
    if update.user is None or update.chat.type not in GROUP_CHATS:
        return []
    old = {_emoji(reaction) for reaction in update.old_reaction}
    chat = str(update.chat.id)
    place = Place(PLATFORM, chat, chat)
    return [
        ReactionAdded(
            place=place,
            message_id=str(update.message_id),
            reactor=author_of(update.user),
            emoji=emoji,
            at=update.date,
        )
        for emoji in (_emoji(reaction) for reaction in update.new_reaction)
        if emoji is not None and emoji not in old
    ]
