"""The activity log: every message, command, join, leave and reaction, stored once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.events import (
    Action,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    Message,
    Place,
    ReactionAdded,
)
from bot.features.base import BaseFeature, EventContext
from bot.tasks import finish, spawn, stop_task
from bot.text.question import is_question, looks_like_command
from storage.activity import purge_message_text

__all__ = ["ActivityFeature"]

logger = logging.getLogger(__name__)
PURGE_EVERY = timedelta(hours=6)


def _message_row(
    context: EventContext, place: Place, message_id: str, sent_at: datetime, text: str
) -> dict[str, Any]:
    return {
        "community_id": context.community.id,
        "group_id": context.group_id,
        "member_id": context.member_id,
        "platform": place.platform,
        "channel_id": place.channel_id,
        "thread_id": place.thread_id,
        "message_id": message_id,
        "reply_to": None,
        "mentions": 0,
        "sent_at": sent_at,
        "length": len(text),
        "is_command": False,
        "kind": "text",
        "text": text,
        "is_question": False,
    }


def _keep_text(row: dict[str, Any], keep: bool) -> dict[str, Any]:
    """Drop the text unless kept; the question flag matters only beside a kept text."""
    if not keep:
        row["text"] = None
        row["is_question"] = None
    return row


class ActivityFeature(BaseFeature):
    """Queues activity rows for the batched writer; purges old message text."""

    name = "activity"
    _purger: asyncio.Task[None] | None = None

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        """Log the event (the writer's unique keys drop redelivered ones)."""
        writer = self.services.writer
        keep_text = self.services.settings.activity.store_message_text
        if isinstance(event, Message):
            row = _message_row(context, event.place, event.message_id, event.sent_at, event.text)
            row["reply_to"] = event.reply_to
            row["mentions"] = len(event.mentions)
            row["kind"] = event.kind
            row["is_command"] = not event.is_media and looks_like_command(event.text)
            row["is_question"] = (
                keep_text
                and event.kind == "text"
                and not row["is_command"]
                and is_question(event.text)
            )
            await writer.add("messages", _keep_text(row, keep_text))
        elif isinstance(event, CommandInvoked) and event.message_id is not None:
            text = f"/{event.name} {event.args}".rstrip()
            row = _message_row(context, event.place, event.message_id, event.sent_at, text)
            row["is_command"] = True
            await writer.add("messages", _keep_text(row, keep_text))
        elif isinstance(event, MemberJoined | MemberLeft):
            await writer.add(
                "member_events",
                {
                    "community_id": context.community.id,
                    "group_id": context.group_id,
                    "member_id": context.member_id,
                    "kind": "join" if isinstance(event, MemberJoined) else "leave",
                    "at": event.at,
                },
            )
        elif isinstance(event, ReactionAdded):
            await writer.add(
                "reactions",
                {
                    "community_id": context.community.id,
                    "member_id": context.member_id,
                    "platform": event.place.platform,
                    "channel_id": event.place.channel_id,
                    "message_id": event.message_id,
                    "emoji": event.emoji,
                    "at": event.at,
                },
            )
        return ()

    async def purge_expired_text(self) -> int:
        """Forget message text older than the retention period; returns how many."""
        await self.services.writer.flush()
        days = self.services.settings.activity.text_retention_days
        cutoff = self.services.clock.now() - timedelta(days=days)
        async with self.services.database.session() as session, session.begin():
            purged = await purge_message_text(session, before=cutoff)
        if purged:
            logger.info("forgot the text of %d messages older than %d days", purged, days)
        return purged

    async def _purge_forever(self) -> None:
        # Supervised (bot.tasks): a failed purge is logged and the loop restarted, which
        # purges again at once, then every PURGE_EVERY.
        while True:
            await finish(self.purge_expired_text())
            await asyncio.sleep(PURGE_EVERY.total_seconds())

    async def start(self) -> None:
        """Purge expired text now and every few hours."""
        self._purger = spawn("activity-purge", self._purge_forever)

    async def stop(self) -> None:
        """Stop the purge loop."""
        await stop_task(self._purger)
        self._purger = None
