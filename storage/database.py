"""The async database: engine, session factory, SQLite pragmas and schema migrations."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

__all__ = ["Database", "DatabaseError", "alembic_config", "head_revision"]

logger = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: The advisory lock a PostgreSQL migration holds (any constant both processes agree on).
_MIGRATING = 0x4865617274680001  # "Hearth", 1

_PASSWORD_PARAM = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


class DatabaseError(Exception):
    """The database cannot be reached or used; the message says which and why."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the batched writer; NORMAL is durable at checkpoints.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped in this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of Hearth."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found")
    return head


class Database:
    """One database: `sqlite+aiosqlite://…` (default) or `postgresql+asyncpg://…`."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            # Not a URL SQLAlchemy can read, so its password cannot be found: show none of it.
            raise DatabaseError(f"database.url: cannot parse it: {error}") from None
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, pool_pre_ping=True)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

    def session(self) -> AsyncSession:
        """Open a new session; the caller owns the transaction (`async with db.session() as s`)."""
        return self.sessions()

    async def upgrade(self, revision: str = "head") -> None:
        """Apply pending migrations up to `revision`.

        Raises:
            DatabaseError: the database is unreachable or a migration failed.
        """

        def run(connection: Connection) -> None:
            if connection.dialect.name == "postgresql":
                # Processes starting together take turns: the next one finds the schema done.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATING})
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(run)
        except (SQLAlchemyError, OSError) as error:
            raise DatabaseError(f"cannot upgrade {self.safe_url}: {_reason(error)}") from error

    async def current_revision(self) -> str | None:
        """Return the schema revision the database is at (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        def read(connection: Connection) -> str | None:
            return MigrationContext.configure(connection).get_current_revision()

        async with self.engine.connect() as connection:
            return await connection.run_sync(read)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden (also a ``password`` query parameter), for
        messages and logs."""
        shown = make_url(self.url).render_as_string(hide_password=True)
        return _PASSWORD_PARAM.sub(r"\1***", shown)

    async def reachable(self) -> bool:
        """Whether a trivial query gets through now."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None)
    return str(original or error).strip().splitlines()[0] if str(original or error) else repr(error)
