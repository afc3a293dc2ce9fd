"""Once-a-day schedules fire exactly once on every local day they name, in every IANA zone that
changes its clocks in 2026–2028, across both changes.

The set: for every HH:MM with MM in {00, 30}, ``daily HH:MM``, ``weekly <day> HH:MM`` for each
of the seven weekdays, ``monthly <d> HH:MM`` for d = 1…31 and ``last``, and the equivalent cron
lines (``MM HH * * *``, ``MM HH * * <day>``, ``MM HH <d> * *``) — over every local day of
2026-01-01 … 2028-12-31 in each zone. A named wall time that exists fires then, at its first
occurrence; one the clocks skip fires at the first valid moment after it (cron(8) of cronie:
"those jobs that would have run in the interval that has been skipped will be run
immediately").

Fast path (a few seconds for the whole set): fire sequences come from the schedule's own
`fires_between`, not the engine, and are checked with numpy against an oracle built here from
`zoneinfo` alone. Zones whose UTC offsets are identical over the window (Europe/Berlin and
Europe/Paris…) give identical wall-clock fire times, so the full set is computed for one zone
of each such group and the others are checked against it on the daily lines.
"""

from __future__ import annotations

import dataclasses
import itertools
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.schedule.triggers import parse_when
from bot.features.schedule.wallclock import DAY, WallSchedule, local_clock

EPOCH = date(1970, 1, 1).toordinal()
FIRST_DAY = date(2026, 1, 1).toordinal() - EPOCH
END_DAY = date(2029, 1, 1).toordinal() - EPOCH
WINDOW = (FIRST_DAY - 3) * DAY, (END_DAY + 3) * DAY
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TIMES = [(hour, minute) for hour in range(24) for minute in (0, 30)]
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
DAYS = np.arange(FIRST_DAY, END_DAY)
DATES = [date.fromordinal(EPOCH + int(day)) for day in DAYS]
WEEKDAY = (DAYS + 4) % 7  # 1970-01-01 was a Thursday; Sunday = 0 as in cron
MONTH_DAY = np.array([moment.day for moment in DATES])
ON_WEEKDAY = [np.flatnonzero(number == WEEKDAY) for number in range(7)]
ON_MONTH_DAY = [np.flatnonzero(day == MONTH_DAY) for day in range(32)]
LAST_DAY = np.array([(moment + timedelta(days=1)).day == 1 for moment in DATES])


#: A group's offsets: the instants they change at, and the offsets from the first on.
Key = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Offsets:
    """A zone's UTC offsets over the window, found with zoneinfo alone: `changes` are the
    instants the offset changes and `values[k]` the offset after the k-th change."""

    changes: np.ndarray
    values: np.ndarray

    def local(self, instants: np.ndarray) -> np.ndarray:
        """Local wall seconds of `instants`."""
        local: np.ndarray = instants + self.values[np.searchsorted(self.changes, instants, "right")]
        return local

    def first_showing(self, walls: np.ndarray) -> np.ndarray:
        """For each wall time, the first instant the zone's clock shows it or a later time:
        the time itself (its first occurrence when the clocks go back over it), or when the
        clocks skip it, the first valid moment after it."""
        found = np.full(len(walls), -1, dtype=np.int64)
        bounds = [WINDOW[0] - DAY, *self.changes.tolist(), WINDOW[1] + DAY]
        for start, end, offset in zip(bounds, bounds[1:], self.values.tolist(), strict=False):
            # Instants in [start, end) show start + offset … end - 1 + offset.
            reach = (found < 0) & (walls < end + offset)
            found[reach] = np.maximum(start, walls[reach] - offset)
        assert np.all(found >= 0)
        return found


def _offset(zone: ZoneInfo, instant: int) -> int:
    delta = datetime.fromtimestamp(instant, zone).utcoffset()
    assert delta is not None
    return int(delta.total_seconds())


