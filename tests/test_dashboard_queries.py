"""The dashboard's figures (`storage.dashboard`) against hand-computed answers, on SQLite and
PostgreSQL: a small history fed through the engine (the in-memory adapter, the clock set to
each event's time) in a community on Shanghai time, with a bot, a member who left, a
forgotten member and a second community whose activity must never count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.memory import MemoryAdapter
from bot.clock import ManualClock
from bot.events import Role
from storage.dashboard import Board, Overview, leaderboard, overview
from storage.models import Group
from tests.conftest import Harness, make_settings, start_harness

SHANGHAI = "Asia/Shanghai"
BERLIN = "Europe/Berlin"


def local(day: str, clock: str, zone: str = SHANGHAI) -> datetime:
    """A local wall time in `zone`, as an aware datetime."""
    return datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=ZoneInfo(zone))


@pytest.fixture
async def h(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    settings = make_settings(
        db_url,
        schedule={"worker": False},
        digest={"charts": False},
        points={
            "message_xp_min": 20,
            "message_xp_max": 20,
            "min_message_length": 1,
            "reaction_xp": 0,
            "thanks_xp": 0,
            "checkin_xp": 10,
            "checkin_streak_bonus": 0,
        },
    )
    harness = await start_harness(settings, clock)
    yield harness
    await harness.engine.stop()


class History:
    """Events of one group at given local times."""

    def __init__(self, h: Harness, chat: MemoryAdapter) -> None:
        self.h, self.chat = h, chat

    def at(self, moment: datetime) -> None:
        self.h.clock.set(moment.astimezone(UTC))

    async def say(self, user: str, moment: datetime, text: str, *, bot: bool = False) -> str:
        self.at(moment)
        message_id = f"{user}-{moment.isoformat()}"
        await self.chat.say(user, text, message_id=message_id, at=self.h.clock.now(), is_bot=bot)
        return message_id

    async def command(self, user: str, moment: datetime, line: str) -> list[str]:
        self.at(moment)
        return await self.chat.command(
            user, line, role=Role.ADMIN if user == "root" else Role.MEMBER
        )

    async def join(self, user: str, moment: datetime) -> None:
        self.at(moment)
        await self.chat.join(user, at=self.h.clock.now())

    async def leave(self, user: str, moment: datetime) -> None:
        self.at(moment)
        await self.chat.leave(user, at=self.h.clock.now())

    async def react(self, user: str, moment: datetime, message_id: str) -> None:
        self.at(moment)
        await self.chat.react(user, message_id)


async def community_of(h: Harness, group: str) -> int:
    async with h.database.session() as session:
        found = await session.scalar(select(Group.community_id).where(Group.external_id == group))
    assert found is not None
    return int(found)


async def shanghai_history(h: Harness) -> tuple[int, int]:
    """The history the tests below count by hand; returns both communities' ids."""
    one = History(h, h.chat)
    two = History(h, MemoryAdapter(h.engine, h.clock, group="group-2"))
    setup = local("2025-12-01", "09:00")
    await one.command("root", setup, f"/timezone {SHANGHAI}")
    await one.command("root", setup, "/faq add How do I reset my password? | Use /reset.")
    await one.command("erin", local("2025-12-20", "12:00"), "/checkin")
    await one.say("grace", local("2026-01-04", "23:00"), "the day before the period")
    await one.join("alice", local("2026-01-05", "10:00"))
    await one.say("alice", local("2026-01-05", "23:59"), "first message here")
    # 16:00 UTC on Jan 5, but Tuesday 00:00 in Shanghai.
    await one.say("alice", local("2026-01-06", "00:00"), "How do I reset my password?")
    await one.say("helper", local("2026-01-06", "10:00"), "automated notice", bot=True)
    await one.join("bob", local("2026-01-06", "12:00"))
    await one.command("erin", local("2026-01-07", "12:00"), "/checkin")
    bob = await one.say("bob", local("2026-01-13", "08:00"), "Where can I park my bicycle?")
    await one.join("carol", local("2026-01-13", "09:00"))
    await one.leave("carol", local("2026-01-14", "09:00"))
    await one.react("alice", local("2026-01-20", "09:00"), bob)
    await one.join("dave", local("2026-01-20", "10:00"))
    await one.say("dave", local("2026-01-21", "15:00"), "hello all")
    await one.say("frank", local("2026-01-25", "23:30"), "late night")
    await one.say("frank", local("2026-01-26", "00:10"), "after the period")
    await one.command("grace", local("2026-01-26", "00:20"), "/forgetme")
    (done,) = await one.command("grace", local("2026-01-26", "00:21"), "/forgetme confirm")
    assert done.startswith("Done")
    # Another community, the same days: none of it may count in the first one.
    await two.join("zed", local("2026-01-06", "09:00"))
    for day in ("2026-01-06", "2026-01-13", "2026-01-21"):
        await two.say("zed", local(day, "11:00"), f"Is anyone around on {day}?")
        await two.say("yan", local(day, "11:30"), f"yes, on {day}")
    await h.engine.services.writer.flush()
    return await community_of(h, "group-1"), await community_of(h, "group-2")


