"""A started engine with the dashboard served over HTTP, for the web tests: visitors with
their own cookies, signed in through real one-time links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Author, Message, Place
from bot.features.dashboard import issue_link
from storage.web import Holder
from tests.conftest import make_settings
from web.auth import COOKIE
from web.server import dashboard

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Visitor:
    """A browser's view of the site: its own cookies, requests by path."""

    def __init__(self, server: TestServer) -> None:
        jar = CookieJar(unsafe=True)  # 127.0.0.1 is an IP address
        self.session = ClientSession(base_url=str(server.make_url("")), cookie_jar=jar)

    async def start_server(self) -> None:
        """(The server runs already; kept so each visitor starts the same way.)"""

    async def get(self, path: str, **options: Any) -> ClientResponse:
        return await self.session.get(path, **options)

    async def post(self, path: str, **options: Any) -> ClientResponse:
        return await self.session.post(path, **options)

    async def close(self) -> None:
        await self.session.close()


@dataclass
class Site:
    engine: Engine
    clock: ManualClock
    app: web.Application
    server: TestServer
    communities: dict[str, int]
    members: dict[str, int]

    def client(self) -> Visitor:
        return Visitor(self.server)

    async def signed_in(self, holder: Holder) -> Visitor:
        """A client whose cookie comes from a real one-time link for `holder`."""
        services = self.engine.services
        link = await issue_link(services.database, self.clock, services.settings.web, holder)
        client = self.client()
        await client.start_server()
        response = await client.post(link.removeprefix(services.settings.web.base_url))
        assert response.status == 200  # followed the redirect to the overview or a page
        assert COOKIE in {cookie.key for cookie in client.session.cookie_jar}
        return client


async def post_message(engine: Engine, group: str, user: str, text: str, message_id: str) -> None:
    place = Place("telegram", group, group, group_name=f"group {group}")
    await engine.handle(Message(place, message_id, Author(user, user), text, START))


async def open_site(url: str, **sections: dict[str, Any]) -> AsyncIterator[Site]:
    """The site on a fresh engine with two Telegram groups (communities "one", "two")."""
    clock = ManualClock(START)
    engine = build_engine(make_settings(url, **sections), clock=clock)
    await engine.start()
    await post_message(engine, "-100", "ann", "hello from group one", "1")
    await post_message(engine, "-200", "zed", "hello from group two", "1")
    await engine.commit()
    app = dashboard(engine, engine.services.settings)
    server = TestServer(app)
    await server.start_server()
    async with engine.services.database.session() as session:
        rows = (await session.execute(text("SELECT external_id, community_id FROM groups"))).all()
        members = (
            await session.execute(
                text(
                    "SELECT a.external_id, m.member_id FROM member_accounts m "
                    "JOIN accounts a ON a.id = m.account_id"
                )
            )
        ).all()
    communities = {str(g): int(c) for g, c in rows}
    try:
        yield Site(
            engine,
            clock,
            app,
            server,
            {"one": communities["-100"], "two": communities["-200"]},
            {str(u): int(m) for u, m in members},
        )
    finally:
        await server.close()
        await engine.stop()


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[Site]:
    """The site on SQLite and on PostgreSQL."""
    async for opened in open_site(db_url):
        yield opened
