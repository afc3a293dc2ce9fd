"""Real-browser tests: Debian's Chromium, headless, driven by Playwright for Python.

No browser is downloaded, ever: the system's ``chromium`` (``.ci/run`` installs it with
apt-get, as it installs PostgreSQL) is started once per test session, and each test connects
Playwright to it over the DevTools protocol (``connect_over_cdp``) and gets a new browser
context (its own cookies and storage) and page. Playwright objects belong to the event loop
that made them and pytest-asyncio gives every test its own loop, so the one long-lived thing
is the Chromium process; connecting to it costs a fraction of launching it.

Without Chromium the browser tests skip with a hint; with ``CI=true`` a missing Chromium fails
them instead (as a missing PostgreSQL does, see ``tests/postgres.py``). An installed Chromium
that does not start fails them everywhere, with its log.

Every console message of type error, uncaught page error, failed request and JavaScript
dialog (``alert``/``confirm``/``prompt``, dismissed) in a test's context is recorded on its
``BrowserPage``, so a test can end with ``browser_page.assert_no_console_errors()`` and check
``browser_page.dialogs`` to prove injected markup stayed inert.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Request,
    WebError,
    async_playwright,
)

__all__ = [
    "BrowserPage",
    "Chromium",
    "NewBrowserPage",
    "browser_page",
    "browser_pages",
    "chromium",
    "find_chromium",
]

INSTALL = "install Debian's (apt-get install chromium) or run .ci/run, which installs it"
HINT = f"Chromium is not installed, so the browser tests are skipped; {INSTALL}."
STARTUP_SECONDS = 30.0
# What Playwright's own launch passes to Chromium, minus what only matters to a desktop:
# no first-run UI, no background traffic to Google (update checks, sync, field trials), no
# crash reporter, and no throttling of a page because no window shows it.
FLAGS = (
    "--headless",
    # Playwright's default too (chromium_sandbox=False): as root, and in most containers,
    # Chromium's sandbox cannot start.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-field-trial-config",
    "--disable-background-networking",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-back-forward-cache",
    "--disable-breakpad",
    "--disable-component-update",
    "--disable-component-extensions-with-background-pages",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-hang-monitor",
    "--disable-popup-blocking",
    "--disable-prompt-on-repost",
    "--disable-search-engine-choice-screen",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--no-first-run",
    "--no-service-autorun",
    "--password-store=basic",
    "--use-mock-keychain",
    "--force-color-profile=srgb",
    "--mute-audio",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The system's Chromium executable, if installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable() -> NoReturn:
    """Skip (locally) or fail (in CI) because Chromium is not installed."""
    if _in_ci():
        pytest.fail(f"CI=true but Chromium was not found (no chromium on PATH); {INSTALL}.")
    pytest.skip(HINT)


@dataclass(frozen=True)
class Chromium:
    """A headless Chromium running for the whole test session."""

    executable: str
    endpoint: str  # the DevTools websocket, ws://127.0.0.1:PORT/devtools/browser/ID
    log: Path  # Chromium's stderr


def _start_chromium(executable: str, workdir: Path) -> tuple[subprocess.Popen[bytes], Chromium]:
    profile = workdir / "profile"
    profile.mkdir()
    log = workdir / "chromium.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                executable,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",  # Chromium picks a free port, written below
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,  # its own process group, so teardown ends all of it
        )
    # Chromium writes "PORT\n/devtools/browser/ID" to DevToolsActivePort once it listens.
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        lines = active.read_text().split() if active.exists() else []
        if len(lines) == 2:
            port, path = lines
            return process, Chromium(executable, f"ws://127.0.0.1:{port}{path}", log)
        time.sleep(0.05)
    _stop(process)
    output = log.read_text(errors="replace")[-2000:]
    # Installed but not starting is a fault to fix, not a reason to skip, locally too.
    pytest.fail(f"Chromium ({executable}) did not start within {STARTUP_SECONDS:.0f} s:\n{output}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the group Chromium leads (start_new_session)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """One headless Chromium for the session (skips locally without it; fails under CI=true)."""
    executable = find_chromium()
    if executable is None:
        _unavailable()
    process, running = _start_chromium(executable, tmp_path_factory.mktemp("chromium"))
    try:
        yield running
    finally:
        _stop(process)


@dataclass
class BrowserPage:
    """A page in a fresh browser context, and everything that went wrong in that context."""

    page: Page
    context: BrowserContext
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # each dialog's message, dismissed

    @property
    def errors(self) -> list[str]:
        """Console errors, page errors and failed requests, labelled, in that order."""
        return (
            [f"console error: {text}" for text in self.console_errors]
            + [f"page error: {text}" for text in self.page_errors]
            + [f"request failed: {text}" for text in self.failed_requests]
        )

    def assert_no_console_errors(self) -> None:
        """Fail, listing them, if any console error, page error or failed request was seen."""
        errors = self.errors
        assert errors == [], "the browser reported:\n" + "\n".join(errors)

    def watch(self) -> None:
        """Record what goes wrong on every page of the context (popups included)."""
        self.context.on("console", self._console)
        self.context.on("weberror", self._page_error)
        self.context.on("requestfailed", self._request_failed)
        self.context.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def _page_error(self, error: WebError) -> None:
        self.page_errors.append(str(error.error))

    def _request_failed(self, request: Request) -> None:
        reason = request.failure or "unknown"
        # A load cut short because the page navigated away is the browser's normal business.
        if reason != "net::ERR_ABORTED":
            self.failed_requests.append(f"{request.method} {request.url}: {reason}")

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()


NewBrowserPage = Callable[..., Awaitable[BrowserPage]]


@pytest.fixture
async def browser_pages(chromium: Chromium) -> AsyncIterator[NewBrowserPage]:
    """Open pages in fresh contexts: ``await browser_pages(locale="zh-CN")``.

    Each call is a new context (another signed-in person, say); keyword arguments go to
    Playwright's ``Browser.new_context``. Everything is closed when the test ends.
    """
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.connect_over_cdp(chromium.endpoint)
        contexts: list[BrowserContext] = []

        async def open_page(**context_options: Any) -> BrowserPage:
            context = await browser.new_context(**context_options)
            contexts.append(context)
            context.set_default_timeout(15_000)
            watched = BrowserPage(await context.new_page(), context)
            watched.watch()
            return watched

        try:
            yield open_page
        finally:
            for context in contexts:
                await context.close()
            await browser.close()  # disconnects; the session's Chromium keeps running


@pytest.fixture
async def browser_page(browser_pages: NewBrowserPage) -> BrowserPage:
    """A fresh page in headless Chromium, its errors and dialogs recorded."""
    return await browser_pages()
