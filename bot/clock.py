"""Injected time, so tests control what "now" is instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "ShiftedClock", "SystemClock"]


class Clock(Protocol):
    """Source of the current time."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (for tests and benchmarks)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the clock's current time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (timezone-aware)."""
        if moment.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware time")
        self._now = moment.astimezone(UTC)


class ShiftedClock:
    """The wall clock moved by an offset the console sets (``~ +1d``): time still flows."""

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta()

    def now(self) -> datetime:
        """Return the wall clock's time plus the offset."""
        return self._base.now() + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move forward by `delta`."""
        self._offset += delta

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (timezone-aware); time flows on from there."""
        if moment.tzinfo is None:
            raise ValueError("ShiftedClock.set needs a timezone-aware time")
        self._offset = moment.astimezone(UTC) - self._base.now()