async def shanghai_overview(h: Harness, community_id: int) -> Overview:
    return await overview(
        h.database,
        community_id=community_id,
        start=date(2026, 1, 5),
        end=date(2026, 1, 26),
        timezone=SHANGHAI,
    )


async def test_overview_counts_local_days_without_bots_or_other_communities(h: Harness) -> None:
    first, _ = await shanghai_history(h)
    o = await shanghai_overview(h, first)
    assert len(o.days) == 21
    assert (o.days[0].day, o.days[-1].day) == (date(2026, 1, 5), date(2026, 1, 25))
    figures = {
        d.day.isoformat(): (d.messages, d.active, d.joins, d.leaves)
        for d in o.days
        if (d.messages, d.active, d.joins, d.leaves) != (0, 0, 0, 0)
    }
    assert figures == {
        "2026-01-05": (1, 1, 1, 0),  # alice joins and posts at 23:59
        "2026-01-06": (2, 1, 1, 0),  # alice at 00:00, the bot (a message, not a member), bob joins
        "2026-01-07": (0, 1, 0, 0),  # erin's /checkin: active, not a message
        "2026-01-13": (1, 1, 1, 0),  # bob; carol joins
        "2026-01-14": (0, 0, 0, 1),  # carol leaves
        "2026-01-20": (0, 1, 1, 0),  # alice reacts; dave joins
        "2026-01-21": (1, 1, 0, 0),  # dave
        "2026-01-25": (1, 1, 0, 0),  # frank at 23:30 (his 00:10 message is the next day)
    }
    # Jan 19-25: alice, dave, frank. Dec 27-Jan 25: those, erin, bob and grace (Jan 4).
    assert (o.wau, o.mau) == (3, 6)
    # At the end: dave joined within 7 days; alice and frank active; erin, grace and bob
    # active within 30 days only; root (Dec 1) dormant; carol left; the bot is no member.
    assert o.segments.counts == {"new": 1, "active": 2, "at_risk": 3, "dormant": 1, "never": 0}


async def test_overview_hours_are_local_weekdays_and_hours(h: Harness) -> None:
    first, _ = await shanghai_history(h)
    o = await shanghai_overview(h, first)
    cells = {
        (weekday, hour): n for weekday, row in enumerate(o.hours) for hour, n in enumerate(row) if n
    }
    assert cells == {
        (0, 23): 1,  # Monday Jan 5, 23:59
        (1, 0): 1,  # Tuesday Jan 6, 00:00 (still Monday in UTC)
        (1, 10): 1,  # the bot's message
        (1, 8): 1,  # Tuesday Jan 13
        (2, 15): 1,  # Wednesday Jan 21
        (6, 23): 1,  # Sunday Jan 25
    }
    assert sum(map(sum, o.hours)) == sum(d.messages for d in o.days) == 6


