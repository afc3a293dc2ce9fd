"""Group commit for the activity log: rows are queued in memory and written in batches.

A batch is written when it reaches `batch_size` rows or every `flush_interval` seconds,
whichever comes first, and on stop. A crash loses at most the rows of one interval.

Failures never stop the writer. When the database is unreachable, the batch stays queued
(bounded) and is retried on the next flush. When the database refuses a row, the batch is
split until the refused rows are isolated: those are logged and set aside, the rest is
written. Text is cleaned of what no database stores (NUL, lone surrogates) as it is queued.

Features hand what they derive from events (XP totals, ledger rows, …) to the same batch as
`BatchPart`s: each batch takes every part's pending writes and commits them in the activity
rows' transaction, so one unit of work per batch holds the events and all that follows from
them, and no feature opens a transaction per message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import Row, insert_ignoring_duplicates, record_active_days
from storage.database import Database
from storage.models import Base, MemberEvent, MessageLog, ReactionLog
from storage.text import clean_text, needs_cleaning

__all__ = ["ActivityWriter", "BatchPart"]

logger = logging.getLogger(__name__)

_TABLES: tuple[Table, ...] = tuple(
    Base.metadata.tables[model.__tablename__] for model in (MessageLog, MemberEvent, ReactionLog)
)
_Item = tuple[str, Row]


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached (worth retrying as it is),
    rather than that it refused the data."""
    if isinstance(error, OSError | TimeoutError | OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _clean(row: Row) -> Row:
    if not any(isinstance(v, str) and needs_cleaning(v) for v in row.values()):
        return row
    return {k: clean_text(v) if isinstance(v, str) else v for k, v in row.items()}


class BatchPart(Protocol):
    """Writes a feature hands to the batch: taken at the start of a flush, written in its
    transaction, then confirmed (committed) or given back (restored) for the next flush."""

    def take(self) -> object | None:
        """Take every pending write (None: nothing pending); later writes start anew."""
        ...

    async def write(self, session: AsyncSession, taken: object) -> None:
        """Write what `take` returned, in the batch's transaction (never commit)."""
        ...

    def committed(self, taken: object) -> None:
        """The transaction holding `taken` committed."""
        ...

    def restore(self, taken: object) -> None:
        """The transaction failed: keep `taken` pending, before what came since."""
        ...


def _retrieved(task: asyncio.Future[None]) -> None:
    """Mark a shielded flush's error as seen: its caller may have gone (it is logged)."""
    if not task.cancelled():
        task.exception()


def _grouped(items: Sequence[_Item]) -> dict[str, list[Row]]:
    batch: dict[str, list[Row]] = {}
    for table, row in items:
        batch.setdefault(table, []).append(row)
    return batch


class ActivityWriter:
    """Batches activity rows and writes each batch in one transaction."""

    def __init__(
        self,
        database: Database,
        *,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_pending: int | None = None,
    ) -> None:
        self._database = database
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._max_pending = max_pending or batch_size * 200
        self._queues: dict[str, list[Row]] = {table.name: [] for table in _TABLES}
        self._lock = asyncio.Lock()
        self._pending = 0
        self.written = 0
        #: Rows the database refused, logged and dropped (the rest of their batch is written).
        self.set_aside = 0
        self._parts: list[BatchPart] = []
        self._background: asyncio.Future[None] | None = None

    def attach(self, part: BatchPart) -> None:
        """Write `part`'s pending writes with every batch from now on."""
        self._parts.append(part)

    @property
    def pending(self) -> int:
        """Rows queued and not yet written."""
        return self._pending

    async def add(self, table: str, row: Row) -> None:
        """Queue one row for `table` (messages, member_events, reactions). A full batch is
        written in the background while events go on; only when a whole further batch has
        piled up behind a write under way does the caller wait for it (backpressure)."""
        self._queues[table].append(_clean(row))
        self._pending += 1
        if self._pending < self.batch_size:
            return
        if not self._lock.locked() and (self._background is None or self._background.done()):
            self._background = asyncio.ensure_future(self.flush())
            self._background.add_done_callback(_retrieved)
        elif self._pending >= 2 * self.batch_size:
            await self.flush()

    async def settle(self) -> None:
        """Wait for the background write of a full batch, if one is under way."""
        if self._background is not None:
            await asyncio.gather(asyncio.shield(self._background), return_exceptions=True)

    async def flush(self) -> None:
        """Write everything queued now, and every part's pending writes, in one transaction.

        A flush that has begun runs to its end even if the caller is cancelled (a stop
        during a write): cut off halfway, its batch would be neither written nor kept.

        Raises:
            Exception: the database could not be reached; everything stays queued.
        """
        flushing = asyncio.ensure_future(self._flush())
        flushing.add_done_callback(_retrieved)
        await asyncio.shield(flushing)

    async def _flush(self) -> None:
        async with self._lock:
            taken = [(part, part.take()) for part in self._parts]
            derived = [(part, t) for part, t in taken if t is not None]
            if not self._pending and not derived:
                return
            batch = {name: rows for name, rows in self._queues.items() if rows}
            self._queues = {table.name: [] for table in _TABLES}
            count, self._pending = self._pending, 0
            try:
                try:
                    await self._write(batch, derived)
                    written = count
                except Exception as error:
                    if unreachable(error):
                        raise
                    logger.warning(
                        "activity batch of %d rows refused (%s); isolating the bad rows",
                        count,
                        error,
                    )
                    items = [(name, row) for name, rows in batch.items() for row in rows]
                    written = await self._isolate(items)
                    await self._write({}, derived)
            except Exception as error:
                logger.error(
                    "activity batch of %d rows not written (%s); kept for the next try",
                    count,
                    error,
                )
                self._requeue(batch, count)
                for part, t in derived:
                    part.restore(t)
                raise
            for part, t in derived:
                part.committed(t)
            self.written += written

    async def _isolate(self, items: Sequence[_Item]) -> int:
        """Write `items` in halves until each refused row is alone and refused again; set
        those aside. Returns the rows written. Inserts ignore duplicates, so a retry repeats
        nothing."""
        if len(items) > 1:
            middle = len(items) // 2
            halves = (items[:middle], items[middle:])
            return sum([await self._write_or_isolate(half) for half in halves])
        try:
            await self._write(_grouped(items))
            return 1
        except Exception as error:
            if unreachable(error):
                raise
            table, row = items[0]
            self.set_aside += 1
            key = {k: row.get(k) for k in ("community_id", "channel_id", "message_id")}
            logger.error("activity row set aside, the database refuses it: %s %s", table, key)
            return 0

    async def _write_or_isolate(self, items: Sequence[_Item]) -> int:
        if len(items) == 1:
            return await self._isolate(items)
        try:
            await self._write(_grouped(items))
        except Exception as error:
            if unreachable(error):
                raise
            return await self._isolate(items)
        return len(items)

    async def _write(
        self,
        batch: Mapping[str, Sequence[Row]],
        derived: Sequence[tuple[BatchPart, object]] = (),
    ) -> None:
        async with self._database.session() as session, session.begin():
            for table in _TABLES:
                rows = batch.get(table.name)
                if rows:
                    await insert_ignoring_duplicates(session, table=table, rows=rows)
            await record_active_days(
                session, messages=batch.get("messages", ()), reactions=batch.get("reactions", ())
            )
            for part, taken in derived:
                await part.write(session, taken)

    def _requeue(self, batch: Mapping[str, Sequence[Row]], count: int) -> None:
        for name, rows in batch.items():
            self._queues[name][:0] = rows
        self._pending += count
        if self._pending > self._max_pending:
            dropped = self._pending - self._max_pending
            logger.error(
                "activity queue over %d rows; dropping %d oldest", self._max_pending, dropped
            )
            for queue in self._queues.values():
                take = min(dropped, len(queue))
                del queue[:take]
                dropped -= take
            self._pending = sum(len(queue) for queue in self._queues.values())

    async def run(self) -> None:
        """Flush every `flush_interval` seconds until cancelled; the owner flushes on stop.
        No error ends the loop: each is logged and the next round tries again."""
        while True:
            await asyncio.sleep(self.flush_interval)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                # flush() logged it and kept the rows; anything else is a bug worth a trace.
                logger.debug("periodic flush failed", exc_info=True)
