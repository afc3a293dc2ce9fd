"""Telegram updates → engine events (pure functions over python-telegram-bot objects).

A Telegram group is one `Place` channel (its chat id); a forum topic is its `thread_id`.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
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
    "parse_command",
    "place_of",
    "reaction_events",
]

PLATFORM = "telegram"
GROUP_CHATS = frozenset({"group", "supergroup"})
_PRESENT = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER})


@dataclass(frozen=True, slots=True)
class CommandText:
    """A command found at the start of a message: `/name@bot args`."""

    name: str
    args: str


def author_of(user: User) -> Author:
    """The engine's view of a Telegram user."""
    name = user.full_name or user.username or str(user.id)
    return Author(user_id=str(user.id), name=name, is_bot=user.is_bot)


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
    text, _ = _text_and_entities(message)
    if message.from_user is None or not text:
        return []  # service messages (pins, title changes, topics) are not activity
    return [
        Message(
            place=place_of(message),
            message_id=str(message.message_id),
            author=author_of(message.from_user),
            text=text,
            sent_at=at,
            reply_to=_reply_to(message),
            mentions=_mentions(message),
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
