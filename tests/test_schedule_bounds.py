"""Scheduled posts stay bounded (issue 25 item 5): placeholders that could widen a post are
refused when a schedule is made and again when it fires; a rendered post is cut at three
messages' worth; one community's slow post does not hold back another's.

Through the console (as an admin types it), python-telegram-bot against the fake Bot API
server, and the in-memory adapter with a sink the test holds up with an event (no sleeps)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.memory import MemoryAdapter
from bot.clock import ManualClock
from bot.events import Action, Post, Role
from bot.features.schedule.content import CUT_NOTE, MAX_POST_CHARS, post_limit
from bot.features.schedule.feature import ScheduleFeature
from storage.database import Database
from storage.models import Community, Schedule, ScheduleRun
from storage.schedule import NewSchedule, add_schedule
from tests.conftest import Harness, make_settings, start_harness
from tests.console import play
from tests.test_telegram_adapter import ADMIN, GROUP, message, polling_bot

DEC_1_0800 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
QUIET = {"enabled": False}  # no daily digest in the transcripts
WHY = "(a format spec or conversion, after : or !, could make a post any length)"
CUT = CUT_NOTE.format(limit=f"{MAX_POST_CHARS:,}")


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"


def _posts(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("[#general] ")]


@pytest.mark.parametrize(
    ("line", "written", "plain"),
    [
        ("/schedule add daily 10:00 | {date:x>400000}", "{date:x>400000}", "{date}"),
        ("/schedule add daily 10:00 | Happy {weekday:>50}!", "{weekday:>50}", "{weekday}"),
        (
            "/schedule image daily 10:00 | https://example.com/a.png | Hi {community:.9999}",
            "{community:.9999}",
            "{community}",
        ),
        (
            "/schedule poll daily 10:00 | Best day? {date:{weekday}} | tea | coffee",
            "{date:{weekday}}",
            "{date}",
        ),
        (
            "/schedule rotate daily 10:00 | first | {top_members_week!r}",
            "{top_members_week!r}",
            "{top_members_week}",
        ),
    ],
)
async def test_a_placeholder_that_could_widen_a_post_is_refused(
    tmp_path: Path, line: str, written: str, plain: str
) -> None:
    clock = ManualClock(DEC_1_0800)
    lines = await play(_url(tmp_path), clock, f"{line}\n/schedule list\n~ +1d\n", digest=QUIET)
    assert lines == [
        f"{written} is not allowed: write it plainly as {plain} {WHY}",
        "Nothing is scheduled. Add a post with /schedule add <when> | <text>.",
        "(console: it is now 2026-12-02 08:00 (UTC))",
    ]


async def test_the_refusal_is_worded_in_the_community_language(tmp_path: Path) -> None:
    clock = ManualClock(DEC_1_0800)
    script = "/language zh_Hans\n/schedule add 每天 10:00 | 今天是{weekday:>50}\n"
    lines = await play(_url(tmp_path), clock, script, digest=QUIET)
    assert lines[-1] == (
        "不允许使用 {weekday:>50}：请直接写成 {weekday}（格式说明或转换，即 : 或 ! 之后的部分，"
        "可能让帖子变得任意长）"
    )


async def test_plain_placeholders_and_doubled_braces_still_post(tmp_path: Path) -> None:
    clock = ManualClock(DEC_1_0800)
    script = (
        "/schedule add daily 10:00 | {{date}}: {date}, {weekday} in {community}; "
        "top {top_members_week}, new {new_members_week}\n~ +1d\n"
    )
    lines = await play(_url(tmp_path), clock, script, digest=QUIET)
    assert _posts(lines) == [
        "[#general] {date}: December 1, 2026, Tuesday in console; top nobody yet, new 0"
    ]


async def test_a_long_template_posts_at_most_three_messages_worth(tmp_path: Path) -> None:
    clock = ManualClock(DEC_1_0800)
    template = "{date} " * 1700  # 11,900 characters, well over 12,288 once filled in
    script = (
        f"/schedule add daily 10:00 | {'x' * 13_000}\n"
        f"/schedule add daily 10:00 | {template}\n~ +1d\n"
    )
    lines = await play(_url(tmp_path), clock, script, digest=QUIET)
    assert lines[0] == "a scheduled post can have at most 12,288 characters; this one has 13,000"
    assert lines[1].startswith("Scheduled post #1: daily 10:00 (UTC)")
    (post,) = _posts(lines)
    start = lines.index(post)
    assert lines[start + 1 : start + 3] == ["", CUT]
    body = "\n".join(lines[start : start + 3]).removeprefix("[#general] ")
    assert MAX_POST_CHARS - 30 < len(body) <= MAX_POST_CHARS
    assert post.endswith("…")
    with sqlite3.connect(tmp_path / "h.db") as db:
        ((recorded,),) = db.execute("SELECT text FROM schedule_runs WHERE outcome = 'posted'")
    assert recorded == body


async def _store(url: str, **content: Any) -> int:
    """A console schedule written straight to the database, past every command check."""
    database = Database(url)
    try:
        async with database.session() as session, session.begin():
            community_id = (await session.execute(select(Community.id))).scalar_one()
            values: dict[str, Any] = {
                "community_id": community_id,
                "platform": "console",
                "group_id": "console",
                "channel_id": "general",
                "thread_id": None,
                "expression": "daily 10:00",
                "timezone": "UTC",
                "kind": "text",
                "text": "",
                "image": None,
                "items": (),
                "author_member_id": None,
                "created_at": DEC_1_0800,
                "next_run_at": DEC_1_0800.replace(hour=10),
            }
            schedule = NewSchedule(**(values | content))
            return await add_schedule(session, schedule=schedule)
    finally:
        await database.close()


async def test_a_stored_widening_template_is_refused_when_it_fires(tmp_path: Path) -> None:
    clock, url = ManualClock(DEC_1_0800), _url(tmp_path)
    assert await play(url, clock, "/modchannel\n", digest=QUIET) == [
        "Moderator alerts will be posted in this channel."
    ]
    wide = await _store(url, text="{date:x>400000}")
    rotating = await _store(url, kind="rotate", items=("{weekday:^9999}", "fine"))
    lines = await play(url, clock, f"~ +1d\n/schedule show {wide}\n~ +1d\n", digest=QUIET)
    assert max(len(line) for line in lines) < 400
    notes = _posts(lines)
    assert notes == [
        f"[#general] Scheduled post #{wide} is paused and was not posted: {{date:x>400000}} is "
        f"not allowed: write it plainly as {{date}} {WHY}. Remove it (/schedule remove {wide}) "
        "and schedule it again with plain placeholders.",
        f"[#general] Scheduled post #{rotating} is paused and was not posted: {{weekday:^9999}} "
        f"is not allowed: write it plainly as {{weekday}} {WHY}. Remove it (/schedule remove "
        f"{rotating}) and schedule it again with plain placeholders.",
    ]
    assert any(line.startswith("Paused because: {date:x>400000} is not") for line in lines)
    with sqlite3.connect(tmp_path / "h.db") as db:
        outcomes = db.execute("SELECT schedule_id, outcome, attempts FROM schedule_runs").fetchall()
    assert sorted(outcomes) == [(wide, "failed", 1), (rotating, "failed", 1)]


async def test_a_huge_stored_text_posts_cut_at_the_bound(tmp_path: Path) -> None:
    clock, url = ManualClock(DEC_1_0800), _url(tmp_path)
    await play(url, clock, "/modchannel off\n", digest=QUIET)
    await _store(url, text="x" * 400_000)
    lines = await play(url, clock, "~ +1d\n/schedule show 1\n", digest=QUIET)
    assert f"{'x' * 999}…" in lines  # /schedule show quotes the start of it only
    (post,) = _posts(lines)
    body = "\n".join(lines[lines.index(post) : lines.index(post) + 3]).removeprefix("[#general] ")
    assert len(body) <= MAX_POST_CHARS
    assert body.endswith(f"x…\n\n{CUT}")


@pytest.fixture
async def tg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    async with polling_bot(tmp_path, monkeypatch) as bot:
        yield bot


async def test_telegram_refuses_a_wide_template_posts_three_messages_and_answers_help(
    tg: Any,
) -> None:
    tg.fake.set_status(GROUP, ADMIN["id"], "creator")
    await tg.fake.push(message("/schedule add daily 10:00 | {date:x>400000}", user=ADMIN))
    (refusal,) = await tg.replies(1)
    assert (
        refusal["text"]
        == f"{{date:x&gt;400000}} is not allowed: write it plainly as {{date}} {WHY}"
    )
    await tg.fake.push(message("/schedule add daily 10:00 | Good morning", user=ADMIN))
    await tg.replies(2)
    database = tg.engine.services.database
    async with database.session() as session, session.begin():
        schedule = (await session.execute(select(Schedule))).scalar_one()
        schedule.text = "x" * 400_000  # as a schedule stored before the bound could be
        due = schedule.next_run_at
    before = len(tg.fake.sent("sendMessage"))
    tg.engine.services.clock.set(due)
    feature = tg.engine.feature(ScheduleFeature)
    tick = asyncio.create_task(feature.tick())
    await tg.fake.push(message("/help"))  # while the post goes out, in the same group
    async with asyncio.timeout(20):  # the old code sent 98 messages, rate-limited, /help last
        (report,) = await tick
        sent = await tg.fake.wait_for("sendMessage", before + 4)
    assert report.outcome == "posted"
    help_replies = [s for s in sent[before:] if s["text"].startswith("Commands you can use")]
    assert len(help_replies) == 1
    pieces = [s for s in sent[before:] if s not in help_replies]
    assert len(pieces) == 3 == post_limit("telegram") // 4096
    assert sum(len(s["text"]) for s in pieces) <= MAX_POST_CHARS
    assert pieces[-1]["text"].endswith(CUT)


class HeldSink:
    """Records posts; a post to the held group waits until the test releases it."""

    def __init__(self, held_group: str) -> None:
        self.held_group = held_group
        self.held = asyncio.Event()  # the held post has reached the platform
        self.release = asyncio.Event()
        self.posted: dict[str, asyncio.Event] = {}
        self.performed: list[Post] = []

    def posted_in(self, group: str) -> asyncio.Event:
        return self.posted.setdefault(group, asyncio.Event())

    async def perform(self, action: Action) -> str | None:
        assert isinstance(action, Post)
        if action.target.group_id == self.held_group:
            self.held.set()
            await self.release.wait()
        self.performed.append(action)
        self.posted_in(action.target.group_id).set()
        return f"sent-{len(self.performed)}"


async def _two_communities(harness: Harness) -> HeldSink:
    """Group A (slow platform) and group B, each with its own post due at 09:00."""
    other = MemoryAdapter(harness.engine, harness.clock, group="group-b")
    for chat, text in ((harness.chat, "post of A"), (other, "post of B")):
        replies = await chat.command("root", f"/schedule add daily 09:00 | {text}", role=Role.ADMIN)
        assert replies[0].startswith("Scheduled post #")
    sink = HeldSink(harness.chat.group)
    harness.engine.attach("memory", sink.perform)
    harness.clock.set(harness.clock.now().replace(hour=9) + timedelta(days=1))
    return sink


@pytest.fixture
async def lanes(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    settings = make_settings(sqlite_url, schedule={"worker": False}, digest=QUIET)
    h = await start_harness(settings, clock)
    yield h
    await h.engine.stop()


async def test_a_slow_community_does_not_hold_back_another(lanes: Harness) -> None:
    sink = await _two_communities(lanes)
    feature = lanes.engine.feature(ScheduleFeature)
    assert feature is not None
    tick = asyncio.create_task(feature.tick())
    async with asyncio.timeout(5):  # a safety net; nothing here waits on time
        await sink.held.wait()
        await sink.posted_in("group-b").wait()  # B is out while A's platform still hangs
    assert [p.text for p in sink.performed] == ["post of B"]
    assert not tick.done()
    sink.release.set()
    reports = await tick
    assert sorted(r.outcome for r in reports) == ["posted", "posted"]
    assert [p.text for p in sink.performed] == ["post of B", "post of A"]


async def test_a_post_that_never_finishes_is_stopped_and_retried(lanes: Harness) -> None:
    sink = await _two_communities(lanes)
    feature = lanes.engine.feature(ScheduleFeature)
    assert feature is not None
    # One lane at a time, a short budget: B waits for A's attempt, but only that long.
    feature.runner.parallel, feature.runner.post_timeout = 1, 0.05
    async with asyncio.timeout(10):  # a safety net: without a budget this never ends
        reports = await feature.tick()  # A's platform never answers (release is never set)
    assert {r.outcome for r in reports} == {"retrying", "posted"}
    assert [p.text for p in sink.performed] == ["post of B"]
    async with lanes.database.session() as session:
        runs = (await session.execute(select(ScheduleRun).order_by(ScheduleRun.id))).scalars()
        details = {run.outcome: run.detail for run in runs}
    assert details["retrying"] == "no answer within 0.05 s"
