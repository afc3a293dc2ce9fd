"""Scheduled posts: a background loop that posts due runs; commands in `commands.py`.

The loop calls `tick()` and then sleeps until the next run is due (at most
`schedule.tick_seconds`, so changes made by another process are picked up); commands that
change schedules wake it. Tests call `tick()` directly with a manual clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime

from bot.commands import Command
from bot.config import ScheduleSettings
from bot.features.base import BaseFeature, Services
from bot.features.schedule.runner import Runner, RunReport
from bot.tasks import finish, spawn, stop_task

__all__ = ["ScheduleFeature"]

logger = logging.getLogger(__name__)
MIN_SLEEP = 1.0


class ScheduleFeature(BaseFeature):
    """Posts scheduled content exactly once; `/schedule …` commands manage it."""

    name = "schedule"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.runner = Runner(services)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def settings(self) -> ScheduleSettings:
        """The [schedule] settings."""
        return self.services.settings.schedule

    def commands(self) -> Sequence[Command]:
        """The /schedule commands (none when scheduling is turned off)."""
        if not self.settings.enabled:
            return ()
        from bot.features.schedule.commands import schedule_commands

        return schedule_commands(self)

    async def start(self) -> None:
        """Start posting due runs, unless this process is not a worker."""
        if self.settings.enabled and self.settings.worker:
            self._task = spawn("schedule", self._loop)

    async def stop(self) -> None:
        """Stop the loop; a round in flight finishes first (past `STOP_GRACE` it is cancelled
        and its run stays claimed)."""
        await stop_task(self._task)
        self._task = None

    def wake(self) -> None:
        """Check for due runs now (a schedule was added or resumed)."""
        self._wake.set()

    async def tick(self) -> list[RunReport]:
        """Post every run and retry due now; returns what happened to each."""
        return await self.runner.tick()

    async def next_due(self) -> datetime | None:
        """When the earliest run or retry is due."""
        return await self.runner.next_due()

    async def _loop(self) -> None:
        # Supervised (bot.tasks): an error is logged and the loop restarted after a short
        # backoff, so a failed check is retried in seconds, not after `tick_seconds`.
        while True:
            self._wake.clear()
            await finish(self.tick())
            delay = await finish(self._delay())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _delay(self) -> float:
        """Seconds until the next due run, between `MIN_SLEEP` and `tick_seconds`."""
        limit = self.settings.tick_seconds
        due = await self.runner.next_due()
        if due is None:
            return limit
        wait = (due - self.services.clock.now()).total_seconds()
        return max(MIN_SLEEP, min(limit, wait))
