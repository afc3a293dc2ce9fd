"""Stopping Hearth while a background loop is inside a database transaction: the round ends
first, so no connection is left half reset (CI once logged SQLAlchemy's "Exception during
reset or similar" when Hearth stopped during its first text purge)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import ManualClock
from bot.tasks import finish, spawn, stop_task
from storage.activity import purge_message_text
from storage.database import Database
from storage.models import Community
from tests.conftest import make_settings, start_harness

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_stop_waits_for_the_transaction_in_flight(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(sqlite_url)
    await database.upgrade()
    inside, release = asyncio.Event(), asyncio.Event()

    async def one_round() -> None:
        async with database.session() as session, session.begin():
            session.add(
                Community(name="written whole", language="en", timezone="UTC", created_at=NOW)
            )
            await session.flush()
            inside.set()
            await release.wait()  # the stop arrives here, mid-transaction

    async def loop() -> None:
        while True:
            await finish(one_round())
            await asyncio.sleep(3600)

    task = spawn("test-loop", loop)
    await inside.wait()
    stopping = asyncio.create_task(stop_task(task))
    await asyncio.sleep(0)
    assert not stopping.done()  # waiting for the round, not cutting it off
    release.set()
    await stopping
    assert task.cancelled()
    async with database.session() as session:
        names = (await session.scalars(select(Community.name))).all()
    await database.close()
    assert names == ["written whole"]
    assert _errors(caplog) == []


async def test_a_round_that_never_ends_is_cut_off_after_the_grace() -> None:
    started = asyncio.Event()

    async def stuck() -> None:
        started.set()
        await asyncio.Event().wait()

    async def loop() -> None:
        await finish(stuck(), grace=0.01)

    task = asyncio.create_task(loop())
    await started.wait()
    await asyncio.wait_for(stop_task(task), 5)
    assert task.cancelled()


async def test_finish_returns_the_result_and_raises_the_error() -> None:
    async def answer() -> int:
        return 42

    async def broken() -> None:
        raise ValueError("nope")

    assert await finish(answer()) == 42
    with pytest.raises(ValueError, match="nope"):
        await finish(broken())


async def test_stopping_during_the_first_text_purge_logs_no_error(
    sqlite_url: str,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    inside, release = asyncio.Event(), asyncio.Event()
    purged: list[int] = []

    async def slow_purge(session: AsyncSession, *, before: datetime) -> int:
        count = await purge_message_text(session, before=before)
        await session.scalar(select(func.count()).select_from(Community))
        inside.set()
        await release.wait()
        purged.append(count)
        return count

    monkeypatch.setattr("bot.features.activity.purge_message_text", slow_purge)
    hearth = await start_harness(make_settings(sqlite_url), clock)
    await inside.wait()
    stopping = asyncio.create_task(hearth.engine.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert purged == [0]
    assert _errors(caplog) == []
