"""Points through the engine: earning rules, anti-farming, thanks, reactions, check-ins,
levels, commands — in English and Chinese, on SQLite and PostgreSQL where storage matters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.events import Action, Author, CommandInvoked, GrantRole, Post, ReactionAdded, Role
from storage.models import PointsLedger, PointsTotal
from tests.conftest import Harness, make_settings, start_harness


async def xp_of(h: Harness, user: str) -> int:
    line = (await h.chat.command(user, "/rank"))[0].splitlines()[0]
    return int(line.split(", ")[1].split(" XP")[0].replace(",", ""))


async def admin(h: Harness, line: str) -> list[Action]:
    """Run a command as an admin and return every action (replies, posts, role grants)."""
    name, _, args = line.removeprefix("/").partition(" ")
    root = Author("root", "root")
    event = CommandInvoked(h.chat.place(), root, name, args, h.clock.now(), Role.ADMIN)
    return await h.chat.send(event)


async def ledger(h: Harness, reason: str | None = None) -> list[tuple[str, int]]:
    await h.engine.services.writer.flush()  # points are written with the activity batch
    async with h.database.session() as session:
        query = select(PointsLedger.reason, PointsLedger.amount).order_by(PointsLedger.id)
        if reason:
            query = query.where(PointsLedger.reason == reason)
        return [(row[0], int(row[1])) for row in (await session.execute(query)).all()]


@pytest.fixture
async def points(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    h = await start_harness(make_settings(sqlite_url), clock)
    yield h
    await h.engine.stop()


async def points_harness(
    tmp_path: Path, clock: ManualClock, db: str = "p", **rules: Any
) -> Harness:
    url = f"sqlite+aiosqlite:///{tmp_path / db}.db"
    return await start_harness(make_settings(url, points=rules), clock)


async def test_messages_earn_15_to_25_xp_once_a_minute(points: Harness) -> None:
    h = points
    await h.chat.say("alice", "hello everyone, how are you?")
    first = await ledger(h)
    assert len(first) == 1
    assert 15 <= first[0][1] <= 25
    h.clock.advance(timedelta(seconds=59))
    await h.chat.say("alice", "still within the same minute")
    assert len(await ledger(h)) == 1
    h.clock.advance(timedelta(seconds=1))
    await h.chat.say("alice", "a minute later, another message")
    assert len(await ledger(h)) == 2


async def test_no_xp_for_short_bot_repeated_or_command_messages(points: Harness) -> None:
    h = points
    await h.chat.say("alice", "ok")
    await h.chat.say("alice", "👍👍👍👍👍👍 https://example.com/long/link")
    await h.chat.say("robot", "automated announcement", is_bot=True)
    await h.chat.command("alice", "/help")
    # Commands to other bots arrive as plain messages (Telegram: a command for @OtherBot).
    await h.chat.say("dave", "/start@OtherBot let's play a game")
    await h.chat.say("erin", "!rank show me the leaderboard please")
    assert await ledger(h) == []
    await h.chat.say("carol", "Buy my course now!")
    h.clock.advance(timedelta(minutes=2))
    await h.chat.say("carol", "buy my   COURSE now")  # same text within 10 minutes
    h.clock.advance(timedelta(minutes=9))
    await h.chat.say("carol", "Buy my course now!!")
    assert len(await ledger(h)) == 1
    h.clock.advance(timedelta(minutes=2))
    await h.chat.say("carol", "Buy my course now!")  # 13 minutes after the first, 2 after last
    assert len(await ledger(h)) == 1


async def test_chinese_earns_like_english(points: Harness) -> None:
    h = points
    await h.chat.say("li", "好的")
    await h.chat.say("sam", "ok")
    assert await ledger(h) == []
    await h.chat.say("li", "好的谢谢")
    await h.chat.say("sam", "got it thanks")
    assert [reason for reason, _ in await ledger(h)] == ["message", "message"]


async def test_no_xp_channels_and_daily_cap(tmp_path: Path, clock: ManualClock) -> None:
    h = await points_harness(
        tmp_path, clock, no_xp_channels=["spam"], daily_cap=40, message_xp_min=25, message_xp_max=25
    )
    await h.chat.say("alice", "talking in the spam channel", channel="spam")
    assert await ledger(h) == []
    for n in range(3):
        await h.chat.say("alice", f"useful message number {n}")
        clock.advance(timedelta(minutes=1))
    assert [amount for _, amount in await ledger(h)] == [25, 15]
    clock.advance(timedelta(days=1))
    await h.chat.say("alice", "a new day, a new cap")
    assert [amount for _, amount in await ledger(h)] == [25, 15, 25]
    await h.engine.stop()


async def test_thanks_by_reply_or_mention_once_per_pair_per_day(points: Harness) -> None:
    h = points
    await h.chat.say("helper", "Try restarting the router.", message_id="m1")
    h.clock.advance(timedelta(minutes=5))
    await h.chat.say("asker", "Thanks, that worked!", reply_to="m1", message_id="m2")
    assert await ledger(h, "thanks") == [("thanks", 20), ("thanks", 1)]
    h.clock.advance(timedelta(minutes=5))
    await h.chat.say("asker", "thank you again @helper", mentions=("helper",))
    assert len(await ledger(h, "thanks")) == 2
    await h.chat.say("helper", "no thanks needed @asker", mentions=("asker",))
    await h.chat.say("helper", "thanks me", reply_to="m1")  # self-thanks
    assert len(await ledger(h, "thanks")) == 2
    h.clock.advance(timedelta(days=1))
    await h.chat.say("asker", "谢谢 @helper 又帮了我", mentions=("helper",))
    assert len(await ledger(h, "thanks")) == 4
    (rank,) = (await h.chat.command("helper", "/rank"))[:1]
    assert "reputation 2" in rank


async def test_thanks_never_go_to_a_bot(points: Harness) -> None:
    h = points
    await h.chat.say("robot", "Here is your daily tip.", message_id="tip", is_bot=True)
    await h.chat.say("helper", "and here is mine", message_id="mine")
    await h.chat.say("asker", "thanks @robot!", reply_to="tip", mentions=("robot",))
    assert await ledger(h, "thanks") == []
    await h.chat.say("asker", "thanks @robot and @helper", mentions=("robot", "helper"))
    assert await ledger(h, "thanks") == [("thanks", 20), ("thanks", 1)]


async def test_reactions_received_earn_up_to_20_a_day(points: Harness) -> None:
    h = points
    await h.chat.say("author", "look at my new drawing", message_id="art")
    before = len(await ledger(h))
    await h.chat.react("author", "art")  # own reaction
    bot = Author("bot", "bot", is_bot=True)
    await h.chat.send(ReactionAdded(h.chat.place(), "art", bot, "👍", h.clock.now()))
    assert len(await ledger(h)) == before
    for n in range(12):
        await h.chat.react(f"fan{n}", "art")
    reactions = await ledger(h, "reaction")
    assert [amount for _, amount in reactions] == [2] * 10
    await h.chat.react("fan0", "art", "❤️")
    assert len(await ledger(h, "reaction")) == 10


async def test_checkin_streaks_follow_the_local_day(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 3, 1, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai
    h = await points_harness(tmp_path, clock)
    await h.chat.command("root", "/timezone Asia/Shanghai", role=Role.ADMIN)
    replies = []
    for hours in (0, 1.5, 0.5, 24, 24, 72):  # day 1, day 2 (00:30), same day, 3, 4, gap
        clock.advance(timedelta(hours=hours))
        replies += await h.chat.command("alice", "/checkin")
    assert replies == [
        "Checked in: +10 XP, day 1 of your streak.",
        "Checked in: +12 XP, day 2 of your streak.",
        "You already checked in today (day 2 of your streak).",
        "Checked in: +14 XP, day 3 of your streak.",
        "Checked in: +16 XP, day 4 of your streak.",
        "Checked in: +10 XP, day 1 of your streak.",
    ]
    await h.engine.stop()


async def test_checkin_bonus_is_capped(tmp_path: Path, clock: ManualClock) -> None:
    h = await points_harness(tmp_path, clock)
    gains = []
    for _ in range(13):
        (text,) = await h.chat.command("alice", "/checkin")
        gains.append(int(text.split("+")[1].split(" ")[0]))
        clock.advance(timedelta(days=1))
    assert gains == [10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 30, 30]
    await h.engine.stop()


async def test_level_up_message_and_level_roles(points: Harness) -> None:
    h = points
    await h.chat.command("root", "/levels role 1 <@&501>", role=Role.ADMIN)
    await h.chat.command("root", "/levels role 2 <@&502>", role=Role.ADMIN)
    await h.chat.say("alice", "first words here")
    actions = await admin(h, "/points give alice 300 welcome gift")
    posts = [a for a in actions if isinstance(a, Post)]
    grants = [a for a in actions if isinstance(a, GrantRole)]
    assert [p.text for p in posts] == ["🎉 alice reached level 2!"]
    assert [(g.user_id, g.role_id, g.revoke) for g in grants] == [("alice", "502", ("501",))]
    (levels,) = await h.chat.command("bob", "/levels")
    assert "Lv 1: 100 XP → 501" in levels
    assert "Lv 2: 255 XP → 502" in levels


async def test_level_up_can_go_elsewhere_or_be_off(tmp_path: Path, clock: ManualClock) -> None:
    h = await points_harness(
        tmp_path,
        clock,
        level_up_message="channel",
        level_up_channel="levels",
        level_up_template="{member} ⇒ Lv{level}",
    )
    await h.chat.say("bob", "hi")
    (post,) = [a for a in await admin(h, "/points give bob 100") if isinstance(a, Post)]
    assert (post.target.channel_id, post.text) == ("levels", "bob ⇒ Lv1")
    await h.engine.stop()
    quiet = await points_harness(tmp_path, clock, "quiet", level_up_message="off")
    await quiet.chat.say("bob", "hi")
    assert [a for a in await admin(quiet, "/points give bob 100") if isinstance(a, Post)] == []
    await quiet.engine.stop()


async def test_admin_adjustments_need_admin_and_never_go_negative(points: Harness) -> None:
    h = points
    await h.chat.say("bob", "hello, I am Bob")
    (refused,) = await h.chat.command("mallory", "/points give mallory 1000")
    assert refused == "Only admins can use /points give."
    start = await xp_of(h, "bob")
    (given,) = await h.chat.command("root", "/points give bob 30 helped", role=Role.ADMIN)
    assert given == f"bob: +30 XP (now {start + 30} XP, level 0)."
    (taken,) = await h.chat.command("root", "/points take bob 500 spam", role=Role.ADMIN)
    assert taken == f"bob: -{start + 30} XP (now 0 XP, level 0)."
    (history,) = await h.chat.command("root", "/points history bob", role=Role.ADMIN)
    lines = history.splitlines()
    assert lines[0] == "Points history of bob:"
    assert lines[1] == f"2026-01-05 12:00 (UTC) -{start + 30} XP taken by an admin — spam"
    assert lines[2] == "2026-01-05 12:00 (UTC) +30 XP given by an admin — helped"
    (unknown,) = await h.chat.command("root", "/points give nobody 5", role=Role.ADMIN)
    assert unknown == "No member called nobody here."
    (bad,) = await h.chat.command("root", "/points give bob lots", role=Role.ADMIN)
    assert bad.startswith("amount must be a whole number\nUsage: /points give")


async def test_rank_and_leaderboard_periods(points: Harness) -> None:
    h = points
    for n in range(12):
        await h.chat.command(f"user{n:02d}", "/help")  # seen, but no XP yet
        await h.chat.command("root", f"/points give user{n:02d} {(n + 1) * 10}", role=Role.ADMIN)
    h.clock.advance(timedelta(days=8))
    await h.chat.command("root", "/points give user00 5", role=Role.ADMIN)
    (board,) = await h.chat.command("user00", "/leaderboard")
    lines = board.splitlines()
    assert lines[0] == "Top members of all time"
    assert lines[1] == "1. user11 — 120 XP (Lv 1)"
    assert len(lines) == 12
    assert lines[-1] == "You: #12 of 12 — 15 XP"
    (week,) = await h.chat.command("user00", "/top week")
    assert week.splitlines() == ["This week's top members", "1. user00 — 5 XP (Lv 0)"]
    rank = (await h.chat.command("root", "/rank user05"))[0].splitlines()
    assert rank[0] == "user05 — level 0, 60 XP"
    assert rank[1] == "▰▰▰▰▰▰▱▱▱▱ 60/100 XP to level 1"
    assert rank[2].startswith("Rank #7 of 12")


async def test_concurrent_messages_of_one_member_earn_once(any_harness: Harness) -> None:
    h = any_harness
    texts = ["first message at this moment", "second message at this moment"]
    await asyncio.gather(*(h.chat.say("alice", text) for text in texts))
    assert len(await ledger(h, "message")) == 1


async def test_totals_equal_the_ledger(any_harness: Harness) -> None:
    h = any_harness
    await h.chat.say("a", "hello there everyone", message_id="x")
    await h.chat.say("b", "thanks a lot", reply_to="x")
    await h.chat.react("c", "x")
    await h.chat.command("a", "/checkin")
    await h.chat.command("root", "/points take a 5", role=Role.ADMIN)
    await assert_totals_match_ledger(h)


async def assert_totals_match_ledger(h: Harness) -> None:
    async with h.database.session() as session:
        sums = dict(
            (
                await session.execute(
                    select(PointsLedger.member_id, func.sum(PointsLedger.amount))
                    .where(PointsLedger.currency == "xp")
                    .group_by(PointsLedger.member_id)
                )
            ).all()
        )
        reps = dict(
            (
                await session.execute(
                    select(PointsLedger.member_id, func.sum(PointsLedger.amount))
                    .where(PointsLedger.currency == "rep")
                    .group_by(PointsLedger.member_id)
                )
            ).all()
        )
        totals = (await session.execute(select(PointsTotal))).scalars().all()
    for row in totals:
        assert row.xp == int(sums.get(row.member_id, 0))
        assert row.reputation == int(reps.get(row.member_id, 0))
        assert row.xp >= 0