async def test_overview_cohorts_and_faq_hit_rate(h: Harness) -> None:
    first, second = await shanghai_history(h)
    o = await shanghai_overview(h, first)
    # Weeks of Jan 5 (alice, bob), Jan 12 (carol) and Jan 19 (dave). Bob is back in the
    # week after, alice (a reaction) two weeks after; carol never; dave's week is the last.
    assert [(c.week, c.size, c.shares) for c in o.cohorts] == [
        (date(2026, 1, 5), 2, (0.5, 0.5)),
        (date(2026, 1, 12), 1, (0.0,)),
        (date(2026, 1, 19), 1, ()),
    ]
    # alice's question was answered, bob's was not; zed's are the other community's.
    assert (o.questions, o.answered, o.hit_rate) == (2, 1, 0.5)
    other = await shanghai_overview(h, second)
    assert sum(d.messages for d in other.days) == 6
    assert (other.answered, other.questions) == (0, 3)
    assert [(c.size, c.shares) for c in other.cohorts] == [(1, (1.0, 1.0)), (0, (None,)), (0, ())]


async def board(h: Harness, community_id: int, period: str, **page: int) -> Board:
    async with h.database.session() as session:
        return await leaderboard(
            session,
            community_id=community_id,
            period=period,  # type: ignore[arg-type]
            now=local("2026-01-26", "00:30").astimezone(UTC),
            timezone=SHANGHAI,
            **page,
        )


def lines(found: Board) -> list[tuple[int, str, int, int]]:
    return [(s.rank, s.name, s.level, s.xp) for s in found.standings]


async def test_leaderboards_by_period_without_bots_or_forgotten_members(h: Harness) -> None:
    first, second = await shanghai_history(h)
    # 20 XP a message, 10 a check-in; grace (20 XP on Jan 4) asked to be forgotten.
    everything = await board(h, first, "all")
    assert (everything.start, everything.ranked) == (None, 5)
    assert [(name, xp) for _, name, _, xp in lines(everything)] == [
        ("alice", 40),
        ("frank", 40),
        ("erin", 20),
        ("bob", 20),
        ("dave", 20),
    ]
    assert [level for _, _, level, _ in lines(everything)] == [0] * 5
    month = await board(h, first, "month", limit=2, offset=2)
    assert (month.start, month.ranked) == ("2026-01-01", 5)
    assert lines(month) == [(3, "bob", 0, 20), (4, "dave", 0, 20)]
    week = await board(h, first, "week")  # Monday Jan 26, Shanghai: frank's 00:10 message
    assert (week.start, week.ranked, lines(week)) == ("2026-01-26", 1, [(1, "frank", 0, 20)])
    other = await board(h, second, "all")
    # zed (who joined first) and yan: three messages each, ties in member order.
    assert [(s.name, s.xp) for s in other.standings] == [("zed", 60), ("yan", 60)]


async def test_daylight_saving_days_and_hours(h: Harness) -> None:
    one = History(h, h.chat)
    await one.command("root", local("2026-03-01", "09:00", BERLIN), f"/timezone {BERLIN}")
    # Sunday Mar 29 in Berlin has 23 hours: 02:00 CET becomes 03:00 CEST.
    await one.say("ann", local("2026-03-29", "01:30", BERLIN), "before the change")
    await one.say("ann", local("2026-03-29", "03:30", BERLIN), "after the change")
    await one.say("ann", local("2026-03-29", "23:30", BERLIN), "late")
    await one.say("ann", local("2026-03-30", "00:30", BERLIN), "Monday")
    await h.engine.services.writer.flush()
    o = await overview(
        h.database,
        community_id=await community_of(h, "group-1"),
        start=date(2026, 3, 28),
        end=date(2026, 3, 31),
        timezone=BERLIN,
    )
    assert [(d.messages, d.active) for d in o.days] == [(0, 0), (3, 1), (1, 1)]
    assert (o.hours[6][1], o.hours[6][2], o.hours[6][3], o.hours[6][23], o.hours[0][0]) == (
        1,
        0,
        1,
        1,
        1,
    )
    assert o.cohorts == ()  # no whole week inside the period
