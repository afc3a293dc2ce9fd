"""Reading `when` expressions, and the fire times they give.

Forms, each optionally followed by an IANA time zone (the community's by default):
cron with five fields and names (``0 9 * * MON-FRI``), ``daily 09:00``, ``weekly mon 20:00``,
``monthly 1 10:00`` (or ``last``), ``every 2h`` (``m``, ``h``, ``d``) and one-off dates
(``2026-12-24 18:00``). Cron means what crontab(5) means as cronie reads it (`cron`): 0 and 7
are Sunday, steps on ranges and names (``MON-FRI/2``), and a day of month and a weekday both
restricted means either — both when one of them starts with ``*``. Chinese forms (``每天 10:00``,
``每周五 18:00``, ``工作日 09:00``, ``每月1号 10:00``…) are read by `chinese` into these and keep a
canonical Chinese spelling. Full-width digits and punctuation read as ASCII.

Hearth computes fire times itself, in local wall time (`wallclock`): a named day fires once
across daylight saving changes — 09:00 stays 09:00, a time the clocks pass twice fires once,
and a time they skip fires at the first valid moment after it (as cronie runs it). Cron jobs
whose minute or hour field starts with ``*`` run at every wall time that exists, twice in a
repeated hour. ``every`` intervals are elapsed time from creation.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.features.schedule.chinese import has_chinese, read_chinese
from bot.features.schedule.cron import (
    CronFieldError,
    DaySpec,
    TimeSpec,
    parse_cron,
    parse_weekdays,
)
from bot.features.schedule.wallclock import WallSchedule, local_clock
from bot.i18n import N_, Translator

__all__ = ["EXAMPLES", "ScheduleProblem", "When", "WhenError", "parse_when", "split_timezone"]

#: A message id: the Chinese catalogue gives the Chinese forms.
EXAMPLES = N_(
    "0 9 * * MON-FRI · daily 09:00 · weekly mon 20:00 · monthly 1 10:00 · every 2h · "
    "2026-12-24 18:00"
)
#: Values of a `ScheduleProblem` that are message ids themselves.
_TRANSLATED_VALUES = ("field", "examples")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FULL_DAYS = {day: day for day in _DAYS} | {
    "sunday": "sun",
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
}
_ZONE = re.compile(r"^(?:[A-Za-z][\w+\-]*(?:/[\w+\-]+)+|UTC|GMT)$", re.IGNORECASE | re.ASCII)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$", re.ASCII)
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
_EVERY = re.compile(r"^(\d{1,5})\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)$", re.ASCII)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_CRON_FIELDS = (
    ("minute", N_("minute"), "0-59"),
    ("hour", N_("hour"), "0-23"),
    ("day", N_("day of month"), "1-31"),
    ("month", N_("month"), "1-12, JAN-DEC"),
    ("day_of_week", N_("day of week"), "0-7, SUN-SAT"),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EVERY_DAY = DaySpec(frozenset(range(1, 32)), frozenset(range(1, 13)), frozenset(range(7)))


class ScheduleProblem(Exception):
    """Something wrong in a schedule an admin asked for; `message(tr)` words it for them.

    `template` is a message id (marked with `N_`); a `field` value is a message id too.
    """

    def __init__(self, template: str, **values: Any) -> None:
        super().__init__(template.format(**values))
        self.template = template
        self.values = values

    def message(self, tr: Translator) -> str:
        """The message in the community's language."""
        values = {
            key: tr(value) if key in _TRANSLATED_VALUES else value
            for key, value in self.values.items()
        }
        return tr(self.template).format(**values)


class WhenError(ScheduleProblem):
    """An expression Hearth cannot read; the message says what is wrong and gives an example."""


class Rule(Protocol):
    """Fire instants as whole seconds since the epoch."""

    def first_from(self, start: int) -> int | None:
        """The first fire instant at or after `start`, or None if there is none."""
        ...


@dataclass(frozen=True, slots=True)
class Interval:
    """Every `step` seconds from `start` (elapsed time, whatever the clocks do)."""

    start: int
    step: int

    def first_from(self, start: int) -> int | None:
        """The first multiple of the step from the start at or after `start`."""
        if start <= self.start:
            return self.start
        return self.start - (self.start - start) // self.step * self.step


@dataclass(frozen=True, slots=True)
class Once:
    """One instant."""

    at: int

    def first_from(self, start: int) -> int | None:
        """The instant, if it is not before `start`."""
        return self.at if self.at >= start else None


