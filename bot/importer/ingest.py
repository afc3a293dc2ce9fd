"""Writing an export's events to the activity log, in batches, without the engine.

The engine would answer FAQ questions and announce level-ups; an import must send nothing.
So imported events go straight to the log's tables, with the same rows and unique keys as
`ActivityFeature` (a message is once per community, platform, channel and message id), in
one transaction per batch: importing a file twice adds nothing. Groups go through the same
`Directory` as live events and accounts through the same tables (created in bulk), so
imported accounts are the live members, and accounts recognised as bots are marked so.

With `--award-points` each batch learns which of its rows were new (``RETURNING``) and awards
points for those, and for rows already in the log that an import wrote (sent before Hearth
first saw the group: a plain import run earlier); what an earlier award gave, by its ledger
source, is not given again. Rows logged while Hearth watched the group live earned live.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.errors import HearthError
from bot.events import MemberJoined, Message, ReactionAdded
from bot.features.base import Services
from bot.importer.earnings import Earnings, MessageSeen, ReactionSeen
from bot.importer.members import MemberIds
from bot.importer.points import ImportPoints
from bot.importer.progress import Progress
from bot.importer.stream import ExportHeader, ImportItem, Skipped, Timed
from bot.overrides import points_rules
from bot.text.question import is_question, looks_like_command
from storage.identity import CommunityInfo, GroupInfo
from storage.importing import (
    GroupElsewhere,
    add_active_days,
    add_group_to_community,
    group_created_at,
    insert_counting,
    insert_new,
    prepare_bulk_writes,
)
from storage.models import Base, MemberEvent, MessageLog, ReactionLog

__all__ = ["ImportSummary", "Importer"]

logger = logging.getLogger(__name__)
_MESSAGES = Base.metadata.tables[MessageLog.__tablename__]
_EVENTS = Base.metadata.tables[MemberEvent.__tablename__]
_REACTIONS = Base.metadata.tables[ReactionLog.__tablename__]
_CHECK_EVERY = 64  # items between looks at the batch size and the progress


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
    points_reputation: int = 0
    points_members: int = 0
    #: None: points not asked for; False: asked, but off in every community imported into.
    points_awarded: bool | None = None
    #: Messages already in the log that an import wrote (replayed, awarded once) or that
    #: Hearth saw live (not replayed).
    points_imported_before: int = 0
    points_seen_live: int = 0
    #: Awards (a member's earning from one message or reaction) found in the ledger already.
    points_already_awarded: int = 0

    def lines(self) -> list[str]:
        """The summary as the command prints it."""
        lines = [
            f"messages: {self.messages:,} read, {self.new_messages:,} new",
            f"members: {self.members:,}",
            f"joins: {self.joins:,}, leaves: {self.leaves:,} ({self.new_member_events:,} new)",
            f"reactions: {self.reactions:,} read, {self.new_reactions:,} new",
        ]
        lines += self._points_lines()
        total = sum(self.skipped.values())
        reasons = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(self.skipped.items()))
        lines.append(f"skipped: {total:,}" + (f" ({reasons})" if reasons else ""))
        return lines

    def _points_lines(self) -> list[str]:
        if self.points_awarded is None:
            if not self.messages:
                return []
            return [
                "points: not awarded (run the same import again with --award-points to award "
                "them under the live rules; it never awards a message twice)"
            ]
        if not self.points_awarded:
            return ["points: none awarded: points are off in this community"]
        lines = [
            f"points: {self.points_xp:,} XP and {self.points_reputation:,} reputation to "
            f"{self.points_members:,} members"
            if self.points_xp or self.points_reputation
            else "points: none awarded"
        ]
        if self.points_imported_before:
            lines.append(
                f"points: {self.points_imported_before:,} messages were already in the log "
                "from an earlier import; replayed under the live rules"
            )
        if self.points_already_awarded:
            lines.append(
                f"points: {self.points_already_awarded:,} awards were already in the ledger "
                "from an earlier --award-points import; not given again"
            )
        if self.points_seen_live:
            lines.append(
                f"points: {self.points_seen_live:,} messages were already logged while Hearth "
                "watched the group live; they earned points then and earn nothing here"
            )
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
        self._check_every = max(1, min(_CHECK_EVERY, batch_size))
        self._groups: dict[tuple[str, str], GroupInfo] = {}
        self._watched_since: dict[int, datetime] = {}  # group id → first seen by Hearth
        self._points: dict[int, ImportPoints] = {}
        self._messages: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._reactions: list[dict[str, Any]] = []
        self._seen_messages: list[MessageSeen] = []
        self._seen_reactions: list[ReactionSeen] = []
        self._communities: dict[int, CommunityInfo] = {}
        self._earnings = Earnings(self._communities)
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
        if self._award:
            async with self._services.database.session() as session:
                since = await group_created_at(session, group_id=group.id)
            self._watched_since[group.id] = since
        self._communities[group.community.id] = group.community
        if self._award and group.community.id not in self._points:
            rules = points_rules(self._services.settings, group.community)
            self._points[group.community.id] = ImportPoints(
                self._services.database, group.community, rules
            )
        if self._award:
            self.summary.points_awarded = any(p.enabled for p in self._points.values())
        return group

    async def run(self, items: Iterable[Timed], progress: Progress | None = None) -> ImportSummary:
        """Import every item; what was read is written even when reading fails midway."""
        summary = self.summary
        try:
            for count, (_, item) in enumerate(items):
                self._take(item)
                if count % self._check_every:
                    continue
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
            if self._award:
                self._seen_reactions.append(ReactionSeen(row, group.id))
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
        is_command = not message.is_media and looks_like_command(text)
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
            "kind": message.kind,
            "text": text if keep else None,
            # Only needed where the text is kept (the digest counts stored questions).
            "is_question": (
                (message.kind == "text" and not is_command and is_question(text)) if keep else None
            ),
        }
        self._messages.append(row)
        if self._award:
            self._seen_messages.append(MessageSeen(row, text, message.mentions))
        return row

    async def flush(self) -> None:
        """Write the queued rows in one transaction, then award points for the new ones.

        (Writing a batch while parsing the next was measured too: on two vCPUs the parser and
        the driver's thread slowed each other down as much as they overlapped.)
        """
        if not (self._messages or self._events or self._reactions):
            return
        await self._members.resolve()
        messages, reactions, events = self._messages, self._reactions, self._events
        self._messages, self._events, self._reactions = [], [], []
        seen = self._seen_messages, self._seen_reactions
        self._seen_messages, self._seen_reactions = [], []
        await self._write(messages, reactions, events, seen)

    async def _write(
        self,
        messages: list[dict[str, Any]],
        reactions: list[dict[str, Any]],
        events: list[dict[str, Any]],
        seen: tuple[list[MessageSeen], list[ReactionSeen]],
    ) -> None:
        """Write one batch in one transaction, then award points for its new rows."""
        new_messages: set[tuple[Any, ...]] = set()
        new_reactions: set[tuple[Any, ...]] = set()
        async with self._services.database.session() as session, session.begin():
            await prepare_bulk_writes(session)
            if self._award:  # which rows are new, not only how many
                keys = ("community_id", "channel_id", "message_id")
                found = await insert_new(session, table=_MESSAGES, rows=messages, returning=keys)
                new_messages = {tuple(key) for key in found}
                reaction_keys = ("community_id", "channel_id", "message_id", "member_id", "emoji")
                found = await insert_new(
                    session, table=_REACTIONS, rows=reactions, returning=reaction_keys
                )
                new_reactions = {tuple(key) for key in found}
                self.summary.new_messages += len(new_messages)
                self.summary.new_reactions += len(new_reactions)
            else:
                self.summary.new_messages += await insert_counting(
                    session, table=_MESSAGES, rows=messages
                )
                self.summary.new_reactions += await insert_counting(
                    session, table=_REACTIONS, rows=reactions
                )
            self.summary.new_member_events += await insert_counting(
                session, table=_EVENTS, rows=events
            )
            await add_active_days(session, messages=messages, reactions=reactions)
        if self._award:
            await self._award_points(*seen, new_messages, new_reactions)

    def _imported_before(
        self, seen_messages: list[MessageSeen], seen_reactions: list[ReactionSeen], new: set[Any]
    ) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
        """The rows of a batch already in the log that an earlier import wrote (sent before
        Hearth first saw their group); counts those and the ones Hearth saw live."""
        messages: set[tuple[Any, ...]] = set()
        live: set[tuple[Any, ...]] = set()
        for seen in seen_messages:
            row = seen.row
            key = (row["community_id"], row["channel_id"], row["message_id"])
            if key in new or row["is_command"] or row["member_id"] in self._members.bots:
                continue
            before = row["sent_at"] < self._watched_since[row["group_id"]]
            (messages if before else live).add(key)
        reactions = {
            _reaction_key(seen.row)
            for seen in seen_reactions
            if seen.row["at"] < self._watched_since[seen.group_id]
        }
        self.summary.points_imported_before += len(messages)
        self.summary.points_seen_live += len(live)
        return messages, reactions

    async def _award_points(
        self,
        seen_messages: list[MessageSeen],
        seen_reactions: list[ReactionSeen],
        new_messages: set[tuple[Any, ...]],
        new_reactions: set[tuple[Any, ...]],
    ) -> None:
        old_messages, old_reactions = self._imported_before(
            seen_messages, seen_reactions, new_messages
        )
        async with self._services.database.session() as session, session.begin():
            earned = await self._earnings.of_batch(
                session,
                seen_messages,
                seen_reactions,
                new_messages=new_messages | old_messages,
                new_reactions=new_reactions | old_reactions,
                bots=self._members.bots,
            )
        replayed = bool(old_messages or (old_reactions - new_reactions))
        for community, earnings in earned.items():
            await self._points[community].award(earnings, check_ledger=replayed)
        self.summary.points_xp = sum(p.xp for p in self._points.values())
        self.summary.points_reputation = sum(p.reputation for p in self._points.values())
        self.summary.points_members = len(set().union(*(p.members for p in self._points.values())))
        self.summary.points_already_awarded = sum(p.already_awarded for p in self._points.values())


def _reaction_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """A reaction row's unique key in the log (as ``RETURNING`` gives it)."""
    return (
        row["community_id"],
        row["channel_id"],
        row["message_id"],
        row["member_id"],
        row["emoji"],
    )
