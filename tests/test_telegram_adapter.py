"""The Telegram adapter end to end: real python-telegram-bot against a fake Bot API server."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from adapters.console import ConsoleAdapter
from adapters.runner import serve
from adapters.telegram_adapter import ALLOWED_UPDATES, PRIVACY_WARNING, TelegramAdapter
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from bot.errors import DeliveryFailed, DeliveryProblem
from bot.events import (
    DeleteMessage,
    DirectMessage,
    Place,
    Poll,
    Post,
    Reply,
    Restrict,
    Sanction,
)
from bot.features.digest.feature import DigestFeature
from storage.identity import ChannelRef
from storage.models import Member, MemberEvent, MessageLog, ReactionLog
from tests.conftest import make_settings
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram

GROUP = -1001234
ALICE = {"id": 11, "is_bot": False, "first_name": "Alice", "language_code": "en"}
ADMIN = {"id": 99, "is_bot": False, "first_name": "Root"}
_message_ids = iter(range(100, 10_000))


def chat(chat_id: int = GROUP) -> dict[str, Any]:
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Tea house"}


def message(
    text: str,
    *,
    user: dict[str, Any] = ALICE,
    chat_id: int = GROUP,
    message_id: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": message_id or next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id),
        "from": user,
        "text": text,
        **extra,
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": body}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait for a condition the bot reaches asynchronously (no fixed sleeps)."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.01)


class Bot:
    """A running Hearth with the Telegram adapter, and the fake it talks to."""

    def __init__(self, fake: FakeTelegram, engine: Engine, adapter: TelegramAdapter) -> None:
        self.fake, self.engine, self.adapter = fake, engine, adapter

    async def count(self, model: type[Any]) -> int:
        await self.engine.services.writer.flush()
        async with self.engine.services.database.session() as session:
            return int(
                (await session.execute(select(func.count()).select_from(model))).scalar_one()
            )

    async def until_count(self, model: type[Any], expected: int) -> None:
        async def reached() -> bool:
            return await self.count(model) == expected

        await eventually(reached)

    async def replies(self, count: int = 1) -> list[dict[str, Any]]:
        return await self.fake.wait_for("sendMessage", count)


async def start_bot(
    tmp_path: Path, fake: FakeTelegram, **telegram: Any
) -> tuple[Bot, asyncio.Task[None]]:
    base_url = await fake.start()
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        telegram={"token": fake.token, "api_base_url": base_url, **telegram},
    )
    clock = ManualClock(datetime.now(UTC))
    engine = build_engine(settings, clock=clock)
    await engine.start()
    adapter = TelegramAdapter(settings, clock, retry_delays=(0.0,))
    engine.attach(adapter.name, adapter.perform, adapter.member_role)
    task = asyncio.create_task(adapter.run(engine))
    await fake.wait_for("setMyCommands", 6)
    return Bot(fake, engine, adapter), task


@asynccontextmanager
async def polling_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    """Hearth polling a fresh fake Bot API (its first getUpdates sent); stopped on the way out."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeTelegram()
    bot, task = await start_bot(tmp_path, fake)
    try:
        await fake.wait_for("getUpdates")
        yield bot
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bot.engine.stop()
        await fake.stop()


@pytest.fixture
async def tg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    async with polling_bot(tmp_path, monkeypatch) as bot:
        yield bot


async def test_polls_with_explicit_allowed_updates(tg: Bot) -> None:
    first = tg.fake.sent("getUpdates")[0]
    assert set(first["allowed_updates"]) == set(ALLOWED_UPDATES)
    assert {"message_reaction", "chat_member", "edited_message"} <= set(first["allowed_updates"])


async def test_member_message_is_logged_once_even_if_redelivered(tg: Bot) -> None:
    update = message(
        "大家好 @bob", message_id=7, entities=[{"type": "mention", "offset": 4, "length": 4}]
    )
    await tg.fake.push(update)
    await tg.fake.push(update)  # the same message delivered again after a crash
    await tg.fake.push(message("second"))
    await tg.until_count(MessageLog, 2)
    async with tg.engine.services.database.session() as session:
        row = (
            await session.execute(select(MessageLog).where(MessageLog.message_id == "7"))
        ).scalar_one()
    assert (row.text, row.channel_id, row.mentions) == ("大家好 @bob", str(GROUP), 1)


