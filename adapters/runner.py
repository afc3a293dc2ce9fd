"""Runs the engine and its adapters in one event loop until input ends or a signal arrives."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from adapters.base import Adapter
from bot.engine import Engine

__all__ = ["serve"]

logger = logging.getLogger(__name__)


async def _guarded(adapter: Adapter, engine: Engine) -> bool:
    """Run one adapter; a crash is logged and does not stop the others. True if it finished."""
    try:
        await adapter.run(engine)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("adapter %s stopped with an error; the others keep running", adapter.name)
        return False
    return True


async def serve(engine: Engine, adapters: Sequence[Adapter]) -> int:
    """Start the engine, run `adapters` side by side, stop cleanly. Returns an exit status.

    Hearth stops when an adapter finishes its input (the console at end of stdin), when every
    adapter has failed, or on SIGINT/SIGTERM. Stopping always flushes storage.
    """
    await engine.start()
    for adapter in adapters:
        engine.attach(adapter.name, adapter.perform)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread
            pass
    status = 0
    try:
        tasks = {asyncio.create_task(_guarded(a, engine), name=a.name) for a in adapters}
        stopper = asyncio.create_task(stop.wait(), name="signals")
        pending: set[asyncio.Task[bool]] = set(tasks)
        while pending:
            done, _ = await asyncio.wait(pending | {stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                break
            finished = [task for task in done if task in pending]
            pending -= set(finished)
            if any(task.result() for task in finished):
                break
        else:
            status = 1  # every adapter failed
        for task in (*pending, stopper):
            task.cancel()
        await asyncio.gather(*pending, stopper, return_exceptions=True)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError):  # pragma: no cover
                pass
        await engine.stop()
    return status
