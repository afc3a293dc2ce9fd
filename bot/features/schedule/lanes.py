"""Due scheduled work, one lane per community: lanes run side by side (a bounded number at
once), the work inside one lane in order.

One process posts for every community it serves; a community whose platform is slow (or
whose post is large) must not hold back the others. Order inside a community is kept: its
retries before its runs, and its promotions counted one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

__all__ = ["run_in_lanes"]

T = TypeVar("T")
Job = Callable[[], Awaitable[list[T]]]


async def run_in_lanes(jobs: Iterable[tuple[int, Job[T]]], *, parallel: int) -> list[T]:
    """Run `(community id, job)` pairs: one lane per community, at most `parallel` lanes at
    once, each lane's jobs in the order given. The results in lane order, then job order.

    A job's own errors are its business (wrap it); cancelling the caller cancels every lane.
    """
    lanes: dict[int, list[Job[T]]] = {}
    for community_id, job in jobs:
        lanes.setdefault(community_id, []).append(job)
    gate = asyncio.Semaphore(max(1, parallel))

    async def lane(work: list[Job[T]]) -> list[T]:
        results: list[T] = []
        async with gate:
            for job in work:
                results += await job()
        return results

    if len(lanes) == 1:  # the common case: no tasks needed
        return await lane(next(iter(lanes.values())))
    done = await asyncio.gather(*(lane(work) for work in lanes.values()))
    return [result for results in done for result in results]
