"""The dashboard in a real browser (issue 19): headless Chromium (Debian's, driven by
Playwright) signs in through a link /dashboard sent, opens every page of the navigation with
no console error, creates an FAQ entry through the form that the bot then answers in the group
(the memory adapter), creates a schedule after the preview showed its next times as it was
typed, and finds a hostile display name inert on the public leaderboard.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from adapters.memory import MemoryAdapter
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import DirectMessage, Reply, Role
from tests.browser import BrowserPage
from tests.conftest import make_settings
from web.server import dashboard

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
HOSTILE = "<img src=x onerror=alert(1)>"


@dataclass
class Live:
    engine: Engine
    chat: MemoryAdapter
    clock: ManualClock
    base: str


@pytest.fixture
async def live(sqlite_url: str) -> AsyncIterator[Live]:
    clock = ManualClock(START)
    settings = make_settings(sqlite_url, web={"public_leaderboard": True})
    engine = build_engine(settings, clock=clock)
    await engine.start()
    chat = MemoryAdapter(engine, clock)
    await chat.say("ann", "hello everyone, glad to be here")
    clock.advance(timedelta(minutes=2))
    await chat.say(HOSTILE, "a message long enough to earn some XP")
    await engine.commit()
    server = TestServer(dashboard(engine, settings))
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        yield Live(engine, chat, clock, base)
    finally:
        await server.close()
        await engine.stop()


async def _sign_in(live: Live, browser_page: BrowserPage) -> None:
    sent = await live.chat.command("ann", "/dashboard", role=Role.ADMIN)
    assert sent == ["I sent you a sign-in link to the dashboard in a private message."]
    message = next(a for a in live.chat.performed if isinstance(a, DirectMessage))
    link = re.search(r"http://\S+/auth/\S+", message.text)
    assert link is not None
    path = link.group().split("/auth/", 1)[1]
    page = browser_page.page
    await page.goto(f"{live.base}/auth/{path}")
    await page.click("#sign-in")
    await page.wait_for_url(re.compile(r"/c/\d+/$"))


async def test_every_page_opens_without_console_errors(
    live: Live, browser_page: BrowserPage
) -> None:
    await _sign_in(live, browser_page)
    page = browser_page.page
    assert await page.locator("h1").first.inner_text() == "Overview"
    assert await page.locator("svg").count() == 5  # the charts rendered
    links = await page.locator("header nav a").evaluate_all("(as) => as.map(a => a.href)")
    assert len(links) >= 4  # overview, leaderboard, FAQ, schedules and the others built
    for link in links:
        response = await page.goto(link)
        assert response is not None
        assert response.status == 200, link
        assert await page.locator("h1").count() == 1, link
    browser_page.assert_no_console_errors()


async def test_an_faq_entry_made_in_the_browser_is_answered_in_the_group(
    live: Live, browser_page: BrowserPage
) -> None:
    await _sign_in(live, browser_page)
    page = browser_page.page
    await page.goto(page.url + "faq")
    await page.fill("#new-question", "where is the party tonight?")
    await page.fill("#new-answer", "In the garden, from 8 pm.")
    await page.click("#add-entry button[type=submit]")
    await page.wait_for_selector(".flash")
    assert "Added FAQ entry #1" in await page.locator(".flash").inner_text()
    assert await page.locator("#entry-1").count() == 1
    live.clock.advance(timedelta(minutes=1))
    actions = await live.chat.say("bob", "where's the party tonight?")
    assert [a.text for a in actions if isinstance(a, Reply)] == ["In the garden, from 8 pm."]
    # The test box says what the bot would answer.
    await page.fill("#ask-question", "where is the party?")
    await page.click("#ask button[type=submit]")
    await page.wait_for_selector("#verdict")
    assert "#1" in await page.locator("#verdict").inner_text()
    browser_page.assert_no_console_errors()


async def test_a_schedule_is_previewed_as_it_is_typed_then_made(
    live: Live, browser_page: BrowserPage
) -> None:
    await _sign_in(live, browser_page)
    page = browser_page.page
    await page.goto(page.url + "schedules")
    await page.fill("#when", "weekly wed 18:30")
    first = page.locator("#when-preview li").first
    await first.wait_for()
    assert await first.inner_text() == "2026-03-04 18:30 Wed"
    assert await page.locator("#when-preview li").count() == 5
    await page.fill("#when", "daily 29:00")
    await page.locator("#when-preview li.error").wait_for()
    assert "is not a time of day" in await page.locator("#when-preview li").inner_text()
    await page.fill("#when", "weekly wed 18:30")
    await page.fill("#text", "Game night!")
    await page.click("#new-schedule button[type=submit]")
    await page.wait_for_selector(".flash")
    assert "Scheduled post #1" in await page.locator(".flash").inner_text()
    assert "Game night!" in await page.locator("#schedule-1").inner_text()
    browser_page.assert_no_console_errors()


async def test_a_hostile_name_on_the_public_leaderboard_stays_text(
    live: Live, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    community = await _community_id(live)
    for period in ("week", "month", "all"):
        await page.goto(f"{live.base}/p/{community}/leaderboard?period={period}")
        names = await page.locator("#leaderboard td.name").all_inner_texts()
        assert HOSTILE in names  # shown as the text it is
        assert await page.locator("#leaderboard img").count() == 0
    assert browser_page.dialogs == []  # alert(1) never ran
    browser_page.assert_no_console_errors()


async def _community_id(live: Live) -> int:
    group = await live.engine.services.directory.group("memory", "group-1", None)
    return group.community.id
