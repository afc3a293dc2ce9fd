"""Reading `when` expressions into APScheduler triggers, and the fire times they give.

Forms, each optionally followed by an IANA time zone (the community's by default):
cron with five fields and names (``0 9 * * MON-FRI``), ``daily 09:00``, ``weekly mon 20:00``,
``monthly 1 10:00`` (or ``last``), ``every 2h`` (``m``, ``h``, ``d``) and one-off dates
(``2026-12-24 18:00``). Cron weekdays follow crontab (0 and 7 are Sunday), and as in crontab
a day of month and a weekday both given means either. Chinese forms (``每天 10:00``,
``每周五 18:00``, ``工作日 09:00``, ``每月1号 10:00``…) are read by `chinese` into these and
keep a canonical Chinese spelling. Full-width digits and punctuation read as ASCII.

APScheduler only computes times here; Hearth stores schedules and claims runs itself.
Wall-clock schedules follow local time across daylight saving changes: 09:00 stays 09:00, and
a time that happens twice when the clocks go back fires once.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.features.schedule.chinese import has_chinese, read_chinese
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
_FULL_DAYS = {day: day[:3] for day in _DAYS} | {
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
_SKIP_LIMIT = 10_000


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


@dataclass(frozen=True, slots=True)
class When:
    """A parsed expression: when a schedule fires, in its time zone."""

    expression: str
    timezone: str
    trigger: BaseTrigger
    repeats: bool
    wall_clock: bool

    def next_at(self, moment: datetime) -> datetime | None:
        """The first fire time at or after `moment` (aware UTC), or None if there is none."""
        probe = moment
        for _ in range(_SKIP_LIMIT):
            fire: datetime | None = self.trigger.get_next_fire_time(None, probe)
            if fire is None or fire < probe:
                return None
            if not (self.wall_clock and _second_occurrence(fire, ZoneInfo(self.timezone))):
                return fire.astimezone(UTC)
            # In UTC: adding to a local time would lose which of the two it was.
            probe = fire.astimezone(UTC) + timedelta(seconds=1)
        return None  # pragma: no cover - a trigger that only fires on repeated wall times

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


def _second_occurrence(fire: datetime, zone: ZoneInfo) -> bool:
    """True for the second of a local time that happens twice (clocks going back)."""
    local = fire.astimezone(UTC).astimezone(zone)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


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
    zone = ZoneInfo(timezone)
    if has_chinese(expression):
        chinese = read_chinese(expression)
        if chinese is None:
            raise _unreadable(text)
        words, canonical = chinese
        when = _parse_words(words, text, timezone, zone, anchor)
        return dataclasses.replace(when, expression=canonical)
    return _parse_words(expression.split(), text, timezone, zone, anchor)


def _parse_words(
    words: list[str], text: str, timezone: str, zone: ZoneInfo, anchor: datetime
) -> When:
    if not words:
        raise _unreadable(text)
    keyword = words[0].lower()
    if keyword == "daily":
        return _daily(words, timezone, zone)
    if keyword == "weekly":
        return _weekly(words, timezone, zone)
    if keyword == "monthly":
        return _monthly(words, timezone, zone)
    if keyword == "every":
        return _every(words, timezone, zone, anchor)
    if _DATE.match(words[0]):
        return _once(words, timezone, zone)
    if len(words) == 5 or re.match(r"^[0-9*?/,\-]+$", words[0]):
        return _cron(words, timezone, zone)
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


def _wall(expression: str, timezone: str, zone: ZoneInfo, **fields: str) -> When:
    trigger = CronTrigger(**fields, timezone=zone)
    return When(expression, timezone, trigger, repeats=True, wall_clock=True)


def _daily(words: list[str], timezone: str, zone: ZoneInfo) -> When:
    if len(words) != 2:
        raise WhenError(N_("daily needs a time, e.g. {example}"), example="daily 09:00")
    hour, minute = _clock(words[1], "daily 09:00")
    expression = f"daily {hour:02d}:{minute:02d}"
    return _wall(expression, timezone, zone, hour=str(hour), minute=str(minute))


def _weekdays(word: str) -> str:
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
    return ",".join(names)


def _weekly(words: list[str], timezone: str, zone: ZoneInfo) -> When:
    if len(words) != 3:
        raise WhenError(
            N_("weekly needs a weekday and a time, e.g. {example}"), example="weekly mon 20:00"
        )
    days = _weekdays(words[1])
    hour, minute = _clock(words[2], "weekly mon 20:00")
    expression = f"weekly {days} {hour:02d}:{minute:02d}"
    try:
        return _wall(
            expression, timezone, zone, day_of_week=days, hour=str(hour), minute=str(minute)
        )
    except ValueError:  # a backwards range such as fri-mon
        raise WhenError(
            N_(
                "{value} is not a weekday; use mon, tue, wed, thu, fri, sat or sun "
                "(lists and ranges work: mon,thu or mon-fri), e.g. weekly mon 20:00"
            ),
            value=repr(words[1]),
        ) from None


def _monthly(words: list[str], timezone: str, zone: ZoneInfo) -> When:
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
    expression = f"monthly {day} {hour:02d}:{minute:02d}"
    return _wall(expression, timezone, zone, day=day, hour=str(hour), minute=str(minute))


def _every(words: list[str], timezone: str, zone: ZoneInfo, anchor: datetime) -> When:
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
    step = timedelta(**{_UNITS[unit]: amount})
    start = anchor.astimezone(UTC).replace(second=0, microsecond=0) + step
    trigger = IntervalTrigger(**{_UNITS[unit]: amount}, start_date=start, timezone=zone)
    return When(f"every {amount}{unit}", timezone, trigger, repeats=True, wall_clock=False)


def _once(words: list[str], timezone: str, zone: ZoneInfo) -> When:
    example = "2026-12-24 18:00"
    date = _DATE.match(words[0])
    if len(words) != 2 or date is None:
        raise WhenError(
            N_("a date needs a time too: YYYY-MM-DD HH:MM, e.g. {example}"), example=example
        )
    hour, minute = _clock(words[1], example)
    try:
        year, month, day = (int(part) for part in date.groups())
        local = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError:
        raise WhenError(
            N_("{value} is not a date; use YYYY-MM-DD HH:MM, e.g. {example}"),
            value=repr(words[0]),
            example=example,
        ) from None
    expression = f"{local:%Y-%m-%d %H:%M}"
    trigger = DateTrigger(run_date=local, timezone=zone)
    return When(expression, timezone, trigger, repeats=False, wall_clock=False)


def _day_number(token: str) -> int:
    if re.fullmatch("[0-7]", token):
        return int(token)
    if token[:3] in _DAYS and _FULL_DAYS.get(token) == token[:3]:
        return _DAYS.index(token[:3])
    raise ValueError(token)


def _crontab_weekdays(field: str) -> str:
    """Crontab weekdays (0 and 7 Sunday) as names, which APScheduler reads the same way."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        body, slash, step_text = part.partition("/")
        step = int(step_text) if re.fullmatch("[0-9]{1,2}", step_text) else 0
        if slash and step < 1:
            raise ValueError(part)
        if body == "*":
            low, high = 0, 6
        elif "-" in body:
            first, _, last = body.partition("-")
            low, high = _day_number(first), _day_number(last)
        else:
            low = _day_number(body)
            high = 6 if slash else low
        if low > high:
            raise ValueError(part)
        days.update(day % 7 for day in range(low, high + 1, step or 1))
    return ",".join(_DAYS[day] for day in sorted(days))


