"""Running adapters side by side: one failing platform never stops the others."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from adapters.runner import serve
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Action
from storage.activity import count_messages
from tests.conftest import make_settings


class Broken:
    name = "broken"

    async def run(self, engine: Engine) -> None:
        raise ConnectionError("platform down")

    async def perform(self, action: Action) -> None:
        raise AssertionError("never called")


class Forever:
    name = "forever"

    def __init__(self) -> None:
        self.cancelled = False

    async def run(self, engine: Engine) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    async def perform(self, action: Action) -> None:
        raise AssertionError("never called")


async def test_a_crashing_adapter_does_not_stop_the_console(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    engine = build_engine(make_settings(url), clock=clock)
    out = io.StringIO()
    console = ConsoleAdapter(
        community="c",
        user="you",
        admin=False,
        clock=clock,
        stdin=io.StringIO("one\ntwo\n/help\n"),
        stdout=out,
        interactive=False,
    )
    forever = Forever()
    assert await serve(engine, [Broken(), console, forever]) == 0
    assert "adapter broken stopped with an error" in caplog.text
    assert "Commands you can use:" in out.getvalue()
    assert forever.cancelled  # the console finishing its input stops the rest

    check = build_engine(make_settings(url), clock=clock)
    group = await check.services.directory.group("console", "c")
    async with check.services.database.session() as session:
        assert await count_messages(session, community_id=group.community.id) == 3
    await check.services.database.close()


async def test_every_adapter_failing_is_a_non_zero_exit(tmp_path: Path, clock: ManualClock) -> None:
    engine = build_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"), clock=clock)
    assert await serve(engine, [Broken()]) == 1
