"""Fire times of wall-clock schedules, computed in local time with explicit DST handling.

A schedule names local dates (`cron.DaySpec`) and wall times on them (`cron.TimeSpec`). For each
named date and time, as cronie runs crontabs (cron(8), "Daylight Saving Time and other time
changes"):

- a wall time that happens once fires then;
- a wall time the clocks pass twice (they go back) fires at its first occurrence only; a
  wildcard job (minute or hour field starting with ``*``) fires at both;
- a wall time the clocks skip (they go forward) fires at the first valid moment after it — the
  instant the clocks change — so a 00:00 or 02:30 post still happens that day; a wildcard job
  only fires at wall times that exist.

Instants are whole seconds since the epoch (ints) and the arithmetic is integer: three years of
a daily schedule cost one list comprehension per stretch of days on one UTC offset. A zone is
known only through `ZoneInfo.utcoffset`; `LocalClock` finds where the offset changes by probing
a day apart and bisecting to the second, so it assumes no zone changes its offset twice within
24 hours (none has since tzdata's 20th-century entries).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.features.schedule.cron import DaySpec, TimeSpec

__all__ = ["DAY", "LocalClock", "Segment", "Shift", "WallSchedule", "local_clock"]

DAY = 86_400
_EPOCH = date(1970, 1, 1).toordinal()
#: The Gregorian calendar repeats after 400 years: a date not named within them never is.
_HORIZON_YEARS = 400


@dataclass(frozen=True, slots=True)
class Shift:
    """A change of UTC offset at instant `at`, from `before` to `after` (seconds)."""

    at: int
    before: int
    after: int

    @property
    def walls(self) -> tuple[int, int]:
        """The local seconds the change skips (clocks forward) or repeats (back): [low, high)."""
        return self.at + min(self.before, self.after), self.at + max(self.before, self.after)

    def instants(self, wall: int) -> tuple[int | None, int | None]:
        """The instant of local time `wall` before the change and the one after (None: none)."""
        first, second = wall - self.before, wall - self.after
        return (first if first < self.at else None, second if second >= self.at else None)

    def fixed(self, wall: int) -> int:
        """When a once-a-day job at `wall` fires: its first occurrence, or if the clocks skip
        it the first valid moment after it."""
        first, second = self.instants(wall)
        return first if first is not None else second if second is not None else self.at


#: Days [first, end) on one UTC offset, or one day (day, day + 1) a shift touches.
Segment = tuple[int, int, int | Shift]


class LocalClock:
    """One IANA zone's wall clock: its UTC offsets and where they change."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.zone = ZoneInfo(name)
        self._shifts: dict[int, tuple[Shift, ...]] = {}
        self._segments: dict[tuple[int, int], tuple[Segment, ...]] = {}

    def offset(self, instant: int) -> int:
        """The UTC offset in seconds at `instant`."""
        delta = datetime.fromtimestamp(instant, self.zone).utcoffset()
        assert delta is not None  # a ZoneInfo always has one
        return int(delta.total_seconds())

    def shifts(self, year: int) -> tuple[Shift, ...]:
        """The offset changes in the UTC year `year`, in order."""
        found = self._shifts.get(year)
        if found is None:
            start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
            end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
            changes: list[Shift] = []
            probe, before = start, self.offset(start)
            while probe < end:
                following = min(probe + DAY, end)
                after = self.offset(following)
                if after != before:
                    changes.append(self._pinpoint(probe, following, before, after))
                probe, before = following, after
            found = self._shifts[year] = tuple(changes)
        return found

    def _pinpoint(self, low: int, high: int, before: int, after: int) -> Shift:
        while high - low > 1:
            middle = (low + high) // 2
            if self.offset(middle) == before:
                low = middle
            else:
                high = middle
        return Shift(high, before, after)

    def segments(self, first: int, end: int) -> tuple[Segment, ...]:
        """Local days [first, end) (days since 1970-01-01) as runs ``(first, end, offset)`` of
        days on one UTC offset and ``(day, day + 1, shift)`` for a day a shift touches."""
        found = self._segments.get((first, end))
        if found is None:
            if len(self._segments) > 64:  # bounded: each schedule asks for a few windows
                self._segments.clear()
            found = self._segments[first, end] = tuple(self._cover(first, end))
        return found

    def _cover(self, first: int, end: int) -> Iterator[Segment]:
        years = range(_year(first - 2), _year(end + 2) + 1)
        shifts = [shift for year in years for shift in self.shifts(year)]
        day = first
        offset = shifts[0].before if shifts else self.offset(first * DAY)
        for shift in shifts:
            low, high = shift.walls
            touched, untouched = low // DAY, (high - 1) // DAY + 1
            if touched >= end:
                break
            if untouched > day:
                if touched > day:
                    yield day, touched, offset
                for shifted in range(max(day, touched), min(end, untouched)):
                    yield shifted, shifted + 1, shift
                day = untouched
            offset = shift.after
        if day < end:
            yield day, end, offset

    def fixed(self, wall: int) -> int:
        """When a once-only job at local seconds `wall` fires (see `Shift.fixed`)."""
        for _first, _end, shape in self.segments(wall // DAY, wall // DAY + 1):
            return wall - shape if isinstance(shape, int) else shape.fixed(wall)
        raise AssertionError("segments cover every day")  # pragma: no cover


@lru_cache(maxsize=256)
def local_clock(name: str) -> LocalClock:
    """The (shared, cached) clock of IANA zone `name`."""
    return LocalClock(name)


def _year(day: int) -> int:
    return date.fromordinal(_EPOCH + day).year


@dataclass(frozen=True, slots=True, eq=False)
class WallSchedule:
    """Named local dates and wall times in one zone, and the instants they fire at."""

    days: DaySpec
    times: TimeSpec
    clock: LocalClock

    def first_from(self, start: int) -> int | None:
        """The first fire instant at or after `start`, or None if it never fires again."""
        low, span = start, 2 * DAY
        while low - start < (_HORIZON_YEARS + 1) * 366 * DAY:
            day = self._next_named_day(low // DAY - 1)
            if day is None:
                return None
            low = max(low, (day - 1) * DAY)  # a fire of day d comes after d's start - 14 h
            found = self.fires_between(low, low + span)
            if found:
                return found[0]
            low += span
        return None

    def fires_between(self, start: int, end: int) -> list[int]:
        """Every fire instant in [start, end), ascending."""
        seconds = self.times.seconds
        first_day, end_day = start // DAY - 1, end // DAY + 2  # local days are UTC ± 14 h
        named = self._named_days(first_day, end_day)
        fires: list[int] = []
        shifted = False
        for first, stop, shape in self.clock.segments(first_day, end_day):
            days = named[bisect_left(named, first) : bisect_left(named, stop)]
            if isinstance(shape, Shift):
                shifted = True
                for day in days:
                    fires += self._on_shift_day(day, shape)
            elif len(seconds) == 1:
                base = seconds[0] - shape
                fires += [day * DAY + base for day in days]
            else:
                fires += [day * DAY + second - shape for day in days for second in seconds]
        if shifted:  # a repeated hour interleaves; a skipped one can map two times to one
            fires = sorted(set(fires))
        return fires[bisect_left(fires, start) : bisect_left(fires, end)]

    def _on_shift_day(self, day: int, shift: Shift) -> list[int]:
        if not self.times.wildcard:
            return [shift.fixed(day * DAY + second) for second in self.times.seconds]
        fires: list[int] = []
        for second in self.times.seconds:
            fires += [t for t in shift.instants(day * DAY + second) if t is not None]
        return fires

    def _named_days(self, first: int, stop: int) -> Sequence[int]:
        """The named days in [first, stop)."""
        if self.days.every_day:
            return range(first, stop)
        named: list[int] = []
        for year in range(_year(first), _year(stop - 1) + 1):
            days = _named_in_year(self.days, year)
            named += days[bisect_left(days, first) : bisect_left(days, stop)]
        return named

    def _next_named_day(self, first: int) -> int | None:
        """The first named day at or after `first` within the calendar's cycle, or None."""
        if self.days.every_day:
            return first
        year = _year(first)
        for offset in range(_HORIZON_YEARS + 1):
            days = _named_in_year(self.days, year + offset)
            index = bisect_left(days, first)
            if index < len(days):
                return days[index]
        return None


@lru_cache(maxsize=4096)
def _named_in_year(days: DaySpec, year: int) -> tuple[int, ...]:
    """The days (since 1970-01-01) of `year` that `days` names, ascending."""
    named: list[int] = []
    for month in range(1, 13):
        start = date(year, month, 1).toordinal() - _EPOCH - 1  # so day n is start + n
        named += [start + day for day in days.month_days(year, month)]
    return tuple(named)
