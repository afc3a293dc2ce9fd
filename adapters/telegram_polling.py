"""Long polling for the Telegram adapter: fetch, process, commit, and only then confirm.

python-telegram-bot's `Updater` confirms what it fetched as soon as it asks for more, long
before the updates are processed, and on stop works through its whole queue: with a backlog a
stop took minutes, and updates Telegram had been told were delivered died with the process.
Here Telegram's offset moves past an update only once it has been processed and its rows
committed. On stop the update in hand is finished, the rows are committed and the offset is
confirmed; the rest stays with Telegram, which delivers it again on the next start.

Polling failures are one clear line each: a token Telegram stops accepting ends polling for
good (`ConfigError`, so the runner reports the platform as stopped); another process polling
the same token (409 Conflict) is reported once, and again every few minutes while it lasts,
and polling is retried with backoff until the other process lets go.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from bot.clock import Clock
from bot.errors import ConfigError

__all__ = ["CONFLICT_REMINDER", "STOP_BUDGET", "Poller", "backoff"]

logger = logging.getLogger(__name__)

#: How long a stop may take: the update in hand, the commit and the confirmation.
STOP_BUDGET = 5.0
#: How often a conflict that goes on is mentioned again.
CONFLICT_REMINDER = timedelta(minutes=5)
#: Seconds Telegram holds a getUpdates call open while nothing arrives.
POLL_TIMEOUT = 10
CONFLICT = (
    "telegram: another process is polling this bot token (409 Conflict); only one may — "
    "stop the other or use a webhook (telegram.webhook_url); retrying until it lets go"
)
REVOKED = (
    "telegram.token: Telegram stopped accepting the token while polling (revoked or replaced "
    "in @BotFather?); put the current token in telegram.token and restart Hearth"
)


def backoff(attempt: int) -> float:
    """Seconds before polling again after failure `attempt` (0, 1, …): 1, 2, 4 … 60."""
    return float(min(60, 2 ** min(attempt, 6)))


class Poller:
    """Feeds updates from getUpdates to `application` one at a time until cancelled.

    Args:
        application: the running python-telegram-bot application (handlers, bot).
        allowed_updates: the update kinds to ask for.
        commit: writes everything processed so far; called before each confirmation.
        clock: tells when a conflict was last mentioned.
        sleep: waits between failed attempts (tests pass one that does not wait).
        delay: seconds to wait after failure `attempt`.
    """

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        allowed_updates: Sequence[str],
        commit: Callable[[], Awaitable[None]],
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        delay: Callable[[int], float] = backoff,
        stop_budget: float = STOP_BUDGET,
    ) -> None:
        self.application = application
        self.allowed_updates = list(allowed_updates)
        self.commit = commit
        self.clock = clock
        self.sleep = sleep
        self.delay = delay
        self.stop_budget = stop_budget
        #: The next update wanted: everything below it is processed (and confirmed once
        #: Telegram has been asked with it).
        self.offset: int | None = None
        self._committed: int | None = None
        self._confirmed: int | None = None
        self._conflict_said: datetime | None = None

    async def run(self) -> None:
        """Poll until cancelled; then finish within `stop_budget` seconds.

        Raises:
            ConfigError: Telegram no longer accepts the token.
        """
        stopping = asyncio.Event()
        polling = asyncio.create_task(self._poll(stopping), name="telegram-polling")
        try:
            await asyncio.shield(polling)
        except asyncio.CancelledError:
            stopping.set()  # the update in hand is finished, the rest left to Telegram
            done, _ = await asyncio.wait({polling}, timeout=self.stop_budget)
            if not done:
                logger.warning(
                    "telegram: stopping took over %.0f s; updates not confirmed yet will be "
                    "delivered again on the next start",
                    self.stop_budget,
                )
                polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            raise

    async def _poll(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            updates = await self._fetch(stopping)
            for update in updates or ():
                if stopping.is_set():
                    break
                await self.application.process_update(update)
                self.offset = update.update_id + 1
            if not await self._commit(stopping):
                return  # stopping while the database is away: confirm nothing more
        await self._confirm()

    async def _commit(self, stopping: asyncio.Event) -> bool:
        """Commit what was processed before Telegram hears it was delivered; while the
        database cannot take it, wait (nothing more is fetched). False if stopped first."""
        attempt = 0
        while self.offset != self._committed:
            offset = self.offset
            try:
                await self.commit()
            except Exception as error:
                wait = self.delay(attempt)
                attempt += 1
                logger.warning(
                    "telegram: cannot commit processed updates (%s); Telegram keeps them "
                    "unconfirmed, retrying in %.0f s",
                    error or type(error).__name__,
                    wait,
                )
                if await self._pause(wait, stopping):
                    return False
            else:
                self._committed = offset
        return True

    async def _confirm(self) -> None:
        """Tell Telegram everything below `offset` was delivered (on stop)."""
        if self.offset == self._confirmed:
            return
        try:
            await self.application.bot.get_updates(
                offset=self.offset, limit=1, timeout=0, allowed_updates=self.allowed_updates
            )
        except TelegramError as error:
            logger.warning(
                "telegram: could not confirm the last updates (%s); they will be delivered "
                "again and counted once",
                error.message,
            )

    async def _fetch(self, stopping: asyncio.Event) -> tuple[Update, ...] | None:
        """The next updates, retrying failures; None when stopping."""
        attempt = 0
        while True:
            wait: float
            request: asyncio.Future[tuple[Update, ...]] = asyncio.ensure_future(
                self.application.bot.get_updates(
                    offset=self.offset,
                    timeout=POLL_TIMEOUT,
                    allowed_updates=self.allowed_updates,
                )
            )
            if not await _first(request, stopping):
                return None
            try:
                updates = request.result()
            except InvalidToken:
                raise ConfigError(REVOKED) from None
            except TimedOut:
                continue  # a long poll that outlived the read timeout: ask again at once
            except RetryAfter as error:
                after = error.retry_after
                wait = after.total_seconds() if isinstance(after, timedelta) else float(after)
            except Conflict:
                self._say_conflict()
                wait = self.delay(attempt)
            except TelegramError as error:
                wait = self.delay(attempt)
                logger.warning(
                    "telegram: polling failed (%s); retrying in %.0f s", error.message, wait
                )
            else:
                self._confirmed = self.offset
                if self._conflict_said is not None:
                    logger.info("telegram: polling again, the other process let go of the token")
                    self._conflict_said = None
                return updates
            attempt += 1
            if await self._pause(wait, stopping):
                return None

    def _say_conflict(self) -> None:
        now = self.clock.now()
        said = self._conflict_said
        if said is None or now - said >= CONFLICT_REMINDER:
            logger.warning(CONFLICT)
            self._conflict_said = now

    async def _pause(self, seconds: float, stopping: asyncio.Event) -> bool:
        """Wait `seconds`; True if stopping came first."""
        return not await _first(asyncio.ensure_future(self.sleep(seconds)), stopping)


async def _first(work: asyncio.Future[Any], stopping: asyncio.Event) -> bool:
    """Wait for `work` or `stopping`; True if `work` finished first (else it is cancelled)."""
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        work.cancel()
        raise
    finally:
        stop.cancel()
    if work.done():
        return True
    work.cancel()
    await asyncio.gather(work, return_exceptions=True)
    return False