def _offsets(zone: ZoneInfo, step: int = DAY) -> Offsets:
    """Probe every `step` seconds, bisect to the second."""
    low, high = WINDOW
    changes, values = [], [_offset(zone, low)]
    for probe in range(low, high, step):
        if (after := _offset(zone, probe + step)) != values[-1]:
            left, right = probe, probe + step
            while right - left > 1:
                middle = (left + right) // 2
                left, right = (
                    (middle, right) if _offset(zone, middle) == values[-1] else (left, middle)
                )
            changes.append(right)
            values.append(after)
    return Offsets(np.array(changes, dtype=np.int64), np.array(values, dtype=np.int64))


@cache
def zone_groups() -> dict[Key, list[str]]:
    """Every zone whose offset changes in the window, grouped by identical offsets."""
    low, high = WINDOW
    groups: dict[Key, list[str]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        zone = ZoneInfo(name)
        first = _offset(zone, low)
        if all(_offset(zone, probe) == first for probe in range(low, high, 3 * DAY)):
            continue  # no daylight saving here in 2026–2028 (any shorter than 3 days? see below)
        offsets = _offsets(zone)
        key = (tuple(offsets.changes.tolist()), tuple(offsets.values.tolist()))
        groups.setdefault(key, []).append(name)
    return groups


@cache
def _rule(text: str) -> WallSchedule:
    """`text` read once; its zone is swapped in per zone (a `WallSchedule` is days, times and
    a zone's clock — `test_a_zone_named_in_the_expression_gives_its_clock` shows the same)."""
    rule = parse_when(text, default_timezone="UTC", anchor=datetime(2026, 1, 1, tzinfo=UTC)).rule
    assert isinstance(rule, WallSchedule)
    return rule


def fires(text: str, zone: str, expected: np.ndarray) -> list[int]:
    """The fires of `text` in `zone` from the first expected one to the last."""
    rule = _rule(text)
    return WallSchedule(rule.days, rule.times, local_clock(zone)).fires_between(
        int(expected[0]), int(expected[-1]) + 1
    )


def test_the_zones_are_every_zone_that_changes_its_clocks() -> None:
    groups = zone_groups()
    names = {name for members in groups.values() for name in members}
    assert {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Pacific/Auckland"} <= names
    assert {"America/Santiago", "Africa/Cairo", "Australia/Lord_Howe", "Antarctica/Troll"} <= names
    assert not names & {"Asia/Shanghai", "UTC", "Asia/Tokyo", "America/Phoenix"}
    assert len(names) >= 150
    assert len(groups) >= 20
    # No zone changes twice within three days (Hearth's probes a day apart rely on it), and
    # every zone that changes at all is found by probes three days apart.
    for changes, _values in groups:
        assert all(b - a > 3 * DAY for a, b in itertools.pairwise(changes))


@pytest.mark.parametrize("key", list(zone_groups()), ids=lambda key: zone_groups()[key][0])
def test_once_a_day_forms_fire_once_on_every_named_local_day(key: Key) -> None:
    zone, *others = zone_groups()[key]
    offsets = _offsets(ZoneInfo(zone), step=6 * 3600)  # four times as often as Hearth probes
    assert key == (tuple(offsets.changes.tolist()), tuple(offsets.values.tolist()))
    for hour, minute in TIMES:
        clock = f"{hour:02d}:{minute:02d}"
        # One fire per named day (index i is DAYS[i]), when the clock first shows HH:MM.
        daily = offsets.first_showing(DAYS * DAY + hour * 3600 + minute * 60)
        expected = daily.tolist()
        assert fires(f"daily {clock}", zone, daily) == expected, clock
        assert fires(f"{minute} {hour} * * *", zone, daily) == expected, clock
        for number, name in enumerate(WEEKDAYS):
            expected = daily[ON_WEEKDAY[number]].tolist()
            assert fires(f"weekly {name} {clock}", zone, daily) == expected, (name, clock)
            assert fires(f"{minute} {hour} * * {number}", zone, daily) == expected, (name, clock)
        for day in range(1, 32):
            expected = daily[ON_MONTH_DAY[day]].tolist()
            assert fires(f"monthly {day} {clock}", zone, daily) == expected, (day, clock)
            assert fires(f"{minute} {hour} {day} * *", zone, daily) == expected, (day, clock)
        assert fires(f"monthly last {clock}", zone, daily) == daily[LAST_DAY].tolist(), clock
        # Each fire is on its own local day, except a time the clocks skip at the very end of
        # a day (America/Nuuk jumps from 23:00 to 00:00), which fires at 00:00 the next day.
        elsewhere = offsets.local(daily) // DAY != DAYS
        assert np.all(offsets.local(daily[elsewhere]) % DAY == 0)
    # The rest of the group has the same offsets, so the same fire times (checked on two lines).
    whole = np.array(WINDOW)
    for other in others:
        for text in ("daily 00:00", "30 2 * * *"):
            assert fires(text, other, whole) == fires(text, zone, whole), (other, text)


def test_a_zone_named_in_the_expression_gives_its_clock() -> None:
    named = parse_when("weekly sun 02:30 America/Santiago", default_timezone="UTC", anchor=NOW)
    assert isinstance(named.rule, WallSchedule)
    assert named.rule.clock is local_clock("America/Santiago")
    swapped = dataclasses.replace(_rule("weekly sun 02:30"), clock=local_clock("America/Santiago"))
    assert (swapped.days, swapped.times) == (named.rule.days, named.rule.times)


def every_wall_time(offsets: Offsets, step: int) -> list[int]:
    """Every instant in the window whose local time is a multiple of `step` seconds."""
    bounds = [WINDOW[0], *offsets.changes.tolist(), WINDOW[1]]
    found: list[int] = []
    for start, end, offset in zip(bounds, bounds[1:], offsets.values.tolist(), strict=False):
        found += range(start + (-(start + offset)) % step, end, step)
    return found


@pytest.mark.parametrize("key", list(zone_groups()), ids=lambda key: zone_groups()[key][0])
def test_wildcard_hours_run_at_every_wall_time_that_exists(key: Key) -> None:
    """cron(8) of cronie: jobs that run more often than hourly "are scheduled normally" — an
    hour-wildcard job runs at each wall time that exists, both times through a repeated hour
    and not at all in a skipped one (cron.c runs wildcard jobs for the current minute only)."""
    zone = zone_groups()[key][0]
    offsets = Offsets(np.array(key[0], dtype=np.int64), np.array(key[1], dtype=np.int64))
    for text, step in (("0 * * * *", 3600), ("*/30 * * * *", 1800)):
        rule = WallSchedule(_rule(text).days, _rule(text).times, local_clock(zone))
        assert rule.fires_between(*WINDOW) == every_wall_time(offsets, step), text


DST_ZONES = sorted(name for names in zone_groups().values() for name in names)
EXPRESSIONS = [
    "daily 00:00",
    "daily 02:30",
    "daily 23:30",
    "weekly sun 02:00",
    "weekly fri-mon 01:30",
    "monthly last 00:30",
    "0 0 1,15 * 5",
    "30 1-3 * * *",
    "0 * * * *",
    "*/30 2 * * *",
    "0 9 * * MON-FRI/2",
]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(DST_ZONES),
    text=st.sampled_from(EXPRESSIONS),
    start=st.integers(WINDOW[0] + DAY, WINDOW[1] - 100 * DAY),
)
def test_the_next_fire_is_the_first_of_the_sequence(zone: str, text: str, start: int) -> None:
    """`When.next_at` / `upcoming` (what the runner and the digest ask) agree with the bulk
    sequence checked above, from any moment, in any of the zones."""
    moment = datetime.fromtimestamp(start, UTC)
    when = parse_when(text, default_timezone=zone, anchor=moment)
    assert isinstance(when.rule, WallSchedule)
    sequence = when.rule.fires_between(start, start + 100 * DAY)[:3]
    assert [int(fire.timestamp()) for fire in when.upcoming(moment, 3)] == sequence
