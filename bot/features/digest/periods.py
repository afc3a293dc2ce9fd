"""Report periods in a community's time zone: a local day, week (Monday to Sunday) or month,
as UTC instants for the database, with the period before it for comparison.

Local midnights are computed with `zoneinfo`, so a day is 23 or 25 hours long when the clocks
change, and every query sees exactly the local day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["KINDS", "Kind", "Period", "local_midnight", "period_before", "period_containing"]

Kind = Literal["day", "week", "month"]
KINDS: tuple[Kind, ...] = ("day", "week", "month")


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which local `day` begins in `zone`."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """Local days `first`..`last` (inclusive) of one community's time zone."""

    kind: Kind
    first: date
    last: date
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the days are local to."""
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> datetime:
        """The UTC instant the period begins."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The UTC instant the period ends (exclusive)."""
        return local_midnight(self.last + timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        """How many local days the period has."""
        return (self.last - self.first).days + 1

    def bounds(self, before: int = 0, after: int = 0) -> list[datetime]:
        """UTC midnights from `before` days before the first day to `after` days after the end.

        The result has ``before + days + after + 1`` instants; day ``i`` of that span is
        ``[bounds[i], bounds[i + 1])``.
        """
        origin = self.first - timedelta(days=before)
        count = before + self.days + after + 1
        return [local_midnight(origin + timedelta(days=i), self.zone) for i in range(count)]

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return period_containing(self.kind, self.first - timedelta(days=1), self.timezone)

    def label(self) -> str:
        """``2026-01-05`` for a day, ``2026-01-05 – 2026-01-11`` otherwise."""
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def period_containing(kind: Kind, day: date, timezone: str) -> Period:
    """The day, week (Monday first) or month that contains local `day`."""
    if kind == "day":
        return Period(kind, day, day, timezone)
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        return Period(kind, first, first + timedelta(days=6), timezone)
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(kind, first, following - timedelta(days=1), timezone)


def period_before(kind: Kind, moment: datetime, timezone: str) -> Period:
    """The last complete period at `moment`: yesterday, last week or last month (local)."""
    today = moment.astimezone(ZoneInfo(timezone)).date()
    return period_containing(kind, today, timezone).previous()
