"""Scheduled posts through the engine: commands, every content kind, templates, the promotion
cap, catching up after downtime, exactly-once posting from two processes, retries and pauses.

Time only moves when a test moves the clock, and tests call `tick()` themselves."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.console import ConsoleAdapter
from bot.clock import ManualClock
from bot.config import Settings
from bot.errors import ConfigError, DeliveryFailed, DeliveryProblem
from bot.events import Action, Place, Poll, Post, Role
from bot.features.schedule.feature import ScheduleFeature
from bot.features.schedule.runner import RunReport
from storage.models import ScheduleRun
from tests.conftest import START, Harness, make_settings, start_harness

ADMIN, MOD = Role.ADMIN, Role.MODERATOR
TUE_0900 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)  # START is Monday 2026-01-05 12:00 UTC


def settings(url: str, **values: Any) -> Settings:
    """Settings with the background loop off: tests tick themselves."""
    return make_settings(url, schedule={"worker": False, **values})


@pytest.fixture
async def sched(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    h = await start_harness(settings(sqlite_url), clock)
    yield h
    await h.engine.stop()


@pytest.fixture
async def any_sched(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    h = await start_harness(settings(db_url), clock)
    yield h
    await h.engine.stop()


def feature(h: Harness) -> ScheduleFeature:
    return next(f for f in h.engine.features if isinstance(f, ScheduleFeature))


async def admin(h: Harness, line: str, *, channel: str | None = None) -> str:
    (text,) = await h.chat.command("root", line, role=ADMIN, channel=channel)
    return text


async def at(h: Harness, moment: datetime) -> list[RunReport]:
    h.clock.set(moment)
    return await feature(h).tick()


def posts(h: Harness, channel: str = "general") -> list[Post]:
    return [a for a in h.chat.performed if isinstance(a, Post) and a.target.channel_id == channel]


def texts(h: Harness, channel: str = "general") -> list[str]:
    return [post.text for post in posts(h, channel)]


async def runs(h: Harness) -> list[tuple[Any, ...]]:
    """(schedule, planned, outcome, attempts, message id) of every recorded run."""
    async with h.database.session() as session:
        rows = (
            await session.execute(
                select(ScheduleRun).order_by(ScheduleRun.planned_at, ScheduleRun.id)
            )
        ).scalars()
        return [(r.schedule_id, r.planned_at, r.outcome, r.attempts, r.message_id) for r in rows]


def refuse_general(action: Action) -> DeliveryFailed | None:
    if isinstance(action, Post) and action.target.channel_id == "general":
        return DeliveryFailed(action, DeliveryProblem.FORBIDDEN, "Missing Permissions")
    return None


async def test_add_replies_with_id_and_next_three_local_times(sched: Harness) -> None:
    await admin(sched, "/timezone Europe/Berlin")
    reply = await admin(sched, "/schedule add 0 9 * * MON-FRI | Good morning!")
    assert reply.splitlines() == [
        "Scheduled post #1: 0 9 * * MON-FRI (Europe/Berlin), in this channel.",
        "Next times:",
        "• 2026-01-06 09:00 Tue",
        "• 2026-01-07 09:00 Wed",
        "• 2026-01-08 09:00 Thu",
    ]
    reply = await admin(sched, "/schedule add weekly fri 18:00 Asia/Tokyo | TGIF")
    assert (
        reply.splitlines()[0]
        == "Scheduled post #2: weekly fri 18:00 (Asia/Tokyo), in this channel."
    )
    assert reply.splitlines()[2] == "• 2026-01-09 18:00 Fri"


async def test_invalid_expressions_and_time_zones_get_a_clear_error(sched: Harness) -> None:
    assert await admin(sched, "/schedule add daily 9am | Hi") == (
        "'9am' is not a time of day; use 24-hour HH:MM, e.g. daily 09:00"
    )
    assert (await admin(sched, "/schedule add daily 09:00 Mars/Olympus | Hi")).startswith(
        "unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Berlin"
    )
    assert (await admin(sched, "/schedule preview 0 9 * * MON-FUN")).startswith(
        "cron field 5 (day of week) cannot be 'MON-FUN'"
    )
    assert await admin(sched, "/schedule add 2025-12-24 18:00 | Too late") == (
        "2025-12-24 18:00 never fires again (it is in the past, or no such day exists)."
    )
    assert (await admin(sched, "/schedule add daily 09:00")).startswith(
        "missing text\nUsage: /schedule add <when> | <text>"
    )
    assert (await admin(sched, "/schedule list")).startswith("Nothing is scheduled.")


async def test_preview_shows_five_times_and_saves_nothing(sched: Harness) -> None:
    assert (await admin(sched, "/schedule preview monthly 1 10:00 Asia/Shanghai")).splitlines() == [
        "monthly 1 10:00 (Asia/Shanghai) fires next at:",
        "• 2026-02-01 10:00 Sun",
        "• 2026-03-01 10:00 Sun",
        "• 2026-04-01 10:00 Wed",
        "• 2026-05-01 10:00 Fri",
        "• 2026-06-01 10:00 Mon",
    ]
    (preview,) = await sched.chat.command("mod", "/schedule preview every 2h", role=MOD)
    assert preview.splitlines()[1] == "• 2026-01-05 14:00 Mon"
    assert (await admin(sched, "/schedule list")).startswith("Nothing is scheduled.")


async def test_members_cannot_schedule_and_moderators_only_look(sched: Harness) -> None:
    (refused,) = await sched.chat.command("alice", "/schedule add daily 09:00 | spam")
    assert refused == "Only admins can use /schedule add."
    (refused,) = await sched.chat.command("alice", "/schedule list")
    assert refused == "Only moderators and admins can use /schedule list."
    (refused,) = await sched.chat.command("mod", "/schedule poll daily 09:00 | Q | a | b", role=MOD)
    assert refused == "Only admins can use /schedule poll."
    await admin(sched, "/schedule add daily 09:00 | Morning")
    (listed,) = await sched.chat.command("mod", "/schedule list", role=MOD)
    assert listed == "#1 daily 09:00 (UTC) · text · next 2026-01-06 09:00 Tue · Morning"
    (refused,) = await sched.chat.command("mod", "/schedule remove 1", role=MOD)
    assert refused == "Only admins can use /schedule remove."


async def test_posts_at_its_time_once_and_records_the_run(any_sched: Harness) -> None:
    h = any_sched
    await admin(h, "/schedule add daily 09:00 | Good morning!", channel="news")
    assert await at(h, TUE_0900 - timedelta(seconds=1)) == []
    (report,) = await at(h, TUE_0900)
    assert report == RunReport(1, TUE_0900, "posted", "bot-2")
    assert await feature(h).tick() == []
    (post,) = posts(h, "news")
    assert post.target == h.chat.place("news")
    assert post.text == "Good morning!"
    assert await runs(h) == [(1, TUE_0900, "posted", 1, "bot-2")]
    async with h.database.session() as session:
        row = (await session.execute(select(ScheduleRun))).scalar_one()
    assert (row.posted_at, row.text, row.channel_id, row.platform) == (
        TUE_0900,
        "Good morning!",
        "news",
        "memory",
    )
    (report,) = await at(h, TUE_0900 + timedelta(days=1))
    assert report.outcome == "posted"


@pytest.mark.parametrize(
    ("start", "fire_times"),
    [
        (
            datetime(2026, 3, 27, 12, tzinfo=UTC),
            [datetime(2026, 3, d, h, tzinfo=UTC) for d, h in ((28, 8), (29, 7), (30, 7))],
        ),
        (
            datetime(2026, 10, 23, 12, tzinfo=UTC),
            [datetime(2026, 10, d, h, tzinfo=UTC) for d, h in ((24, 7), (25, 8), (26, 8))],
        ),
    ],
    ids=["clocks-forward", "clocks-back"],
)
async def test_daily_0900_posts_at_0900_berlin_across_dst(
    sched: Harness, start: datetime, fire_times: list[datetime]
) -> None:
    sched.clock.set(start)
    await admin(sched, "/timezone Europe/Berlin")
    await admin(sched, "/schedule add daily 09:00 | Guten Morgen")
    for fire in fire_times:
        assert await at(sched, fire - timedelta(minutes=1)) == []
        (report,) = await at(sched, fire)
        assert (report.planned_at, report.outcome) == (fire, "posted")
    assert texts(sched) == ["Guten Morgen"] * 3


async def test_image_posts_with_a_url_or_a_file_from_the_media_folder(
    sqlite_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    picture = media / "cat.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    h = await start_harness(settings(sqlite_url, media_dir=str(media)), clock)
    try:
        await admin(h, "/schedule image daily 09:00 | https://example.com/cat.png | Caturday!")
        await admin(h, "/schedule image daily 09:00 | cat.png")
        await admin(h, f"/schedule image daily 09:00 | {picture}")
        missing = await admin(h, "/schedule image daily 09:00 | nowhere.png | Hi")
        assert missing == "there is no file 'nowhere.png' in the media folder"
        shown = await admin(h, "/schedule show 3")
        assert "Image: cat.png" in shown.splitlines()  # stored by its name in the folder
        await at(h, TUE_0900)
        assert [(p.text, p.image) for p in posts(h)] == [
            ("Caturday!", "https://example.com/cat.png"),
            ("", str(picture)),
            ("", str(picture)),
        ]
    finally:
        await h.engine.stop()


async def test_polls_post_natively_and_as_numbered_text_on_the_console(sched: Harness) -> None:
    reply = await admin(sched, "/schedule poll weekly tue 09:00 | Pizza or sushi? | Pizza | Sushi")
    assert reply.startswith("Scheduled post #1: weekly tue 09:00 (UTC)")
    too_few = await admin(sched, "/schedule poll daily 09:00 | Really? | Yes")
    assert too_few == "a poll needs 2 to 10 options separated by |, got 1"
    eleven = " | ".join(str(n) for n in range(11))
    too_many = await admin(sched, f"/schedule poll daily 09:00 | Pick | {eleven}")
    assert too_many == "a poll needs 2 to 10 options separated by |, got 11"
    await at(sched, TUE_0900)
    (post,) = posts(sched)
    assert post.poll == Poll("Pizza or sushi?", ("Pizza", "Sushi"))
    out = io.StringIO()
    console = ConsoleAdapter(
        community="c", user="you", admin=False, clock=sched.clock, stdout=out, interactive=False
    )
    await console.perform(post)
    assert out.getvalue().splitlines() == [
        "hearth> [#general] Pizza or sushi?",
        "hearth> 1. Pizza",
        "hearth> 2. Sushi",
    ]


async def test_rotating_list_posts_the_next_item_and_says_when_it_wraps(sched: Harness) -> None:
    await admin(sched, "/schedule rotate daily 09:00 | Topic: pets | Topic: games | Topic: food")
    for day in range(5):
        await at(sched, TUE_0900 + timedelta(days=day))
    assert texts(sched) == [
        "Topic: pets",
        "Topic: games",
        "Topic: food",
        "Topic: pets\n\n🔁 That was the whole list; it starts again from the top.",
        "Topic: games",
    ]
    shown = await admin(sched, "/schedule show 1")
    assert "Next item: 3 of 3" in shown.splitlines()
    assert (await admin(sched, "/schedule rotate daily 09:00 | Only one")).startswith(
        "a rotating list needs 2 to 500 items separated by |, got 1"
    )


async def test_templates_fill_in_date_members_and_community(sched: Harness) -> None:
    h = sched
    for name in ("alice", "bob", "carol", "dave"):
        await h.chat.say(name, f"hello from {name}, nice to be here")
    for name, amount in (("alice", 300), ("bob", 200), ("carol", 100)):
        await admin(h, f"/points give {name} {amount}")
    await h.chat.join("newbie", at=START - timedelta(days=1))
    await h.chat.join("newer", at=START)
    await h.chat.join("old-timer", at=START - timedelta(days=30))
    await h.engine.services.writer.flush()
    h.chat.performed.clear()  # level-up messages
    template = "{weekday} {date} at {community}: {top_members_week}; {new_members_week} new"
    await admin(h, f"/schedule add daily 09:00 | {template}")
    await at(h, TUE_0900)
    assert texts(h) == ["Tuesday January 6, 2026 at group-1: alice, bob, carol; 2 new"]
    await admin(h, "/language zh")
    await admin(h, "/schedule add daily 10:00 | {weekday} {date}")
    await at(h, TUE_0900 + timedelta(hours=1))
    assert texts(h)[-1] == "星期二 2026年1月6日"


async def test_invalid_templates_are_refused_naming_the_placeholder(sched: Harness) -> None:
    assert await admin(sched, "/schedule add daily 09:00 | Hi {name}!") == (
        "unknown placeholder {name}; you can use {date}, {weekday}, {community}, "
        "{top_members_week}, {new_members_week}"
    )
    assert await admin(sched, "/schedule rotate daily 09:00 | ok | {date.year}") == (
        "unknown placeholder {date.year}; you can use {date}, {weekday}, {community}, "
        "{top_members_week}, {new_members_week}"
    )
    assert await admin(sched, "/schedule add daily 09:00 | Hi {date") == (
        "'Hi {date' has an unmatched brace; double a brace to write it literally"
    )
    assert (await admin(sched, "/schedule add daily 09:00 | Literal {{braces}}")).startswith(
        "Scheduled post #1"
    )
    await at(sched, TUE_0900)
    assert texts(sched) == ["Literal {braces}"]


async def test_promo_cap_blocks_the_fourth_promotion_in_a_week(sched: Harness) -> None:
    h = sched
    await admin(h, "/modchannel", channel="mods")
    await admin(h, "/schedule add daily 09:00 | Buy our merch!")
    await admin(h, "/schedule add daily 09:00 | Daily question")
    assert await admin(h, "/schedule promo 1 on") == (
        "Scheduled post #1 is a promotion: at most 3 promotions post in any 7 days."
    )
    outcomes = []
    for day in range(9):
        reports = await at(h, TUE_0900 + timedelta(days=day))
        outcomes.append({r.schedule_id: r.outcome for r in reports}[1])
    assert outcomes == ["posted"] * 3 + ["blocked"] * 4 + ["posted"] * 2
    assert texts(h).count("Daily question") == 9  # other schedules are not affected
    notes = texts(h, "mods")
    assert len(notes) == 4
    assert notes[0] == (
        "Scheduled post #1 was not posted: it is a promotion, and this community already had "
        "3 promotional posts in the last 7 days (the cap is 3)."
    )
    await admin(h, "/schedule promo 1 off")
    reports = await at(h, TUE_0900 + timedelta(days=9))
    assert {r.outcome for r in reports} == {"posted"}


async def test_promo_cap_per_community(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'caps.db'}"
    h = await start_harness(settings(url, promo_caps={"group-1": 1}), clock)
    try:
        for hour in (9, 10):
            await admin(h, f"/schedule add daily {hour}:00 | Sale {hour}")
            await admin(h, f"/schedule promo {hour - 8} on")
        await at(h, TUE_0900)
        (report,) = await at(h, TUE_0900 + timedelta(hours=1))
        assert report.outcome == "blocked"
        assert texts(h) == ["Sale 9"]
    finally:
        await h.engine.stop()


async def test_missed_run_within_grace_posts_once_after_a_restart(
    sqlite_url: str, clock: ManualClock
) -> None:
    first = await start_harness(settings(sqlite_url), clock)
    await admin(first, "/schedule add daily 09:00 | Morning")
    await first.engine.stop()
    clock.set(TUE_0900 + timedelta(minutes=9))  # Hearth was down at 09:00
    second = await start_harness(settings(sqlite_url), clock)
    try:
        (report,) = await feature(second).tick()
        assert (report.planned_at, report.outcome) == (TUE_0900, "posted")
        assert await feature(second).tick() == []
        assert texts(second) == ["Morning"]
    finally:
        await second.engine.stop()


async def test_missed_run_beyond_grace_is_skipped_and_recorded(
    sched: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await admin(sched, "/schedule add daily 09:00 | Morning")
    (report,) = await at(sched, TUE_0900 + timedelta(minutes=11))
    assert report.outcome == "missed"
    assert texts(sched) == []
    assert "missed its run" in caplog.text
    await at(sched, TUE_0900 + timedelta(days=1))
    assert texts(sched) == ["Morning"]
    assert [row[2] for row in await runs(sched)] == ["missed", "posted"]
    shown = await admin(sched, "/schedule show 1")
    assert "• 2026-01-06 09:00 Tue missed (11 min late: Hearth was not running" in shown


async def test_grace_time_is_configurable(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'grace.db'}"
    h = await start_harness(settings(url, grace_minutes=60), clock)
    try:
        await admin(h, "/schedule add daily 09:00 | Morning")
        (report,) = await at(h, TUE_0900 + timedelta(minutes=59))
        assert report.outcome == "posted"
    finally:
        await h.engine.stop()


async def test_no_burst_of_catch_up_posts_after_a_long_downtime(sched: Harness) -> None:
    await admin(sched, "/schedule rotate every 1h | A | B | C")  # first run 13:00 on Monday
    back = START + timedelta(days=3, minutes=5)  # 72 runs were due meanwhile
    reports = await at(sched, back)
    assert [(r.planned_at, r.outcome) for r in reports] == [
        (START + timedelta(hours=1), "missed"),
        (START + timedelta(days=3), "posted"),  # the latest run, 5 minutes late
    ]
    assert texts(sched) == ["A"]
    assert await at(sched, back + timedelta(minutes=20)) == []
    (report,) = await at(sched, START + timedelta(days=3, hours=1))
    assert report.outcome == "posted"
    assert texts(sched) == ["A", "B"]
    assert len(await runs(sched)) == 3


async def test_only_the_latest_run_within_grace_posts(sched: Harness) -> None:
    await admin(sched, "/schedule add every 5m | Ping")  # 12:05, 12:10, 12:15…
    reports = await at(sched, START + timedelta(minutes=13))
    assert [(r.planned_at.minute, r.outcome) for r in reports] == [(5, "missed"), (10, "posted")]
    assert texts(sched) == ["Ping"]


async def test_two_processes_on_one_database_post_each_run_once(
    db_url: str, clock: ManualClock
) -> None:
    one = await start_harness(settings(db_url), clock)
    two = await start_harness(settings(db_url), clock)
    try:
        for n in range(6):
            await admin(one, f"/schedule add every 10m | post {n}")
        for step in range(1, 6):
            clock.set(START + timedelta(minutes=10 * step))
            await asyncio.gather(feature(one).tick(), feature(two).tick())
        sent = texts(one) + texts(two)
        assert Counter(sent) == {f"post {n}": 5 for n in range(6)}
        recorded = await runs(one)
        assert len(recorded) == 30
        assert {row[2] for row in recorded} == {"posted"}
        assert len({(row[0], row[1]) for row in recorded}) == 30
    finally:
        await one.engine.stop()
        await two.engine.stop()


async def test_two_processes_share_the_promo_cap(db_url: str, clock: ManualClock) -> None:
    one = await start_harness(settings(db_url, weekly_promo_cap=2), clock)
    two = await start_harness(settings(db_url, weekly_promo_cap=2), clock)
    try:
        for n in range(1, 5):
            await admin(one, f"/schedule add daily 09:00 | Sale {n}")
            await admin(one, f"/schedule promo {n} on")
        clock.set(TUE_0900)  # four promotions due at once in two processes, cap 2
        await asyncio.gather(feature(one).tick(), feature(two).tick())
        outcomes = Counter(row[2] for row in await runs(one))
        assert outcomes == {"posted": 2, "blocked": 2}
        assert len(texts(one) + texts(two)) == 2
    finally:
        await one.engine.stop()
        await two.engine.stop()


async def test_failed_posts_retry_with_backoff_then_pause_and_tell_moderators(
    sched: Harness,
) -> None:
    h = sched
    await admin(h, "/modchannel", channel="mods")
    await admin(h, "/schedule add daily 09:00 | Morning")
    h.chat.refuse = refuse_general
    assert [r.outcome for r in await at(h, TUE_0900)] == ["retrying"]
    assert await at(h, TUE_0900 + timedelta(seconds=59)) == []
    assert [r.outcome for r in await at(h, TUE_0900 + timedelta(minutes=1))] == ["retrying"]
    assert await at(h, TUE_0900 + timedelta(minutes=5)) == []
    assert [r.outcome for r in await at(h, TUE_0900 + timedelta(minutes=6))] == ["failed"]
    assert await runs(h) == [(1, TUE_0900, "failed", 3, None)]
    assert texts(h, "mods") == [
        "Scheduled post #1 is paused: posting in channel general failed 3 times "
        "(Missing Permissions). Fix the cause, then send /schedule resume 1."
    ]
    assert await at(h, TUE_0900 + timedelta(days=1)) == []  # paused
    shown = await admin(h, "/schedule show 1")
    assert "Paused because: Missing Permissions" in shown
    assert "paused" in (await admin(h, "/schedule list"))
    h.chat.refuse = lambda action: None
    h.clock.set(TUE_0900 + timedelta(days=1, hours=1))
    assert (await admin(h, "/schedule resume 1")).splitlines()[:3] == [
        "Resumed scheduled post #1.",
        "Next times:",
        "• 2026-01-08 09:00 Thu",
    ]
    (report,) = await at(h, TUE_0900 + timedelta(days=2))
    assert report.outcome == "posted"
    assert texts(h) == ["Morning"]


async def test_a_retry_that_succeeds_records_the_attempts_and_message(sched: Harness) -> None:
    h = sched
    await admin(h, "/schedule add daily 09:00 | Morning")
    failures = iter([DeliveryProblem.NOT_FOUND])

    def once(action: Action) -> DeliveryFailed | None:
        problem = next(failures, None)
        return None if problem is None else DeliveryFailed(action, problem, "Unknown Channel")

    h.chat.refuse = once
    await at(h, TUE_0900)
    (report,) = await at(h, TUE_0900 + timedelta(minutes=1))
    assert report.outcome == "posted"
    assert await runs(h) == [(1, TUE_0900, "posted", 2, report.message_id)]
    assert report.message_id is not None


async def test_max_attempts_and_backoff_are_configurable(
    tmp_path: Path, clock: ManualClock
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'retry.db'}"
    h = await start_harness(settings(url, max_attempts=2, retry_backoff_minutes=[30]), clock)
    try:
        await admin(h, "/schedule add daily 09:00 | Morning")
        h.chat.refuse = refuse_general
        await at(h, TUE_0900)
        assert await at(h, TUE_0900 + timedelta(minutes=29)) == []
        (report,) = await at(h, TUE_0900 + timedelta(minutes=30))
        assert report.outcome == "failed"
    finally:
        await h.engine.stop()


async def test_pause_resume_remove_show_and_one_offs(sched: Harness) -> None:
    h = sched
    await admin(h, "/schedule add 2026-01-06 09:00 | Launch party tonight!")
    assert await admin(h, "/schedule pause 1") == (
        "Paused scheduled post #1. Send /schedule resume 1 to start it again."
    )
    assert await at(h, TUE_0900) == []
    h.clock.set(TUE_0900 + timedelta(minutes=1))
    assert (await admin(h, "/schedule resume 1")) == (
        "Resumed scheduled post #1, but it never fires again."
    )
    await admin(h, "/schedule add 2026-01-07 09:00 | Day two")
    await at(h, TUE_0900 + timedelta(days=1))
    assert texts(h) == ["Day two"]
    listed = (await admin(h, "/schedule list")).splitlines()
    assert listed[1] == "#2 2026-01-07 09:00 (UTC) · text · done · Day two"
    shown = await admin(h, "/schedule show 2")
    assert "• 2026-01-07 09:00 Wed posted" in shown.splitlines()
    assert await admin(h, "/schedule remove 2") == "Removed scheduled post #2."
    assert await admin(h, "/schedule show 2") == "There is no scheduled post #2."
    assert await admin(h, "/schedule pause 9") == "There is no scheduled post #9."
    assert [row[0] for row in await runs(h)] == [None]  # the record of what was posted stays


async def test_schedules_follow_a_group_given_a_new_id(sched: Harness) -> None:
    # A Telegram group upgraded to a supergroup: the chat (group and channel) gets a new id.
    await admin(sched, "/schedule add daily 09:00 | Morning", channel="group-1")
    await sched.engine.services.directory.move_group("memory", "group-1", "group-9")
    await at(sched, TUE_0900)
    (post,) = posts(sched, "group-9")
    assert post.target == Place("memory", "group-9", "group-9")


async def test_the_background_loop_posts_due_runs(sqlite_url: str, clock: ManualClock) -> None:
    h = await start_harness(make_settings(sqlite_url), clock)  # worker on
    try:
        await admin(h, "/schedule add daily 09:00 | Morning")
        clock.set(TUE_0900)
        feature(h).wake()
        for _ in range(500):
            if texts(h):
                break
            await asyncio.sleep(0.01)
        assert texts(h) == ["Morning"]
    finally:
        await h.engine.stop()


async def test_deliver_reports_the_message_id_or_the_failure(sched: Harness) -> None:
    dispatcher = sched.engine.services.dispatcher
    post = Post(sched.chat.place(), "hello")
    sent = await dispatcher.deliver(post)
    assert (sent.ok, sent.message_id, sent.failure) == (True, "bot-1", None)
    sched.chat.refuse = refuse_general
    refused = await dispatcher.deliver(post, report=False)
    assert (refused.ok, refused.detail) == (False, "Missing Permissions")
    assert refused.failure is not None
    assert refused.failure.problem is DeliveryProblem.FORBIDDEN
    assert dispatcher.platforms() == {"memory"}


def test_schedule_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"schedule\.retry_backoff_minutes: .*between 1 and 1440"):
        make_settings("sqlite+aiosqlite://", schedule={"retry_backoff_minutes": [0]})
    with pytest.raises(ConfigError, match=r"schedule\.max_attempts: "):
        make_settings("sqlite+aiosqlite://", schedule={"max_attempts": 0})


async def test_schedule_edit_changes_when_and_text_with_the_same_checks(tmp_path: Path) -> None:
    """`/schedule edit <id> | <when> | [text]` through the console: new times, new text, the
    same refusals as /schedule add, a paused schedule staying paused."""
    from bot.clock import ManualClock
    from tests import console

    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    lines = await console.play(
        url,
        ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
        "/schedule add daily 09:00 | hello\n"
        "/schedule edit 1 | weekly fri 18:00 | bye {date}\n"
        "/schedule edit 1 | daily 29:00\n"
        "/schedule edit 1 | daily 10:00 | {date:x>400000}\n"
        "/schedule edit 7 | daily 10:00\n"
        "/schedule pause 1\n"
        "/schedule edit 1 | daily 08:00\n"
        "/schedule show 1\n",
    )
    assert "Changed scheduled post #1: weekly fri 18:00 (UTC)." in lines
    assert "• 2026-03-06 18:00 Fri" in lines
    assert "'29:00' is not a time of day; use 24-hour HH:MM, e.g. daily 09:00" in lines
    assert any("is not allowed" in line for line in lines)  # the template check of add
    assert "There is no scheduled post #7." in lines
    assert "Changed scheduled post #1: daily 08:00 (UTC)." in lines
    shown = lines[lines.index("Changed scheduled post #1: daily 08:00 (UTC).") + 1 :]
    assert shown[0].startswith("#1 daily 08:00 (UTC) · text · paused · bye {date}")
