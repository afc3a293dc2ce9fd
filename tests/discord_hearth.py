"""Hearth on Discord for a test: the real discord.py client against the fake Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord
import pytest
import yarl

from adapters.discord_adapter import DiscordAdapter
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.config import Settings
from bot.engine import Engine
from tests.fakes.discord_server import FakeDiscord


@asynccontextmanager
async def hearth_on_discord(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, clock: ManualClock
) -> AsyncIterator[tuple[FakeDiscord, Engine]]:
    """A started engine on `settings` with the Discord adapter connected (its guild ready) to
    a fresh fake Discord; the adapter, the engine and the fake are stopped on the way out."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeDiscord()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
    )
    engine = build_engine(settings, clock=clock)
    await engine.start()
    adapter = DiscordAdapter(settings, clock, client_options={"guild_ready_timeout": 0.05})
    engine.attach(adapter.name, adapter.perform, adapter.member_role)
    task = asyncio.create_task(adapter.run(engine))
    try:
        async with asyncio.timeout(3):
            await adapter.ready.wait()
        yield fake, engine
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await engine.stop()
        await fake.close()
