"""Debian's Chromium, headless, driven by Playwright for the dashboard's browser tests.

No browser is downloaded: Playwright launches the system's `chromium` (`.ci/run` installs it
as it installs PostgreSQL). Without it the tests skip with a hint, except under CI=true,
where a missing browser fails them. Each test gets a fresh context and page; every console
error, page error, failed request and dialog is recorded for it to check.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

__all__ = ["Browser", "browser", "chromium_path"]


def chromium_path() -> str | None:
    """Where the system's Chromium is, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Browser:
    """A page and what went wrong on it."""

    page: object
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_no_console_errors(self) -> None:
        """Fail with every console error, page error and failed request seen so far."""
        assert self.errors == [], "\n".join(self.errors)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A fresh page in headless Chromium (skipped without Chromium, unless CI=true)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium); .ci/run installs it")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = await launched.new_context()
        page = await context.new_page()
        watched = Browser(page)
        page.on(
            "console",
            lambda m: watched.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: watched.errors.append(f"page error: {e}"))

        def failed(request: object) -> None:
            reason = str(getattr(request, "failure", ""))
            if "ERR_ABORTED" not in reason:  # a load cut short by leaving the page is fine
                watched.errors.append(f"request failed: {getattr(request, 'url', '')} {reason}")

        page.on("requestfailed", failed)

        async def dialog(opened: object) -> None:
            watched.dialogs.append(getattr(opened, "message", ""))
            await opened.dismiss()  # type: ignore[attr-defined]

        page.on("dialog", dialog)
        try:
            yield watched
        finally:
            await context.close()
            await launched.close()
