"""Points as a new admin tries them from the console: thanks to several members, a broken
check-in streak, the repeat filter across a restart, level roles when XP is taken away, and
`/points history` in the community's time zone and language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from storage.database import Database
from storage.models import PointsLedger
from storage.points import recent_message_texts
from tests.console import play

#: 07:00 UTC is 15:00 in Shanghai.
START = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


async def console_run(url: str, clock: ManualClock, script: str, **points: Any) -> list[str]:
    """One `hearth run` on `url` fed `script` (the console member @you is an admin); the
    lines Hearth wrote, without their prefix."""
    return await play(url, clock, script, schedule={"worker": False}, points=points)


def ranks(lines: list[str]) -> list[str]:
    """The third line of each /rank answer: rank, reputation and streak."""
    return [line for line in lines if line.startswith("Rank #")]


async def message_xp(url: str) -> list[tuple[str, int]]:
    database = Database(url)
    try:
        async with database.session() as session:
            query = (
                select(PointsLedger.source, PointsLedger.amount)
                .where(PointsLedger.reason == "message")
                .order_by(PointsLedger.id)
            )
            return [(str(s), int(a)) for s, a in (await session.execute(query)).all()]
    finally:
        await database.close()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"


async def test_thanks_to_two_members_credits_each_once_a_day(url: str) -> None:
    script = (
        "@r1: hello from the first helper\n"
        "@r2: hello from the second helper\n"
        "@ann: thanks @r1 and @r2\n"
        "@ann: thanks again @r1 and @r2, and @ann too\n"  # same day: once per pair; never self
        "/rank r1\n/rank r2\n/rank ann\n"
        "@bob -> 3: thank you @r2 @r2\n"  # replied-to ann and r2 (named twice): one each
        "/rank r2\n/rank ann\n"
    )
    lines = await console_run(url, ManualClock(START), script)
    reputations = [line.split(" · ")[1] for line in ranks(lines)]
    assert reputations == [
        "reputation 1",  # r1
        "reputation 1",  # r2
        "reputation 0",  # ann
        "reputation 2",  # r2, thanked by ann and bob
        "reputation 1",  # ann, replied to by bob
    ]


async def test_a_broken_streak_shows_as_zero_and_starts_again_at_one(url: str) -> None:
    script = "/checkin\n~ +1d\n/checkin\n/rank\n~ +14d\n/rank\n/checkin\n/rank\n"
    lines = await console_run(url, ManualClock(START), script)
    assert [line.rsplit(" · ", 1)[1] for line in ranks(lines)] == [
        "check-in streak 2",
        "check-in streak 0",
        "check-in streak 1",
    ]
    assert "Checked in: +10 XP, day 1 of your streak." in lines[-4:]


async def test_the_streak_breaks_at_the_communitys_midnight(url: str) -> None:
    # 15:00 in Shanghai: check in today and yesterday's day is still "yesterday" at 23:59,
    # but at 00:00 the day after tomorrow (local) the streak is gone.
    script = (
        "/timezone Asia/Shanghai\n/checkin\n"
        "~ 2026-12-04 15:59\n/rank\n"  # 23:59 next day in Shanghai: checked in yesterday
        "~ 2026-12-04 16:00\n/rank\n"  # 00:00 two days later: a day was missed
    )
    lines = await console_run(url, ManualClock(START), script)
    assert [line.rsplit(" · ", 1)[1] for line in ranks(lines)] == [
        "check-in streak 1",
        "check-in streak 0",
    ]


async def test_the_repeat_filter_cooldown_and_cap_survive_a_restart(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(START)
    first = await console_run(url, clock, "@ann: the same words every time\n")
    assert first == []
    (earned,) = await message_xp(url)

    loads: list[int] = []

    async def counting(session: Any, **query: Any) -> Any:
        loads.append(query["member_id"])
        return await recent_message_texts(session, **query)

    monkeypatch.setattr("bot.features.points.feature.recent_message_texts", counting)
    second = (
        "~ +30s\n@ann: something else to say\n"  # within the minute: the cooldown holds
        "~ +31s\n@ann: the same words every time\n"  # a minute on: a repeat of run one
        "@ann: THE SAME words, every time!\n"
    )
    await console_run(url, clock, second)
    assert await message_xp(url) == [earned]
    assert len(loads) == 1  # read back once for ann, not per message

    # Over ten minutes after its last use the text earns again; a small daily cap, reached
    # in the first run, still holds after a restart.
    third = "~ +11m\n@ann: the same words every time\n"
    await console_run(url, clock, third)
    assert len(await message_xp(url)) == 2
    await console_run(url, clock, "~ +5m\n@ann: fresh words for the cap test\n", daily_cap=1)
    assert len(await message_xp(url)) == 2


async def test_level_roles_follow_xp_taken_away(url: str) -> None:
    script = (
        "@ann: hello, I am Ann\n"
        "/levels role 1 <@&501>\n/levels role 2 <@&502>\n"
        "/points give ann 300 welcome\n"  # level 2: role 502, 501 removed
        "/points take ann 100 oops\n"  # level 1: 502 removed, 501 given back
        "/points take ann 500 spam\n"  # level 0: 501 removed, nothing given
        "/points give ann 50 ok\n"  # still level 0: nothing
        "/points give ann 60 ok\n"  # level 1 again: 501 once
        "/points give ann 10 ok\n"  # level 1: nothing
    )
    lines = await console_run(url, ManualClock(START), script)
    roles = [line for line in lines if line.startswith("(role ")]
    assert roles == [
        "(role 502 → @ann) (role 501 removed from @ann)",
        "(role 501 → @ann) (role 502 removed from @ann)",
        "(role 501 removed from @ann)",
        "(role 501 → @ann)",
    ]


async def test_points_history_is_local_and_translated(url: str) -> None:
    script = (
        "/timezone Asia/Shanghai\n/language zh\n"
        "@ann: hello everyone, nice to meet you\n"
        "@bob -> 3: thanks a lot!\n"
        "@ann: /checkin\n"
        "/points give ann 5 welcome\n"
        "/points history ann\n"
    )
    lines = await console_run(url, ManualClock(START), script)
    start = max(i for i, line in enumerate(lines) if line.startswith("ann 的积分记录"))
    history = lines[start + 1 :]
    assert history[0] == "2026-12-03 15:00 (Asia/Shanghai) +5 XP 管理员奖励 — welcome"
    assert all(line.startswith("2026-12-03 15:00 (Asia/Shanghai) +") for line in history)
    reasons = {line.split(" ", 5)[5].split(" — ")[0] for line in history}
    assert {"发言", "被感谢", "管理员奖励"} <= reasons
