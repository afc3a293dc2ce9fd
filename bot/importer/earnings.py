"""What imported history earns under `--award-points`: message XP, thanks and reactions
received, worked out per batch once the batch's rows are written (only new rows earn).

Receivers are found as live: the author of the message replied to (from this import, or the
log) and each member a mention names (one member per mention), never the giver or a bot; a
reaction's receiver is the reacted message's author. Thanks count once a day per giver and
receiver (the live ``thanks_given`` rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.features.points.rules import local_day
from bot.importer.points import Earning, source_of
from bot.recent import Recent
from bot.text.thanks import is_thanks
from storage.activity import message_author
from storage.identity import CommunityInfo, find_members
from storage.importing import insert_new
from storage.models import Base, ThanksGiven
from storage.points import bot_members

__all__ = ["Earnings", "MessageSeen", "ReactionSeen"]

_THANKS = Base.metadata.tables[ThanksGiven.__tablename__]
_AUTHORS_KEPT = 50_000


@dataclass(slots=True)
class MessageSeen:
    """A queued message row with what points need beyond the row."""

    row: dict[str, Any]
    text: str
    mentions: tuple[str, ...]


@dataclass(slots=True)
class ReactionSeen:
    """A queued reaction row (its message's author is looked up as live looks it up) and
    the id of its group."""

    row: dict[str, Any]
    group_id: int


class Earnings:
    """Turns a written batch into `Earning`s for each community."""

    def __init__(self, communities: dict[int, CommunityInfo]) -> None:
        self._communities = communities
        self._authors: Recent[tuple[int, str, str], int] = Recent(_AUTHORS_KEPT)

    async def of_batch(
        self,
        session: Any,
        messages: list[MessageSeen],
        reactions: list[ReactionSeen],
        *,
        new_messages: set[tuple[Any, ...]],
        new_reactions: set[tuple[Any, ...]],
        bots: set[int],
    ) -> dict[int, list[Earning]]:
        """The earnings of a batch's new rows by community (`session` is for lookups and
        thanks rows)."""
        earned: dict[int, list[Earning]] = {}
        thanks: list[tuple[MessageSeen, str]] = []
        # A row read twice in one batch (overlapping exports of a channel) earns once.
        unearned_messages, unearned_reactions = set(new_messages), set(new_reactions)
        for seen in messages:
            row = seen.row
            community = row["community_id"]
            key = (community, row["channel_id"], row["message_id"])
            self._authors.put(key, row["member_id"])
            if key not in unearned_messages or row["is_command"] or row["member_id"] in bots:
                continue
            unearned_messages.discard(key)
            source = source_of(row["platform"], row["channel_id"], row["message_id"])
            earning = Earning(
                "message",
                row["member_id"],
                row["sent_at"],
                source,
                seen.text,
                row["channel_id"],
                media=row["kind"] != "text",
            )
            earned.setdefault(community, []).append(earning)
            if (row["reply_to"] is not None or seen.mentions) and is_thanks(seen.text):
                thanks.append((seen, source))
        for community, earning in await self._thanks(session, thanks):
            earned.setdefault(community, []).append(earning)
        for reaction in reactions:
            row = reaction.row
            community = row["community_id"]
            reactor = row["member_id"]
            logged = (community, row["channel_id"], row["message_id"], reactor, row["emoji"])
            if logged not in unearned_reactions or reactor in bots:
                continue
            unearned_reactions.discard(logged)
            # As live: the author of the message in the log (a photo without caption is not).
            author = await self._author(
                session, community, row["platform"], row["channel_id"], row["message_id"]
            )
            if author in (None, reactor):
                continue
            source = source_of(row["platform"], row["channel_id"], row["message_id"])
            earning = Earning("reaction", author, row["at"], f"{source}:reaction:{reactor}")
            earned.setdefault(community, []).append(earning)
        return earned

    async def _author(
        self, session: Any, community: int, platform: str, channel_id: str, message_id: str
    ) -> int | None:
        """The author of a logged message (this import's, or the log's)."""
        found = self._authors.get((community, channel_id, message_id))
        if found is not None:
            return found
        author: int | None = await message_author(
            session,
            community_id=community,
            platform=platform,
            channel_id=channel_id,
            message_id=message_id,
        )
        return author

    async def _receivers(self, session: Any, seen: MessageSeen) -> list[int]:
        row = seen.row
        community = row["community_id"]
        found: list[int] = []
        if row["reply_to"] is not None:
            author = await self._author(
                session, community, row["platform"], row["channel_id"], row["reply_to"]
            )
            if author is not None:
                found.append(author)
        for ref in dict.fromkeys(seen.mentions):
            members = await find_members(
                session, community_id=community, platform=row["platform"], ref=ref
            )
            if len(members) == 1:
                found.append(int(members[0][0]))
        return [m for m in dict.fromkeys(found) if m != row["member_id"]]

    async def _thanks(
        self, session: Any, thanks: list[tuple[MessageSeen, str]]
    ) -> list[tuple[int, Earning]]:
        """Thanks to someone else, first of the day per pair (recorded in ``thanks_given``)."""
        first: dict[tuple[int, int, str], tuple[MessageSeen, str]] = {}
        for seen, source in sorted(thanks, key=lambda pair: pair[0].row["sent_at"]):
            giver = seen.row["member_id"]
            community = self._communities[seen.row["community_id"]]
            day = local_day(seen.row["sent_at"], community.timezone)
            for receiver in await self._receivers(session, seen):
                first.setdefault((giver, receiver, day), (seen, source))
        bots = await bot_members(session, member_ids=sorted({r for _, r, _ in first}))
        first = {key: value for key, value in first.items() if key[1] not in bots}
        if not first:
            return []
        rows = [
            {
                "community_id": seen.row["community_id"],
                "giver_id": giver,
                "receiver_id": receiver,
                "day": day,
                "at": seen.row["sent_at"],
            }
            for (giver, receiver, day), (seen, _) in first.items()
        ]
        recorded = await insert_new(
            session, table=_THANKS, rows=rows, returning=("giver_id", "receiver_id", "day")
        )
        earned = []
        for giver, receiver, day in recorded:
            seen, source = first[(int(giver), int(receiver), str(day))]
            at = seen.row["sent_at"]
            thanked = Earning("thanks", int(receiver), at, source, giver=int(giver))
            earned.append((int(seen.row["community_id"]), thanked))
        return earned