def _cron(words: list[str], timezone: str, zone: ZoneInfo) -> When:
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
    values: dict[str, str] = {}
    for position, ((name, label, allowed), word) in enumerate(
        zip(_CRON_FIELDS, words, strict=True), 1
    ):
        try:
            value = _crontab_weekdays(word) if name == "day_of_week" else word.replace("?", "*")
            CronTrigger(**{name: value}, timezone=zone)
        except ValueError:
            raise WhenError(
                N_(
                    "cron field {number} ({field}) cannot be {value}: use {allowed}, *, lists "
                    "(1,15), ranges (1-5) or steps (*/15); e.g. {example}"
                ),
                number=position,
                field=label,
                value=repr(word),
                allowed=allowed,
                example=example,
            ) from None
        values[name] = value
    expression = " ".join(words)
    trigger: BaseTrigger = CronTrigger(**values, timezone=zone)
    if values["day"] != "*" and values["day_of_week"] != "*":
        # crontab: with both day fields restricted, either one matching fires.
        by_day = CronTrigger(**{**values, "day_of_week": "*"}, timezone=zone)
        by_weekday = CronTrigger(**{**values, "day": "*"}, timezone=zone)
        trigger = OrTrigger([by_day, by_weekday])
    return When(expression, timezone, trigger, repeats=True, wall_clock=True)