async def test_help_is_answered_as_an_html_reply(tg: Bot) -> None:
    await tg.fake.push(message(f"/help@{BOT_USERNAME}", message_id=55))
    (sent,) = await tg.replies()
    assert sent["chat_id"] == str(GROUP)
    assert sent["parse_mode"] == "HTML"
    assert sent["reply_parameters"] == {"message_id": 55, "allow_sending_without_reply": True}
    assert sent["text"].startswith("Commands you can use:")
    assert "/timezone" not in sent["text"]  # members do not see admin commands


async def test_command_for_another_bot_is_just_a_message(tg: Bot) -> None:
    await tg.fake.push(message("/help@other_bot"))
    await tg.until_count(MessageLog, 1)
    assert tg.fake.sent("sendMessage") == []


async def test_a_command_for_another_bot_gets_no_faq_answer(tg: Bot) -> None:
    tg.fake.set_status(GROUP, ADMIN["id"], "creator")
    await tg.fake.push(message("/faq add How do I join the tournament? | Sign up.", user=ADMIN))
    await tg.replies()
    await tg.fake.push(message("/ask@other_bot how do I join the tournament?"))
    await tg.fake.push(message("how do I join the tournament?", message_id=70))
    _, answer = await tg.replies(2)
    assert (answer["text"], answer["reply_parameters"]["message_id"]) == ("Sign up.", 70)
    await tg.until_count(MessageLog, 3)
    async with tg.engine.services.database.session() as session:
        commands = await session.execute(select(MessageLog.is_command).order_by(MessageLog.id))
    assert list(commands.scalars()) == [True, True, False]
    assert len(tg.fake.sent("sendMessage")) == 2  # the command for @other_bot: no answer


async def test_admin_command_needs_telegram_admin_rights(tg: Bot) -> None:
    tg.fake.set_status(GROUP, ADMIN["id"], "administrator", can_change_info=True)
    await tg.fake.push(message("/timezone Asia/Shanghai"))
    await tg.fake.push(message("/timezone Asia/Shanghai", user=ADMIN))
    refused, accepted = await tg.replies(2)
    assert refused["text"] == "Only admins can use /timezone."
    assert accepted["text"] == "Time zone set to Asia/Shanghai."
    checked = {(p["chat_id"], p["user_id"]) for p in tg.fake.sent("getChatMember")}
    assert checked == {(str(GROUP), "11"), (str(GROUP), "99")}


async def test_user_text_is_escaped_in_replies(tg: Bot) -> None:
    tg.fake.set_status(GROUP, ADMIN["id"], "creator")
    await tg.fake.push(message("/timezone <b>Mars</b>&Co", user=ADMIN))
    (sent,) = await tg.replies()
    assert "'&lt;b&gt;Mars&lt;/b&gt;&amp;Co'" in sent["text"]


async def test_join_and_leave_are_recorded_once(tg: Bot) -> None:
    carol = {"id": 33, "is_bot": False, "first_name": "Carol"}
    now = int(time.time())
    joined = message("", new_chat_members=[carol])
    del joined["message"]["text"]
    await tg.fake.push(joined)
    member = {"user": carol, "status": "member"}
    left = {"user": carol, "status": "left"}
    await tg.fake.push(
        {
            "chat_member": {
                "chat": chat(),
                "from": carol,
                "date": now,
                "old_chat_member": left,
                "new_chat_member": member,
            }
        }
    )
    await tg.fake.push(
        {
            "chat_member": {
                "chat": chat(),
                "from": carol,
                "date": now + 3600,
                "old_chat_member": member,
                "new_chat_member": left,
            }
        }
    )
    await tg.until_count(MemberEvent, 2)
    async with tg.engine.services.database.session() as session:
        kinds = (await session.execute(select(MemberEvent.kind).order_by(MemberEvent.at))).scalars()
        assert list(kinds) == ["join", "leave"]


