"""The ingest benchmark's synthetic traffic: deterministic messages of one Discord guild."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.events import Author, Message, Place

__all__ = ["CHANNELS", "GROUP_ID", "MEMBERS", "PLATFORM", "START", "make_messages", "message_row"]

PLATFORM = "discord"
GROUP_ID = "811000000000000001"
MEMBERS = 50
CHANNELS = 5
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

_ENGLISH_TEXT = (
    "the meetup is on friday evening does anyone want to join us for the release party "
    "thanks for the help with the build it works now i think the bot counts points twice "
    "when someone edits a message could you share the logs please good morning everyone "
    "welcome to the server read the rules channel first and have fun here is the link to "
    "the docs we moved the call to next week because half of the team is travelling"
)
_ENGLISH = tuple(_ENGLISH_TEXT.split())
_CHINESE = (
    "大家好",
    "今天的活动几点开始",
    "谢谢你的帮助",
    "我觉得这个功能很有用",
    "有人知道怎么设置时区吗",
    "下周见",
    "文档在这里",
    "机器人好像重复计分了",
    "欢迎新朋友",
    "周五晚上一起吃饭吧",
    "这个问题我也遇到过",
    "请先看一下规则频道",
)


def _text(rng: random.Random) -> str:
    """A message text: mostly short, sometimes long; English, Chinese or mixed."""
    roll = rng.random()
    words = rng.randint(1, 12) if roll < 0.7 else rng.randint(13, 60) if roll < 0.95 else 300
    language = rng.random()
    if language < 0.6:
        return " ".join(rng.choice(_ENGLISH) for _ in range(words)).capitalize()
    if language < 0.85:
        return "，".join(rng.choice(_CHINESE) for _ in range(max(1, words // 3))) + "。"
    parts = [rng.choice(_CHINESE) if rng.random() < 0.5 else rng.choice(_ENGLISH)]
    parts += [rng.choice(_ENGLISH) for _ in range(words)]
    return " ".join(parts)


def make_messages(count: int, *, seed: int = 20260105) -> list[Message]:
    """`count` messages from 50 members across 5 channels of one Discord guild.

    Deterministic for a given seed. About one in six replies to a recent message of the same
    channel and one in ten mentions someone; one second passes between messages.
    """
    rng = random.Random(seed)
    authors = [Author(user_id=str(300_000_000 + n), name=f"member{n:02d}") for n in range(MEMBERS)]
    places = [Place(PLATFORM, GROUP_ID, str(900_000_000 + n)) for n in range(CHANNELS)]
    recent: list[list[str]] = [[] for _ in places]
    messages = []
    for number in range(count):
        channel = rng.randrange(CHANNELS)
        author = authors[rng.randrange(MEMBERS)]
        message_id = str(1_000_000_000 + number)
        history = recent[channel]
        reply_to = rng.choice(history) if history and rng.random() < 0.17 else None
        mentions = (rng.choice(authors).user_id,) if rng.random() < 0.1 else ()
        messages.append(
            Message(
                place=places[channel],
                message_id=message_id,
                author=author,
                text=_text(rng),
                sent_at=START + timedelta(seconds=number),
                reply_to=reply_to,
                mentions=mentions,
            )
        )
        history.append(message_id)
        if len(history) > 50:
            del history[0]
    return messages


def message_row(
    message: Message, community_id: int, group_id: int, member_id: int
) -> dict[str, Any]:
    """The `messages` row the activity feature writes for `message`."""
    return {
        "community_id": community_id,
        "group_id": group_id,
        "member_id": member_id,
        "platform": message.place.platform,
        "channel_id": message.place.channel_id,
        "thread_id": message.place.thread_id,
        "message_id": message.message_id,
        "reply_to": message.reply_to,
        "mentions": len(message.mentions),
        "sent_at": message.sent_at,
        "length": len(message.text),
        "is_command": False,
        "text": message.text,
    }
