"""Carrying out engine actions on Telegram: HTML text split at 4,096 characters, photos,
documents, native polls, reactions and moderation (deleting messages, muting, banning);
Telegram's refusals become `DeliveryFailed`. A linked image is fetched (size-capped, images
only, `adapters.images`) and uploaded, never handed to Telegram to fetch unchecked.
"""

from __future__ import annotations

import asyncio
import html
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from telegram import Bot, ChatPermissions, InputFile, ReactionTypeEmoji, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from adapters.chunks import split_message
from adapters.images import ImageFetcher, ImageFetchError
from bot.clock import Clock
from bot.errors import DeliveryFailed, DeliveryProblem
from bot.events import (
    Action,
    DeleteMessage,
    DirectMessage,
    Post,
    React,
    Reply,
    Restrict,
    Sanction,
)

__all__ = ["CAPTION_LIMIT", "MESSAGE_LIMIT", "MIN_MUTE", "TelegramSender"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
#: Telegram treats a restriction shorter than 30 s as forever: a mute lasts at least this.
MIN_MUTE = timedelta(seconds=31)
#: Phrases of Telegram's 400 answers that mean the bot lacks a right (not a bad request).
_NO_RIGHTS = (
    "not enough rights",
    "administrator",
    "admin_required",
    "can't remove chat owner",
    "message can't be deleted",
)


class TelegramSender:
    """Performs actions through a connected python-telegram-bot `Bot`."""

    def __init__(
        self,
        clock: Clock,
        retry_delays: Sequence[float],
        images: ImageFetcher | None = None,
    ) -> None:
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.images = images or ImageFetcher()

    async def perform(self, bot: Bot, action: Action) -> str | None:
        """Carry out one action; returns the id of the (first) message sent.

        Raises:
            DeliveryFailed: Telegram refused it (DM_CLOSED for a member who never opened a
                private chat, FORBIDDEN for a missing right, NOT_FOUND for something gone,
                FAILED otherwise); UNSUPPORTED for role grants, which Telegram lacks.
        """
        try:
            return await self._perform(bot, action)
        except ValueError as error:  # an id that is not a number
            raise DeliveryFailed(action, DeliveryProblem.FAILED, str(error)) from error

    async def _perform(self, bot: Bot, action: Action) -> str | None:
        if isinstance(action, Reply):
            place = action.place
            return await self._send_text(
                action, bot, place.group_id, action.text, place.thread_id, action.message_id
            )
        if isinstance(action, Post):
            return await self._post(action, bot)
        if isinstance(action, DirectMessage):
            if action.image:
                image = await self._photo(action, action.image)
                photo = partial(bot.send_photo, action.user_id, image)
                await self._call(action, photo)
            first = await self._send_text(action, bot, action.user_id, action.text, None, None)
            if action.file:
                document = _document(action.file)
                await self._call(action, partial(bot.send_document, action.user_id, document))
            return first
        if isinstance(action, React):
            reaction = [ReactionTypeEmoji(action.emoji)]
            message_id = int(action.message_id)
            await self._call(
                action,
                partial(bot.set_message_reaction, action.place.group_id, message_id, reaction),
            )
            return None
        if isinstance(action, DeleteMessage):
            message_id = int(action.message_id)
            await self._call(action, partial(bot.delete_message, action.place.group_id, message_id))
            return None
        if isinstance(action, Restrict):
            await self._restrict(action, bot)
            return None
        raise DeliveryFailed(action, DeliveryProblem.UNSUPPORTED, "Telegram has no roles")

    async def _restrict(self, action: Restrict, bot: Bot) -> None:
        """Telegram has no audit log: the reason stays with Hearth."""
        chat, user = action.group_id, int(action.user_id)
        request: Callable[[], Awaitable[bool]]
        if action.sanction is Sanction.MUTE:
            request = partial(
                bot.restrict_chat_member,
                chat,
                user,
                ChatPermissions.no_permissions(),
                until_date=self.mute_end(action.until),
                use_independent_chat_permissions=True,
            )
        elif action.sanction is Sanction.UNMUTE:
            # Back to what every member of the group may do, not to more than that.
            group = await self._call(action, partial(bot.get_chat, chat))
            permissions = group.permissions or ChatPermissions.all_permissions()
            request = partial(
                bot.restrict_chat_member,
                chat,
                user,
                permissions,
                use_independent_chat_permissions=True,
            )
        elif action.sanction is Sanction.BAN:
            request = partial(bot.ban_chat_member, chat, user, revoke_messages=False)
        else:
            request = partial(bot.unban_chat_member, chat, user, only_if_banned=True)
        await self._call(action, request)

    def mute_end(self, until: datetime | None) -> datetime:
        """`until`, but at least `MIN_MUTE` from now: Telegram takes a shorter restriction
        as a permanent one. (Beyond 366 days it is permanent too, which is what so long a
        mute means anyway.)"""
        floor = self.clock.now() + MIN_MUTE
        return floor if until is None else max(until, floor)

    async def _send_text(
        self,
        action: Action,
        bot: Bot,
        chat: str,
        text: str,
        thread: str | None,
        reply_to: str | None,
    ) -> str | None:
        thread_id = int(thread) if thread else None
        first: str | None = None
        for index, piece in enumerate(split_message(text, MESSAGE_LIMIT)):
            reply = None
            if index == 0 and reply_to is not None and reply_to.lstrip("-").isdigit():
                reply = ReplyParameters(int(reply_to), allow_sending_without_reply=True)
            send = partial(
                bot.send_message,
                chat,
                html.escape(piece, quote=False),
                parse_mode=ParseMode.HTML,
                message_thread_id=thread_id,
                reply_parameters=reply,
            )
            sent = await self._call(action, send)
            first = first or str(sent.message_id)
        return first

    async def _post(self, action: Post, bot: Bot) -> str | None:
        target = action.target
        thread_id = int(target.thread_id) if target.thread_id else None
        text = action.text
        if action.image:
            caption = text if len(text) <= CAPTION_LIMIT else ""
            photo = await self._photo(action, action.image)
            await self._call(
                action,
                lambda: bot.send_photo(
                    target.group_id,
                    photo,
                    caption=html.escape(caption, quote=False) or None,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread_id,
                ),
            )
            text = "" if caption else text
        if action.poll is not None and text.strip() == action.poll.question.strip():
            text = ""
        first = None
        if text.strip():
            first = await self._send_text(
                action, bot, target.group_id, text, target.thread_id, None
            )
        if action.poll is not None:
            poll = action.poll
            sent = await self._call(
                action,
                lambda: bot.send_poll(
                    target.group_id, poll.question, list(poll.options), message_thread_id=thread_id
                ),
            )
            first = first or str(sent.message_id)
        return first

    async def _photo(self, action: Post | DirectMessage, image: str) -> InputFile:
        """The image to upload: a link fetched under the size and type checks, or a local
        file (the engine only passes files it checked, and its own charts)."""
        if urlsplit(image).scheme.lower() in ("http", "https"):
            try:
                fetched = await self.images.fetch(image)
            except ImageFetchError as error:
                raise DeliveryFailed(action, DeliveryProblem.FAILED, str(error)) from error
            return InputFile(fetched.data, filename=fetched.filename)
        return _local_photo(action, image)

    async def _call(self, action: Action, request: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call: retry network errors with backoff and jitter; translate
        Telegram's refusals into `DeliveryFailed` (RetryAfter is the rate limiter's job)."""
        delays = (*self.retry_delays, None)
        for delay in delays:
            try:
                return await request()
            except Forbidden as error:
                problem = (
                    DeliveryProblem.DM_CLOSED
                    if isinstance(action, DirectMessage)
                    else DeliveryProblem.FORBIDDEN
                )
                raise DeliveryFailed(action, problem, error.message) from error
            except BadRequest as error:
                raise DeliveryFailed(action, _problem(error), error.message) from error
            except RetryAfter as error:
                raise DeliveryFailed(action, DeliveryProblem.FAILED, str(error)) from error
            except NetworkError as error:
                if delay is None:
                    raise DeliveryFailed(action, DeliveryProblem.FAILED, str(error)) from error
                logger.warning("telegram: %s; retrying in %.1fs", error, delay)
                await asyncio.sleep(delay * (1 + random.random() / 2))
            except TelegramError as error:
                raise DeliveryFailed(action, DeliveryProblem.FAILED, str(error)) from error
        raise AssertionError("unreachable")  # pragma: no cover


def _problem(error: BadRequest) -> DeliveryProblem:
    """Telegram answers 400 both for what is gone and for a right the bot lacks."""
    message = error.message.lower()
    if any(phrase in message for phrase in _NO_RIGHTS):
        return DeliveryProblem.FORBIDDEN
    if "not found" in message:
        return DeliveryProblem.NOT_FOUND
    return DeliveryProblem.FAILED


def _local_photo(action: Post | DirectMessage, image: str) -> InputFile:
    path = Path(image)
    if not path.is_file():
        raise DeliveryFailed(action, DeliveryProblem.FAILED, f"no image file {path}")
    return InputFile(path.read_bytes(), filename=path.name)


def _document(file: str) -> InputFile:
    """A local file to upload, under its own name."""
    path = Path(file)
    return InputFile(path.read_bytes(), filename=path.name)