async def test_reaction_arrives_as_a_reaction(tg: Bot) -> None:
    await tg.fake.push(
        {
            "message_reaction": {
                "chat": chat(),
                "message_id": 7,
                "user": ALICE,
                "date": int(time.time()),
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            }
        }
    )
    await tg.until_count(ReactionLog, 1)


async def test_long_replies_are_split_at_lines(tg: Bot) -> None:
    text = "\n".join(f"line {n} <tag>" for n in range(800))
    await tg.adapter.perform(Reply(_place(), "5", text))
    sent = tg.fake.sent("sendMessage")
    assert len(sent) == 3
    assert all(len(s["text"].replace("&lt;", "<").replace("&gt;", ">")) <= 4096 for s in sent)
    assert "reply_parameters" in sent[0]
    assert "reply_parameters" not in sent[1]


def _place() -> Place:
    return Place("telegram", str(GROUP), str(GROUP))


async def test_rate_limited_send_is_retried(tg: Bot) -> None:
    tg.fake.script(
        "sendMessage",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    await tg.adapter.perform(Reply(_place(), None, "patience"))
    assert [s["text"] for s in tg.fake.sent("sendMessage")] == ["patience", "patience"]


async def test_network_errors_are_retried(tg: Bot) -> None:
    tg.fake.script(
        "sendMessage", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    )
    await tg.adapter.perform(Reply(_place(), None, "again"))
    assert len(tg.fake.sent("sendMessage")) == 2


async def test_dm_to_a_stranger_becomes_a_note_to_moderators(tg: Bot) -> None:
    group = await tg.engine.services.directory.group("telegram", str(GROUP))
    await tg.engine.services.directory.update_community(
        group.community.id, mod_channel=ChannelRef("telegram", str(GROUP), str(GROUP), "42")
    )
    tg.fake.blocked_users.add(11)
    await tg.engine.services.dispatcher.dispatch(
        [DirectMessage("telegram", "11", "your data", group_id=str(GROUP))]
    )
    (note,) = tg.fake.sent("sendMessage")[-1:]
    assert note["message_thread_id"] == "42"
    assert note["text"].startswith("Hearth could not send a private message to 11")


async def test_group_upgrade_keeps_the_community(tg: Bot) -> None:
    old, new = -555, -1009999
    await tg.fake.push(message("before", chat_id=old, message_id=7))
    await tg.fake.push(
        message(
            "a reply",
            chat_id=old,
            message_id=8,
            reply_to_message={
                "message_id": 7,
                "date": int(time.time()),
                "chat": chat(old),
                "from": ALICE,
                "text": "x",
            },
        )
    )
    await tg.until_count(MessageLog, 2)
    migrate = message("", chat_id=old, migrate_to_chat_id=new)
    del migrate["message"]["text"]
    await tg.fake.push(migrate)
    # The supergroup numbers its messages from 1 again: its message 7 is a new message.
    await tg.fake.push(message("after", chat_id=new, message_id=7))
    await tg.until_count(MessageLog, 3)
    async with tg.engine.services.database.session() as session:
        rows = (
            await session.execute(
                select(
                    MessageLog.community_id,
                    MessageLog.channel_id,
                    MessageLog.message_id,
                    MessageLog.reply_to,
                ).order_by(MessageLog.id)
            )
        ).all()
    assert {row.channel_id for row in rows} == {str(new)}
    assert len({row.community_id for row in rows}) == 1
    # The basic group's ids move as in Telegram Desktop's exports of a migrated group.
    assert [(row.message_id, row.reply_to) for row in rows] == [
        ("-999999993", None),
        ("-999999992", "-999999993"),
        ("7", None),
    ]


async def test_command_menus_are_registered_per_scope_and_language(tg: Bot) -> None:
    calls = tg.fake.sent("setMyCommands")
    by_scope = {(c["scope"]["type"], c.get("language_code")): c["commands"] for c in calls}
    members = {c["command"] for c in by_scope[("default", None)]}
    admins = {c["command"] for c in by_scope[("all_chat_administrators", None)]}
    assert {"checkin", "faq", "help", "leaderboard", "rank", "mydata", "forgetme"} <= members
    assert not members & {"language", "timezone", "modchannel", "points", "schedule"}
    assert {"help", "language", "timezone", "modchannel", "points", "levels"} <= admins
    assert {c["command"] for c in by_scope[("all_private_chats", None)]} == {
        "mydata",
        "subscribe",
        "unsubscribe",
    }
    zh_help = [c for c in by_scope[("default", "zh")] if c["command"] == "help"]
    assert zh_help[0]["description"] == "显示你可以使用的命令，或某个命令的用法。"


async def test_private_start_explains_what_to_do(tg: Bot) -> None:
    private = {"id": 11, "type": "private", "first_name": "Alice"}
    update = message("/start")
    update["message"]["chat"] = private
    await tg.fake.push(update)
    (sent,) = await tg.replies()
    assert sent["chat_id"] == "11"
    assert "Add me to your group" in sent["text"]


async def test_privacy_mode_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeTelegram(can_read_all_group_messages=False)
    with caplog.at_level(logging.WARNING):
        bot, task = await start_bot(tmp_path, fake)
        await fake.push(message("/help"))
        await bot.replies()  # commands still work
    assert PRIVACY_WARNING in caplog.text
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await bot.engine.stop()
    await fake.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    port = _free_port()
    fake = FakeTelegram()
    bot, task = await start_bot(
        tmp_path,
        fake,
        webhook_url="https://hearth.example/tg/hook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret="s3cret",
    )
    (registered,) = await fake.wait_for("setWebhook")
    assert registered["url"] == "https://hearth.example/tg/hook"
    assert registered["secret_token"] == "s3cret"
    update = {"update_id": 1, **message("via webhook")}
    url = f"http://127.0.0.1:{port}/tg/hook"

    async def listening() -> bool:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    await eventually(listening)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        ) as wrong:
            assert wrong.status == 403
        async with http.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        ) as right:
            assert right.status == 200
    await bot.until_count(MessageLog, 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await bot.engine.stop()
    await fake.stop()


async def test_posts_send_photos_and_native_polls(tg: Bot, tmp_path: Path) -> None:
    image = tmp_path / "banner.png"
    image.write_bytes(b"\x89PNG fake")
    topic = Place("telegram", str(GROUP), str(GROUP), "7")
    await tg.adapter.perform(Post(topic, "Good morning <all>", image=str(image)))
    await tg.adapter.perform(
        Post(topic, "Weekly poll", poll=Poll("Tea or coffee?", ("tea", "coffee")))
    )
    (photo,) = tg.fake.sent("sendPhoto")
    assert photo["photo"] == {"file": "banner.png"}
    assert photo["caption"] == "Good morning &lt;all&gt;"
    assert photo["message_thread_id"] == "7"
    (poll,) = tg.fake.sent("sendPoll")
    assert poll["question"] == "Tea or coffee?"
    assert [option["text"] for option in poll["options"]] == ["tea", "coffee"]
    assert [s["text"] for s in tg.fake.sent("sendMessage")] == ["Weekly poll"]


async def test_edits_are_not_counted_and_bots_are_recognised(tg: Bot) -> None:
    original = message("first version", message_id=900)
    edited = {
        "edited_message": {
            **original["message"],
            "text": "second version",
            "edit_date": int(time.time()),
        }
    }
    helper_bot = {"id": 77, "is_bot": True, "first_name": "OtherBot"}
    await tg.fake.push(original)
    await tg.fake.push(edited)
    await tg.fake.push(message("beep", user=helper_bot))
    await tg.until_count(MessageLog, 2)
    async with tg.engine.services.database.session() as session:
        texts = (await session.execute(select(MessageLog.text).order_by(MessageLog.id))).scalars()
        assert list(texts) == ["first version", "beep"]
        bots = (await session.execute(select(Member.display_name).where(Member.is_bot))).scalars()
        assert list(bots) == ["OtherBot"]


async def test_private_mydata_sends_a_json_file(tg: Bot) -> None:
    await tg.fake.push(message("hello everyone", message_id=31))
    await tg.until_count(MessageLog, 1)
    private = {"id": 11, "type": "private", "first_name": "Alice"}
    update = message("/mydata")
    update["message"]["chat"] = private
    await tg.fake.push(update)
    (document,) = await tg.fake.wait_for("sendDocument")
    assert document["chat_id"] == "11"
    assert document["document"]["file"] == "hearth-data-telegram-11.json"
    (intro,) = tg.fake.sent("sendMessage")
    assert intro["text"] == "Here is everything Hearth stores about you."


async def test_digest_subscription_from_a_private_chat(tg: Bot) -> None:
    """A moderator subscribes in a private chat: Hearth asks Telegram for their rights in the
    groups it has seen them in, and the next daily digest comes to that chat."""
    private = {"id": 11, "type": "private", "first_name": "Alice"}

    async def private_command(text: str) -> str:
        update = message(text)
        update["message"]["chat"] = private
        before = len(tg.fake.sent("sendMessage"))
        await tg.fake.push(update)
        return str((await tg.replies(before + 1))[-1]["text"])

    assert (await private_command("/subscribe")).startswith("I found no group")
    await tg.fake.push(message("hello everyone"))
    await tg.until_count(MessageLog, 1)
    assert (await private_command("/subscribe")).startswith("I found no group")  # a member
    tg.fake.set_status(GROUP, 11, "administrator")  # a moderator, not an admin
    clock = tg.engine.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=10))  # rights are cached for a few minutes
    assert await private_command("/subscribe weekly") == (
        "I found no group where you may receive this digest. Send /subscribe in your group "
        "instead: only its moderators and admins receive digests."
    )
    assert await private_command("/subscribe") == (
        "You receive by private message:\n• the daily digest of Tea house"
    )
    usage = (await private_command("/subscribe monthly")).splitlines()
    assert usage[:2] == ["digest must be one of: daily, weekly", "Usage: /subscribe [daily|weekly]"]

    digest = next(f for f in tg.engine.features if isinstance(f, DigestFeature))
    clock.set((clock.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0))
    sent = await digest.tick()
    assert [kind for _community, kind, _day in sent][:1] == ["day"]
    photos = [p for p in tg.fake.sent("sendPhoto") if p["chat_id"] == "11"]
    texts = [m["text"] for m in tg.fake.sent("sendMessage") if m["chat_id"] == "11"]
    assert any(t.startswith("📊 Daily digest · Tea house") for t in texts) or photos

    assert await private_command("/unsubscribe") == "You receive no digests by private message."


