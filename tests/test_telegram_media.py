"""Telegram media and posts on behalf of a chat, live (issue 18 items 1 and 2).

Real python-telegram-bot against the fake Bot API: a sticker, a photo without caption, a voice
note, a GIF, a poll and a dice each count once as activity with their kind; a linked channel's
post and an anonymous admin's post are stored under the chat's own account (a bot: no XP, not
an active member), never under Telegram's placeholder accounts shared by every chat; service
messages are still not activity.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Account, MemberAccount, MessageLog, PointsLedger
from tests.test_telegram_adapter import ALICE, GROUP, Bot, chat, polling_bot

CHANNEL = {"id": -1005550001, "type": "channel", "title": "Tea News"}
TELEGRAM = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
ANONYMOUS = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
_ids = iter(range(20_000, 30_000))


def _file(name: str, **extra: Any) -> dict[str, Any]:
    return {"file_id": f"{name}-id", "file_unique_id": f"{name}-u", **extra}


def update(user: dict[str, Any] = ALICE, **content: Any) -> dict[str, Any]:
    """A group message without text: only the given content."""
    body = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": chat(),
        "from": user,
        **content,
    }
    return {"message": body}


STICKER = _file("st", type="regular", width=512, height=512, is_animated=False, is_video=False)
POLL = {
    "id": "poll-1",
    "question": "Green or black?",
    "options": [
        {"persistent_id": "g", "text": "green", "voter_count": 0},
        {"persistent_id": "b", "text": "black", "voter_count": 0},
    ],
    "total_voter_count": 0,
    "is_closed": False,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": False,
    "allows_revoting": False,
    "members_only": False,
}


@pytest.fixture
async def tg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    async with polling_bot(tmp_path, monkeypatch) as bot:
        yield bot


async def _rows(tg: Bot) -> list[tuple[str, str, str, str, bool]]:
    """(message id, kind, text, author's account id, author is a bot) of every message."""
    await tg.engine.services.writer.flush()
    async with tg.engine.services.database.session() as session:
        rows = await session.execute(
            select(
                MessageLog.message_id,
                MessageLog.kind,
                MessageLog.text,
                Account.external_id,
                Account.is_bot,
            )
            .join(MemberAccount, MemberAccount.member_id == MessageLog.member_id)
            .join(Account, Account.id == MemberAccount.account_id)
            .order_by(MessageLog.id)
        )
        return [(m, k, t or "", a, bool(b)) for m, k, t, a, b in rows.all()]


async def test_every_kind_of_media_counts_once_with_its_kind(tg: Bot) -> None:
    sticker = update(sticker=STICKER)
    gif = _file("gif", width=320, height=240, duration=2)
    media = [
        sticker,
        sticker,  # delivered again after a crash: counted once
        update(photo=[_file("ph", width=90, height=60), _file("ph2", width=900, height=600)]),
        update(voice=_file("vo", duration=3)),
        update(animation=gif, document=_file("gif", mime_type="video/mp4")),  # GIF: both set
        update(poll=POLL),
        update(dice={"emoji": "🎲", "value": 4}),
        update(video=_file("vi", width=640, height=480, duration=5), caption="the harvest"),
        update(location={"latitude": 30.2, "longitude": 120.1}),
        update(pinned_message={"message_id": 1, "date": 0, "chat": chat()}),  # a service
        update(new_chat_title="Tea house 2"),  # a service
    ]
    for item in media:
        await tg.fake.push(item)
    await tg.until_count(MessageLog, 8)
    await tg.fake.drained()
    rows = await _rows(tg)
    assert [(kind, text) for _, kind, text, _, _ in rows] == [
        ("sticker", ""),
        ("photo", ""),
        ("voice", ""),
        ("animation", ""),
        ("poll", "Green or black?"),
        ("dice", ""),
        ("video", "the harvest"),
        ("location", ""),
    ]
    assert {(account, bot) for *_, account, bot in rows} == {(str(ALICE["id"]), False)}


async def test_channel_and_anonymous_admin_posts_belong_to_the_chat(tg: Bot) -> None:
    linked = update(
        TELEGRAM, sender_chat=CHANNEL, is_automatic_forward=True, text="New harvest is in"
    )
    anonymous = update(ANONYMOUS, sender_chat=chat(), text="Please read the rules")
    channel_sticker = update(TELEGRAM, sender_chat=CHANNEL, sticker=STICKER)
    for item in (linked, anonymous, channel_sticker, update(text="hello from Alice")):
        await tg.fake.push(item)
    await tg.until_count(MessageLog, 4)
    await tg.fake.drained()  # confirmed: processed, and its batch (with the XP) committed
    rows = [(kind, account, bot) for _, kind, _, account, bot in await _rows(tg)]
    assert rows == [
        ("text", str(CHANNEL["id"]), True),
        ("text", str(GROUP), True),
        ("sticker", str(CHANNEL["id"]), True),
        ("text", str(ALICE["id"]), False),
    ]
    async with tg.engine.services.database.session() as session:
        accounts = dict((await session.execute(select(Account.external_id, Account.name))).all())
        placeholders = {str(TELEGRAM["id"]), str(ANONYMOUS["id"])}
        assert placeholders.isdisjoint(accounts)
        assert accounts[str(CHANNEL["id"])] == "Tea News"
        assert accounts[str(GROUP)] == "Tea house"
        earners = await session.execute(
            select(Account.external_id)
            .join(MemberAccount, MemberAccount.account_id == Account.id)
            .join(PointsLedger, PointsLedger.member_id == MemberAccount.member_id)
        )
        assert set(earners.scalars()) == {str(ALICE["id"])}  # the chats earn no XP
