"""The console plays a whole group: replies, reactions, joins, leaves and the passing of time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console_script import ClockMove, ScriptError, Transcript, parse_duration
from bot.clock import ManualClock, ShiftedClock
from bot.events import MemberJoined, MemberLeft, Message, Place, ReactionAdded
from tests.conftest import START
from tests.console import play

PLACE = Place("console", "c", "general")


def _transcript(clock: ManualClock | None = None) -> Transcript:
    clock = clock or ManualClock(START)
    return Transcript(place=PLACE, user="you", admin=True, run="r", clock=clock)


def test_replies_point_at_a_number_or_a_speaker() -> None:
    script = _transcript()
    first = script.read("@ann: how do I join?")
    assert isinstance(first, Message)
    assert first.message_id == "r-1"
    script.read("@bob: no idea")
    by_number = script.read("@cat -> 1: there is a form")
    assert isinstance(by_number, Message)
    assert (by_number.author.user_id, by_number.reply_to, by_number.text) == (
        "cat",
        "r-1",
        "there is a form",
    )
    by_name = script.read("-> @cat: thanks!")
    assert isinstance(by_name, Message)
    assert (by_name.author.user_id, by_name.reply_to) == ("you", "r-3")


def test_reactions_name_the_message_and_its_author() -> None:
    script = _transcript()
    script.read("@ann: hello")
    script.read("@bob: hi")
    on_first = script.read("@cat +👍 1")
    assert isinstance(on_first, ReactionAdded)
    assert (on_first.message_id, on_first.message_author_id, on_first.emoji) == ("r-1", "ann", "👍")
    previous = script.read("+🎉")
    assert isinstance(previous, ReactionAdded)
    assert (previous.reactor.user_id, previous.message_id) == ("you", "r-2")
    answer = script.sent_by_hearth()
    on_hearth = script.read("@ann +👎 @hearth")
    assert isinstance(on_hearth, ReactionAdded)
    assert (on_hearth.message_id, on_hearth.message_author_id) == (answer, None)


def test_joins_leaves_and_clock_lines() -> None:
    script = _transcript()
    joined = script.read("@newbie joins")
    assert isinstance(joined, MemberJoined)
    assert (joined.member.user_id, joined.group_id, joined.at) == ("newbie", "c", START)
    assert isinstance(script.read("@newbie leaves"), MemberLeft)
    assert script.read("~ +1h30m") == ClockMove(by=timedelta(hours=1, minutes=30))
    assert script.read("~ +2d") == ClockMove(by=timedelta(days=2))
    assert script.read("~ 2026-12-05 10:00") == ClockMove(to=datetime(2026, 12, 5, 10, tzinfo=UTC))
    moved = script.read("~ 2026-12-05T10:00+08:00")
    assert isinstance(moved, ClockMove)
    assert moved.to == datetime(2026, 12, 5, 2, tzinfo=UTC)


def test_ordinary_chat_stays_chat() -> None:
    script = _transcript()
    for text in ("+1", "~nice~", "@ann joins the call later: ok", "-> not a reply", "joins"):
        event = script.read(text)
        assert isinstance(event, Message), text


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("-> 5: hi", "there is no message #5"),
        ("@ann +👍", "no message yet"),
        ("-> @zed: hi", "@zed has not said anything yet"),
        ("~ +soon", "cannot read 'soon' as a duration"),
        ("~ 2026-13-01", "cannot read '2026-13-01' as a time"),
    ],
)
def test_lines_naming_nothing_are_explained(line: str, said: str) -> None:
    with pytest.raises(ScriptError, match=said):
        _transcript().read(line)


def test_durations() -> None:
    assert parse_duration("1w2d3h4m5s") == timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)
    with pytest.raises(ScriptError):
        parse_duration("3x")


def test_shifted_clock_moves_the_wall_clock() -> None:
    base = ManualClock(START)
    clock = ShiftedClock(base)
    clock.advance(timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)
    base.advance(timedelta(minutes=5))
    assert clock.now() == START + timedelta(days=1, minutes=5)
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2027, 1, 1, tzinfo=UTC)


async def _play(tmp_path: Path, script: str, clock: ManualClock) -> list[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    return await play(url, clock, script, community="c", raw=True)


async def test_a_played_group_earns_thanks_reactions_and_logs_joins(tmp_path: Path) -> None:
    clock = ManualClock(START)
    lines = await _play(
        tmp_path,
        "@newbie joins\n"
        "@ann: where is the meetup tonight?\n"
        "@bob -> 1: at the library, 7 pm\n"
        "@ann -> @bob: thanks, that helps!\n"
        "@cat +👍 2\n"
        "@newbie leaves\n"
        "/rank bob\n"
        "-> 99: hello?\n",
        clock,
    )
    assert "hearth> (console: there is no message #99 (messages so far: 4))" in lines
    rank = next(line for line in lines if "Rank #" in line)
    assert "reputation 1" in rank
    with sqlite3.connect(tmp_path / "h.db") as db:
        kinds = [row[0] for row in db.execute("SELECT kind FROM member_events ORDER BY id")]
        reactions = db.execute("SELECT emoji FROM reactions").fetchall()
        replies = db.execute("SELECT count(*) FROM messages WHERE reply_to IS NOT NULL").fetchone()
    assert kinds == ["join", "leave"]
    assert reactions == [("👍",)]
    assert replies == (2,)


async def test_moving_the_clock_runs_due_posts_and_continues_streaks(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    lines = await _play(
        tmp_path,
        "/schedule add daily 09:00 | Good morning, everyone!\n"
        "/checkin\n"
        "~ +1d\n"
        "/checkin\n"
        "~ 2026-12-02 09:30\n",
        clock,
    )
    assert "hearth> (console: it is now 2026-12-02 08:00 (UTC))" in lines
    posts = [line for line in lines if "Good morning, everyone!" in line and "[#" in line]
    # 09:00 on the 1st passed during the first jump; 09:00 on the 2nd during the second.
    assert len(posts) == 2
    assert any("day 2 of your streak" in line for line in lines)
    assert clock.now() == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
