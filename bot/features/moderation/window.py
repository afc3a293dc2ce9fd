"""The moderation window across restarts: the flood and repeat rules and the incidents of
the last minutes are read back from storage the first time a community is moderated after
start, once, so a flood split by a restart is still one flood (and a second flood within
`flood_repeat_minutes` still mutes)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.config import ModerationSettings
from bot.events import Message
from bot.features.moderation.rules import FloodTracker, RepeatTracker
from bot.recent import Recent
from storage.database import Database
from storage.moderation import member_recent_messages, recent_incidents, recent_messages
from storage.writer import ActivityWriter

__all__ = ["HELD_RULES", "NOTICE_AGAIN_AFTER", "Window"]

logger = logging.getLogger(__name__)

#: Rules whose messages are held for review (deleted, no warning).
HELD_RULES = ("link", "invite")
#: One incident of the other rules (blocked phrases, held links) lasts this long.
NOTICE_AGAIN_AFTER = timedelta(minutes=1)
#: At most this many messages and audit entries are read back per community.
READ_BACK = 10_000


class Window:
    """What the rules remember per member: recent messages (flood, repeat) and the start of
    each rule's latest incident, in bounded memory."""

    def __init__(self, settings: ModerationSettings, capacity: int) -> None:
        self.settings = settings
        self.floods = FloodTracker(
            settings.flood_messages, timedelta(seconds=settings.flood_seconds), capacity
        )
        self.repeats = RepeatTracker(
            settings.repeat_count,
            timedelta(seconds=settings.repeat_seconds),
            settings.repeat_min_length,
            capacity,
        )
        #: (community, member, rule) → when the incident going on began.
        self.incidents: Recent[tuple[int, int, str], datetime] = Recent(capacity)
        self._started: datetime | None = None
        self._restored: set[int] = set()

    def lasts(self, rule: str) -> timedelta:
        """How long one incident of `rule` lasts: its later messages are deleted quietly."""
        s = self.settings
        if rule == "flood":
            return timedelta(seconds=s.flood_seconds)
        if rule == "repeat":
            return timedelta(seconds=s.repeat_seconds)
        return NOTICE_AGAIN_AFTER

    @property
    def horizon(self) -> timedelta:
        """How far back anything the rules decide on reaches."""
        s = self.settings
        return max(
            timedelta(seconds=s.flood_seconds),
            timedelta(seconds=s.repeat_seconds),
            timedelta(minutes=s.flood_repeat_minutes),
            NOTICE_AGAIN_AFTER,
        )

    def start(self, now: datetime) -> None:
        """The process starts: what happened before `now` is in storage only."""
        self._started = now
        self._restored.clear()

    async def restore(self, database: Database, community_id: int, at: datetime) -> None:
        """Before the community's first message after start (sent `at`) is judged, read back
        what happened before the start within the horizon — once per community."""
        started = self._started
        if started is None or community_id in self._restored:
            return
        since = at - self.horizon
        if since > started:  # the time before the start no longer matters to anyone
            self._started = None
            self._restored.clear()
            return
        self._restored.add(community_id)
        try:
            async with database.session() as session:
                messages = await recent_messages(
                    session,
                    community_id=community_id,
                    since=since,
                    until=started,
                    limit=READ_BACK,
                )
                incidents = await recent_incidents(
                    session, community_id=community_id, since=since, limit=READ_BACK
                )
        except SQLAlchemyError:
            logger.exception(
                "cannot read back the moderation window of community %s; starting empty",
                community_id,
            )
            return
        exempt = self.settings.rate_exempt_platforms
        for message in messages:
            if message.platform in exempt:
                continue
            key = (community_id, message.member_id)
            self.floods.add(key, message.sent_at)
            if message.text:
                self.repeats.add(key, message.text, message.sent_at)
        for incident in incidents:
            # An incident begins with the deletion that warned (a hold never warns: its
            # latest one stands for it); the rest of it was deleted quietly.
            if incident.warned or incident.rule in HELD_RULES:
                self.incidents.put((community_id, incident.member_id, incident.rule), incident.at)

    async def recall(
        self, database: Database, writer: ActivityWriter, key: tuple[int, int], event: Message
    ) -> None:
        """Before `event` is judged: if the member's flood or repeat window was forgotten
        while it still counted (more members than the memory holds were active), write the
        pending batch and replay their messages of the window from the log."""
        at = event.sent_at
        floods, repeats = self.floods.lost(key, at), self.repeats.lost(key, at)
        if not (floods or repeats):
            return
        s = self.settings
        since = at - max(timedelta(seconds=s.flood_seconds), timedelta(seconds=s.repeat_seconds))
        try:
            await writer.flush()  # their latest messages may still wait in the batch
            async with database.session() as session:
                logged = await member_recent_messages(
                    session, member_id=key[1], since=since, until=at, limit=READ_BACK
                )
        except SQLAlchemyError:
            logger.exception("cannot read back the moderation window of member %s", key[1])
            return
        place = event.place
        for platform, channel, message_id, text, sent_at in logged:
            if platform in s.rate_exempt_platforms or (platform, channel, message_id) == (
                place.platform,
                place.channel_id,
                event.message_id,
            ):
                continue
            if floods:
                self.floods.add(key, sent_at)
            if repeats and text:
                self.repeats.add(key, text, sent_at)
