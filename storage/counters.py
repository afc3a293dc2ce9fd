"""The FAQ's writes, batched: unanswered questions, answers given and the entries' counters.

The FAQ feature decides in memory (it replies at once) and queues here what it logs; the
activity writer takes the queue at each flush and writes it in the batch's transaction
(`storage.writer.ActivityWriter.attach`), so a question costs no transaction of its own.

Every row is keyed by the message that caused it (community, platform, channel, message id):
writing a row again changes nothing, and an entry's ``times_answered`` grows only by the
answers a batch actually added (``INSERT … ON CONFLICT DO NOTHING RETURNING``), so a replayed
or redelivered message is never counted twice. A row the database refuses (its member merged
away meanwhile) is logged and set aside inside a savepoint: it never blocks the batch.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import Row, dialect_insert, insert_ignoring_duplicates
from storage.models import Base, FaqAnswer, FaqEntry, FaqUnanswered
from storage.text import clean_text, needs_cleaning
from storage.writer import unreachable

__all__ = ["FaqLog"]

logger = logging.getLogger(__name__)

_ANSWERS = Base.metadata.tables[FaqAnswer.__tablename__]
_UNANSWERED = Base.metadata.tables[FaqUnanswered.__tablename__]
_ENTRIES = Base.metadata.tables[FaqEntry.__tablename__]
_KEY = ("community_id", "platform", "channel_id", "message_id")


@dataclass(slots=True)
class _Rows:
    """One flush's share: `faq_unanswered` and `faq_answers` rows."""

    unanswered: list[Row] = field(default_factory=list)
    answers: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.unanswered) + len(self.answers)


class FaqLog:
    """Queues the FAQ's rows for the activity writer's batches (a `storage.writer.BatchPart`).

    Args:
        max_pending: rows kept while the database is unreachable; past it the oldest go.
    """

    def __init__(self, *, max_pending: int = 100_000) -> None:
        self._pending = _Rows()
        self._max_pending = max_pending
        #: Rows the database refused, logged and dropped.
        self.set_aside = 0

    @property
    def pending(self) -> int:
        """Rows queued and not yet taken by a flush."""
        return len(self._pending)

    def unanswered(self, row: Row) -> None:
        """Queue a `faq_unanswered` row (a question nothing answered)."""
        self._pending.unanswered.append(_clean(row))

    def answered(self, row: Row) -> None:
        """Queue a `faq_answers` row; its entry's ``times_answered`` grows when it is written."""
        self._pending.answers.append(row)

    # --- the writer's batch part ---------------------------------------------------------

    def take(self) -> _Rows | None:
        """Hand every queued row to the flush that starts."""
        if not self._pending:
            return None
        taken, self._pending = self._pending, _Rows()
        return taken

    async def write(self, session: AsyncSession, taken: object) -> None:
        """Write `taken` in the batch's transaction; refused rows are set aside one by one.

        Raises:
            Exception: the database could not be reached (the writer keeps the rows).
        """
        assert isinstance(taken, _Rows)
        try:
            async with session.begin_nested():
                await _write(session, taken.unanswered, taken.answers)
            return
        except Exception as error:
            if unreachable(error):
                raise
            logger.warning("FAQ log batch of %d rows refused (%s); row by row", len(taken), error)
        for table, row in [("unanswered", r) for r in taken.unanswered] + [
            ("answers", r) for r in taken.answers
        ]:
            try:
                async with session.begin_nested():
                    if table == "unanswered":
                        await _write(session, [row], ())
                    else:
                        await _write(session, (), [row])
            except Exception as error:
                if unreachable(error):
                    raise
                self.set_aside += 1
                key = {k: row.get(k) for k in _KEY}
                logger.error("FAQ %s row set aside, the database refuses it: %s", table, key)

    def committed(self, taken: object) -> None:
        """Nothing to do: the rows are in the database."""

    def restore(self, taken: object) -> None:
        """The batch failed: its rows go first in the next one (bounded)."""
        assert isinstance(taken, _Rows)
        self._pending.unanswered[:0] = taken.unanswered
        self._pending.answers[:0] = taken.answers
        excess = len(self._pending) - self._max_pending
        if excess > 0:
            logger.error("FAQ log over %d rows; dropping %d oldest", self._max_pending, excess)
            for rows in (self._pending.unanswered, self._pending.answers):
                take = min(excess, len(rows))
                del rows[:take]
                excess -= take


def _clean(row: Row) -> Row:
    text = row.get("text")
    if isinstance(text, str) and needs_cleaning(text):
        return {**row, "text": clean_text(text)}
    return row


async def _write(session: AsyncSession, unanswered: Sequence[Row], answers: Sequence[Row]) -> None:
    await insert_ignoring_duplicates(session, table=_UNANSWERED, rows=unanswered)
    if not answers:
        return
    wanted = {row["entry_id"] for row in answers}
    query = select(_ENTRIES.c.id).where(_ENTRIES.c.id.in_(wanted))
    alive = set((await session.execute(query)).scalars())
    # An entry removed since it answered: the answer stays in the history without it.
    rows = [row if row["entry_id"] in alive else {**row, "entry_id": None} for row in answers]
    insert = dialect_insert(session, _ANSWERS).on_conflict_do_nothing()
    result = await session.execute(insert.returning(_ANSWERS.c.entry_id), rows)
    counts = Counter(entry for entry in result.scalars() if entry is not None)
    if counts:
        await session.execute(
            update(_ENTRIES)
            .where(_ENTRIES.c.id == bindparam("entry"))
            .values(times_answered=_ENTRIES.c.times_answered + bindparam("added")),
            [{"entry": entry, "added": count} for entry, count in sorted(counts.items())],
        )
