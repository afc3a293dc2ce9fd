"""Shared fixtures: an injected clock, databases (SQLite and a real PostgreSQL), an engine
wired to the in-memory adapter."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.memory import MemoryAdapter
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.config import Settings, parse_settings
from bot.engine import Engine
from storage.database import Database
from tests.browser import browser_page, browser_pages, chromium  # noqa: F401 (browser fixtures)
from tests.postgres import PostgresServer, postgres_server

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
_databases = itertools.count(1)


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when the test says so."""
    return ManualClock(START)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run (skips locally if not installed)."""
    with postgres_server() as server:
        yield server


async def _fresh_postgres_url(server: PostgresServer) -> str:
    name = f"hearth_test_{next(_databases)}"
    connection = await asyncpg.connect(
        host=str(server.socket_dir), user=server.user, database="postgres"
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server.url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once on SQLite and once on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return await _fresh_postgres_url(server)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database file URL."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"


def make_settings(url: str, **sections: dict[str, Any]) -> Settings:
    """Settings for tests: the given database plus any section overrides."""
    data: dict[str, Any] = {"database": {"url": url, "flush_interval": 60.0}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_settings(data, environ={})


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    db = Database(db_url)
    await db.upgrade()
    yield db
    await db.close()


class Harness:
    """An engine on a real database with the in-memory adapter in front of it."""

    def __init__(self, engine: Engine, chat: MemoryAdapter, clock: ManualClock) -> None:
        self.engine = engine
        self.chat = chat
        self.clock = clock

    @property
    def database(self) -> Database:
        """The engine's database."""
        return self.engine.services.database


async def start_harness(settings: Settings, clock: ManualClock) -> Harness:
    """Build and start an engine with a seeded RNG and the given clock."""
    engine = build_engine(settings, clock=clock, rng=random.Random(7))
    await engine.start()
    return Harness(engine, MemoryAdapter(engine, clock), clock)


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """A started engine on SQLite (most feature tests)."""
    h = await start_harness(make_settings(sqlite_url), clock)
    yield h
    await h.engine.stop()


@pytest.fixture
async def any_harness(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """A started engine on each backend (storage-touching feature tests)."""
    h = await start_harness(make_settings(db_url), clock)
    yield h
    await h.engine.stop()
