"""Supervised background tasks: a loop that fails is logged and started again.

Every long-running task of the engine and its features (the activity writer's flush, the
schedule and digest loops, the text purger, the retry of events held during a database
outage) runs under `supervise`: an unexpected exception is logged once with its traceback,
the task waits a little (1 s, doubling up to a minute; reset after a long healthy run) and
starts again from its factory. A database that cannot be reached is a warning without a
traceback. Cancellation always goes through; a loop wraps the work of one round in
`finish`, so stopping waits (a bounded while) for that round instead of cutting a database
transaction in half.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from storage.writer import unreachable

__all__ = ["STOP_GRACE", "finish", "restart_delay", "spawn", "stop_task", "supervise"]

T = TypeVar("T")

logger = logging.getLogger(__name__)
#: A run this long (seconds) counts as healthy: the next failure waits the shortest delay.
HEALTHY_RUN = 300.0
#: How long (seconds) a stop waits for a round of work in flight before cutting it off.
STOP_GRACE = 10.0


def restart_delay(attempt: int) -> float:
    """Seconds before restart `attempt` (0, 1, …): 1, 2, 4 … 60."""
    return float(min(60, 2 ** min(attempt, 6)))


async def supervise(
    name: str,
    factory: Callable[[], Awaitable[None]],
    *,
    delay: Callable[[int], float] | None = None,
) -> None:
    """Run `factory()` until it returns, starting it again after each unexpected error.

    Args:
        name: what the task does, for the log.
        factory: makes a fresh coroutine of the task each time it is called.
        delay: seconds to wait before restart attempt N (default `restart_delay`).
    """
    attempt = 0
    while True:
        started = time.monotonic()
        try:
            await factory()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if time.monotonic() - started >= HEALTHY_RUN:
                attempt = 0
            wait = (delay or restart_delay)(attempt)
            attempt += 1
            if unreachable(error):
                logger.warning(
                    "background task %s: the database cannot be reached (%s); restarting in %.0f s",
                    name,
                    error or type(error).__name__,
                    wait,
                )
            else:
                logger.exception(
                    "background task %s failed unexpectedly; restarting in %.0f s", name, wait
                )
        await asyncio.sleep(wait)


def spawn(name: str, factory: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    """Start `factory` as a supervised task named `name`."""
    return asyncio.create_task(supervise(name, factory), name=name)


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel `task` (if any) and wait until it has finished."""
    if task is None:
        return
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def finish(work: Awaitable[T], *, grace: float = STOP_GRACE) -> T:
    """Await `work`; if the caller is cancelled meanwhile, let `work` end first (up to
    `grace` seconds, then it is cancelled too) and raise the cancellation after.

    A task cancelled inside a database session leaves its connection half reset (the
    driver's rollback is cancelled as well): wrapping each round of a loop's work keeps
    every transaction whole when Hearth stops.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        cut = False
        while not task.done():
            left = deadline - loop.time()
            if left <= 0:
                if cut:
                    break  # it ignores cancellation too: stop waiting for it
                task.cancel()
                cut, deadline = True, loop.time() + grace
                continue
            try:
                await asyncio.wait({task}, timeout=left)
            except asyncio.CancelledError:  # cancelled again: the round still ends first
                continue
        if task.done() and not task.cancelled() and task.exception() is not None:
            logger.warning("work interrupted by a stop failed: %s", task.exception())
        raise
