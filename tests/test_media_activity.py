"""Media is activity (issue 18 item 1): every kind of message counts once, with its kind.

Through the console (``@ann: [sticker]``, ``@ann: [photo] caption``) and through discord.py
against the fake Discord: media is logged with its kind, earns message XP under the
cooldown (no length or repeat filter; `points.media_xp = false` turns it off), the FAQ
never answers it, and the digest counts messages by kind.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.events import MESSAGE_KINDS, Author, Message, Place
from bot.media import file_kind
from storage.database import Database
from storage.models import MessageLog
from tests.conftest import make_settings
from tests.console import play
from tests.discord_hearth import hearth_on_discord
from tests.fakes.discord_server import member

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
REFUND = "/faq add how do I get a refund? | Refunds are handled in #support within 14 days."


async def _kinds(url: str) -> list[tuple[str, str]]:
    database = Database(url)
    try:
        async with database.session() as session:
            rows = await session.execute(
                select(MessageLog.kind, MessageLog.text)
                .where(MessageLog.is_command.is_(False))
                .order_by(MessageLog.id)
            )
            return [(str(kind), str(text or "")) for kind, text in rows.all()]
    finally:
        await database.close()


async def test_media_without_text_is_activity_with_its_kind_and_earns_xp(db_url: str) -> None:
    clock = ManualClock(START)
    lines = await play(
        db_url,
        clock,
        "@ann: [sticker]\n"
        "@ann: [sticker]\n"  # within the cooldown: counted, no XP
        "~ +2m\n"
        "@ann: [sticker]\n"  # the same sticker again: only the cooldown applies to media
        "~ +2m\n"
        "@ann: [voice]\n"
        "@bob: [photo] the view from the top\n"
        "/rank ann\n",
    )
    assert await _kinds(db_url) == [
        ("sticker", ""),
        ("sticker", ""),
        ("sticker", ""),
        ("voice", ""),
        ("photo", "the view from the top"),
    ]
    # Three awards of 15-25 XP each: minutes 0, 2 and 4.
    rank = next(line for line in lines if line.startswith("ann — level"))
    xp = int(rank.split(", ")[1].split(" ")[0])
    assert 45 <= xp <= 75, rank


async def test_media_xp_off_counts_media_but_awards_nothing(db_url: str) -> None:
    clock = ManualClock(START)
    lines = await play(
        db_url,
        clock,
        "@ann: [sticker]\n~ +2m\n@ann: [photo]\n~ +2m\n@ann: a message with words\n/rank ann\n",
        points={"media_xp": False},
    )
    assert [kind for kind, _ in await _kinds(db_url)] == ["sticker", "photo", "text"]
    rank = next(line for line in lines if line.startswith("ann — level"))
    xp = int(rank.split(", ")[1].split(" ")[0])
    assert 15 <= xp <= 25, rank  # the text message only


async def test_the_faq_never_answers_media(db_url: str) -> None:
    clock = ManualClock(START)
    lines = await play(
        db_url,
        clock,
        f"{REFUND}\n"
        "@ann: [photo] how do I get a refund?\n"
        "@bob: [poll] how do I get a refund?\n"
        "@cai: [sticker]\n"
        "~ +20m\n"
        "@dan: how do I get a refund?\n",
    )
    answers = [line for line in lines if "Refunds are handled" in line]
    assert len(answers) == 1  # dan's text question only
    assert lines[-1] == answers[0]


async def test_the_digest_counts_messages_by_kind_in_the_community_language(db_url: str) -> None:
    clock = ManualClock(START)
    script = (
        "@ann: hello there everyone\n"
        "@bob: [sticker]\n"
        "@bob: [sticker]\n"
        "@cai: [photo] my cat\n"
        "@dan: [voice]\n"
        "~ 2026-03-03 08:00\n"
        "/digest day\n"
    )
    lines = await play(db_url, clock, script)
    assert "Messages by kind: stickers 2 · photos 1 · text 1 · voice messages 1" in lines
    assert any(line.startswith("Messages 5 ") for line in lines)
    # After a restart, from the database alone.
    lines = await play(db_url, ManualClock(START), "~ 2026-03-03 08:00\n/digest day\n")
    assert "Messages by kind: stickers 2 · photos 1 · text 1 · voice messages 1" in lines


async def test_the_digest_shows_no_kind_line_when_everything_is_text(db_url: str) -> None:
    lines = await play(
        db_url, ManualClock(START), "@ann: hello there\n~ 2026-03-03 08:00\n/digest day\n"
    )
    assert not any(line.startswith("Messages by kind") for line in lines)


async def test_chinese_digest_names_the_kinds(db_url: str) -> None:
    script = "/language zh_Hans\n@ann: 大家好啊\n@bob: [sticker]\n~ 2026-03-03 08:00\n/digest day\n"
    lines = await play(db_url, ManualClock(START), script)
    assert "消息类型：贴纸 1 · 文字 1" in lines or "消息类型：文字 1 · 贴纸 1" in lines


def test_every_kind_is_known_and_files_are_sorted_by_type() -> None:
    place = Place("console", "g", "c")
    for kind in MESSAGE_KINDS:
        assert Message(place, "1", Author("a", "a"), "", START, kind=kind).is_media == (
            kind != "text"
        )
    with pytest.raises(ValueError, match=r"Message\.kind"):
        Message(place, "1", Author("a", "a"), "", START, kind="hologram")
    assert file_kind("image/png", "x.png") == "photo"
    assert file_kind("image/gif", "x.gif") == "animation"
    assert file_kind(None, "clip.MP4") == "video"
    assert file_kind("audio/ogg", "voice-message.ogg", voice=True) == "voice"
    assert file_kind("audio/mpeg", "song.mp3") == "audio"
    assert file_kind(None, "notes.pdf") == "document"
    assert file_kind("", "no-extension") == "document"


def _attachment(
    fake_id: int, filename: str, content_type: str, **extra: object
) -> dict[str, object]:
    return {
        "id": str(fake_id),
        "filename": filename,
        "size": 1000,
        "url": f"https://cdn.example/{filename}",
        "proxy_url": f"https://media.example/{filename}",
        "content_type": content_type,
        **extra,
    }


async def test_discord_attachments_stickers_and_voice_are_logged_with_their_kind(
    monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    settings = make_settings(db_url, discord={"token": "x"})
    clock = ManualClock(START)
    ann = member(2001, "ann")
    async with hearth_on_discord(monkeypatch, settings, clock) as (fake, engine):
        image = [_attachment(1, "cat.png", "image/png")]
        voice = [
            _attachment(2, "voice-message.ogg", "audio/ogg", duration_secs=3.5, waveform="AAAA")
        ]
        sticker = [{"id": "777", "name": "wave", "format_type": 1}]
        payloads = [
            fake.message(ann, "", attachments=image),
            fake.message(ann, "", sticker_items=sticker),
            fake.message(ann, "", attachments=voice, flags=1 << 13),
            fake.message(ann, "look", attachments=[_attachment(3, "a.gif", "image/gif")]),
            fake.message(ann, "", attachments=[_attachment(4, "notes.pdf", "application/pdf")]),
        ]
        for payload in payloads:
            await fake.dispatch("MESSAGE_CREATE", payload)
        await fake.dispatch("MESSAGE_CREATE", payloads[0])  # redelivered: counts once
        async with asyncio.timeout(5):
            while len(await _kinds(db_url)) < 5:
                await engine.commit()
                await asyncio.sleep(0.01)
        await engine.commit()
    assert sorted(await _kinds(db_url)) == [
        ("animation", "look"),
        ("document", ""),
        ("photo", ""),
        ("sticker", ""),
        ("voice", ""),
    ]
