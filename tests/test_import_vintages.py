"""Telegram Desktop exports of 2020 and of today, and media in imports (issue 18 items 1-3).

The two fixtures are the same supergroup ("Tea Garden", live chat id -1001357924680) exported
by two vintages of Telegram Desktop:

- ``telegram_2020_export.json``: numeric peer ids (the chat's id and a channel's ``from_id``
  shifted by 2^33, users' not), ``date`` in the exporting computer's local time only, no
  reactions;
- ``telegram_current_export.json``: ``user…``/``channel…`` ids, the chat's bare id,
  ``date_unixtime``, media of each kind Telegram Desktop writes, and reactions whose
  ``recent`` entries carry their own ``date`` (local time, UTC+8 here).

Both must land in the group, members and accounts the live bot (real python-telegram-bot
against the fake Bot API) sees for the same chat and users; channel posts and anonymous-admin
posts belong to the chat, never to a person.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.bootstrap import build_services
from bot.clock import ManualClock
from bot.events import Message
from bot.features.base import Services
from bot.importer import DiscordExport, Importer, ImportSummary, TelegramExport
from bot.importer.telegram_export import CHANNEL_SHIFT, bot_api_chat_id, peer_id
from storage.models import Account, Group, Member, MemberAccount, MessageLog, ReactionLog
from tests.conftest import make_settings
from tests.test_telegram_adapter import Bot, chat, message, polling_bot

DATA = Path(__file__).parent / "data"
OLD = DATA / "telegram_2020_export.json"
CURRENT = DATA / "telegram_current_export.json"
DISCORD_MEDIA = DATA / "discord_media_export.json"
GARDEN = -1001357924680  # the live chat id of the exported supergroup
NEWS = -1001122334455  # its linked channel, as live `sender_chat.id`
MEI = {"id": 4101, "is_bot": False, "first_name": "Mei"}
TELEGRAM = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
ANONYMOUS = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
PEOPLE = {"4101", "4102", "4103"}
CHATS = {str(NEWS), str(GARDEN)}

#: The kind of each exported message (6 is a join, 22 an unsupported message: not messages).
KINDS_2020 = {
    "1": "text",
    "2": "text",
    "3": "text",  # the linked channel's post
    "4": "photo",
    "5": "sticker",
    "7": "voice",
    "8": "text",  # an anonymous admin's post
    "9": "poll",
    "10": "video_note",
}
KINDS_LATER = {
    "11": "text",
    "12": "animation",
    "13": "video",
    "14": "audio",
    "15": "document",
    "16": "location",
    "17": "location",  # a venue
    "18": "contact",
    "19": "other",  # a dice: Telegram Desktop writes nothing of it
    "20": "text",  # the linked channel again
    "21": "other",  # a game
}


async def _import(services: Services, path: Path) -> ImportSummary:
    export = TelegramExport(path)
    importer = Importer(services, batch_size=4)
    await importer.open_group(export.header)
    return await importer.run(export.items())


async def _accounts(services: Services) -> dict[str, tuple[bool, int]]:
    """Each Telegram account: (is a bot, how many members it is)."""
    async with services.database.session() as session:
        rows = await session.execute(
            select(Account.external_id, Account.is_bot, func.count(MemberAccount.id))
            .outerjoin(MemberAccount, MemberAccount.account_id == Account.id)
            .where(Account.platform == "telegram")
            .group_by(Account.external_id, Account.is_bot)
        )
        return {str(user): (bool(bot), int(n)) for user, bot, n in rows.all()}


async def _messages(services: Services) -> dict[str, tuple[str, str, str]]:
    """Each logged message: (kind, text, its author's account id)."""
    async with services.database.session() as session:
        rows = await session.execute(
            select(MessageLog.message_id, MessageLog.kind, MessageLog.text, Account.external_id)
            .join(MemberAccount, MemberAccount.member_id == MessageLog.member_id)
            .join(Account, Account.id == MemberAccount.account_id)
        )
        return {str(m): (str(k), str(t or ""), str(a)) for m, k, t, a in rows.all()}


async def test_both_vintages_land_where_the_live_bot_sees_the_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with polling_bot(tmp_path, monkeypatch) as tg:
        await _live_messages(tg)
        services = tg.engine.services
        live_group = await services.directory.group("telegram", str(GARDEN))
        live_accounts = await _accounts(services)
        assert live_accounts == {"4101": (False, 1), str(NEWS): (True, 1), str(GARDEN): (True, 1)}

        old = await _import(services, OLD)
        current = await _import(services, CURRENT)

        assert (old.messages, old.new_messages, old.joins) == (9, 9, 1)
        # The same history again in today's format, and what happened since.
        assert (current.messages, current.new_messages) == (20, 11)
        assert current.skipped["unsupported message (no date or sender in the export)"] == 1
        assert not {"no author", "no date"} & (set(old.skipped) | set(current.skipped))
        async with services.database.session() as session:
            groups = (await session.execute(select(Group.external_id))).scalars().all()
            members = await session.scalar(select(func.count()).select_from(Member))
        assert list(groups) == [str(GARDEN)]  # not -1009947859272 (the 2020 shifted id)
        group = await services.directory.group("telegram", str(GARDEN))
        assert group.community.id == live_group.community.id
        # One account and one member per person and per chat, the live ones among them.
        assert await _accounts(services) == {
            **dict.fromkeys(PEOPLE, (False, 1)),
            **dict.fromkeys(CHATS, (True, 1)),
        }
        assert members == len(PEOPLE | CHATS)

        rows = await _messages(services)
        imported = {m: row for m, row in rows.items() if m in KINDS_2020 | KINDS_LATER}
        assert {m: kind for m, (kind, _, _) in imported.items()} == KINDS_2020 | KINDS_LATER
        texts = {
            item.message_id: item.text
            for _, item in TelegramExport(CURRENT).items()
            if isinstance(item, Message)
        }
        assert texts["9"] == "Green or oolong?"  # a poll's question is its text
        assert (texts["13"], texts["4"], texts["5"]) == ("how I brew", "", "")  # captions
        authors = {m: author for m, (_, _, author) in imported.items()}
        assert authors["3"] == authors["20"] == str(NEWS)  # the linked channel, both vintages
        assert authors["8"] == str(GARDEN)  # the anonymous admin: the group itself
        assert {authors[m] for m in ("1", "4", "9", "11", "14", "17", "21")} == {"4101"}


async def _live_messages(tg: Bot) -> None:
    """Mei, the linked channel and an anonymous admin post live in the exported group."""
    garden = chat(GARDEN) | {"title": "Tea Garden"}
    news = {"id": NEWS, "type": "channel", "title": "Garden News"}
    updates: list[dict[str, Any]] = [
        message("hello live", user=MEI, chat_id=GARDEN),
        message("news, live", user=TELEGRAM, chat_id=GARDEN, sender_chat=news),
        message("admins, live", user=ANONYMOUS, chat_id=GARDEN, sender_chat=garden),
    ]
    for update in updates:
        await tg.fake.push(update)
    await tg.until_count(MessageLog, 3)
    await tg.fake.drained()


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    built = build_services(make_settings(db_url), clock=clock)
    await built.database.upgrade()
    yield built
    await built.database.close()


async def test_reactions_take_their_own_date(services: Services) -> None:
    await _import(services, CURRENT)
    async with services.database.session() as session:
        rows = await session.execute(
            select(ReactionLog.message_id, ReactionLog.emoji, Account.external_id, ReactionLog.at)
            .join(MemberAccount, MemberAccount.member_id == ReactionLog.member_id)
            .join(Account, Account.id == MemberAccount.account_id)
            .order_by(ReactionLog.at)
        )
        reactions = [(m, e, a, at.astimezone(UTC)) for m, e, a, at in rows.all()]
    # The export's local times are UTC+8: message 11 was sent at 04:00 UTC.
    assert reactions == [
        ("11", "👍", "4102", datetime(2025, 6, 1, 4, 3, tzinfo=UTC)),
        ("13", "❤", "4101", datetime(2025, 6, 1, 4, 30, tzinfo=UTC)),
        ("11", "👍", "4103", datetime(2025, 6, 1, 5, 30, tzinfo=UTC)),
        ("20", "🔥", "4101", datetime(2025, 6, 1, 5, 45, tzinfo=UTC)),
    ]


async def test_a_reaction_without_its_own_date_takes_the_message_time(
    services: Services, tmp_path: Path
) -> None:
    data = json.loads(CURRENT.read_text("utf-8"))
    for raw in data["messages"]:
        for reaction in raw.get("reactions", ()):
            for entry in reaction["recent"]:
                del entry["date"]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    await _import(services, path)
    async with services.database.session() as session:
        pairs = await session.execute(
            select(ReactionLog.at, MessageLog.sent_at).join(
                MessageLog,
                (MessageLog.message_id == ReactionLog.message_id)
                & (MessageLog.channel_id == ReactionLog.channel_id),
            )
        )
        assert all(at == sent for at, sent in pairs.all())


def test_shifted_peer_ids_are_the_live_ids() -> None:
    assert peer_id(4101) == "user4101"
    assert peer_id(CHANNEL_SHIFT + 1122334455) == "channel1122334455"
    assert peer_id((1 << 32) + 987654) == "chat987654"
    assert peer_id("user4101") == "user4101"
    assert peer_id(True) is None
    shifted = CHANNEL_SHIFT + 1357924680
    assert bot_api_chat_id("public_supergroup", shifted, shifted=True) == str(GARDEN)
    assert bot_api_chat_id("private_group", (1 << 32) + 987654, shifted=True) == "-987654"
    # Today's basic groups can have ids above 2^32: left alone in today's exports.
    assert bot_api_chat_id("private_group", 4_700_000_000) == "-4700000000"
    assert TelegramExport(OLD).header.group_id == TelegramExport(CURRENT).header.group_id


async def test_discord_attachments_and_stickers_have_their_kind(services: Services) -> None:
    export = DiscordExport(DISCORD_MEDIA)
    importer = Importer(services, batch_size=4)
    await importer.open_group(export.header)
    summary = await importer.run(export.items())
    assert (summary.messages, summary.new_messages) == (8, 8)
    async with services.database.session() as session:
        rows = await session.execute(
            select(MessageLog.message_id, MessageLog.kind, MessageLog.text).order_by(
                MessageLog.message_id
            )
        )
        kinds = [(m, k, t or "") for m, k, t in rows.all()]
    assert kinds == [
        ("9001", "text", "hello"),
        ("9002", "sticker", ""),
        ("9003", "voice", ""),  # Discord's recorded voice message
        ("9004", "photo", ""),
        ("9005", "video", "look"),
        ("9006", "animation", ""),  # a GIF
        ("9007", "audio", ""),
        ("9008", "document", ""),  # the first attachment decides
    ]
