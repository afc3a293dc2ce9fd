"""Webhook delivery for the Telegram adapter: answer 200 only once the update is committed.

python-telegram-bot's own webhook server answers Telegram as soon as an update is queued,
before Hearth has processed or written it, so a kill loses it for good. Here each request is
processed (through the same `Application.process_update` path as long polling) and Hearth's
rows are committed before the answer: 200 means the update is in the database. When it cannot
be committed (the database is away), the answer is 503 and Telegram delivers the update again
later; the engine counts a redelivered update once.

Requests are processed one at a time, in the order they arrive, as polling does; their commits
overlap, so requests that wait together share one batch. On stop the server stops accepting,
finishes the requests under way (at most `stop_budget` seconds; one cut off is never answered
200, so Telegram delivers it again) and lets go of the port. The webhook stays registered:
Telegram keeps what arrives meanwhile for the next start.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.errors import ConfigError

__all__ = ["COMMIT_BUDGET", "MAX_BODY", "SECRET_HEADER", "STOP_BUDGET", "WebhookServer"]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: The largest request body accepted; Telegram's updates are a few kilobytes.
MAX_BODY = 1024 * 1024
#: How long a stop waits for the requests under way.
STOP_BUDGET = 5.0
#: How long a request waits for its commit before Telegram is told to try again.
COMMIT_BUDGET = 30.0
#: Seconds suggested to Telegram before it delivers a refused update again.
RETRY_AFTER = 5


class WebhookServer:
    """Receives Telegram's webhook requests on `listen`:`port` at the path of `url`.

    Args:
        application: the running python-telegram-bot application (handlers, bot).
        url: the public https URL registered with Telegram; its path is served.
        listen: the address to listen on (behind the TLS proxy).
        port: the port to listen on.
        secret: the secret Telegram sends in every request (none checked when empty).
        allowed_updates: the update kinds to ask for.
        commit: writes everything processed so far; awaited before each 200.
    """

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        url: str,
        listen: str,
        port: int,
        secret: str,
        allowed_updates: Sequence[str],
        commit: Callable[[], Awaitable[None]],
        stop_budget: float = STOP_BUDGET,
        commit_budget: float = COMMIT_BUDGET,
    ) -> None:
        self.application = application
        self.url = url
        self.path = urlparse(url).path or "/"
        self.listen = listen
        self.port = port
        self.secret = secret
        self.allowed_updates = list(allowed_updates)
        self.commit = commit
        self.stop_budget = stop_budget
        self.commit_budget = commit_budget
        self._order = asyncio.Lock()
        self._stopping = False
        self._failing = False

    async def run(self) -> None:
        """Listen, register the webhook with Telegram and serve until cancelled; then stop
        accepting and finish the requests under way within `stop_budget` seconds.

        Raises:
            ConfigError: the address cannot be listened on.
            TelegramError: Telegram refused the webhook (the adapter translates it).
        """
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._receive)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.stop_budget)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.listen, self.port)
            try:
                await site.start()
            except OSError as error:
                raise ConfigError(
                    f"telegram.webhook_port: cannot listen on {self.listen}:{self.port} "
                    f"({error.strerror or error})"
                ) from None
            # Listening first: Telegram may call as soon as the webhook is set.
            await self.application.bot.set_webhook(
                url=self.url,
                secret_token=self.secret or None,
                allowed_updates=self.allowed_updates,
            )
            logger.info(
                "telegram: webhook at %s (listening on %s:%d)", self.url, self.listen, self.port
            )
            await asyncio.Event().wait()
        finally:
            self._stopping = True
            await runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        if self._stopping:
            return _retry_later("stopping")
        given = request.headers.get(SECRET_HEADER, "")
        if self.secret and not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403, text="wrong secret token")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="body too large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="body too large")
        update = self._parse(body)
        if update is None:
            return web.Response(status=400, text="not a Telegram update")
        async with self._order:
            await self.application.process_update(update)
        try:
            async with asyncio.timeout(self.commit_budget):
                await self.commit()
        except Exception as error:
            if not self._failing:
                logger.warning(
                    "telegram: cannot commit webhook update %s (%s); answering 503 so that "
                    "Telegram delivers it again",
                    update.update_id,
                    error or type(error).__name__,
                )
                self._failing = True
            return _retry_later("not stored yet")
        if self._failing:
            logger.info("telegram: webhook updates are committed again")
            self._failing = False
        return web.Response(status=200)

    def _parse(self, body: bytes) -> Update | None:
        """The update in `body`, or None (logged in one line) if it is not one."""
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
            update = Update.de_json(data, self.application.bot)
        except Exception as error:
            logger.warning("telegram: webhook request is not an update (%s); refused", error)
            return None
        return update


def _retry_later(reason: str) -> web.Response:
    return web.Response(status=503, text=reason, headers={"Retry-After": str(RETRY_AFTER)})