# ---------------------------------------------------------------------- moderation


def _restrict(sanction: Sanction, until: datetime | None = None) -> Restrict:
    return Restrict("telegram", str(GROUP), "11", sanction, until, reason="spam")


def _error(status: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": status, "description": description}


async def test_moderation_actions_reach_telegram(tg: Bot) -> None:
    defaults = {"can_send_messages": True, "can_send_polls": False, "can_invite_users": True}
    tg.fake.permissions[GROUP] = defaults
    until = tg.adapter.clock.now() + timedelta(hours=1)
    await tg.adapter.perform(DeleteMessage(_place(), "77", reason="spam"))
    await tg.adapter.perform(_restrict(Sanction.MUTE, until))
    await tg.adapter.perform(_restrict(Sanction.UNMUTE))
    await tg.adapter.perform(_restrict(Sanction.BAN))
    await tg.adapter.perform(_restrict(Sanction.UNBAN))

    (deleted,) = tg.fake.sent("deleteMessage")
    assert (deleted["chat_id"], deleted["message_id"]) == (str(GROUP), "77")
    mute, unmute = tg.fake.sent("restrictChatMember")
    assert (mute["chat_id"], mute["user_id"]) == (str(GROUP), "11")
    assert mute["until_date"] == str(int(until.timestamp()))
    assert set(mute["permissions"].values()) == {False}
    (asked,) = tg.fake.sent("getChat")
    assert asked["chat_id"] == str(GROUP)
    assert unmute["permissions"] == defaults
    assert "until_date" not in unmute
    (ban,) = tg.fake.sent("banChatMember")
    assert (ban["chat_id"], ban["user_id"], ban["revoke_messages"]) == (str(GROUP), "11", "false")
    (unban,) = tg.fake.sent("unbanChatMember")
    assert (unban["user_id"], unban["only_if_banned"]) == ("11", "true")


async def test_unmute_lifts_everything_when_the_group_reports_no_defaults(tg: Bot) -> None:
    await tg.adapter.perform(_restrict(Sanction.UNMUTE))
    (unmute,) = tg.fake.sent("restrictChatMember")
    assert set(unmute["permissions"].values()) == {True}


async def test_a_very_short_mute_is_lengthened_so_it_is_not_forever(tg: Bot) -> None:
    now = tg.adapter.clock.now()
    await tg.adapter.perform(_restrict(Sanction.MUTE, now + timedelta(seconds=5)))
    (mute,) = tg.fake.sent("restrictChatMember")
    assert int(mute["until_date"]) == int((now + timedelta(seconds=31)).timestamp())


async def test_refused_moderation_becomes_a_delivery_problem(tg: Bot) -> None:
    tg.fake.script("banChatMember", 403, _error(403, "Forbidden: bot was kicked from the group"))
    tg.fake.script(
        "restrictChatMember",
        400,
        _error(400, "Bad Request: not enough rights to restrict/unrestrict chat member"),
    )
    tg.fake.script("deleteMessage", 400, _error(400, "Bad Request: message to delete not found"))
    until = tg.adapter.clock.now() + timedelta(minutes=10)
    with pytest.raises(DeliveryFailed) as ban:
        await tg.adapter.perform(_restrict(Sanction.BAN))
    with pytest.raises(DeliveryFailed) as mute:
        await tg.adapter.perform(_restrict(Sanction.MUTE, until))
    with pytest.raises(DeliveryFailed) as delete:
        await tg.adapter.perform(DeleteMessage(_place(), "77"))
    assert ban.value.problem is DeliveryProblem.FORBIDDEN
    assert mute.value.problem is DeliveryProblem.FORBIDDEN
    assert delete.value.problem is DeliveryProblem.NOT_FOUND
    assert delete.value.detail == "Message to delete not found"


async def test_an_invite_from_a_new_member_is_deleted_in_the_group(tg: Bot) -> None:
    """Moderation end to end: the join arrives, the newcomer's invite link is deleted through
    deleteMessage, the member is told why; an admin's invite stays."""
    carol = {"id": 33, "is_bot": False, "first_name": "Carol"}
    joined = message("", new_chat_members=[carol, ADMIN])  # the admin is new too
    del joined["message"]["text"]
    await tg.fake.push(joined)
    await tg.fake.push(message("join my group t.me/+AbCdEf", user=carol, message_id=501))
    (deleted,) = await tg.fake.wait_for("deleteMessage")
    assert (deleted["chat_id"], deleted["message_id"]) == (str(GROUP), "501")
    (notice,) = await tg.replies()
    assert notice["text"].startswith("Carol, your message is held for the moderators")
    tg.fake.set_status(GROUP, ADMIN["id"], "creator")
    await tg.fake.push(message("official group: t.me/+Official", user=ADMIN, message_id=502))
    await tg.until_count(MessageLog, 2)
    await tg.fake.drained()
    assert len(tg.fake.sent("deleteMessage")) == 1


# ---------------------------------------------------------------------- connecting


def _runner_lines(caplog: pytest.LogCaptureFixture, start: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(start)]


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


_START = ManualClock(datetime.now(UTC))


def _telegram_engine(tmp_path: Path, base_url: str, token: str = "123:TEST") -> Engine:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        telegram={"token": token, "api_base_url": base_url},
    )
    return build_engine(settings, clock=_START)


