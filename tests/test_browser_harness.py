"""The real-browser harness itself (tests/browser.py): headless Chromium loads pages a small
aiohttp app serves on 127.0.0.1, a form is filled and submitted with its inline script
running, a page's JavaScript errors and failed requests are caught, markup from a hostile
name is inert when escaped (and fires when not, so the check can see it), and each page has
a context of its own. Without Chromium these skip locally and fail under CI=true.
"""

from __future__ import annotations

import html
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from tests.browser import BrowserPage, NewBrowserPage

HOSTILE = "<img src=x onerror=alert(1)>"

FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Form</title>
<link rel="icon" href="data:,"></head>
<body>
<form method="post" action="/greet">
  <label>Name <input id="name" name="name"></label>
  <output id="count">0</output>
  <input type="hidden" id="typed" name="typed" value="">
  <button id="send">Send</button>
</form>
<script>
  const name = document.getElementById("name");
  name.addEventListener("input", () => {
    document.getElementById("count").textContent = String(name.value.length);
  });
  document.querySelector("form").addEventListener("submit", () => {
    document.getElementById("typed").value = "by script: " + name.value.length;
  });
</script>
</body></html>
"""

BROKEN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Broken</title>
<link rel="icon" href="data:,"></head>
<body><p>broken</p>
<img alt="" src="http://127.0.0.1:{port}/gone.png">
<script>
  console.error("deliberate console error");
  throw new Error("deliberate page error");
</script>
</body></html>
"""


def _page(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page</title>'
        f'<link rel="icon" href="data:,"></head><body>{body}</body></html>'
    )


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 nothing listens on (held bound, so nothing else takes it)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture
async def site(closed_port: int) -> AsyncIterator[str]:
    """The small app, served on 127.0.0.1 at a random port; its base URL."""

    async def form(_: web.Request) -> web.Response:
        return web.Response(text=FORM, content_type="text/html")

    async def greet(request: web.Request) -> web.Response:
        posted = await request.post()
        name, typed = str(posted.get("name", "")), str(posted.get("typed", ""))
        body = (
            f'<p id="result">Hello, {html.escape(name)}!</p><p id="typed">{html.escape(typed)}</p>'
        )
        return web.Response(text=_page(body), content_type="text/html")

    async def broken(_: web.Request) -> web.Response:
        return web.Response(text=BROKEN.format(port=closed_port), content_type="text/html")

    async def unescaped(_: web.Request) -> web.Response:
        # The mistake the dashboard must never make: a name pasted into HTML as it is.
        return web.Response(text=_page(f'<p id="result">{HOSTILE}</p>'), content_type="text/html")

    async def missing_image(_: web.Request) -> web.Response:
        return web.Response(status=404, text="no such image")

    app = web.Application()
    app.router.add_get("/", form)
    app.router.add_post("/greet", greet)
    app.router.add_get("/broken", broken)
    app.router.add_get("/unescaped", unescaped)
    app.router.add_get("/x", missing_image)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_a_form_is_filled_and_submitted_with_its_script_running(
    site: str, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await page.goto(f"{site}/")
    await page.fill("#name", "Ann")
    await expect(page.locator("#count")).to_have_text("3")  # the input listener ran
    await page.click("#send")
    await page.wait_for_url(f"{site}/greet")
    await expect(page.locator("#result")).to_have_text("Hello, Ann!")
    await expect(page.locator("#typed")).to_have_text("by script: 3")  # the submit listener ran
    browser_page.assert_no_console_errors()
    assert browser_page.dialogs == []


async def test_a_pages_javascript_errors_and_failed_requests_are_caught(
    site: str, browser_page: BrowserPage, closed_port: int
) -> None:
    await browser_page.page.goto(f"{site}/broken")  # returns after load: the image has failed
    assert any("deliberate console error" in e for e in browser_page.console_errors)
    assert browser_page.page_errors == ["deliberate page error"]
    assert browser_page.failed_requests == [
        f"GET http://127.0.0.1:{closed_port}/gone.png: net::ERR_CONNECTION_REFUSED"
    ]
    with pytest.raises(AssertionError) as failure:
        browser_page.assert_no_console_errors()
    report = str(failure.value)
    assert "console error: deliberate console error" in report
    assert "page error: deliberate page error" in report
    assert f"request failed: GET http://127.0.0.1:{closed_port}/gone.png" in report


async def test_a_hostile_name_escaped_stays_inert(site: str, browser_page: BrowserPage) -> None:
    page = browser_page.page
    await page.goto(f"{site}/")
    await page.fill("#name", HOSTILE)
    await page.click("#send")
    await page.wait_for_url(f"{site}/greet")
    await expect(page.locator("#result")).to_have_text(f"Hello, {HOSTILE}!")  # shown as text
    assert await page.locator("img").count() == 0
    assert browser_page.dialogs == []  # alert(1) never ran
    browser_page.assert_no_console_errors()


async def test_a_hostile_name_unescaped_fires_and_is_seen(
    site: str, browser_page: BrowserPage
) -> None:
    # The control for the test above: the same markup left raw runs alert(1), and the
    # harness sees it, so an empty `dialogs` there means inert, not unobserved.
    await browser_page.page.goto(f"{site}/unescaped")  # the load waits for the dismissed alert
    assert browser_page.dialogs == ["1"]


async def test_each_page_has_a_context_of_its_own(site: str, browser_pages: NewBrowserPage) -> None:
    first, second = await browser_pages(), await browser_pages(locale="zh-CN")
    await first.page.goto(f"{site}/")
    await first.page.evaluate("document.cookie = 'who=ann; path=/'")
    await second.page.goto(f"{site}/")
    assert await first.page.evaluate("document.cookie") == "who=ann"
    assert await second.page.evaluate("document.cookie") == ""
    assert await second.page.evaluate("navigator.language") == "zh-CN"
    first.assert_no_console_errors()
    second.assert_no_console_errors()


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_without_chromium_the_tests_skip_locally_and_fail_under_ci(
    ci: str, outcome: str, tmp_path: Path
) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    environ.update(PATH=str(tmp_path), CI=ci)  # an empty PATH: no chromium on it
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rs",
            __file__,
            "-k",
            "test_a_form_is_filled",
        ],
        capture_output=True,
        text=True,
        env=environ,
        cwd=Path(__file__).parent.parent,
        timeout=120,
    )
    assert outcome in run.stdout, run.stdout + run.stderr
    assert run.returncode == (1 if ci else 0)
    if ci:
        assert "CI=true but Chromium was not found" in run.stdout
    else:
        assert "apt-get install chromium" in run.stdout
