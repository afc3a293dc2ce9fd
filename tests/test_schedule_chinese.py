"""Chinese schedules (issue 24 item 14): 每天 / 周五 / 每周五 / 工作日 / 每月1号 expressions, and
，/、 separating poll options, rotating-list items and weekdays — through the console of a
community set to Chinese, as its admin types them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.features.schedule.triggers import WhenError, parse_when
from tests import console

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


async def play(tmp_path: Path, script: str) -> list[str]:
    """`script` after `/language zh_Hans` and `/timezone Asia/Shanghai`, as the admin."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    setup = "/language zh_Hans\n/timezone Asia/Shanghai\n"
    return await console.play(url, ManualClock(MONDAY), setup + script, community="c", raw=True)


def reply(lines: list[str], head: str) -> list[str]:
    """The reply starting with `head` and the next-times lines under it."""
    start = next(n for n, line in enumerate(lines) if line.startswith(f"hearth> {head}"))
    return lines[start : start + 5]


async def test_chinese_expressions_schedule_posts_with_their_next_times(tmp_path: Path) -> None:
    lines = await play(
        tmp_path,
        "/schedule add 每天 10:00 | 早上好\n"
        "/schedule add 周五 18:00 | 周末快乐\n"
        "/schedule add 每周五 下午6点半 | 周末快乐\n"
        "/schedule add 工作日 09:00 | 上班啦\n"
        "/schedule add 每月1号 10:00 | 月初\n"
        "/schedule add 周一、周三 09:00 | 周会\n"
        "/schedule add 星期日 晚上8点 | 周日\n",
    )
    assert reply(lines, "已创建定时帖子 #1") == [
        "hearth> 已创建定时帖子 #1：每天 10:00（Asia/Shanghai），发在本频道。",
        "hearth> 接下来的时间：",
        "hearth> • 2026-01-06 10:00 周二",
        "hearth> • 2026-01-07 10:00 周三",
        "hearth> • 2026-01-08 10:00 周四",
    ]
    assert reply(lines, "已创建定时帖子 #2") == [
        "hearth> 已创建定时帖子 #2：每周五 18:00（Asia/Shanghai），发在本频道。",
        "hearth> 接下来的时间：",
        "hearth> • 2026-01-09 18:00 周五",
        "hearth> • 2026-01-16 18:00 周五",
        "hearth> • 2026-01-23 18:00 周五",
    ]
    assert reply(lines, "已创建定时帖子 #3")[0].startswith(
        "hearth> 已创建定时帖子 #3：每周五 18:30"
    )
    assert reply(lines, "已创建定时帖子 #4")[2:] == [
        "hearth> • 2026-01-06 09:00 周二",
        "hearth> • 2026-01-07 09:00 周三",
        "hearth> • 2026-01-08 09:00 周四",
    ]
    assert reply(lines, "已创建定时帖子 #5")[2:] == [
        "hearth> • 2026-02-01 10:00 周日",
        "hearth> • 2026-03-01 10:00 周日",
        "hearth> • 2026-04-01 10:00 周三",
    ]
    assert reply(lines, "已创建定时帖子 #6") == [
        "hearth> 已创建定时帖子 #6：每周一、周三 09:00（Asia/Shanghai），发在本频道。",
        "hearth> 接下来的时间：",
        "hearth> • 2026-01-07 09:00 周三",
        "hearth> • 2026-01-12 09:00 周一",
        "hearth> • 2026-01-14 09:00 周三",
    ]
    assert reply(lines, "已创建定时帖子 #7")[2] == "hearth> • 2026-01-11 20:00 周日"


async def test_chinese_commas_separate_options_and_items_and_posts_follow(
    tmp_path: Path,
) -> None:
    lines = await play(
        tmp_path,
        "/schedule poll 每天 10:00 | 周末做什么？ | 游戏，户外，睡觉\n"
        "/schedule rotate 每天 10:00 | 话题：宠物、话题：游戏、话题：美食\n"
        "/schedule preview 每周八 10:00\n"
        "~ +1d\n",
    )
    assert "hearth> 已创建定时帖子 #1：每天 10:00（Asia/Shanghai），发在本频道。" in lines
    assert "hearth> 已创建定时帖子 #2：每天 10:00（Asia/Shanghai），发在本频道。" in lines
    assert any(
        line.startswith("hearth> 无法把 '每周八 10:00' 识别为时间。请使用以下格式之一：每天 09:00")
        for line in lines
    )
    poll = lines.index("hearth> [#general] 周末做什么？")
    assert lines[poll + 1 : poll + 4] == ["hearth> 1. 游戏", "hearth> 2. 户外", "hearth> 3. 睡觉"]
    assert "hearth> [#general] 话题：宠物" in lines