async def test_telegram_down_at_start_is_retried_with_backoff_until_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens at first, then the server comes up but drops the connection, answers
    500 and 502: Hearth logs one line per attempt, waits longer each time (with jitter), and
    once Telegram answers it connects and serves the group."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    port = _free_port()
    fake = FakeTelegram()
    fake.drop("getMe")
    fake.script("getMe", 500, _error(500, "Internal Server Error"))
    fake.script("getMe", 502, _error(502, "Bad Gateway"))
    engine = _telegram_engine(tmp_path, f"http://127.0.0.1:{port}/bot")
    adapter = TelegramAdapter(engine.services.settings, engine.services.clock)
    waits: list[float] = []

    async def pause(seconds: float) -> None:  # no real waiting
        waits.append(seconds)
        if len(waits) == 2:  # refused twice: now the server starts, still failing for a while
            await fake.start(port)

    with caplog.at_level(logging.INFO):
        serving = asyncio.create_task(serve(engine, [adapter], sleep=pause))
        await fake.wait_for("getUpdates")
        await fake.push(message("/help"))
        (sent,) = await fake.wait_for("sendMessage")
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
    await fake.stop()
    assert sent["text"].startswith("Commands you can use:")
    assert len(fake.sent("getMe")) == 4  # dropped, 500, 502, then connected
    lines = _runner_lines(caplog, "telegram: cannot connect")
    assert len(lines) == len(waits) == 5
    assert all("Telegram unreachable" in line for line in lines)
    assert "Internal Server Error" in lines[3]
    assert "Bad Gateway" in lines[4]
    for attempt, wait in enumerate(waits):  # 1, 2, 4, 8, 16 s plus up to 50 % jitter
        assert 2**attempt <= wait <= 1.5 * 2**attempt
    assert "telegram: connected as @hearth_test_bot" in caplog.text
    _no_tracebacks(caplog)


