"""Digest metrics against hand-computed answers on small fixed histories, on SQLite and
PostgreSQL: time-zone day boundaries, cohort retention edge cases, members who left and came
back, lifecycle segments, questions, points and scheduled posts.

Histories go through the engine (the in-memory adapter) with the clock set to each event's
time, as they would happen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.events import Role
from bot.features.digest.feature import DigestFeature
from bot.features.digest.metrics import Report
from bot.features.digest.periods import Kind, Period, period_before, period_containing
from storage.identity import CommunityInfo
from tests.conftest import Harness, make_settings, start_harness

SHANGHAI = "Asia/Shanghai"


def local(day: str, clock: str = "12:00", zone: str = SHANGHAI) -> datetime:
    """A local wall time in `zone` as an aware datetime."""
    return datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=ZoneInfo(zone))


@pytest.fixture
async def h(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    settings = make_settings(
        db_url,
        schedule={"worker": False},
        digest={"charts": False},
        points={"message_xp_min": 20, "message_xp_max": 20, "min_message_length": 1},
    )
    harness = await start_harness(settings, clock)
    yield harness
    await harness.engine.stop()


async def setup(h: Harness, zone: str = SHANGHAI, when: str = "2025-12-01") -> None:
    h.clock.set(local(when, "09:00", zone))
    await h.chat.command("root", f"/timezone {zone}", role=Role.ADMIN)


async def at(h: Harness, moment: datetime) -> None:
    h.clock.set(moment)


async def say(h: Harness, user: str, moment: datetime, text: str = "hello", **kw: str) -> str:
    await at(h, moment)
    message_id = kw.pop("message_id", None) or f"{user}-{moment.isoformat()}"
    await h.chat.say(user, text, at=moment.astimezone(ZoneInfo("UTC")), message_id=message_id, **kw)
    return message_id


async def join(h: Harness, user: str, moment: datetime) -> None:
    await at(h, moment)
    await h.chat.join(user, at=moment)


async def leave(h: Harness, user: str, moment: datetime) -> None:
    await at(h, moment)
    await h.chat.leave(user, at=moment)


async def react(h: Harness, user: str, moment: datetime, message_id: str) -> None:
    await at(h, moment)
    await h.chat.react(user, message_id)


async def report(h: Harness, kind: Kind, day: str, zone: str = SHANGHAI) -> Report:
    await h.engine.services.writer.flush()
    feature = next(f for f in h.engine.features if isinstance(f, DigestFeature))
    community = await h.engine.services.directory.find_community(None)
    assert isinstance(community, CommunityInfo)
    period = period_containing(kind, date.fromisoformat(day), zone)
    return await feature.report(community, period)


def test_periods_follow_local_days_weeks_and_months() -> None:
    day = period_containing("day", date(2026, 1, 10), SHANGHAI)
    assert (day.start.isoformat(), day.end.isoformat()) == (
        "2026-01-09T16:00:00+00:00",
        "2026-01-10T16:00:00+00:00",
    )
    week = period_containing("week", date(2026, 1, 10), "UTC")
    assert (week.first, week.last) == (date(2026, 1, 5), date(2026, 1, 11))
    assert week.previous().first == date(2025, 12, 29)
    month = period_containing("month", date(2026, 2, 14), "UTC")
    assert (month.first, month.last, month.days) == (date(2026, 2, 1), date(2026, 2, 28), 28)
    # The day the clocks go forward in Berlin is 23 hours long.
    spring = period_containing("day", date(2026, 3, 29), "Europe/Berlin")
    assert spring.end - spring.start == timedelta(hours=23)
    assert period_before("day", local("2026-01-10", "00:30"), SHANGHAI).first == date(2026, 1, 9)
    assert period_before("week", local("2026-01-12", "09:00", "UTC"), "UTC") == Period(
        "week", date(2026, 1, 5), date(2026, 1, 11), "UTC"
    )


async def test_local_day_boundaries_decide_what_counts(h: Harness) -> None:
    await setup(h)
    # Saturday 2026-01-10 in Shanghai is 2026-01-09 16:00 UTC to 2026-01-10 16:00 UTC.
    first = await say(h, "alice", local("2026-01-09", "23:59"))  # the day before
    await say(h, "alice", local("2026-01-10", "00:00"))
    await say(h, "bob", local("2026-01-10", "23:59"))
    await react(h, "dave", local("2026-01-10", "11:00"), first)  # active, not a message
    await say(h, "carol", local("2026-01-11", "00:00"))  # the day after
    await at(h, local("2026-01-10", "12:00"))
    await h.chat.command("erin", "/checkin")  # a command: active, not a message
    r = await report(h, "day", "2026-01-10")
    assert (r.now.messages, r.now.active, r.now.dau) == (2, 4, 4)
    assert (r.before.messages, r.before.active) == (1, 1)
    # WAU and MAU: Jan 4-10 and Dec 12-Jan 10 local; root's /timezone (Dec 1) is outside.
    assert (r.now.wau, r.now.mau) == (4, 4)
    assert r.now.stickiness == 1.0
    saturday = r.matrix[5]
    assert (saturday[0], saturday[23], sum(map(sum, r.matrix))) == (1, 1, 2)
    assert r.busiest_hour == 0
    assert [(p.name, p.value) for p in r.posters] == [("alice", 1), ("bob", 1)]
    assert [(c.channel_id, c.messages) for c in r.mix.channels] == [("general", 2)]
    assert (r.points.checkins, r.points.longest_streak) == (1, 1)


async def cohort_history(h: Harness) -> None:
    """Joiners of Jan 19 (next day), Jan 13 (7 days) and Dec 21 (30 days), Shanghai time."""
    await setup(h)
    await join(h, "m6", local("2025-12-21", "10:00"))
    await say(h, "m9", local("2025-12-25"))
    await say(h, "m10", local("2025-12-30"))
    await say(h, "m9", local("2026-01-02"))
    await say(h, "m9", local("2026-01-02", "13:00"))
    await say(h, "m11", local("2026-01-05"))
    await leave(h, "m11", local("2026-01-06"))
    await join(h, "m7", local("2026-01-12"))
    await join(h, "m3", local("2026-01-13", "08:00"))
    await join(h, "m4", local("2026-01-13", "08:30"))
    await join(h, "m5", local("2026-01-13", "09:00"))
    await leave(h, "m5", local("2026-01-13", "10:00"))
    await join(h, "m5", local("2026-01-13", "11:00"))  # joined twice that day: counted once
    await say(h, "m5", local("2026-01-14", "10:00"))
    await leave(h, "m7", local("2026-01-15"))
    await join(h, "m1", local("2026-01-19", "10:00"))
    await join(h, "m7", local("2026-01-19", "11:00"))  # came back
    await join(h, "m2", local("2026-01-19", "23:00"))
    await say(h, "m2", local("2026-01-19", "23:30"))  # the joining day does not count
    await join(h, "m8", local("2026-01-19", "23:50"))
    await say(h, "m6", local("2026-01-19", "23:55"))
    await say(h, "m8", local("2026-01-20", "00:05"))  # same UTC day as joining, next local day
    await say(h, "m1", local("2026-01-20", "08:00"))
    await say(h, "m7", local("2026-01-20", "09:00"))
    first = await say(h, "m6", local("2026-01-20", "09:30"))
    await react(h, "m3", local("2026-01-20", "20:00"), first)  # day 7 after joining
    await say(h, "m4", local("2026-01-21", "10:00"))  # day 8: outside, and after the period


async def test_cohort_retention_is_per_joining_day(h: Harness) -> None:
    await cohort_history(h)
    r = await report(h, "day", "2026-01-20")
    one, seven, thirty = (r.now.retention[k] for k in ("1d", "7d", "30d"))
    # Jan 19 cohort: m1, m7 (returning), m2 (active only on the joining day), m8.
    assert (one.size, one.retained) == (4, 3)
    # Jan 13 cohort: m3 (reacted on day 7), m4 (day 8 only), m5 (joined twice, day 1).
    assert (seven.size, seven.retained) == (3, 2)
    # Dec 21 cohort: m6 (active on day 29).
    assert (thirty.size, thirty.retained) == (1, 1)
    # The day before: the Jan 18 cohort is empty, so nothing to compare.
    assert r.before.retention["1d"].share is None


async def test_lifecycle_segments_and_at_risk_names(h: Harness) -> None:
    await cohort_history(h)
    r = await report(h, "day", "2026-01-20")
    assert r.segments.counts == {
        "new": 4,  # m1, m2, m7 (rejoined), m8
        "active": 3,  # m3 (reaction), m5, m6
        "at_risk": 2,  # m9, m10: active Dec 22 - Jan 13 only
        "dormant": 1,  # root: active on Dec 1 only
        "never": 1,  # m4: first message after the period
    }  # m11 left: not counted
    assert [(m.name, m.value) for m in r.at_risk] == [("m9", 3), ("m10", 1)]
    assert r.weekly_active_share == pytest.approx(7 / 11)  # WAU 7 of 11 members


async def test_joins_leaves_and_members_who_come_back(h: Harness) -> None:
    await setup(h, "UTC")
    await join(h, "old", local("2026-01-01", zone="UTC"))
    await join(h, "a", local("2026-01-12", zone="UTC"))
    await leave(h, "old", local("2026-01-13", zone="UTC"))
    await join(h, "b", local("2026-01-14", zone="UTC"))
    await leave(h, "a", local("2026-01-15", zone="UTC"))
    await leave(h, "b", local("2026-01-16", zone="UTC"))
    await join(h, "b", local("2026-01-17", zone="UTC"))  # left and came back in the week
    r = await report(h, "week", "2026-01-12", zone="UTC")
    # Joined a and b (b twice); left old, a, b; net: b stayed, old and a went, a came in.
    assert (r.now.flow.joined, r.now.flow.left, r.now.flow.net) == (2, 3, 0)
    # "old" joined on Jan 1, in the week before the previous one.
    assert (r.before.flow.joined, r.before.flow.left, r.before.flow.net) == (0, 0, 0)


async def test_questions_points_and_scheduled_posts(h: Harness) -> None:
    await setup(h, "UTC")
    day = "2026-01-20"
    q1 = await say(h, "alice", local(day, "10:00", "UTC"), "How do I reset my password?")
    await say(h, "alice", local(day, "10:02", "UTC"), "anyone?", reply_to=q1)  # the asker
    await say(h, "bob", local(day, "10:10", "UTC"), "Settings, then Reset", reply_to=q1)
    await say(h, "carol", local(day, "10:20", "UTC"), "or ask an admin", reply_to=q1)
    q2 = await say(h, "bob", local(day, "11:00", "UTC"), "what time is the meetup?")
    await say(h, "dave", local(day, "11:30", "UTC"), "at 7", reply_to=q2)
    await say(h, "carol", local(day, "12:00", "UTC"), "How do I reset my password?")
    await say(h, "carol", local(day, "12:01", "UTC"), "nice weather today")
    for minute in range(5):  # 5 × 20 XP: alice reaches level 1 (100 XP)
        await say(h, "erin", local(day, f"13:0{minute}", "UTC"), f"line {minute}")
    r = await report(h, "day", day, zone="UTC")
    q = r.questions
    # Questions: q1, "anyone?", q2 and carol's repeat; the FAQ (empty) logged all four.
    assert (q.asked, q.by_members, q.unanswered_logged, q.by_faq) == (4, 2, 4, 0)
    assert q.median_first_reply == timedelta(minutes=20)  # bob after 10, dave after 30 min
    assert q.top_unanswered[0] == ("How do I reset my password?", 2)
    # 20 XP a message: erin 100 (level 1), carol 60, alice 40, bob 40, dave 20.
    assert (r.points.xp, r.level_ups) == (260, 1)
    assert [(m.name, m.value) for m in r.earners] == [
        ("erin", 100),
        ("carol", 60),
        ("alice", 40),
        ("bob", 40),
        ("dave", 20),
    ]
    assert [(m.name, m.value) for m in r.posters][:2] == [("erin", 5), ("carol", 3)]


async def test_the_longest_streak_is_the_one_reached_in_the_period(h: Harness) -> None:
    """Erin checks in four days running, misses a day, checks in again: last week's longest
    streak is 4 even though her streak today is 1."""
    await setup(h)
    for day in ("2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-10"):
        await at(h, local(day, "08:00"))
        await h.chat.command("erin", "/checkin")
    await at(h, local("2026-01-06", "20:00"))
    week = await report(h, "week", "2026-01-05")
    assert (week.points.checkins, week.points.longest_streak) == (5, 4)
    assert (await report(h, "day", "2026-01-07")).points.longest_streak == 3
    assert (await report(h, "day", "2026-01-10")).points.longest_streak == 1
    assert (await report(h, "day", "2026-01-09")).points.longest_streak == 0


async def test_answers_by_the_faq_are_counted_when_given(h: Harness) -> None:
    """The digest counts the FAQ's answers of the period, not questions minus misses."""
    await setup(h, "UTC")
    await h.chat.command(
        "root", "/faq add How do I reset my password? | Settings → Reset.", role=Role.ADMIN
    )
    day = "2026-01-20"
    await say(h, "alice", local(day, "10:00", "UTC"), "How do I reset my password?")
    await say(h, "bob", local(day, "10:30", "UTC"), "how can I reset my password?", channel="help")
    await say(h, "carol", local(day, "11:00", "UTC"), "what time is the meetup?")  # unanswered
    await say(h, "dave", local("2026-01-21", "09:00", "UTC"), "How do I reset my password?")
    q = (await report(h, "day", day, zone="UTC")).questions
    assert (q.asked, q.by_faq, q.unanswered_logged) == (3, 2, 1)
    assert (await report(h, "day", "2026-01-21", zone="UTC")).questions.by_faq == 1


async def test_bots_are_not_active_members(h: Harness) -> None:
    await setup(h, "UTC")
    day = "2026-01-20"
    await say(h, "alice", local(day, "10:00", "UTC"))
    await at(h, local(day, "10:05", "UTC"))
    await h.chat.say("RemindBot", "Reminder: meetup at 7", is_bot=True, message_id="bot-1")
    r = await report(h, "day", day, zone="UTC")
    assert (r.now.active, r.now.dau, r.now.wau, r.now.mau) == (1, 1, 1, 1)
