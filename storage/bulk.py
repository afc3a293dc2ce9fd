"""Fast bulk inserts on SQLite: rows go to the driver as one ``executemany`` of plain tuples
(``INSERT OR IGNORE``), bypassing SQLAlchemy's per-row compilation and parameter processing,
which cost most of the time of a large batch. Values still pass through each column type's
own bind processor, so they are stored exactly as SQLAlchemy stores them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Table
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["Row", "sqlite_insert_or_ignore"]

Row = Mapping[str, Any]


async def sqlite_insert_or_ignore(
    session: AsyncSession, *, table: Table, rows: Sequence[Row]
) -> int:
    """Insert `rows` (all with the same keys) on a SQLite session, skipping those that repeat
    a unique key; return how many were new (the driver sums the inserted rows)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    names = list(rows[0])
    converters: list[tuple[str, Callable[[Any], Any]]] = []
    plain: list[str] = []
    for name in names:
        column_type = table.c[name].type
        # sqlite3 binds a Python bool as the integer 1/0, as Boolean's processor would. The
        # dialect's implementation of a type holds the whole chain (UTCDateTime → SQLite's
        # DATETIME text), as SQLAlchemy applies it.
        processor = (
            None
            if isinstance(column_type, Boolean)
            else column_type.dialect_impl(dialect).bind_processor(dialect)
        )
        if processor is None:
            plain.append(name)
        else:
            converters.append((name, processor))
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in [*plain, *(name for name, _ in converters)])
    marks = ", ".join("?" * len(names))
    statement = f"INSERT OR IGNORE INTO {quote(table.name)} ({columns}) VALUES ({marks})"
    params = _tuples(rows, plain, converters)
    connection = await session.connection()
    result = await connection.exec_driver_sql(statement, params)
    return int(result.rowcount)


def _tuples(
    rows: Sequence[Row], plain: list[str], converters: list[tuple[str, Callable[[Any], Any]]]
) -> list[tuple[Any, ...]]:
    """Rows as tuples: the plain columns, then the converted ones."""
    get: Callable[[Row], tuple[Any, ...]]
    if len(plain) == 1:
        name = plain[0]

        def get(row: Row) -> tuple[Any, ...]:
            return (row[name],)
    else:
        get = itemgetter(*plain)
    if not converters:
        return [get(row) for row in rows]
    converters = [(key, _faster(convert, rows[0][key])) for key, convert in converters]
    if len(converters) == 1:
        ((key, convert),) = converters
        return [(*get(row), convert(row[key])) for row in rows]
    return [(*get(row), *(convert(row[key]) for key, convert in converters)) for row in rows]


def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _faster(convert: Callable[[Any], Any], sample: Any) -> Callable[[Any], Any]:
    """`convert`, or a cheaper function that gives the same text for aware datetimes on
    SQLite (SQLAlchemy formats through a dict per value; this is one C call). The cheaper one
    is used only if it agrees with `convert` on this batch's first value."""
    aware = isinstance(sample, datetime) and sample.tzinfo is not None
    if aware and _sqlite_utc_text(sample) == convert(sample):
        return _sqlite_utc_text
    return convert