async def test_nothing_listening_keeps_retrying_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    engine = _telegram_engine(tmp_path, f"http://127.0.0.1:{_free_port()}/bot")
    adapter = TelegramAdapter(engine.services.settings, engine.services.clock)
    retried = asyncio.Event()
    waits: list[float] = []

    async def pause(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            retried.set()
            await asyncio.Event().wait()  # Hearth would wait here; the test stops it

    serving = asyncio.create_task(serve(engine, [adapter], sleep=pause))
    await asyncio.wait_for(retried.wait(), 10)
    assert not serving.done()  # still trying: an unreachable platform is not fatal
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    lines = _runner_lines(caplog, "telegram: cannot connect")
    assert len(lines) == 3
    assert all(
        line.startswith("telegram: cannot connect (Telegram unreachable: ") for line in lines
    )
    _no_tracebacks(caplog)


async def test_a_rejected_token_stops_only_telegram(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeTelegram()
    base_url = await fake.start()
    engine = _telegram_engine(tmp_path, base_url, token="999:WRONG")
    telegram = TelegramAdapter(engine.services.settings, engine.services.clock)
    out = io.StringIO()
    console = ConsoleAdapter(
        community="c",
        user="you",
        admin=False,
        clock=_START,
        stdin=io.StringIO("/help\n"),
        stdout=out,
        interactive=False,
    )
    waits: list[float] = []

    async def pause(seconds: float) -> None:
        waits.append(seconds)

    assert await serve(engine, [telegram, console], sleep=pause) == 0
    assert "Commands you can use:" in out.getvalue()  # the console kept running
    (line,) = _runner_lines(caplog, "telegram:")
    assert line.startswith("telegram: telegram.token: Telegram rejected the token")
    assert "this platform stays off" in line
    assert waits == []  # a rejected token is not retried
    assert "WRONG" not in caplog.text
    _no_tracebacks(caplog)

    caplog.clear()
    alone = _telegram_engine(tmp_path, base_url, token="999:WRONG")
    rejected = TelegramAdapter(alone.services.settings, alone.services.clock)
    assert await serve(alone, [rejected], sleep=pause) == 1  # no platform left: non-zero
    assert "no platform left to serve" in caplog.text
    _no_tracebacks(caplog)
    await fake.stop()
