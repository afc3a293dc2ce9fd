"""Group commit for the activity log: rows are queued in memory and written in batches.

A batch is written when it reaches `batch_size` rows or every `flush_interval` seconds,
whichever comes first, and on stop. A crash loses at most the rows of one interval. A failed
write keeps its rows queued and is retried on the next flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import Table
from sqlalchemy.exc import SQLAlchemyError

from storage.activity import Row, insert_ignoring_duplicates, record_active_days
from storage.database import Database
from storage.models import Base, MemberEvent, MessageLog, ReactionLog

__all__ = ["ActivityWriter"]

logger = logging.getLogger(__name__)

_TABLES: tuple[Table, ...] = tuple(
    Base.metadata.tables[model.__tablename__] for model in (MessageLog, MemberEvent, ReactionLog)
)


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

    @property
    def pending(self) -> int:
        """Rows queued and not yet written."""
        return self._pending

    async def add(self, table: str, row: Row) -> None:
        """Queue one row for `table` (messages, member_events, reactions); flush if full."""
        self._queues[table].append(row)
        self._pending += 1
        if self._pending >= self.batch_size and not self._lock.locked():
            await self.flush()

    async def flush(self) -> None:
        """Write everything queued now, in one transaction."""
        async with self._lock:
            if not self._pending:
                return
            batch = {name: rows for name, rows in self._queues.items() if rows}
            self._queues = {table.name: [] for table in _TABLES}
            count, self._pending = self._pending, 0
            try:
                await self._write(batch)
            except (SQLAlchemyError, OSError):
                logger.exception("activity batch of %d rows failed; will retry", count)
                self._requeue(batch, count)
                raise
            self.written += count

    async def _write(self, batch: Mapping[str, Sequence[Row]]) -> None:
        async with self._database.session() as session, session.begin():
            for table in _TABLES:
                rows = batch.get(table.name)
                if rows:
                    await insert_ignoring_duplicates(session, table=table, rows=rows)
            await record_active_days(
                session, messages=batch.get("messages", ()), reactions=batch.get("reactions", ())
            )

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
        """Flush every `flush_interval` seconds until cancelled; the owner flushes on stop."""
        while True:
            await asyncio.sleep(self.flush_interval)
            # A failure is already logged and its rows stay queued for the next round.
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.flush()
