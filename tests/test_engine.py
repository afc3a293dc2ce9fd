"""The engine through the in-memory adapter: commands, permissions, errors, redelivery."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from adapters.memory import MemoryAdapter
from bot.bootstrap import build_services
from bot.clock import ManualClock
from bot.commands import Command, CommandCall
from bot.delivery import defuse_mass_mentions
from bot.engine import Engine
from bot.events import Action, Author, Event, Message, Place, Post, Reply, Role
from bot.features.activity import ActivityFeature
from bot.features.base import BaseFeature, EventContext
from storage.activity import count_messages
from tests.conftest import Harness, make_settings


async def messages_in(h: Harness) -> int:
    await h.engine.services.writer.flush()
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    async with h.database.session() as session:
        return await count_messages(session, community_id=group.community.id)


async def test_help_lists_only_what_the_caller_may_run(harness: Harness) -> None:
    member_help = (await harness.chat.command("alice", "/help"))[0]
    admin_help = (await harness.chat.command("root", "/help", role=Role.ADMIN))[0]
    assert "/help" in member_help
    assert "/language" not in member_help
    assert "/language [language]" in admin_help
    assert "/timezone [timezone]" in admin_help


async def test_help_for_one_command_shows_usage(harness: Harness) -> None:
    (text,) = await harness.chat.command("root", "/help timezone", role=Role.ADMIN)
    assert text.splitlines()[0] == "/timezone [timezone]"


async def test_admin_command_is_refused_to_members_whatever_the_platform_shows(
    harness: Harness,
) -> None:
    (text,) = await harness.chat.command("mallory", "/timezone Asia/Tokyo")
    assert text == "Only admins can use /timezone."
    (text,) = await harness.chat.command("mod", "/timezone Asia/Tokyo", role=Role.MODERATOR)
    assert text == "Only admins can use /timezone."
    (shown,) = await harness.chat.command("root", "/timezone", role=Role.ADMIN)
    assert shown == "Time zone: UTC"


async def test_unknown_command_points_to_help(harness: Harness) -> None:
    (text,) = await harness.chat.command("alice", "/frobnicate now")
    assert text == "Unknown command /frobnicate. Send /help to see what you can use."


async def test_malformed_arguments_get_usage(harness: Harness) -> None:
    (text,) = await harness.chat.command("root", "/timezone Europe/Berlin extra", role=Role.ADMIN)
    assert "too many arguments" in text
    assert "Usage: /timezone [timezone]" in text
    (text,) = await harness.chat.command("root", "/timezone Mars/Base", role=Role.ADMIN)
    assert text.startswith("timezone: unknown time zone 'Mars/Base'")
    assert "Asia/Shanghai" in text


async def test_settings_change_language_of_replies(harness: Harness) -> None:
    (text,) = await harness.chat.command("root", "/language zh-CN", role=Role.ADMIN)
    assert text == "语言已设置为简体中文。"
    (text,) = await harness.chat.command("alice", "/nope")
    assert text == "未知命令 /nope。发送 /help 查看你可以使用的命令。"
    (text,) = await harness.chat.command("root", "/language klingon", role=Role.ADMIN)
    assert "klingon" in text
    assert "en, zh_Hans" in text


async def test_redelivered_message_counts_once(harness: Harness) -> None:
    await harness.chat.say("alice", "hello", message_id="42")
    await harness.chat.say("alice", "hello", message_id="42")
    await harness.chat.say("alice", "hello again", message_id="43")
    assert await messages_in(harness) == 2


async def test_redelivered_message_after_restart_counts_once(
    sqlite_url: str, clock: ManualClock
) -> None:
    settings = make_settings(sqlite_url)
    for _ in range(2):  # a new process has an empty memory of recent events
        services = build_services(settings, clock=clock)
        engine = Engine(services, (ActivityFeature(services),))
        await engine.start()
        chat = MemoryAdapter(engine, clock)
        await chat.say("alice", "hello", message_id="42")
        await engine.stop()
    services = build_services(settings, clock=clock)
    engine = Engine(services, (ActivityFeature(services),))
    await engine.start()
    h = Harness(engine, MemoryAdapter(engine, clock), clock)
    assert await messages_in(h) == 1
    await engine.stop()


class Exploding(BaseFeature):
    name = "exploding"

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        raise RuntimeError("boom")


class Echo(BaseFeature):
    name = "echo"

    def commands(self) -> Sequence[Command]:
        return (Command(name="crash", handler=self.crash, help="Crash."),)

    async def crash(self, call: CommandCall) -> str:
        raise ValueError("internal detail that must not leak")

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        if isinstance(event, Message):
            return [Reply(event.place, event.message_id, f"echo: {event.text}")]
        return ()


async def _engine_with(
    sqlite_url: str, clock: ManualClock, *features: type[BaseFeature]
) -> tuple[Engine, MemoryAdapter]:
    services = build_services(make_settings(sqlite_url), clock=clock)
    engine = Engine(services, [feature(services) for feature in features])
    await engine.start()
    return engine, MemoryAdapter(engine, clock)


async def test_a_failing_feature_does_not_stop_the_others(
    sqlite_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine, chat = await _engine_with(sqlite_url, clock, Exploding, Echo, ActivityFeature)
    with caplog.at_level(logging.ERROR):
        actions = await chat.say("alice", "still here", message_id="7")
    assert [a.text for a in actions if isinstance(a, Reply)] == ["echo: still here"]
    assert "feature exploding failed on Message" in caplog.text
    assert await messages_in(Harness(engine, chat, clock)) == 1
    await engine.stop()


async def test_a_crashing_command_gets_an_apology_not_the_error(
    sqlite_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine, chat = await _engine_with(sqlite_url, clock, Echo)
    with caplog.at_level(logging.ERROR):
        (text,) = await chat.command("alice", "/crash")
    assert text.startswith("Sorry, something went wrong.")
    assert "internal detail" not in text
    assert "internal detail" in caplog.text
    await engine.stop()


async def test_mass_mentions_never_ping(sqlite_url: str, clock: ManualClock) -> None:
    engine, chat = await _engine_with(sqlite_url, clock, Echo)
    actions = await chat.say("alice", "hey @everyone and @HERE")
    (reply,) = [a for a in actions if isinstance(a, Reply)]
    assert "@everyone" not in reply.text
    assert "@HERE" not in reply.text
    assert reply.text == "echo: hey @\u200beveryone and @\u200bHERE"
    await engine.stop()


def test_defuse_leaves_ordinary_mentions() -> None:
    assert defuse_mass_mentions("@alice thanks") == "@alice thanks"
    assert defuse_mass_mentions("mail@everyone.org") != "mail@everyone.org"
    assert isinstance(Post, type)


async def test_naive_event_times_are_rejected(clock: ManualClock) -> None:
    from bot.events import Author, Place

    with pytest.raises(ValueError, match="timezone-aware"):
        Message(Place("x", "g", "c"), "1", Author("u", "u"), "hi", clock.now().replace(tzinfo=None))


def test_recent_event_memory_forgets_the_oldest_first() -> None:
    from bot.engine import _RecentKeys

    recent = _RecentKeys(capacity=3)
    assert [recent.seen((str(n),)) for n in range(5)] == [False] * 5
    assert recent.seen(("4",))
    assert recent.seen(("2",))
    assert not recent.seen(("0",))  # evicted: the database's unique key is the backstop


async def test_a_community_takes_its_group_title(harness: Harness) -> None:
    """Communities are named after the platform group's title, even when the group was
    first seen through an event without one (a join); ids stay the keys."""
    chat = harness.chat
    await chat.join("alice")
    community = await harness.engine.services.directory.find_community(None)
    assert community.name == "group-1"
    titled = Place("memory", "group-1", "general", group_name="Tea house 茶馆")
    assert titled == chat.place()  # the title is not part of where something happens
    await chat.send(
        Message(
            place=titled,
            message_id="t1",
            author=Author("alice", "alice"),
            text="hello",
            sent_at=harness.clock.now(),
        )
    )
    renamed = await harness.engine.services.directory.find_community(None)
    assert (renamed.id, renamed.name) == (community.id, "Tea house 茶馆")
    again = Place("memory", "group-1", "general", group_name="Renamed later")
    await chat.send(
        Message(
            place=again,
            message_id="t2",
            author=Author("alice", "alice"),
            text="hi",
            sent_at=harness.clock.now(),
        )
    )
    kept = await harness.engine.services.directory.find_community(None)
    assert kept.name == "Tea house 茶馆"  # only id-named communities are renamed
