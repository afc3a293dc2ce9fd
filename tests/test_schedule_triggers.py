"""Reading `when` expressions: every form, names, time zones, errors with examples, and fire
times across daylight saving changes in both directions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.features.schedule.triggers import When, WhenError, parse_when
from bot.i18n import translator

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday
BERLIN = ZoneInfo("Europe/Berlin")
EN = translator("en")


def when(text: str, zone: str = "Europe/Berlin", anchor: datetime = NOW) -> When:
    return parse_when(text, default_timezone=zone, anchor=anchor)


def local(times: list[datetime], zone: str = "Europe/Berlin") -> list[str]:
    return [t.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M") for t in times]


def error(text: str, zone: str = "Europe/Berlin") -> str:
    with pytest.raises(WhenError) as caught:
        when(text, zone)
    return caught.value.message(EN)


@pytest.mark.parametrize(
    ("text", "expression", "expected"),
    [
        (
            "daily 09:00",
            "daily 09:00",
            ["Tue 2026-01-06 09:00", "Wed 2026-01-07 09:00", "Thu 2026-01-08 09:00"],
        ),
        (
            "DAILY 7:05",
            "daily 07:05",
            ["Tue 2026-01-06 07:05", "Wed 2026-01-07 07:05", "Thu 2026-01-08 07:05"],
        ),
        (
            "weekly mon 20:00",
            "weekly mon 20:00",
            ["Mon 2026-01-05 20:00", "Mon 2026-01-12 20:00", "Mon 2026-01-19 20:00"],
        ),
        (
            "weekly Tuesday,fri 08:30",
            "weekly tue,fri 08:30",
            ["Tue 2026-01-06 08:30", "Fri 2026-01-09 08:30", "Tue 2026-01-13 08:30"],
        ),
        (
            "monthly 1 10:00",
            "monthly 1 10:00",
            ["Sun 2026-02-01 10:00", "Sun 2026-03-01 10:00", "Wed 2026-04-01 10:00"],
        ),
        (
            "monthly last 18:00",
            "monthly last 18:00",
            ["Sat 2026-01-31 18:00", "Sat 2026-02-28 18:00", "Tue 2026-03-31 18:00"],
        ),
        (
            "every 2h",
            "every 2h",
            ["Mon 2026-01-05 15:00", "Mon 2026-01-05 17:00", "Mon 2026-01-05 19:00"],
        ),
        (
            "every 90 minutes",
            "every 90m",
            ["Mon 2026-01-05 14:30", "Mon 2026-01-05 16:00", "Mon 2026-01-05 17:30"],
        ),
        (
            "every 3d",
            "every 3d",
            ["Thu 2026-01-08 13:00", "Sun 2026-01-11 13:00", "Wed 2026-01-14 13:00"],
        ),
        ("2026-12-24 18:00", "2026-12-24 18:00", ["Thu 2026-12-24 18:00"]),
        (
            "0 9 * * MON-FRI",
            "0 9 * * MON-FRI",
            ["Tue 2026-01-06 09:00", "Wed 2026-01-07 09:00", "Thu 2026-01-08 09:00"],
        ),
        (
            "30 8 * * 1-5",
            "30 8 * * 1-5",
            ["Tue 2026-01-06 08:30", "Wed 2026-01-07 08:30", "Thu 2026-01-08 08:30"],
        ),
        (
            "0 10 * * 0",
            "0 10 * * 0",
            ["Sun 2026-01-11 10:00", "Sun 2026-01-18 10:00", "Sun 2026-01-25 10:00"],
        ),
        (
            "0 10 * * 7",
            "0 10 * * 7",
            ["Sun 2026-01-11 10:00", "Sun 2026-01-18 10:00", "Sun 2026-01-25 10:00"],
        ),
        (
            "0 12 1 JAN,jul *",
            "0 12 1 JAN,jul *",
            ["Wed 2026-07-01 12:00", "Fri 2027-01-01 12:00", "Thu 2027-07-01 12:00"],
        ),
        (
            "*/20 13 * * *",
            "*/20 13 * * *",
            ["Mon 2026-01-05 13:00", "Mon 2026-01-05 13:20", "Mon 2026-01-05 13:40"],
        ),
        (  # crontab: with both day fields set, either one matching fires
            "0 9 10 * FRI",
            "0 9 10 * FRI",
            ["Fri 2026-01-09 09:00", "Sat 2026-01-10 09:00", "Fri 2026-01-16 09:00"],
        ),
        (  # crontab steps on weekdays count from Sunday
            "0 9 * * */3",
            "0 9 * * */3",
            ["Wed 2026-01-07 09:00", "Sat 2026-01-10 09:00", "Sun 2026-01-11 09:00"],
        ),
    ],
)
def test_every_form_reads_and_fires_in_local_time(
    text: str, expression: str, expected: list[str]
) -> None:
    parsed = when(text)
    assert parsed.expression == expression
    assert parsed.timezone == "Europe/Berlin"
    assert local(parsed.upcoming(NOW, 3)) == expected


def test_a_trailing_time_zone_overrides_the_community_one() -> None:
    parsed = when("daily 09:00 Asia/Shanghai")
    assert (parsed.expression, parsed.timezone) == ("daily 09:00", "Asia/Shanghai")
    first = parsed.upcoming(NOW, 1)[0]
    assert first == datetime(2026, 1, 6, 1, 0, tzinfo=UTC)
    assert when("0 9 * * MON-FRI utc").timezone == "UTC"
    assert when("2026-12-24 18:00 America/New_York").upcoming(NOW, 1) == [
        datetime(2026, 12, 24, 23, 0, tzinfo=UTC)
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "daily 09:00 Mars/Base",
            "unknown time zone 'Mars/Base'; use an IANA name such as Europe/Berlin or "
            "Asia/Shanghai, e.g. daily 09:00 Europe/Berlin",
        ),
        ("daily 9", "'9' is not a time of day; use 24-hour HH:MM, e.g. daily 09:00"),
        ("daily 24:00", "'24:00' is not a time of day; use 24-hour HH:MM, e.g. daily 09:00"),
        ("daily", "daily needs a time, e.g. daily 09:00"),
        ("weekly 20:00", "weekly needs a weekday and a time, e.g. weekly mon 20:00"),
        (
            "weekly funday 20:00",
            "'funday' is not a weekday; use mon, tue, wed, thu, fri, sat or sun (lists and "
            "ranges work: mon,thu or mon-fri), e.g. weekly mon 20:00",
        ),
        (
            "monthly 32 10:00",
            "'32' is not a day of the month; use 1-31 or last, e.g. monthly 1 10:00",
        ),
        (
            "every fortnight",
            "'fortnight' is not an interval; use a whole number with m, h or d (minutes, "
            "hours, days), e.g. every 2h",
        ),
        ("every 0m", "'0m' is not an interval"),
        ("2026-02-30 10:00", "'2026-02-30' is not a date; use YYYY-MM-DD HH:MM, e.g. 2026-12-24"),
        ("2026-12-24", "a date needs a time too: YYYY-MM-DD HH:MM, e.g. 2026-12-24 18:00"),
        (
            "0 9 * *",
            "cron needs 5 fields (minute hour day-of-month month day-of-week), got 4; "
            "e.g. 0 9 * * MON-FRI",
        ),
        (
            "0 25 * * *",
            "cron field 2 (hour) cannot be '25': use 0-23, *, lists (1,15), ranges (1-5) or "
            "steps (*/15); e.g. 0 9 * * MON-FRI",
        ),
        ("0 9 * * 8", "cron field 5 (day of week) cannot be '8': use 0-7, SUN-SAT"),
        ("0 9 * * FUN", "cron field 5 (day of week) cannot be 'FUN'"),
        ("0 9 * * MON-FUN", "cron field 5 (day of week) cannot be 'MON-FUN'"),
        ("0 9 * * MON-FRI/0", "cron field 5 (day of week) cannot be 'MON-FRI/0': use 0-7"),
        ("0 9 * BRUMAIRE *", "cron field 4 (month) cannot be 'BRUMAIRE': use 1-12, JAN-DEC"),
        ("61 9 * * *", "cron field 1 (minute) cannot be '61': use 0-59"),
        (
            "tomorrow at noon",
            "cannot read 'tomorrow at noon' as a time. Use one of: 0 9 * * MON-FRI · daily "
            "09:00 · weekly mon 20:00 · monthly 1 10:00 · every 2h · 2026-12-24 18:00 — "
            "optionally followed by a time zone such as Europe/Berlin.",
        ),
    ],
)
def test_invalid_expressions_say_what_is_wrong_with_an_example(text: str, message: str) -> None:
    assert error(text).startswith(message)


def test_errors_are_translated() -> None:
    with pytest.raises(WhenError) as caught:
        when("0 25 * * *")
    assert caught.value.message(translator("zh_Hans")).startswith("cron 第 2 个字段（小时）")


def test_times_that_never_come_give_nothing() -> None:
    assert when("2020-01-01 10:00").upcoming(NOW, 3) == []
    assert when("0 9 30 2 *").upcoming(NOW, 3) == []


BERLIN_DAILY_SPRING = [
    ("Sat 2026-03-28 09:00", datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
    ("Sun 2026-03-29 09:00", datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),  # CEST from 02:00
    ("Mon 2026-03-30 09:00", datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
]
BERLIN_DAILY_AUTUMN = [
    ("Sat 2026-10-24 09:00", datetime(2026, 10, 24, 7, 0, tzinfo=UTC)),
    ("Sun 2026-10-25 09:00", datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),  # CET from 03:00
    ("Mon 2026-10-26 09:00", datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (datetime(2026, 3, 27, 12, tzinfo=UTC), BERLIN_DAILY_SPRING),
        (datetime(2026, 10, 23, 12, tzinfo=UTC), BERLIN_DAILY_AUTUMN),
    ],
    ids=["clocks-forward", "clocks-back"],
)
def test_daily_post_stays_at_local_time_across_dst(
    start: datetime, expected: list[tuple[str, datetime]]
) -> None:
    for text in ("daily 09:00", "0 9 * * *"):
        times = when(text).upcoming(start, 3)
        assert list(zip(local(times), times, strict=True)) == expected


def test_repeated_hour_fires_once_and_skipped_hour_fires_at_the_change() -> None:
    back = when("daily 02:30").upcoming(datetime(2026, 10, 24, 12, tzinfo=UTC), 2)
    assert back == [  # 02:30 happens twice on 25 October; the post happens once
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
    ]
    # cron(8) (cronie): "If time was adjusted one hour forward, those jobs that would have
    # run in the interval that has been skipped will be run immediately" — at 03:00.
    forward = when("daily 02:30").upcoming(datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    assert local(forward) == ["Sun 2026-03-29 03:00", "Mon 2026-03-30 02:30"]
    # A minute field starting with * is a wildcard job (cronie's MIN_STAR): cron(8) "Jobs
    # that run more frequently are scheduled normally", so the repeated 02:00-02:59 runs twice.
    half_hours = when("*/30 1-3 * * *").upcoming(datetime(2026, 10, 24, 22, tzinfo=UTC), 9)
    assert [t.astimezone(BERLIN).strftime("%H:%M %Z") for t in half_hours] == [
        "01:00 CEST",
        "01:30 CEST",
        "02:00 CEST",
        "02:30 CEST",
        "02:00 CET",
        "02:30 CET",
        "03:00 CET",
        "03:30 CET",
        "01:00 CET",
    ]


def test_a_one_off_time_the_clocks_skip_or_repeat_fires_once() -> None:
    # As the daily forms: a skipped time at the first valid moment after it, a repeated one at
    # its first occurrence.
    assert local(when("2026-03-29 02:30").upcoming(NOW, 2)) == ["Sun 2026-03-29 03:00"]
    assert when("2026-10-25 02:30").upcoming(NOW, 2) == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def test_intervals_count_elapsed_time_from_their_creation() -> None:
    parsed = when("every 6h", anchor=datetime(2026, 10, 24, 22, 17, 45, tzinfo=UTC))
    times = parsed.upcoming(datetime(2026, 10, 25, 0, tzinfo=UTC), 3)
    assert [t - times[0] for t in times] == [timedelta(0), timedelta(hours=6), timedelta(hours=12)]
    assert times[0] == datetime(2026, 10, 25, 4, 17, tzinfo=UTC)


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Shanghai", "UTC"]


@given(
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from(ZONES),
    days=st.integers(0, 730),
)
def test_daily_fires_once_a_local_day_at_its_time(
    hour: int, minute: int, zone: str, days: int
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=days)
    times = when(f"daily {hour:02d}:{minute:02d}", zone).upcoming(start, 4)
    tz = ZoneInfo(zone)
    dates = [t.astimezone(tz).date() for t in times]
    assert len(times) == 4
    assert times == sorted(times)
    assert all((b - a).days == 1 for a, b in itertools.pairwise(dates))
    for moment in times:
        wall = moment.astimezone(tz)
        exists = wall.replace(hour=hour, minute=minute).astimezone(UTC).astimezone(tz)
        if (exists.hour, exists.minute) == (hour, minute):  # not inside a skipped hour
            assert (wall.hour, wall.minute) == (hour, minute)


def _read(text: str) -> str:
    """The expression as read, or the message saying why it cannot be."""
    try:
        return when(text).expression
    except WhenError as problem:
        return problem.message(EN)


@given(st.text(max_size=40))
def test_any_text_is_read_or_refused_with_a_message(text: str) -> None:
    assert _read(text)
