"""Writing an export's events to the activity log, in batches, without the engine.

The engine would answer FAQ questions and announce level-ups; an import must send nothing.
So imported events go straight to the log's tables, with the same rows and unique keys as
`ActivityFeature` (a message is once per community, platform, channel and message id), in
one transaction per batch: importing a file twice adds nothing. Groups go through the same
`Directory` as live events and accounts through the same tables (created in bulk), so
imported accounts are the live members.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.errors import HearthError
from bot.events import MemberJoined, Message, ReactionAdded
from bot.features.base import Services
from bot.importer.members import MemberIds
from bot.importer.points import Candidate, ImportPoints
from bot.importer.progress import Progress
from bot.importer.stream import ExportHeader, ImportItem, Skipped, Timed
from bot.text.question import is_question
from storage.activity import record_active_days
from storage.identity import CommunityInfo, GroupInfo
from storage.importing import GroupElsewhere, add_group_to_community, insert_new
from storage.models import Base, MemberEvent, MessageLog, ReactionLog

__all__ = ["ImportSummary", "Importer"]

logger = logging.getLogger(__name__)
_MESSAGES = Base.metadata.tables[MessageLog.__tablename__]
_EVENTS = Base.metadata.tables[MemberEvent.__tablename__]
_REACTIONS = Base.metadata.tables[ReactionLog.__tablename__]


@dataclass(slots=True)
class ImportSummary:
    """What an import read, what was new to the log, and what it skipped and why."""

    messages: int = 0
    new_messages: int = 0
    joins: int = 0
    leaves: int = 0
    new_member_events: int = 0
    reactions: int = 0
    new_reactions: int = 0
    members: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    points_xp: int = 0
    points_members: int = 0

    def lines(self) -> list[str]:
        """The summary as the command prints it."""
        lines = [
            f"messages: {self.messages:,} read, {self.new_messages:,} new",
            f"members: {self.members:,}",
            f"joins: {self.joins:,}, leaves: {self.leaves:,} ({self.new_member_events:,} new)",
            f"reactions: {self.reactions:,} read, {self.new_reactions:,} new",
        ]
        if self.points_xp or self.points_members:
            lines.append(f"points: {self.points_xp:,} XP to {self.points_members:,} members")
        total = sum(self.skipped.values())
        reasons = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(self.skipped.items()))
        lines.append(f"skipped: {total:,}" + (f" ({reasons})" if reasons else ""))
        return lines


class Importer:
    """Feeds import items to the activity log (and optionally points)."""

    def __init__(
        self,
        services: Services,
        *,
        community: CommunityInfo | None = None,
        award_points: bool = False,
        batch_size: int = 20_000,
    ) -> None:
        self._services = services
        self._community = community
        self._award = award_points
        self._batch_size = batch_size
        self._groups: dict[tuple[str, str], GroupInfo] = {}
        self._points: dict[int, ImportPoints] = {}
        self._messages: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._reactions: list[dict[str, Any]] = []
        self._candidates: list[tuple[dict[str, Any], str]] = []
        self._members = MemberIds(services.database, services.clock)
        activity = services.settings.activity
        self._keep_text = activity.store_message_text
        self._text_since = services.clock.now() - timedelta(days=activity.text_retention_days)
        self.summary = ImportSummary()

    async def open_group(self, header: ExportHeader) -> GroupInfo:
        """Resolve the export's group (into the chosen community, if one was given).

        Raises:
            HearthError: the group already belongs to another community.
        """
        if self._community is not None:
            try:
                async with self._services.database.session() as session, session.begin():
                    await add_group_to_community(
                        session,
                        community_id=self._community.id,
                        platform=header.platform,
                        external_id=header.group_id,
                        name=header.name,
                        now=self._services.clock.now(),
                    )
            except GroupElsewhere as error:
                raise HearthError(
                    f"{header.platform}:{header.group_id} already belongs to community "
                    f"{error.community_name!r}; import it there (--community "
                    f"{header.platform}:{header.group_id})"
                ) from None
        group = await self._services.directory.group(header.platform, header.group_id, header.name)
        self._groups[(header.platform, header.group_id)] = group
        if self._award and group.community.id not in self._points:
            rules = self._services.settings.points.for_community(group.community.name)
            self._points[group.community.id] = ImportPoints(
                self._services.database, group.community, rules
            )
        return group

    async def run(self, items: Iterable[Timed], progress: Progress | None = None) -> ImportSummary:
        """Import every item; what was read is written even when reading fails midway."""
        summary = self.summary
        try:
            for _, item in items:
                self._take(item)
                if len(self._messages) + len(self._events) + len(self._reactions) >= (
                    self._batch_size
                ):
                    await self.flush()
                if progress is not None:
                    progress.tick(summary.messages, len(self._members))
        finally:
            await self.flush()
            summary.members = len(self._members)
            if progress is not None:
                progress.done(summary.messages, summary.members)
        return summary

    def _take(self, item: ImportItem) -> None:
        if isinstance(item, Skipped):
            self.summary.skipped[item.reason] += item.count
            return
        if isinstance(item, Message | ReactionAdded):
            place, author = item.place, item.author if isinstance(item, Message) else item.reactor
            platform, group_id = place.platform, place.group_id
        else:
            platform, group_id, author = item.platform, item.group_id, item.member
        group = self._groups[(platform, group_id)]
        community = group.community.id
        if isinstance(item, Message):
            row = self._message(item, group)
        elif isinstance(item, ReactionAdded):
            self.summary.reactions += 1
            row = {
                "community_id": community,
                "platform": platform,
                "channel_id": item.place.channel_id,
                "message_id": item.message_id,
                "emoji": item.emoji[:64],
                "at": item.at,
            }
            self._reactions.append(row)
        else:
            joined = isinstance(item, MemberJoined)
            self.summary.joins += joined
            self.summary.leaves += not joined
            kind = "join" if joined else "leave"
            row = {"community_id": community, "group_id": group.id, "kind": kind, "at": item.at}
            self._events.append(row)
        self._members.fill(row, community, platform, author)

    def _message(self, message: Message, group: GroupInfo) -> dict[str, Any]:
        self.summary.messages += 1
        place, text = message.place, message.text
        is_command = text.startswith("/")
        keep = self._keep_text and message.sent_at >= self._text_since
        row = {
            "community_id": group.community.id,
            "group_id": group.id,
            "platform": place.platform,
            "channel_id": place.channel_id,
            "thread_id": place.thread_id,
            "message_id": message.message_id,
            "reply_to": message.reply_to,
            "mentions": len(message.mentions),
            "sent_at": message.sent_at,
            "length": len(text),
            "is_command": is_command,
            "text": text if keep else None,
            # Only needed where the text is kept (the digest counts stored questions).
            "is_question": (not is_command and is_question(text)) if keep else None,
        }
        self._messages.append(row)
        if self._award and not is_command and not message.author.is_bot:
            self._candidates.append((row, text))
        return row

    async def flush(self) -> None:
        """Write the queued rows in one transaction, then award points for new messages."""
        if not (self._messages or self._events or self._reactions):
            return
        await self._members.resolve()
        async with self._services.database.session() as session, session.begin():
            new = await insert_new(
                session,
                table=_MESSAGES,
                rows=self._messages,
                returning=("community_id", "channel_id", "message_id"),
            )
            events = await insert_new(session, table=_EVENTS, rows=self._events, returning=("id",))
            reactions = await insert_new(
                session, table=_REACTIONS, rows=self._reactions, returning=("id",)
            )
            await record_active_days(session, messages=self._messages, reactions=self._reactions)
        self.summary.new_messages += len(new)
        self.summary.new_member_events += len(events)
        self.summary.new_reactions += len(reactions)
        self._messages, self._events, self._reactions = [], [], []
        candidates, self._candidates = self._candidates, []
        if candidates:
            await self._award_points(candidates, {tuple(key) for key in new})

    async def _award_points(
        self, candidates: list[tuple[dict[str, Any], str]], new: set[tuple[Any, ...]]
    ) -> None:
        by_community: dict[int, list[Candidate]] = {}
        for row, text in candidates:
            community = row["community_id"]
            if (community, row["channel_id"], row["message_id"]) in new:
                by_community.setdefault(community, []).append(
                    Candidate(
                        community,
                        row["member_id"],
                        row["platform"],
                        row["channel_id"],
                        row["message_id"],
                        text,
                        row["sent_at"],
                    )
                )
        for community, chosen in by_community.items():
            points = self._points[community]
            await points.award(sorted(chosen, key=lambda c: c.at))
        self.summary.points_xp = sum(p.xp for p in self._points.values())
        self.summary.points_members = sum(len(p.members) for p in self._points.values())
