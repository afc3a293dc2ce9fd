"""Cron lines mean what cron means: fire times checked against vectors derived from crontab(5),
cron(8) and the source of cronie 1.7 (src/entry.c, src/cron.c) and from croniter 7's README,
and where Hearth chooses otherwise, that it does so as docs/scheduling.md says. Through the
console: a midnight post across the spring change, and cron errors naming their field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.features.schedule.triggers import WhenError, parse_when
from bot.i18n import translator
from tests import console

EN = translator("en")


def fires(text: str, start: str, count: int, zone: str = "Europe/Berlin") -> list[str]:
    """The next `count` fire times from local time `start`, as local ``Day MM-DD HH:MM TZ``."""
    tz = ZoneInfo(zone)
    moment = datetime.fromisoformat(start).replace(tzinfo=tz)
    when = parse_when(text, default_timezone=zone, anchor=moment)
    return [t.astimezone(tz).strftime("%a %m-%d %H:%M %Z") for t in when.upcoming(moment, count)]


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        # crontab(5): '"30 4 1,15 * 5" would cause a command to be run at 4:30 am on the 1st
        # and 15th of each month, plus every Friday' — both day fields restricted: either.
        (
            "30 4 1,15 * 5",
            "2026-01-01 00:00",
            [
                "Thu 01-01 04:30 CET",
                "Fri 01-02 04:30 CET",
                "Fri 01-09 04:30 CET",
                "Thu 01-15 04:30 CET",
                "Fri 01-16 04:30 CET",
                "Fri 01-23 04:30 CET",
            ],
        ),
        # crontab(5) example: '23 0-23/2 * * * … run 23 minutes after midn, 2am, 4am …'
        (
            "23 0-23/2 * * *",
            "2026-01-05 00:00",
            ["Mon 01-05 00:23 CET", "Mon 01-05 02:23 CET", "Mon 01-05 04:23 CET"],
        ),
        # crontab(5) examples: '0 22 * * 1-5' at 10 pm on weekdays, '5 4 * * sun' Sundays.
        (
            "0 22 * * 1-5",
            "2026-01-09 23:00",
            ["Mon 01-12 22:00 CET", "Tue 01-13 22:00 CET"],
        ),
        ("5 4 * * sun", "2026-01-05 00:00", ["Sun 01-11 04:05 CET", "Sun 01-18 04:05 CET"]),
        # crontab(5): "day of week 0-7 (0 or 7 is Sunday)".
        ("0 9 * * 7", "2026-01-05 00:00", ["Sun 01-11 09:00 CET"]),
        # crontab(5) (cronie 1.7): "Ranges and lists of names are allowed. Examples:
        # "mon,wed,fri", "jan-mar"".
        (
            "0 9 1 jan-mar *",
            "2026-01-05 00:00",
            ["Sun 02-01 09:00 CET", "Sun 03-01 09:00 CET", "Fri 01-01 09:00 CET"],
        ),
        # cronie get_range: a step after a range or names, "for (i = low_; i <= high_;
        # i += step)": MON-FRI/2 is Monday, Wednesday, Friday; 1-31/7 the 1st, 8th … 29th.
        (
            "0 9 * * MON-FRI/2",
            "2026-01-05 00:00",
            [
                "Mon 01-05 09:00 CET",
                "Wed 01-07 09:00 CET",
                "Fri 01-09 09:00 CET",
                "Mon 01-12 09:00 CET",
            ],
        ),
        (
            "0 9 1-31/7 * *",
            "2026-01-05 00:00",
            [
                "Thu 01-08 09:00 CET",
                "Thu 01-15 09:00 CET",
                "Thu 01-22 09:00 CET",
                "Thu 01-29 09:00 CET",
                "Sun 02-01 09:00 CET",
            ],
        ),
        # cronie: '*' in day of week is 0-7, so */2 steps 0, 2, 4, 6 (Sunday … Saturday).
        (
            "0 9 * * */2",
            "2026-01-05 00:00",
            [
                "Tue 01-06 09:00 CET",
                "Thu 01-08 09:00 CET",
                "Sat 01-10 09:00 CET",
                "Sun 01-11 09:00 CET",
            ],
        ),
        # cronie entry.c sets DOM_STAR when the day-of-month field starts with '*', and
        # cron.c then needs both day fields ("(e->flags & DOM_STAR) || (e->flags & DOW_STAR)
        # ? (dow && dom) : (dow || dom)"): */2 and MON are odd-dated Mondays. croniter 7
        # documents the same as `implement_cron_bug=True` (its default ORs them).
        (
            "0 9 */2 * MON",
            "2026-01-05 00:00",
            [
                "Mon 01-05 09:00 CET",
                "Mon 01-19 09:00 CET",
                "Mon 02-09 09:00 CET",
                "Mon 02-23 09:00 CET",
            ],
        ),
        ("0 9 * * MON", "2026-01-06 00:00", ["Mon 01-12 09:00 CET", "Mon 01-19 09:00 CET"]),
        # cronie entry.c, R_RANGE_NUM2: "if (low_ > high_ && high_ == 0) high_ = 7": 6-0,
        # sat-sun (sun is 0) and fri-sun run to Sunday.
        (
            "0 9 * * 6-0",
            "2026-01-05 00:00",
            ["Sat 01-10 09:00 CET", "Sun 01-11 09:00 CET", "Sat 01-17 09:00 CET"],
        ),
        (
            "0 9 * * sat-sun",
            "2026-01-05 00:00",
            ["Sat 01-10 09:00 CET", "Sun 01-11 09:00 CET", "Sat 01-17 09:00 CET"],
        ),
        (
            "0 9 * * fri-sun",
            "2026-01-05 00:00",
            [
                "Fri 01-09 09:00 CET",
                "Sat 01-10 09:00 CET",
                "Sun 01-11 09:00 CET",
                "Fri 01-16 09:00 CET",
            ],
        ),
        # croniter 7 ("Handle when the second bound of the range is in backtracking order:
        # eg: X-Sun or X-7 (Sat-Sun) in DOW, or X-Jan (Apr-Jan) in MONTH"): other ranges wrap
        # too. cronie 1.7 accepts fri-mon but selects no day; Hearth wraps (docs say why).
        (
            "0 9 * * fri-mon",
            "2026-01-05 12:00",
            [
                "Fri 01-09 09:00 CET",
                "Sat 01-10 09:00 CET",
                "Sun 01-11 09:00 CET",
                "Mon 01-12 09:00 CET",
                "Fri 01-16 09:00 CET",
            ],
        ),
        (
            "0 9 1 nov-feb *",
            "2026-01-05 00:00",
            [
                "Sun 02-01 09:00 CET",
                "Sun 11-01 09:00 CET",
                "Tue 12-01 09:00 CET",
                "Fri 01-01 09:00 CET",
            ],
        ),
        (
            "0 22-2 * * *",
            "2026-01-05 12:00",
            [
                "Mon 01-05 22:00 CET",
                "Mon 01-05 23:00 CET",
                "Tue 01-06 00:00 CET",
                "Tue 01-06 01:00 CET",
                "Tue 01-06 02:00 CET",
                "Tue 01-06 22:00 CET",
            ],
        ),
        # croniter 7 agrees on a step across the wrap of the week: Friday, then Sunday.
        ("0 9 * * fri-mon/2", "2026-01-05 12:00", ["Fri 01-09 09:00 CET", "Sun 01-11 09:00 CET"]),
    ],
)
def test_cron_fields_mean_what_cron_means(text: str, start: str, expected: list[str]) -> None:
    assert fires(text, start, len(expected)) == expected


@pytest.mark.parametrize(
    ("text", "start", "zone", "expected"),
    [
        # cron(8) of cronie, "Daylight Saving Time and other time changes": "If time was
        # adjusted one hour forward, those jobs that would have run in the interval that has
        # been skipped will be run immediately" — fixed-time jobs at 03:00 (croniter 7 too).
        (
            "30 2 * * *",
            "2026-03-28 12:00",
            "Europe/Berlin",
            ["Sun 03-29 03:00 CEST", "Mon 03-30 02:30 CEST"],
        ),
        ("0 2 * * *", "2026-03-28 12:00", "Europe/Berlin", ["Sun 03-29 03:00 CEST"]),
        # "Jobs that run more frequently are scheduled normally" (cron.c runs wildcard jobs,
        # MIN_STAR or HR_STAR, for the current minute only): no 02:00 that does not exist.
        (
            "0 * * * *",
            "2026-03-29 00:30",
            "Europe/Berlin",
            ["Sun 03-29 01:00 CET", "Sun 03-29 03:00 CEST", "Sun 03-29 04:00 CEST"],
        ),
        (
            "*/30 * * * *",
            "2026-03-29 01:10",
            "Europe/Berlin",
            ["Sun 03-29 01:30 CET", "Sun 03-29 03:00 CEST", "Sun 03-29 03:30 CEST"],
        ),
        # …so a wildcard job whose every time falls in the skipped hour has no run that day
        # (croniter 7 moves its first to 03:00; Hearth keeps cronie's rule, docs say so).
        (
            "*/30 2 * * *",
            "2026-03-28 12:00",
            "Europe/Berlin",
            ["Mon 03-30 02:00 CEST", "Mon 03-30 02:30 CEST"],
        ),
        # "Conversely, if time was adjusted backward, running the same job twice is avoided":
        # a fixed-time job once (croniter 7 and crontab(5)'s note run it twice; docs say why).
        (
            "30 2 * * *",
            "2026-10-24 12:00",
            "Europe/Berlin",
            ["Sun 10-25 02:30 CEST", "Mon 10-26 02:30 CET"],
        ),
        (
            "30 1 * * *",
            "2026-10-31 12:00",
            "America/New_York",
            ["Sun 11-01 01:30 EDT", "Mon 11-02 01:30 EST"],
        ),
        # cron.c, time going back: "Just run the wildcard jobs" — both occurrences of the
        # repeated hour (croniter 7 gives the same).
        (
            "0 * * * *",
            "2026-10-25 00:30",
            "Europe/Berlin",
            [
                "Sun 10-25 01:00 CEST",
                "Sun 10-25 02:00 CEST",
                "Sun 10-25 02:00 CET",
                "Sun 10-25 03:00 CET",
            ],
        ),
        (
            "*/30 * * * *",
            "2026-10-25 01:10",
            "Europe/Berlin",
            [
                "Sun 10-25 01:30 CEST",
                "Sun 10-25 02:00 CEST",
                "Sun 10-25 02:30 CEST",
                "Sun 10-25 02:00 CET",
                "Sun 10-25 02:30 CET",
                "Sun 10-25 03:00 CET",
            ],
        ),
        (
            "0 * * * *",
            "2026-10-31 23:30",
            "America/New_York",
            [
                "Sun 11-01 00:00 EDT",
                "Sun 11-01 01:00 EDT",
                "Sun 11-01 01:00 EST",
                "Sun 11-01 02:00 EST",
            ],
        ),
        # Lord Howe moves its clocks half an hour (02:00 → 02:30): 02:00 fires at 02:30.
        ("0 2 * * *", "2026-10-03 12:00", "Australia/Lord_Howe", ["Sun 10-04 02:30 +11"]),
        # Chile changes at 24:00 on Saturday: Sunday's midnight comes at 01:00.
        ("0 0 * * *", "2026-09-05 12:00", "America/Santiago", ["Sun 09-06 01:00 -03"]),
        # Nuuk skips Saturday 23:00-23:59: a 23:30 job runs at the first moment after, which
        # is 00:00 on Sunday (cronie runs it then too).
        (
            "30 23 * * *",
            "2026-03-28 12:00",
            "America/Nuuk",
            ["Sun 03-29 00:00 -01", "Sun 03-29 23:30 -01"],
        ),
    ],
)
def test_cron_across_daylight_saving_changes_runs_as_cronie_does(
    text: str, start: str, zone: str, expected: list[str]
) -> None:
    assert fires(text, start, len(expected), zone) == expected


def test_the_daily_forms_fire_on_the_day_after_the_spring_change() -> None:
    """Issue 18: APScheduler 3.11's CronTrigger never gave 30 March 2026 in Berlin."""
    anchor = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    for text, expected in [
        ("daily 00:00", ["Sun 03-29 00:00 CET", "Mon 03-30 00:00 CEST", "Tue 03-31 00:00 CEST"]),
        ("0 0 * * *", ["Sun 03-29 00:00 CET", "Mon 03-30 00:00 CEST", "Tue 03-31 00:00 CEST"]),
        ("weekly mon 00:30", ["Mon 03-30 00:30 CEST", "Mon 04-06 00:30 CEST"]),
        ("monthly 1 00:00", ["Wed 04-01 00:00 CEST", "Fri 05-01 00:00 CEST"]),
    ]:
        when = parse_when(text, default_timezone="Europe/Berlin", anchor=anchor)
        times = when.upcoming(anchor, len(expected))
        berlin = ZoneInfo("Europe/Berlin")
        assert [t.astimezone(berlin).strftime("%a %m-%d %H:%M %Z") for t in times] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "0 9 * * MON-FUN",
            "cron field 5 (day of week) cannot be 'MON-FUN': use 0-7, SUN-SAT, *, lists "
            "(1,15), ranges (1-5) or steps (*/15); e.g. 0 9 * * MON-FRI",
        ),
        ("0 9 * * Mon-Fri/x", "cron field 5 (day of week) cannot be 'Mon-Fri/x': use 0-7"),
        ("0 9 * * 1-8", "cron field 5 (day of week) cannot be '1-8': use 0-7, SUN-SAT"),
        ("0 9 * * */0", "cron field 5 (day of week) cannot be '*/0'"),  # cronie: step != 0
        ("0 9 * * 5~6", "cron field 5 (day of week) cannot be '5~6'"),  # cronie's random ~
        ("0 9 L * *", "cron field 3 (day of month) cannot be 'L': use 1-31"),
        ("0 9 0 * *", "cron field 3 (day of month) cannot be '0': use 1-31"),
        ("0 9 * 0 *", "cron field 4 (month) cannot be '0': use 1-12, JAN-DEC"),
        ("0 9-24 * * *", "cron field 2 (hour) cannot be '9-24': use 0-23"),
        ("0-60 9 * * *", "cron field 1 (minute) cannot be '0-60': use 0-59"),
        ("*-5 9 * * *", "cron field 1 (minute) cannot be '*-5'"),
        ("0 9 * * Mars/Base", "cron field 5 (day of week) cannot be 'Mars/Base'"),
        (
            "0 9 * * MON Mars/Base",
            "unknown time zone 'Mars/Base'; use an IANA name such as Europe/Berlin",
        ),
    ],
)
def test_a_wrong_field_is_named_with_what_it_allows(text: str, message: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(text, default_timezone="Europe/Berlin", anchor=datetime.now(UTC))
    assert caught.value.message(EN).startswith(message)


def test_a_trailing_zone_after_a_named_weekday_range_step_still_reads() -> None:
    when = parse_when(
        "0 9 * * MON-FRI/2 America/New_York", default_timezone="UTC", anchor=datetime.now(UTC)
    )
    assert (when.expression, when.timezone) == ("0 9 * * MON-FRI/2", "America/New_York")


async def test_console_midnight_posts_across_the_spring_change_and_cron_errors(
    tmp_path: Path,
) -> None:
    """Through the console: a Berlin midnight post on 29 and 30 March 2026 (the clocks go
    forward in between), a weekday-range step accepted, a wrong day-of-week field named."""
    script = (
        "/timezone Europe/Berlin\n"
        "/schedule add daily 00:00 | Midnight {date}\n"
        "/schedule add 0 9 * * MON-FRI/2 | Standup\n"
        "/schedule add 0 9 * * MON-FUN | Never\n"
        "~ 2026-03-29 12:00\n"
        "~ 2026-03-30 12:00\n"
        "~ 2026-03-31 12:00\n"
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    lines = await console.play(url, ManualClock(datetime(2026, 3, 28, 12, tzinfo=UTC)), script)
    first = lines.index("Scheduled post #1: daily 00:00 (Europe/Berlin), in this channel.")
    assert lines[first + 1 : first + 5] == [
        "Next times:",
        "• 2026-03-29 00:00 Sun",
        "• 2026-03-30 00:00 Mon",
        "• 2026-03-31 00:00 Tue",
    ]
    second = lines.index("Scheduled post #2: 0 9 * * MON-FRI/2 (Europe/Berlin), in this channel.")
    assert lines[second + 1 : second + 5] == [
        "Next times:",
        "• 2026-03-30 09:00 Mon",
        "• 2026-04-01 09:00 Wed",
        "• 2026-04-03 09:00 Fri",
    ]
    assert (
        "cron field 5 (day of week) cannot be 'MON-FUN': use 0-7, SUN-SAT, *, lists (1,15), "
        "ranges (1-5) or steps (*/15); e.g. 0 9 * * MON-FRI"
    ) in lines
    assert not any("#3" in line for line in lines)
    posts = [line for line in lines if line.startswith("[#general] ")]
    assert posts == [
        "[#general] Midnight March 29, 2026",
        "[#general] Midnight March 30, 2026",
        "[#general] Standup",
        "[#general] Midnight March 31, 2026",
    ]
