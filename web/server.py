"""Serving the dashboard: beside the bot (`hearth run` with `web.enabled`) or on its own
(`hearth web`), on the same database, with the engine that runs the forms' commands."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.config import Settings
from bot.engine import Engine
from bot.events import Role
from storage.identity import community_groups
from storage.web import Holder
from web.app import build_app, serve
from web.auth import Access, RoleCheck
from web.commands import ENGINE

__all__ = ["dashboard", "serving"]

logger = logging.getLogger(__name__)


def _roles(engine: Engine) -> RoleCheck:
    """A holder's role now, asked of the platform through the engine's adapters (None when
    no adapter for their platform runs in this process)."""

    async def role(holder: Holder) -> Role | None:
        if holder.platform is None or holder.user_id is None:
            return None
        async with engine.services.database.session() as session:
            groups = await community_groups(session, community_id=holder.community_id)
        for platform, group_id in groups:
            if platform == holder.platform:
                found = await engine.services.dispatcher.role_of(platform, group_id, holder.user_id)
                if found is not None:
                    return found
        return None

    return role


def dashboard(engine: Engine, settings: Settings) -> web.Application:
    """The dashboard application on `engine`'s database and clock."""
    services = engine.services
    access = Access(services.database, services.clock, settings.web, _roles(engine))
    app = build_app(access)
    app[ENGINE] = engine
    return app


@asynccontextmanager
async def serving(engine: Engine, settings: Settings) -> AsyncIterator[web.AppRunner]:
    """Serve the dashboard on `web.listen` while inside the block."""
    runner = await serve(dashboard(engine, settings), settings.web.host, settings.web.port)
    try:
        yield runner
    finally:
        await runner.cleanup()