@pytest.mark.parametrize(
    ("text", "expression", "first"),
    [
        ("每天 10:00", "每天 10:00", "2026-01-06 10:00"),
        ("每日10点", "每天 10:00", "2026-01-06 10:00"),
        ("每天上午十点半", "每天 10:30", "2026-01-06 10:30"),
        ("每天 10：00", "每天 10:00", "2026-01-06 10:00"),
        ("每天２０:００", "每天 20:00", "2026-01-05 20:00"),
        ("周五 18:00", "每周五 18:00", "2026-01-09 18:00"),
        ("星期五下午6点", "每周五 18:00", "2026-01-09 18:00"),
        ("礼拜天 中午12点", "每周日 12:00", "2026-01-11 12:00"),
        ("周三十点", "每周三 10:00", "2026-01-07 10:00"),
        ("每周一、三、五 8:00", "每周一、周三、周五 08:00", "2026-01-07 08:00"),
        ("周一，周四 20:00", "每周一、周四 20:00", "2026-01-05 20:00"),
        ("周一至周五 08:30", "每周一至周五 08:30", "2026-01-06 08:30"),
        ("工作日 09:00", "工作日 09:00", "2026-01-06 09:00"),
        ("周末 10点", "周末 10:00", "2026-01-10 10:00"),
        ("每月15日 下午3点", "每月15号 15:00", "2026-01-15 15:00"),
        ("每月最后一天 20:00", "每月最后一天 20:00", "2026-01-31 20:00"),
        ("每2小时", "每2小时", "2026-01-05 14:00"),
        ("2026年12月24日 18:00", "2026-12-24 18:00", "2026-12-24 18:00"),
        ("每天 10:00 Asia/Shanghai", "每天 10:00", "2026-01-06 02:00"),
        ("weekly mon、thu 20:00", "weekly mon,thu 20:00", "2026-01-05 20:00"),
        # A range that wraps goes round the week, as in cron (fri-mon): Friday to Monday.
        ("周五到周一 9点", "每周五至周一 09:00", "2026-01-09 09:00"),
    ],
)
def test_chinese_forms_read_into_canonical_expressions(
    text: str, expression: str, first: str
) -> None:
    anchor = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    when = parse_when(text, default_timezone="UTC", anchor=anchor)
    assert when.expression == expression
    (fire,) = when.upcoming(anchor, 1)
    assert f"{fire:%Y-%m-%d %H:%M}" == first
    # The canonical form is what a schedule stores: it reads back the same.
    again = parse_when(when.expression, default_timezone=when.timezone, anchor=anchor)
    assert again.upcoming(anchor, 3) == when.upcoming(anchor, 3)


@pytest.mark.parametrize("text", ["每周八 10:00", "明天 10:00", "每天", "每天 25:00", "周五到 9点"])
def test_unknown_chinese_forms_are_refused(text: str) -> None:
    with pytest.raises(WhenError):
        parse_when(text, default_timezone="UTC", anchor=MONDAY)


_ZH_DAYS = "一二三四五六日"


@given(
    days=st.sets(st.integers(0, 6), min_size=1),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    afternoon=st.booleans(),
)
def test_any_chinese_weekly_form_fires_on_those_days_at_that_time(
    days: set[int], hour: int, minute: int, afternoon: bool
) -> None:
    """周X、周Y at a time (as HH:MM, or as 下午H点M分 for afternoon hours) fires exactly on those
    weekdays at that time, and its canonical spelling reads back the same."""
    names = "、".join(f"周{_ZH_DAYS[day]}" for day in sorted(days))
    spoken = f"下午{hour - 12}点{minute}分" if afternoon and hour >= 13 else f"{hour}:{minute:02d}"
    when = parse_when(f"{names} {spoken}", default_timezone="Asia/Shanghai", anchor=MONDAY)
    fires = when.upcoming(MONDAY, 8)
    local = [fire.astimezone(ZoneInfo("Asia/Shanghai")) for fire in fires]
    assert {moment.weekday() for moment in local} == days
    assert {(moment.hour, moment.minute) for moment in local} == {(hour, minute)}
    again = parse_when(when.expression, default_timezone="Asia/Shanghai", anchor=MONDAY)
    assert again.upcoming(MONDAY, 8) == fires
