"""Runs the engine and its adapters in one event loop until input ends or a signal arrives."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from collections.abc import Awaitable, Callable, Sequence

from adapters.base import Adapter
from bot.engine import Engine
from bot.errors import ConfigError

__all__ = ["serve"]

logger = logging.getLogger(__name__)


def backoff(attempt: int) -> float:
    """Seconds before reconnect attempt `attempt` (1, 2, 4 … 300, with up to 50% jitter)."""
    return float(min(300, 2 ** min(attempt, 9))) * (1 + random.random() / 2)


async def _guarded(
    adapter: Adapter,
    engine: Engine,
    delay: Callable[[int], float] = backoff,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> bool:
    """Run one adapter, reconnecting after transport failures with backoff; a configuration
    error (such as a rejected token) or a bug stops only this adapter. True if it finished."""
    attempt = 0
    while True:
        try:
            await adapter.run(engine)
            return True
        except asyncio.CancelledError:
            raise
        except ConfigError as error:
            logger.error(
                "%s: %s; this platform stays off, the others keep running", adapter.name, error
            )
            return False
        except (OSError, TimeoutError) as error:
            wait = delay(attempt)
            attempt += 1
            logger.warning(
                "%s: cannot connect (%s); retrying in %.0f s",
                adapter.name,
                error or type(error).__name__,
                wait,
            )
            await sleep(wait)
        except Exception:
            logger.exception(
                "adapter %s stopped with an error; the others keep running", adapter.name
            )
            return False


async def serve(
    engine: Engine,
    adapters: Sequence[Adapter],
    *,
    delay: Callable[[int], float] = backoff,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    """Start the engine, run `adapters` side by side, stop cleanly. Returns an exit status.

    Hearth stops when an adapter finishes its input (the console at end of stdin: status 0),
    on SIGINT/SIGTERM (0), or when every adapter has stopped for good (1) — a rejected or
    revoked token, at start or later. One that stops while others run is one ERROR line and
    the others go on; the console ending its input then still ends Hearth with 0. Stopping
    always flushes storage; each adapter bounds its own stop (Telegram finishes the update
    in hand and leaves the rest unconfirmed).
    A platform that cannot be reached is retried after `delay(attempt)` seconds (waited with
    `sleep`: tests pass their own), one warning line per failed attempt.
    """
    await engine.start()
    for adapter in adapters:
        engine.attach(adapter.name, adapter.perform, adapter.member_role)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread
            pass
    status = 0
    tasks = {asyncio.create_task(_guarded(a, engine, delay, sleep), name=a.name) for a in adapters}
    stopper = asyncio.create_task(stop.wait(), name="signals")
    pending: set[asyncio.Task[bool]] = set(tasks)
    try:
        while pending:
            done, _ = await asyncio.wait(pending | {stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                break
            finished = [task for task in done if task in pending]
            pending -= set(finished)
            if any(task.result() for task in finished):
                break
        else:
            status = 1
            logger.error("no platform left to serve (see the error above); Hearth stops")
    finally:
        # Also when serve() itself is cancelled: no adapter may outlive the engine.
        for task in (*pending, stopper):
            task.cancel()
        await asyncio.gather(*pending, stopper, return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError):  # pragma: no cover
                pass
        await engine.stop()
    return status
