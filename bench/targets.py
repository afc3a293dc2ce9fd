"""Fresh databases for the ingest benchmark: a new SQLite file or a new PostgreSQL database.

Every timed path gets a database of its own, migrated to the head revision by the project's
migrations, so no path sees another's rows or caches. On SQLite that is a file in a temporary
directory. On PostgreSQL (``--database-url postgresql+asyncpg://…``) the benchmark connects
with asyncpg to the server and database of the URL, creates ``hearth_bench_<path>_<pid>``
(the URL's role needs ``CREATEDB``), runs the path on it and drops it afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.events import Author
from storage.database import Database
from storage.faq import add_entry
from storage.identity import ensure_group, ensure_member
from storage.models import MessageLog

__all__ = [
    "BENCH_FAQ",
    "FLOOR_COLUMNS",
    "Community",
    "Target",
    "count_rows",
    "floor_insert",
    "prepare",
]

#: The FAQ of the bench community: (questions, answer). The latency probes ask these.
BENCH_FAQ: tuple[tuple[tuple[str, ...], str], ...] = (
    (("How do I reset my password?",), "Use /reset in #help, then check your mail."),
    (("When is the next meetup?",), "Every Friday at 19:00; details in #events."),
    (("How do I earn XP?", "How do points work?"), "Chat, help others and /checkin daily."),
    (("Where are the server rules?",), "Read #rules before posting."),
    (("怎么设置时区？",), "管理员可以在设置里修改时区。"),
    (("Is there a mobile app?",), "Not yet: use the web client on your phone."),
)


class Target:
    """Where each path's fresh database lives: SQLite files under `workdir`, or databases
    created on the PostgreSQL server of `database_url`."""

    def __init__(self, workdir: Path, database_url: str | None = None) -> None:
        self.workdir = workdir
        self.server_url = database_url
        if database_url is not None and make_url(database_url).get_backend_name() != "postgresql":
            raise SystemExit("--database-url must be a postgresql+asyncpg:// URL")
        self.dialect = "sqlite" if database_url is None else "postgresql"

    @asynccontextmanager
    async def fresh(self, name: str) -> AsyncIterator[str]:
        """A new, empty database for path `name`: yields its SQLAlchemy URL, drops it after."""
        if self.server_url is None:
            path = self.workdir / f"{name}.db"
            path.unlink(missing_ok=True)
            yield f"sqlite+aiosqlite:///{path}"
            return
        database = f"hearth_bench_{name}_{os.getpid()}"
        await self._admin(f'DROP DATABASE IF EXISTS "{database}"')
        await self._admin(f'CREATE DATABASE "{database}"')
        try:
            yield (
                make_url(self.server_url)
                .set(database=database)
                .render_as_string(hide_password=False)
            )
        finally:
            await self._admin(f'DROP DATABASE IF EXISTS "{database}"')

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(asyncpg_dsn(self.server_url or ""))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    async def version(self) -> str:
        """The database's version, for the report."""
        if self.server_url is None:
            return f"SQLite {sqlite3.sqlite_version}"
        connection = await asyncpg.connect(asyncpg_dsn(self.server_url))
        try:
            return f"PostgreSQL {await connection.fetchval('SHOW server_version')}"
        finally:
            await connection.close()


FLOOR_COLUMNS = (
    "community_id",
    "group_id",
    "member_id",
    "platform",
    "channel_id",
    "thread_id",
    "message_id",
    "reply_to",
    "mentions",
    "sent_at",
    "length",
    "is_command",
    "text",
)
_COLUMNS = ", ".join(FLOOR_COLUMNS)
# The statement `storage.activity.insert_ignoring_duplicates` renders, per driver.
_FLOOR_INSERT = {
    "sqlite": f"INSERT INTO messages ({_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(FLOOR_COLUMNS))}) ON CONFLICT DO NOTHING",
    "postgresql": f"INSERT INTO messages ({_COLUMNS}) VALUES "
    f"({', '.join(f'${n}' for n in range(1, len(FLOOR_COLUMNS) + 1))}) "
    "ON CONFLICT DO NOTHING",
}


async def floor_insert(url: str, rows: Sequence[tuple[Any, ...]]) -> float:
    """Write `rows` (`FLOOR_COLUMNS` tuples) into `messages` with the driver alone, in one
    transaction: `sqlite3.executemany` or asyncpg's ``executemany``. Returns the seconds."""
    if url.startswith("sqlite"):
        return _sqlite_floor(url, rows)
    return await _postgres_floor(url, rows)


def _sqlite_floor(url: str, rows: Sequence[tuple[Any, ...]]) -> float:
    connection = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        # The pragmas `storage.database` sets on every connection.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=5000")
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.executemany(_FLOOR_INSERT["sqlite"], rows)
        connection.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        connection.close()


async def _postgres_floor(url: str, rows: Sequence[tuple[Any, ...]]) -> float:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        async with connection.transaction():
            await connection.executemany(_FLOOR_INSERT["postgresql"], rows)
        return time.perf_counter() - started
    finally:
        await connection.close()


def asyncpg_dsn(url: str) -> str:
    """The asyncpg DSN of a ``postgresql+asyncpg://`` SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite+aiosqlite:///`` URL."""
    return Path(make_url(url).database or "")


async def count_rows(url: str) -> int:
    """Rows in the `messages` table of the database at `url`."""
    database = Database(url)
    try:
        async with database.session() as session:
            count = await session.scalar(select(func.count()).select_from(MessageLog))
    finally:
        await database.close()
    return int(count or 0)


class Community:
    """Ids of the bench community after `prepare`."""

    def __init__(self, community_id: int, group_id: int, members: Mapping[str, int]) -> None:
        self.community_id = community_id
        self.group_id = group_id
        self.members = dict(members)


async def prepare(
    url: str,
    *,
    platform: str,
    group_external_id: str,
    now: datetime,
    authors: Sequence[Author] = (),
    faq: bool = False,
) -> Community:
    """Migrate the database at `url` and create the group, the `authors` as members and,
    with `faq`, the entries of `BENCH_FAQ`. Not timed."""
    database = Database(url)
    try:
        await database.upgrade()
        async with database.session() as session, session.begin():
            group = await ensure_group(
                session,
                platform=platform,
                external_id=group_external_id,
                name=group_external_id,
                language="en",
                timezone="UTC",
                now=now,
            )
            members = {
                author.user_id: await ensure_member(
                    session,
                    community_id=group.community.id,
                    platform=platform,
                    user_id=author.user_id,
                    name=author.name,
                    is_bot=author.is_bot,
                    now=now,
                )
                for author in authors
            }
            for questions, answer in BENCH_FAQ if faq else ():
                await add_entry(
                    session,
                    community_id=group.community.id,
                    questions=questions,
                    answer=answer,
                    now=now,
                )
    finally:
        await database.close()
    return Community(group.community.id, group.id, members)