@dataclass(frozen=True, slots=True)
class When:
    """A parsed expression: when a schedule fires, in its time zone."""

    expression: str
    timezone: str
    rule: Rule
    repeats: bool

    def next_at(self, moment: datetime) -> datetime | None:
        """The first fire time at or after `moment` (aware), or None if there is none."""
        elapsed = moment - _EPOCH
        start = elapsed.days * 86_400 + elapsed.seconds + (elapsed.microseconds > 0)
        fire = self.rule.first_from(start)
        return None if fire is None else _EPOCH + timedelta(seconds=fire)

    def after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment` (fire times are whole seconds)."""
        return self.next_at(moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1))

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        """The next `count` fire times at or after `moment` (fewer if it stops firing)."""
        times: list[datetime] = []
        fire = self.next_at(moment)
        while fire is not None and len(times) < count:
            times.append(fire)
            fire = self.after(fire)
        return times


def split_timezone(text: str, default: str) -> tuple[str, str]:
    """Split a trailing IANA time zone off `text`; `default` when there is none.

    Raises:
        WhenError: the trailing word looks like a time zone but is not one.
    """
    words = text.split()
    if len(words) < 2 or not _ZONE.match(words[-1]):
        return " ".join(words), default
    name = words[-1]
    name = name.upper() if name.upper() in ("UTC", "GMT") else name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if len(words) == 5:  # cron's day of week (MON-FRI/2), which the cron reader judges
            return " ".join(words), default
        raise WhenError(
            N_(
                "unknown time zone {value}; use an IANA name such as Europe/Berlin or "
                "Asia/Shanghai, e.g. daily 09:00 Europe/Berlin"
            ),
            value=repr(name),
        ) from None
    return " ".join(words[:-1]), name


def parse_when(text: str, *, default_timezone: str, anchor: datetime) -> When:
    """Read a `when` expression (optionally ending with a time zone).

    `anchor` is when the schedule was made: ``every`` intervals count from it.

    Raises:
        WhenError: the expression or its time zone is invalid.
    """
    expression, timezone = split_timezone(
        unicodedata.normalize("NFKC", text).strip(), default_timezone
    )
    if has_chinese(expression):
        chinese = read_chinese(expression)
        if chinese is None:
            raise _unreadable(text)
        words, canonical = chinese
        when = _parse_words(words, text, timezone, anchor)
        return dataclasses.replace(when, expression=canonical)
    return _parse_words(expression.split(), text, timezone, anchor)


def _parse_words(words: list[str], text: str, timezone: str, anchor: datetime) -> When:
    if not words:
        raise _unreadable(text)
    keyword = words[0].lower()
    if keyword == "daily":
        return _daily(words, timezone)
    if keyword == "weekly":
        return _weekly(words, timezone)
    if keyword == "monthly":
        return _monthly(words, timezone)
    if keyword == "every":
        return _every(words, timezone, anchor)
    if _DATE.match(words[0]):
        return _once(words, timezone)
    if len(words) == 5 or re.match(r"^[0-9*?/,\-]+$", words[0]):
        return _cron(words, timezone)
    raise _unreadable(text)


def _unreadable(text: str) -> WhenError:
    return WhenError(
        N_(
            "cannot read {value} as a time. Use one of: {examples} — optionally followed by a "
            "time zone such as Europe/Berlin."
        ),
        value=repr(text),
        examples=EXAMPLES,
    )


def _clock(word: str, example: str) -> tuple[int, int]:
    match = _TIME.match(word)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise WhenError(
            N_("{value} is not a time of day; use 24-hour HH:MM, e.g. {example}"),
            value=repr(word),
            example=example,
        )
    return int(match.group(1)), int(match.group(2))


def _wall(expression: str, timezone: str, days: DaySpec, hour: int, minute: int) -> When:
    """A once-a-day form: `days` at hour:minute."""
    times = TimeSpec((hour * 3600 + minute * 60,))
    rule = WallSchedule(days, times, local_clock(timezone))
    return When(expression, timezone, rule, repeats=True)


def _daily(words: list[str], timezone: str) -> When:
    if len(words) != 2:
        raise WhenError(N_("daily needs a time, e.g. {example}"), example="daily 09:00")
    hour, minute = _clock(words[1], "daily 09:00")
    return _wall(f"daily {hour:02d}:{minute:02d}", timezone, _EVERY_DAY, hour, minute)


def _weekdays(word: str) -> tuple[str, frozenset[int]]:
    """The canonical spelling (``mon,thu``, ``fri-mon``) and the weekdays, Sunday = 0."""
    names: list[str] = []
    for part in word.lower().replace("、", ",").split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(end not in _FULL_DAYS for end in ends):
            raise WhenError(
                N_(
                    "{value} is not a weekday; use mon, tue, wed, thu, fri, sat or sun "
                    "(lists and ranges work: mon,thu or mon-fri), e.g. weekly mon 20:00"
                ),
                value=repr(word),
            )
        names.append("-".join(_FULL_DAYS[end] for end in ends))
    canonical = ",".join(names)
    return canonical, parse_weekdays(canonical)  # a range that wraps (fri-mon) goes round


def _weekly(words: list[str], timezone: str) -> When:
    if len(words) != 3:
        raise WhenError(
            N_("weekly needs a weekday and a time, e.g. {example}"), example="weekly mon 20:00"
        )
    canonical, weekdays = _weekdays(words[1])
    hour, minute = _clock(words[2], "weekly mon 20:00")
    days = dataclasses.replace(_EVERY_DAY, weekdays=weekdays)
    return _wall(f"weekly {canonical} {hour:02d}:{minute:02d}", timezone, days, hour, minute)


def _monthly(words: list[str], timezone: str) -> When:
    if len(words) != 3:
        raise WhenError(
            N_("monthly needs a day of the month and a time, e.g. {example}"),
            example="monthly 1 10:00",
        )
    day = words[1].lower()
    if day != "last" and not (re.fullmatch("[0-9]{1,2}", day) and 1 <= int(day) <= 31):
        raise WhenError(
            N_("{value} is not a day of the month; use 1-31 or last, e.g. monthly 1 10:00"),
            value=repr(words[1]),
        )
    day = day if day == "last" else str(int(day))
    hour, minute = _clock(words[2], "monthly 1 10:00")
    named = frozenset() if day == "last" else frozenset({int(day)})
    days = dataclasses.replace(_EVERY_DAY, days=named, last_day=day == "last")
    return _wall(f"monthly {day} {hour:02d}:{minute:02d}", timezone, days, hour, minute)


def _every(words: list[str], timezone: str, anchor: datetime) -> When:
    match = _EVERY.match(" ".join(words[1:]).lower())
    amount = int(match.group(1)) if match else 0
    if match is None or amount < 1:
        raise WhenError(
            N_(
                "{value} is not an interval; use a whole number with m, h or d "
                "(minutes, hours, days), e.g. every 2h"
            ),
            value=repr(" ".join(words[1:])),
        )
    unit = match.group(2)[0]
    step = int(timedelta(**{_UNITS[unit]: amount}).total_seconds())
    created = anchor.astimezone(UTC).replace(second=0, microsecond=0)
    start = int((created - _EPOCH).total_seconds()) + step
    return When(f"every {amount}{unit}", timezone, Interval(start, step), repeats=True)


def _once(words: list[str], timezone: str) -> When:
    example = "2026-12-24 18:00"
    date = _DATE.match(words[0])
    if len(words) != 2 or date is None:
        raise WhenError(
            N_("a date needs a time too: YYYY-MM-DD HH:MM, e.g. {example}"), example=example
        )
    hour, minute = _clock(words[1], example)
    try:
        year, month, day = (int(part) for part in date.groups())
        local = datetime(year, month, day, hour, minute)
    except ValueError:
        raise WhenError(
            N_("{value} is not a date; use YYYY-MM-DD HH:MM, e.g. {example}"),
            value=repr(words[0]),
            example=example,
        ) from None
    wall = int((local.replace(tzinfo=UTC) - _EPOCH).total_seconds())
    # A time the clocks skip fires at the first valid moment after it; a repeated one at its
    # first occurrence — as the daily forms do.
    at = local_clock(timezone).fixed(wall)
    return When(f"{local:%Y-%m-%d %H:%M}", timezone, Once(at), repeats=False)


def _cron(words: list[str], timezone: str) -> When:
    example = "0 9 * * MON-FRI"
    if len(words) != 5:
        raise WhenError(
            N_(
                "cron needs 5 fields (minute hour day-of-month month day-of-week), got "
                "{count}; e.g. {example}"
            ),
            count=len(words),
            example=example,
        )
    try:
        days, times = parse_cron(words)
    except CronFieldError as wrong:
        _name, label, allowed = _CRON_FIELDS[wrong.position - 1]
        raise WhenError(
            N_(
                "cron field {number} ({field}) cannot be {value}: use {allowed}, *, lists "
                "(1,15), ranges (1-5) or steps (*/15); e.g. {example}"
            ),
            number=wrong.position,
            field=label,
            value=repr(words[wrong.position - 1]),
            allowed=allowed,
            example=example,
        ) from None
    rule = WallSchedule(days, times, local_clock(timezone))
    return When(" ".join(words), timezone, rule, repeats=True)
