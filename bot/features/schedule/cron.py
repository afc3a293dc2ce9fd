"""Cron fields as crontab(5) means them, read into a `DaySpec` and the times of a day.

The grammar is cronie's (``src/entry.c``, ``get_list``/``get_range``; crontab(5)): a field is a
list of ranges separated by commas; a range is ``*``, ``N`` or ``N-M``, optionally followed by
``/step``; months and weekdays take their three-letter names in any case; weekday 0 and 7 are
Sunday. Where Hearth reads more than cronie (docs/scheduling.md says why):

- a range whose end is below its start wraps around the field (``fri-mon`` is Friday to Monday,
  ``22-2`` in hours is 22, 23, 0, 1, 2), stepping on across the wrap; cronie 1.7 only turns an
  end of 0 into 7 (``6-0``, ``sat-sun``, ``fri-sun``) and otherwise selects nothing;
- ``N/step`` means ``N-last/step`` (APScheduler and croniter read it so; cronie refuses it);
- ``?`` is ``*``, and weekdays may be spelled in full (``monday``).

Day of month and day of week follow cronie: when both are restricted either one matching fires,
but when either field starts with ``*`` (``*/2`` too) both must match. A job whose minute or
hour field starts with ``*`` is a *wildcard* job (cronie's ``MIN_STAR``/``HR_STAR``): across
daylight saving changes it runs whenever its wall time exists, while other jobs run once a day
(see `wallclock`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CronFieldError", "DaySpec", "TimeSpec", "parse_cron", "parse_weekdays"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FULL_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_RANGE = re.compile(r"^(?P<start>\*|\?|[0-9a-z]+)(?:-(?P<end>[0-9a-z]+))?(?:/(?P<step>[0-9]+))?$")


class CronFieldError(ValueError):
    """A field that is not cron; `position` counts from 1 (minute) to 5 (day of week)."""

    def __init__(self, position: int, value: str) -> None:
        super().__init__(f"field {position}: {value!r}")
        self.position = position
        self.value = value


@dataclass(frozen=True, slots=True)
class _Field:
    low: int
    high: int
    names: tuple[str, ...] = ()
    #: Values that wrap: a cycle smaller than high-low+1 (weekdays: 0-7 holds Sunday twice).
    cycle: int = 0


_FIELDS = (
    _Field(0, 59),
    _Field(0, 23),
    _Field(1, 31),
    _Field(1, 12, _MONTHS),
    _Field(0, 7, _WEEKDAYS, cycle=7),
)


@dataclass(frozen=True, slots=True)
class DaySpec:
    """Which local dates a schedule names.

    `weekdays` count from Sunday = 0. `last_day` adds each month's last day to `days`.
    `either` is crontab's rule: True when both day fields are restricted (either matching is
    enough), False when one of them starts with ``*`` (both must match).
    """

    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    either: bool = False
    last_day: bool = False

    @property
    def every_day(self) -> bool:
        """True when every date is named (daily schedules take a fast path)."""
        all_days, all_weekdays = len(self.days) == 31, len(self.weekdays) == 7
        every = all_days or all_weekdays if self.either else all_days and all_weekdays
        return every and len(self.months) == 12

    def month_days(self, year: int, month: int) -> tuple[int, ...]:
        """The days of `month` this names, ascending; empty when the month is not named."""
        if month not in self.months:
            return ()
        first_weekday, length = calendar.monthrange(year, month)  # Monday = 0
        return _month_days(self, length, (first_weekday + 1) % 7)


@lru_cache(maxsize=8192)
def _month_days(spec: DaySpec, length: int, first_weekday: int) -> tuple[int, ...]:
    by_date = {day for day in spec.days if day <= length}
    if spec.last_day:
        by_date.add(length)
    by_weekday = {
        day for day in range(1, length + 1) if (first_weekday + day - 1) % 7 in spec.weekdays
    }
    chosen = by_date | by_weekday if spec.either else by_date & by_weekday
    return tuple(sorted(chosen))


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """The wall times of a named day, as seconds after midnight, ascending."""

    seconds: tuple[int, ...]
    #: cronie's MIN_STAR/HR_STAR: runs at every existing wall time, twice in a repeated hour.
    wildcard: bool = False


def parse_cron(fields: list[str]) -> tuple[DaySpec, TimeSpec]:
    """Five crontab fields (minute hour day-of-month month day-of-week) as what they name.

    Raises:
        CronFieldError: a field that cannot be read, with its position.
    """
    values = [
        _parse_field(text.lower(), _FIELDS[index], index + 1) for index, text in enumerate(fields)
    ]
    minutes, hours, days, months, weekdays = values
    starred = [text[:1] in ("*", "?") for text in fields]
    day_spec = DaySpec(
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(day % 7 for day in weekdays),
        either=not (starred[2] or starred[4]),
    )
    seconds = tuple(
        hour * 3600 + minute * 60 for hour in sorted(hours) for minute in sorted(minutes)
    )
    return day_spec, TimeSpec(seconds, wildcard=starred[0] or starred[1])


def _parse_field(text: str, field: _Field, position: int) -> set[int]:
    chosen: set[int] = set()
    for part in text.split(","):
        match = _RANGE.match(part)
        if match is None:
            raise CronFieldError(position, text)
        try:
            chosen.update(_expand(match, field))
        except ValueError:
            raise CronFieldError(position, text) from None
    return chosen


def _expand(match: re.Match[str], field: _Field) -> list[int]:
    start_text, end_text, step_text = match["start"], match["end"], match["step"]
    step = int(step_text) if step_text is not None else 1
    if step < 1:
        raise ValueError(step_text)
    if start_text in ("*", "?"):
        if end_text is not None:
            raise ValueError(end_text)
        return list(range(field.low, field.high + 1, step))
    start = _value(start_text, field)
    if end_text is None:
        # A lone value; with a step it runs to the field's end (N/step, as APScheduler reads it).
        return [start] if step_text is None else list(range(start, field.high + 1, step))
    end = _value(end_text, field)
    cycle = field.cycle or field.high - field.low + 1
    if field.cycle and start == field.high:  # weekday 7 is Sunday, the start of the week
        start = field.low
    if start <= end:
        return list(range(start, end + 1, step))
    # A wrapping range (fri-mon, 22-2): on around the field, stepping across the wrap.
    return [
        field.low + (position - field.low) % cycle
        for position in range(start, end + cycle + 1, step)
    ]


def _value(text: str, field: _Field) -> int:
    if text.isdigit():
        number = int(text)
        if not field.low <= number <= field.high:
            raise ValueError(text)
        return number
    if text in field.names:
        return field.low + field.names.index(text)
    if field.names is _WEEKDAYS and text in _FULL_WEEKDAYS:
        return _FULL_WEEKDAYS.index(text)
    raise ValueError(text)


def parse_weekdays(text: str) -> frozenset[int]:
    """Weekday names, lists and ranges (``mon,thu``, ``fri-mon``) as numbers, Sunday = 0.

    Raises:
        ValueError: not weekdays.
    """
    return frozenset(day % 7 for day in _parse_field(text.lower(), _FIELDS[4], 5))
